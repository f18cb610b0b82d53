"""A grid's reporting (Table 1, or another grid of pggan/grids.py), from finished runs only: the table of mean ±
standard deviation over seeds (table1.{md,csv,json}; another grid's stem for it), the per-seed table
(table1_per_seed.csv), the check of the trends the paper states, and the two figures (samples per configuration,
SWD against kimg).

Its inputs are each seed's evaluated rows (the runs' `evaluation.json`, keyed by configuration) and the run folders;
nothing here trains or scores (the samples figure draws from each run's newest checkpoint through `pggan.generate`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats
from matplotlib.figure import Figure  # the object-oriented API: no pyplot, no global backend, nothing to close

from ganeval.defaults import MIN_RESOLUTION
from ganeval.errors import GanevalInputError
from ganeval.files import read_json, reading, write_atomically
from ganeval.sample_grids import upscale_factor
from pggan.checkpoint import write_json
from pggan.generate import generate
from pggan.grids import TABLE1, Grid

# The measures some rows have, by their column title: FID/KID with Inception weights, PPL with LPIPS's, and
# StyleGAN2's droplet statistic (pggan.droplets) of StyleGAN rows.
OPTIONAL_MEASURES = {"fid": "FID", "kid_mean": "KID", "ppl": "PPL", "droplet_p99": "droplet p99",
                     "droplet_fraction": "droplet maps"}
QUALITY_MEASURES = ("swd_x1e3_avg", "msssim", "fid", "kid_mean")  # beside whose trends a paper's FID is read
DROPLET_IMAGES = 256  # images per StyleGAN run for the droplet statistic (evaluated by pggan.ablation)
# How the table's header names the PPL column's latent space and sampling (`Grid.ppl_space`, `Grid.ppl_sampling`).
PPL_SETTINGS = {("z", "full"): "Z space, t ~ U(0, 1)", ("z", "end"): "Z space, path endpoints (t = 0)",
                ("w", "full"): "W space, t ~ U(0, 1)", ("w", "end"): "W space, path endpoints (t = 0)"}
TREND_CONFIDENCE = 0.975  # the t quantile of a two-sided 95 % test of each trend's mean paired difference

# figure_swd.png: a marker and line style per configuration. (h) is (g) trained longer, so their curves coincide
# up to (g)'s last kimg: (h) is drawn beneath, wide, dashed and pale, (g) above it with its own markers.
CURVE_STYLES: dict[str, dict[str, Any]] = {
    name: dict(color=f"C{index}", marker=marker, markersize=6 if name == "g" else 4, linewidth=1.3, zorder=3)
    for index, (name, marker) in enumerate(zip(("a", "b", "c", "d", "e_star", "e", "f", "g"), "osv^DXP*"))}
CURVE_STYLES["h"] = dict(color="C8", linestyle="--", linewidth=3.5, alpha=0.55, marker=None, zorder=2)
OTHER_CURVE_STYLE: dict[str, Any] = dict(marker="o", markersize=3)  # rows of other grids (MSG-GAN's)
SAMPLES_PER_ROW = 12  # images per row of the sample figure
SAMPLE_SEED = 123  # latents of the sample figure, the same for every configuration
FIGURE_DPI = 110


def read_row(path: Path) -> dict[str, Any]:
    """An evaluation.json (or real_evaluation.json) the tables are made from, checked to hold a row's numbers."""
    row = read_json(path, "evaluation (JSON)")
    problem = None if isinstance(row, dict) else f"holds a {type(row).__name__}, not an evaluation"
    if problem is None:
        lists = {key: row.get(key) for key in ("resolutions", "swd_x1e3")}
        numbers = {key: row.get(key) for key in ("swd_x1e3_avg", "msssim")}
        numbers.update({key: row[key] for key in ("raw_swd_x1e3_avg", *OPTIONAL_MEASURES, "kimg") if key in row})
        if not all(isinstance(value, list) and value and all(_is_number(item) for item in value)
                   for value in lists.values()) or len(lists["resolutions"]) != len(lists["swd_x1e3"]):
            problem = "lacks the SWD resolutions and values of a table row (or they do not match)"
        elif not all(_is_number(value) for value in numbers.values()):
            bad = next(key for key, value in numbers.items() if not _is_number(value))
            problem = f"its {bad} is {numbers[bad]!r}, not a number"
    if problem:
        raise GanevalInputError(f"{path}: {problem}; delete it to evaluate that run again")
    return row


