"""`skip_failures` (Python) and `ganeval eval --skip-failures`: a metric that cannot be computed is reported as
skipped, with its reason, and every other metric's numbers are those it gives alone."""

import numpy as np
import pytest
from click.testing import CliRunner

import ganeval
from ganeval.errors import GanevalInputError
from ganeval_cli.ganeval_cli import main as ganeval_main
from tests.helpers import smooth_images


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sets")
    for name, seed in (("real", 1), ("fake", 2)):
        np.save(folder / f"{name}.npy", smooth_images(16, 32, seed=seed))
    return folder / "real.npy", folder / "fake.npy"


def test_missing_weights_skip_their_metrics_and_the_others_are_their_own_numbers(sets):
    real, fake = sets
    results = ganeval.evaluate(real, fake, metrics=("swd", "fid", "kid", "msssim"), skip_failures=True, device="cpu",
                               num_images={"fid": 8, "kid": 8}, subset_size=8)
    assert results["swd"] == ganeval.swd(real, fake, device="cpu")
    assert results["msssim"] == ganeval.msssim(fake, device="cpu")
    for name in ("fid", "kid"):  # no Inception weights here (the tests run offline)
        assert set(results[name]) == {"metric", "skipped"} and "Inception" in results[name]["skipped"]
    with pytest.raises(GanevalInputError, match="Inception"):
        ganeval.evaluate(real, fake, metrics=("swd", "fid"), device="cpu")


def test_a_stats_file_part_that_does_not_match_skips_that_metric_alone(sets, tmp_path):
    real, fake = sets
    stats = tmp_path / "real_stats.npz"
    ganeval.stats.save_stats(stats, *ganeval.reference_statistics(real, ("swd",), seed=0, device="cpu"))
    results = ganeval.evaluate(stats, fake, metrics=("swd", "msssim"), seed=1, skip_failures=True, device="cpu")
    assert "seed" in results["swd"]["skipped"]  # recorded with seed 0, asked for with seed 1
    assert results["msssim"] == ganeval.msssim(fake, seed=1, device="cpu")


def test_a_set_too_small_for_one_metric_skips_it(sets):
    real, fake = sets
    results = ganeval.evaluate(real, fake, metrics=("swd", "pr"), pr_k=20, skip_failures=True, device="cpu")
    assert results["swd"] == ganeval.swd(real, fake, device="cpu")
    assert "k = 20" in results["pr"]["skipped"]  # 16 images; checked before the (missing) weights are looked for


def test_eval_skip_failures_prints_the_others_and_a_note(sets):
    real, fake = sets
    result = CliRunner().invoke(ganeval_main, ["eval", str(real), str(fake), "--metrics", "swd,kid", "--subset-size",
                                               "8", "--device", "cpu", "--skip-failures", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "SWD x1e3 average" in result.stdout and "kid" in result.stdout and "skipped" in result.stdout
    assert [line.split(":")[0] for line in result.stderr.splitlines()] == ["note"]
    assert "kid skipped:" in result.stderr and "Inception" in result.stderr


def test_eval_without_skip_failures_stops_at_the_first_failure(sets):
    real, fake = sets
    result = CliRunner().invoke(ganeval_main, ["eval", str(real), str(fake), "--metrics", "swd,kid", "--subset-size",
                                               "8", "--device", "cpu", "--no-progress"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("error:") == 1 and "Inception" in result.stderr


def test_eval_help_lists_each_metrics_options_under_its_name():
    text = CliRunner().invoke(ganeval_main, ["eval", "--help"]).output
    sections = {block.split(":\n")[0]: block for block in text.split("\n\n") if block.startswith("Options")}
    assert "--skip-failures" in sections["Options"] and "--num-images" in sections["Options"]
    assert "--inception-weights" in sections["Options of dc, fid, is, kid, pr"]
    assert "--nhoods-per-image" in sections["Options of swd"] and "--pr-k" in sections["Options of pr"]
    assert "with IMAGES_B" not in sections["Options of msssim"]  # eval takes no second image set
