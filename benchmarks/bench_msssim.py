"""MS-SSIM speed: ganeval's kernels (C, the CPU default; torch) against the plain numpy/scipy reference algorithm.

The reference algorithm is the tests' oracle (tests/oracle_msssim.py: float64 2-D FFT convolution, one pair at a
time, as progressive_growing_of_gans/metrics/ms_ssim.py computes it).

Usage:  python benchmarks/bench_msssim.py [--pairs 1000 10000] [--oracle-max-pairs 2000] [--threads N]
Images: 128×128 crops of scikit-image's photographs plus noise. Where the oracle would need more than
`--oracle-max-pairs` pairs, it is timed on the first that many and its time extrapolated linearly (per-pair
cost is constant: it handles one pair at a time); agreement is measured on the pairs both computed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from ganeval.kernels.msssim import msssim_pairs
from tests.oracle_msssim import msssim_pairs as oracle_pairs  # noqa: E402
from tests.test_msssim import natural_images  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--oracle-max-pairs", type=int, default=2000)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own)")
    arguments = parser.parse_args()
    if arguments.threads:
        torch.set_num_threads(arguments.threads)
    pool = natural_images(512, arguments.size, arguments.size, seed=0)  # pairs index into a pool of crops
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {arguments.size}×{arguments.size}")
    for num_pairs in arguments.pairs:
        rng = np.random.default_rng(num_pairs)
        first, second = rng.integers(0, len(pool), num_pairs), rng.integers(0, len(pool), num_pairs)
        images_a, images_b = pool[first], pool[second]
        tensor_a = torch.from_numpy(images_a).permute(0, 3, 1, 2).contiguous()
        tensor_b = torch.from_numpy(images_b).permute(0, 3, 1, 2).contiguous()
        seconds = {}
        for kernel in ("torch", "c"):
            start = time.perf_counter()
            ours = torch.cat([msssim_pairs(tensor_a[i:i + 64], tensor_b[i:i + 64], kernel=kernel)
                              for i in range(0, num_pairs, 64)]).numpy()  # batches of 64, as msssim() feeds them
            seconds[kernel] = time.perf_counter() - start
        ours_seconds = seconds["c"]
        timed = min(num_pairs, arguments.oracle_max_pairs)
        start = time.perf_counter()
        reference = oracle_pairs(images_a[:timed], images_b[:timed])
        oracle_seconds = (time.perf_counter() - start) * num_pairs / timed
        relative = np.abs(ours[:timed] - reference) / np.maximum(np.abs(reference), 1e-12)
        mean_gap = abs(ours[:timed].mean() - reference.mean()) / reference.mean()
        extrapolated = f" (timed on {timed} pairs, extrapolated)" if timed < num_pairs else ""
        print(f"{num_pairs} pairs: ours {ours_seconds:.2f} s (torch kernel {seconds['torch']:.2f} s), oracle "
              f"{oracle_seconds:.1f} s{extrapolated}, ratio {oracle_seconds / ours_seconds:.1f}×; MS-SSIM ours "
              f"{ours[:timed].mean():.6f}, oracle {reference.mean():.6f} on the {timed} pairs both computed; max "
              f"per-pair rel. diff {relative.max():.1e}, rel. diff of means {mean_gap:.1e}", flush=True)


if __name__ == "__main__":
    main()
