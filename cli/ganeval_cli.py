"""The `ganeval` command: GAN metrics on folders, arrays or stats files; a thin layer over the library."""

from __future__ import annotations

from pathlib import Path

import click

import ganeval
from ganeval.defaults import DIR_REPEATS, DIRS_PER_REPEAT, MAX_DEMO_RESOLUTION, MIN_RESOLUTION, NHOODS_PER_IMAGE
from ganeval_cli.common import SEED, CommandGroup, DeviceType, OutputPath, at_least, common_options, emit
from ganeval_cli.inception_commands import fid_command, inception_options, inception_score_command, kid_command
from ganeval_cli.msssim_command import msssim


@click.group(cls=CommandGroup)
@click.version_option(ganeval.__version__, prog_name="ganeval")
def main() -> None:
    """Evaluate GAN samples the way the papers do.

    \b
    ganeval swd REAL FAKE      sliced Wasserstein distance of PGGAN (Karras et al. 2018, Table 1)
    ganeval msssim FAKE        MS-SSIM diversity of a set (PGGAN protocol; lower = more varied)
    ganeval fid REAL FAKE      Fréchet Inception distance (TF Inception 2015-12-05, TF resize)
    ganeval kid REAL FAKE      kernel Inception distance (unbiased MMD², cubic kernel)
    ganeval is FAKE            Inception Score (10 splits)
    ganeval stats REAL -o F    save the real set's statistics once, then pass F instead of REAL
    ganeval demo               make two small image folders and score them (no data needed)

    REAL and FAKE are folders of images (png/jpg/bmp/webp/gif/tif, searched recursively), .npy/.npz arrays
    (NHWC or NCHW; uint8, or float with --value-range), or for REAL a stats file.

    \b
    Exit codes: 0 ok, 2 bad input (one `error:` line says which option or file and why),
    1 an unexpected error (a bug: please report the traceback), 130 interrupted.
    """


def swd_rows(result: dict) -> list[tuple[str, str]]:
    """The SWD result as table rows: one per pyramid level, then the average and the run's settings."""
    rows = [(f"SWD x1e3 @ {resolution}px", f"{value:10.3f}")
            for resolution, value in zip(result["resolutions"], result["swd_x1e3"])]
    rows.append(("SWD x1e3 average", f"{result['swd_x1e3_avg']:10.3f}"))
    rows.append(("images (real, fake)", f"{result['num_images'][0]}, {result['num_images'][1]}"))
    rows.append(("seed, device", f"{result['seed']}, {result['device']}"))
    return rows


@main.command()
@click.argument("real")
@click.argument("fake")
@common_options
@click.option("--normalize", type=click.Choice(["per_set", "real"]), default="per_set", show_default=True,
              help="per_set: each set by its own channel mean/std (the reference); real: both by the real set's.")
@click.option("--nhoods-per-image", type=at_least(1), default=NHOODS_PER_IMAGE, show_default=True,
              help="7×7 neighbourhoods drawn per image and pyramid level.")
@click.option("--dir-repeats", type=at_least(1), default=DIR_REPEATS, show_default=True,
              help="Sets of random directions averaged per level.")
@click.option("--dirs-per-repeat", type=at_least(1), default=DIRS_PER_REPEAT, show_default=True,
              help="Random unit directions per set.")
def swd(real: str, fake: str, num_images: int | None, batch_size: int, device: str | None, seed: int,
        value_range: tuple[float, float] | None, as_json: bool, progress: bool, normalize: str,
        nhoods_per_image: int, dir_repeats: int, dirs_per_repeat: int) -> None:
    """Sliced Wasserstein distance between REAL and FAKE (lower is closer), per pyramid level ×10³.

    The protocol of Progressive Growing of GANs (§5): a Laplacian pyramid from full resolution down to
    16 px, 128 random 7×7 neighbourhoods per image and level, each set normalised per colour channel,
    4 × 128 random projections. The paper uses 16,384 images per set. The finest level measures detail,
    the coarsest large-scale structure. REAL may be a stats file from `ganeval stats`.

    \b
    Example:  ganeval swd data/real/ runs/g/fakes/ --num-images 16384
    """
    result = ganeval.swd(real, fake, num_images=num_images, batch_size=batch_size, device=device, seed=seed,
                         normalize=normalize, nhoods_per_image=nhoods_per_image, dir_repeats=dir_repeats,
                         dirs_per_repeat=dirs_per_repeat, progress=progress, value_range=value_range)
    emit(result, as_json, swd_rows(result))


