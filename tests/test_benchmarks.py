"""Benchmark scripts at a tiny size: they run, and write what they promise."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PROFILE_CATEGORIES = {"convolutions", "gradient_penalty", "elementwise", "casts", "ema", "adam", "other"}


def test_profile_train_step_splits_a_step_into_shares_that_sum_to_one(tmp_path, monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # as `python benchmarks/profile_train_step.py` finds its neighbours
    profile_train_step = importlib.import_module("profile_train_step")
    threads = torch.get_num_threads()
    try:
        profile_train_step.main(["--resolution", "8", "--fmap-max", "8", "--latent-size", "8", "--minibatch", "4",
                                 "--warmup", "1", "--steps", "1", "--json", str(tmp_path / "profile.json")])
    finally:
        torch.set_num_threads(threads)
    numbers = json.loads((tmp_path / "profile.json").read_text())
    assert set(numbers["categories"]) == set(profile_train_step.CATEGORIES) == PROFILE_CATEGORIES
    assert math.isclose(sum(numbers["categories"].values()), 1.0, abs_tol=1e-6)
    assert math.isclose(sum(numbers["phases"].values()), 1.0, abs_tol=1e-6)
    assert numbers["categories"]["convolutions"] > 0 and numbers["categories"]["adam"] > 0
    assert numbers["phases"]["gradient_penalty"] > 0 and numbers["phases"]["ema"] > 0
    assert numbers["ms_per_step"] > 0 and numbers["img_per_s"] > 0 and len(numbers["top_ops"]) == 15
    assert "| convolutions (forward, backward, double backward) |" in capsys.readouterr().out



def write_table1_folder(folder: Path, kimg: dict[str, float], swd: dict[str, dict[int, float]]) -> None:
    """The two files of a `pggan ablation` folder that budget_study reads, for rows (a) and (b)."""
    folder.mkdir(parents=True)
    differences = [swd["b"][seed] - swd["a"][seed] for seed in swd["a"]]
    mean = sum(differences) / len(differences)
    error = (sum((d - mean) ** 2 for d in differences) / (len(differences) - 1) / len(differences)) ** 0.5
    rows = [{"config": name, "kimg": kimg[name], "train_minutes": 1.5} for name in "ab"]
    trend = {"claim": "progressive growing beats the baseline", "difference": mean, "standard_error": error,
             "t_critical": 4.3027, "num_seeds": len(differences), "verdict": "not resolved"}
    (folder / "table1.json").write_text(json.dumps({"kimg_per_config": 64.0, "rows": rows, "trends": [trend]}))
    lines = ["seed,config,swd_x1e3_avg"] + [f"{seed},{name},{value}" for name in "ab"
                                             for seed, value in swd[name].items()]
    (folder / "table1_per_seed.csv").write_text("\n".join(lines) + "\n")


def test_budget_study_reads_each_folder_at_its_rows_kimg(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    budget_study = importlib.import_module("budget_study")
    swd = {"a": {1000: 10.0, 1001: 20.0}, "b": {1000: 13.0, 1001: 21.0}}
    write_table1_folder(tmp_path / "long", {"a": 128.0, "b": 128.0}, swd)  # extended: rows say 128, grid 64
    write_table1_folder(tmp_path / "short", {"a": 64.0, "b": 64.0}, swd)
    budget_study.main([str(tmp_path / "long"), str(tmp_path / "short"), "--out", str(tmp_path / "out")])
    lines = (tmp_path / "out" / "budget_growing.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["64.0", "128.0"]  # sorted by the rows' kimg
    kimg, difference, error, _, seeds, _, a_mean, b_mean = lines[2].split(",")[:8]
    assert (float(difference), float(error), int(seeds)) == (2.0, 1.0, 2)  # differences 3 and 1: mean 2, SE 1
    assert (float(a_mean), float(b_mean)) == (15.0, 17.0)
    assert (tmp_path / "out" / "figure_budget_growing.png").stat().st_size > 0
    write_table1_folder(tmp_path / "mixed", {"a": 64.0, "b": 128.0}, swd)
    with pytest.raises(SystemExit, match="different kimg"):
        budget_study.main([str(tmp_path / "mixed"), "--out", str(tmp_path / "out2")])


@pytest.mark.parametrize("groups", [1, 2])
def test_kernel_conv2d_derivatives_match_finite_differences_to_second_order(groups, monkeypatch):
    # The oracle: torch.autograd.gradcheck/gradgradcheck compare the written-out first and second derivatives with
    # central finite differences in float64 (their default tolerances, atol 1e-5 and rtol 1e-3).
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    kernel_conv2d = importlib.import_module("bench_gp_convolution").kernel_conv2d
    generator = torch.Generator().manual_seed(0)
    x, weight, bias = (torch.randn(*shape, dtype=torch.float64, generator=generator).requires_grad_(True)
                       for shape in ((2, 4, 5, 5), (6, 4 // groups, 3, 3), (6,)))

    def convolve(x, weight, bias):
        return kernel_conv2d(x, weight, bias, padding=1, groups=groups)

    assert torch.autograd.gradcheck(convolve, (x, weight, bias))
    assert torch.autograd.gradgradcheck(convolve, (x, weight, bias))


def test_bench_gp_convolution_times_both_and_they_agree(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    bench = importlib.import_module("bench_gp_convolution")
    result = bench.main(["--device", "cpu", "--budget", "quick", "--resolution", "8", "--fmap-max", "8",
                         "--minibatch", "4", "--warmup", "0", "--steps", "1"])
    assert set(result["ms_per_step"]) == {"F.conv2d (torch's double backward)", "kernel_conv2d"}
    # Same sums in another order, fp32: relative rounding ~1e-7 per op, far below 1e-4 over D's few layers.
    assert result["relative_gradient_difference"] < 1e-4
    assert "× F.conv2d's speed" in capsys.readouterr().out
