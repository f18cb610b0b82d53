"""MS-SSIM diversity: mean multi-scale SSIM over pairs of images (Wang et al. 2003; PGGAN §5 protocol).

PGGAN (Karras et al. 2018) reports the mean MS-SSIM of 10,000 pairs drawn from 20,000 generated images as a
diversity measure: lower means more varied. The algorithm follows the PGGAN/TensorFlow reference exactly: an
11×11 Gaussian window (σ=1.5, MATLAB fspecial grid), 'valid' filtering per channel, the window shrunk to
min(11, H, W) with σ scaled alike at small levels, K1=0.01, K2=0.03, 0-255 range, five levels with weights
`WEIGHTS`, 2×2 block averaging between levels, per-level means over pixels and channels clipped at 0, and
MS-SSIM = prod_{l<5} cs_l ** w_l * ssim_5 ** w_5 (Wang et al. 2003, eq. 7).

Beyond the reference: any side of at least 16 px is measured (an odd last row/column is dropped before each 2×2
average), and the arithmetic is float64 so results do not depend on float32 cancellation in
sigma = E[xy] - E[x]E[y] (values up to 255² against c2 = 58.5). The reference code's 2×2 average adds the strided
slices [0::2] and [1::2], which numpy can add at an odd side only when it is 1 or 3 px, and it averages after each
of the five levels, the fifth's result unused. So it runs only on sides of 16, 24 and 48 px and multiples of 32,
and fails with a ValueError on any other side, multiples of 16 such as 80, 112 and 144 included. Where it runs it
equals this module to float32 precision (within 5e-6 relative), except at 24 px: there it averages the 3-px fourth
level into a 2×2 fifth level, using the middle row and column twice, where this module drops the last row and
column and has a 1×1 fifth level, and the values differ (0.1333 against 0.1524 on unrelated photo crops).
"""

from __future__ import annotations

from typing import Any, Literal

from ganeval import accumulators, kernels
from ganeval.defaults import DEFAULT_PAIRS, FILTER_SIGMA, FILTER_SIZE, K1, K2, MAX_VALUE, MSSSIM_WEIGHTS, PAIRINGS
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import FAKE, FAKE_B, Metric, Run, image_count
from ganeval.registry import Option, register_metric

FIXED_WINDOW_MIN_SIZE = (FILTER_SIZE - 1) * 2 ** (len(MSSSIM_WEIGHTS) - 1) + 1  # pytorch-msssim needs sides > 160


