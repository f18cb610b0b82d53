"""Improved precision and recall: the blocked exact k-NN code against a full-matrix numpy oracle (duplicates, blocks
that do not divide N, near-duplicate clusters), against torch-fidelity's prc, and through `ganeval.evaluate`, a stats
file and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
import ganeval.kernels.neighbours as neighbours
from ganeval.api import evaluate, reference_statistics
from ganeval.errors import GanevalInputError
from ganeval.kernels.neighbours import (
    kth_neighbour_squared_distances,
    precision_recall_from_features,
    prepared,
    sphere_memberships,
)
from ganeval.stats import save_stats
from ganeval_cli.ganeval_cli import main
from tests.helpers import (
    CASES,
    PooledPixels,
    distances,
    features_with_duplicates,
    image_sets,
    knn_radii,
    module_features,
)

# ---------------------------------------------------------------------------------------------------------------
# The oracle: the papers' definitions on full distance matrices, in plain numpy (distances, knn_radii: helpers).

def oracle_precision_recall(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Kynkäänniemi et al. 2019: a sample is inside a sphere when its distance is ≤ the sphere's radius."""
    between = distances(real, fake)
    inside_real = between <= knn_radii(real, k)[:, None]
    inside_fake = between <= knn_radii(fake, k)[None, :]
    return {"pr_precision": inside_real.any(axis=0).mean(), "pr_recall": inside_fake.any(axis=1).mean()}


@pytest.mark.parametrize("num_real, num_fake, dim, block_size", CASES)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_radii_equal_the_oracle(num_real, num_fake, dim, block_size, k):
    points = features_with_duplicates(num_real, dim, seed=num_real + k)
    squared = kth_neighbour_squared_distances(prepared(points, "real"), k, block_size=block_size)
    expected = knn_radii(points, k)
    np.testing.assert_allclose(squared.sqrt().numpy(), expected, rtol=1e-12, atol=0)
    if k <= 3:
        assert expected[7] == 0 and squared[7] == 0  # 4 copies: its 3 nearest others are at distance 0


@pytest.mark.parametrize("num_real, num_fake, dim, block_size", CASES)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_equal_the_oracle(num_real, num_fake, dim, block_size, k):
    real = features_with_duplicates(num_real, dim, seed=1)
    fake = features_with_duplicates(num_fake, dim, seed=2, shift=0.1)
    fake[3] = real[7]  # a fake copy of a real point whose radius is 0: inside (0 ≤ 0)
    fake[4] = real[11]
    ours = precision_recall_from_features(real, fake, k=k, block_size=block_size)
    assert ours == oracle_precision_recall(real, fake, k)  # the same decisions for every pair: equal shares


def test_the_result_does_not_depend_on_the_block_size_or_dtype():
    real, fake = features_with_duplicates(90, 24, seed=3), features_with_duplicates(70, 24, seed=4, shift=0.2)
    results = [precision_recall_from_features(real, fake, block_size=size) for size in (3, 5, 64, 4096)]
    assert all(result == results[0] for result in results)
    as_float32 = real.astype(np.float32), fake.astype(np.float32)
    assert precision_recall_from_features(*as_float32) == oracle_precision_recall(
        *(array.astype(np.float64) for array in as_float32), 3)
    assert precision_recall_from_features(torch.from_numpy(real), torch.from_numpy(fake)) == results[0]


def test_a_point_on_the_surface_is_inside():
    # 1-D: real pairs at 0, 1 and 10, 11 (radius 1 for k = 1); the fake point 2 is exactly 1 from the real 1.
    real, fake = np.array([[0.0], [1.0], [10.0], [11.0]]), np.array([[2.0], [20.0], [30.0]])
    assert precision_recall_from_features(real, fake, k=1) == {"pr_precision": 1 / 3, "pr_recall": 1.0}


