"""MkDocs hook: show files that live elsewhere in the repository without copying them into docs/.

* The committed figures, ``results/*/*.png``, are added to the build under the same paths (``results/…``), so a
  page links them as ``../results/fashion-mnist-32/figure_swd.png`` from one folder down.
* ``benchmarks/RESULTS.md`` becomes the page ``performance-log.md``, with a line after its title saying where it
  comes from. The file records how each measurement came about, including the project's own work-tracking labels
  (``(issue 13)``, "another session's benchmark"); the site shows none of them, so the known phrases are reworded
  below and the build stops if such a label is left, naming it, so that the file (or the list) is fixed.

Markdown files from results/ (``table1.md``) are included with ``pymdownx.snippets`` instead (see mkdocs.yml).
This file sits outside the built site (``exclude_docs`` in mkdocs.yml).
"""

from __future__ import annotations

import re
from pathlib import Path

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

# Work-tracking labels in RESULTS.md → what the site says instead (the measurement itself is untouched). A phrase
# may break across lines: the captured whitespace keeps the line break where it was.
REWORDINGS = (
    (re.compile(r" \(issue \d+\)"), ""),
    (re.compile(r"The issue's(\s+)earlier"), r"An\1earlier"),
    (re.compile(r"another session's(\s+)benchmark"), r"another\1benchmark"),
    (re.compile(r"other agents'(\s+)test runs"), r"other\1test runs"),
    (re.compile(r"\(same session, "), "(same period, "),
    (re.compile(r" in one session:"), ":"),
)
LEFT_OVER = re.compile(r"\bissues?\b|\bsessions?\b|\bagents?'|\btickets?\b", re.IGNORECASE)


def repository_root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def benchmark_log(root: Path) -> str:
    """RESULTS.md as a page: reworded, and a line after its title (or at its top) saying where it comes from."""
    text = (root / RESULTS).read_text(encoding="utf-8")
    for pattern, replacement in REWORDINGS:
        text = pattern.sub(replacement, text)
    left = sorted({match.group(0) for match in LEFT_OVER.finditer(text)})
    if left:
        raise PluginError(f"{RESULTS} still says {', '.join(map(repr, left))}: reword it there, or extend "
                          f"REWORDINGS in docs/_hooks/repository_files.py")
    title, newline, rest = text.partition("\n")
    if title.startswith("# "):
        return f"{title}\n\n{LOG_INTRO}\n{newline}{rest}"
    return f"{LOG_INTRO}\n\n{text}"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    root = repository_root(config)
    for path in sorted(root.glob(FIGURES)):
        files.append(File(path.relative_to(root).as_posix(), src_dir=str(root), dest_dir=config.site_dir,
                          use_directory_urls=config.use_directory_urls))
    files.append(File.generated(config, LOG_PAGE, content=benchmark_log(root)))
    return files
