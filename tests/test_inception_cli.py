"""`ganeval fid / is / kid`: JSON equal to the library's dict, exit code 2 with one line for bad input, a --help
that says what the number means and where the weights go."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ganeval import inception_score
from ganeval.extractors.inception import WEIGHTS_FILE_NAME
from ganeval_cli.ganeval_cli import main
from tests.helpers import make_images, write_folder


def run(command, *args):
    """The command through the `ganeval` group, which owns error reporting (one line, exit code 2)."""
    return CliRunner().invoke(main, [command, *[str(arg) for arg in args]])


@pytest.fixture
def weights_options(inception_weights):
    return ["--inception-weights", inception_weights, "--allow-unverified-weights", "--device", "cpu"]


def test_is_json_equals_the_library(image_folders, weights_options, metric_options):
    result = run("is", image_folders[0], "--num-images", 4, "--splits", 2, "--json",
                 *weights_options)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == inception_score(image_folders[0], num_images=4, splits=2, **metric_options)


def test_fid_and_kid_print_a_table_with_the_protocol(image_folders, weights_options):
    result = run("fid", *image_folders, "--num-images", 3, *weights_options)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("FID") and "comparable to published  no" in result.output
    result = run("kid", *image_folders, "--num-images", 3, "--subset-size", 2, "--subsets", 3, "--json",
                 *weights_options)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["subset_size"] == 2


@pytest.mark.parametrize("command, extra", [("fid", []), ("kid", ["--subset-size", "50"]),
                                            ("is", [])])
def test_bad_input_exits_2_with_one_line(image_folders, weights_options, command, extra, tmp_path):
    folder = write_folder(tmp_path / "with-text", make_images(2, 32, 0, "noise"))
    (folder / "readme.txt").write_text("x")
    arguments = [folder] if command == "is" else [folder, image_folders[1]]
    result = run(command, *arguments, *extra, *weights_options)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ") and "readme.txt" in result.output


def test_fid_of_two_stats_files_runs_without_weights(image_folders, metric_options, tmp_path):
    from ganeval import fid
    from ganeval.api import reference_statistics
    from ganeval.stats import save_stats
    paths = [tmp_path / "real.npz", tmp_path / "fake.npz"]
    for path, folder in zip(paths, image_folders):
        save_stats(path, *reference_statistics(folder, ("fid",), **metric_options))
    result = run("fid", *paths, "--json")  # no --inception-weights: no image is processed
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == fid(*paths)


def test_missing_weights_exit_2_naming_the_file(image_folders):
    result = run("fid", *image_folders, "--device", "cpu")
    assert result.exit_code == 2 and WEIGHTS_FILE_NAME in result.output and result.output.count("\n") == 1


@pytest.mark.parametrize("command, says", [("fid", "lower is better"), ("kid", "lower is better"),
                                           ("is", "higher is better")])
def test_help_teaches_the_number_and_the_weights(command, says):
    text = " ".join(run(command, "--help").output.split())
    assert says in text and WEIGHTS_FILE_NAME in text and "--allow-unverified-weights" in text
    assert "--resize [tf|clean|pytorch-fid]" in text
