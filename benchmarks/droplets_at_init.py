"""StyleGAN2 §2.1's droplet statistic (`pggan.droplets`) of randomly initialised, untrained generators: the level
the peak ratio starts from before any training, for reading a trained run's `pggan droplets` against it.

Builds each preset's generator at a budget's sizes (`pggan.networks.build_networks` after torch.manual_seed of the
config's seed), draws --num-images latents and noise from --seed, and prints, per resolution, the
peak ratio's median, 99th percentile and the fraction of maps above max(n/16, 8), with the time taken.

    python benchmarks/droplets_at_init.py --presets stylegan2_a,stylegan2_b --budget quick --num-images 256
"""

from __future__ import annotations

import argparse
import time

import torch

from pggan.config import make_config
from pggan.droplets import generator_peak_ratios
from pggan.networks import build_networks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="stylegan2_a,stylegan2_b")
    parser.add_argument("--budget", default="quick")
    parser.add_argument("--num-images", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for preset in args.presets.split(","):
        config = make_config(preset, args.budget)
        torch.manual_seed(config.seed)
        generator, _ = build_networks(config, 1)
        latents = torch.randn(args.num_images, config.latent_size, generator=torch.Generator().manual_seed(args.seed))
        torch.manual_seed(args.seed)
        start = time.perf_counter()
        rows = generator_peak_ratios(generator.eval(), latents, config.resolution)
        print(f"{preset} ({config.style_block}), randomly initialised, {args.budget} budget, {args.num_images} images, "
              f"seed {args.seed}: {time.perf_counter() - start:.1f} s")
        for row in rows:
            print(f"  {row['resolution']:>2}×{row['resolution']:<2}  maps {row['maps']:>6}  median {row['median']:.3g}"
                  f"  p99 {row['p99']:.3g}  above {row['threshold']:g}: {row['fraction_above']:.2%}")


if __name__ == "__main__":
    main()
