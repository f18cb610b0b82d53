"""`ganeval msssim`: MS-SSIM diversity of one set, or image-by-image similarity of two sets."""

from __future__ import annotations

from collections.abc import Callable

import click

from ganeval.defaults import DEFAULT_PAIRS, PAIRINGS
from ganeval_cli.common import at_least, common_options, emit


def msssim_rows(result: dict) -> list[tuple[str, str]]:
    """The MS-SSIM result as table rows."""
    rows = [("MS-SSIM", f"{result['msssim']:.4f}"),
            ("pairs", f"{result['num_pairs']} ({result['pairs']}, seed {result['seed']})"),
            ("resolution, device", f"{result['resolution'][0]}×{result['resolution'][1]}, {result['device']}")]
    if "note" in result:
        rows.append(("note", result["note"]))
    return rows


def msssim_options(function: Callable) -> Callable:
    """Add --pairs and --num-pairs."""
    options = [
        click.option("--pairs", type=click.Choice(PAIRINGS), default=DEFAULT_PAIRS, show_default=True,
                     help="consecutive: images 0&1, 2&3, … in file order (the reference protocol for a stream of "
                          "generated images); random: seeded pairs of distinct images (the whole set is held in "
                          "memory as uint8)."),
        click.option("--num-pairs", type=at_least(1), default=None,
                     help="Pairs to average (default: half the images, an odd last one left out; with IMAGES_B, one "
                          "pair per image)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@click.argument("images")
@click.argument("images_b", required=False)
@msssim_options
@common_options
def msssim(images: str, images_b: str | None, pairs: str, num_pairs: int | None, num_images: int | None,
           batch_size: int, device: str | None, seed: int, value_range: tuple[float, float] | None, as_json: bool,
           progress: bool) -> None:
    """Mean MS-SSIM over pairs of IMAGES: a diversity score, lower = more varied.

    MS-SSIM (Wang et al. 2003) compares two images by local means, contrasts and structure at five scales;
    1 means identical. Averaged over pairs of *different* generated images it measures how alike the
    samples are: a collapsed generator scores high, a varied one low. Progressive Growing of GANs (§5)
    averages 10,000 pairs from 20,000 generated images, e.g. `--num-pairs 10000` on a folder of 20,000.
    It says nothing about realism: compare it with the real set's own value.

    With IMAGES_B, image i of IMAGES is compared with image i of IMAGES_B instead (reconstructions).

    Images smaller than 161 px are measured the PGGAN way (window shrunk to min(11, side)); libraries with a
    fixed 11-px window refuse them, and a note says so. The minimum side is 16 px.

    \b
    Example:  ganeval msssim runs/g/fakes/ --num-pairs 10000
              ganeval msssim originals/ reconstructions/ --json
    """
    from ganeval.msssim import msssim as compute_msssim

    result = compute_msssim(images, images_b, num_pairs=num_pairs, pairs=pairs, seed=seed, batch_size=batch_size,
                            device=device, progress=progress, num_images=num_images, value_range=value_range)
    emit(result, as_json, msssim_rows(result))
