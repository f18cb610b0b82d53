"""An example metric from outside ganeval: the distance between two image sets' mean colours.

A package registers it by declaring, in its pyproject.toml,

    [project.entry-points."ganeval.metrics"]
    mean_colour = "mean_colour:MeanColourMetric"

after which `ganeval.evaluate(…, metrics=("mean_colour", …))`, `ganeval.mean_colour(real, fake)`, `ganeval eval
--metrics mean_colour`, `ganeval mean_colour REAL FAKE` and `ganeval stats --metrics mean_colour` all know it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ganeval import FAKE, REAL, Metric, Option, register_metric


class MeanColour:
    """The accumulator: per-channel sums of each image's mean colour, and the number of images (float64)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.sums, self.count = np.zeros(3), 0

    def update(self, batch: Any, indices: Any) -> None:
        """Add a uint8 N×3×H×W batch (its images' indices are not needed: a sum does not depend on order)."""
        self.sums += batch.double().mean(dim=(2, 3)).sum(dim=0).cpu().numpy()
        self.count += batch.shape[0]

    def merge(self, other: MeanColour) -> None:
        self.sums += other.sums
        self.count += other.count

    def compute(self) -> dict[str, Any]:
        return {"mean": self.sums / self.count, "num_images": self.count}

    def state_dict(self) -> dict[str, Any]:
        return {"sums": self.sums.copy(), "count": self.count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.sums, self.count = np.array(state["sums"]), int(state["count"])


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
        return {"mean": stats.require(self.name, {})["mean"], "num_images": stats.protocol[self.name]["num_images"]}

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        mean = arrays.get("mean")
        return None if mean is not None and mean.shape == (3,) else f"mean_colour/mean is not 3 numbers: {mean!r}"

    def result(self, statistics: dict[str, Any], run: Any) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        result = {"metric": self.name, "distance": float(np.linalg.norm(fake["mean"] - real["mean"])),
                  "num_images": [real["num_images"], fake["num_images"]]}
        if run.options["per_channel"]:
            result["difference"] = (fake["mean"] - real["mean"]).tolist()
        return result

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        rows = [("mean colour distance", f"{result['distance']:.3f}"),
                ("images (real, fake)", f"{result['num_images'][0]}, {result['num_images'][1]}")]
        if "difference" in result:
            rows.append(("difference (R, G, B)", ", ".join(f"{value:+.3f}" for value in result["difference"])))
        return rows
