"""A metric registered from outside the package — through an entry point in the group `ganeval.metrics` — works in
`evaluate`, its one-metric function, `ganeval eval`, its own command and `ganeval stats`, like a built-in one.

The example metric (tests/example_metric/mean_colour.py, also the docs' worked example) is installed the way pip
would leave it: the module and a `*.dist-info` folder with its `entry_points.txt`, on a temporary sys.path entry, in
a fresh interpreter (the registry reads the entry points once per process).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # a fresh interpreter

EXAMPLE = Path(__file__).parent / "example_metric" / "mean_colour.py"

SCRIPT = r"""
import json, sys
from ganeval import registry

out = {"listed": list(registry.metrics()), "torch_after_listing": "torch" in sys.modules}
from click.testing import CliRunner
import ganeval
from ganeval_cli.ganeval_cli import main

real, fake, root = sys.argv[1], sys.argv[2], sys.argv[3]
out["evaluate"] = ganeval.evaluate(real, fake, metrics=("mean_colour", "swd"), per_channel=True, device="cpu")
out["function"] = ganeval.mean_colour(real, fake, device="cpu")
def cli(*args):
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
out["eval"] = cli("eval", real, fake, "--metrics", "mean_colour,swd", "--device", "cpu")
out["command"] = cli("mean_colour", real, fake, "--per-channel", "--device", "cpu")
out["stats"] = cli("stats", real, "-o", root + "/stats.npz", "--metrics", "mean_colour,swd", "--device", "cpu")
out["from_stats"] = cli("eval", root + "/stats.npz", fake, "--metrics", "mean_colour,swd", "--device", "cpu")
out["help"] = CliRunner().invoke(main, ["--help"]).stdout
out["table"] = CliRunner().invoke(main, ["mean_colour", real, fake, "--device", "cpu"]).stdout
print(json.dumps(out))
"""


def install_example(site: Path) -> None:
    """The example module and the dist-info pip would write for a package declaring its entry point."""
    site.mkdir()
    shutil.copy(EXAMPLE, site / "mean_colour.py")
    info = site / "mean_colour_metric-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mean-colour-metric\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[ganeval.metrics]\nmean_colour = mean_colour:MeanColourMetric\n")


def test_an_entry_point_metric_works_everywhere_a_built_in_one_does(tmp_path):
    """One metric, every way in; the value against its definition computed here in numpy."""
    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (12, 16, 16, 3), dtype=np.uint8)
    fake = (real * 0.8).astype(np.uint8)  # darker
    np.save(tmp_path / "real.npy", real)
    np.save(tmp_path / "fake.npy", fake)
    install_example(tmp_path / "site")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"),
                                                                os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"),
                          str(tmp_path)], capture_output=True, text=True, env=environment, timeout=300)
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)

    # The definition: the distance between the two sets' mean colours over all pixels of all images.
    difference = fake.reshape(-1, 3).astype(np.float64).mean(0) - real.reshape(-1, 3).astype(np.float64).mean(0)
    expected = float(np.linalg.norm(difference))
    assert out["listed"][-1] == "mean_colour" and out["torch_after_listing"] is False
    assert out["evaluate"]["mean_colour"]["distance"] == pytest.approx(expected, rel=1e-12)
    assert out["evaluate"]["mean_colour"]["difference"] == pytest.approx(difference.tolist(), rel=1e-12)
    assert out["evaluate"]["mean_colour"]["num_images"] == [12, 12]
    assert out["function"] == {key: value for key, value in out["evaluate"]["mean_colour"].items()
                               if key != "difference"}
    assert out["eval"]["mean_colour"] == out["function"] and "swd" in out["eval"]
    assert out["command"] == out["evaluate"]["mean_colour"]
    assert out["stats"]["metrics"] == ["mean_colour", "swd"] and out["stats"]["num_images"]["mean_colour"] == 12
    assert out["from_stats"]["mean_colour"] == out["function"]
    assert out["from_stats"]["swd"] == out["eval"]["swd"]
    assert "ganeval mean_colour REAL FAKE" in out["help"] and "mean RGB colours" in out["help"]
    assert f"mean colour distance  {expected:.3f}" in out["table"]


def test_a_broken_entry_point_is_named_and_leaves_the_other_metrics_working(tmp_path):
    site = tmp_path / "site"
    install_example(site)
    (site / "mean_colour.py").write_text("raise ImportError('a dependency of the plugin is missing')\n")
    environment = {**os.environ, "PYTHONPATH": str(site)}
    code = "import ganeval.registry as r; print(sorted(r.metrics()))"
    run = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True,
                         env=environment, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(["dc", "fid", "is", "kid", "ls", "msssim", "ppl", "pr", "swd"])
    assert "mean_colour = mean_colour:MeanColourMetric cannot be loaded" in run.stderr
    assert "a dependency of the plugin is missing" in run.stderr
