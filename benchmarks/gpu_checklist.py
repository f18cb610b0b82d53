"""Every check that needs a GPU, in one command (one call on a machine with a CUDA device).

1. The CUDA tests (`pytest -m cuda`: the ones that skip without a GPU).
2. gp-convolution: `benchmarks/bench_gp_convolution.py`, D's WGAN-GP step with torch's convolution double backward
   against convolution kernels, preset g at 128² (fp32, bf16) and StyleGAN2's row E (fp32).
3. Training throughput of the trainer itself (`pggan.train.train`, fp32 unless said): preset g with the paper
   budget's networks at 128² in fp32, `--amp bf16`, `--amp fp16` and `--compile`; preset a; preset g with the
   full-width networks (fmap_base 8192); MSG-GAN (preset msg, fp32 and bf16), StyleGAN's row F and StyleGAN2's
   row E (fp32 and bf16). Each is a 4-kimg run at the final resolution (progressive=False: the step of a grown
   network at lod 0) on smooth random images; img/s is the mean of the log's ticks after the first (warm-up,
   compilation).
4. A growth run through every stage at 128² (4×4 to 128×128, 1 + 1 kimg phases) on the device, then
   `pggan generate` and `ganeval swd` against its reals, and `pggan ppl` of its generator (2,000 latent pairs;
   LPIPS-VGG16 with random weights written here, which cost what the published ones do), through the command line.
5. grids (asked for by --steps): img/s of every row of StyleGAN's and StyleGAN2's Table 1 grids at 32² with the
   quick budget's networks, the runs `pggan ablation --grid stylegan|stylegan2` makes (fp32, at the final
   resolution as in 3).
6. quality (asked for by --steps, with --quality-data): `benchmarks/precision_quality.py` for fp32, bf16, fp16 and
   compile on 3 seeds of the quick budget (12 runs of 32 kimg).

On an H200 (2026-12) the CUDA tests took 7 s and a throughput row of 10 kimg 26–70 s (the rows now run 4 kimg), and
the grids' rows about 20 s each: run grids and quality as calls of their own.

Writes OUT/gpu_checklist.md (the tables for benchmarks/RESULTS.md) and prints it as it goes. The device machine has
PyTorch and most dependencies; pytorch-msssim (pure Python) and a setuptools new enough for the editable install
travel as wheels, installed with `pip install --no-index --no-deps --target /tmp/site WHEELS` and
`PYTHONPATH=/tmp/site`; nothing is fetched there. A device call may run 600 s:

    pip install -q --no-deps --no-build-isolation -e . && python benchmarks/gpu_checklist.py --out $OUT/gpu
    python benchmarks/gpu_checklist.py --out $OUT/quality --steps quality --quality-data data/fmnist32.npz
    python benchmarks/gpu_checklist.py --out $OUT/grids --steps grids
    python benchmarks/gpu_checklist.py --out /tmp/gpu --smoke                          # the plumbing, on a CPU
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.ndimage
import torch

from pggan.config import make_config
from pggan.grids import GRIDS
from pggan.train import train

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's tests.helpers
from tests.helpers import random_lpips_linear, random_vgg16_features  # noqa: E402

# (label, preset, settings beside the paper budget's): the rows of the throughput table.
THROUGHPUT_ROWS = [
    ("g, paper nets, fp32", "g", {}),
    ("g, paper nets, bf16", "g", {"amp": "bf16"}),
    ("g, paper nets, fp16", "g", {"amp": "fp16"}),
    ("g, paper nets, --compile", "g", {"compile": True}),
    ("a, paper nets, fp32", "a", {}),
    ("g, full-width nets (fmap_base 8192), fp32", "g", {"fmap_base": 8192}),
    # The later papers' switches on the same networks: MSG-GAN's R4 against (g) above (its R0), StyleGAN's F and
    # StyleGAN2's E (skip G, residual D, modulated convolutions, lazy R1 and path length regularisation).
    ("msg (R4), paper nets, fp32", "msg", {}),
    ("msg (R4), paper nets, bf16", "msg", {"amp": "bf16"}),
    ("stylegan_f, paper nets, fp32", "stylegan_f", {}),
    ("stylegan2_e, paper nets, fp32", "stylegan2_e", {}),
    ("stylegan2_e, paper nets, bf16", "stylegan2_e", {"amp": "bf16"}),
]


def smooth_images(count: int, side: int, seed: int) -> np.ndarray:
    """uint8 NCHW RGB images of smooth random blobs (what the data looks like does not change the step's cost)."""
    noise = np.random.default_rng(seed).normal(size=(count, 3, side, side)).astype(np.float32)
    blobs = scipy.ndimage.gaussian_filter(noise, sigma=(0, 0, side / 16, side / 16))
    return np.clip(128 + 128 * blobs / blobs.std(), 0, 255).astype(np.uint8)


def device_line(device: str) -> str:
    """The device as reported: the GPU's name and memory, or the CPU model; and torch's version."""
    if device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        return f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB, torch {torch.__version__}"
    return f"CPU {platform.processor() or platform.machine()}, torch {torch.__version__}"


def throughput(label: str, preset: str, settings: dict, data: Path, out: Path, kimg: float, resolution: int,
               device: str, budget: str = "paper") -> str:
    """One row of the throughput table: img/s shown to D at `resolution` after the first tick."""
    config = make_config(preset, budget, data=str(data), resolution=resolution, progressive=False,
                         total_kimg=kimg, kimg_per_tick=kimg / 5, metrics_ticks=0, metrics_num_images=0,
                         snapshot_ticks=100, grid_size=2, device=device, **settings)
    run_dir = out / "throughput" / label.replace(" ", "").replace(",", "-").replace("(", "").replace(")", "")
    started = time.perf_counter()
    try:
        train(config, run_dir, progress=False)
    except Exception as error:  # a path that fails on this device is a finding for the table, not the end
        return f"| {label} | failed: {type(error).__name__}: {str(error).splitlines()[0][:200]} | | |"
    ticks = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines()]
    rates = [tick["images_per_second"] for tick in ticks[1:]] or [ticks[-1]["images_per_second"]]
    memory = f"{torch.cuda.max_memory_allocated() / 2**30:.1f}" if device == "cuda" else "–"
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    return (f"| {label} | {statistics.mean(rates):,.0f} (ticks {min(rates):,.0f}–{max(rates):,.0f}) | {memory} | "
            f"{time.perf_counter() - started:.0f} |")


