"""The shared feature-statistics accumulator of FID, KID and IS: stream image batches through a feature extractor.

`FeatureStatistics.update(images)` runs one uint8 batch through the network and merges the batch's pool3 mean and
scatter matrix into the running ones in float64 (Chan et al.'s pairwise update, so no sum-of-squares cancellation);
`compute()` returns the mean, the unbiased covariance and, when asked for, every feature (KID) and logit vector (IS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ganeval.accumulators.indexed_rows import IndexedRows, next_indices
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import FeatureExtractor


@dataclass
class FeatureMoments:
    """What `FeatureStatistics.compute()` returns: pool3 mean/covariance, optionally all features and logits."""

    num_images: int | None  # None: unknown (statistics imported from another tool)
    mu: np.ndarray | None = None
    sigma: np.ndarray | None = None
    features: np.ndarray | None = None
    logits: np.ndarray | None = None


class FeatureStatistics:
    """Streaming feature statistics (torchmetrics-style `update()`/`compute()`) over uint8 NCHW RGB batches.

    Moments merge by Chan et al.'s pairwise rule (also across processes, `merge`); kept features and logits are
    held with their image indices and returned in image order. `limit`: images with an index ≥ limit are ignored.
    """

    def __init__(self, extractor: FeatureExtractor, *, keep_features: bool = False, keep_logits: bool = False,
                 limit: int | None = None) -> None:
        self.extractor = extractor
        self.keep_features, self.keep_logits, self.limit = keep_features, keep_logits, limit
        self.reset()

    def reset(self) -> None:
        """Forget every image seen."""
        self.count = 0
        self.mean: torch.Tensor | None = None  # float64 (D,) and (D, D), made with the first features seen
        self.scatter: torch.Tensor | None = None
        self.kept_features = IndexedRows()
        self.kept_logits = IndexedRows()
        self._next_index = 0

    def update(self, images: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Add one batch of uint8 NCHW RGB images; `indices`: their indices in the set (default: the next ones)."""
        indices = next_indices(self._next_index, images.shape[0]) if indices is None else indices.cpu()
        if len(indices):
            self._next_index = int(indices.max()) + 1
        if self.limit is not None:
            kept = indices < self.limit
            images, indices = images[kept.to(images.device)], indices[kept]
        if images.shape[0] == 0:
            return
        features, logits = self.extractor(images)
        if not bool(torch.isfinite(features).all()) or (logits is not None and not bool(torch.isfinite(logits).all())):
            first = int(indices[0])
            raise GanevalInputError(f"the {self.extractor.name} features of images {first}…{first + len(indices) - 1} "
                                    "hold NaN or inf (a features module that overflows, or weights that do)")
        if self.keep_features:
            self.kept_features.add(features.cpu(), indices)
        if self.keep_logits:
            if logits is None:
                raise GanevalInputError(f"the {self.extractor.name} features have no class logits (the Inception "
                                        "Score needs inception-v3-tf)")
            self.kept_logits.add(logits.cpu(), indices)
        batch = features.to(torch.float64)
        batch_mean = batch.mean(dim=0)
        centred = batch - batch_mean
        self._merge_moments(batch.shape[0], batch_mean, centred.T @ centred)

    def _merge_moments(self, count: int, mean: torch.Tensor, scatter: torch.Tensor) -> None:
        """Chan et al.'s pairwise update of (count, mean, scatter) by another part's moments."""
        if self.mean is None:
            self.mean = torch.zeros_like(mean, device=self.extractor.device)
            self.scatter = torch.zeros_like(scatter, device=self.extractor.device)
        total = self.count + count
        delta = mean.to(self.mean.device) - self.mean
        self.scatter += scatter.to(self.scatter.device) + torch.outer(delta, delta) * (self.count * count / total)
        self.mean += delta * (count / total)
        self.count = total

    def merge(self, other: FeatureStatistics) -> None:
        """Add the moments, features and logits `other` (same extractor settings, other images) holds."""
        if other.extractor.settings() != self.extractor.settings():
            raise GanevalInputError("cannot merge feature statistics of other extractor settings")
        if other.count:
            self._merge_moments(other.count, other.mean, other.scatter)
        self.kept_features.merge(other.kept_features)
        self.kept_logits.merge(other.kept_logits)

    def compute(self) -> FeatureMoments:
        """Mean and unbiased covariance (float64), plus the kept float32 features/logits (N×D, N×classes)."""
        if self.mean is None:
            return FeatureMoments(num_images=0)
        sigma = self.scatter / max(self.count - 1, 1)
        return FeatureMoments(
            num_images=self.count, mu=self.mean.cpu().numpy(), sigma=sigma.cpu().numpy(),
            features=self.kept_features.ordered().numpy() if self.keep_features and self.count else None,
            logits=self.kept_logits.ordered().numpy() if self.keep_logits and self.count else None)

    def state_dict(self) -> dict[str, Any]:
        """Moments, kept features and logits (on the CPU), to send to another process or save."""
        return {"count": self.count, "mean": None if self.mean is None else self.mean.cpu(),
                "scatter": None if self.scatter is None else self.scatter.cpu(),
                "features": self.kept_features.state_dict() if self.kept_features.num_images else None,
                "logits": self.kept_logits.state_dict() if self.kept_logits.num_images else None}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the contents by those of `state_dict()` (the extractor stays)."""
        self.reset()
        self.count = int(state["count"])
        self.mean, self.scatter = (None if state[key] is None else state[key].to(self.extractor.device)
                                   for key in ("mean", "scatter"))
        for rows, key in ((self.kept_features, "features"), (self.kept_logits, "logits")):
            if state[key] is not None:
                rows.load_state_dict(state[key])
