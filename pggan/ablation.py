"""The Table 1 grid of Progressive Growing of GANs (or another grid of pggan/grids.py, e.g. MSG-GAN's): train each
configuration, score it with ganeval, tabulate.

`run_ablation` trains rows (a)–(h) and (e*) (another grid: its rows) for each seed on the same data and image
budget, evaluates each final EMA generator under the paper's protocol (SWD of generated against real images per
pyramid level, MS-SSIM over consecutive pairs of generated images; FID/KID when Inception weights are at hand) and
the raw generator's SWD beside it, and rewrites table1.{md,csv,json} (another grid: its stem; mean ± standard
deviation over seeds), table1_per_seed.csv and the check of the paper's trends atomically after every run (the
tables and figures: pggan/report.py). Layout: OUT/seed-S/ROW/ is one run and its `evaluation.json`. It is resumable
per seed and row: a finished run (its `evaluation.json` exists) is skipped, an interrupted one resumes from its
checkpoint, and the tables can be rebuilt from the `evaluation.json` files alone.
"""

from __future__ import annotations

import ctypes
import json
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
import torch

import ganeval
from ganeval.api import reference_statistics
from ganeval.defaults import PPL_LOWER_PERCENTILE, PPL_UPPER_PERCENTILE
from ganeval.errors import GanevalInputError
from ganeval.extractors.inception import INCEPTION_WEIGHTS
from ganeval.extractors.lpips import VGG16_WEIGHTS, find_lpips_weights
from ganeval.extractors.weights import WeightsFile
from ganeval.files import file_sha256, read_json
from ganeval.kernels.ppl import MIN_LPIPS_SIZE, minimum_samples
from ganeval.progress import Progress, end_open_line
from ganeval.stats import save_stats
from pggan.checkpoint import list_checkpoints, write_json
from pggan.config import BUDGETS, TrainConfig, make_config
from pggan.data import data_identity, first_images, identity_difference, open_images, training_resolution
from pggan.droplets import droplet_statistics
from pggan.errors import ConfigError
from pggan.generate import generate, run_generator
from pggan.grids import GRIDS
from pggan.report import (
    DROPLET_IMAGES,
    SAMPLES_PER_ROW,
    draw_droplets_figure,
    draw_samples_figure,
    draw_swd_figure,
    read_row,
    table_rows,
    trend_checks,
    write_tables,
)
from pggan.train import resume as resume_run
from pggan.train import train

# Evaluation sizes per budget. The paper: SWD on 16,384 generated vs 16,384 real images, MS-SSIM over 10,000
# pairs. The quick budget keeps the protocol and shrinks the counts so nine rows evaluate in minutes on a CPU.
# PPL (StyleGAN's Table 3 reports it for the traditional generator): Z space, t ~ U(0, 1), no crop, as
# stylegan2-ada-pytorch's `ppl_zfull` on 50,000 samples; the quick budget draws 2,000.
EVALUATION = {"paper": dict(swd_num_images=16384, msssim_num_pairs=10000, ppl_num_samples=50000),
              "quick": dict(swd_num_images=4096, msssim_num_pairs=2000, ppl_num_samples=2000)}
PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent ends
PROGRESS_SECONDS = 30.0  # how often `--jobs N` reads the running runs' logs for its progress line


def table_row_scores(swd: dict[str, Any], msssim: dict[str, Any]) -> dict[str, Any]:
    """The SWD and MS-SSIM figures of one table row, from the results of `ganeval.swd` and `ganeval.msssim`."""
    return {"resolutions": swd["resolutions"], "swd_x1e3": swd["swd_x1e3"], "swd_x1e3_avg": swd["swd_x1e3_avg"],
            "swd_num_images": swd["num_images"], "msssim": msssim["msssim"], "msssim_num_pairs": msssim["num_pairs"]}


def check_weights_paths(**paths: str | Path | None) -> None:
    """Refuse a weights file given on the command line that is not there (only files not asked for are optional)."""
    for option, path in paths.items():
        if path is not None and not Path(path).is_file():
            raise GanevalInputError(f"--{option.replace('_', '-')}: {path} does not exist")


