"""Kernel Inception Distance: unbiased MMD² between two sets' pool3 features with a cubic polynomial kernel.

k(x, y) = (x·y / d + 1)³, averaged over `num_subsets` random subsets of `subset_size` features from each set
(drawn without replacement by `numpy.random.RandomState(seed)`, real then fake, as torch-fidelity and the MMD-GAN
reference code draw them). Lower is better; small negative values are possible (the estimator is unbiased) and mean
the sets are indistinguishable at this sample size.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ganeval.defaults import DEFAULT_FEATURES, DEFAULT_NUM_SUBSETS, DEFAULT_RESIZE, DEFAULT_SUBSET_SIZE
from ganeval.errors import GanevalInputError
from ganeval.features import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PRECISION,
    FeatureMetric,
)
from ganeval.metric import FAKE, REAL, Run
from ganeval.sources import ImageSource


def _check_subsets(num_subsets: int, subset_size: int) -> None:
    """Refuse subset settings that cannot give an estimate."""
    if num_subsets < 1 or subset_size < 2:
        raise GanevalInputError(f"KID needs num_subsets ≥ 1 and subset_size ≥ 2, got {num_subsets} and {subset_size}")


def polynomial_mmd2(real: np.ndarray, fake: np.ndarray) -> float:
    """Unbiased MMD² of two equal-sized feature sets under k(x, y) = (x·y / d + 1)³, in float64."""
    m, dimension = real.shape
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    k_real = (real @ real.T / dimension + 1) ** 3
    k_fake = (fake @ fake.T / dimension + 1) ** 3
    k_cross = (real @ fake.T / dimension + 1) ** 3
    within = (k_real.sum() - np.trace(k_real) + k_fake.sum() - np.trace(k_fake)) / (m * (m - 1))
    return float(within - 2 * k_cross.mean())


def kid_from_features(real: np.ndarray, fake: np.ndarray, *, num_subsets: int = DEFAULT_NUM_SUBSETS,
                      subset_size: int = DEFAULT_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the subset MMD² estimates."""
    _check_subsets(num_subsets, subset_size)
    rng = np.random.RandomState(seed)
    estimates = []
    for _ in range(num_subsets):
        real_subset = real[rng.choice(len(real), subset_size, replace=False)]
        fake_subset = fake[rng.choice(len(fake), subset_size, replace=False)]
        estimates.append(polynomial_mmd2(real_subset, fake_subset))
    return float(np.mean(estimates)), float(np.std(estimates))


class KIDMetric(FeatureMetric):
    """`kid` in ganeval.evaluate: the subset MMD² estimates on the two sets' pool3 features."""

    name = "kid"
    reads = (REAL, FAKE)
    options = {"num_subsets": DEFAULT_NUM_SUBSETS, "subset_size": DEFAULT_SUBSET_SIZE}
    keep_features = True
    stored = True

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        _check_subsets(options["num_subsets"], options["subset_size"])

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["subset_size"], f"KID with subset size {options['subset_size']} (lower it with --subset-size)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        options = run.options
        mean, std = kid_from_features(real.features, fake.features, num_subsets=options["num_subsets"],
                                      subset_size=options["subset_size"], seed=run.seed)
        return {"metric": "kid", "kid_mean": mean, "kid_std": std, "num_images": [real.num_images, fake.num_images],
                "num_subsets": options["num_subsets"], "subset_size": options["subset_size"], "seed": run.seed,
                **run.extractor().description()}


def kid(real: ImageSource, fake: ImageSource, *, num_images: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None, features: str | Any = DEFAULT_FEATURES,
        features_name: str | None = None, inception_weights: str | os.PathLike | None = None,
        dinov2_weights: str | os.PathLike | None = None, resize: str = DEFAULT_RESIZE,
        allow_unverified_weights: bool = False, precision: str = DEFAULT_PRECISION, progress: bool = False,
        num_subsets: int = DEFAULT_NUM_SUBSETS, subset_size: int = DEFAULT_SUBSET_SIZE,
        seed: int = 0, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """KID between two image sets; `real` may be a stats file made with KID features (lower is better).

    `features` as in `ganeval.fid`. One-metric call of `ganeval.evaluate`.
    """
    from ganeval.evaluate import evaluate

    return evaluate(real, fake, metrics=("kid",), num_images=num_images, batch_size=batch_size, device=device,
                    features=features, features_name=features_name, inception_weights=inception_weights,
                    dinov2_weights=dinov2_weights, resize=resize, allow_unverified_weights=allow_unverified_weights,
                    precision=precision, progress=progress, num_subsets=num_subsets, subset_size=subset_size,
                    seed=seed, value_range=value_range)["kid"]
