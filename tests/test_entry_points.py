"""How the two programs start: `python -m ganeval` / `python -m pggan`, torchrun, -h and --version, and fast help."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ganeval
from ganeval.errors import GanevalInputError, SharedInputError
from ganeval_cli.ganeval_cli import main as ganeval_main
from ganeval_cli.pggan_cli import main as pggan_main
from tests.helpers import smooth_images

REPO = Path(__file__).resolve().parents[1]
PROGRAMS = {"ganeval": ganeval_main, "pggan": pggan_main}


def run_module(*arguments: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m <arguments>` in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", *arguments], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env=env)


@pytest.mark.slow  # spawns processes
@pytest.mark.parametrize("program", PROGRAMS)
def test_python_dash_m_runs_the_command(program):
    version = run_module(program, "--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"{program}, version {ganeval.__version__}"
    usage = run_module(program, "-h")
    assert usage.returncode == 0 and usage.stdout.startswith(f"Usage: python -m {program} ")


# Imported by a metric or a training run, never by --help or an argument error: torch and torchvision alone take
# 1.2–2.7 s to import on a small CPU, numpy and scipy another 0.1–0.2 s.
HEAVY_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "skimage", "matplotlib")
HELP_WITHOUT_TORCH = """
import sys
from click.testing import CliRunner

from ganeval_cli.ganeval_cli import main as ganeval_main
from ganeval_cli.pggan_cli import main as pggan_main

for group in (ganeval_main, pggan_main):
    for arguments in (["--help"], ["--version"], *([command, "--help"] for command in group.commands)):
        assert CliRunner().invoke(group, arguments).exit_code == 0, arguments
