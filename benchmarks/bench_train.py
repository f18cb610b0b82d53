"""Training throughput (images shown to D per second) per resolution on this CPU, peak memory, FLOPs/image.

Each resolution is timed on the real training step (the D step(s) with WGAN-GP + drift, the G step, the EMA
update — the same functions pggan.train uses) at the quick budget's network size, for presets g (growing) and
a (no growing: batch norm, n_critic 5, minibatch 64). The ratio printed is against the reference code's
'linear' graph structure, which evaluates every layer up to the final resolution at every level of detail:
its cost at any lod is our full-resolution step, so ratio = img/s(res) / img/s(final res).

FLOPs: conv/dense multiply-accumulates counted analytically (2 FLOPs per MAC). A training image costs about
G_fwd + 6·D_fwd (D step: G forward, D forward+backward on reals and fakes) + 9·D_fwd (gradient penalty: forward,
gradient, and the backward through both ≈ 2×) + (3·G_fwd + 3·D_fwd)/n_critic (G step); backward = 2× forward.

    python benchmarks/bench_train.py --threads 1 --seconds 6     # output recorded in benchmarks/RESULTS.md
    GOMP_SPINCOUNT=1000 python benchmarks/bench_train.py --busy 0 1 2 --seconds 3   # on a shared machine
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import resource
import subprocess
import sys
import time

import torch

from pggan.config import make_config
from pggan.data import reals_at
from pggan.losses import discriminator_loss, generator_loss
from pggan.networks import build_networks
from pggan.train import _update_ema, ema_beta


def conv_macs(network: torch.nn.Module, resolution: int, latent_size: int, is_generator: bool) -> int:
    """Multiply-accumulates of one forward pass of one image at `resolution`, from layer shapes."""
    macs, side = 0, 4
    if is_generator:
        macs += network.dense.weight.numel()
        for index, block in enumerate(network.blocks[: resolution.bit_length() - 2]):
            side = 4 * 2**index
            macs += sum(m.weight.numel() * side * side for m in block if hasattr(m, "runtime_scale"))
        return macs + network.to_rgb[resolution.bit_length() - 3].weight.numel() * side * side
    level = resolution.bit_length() - 3
    macs += network.from_rgb[level][0].weight.numel() * resolution * resolution
    for index in range(level, 0, -1):
        side = 4 * 2**index
        macs += sum(m.weight.numel() * side * side for m in network.blocks[index] if hasattr(m, "runtime_scale"))
    final_convs = [m for m in network.final if hasattr(m, "runtime_scale")]
    return macs + final_convs[0].weight.numel() * 16 + final_convs[1].weight.numel() + network.score.weight.numel()


def measure(preset: str, resolution: int, seconds: float) -> tuple[float, float]:
    """(images shown to D per second, training GFLOP per image) for `preset` at `resolution`, α = 1."""
    config = make_config(preset, "quick")
    torch.manual_seed(0)
    generator, discriminator = build_networks(config, 1)
    ema = build_networks(config, 1)[0].requires_grad_(False)
    adam = dict(betas=(config.adam_beta1, config.adam_beta2), eps=config.adam_epsilon)
    g_opt = torch.optim.Adam(generator.parameters(), lr=config.g_lr, **adam)
    d_opt = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, **adam)
    images = torch.randint(0, 256, (4096, 1, 32, 32), dtype=torch.uint8)
    minibatch = config.minibatch_base
    critic = functools.partial(discriminator, alpha=1.0)

    def cycle() -> int:
        discriminator.requires_grad_(True)
        for _ in range(config.n_critic):
            reals = reals_at(images[torch.randint(len(images), (minibatch,))], resolution, 1.0, torch.float32)
            with torch.no_grad():
                fakes = generator(torch.randn(minibatch, config.latent_size), resolution, 1.0)
            loss, _ = discriminator_loss(critic, reals, fakes, kind=config.loss, mix=torch.rand(minibatch),
                                         wgan_epsilon=config.wgan_epsilon)
            d_opt.zero_grad(set_to_none=True)
            loss.backward()
            d_opt.step()
        discriminator.requires_grad_(False)
        loss = generator_loss(critic, generator(torch.randn(minibatch, config.latent_size), resolution, 1.0),
                              kind=config.loss)
        g_opt.zero_grad(set_to_none=True)
        loss.backward()
        g_opt.step()
        _update_ema(ema, generator, ema_beta(config, minibatch * config.n_critic, 10**9))
        return minibatch * config.n_critic

    cycle()  # warm-up
    shown, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        shown += cycle()
    rate = shown / (time.perf_counter() - start)
    g_fwd = conv_macs(generator, resolution, config.latent_size, True)
    d_fwd = conv_macs(discriminator, resolution, config.latent_size, False)
    macs = g_fwd + 15 * d_fwd + (3 * g_fwd + 3 * d_fwd) / config.n_critic
    return rate, 2 * macs / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="timing window per measurement")
    parser.add_argument("--peak-gflops-per-core", type=float, default=83.0,
                        help="fp32 peak of one core (default: Zen 4, 2.6 GHz × 32 FLOP/cycle)")
    parser.add_argument("--busy", type=int, nargs="+", default=None,
                        help="instead of the table: img/s of preset g at 16×16 with this many busy processes beside "
                             "(each a Python loop on one core), the faster of 3 windows per load")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.busy is not None:
        print(f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(unset: libgomp default 300000)')}, "
              f"{args.threads} threads")
        for count in args.busy:
            others = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
            try:
                time.sleep(0.5)
                rate = max(measure("g", 16, args.seconds)[0] for _ in range(3))
            finally:
                for process in others:
                    process.kill()
                    process.wait()
            print(f"busy processes {count}: {rate:.0f} img/s", flush=True)
        return
    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True,
                text=True).stdout.splitlines() if line.startswith("Model name")), platform.processor())
    load = open("/proc/loadavg").read().split()[0]
    print("# pggan training throughput (CPU)\n")
    print(f"- CPU: {cpu}, torch {torch.__version__}, {args.threads} threads, load average at start {load}")
    print(f"- command: `python benchmarks/bench_train.py --threads {args.threads} --seconds {args.seconds}`")
    print("- networks: budget 'quick' (fmap_max 32, 1 channel, 32×32 final), fp32, α = 1\n")
    print(f"| preset | resolution | img/s shown to D | GFLOP/img (est.) | GFLOP/s | % of {args.threads}-core peak "
          "| ratio vs reference-style full-res graph |")
    print("|---|---|---|---|---|---|---|")
    for preset, resolutions in (("g", (4, 8, 16, 32)), ("a", (32,))):
        rates = {res: measure(preset, res, args.seconds) for res in resolutions}
        full = rates[32][0]
        for res, (rate, gflop) in rates.items():
            print(f"| {preset} | {res}×{res} | {rate:.0f} | {gflop:.4f} | {rate * gflop:.1f} | "
                  f"{100 * rate * gflop / (args.peak_gflops_per_core * args.threads):.1f} | {rate / full:.2f}× |")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nPeak resident memory of the benchmark process: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
