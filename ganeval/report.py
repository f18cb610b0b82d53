"""The report of one evaluation (`ganeval eval --report DIR`): report.md and report.html in DIR, with the command and
its settings, every metric's table rows and result dict, SWD per pyramid level as a bar chart (swd.png) and a grid of
samples of each image set (samples-real.png, samples-fake.png), each sample upscaled by nearest neighbour to at least
128 pixels. The Markdown links the PNGs beside it; the HTML embeds them, so it reads on its own.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # the object-oriented API: no pyplot, no global backend, nothing to close
from PIL import Image

from ganeval import registry
from ganeval.defaults import VERSION
from ganeval.errors import GanevalInputError
from ganeval.files import write_atomically
from ganeval.sample_grids import image_grid, upscale_factor
from ganeval.sources import open_images
from ganeval.stats import is_stats_file

GRID_SIDE = 8  # samples per row and per column of a set's grid
CHART_INCHES, CHART_DPI = (6.4, 4.0), 100  # swd.png: 640 × 400 pixels
SWD_CHART = "swd.png"
REPORT_FILES = ("report.md", "report.html", SWD_CHART)


def samples_file(label: str) -> str:
    """The grid's file name of a set labelled `label` (REAL → samples-real.png)."""
    return f"samples-{label.lower()}.png"


