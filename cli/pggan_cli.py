"""`pggan`: prepare a dataset, train a Progressive GAN (Table 1 presets a–h, e_star; MSG-GAN and StyleGAN's
generator as switches), generate images, resume.

Typical use (Fashion-MNIST on a CPU, then the paper's setting on a GPU):

\b
  pggan prepare --download fashion-mnist data/raw data/fmnist32.npz
  pggan train --data data/fmnist32.npz --config g --budget quick --out runs/g
  pggan generate runs/g -n 10000 -o fakes/g.npz
  ganeval swd data/fmnist32.npz fakes/g.npz
  pggan ppl runs/g --num-samples 10000
  pggan prepare --celeba ~/celeba data/celeba128.npy
  pggan train --data data/celeba128.npy --config a --budget paper --out runs/a   # GPU
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

from ganeval_cli.common import SEED, CommandGroup, DeviceType, OutputPath, SeedList, at_least
from pggan.config import (
    BUDGETS,
    PRESETS,
    TrainConfig,
    implicit_budget_note,
    make_config,
    parse_setting,
)
from pggan.errors import EXIT_DIVERGED, ConfigError, TrainingDivergedError
from pggan.grids import GRIDS

DOWNLOADABLE = ["fashion-mnist", "mnist", "cifar10"]  # pggan.download.DATASETS' names, without importing torchvision


@click.group(cls=CommandGroup, exit_codes={TrainingDivergedError: EXIT_DIVERGED}, help=__doc__)
@click.version_option(version("ganeval-pggan"), prog_name="pggan")
def main() -> None:
    """pggan command group."""


def _table_rows(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str]:
    """--configs a,b,…: known rows of the --grid only (all of them when not given)."""
    rows = GRIDS[ctx.params.get("grid", "table1")].rows
    if value is None:
        return list(rows)
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in rows]
    if unknown or not names:
        raise click.BadParameter(f"{value!r}: unknown configuration(s) {', '.join(unknown) or '(none given)'}; "
                                 f"choose from {', '.join(rows)}", ctx, param)
    return names


def parse_settings(settings: tuple[str, ...], options: dict[str, str]) -> dict[str, Any]:
    """The --set NAME=VALUE settings, each parsed as its TrainConfig field's type; `options` learns which --set
    gave each field."""
    parsed = {}
    for text in settings:
        try:
            name, value = parse_setting(text)
        except ConfigError as error:
            raise click.BadParameter(str(error), param_hint=f"'--set {text}'") from None
        parsed[name] = value
        options[name] = f"--set {text}"
    return parsed


def config_from_options(build: Callable[..., TrainConfig], overrides: dict[str, Any], options: dict[str, str]
                        ) -> TrainConfig:
    """build(**overrides) (make_config or a grid's row), a bad value reported against the option that set it
    (`options` maps a TrainConfig field to its option)."""
    try:
        return build(**overrides)
    except ConfigError as error:
        raise click.BadParameter(str(error), param_hint=f"'{options.get(error.field, '--set')}'") from None


@main.command()
@click.argument("source", type=click.Path())
@click.argument("out", type=OutputPath(suffixes=(".npz", ".npy")))
@click.option("--celeba", is_flag=True,
              help="SOURCE is the CelebA folder (img_align_celeba/): the paper's fixed 128×128 crop at x 89, y 121 "
                   "of the aligned 178×218 images, in the reference's shuffled order; OUT must be .npy.")
@click.option("--lsun", is_flag=True,
              help="SOURCE is an LSUN category's lmdb export folder (needs `pip install 'ganeval-pggan[lsun]'`) or "
                   "a folder of its images: centre square crop, LANCZOS resize; OUT must be .npy.")
@click.option("--download", type=click.Choice(DOWNLOADABLE), default=None,
              help="SOURCE is the folder to keep the data set's raw files in: torchvision downloads them there "
                   "(checking their MD5s; files already there are not downloaded again) and the training images "
                   "are prepared as from the same files (Fashion-MNIST, MNIST: 28×28 → 32×32; CIFAR-10: 32×32 RGB).")
@click.option("--resolution", type=at_least(4), default=None,
              help="Side of the square output images (power of two). Default: photos → largest power of two "
                   "that fits; idx 28×28 → zero-padded to 32 (so --download's MNIST sets; CIFAR-10 stays 32); "
                   "--celeba/--lsun → 128.")
@click.option("--max-images", type=at_least(1), default=None, help="Keep only the first N images.")
@click.option("--progress/--no-progress", default=True, show_default=True,
              help="Progress line on stderr (--celeba/--lsun; --download shows torchvision's own download bars).")
def prepare(source: str, out: str, celeba: bool, lsun: bool, download: str | None, resolution: int | None,
            max_images: int | None, progress: bool) -> None:
    """Turn SOURCE (image folder, .npy/.npz array, idx .gz; CelebA or LSUN with --celeba/--lsun; Fashion-MNIST,
    MNIST or CIFAR-10 with --download, fetched into SOURCE) into OUT (.npz or .npy, uint8 NCHW; an .npz holds it
    under 'images').

    Photos are centre-cropped to a square and area-resized; Fashion-MNIST's 28×28 digits get 2 black pixels
    on each side (→ 32×32, nothing resampled); 16-bit grey is scaled to 8 bits (x/257, rounded). Mixed
    grey/colour folders, images smaller than the resolution and files that are not images are refused with the
    offending file's name. --celeba and --lsun follow the reference's dataset_tool.py and write an .npy one image at
    a time (training memory-maps it); --lsun skips and counts images smaller than the resolution.
    """
    if celeba + lsun + (download is not None) > 1:
        raise click.BadParameter("choose one of --celeba, --lsun and --download", param_hint="'--celeba'")
    if (celeba or lsun) and Path(out).suffix.lower() != ".npy":
        raise click.BadParameter(f"{out}: --{'celeba' if celeba else 'lsun'} writes an .npy (streamed, "
                                 "memory-mapped by training)", param_hint="'OUT'")
    if celeba or lsun:
        from pggan.paper_data import prepare_celeba, prepare_lsun

        make = prepare_celeba if celeba else prepare_lsun
        info = make(Path(source), Path(out), resolution=resolution or 128, max_images=max_images, progress=progress)
    elif download:
        from pggan.download import prepare_download

        info = prepare_download(download, source, out, resolution=resolution, max_images=max_images)
    else:
        from pggan.data import prepare as prepare_dataset

        info = prepare_dataset(source, out, resolution=resolution, max_images=max_images)
    skipped = ", ".join(f"{count:,} {reason}" for reason, count in info.get("skipped", {}).items() if count)
    click.echo(f"wrote {info['path']}: {info['num_images']:,} images, {info['num_channels']} channel(s), "
               f"{info['resolution']}×{info['resolution']}" + (f" (skipped: {skipped})" if skipped else ""))


# (option, TrainConfig field, click type, help). None = keep the preset/budget value.
_SWITCHES: list[tuple[str, str, Any, str]] = [
    ("--resolution", "resolution", int, "Final resolution (power of two; default: the data's)."),
    ("--data-streaming", "data_streaming", click.Choice(["auto", "on", "off"]),
     "on: memory-map an .npy and gather each minibatch from disk; off: hold the set in memory (on the device); "
     "auto (default): on for an .npy over 1 GiB. Same numbers either way."),
    ("--kimg", "total_kimg", float, "Length in thousands of real images shown to D."),
    ("--progressive/--no-progressive", "progressive", None, "(b) Grow from 4×4 (off = train at full size)."),
    ("--lod-training-kimg", "lod_training_kimg", float, "kimg per resolution before the next fade-in."),
    ("--lod-transition-kimg", "lod_transition_kimg", float, "kimg per fade-in."),
    ("--minibatch", "minibatch_base", at_least(1), "(c) Minibatch size (a: 64, c on: 16)."),
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
    ("--ema-kimg", "ema_kimg", float, "Half-life of G's weight average in kimg (paper: 11.085 = 0.999 per step "
                                      "of 16 images; 0 = raw G)."),
    ("--ema-rampup", "ema_rampup", float, "Cap the EMA half-life at this fraction of the images seen (0 = off)."),
    ("--mirror/--no-mirror", "mirror_augment", None, "Random left-right flips of the reals."),
    ("--kimg-per-tick", "kimg_per_tick", float, "kimg between log lines / sample grids."),
    ("--snapshot-ticks", "snapshot_ticks", int, "Ticks between checkpoints (the newest two are kept)."),
    ("--metrics-ticks", "metrics_ticks", int, "Ticks between SWD/MS-SSIM evaluations (0 = only at the end)."),
    ("--metrics-images", "metrics_num_images", int, "Images per SWD/MS-SSIM evaluation."),
    ("--seed", "seed", SEED, "Seed of weights, data order, latents (0 … 4294967295)."),
    ("--device", "device", DeviceType(), "auto (cuda when available), cpu, cuda, cuda:1 …"),
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
              + ". Composition: defaults ← budget ← preset ← flags ← --set (each value checked against the "
              "TrainConfig field's type and range). Multi-GPU: torchrun --nproc_per_node=N -m pggan train … "
              "(minibatch split across ranks). Exit codes: 0 done, 2 bad input, 3 training diverged (a loss, weight "
              "or optimiser statistic became NaN/inf; the last good checkpoint is kept).")
@click.option("--data", required=True, type=click.Path(), help="Prepared dataset .npz or .npy (see `pggan prepare`).")
@click.option("--out", required=True, type=OutputPath(folder=True),
              help="Run directory (must not hold a run yet; locked while the run lasts).")
@click.option("--config", "preset", type=click.Choice(list(PRESETS)), default="g", show_default=True,
              help="Table 1 row: a baseline (Gulrajani et al.) … g full method, h = g trained longer; msg = g with "
                   "MSG-GAN's multi-scale gradients instead of growing; stylegan_b … stylegan_f = StyleGAN's "
                   "Table 1 rows B–F (docs: StyleGAN); stylegan2_a … stylegan2_f = StyleGAN2's Table 1 configs "
                   "A–F (docs: StyleGAN2).")
@click.option("--budget", type=click.Choice(list(BUDGETS)), default=None,
              help="quick = Fashion-MNIST 32×32 on a CPU, 64 kimg (5–18 min a row); paper = 128×128, 10M images (GPU). "
                   "Default: none, i.e. the full-size defaults for 10000 kimg — refused on a CPU unless --kimg is "
                   "given (pass --budget quick), on a GPU trained with a note saying so.")
@_add_switches
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE",
              help="Any other TrainConfig field, e.g. --set minibatch_dict='{\"32\": 8}'. Repeatable.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress line on stderr.")
def train(data: str, out: str, preset: str, budget: str | None, settings: tuple[str, ...], progress: bool,
          **switches: Any) -> None:
    """Train one Table 1 configuration; writes OUT/{config.json, log.jsonl, samples/, checkpoint-*.pt,
    metrics.json} and prints the final metrics as JSON."""
    from pggan.train import train as run_training

    overrides = {field: value for field, value in switches.items() if value is not None}
    if "lr" in overrides:
        overrides["g_lr"] = overrides["d_lr"] = overrides.pop("lr")
    options = {field: option.split("/")[0] for option, field, _, _ in _SWITCHES} | {"g_lr": "--lr", "d_lr": "--lr",
                                                                                   "data": "--data"}
    overrides.update(parse_settings(settings, options))
    config = config_from_options(functools.partial(make_config, preset, budget), {"data": data, **overrides}, options)
    if budget is None and "total_kimg" not in overrides:
        from ganeval.devices import resolve_device

        note = implicit_budget_note(config, resolve_device(None if config.device == "auto" else config.device).type)
        if int(os.environ.get("RANK", "0")) == 0:  # once under torchrun
            click.echo("note: " + note, err=True)
    echo_metrics(run_training(config, out, progress=progress))


TRUNCATION_PSI_HELP = "StyleGAN runs: the truncation trick's ψ (1 = none, 0 = the average w; StyleGAN §3.1)."
TRUNCATION_CUTOFF_HELP = "StyleGAN runs: truncate only the styles of the layers before this one (default: all)."


@main.command()
@click.argument("checkpoint", type=click.Path())
@click.option("-n", "--num-images", type=at_least(1), default=10000, show_default=True, help="How many images.")
@click.option("-o", "--out", required=True, type=OutputPath(suffixes=(".npz", ".npy"), folder_ok=True),
              help="A folder (numbered PNGs), or a file ending in .npz (uint8 NCHW, key 'images') or .npy.")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the latents.")
@click.option("--batch-size", type=at_least(1), default=64, show_default=True)
@click.option("--device", type=DeviceType(), default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--truncation-psi", type=float, default=None, help=TRUNCATION_PSI_HELP)
@click.option("--truncation-cutoff", type=at_least(1), default=None, help=TRUNCATION_CUTOFF_HELP)
def generate(checkpoint: str, num_images: int, out: str, seed: int, batch_size: int, device: str | None,
             truncation_psi: float | None, truncation_cutoff: int | None) -> None:
    """Sample NUM_IMAGES from the EMA generator of CHECKPOINT (a checkpoint-*.pt or a run directory, whose newest
    checkpoint that loads is used)."""
    from pggan.generate import generate as generate_images

    images = generate_images(checkpoint, num_images, out, seed=seed, batch_size=batch_size, device=device,
                             truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
    click.echo(f"wrote {len(images)} images of {images.shape[2]}×{images.shape[3]} to {out}")


def ppl_command() -> click.Command:
    """`pggan ppl RUN_DIR`: ganeval's perceptual path length of a run's EMA generator, with the metric's options
    (less the latent length, which the run knows) and StyleGAN's truncation."""
    from ganeval import registry
    from ganeval_cli.common import common_parameters, emit
    from ganeval_cli.metric_commands import option_parameters

    metric = registry.metric_class("ppl")
    specs = {name: spec for name, spec in metric.all_options().items() if name != "latent_dim"}

    def run(run_dir: str, as_json: bool, truncation_psi: float | None, truncation_cutoff: int | None,
            **options: Any) -> None:
        from ganeval.api import evaluate_sets
        from ganeval.metrics.base import GENERATOR
        from ganeval_cli.metric_commands import distributed_device
        from pggan.generate import run_generator

        options["device"], prints = distributed_device(options["device"])
        generator = run_generator(run_dir, device=options["device"], truncation_psi=truncation_psi,
                                  truncation_cutoff=truncation_cutoff)
        result = evaluate_sets({GENERATOR: generator}, ("ppl",), {GENERATOR: f"{run_dir} (EMA generator)"},
                               value_range=(-1.0, 1.0), **options)["ppl"]
        if prints:
            emit(result, as_json, metric().rows(result))

    common = [parameter for parameter in common_parameters() if parameter.name not in ("num_images", "value_range")]
    truncation = [click.Option(["--truncation-psi"], type=float, default=None, help=TRUNCATION_PSI_HELP),
                  click.Option(["--truncation-cutoff"], type=at_least(1), default=None, help=TRUNCATION_CUTOFF_HELP)]
    return click.Command(
        "ppl", callback=run, params=[click.Argument(["run_dir"], type=click.Path()), *common,
                                     *option_parameters(specs), *truncation],
        short_help="perceptual path length of a run's EMA generator (ganeval's ppl)", epilog=metric.epilog,
        help=inspect.cleandoc("""
        Perceptual path length (StyleGAN §3) of RUN_DIR's EMA generator: its newest checkpoint that loads (or the
        checkpoint-*.pt given), at the resolution/α it was training at, as `pggan generate` samples it.

        The numbers of `ganeval ppl` on that generator: latent pairs from --seed, StyleGAN's slerp in Z, or with
        --space w (StyleGAN runs, whose mapping network gives W) the lerp between mapping(z) of them, --sampling end
        (t = 0) by default, LPIPS-VGG16 of the images at t and t + ε over ε², the 1st–99th percentiles averaged.
        Both ends of a step share their noise inputs. Outputs in [-1, 1] are taken as they are (no uint8 rounding).

        \b
        Example:  pggan ppl runs/g/ --num-samples 10000 --json
                  pggan ppl runs/stylegan2_e/ --space w --sampling end --json   # StyleGAN2's path length
        """))


main.add_command(ppl_command())


@main.command(short_help="StyleGAN2's droplet statistic: feature-map peak ratios of style runs")
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(), metavar="RUN_DIR [RUN_DIR ...]")
@click.option("-n", "--num-images", type=at_least(1), default=256, show_default=True,
              help="Images per run (drawn as `pggan generate --seed` draws them).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the latents and noise inputs.")
