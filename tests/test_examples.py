"""The scripts in examples/ run as a user runs them (short settings), and print what their docstrings promise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # real processes, a short training run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name: str, *args: str, cwd: Path) -> str:
    environment = {**os.environ, "GANEVAL_OFFLINE": "1", "TORCH_HOME": str(cwd / "torch-home"),
                   "OMP_NUM_THREADS": "2"}
    environment.pop("GANEVAL_INCEPTION_WEIGHTS", None)
    result = subprocess.run([sys.executable, str(EXAMPLES / name), *args], cwd=cwd, env=environment,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_score_two_folders_scores_the_demo_folders_and_says_why_fid_is_left_out(tmp_path):
    printed = run_example("score_two_folders.py", cwd=tmp_path)
    assert re.search(r"SWD ×10³ per level \{64: [\d.]+, 32: [\d.]+, 16: [\d.]+\}, average [\d.]+", printed)
    assert re.search(r"MS-SSIM of the fake set 0\.\d{4} over 32 pairs", printed)
    assert "FID, KID and precision/recall left out" in printed
    assert (tmp_path / "example-folders" / "real").is_dir()


def test_evaluate_during_training_prints_swd_and_msssim_at_each_evaluation(tmp_path):
    printed = run_example("evaluate_during_training.py", "--steps", "20", "--every", "10", "--num-images", "64",
                          cwd=tmp_path)
    lines = printed.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["step 10", "step 20"]
    assert all(re.fullmatch(r"step \d+: SWD ×10³ \[[\d.]+, [\d.]+\] \(32, 16 px\), MS-SSIM [\d.]+", line)
               for line in lines)


def test_table1_row_trains_and_scores_one_configuration(tmp_path):
    printed = run_example("table1_row.py", "--config", "g", "--kimg", "0.2", "--out", "t1", cwd=tmp_path)
    assert re.search(r"\(g\): SWD ×10³ \[[\d.]+, [\d.]+\] avg [\d.]+; MS-SSIM [\d.]+", printed)
    assert re.search(r"real against real \(the floor\): SWD ×10³ avg [\d.]+", printed)
    assert (tmp_path / "t1" / "run-g" / "metrics.json").is_file()
