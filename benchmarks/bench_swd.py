"""SWD speed: ganeval against a plain numpy implementation of the reference algorithm, in the same run.

The reference algorithm is the one of progressive_growing_of_gans/metrics/sliced_wasserstein.py, written
here from its description: float32 images, scipy.ndimage.convolve with the 5×5 binomial kernel and mirror
borders, fancy-index neighbourhoods, per-channel normalisation, float32 matmul, np.sort along axis 0.
Both see the same images; agreement is reported as the largest relative difference per level (the two use
different random draws, so agreement is statistical: the protocol's own repeat-to-repeat spread).

`--sorts` times the two CPU sorts SWD can use on this machine, on the same descriptors: ganeval's C radix sort
against numpy's sort, in the whole sliced Wasserstein step and on single rows (one thread), with the choice
`ganeval.kernels.sorting.fastest_cpu_sort` makes; both must give the same values.

    python benchmarks/bench_swd.py --num-images 2048 16384 --resolution 128
    python benchmarks/bench_swd.py --num-images 2048 --sorts --skip-reference
"""

from __future__ import annotations

import argparse
import platform
import resource
import time

import numpy as np
import scipy.ndimage
import torch

import ganeval
from ganeval.accumulators.swd import SWDDescriptors
from ganeval.defaults import STREAM_FAKE, STREAM_REAL
from ganeval.demo import photo_crops
from ganeval.kernels import sorting
from ganeval.kernels.wasserstein import swd_from_descriptors

BINOMIAL_5X5 = (np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0).astype(np.float32)[None, None]