def test_near_duplicate_clusters_take_the_exact_path(monkeypatch):
    # 30 points within 1e-9 of one another: their BLAS distances are rounding noise, more candidates than the spare
    # ones are undecided, and those points are compared with every point by the definition.
    rng = np.random.default_rng(5)
    points = rng.normal(size=(80, 16))
    points[:30] = points[0] + 1e-9 * rng.normal(size=(30, 16))
    scans = []
    row_kth = neighbours._row_kth_by_definition
    monkeypatch.setattr(neighbours, "_row_kth_by_definition",
                        lambda *args: scans.append(args[1]) or row_kth(*args))
    squared = kth_neighbour_squared_distances(prepared(points, "real"), 3, block_size=16)
    np.testing.assert_allclose(squared.sqrt().numpy(), knn_radii(points, 3), rtol=1e-12, atol=0)
    assert scans and set(scans) <= set(range(30))
    fake = points[::-1] + 1e-10 * rng.normal(size=points.shape)
    assert precision_recall_from_features(points, fake, block_size=16) == oracle_precision_recall(points, fake, 3)


def test_undecided_pairs_are_computed_by_the_definition(monkeypatch):
    real = features_with_duplicates(40, 8, seed=6)
    fake = features_with_duplicates(30, 8, seed=7)
    fake[:4] = real[[7, 0, 1, 2]]  # at distance 0 from real points: undecided against a radius of 0
    computed = []
    paired = neighbours._paired_distances
    monkeypatch.setattr(neighbours, "_paired_distances",
                        lambda a, i, b, j: computed.append(len(i)) or paired(a, i, b, j))
    real_tensor, fake_tensor = prepared(real, "real"), prepared(fake, "fake")
    radii = [kth_neighbour_squared_distances(points, 3) for points in (real_tensor, fake_tensor)]
    inside = sphere_memberships(real_tensor, fake_tensor, *radii, strict=False, block_size=16)
    assert sum(computed) >= 1
    between = distances(real, fake)
    expected = between <= knn_radii(real, 3)[:, None]
    assert inside.fake_in_real_spheres.tolist() == expected.sum(axis=0).tolist()


def test_bad_features_and_k_are_refused():
    real, fake = np.zeros((5, 3)), np.ones((6, 3))
    with pytest.raises(GanevalInputError, match="5 real features, but .* k = 5 needs at least 6"):
        precision_recall_from_features(real, fake, k=5)
    with pytest.raises(GanevalInputError, match="k must be at least 1"):
        precision_recall_from_features(real, fake, k=0)
    with pytest.raises(GanevalInputError, match="dimension 3, fake features 4"):
        precision_recall_from_features(real, np.ones((6, 4)))
    with pytest.raises(GanevalInputError, match="NaN or inf"):
        precision_recall_from_features(real, np.full((6, 3), np.nan))
    with pytest.raises(GanevalInputError, match="N×D"):
        precision_recall_from_features(real, np.ones(6))


# ---------------------------------------------------------------------------------------------------------------
# The peer: torch-fidelity's prc on the same features.

@pytest.mark.slow  # compares with a peer (torch-fidelity)
@pytest.mark.parametrize("k", [1, 3, 7])
def test_equal_to_torch_fidelity_prc(k):
    metric_prc = pytest.importorskip("torch_fidelity.metric_prc")
    rng = np.random.default_rng(10 + k)
    real, fake = rng.normal(size=(300, 64)), rng.normal(0.05, 1.1, size=(260, 64))
    # torch-fidelity's convention: features_1 are the generated ones. float64 on both sides.
    theirs = metric_prc.prc_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), prc_neighborhood=k,
                                               prc_batch_size=100, save_cpu_ram=False, verbose=False)
    ours = precision_recall_from_features(real, fake, k=k, block_size=64)
    assert 0 < ours["pr_precision"] < 1 and 0 < ours["pr_recall"] < 1
    # torch-fidelity averages the 0/1 decisions in float32: the same counts, its shares rounded to float32.
    for name, count in (("precision", len(fake)), ("recall", len(real))):
        assert round(ours["pr_" + name] * count) == round(theirs[name] * count)
        assert ours["pr_" + name] == pytest.approx(theirs[name], rel=1e-7)


