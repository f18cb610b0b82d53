"""Sliced Wasserstein distance between Laplacian-pyramid descriptor sets (Karras et al. 2018, §5 and Table 1).

Protocol (defaults = progressive_growing_of_gans/metrics/sliced_wasserstein.py): per image and pyramid level,
128 random 7×7×3 neighbourhoods; per set and level, each colour channel normalised by the mean and standard
deviation of that set's descriptors; per level, the mean over 4 repeats of 128 random unit directions of the
mean |sorted projections of A − sorted projections of B|; reported ×10³ per level and averaged. Pyramid levels
are counted from the image height, as the reference counts them: `resolutions` lists each level's height (the
reference's SWDx1e3_<height> names), level k of H×W images being H/2ᵏ × W/2ᵏ, so 128×64 images have four levels
(128 … 16) and 64×128 images three (64 … 16). Portrait images whose coarsest level would be narrower than the 7×7
neighbourhood are refused (the reference code fails on them); see `ganeval.kernels.pyramid.pyramid_resolutions`.

Beyond the reference: sets of unequal size use the exact 1-D Wasserstein-1 distance between the two
empirical distributions (the integral of |F⁻¹ − G⁻¹| over the merged quantile breakpoints); every random
choice comes from `seed`, so the same seed gives the same number on the same device.
"""

from __future__ import annotations

from typing import Any

from ganeval import accumulators, kernels
from ganeval.defaults import (
    DIR_REPEATS,
    DIRS_PER_REPEAT,
    MIN_RESOLUTION,
    NHOOD_SIZE,
    NHOODS_PER_IMAGE,
    STREAM_FAKE,
    STREAM_REAL,
)
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import FAKE, REAL, Metric, Run
from ganeval.registry import Option, register_metric

# The settings that decide which descriptors are drawn (so a stats file records and checks them).
DESCRIPTOR_SETTINGS = ("nhoods_per_image", "nhood_size", "min_resolution")