@click.option("--batch-size", type=at_least(1), default=64, show_default=True)
@click.option("--device", type=DeviceType(), default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object ({\"runs\": [...]}) on stdout.")
@click.option("--out", type=OutputPath(suffixes=(".png",)), default=None,
              help="Also write a PNG of the median and 99th percentile against resolution, one line per run.")
def droplets(run_dirs: tuple[str, ...], num_images: int, seed: int, batch_size: int, device: str | None,
             as_json: bool, out: str | None) -> None:
    """StyleGAN2 §2.1's "droplets": how spiky the feature maps of each RUN_DIR's EMA generator are, per resolution.

    For every (image, channel) map at every style layer, the peak ratio max|h| / mean|h| over its pixels (a flat
    map 1, one spike in an n-pixel map n), measured where the normalisation sees the map: AdaIN's input (StyleGAN,
    StyleGAN2 config A) or the modulated conv's output (StyleGAN2 configs B–F, weight demodulation). Per
    resolution: the median and 99th percentile over images × channels × layers, and the fraction of maps above
    max(n/16, 8) (magnitude in under 1/16 of the map). 4×4 and 8×8 are printed but near noise level; the
    statistic speaks from 16×16 up. Progressive GAN runs have no style layers and are refused.

    \b
    Example (AdaIN against demodulation, runs of `pggan ablation --grid stylegan2`):
      pggan droplets runs/sg2/seed-1000/A runs/sg2/seed-1000/B -n 256 --out droplets.png
    """
    from pggan.droplets import droplet_statistics, plot_droplets, run_label

    results = [droplet_statistics(run_dir, num_images=num_images, seed=seed, batch_size=batch_size, device=device)
               for run_dir in run_dirs]
    if out is not None:
        plot_droplets(results, out)
    if as_json:
        click.echo(json.dumps({"runs": results}))
        return
    header = ("run", "res", "layers", "maps", "median", "p99", "threshold", "above")
    rows = [(run_label(result), f"{row['resolution']}×{row['resolution']}", str(len(row["layers"])), str(row["maps"]),
             *("–" if row[key] is None else f"{row[key]:.3g}" for key in ("median", "p99")), f"{row['threshold']:g}",
             "–" if row["fraction_above"] is None else f"{row['fraction_above']:.2%}")
            for result in results for row in result["resolutions"]]
    widths = [max(len(line[column]) for line in (header, *rows)) for column in range(len(header))]
    for line in (header, *rows):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    click.echo(f"measured at: {', '.join(sorted({result['measured_at'] for result in results}))}; "
               f"{num_images} images, seed {seed}; above = peak ratio > {results[0]['threshold_rule'].split('> ')[1]}")
    if out is not None:
        click.echo(f"wrote {out}")


@main.command()
@click.argument("run_dir", type=click.Path())
@click.option("--kimg", type=float, default=None,
              help="Train to this many kimg in all (above what RUN_DIR has trained): a finished run is extended, its "
                   "last resolution training on; config.json records the change.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress line on stderr.")
def resume(run_dir: str, kimg: float | None, progress: bool) -> None:
    """Continue RUN_DIR from its newest checkpoint exactly as if it had never stopped.

    A newest checkpoint that does not load (a damaged file) is passed over, with a note, for the one before it. A
    finished run is left untouched (exit code 0, a note saying how far it trained, its metrics printed again);
    --kimg M trains it on to M kimg, as a run given --kimg M from the start would have been.
    """
    from pggan.train import resume as resume_training

    echo_metrics(resume_training(run_dir, kimg=kimg, progress=progress))


def echo_metrics(metrics: dict[str, Any]) -> None:
    """Print a run's final metrics as JSON; under torchrun only rank 0 has them (the others print nothing)."""
    if metrics:
        click.echo(json.dumps(metrics))


@main.command()
@click.option("--data", required=True, type=click.Path(), help="Prepared dataset .npz or .npy (see `pggan prepare`).")
@click.option("--out", required=True, type=OutputPath(folder=True),
              help="Folder for the runs (one per configuration), tables and figures.")
@click.option("--grid", type=click.Choice(list(GRIDS)), default="table1", show_default=True, is_eager=True,
              help="table1 = Table 1's rows (a)–(h), (e*); msg = MSG-GAN's rows R0 (g) … R6 (docs: MSG-GAN); "
                   "stylegan = StyleGAN's Table 1 rows A (g) … F (docs: StyleGAN); stylegan2 = StyleGAN2's "
                   "Table 1 configs A (stylegan_f) … F (docs: StyleGAN2).")
@click.option("--configs", default=None, callback=_table_rows,
              help="Comma-separated rows of the grid to train and evaluate (default: all of them).")
@click.option("--budget", type=click.Choice(list(BUDGETS)), default="quick", show_default=True,
              help="quick = Fashion-MNIST-sized 32×32 on a CPU; paper = 128×128, reduced-capacity nets, 10M images.")
@click.option("--kimg", type=float, default=None, help="kimg per configuration ((h) gets 2×); default: the budget's.")
@click.option("--lod-training-kimg", type=float, default=None, help="kimg per resolution (default: the budget's).")
@click.option("--lod-transition-kimg", type=float, default=None, help="kimg per fade-in (default: the budget's).")
@click.option("--kimg-per-tick", type=float, default=None, help="kimg between log lines (default: the budget's).")
@click.option("--metrics-ticks", type=at_least(0), default=2, show_default=True,
              help="Ticks between training-time SWD evaluations (the SWD-vs-kimg figure).")
@click.option("--metrics-images", type=at_least(0), default=None, help="Images per training-time SWD evaluation.")
@click.option("--swd-images", type=at_least(2), default=None,
              help="Generated and real images for the final SWD (paper 16384; quick budget 4096).")
@click.option("--msssim-pairs", type=at_least(1), default=None,
              help="Consecutive pairs for the final MS-SSIM (paper 10000; quick budget 2000).")
@click.option("--fid-images", type=at_least(2), default=None,
              help="Generated images for FID/KID (default: --swd-images).")
@click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
              help="Inception weights for FID/KID; without them (or $GANEVAL_INCEPTION_WEIGHTS / the torch hub "
                   "cache) FID/KID columns are left out.")
@click.option("--ppl-samples", type=at_least(1), default=None,
              help="Latent pairs for PPL (Z space, t ~ U(0, 1), no crop; paper budget 50000, quick 2000).")
@click.option("--vgg16-weights", type=click.Path(dir_okay=False), default=None,
              help="torchvision's VGG-16 weights (vgg16-397923af.pth) for PPL's LPIPS; without them (or "
                   "$GANEVAL_VGG16_WEIGHTS / the torch hub cache) the PPL column says 'not measured'.")
@click.option("--lpips-weights", type=click.Path(dir_okay=False), default=None,
              help="LPIPS v0.1 linear layers (default: the installed lpips package's vgg.pth).")
@click.option("--allow-unverified-weights", is_flag=True,
              help="Accept Inception, VGG-16 or LPIPS weights that are not the published files.")
@click.option("--jobs", type=at_least(1), default=1, show_default=True,
              help="Configurations trained at once, one process each (e.g. 2 on a 2-core CPU, or several on a GPU "
                   "with room); the CPU threads are shared out between them, and one progress line shows the "
                   "whole grid's kimg and ETA.")
@click.option("--device", type=DeviceType(), default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--seeds", type=SeedList(), default=None,
              help="Comma-separated seeds: every row is trained and evaluated once per seed (OUT/seed-S/ROW), and "
                   "the table gives mean ± standard deviation, e.g. --seeds 1000,1001,1002.  [default: 1000; with "
                   "--tables-only, every seed with a folder in OUT]")
@click.option("--tables-only", is_flag=True,
              help="Train nothing: rebuild the tables and figures from the runs that have finished (e.g. to commit "
                   "the seeds done so far while the rest still run elsewhere), over every seed in OUT unless "
                   "--seeds names some.")
@click.option("--set", "settings", multiple=True, metavar="NAME=VALUE", help="Any TrainConfig field, for every row.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress lines on stderr.")
def ablation(data: str, out: str, grid: str, configs: list[str], budget: str, kimg: float | None,
             lod_training_kimg: float | None, lod_transition_kimg: float | None, kimg_per_tick: float | None,
             metrics_ticks: int, metrics_images: int | None, swd_images: int | None, msssim_pairs: int | None,
             fid_images: int | None, inception_weights: str | None, ppl_samples: int | None,
             vgg16_weights: str | None, lpips_weights: str | None, allow_unverified_weights: bool, jobs: int,
             device: str | None, seeds: list[int] | None, tables_only: bool, settings: tuple[str, ...],
             progress: bool) -> None:
    """Reproduce Table 1 of Progressive Growing of GANs: train rows (a)–(h) and (e*) on DATA, score each (--grid
    msg: MSG-GAN's rows instead, into OUT/msg_grid.{md,csv,json}; --grid stylegan: StyleGAN's Table 1 rows A–F,
    into OUT/stylegan_table1.{md,csv,json}; --grid stylegan2: StyleGAN2's, into OUT/stylegan2_table1.{md,csv,json}).

    Every row trains with the same data and image budget, once per seed; each final EMA generator is scored with
    ganeval (SWD per pyramid level against the real set, MS-SSIM over consecutive generated pairs, FID/KID when
    Inception weights are at hand, PPL when VGG-16 and LPIPS weights are; the raw generator's SWD beside it).
    Writes OUT/table1.{md,csv,json} (mean ± standard deviation over the seeds, and a check of each trend the paper
    states), table1_per_seed.csv after every run (atomically), figure_samples.png (a row of fixed-latent samples
    per configuration) and figure_swd.png (SWD against kimg). Run it again after an interruption: finished runs
    are skipped, an interrupted one resumes; the tables are rebuilt from OUT/seed-S/ROW/evaluation.json alone.

    \b
    Example (Fashion-MNIST on 2 CPU cores, downloaded into data/raw/):
      pggan prepare --download fashion-mnist data/raw data/fmnist32.npz
      pggan ablation --data data/fmnist32.npz --out runs/ablation --budget quick --jobs 2 --seeds 1000,1001,1002
    """
    from pggan.ablation import run_ablation, seeds_in

    if seeds is None:
        seeds = (seeds_in(out) or [1000]) if tables_only else [1000]

    options = {"lod_training_kimg": "--lod-training-kimg", "lod_transition_kimg": "--lod-transition-kimg",
               "kimg_per_tick": "--kimg-per-tick", "metrics_num_images": "--metrics-images", "total_kimg": "--kimg"}
    overrides = {name: value for name, value in (("lod_training_kimg", lod_training_kimg),
                                                 ("lod_transition_kimg", lod_transition_kimg),
                                                 ("kimg_per_tick", kimg_per_tick),
                                                 ("metrics_num_images", metrics_images)) if value is not None}
    overrides.update(parse_settings(settings, options))
    for row in configs:  # every row's settings are checked before the first row trains
        config_from_options(functools.partial(GRIDS[grid].config, row, budget),
                            {**overrides, **({"total_kimg": kimg} if kimg is not None else {})}, options)
    table = run_ablation(data, out, grid=grid, configs=configs, budget=budget, kimg=kimg, device=device, seeds=seeds,
                         swd_num_images=swd_images, msssim_num_pairs=msssim_pairs, fid_num_images=fid_images,
                         ppl_num_samples=ppl_samples, inception_weights=inception_weights,
                         vgg16_weights=vgg16_weights, lpips_weights=lpips_weights,
                         allow_unverified_weights=allow_unverified_weights,
                         metrics_ticks=metrics_ticks, jobs=jobs, progress=progress, train=not tables_only,
                         **overrides)
    click.echo((Path(out) / f"{GRIDS[grid].stem}.md").read_text() if table["rows"] else "no rows")
