"""How does Table 1's growing comparison move with the budget? (b) − (a) ± its standard error against kimg.

Each point is one Table 1 folder written by `pggan ablation` with rows (a) and (b) on the same seeds, at one
`--kimg`, or a copy of such a folder whose runs were trained on (`pggan resume RUN --kimg M`) and scored again by the
same ablation command (the quick budget's schedule otherwise: (b) grows 4×4 → 32×32 in the same first kimg at every
length and trains the rest at 32×32; nothing of training depends on the total, so an extended run is the longer
run). The figure draws the paired difference of SWD avg ×10³ (EMA generators) with its 95 %
t-interval (t(0.975, seeds − 1) standard errors, the table's trend check) and, beside it, each row's mean and range
over the seeds; the CSV holds the numbers and each row's training minutes (mean per seed, as the table reports them).

    pggan ablation --data data/fmnist32.npz --out runs/budget-128 --configs a,b --kimg 128 --jobs 2 \
        --seeds 1000,1001,1002
    cp -r runs/budget-128 runs/budget-256    # then, for each seed S and row R of it:
    pggan resume runs/budget-256/seed-S/R --kimg 256
    # runs/budget-256/grid.json: settings.total_kimg 128 → 256, what a --kimg 256 grid records (its runs are these)
    pggan ablation --data data/fmnist32.npz --out runs/budget-256 --configs a,b --kimg 256 --jobs 2 \
        --seeds 1000,1001,1002        # scores the extended runs again
    python benchmarks/budget_study.py results/fashion-mnist-32 runs/budget-128 runs/budget-256 \
        --out results/fashion-mnist-32-budget
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

TREND = "progressive growing beats the baseline"


def read_point(folder: Path) -> dict:
    """kimg, (b) − (a) with its standard error and t critical value, and each row's SWD per seed, from one folder."""
    table = json.loads((folder / "table1.json").read_text())
    trend = next(check for check in table["trends"] if check["claim"] == TREND)
    rows = {row["config"]: row for row in table["rows"]}
    with open(folder / "table1_per_seed.csv", newline="") as per_seed_file:
        per_seed = [line for line in csv.DictReader(per_seed_file) if line["config"] in ("a", "b")]
    swd = {name: {line["seed"]: float(line["swd_x1e3_avg"]) for line in per_seed if line["config"] == name}
           for name in "ab"}
    kimg = {rows[name]["kimg"] for name in "ab"}  # a run extended by `pggan resume --kimg` reports its new length
    if len(kimg) != 1:
        raise SystemExit(f"{folder}: rows (a) and (b) were trained for different kimg ({sorted(kimg)})")
    return {"kimg": kimg.pop(), "difference": trend["difference"],
            "standard_error": trend["standard_error"], "t_critical": trend["t_critical"],
            "seeds": trend["num_seeds"], "verdict": trend["verdict"], "swd": swd,
            "train_minutes": {name: rows[name]["train_minutes"] for name in "ab"}, "folder": str(folder)}


def draw(points: list[dict], path: Path) -> None:
    """Left: (b) − (a) with its 95 % t-interval against kimg; right: each row's mean and seed range."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kimg = [point["kimg"] for point in points]
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    half_widths = [point["t_critical"] * point["standard_error"] for point in points]
    left.errorbar(kimg, [point["difference"] for point in points], yerr=half_widths, marker="o", capsize=4,
                  color="black", label="(b) − (a), 95 % t-interval")
    for point in points:  # each seed's own difference
        seeds = sorted(set(point["swd"]["a"]) & set(point["swd"]["b"]))
        differences = [point["swd"]["b"][seed] - point["swd"]["a"][seed] for seed in seeds]
        left.scatter([point["kimg"]] * len(seeds), differences, color="grey", s=12, zorder=3,
                     label="one seed" if point is points[0] else None)
    left.axhline(0.0, color="grey", linewidth=1)
    left.set_xlabel("kimg per row")
    left.set_ylabel("SWD avg ×10³: (b) − (a) (below 0: growing wins)")
    left.set_title("Progressive growing against none, paired by seed", fontsize=10)
    left.legend(fontsize=8)
    for name, label in (("a", "(a) no growing"), ("b", "(b) progressive growing")):
        values = [np.array(list(point["swd"][name].values())) for point in points]
        line, = right.plot(kimg, [value.mean() for value in values], marker="o", label=label)
        right.fill_between(kimg, [value.min() for value in values], [value.max() for value in values], alpha=0.2,
                           color=line.get_color())
    right.set_xlabel("kimg per row")
    right.set_ylabel("SWD avg ×10³ (EMA G, lower is better)")
    right.set_title(f"Mean and range over {points[0]['seeds']} seeds", fontsize=10)
    right.legend(fontsize=8)
    for axis in (left, right):
        axis.set_xticks(kimg)
        axis.grid(alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+", help="Table 1 folders with rows (a) and (b), one per kimg")
    parser.add_argument("--out", type=Path, required=True, help="where budget_growing.csv and its figure go")
    args = parser.parse_args(argv)
    points = sorted((read_point(folder) for folder in args.folders), key=lambda point: point["kimg"])
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "budget_growing.csv", "w", newline="") as csv_file:
        writer = csv.writer(csv_file)
        writer.writerow(["kimg", "b_minus_a", "standard_error", "t_critical", "seeds", "verdict", "a_mean", "b_mean",
                         "a_train_minutes", "b_train_minutes", "folder"])
        for point in points:
            means = [round(float(np.mean(list(point["swd"][name].values()))), 4) for name in "ab"]
            writer.writerow([point["kimg"], point["difference"], point["standard_error"], point["t_critical"],
                             point["seeds"], point["verdict"], *means, point["train_minutes"]["a"],
                             point["train_minutes"]["b"], point["folder"]])
    draw(points, args.out / "figure_budget_growing.png")
    for point in points:
        print(f"{point['kimg']:g} kimg: (b) − (a) = {point['difference']:+.2f} ± {point['standard_error']:.2f} "
              f"(standard error, {point['seeds']} seeds; {point['verdict']}); train minutes a "
              f"{point['train_minutes']['a']}, b {point['train_minutes']['b']}")


if __name__ == "__main__":
    main()
