"""Streamed training data: minibatches/s gathered from a ≥ 20 GB memory-mapped .npy at 128² against the trainer's
step rate, and the cost of computing the lower-resolution reals on the fly.

Writes FOLDER/bench_data_128.npy (random uint8 images, N×3×128×128; reused when it is there) and measures, with
pggan's own loader (`pggan.loader.TrainingImages.gather`, uniformly random indices as training draws them):

* cold: the file's pages dropped from the page cache first (posix_fadvise DONTNEED on this file only), indices
  over the whole file, so nearly every image is read from disk;
* warm: indices within the first `--warm-gb` GB, read once beforehand, so every image comes from the page cache;
* through `Minibatches` (the training loop's look-ahead thread), warm, with a stand-in step of `--step-ms`;
* the trainer's step (D step with WGAN-GP + drift, G step, EMA) at 128², α = 1, with the paper budget's networks
  (preset g, fmap_base 2048), minibatch 16, on this CPU;
* `reals_at` (the lower-resolution reals of each level, from the full-resolution minibatch) at 128² (minibatch 16)
  and 1024² (minibatch 4), to every level below.

    python benchmarks/bench_data.py bench-data --threads 1      # output recorded in benchmarks/RESULTS.md
    rm -r bench-data
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from pggan.config import make_config
from pggan.data import reals_at
from pggan.loader import Minibatches, TrainingImages
from pggan.losses import discriminator_loss, generator_loss
from pggan.networks import build_networks
from pggan.train import _update_ema, ema_beta

IMAGE_BYTES = 3 * 128 * 128


def write_dataset(path: Path, gigabytes: float) -> int:
    """Random 128² RGB images filling `gigabytes` (decimal) in an .npy, written in 256 MB chunks; the count."""
    count = int(np.ceil(gigabytes * 1e9 / IMAGE_BYTES))
    if path.exists():
        existing = np.load(path, mmap_mode="r")
        if existing.shape == (count, 3, 128, 128):
            return count
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(count, 3, 128, 128))
    rng = np.random.default_rng(0)
    chunk = 256_000_000 // IMAGE_BYTES
    start_time = time.perf_counter()
    for start in range(0, count, chunk):
        block = images[start:start + chunk]
        block[...] = np.frombuffer(rng.bytes(block.size), np.uint8).reshape(block.shape)
    images.flush()
    del images
    print(f"wrote {path}: {count:,} images, {path.stat().st_size / 1e9:.1f} GB in "
          f"{time.perf_counter() - start_time:.0f} s")
    return count


def drop_from_page_cache(path: Path) -> None:
    """Evict this file's pages from the page cache (other files are left alone)."""
    with open(path, "rb") as file:
        os.fsync(file.fileno())
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


def gather_rate(images: TrainingImages, minibatch: int, high: int, seconds: float) -> float:
    """Minibatches/s of `images.gather` at uniformly random indices below `high`."""
    generator = torch.Generator().manual_seed(minibatch)
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        images.gather(torch.randint(high, (minibatch,), generator=generator))
        done += 1
    return done / (time.perf_counter() - start)


def look_ahead_rate(images: TrainingImages, minibatch: int, step_seconds: float, steps: int) -> float:
    """Steps/s of a loop that takes each minibatch from `Minibatches` and then busy-waits `step_seconds` (a stand-in
    for a GPU step that leaves the CPU free): what the look-ahead thread sustains beside a step of that length."""
    with Minibatches(torch.Generator().manual_seed(0), images, 512) as minibatches:
        minibatches.next(minibatch)
        start = time.perf_counter()
        for _ in range(steps):
            minibatches.next(minibatch)
            time.sleep(step_seconds)
        return steps / (time.perf_counter() - start)


