"""SWD and MS-SSIM on a shared machine: ganeval and the reference algorithms with 0, 1 and 2 busy processes beside.

Research machines are shared. Each busy process is a Python loop that keeps one core busy (`while True: pass`),
started before a measurement and stopped after it. Under each load the script times, in this process:
  * `ganeval.swd` on 384 vs 384 images at 128² (random crops of scikit-image's photographs);
  * the reference SWD algorithm on the same images (benchmarks/bench_swd.py: numpy/scipy, one core);
  * `ganeval.msssim_pairs` on 2,000 pairs at 128² (the CPU kernel with its own threads);
  * the reference MS-SSIM (tests/oracle_msssim.py: scipy FFT, one pair at a time) on 200 of the pairs, scaled up.
It prints seconds and the speed-up over the reference per load. Every figure is the faster of two runs.

    python benchmarks/bench_shared_cpu.py --busy 0 1 2
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import ganeval  # noqa: E402
from benchmarks.bench_swd import reference_swd_x1e3  # noqa: E402
from ganeval.demo import photo_crops  # noqa: E402
from ganeval.kernels.msssim import msssim_pairs
from tests.oracle_msssim import msssim_pairs as oracle_pairs  # noqa: E402

ORACLE_PAIRS = 200


def faster_of_two(function) -> float:
    """Seconds of the faster of two calls."""
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def busy_processes(count: int) -> list[subprocess.Popen]:
    """`count` processes that each keep one core busy until killed."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, nargs="+", default=[0, 1, 2], help="Busy processes beside, per run.")
    parser.add_argument("--swd-images", type=int, default=384)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--skip-reference", action="store_true", help="time ganeval only")
    args = parser.parse_args()
    real = photo_crops(args.swd_images, 128, seed=1).transpose(0, 3, 1, 2).copy()
    fake = photo_crops(args.swd_images, 128, seed=2).transpose(0, 3, 1, 2).copy()
    pool = photo_crops(2 * args.pairs, 128, seed=3)
    tensor_a = torch.from_numpy(pool[: args.pairs]).permute(0, 3, 1, 2).contiguous()
    tensor_b = torch.from_numpy(pool[args.pairs:]).permute(0, 3, 1, 2).contiguous()
    print(f"{os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}")
    print("\n| busy processes | SWD ganeval s | SWD reference s | ratio | MS-SSIM ganeval s | MS-SSIM reference s "
          "| ratio |\n|---|---|---|---|---|---|---|")
    for count in args.busy:
        others = busy_processes(count)
        try:
            time.sleep(0.5)  # let them start
            swd_seconds = faster_of_two(lambda: ganeval.swd(real, fake, device="cpu", batch_size=64))
            reference_seconds = float("nan") if args.skip_reference else faster_of_two(
                lambda: reference_swd_x1e3(real, fake))
            msssim_seconds = faster_of_two(lambda: [msssim_pairs(tensor_a[i:i + 64], tensor_b[i:i + 64])
                                                    for i in range(0, args.pairs, 64)])
            oracle_seconds = float("nan") if args.skip_reference else faster_of_two(lambda: oracle_pairs(
                pool[:ORACLE_PAIRS], pool[args.pairs:][:ORACLE_PAIRS])) * args.pairs / ORACLE_PAIRS
        finally:
            for process in others:
                process.kill()
                process.wait()
        print(f"| {count} | {swd_seconds:.2f} | {reference_seconds:.2f} | {reference_seconds / swd_seconds:.1f}× | "
              f"{msssim_seconds:.2f} | {oracle_seconds:.1f} | {oracle_seconds / msssim_seconds:.1f}× |", flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