# ---------------------------------------------------------------------------------------------------------------
# Through ganeval.evaluate, a stats file and the command line.

def test_evaluate_shares_one_extractor_pass_and_equals_the_array_function():
    real, fake = image_sets()
    module = PooledPixels()
    results = evaluate(real, fake, metrics=("fid", "pr", "dc"), features=module, features_name="tiny",
                       device="cpu", batch_size=5, pr_k=2)
    assert module.seen == len(real) + len(fake)  # one pass over each set for the three metrics
    expected = precision_recall_from_features(module_features(module, real), module_features(module, fake), k=2)
    result = results["pr"]
    assert (result["pr_precision"], result["pr_recall"]) == (expected["pr_precision"], expected["pr_recall"])
    assert result["metric"] == "pr" and result["k"] == 2 and result["num_images"] == [23, 19]
    assert result["features"] == "tiny" and result["feature_dim"] == 48 and result["precision"] == "fp32"
    assert ganeval.precision_recall(real, fake, k=2, features=module, features_name="tiny", device="cpu") == result


def test_a_stats_file_serves_as_the_real_set(tmp_path):
    real, fake = image_sets(1)
    options = {"features": PooledPixels(), "features_name": "tiny", "device": "cpu"}
    stats = tmp_path / "real.npz"
    save_stats(stats, *reference_statistics(real, ("pr", "fid"), **options))
    assert evaluate(stats, fake, metrics=("pr", "fid"), **options) == evaluate(real, fake, metrics=("pr", "fid"),
                                                                               **options)
    with pytest.raises(GanevalInputError, match="holds no dc statistics"):
        evaluate(stats, fake, metrics=("dc",), **options)
    with pytest.raises(GanevalInputError, match="weights_sha256"):  # another module's features are refused
        evaluate(stats, fake, metrics=("pr",), features=torch.nn.Sequential(torch.nn.Conv2d(3, 2, 4, stride=4),
                                                                          torch.nn.Flatten()),
                 features_name="tiny", device="cpu")


def test_k_not_below_the_image_count_is_refused_before_extraction():
    real, fake = image_sets()
    module = PooledPixels()
    with pytest.raises(GanevalInputError, match="19 images, but precision/recall with k = 19 .*--pr-k.* at least 20"):
        evaluate(real, fake, metrics=("pr",), pr_k=19, features=module, features_name="tiny", device="cpu")
    assert module.seen == 0


def test_the_pr_command_and_eval_print_the_library_dict(image_folders, inception_weights, metric_options, tmp_path):
    weights = ["--inception-weights", str(inception_weights), "--allow-unverified-weights", "--device", "cpu"]
    folders = [str(folder) for folder in image_folders]
    printed = CliRunner().invoke(main, ["pr", *folders, "--pr-k", "2", "--num-images", "5", "--json", *weights])
    assert printed.exit_code == 0, printed.output
    expected = ganeval.precision_recall(*image_folders, k=2, num_images=5, **metric_options)
    assert json.loads(printed.stdout) == expected
    stats = str(tmp_path / "real.npz")
    written = CliRunner().invoke(main, ["stats", folders[0], "-o", stats, "--metrics", "pr", "--num-images", "5",
                                        *weights])
    assert written.exit_code == 0, written.output
    from_stats = CliRunner().invoke(main, ["pr", stats, folders[1], "--pr-k", "2", "--num-images", "5", "--json",
                                           *weights])
    assert from_stats.exit_code == 0, from_stats.output
    assert json.loads(from_stats.stdout) == expected
    table = CliRunner().invoke(main, ["eval", *folders, "--metrics", "pr", "--pr-k", "2", "--num-images", "5",
                                      *weights])
    assert table.exit_code == 0, table.output
    rows = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in table.stdout.splitlines()}
    assert rows["precision (PR, k=2)"] == f"{expected['pr_precision']:.4f}"
