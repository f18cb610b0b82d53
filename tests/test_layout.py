"""The test suite's own layout: no module in tests/ imports a test module (shared fixtures are in conftest.py,
shared helpers in helpers.py), and the oracles import nothing from the project."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
PROJECT_PACKAGES = {"ganeval", "pggan", "ganeval_cli", "cli", "tests"}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every module `path` imports, at any depth (imports inside functions too).
    `from tests import x` yields "tests.x"; a relative import is resolved against the tests package."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # `from . import x`, `from .helpers import y`: inside the tests package
                base = "tests" + (f".{base}" if base else "")
            names.append((node.lineno, base))
            names += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return names


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return len(parts) >= 2 and parts[0] == "tests" and parts[1].startswith("test_")


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda path: path.name)
def test_no_module_imports_a_test_module(path):
    offending = [f"{path.name}:{line}: {name}" for line, name in imported_modules(path) if is_test_module(name)]
    assert not offending, "import shared code from tests.helpers (fixtures: tests/conftest.py): " + str(offending)


@pytest.mark.parametrize("path", sorted(TESTS.glob("oracle_*.py")), ids=lambda path: path.name)
def test_the_oracles_import_nothing_from_the_project(path):
    offending = [f"{path.name}:{line}: {name}" for line, name in imported_modules(path)
                 if name.split(".")[0] in PROJECT_PACKAGES]
    assert not offending, offending


def test_the_layout_check_sees_every_form_of_import(tmp_path):
    source = tmp_path / "test_example.py"
    source.write_text("import tests.test_a\nfrom tests.test_b import x\nfrom tests import test_c\n"
                      "from .test_d import y\nfrom . import test_e\nfrom tests.helpers import z\n"
                      "def f():\n    from tests.test_f import *\n")
    found = sorted({name for _, name in imported_modules(source) if is_test_module(name)})
    assert found == ["tests.test_a", "tests.test_b", "tests.test_b.x", "tests.test_c", "tests.test_d",
                     "tests.test_d.y", "tests.test_e", "tests.test_f"]
