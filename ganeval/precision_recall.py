"""Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019) of two sets' extractor features.

Each feature is the centre of a hypersphere whose radius is the distance to its k-th nearest other feature of its
own set (k = 3 by default). Precision is the share of fake features inside at least one real feature's sphere
(distance ≤ radius): how much of what the generator makes lies on the real manifold. Recall is the share of real
features inside some fake feature's sphere: how much of the real manifold the generator covers. Both in [0, 1],
higher is better.

Protocol, as the authors' code and torch-fidelity's `prc` do it: Euclidean distances; the radius is the (k + 1)-th
smallest distance to the set's features with the feature's own 0 counted, so the point itself is excluded and a
duplicate counts as a neighbour at 0; a point on a sphere's surface is inside. Every distance is exact to float64
(`ganeval.neighbours`: blocks of BLAS distances with a proven error margin, the undecided pairs by the definition),
so ties and duplicates are decided as the definition decides them and the numbers do not depend on the block size
or the device.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch

from ganeval.defaults import DEFAULT_FEATURES, DEFAULT_PR_K, DEFAULT_RESIZE
from ganeval.features import DEFAULT_BATCH_SIZE, DEFAULT_PRECISION, FeatureMetric
from ganeval.metric import FAKE, REAL, Run
from ganeval.neighbours import feature_pair, kth_neighbour_squared_distances, sphere_memberships
from ganeval.sources import ImageSource, check_at_least


def precision_recall_from_features(real: np.ndarray | torch.Tensor, fake: np.ndarray | torch.Tensor, *,
                                   k: int = DEFAULT_PR_K, device: torch.device | str | None = None,
                                   block_size: int | None = None) -> dict[str, float]:
    """{"precision", "recall"} of two N×D and M×D feature sets (arrays or tensors), exact in float64.

    `device`: where to compute (default: where `real` is; numpy arrays: the CPU). `block_size`: the side of the
    blocks of distances held at once (default 2048 on the CPU, 8192 on CUDA); the result does not depend on it.
    """
    real_tensor, fake_tensor = feature_pair(real, fake, k, device)
    real_radii = kth_neighbour_squared_distances(real_tensor, k, block_size=block_size)
    fake_radii = kth_neighbour_squared_distances(fake_tensor, k, block_size=block_size)
    inside = sphere_memberships(real_tensor, fake_tensor, real_radii, fake_radii, strict=False,
                                block_size=block_size)
    return {"precision": int((inside.fake_in_real_spheres > 0).sum()) / fake_tensor.shape[0],
            "recall": int(inside.real_in_fake_sphere.sum()) / real_tensor.shape[0]}


class PrecisionRecallMetric(FeatureMetric):
    """`pr` in ganeval.evaluate: improved precision and recall of the two sets' features."""

    name = "pr"
    reads = (REAL, FAKE)
    options = {"pr_k": DEFAULT_PR_K}
    keep_features = True
    stored = True

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        check_at_least("pr_k", options["pr_k"])

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["pr_k"] + 1, f"precision/recall with k = {options['pr_k']} (lower it with --pr-k)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        k = run.options["pr_k"]
        numbers = precision_recall_from_features(real.features, fake.features, k=k, device=run.device)
        # Prefixed: the extractor's description has a "precision" of its own (fp32 or tf32).
        return {"metric": "pr", "pr_precision": numbers["precision"], "pr_recall": numbers["recall"], "k": k,
                "num_images": [real.num_images, fake.num_images], **run.extractor().description()}


def precision_recall(real: ImageSource, fake: ImageSource, *, k: int = DEFAULT_PR_K, num_images: int | None = None,
                     batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None,
                     features: str | Any = DEFAULT_FEATURES, features_name: str | None = None,
                     inception_weights: str | os.PathLike | None = None,
                     dinov2_weights: str | os.PathLike | None = None, resize: str = DEFAULT_RESIZE,
                     allow_unverified_weights: bool = False, precision: str = DEFAULT_PRECISION,
                     progress: bool = False, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Improved precision and recall between two image sets (higher is better); `real` may be a stats file made with
    pr features.

    `features` as in `ganeval.fid`. One-metric call of `ganeval.evaluate`.
    """
    from ganeval.evaluate import evaluate

    return evaluate(real, fake, metrics=("pr",), num_images=num_images, batch_size=batch_size, device=device,
                    features=features, features_name=features_name, inception_weights=inception_weights,
                    dinov2_weights=dinov2_weights, resize=resize, allow_unverified_weights=allow_unverified_weights,
                    precision=precision, progress=progress, pr_k=k, value_range=value_range)["pr"]
