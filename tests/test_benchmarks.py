"""Benchmark scripts at a tiny size: they run, and write what they promise."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

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

