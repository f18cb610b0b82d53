"""Bad arguments to the library's functions end in one GanevalInputError that says what is wrong — never a
TypeError or ValueError from deep inside, never a number."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ganeval
from ganeval.errors import GanevalInputError
from tests.helpers import smooth_images


@pytest.fixture(scope="module")
def sets() -> tuple[np.ndarray, np.ndarray]:
    return smooth_images(6, 32, seed=1), smooth_images(6, 32, seed=2)


@pytest.mark.parametrize("metrics, message", [
    (123, "metrics must be names such as 'swd,fid'"),
    (["swd", None], "unknown metric(s) None"),
    ([None], "unknown metric(s) None"),
    ("", "unknown metric(s) (none given)"),
    (["swd", "fdi"], "unknown metric(s) 'fdi'; choose from dc, fid, is, kid, ls, msssim, ppl, pr, swd"),
])
def test_metric_lists_that_name_no_metric(sets, metrics, message):
    with pytest.raises(GanevalInputError) as raised:
        ganeval.evaluate(*sets, metrics=metrics, device="cpu")
    assert message in str(raised.value)


class NaNFeatures(torch.nn.Module):
    """A features module whose output overflows for every image."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.full((images.shape[0], 4), float("nan"))


def test_a_features_module_that_returns_nan_is_named(sets):
    with pytest.raises(GanevalInputError, match=r"the nan-module features of images 0…5 hold NaN or inf"):
        ganeval.fid(*sets, features=NaNFeatures(), features_name="nan-module", device="cpu")


@pytest.mark.parametrize("function", [ganeval.precision_recall_from_features, ganeval.density_coverage_from_features])
@pytest.mark.parametrize("features, message", [
    (np.array([["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]]), "array of numbers"),
    (np.ones((8, 3), dtype=bool), "array of real numbers"),
    ([[1.0, 2.0], [3.0]], "array of numbers"),
])
def test_feature_arrays_that_are_not_numbers(function, features, message):
    with pytest.raises(GanevalInputError, match=f"real features must be an N×D {message}"):
        function(features, np.random.default_rng(0).normal(size=(8, 2)), k=2)


def test_a_generator_that_returns_an_empty_batch(sets):
    def empty(count: int) -> torch.Tensor:
        return torch.zeros(0, 3, 32, 32, dtype=torch.uint8)

    with pytest.raises(GanevalInputError, match="FAKE: the generator returned 0 images when asked for 4"):
        ganeval.swd(sets[0], empty, num_images=4, batch_size=4, device="cpu")