def training_step_rate(threads: int, steps: int) -> float:
    """Steps/s (one D step + one G step + EMA, minibatch 16) at 128², α = 1, paper-budget networks of preset g."""
    config = make_config("g", "paper")
    torch.manual_seed(0)
    generator, discriminator = build_networks(config, 3)
    ema = build_networks(config, 3)[0].requires_grad_(False)
    adam = dict(betas=(config.adam_beta1, config.adam_beta2), eps=config.adam_epsilon)
    g_opt = torch.optim.Adam(generator.parameters(), lr=config.g_lr, **adam)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, **adam)
    critic = functools.partial(discriminator, alpha=1.0)
    minibatch = 16
    batch = torch.randint(0, 256, (minibatch, 3, 128, 128), dtype=torch.uint8)

    def step() -> None:
        discriminator.requires_grad_(True)
        with torch.no_grad():
            fakes = generator(torch.randn(minibatch, config.latent_size), 128, 1.0)
        loss, _ = discriminator_loss(critic, reals_at(batch, 128, 1.0, torch.float32), fakes, kind=config.loss,
                                     mix=torch.rand(minibatch), wgan_epsilon=config.wgan_epsilon)
        d_opt.zero_grad(set_to_none=True)
        loss.backward()
        d_opt.step()
        discriminator.requires_grad_(False)
        loss = generator_loss(critic, generator(torch.randn(minibatch, config.latent_size), 128, 1.0),
                              kind=config.loss)
        g_opt.zero_grad(set_to_none=True)
        loss.backward()
        g_opt.step()
        _update_ema(ema, generator, ema_beta(config, minibatch, 10**9))

    torch.set_num_threads(threads)
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


def reals_at_ms(side: int, minibatch: int, repeats: int) -> dict[int, float]:
    """Milliseconds of `reals_at` (uint8 → float reals, area-downsampled, faded at α = 0.5) per level below `side`."""
    batch = torch.randint(0, 256, (minibatch, 3, side, side), dtype=torch.uint8)
    times = {}
    resolution = side
    while resolution >= 4:
        reals_at(batch, resolution, 0.5, torch.float32)
        start = time.perf_counter()
        for _ in range(repeats):
            reals_at(batch, resolution, 0.5, torch.float32)
        times[resolution] = 1000 * (time.perf_counter() - start) / repeats
        resolution //= 2
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the benchmark's .npy is written (or reused)")
    parser.add_argument("--gigabytes", type=float, default=20.0)
    parser.add_argument("--warm-gb", type=float, default=4.0)
    parser.add_argument("--seconds", type=float, default=10.0, help="timing window per gather measurement")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the training step")
    parser.add_argument("--train-steps", type=int, default=3)
    parser.add_argument("--step-ms", type=float, default=20.0, help="stand-in GPU step for the look-ahead loop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{args.threads} thread(s)")
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / "bench_data_128.npy"
    count = write_dataset(path, args.gigabytes)
    images = TrainingImages(str(path), 128, torch.device("cpu"), "on")
    warm_count = min(count, int(args.warm_gb * 1e9 / IMAGE_BYTES))
    print(f"{path}: {count:,} images, {path.stat().st_size / 1e9:.1f} GB; warm range: first {warm_count:,} images")

    for minibatch in (16, 64):
        drop_from_page_cache(path)
        cold = gather_rate(images, minibatch, count, args.seconds)
        print(f"gather, cold page cache, minibatch {minibatch}: {cold:8.1f} minibatches/s "
              f"({cold * minibatch * IMAGE_BYTES / 1e6:.0f} MB/s)")
    np.asarray(images.array[:warm_count]).sum(dtype=np.uint64)  # read the warm range into the page cache
    for minibatch in (16, 64):
        warm = gather_rate(images, minibatch, warm_count, args.seconds)
        print(f"gather, warm page cache, minibatch {minibatch}: {warm:8.1f} minibatches/s "
              f"({warm * minibatch * IMAGE_BYTES / 1e6:.0f} MB/s)")
    warm_images = TrainingImages(str(path), 128, torch.device("cpu"), "on")
    warm_images.num_images = warm_count  # draw within the cached range
    steps = int(3 / (args.step_ms / 1000))
    rate = look_ahead_rate(warm_images, 16, args.step_ms / 1000, steps)
    print(f"look-ahead loop, warm, minibatch 16, {args.step_ms:g} ms stand-in step: {rate:.1f} steps/s "
          f"(the step alone: {1000 / args.step_ms:.1f})")

    step_rate = training_step_rate(args.threads, args.train_steps)
    print(f"training step at 128², paper-budget preset g, minibatch 16, {args.threads} thread(s): "
          f"{step_rate:.3f} steps/s ({1 / step_rate:.2f} s a step)")
    for side, minibatch, repeats in ((128, 16, 50), (1024, 4, 5)):
        times = reals_at_ms(side, minibatch, repeats)
        print(f"reals_at from {side}², minibatch {minibatch}: "
              + ", ".join(f"{res}²: {ms:.2f} ms" for res, ms in times.items()))


if __name__ == "__main__":
    main()
