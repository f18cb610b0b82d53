"""Does a faster training mode change what the run learns? Short runs of preset g per mode and seed, SWD at the end.

Each mode (`--amp bf16|fp16`, `--compile`) trains the quick budget's networks on the same data with the same seeds
as fp32, through every resolution (4+4 kimg phases by default, so 32×32 is reached at 24 kimg), and the final EMA
and raw generators are scored by SWD on 2,048 images. Two fp32 runs with different seeds give the scale of
seed-to-seed noise: a mode whose difference from fp32 (same seed) is of that size has no effect visible at this
length. Modes leave the arithmetic's rounding, not the algorithm, different, so the runs part ways after a few
hundred steps and the comparison is statistical, not bit for bit.

    python benchmarks/precision_quality.py --data data/fmnist32.npz --out runs/precision --modes fp32 compile \
        --seeds 1000 1001      # output recorded in benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

import torch

from pggan.config import make_config
from pggan.train import train

MODES = {"fp32": {}, "bf16": {"amp": "bf16"}, "fp16": {"amp": "fp16"}, "compile": {"compile": True}}


def run(data: str, out: Path, mode: str, seed: int, kimg: float, phase_kimg: float) -> dict:
    """Train one (mode, seed) run, or reuse its metrics.json; return its final metrics."""
    run_dir = out / f"{mode}-{seed}"
    if (run_dir / "metrics.json").exists():
        return json.loads((run_dir / "metrics.json").read_text())
    config = make_config("g", "quick", data=data, seed=seed, total_kimg=kimg, lod_training_kimg=phase_kimg,
                         lod_transition_kimg=phase_kimg, metrics_ticks=0, metrics_num_images=2048,
                         ema_sweep_kimg=[0.0], **MODES[mode])  # the sweep scores raw G beside the EMA
    return train(config, run_dir, progress=False)  # also written to run_dir/metrics.json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--modes", nargs="+", default=["fp32", "compile"], choices=list(MODES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[1000, 1001])
    parser.add_argument("--kimg", type=float, default=32.0)
    parser.add_argument("--phase-kimg", type=float, default=4.0, help="kimg per stable phase and per fade-in")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if "fp32" not in args.modes:
        args.modes.insert(0, "fp32")
    results = {(mode, seed): run(args.data, args.out, mode, seed, args.kimg, args.phase_kimg)
               for mode in args.modes for seed in args.seeds}
    print(f"- command: `python benchmarks/precision_quality.py --data {args.data} --out {args.out} --modes "
          f"{' '.join(args.modes)} --seeds {' '.join(map(str, args.seeds))} --kimg {args.kimg} --phase-kimg "
          f"{args.phase_kimg} --threads {args.threads}`\n")
    print("| mode | seed | SWD avg ×10³ (EMA) | raw G | minus fp32, same seed (EMA) | train s |")
    print("|---|---|---|---|---|---|")
    for (mode, seed), metrics in results.items():
        ema, raw = metrics["swd_x1e3_avg"], metrics["ema_sweep_swd_x1e3_avg"]["raw"]
        difference = ema - results[("fp32", seed)]["swd_x1e3_avg"]
        print(f"| {mode} | {seed} | {ema:.2f} | {raw:.2f} | {difference:+.2f} | {metrics['train_seconds']:.0f} |")
    fp32 = [results[("fp32", seed)]["swd_x1e3_avg"] for seed in args.seeds]
    if len(fp32) > 1:
        print(f"\nfp32 seed-to-seed: sd {statistics.stdev(fp32):.2f}, range {max(fp32) - min(fp32):.2f} "
              f"(SWD avg ×10³ of the EMA generator)")
        for mode in args.modes[1:]:  # the paired difference from fp32 and its standard error, EMA and raw G
            for name, score in (("EMA", lambda m: m["swd_x1e3_avg"]),
                                ("raw G", lambda m: m["ema_sweep_swd_x1e3_avg"]["raw"])):
                differences = [score(results[(mode, seed)]) - score(results[("fp32", seed)]) for seed in args.seeds]
                error = statistics.stdev(differences) / len(differences) ** 0.5
                print(f"{mode} − fp32, {name}: mean {statistics.mean(differences):+.2f} ± {error:.2f} (standard "
                      f"error, {len(differences)} seeds)")


if __name__ == "__main__":
    main()
