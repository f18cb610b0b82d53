"""`ganeval swd`: the sliced Wasserstein distance of PGGAN; its options also serve `ganeval eval` and `stats`."""

from __future__ import annotations

from collections.abc import Callable

import click

from ganeval.defaults import DIR_REPEATS, DIRS_PER_REPEAT, NHOODS_PER_IMAGE
from ganeval_cli.common import at_least, common_options, emit


def nhoods_option(function: Callable) -> Callable:
    """Add --nhoods-per-image (it decides the stored descriptors, so `ganeval stats` takes it too)."""
    return click.option("--nhoods-per-image", type=at_least(1), default=NHOODS_PER_IMAGE, show_default=True,
                        help="7×7 neighbourhoods drawn per image and pyramid level.")(function)


def swd_options(function: Callable) -> Callable:
    """Add --normalize, --nhoods-per-image, --dir-repeats and --dirs-per-repeat."""
    options = [
        click.option("--normalize", type=click.Choice(["per_set", "real"]), default="per_set", show_default=True,
                     help="per_set: each set by its own channel mean/std (the reference); real: both by the real "
                          "set's."),
        nhoods_option,
        click.option("--dir-repeats", type=at_least(1), default=DIR_REPEATS, show_default=True,
                     help="Sets of random directions averaged per level."),
        click.option("--dirs-per-repeat", type=at_least(1), default=DIRS_PER_REPEAT, show_default=True,
                     help="Random unit directions per set."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def swd_rows(result: dict) -> list[tuple[str, str]]:
    """The SWD result as table rows: one per pyramid level, then the average and the run's settings."""
    rows = [(f"SWD x1e3 @ {resolution}px", f"{value:10.3f}")
            for resolution, value in zip(result["resolutions"], result["swd_x1e3"])]
    rows.append(("SWD x1e3 average", f"{result['swd_x1e3_avg']:10.3f}"))
    rows.append(("images (real, fake)", f"{result['num_images'][0]}, {result['num_images'][1]}"))
    rows.append(("seed, device", f"{result['seed']}, {result['device']}"))
    return rows


@click.command()
@click.argument("real")
@click.argument("fake")
@common_options
@swd_options
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
    from ganeval.swd import swd as compute_swd

    result = compute_swd(real, fake, num_images=num_images, batch_size=batch_size, device=device, seed=seed,
                         normalize=normalize, nhoods_per_image=nhoods_per_image, dir_repeats=dir_repeats,
                         dirs_per_repeat=dirs_per_repeat, progress=progress, value_range=value_range)
    emit(result, as_json, swd_rows(result))
