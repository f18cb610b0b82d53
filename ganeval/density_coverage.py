"""Density and coverage (Naeem et al., ICML 2020) of two sets' extractor features, with prdc's precision and recall.

Each real feature is the centre of a hypersphere whose radius is the distance to its k-th nearest other real
feature (k = 5 by default). Density is the number of real spheres holding each fake feature, averaged over the fake
features and divided by k: about 1 when the fake features are distributed like the real ones, above 1 when they
crowd into dense real regions, below when they fall outside. Coverage is the share of real features whose sphere
holds at least one fake feature: how much of the real distribution is reached, robust to real outliers. Alongside,
precision (share of fake features inside some real sphere) and recall (share of real features inside some fake
feature's sphere, fake radii from the fake set) as the authors' `prdc` package computes them with the same k. All
four are higher-is-better; density is unbounded, the others lie in [0, 1].

Protocol, as `prdc.compute_prdc` does it: Euclidean distances; the radius is the (k + 1)-th smallest distance with
the feature's own 0 counted; inside means strictly closer than the radius (prdc's `<`, where improved precision and
recall count the surface as inside). Distances are exact to float64 (`ganeval.neighbours`), computed in blocks, so
no N × M matrix is ever held.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ganeval.defaults import DEFAULT_DC_K, DEFAULT_FEATURES, DEFAULT_RESIZE
from ganeval.features import DEFAULT_BATCH_SIZE, DEFAULT_PRECISION, FeatureMetric
from ganeval.metric import FAKE, REAL, Run
from ganeval.neighbours import feature_pair, kth_neighbour_squared_distances, sphere_memberships
from ganeval.sources import ImageSource, check_at_least


def density_coverage_from_features(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, *,
                                   k: int = DEFAULT_DC_K, device: torch.device | str | None = None,
                                   block_size: int | None = None) -> dict[str, float]:
    """{"precision", "recall", "density", "coverage"} of two N×D and M×D feature sets, as `prdc.compute_prdc(real,
    fake, k)` defines them, exact in float64.

    `device` and `block_size` as in `ganeval.precision_recall.precision_recall_from_features`.
    """
    real_tensor, fake_tensor = feature_pair(real, fake, k, device)
    real_radii = kth_neighbour_squared_distances(real_tensor, k, block_size=block_size)
    fake_radii = kth_neighbour_squared_distances(fake_tensor, k, block_size=block_size)
    inside = sphere_memberships(real_tensor, fake_tensor, real_radii, fake_radii, strict=True, block_size=block_size)
    num_real, num_fake = real_tensor.shape[0], fake_tensor.shape[0]
    return {"precision": int((inside.fake_in_real_spheres > 0).sum()) / num_fake,
            "recall": int(inside.real_in_fake_sphere.sum()) / num_real,
            "density": int(inside.fake_in_real_spheres.sum()) / (k * num_fake),
            "coverage": int(inside.real_sphere_has_fake.sum()) / num_real}


class DensityCoverageMetric(FeatureMetric):
    """`dc` in ganeval.evaluate: density and coverage (and prdc's precision and recall) of the two sets' features."""

    name = "dc"
    reads = (REAL, FAKE)
    options = {"dc_k": DEFAULT_DC_K}
    keep_features = True
    stored = True

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        check_at_least("dc_k", options["dc_k"])

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["dc_k"] + 1, f"density/coverage with k = {options['dc_k']} (lower it with --dc-k)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        k = run.options["dc_k"]
        numbers = density_coverage_from_features(real.features, fake.features, k=k, device=run.device)
        # Prefixed: the extractor's description has a "precision" of its own (fp32 or tf32).
        return {"metric": "dc", **{f"dc_{name}": value for name, value in numbers.items()}, "k": k,
                "num_images": [real.num_images, fake.num_images], **run.extractor().description()}


def density_coverage(real: ImageSource, fake: ImageSource, *, k: int = DEFAULT_DC_K, num_images: int | None = None,
                     batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None,
                     features: str | Any = DEFAULT_FEATURES, features_name: str | None = None,
                     inception_weights: str | os.PathLike | None = None,
                     dinov2_weights: str | os.PathLike | None = None, resize: str = DEFAULT_RESIZE,
                     allow_unverified_weights: bool = False, precision: str = DEFAULT_PRECISION,
                     progress: bool = False, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Density and coverage (with prdc's precision and recall) between two image sets (higher is better); `real` may
    be a stats file made with dc features.

    `features` as in `ganeval.fid`. One-metric call of `ganeval.evaluate`.
    """
    from ganeval.evaluate import evaluate

    return evaluate(real, fake, metrics=("dc",), num_images=num_images, batch_size=batch_size, device=device,
                    features=features, features_name=features_name, inception_weights=inception_weights,
                    dinov2_weights=dinov2_weights, resize=resize, allow_unverified_weights=allow_unverified_weights,
                    precision=precision, progress=progress, dc_k=k, value_range=value_range)["dc"]
