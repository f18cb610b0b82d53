"""Which EMA half-life fits the quick budget? SWD of raw G and of averages of G with several half-lives, against kimg.

One training run per seed (preset g, the quick budget) keeps, beside its EMA, one average of G per half-life in
HALF_LIVES (`ema_sweep_kimg`) and scores raw G and each average by SWD on the same 1,024 latents at every tick. The
figure shows the mean over the seeds with their range; the CSV holds every seed, tick and half-life.

    python benchmarks/ema_halflife.py --data data/fmnist32.npz --out runs/ema-halflife --seeds 1000,1001,1002 \
        --jobs 2 --figure results/ema-halflife
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from pggan.checkpoint import list_checkpoints
from pggan.config import EMA_KIMG_PAPER, make_config
from pggan.train import resume, train

HALF_LIVES = [0.25, 0.5, 1.0, 2.0, 4.0, round(EMA_KIMG_PAPER, 3)]


def run_seed(data: str, out: Path, seed: int, threads: int) -> Path:
    """Train (or resume, or reuse) one seed's run with the sweep; return its run directory."""
    torch.set_num_threads(threads)
    run_dir = out / f"seed-{seed}"
    if (run_dir / "metrics.json").exists():
        return run_dir
    if list_checkpoints(run_dir):
        resume(run_dir, progress=False)
        return run_dir
    config = make_config("g", "quick", data=data, seed=seed, metrics_ticks=1, metrics_num_images=1024,
                         ema_sweep_kimg=HALF_LIVES)
    train(config, run_dir, progress=False)
    return run_dir


def curves(run_dirs: list[Path]) -> tuple[list[float], dict[str, np.ndarray]]:
    """kimg of the scored ticks and, per generator ("raw" or a half-life), a seeds × ticks array of SWD avg ×10³."""
    per_seed = []
    for run_dir in run_dirs:
        records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line]
        records.append(json.loads((run_dir / "metrics.json").read_text()))  # the end of the run is scored too
        per_seed.append([record for record in records if "ema_sweep_swd_x1e3_avg" in record])
    kimg = [record["kimg"] for record in per_seed[0]]
    names = list(per_seed[0][0]["ema_sweep_swd_x1e3_avg"])
    return kimg, {name: np.array([[record["ema_sweep_swd_x1e3_avg"][name] for record in records]
                                  for records in per_seed], dtype=float) for name in names}


def draw(kimg: list[float], values: dict[str, np.ndarray], seeds: list[int], path: Path) -> None:
    """SWD avg against kimg: raw G and each half-life, mean over seeds with the min–max band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    for name, array in values.items():
        label = "raw G" if name == "raw" else f"EMA half-life {name} kimg"
        line, = axis.plot(kimg, array.mean(axis=0), marker="o", markersize=3, label=label,
                          linewidth=2.5 if name == "raw" else 1.5, color="black" if name == "raw" else None)
        axis.fill_between(kimg, array.min(axis=0), array.max(axis=0), alpha=0.15, color=line.get_color())
    axis.set_xlabel("kimg (real images shown to D)")
    axis.set_ylabel("SWD avg ×10³ (1,024 images, lower is better)")
    axis.set_yscale("log")
    axis.set_title(f"Preset g, quick budget: raw G against EMAs of G (mean and range of seeds "
                   f"{', '.join(map(str, seeds))})", fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seeds", default="1000,1001,1002")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--figure", type=Path, required=True, help="folder for figure_ema.png and ema_sweep.csv")
    arguments = parser.parse_args()
    seeds = [int(seed) for seed in arguments.seeds.split(",")]
    threads = max(1, torch.get_num_threads() // arguments.jobs)
    with ProcessPoolExecutor(arguments.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        run_dirs = list(pool.map(run_seed, [arguments.data] * len(seeds), [arguments.out] * len(seeds), seeds,
                                 [threads] * len(seeds)))
    kimg, values = curves(run_dirs)
    draw(kimg, values, seeds, arguments.figure / "figure_ema.png")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["seed", "kimg", *values])
    for index, seed in enumerate(seeds):
        for tick, point in enumerate(kimg):
            writer.writerow([seed, point, *(round(float(values[name][index, tick]), 4) for name in values)])
    (arguments.figure / "ema_sweep.csv").write_text(buffer.getvalue())
    print(f"{'generator':>22} " + " ".join(f"{point:>7.0f}" for point in kimg[-4:]) + "   (SWD avg ×10³, mean)")
    for name, array in values.items():
        print(f"{name:>22} " + " ".join(f"{value:7.2f}" for value in array.mean(axis=0)[-4:]))


if __name__ == "__main__":
    main()
