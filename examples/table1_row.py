"""Reproduce one row of PGGAN's Table 1 on data made here: train a configuration with the quick budget, then score
its EMA generator with ganeval as the ablation does (SWD ×10³ per level, MS-SSIM) and print them beside the real
set's own SWD (its floor).

The data are 32×32 crops of the photographs scikit-image bundles (no download); with Fashion-MNIST's
`train-images-idx3-ubyte.gz` at hand, pass it with --data instead (`pggan prepare` turns it into 32×32 images).
The committed three-seed table (results/fashion-mnist-32/table1.md) used exactly this budget on Fashion-MNIST.

    python examples/table1_row.py --config g                 # the quick budget: 64 kimg, 5–18 minutes on 2 CPU cores
    python examples/table1_row.py --config g --kimg 4        # a shorter run, to try it
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ganeval
from ganeval.demo import photo_crops
from pggan.config import PRESETS, make_config
from pggan.data import prepare
from pggan.generate import generate
from pggan.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=list(PRESETS), default="g", help="the Table 1 row")
    parser.add_argument("--data", default=None, help="an image folder, .npy/.npz or idx file (default: photo crops)")
    parser.add_argument("--kimg", type=float, default=None, help="training length (default: the quick budget's)")
    parser.add_argument("--out", default="example-table1", help="folder for the data and the run")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    data = out / "data32.npz"
    if not data.exists():
        if args.data is None:
            np.save(out / "photos.npy", photo_crops(4096, 32, seed=0))
        prepare(args.data or out / "photos.npy", data, resolution=32)
    overrides = {} if args.kimg is None else {"total_kimg": args.kimg, "lod_training_kimg": args.kimg / 8,
                                              "lod_transition_kimg": args.kimg / 8}
    config = make_config(args.config, budget="quick", data=str(data), **overrides)
    run = out / f"run-{args.config}"
    train(config, run, resume=(run / "config.json").exists())
    reals = np.load(data)["images"][:1024]
    fakes = generate(run, 1024, seed=123)
    scores = ganeval.evaluate(reals, fakes, metrics=("swd", "msssim"), num_pairs=256)
    floor = ganeval.swd(reals[:512], np.load(data)["images"][512:1024])
    print(f"({args.config}): SWD ×10³ {[round(v, 2) for v in scores['swd']['swd_x1e3']]} "
          f"avg {scores['swd']['swd_x1e3_avg']:.2f}; MS-SSIM {scores['msssim']['msssim']:.4f}")
    print(f"real against real (the floor): SWD ×10³ avg {floor['swd_x1e3_avg']:.2f}")


if __name__ == "__main__":
    main()