def check_report_dir(directory: str | os.PathLike, sets: Mapping[str, Any]) -> None:
    """Refuse a report folder that is a file, holds a folder where a report file goes, or is (or lies in) a folder of
    images being scored, whose files are searched recursively: its PNGs would join that set."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise GanevalInputError(f"report folder {path}: is a file, expected a folder")
    for name in (*REPORT_FILES, *(samples_file(label) for label in sets)):
        if (path / name).is_dir():
            raise GanevalInputError(f"cannot write {path / name}: it is a folder")
    for label, source in sets.items():
        if isinstance(source, (str, os.PathLike)) and Path(source).is_dir():
            folder = Path(source).resolve()
            if path.resolve() == folder or folder in path.resolve().parents:
                raise GanevalInputError(f"report folder {path}: lies in {label} ({source}), whose images are read "
                                        "recursively, so its PNGs would join that set; write the report elsewhere")


def sample_grid(source: Any, label: str, *, value_range: tuple[float, float] | None = None,
                num_images: int | None = None) -> tuple[np.ndarray, int, int] | None:
    """(uint8 H×W×3 grid, how many images it shows, their upscaling factor) of a set's first images (up to
    GRID_SIDE², GRID_SIDE to a row, no padding), each upscaled by nearest neighbour (`upscale_factor`); None for a
    stats file. `num_images`: only the first N are eligible."""
    if is_stats_file(source):
        return None
    wanted = min(GRID_SIDE * GRID_SIDE, num_images or GRID_SIDE * GRID_SIDE)
    batches, taken = [], 0
    for batch in open_images(source, name=label, batch_size=wanted, value_range=value_range, device="cpu"):
        batches.append(batch[:wanted - taken].numpy())
        taken += len(batches[-1])
        if taken >= wanted:
            break
    images = np.concatenate(batches).transpose(0, 2, 3, 1)  # NHWC RGB
    return image_grid(images, min(GRID_SIDE, len(images))), len(images), upscale_factor(*images.shape[1:3])


def swd_chart(result: Mapping[str, Any]) -> Figure:
    """SWD ×10³ per pyramid level (finest first) and their average, as bars labelled with their values."""
    labels = [f"{resolution}px" for resolution in result["resolutions"]] + ["average"]
    values = [*result["swd_x1e3"], result["swd_x1e3_avg"]]
    figure = Figure(figsize=CHART_INCHES, dpi=CHART_DPI)
    axis = figure.subplots()
    bars = axis.bar(labels, values, color=["tab:blue"] * (len(values) - 1) + ["tab:gray"])
    axis.bar_label(bars, fmt="%.3f", fontsize=9)
    axis.set_ylabel("SWD ×10³ (lower is closer)")
    axis.set_xlabel("pyramid level")
    axis.set_title(f"SWD per level, {result['num_images'][0]} real vs {result['num_images'][1]} fake images")
    axis.margins(y=0.12)
    axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return figure


def _png(image: np.ndarray | Figure) -> bytes:
    """PNG bytes of a uint8 H×W×3 array or of a figure (at its own dpi, so its pixel size is inches × dpi)."""
    buffer = io.BytesIO()
    if isinstance(image, Figure):
        image.savefig(buffer, format="png", dpi=image.dpi)
    else:
        Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _markdown_cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def write_report(directory: str | os.PathLike, results: Mapping[str, Mapping[str, Any]],
                 rows: Mapping[str, Sequence[tuple[str, str]]], sets: Mapping[str, Any], *, command: str,
                 settings: Mapping[str, Any], value_range: tuple[float, float] | None = None,
                 num_images: int | None = None) -> list[Path]:
    """Write report.md, report.html and their PNGs into `directory` (each atomically); return the paths written.

    `results`: {metric: result dict}; `rows`: {metric: the table rows the command prints}; `sets`: {label: the source
    as given} (a stats file shows "no images: a statistics file" in place of its grid); `command`, `settings`: what
    was run, shown at the top.
    """
    path = Path(directory)
    check_report_dir(path, sets)
    pictures: dict[str, bytes] = {}
    if "swd" in results and "swd_x1e3" in results["swd"]:
        pictures[SWD_CHART] = _png(swd_chart(results["swd"]))
    grids = {label: sample_grid(source, label, value_range=value_range, num_images=num_images)
             for label, source in sets.items()}
    for label, grid in grids.items():
        if grid is not None:
            pictures[samples_file(label)] = _png(grid[0])
    numbers = json.dumps(results, indent=1)
    sizes = {name: Image.open(io.BytesIO(data)).size for name, data in pictures.items()}

    md = [f"# ganeval eval: {', '.join(results)}", "", f"`{command}`", "", f"ganeval {VERSION}", "", "## Settings", "",
          "| setting | value |", "|---|---|",
          *(f"| {_markdown_cell(name)} | {_markdown_cell(value)} |" for name, value in settings.items())]
    page = [f"<h1>ganeval eval: {html.escape(', '.join(results))}</h1>", f"<p><code>{html.escape(command)}</code></p>",
            f"<p>ganeval {html.escape(VERSION)}</p>", "<h2>Settings</h2>", "<table>",
            *(f"<tr><td>{html.escape(str(name))}</td><td>{html.escape(str(value))}</td></tr>"
              for name, value in settings.items()), "</table>"]
    for name, metric_rows in rows.items():
        title = registry.metric_class(name).title
        md += ["", f"## {name}: {title}", "", "| | |", "|---|---|",
               *(f"| {_markdown_cell(label)} | {_markdown_cell(value)} |" for label, value in metric_rows)]
        page += [f"<h2>{html.escape(name)}: {html.escape(title)}</h2>", "<table>",
                 *(f"<tr><td>{html.escape(label)}</td><td>{html.escape(value.strip())}</td></tr>"
                   for label, value in metric_rows), "</table>"]
    md += ["", "## SWD per pyramid level", ""]
    page.append("<h2>SWD per pyramid level</h2>")
    if SWD_CHART in pictures:
        md.append(f"![SWD ×10³ per pyramid level]({SWD_CHART})")
        page.append(_html_image(pictures[SWD_CHART], sizes[SWD_CHART], "SWD ×10³ per pyramid level"))
    else:
        md.append("No SWD: not among the metrics asked for.")
        page.append("<p>No SWD: not among the metrics asked for.</p>")
    md += ["", "## Samples", ""]
    page.append("<h2>Samples</h2>")
    for label, source in sets.items():
        heading = f"{label}: {source}"
        md += [f"### {heading}", ""]
        page.append(f"<h3>{html.escape(heading)}</h3>")
        if grids[label] is None:
            md += ["No images: a statistics file.", ""]
            page.append("<p>No images: a statistics file.</p>")
            continue
        name = samples_file(label)
        _, count, factor = grids[label]
        caption = f"the first {count} images of {label}, each enlarged {factor}× by nearest neighbour"
        md += [f"![{caption}]({name})", "", caption + ".", ""]
        page += [_html_image(pictures[name], sizes[name], caption), f"<p>{html.escape(caption)}.</p>"]
    md += ["## Numbers", "", "Every metric's result dict (the object `--json` prints):", "", "```json", numbers, "```"]
    page += ["<h2>Numbers</h2>", "<p>Every metric's result dict (the object <code>--json</code> prints):</p>",
             f"<pre>{html.escape(numbers)}</pre>"]
    document = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ganeval eval report</title>"
                "<style>body{font-family:sans-serif;margin:2em}td{padding:2px 12px;border-bottom:1px solid #ddd}"
                "img{max-width:none;image-rendering:pixelated}pre{background:#f6f6f6;padding:1em}</style></head>"
                "<body>\n" + "\n".join(page) + "\n</body></html>\n")

    written = []
    for name, data in pictures.items():
        write_atomically(path / name, lambda temporary, data=data: temporary.write_bytes(data))
        written.append(path / name)
    for name, text in (("report.md", "\n".join(md) + "\n"), ("report.html", document)):
        write_atomically(path / name, lambda temporary, text=text: temporary.write_text(text, encoding="utf-8"))
        written.append(path / name)
    return written


def _html_image(data: bytes, size: tuple[int, int], alt: str) -> str:
    """An <img> embedding PNG bytes, shown at its own pixel size."""
    return (f'<img src="data:image/png;base64,{base64.b64encode(data).decode()}" width="{size[0]}" '
            f'height="{size[1]}" alt="{html.escape(alt)}">')
