"""KID: the unbiased polynomial-kernel MMD² against its definition, seeding, and the too-few-images message."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ganeval import kid
from ganeval.errors import GanevalInputError
from ganeval.kernels.mmd import kid_from_features, polynomial_mmd2


def mmd2_by_definition(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² written term by term: mean k over distinct pairs within each set − 2 · mean k across."""
    def k(a, b):
        return (a @ b / len(a) + 1) ** 3

    m = len(x)
    within = sum(k(x[i], x[j]) + k(y[i], y[j]) for i, j in itertools.permutations(range(m), 2)) / (m * (m - 1))
    across = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return within - 2 * across


def test_polynomial_mmd2_equals_its_definition():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 1, (7, 16)), rng.uniform(0, 1.3, (7, 16))
    assert polynomial_mmd2(x, y) == pytest.approx(mmd2_by_definition(x, y), rel=1e-12)  # float64 both ways


def test_kid_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(1)
    real, same, shifted = rng.uniform(0, 1, (300, 32)), rng.uniform(0, 1, (300, 32)), rng.uniform(0.2, 1.2, (300, 32))
    mean_same, std_same = kid_from_features(real, same, num_subsets=20, subset_size=100)
    mean_shifted, _ = kid_from_features(real, shifted, num_subsets=20, subset_size=100)
    assert abs(mean_same) < 3 * std_same  # unbiased: zero within its spread for one distribution
    assert mean_shifted > 10 * std_same


def test_same_seed_gives_the_same_kid_and_another_seed_another():
    rng = np.random.default_rng(2)
    real, fake = rng.uniform(0, 1, (50, 8)), rng.uniform(0, 1.1, (50, 8))
    first = kid_from_features(real, fake, num_subsets=5, subset_size=20, seed=7)
    assert kid_from_features(real, fake, num_subsets=5, subset_size=20, seed=7) == first
    assert kid_from_features(real, fake, num_subsets=5, subset_size=20, seed=8) != first


@pytest.mark.slow  # compares with a peer (torch-fidelity)
def test_kid_subsets_are_drawn_as_torch_fidelity_draws_them():
    metric_kid = pytest.importorskip("torch_fidelity.metric_kid")
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    real, fake = rng.uniform(0, 1, (40, 64)), rng.uniform(0, 1.2, (30, 64))
    theirs = metric_kid.kid_features_to_metric(torch.from_numpy(real), torch.from_numpy(fake), kid_subsets=6,
                                               kid_subset_size=12, rng_seed=5, verbose=False)
    ours = kid_from_features(real, fake, num_subsets=6, subset_size=12, seed=5)
    # float64 features on both sides: the same subsets give the same sums up to summation order.
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-10)
    assert ours[1] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-8)


def test_fewer_images_than_the_subset_size_is_refused_before_extraction(image_folders, metric_options):
    with pytest.raises(GanevalInputError, match="10 images, but KID with subset size 1000 .*--subset-size"):
        kid(*image_folders, **metric_options)


def test_kid_on_folders_repeats_with_its_seed(image_folders, metric_options):
    first = kid(*image_folders, num_images=6, num_subsets=4, subset_size=5, seed=1, **metric_options)
    second = kid(*image_folders, num_images=6, num_subsets=4, subset_size=5, seed=1, **metric_options)
    assert first["kid_mean"] == second["kid_mean"] and first["kid_std"] == second["kid_std"]
    assert first["metric"] == "kid" and first["num_images"] == [6, 6] and first["subset_size"] == 5
