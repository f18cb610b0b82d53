"""The shared feature-statistics accumulator of FID, KID and IS: stream image batches through Inception, keep moments.

`FeatureStatistics.update(images)` runs one uint8 batch through the network and merges the batch's pool3 mean and
scatter matrix into the running ones in float64 (Chan et al.'s pairwise update, so no sum-of-squares cancellation);
`compute()` returns the mean, the unbiased covariance and, when asked for, every feature (KID) and logit vector (IS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganeval.errors import GanevalInputError
from ganeval.inception import FEATURE_DIM, InceptionExtractor, load_inception
from ganeval.sources import ImageSource, open_images, resolve_device
from ganeval.stats import is_stats_file, load_stats

DEFAULT_BATCH_SIZE = 64
DEFAULT_PRECISION = "fp32"


@dataclass
class FeatureMoments:
    """What `FeatureStatistics.compute()` returns: pool3 mean/covariance, optionally all features and logits."""

    num_images: int
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    features: np.ndarray | None = None
    logits: np.ndarray | None = None


class FeatureStatistics:
    """Streaming pool3 statistics (torchmetrics-style `update()`/`compute()`) over uint8 NCHW RGB batches."""

    def __init__(self, extractor: InceptionExtractor, *, keep_features: bool = False,
                 keep_logits: bool = False) -> None:
        self.extractor = extractor
        self.keep_features = keep_features
        self.keep_logits = keep_logits
        self.count = 0
        self.mean = torch.zeros(FEATURE_DIM, dtype=torch.float64, device=extractor.device)
        self.scatter = torch.zeros(FEATURE_DIM, FEATURE_DIM, dtype=torch.float64, device=extractor.device)
        self.kept_features: list[torch.Tensor] = []
        self.kept_logits: list[torch.Tensor] = []

    def update(self, images: torch.Tensor) -> None:
        """Add one batch of uint8 NCHW RGB images."""
        features, logits = self.extractor(images)
        if self.keep_features:
            self.kept_features.append(features.cpu())
        if self.keep_logits:
            self.kept_logits.append(logits.cpu())
        batch = features.to(torch.float64)
        batch_count = batch.shape[0]
        batch_mean = batch.mean(dim=0)
        centred = batch - batch_mean
        total = self.count + batch_count
        delta = batch_mean - self.mean
        self.scatter += centred.T @ centred + torch.outer(delta, delta) * (self.count * batch_count / total)
        self.mean += delta * (batch_count / total)
        self.count = total

    def compute(self) -> FeatureMoments:
        """Mean and unbiased covariance (float64), plus the kept float32 features/logits (N×2048, N×1008)."""
        sigma = self.scatter / max(self.count - 1, 1)
        return FeatureMoments(
            num_images=self.count, mu=self.mean.cpu().numpy(), sigma=sigma.cpu().numpy(),
            features=torch.cat(self.kept_features).numpy() if self.keep_features else None,
            logits=torch.cat(self.kept_logits).numpy() if self.keep_logits else None)


def accumulate(source: ImageSource, extractor: InceptionExtractor, *, name: str, num_images: int | None,
               batch_size: int, progress: bool, keep_features: bool = False, keep_logits: bool = False,
               min_images: int = 1, needed_for: str = "", value_range: tuple[float, float] | None = None
               ) -> FeatureMoments:
    """Stream every image of `source` (anything `open_images` accepts) through the extractor; return its moments."""
    statistics = FeatureStatistics(extractor, keep_features=keep_features, keep_logits=keep_logits)
    batches = open_images(source, name=name, num_images=num_images, batch_size=batch_size, device=extractor.device,
                          progress=progress, value_range=value_range)
    if batches.num_images is not None:
        _check_count(batches.num_images, min_images, batches.name, needed_for)
    for batch in batches:
        statistics.update(batch)
    _check_count(statistics.count, min_images, batches.name, needed_for)
    return statistics.compute()


def _check_count(count: int, min_images: int, name: str, needed_for: str) -> None:
    """Refuse a set smaller than a metric needs, naming the set and the reason."""
    if count < min_images:
        raise GanevalInputError(f"{name}: {count} images, but {needed_for} needs at least {min_images}")


def stats_or_images(source: ImageSource, extractor: InceptionExtractor, *, metric: str, name: str,
                    num_images: int | None, batch_size: int, progress: bool, keep_features: bool = False,
                    min_images: int = 1, needed_for: str = "", value_range: tuple[float, float] | None = None
                    ) -> FeatureMoments:
    """A set's moments: read from a ganeval stats file (checked against the extractor's settings) or computed.

    From a stats file, `num_images` does not apply: the file's moments cover all the images it was made from.
    """
    if not is_stats_file(source):
        return accumulate(source, extractor, name=name, num_images=num_images, batch_size=batch_size,
                          progress=progress, keep_features=keep_features, min_images=min_images,
                          needed_for=needed_for, value_range=value_range)
    stats = load_stats(source)  # type: ignore[arg-type]  # is_stats_file guarantees a path
    arrays = stats.require(metric, extractor.settings())
    count = int(stats.protocol[metric]["num_images"])
    _check_count(count, min_images, f"{name} ({source})", needed_for)
    return FeatureMoments(num_images=count, mu=arrays.get("mu"), sigma=arrays.get("sigma"),
                          features=arrays.get("features"))


def open_extractor(*, device: str | torch.device | None, inception_weights: str | os.PathLike | None, resize: str,
                   allow_unverified_weights: bool, precision: str) -> InceptionExtractor:
    """The Inception extractor on the resolved device (the one place the metrics load it)."""
    return load_inception(inception_weights, device=resolve_device(device), resize=resize,
                          allow_unverified_weights=allow_unverified_weights, precision=precision)


def extractor_description(extractor: InceptionExtractor) -> dict[str, Any]:
    """The fields every Inception metric result carries about how it was computed."""
    return {"weights_sha256": extractor.weights_sha256, "comparable_to_published": extractor.comparable_to_published,
            "resize": extractor.resize, "precision": extractor.precision, "device": str(extractor.device)}
