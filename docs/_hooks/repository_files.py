"""MkDocs hook: show files that live elsewhere in the repository without copying them into docs/.

* The committed figures, ``results/*/*.png``, are added to the build under the same paths (``results/…``), so a
  page links them as ``../results/fashion-mnist-32/figure_swd.png`` from one folder down.
* ``benchmarks/RESULTS.md`` becomes the page ``performance-log.md``, with a line after its title saying where it
  comes from; the build stops if the file speaks of how the work was organised (issues, sessions) rather than of
  the measurements.

* ``reference/metrics.md`` is made from the metric registry: each metric's function, sets and options.

Markdown files from results/ (``table1.md``) are included with ``pymdownx.snippets`` instead (see mkdocs.yml).
This file sits outside the built site (``exclude_docs`` in mkdocs.yml).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from ganeval import api, registry

FIGURES = "results/*/*.png"
RESULTS = "benchmarks/RESULTS.md"
LOG_PAGE = "performance-log.md"
METRIC_REFERENCE = "reference/metrics.md"
LOG_INTRO = (
    "Every measurement behind the [performance](performance.md) page, with its command, machine and load, as "
    "recorded in the repository's `benchmarks/RESULTS.md` (included when the site is built)."
)

# Words about how the work was organised, not about a measurement: the file must not carry them.
LEFT_OVER = re.compile(r"\bissues?\b|\bsessions?\b|\bagents?'|\btickets?\b", re.IGNORECASE)


def repository_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def benchmark_log(root: Path) -> str:
    """RESULTS.md as a page, with a line after its title (or at its top) saying where it comes from."""
    text = (root / RESULTS).read_text(encoding="utf-8")
    left = sorted({match.group(0) for match in LEFT_OVER.finditer(text)})
    if left:
        raise PluginError(f"{RESULTS} says {', '.join(map(repr, left))}: say what was measured, not how the work "
                          "was organised")
    title, newline, rest = text.partition("\n")
    if title.startswith("# "):
        return f"{title}\n\n{LOG_INTRO}\n{newline}{rest}"
    return f"{LOG_INTRO}\n\n{text}"


def markdown_cell(text: object) -> str:
    """A value as a Markdown table cell (pipes escaped, one line)."""
    return " ".join(str(text).split()).replace("|", "\\|")


def metric_reference() -> str:
    """The metric reference page, from the registry: each metric's function, sets and options."""
    common = {name: default for name, default in api.COMMON_OPTIONS.items() if name != "skip_failures"}
    lines = ["# Metric reference", "",
             "Made from the metric registry when the site is built: every registered metric, its one-metric "
             "function, the sets it reads and its options, with their Python keyword, command-line flag and "
             "default. `evaluate` and `ganeval eval` take every option of the metrics asked for; `stored` options "
             "decide what a stats file holds, so `ganeval stats` takes them too and a stats file records them.", "",
             "Every function and command also takes the common options: "
             + ", ".join(f"`{name}={default!r}`" for name, default in common.items())
             + " (`--num-images`, `--seed`, `--device`, `--batch-size`, `--progress/--no-progress`, "
               "`--value-range LOW HIGH` on the command line, with `--json`).", ""]
    for name, cls in registry.metrics().items():
        signature = inspect.signature(api.metric_function(cls))
        sets = ", ".join(f"`{argument}` ({set_name}{', optional' if set_name in cls.optional_sets else ''})"
                         for argument, set_name in cls.sets.items())
        lines += [f"## `{name}`: {cls.title}", "",
                  "```python", f"ganeval.{cls.public_name()}{signature}", "```", "",
                  inspect.cleandoc(cls.__doc__ or ""), "",
                  f"- **Sets**: {sets}",
                  f"- **Command**: `ganeval {name} "
                  + " ".join(argument.upper() if set_name not in cls.optional_sets else f"[{argument.upper()}]"
                             for argument, set_name in cls.sets.items()) + " [OPTIONS]`",
                  "- **Stats files**: " + (f"`ganeval stats --metrics {name}` stores a set" if cls.stored
                                           else "none (it measures the set given)"),
                  "", "| option | keyword | flag | default | stored | meaning |", "|---|---|---|---|---|---|"]
        for option, spec in cls.all_options().items():
            flag = "Python only" if spec.flag == "" else f"`{spec.flag or '--' + option.replace('_', '-')}`"
            lines.append(f"| `{option}` | `{spec.keyword or option}` | {flag} | `{spec.default!r}` | "
                         f"{'yes' if spec.stored else ''} | {markdown_cell(spec.help)} |")
        lines.append("")
    return "\n".join(lines)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = repository_root(config)
    for path in sorted(root.glob(FIGURES)):
        files.append(File(path.relative_to(root).as_posix(), src_dir=str(root), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, LOG_PAGE, content=benchmark_log(root)))
    files.append(File.generated(config, METRIC_REFERENCE, content=metric_reference()))
    return files
