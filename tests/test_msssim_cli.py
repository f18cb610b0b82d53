"""`ganeval msssim` through click's CliRunner on small PNG folders."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganeval_cli.ganeval_cli import main
from tests.oracle_msssim import msssim_pairs as oracle_pairs


def write_pngs(folder: Path, images: np.ndarray) -> Path:
    folder.mkdir()
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:03d}.png")
    return folder


@pytest.fixture
def image_folders(tmp_path: Path) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 24, 32, 3), dtype=np.uint8)
    noisy = np.clip(images + rng.normal(0, 30, images.shape), 0, 255).round().astype(np.uint8)
    return write_pngs(tmp_path / "a", images), write_pngs(tmp_path / "b", noisy), images, noisy


def test_json_one_set_matches_oracle(image_folders) -> None:
    folder, _, images, _ = image_folders
    result = CliRunner().invoke(main, ["msssim", str(folder), "--json", "--batch-size", "4"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)  # exactly one JSON object
    assert record["metric"] == "msssim" and record["pairs"] == "consecutive" and record["num_pairs"] == 3
    assert record["resolution"] == [24, 32] and "note" in record
    # PNG round-trips uint8 exactly, so the oracle sees the same pixels; both are float64 (see test_msssim)
    assert record["msssim"] == pytest.approx(oracle_pairs(images[0::2], images[1::2]).mean(), rel=1e-9)


def test_two_sets_and_random_pairs(image_folders) -> None:
    folder, folder_b, images, noisy = image_folders
    result = CliRunner().invoke(main, ["msssim", str(folder), str(folder_b), "--json"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["pairs"] == "two_sets" and record["num_pairs"] == 6
    assert record["msssim"] == pytest.approx(oracle_pairs(images, noisy).mean(), rel=1e-9)
    table = CliRunner().invoke(main, ["msssim", str(folder), "--pairs", "random", "--num-pairs", "4", "--seed", "3"])
    assert table.exit_code == 0 and "MS-SSIM" in table.stdout and "4 (random, seed 3)" in table.stdout


def test_bad_input_is_one_line_and_exit_2(image_folders) -> None:
    folder, _, _, _ = image_folders
    result = CliRunner().invoke(main, ["msssim", str(folder), "--num-pairs", "4"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "num_pairs=4 needs 8 images" in result.stderr


def test_help_teaches_the_protocol() -> None:
    result = CliRunner().invoke(main, ["msssim", "--help"])
    assert result.exit_code == 0
    assert "lower = more varied" in result.output and "10,000 pairs" in result.output
