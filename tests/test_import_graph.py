"""The import graph of ganeval, pggan and the command line has no cycle, and the metric definitions load no torch.

The graph is built from the sources: every `import` and `from … import` anywhere in a module (inside functions
too; only `if TYPE_CHECKING:` blocks, which never run, are left out), `importlib.import_module("…")` with a literal
name, and the names a package's `__init__` imports on first use (`lazy_names`/`lazy_submodules` tables). The one
thing it cannot see is the registry finding metric modules by name, as plugins (`ganeval.registry._discover`).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = {"ganeval": REPO / "ganeval", "pggan": REPO / "pggan", "ganeval_cli": REPO / "cli"}


def project_modules() -> dict[str, Path]:
    """Every module of the three packages by dotted name (a package by its own name, for its __init__; a C
    extension by the name its source builds)."""
    modules = {}
    for package, root in PACKAGES.items():
        for path in [*root.rglob("*.py"), *root.rglob("*.c")]:
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def imported_names(tree: ast.Module) -> list[tuple[str, list[str]]]:
    """(module, names taken from it) of every import in the tree, TYPE_CHECKING blocks left out."""
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING":
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.args[0].value, []))
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("lazy_names", "lazy_submodules"):
            table = node.args[1]
            if isinstance(table, ast.Tuple):  # lazy_submodules(__name__, ("a", "b")): the package's submodules
                found.extend(("." + element.value, []) for element in table.elts)
        elif isinstance(node, ast.Assign) and any(getattr(target, "id", "") == "_HOMES" for target in node.targets):
            found.extend((value.value, []) for value in node.value.values)  # name → module imported on first use
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module → the project modules it imports (an import of `package.module` counts as one of that module)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        if path.suffix == ".c":
            graph[name] = edges
            continue
        for module, names in imported_names(ast.parse(path.read_text())):
            if module.startswith("."):  # a lazy submodule of this package
                module = name + module
            targets = [f"{module}.{item}" for item in names if f"{module}.{item}" in modules]
            if len(targets) < len(names) or not names:
                targets.append(module)
            edges.update(target for target in targets if target in modules and target != name)
        graph[name] = edges
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that returns to its start, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for successor in sorted(graph.get(node, ())):
            if state.get(successor) == 1:
                return path[path.index(successor):] + [successor]
            if successor not in state and (cycle := walk(successor)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 50 and "ganeval.registry" in graph["ganeval.metrics.swd"]
    assert "ganeval.kernels._radix" in graph["ganeval.kernels.sorting"]  # the C extensions are modules
    assert "ganeval.kernels.wasserstein" in graph["ganeval.kernels"]  # lazy submodules are edges
    assert "ganeval.api" in graph["ganeval"]  # so are the package's lazily imported names
    assert find_cycle(graph) is None, " → ".join(find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle_made_by_an_import_inside_a_function():
    tree = ast.parse("def f():\n    from ganeval.api import evaluate\n")
    assert imported_names(tree) == [("ganeval.api", ["evaluate"])]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_layers_import_only_downward():
    """The kernels, accumulators and extractors never import a metric, the driver or the command line; ganeval
    never imports pggan, nor the command line (`python -m ganeval`, in `__main__`, only starts it)."""
    graph = import_graph()
    for module, edges in graph.items():
        if module.startswith(("ganeval.kernels", "ganeval.accumulators", "ganeval.extractors")):
            assert not {edge for edge in edges if edge.startswith(("ganeval.metrics", "ganeval.api"))}, module
        if module.startswith("ganeval.") and not module.endswith("__main__"):
            assert not {edge for edge in edges if edge.startswith(("pggan", "ganeval_cli"))}, module


def test_listing_the_metrics_imports_neither_torch_nor_numpy():
    code = ("import sys; from ganeval import registry; names = list(registry.metrics()); "
            "print(names, 'torch' in sys.modules, 'numpy' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['dc', 'fid', 'is', 'kid', 'ls', 'msssim', 'ppl', 'pr', 'swd'] False False"
