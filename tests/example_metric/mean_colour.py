"""An example metric, added from outside ganeval: the distance between two image sets' mean colours.

A package registers it by declaring, in its pyproject.toml,

    [project.entry-points."ganeval.metrics"]
    mean_colour = "mean_colour:MeanColourMetric"

after which `ganeval.evaluate(…, metrics=("mean_colour", …))`, `ganeval.mean_colour(real, fake)`, `ganeval eval
--metrics mean_colour`, `ganeval mean_colour REAL FAKE` and `ganeval stats --metrics mean_colour` all know it.
Like the built-in metrics it imports neither torch nor numpy itself: it only calls methods of the tensors and
arrays it is given, so listing the metrics stays fast.
"""

from __future__ import annotations

import math
from typing import Any

from ganeval import FAKE, REAL, Metric, Option, register_metric


class MeanColour:
    """The accumulator: the sum of each image's mean colour (float64, on the CPU) and the number of images."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums: Any = None
        self.count = 0

    def update(self, batch: Any, indices: Any) -> None:
        """Add a uint8 N×3×H×W batch (a sum needs no image indices; another batch split moves its last bits)."""
        means = batch.double().mean(dim=(2, 3)).sum(dim=0).cpu()
        self.sums = means if self.sums is None else self.sums + means
        self.count += batch.shape[0]

    def merge(self, other: MeanColour) -> None:
        if other.count:
            self.sums = other.sums if self.sums is None else self.sums + other.sums
            self.count += other.count

    def compute(self) -> dict[str, Any]:
        return {"mean": (self.sums / self.count).tolist(), "num_images": self.count}

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums, "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums, self.count = state["sums"], int(state["count"])


@register_metric
class MeanColourMetric(Metric):
    """Euclidean distance between the mean RGB colours of two image sets (0–255 units; 0 when they match)."""

    name = "mean_colour"
    title = "distance between the sets' mean RGB colours"
    sets = {"real": REAL, "fake": FAKE}
    options = {"per_channel": Option(False, "Also report each channel's difference (fake − real).", kind="bool")}
    stored = True
    command_help = """
    Distance between the mean colours of REAL and FAKE, in 0–255 units (0 when they match).

    \b
    Example:  ganeval mean_colour data/real/ samples/ --per-channel
    """

    def accumulator(self, set_name: str, run: Any) -> MeanColour:
        return MeanColour()

    def stats_arrays(self, statistics: dict[str, Any], run: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"mean": statistics["mean"]}, {"settings": {}, "num_images": statistics["num_images"]}

    def from_stats(self, stats: Any, set_name: str, run: Any) -> dict[str, Any]:
        return {"mean": stats.require(self.name, {})["mean"].tolist(),
                "num_images": stats.protocol[self.name]["num_images"]}

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        mean = arrays.get("mean")
        return None if mean is not None and mean.shape == (3,) else "mean_colour/mean is not 3 numbers"

    def result(self, statistics: dict[str, Any], run: Any) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        difference = [fake_channel - real_channel for real_channel, fake_channel in zip(real["mean"], fake["mean"])]
        result = {"metric": self.name, "distance": math.hypot(*difference),
                  "num_images": [real["num_images"], fake["num_images"]]}
        if run.options["per_channel"]:
            result["difference"] = difference
        return result

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        rows = [("mean colour distance", f"{result['distance']:.3f}"),
                ("images (real, fake)", f"{result['num_images'][0]}, {result['num_images'][1]}")]
        if "difference" in result:
            rows.append(("difference (R, G, B)", ", ".join(f"{value:+.3f}" for value in result["difference"])))
        return rows