def weights_at_hand(weights: WeightsFile, path: str | Path | None) -> Path | None:
    """`weights`' file if one is here (argument, environment, torch hub cache), else None; no download."""
    try:
        return weights.find(path, download=False)
    except GanevalInputError:
        return None


def lpips_weights_at_hand(vgg16_weights: str | Path | None, lpips_weights: str | Path | None,
                          resolution: int) -> tuple[dict[str, Path] | None, str | None]:
    """(the LPIPS weights files PPL needs, None) if they are here (argument, environment, torch hub cache, the lpips
    package) and the images are large enough for LPIPS, else (None, why PPL is not measured); no download."""
    if resolution < MIN_LPIPS_SIZE:
        return None, (f"{resolution}×{resolution} images are smaller than the {MIN_LPIPS_SIZE}×{MIN_LPIPS_SIZE} "
                      "LPIPS needs")
    vgg16 = weights_at_hand(VGG16_WEIGHTS, vgg16_weights)
    if vgg16 is None:
        # Recorded in evaluation.json and the committed tables: the hub folder by name, not this machine's path.
        return None, (f"the VGG-16 weights of LPIPS are not here: put {VGG16_WEIGHTS.file_names[0]} "
                      f"({VGG16_WEIGHTS.url}) in the torch hub checkpoint folder, or pass {VGG16_WEIGHTS.option} "
                      f"PATH, or set {VGG16_WEIGHTS.env}=PATH")
    try:
        return {"vgg16_weights": vgg16, "lpips_weights": find_lpips_weights(lpips_weights)}, None
    except GanevalInputError as error:
        return None, str(error)


def evaluate_generator(run_dir: Path, real_stats: Path, *, swd_num_images: int, msssim_num_pairs: int,
                       fid_num_images: int, ppl_num_samples: int, seed: int, device: str | None,
                       inception: dict[str, Any] | None = None, lpips: dict[str, Any] | None = None,
                       ppl_missing: str | None = None, ppl_space: str = "z", ppl_sampling: str = "full"
                       ) -> dict[str, Any]:
    """SWD (against the real set's stats file) and MS-SSIM (consecutive pairs) of a run's final EMA generator,
    plus FID and KID when `inception` (the extractor's options) is given: one ganeval.evaluate pass over the
    generated images, each metric taking its own number of them. With `lpips` (the LPIPS weights' options), the
    EMA generator's PPL (in `ppl_space` with `ppl_sampling`, no crop) on `ppl_num_samples` latent pairs; without,
    the row records `ppl_missing`, why not. A StyleGAN run's row adds StyleGAN2's droplet statistic per resolution
    (`pggan.droplets`, on DROPLET_IMAGES images), and the top resolution's 99th percentile peak ratio and fraction
    of spiked maps as `droplet_p99` and `droplet_fraction`."""
    fakes = generate(run_dir, max(swd_num_images, 2 * msssim_num_pairs, fid_num_images if inception else 0),
                     seed=seed, device=device)
    metrics = ["swd", "msssim", *(["fid", "kid"] if inception else [])]
    counts = {"swd": swd_num_images, **({"fid": fid_num_images, "kid": fid_num_images} if inception else {})}
    scores = ganeval.evaluate(real_stats, fakes, metrics=metrics, num_images=counts, num_pairs=msssim_num_pairs,
                              seed=seed, device=device, subset_size=min(1000, fid_num_images), **(inception or {}))
    row = table_row_scores(scores["swd"], scores["msssim"])
    raw = generate(run_dir, swd_num_images, seed=seed, device=device, ema=False)  # the generator itself, for the CSV
    raw_swd = ganeval.evaluate(real_stats, raw, metrics=("swd",), num_images=swd_num_images, seed=seed,
                               device=device)["swd"]
    row.update(raw_swd_x1e3=raw_swd["swd_x1e3"], raw_swd_x1e3_avg=raw_swd["swd_x1e3_avg"])
    if inception:
        row.update(fid=scores["fid"]["fid"], kid_mean=scores["kid"]["kid_mean"], kid_std=scores["kid"]["kid_std"],
                   fid_num_images=fid_num_images, comparable_to_published=scores["fid"]["comparable_to_published"])
    if lpips:
        ppl = ganeval.ppl(run_generator(run_dir, device=device), value_range=(-1.0, 1.0), num_samples=ppl_num_samples,
                          space=ppl_space, sampling=ppl_sampling, crop=False, seed=seed, device=device, **lpips)
        row.update(ppl=ppl["ppl"], ppl_std=ppl["ppl_std"], ppl_num_samples=ppl_num_samples, ppl_space=ppl_space,
                   ppl_sampling=ppl_sampling,
                   ppl_comparable_to_published=ppl["comparable_to_published"])
    else:
        row.update(ppl_not_measured=ppl_missing)
    config = TrainConfig.from_dict(read_json(run_dir / "config.json", "run configuration (JSON)"))
    if config.mapping_layers > 0:  # a StyleGAN run: StyleGAN2 §2.1's droplets, at the top resolution in the table
        droplets = droplet_statistics(run_dir, num_images=DROPLET_IMAGES, seed=seed, device=device)["resolutions"]
        row.update(droplets=droplets, droplet_p99=droplets[-1]["p99"], droplet_fraction=droplets[-1]["fraction_above"])
    return row


