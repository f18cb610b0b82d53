"""`pggan`: prepare a dataset, train a Progressive GAN (Table 1 presets a–h, e_star), generate images, resume.

Typical session (Fashion-MNIST on a CPU, then the paper's setting on a GPU):

\b
  pggan prepare train-images-idx3-ubyte.gz data/fmnist32.npz
  pggan train --data data/fmnist32.npz --config g --budget quick --out runs/g
  pggan generate runs/g -n 10000 -o fakes/g.npz
  ganeval swd data/fmnist32.npz fakes/g.npz
  pggan train --data celeba128.npz --config a --budget paper --out runs/a   # GPU
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pggan.ablation import CONFIG_ORDER
from pggan.config import BUDGETS, PRESETS, TrainConfig, make_config

EXIT_BAD_INPUT = 2
EXIT_DIVERGED = 1


def _one_line_errors(function: Callable) -> Callable:
    """Bad input (ValueError, incl. GanevalInputError) → 'error: …' on stderr, exit 2; divergence → exit 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pggan.train import TrainingDivergedError

        try:
            return function(*args, **kwargs)
        except TrainingDivergedError as error:
            click.echo(f"error: training diverged: {error}", err=True)
            sys.exit(EXIT_DIVERGED)
        except (ValueError, FileNotFoundError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper


@click.group(help=__doc__)
def main() -> None:
    """pggan command group."""


@main.command()
@click.argument("source", type=click.Path())
@click.argument("out", type=click.Path())
@click.option("--resolution", type=int, default=None,
              help="Side of the square output images (power of two). Default: photos → largest power of two "
                   "that fits; idx 28×28 → zero-padded to 32.")
@click.option("--max-images", type=int, default=None, help="Keep only the first N images.")
@_one_line_errors
def prepare(source: str, out: str, resolution: int | None, max_images: int | None) -> None:
    """Turn SOURCE (image folder, .npy/.npz array, idx .gz) into OUT.npz (uint8 NCHW, key 'images').

    Photos are centre-cropped to a square and area-resized; Fashion-MNIST's 28×28 digits get 2 black pixels
    on each side (→ 32×32, nothing resampled). Mixed grey/colour folders and images smaller than the
    resolution are refused with the offending file's name.
    """
    from pggan.data import prepare as prepare_dataset

    info = prepare_dataset(source, out, resolution=resolution, max_images=max_images)
    click.echo(f"wrote {info['path']}: {info['num_images']} images, {info['num_channels']} channel(s), "
               f"{info['resolution']}×{info['resolution']}")


def _parse_setting(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or name not in TrainConfig.__dataclass_fields__:
        raise click.BadParameter(f"{text!r}: expected NAME=VALUE with NAME a TrainConfig field")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


# (option, TrainConfig field, click type, help). None = keep the preset/budget value.
_SWITCHES: list[tuple[str, str, Any, str]] = [
    ("--resolution", "resolution", int, "Final resolution (power of two; default: the data's)."),
    ("--kimg", "total_kimg", float, "Length in thousands of real images shown to D."),
    ("--progressive/--no-progressive", "progressive", None, "(b) Grow from 4×4 (off = train at full size)."),
    ("--lod-training-kimg", "lod_training_kimg", float, "kimg per resolution before the next fade-in."),
    ("--lod-transition-kimg", "lod_transition_kimg", float, "kimg per fade-in."),
    ("--minibatch", "minibatch_base", int, "(c) Minibatch size (a: 64, c on: 16)."),
    ("--minibatch-repeats", "minibatch_repeats", int, "Minibatches per schedule update."),
    ("--n-critic", "n_critic", int, "(d) D steps per G step (a–c: 5)."),
    ("--lr", "lr", float, "(d/f) Adam learning rate of both networks."),
    ("--beta1", "adam_beta1", float, "Adam β1."),
    ("--beta2", "adam_beta2", float, "(d) Adam β2 (a–c: 0.9, d on: 0.99)."),
    ("--drift", "wgan_epsilon", float, "(d) ε_drift of the drift term ε·E[D(x)²] (0 = off)."),
    ("--loss", "loss", click.Choice(["wgangp", "logistic"]), "WGAN-GP (λ=10) or non-saturating logistic."),
    ("--batchnorm/--no-batchnorm", "g_batchnorm", None, "(a–c) Batch normalisation in G."),
    ("--layernorm/--no-layernorm", "d_layernorm", None, "(a–c) Layer normalisation in D."),
    ("--mbdisc-kernels", "mbdisc_kernels", int, "(e*) Minibatch-discrimination kernels in D (0 = off)."),
    ("--mbstd-group", "mbstd_group_size", int, "(e) Minibatch-stddev group size (0 = off)."),
    ("--equalized-lr/--no-equalized-lr", "equalized_lr", None, "(f) Equalized learning rate."),
    ("--pixelnorm/--no-pixelnorm", "pixelnorm", None, "(g) Pixelwise feature normalisation in G."),
    ("--kimg-factor", "kimg_factor", float, "(h) Multiplier on --kimg ('converged' preset: 2)."),
    ("--fmap-base", "fmap_base", int, "Feature maps: nf(s) = min(fmap_base / 2**s, fmap_max)."),
    ("--fmap-max", "fmap_max", int, "Largest feature-map count."),
    ("--latent-size", "latent_size", int, "Latent dimensions."),
    ("--ema-beta", "g_ema_beta", float, "Decay of the generator's weight average per G step."),
    ("--mirror/--no-mirror", "mirror_augment", None, "Random left-right flips of the reals."),
    ("--kimg-per-tick", "kimg_per_tick", float, "kimg between log lines / sample grids."),
    ("--snapshot-ticks", "snapshot_ticks", int, "Ticks between checkpoints (the newest two are kept)."),
    ("--metrics-ticks", "metrics_ticks", int, "Ticks between SWD/MS-SSIM evaluations (0 = only at the end)."),
    ("--metrics-images", "metrics_num_images", int, "Images per SWD/MS-SSIM evaluation."),
    ("--seed", "seed", int, "Seed of weights, data order, latents."),
    ("--device", "device", str, "auto (cuda when available), cpu, cuda, cuda:1 …"),
    ("--amp", "amp", click.Choice(["none", "bf16", "fp16"]), "Mixed precision autocast (default none = fp32)."),
    ("--compile/--no-compile", "compile", None, "torch.compile the networks (not D under the GP)."),
]


def _add_switches(function: Callable) -> Callable:
    for option, field, kind, text in reversed(_SWITCHES):
        if kind is None:
            function = click.option(option, field, default=None, help=text)(function)
        else:
            function = click.option(option, field, type=kind, default=None, help=text)(function)
    return function


@main.command(epilog="Presets: " + ", ".join(PRESETS) + ". Budgets: " + ", ".join(BUDGETS)
              + ". Composition: defaults ← budget ← preset ← flags ← --set. Multi-GPU: "
              "torchrun --nproc_per_node=N -m cli.pggan_cli train … (minibatch split across ranks).")
@click.option("--data", required=True, type=click.Path(), help="Prepared dataset .npz (see `pggan prepare`).")
@click.option("--out", required=True, type=click.Path(), help="Run directory (must not hold a run yet).")
@click.option("--config", "preset", type=click.Choice(list(PRESETS)), default="g", show_default=True,
              help="Table 1 row: a baseline (Gulrajani et al.) … g full method, h = g trained longer.")
@click.option("--budget", type=click.Choice(list(BUDGETS)), default=None,
              help="quick = Fashion-MNIST 32×32 on a CPU, 64 kimg (5–18 min a row); paper = 128×128, 10M images (GPU).")
@_add_switches
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Any other TrainConfig field, e.g. --set minibatch_dict='{\"32\": 8}'. Repeatable.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress line on stderr.")
@_one_line_errors
def train(data: str, out: str, preset: str, budget: str | None, settings: tuple[str, ...], progress: bool,
          **switches: Any) -> None:
    """Train one Table 1 configuration; writes OUT/{config.json, log.jsonl, samples/, checkpoint-*.pt,
    metrics.json} and prints the final metrics as JSON."""
    from pggan.train import train as run_training

    overrides = {field: value for field, value in switches.items() if value is not None}
    if "lr" in overrides:
        overrides["g_lr"] = overrides["d_lr"] = overrides.pop("lr")
    overrides.update(_parse_setting(text) for text in settings)
    config = make_config(preset, budget, data=data, **overrides)
    metrics = run_training(config, out, progress=progress)
    click.echo(json.dumps(metrics))


@main.command()
@click.argument("checkpoint", type=click.Path())
@click.option("-n", "--num-images", type=int, default=10000, show_default=True, help="How many images.")
@click.option("-o", "--out", required=True, type=click.Path(),
              help="A folder (numbered PNGs) or a file ending in .npz (uint8 NCHW, key 'images').")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latents.")
@click.option("--batch-size", type=int, default=64, show_default=True)
@click.option("--device", default=None, help="cpu, cuda, … (default: cuda when available).")
@_one_line_errors
def generate(checkpoint: str, num_images: int, out: str, seed: int, batch_size: int, device: str | None) -> None:
    """Sample NUM_IMAGES from the EMA generator of CHECKPOINT (a checkpoint-*.pt or a run directory)."""
    from pggan.train import generate as generate_images

    images = generate_images(checkpoint, num_images, out, seed=seed, batch_size=batch_size, device=device)
    click.echo(f"wrote {len(images)} images of {images.shape[2]}×{images.shape[3]} to {out}")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress line on stderr.")
@_one_line_errors
def resume(run_dir: str, progress: bool) -> None:
    """Continue RUN_DIR from its newest checkpoint exactly as if it had never stopped."""
    from pggan.train import resume as resume_training

    click.echo(json.dumps(resume_training(run_dir, progress=progress)))



@main.command()
@click.option("--data", required=True, type=click.Path(), help="Prepared dataset .npz (see `pggan prepare`).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for the runs (one per configuration), tables and figures.")
@click.option("--configs", default=",".join(CONFIG_ORDER), show_default=True,
              help="Comma-separated Table 1 rows to train and evaluate.")
@click.option("--budget", type=click.Choice(list(BUDGETS)), default="quick", show_default=True,
              help="quick = Fashion-MNIST-sized 32×32 on a CPU; paper = 128×128, reduced-capacity nets, 10M images.")
@click.option("--kimg", type=float, default=None, help="kimg per configuration ((h) gets 2×); default: the budget's.")
@click.option("--lod-training-kimg", type=float, default=None, help="kimg per resolution (default: the budget's).")
@click.option("--lod-transition-kimg", type=float, default=None, help="kimg per fade-in (default: the budget's).")
@click.option("--kimg-per-tick", type=float, default=None, help="kimg between log lines (default: the budget's).")
@click.option("--metrics-ticks", type=int, default=2, show_default=True,
              help="Ticks between training-time SWD evaluations (the SWD-vs-kimg figure).")
@click.option("--metrics-images", type=int, default=None, help="Images per training-time SWD evaluation.")
@click.option("--swd-images", type=int, default=None,
              help="Generated and real images for the final SWD (paper 16384; quick budget 4096).")
@click.option("--msssim-pairs", type=int, default=None,
              help="Consecutive pairs for the final MS-SSIM (paper 10000; quick budget 2000).")
@click.option("--fid-images", type=int, default=None, help="Generated images for FID/KID (default: --swd-images).")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="Inception weights for FID/KID; without them (or $GANEVAL_INCEPTION_WEIGHTS / the torch hub "
                   "cache) FID/KID columns are left out.")
@click.option("--allow-unverified-weights", is_flag=True,
              help="Accept Inception weights that are not the published file.")
@click.option("--jobs", type=int, default=1, show_default=True,
              help="Configurations trained at once, one process each (e.g. 2 on a 2-core CPU, or several on a GPU "
                   "with room); the CPU threads are shared out between them.")
@click.option("--device", default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--seed", type=int, default=1000, show_default=True, help="Seed of every run and of the evaluation.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Any TrainConfig field, for every row.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress lines on stderr.")
@_one_line_errors
def ablation(data: str, out: str, configs: str, budget: str, kimg: float | None, lod_training_kimg: float | None,
             lod_transition_kimg: float | None, kimg_per_tick: float | None, metrics_ticks: int,
             metrics_images: int | None, swd_images: int | None, msssim_pairs: int | None, fid_images: int | None,
             inception_weights: str | None, allow_unverified_weights: bool, jobs: int, device: str | None, seed: int,
             settings: tuple[str, ...], progress: bool) -> None:
    """Reproduce Table 1 of Progressive Growing of GANs: train rows (a)–(h) and (e*) on DATA, score each.

    Every row trains with the same data, seed and image budget, one after another; each final EMA generator is
    scored with ganeval (SWD per pyramid level against the real set, MS-SSIM over consecutive generated pairs,
    FID/KID when Inception weights are at hand). Writes OUT/table1.{md,csv,json} after every row (atomically),
    figure_samples.png (a row of fixed-latent samples per configuration) and figure_swd.png (SWD against kimg).
    Run it again after an interruption: finished rows are skipped, an interrupted one resumes.

    \b
    Example (Fashion-MNIST, 2 CPU cores):
      pggan prepare ../shared/data/fashion-mnist/train-images-idx3-ubyte.gz data/fmnist32.npz
      pggan ablation --data data/fmnist32.npz --out runs/ablation --budget quick --jobs 2
    """
    from pggan.ablation import run_ablation

    overrides = {name: value for name, value in (("lod_training_kimg", lod_training_kimg),
                                                 ("lod_transition_kimg", lod_transition_kimg),
                                                 ("kimg_per_tick", kimg_per_tick),
                                                 ("metrics_num_images", metrics_images)) if value is not None}
    overrides.update(_parse_setting(text) for text in settings)
    table = run_ablation(data, out, configs=[name.strip() for name in configs.split(",") if name.strip()],
                         budget=budget, kimg=kimg, device=device, seed=seed, swd_num_images=swd_images,
                         msssim_num_pairs=msssim_pairs, fid_num_images=fid_images,
                         inception_weights=inception_weights, allow_unverified_weights=allow_unverified_weights,
                         metrics_ticks=metrics_ticks, jobs=jobs, progress=progress, **overrides)
    click.echo((Path(out) / "table1.md").read_text() if table["rows"] else "no rows")

if __name__ == "__main__":
    main()
