"""FID: the Fréchet distance against closed forms and scipy's sqrtm, the streaming accumulator against numpy, the
stats-file reuse, the weights look-up and verification, and one clear message per bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch

from ganeval import fid
from ganeval.accumulators.features import FeatureStatistics
from ganeval.api import load_stats, reference_statistics
from ganeval.errors import GanevalInputError
from ganeval.extractors.inception import (
    INCEPTION_WEIGHTS,
    TORCH_FIDELITY_WEIGHTS_FILE_NAME,
    WEIGHTS_ENV,
    WEIGHTS_FILE_NAME,
    load_inception,
    read_state_dict,
)
from ganeval.kernels.frechet import frechet_distance
from ganeval.stats import save_stats
from tests.helpers import make_images, write_folder


def random_spd(dimension: int, rng: np.random.Generator, condition: float = 10.0) -> np.ndarray:
    """A random symmetric positive-definite matrix with eigenvalues spread log-uniformly over `condition`."""
    rotation, _ = np.linalg.qr(rng.standard_normal((dimension, dimension)))
    eigenvalues = np.geomspace(1.0, 1.0 / condition, dimension)
    return (rotation * eigenvalues) @ rotation.T


def scipy_frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """The pytorch-fid formula as an oracle: scipy.linalg.sqrtm of Σ₁Σ₂, with its ε·I fallback when singular."""
    root = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(root).all():
        offset = np.eye(len(sigma1)) * 1e-6
        root = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    difference = mu1 - mu2
    return float(difference @ difference + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(root.real))


def test_frechet_distance_is_zero_for_identical_statistics():
    rng = np.random.default_rng(0)
    sigma = random_spd(64, rng, condition=1e6)
    mu = rng.standard_normal(64)
    # The terms cancel up to round-off of the trace (≈ 64·ε relative); allow 1e-9 of tr Σ.
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-9 * np.trace(sigma)


def test_frechet_distance_has_the_closed_form_for_diagonal_covariances():
    rng = np.random.default_rng(1)
    variances1, variances2 = rng.uniform(0.1, 3, 32), rng.uniform(0.1, 3, 32)
    mu1, mu2 = rng.standard_normal(32), rng.standard_normal(32)
    # Diagonal matrices commute: tr(Σ₁^½Σ₂Σ₁^½)^½ = Σ √(a·b), so FID = ‖Δμ‖² + Σ (√a − √b)².
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(variances1) - np.sqrt(variances2)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(variances1), mu2, np.diag(variances2)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("condition", [10.0, 1e8, 1e12])
def test_frechet_distance_matches_scipy_sqrtm_on_random_spd_pairs(condition):
    rng = np.random.default_rng(int(np.log10(condition)))
    sigma1, sigma2 = random_spd(48, rng, condition), random_spd(48, rng, condition)
    mu1, mu2 = rng.standard_normal(48), rng.standard_normal(48)
    # Both are float64; the oracle's sqrtm loses ~√cond·ε relative on ill-conditioned products: 1e-7 covers it.
    assert frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(
        scipy_frechet_distance(mu1, sigma1, mu2, sigma2), rel=1e-7)


def test_frechet_distance_matches_scipy_on_rank_deficient_covariances():
    rng = np.random.default_rng(2)
    # 9 samples in 40 dimensions: rank-8 covariances, the small-set case where sqrtm needs its ε fallback.
    samples1, samples2 = rng.standard_normal((9, 40)), 2 * rng.standard_normal((9, 40)) + 1
    sigma1, sigma2 = np.cov(samples1, rowvar=False), np.cov(samples2, rowvar=False)
    ours = frechet_distance(samples1.mean(0), sigma1, samples2.mean(0), sigma2)
    # The oracle's ε = 1e-6 offset shifts tr √(Σ₁Σ₂) by O(√ε · dimensions) ≈ 1e-4 of a value ≈ 200.
    assert ours == pytest.approx(scipy_frechet_distance(samples1.mean(0), sigma1, samples2.mean(0), sigma2),
                                 rel=1e-5)


class TableExtractor:
    """Stands in for the Inception extractor: each 'image' batch is a float64 feature table, returned as float32."""

    device = torch.device("cpu")

    def __call__(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return batch.float(), batch[:, :4].float()


def test_streaming_statistics_equal_numpy_mean_and_cov_over_uneven_batches():
    rng = np.random.default_rng(3)
    features = (rng.standard_normal((203, 2048)) * rng.uniform(0.1, 2, 2048) + 5).astype(np.float32)
    statistics = FeatureStatistics(TableExtractor(), keep_features=True)
    for start, stop in ((0, 1), (1, 64), (64, 70), (70, 203)):
        statistics.update(torch.from_numpy(features[start:stop]))
    moments = statistics.compute()
    exact = features.astype(np.float64)
    # float64 accumulation of float32 inputs: agreement to ~1e-12 relative, whatever the batch boundaries.
    assert moments.num_images == 203
    np.testing.assert_allclose(moments.mu, exact.mean(0), rtol=1e-12)
    np.testing.assert_allclose(moments.sigma, np.cov(exact, rowvar=False), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(moments.features, features)


def test_fid_of_a_set_with_itself_is_zero_and_against_another_is_positive(image_folders, metric_options):
    real, fake = image_folders
    same = fid(real, real, num_images=4, **metric_options)
    assert abs(same["fid"]) < 1e-6  # identical features → the same moments, up to eigen-solver round-off
    assert same["comparable_to_published"] is False  # random weights are not the published file
    assert same["num_images"] == [4, 4] and same["resize"] == "tf" and same["precision"] == "fp32"


def test_fid_is_deterministic_on_the_same_device(image_folders, metric_options):
    first = fid(*image_folders, num_images=5, **metric_options)
    second = fid(*image_folders, num_images=5, **metric_options)
    assert first["fid"] == second["fid"] > 0  # bit-identical: fixed fp32 kernels, float64 statistics


def test_stats_file_reuse_gives_the_same_fid_and_refuses_other_settings(image_folders, metric_options, tmp_path):
    real, fake = image_folders
    arrays, protocol = reference_statistics(real, ("fid", "kid"), **metric_options)
    assert protocol["fid"]["num_images"] == 10 and arrays["kid"]["features"].shape == (10, 2048)
    path = tmp_path / "real.npz"
    save_stats(path, arrays, protocol)
    assert load_stats(path).protocol["fid"]["settings"]["resize"] == "tf"
    from_stats = fid(path, fake, **metric_options)
    from_images = fid(real, fake, **metric_options)
    assert from_stats["num_images"] == [10, 10]
    assert from_stats["fid"] == pytest.approx(from_images["fid"], rel=1e-9)  # same float64 moments
    with pytest.raises(GanevalInputError, match="resize='tf' but resize='clean'"):
        fid(path, fake, resize="clean", **metric_options)


def test_two_stats_files_need_no_network_and_must_agree(image_folders, metric_options, tmp_path, monkeypatch):
    paths = {}
    for name, folder in zip(("real", "fake"), image_folders):
        paths[name] = tmp_path / f"{name}.npz"
        save_stats(paths[name], *reference_statistics(folder, ("fid",), **metric_options))
    from_images = fid(*image_folders, **metric_options)
    monkeypatch.setenv(WEIGHTS_ENV, str(tmp_path / "absent.pth"))  # any attempt to load a network would fail
    from_files = fid(paths["real"], paths["fake"])
    assert from_files["fid"] == pytest.approx(from_images["fid"], rel=1e-9)  # the same float64 moments
    assert from_files["num_images"] == [10, 10] and from_files["comparable_to_published"] is False
    assert from_files["weights_sha256"] == from_images["weights_sha256"]
    other = tmp_path / "fake-clean.npz"
    save_stats(other, *reference_statistics(image_folders[1], ("fid",), **{**metric_options, "resize": "clean"}))
    with pytest.raises(GanevalInputError, match="fake-clean.npz: stats were computed with resize='clean' but "
                                                "resize='tf' was asked for"):
        fid(paths["real"], other)


def test_missing_weights_say_where_to_put_the_file(image_folders):
    with pytest.raises(GanevalInputError, match=WEIGHTS_FILE_NAME) as error:
        fid(*image_folders, device="cpu")
    assert "--inception-weights" in str(error.value) and "checkpoints" in str(error.value)


def test_weights_with_another_hash_run_only_when_allowed(image_folders, inception_weights):
    with pytest.raises(GanevalInputError, match="--allow-unverified-weights"):
        load_inception(inception_weights, device=torch.device("cpu"))
    extractor = load_inception(inception_weights, device=torch.device("cpu"), allow_unverified_weights=True)
    assert extractor.weights_verified is False and extractor.comparable_to_published is False


def test_weights_that_are_not_an_inception_state_dict_are_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"layer.weight": torch.zeros(3)}, path)
    with pytest.raises(GanevalInputError, match="not FID Inception-v3 weights"):
        load_inception(path, device=torch.device("cpu"), allow_unverified_weights=True)
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(GanevalInputError, match="not a readable PyTorch weights file"):
        load_inception(path, device=torch.device("cpu"), allow_unverified_weights=True)


def test_weights_look_up_order(tmp_path, monkeypatch):
    explicit, from_env = tmp_path / "explicit.pth", tmp_path / "env.pth"
    explicit.touch()
    from_env.touch()
    checkpoints = Path(torch.hub.get_dir()) / "checkpoints"  # the per-test hub folder of the `offline` fixture
    checkpoints.mkdir(parents=True)
    (checkpoints / TORCH_FIDELITY_WEIGHTS_FILE_NAME).touch()
    assert INCEPTION_WEIGHTS.find(download=False) == checkpoints / TORCH_FIDELITY_WEIGHTS_FILE_NAME
    (checkpoints / WEIGHTS_FILE_NAME).touch()
    assert INCEPTION_WEIGHTS.find(download=False) == checkpoints / WEIGHTS_FILE_NAME
    monkeypatch.setenv(WEIGHTS_ENV, str(from_env))
    assert INCEPTION_WEIGHTS.find(download=False) == from_env
    assert INCEPTION_WEIGHTS.find(explicit, download=False) == explicit
    with pytest.raises(GanevalInputError, match="does not exist"):
        INCEPTION_WEIGHTS.find(tmp_path / "absent.pth")


def test_torch_fidelity_key_format_is_read_as_pytorch_fid_keys(tmp_path):
    state = {"module.Conv2d_1a_3x3.bn.num_batches_tracked": torch.tensor(0),
             "module.Conv2d_1a_3x3.bn.running_mean": torch.ones(32)}
    torch.save(state, tmp_path / "weights.pth")
    assert list(read_state_dict(tmp_path / "weights.pth")) == ["Conv2d_1a_3x3.bn.running_mean"]


def test_a_folder_with_a_non_image_file_is_refused_with_its_name(tmp_path, metric_options):
    folder = write_folder(tmp_path / "real", make_images(3, 32, 0, "noise"))
    (folder / "notes.txt").write_text("hello")
    with pytest.raises(GanevalInputError, match="notes.txt is not an image file"):
        fid(folder, folder, **metric_options)


def test_a_single_image_is_too_few_for_fid(tmp_path, metric_options):
    folder = write_folder(tmp_path / "one", make_images(1, 32, 0, "noise"))
    with pytest.raises(GanevalInputError, match="1 images, but FID needs at least 2"):
        fid(folder, folder, **metric_options)
