"""pggan's training step against the public PyTorch PGGAN trainer pro-gan-pth, at equal architecture, one thread.

Both sides train preset g (WGAN-GP + drift, equalized lr, pixel norm, minibatch stddev, n_critic 1, an EMA of G)
at 32×32 with `--width` feature maps at every resolution and latent size, one grayscale channel, α = 1, the
networks fully grown. pggan's step is built from the functions `pggan.train` runs (`reals_at`,
`discriminator_loss`, `generator_loss`, `_optimizer_step`, `_update_ema`); pro-gan-pth's is its own
`ProGAN.optimize_discriminator`, `update_average` and `ProGAN.optimize_generator`, called in its training loop's
order. Each variant of pggan is one of the speed levers measured (`--amp bf16`, `--compile`, channels_last
memory format) or a combination of them joined by "+" (e.g. bf16+channels_last, bf16+compile); bf16 pays only on
CPUs with bf16 arithmetic (AVX-512 BF16, AMX), whose flags are printed with the CPU. Variants are timed in
alternating rounds (A, B, C, …, A, B, C, …) so a change of load on a shared machine touches them alike, by the images
shown to D per second of the process's CPU time (on one thread, the work done, however the scheduler shares the
cores; wall-clock img/s beside it); the median round is printed, with the ratio against pro-gan-pth.

pro-gan-pth is a benchmark-only dependency; its pins (torch 1.10, tensorboard) do not install beside ours:

    pip install --no-deps pro-gan-pth==3.4
    python benchmarks/bench_train_peers.py --minibatch 16 64 --rounds 5 --seconds 4   # recorded in RESULTS.md

Two shims let pro-gan-pth 3.4 run on today's torch, neither touching its arithmetic: its `gan` module imports
tensorboard for logging only (a stub stands in where it is missing), and its transposed convolution calls a
private torch method whose signature has changed (see `pro_gan_step`).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import platform
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable

import torch

from pggan.config import TrainConfig, make_config
from pggan.data import reals_at
from pggan.losses import discriminator_loss, generator_loss
from pggan.networks import build_networks
from pggan.train import _optimizer_step, _update_ema

RESOLUTION = 32
Step = Callable[[], int]  # one G step and its D step(s); returns the images shown to D


def pggan_step(width: int, minibatch: int, lever: str) -> tuple[Step, int, int]:
    """(step, G parameters, D parameters) of pggan's preset g; `lever` is fp32 or a "+"-joined set of channels_last,
    bf16 and compile."""
    config = make_config("g", "quick").replace(fmap_base=1 << 14, fmap_max=width, latent_size=width,
                                               resolution=RESOLUTION)
    return pggan_config_step(config, minibatch, lever)


def pggan_config_step(config: TrainConfig, minibatch: int, lever: str) -> tuple[Step, int, int]:
    """(step, G parameters, D parameters) of pggan at `config`'s networks and loss, fully grown (α = 1) at
    config.resolution: n_critic D steps, a G step and the EMA update (β 0.999), made of the functions `pggan.train`
    runs, each phase in a torch.profiler range (pggan.d_step, pggan.g_step; train.py's own ranges inside them); the
    step returns the images shown to D. Lazy R1 and path length steps are left out."""
    parts = set(lever.split("+"))
    resolution = config.resolution
    torch.manual_seed(0)
    generator, discriminator = build_networks(config, 1)
    memory_format = torch.channels_last if "channels_last" in parts else torch.contiguous_format
    generator.to(memory_format=memory_format)
    discriminator.to(memory_format=memory_format)
    ema = build_networks(config, 1)[0].requires_grad_(False)
    adam = dict(betas=(config.adam_beta1, config.adam_beta2), eps=config.adam_epsilon)
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=config.g_lr, **adam)
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, **adam)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    g_train = torch.compile(generator) if "compile" in parts else generator  # D: GP's double backward (train.py)
    critic = functools.partial(discriminator, alpha=1.0)
    autocast = (functools.partial(torch.autocast, "cpu", dtype=torch.bfloat16) if "bf16" in parts
                else contextlib.nullcontext)
    images = torch.randint(0, 256, (4096, 1, resolution, resolution), dtype=torch.uint8)

    def step() -> int:
        with torch.profiler.record_function("pggan.d_step"):
            discriminator.requires_grad_(True)
            for _ in range(config.n_critic):
                reals = reals_at(images[torch.randint(len(images), (minibatch,))], resolution, 1.0, torch.float32)
                reals = reals.contiguous(memory_format=memory_format)
                with autocast():
                    with torch.no_grad():
                        fakes = g_train(torch.randn(minibatch, config.latent_size), resolution, 1.0)
                    d_loss, _ = discriminator_loss(
                        critic, reals, fakes.to(reals.dtype), kind=config.loss, mix=torch.rand(minibatch),
                        wgan_lambda=config.wgan_lambda, wgan_target=config.wgan_target,
                        wgan_epsilon=config.wgan_epsilon, r1_gamma=config.r1_gamma if config.r1_interval == 1 else 0.0)
                _optimizer_step(d_loss, discriminator, d_optimizer, scaler, 1)
        with torch.profiler.record_function("pggan.g_step"):
            discriminator.requires_grad_(False)
            with autocast():
                g_loss = generator_loss(critic, g_train(torch.randn(minibatch, config.latent_size), resolution, 1.0),
                                        kind=config.loss)
            _optimizer_step(g_loss, generator, g_optimizer, scaler, 1)
        _update_ema(ema, generator, 0.999)
        return minibatch * config.n_critic

    return step, sum(p.numel() for p in generator.parameters()), sum(p.numel() for p in discriminator.parameters())


def import_pro_gan() -> types.ModuleType:
    """pro_gan_pytorch.gan, with a stand-in for tensorboard (imported by it for logging only) where missing."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        stub = types.ModuleType("torch.utils.tensorboard")
        stub.SummaryWriter = object
        sys.modules["torch.utils.tensorboard"] = stub
    try:
        from pro_gan_pytorch import gan
    except ImportError as error:
        raise SystemExit(f"pro-gan-pth is not importable ({error}); `pip install --no-deps pro-gan-pth==3.4`") from None
    return gan


def pro_gan_step(width: int, minibatch: int) -> tuple[Step, int, int]:
    """(step, G parameters, D parameters) of pro-gan-pth 3.4 at `width` feature maps, depth 5 (32×32)."""
    gan = import_pro_gan()
    from pro_gan_pytorch import custom_layers, networks
    from pro_gan_pytorch.custom_layers import update_average
    from pro_gan_pytorch.losses import WganGP

    # Its transposed conv calls torch's private _output_padding without the num_spatial_dims that torch ≥ 2.x
    # requires; with no output_size (its only use) that method returns the layer's output_padding, so return it.
    custom_layers.EqualizedConvTranspose2d._output_padding = lambda self, *args, **kwargs: self.output_padding

    original_nf = networks.nf
    networks.nf = functools.partial(original_nf, fmap_max=width)  # its width knob is nf's default argument
    try:
        torch.manual_seed(0)
        generator = networks.Generator(depth=5, num_channels=1, latent_size=width, use_eql=True)
        discriminator = networks.Discriminator(depth=5, num_channels=1, latent_size=width, use_eql=True)
    finally:
        networks.nf = original_nf
    with contextlib.redirect_stdout(io.StringIO()):  # it prints both networks
        progan = gan.ProGAN(generator, discriminator, device=torch.device("cpu"), use_ema=True, ema_beta=0.999)
    # Its train(): Adam(lr 0.003, betas (0, 0.99), eps 1e-8) for both, WganGP(drift 0.001).
    g_optimizer = torch.optim.Adam(progan.gen.parameters(), lr=0.003, betas=(0.0, 0.99), eps=1e-8)
    d_optimizer = torch.optim.Adam(progan.dis.parameters(), lr=0.003, betas=(0.0, 0.99), eps=1e-8)
    loss = WganGP()
    images = torch.rand(4096, 1, RESOLUTION, RESOLUTION) * 2 - 1

    def step() -> int:
        batch = images[torch.randint(len(images), (minibatch,))]
        noise = torch.randn(minibatch, width)
        progan.optimize_discriminator(loss, d_optimizer, noise, batch, 5, 1.0)
        update_average(progan.gen_shadow, progan.gen, beta=0.999)
        progan.optimize_generator(loss, g_optimizer, noise, batch, 5, 1.0)
        return minibatch

    return step, sum(p.numel() for p in generator.parameters()), sum(p.numel() for p in discriminator.parameters())


def timed(step: Step, seconds: float) -> tuple[float, float]:
    """Images shown to D per second of this process's CPU time, and per second of wall time, over a window of
    `seconds` of CPU time (whole steps). On one thread CPU time is the work done, whatever else runs beside."""
    shown, start_cpu, start_wall = 0, time.process_time(), time.perf_counter()
    while time.process_time() - start_cpu < seconds:
        shown += step()
    return shown / (time.process_time() - start_cpu), shown / (time.perf_counter() - start_wall)


LEVERS = ("channels_last", "bf16", "compile")
# /proc/cpuinfo flags that decide whether bf16 autocast can be fast on a CPU.
BF16_FLAGS = ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def lever_name(text: str) -> str:
    """An --levers value: fp32, or LEVERS joined by "+"."""
    if text != "fp32" and not (text and set(text.split("+")) <= set(LEVERS)):
        raise argparse.ArgumentTypeError(f"{text!r}: expected fp32 or a '+'-joined set of {', '.join(LEVERS)}")
    return text


def cpu_bf16_flags() -> str:
    """Which of BF16_FLAGS this CPU has, as "avx512f yes, avx512_bf16 no, …"."""
    try:
        flags = next((line.split(":", 1)[1].split() for line in open("/proc/cpuinfo") if line.startswith("flags")), [])
    except OSError:
        return "unknown (no /proc/cpuinfo)"
    return ", ".join(f"{flag} {'yes' if flag in flags else 'no'}" for flag in BF16_FLAGS)


def cpu_description() -> str:
    """`lscpu`'s model name and the bf16 flags, e.g. "AMD EPYC 7B13 (bf16 flags: avx512f no, …)"."""
    cpu = next((line.split(":", 1)[1].strip() for line in subprocess.run(["lscpu"], capture_output=True,
                text=True).stdout.splitlines() if line.startswith("Model name")), platform.processor())
    return f"{cpu} (bf16 flags: {cpu_bf16_flags()})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=128, help="feature maps at every resolution, and latent size")
    parser.add_argument("--minibatch", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--levers", nargs="+", type=lever_name,
                        default=["fp32", "channels_last", "compile", "bf16", "bf16+channels_last", "bf16+compile"],
                        help='fp32, or "+"-joined channels_last, bf16, compile')
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds; the median is printed")
    parser.add_argument("--seconds", type=float, default=4.0, help="timing window per variant per round")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print("# pggan against pro-gan-pth: training step, equal architecture\n")
    print(f"- CPU: {cpu_description()}, {args.threads} thread(s), torch {torch.__version__}, "
          "load average at start "
          f"{open('/proc/loadavg').read().split()[0]}")
    print(f"- command: `python benchmarks/bench_train_peers.py --width {args.width} --minibatch "
          f"{' '.join(map(str, args.minibatch))} --levers {' '.join(args.levers)} --rounds {args.rounds} "
          f"--seconds {args.seconds} --threads {args.threads}`")
    print(f"- preset g, {RESOLUTION}×{RESOLUTION}×1, {args.width} feature maps, fully grown (α = 1); images shown to "
          f"D per CPU second (and per wall second), median of {args.rounds} alternating rounds of {args.seconds} "
          "CPU seconds\n")
    print("| minibatch | trainer | G params | D params | img per CPU s (median) | min–max | img/s wall (median) "
          "| ratio vs pro-gan-pth (CPU) |")
    print("|---|---|---|---|---|---|---|---|")
    for minibatch in args.minibatch:
        variants = {"pro-gan-pth 3.4": pro_gan_step(args.width, minibatch)}
        variants.update({f"pggan {lever}": pggan_step(args.width, minibatch, lever) for lever in args.levers})
        for step, _, _ in variants.values():  # warm-up (compile: the graphs are built here)
            step()
            step()
        rates: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, (step, _, _) in variants.items():
                rates[name].append(timed(step, args.seconds))
        peer = statistics.median(cpu for cpu, _ in rates["pro-gan-pth 3.4"])
        for name, (_, g_params, d_params) in variants.items():
            cpu_rates = [cpu for cpu, _ in rates[name]]
            median = statistics.median(cpu_rates)
            print(f"| {minibatch} | {name} | {g_params:,} | {d_params:,} | {median:.2f} | "
                  f"{min(cpu_rates):.2f}–{max(cpu_rates):.2f} | {statistics.median(w for _, w in rates[name]):.2f} "
                  f"| {median / peer:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
