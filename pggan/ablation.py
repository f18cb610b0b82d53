"""The Table 1 grid of Progressive Growing of GANs: train each configuration, score it with ganeval, tabulate.

`run_ablation` trains rows (a)–(h) and (e*) one after another on the same data, seed and image budget,
evaluates each final EMA generator under the paper's protocol (SWD of generated against real images per
pyramid level, MS-SSIM over consecutive pairs of generated images; FID/KID when Inception weights are at
hand), and rewrites table1.{md,csv,json} atomically after every configuration. It is resumable: a finished
configuration (its `evaluation.json` exists) is skipped, an interrupted one resumes from its checkpoint.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ganeval
from ganeval.errors import GanevalInputError
from ganeval.evaluate import reference_statistics
from ganeval.files import write_atomically
from ganeval.inception import find_weights
from ganeval.stats import save_stats
from pggan.checkpoint import list_checkpoints, write_json
from pggan.config import BUDGETS, CONFIG_ORDER, PRESETS, make_config
from pggan.data import load_images, reals_at
from pggan.train import generate, to_uint8, train
from pggan.train import resume as resume_run

ROW_LABELS = {
    "a": "(a) Gulrajani et al. (2017)", "b": "(b) + Progressive growing", "c": "(c) + Small minibatch",
    "d": "(d) + Revised training parameters", "e_star": "(e*) + Minibatch discrimination",
    "e": "(e) Minibatch stddev", "f": "(f) + Equalized learning rate", "g": "(g) + Pixelwise normalization",
    "h": "(h) Converged",
}
# Karras et al. 2018, Table 1, CelebA column at 128×128: SWD ×10³ at 128, 64, 32, 16 px, their average, and
# MS-SSIM — transcribed from the paper for side-by-side reading; they are not ours and not comparable in scale
# to other data sets or resolutions.
PAPER_CELEBA = {
    "a": ([12.99, 7.79, 7.62, 8.73], 9.28, 0.2854), "b": ([4.62, 2.64, 3.78, 6.06], 4.28, 0.2838),
    "c": ([75.42, 41.33, 41.62, 26.57], 46.23, 0.4065), "d": ([9.20, 6.53, 4.71, 11.84], 8.07, 0.3027),
    "e_star": ([10.76, 6.28, 6.04, 16.29], 9.84, 0.3057), "e": ([13.94, 5.67, 2.82, 5.71], 7.04, 0.2950),
    "f": ([4.42, 3.28, 2.32, 7.52], 4.39, 0.2902), "g": ([4.06, 3.04, 2.02, 5.13], 3.56, 0.2845),
    "h": ([2.42, 2.17, 2.24, 4.99], 2.96, 0.2828),
}
# Evaluation sizes per budget. The paper: SWD on 16,384 generated vs 16,384 real images, MS-SSIM over 10,000
# pairs. The quick budget keeps the protocol and shrinks the counts so nine rows evaluate in minutes on a CPU.
EVALUATION = {"paper": dict(swd_num_images=16384, msssim_num_pairs=10000),
              "quick": dict(swd_num_images=4096, msssim_num_pairs=2000)}
SAMPLES_PER_ROW = 12
SAMPLE_SEED = 123  # latents of the sample figure, the same for every configuration


def table_row_scores(swd: dict[str, Any], msssim: dict[str, Any]) -> dict[str, Any]:
    """The SWD and MS-SSIM figures of one table row, from the results of `ganeval.swd` and `ganeval.msssim`."""
    return {"resolutions": swd["resolutions"], "swd_x1e3": swd["swd_x1e3"], "swd_x1e3_avg": swd["swd_x1e3_avg"],
            "swd_num_images": swd["num_images"], "msssim": msssim["msssim"], "msssim_num_pairs": msssim["num_pairs"]}


def inception_weights_at_hand(path: str | Path | None) -> Path | None:
    """The Inception weights file if one is here (argument, environment, torch hub cache), else None; no download."""
    try:
        return find_weights(path, download=False)
    except GanevalInputError:
        return None


def evaluate_generator(run_dir: Path, real_stats: Path, *, swd_num_images: int, msssim_num_pairs: int,
                       fid_num_images: int, seed: int, device: str | None,
                       inception: dict[str, Any] | None = None) -> dict[str, Any]:
    """SWD (against the real set's stats file) and MS-SSIM (consecutive pairs) of a run's final EMA generator,
    plus FID and KID when `inception` (the extractor's options) is given: one ganeval.evaluate pass over the
    generated images, each metric taking its own number of them."""
    fakes = generate(run_dir, max(swd_num_images, 2 * msssim_num_pairs, fid_num_images if inception else 0),
                     seed=seed, device=device)
    metrics = ["swd", "msssim", *(["fid", "kid"] if inception else [])]
    counts = {"swd": swd_num_images, **({"fid": fid_num_images, "kid": fid_num_images} if inception else {})}
    scores = ganeval.evaluate(real_stats, fakes, metrics=metrics, num_images=counts, num_pairs=msssim_num_pairs,
                              seed=seed, device=device, subset_size=min(1000, fid_num_images), **(inception or {}))
    row = table_row_scores(scores["swd"], scores["msssim"])
    if inception:
        row.update(fid=scores["fid"]["fid"], kid_mean=scores["kid"]["kid_mean"], kid_std=scores["kid"]["kid_std"],
                   fid_num_images=fid_num_images, comparable_to_published=scores["fid"]["comparable_to_published"])
    return row


def real_reference_row(reals: np.ndarray, *, swd_num_images: int, msssim_num_pairs: int, seed: int,
                       device: str | None) -> dict[str, Any]:
    """The "training data" line: SWD between two disjoint halves of the reals, MS-SSIM of consecutive reals."""
    half = min(swd_num_images, len(reals) // 2)
    swd = ganeval.swd(reals[:half], reals[half:2 * half], seed=seed, device=device)
    num_pairs = min(msssim_num_pairs, len(reals) // 2)
    msssim = ganeval.msssim(reals[:2 * num_pairs], num_pairs=num_pairs, pairs="consecutive", device=device)
    return table_row_scores(swd, msssim)


def table_rows(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Flat rows in Table 1 order ("real" first), one column per SWD level, the paper's CelebA figures beside."""
    flat = []
    for name in ("real", *CONFIG_ORDER):
        if name not in rows:
            continue
        row = rows[name]
        entry: dict[str, Any] = {"config": name, "label": ROW_LABELS.get(name, "Training data (real vs real)")}
        for resolution, value in zip(row["resolutions"], row["swd_x1e3"]):
            entry[f"swd_x1e3_{resolution}"] = round(value, 3)
        entry["swd_x1e3_avg"] = round(row["swd_x1e3_avg"], 3)
        entry["msssim"] = round(row["msssim"], 4)
        if "fid" in row:
            entry["fid"], entry["kid_mean"] = round(row["fid"], 3), round(row["kid_mean"], 5)
        entry["kimg"] = row.get("kimg")
        entry["train_minutes"] = round(row["train_seconds"] / 60, 1) if "train_seconds" in row else None
        if name in PAPER_CELEBA:
            entry["paper_celeba_swd_x1e3_avg"], entry["paper_celeba_msssim"] = PAPER_CELEBA[name][1:]
        flat.append(entry)
    return flat


def write_tables(out: Path, rows: dict[str, dict[str, Any]], header: dict[str, Any]) -> None:
    """table1.json, table1.csv and table1.md, each written atomically."""
    flat = table_rows(rows)
    write_json(out / "table1.json", {**header, "rows": flat})
    columns = list(dict.fromkeys(key for entry in flat for key in entry))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(flat)
    write_atomically(out / "table1.csv", lambda temporary: temporary.write_text(buffer.getvalue()))
    swd_columns = [key for key in columns if key.startswith("swd_x1e3_") and key != "swd_x1e3_avg"]
    extra = [key for key in ("fid", "kid_mean") if key in columns]
    titles = ([f"SWD×10³ {key.rsplit('_', 1)[1]}px" for key in swd_columns] + ["SWD avg", "MS-SSIM"]
              + [key.upper().replace("_MEAN", "") for key in extra]
              + ["kimg", "train min", "paper SWD avg", "paper MS-SSIM"])
    lines = [f"# Table 1 — {header['data']} at {header['resolution']}×{header['resolution']}", "",
             f"Budget `{header['budget']}`, {header['kimg_per_config']} kimg per configuration ((h): "
             f"{header['kimg_h']} kimg), seed {header['seed']}. SWD on {header['swd_num_images']} generated vs real "
             f"images, MS-SSIM over {header['msssim_num_pairs']} consecutive pairs"
             + (f", FID and KID on {header['fid_num_images']} images" if header.get("inception_weights") else "")
             + ". The last two columns are the "
             "paper's CelebA 128×128 figures (Karras et al. 2018, Table 1), for reading trends side by side, not for "
             "comparing values.", "",
             "| configuration | " + " | ".join(titles) + " |", "|---" * (len(titles) + 1) + "|"]
    for entry in flat:
        cells = [entry.get(key, "") for key in [*swd_columns, "swd_x1e3_avg", "msssim", *extra, "kimg",
                                                "train_minutes", "paper_celeba_swd_x1e3_avg", "paper_celeba_msssim"]]
        lines.append(f"| {entry['label']} | " + " | ".join("" if cell is None else str(cell) for cell in cells) + " |")
    text = "\n".join(lines) + "\n"
    write_atomically(out / "table1.md", lambda temporary: temporary.write_text(text))


def draw_samples_figure(out: Path, runs: dict[str, Path], reals: np.ndarray, device: str | None) -> None:
    """figure_samples.png: one row of fixed-latent samples per configuration (like the paper's Figure 3)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["real", *[name for name in CONFIG_ORDER if name in runs]]
    figure, axes = plt.subplots(len(names), 1, figsize=(SAMPLES_PER_ROW * 0.9, len(names) * 1.0 + 0.3))
    axes = np.atleast_1d(axes)
    for axis, name in zip(axes, names):
        images = reals[:SAMPLES_PER_ROW] if name == "real" else generate(runs[name], SAMPLES_PER_ROW,
                                                                         seed=SAMPLE_SEED, device=device)
        strip = np.concatenate(list(images.transpose(0, 2, 3, 1)), axis=1)
        axis.imshow(strip.squeeze(-1) if strip.shape[-1] == 1 else strip, cmap="gray", vmin=0, vmax=255)
        axis.set_xticks([])
        axis.set_yticks([])
        axis.set_ylabel(name if name != "real" else "data", rotation=0, ha="right", va="center", fontsize=11)
    figure.suptitle("Fixed-latent samples per configuration (rows) and real images (top)", fontsize=11)
    figure.tight_layout()
    _save_figure(figure, out / "figure_samples.png")
    plt.close(figure)


def draw_swd_figure(out: Path, runs: dict[str, Path]) -> None:
    """figure_swd.png: SWD per pyramid level against kimg for every configuration (like the paper's Figure 4)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves: dict[str, list[dict[str, Any]]] = {}
    for name, run_dir in runs.items():
        log = run_dir / "log.jsonl"
        records = [json.loads(line) for line in log.read_text().splitlines() if line] if log.exists() else []
        final_resolution = json.loads((run_dir / "config.json").read_text())["resolution"]
        # Ticks are scored at the final resolution (lower lods upsampled); older logs may hold other ones.
        curves[name] = [record for record in records
                        if "swd_x1e3" in record and record.get("metrics_resolution") == final_resolution]
    levels = sorted({resolution for records in curves.values() for record in records
                     for resolution in record["swd_resolutions"]}, reverse=True)
    if not levels:
        return
    figure, axes = plt.subplots(1, len(levels), figsize=(5 * len(levels), 4), squeeze=False)
    for axis, level in zip(axes[0], levels):
        for name in CONFIG_ORDER:
            points = [(record["kimg"], record["swd_x1e3"][record["swd_resolutions"].index(level)])
                      for record in curves.get(name, []) if level in record["swd_resolutions"]]
            if points:
                axis.plot(*zip(*points), marker="o", markersize=3, label=ROW_LABELS[name])
        axis.set_title(f"SWD ×10³ at the {level}px level")
        axis.set_xlabel("kimg (real images shown to D)")
        axis.set_yscale("log")
        axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.tight_layout()
    _save_figure(figure, out / "figure_swd.png")
    plt.close(figure)


def _save_figure(figure: Any, path: Path) -> None:
    """Save a matplotlib figure as PNG atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    write_atomically(path, lambda temporary: temporary.write_bytes(buffer.getvalue()))


def train_and_evaluate(name: str, *, out: Path, data: str, budget: str, seed: int, metrics_ticks: int,
                       device: str | None, overrides: dict[str, Any], real_stats: Path, inception: dict | None,
                       evaluation: dict[str, int], progress: bool, threads: int | None = None) -> dict[str, Any]:
    """Train configuration `name` (or resume it, or reuse its finished run), evaluate it, write evaluation.json."""
    if threads is not None:
        torch.set_num_threads(threads)
    run_dir = out / name
    started = time.monotonic()
    if (run_dir / "metrics.json").exists():
        metrics = json.loads((run_dir / "metrics.json").read_text())
    elif list_checkpoints(run_dir):
        metrics = resume_run(run_dir, progress=progress)
    else:
        config = make_config(name, budget, data=data, seed=seed, metrics_ticks=metrics_ticks,
                             device=device or "auto", **overrides)
        metrics = train(config, run_dir, progress=progress)
    row = evaluate_generator(run_dir, real_stats, seed=seed, device=device, inception=inception, **evaluation)
    row.update(kimg=metrics["kimg"], train_seconds=metrics["train_seconds"],
               wall_seconds_this_session=time.monotonic() - started)
    write_json(run_dir / "evaluation.json", row)
    return row


def run_ablation(data: str | Path, out: str | Path, *, configs: Sequence[str] = CONFIG_ORDER,
                 budget: str = "quick", kimg: float | None = None, device: str | None = None, seed: int = 1000,
                 swd_num_images: int | None = None, msssim_num_pairs: int | None = None,
                 fid_num_images: int | None = None, inception_weights: str | Path | None = None,
                 allow_unverified_weights: bool = False, metrics_ticks: int = 2, jobs: int = 1,
                 progress: bool = True, **overrides: Any) -> dict[str, Any]:
    """Train and evaluate every configuration in `configs` into `out`; return the table as a dict.

    FID and KID are added when Inception weights are at hand (`inception_weights`, $GANEVAL_INCEPTION_WEIGHTS or
    the torch hub cache; nothing is downloaded), on `fid_num_images` generated images (default: as for SWD).
    `jobs` > 1 trains that many configurations at once, each in its own process.
    """
    unknown = [name for name in configs if name not in PRESETS]
    if unknown:
        raise GanevalInputError(f"--configs: unknown configuration(s) {', '.join(unknown)}; choose from "
                                f"{', '.join(CONFIG_ORDER)}")
    if jobs < 1:
        raise GanevalInputError(f"--jobs must be at least 1, got {jobs}")
    if budget not in BUDGETS:
        raise GanevalInputError(f"--budget must be one of {', '.join(BUDGETS)}, got {budget!r}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    evaluation = {**EVALUATION[budget]}
    if swd_num_images is not None:
        evaluation["swd_num_images"] = swd_num_images
    if msssim_num_pairs is not None:
        evaluation["msssim_num_pairs"] = msssim_num_pairs
    if kimg is not None:
        overrides["total_kimg"] = kimg
    base = make_config("g", budget, data=str(data), seed=seed, metrics_ticks=metrics_ticks,
                       device=device or "auto", **overrides)
    reals = load_images(data)
    if reals.shape[-1] != base.resolution:
        reals = to_uint8(reals_at(reals, base.resolution, 1.0, torch.float32))
    reals = reals.numpy()
    evaluation["swd_num_images"] = min(evaluation["swd_num_images"], len(reals))

    weights = inception_weights_at_hand(inception_weights)
    inception = None if weights is None else dict(inception_weights=weights, resize="tf", precision="fp32",
                                                  allow_unverified_weights=allow_unverified_weights)
    evaluation["fid_num_images"] = min(fid_num_images or evaluation["swd_num_images"], len(reals))
    real_stats = out / "real_stats.npz"
    if not real_stats.exists():  # one pass over the reals, each metric taking its own number of them
        counts = {"swd": evaluation["swd_num_images"],
                  **({"fid": evaluation["fid_num_images"], "kid": evaluation["fid_num_images"]} if inception else {})}
        save_stats(real_stats, *reference_statistics(reals, list(counts), num_images=counts, seed=seed,
                                                     device=device, **(inception or {})))
    rows: dict[str, dict[str, Any]] = {}
    real_row_path = out / "real_evaluation.json"
    if not real_row_path.exists():
        write_json(real_row_path, real_reference_row(reals, seed=seed, device=device,
                                                     swd_num_images=evaluation["swd_num_images"],
                                                     msssim_num_pairs=evaluation["msssim_num_pairs"]))
    rows["real"] = json.loads(real_row_path.read_text())
    header = {"data": Path(data).name, "resolution": base.resolution, "budget": budget,
              "kimg_per_config": base.total_kimg, "kimg_h": base.total_kimg * PRESETS["h"].get("kimg_factor", 1.0),
              "seed": seed, "inception_weights": str(weights) if weights else None, **evaluation}

    order = [name for name in CONFIG_ORDER if name in configs]
    runs = {name: out / name for name in order}
    job = dict(out=out, data=str(data), budget=budget, seed=seed, metrics_ticks=metrics_ticks, device=device,
               overrides=overrides, real_stats=real_stats, inception=inception, evaluation=evaluation)
    pending = [name for name in order if not (out / name / "evaluation.json").exists()]
    for name in order:
        if name not in pending:
            rows[name] = json.loads((out / name / "evaluation.json").read_text())
    if jobs == 1:
        for name in pending:
            if progress:
                print(f"== {ROW_LABELS[name]} → {runs[name]}", flush=True)
            rows[name] = train_and_evaluate(name, progress=progress, **job)
            write_tables(out, rows, header)
    else:  # several configurations at once: one process each, the CPU threads shared out between them
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(train_and_evaluate, name, progress=False, threads=threads, **job): name
                       for name in pending}
            for future in as_completed(futures):
                name = futures[future]
                rows[name] = future.result()
                if progress:
                    print(f"== finished {ROW_LABELS[name]} ({len(rows) - 1}/{len(order)})", flush=True)
                write_tables(out, rows, header)
    write_tables(out, rows, header)
    draw_samples_figure(out, runs, reals, device)
    draw_swd_figure(out, runs)
    return {**header, "rows": table_rows(rows)}