def read_log(path: Path) -> list[dict[str, Any]]:
    """The tick records of a run's log.jsonl (one JSON object per line)."""
    with reading(path, "training log (JSON lines)"):
        records = [json.loads(line) for line in path.read_text().splitlines() if line]
    if not all(isinstance(record, dict) and _is_number(record.get("kimg")) for record in records):
        raise GanevalInputError(f"{path}: a line is no tick record (no kimg); a damaged training log")
    return records


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def row_measures(row: dict[str, Any]) -> dict[str, float]:
    """The numbers of one evaluated run that the table shows: SWD per level and average, MS-SSIM, FID/KID, PPL,
    droplets."""
    measures = {f"swd_x1e3_{resolution}": value for resolution, value in zip(row["resolutions"], row["swd_x1e3"])}
    measures.update(swd_x1e3_avg=row["swd_x1e3_avg"], msssim=row["msssim"])
    for key in ("raw_swd_x1e3_avg", *OPTIONAL_MEASURES):
        if key in row:
            measures[key] = row[key]
    return measures


def table_rows(rows_by_seed: dict[int, dict[str, dict[str, Any]]], grid: Grid = TABLE1) -> list[dict[str, Any]]:
    """One flat row per configuration in the grid's order ("real" first): each measure's mean over the seeds that
    finished it and, with two or more, its sample standard deviation (`…_std`); the paper's figures beside."""
    flat = []
    for name in ("real", *grid.rows):
        runs = [rows[name] for rows in rows_by_seed.values() if name in rows]
        if not runs:
            continue
        entry: dict[str, Any] = {"config": name, "label": grid.labels.get(name, "Training data (real vs real)"),
                                 "num_seeds": len(runs)}
        per_run = [row_measures(row) for row in runs]
        for key in per_run[0]:
            values = [measures[key] for measures in per_run if key in measures]
            digits = 4 if key in ("msssim", "droplet_fraction") else 5 if key == "kid_mean" else 3
            entry[key] = round(statistics.fmean(values), digits)
            if len(values) > 1:
                entry[f"{key}_std"] = round(statistics.stdev(values), digits)
        if name != "real":
            entry["kimg"] = runs[0].get("kimg")
            entry["train_minutes"] = round(statistics.fmean(row["train_seconds"] for row in runs) / 60, 1)
        if name in grid.paper:
            entry["paper_celeba_swd_x1e3_avg"], entry["paper_celeba_msssim"] = grid.paper[name][1:]
        entry.update({paper_fid_key(data): fid for data, fid in grid.paper_fid.get(name, {}).items()})
        flat.append(entry)
    return flat


def paper_fid_key(data: str) -> str:
    """The table's key of the paper's FID on `data`, e.g. paper_fid_celebahq for CelebA-HQ."""
    return "paper_fid_" + "".join(character for character in data.lower() if character.isalnum())


def per_seed_rows(rows_by_seed: dict[int, dict[str, dict[str, Any]]], grid: Grid = TABLE1) -> list[dict[str, Any]]:
    """One row per (seed, configuration): every measure, the raw generator's SWD beside the EMA's."""
    return [{"seed": seed, "config": name, **{key: round(value, 6) for key, value in row_measures(rows[name]).items()},
             **({"kimg": rows[name]["kimg"]} if "kimg" in rows[name] else {})}
            for seed, rows in sorted(rows_by_seed.items()) for name in ("real", *grid.rows) if name in rows]


def trend_checks(rows_by_seed: dict[int, dict[str, dict[str, Any]]], grid: Grid = TABLE1) -> list[dict[str, Any]]:
    """Each stated trend on the seeds that finished both rows: the mean paired difference (row − reference), its
    standard error (sd of the per-seed differences / √n), and the verdict — "as the paper" or "against the paper"
    where a two-sided paired t-test rejects a zero difference at 95 % (|difference| > t(0.975, n − 1) standard
    errors: 12.7 with 2 seeds, 4.30 with 3, 2.78 with 5), else "not resolved" (or "one seed" without an error)."""
    checks = []
    for claim, measure, name, reference, direction in grid.trends:
        differences = [rows[name][measure] - rows[reference][measure] for rows in rows_by_seed.values()
                       if name in rows and reference in rows and measure in rows[name] and measure in rows[reference]]
        if not differences:
            continue
        mean = statistics.fmean(differences)
        error = statistics.stdev(differences) / math.sqrt(len(differences)) if len(differences) > 1 else None
        critical = float(scipy.stats.t.ppf(TREND_CONFIDENCE, len(differences) - 1)) if error is not None else None
        if error is None:
            verdict = "one seed"
        elif abs(mean) > critical * error:
            verdict = "as the paper" if math.copysign(1, mean) == direction else "against the paper"
        else:
            verdict = "not resolved"
        paper = None
        if measure in ("swd_x1e3_avg", "msssim") and name in grid.paper and reference in grid.paper:
            index = 1 if measure == "swd_x1e3_avg" else 2
            paper = round(grid.paper[name][index] - grid.paper[reference][index], 4)
        checks.append({"claim": claim, "measure": measure, "row": name, "reference": reference,
                       "difference": round(mean, 4), "standard_error": None if error is None else round(error, 4),
                       "t_critical": None if critical is None else round(critical, 4),
                       "num_seeds": len(differences), "verdict": verdict, "paper_celeba_difference": paper})
        if measure in QUALITY_MEASURES and name in grid.paper_fid and reference in grid.paper_fid:
            # the paper's FID per data set, row − reference, beside a trend in image quality
            checks[-1]["paper_fid_difference"] = {data: round(fid - grid.paper_fid[reference][data], 4)
                                                  for data, fid in grid.paper_fid[name].items()}
    return checks


