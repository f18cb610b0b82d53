"""What a metric is to `ganeval.evaluate`: which image sets it reads, the accumulator it feeds from each, how it
takes the real set from a stats file, and how it turns the accumulated statistics into its result dict.

A metric module defines one `Metric` subclass; `ganeval.evaluate` keeps the registry and drives the pass. A `Run`
is what one evaluation shares among its metrics: the settings, the opened image streams, the stats file, and the one
feature accumulator per set that FID, KID, IS (and every metric on extractor features) feed together: one network
pass per image for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ganeval.errors import GanevalInputError
from ganeval.sources import ImageBatches
from ganeval.stats import Stats

REAL, FAKE = "real", "fake"


@dataclass
class Run:
    """One evaluation: its settings, the image sets opened for it, the real set's stats file if one was given."""

    options: dict[str, Any]
    device: torch.device
    streams: dict[str, ImageBatches] = field(default_factory=dict)
    stats: Stats | None = None
    _extractor: Any = None
    _features: dict[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.options["seed"]

    def label(self, set_name: str) -> str:
        """The set's name for messages: the stream's ("FAKE (samples/)") or the stats file's."""
        if set_name in self.streams:
            return self.streams[set_name].name
        return f"{set_name.upper()} ({self.stats.path})" if self.stats is not None else set_name.upper()

    def extractor(self) -> Any:
        """The feature extractor the options ask for (Inception by default), loaded once per run."""
        if self._extractor is None:
            from ganeval.extractors import open_extractor

            self._extractor = open_extractor(self.options, self.device)
        return self._extractor

    def feature_statistics(self, set_name: str, *, limit: int | None, keep_features: bool = False,
                           keep_logits: bool = False) -> Any:
        """The set's one feature accumulator, shared by every metric that reads the extractor's features of it."""
        from ganeval.features import FeatureStatistics

        statistics = self._features.get(set_name)
        if statistics is None:  # the feature metrics share one image count (FeatureMetric.limit checks it)
            statistics = self._features[set_name] = FeatureStatistics(self.extractor(), limit=limit)
        statistics.keep_features |= keep_features
        statistics.keep_logits |= keep_logits
        return statistics


class Metric:
    """One metric of `ganeval.evaluate` (subclasses fill the class attributes and the methods)."""

    name: ClassVar[str]
    reads: ClassVar[tuple[str, ...]]  # (REAL, FAKE) or (FAKE,)
    options: ClassVar[dict[str, Any]]  # this metric's keyword options and their defaults
    stored: ClassVar[bool] = False  # whether `ganeval stats` can store the real set's statistics of it
    minimum_stored: ClassVar[int] = 1  # the fewest images whose statistics a stats file may hold

    def check(self, options: dict[str, Any]) -> None:
        """Refuse option values that cannot work (GanevalInputError naming the option)."""

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        """How many images of the set this metric uses (None: all of them)."""
        return image_count(options, self.name)

    def count_label(self, options: dict[str, Any]) -> str | None:
        """What asks for this metric's image count, for the message when a set holds fewer (None: --num-images)."""
        return None

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        """The fewest images of each set it reads that it needs, and what needs them (for the message)."""
        return 1, self.name

    def accumulator(self, set_name: str, run: Run) -> Any:
        """A fresh accumulator fed with the set's batches (`update(batch, indices)`), or the shared Inception one."""
        raise NotImplementedError

    def statistics(self, accumulator: Any) -> Any:
        """What `result` takes from a fed (and merged) accumulator."""
        return accumulator.compute()

    def from_stats(self, stats: Stats, run: Run) -> Any:
        """The same statistics of the real set, from a stats file (its protocol checked against this run's)."""
        raise GanevalInputError(f"{stats.path}: a stats file holds no {self.name} statistics of the real set")

    def stats_arrays(self, statistics: Any, run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
        """The real set's statistics as stats-file arrays and protocol record (for `ganeval stats`)."""
        raise GanevalInputError(f"{self.name} keeps nothing of the real set that a stats file could hold")

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        """The metric's result dict from the statistics of each set it reads."""
        raise NotImplementedError


def image_count(options: dict[str, Any], metric: str) -> int | None:
    """`num_images` for `metric`: the number given, or its entry when a dict per metric was given."""
    count = options["num_images"]
    return count.get(metric) if isinstance(count, dict) else count
