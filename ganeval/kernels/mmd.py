"""The unbiased squared MMD with the cubic polynomial kernel, averaged over random subsets: the arithmetic of KID
(Bińkowski et al. 2018, eq. 4).

k(x, y) = (x·y / d + 1)³, averaged over `num_subsets` random subsets of `subset_size` features from each set
(drawn without replacement by `numpy.random.RandomState(seed)`, real then fake, as torch-fidelity and the MMD-GAN
reference code draw them).
"""

from __future__ import annotations

import numpy as np

from ganeval.defaults import DEFAULT_NUM_SUBSETS, DEFAULT_SUBSET_SIZE
from ganeval.errors import GanevalInputError


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