def _csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text, the columns in order of first appearance."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_tables(out: Path, rows_by_seed: dict[int, dict[str, dict[str, Any]]], header: dict[str, Any],
                 grid: Grid = TABLE1) -> None:
    """table1.json, table1.csv, table1.md and table1_per_seed.csv (another grid: its stem for table1), each written
    atomically."""
    flat, checks = table_rows(rows_by_seed, grid), trend_checks(rows_by_seed, grid)
    write_json(out / f"{grid.stem}.json", {**header, "rows": flat, "trends": checks})
    for name, rows in ((f"{grid.stem}.csv", flat), (f"{grid.stem}_per_seed.csv", per_seed_rows(rows_by_seed, grid))):
        text = _csv_text(rows)
        write_atomically(out / name, lambda temporary, text=text: temporary.write_text(text))
    columns = list(dict.fromkeys(key for entry in flat for key in entry))
    swd_columns = [key for key in columns if key.startswith("swd_x1e3_") and key[9:].isdigit()]
    # PPL's column shows once a row was evaluated by a runner that measures it, with "—" where it could not.
    ppl_missing = sorted({rows[name]["ppl_not_measured"] for rows in rows_by_seed.values() for name in rows
                          if rows[name].get("ppl_not_measured")})
    extra = ([key for key in ("fid", "kid_mean") if key in columns] + (["ppl"] if "ppl" in columns or ppl_missing
                                                                        else [])
             + [key for key in ("droplet_p99", "droplet_fraction") if key in columns])
    fid_sets = list(dict.fromkeys(data for figures in grid.paper_fid.values() for data in figures))
    titles = ([f"SWD×10³ {key.rsplit('_', 1)[1]}px" for key in swd_columns] + ["SWD avg", "MS-SSIM"]
              + [OPTIONAL_MEASURES[key] for key in extra]
              + ["kimg", "train min", "seeds"] + (["paper SWD avg", "paper MS-SSIM"] if grid.paper else [])
              + [f"paper FID {data}" for data in fid_sets])
    seeds = sorted(rows_by_seed)
    lines = [f"# {grid.title} — {header['data']} at {header['resolution']}×{header['resolution']}", "",
             f"Budget `{header['budget']}`, {header['kimg_per_config']} kimg per configuration"
             + (f" ((h): {header['kimg_h']} kimg)" if "kimg_h" in header else "")
             + f", seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
             + (": mean ± standard deviation over the seeds that finished each row (column 'seeds')"
                if len(seeds) > 1 else "")
             + f". EMA generators. SWD on {header['swd_num_images']} generated vs real images, MS-SSIM over "
             f"{header['msssim_num_pairs']} consecutive pairs"
             + (f", FID and KID on {header['fid_num_images']} images" if header.get("inception_weights") else "")
             + (f", PPL (StyleGAN's perceptual path length: {PPL_SETTINGS[grid.ppl_space, grid.ppl_sampling]}, "
                f"ε = 1e-4, LPIPS-VGG16, no crop) on {header['ppl_num_samples']} latent pairs" if "ppl" in extra
                else "")
             + (f", StyleGAN2's droplets (§2.1) at the top resolution of every StyleGAN row on {DROPLET_IMAGES} "
                "images: the 99th percentile over the (image, channel) feature maps of the peak ratio max|h| / "
                "mean|h|, and the fraction of maps above max(pixels/16, 8) (pggan droplets)" if "droplet_p99" in extra
                else "")
             + (". The last two columns are the paper's CelebA 128×128 figures (Karras et al. 2018, Table 1), for "
                "reading trends side by side, not for comparing values" if grid.paper else "")
             + ((f". The last {len(fid_sets)} columns are" if len(fid_sets) > 1 else ". The last column is")
                + f" the paper's FID ({grid.paper_fid_source}), for reading trends side by side, not for comparing "
                "values" if fid_sets else "")
             + f". Per seed, with the raw generator's SWD: {grid.stem}_per_seed.csv.", "",
             "| configuration | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]

    def cell(entry: dict[str, Any], key: str) -> str:
        if entry.get(key) is None:
            return "—" if key == "ppl" and entry["config"] != "real" else ""
        return f"{entry[key]} ± {entry[key + '_std']}" if f"{key}_std" in entry else str(entry[key])

    for entry in flat:
        keys = [*swd_columns, "swd_x1e3_avg", "msssim", *extra, "kimg", "train_minutes", "num_seeds",
                *(["paper_celeba_swd_x1e3_avg", "paper_celeba_msssim"] if grid.paper else []),
                *[paper_fid_key(data) for data in fid_sets]]
        lines.append(f"| {entry['label']} | " + " | ".join(cell(entry, key) for key in keys) + " |")
    if ppl_missing:
        lines += ["", "PPL —: not measured (" + "; ".join(ppl_missing) + ")."]
    # The paper's own difference beside each trend, where the grid carries the paper's figures (MSG-GAN's are of other
    # networks and data, so its grid has none).
    paper_column = "paper FID" if grid.paper_fid else "paper (CelebA)" if grid.paper else None
    if checks:
        lines += ["", "## The paper's trends, checked", "",
                  "Mean paired difference row − reference over the seeds that finished both (standard error = sd of "
                  "the per-seed differences / √n); a trend is decided only where a two-sided paired t-test rejects a "
                  "zero difference at 95 % confidence: |difference| > t(0.975, seeds − 1) standard errors (4.30 "
                  "with 3 seeds).", "",
                  "| trend | measure | row − reference | difference | standard error | seeds | verdict |"
                  + (f" {paper_column} |" if paper_column else ""), "|---" * (7 + bool(paper_column)) + "|"]
        for check in checks:
            paper = check["paper_celeba_difference"]
            if "paper_fid_difference" in check:
                paper = ", ".join(f"{data} {value}" for data, value in check["paper_fid_difference"].items())
            lines.append(f"| {check['claim']} | {check['measure']} | ({check['row']}) − ({check['reference']}) | "
                         f"{check['difference']} | {'' if check['standard_error'] is None else check['standard_error']}"
                         f" | {check['num_seeds']} | {check['verdict']} |"
                         + (f" {'' if paper is None else paper} |" if paper_column else ""))
    text = "\n".join(lines) + "\n"
    write_atomically(out / f"{grid.stem}.md", lambda temporary: temporary.write_text(text))


def draw_samples_figure(out: Path, runs: dict[str, Path], reals: np.ndarray, device: str | None) -> None:
    """figure_samples.png: one row of fixed-latent samples per configuration in the order of `runs` (like the
    paper's Figure 3), each sample
    enlarged by nearest neighbour to at least 128 px (`ganeval.sample_grids`) and drawn pixel for pixel."""
    names = ["real", *runs]
    height, width = reals.shape[2:]
    factor = upscale_factor(height, width)
    cell_height, strip_width = height * factor, SAMPLES_PER_ROW * width * factor
    left, right, top, gap, bottom = 70, 10, 40, 10, 10  # margins in pixels: the row labels, the title
    figure_width = left + strip_width + right
    figure_height = top + len(names) * cell_height + (len(names) - 1) * gap + bottom
    figure = Figure(figsize=(figure_width / FIGURE_DPI, figure_height / FIGURE_DPI))
    for row, name in enumerate(names):
        images = reals[:SAMPLES_PER_ROW] if name == "real" else generate(runs[name], SAMPLES_PER_ROW,
                                                                         seed=SAMPLE_SEED, device=device)
        strip = np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1).repeat(factor, 0).repeat(factor, 1)
        lowest = bottom + (len(names) - 1 - row) * (cell_height + gap)
        # uint8 RGB (grey repeated: no colour map to round through), placed pixel for pixel, never resampled.
        figure.figimage(strip.repeat(3 // strip.shape[-1], axis=-1), xo=left, yo=lowest, origin="upper")
        figure.text((left - 8) / figure_width, (lowest + cell_height / 2) / figure_height,
                    name if name != "real" else "data", ha="right", va="center", fontsize=11)
    figure.suptitle("Fixed-latent samples per configuration (rows) and real images (top)", fontsize=11,
                    y=1 - top / 2 / figure_height, va="center")
    _save_figure(figure, out / "figure_samples.png")


def draw_droplets_figure(out: Path, rows_by_seed: dict[int, dict[str, dict[str, Any]]], grid: Grid) -> None:
    """figure_droplets.png, where a grid's rows measured StyleGAN2's droplets (`pggan.droplets`): the peak ratio's
    median and 99th percentile per feature-map resolution, one line per row, each the mean over its seeds."""
    from pggan.droplets import plot_droplets

    results = []
    for name in grid.rows:
        measured = [rows[name]["droplets"] for rows in rows_by_seed.values() if "droplets" in rows.get(name, {})]
        if not measured:
            continue
        resolutions = []
        for index, level in enumerate(measured[0]):
            means = {}
            for key in ("median", "p99"):  # None: every map of that resolution was all zero
                values = [seed[index][key] for seed in measured if seed[index][key] is not None]
                means[key] = statistics.fmean(values) if values else None
            resolutions.append({"resolution": level["resolution"], **means})
        results.append({"preset": grid.labels[name], "run": f"{len(measured)} seed{'s' * (len(measured) > 1)}",
                        "resolutions": resolutions})
    if results:
        plot_droplets(results, out / "figure_droplets.png")


def draw_swd_figure(out: Path, runs: dict[str, Path], grid: Grid = TABLE1) -> None:
    """figure_swd.png: SWD per pyramid level against kimg for every configuration (like the paper's Figure 4); when
    the runs' logs hold no SWD point, a warning (a `note:` line) says why instead."""
    curves: dict[str, list[dict[str, Any]]] = {}
    configs: dict[str, dict[str, Any]] = {}
    ticks = 0
    for name, run_dir in runs.items():
        log = run_dir / "log.jsonl"
        records = read_log(log) if log.exists() else []
        ticks = max(ticks, len(records))
        config = read_json(run_dir / "config.json", "run configuration (JSON)")
        final_resolution = config.get("resolution") if isinstance(config, dict) else None
        if not isinstance(final_resolution, int):
            raise GanevalInputError(f"{run_dir / 'config.json'}: no resolution of the run (a damaged config.json)")
        configs[name] = config
        # Ticks are scored at the final resolution (lower lods upsampled); older logs may hold other ones.
        curves[name] = [record for record in records
                        if "swd_x1e3" in record and record.get("metrics_resolution") == final_resolution]
    levels = sorted({resolution for records in curves.values() for record in records
                     for resolution in record["swd_resolutions"]}, reverse=True)
    if not levels:
        warnings.warn(f"{out / 'figure_swd.png'} not written: {_no_swd_points(configs, ticks)}", stacklevel=2)
        return
    figure = Figure(figsize=(5 * len(levels), 4))
    axes = figure.subplots(1, len(levels), squeeze=False)
    for axis, level in zip(axes[0], levels):
        for name in grid.rows:
            points = [(record["kimg"], record["swd_x1e3"][record["swd_resolutions"].index(level)])
                      for record in curves.get(name, []) if level in record["swd_resolutions"]]
            if points:
                axis.plot(*zip(*points), label=grid.labels[name], **CURVE_STYLES.get(name, OTHER_CURVE_STYLE))
        axis.set_title(f"SWD ×10³ at the {level}px level")
        axis.set_xlabel("kimg (real images shown to D)")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    _save_figure(figure, out / "figure_swd.png")


def _no_swd_points(configs: dict[str, dict[str, Any]], ticks: int) -> str:
    """Why the runs' training logs hold no SWD point, in words (from their config.json and the longest log)."""
    if not configs:
        return "no run folder holds a config.json"
    settings = {key: {config.get(key) for config in configs.values()}
                for key in ("metrics_ticks", "metrics_num_images", "resolution")}
    if settings["metrics_ticks"] == {0}:
        return ("the training logs hold no SWD points because metrics_ticks is 0 (SWD only at the end of a run); "
                "train with --metrics-ticks N to score every N ticks")
    if settings["metrics_num_images"] == {0}:
        return "the training logs hold no SWD points because metrics_num_images is 0 (no metrics while training)"
    if all(isinstance(resolution, int) and resolution < MIN_RESOLUTION for resolution in settings["resolution"]):
        return f"the runs are below {MIN_RESOLUTION}×{MIN_RESOLUTION}, the smallest image SWD scores"
    every = min(value for value in settings["metrics_ticks"] if isinstance(value, int) and value > 0)
    return (f"the training logs hold no SWD points: the runs score every {every} ticks but not at the last, and "
            f"the longest log holds {ticks} tick{'s' if ticks != 1 else ''} (runs too short, or logs not kept)")


def _save_figure(figure: Any, path: Path) -> None:
    """Save a matplotlib figure as PNG atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=FIGURE_DPI)
    write_atomically(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))
