"""MkDocs hook: show files that live elsewhere in the repository without copying them into docs/, and generate the
pages that only the running code can tell.

* The committed figures, ``results/*/*.png``, are added to the build under the same paths (``results/…``), so a
  page links them as ``../results/fashion-mnist-32/figure_swd.png`` from one folder down.
* ``benchmarks/RESULTS.md`` becomes the page ``performance-log.md``, with a line after its title saying where it
  comes from. The file speaks of measurements only: the build stops, naming the word, where one of
  ``WORK_TRACKING`` appears in it, so that the file is reworded.
* ``reference/metrics.md``, the metric reference, is generated from the metric registry
  (``ganeval.registry.metrics()``): each registered metric's one-metric function, sets and options. Those
  functions are made at run time (``ganeval.api.metric_function``), so mkdocstrings, which reads the source, cannot
  see them; a metric added to ``ganeval/metrics/`` (or by another installed package) appears without an edit here.

Markdown files from results/ (``table1.md``) are included with ``pymdownx.snippets`` instead (see mkdocs.yml).
This file sits outside the built site (``exclude_docs`` in mkdocs.yml).
"""

from __future__ import annotations

import inspect
import re
import sys
import textwrap
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

FIGURES = "results/*/*.png"
RESULTS = "benchmarks/RESULTS.md"
LOG_PAGE = "performance-log.md"
LOG_INTRO = (
    "Every measurement behind the [performance](performance.md) page, with its command, machine and load, as "
    "recorded in the repository's `benchmarks/RESULTS.md` (included when the site is built)."
)

# Work-tracking words the site must not show (the build fails on them, naming them).
WORK_TRACKING = re.compile(r"\bissues?\b|\bsessions?\b|\bagents?'|\btickets?\b", re.IGNORECASE)


def repository_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def benchmark_log(root: Path) -> str:
    """RESULTS.md as a page, with a line after its title (or at its top) saying where it comes from."""
    text = (root / RESULTS).read_text(encoding="utf-8")
    left = sorted({match.group(0) for match in WORK_TRACKING.finditer(text)})
    if left:
        raise PluginError(f"{RESULTS} says {', '.join(map(repr, left))}: reword it there in terms of the "
                          "measurement")
    title, newline, rest = text.partition("\n")
    if title.startswith("# "):
        return f"{title}\n\n{LOG_INTRO}\n{newline}{rest}"
    return f"{LOG_INTRO}\n\n{text}"


METRICS_PAGE = "reference/metrics.md"


def cell(text: Any) -> str:
    """Text for one cell of a Markdown table: one line, its pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def shown(value: Any) -> str:
    """A default as code."""
    return f"`{value!r}`"


def call_signature(name: str, function: Any) -> str:
    """`ganeval.<name>(…) -> …` from the function's signature, wrapped at 100 characters."""
    signature = inspect.signature(function)
    parameters = [str(parameter) for parameter in signature.parameters.values()]
    keyword_only = [parameter.kind == inspect.Parameter.KEYWORD_ONLY for parameter in signature.parameters.values()]
    if True in keyword_only:
        parameters.insert(keyword_only.index(True), "*")
    returns = inspect.formatannotation(signature.return_annotation).replace("typing.", "")
    body = textwrap.fill(", ".join(parameters), width=96, initial_indent="    ", subsequent_indent="    ",
                         break_long_words=False, break_on_hyphens=False)
    return f"ganeval.{name}(\n{body}\n) -> {returns}"


def command_arguments(metric: Any) -> str:
    """The metric command's arguments as its usage line shows them: `REAL FAKE`, `IMAGES [IMAGES_B]`, or for a
    generator `--generator MODULE:FACTORY`."""
    if metric.reads_generator():
        return "--generator MODULE:FACTORY"
    return " ".join(argument.upper() if set_name not in metric.optional_sets else f"[{argument.upper()}]"
                    for argument, set_name in metric.sets.items())


def guide_link(metric: Any, docs_dir: Path) -> str:
    """` Guide: [its page's title](../metrics/<function-name>.md).` where docs/metrics/ has such a page, else ""."""
    guide = docs_dir / "metrics" / f"{metric.public_name().replace('_', '-')}.md"
    if not guide.is_file():
        return ""
    title = next((line[2:].strip() for line in guide.read_text(encoding="utf-8").splitlines()
                  if line.startswith("# ")), metric.name)
    return f" Guide: [{title}](../{guide.relative_to(docs_dir).as_posix()})."