@register_metric
class SWDMetric(Metric):
    """Sliced Wasserstein distance of the PGGAN paper between a real set (or its stats file) and a fake set.

    Returns resolutions (each level's height, highest first), swd_x1e3 per level, swd_x1e3_avg, num_images, seed,
    device and every setting. `num_images` caps each set; the two sets may differ in size.
    """

    name = "swd"
    title = "sliced Wasserstein distance of PGGAN (Karras et al. 2018, §5, Table 1)"
    sets = {"real": REAL, "fake": FAKE}
    options = {
        "normalize": Option("per_set", "per_set: each set by its own channel mean/std (the reference); real: both "
                            "by the real set's.", kind="str", choices=("per_set", "real")),
        "nhoods_per_image": Option(NHOODS_PER_IMAGE, "7×7 neighbourhoods drawn per image and pyramid level.",
                                   minimum=1, stored=True),
        "nhood_size": Option(NHOOD_SIZE, "Side of the square neighbourhoods (odd).", minimum=1, flag="",
                             stored=True),
        "dir_repeats": Option(DIR_REPEATS, "Sets of random directions averaged per level.", minimum=1),
        "dirs_per_repeat": Option(DIRS_PER_REPEAT, "Random unit directions per set.", minimum=1),
        "min_resolution": Option(MIN_RESOLUTION, "Side of the coarsest pyramid level.", minimum=1, flag="",
                                 stored=True),
    }
    stored = True
    command_help = """
    Sliced Wasserstein distance between REAL and FAKE (lower is closer), per pyramid level ×10³.

    The protocol of Progressive Growing of GANs (§5): a Laplacian pyramid from full resolution down to
    16 px, 128 random 7×7 neighbourhoods per image and level, each set normalised per colour channel,
    4 × 128 random projections. The paper uses 16,384 images per set. The finest level measures detail,
    the coarsest large-scale structure. REAL may be a stats file from `ganeval stats`.

    \b
    Example:  ganeval swd data/real/ runs/g/fakes/ --num-images 16384
    """

    def check(self, options: dict[str, Any]) -> None:
        if options["nhood_size"] % 2 == 0:
            raise GanevalInputError(f"nhood_size must be odd (neighbourhoods are centred on a pixel), got "
                                    f"{options['nhood_size']}")

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return 1, "SWD"

    @staticmethod
    def settings(options: dict[str, Any]) -> dict[str, Any]:
        return {name: options[name] for name in DESCRIPTOR_SETTINGS}

    def accumulator(self, set_name: str, run: Run) -> Any:
        stream = run.streams[set_name]
        settings = self.settings(run.options)
        if stream.height is not None:
            try:  # the size check of the pyramid, before any descriptor is drawn, naming the set
                kernels.pyramid.pyramid_resolutions(stream.height, stream.width, settings["min_resolution"],
                                                    settings["nhood_size"])
            except GanevalInputError as error:
                raise GanevalInputError(f"{stream.name}: {error}") from None
        return accumulators.swd.SWDDescriptors(seed=run.seed, stream=STREAM_REAL if set_name == REAL else STREAM_FAKE,
                                               limit=self.limit(run.options, set_name), **settings)

    def statistics(self, accumulator: Any) -> tuple[list[Any], dict[str, Any]]:
        return accumulator.compute(), accumulator.protocol()

    def from_stats(self, stats: Any, set_name: str, run: Run) -> tuple[list[Any], dict[str, Any]]:
        arrays = stats.require("swd", {**self.settings(run.options), "seed": run.seed})  # positions drew on the seed
        return accumulators.swd.levels_from_arrays(arrays, run.device), stats.protocol["swd"]

    def stats_arrays(self, statistics: tuple[list[Any], dict[str, Any]], run: Run
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        levels, protocol = statistics
        return accumulators.swd.levels_as_arrays(levels), protocol

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        settings, count = record["settings"], record["num_images"]
        for name in (*DESCRIPTOR_SETTINGS, "seed"):
            value = settings.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                return f"swd: the setting {name} is {value!r}, not a non-negative integer"
        shape, resolutions = settings.get("image_shape"), record.get("resolutions")
        if shape is not None and not (isinstance(shape, list) and len(shape) == 2
                                      and all(isinstance(side, int) and side > 0 for side in shape)):
            return f"swd: the image shape {shape!r} is not two positive integers"
        if resolutions is not None and not (isinstance(resolutions, list) and resolutions and all(
                isinstance(side, int) and not isinstance(side, bool) and side > 0 for side in resolutions)):
            return f"swd: the pyramid resolutions {resolutions!r} are not a list of positive integers"
        expected = [f"level{i}" for i in range(len(resolutions or arrays))]
        if sorted(arrays) != sorted(expected):
            return f"swd: arrays {sorted(arrays)}, expected {expected}"
        width = settings.get("nhood_size", 0) ** 2 * 3
        rows = count * settings.get("nhoods_per_image", 0)
        for name in expected:
            if arrays[name].ndim != 2 or arrays[name].shape != (rows, width):
                return f"swd/{name} has shape {arrays[name].shape}, expected ({rows}, {width})"
        return None

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        (levels_real, protocol_real), (levels_fake, protocol_fake) = statistics[REAL], statistics[FAKE]
        if protocol_real["settings"]["image_shape"] != protocol_fake["settings"]["image_shape"]:
            raise GanevalInputError(f"REAL images are {protocol_real['settings']['image_shape']} and FAKE images "
                                    f"{protocol_fake['settings']['image_shape']} (H, W); SWD compares sets of one size")
        if protocol_real["resolutions"] != protocol_fake["resolutions"]:
            raise GanevalInputError(f"REAL has pyramid levels {protocol_real['resolutions']} but FAKE, of the same "
                                    f"image size, {protocol_fake['resolutions']}: the REAL stats file comes from a "
                                    "ganeval that counted the levels of non-square images from the narrow side; "
                                    "recompute it")
        options = run.options
        distances = kernels.wasserstein.swd_from_descriptors(
            levels_real, levels_fake, seed=run.seed, normalize=options["normalize"],
            dir_repeats=options["dir_repeats"], dirs_per_repeat=options["dirs_per_repeat"],
            progress=options["progress"])
        swd_x1e3 = [1e3 * distance for distance in distances]
        return {"metric": "swd", "resolutions": protocol_fake["resolutions"], "swd_x1e3": swd_x1e3,
                "swd_x1e3_avg": sum(swd_x1e3) / len(swd_x1e3),
                "num_images": [protocol_real["num_images"], protocol_fake["num_images"]],
                "seed": run.seed, "device": str(run.device), "normalize": options["normalize"],
                "dir_repeats": options["dir_repeats"], "dirs_per_repeat": options["dirs_per_repeat"],
                **self.settings(options)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        """One row per pyramid level, then the average and the run's settings."""
        rows = [(f"SWD x1e3 @ {resolution}px", f"{value:10.3f}")
                for resolution, value in zip(result["resolutions"], result["swd_x1e3"])]
        rows.append(("SWD x1e3 average", f"{result['swd_x1e3_avg']:10.3f}"))
        rows.append(("images (real, fake)", f"{result['num_images'][0]}, {result['num_images'][1]}"))
        rows.append(("seed, device", f"{result['seed']}, {result['device']}"))
        return rows