@register_metric
class MSSSIMMetric(Metric):
    """Mean MS-SSIM over pairs of one set (`pairs` = consecutive or random) or image i of `images` against
    image i of `images_b` (lower = more varied; PGGAN §5: 10,000 pairs of 20,000 generated images).

    Consecutive pairing of an odd number of images leaves the last one out.
    """

    name = "msssim"
    title = "MS-SSIM diversity of a set (PGGAN protocol; lower = more varied)"
    sets = {"images": FAKE, "images_b": FAKE_B}
    optional_sets = (FAKE_B,)
    reads_in_step = True
    options = {
        "num_pairs": Option(None, "Pairs of FAKE images to average (default: half the images, an odd last one "
                            "left out; `ganeval msssim IMAGES IMAGES_B`: one pair per image).", minimum=1),
        "pairs": Option(DEFAULT_PAIRS, "consecutive: images 0&1, 2&3, … in file order (the reference protocol for a "
                        "stream of generated images); random: seeded pairs of distinct images (the whole set is held "
                        "in memory as uint8).", kind="str", choices=PAIRINGS),
    }
    command_help = """
    Mean MS-SSIM over pairs of IMAGES: a diversity score, lower = more varied.

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

    def check(self, options: dict[str, Any]) -> None:
        num_pairs, count = options["num_pairs"], image_count(options, self.name)
        if FAKE_B in options["sets"]:
            if options["pairs"] != "consecutive":
                raise GanevalInputError("pairs='random' draws pairs within one set; with a second set image i is "
                                        "always compared with image i (leave pairs at 'consecutive')")
            if num_pairs is not None and count is not None and num_pairs > count:
                raise GanevalInputError(f"num_pairs={num_pairs} needs {num_pairs} images of each set, but "
                                        f"num_images={count}")
        elif num_pairs is not None and options["pairs"] == "consecutive" and count is not None \
                and 2 * num_pairs > count:
            raise GanevalInputError(f"num_pairs={num_pairs} needs {2 * num_pairs} images of each set, but "
                                    f"num_images={count}")

    @staticmethod
    def pairs_needed(options: dict[str, Any]) -> int | None:
        """The images of each set that num_pairs takes (None: no such limit)."""
        if options["num_pairs"] is None or options["pairs"] != "consecutive":
            return None
        return options["num_pairs"] if FAKE_B in options["sets"] else 2 * options["num_pairs"]

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        needed = self.pairs_needed(options)
        return image_count(options, self.name) if needed is None else needed

    def count_label(self, options: dict[str, Any]) -> str | None:
        return None if self.pairs_needed(options) is None else f"num_pairs={options['num_pairs']}"

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        needed = self.pairs_needed(options)
        if needed is not None:
            return needed, f"num_pairs={options['num_pairs']}"
        return (1, "two-set MS-SSIM") if FAKE_B in options["sets"] else (2, "MS-SSIM")

    def accumulator(self, set_name: str, run: Run) -> Any:
        stream = run.streams[set_name]
        if stream.height is not None:
            kernels.msssim.check_size(stream.height, stream.width, stream.name)
        options = run.options
        if FAKE_B not in run.streams:
            return accumulators.msssim.MSSSIMAccumulator(stream.device, pairs=options["pairs"],
                                                         num_pairs=options["num_pairs"], seed=run.seed,
                                                         batch_size=options["batch_size"])
        first, second = run.streams[FAKE], run.streams[FAKE_B]
        if None not in (first.height, second.height) and (first.height, first.width) != (second.height,
                                                                                         second.width):
            raise GanevalInputError(f"{run.labels[FAKE]} are {first.height}×{first.width} but {run.labels[FAKE_B]} "
                                    f"are {second.height}×{second.width}; two-set MS-SSIM compares equal sizes")
        return run.shared("msssim two sets", lambda: accumulators.msssim.MSSSIMAccumulator(
            first.device, pairs="two_sets", num_pairs=options["num_pairs"], seed=run.seed,
            batch_size=options["batch_size"], names=(run.labels[FAKE], run.labels[FAKE_B])))

    def feed(self, accumulator: Any, set_name: str, batch: Any, indices: Any) -> None:
        if set_name == FAKE_B:
            accumulator.update_second(batch, indices)
        else:
            accumulator.update(batch, indices)

    def statistics(self, accumulator: Any) -> dict[str, Any]:
        return {**accumulator.compute(), "device": str(accumulator.device)}

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        stream = run.streams[FAKE]
        pairs = "two_sets" if FAKE_B in run.streams else run.options["pairs"]
        return msssim_result(statistics[FAKE], pairs, run.seed, run.options["batch_size"],
                             (stream.height, stream.width))

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        rows = [("MS-SSIM", f"{result['msssim']:.4f}"),
                ("pairs", f"{result['num_pairs']} ({result['pairs']}, seed {result['seed']})"),
                ("resolution, device", f"{result['resolution'][0]}×{result['resolution'][1]}, {result['device']}")]
        short = _size_note(*result["resolution"], short=True)
        if short:
            rows.append(("note", f"{short} (--json: the full note)"))
        return rows


def _reference_code_outcome(side: int) -> Literal["same", "different", "fails"]:
    """What the PGGAN reference code's msssim does with a side of `side` px (at least `MIN_SIZE`), against ganeval.

    Its 2×2 average adds slices [0::2] and [1::2], of (n + 1) / 2 and (n − 1) / 2 rows at an odd side n, which
    numpy broadcasts only for n = 1 and n = 3, and it averages after each of the five levels. A side of 16·k runs
    for k = 1, 3 or even (odd k ≥ 5 leaves a fifth level of k px to average); 24 runs with a 3-px fourth level
    averaged into a 2×2 fifth level, the middle row and column used twice (ganeval's is 1×1); every other side
    meets an odd side of 5 px or more before the fifth level.
    """
    if side in (16, 48) or side % 32 == 0:
        return "same"
    return "different" if side == 24 else "fails"


def _size_note(height: int, width: int, short: bool = False) -> str | None:
    """Say where this differs from fixed-window MS-SSIM libraries, or from what the reference code does at this size
    (`short`: in a few words, for the table)."""
    outcomes = {_reference_code_outcome(height), _reference_code_outcome(width)}
    if short:
        words = [f"below {FIXED_WINDOW_MIN_SIZE} px the window shrinks as in PGGAN's code, so not comparable with "
                 "pytorch-msssim" if min(height, width) < FIXED_WINDOW_MIN_SIZE else "",
                 "PGGAN's code cannot run this size" if "fails" in outcomes else
                 "PGGAN's code differs at 24 px" if "different" in outcomes else ""]
        return "; ".join(word for word in words if word) or None
    notes = []
    if min(height, width) < FIXED_WINDOW_MIN_SIZE:
        notes.append(f"{height}×{width} images: libraries that keep the 11-px window at all "
                     f"{len(MSSSIM_WEIGHTS)} levels (pytorch-msssim) refuse sides below {FIXED_WINDOW_MIN_SIZE} "
                     "px; this follows the PGGAN reference, which shrinks the window to min(11, side) with sigma "
                     "scaled alike, so values at this size are not comparable with theirs")
    if "fails" in outcomes:
        notes.append(f"the PGGAN reference code fails on {height}×{width} images (it runs only on sides of 16, 24 "
                     f"and 48 px and multiples of 32: its 2×2 average, also run after the fifth level, cannot take "
                     f"an odd side of 5 px or more); here an odd last row/column is dropped before each 2×2 average")
    elif "different" in outcomes:
        notes.append("at a side of 24 px the PGGAN reference code gives other values: its 2×2 average turns the "
                     "3-px fourth level into a 2×2 fifth level, using the middle row/column twice, where this drops "
                     "the last row/column and has a 1×1 fifth level")
    return "; ".join(notes) or None



def msssim_result(scores: dict[str, Any], pairs: str, seed: int, batch_size: int, resolution: tuple[int, int]
                  ) -> dict[str, Any]:
    """The msssim result dict: the mean and pair count, the pairing, and every setting of the protocol."""
    result: dict[str, Any] = {"metric": "msssim", "msssim": scores["msssim"], "num_pairs": scores["num_pairs"],
                              "pairs": pairs, "seed": seed, "device": scores["device"], "resolution": list(resolution),
                              "batch_size": batch_size, "weights": list(MSSSIM_WEIGHTS), "filter_size": FILTER_SIZE,
                              "filter_sigma": FILTER_SIGMA, "k1": K1, "k2": K2, "max_value": MAX_VALUE}
    note = _size_note(*resolution)
    if note:
        result["note"] = note
    return result