def reference_swd_x1e3(real: np.ndarray, fake: np.ndarray, batch_size: int = 64, seed: int = 0) -> list[float]:
    """The reference algorithm on uint8 NCHW sets, minibatch by minibatch as the original feeds them."""
    rng = np.random.RandomState(seed)
    num_levels = int(np.log2(real.shape[2] // 16)) + 1

    def pyramid(minibatch):
        levels = [minibatch.astype(np.float32)]
        for _ in range(1, num_levels):
            levels.append(scipy.ndimage.convolve(levels[-1], BINOMIAL_5X5, mode="mirror")[:, :, ::2, ::2])
            up = np.zeros(levels[-2].shape, np.float32)
            up[:, :, ::2, ::2] = levels[-1]
            levels[-2] -= scipy.ndimage.convolve(up, BINOMIAL_5X5 * 4.0, mode="mirror")
        return levels

    def descriptors(level):
        count, _, height, width = level.shape
        nhood, chan, y, x = np.ogrid[0:count * 128, 0:3, -3:4, -3:4]
        x = x + rng.randint(3, width - 3, size=(count * 128, 1, 1, 1))
        y = y + rng.randint(3, height - 3, size=(count * 128, 1, 1, 1))
        return level.flat[(((nhood // 128) * 3 + chan) * height + y) * width + x]

    def finalize(chunks):
        desc = np.concatenate(chunks)
        desc -= np.mean(desc, axis=(0, 2, 3), keepdims=True)
        desc /= np.std(desc, axis=(0, 2, 3), keepdims=True)
        return desc.reshape(desc.shape[0], -1)

    sets = []
    for images in (real, fake):
        chunks = [[] for _ in range(num_levels)]
        for start in range(0, len(images), batch_size):
            for level, pixels in enumerate(pyramid(images[start:start + batch_size])):
                chunks[level].append(descriptors(pixels))
        sets.append([finalize(level) for level in chunks])
    results = []
    for desc_a, desc_b in zip(*sets):
        repeats = []
        for _ in range(4):
            directions = rng.randn(desc_a.shape[1], 128)
            directions = (directions / np.sqrt(np.sum(directions ** 2, axis=0, keepdims=True))).astype(np.float32)
            sorted_a = np.sort(desc_a @ directions, axis=0)
            sorted_b = np.sort(desc_b @ directions, axis=0)
            repeats.append(np.mean(np.abs(sorted_a - sorted_b)))
        results.append(1e3 * float(np.mean(repeats)))
    return results


def cpu_description() -> str:
    """The CPU's model and the vector extensions that decide which sort is faster (Linux: /proc/cpuinfo)."""
    try:
        info = dict(line.split(":", 1) for line in open("/proc/cpuinfo").read().split("\n\n")[0].splitlines()
                    if ":" in line)
    except OSError:
        return platform.processor() or platform.machine()
    info = {key.strip(): value.strip() for key, value in info.items()}
    flags = sorted(set(info.get("flags", "").split()) & {"avx2", "avx512f", "avx512bw", "avx512vl", "avx512_bf16",
                                                         "amx_tile"})
    return (f"{info.get('model name', '?')} (family {info.get('cpu family', '?')}, model {info.get('model', '?')}), "
            f"{', '.join(flags) or 'no AVX2'}")


def time_sorts(real: np.ndarray, fake: np.ndarray, repeats: int = 3) -> None:
    """The sliced Wasserstein step with each CPU sort (same descriptors, same directions), then single rows."""
    levels = []
    for images, stream in ((real, STREAM_REAL), (fake, STREAM_FAKE)):
        accumulator = SWDDescriptors(stream=stream)
        for start in range(0, len(images), 256):
            accumulator.update(torch.from_numpy(images[start:start + 256]))
        levels.append(accumulator.compute())
    seconds, values = {}, {}
    for method in ("radix", "numpy") * repeats:  # alternating rounds: a busy moment hits both
        start = time.perf_counter()
        values[method] = swd_from_descriptors(*levels, sort_method=method)
        seconds.setdefault(method, []).append(time.perf_counter() - start)
    assert values["radix"] == values["numpy"], "the two sorts gave different SWD values"
    best = {method: min(times) for method, times in seconds.items()}
    print(f"sliced Wasserstein of {len(real)} vs {len(real)} (descriptors ready), best of {repeats}: "
          f"radix {best['radix']:.2f} s, numpy {best['numpy']:.2f} s — numpy/radix {best['numpy'] / best['radix']:.2f}×"
          f"; values identical")
    rng = np.random.default_rng(0)
    for length in (1 << 12, 1 << 16, 1 << 18, 1 << 21):
        rows = rng.standard_normal((4, length)).astype(np.float32)
        rates = {}
        for method in ("radix", "numpy"):
            copies = rows.copy()
            scratch = np.empty(length, np.float32)
            start = time.perf_counter()
            for row in copies:
                sorting.radix_sort(row, scratch) if method == "radix" else row.sort()
            rates[method] = 4 * length / (time.perf_counter() - start) / 1e6
        print(f"rows of {length:>9,} keys, one thread: radix {rates['radix']:6.0f} M keys/s, numpy "
              f"{rates['numpy']:6.0f} M keys/s")
    sorting.fastest_cpu_sort.cache_clear()
    print(f"fastest_cpu_sort() chooses: {sorting.fastest_cpu_sort()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num-images", type=int, nargs="+", default=[2048])
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-reference", action="store_true", help="time ganeval only (e.g. on a GPU)")
    parser.add_argument("--sorts", action="store_true", help="also time the radix and numpy CPU sorts")
    args = parser.parse_args()
    print(f"machine: {cpu_description()}, numpy {np.__version__}, torch threads {torch.get_num_threads()}, "
          f"device {args.device}")
    for count in args.num_images:
        real = photo_crops(count, args.resolution, seed=1).transpose(0, 3, 1, 2).copy()
        fake = photo_crops(count, args.resolution, seed=2).transpose(0, 3, 1, 2).copy()
        source_real, source_fake = (torch.from_numpy(real), torch.from_numpy(fake))
        if args.device != "cpu":
            source_real, source_fake = source_real.to(args.device), source_fake.to(args.device)
            ganeval.swd(source_real[:64], source_fake[:64])  # warm-up: CUDA context and kernels
            torch.cuda.synchronize()
        start = time.perf_counter()
        ours = ganeval.swd(source_real, source_fake, device=args.device, batch_size=256)
        ours_seconds = time.perf_counter() - start
        line = (f"{count} vs {count} images at {args.resolution}²: ganeval {ours_seconds:.1f} s "
                f"{[round(v, 3) for v in ours['swd_x1e3']]}")
        if not args.skip_reference:
            start = time.perf_counter()
            reference = reference_swd_x1e3(real, fake)
            reference_seconds = time.perf_counter() - start
            difference = max(abs(a - b) / b for a, b in zip(ours["swd_x1e3"], reference))
            line += (f" | reference {reference_seconds:.1f} s {[round(v, 3) for v in reference]} | "
                     f"speed-up {reference_seconds / ours_seconds:.1f}× | largest relative difference "
                     f"(different random draws) {difference:.3%}")
        print(line, flush=True)
        if args.sorts and sorting.radix_sort_built():
            time_sorts(real, fake)
    print(f"peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
