"""Density and coverage (with prdc's precision and recall): the blocked exact code against a full-matrix numpy oracle,
against `prdc.compute_prdc` itself, and through `ganeval.evaluate`, a stats file and the command line."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

import ganeval
from ganeval.api import evaluate, reference_statistics
from ganeval.errors import GanevalInputError
from ganeval.kernels.neighbours import density_coverage_from_features
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


def oracle_density_coverage(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """Naeem et al. 2020 as written: inside a sphere means strictly closer than its radius."""
    between = distances(real, fake)
    inside_real = between < knn_radii(real, k)[:, None]  # [real, fake]: the fake point inside the real sphere
    return {"dc_precision": inside_real.any(axis=0).mean(),
            "dc_recall": (between < knn_radii(fake, k)[None, :]).any(axis=1).mean(),
            "dc_density": inside_real.sum(axis=0).mean() / k,
            "dc_coverage": (between.min(axis=1) < knn_radii(real, k)).mean()}


@pytest.mark.parametrize("num_real, num_fake, dim, block_size", CASES)
@pytest.mark.parametrize("k", [1, 3, 5])
def test_equal_to_the_oracle(num_real, num_fake, dim, block_size, k):
    real = features_with_duplicates(num_real, dim, seed=11)
    fake = features_with_duplicates(num_fake, dim, seed=12, shift=0.1)
    fake[3] = real[7]  # a copy of a real point of radius 0: outside (0 < 0 is false), unlike precision/recall's ≤
    fake[4] = real[11]
    ours = density_coverage_from_features(real, fake, k=k, block_size=block_size)
    expected = oracle_density_coverage(real, fake, k)
    assert ours.keys() == expected.keys()
    for name in ("dc_precision", "dc_recall", "dc_coverage"):
        assert ours[name] == expected[name], name  # the same decisions for every pair: equal shares
    assert ours["dc_density"] == pytest.approx(expected["dc_density"], rel=1e-15)  # one rounding of the same count


def test_a_point_on_the_surface_is_outside():
    # The fake point 2 is exactly at the radius (1) of the real point 1: inside for precision/recall, not here.
    real, fake = np.array([[0.0], [1.0], [10.0], [11.0]]), np.array([[2.0], [20.0], [30.0]])
    assert density_coverage_from_features(real, fake, k=1) == {"dc_precision": 0.0, "dc_recall": 1.0,
                                                                "dc_density": 0.0, "dc_coverage": 0.0}


def test_k_above_the_features_is_refused():
    with pytest.raises(GanevalInputError, match="4 fake features, but .* k = 5 needs at least 6"):
        density_coverage_from_features(np.zeros((9, 2)), np.ones((4, 2)))


@pytest.mark.slow  # compares with a peer (prdc)
@pytest.mark.parametrize("k", [1, 5, 10])
def test_equal_to_prdc(k):
    prdc = pytest.importorskip("prdc")
    rng = np.random.default_rng(20 + k)
    real, fake = rng.normal(size=(400, 64)), rng.normal(0.05, 1.1, size=(350, 64))
    with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
        theirs = prdc.compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    ours = density_coverage_from_features(real, fake, k=k, block_size=96)
    assert 0 < ours["dc_precision"] < 1 and 0 < ours["dc_coverage"] < 1
    for name in ("precision", "recall", "density", "coverage"):
        assert ours["dc_" + name] == pytest.approx(float(theirs[name]), abs=1e-12), name


def test_evaluate_equals_the_array_function_and_stats_files_serve(tmp_path):
    real, fake = image_sets(2)
    module = PooledPixels()
    options = {"features": module, "features_name": "tiny", "device": "cpu", "batch_size": 7}
    results = evaluate(real, fake, metrics=("pr", "dc"), dc_k=4, **options)
    assert module.seen == len(real) + len(fake)
    expected = density_coverage_from_features(module_features(module, real), module_features(module, fake), k=4)
    result = results["dc"]
    assert {name: result[name] for name in expected} == expected
    assert result["metric"] == "dc" and result["k"] == 4 and result["num_images"] == [23, 19]
    assert ganeval.density_coverage(real, fake, k=4, **options) == result
    stats = tmp_path / "real.npz"
    save_stats(stats, *reference_statistics(real, ("dc",), **options))
    assert evaluate(stats, fake, metrics=("dc",), dc_k=4, **options)["dc"] == result
    save_stats(stats, *reference_statistics(real[:4], ("dc",), **options))
    with pytest.raises(GanevalInputError, match="4 real features, but .* k = 5 needs at least 6"):
        evaluate(stats, fake, metrics=("dc",), **options)  # the stats file's count is known only now


def test_the_dc_command_and_eval_print_the_library_dict(image_folders, inception_weights, metric_options):
    weights = ["--inception-weights", str(inception_weights), "--allow-unverified-weights", "--device", "cpu"]
    folders = [str(folder) for folder in image_folders]
    printed = CliRunner().invoke(main, ["eval", *folders, "--metrics", "pr,dc", "--dc-k", "3", "--num-images", "5",
                                        "--json", *weights])
    assert printed.exit_code == 0, printed.output
    together = json.loads(printed.stdout)
    assert together["dc"] == ganeval.density_coverage(*image_folders, k=3, num_images=5, **metric_options)
    assert together["pr"]["k"] == 3  # the default k of precision/recall
    table = CliRunner().invoke(main, ["dc", *folders, "--dc-k", "3", "--num-images", "5", *weights])
    assert table.exit_code == 0, table.output
    rows = {line.rsplit(None, 1)[0].strip(): line.rsplit(None, 1)[1] for line in table.stdout.splitlines()}
    assert rows["coverage (DC, k=3)"] == f"{together['dc']['dc_coverage']:.4f}"