def finished_kimg(run_dir: Path) -> float | None:
    """The kimg of a finished run (its metrics.json), None while it is unfinished or its metrics.json unreadable."""
    try:
        kimg = json.loads((run_dir / "metrics.json").read_text()).get("kimg")
    except (OSError, ValueError, AttributeError):
        return None
    return float(kimg) if isinstance(kimg, (int, float)) and not isinstance(kimg, bool) else None


def kimg_trained(run_dir: Path) -> float:
    """kimg a run has logged so far (its log's last complete line; 0 before its first tick)."""
    log = run_dir / "log.jsonl"
    try:
        last = log.read_text().splitlines()[-1] if log.exists() else ""
        return float(json.loads(last)["kimg"]) if last else 0.0
    except (OSError, ValueError, KeyError, IndexError):  # a line being written, or none yet: read it next time
        return 0.0


def real_reference_row(reals: np.ndarray, *, swd_num_images: int, msssim_num_pairs: int, seed: int,
                       device: str | None) -> dict[str, Any]:
    """The "training data" line: SWD between two disjoint halves of the reals, MS-SSIM of consecutive reals."""
    half = min(swd_num_images, len(reals) // 2)
    swd = ganeval.swd(reals[:half], reals[half:2 * half], seed=seed, device=device)
    num_pairs = min(msssim_num_pairs, len(reals) // 2)
    msssim = ganeval.msssim(reals[:2 * num_pairs], num_pairs=num_pairs, pairs="consecutive", device=device)
    return table_row_scores(swd, msssim)


def train_and_evaluate(name: str, *, out: Path, data: str, budget: str, seed: int, metrics_ticks: int,
                       device: str | None, overrides: dict[str, Any], real_stats: Path, inception: dict | None,
                       lpips: dict | None, ppl_missing: str | None, evaluation: dict[str, int], progress: bool,
                       threads: int | None = None, grid: str = "table1") -> dict[str, Any]:
    """Train row `name` of `grid` with `seed` (or resume it, or reuse its finished run), evaluate it, write
    OUT/seed-SEED/NAME/evaluation.json."""
    if threads is not None:
        torch.set_num_threads(threads)
    run_dir = seed_dir(out, seed) / name
    started = time.monotonic()
    if (run_dir / "metrics.json").exists():
        metrics = read_json(run_dir / "metrics.json", "run metrics (JSON)")
        if not isinstance(metrics, dict) or not all(isinstance(metrics.get(key), (int, float))
                                                    for key in ("kimg", "train_seconds")):
            raise GanevalInputError(f"{run_dir / 'metrics.json'}: no kimg and train_seconds of a finished run; "
                                    "delete it to resume the run from its checkpoint")
    elif list_checkpoints(run_dir):
        metrics = resume_run(run_dir, progress=progress)
    else:
        config = GRIDS[grid].config(name, budget, data=data, seed=seed, metrics_ticks=metrics_ticks,
                                    device=device or "auto", **overrides)
        metrics = train(config, run_dir, progress=progress)
    spec = GRIDS[grid]
    row = evaluate_generator(run_dir, real_stats, seed=seed, device=device, inception=inception, lpips=lpips,
                             ppl_missing=ppl_missing, ppl_space=spec.ppl_space, ppl_sampling=spec.ppl_sampling,
                             **evaluation)
    row.update(kimg=metrics["kimg"], train_seconds=metrics["train_seconds"],
               wall_seconds_this_session=time.monotonic() - started)
    write_json(run_dir / "evaluation.json", row)
    return row


GRID_FILE = "grid.json"  # the data and settings every run of a results folder shares


def grid_record(data: str | Path, images: np.ndarray, base_config: Any, budget: str, overrides: dict[str, Any],
                metrics_ticks: int, evaluation: dict[str, int], weights: Path | None,
                lpips: dict[str, Path] | None, grid: str = "table1") -> dict[str, Any]:
    """What every run of one results folder must share: the grid, the data (its identity, not its path), the
    budget, the settings given for every row, and how runs are evaluated. Seeds and rows may be added; nothing else
    changes."""
    return {"grid": grid, "data": data_identity(data, images), "budget": budget, "resolution": base_config.resolution,
            "settings": {**overrides, "metrics_ticks": metrics_ticks}, "evaluation": dict(evaluation),
            "inception_weights_sha256": file_sha256(weights, "weights file") if weights else None,
            "lpips_weights_sha256": {name: file_sha256(path, "weights file") for name, path in lpips.items()}
            if lpips else None}


def check_grid(out: Path, grid: dict[str, Any], *, row_config: Any, write: bool) -> None:
    """Refuse a results folder whose runs were made with other data or other settings (one line naming the first
    difference); record the grid in OUT/grid.json when `write`. A folder of an earlier version, with runs but no
    grid.json, is adopted only when every run's config.json is the one these settings give its row and seed."""
    path = out / GRID_FILE
    grid = json.loads(json.dumps(grid))  # as read back: JSON's string keys, lists for tuples
    if path.exists():
        recorded = read_json(path, "ablation grid record (JSON)")
        if not isinstance(recorded, dict):
            raise GanevalInputError(f"{path}: holds a {type(recorded).__name__}, not a grid record; delete it only "
                                    "if every run below was made with this command's data and settings")
        if recorded.get("data") != grid["data"]:
            difference = identity_difference(recorded.get("data") or {}, grid["data"])
            raise GanevalInputError(f"{out}: its runs were trained on other data ({difference}); use another --out, "
                                    "or give the data they were trained on")
        if recorded.get("grid", "table1") != grid["grid"]:  # a record of an earlier version is Table 1's
            raise GanevalInputError(f"{out}: holds the runs of the {recorded.get('grid', 'table1')} grid, this "
                                    f"command asks for the {grid['grid']} grid; use another --out")
        for key in ("budget", "resolution", "settings", "evaluation", "inception_weights_sha256",
                    "lpips_weights_sha256"):
            if recorded.get(key) != grid[key]:
                raise GanevalInputError(f"{out}: its runs were made with {key} {recorded.get(key)!r}, this command "
                                        f"asks for {grid[key]!r}; use another --out, or the same settings")
        return
    for config_path in sorted(out.glob("seed-*/*/config.json")):
        seed, name = int(config_path.parent.parent.name.removeprefix("seed-")), config_path.parent.name
        try:  # a setting its version did not have yet reads as that setting's default
            saved = TrainConfig.from_dict(read_json(config_path, "run configuration (JSON)")).to_dict()
        except ConfigError as error:
            raise GanevalInputError(f"{config_path}: {error}") from None
        expected = row_config(name, seed).to_dict()
        differing = sorted(key for key in expected if key not in ("data", "device") and saved[key] != expected[key])
        if differing:
            raise GanevalInputError(f"{config_path}: this run was made with other settings than this command gives "
                                    f"it ({', '.join(differing[:4])}); use another --out, or the same settings")
    if write:
        write_json(path, grid)


def end_with_parent(parent: int) -> None:
    """A pool worker's initializer: the worker ends when the ablation process that started it does, even when that
    one is killed with SIGKILL (Linux: the kernel sends SIGTERM; elsewhere a thread watches the parent)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent ended before the signal was asked for
            os._exit(1)
        return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="pggan-parent-watch").start()


def seed_dir(out: Path, seed: int) -> Path:
    """Where one seed's runs live: OUT/seed-SEED."""
    return out / f"seed-{seed}"


def seeds_in(out: str | Path) -> list[int]:
    """The seeds that have a folder in `out` (OUT/seed-S), in increasing order."""
    found = (path.name.removeprefix("seed-") for path in Path(out).glob("seed-*") if path.is_dir())
    return sorted(int(seed) for seed in found if seed.isdigit())


def run_ablation(data: str | Path, out: str | Path, *, grid: str = "table1", configs: Sequence[str] | None = None,
                 budget: str = "quick", kimg: float | None = None, device: str | None = None,
                 seeds: Sequence[int] = (1000,), swd_num_images: int | None = None,
                 msssim_num_pairs: int | None = None, fid_num_images: int | None = None,
                 ppl_num_samples: int | None = None, inception_weights: str | Path | None = None,
                 vgg16_weights: str | Path | None = None, lpips_weights: str | Path | None = None,
                 allow_unverified_weights: bool = False, metrics_ticks: int = 2, jobs: int = 1,
                 progress: bool = True, train: bool = True, **overrides: Any) -> dict[str, Any]:
    """Train and evaluate every row of `grid` in `configs` (default: all of them) for every seed into `out`; return
    the table as a dict.

    Each seed seeds its runs' training and their evaluation (SWD positions, latents). FID and KID are added when
    Inception weights are at hand (`inception_weights`, $GANEVAL_INCEPTION_WEIGHTS or the torch hub cache; nothing
    is downloaded), on `fid_num_images` generated images (default: as for SWD); PPL (Z, full, no crop) on
    `ppl_num_samples` latent pairs when the LPIPS weights are (`vgg16_weights`, $GANEVAL_VGG16_WEIGHTS or the torch
    hub cache; `lpips_weights` or the lpips package's), else each row says why not. `jobs` > 1 trains that many runs
    at once, each in its own process. `train=False` trains nothing: the tables and figures are rebuilt from the
    runs that have finished.
    """
    if grid not in GRIDS:
        raise GanevalInputError(f"--grid must be one of {', '.join(GRIDS)}, got {grid!r}")
    spec = GRIDS[grid]
    configs = list(spec.rows) if configs is None else configs
    unknown = [name for name in configs if name not in spec.rows]
    if unknown or not configs:
        raise GanevalInputError(f"--configs: unknown configuration(s) {', '.join(unknown) or '(none given)'}; "
                                f"choose from {', '.join(spec.rows)} (the {grid} grid)")
    if jobs < 1:
        raise GanevalInputError(f"--jobs must be at least 1, got {jobs}")
    check_weights_paths(inception_weights=inception_weights, vgg16_weights=vgg16_weights, lpips_weights=lpips_weights)
    if budget not in BUDGETS:
        raise GanevalInputError(f"--budget must be one of {', '.join(BUDGETS)}, got {budget!r}")
    seeds = list(dict.fromkeys(seeds))
    if not seeds:
        raise GanevalInputError("--seeds: give at least one seed")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    evaluation = {**EVALUATION[budget]}
    if swd_num_images is not None:
        evaluation["swd_num_images"] = swd_num_images
    if msssim_num_pairs is not None:
        evaluation["msssim_num_pairs"] = msssim_num_pairs
    if ppl_num_samples is not None:
        needed = minimum_samples(PPL_LOWER_PERCENTILE, PPL_UPPER_PERCENTILE)
        if ppl_num_samples < needed:
            raise GanevalInputError(f"--ppl-samples: {ppl_num_samples} latent pairs are too few for PPL's 1st–99th "
                                    f"percentile rule; give at least {needed}")
        evaluation["ppl_num_samples"] = ppl_num_samples
    if kimg is not None:
        overrides["total_kimg"] = kimg
    base = make_config("g", budget, data=str(data), seed=seeds[0], metrics_ticks=metrics_ticks,
                       device=device or "auto", **overrides)
    # Only the first reals the evaluation reads are loaded (the metrics take a set's first N images), so a streamed
    # set of any size is never read whole: the training-data line's two halves, FID's count, MS-SSIM's pairs.
    needed = max(2 * evaluation["swd_num_images"], fid_num_images or 0, 2 * evaluation["msssim_num_pairs"],
                 SAMPLES_PER_ROW)
    data_images = open_images(data)
    base = base.replace(resolution=training_resolution(data, data_images.shape[-1], base.resolution))
    reals = first_images(data_images, needed, base.resolution)
    if len(reals) < 4:
        raise GanevalInputError(f"{data}: {len(reals)} image(s); the ablation scores the real set against itself in "
                                "two halves and MS-SSIM over pairs of each, so it needs at least 4")
    evaluation["swd_num_images"] = min(evaluation["swd_num_images"], len(reals))

    weights = weights_at_hand(INCEPTION_WEIGHTS, inception_weights)
    inception = None if weights is None else dict(inception_weights=weights, resize="tf", precision="fp32",
                                                  allow_unverified_weights=allow_unverified_weights)
    evaluation["fid_num_images"] = min(fid_num_images or evaluation["swd_num_images"], len(reals))
    lpips_files, ppl_missing = lpips_weights_at_hand(vgg16_weights, lpips_weights, base.resolution)
    lpips = None if lpips_files is None else {**lpips_files, "allow_unverified_weights": allow_unverified_weights}
    def row_config(name: str, seed: int) -> TrainConfig:
        return spec.config(name, budget, data=str(data), seed=seed, metrics_ticks=metrics_ticks,
                           device=device or "auto", **overrides).replace(resolution=base.resolution)

    order = [name for name in spec.rows if name in configs]
    for name in order:  # every row's settings checked at the data's resolution before any training
        row_config(name, seeds[0]).validate()
    check_grid(out, grid_record(data, data_images, base, budget, overrides, metrics_ticks, evaluation, weights,
                                lpips_files, grid), row_config=row_config, write=train)
    left_out = [seed for seed in seeds_in(out) if seed not in seeds
                and any((seed_dir(out, seed) / name / "evaluation.json").exists() for name in order)]
    if left_out:  # e.g. --seeds 1001,1002 added to a grid whose seed 1000 finished earlier
        warnings.warn(f"{out}: the tables cover seed(s) {', '.join(map(str, seeds))} only; the finished runs of "
                      f"seed(s) {', '.join(map(str, left_out))} there are left out of them (name every seed in "
                      "--seeds, or rebuild with --tables-only, which takes every seed in OUT)", stacklevel=2)
    rows_by_seed: dict[int, dict[str, dict[str, Any]]] = {}
    pending: list[tuple[int, str]] = []
    for seed in seeds:
        folder = seed_dir(out, seed)
        folder.mkdir(exist_ok=True)
        rows = rows_by_seed[seed] = {}
        real_row_path = folder / "real_evaluation.json"
        if not real_row_path.exists():
            write_json(real_row_path, real_reference_row(reals, seed=seed, device=device,
                                                         swd_num_images=evaluation["swd_num_images"],
                                                         msssim_num_pairs=evaluation["msssim_num_pairs"]))
        rows["real"] = read_row(real_row_path)
        for name in order:
            if (folder / name / "evaluation.json").exists():
                row = read_row(folder / name / "evaluation.json")
                trained = finished_kimg(folder / name)
                if trained is None or row.get("kimg") is None or math.isclose(trained, row["kimg"]):
                    rows[name] = row
                elif train:  # resumed further (`pggan resume --kimg`) since it was scored: score it again
                    pending.append((seed, name))
                else:
                    warnings.warn(f"{folder / name}: its evaluation.json scores it at {row['kimg']} kimg, but it has "
                                  f"trained to {trained} kimg since; the table keeps the {row['kimg']}-kimg scores "
                                  "(run without --tables-only to score it again)", stacklevel=2)
                    rows[name] = row
            elif train:
                pending.append((seed, name))
        if any(pending_seed == seed for pending_seed, _ in pending) and not (folder / "real_stats.npz").exists():
            # One pass over the reals for this seed's SWD positions, each metric taking its own number of them.
            counts = {"swd": evaluation["swd_num_images"], **({"fid": evaluation["fid_num_images"],
                                                               "kid": evaluation["fid_num_images"]} if inception
                                                              else {})}
            save_stats(folder / "real_stats.npz", *reference_statistics(
                reals, list(counts), num_images=counts, seed=seed, device=device, **(inception or {})))
    header = {"data": Path(data).name, "resolution": base.resolution, "budget": budget,
              "kimg_per_config": base.total_kimg,
              **({"kimg_h": row_config("h", seeds[0]).effective_total_kimg} if "h" in spec.rows else {}),
              "seeds": seeds, "inception_weights": str(weights) if weights else None,
              "vgg16_weights": str(lpips_files["vgg16_weights"]) if lpips_files else None, **evaluation}

    job = dict(out=out, data=str(data), budget=budget, metrics_ticks=metrics_ticks, device=device, grid=grid,
               overrides=overrides, inception=inception, lpips=lpips, ppl_missing=ppl_missing, evaluation=evaluation)
    if jobs == 1:
        for seed, name in pending:
            if progress:
                print(f"== {spec.labels[name]}, seed {seed} → {seed_dir(out, seed) / name}", flush=True)
            rows_by_seed[seed][name] = train_and_evaluate(name, seed=seed, progress=progress,
                                                          real_stats=seed_dir(out, seed) / "real_stats.npz", **job)
            write_tables(out, rows_by_seed, header, spec)
    else:  # several runs at once: one process each, the CPU threads shared out between them
        threads = max(1, (os.cpu_count() or 1) // jobs)
        # One progress line for the whole grid: every PROGRESS_SECONDS, the kimg the runs have logged.
        run_kimg = {run: row_config(run[1], run[0]).effective_total_kimg for run in pending}
        def logged_kimg(run: tuple[int, str]) -> float:
            return min(kimg_trained(seed_dir(out, run[0]) / run[1]), run_kimg[run])

        logged = {run: logged_kimg(run) for run in pending}
        bar = Progress(sum(run_kimg.values()), f"ablation ({len(pending)} runs, {jobs} at once)", unit="kimg",
                       enabled=None if progress else False, initial=sum(logged.values()))
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=end_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            futures = {pool.submit(train_and_evaluate, name, seed=seed, progress=False, threads=threads,
                                   real_stats=seed_dir(out, seed) / "real_stats.npz", **job): (seed, name)
                       for seed, name in pending}
            running, done = set(futures), 0
            while running:
                finished, running = wait(running, timeout=PROGRESS_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    seed, name = futures[future]
                    rows_by_seed[seed][name] = future.result()
                    logged[seed, name], done = run_kimg[seed, name], done + 1
                    if progress:
                        end_open_line()
                        print(f"== finished {spec.labels[name]}, seed {seed} ({done}/{len(pending)})", flush=True)
                    write_tables(out, rows_by_seed, header, spec)
                for future in running:
                    logged[futures[future]] = logged_kimg(futures[future])
                bar.update(sum(logged.values()) - bar.count, postfix=f"{done}/{len(pending)} runs done")
                bar.milestone()
        bar.close()
    write_tables(out, rows_by_seed, header, spec)
    # The figures show the first seed's runs. A folder whose runs keep only their evaluation.json (committed results)
    # keeps its samples figure: redrawn from the rows that still have a checkpoint, it would lose the others.
    runs = {name: seed_dir(out, seeds[0]) / name for name in order}
    sampled = {name: run for name, run in runs.items() if list_checkpoints(run)}
    pruned = [name for name, run in runs.items() if name not in sampled and (run / "evaluation.json").exists()]
    if sampled and pruned and (out / "figure_samples.png").exists():
        warnings.warn(f"{out / 'figure_samples.png'}: kept as it is; redrawn it would lose row(s) "
                      f"{', '.join(pruned)} of seed {seeds[0]}, which have no checkpoint to sample", stacklevel=2)
    elif sampled:
        draw_samples_figure(out, sampled, reals, device)
    draw_swd_figure(out, {name: run for name, run in runs.items() if (run / "config.json").exists()}, spec)
    draw_droplets_figure(out, rows_by_seed, spec)
    return {**header, "rows": table_rows(rows_by_seed, spec), "trends": trend_checks(rows_by_seed, spec)}