def command(*args: str) -> subprocess.CompletedProcess:
    """Run a command, echoing it; its output is kept for the report."""
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, capture_output=True, text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check the plumbing on a CPU")
    parser.add_argument("--steps", default="tests,throughput,growth,gp-convolution",
                        help="comma-separated, of tests, throughput, growth, gp-convolution, grids, quality")
    parser.add_argument("--quality-data", metavar="DATA", help="the prepared set of the quality step")
    args = parser.parse_args()
    steps = set(args.steps.split(","))
    choices = {"tests", "throughput", "growth", "gp-convolution", "grids", "quality"}
    if not steps <= choices or ("quality" in steps and not args.quality_data):
        parser.error(f"--steps: choose from {', '.join(sorted(choices))} (quality needs --quality-data)")
    for previous in ("throughput", "growth", "precision"):  # every run starts afresh, never resumes
        shutil.rmtree(args.out / previous, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / "gpu_checklist.md"
    lines: list[str] = []

    def say(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)
        report.write_text("\n".join(lines) + "\n")

    resolution, kimg, phase_kimg = (16, 0.32, 0.064) if args.smoke else (128, 4.0, 1.0)
    data = args.out / f"blobs{resolution}.npy"
    np.save(data, smooth_images(256 if args.smoke else 4096, resolution, seed=0))
    say(f"# GPU checklist — {device_line(args.device)}\n")
    say(f"- command: `python {' '.join(sys.argv)}`\n")
    if "tests" in steps:
        say("## CUDA tests\n")
        tests = command(sys.executable, "-m", "pytest", "-q", "-rs", "-m", "cuda", "tests")
        say("```\n" + "\n".join(tests.stdout.strip().splitlines()[-8:]) + "\n```\n")
    if "gp-convolution" in steps:
        say("\n## The gradient penalty's double backward through convolutions (benchmarks/bench_gp_convolution.py)\n")
        sizes = ["--resolution", "16", "--fmap-max", "16", "--steps", "2"] if args.smoke else []
        for preset, amp in (("g", "none"), ("g", "bf16"), ("stylegan2_e", "none")):
            result = command(sys.executable, "benchmarks/bench_gp_convolution.py", "--device", args.device,
                             "--preset", preset, "--amp", amp, *sizes)
            say(result.stdout.strip() if result.returncode == 0 else f"failed:\n```\n{result.stderr[-2000:]}\n```")
    if "throughput" in steps:
        throughput_table(args, data, resolution, kimg, say)
    if "growth" in steps:
        growth_run(args, data, resolution, phase_kimg, say)
    if "grids" in steps:
        grid_rows_table(args, kimg, say)
    if "quality" in steps:
        say("\n## Quality of the faster modes (benchmarks/precision_quality.py)\n")
        result = command(sys.executable, "benchmarks/precision_quality.py", "--data", args.quality_data, "--out",
                         str(args.out / "precision"), "--modes", "fp32", "bf16", "fp16", "compile", "--seeds",
                         "1000", "1001", "1002", *(["--kimg", "0.5", "--phase-kimg", "0.1"] if args.smoke else []))
        say(result.stdout.strip() if result.returncode == 0 else f"failed:\n```\n{result.stderr[-2000:]}\n```")


def throughput_table(args: argparse.Namespace, data: Path, resolution: int, kimg: float,
                     say: Callable[[str], None]) -> None:
    """Step 3: the throughput table."""
    say(f"## Training throughput at {resolution}² (images shown to D per second)\n")
    say("| run | img/s | peak GPU memory GiB | wall s |")
    say("|---|---|---|---|")
    for label, preset, settings in THROUGHPUT_ROWS:
        overrides = {**settings, **({"fmap_base": 64, "fmap_max": 16} if args.smoke else {})}
        say(throughput(label, preset, overrides, data, args.out, kimg, resolution, args.device))


def grid_rows_table(args: argparse.Namespace, kimg: float, say: Callable[[str], None]) -> None:
    """Step 5: img/s of every row of the StyleGAN and StyleGAN2 grids at 32², quick budget networks."""
    resolution = 16 if args.smoke else 32
    data = args.out / f"blobs{resolution}.npy"
    np.save(data, smooth_images(256 if args.smoke else 4096, resolution, seed=0))
    say(f"\n## Every row of the StyleGAN and StyleGAN2 grids at {resolution}², quick budget networks, fp32\n")
    say("| run | img/s | peak GPU memory GiB | wall s |")
    say("|---|---|---|---|")
    for grid in ("stylegan", "stylegan2"):
        for row, (preset, settings) in GRIDS[grid].rows.items():
            overrides = {**settings, **({"fmap_base": 64, "fmap_max": 16} if args.smoke else {})}
            say(throughput(f"{grid} {row} ({preset})", preset, overrides, data, args.out, kimg, resolution,
                           args.device, budget="quick"))


def growth_run(args: argparse.Namespace, data: Path, resolution: int, phase_kimg: float,
               say: Callable[[str], None]) -> None:
    """Step 4: grow through every stage on the device, then generate and score through the command line."""
    say(f"\n## Growth run through every stage to {resolution}², then `pggan generate` and `ganeval swd`\n")
    run_dir, fakes = args.out / "growth", args.out / "growth_fakes.npy"
    vgg16, lpips = args.out / "random-vgg16.pth", args.out / "random-lpips-linear.pth"
    torch.save(random_vgg16_features(), vgg16)
    torch.save(random_lpips_linear(), lpips)
    sizes = ["--set", "fmap_base=64", "--set", "fmap_max=16"] if args.smoke else []
    phases = 2 * resolution.bit_length() - 5  # stable 4², then a fade-in and a stable phase per doubling
    settings = dict(resolution=resolution, total_kimg=phase_kimg * phases, lod_training_kimg=phase_kimg,
                    lod_transition_kimg=phase_kimg, kimg_per_tick=phase_kimg, metrics_num_images=0)
    steps = [
        ("pggan", "train", "--data", str(data), "--out", str(run_dir), "--budget", "paper", "--no-progress",
         "--device", args.device, *[arg for name, value in settings.items() for arg in ("--set", f"{name}={value}")],
         *sizes),
        ("pggan", "generate", str(run_dir), "-n", "256" if args.smoke else "4096", "-o", str(fakes),
         "--device", args.device),
        ("ganeval", "swd", str(data), str(fakes), "--device", args.device, "--json"),
        ("pggan", "ppl", str(run_dir), "--num-samples", "128" if args.smoke else "2000", "--vgg16-weights",
         str(vgg16), "--lpips-weights", str(lpips), "--allow-unverified-weights", "--device", args.device, "--json"),
    ]
    for tool, *step in steps:
        started = time.perf_counter()
        result = command(sys.executable, "-m", tool, *step)
        shown = (result.stdout.strip() or result.stderr.strip()).splitlines()[-1:] or [""]
        say(f"- `{tool} {step[0]}`: exit {result.returncode}, {time.perf_counter() - started:.0f} s: "
            f"`{shown[0][:400]}`")
        if result.returncode:
            say("```\n" + result.stderr[-2000:] + "\n```")
            break
    else:
        stages = sorted({json.loads(line)["resolution"] for line in (run_dir / "log.jsonl").read_text().splitlines()})
        say(f"- resolutions logged: {stages}")


if __name__ == "__main__":
    main()