@main.command()
@click.argument("real")
@click.option("-o", "--output", required=True, type=OutputPath(suffixes=(".npz",)),
              help="The stats file to write (.npz); written atomically, its folder checked before any work.")
@common_options
@click.option("--fid", "with_fid", is_flag=True,
              help="Also store Inception statistics (FID mean/covariance and KID features).")
@click.option("--no-swd", is_flag=True, help="Skip the SWD descriptors (they are large: 128×147 floats per "
                                             "image and level).")
@click.option("--nhoods-per-image", type=at_least(1), default=NHOODS_PER_IMAGE, show_default=True,
              help="7×7 neighbourhoods drawn per image and pyramid level.")
@inception_options
def stats(real: str, output: str, num_images: int | None, batch_size: int, device: str | None, seed: int,
          value_range: tuple[float, float] | None, as_json: bool, progress: bool, with_fid: bool, no_swd: bool,
          nhoods_per_image: int, inception_weights: str | None, allow_unverified_weights: bool, resize: str,
          tf32: bool) -> None:
    """Compute the real set's statistics once and save them to OUTPUT for reuse as REAL.

    The file records the protocol (settings, image count, ganeval version); a later metric run with other
    settings is refused rather than silently wrong.

    \b
    Example:  ganeval stats data/real/ -o real_stats.npz && ganeval swd real_stats.npz fakes/
    """
    from ganeval.stats import save_stats
    from ganeval.swd import swd_reference_stats

    arrays, protocol = {}, {}
    if no_swd and not with_fid:
        raise click.UsageError("--no-swd without --fid leaves nothing to store")
    open_options = {"num_images": num_images, "batch_size": batch_size, "progress": progress,
                    "value_range": value_range}
    if not no_swd:
        arrays["swd"], protocol["swd"] = swd_reference_stats(
            real, seed=seed, device=device, nhoods_per_image=nhoods_per_image, **open_options)
    if with_fid:
        from ganeval.fid import reference_stats

        fid_arrays, fid_protocol = reference_stats(
            real, device=device, inception_weights=inception_weights, allow_unverified_weights=allow_unverified_weights,
            resize=resize, precision="tf32" if tf32 else "fp32", **open_options)
        arrays.update(fid_arrays)
        protocol.update(fid_protocol)
    save_stats(output, arrays, protocol)
    counts = {metric: record["num_images"] for metric, record in protocol.items()}
    result = {"metric": "stats", "output": str(output), "metrics": sorted(protocol), "num_images": counts}
    emit(result, as_json, [("wrote", str(output)), ("metrics", ", ".join(sorted(protocol))),
                           ("images", ", ".join(f"{m}: {n}" for m, n in counts.items()))])


@main.command()
@click.option("--out", default="ganeval-demo", show_default=True, type=OutputPath(folder=True),
              help="Folder to write real/ and fake/ into.")
@click.option("--num-images", type=at_least(2), default=256, show_default=True, help="Images per set.")
@click.option("--resolution", type=click.IntRange(MIN_RESOLUTION, MAX_DEMO_RESOLUTION), default=64,
              show_default=True, help="Side of the square images (SWD needs ≥ 16; the photographs allow ≤ 150).")
@click.option("--device", type=DeviceType(), default=None, help="cpu, cuda, … (default: cuda when available).")
@click.option("--seed", type=SEED, default=0, show_default=True, help="Seed of the crops and of the metrics.")
@click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout.")
def demo(out: str, num_images: int, resolution: int, device: str | None, seed: int, as_json: bool) -> None:
    """Write two small image folders from scikit-image's bundled photographs and score them with SWD.

    real/ holds random crops of the photographs; fake/ holds other crops, blurred (σ = 1 px) as an
    imperfect generator would. The SWD table shows the blur most at the finest pyramid level.
    """
    from ganeval.demo import write_demo_sets

    real_dir, fake_dir = write_demo_sets(Path(out), num_images=num_images, resolution=resolution, seed=seed)
    click.echo(f"wrote {num_images} real and {num_images} fake {resolution}×{resolution} images under {out}/",
               err=True)
    result = ganeval.swd(real_dir, fake_dir, device=device, seed=seed)
    result["real"], result["fake"] = str(real_dir), str(fake_dir)
    emit(result, as_json, swd_rows(result))


for command in (msssim, fid_command, kid_command, inception_score_command):
    main.add_command(command)