assert CliRunner().invoke(ganeval_main, ["swd", "--seed", "-1", "a", "b"]).exit_code == 2
assert CliRunner().invoke(pggan_main, ["train", "--minibatch", "0", "--data", "d.npz", "--out", "run"]).exit_code == 2
print(" ".join(sorted({name.partition(".")[0] for name in sys.modules} & set(sys.argv[1:]))))
"""


@pytest.mark.slow  # spawns processes
def test_help_and_argument_errors_import_no_torch():
    # In a fresh interpreter: help texts and option defaults come from ganeval.defaults and pggan.config, and the
    # commands import the metrics and the trainer only when they run.
    completed = subprocess.run([sys.executable, "-c", HELP_WITHOUT_TORCH, *HEAVY_PACKAGES], cwd=REPO,
                               capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == [], "imported by the command line's help: " + completed.stdout


@pytest.mark.slow  # spawns processes
def test_python_dash_m_reports_usage_errors_like_the_console_script():
    completed = run_module("ganeval", "swd", "--seed", "-1", "a", "b")
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.splitlines() == [
        "error: Invalid value for '--seed': -1 is not in the range 0<=x<=4294967295. "
        "(see 'python -m ganeval swd --help')"]


@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("option", ["-h", "--help"])
def test_help_options_of_both_programs_and_their_commands(program, option):
    group = PROGRAMS[program]
    result = CliRunner().invoke(group, [option], prog_name=program)
    assert result.exit_code == 0 and result.stdout.startswith(f"Usage: {program} [OPTIONS] COMMAND")
    for command in group.commands:
        result = CliRunner().invoke(group, [command, option], prog_name=program)
        assert result.exit_code == 0 and result.stdout.startswith(f"Usage: {program} {command} "), command


@pytest.mark.parametrize("program", PROGRAMS)
def test_version_of_both_programs(program):
    result = CliRunner().invoke(PROGRAMS[program], ["--version"], prog_name=program)
    assert result.exit_code == 0 and result.stdout == f"{program}, version {ganeval.__version__}\n"


@pytest.mark.slow  # spawns processes
def test_torchrun_dash_m_pggan_trains_on_two_gloo_ranks(tmp_path):
    # The README's multi-process command, as torchrun runs it (`torchrun` is `python -m torch.distributed.run`).
    data = tmp_path / "data.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8))
    completed = run_module(
        "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "pggan", "train", "--data", str(data),
        "--out", str(tmp_path / "run"), "--resolution", "8", "--fmap-base", "16", "--fmap-max", "8", "--latent-size",
        "8", "--kimg", "0.128", "--lod-training-kimg", "0.032", "--lod-transition-kimg", "0.032", "--kimg-per-tick",
        "0.064", "--metrics-images", "0", "--minibatch-repeats", "1", "--set", "grid_size=2", "--device", "cpu",
        "--no-progress", env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert completed.returncode == 0, completed.stderr
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["kimg"] == 0.128


@pytest.mark.slow  # spawns processes
def test_torchrun_dash_m_ganeval_eval_prints_the_one_process_numbers_once(tmp_path):
    # 13 images in batches of 4 over 2 ranks: rank 0 reads batches 0 and 2, rank 1 batches 1 and 3.
    for name, seed in (("real", 1), ("fake", 2)):
        np.save(tmp_path / f"{name}.npy", smooth_images(13, 32, seed=seed))
    arguments = ["eval", str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"), "--metrics", "swd,msssim",
                 "--batch-size", "4", "--device", "cpu", "--json", "--no-progress"]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    completed = run_module("torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "ganeval",
                           *arguments, env=environment)
    assert completed.returncode == 0, completed.stderr
    printed = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    assert len(printed) == 1  # rank 0 prints; rank 1 returns the same dict silently
    one_process = run_module("ganeval", *arguments, env=environment)
    assert json.loads(printed[0]) == json.loads(one_process.stdout)


def torchrun_errors(arguments: list[str], program: str = "ganeval") -> tuple[int, list[str], str]:
    """torchrun of `program arguments` on 2 gloo ranks: (torchrun's exit code, the processes' `error:` lines, all of
    stderr)."""
    completed = run_module("torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", program, *arguments,
                           env={**os.environ, "OMP_NUM_THREADS": "1"})
    return completed.returncode, [line for line in completed.stderr.splitlines() if line.startswith("error:")], \
        completed.stderr


@pytest.mark.slow  # spawns processes
def test_torchrun_bad_input_met_by_every_rank_is_one_line_from_rank_0(tmp_path):
    np.save(tmp_path / "real.npy", smooth_images(8, 32, seed=1))
    code, errors, stderr = torchrun_errors(["eval", str(tmp_path / "real.npy"), str(tmp_path / "missing"),
                                            "--metrics", "swd", "--device", "cpu", "--no-progress"])
    assert errors == [f"error: rank 0: FAKE: {tmp_path / 'missing'} does not exist"], stderr
    assert code != 0 and "exitcode  : 2" in stderr  # torchrun's summary: each process exited with 2


@pytest.mark.slow  # spawns processes
def test_torchrun_bad_option_is_one_line(tmp_path):
    code, errors, stderr = torchrun_errors(["eval", "a", "b", "--metrics", "swd,nope"])
    assert len(errors) == 1 and "unknown metric(s) nope" in errors[0], stderr
    assert code != 0 and "exitcode  : 2" in stderr


@pytest.mark.slow  # spawns processes
def test_torchrun_bad_vgg16_fc2_weights_are_one_line(tmp_path):
    # Every rank loads the feature extractor's weights: a file that is not VGG-16's stops them all, one line said.
    for name, seed in (("real", 1), ("fake", 2)):
        np.save(tmp_path / f"{name}.npy", smooth_images(8, 32, seed=seed))
    weights = tmp_path / "vgg16.pth"
    weights.write_bytes(b"garbage")
    code, errors, stderr = torchrun_errors(["pr", str(tmp_path / "real.npy"), str(tmp_path / "fake.npy"), "--pr-k",
                                            "2", "--features", "vgg16-fc2", "--vgg16-weights", str(weights),
                                            "--allow-unverified-weights", "--device", "cpu", "--no-progress"])
    assert len(errors) == 1 and str(weights) in errors[0] and "not a readable PyTorch weights file" in errors[0], \
        stderr
    assert code != 0 and "exitcode  : 2" in stderr


@pytest.mark.slow  # spawns processes
def test_torchrun_pggan_train_bad_setting_is_one_line(tmp_path):
    data = tmp_path / "data.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (16, 1, 8, 8), dtype=np.uint8))
    code, errors, stderr = torchrun_errors(["train", "--data", str(data), "--out", str(tmp_path / "run"),
                                            "--budget", "quick", "--set", "fmap_base=0", "--device", "cpu"],
                                           program="pggan")
    assert len(errors) == 1 and "fmap_base" in errors[0], stderr
    assert code != 0 and "exitcode  : 2" in stderr


@pytest.mark.parametrize("environment, error, expected", [
    ({}, GanevalInputError("x"), ""),  # no torchrun: the process reports
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, SharedInputError("rank 0: x"), None),
    ({"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}, SharedInputError("rank 1: x"), ""),
    ({"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1"}, GanevalInputError("x"), None),  # before joining: rank 0's
    ({"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "0"}, GanevalInputError("x"), "rank 2: "),  # a second machine
])
def test_which_torchrun_process_reports_an_error(monkeypatch, environment, error, expected):
    from ganeval_cli.common import torchrun_prefix

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert torchrun_prefix(error) == expected


@pytest.mark.parametrize("others, environment, expected", [
    (1, {}, "1000"),  # another process running: threads sleep after 1,000 spins
    (0, {}, None),  # an idle machine keeps libgomp's default (faster idle)
    (2, {"GOMP_SPINCOUNT": "50"}, "50"),  # the user's choice stands
    (2, {"OMP_WAIT_POLICY": "ACTIVE"}, None),
])
def test_openmp_threads_sleep_sooner_only_on_a_busy_machine(monkeypatch, others, environment, expected):
    from ganeval_cli import common

    for name in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(common, "other_work_on_this_machine", lambda: others)
    common.sleep_sooner_when_shared()
    assert os.environ.get("GOMP_SPINCOUNT") == expected


@pytest.mark.parametrize("fails", [False, True], ids=["success", "bad input"])
def test_a_command_leaves_its_process_group_before_it_exits(fails):
    # Left to interpreter shutdown, gloo's threads were torn down joinable and C++ aborted rank 0 (SIGABRT in place
    # of exit code 2) on a busy machine; the commands destroy the group themselves, on success and on error.
    import torch.distributed as dist

    from ganeval_cli.common import CommandGroup

    group = CommandGroup(name="program")

    @group.command()
    def work() -> None:
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
        if fails:
            raise GanevalInputError("FAKE: missing does not exist")

    with pytest.raises(SystemExit) as exited:
        group.main(["work"], prog_name="program")
    assert exited.value.code == (2 if fails else 0) and not dist.is_initialized()
