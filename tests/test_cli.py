"""The `ganeval` command: JSON contract, stats reuse, demo, and exit code 2 with one line for bad input."""

import json

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganeval
from ganeval_cli.ganeval_cli import main
from tests.helpers import make_images, random_state_dict, smooth_images, write_folder


@pytest.fixture
def folders(tmp_path):
    paths = []
    for name, seed in (("real", 1), ("fake", 2)):
        folder = tmp_path / name
        folder.mkdir()
        for index, image in enumerate(smooth_images(6, 32, seed=seed).transpose(0, 2, 3, 1)):
            Image.fromarray(image).save(folder / f"{index}.png")
        paths.append(folder)
    return paths


def run(*args):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def test_swd_json_is_one_object_with_the_contract_keys_and_equals_the_library(folders):
    result = run("swd", *folders, "--json", "--device", "cpu", "--seed", "3")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert {"metric", "resolutions", "swd_x1e3", "swd_x1e3_avg", "num_images", "seed", "device"} <= payload.keys()
    assert payload["metric"] == "swd" and payload["resolutions"] == [32, 16] and payload["num_images"] == [6, 6]
    assert payload == ganeval.swd(*[str(f) for f in folders], device="cpu", seed=3)


def test_swd_table_by_default(folders):
    result = run("swd", *folders, "--device", "cpu")
    assert result.exit_code == 0
    assert "SWD x1e3 @ 32px" in result.stdout and "SWD x1e3 average" in result.stdout


def test_stats_then_swd_from_the_stats_file(folders, tmp_path):
    stats_file = tmp_path / "real_stats.npz"
    assert run("stats", folders[0], "-o", stats_file, "--device", "cpu").exit_code == 0
    direct = json.loads(run("swd", *folders, "--json", "--device", "cpu").stdout)
    reused = json.loads(run("swd", stats_file, folders[1], "--json", "--device", "cpu").stdout)
    assert reused["swd_x1e3"] == direct["swd_x1e3"]
    refused = run("swd", stats_file, folders[1], "--nhoods-per-image", "32", "--device", "cpu")
    assert refused.exit_code == 2 and "nhoods_per_image=128" in refused.stderr


@pytest.mark.parametrize("make_bad, message", [
    (lambda real, fake: fake / "missing", "does not exist"),
    (lambda real, fake: ((fake / "readme.md").write_text("x"), fake)[1], "readme.md is not an image file"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(folders, make_bad, message):
    real, fake = folders
    result = run("swd", real, make_bad(real, fake), "--device", "cpu")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_num_images_larger_than_the_set_is_named(folders):
    result = run("swd", *folders, "--num-images", "50", "--device", "cpu")
    assert result.exit_code == 2 and "asked for 50 images (--num-images)" in result.stderr


def test_demo_writes_two_folders_and_scores_them(tmp_path):
    result = run("demo", "--out", tmp_path / "demo", "--num-images", "8", "--resolution", "32", "--json",
                 "--device", "cpu")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["num_images"] == [8, 8] and len(list((tmp_path / "demo" / "fake").glob("*.png"))) == 8
    assert payload["resolutions"] == [32, 16] and all(value > 0 for value in payload["swd_x1e3"])


def test_help_teaches_the_protocol():
    result = run("swd", "--help")
    assert result.exit_code == 0 and "16,384" in result.stdout and "Example" in result.stdout


def test_stats_with_fid_then_fid_and_kid_from_the_stats_file(tmp_path, monkeypatch):
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    weights = tmp_path / "random-inception.pth"
    torch.save(random_state_dict(), weights)
    real = write_folder(tmp_path / "real", make_images(6, 32, seed=1, style="blobs"))
    fake = write_folder(tmp_path / "fake", make_images(6, 32, seed=2, style="blobs"))
    options = ["--inception-weights", weights, "--allow-unverified-weights", "--device", "cpu"]
    stats_file = tmp_path / "real.npz"
    made = run("stats", real, "-o", stats_file, "--metrics", "swd,fid,kid", *options, "--json")
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout)["metrics"] == ["fid", "kid", "swd"]
    direct = json.loads(run("fid", real, fake, *options, "--json").stdout)
    reused = json.loads(run("fid", stats_file, fake, *options, "--json").stdout)
    # The same float64 mean and covariance either way: equal to float64 rounding of the Fréchet formula.
    assert reused["fid"] == pytest.approx(direct["fid"], rel=1e-9)
    assert reused["comparable_to_published"] is False
    refused = run("fid", stats_file, fake, *options, "--resize", "clean")
    assert refused.exit_code == 2 and "resize" in refused.stderr