def metric_section(metric: Any, function: Any, docs_dir: Path) -> list[str]:
    """One metric: its title, its function's signature, its docstring, its command, sets and stats-file use, and
    a table of its options."""
    from ganeval.metrics.base import FAKE, REAL

    name, public = metric.name, metric.public_name()
    sets = ", ".join(f"`{argument}`: the {set_name.upper()} set"
                     + (" (optional)" if set_name in metric.optional_sets else "")
                     + (", a generator the metric samples itself" if metric.reads_generator() else "")
                     for argument, set_name in metric.sets.items())
    own_only = [f"`{argument}`" for argument, set_name in metric.sets.items() if set_name not in (REAL, FAKE)]
    if metric.reads_generator():
        one_pass = (f"With the other metrics of a generator: `ganeval.evaluate_sets({{GENERATOR: generator}}, "
                    f"(\"{name}\", …), …)`; `ganeval eval` takes image sets only.")
    else:
        one_pass = (f"In one pass with others: `ganeval eval --metrics {name},…`, `ganeval.evaluate(real, fake, "
                    f"metrics=(\"{name}\", …))`"
                    + (f" (which pass REAL and FAKE only: {', '.join(own_only)} is taken by the function and the "
                       "command)" if own_only else "") + ".")
    lines = ["", f"## `{name}` {{#{name}}}", "", f"**{metric.title}**.{guide_link(metric, docs_dir)}", "",
             "```python", call_signature(public, function), "```", "",
             inspect.cleandoc(metric.__doc__ or metric.title), "",
             f"- **Command**: `ganeval {name} {command_arguments(metric)} [OPTIONS]`. {one_pass}",
             f"- **Sets**: {sets}.",
             "- **Stats files**: " + (f"`ganeval stats REAL -o FILE --metrics {name}` stores what it needs of the "
                                      "REAL set, and the file can be given in the set's place."
                                      if metric.stored else "`ganeval stats` stores nothing of it."),
             "", "| Python keyword | command-line flag | default | stored | help |", "|---|---|---|---|---|"]
    for option, spec in metric.all_options().items():
        keyword = spec.keyword or option
        keyword_text = f"`{keyword}`" + (f" (`{option}` in `evaluate` and `options_of`)" if keyword != option else "")
        flag = "Python only" if spec.flag == "" else f"`{spec.flag or '--' + option.replace('_', '-')}`"
        stored = "yes" if metric.stored and spec.stored else ""
        lines.append(f"| {keyword_text} | {flag} | {shown(spec.default)} | {stored} | {cell(spec.help)} |")
    if metric.reads_generator():
        return [*lines, "", "It also takes the [common options](#common-options) but `num_images` (its own "
                "`num_samples` counts the samples it draws); `value_range`, the range of the generator's output, is "
                "required."]
    return [*lines, "", "It also takes the [common options](#common-options)."]


def common_section(common: dict[str, Any], parameters: list[Any]) -> list[str]:
    """The options every metric takes: the Python keyword and default (`ganeval.api.COMMON_OPTIONS`) beside the
    command-line option (`ganeval_cli.common.common_parameters`), and those only one side has."""
    clicked = {parameter.name: parameter for parameter in parameters}
    lines = ["", "## Common options {#common-options}", "",
             "Every metric's function and command takes these, and so do `ganeval.evaluate`, `ganeval eval` and "
             "`ganeval stats`.", "", "| Python keyword | command-line flag | default | help |", "|---|---|---|---|"]
    for option, default in common.items():
        parameter = clicked.pop(option, None)
        if parameter is None:
            lines.append(f"| `{option}` | Python only, `ganeval.evaluate` only | {shown(default)} | see "
                         "[`ganeval.evaluate`](api/ganeval.md#ganeval.api.evaluate) |")
            continue
        flags = " / ".join(f"`{flag}`" for flag in [*parameter.opts, *parameter.secondary_opts])
        value = shown(default) + ("" if parameter.default == default else f" (commands: {shown(parameter.default)})")
        lines.append(f"| `{option}` | {flags} | {value} | {cell(parameter.help)} |")
    for parameter in clicked.values():
        flags = " / ".join(f"`{flag}`" for flag in [*parameter.opts, *parameter.secondary_opts])
        lines.append(f"| — | {flags} (commands only) | | {cell(parameter.help)} |")
    return lines


def metric_reference(root: Path, docs_dir: Path) -> str:
    """The metric reference page: every registered metric with its function, sets and options, and the options
    every metric takes."""
    if str(root) not in sys.path:  # this checkout's ganeval, as mkdocstrings reads it (paths: [.])
        sys.path.insert(0, str(root))
    try:
        from ganeval import registry
        from ganeval.api import COMMON_OPTIONS, metric_function
        from ganeval_cli.common import common_parameters
    except ImportError as error:
        raise PluginError(f"{METRICS_PAGE} is made from the metric registry, which cannot be imported ({error}): "
                          "install the project (pip install -e .) in the environment that runs mkdocs") from error

    known = registry.metrics()
    lines = [
        "# Metric reference", "",
        "Generated from the metric registry (`ganeval.registry.metrics()`) when the site is built: every metric "
        "this ganeval knows, a metric of another installed package included, with the options its function, its "
        "command, `ganeval eval` and `ganeval.evaluate` take. The one-metric functions (`ganeval.swd(…)`, …) are "
        "made from the registry at run time (`ganeval.api.metric_function`), each a one-metric call of "
        "`ganeval.evaluate` returning that metric's dict. Every command also runs as several processes, "
        "`torchrun --nproc_per_node=N -m ganeval <command> …`, with the numbers of one process.", "",
        "A stats file (`ganeval stats`) can stand for the REAL set of the metrics it can store. The options marked "
        "*stored* decide what it holds of a metric: `ganeval stats` takes them, the file records them, and a later "
        "run with other values is refused.", "",
        "| metric | what it measures | function | command | `ganeval stats` |",
        "|---|---|---|---|---|",
    ]
    for name, metric in known.items():
        lines.append(f"| [`{name}`](#{name}) | {cell(metric.title)} | `ganeval.{metric.public_name()}` | "
                     f"`ganeval {name} {command_arguments(metric)}` | {'yes' if metric.stored else 'no'} |")
    for metric in known.values():
        lines += metric_section(metric, metric_function(metric), docs_dir)
    lines += common_section(COMMON_OPTIONS, common_parameters())
    return "\n".join(lines) + "\n"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = repository_root(config)
    for path in sorted(root.glob(FIGURES)):
        files.append(File(path.relative_to(root).as_posix(), src_dir=str(root), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, LOG_PAGE, content=benchmark_log(root)))
    files.append(File.generated(config, METRICS_PAGE, content=metric_reference(root, Path(config.docs_dir))))
    return files
