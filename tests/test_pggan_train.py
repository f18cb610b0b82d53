"""The trainer end to end on tiny networks: every preset, kill-and-resume, divergence, generate, SWD, CLI."""

import functools
import json
import math
import os
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import ganeval.devices
import pggan.networks
import pggan.train
from ganeval import swd
from ganeval.errors import GanevalInputError
from ganeval_cli.pggan_cli import main
from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import PRESETS
from pggan.generate import generate, save_grid
from pggan.train import TrainingDivergedError, train
from tests.helpers import assert_same_training_state, tiny, train_whole_and_killed, weights

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}

# Tiny 8×8 networks: a second intra-op thread only adds synchronisation (and, on the 2 shared cores, spin-waiting),
# so these tests run single-threaded (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """256 smooth 16×16 grey images (blurred noise): a distribution a generator can get close to or not."""
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.standard_normal((256, 1, 16, 16)))
    smooth = torch.nn.functional.avg_pool2d(torch.nn.functional.pad(noise, (2, 2, 2, 2), mode="circular"), 5, 1)
    images = ((smooth / smooth.std() * 60 + 128).clamp(0, 255)).to(torch.uint8).numpy()
    path = tmp_path_factory.mktemp("data") / "tiny16.npz"
    np.savez(path, images=images)
    return path


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_trains_a_few_steps(preset, dataset, tmp_path):
    config = tiny(preset, dataset)
    torch.manual_seed(config.seed)
    initial, _ = pggan.networks.build_networks(config, 1)
    train(config, tmp_path, progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    state = load_checkpoint(list_checkpoints(tmp_path)[-1])
    assert log[-1]["kimg"] >= config.effective_total_kimg
    assert log[-1]["resolution"] == 8 and log[0]["resolution"] == (8 if not config.progressive else 4)
    assert all(np.isfinite(entry[key]) for entry in log for key in ("d_loss", "g_loss"))
    with Image.open(tmp_path / "samples" / f"tick-{len(log):05d}.png") as grid:  # 8-px samples ×16
        assert grid.size == (config.grid_size * 128, config.grid_size * 128)
    assert len(list_checkpoints(tmp_path)) <= 2  # only the newest two are kept
    moved = [not torch.equal(value, initial.state_dict()[name]) for name, value in state["generator"].items()
             if name.startswith("blocks.0.0.")]
    assert all(moved)  # the 4×4 conv was trained
    assert json.loads((tmp_path / "metrics.json").read_text())["kimg"] == log[-1]["kimg"]


# Every precision path: fp32 (the default), bf16 and fp16 autocast (fp16 with its GradScaler, whose state is in the
# checkpoint), and torch.compile (fp32; each process compiles its own graphs). On CPU each is deterministic, so a
# resumed run must equal the uninterrupted one bit for bit in all four.
PRECISION_PATHS = {"fp32": [], "bf16": ["--amp", "bf16"], "fp16": ["--amp", "fp16"], "compile": ["--compile"]}


@pytest.mark.slow  # spawns processes
@pytest.mark.parametrize("path", list(PRECISION_PATHS))
def test_killed_run_resumes_bit_identically(dataset, tmp_path, path):
    args = ["--data", str(dataset), "--config", "g", "--resolution", "8", "--fmap-base", "16", "--fmap-max", "8",
            "--latent-size", "8", "--kimg", "0.8", "--lod-training-kimg", "0.1", "--lod-transition-kimg", "0.1",
            "--kimg-per-tick", "0.1", "--snapshot-ticks", "1", "--metrics-images", "0", "--set", "grid_size=2",
            "--minibatch-repeats", "1", "--no-progress", *PRECISION_PATHS[path]]
    train_whole_and_killed(args, tmp_path / "whole", tmp_path / "killed")
    whole, log = assert_same_training_state(tmp_path / "whole", tmp_path / "killed")
    assert whole["counters"]["num_images"] == 800
    assert all(math.isfinite(entry[key]) for entry in log for key in ("d_loss", "g_loss") if key in entry)
    if path == "fp16":
        again = load_checkpoint(list_checkpoints(tmp_path / "killed")[-1])
        assert "grad_scaler" in whole and whole["grad_scaler"] == again["grad_scaler"]
        assert all("amp_loss_scale" in entry for entry in log)


def test_kill_right_after_a_checkpoint_keeps_that_ticks_log_line(dataset, tmp_path, monkeypatch):
    # Regression: the checkpoint used to be written before the tick's log line, so a kill between the two
    # lost that line for good (resume starts after the checkpoint's tick). Kill exactly there, in-process.
    config = tiny("g", dataset)
    train(config, tmp_path / "whole", progress=False)
    real_save = pggan.train.save_checkpoint
    calls = {"count": 0}

    def save_then_die(*args, **kwargs):
        path = real_save(*args, **kwargs)
        calls["count"] += 1
        if calls["count"] == 2:
            raise KeyboardInterrupt  # the process dies right after its second checkpoint is complete
        return path

    monkeypatch.setattr(pggan.train, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train(config, tmp_path / "killed", progress=False)
    with open(tmp_path / "killed" / "log.jsonl", "a") as log:
        log.write('{"tick": 3, "kimg": 0.1')  # and a line cut short by the kill
    monkeypatch.setattr(pggan.train, "save_checkpoint", real_save)
    pggan.train.resume(tmp_path / "killed", progress=False)
    timing = {"tick_seconds", "images_per_second", "train_seconds"}
    logs = [[{k: v for k, v in json.loads(line).items() if k not in timing}
             for line in (run / "log.jsonl").read_text().splitlines()] for run in (tmp_path / "whole",
                                                                                  tmp_path / "killed")]
    assert logs[0] == logs[1]


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(dataset, tmp_path, monkeypatch):
    calls = {"count": 0}
    real_loss = pggan.train.generator_loss

    def poisoned(*args, **kwargs):  # a finite first tick (4 G steps of 16), then NaN
        calls["count"] += 1
        loss = real_loss(*args, **kwargs)
        return loss * float("nan") if calls["count"] > 5 else loss

    monkeypatch.setattr(pggan.train, "generator_loss", poisoned)
    with pytest.raises(TrainingDivergedError, match=r"non-finite .*g_loss.* at kimg 0\.128"):
        train(tiny("g", dataset), tmp_path, progress=False)
    (newest,) = list_checkpoints(tmp_path)
    state = load_checkpoint(newest)
    assert state["counters"]["num_images"] == 64
    assert all(torch.isfinite(value).all() for value in weights(state).values())


def test_generate_writes_npz_and_pngs(dataset, tmp_path):
    train(tiny("g", dataset), tmp_path / "run", progress=False)
    images = generate(tmp_path / "run", 5, tmp_path / "fakes.npz", seed=3)
    assert images.shape == (5, 1, 8, 8) and images.dtype == np.uint8
    np.testing.assert_array_equal(np.load(tmp_path / "fakes.npz")["images"], images)
    result = CliRunner().invoke(main, ["generate", str(tmp_path / "run"), "-n", "5", "-o", str(tmp_path / "png"),
                                       "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "png").iterdir()) == [f"{i:06d}.png" for i in range(5)]
    for index in range(5):  # same seed, same latents, same pixels
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "png" / f"{index:06d}.png")),
                                      images[index, 0])


def test_end_to_end_train_generate_swd(dataset, tmp_path):
    # Grows 4 → 8 → 16 and logs SWD on the way (metrics_ticks), then ganeval scores the generated images.
    config = tiny("g", dataset, resolution=16, total_kimg=0.512, metrics_ticks=6, metrics_num_images=128)
    metrics = train(config, tmp_path / "run", progress=False)
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert metrics["resolution"] == 16 and len(metrics["swd_x1e3"]) == len(metrics["swd_resolutions"]) >= 1
    assert "swd_x1e3_avg" in log[5] and log[5]["resolution"] == 16
    fakes = generate(tmp_path / "run", 128, seed=1)
    reals = np.load(dataset)["images"]
    fake_score = swd(reals[:128], fakes, seed=0)["swd_x1e3_avg"]
    real_score = swd(reals[:128], reals[128:], seed=0)["swd_x1e3_avg"]
    assert np.isfinite(fake_score) and fake_score > real_score  # 512 images of training: far from the data


def test_cli_bad_input_is_one_line_and_exit_2(dataset, tmp_path):
    cases = [
        ["train", "--data", str(tmp_path / "missing.npz"), "--out", str(tmp_path / "r")],
        ["train", "--data", str(dataset), "--out", str(tmp_path / "r"), "--minibatch", "6"],
        ["train", "--data", str(dataset), "--out", str(tmp_path / "r"), "--resolution", "12"],
        ["generate", str(tmp_path / "nothing"), "-o", str(tmp_path / "f.npz")],
        ["resume", str(tmp_path)],
        ["prepare", str(tmp_path / "missing"), str(tmp_path / "o.npz")],
    ]
    for args in cases:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output, lines


def test_bf16_autocast_trains_with_finite_losses(dataset, tmp_path):
    # bf16 keeps fp32's exponent range, so a short run must stay finite; weights stay fp32 (autocast only).
    train(tiny("g", dataset, amp="bf16"), tmp_path, progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(entry["d_loss"]) and np.isfinite(entry["g_loss"]) for entry in log)
    state = load_checkpoint(list_checkpoints(tmp_path)[-1])
    assert all(value.dtype == torch.float32 for value in state["generator"].values() if value.is_floating_point())


def test_fp16_overflow_is_skipped_by_the_scaler_not_a_divergence(dataset, tmp_path, monkeypatch):
    # A loss scale of 2⁴⁰ overflows fp16 gradients: the scaler skips those steps (weights and Adam untouched) and
    # halves the scale until steps go through; ticks whose steps were all skipped log no losses, and the run ends.
    monkeypatch.setattr(torch.amp, "GradScaler", functools.partial(torch.amp.GradScaler, init_scale=2.0**40))
    train(tiny("g", dataset, amp="fp16"), tmp_path, progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    skipped = [entry["amp_skipped_steps"] for entry in log]
    assert skipped[0] == 8 and "d_loss" not in log[0]  # 4 D + 4 G steps in the first tick, all skipped
    assert log[-1]["amp_loss_scale"] < 2.0**40 / 2**20 and math.isfinite(log[-1]["d_loss"])
    state = load_checkpoint(list_checkpoints(tmp_path)[-1])
    assert all(torch.isfinite(value).all() for value in weights(state).values())


def test_flat_samples_skip_swd_and_the_run_goes_on(dataset, monkeypatch):
    # A collapsed generator's flat samples make SWD's per-set normalisation undefined: the tick logs why.
    config = tiny("g", dataset, resolution=16, metrics_num_images=8)
    generator = SimpleNamespace(latent_size=config.latent_size)  # sampling is replaced below
    monkeypatch.setattr(pggan.train, "sample_images", lambda *args: torch.full((8, 1, 16, 16), 90, dtype=torch.uint8))
    reals = torch.from_numpy(np.load(dataset)["images"][:8])
    result = pggan.train.evaluate(generator, reals, None, config, torch.device("cpu"))
    assert "swd_x1e3" not in result and "is constant over every descriptor" in result["swd_skipped"]
    assert result["msssim"] == pytest.approx(1.0)  # identical flat images


def test_progress_in_a_log_is_one_line_per_tick(dataset, tmp_path, capsys):
    # stderr redirected (not a terminal): ganeval's progress display writes one plain line at the end of each tick.
    train(tiny("g", dataset), tmp_path, progress=True)
    ticks = (tmp_path / "log.jsonl").read_text().splitlines()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == len(ticks) == 4 and "\r" not in "".join(lines)
    assert lines[0].startswith("train: 0.1/0.3 kimg [ 25%, ") and "lod 1.00, 4×4, " in lines[0]
    assert lines[-1].startswith("train: 0.3/0.3 kimg [100%, ") and lines[-1].endswith(" img/s")


@pytest.mark.parametrize("channels", [1, 3])
def test_sample_grid_is_grid_size_images_to_a_row_without_padding(tmp_path, channels):
    """Each sample enlarged by nearest neighbour until its shorter side reaches 128 px: 2×3 pixels ×64."""
    images = torch.arange(5 * channels * 2 * 3, dtype=torch.uint8).reshape(5, channels, 2, 3)
    save_grid(images, tmp_path / "grid.png", grid_size=2)
    with Image.open(tmp_path / "grid.png") as file:
        assert file.format == "PNG" and file.mode == ("L" if channels == 1 else "RGB")
        grid = np.asarray(file)
    rows = [torch.cat([images[0], images[1]], dim=2), torch.cat([images[2], images[3]], dim=2)]  # the 5th is left out
    expected = torch.cat(rows, dim=1).repeat_interleave(64, dim=1).repeat_interleave(64, dim=2)
    assert grid.shape[:2] == (2 * 128, 2 * 192)
    np.testing.assert_array_equal(grid, expected[0].numpy() if channels == 1 else expected.permute(1, 2, 0).numpy())


def test_ema_sweep_scores_each_half_life_and_resumes(dataset, tmp_path):
    # Half-life 0 is raw G itself; the config's own half-life is the EMA: both must score exactly as those do.
    config = tiny("g", dataset, resolution=16, metrics_num_images=32, metrics_ticks=1, ema_kimg=0.05,
                  ema_sweep_kimg=[0.0, 0.05, 0.2])
    train(config, tmp_path, progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    scored = [entry for entry in log if "ema_sweep_swd_x1e3_avg" in entry]
    assert scored
    for entry in scored:
        sweep = entry["ema_sweep_swd_x1e3_avg"]
        assert set(sweep) == {"raw", "0.0", "0.05", "0.2"}
        assert sweep["0.0"] == sweep["raw"] and sweep["0.05"] == entry["swd_x1e3_avg"] != sweep["0.2"]
    final = load_checkpoint(list_checkpoints(tmp_path)[-1])
    for name, value in final["ema_sweep"]["0.0"].items():
        assert torch.equal(value, final["generator"][name]), name
    # Resume from the checkpoint before the last: the sweep's averages come back bit for bit.
    list_checkpoints(tmp_path)[-1].unlink()
    (tmp_path / "metrics.json").unlink()
    pggan.train.resume(tmp_path, progress=False)
    again = load_checkpoint(list_checkpoints(tmp_path)[-1])
    for half_life, state in final["ema_sweep"].items():
        for name, value in state.items():
            assert torch.equal(value, again["ema_sweep"][half_life][name]), (half_life, name)


def test_generate_refuses_to_write_over_the_runs_data_or_its_checkpoint(dataset, tmp_path):
    train(tiny("g", dataset, total_kimg=0.064), tmp_path / "run", progress=False)
    checkpoint = list_checkpoints(tmp_path / "run")[-1]
    before = dataset.read_bytes()
    with pytest.raises(GanevalInputError, match=r"is the run's data .*destroy what is being read"):
        generate(tmp_path / "run", 2, dataset)
    assert dataset.read_bytes() == before
    (tmp_path / "run" / "images.npz").hardlink_to(dataset)
    with pytest.raises(GanevalInputError, match=r"is the run's data"):
        generate(checkpoint, 2, tmp_path / "run" / "images.npz")


def test_no_budget_on_a_cpu_is_refused_before_anything_is_written(dataset, tmp_path):
    result = CliRunner().invoke(main, ["train", "--data", str(dataset), "--out", str(tmp_path / "run"),
                                       "--device", "cpu"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no --budget given: ") and result.stderr.count("\n") == 1
    assert "10000 kimg" in result.stderr and "pass --budget quick" in result.stderr
    assert not (tmp_path / "run").exists()


def test_no_budget_on_a_gpu_trains_the_defaults_and_says_so(dataset, tmp_path, monkeypatch):
    # The device resolution is faked in-process: the command sees CUDA, training itself is replaced.
    monkeypatch.setattr(ganeval.devices, "resolve_device", lambda device=None: torch.device("cuda"))
    trained = []
    monkeypatch.setattr(pggan.train, "train", lambda config, out, progress: trained.append(config) or {})
    result = CliRunner().invoke(main, ["train", "--data", str(dataset), "--out", str(tmp_path / "run"),
                                       "--config", "h"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ("note: no --budget given: training the defaults, the paper's full-size networks "
                             "(fmap_base 8192) for 20000 kimg on cuda (--budget quick or paper to choose)\n")
    assert trained[0].total_kimg == 10000 and trained[0].kimg_factor == 2 and trained[0].fmap_base == 8192
    # A budget or a length given: no note.
    result = CliRunner().invoke(main, ["train", "--data", str(dataset), "--out", str(tmp_path / "run"),
                                       "--budget", "paper"])
    assert result.exit_code == 0 and result.stderr == ""


def test_resuming_a_finished_run_changes_nothing_and_says_how_to_extend_it(dataset, tmp_path):
    train(tiny("g", dataset), tmp_path, progress=False)
    files = sorted(path for path in tmp_path.rglob("*") if path.is_file())
    before = {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files}
    result = CliRunner().invoke(main, ["resume", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"note: {tmp_path}: already finished at 0.256 kimg; pass --kimg M (> 0.256) to train "
                             "it longer\n")
    assert json.loads(result.stdout) == json.loads((tmp_path / "metrics.json").read_text())
    assert sorted(path for path in tmp_path.rglob("*") if path.is_file()) == files
    assert {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in files} == before


def test_an_extended_run_is_the_run_trained_that_long_from_the_start(dataset, tmp_path, monkeypatch):
    # (h) is (g) trained twice as long: (g) trained to 0.224 kimg (its end mid fade-in to 16×16), then extended to
    # 0.448 (killed once on the way, resumed), must be (h) bit for bit — the schedule, learning rate and EMA do not
    # depend on the total. The checkpoint at the old end lies between two snapshots of the straight run.
    settings = dict(resolution=16, total_kimg=0.224, kimg_per_tick=0.032, snapshot_ticks=2)
    straight, extended = tmp_path / "straight", tmp_path / "extended"
    train(tiny("h", dataset, **settings), straight, progress=False)
    train(tiny("g", dataset, **settings), extended, progress=False)
    first_metrics = json.loads((extended / "metrics.json").read_text())

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the extension dies at its first checkpoint, config.json already extended

    monkeypatch.setattr(pggan.train, "save_checkpoint", killed)
    result = CliRunner().invoke(main, ["resume", str(extended), "--kimg", "0.448", "--no-progress"])
    assert result.exit_code == 130, result.output
    monkeypatch.undo()
    result = CliRunner().invoke(main, ["resume", str(extended), "--no-progress"])
    assert result.exit_code == 0, result.output

    config = json.loads((extended / "config.json").read_text())
    assert (config["total_kimg"], config["kimg_factor"], config["total_kimg_history"]) == (0.448, 1.0, [0.224])
    assert json.loads((extended / "metrics-0.224kimg.json").read_text()) == first_metrics
    assert json.loads((extended / "metrics.json").read_text())["kimg"] == 0.448
    assert [path.name for path in list_checkpoints(extended)] == [path.name for path in list_checkpoints(straight)]
    whole, log = assert_same_training_state(straight, extended, rng=("sampler", "torch"))
    again = load_checkpoint(list_checkpoints(extended)[-1])
    assert {**whole["counters"], "train_seconds": 0} == {**again["counters"], "train_seconds": 0}
    assert len(log) == 14


def test_tensorboard_events_hold_each_ticks_losses_and_swd_per_level(dataset, tmp_path):
    """With the optional tensorboard package: event files beside log.jsonl, a point per tick at its images shown."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    config = tiny("g", dataset, resolution=16, metrics_num_images=32, metrics_ticks=1)
    train(config, tmp_path, progress=False)
    log = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert {"loss/d_loss", "loss/g_loss", "loss/gradient_penalty", "swd_x1e3/16px", "swd_x1e3/average",
            "progress/kimg"} <= set(events.Tags()["scalars"])

    def curve(tag):
        steps, values = zip(*[(event.step, event.value) for event in events.Scalars(tag)])
        return list(steps), pytest.approx(values, rel=1e-6)  # TensorBoard keeps float32

    assert curve("loss/g_loss") == ([round(record["kimg"] * 1000) for record in log],
                                    [record["g_loss"] for record in log])
    final = json.loads((tmp_path / "metrics.json").read_text())  # the end's SWD is the curve's last point
    scored = [record for record in log if "swd_x1e3" in record] + [final]
    assert len(scored) >= 2
    assert curve("swd_x1e3/16px") == ([round(record["kimg"] * 1000) for record in scored],
                                      [record["swd_x1e3"][record["swd_resolutions"].index(16)] for record in scored])


def test_without_tensorboard_a_run_writes_no_event_file(dataset, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # its import now fails, as without the package
    assert pggan.train.open_tensorboard(tmp_path, None) is None
    train(tiny("g", dataset), tmp_path, progress=False)
    assert not list(tmp_path.glob("events.out.tfevents.*")) and (tmp_path / "log.jsonl").is_file()


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_without_bf16_arithmetic_says_so(dataset, tmp_path, monkeypatch, native):
    monkeypatch.setattr(pggan.train, "cpu_has_bf16_arithmetic", lambda: native)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train(tiny("g", dataset, amp="bf16", total_kimg=0.064, device="cpu"), tmp_path / "run", progress=False)
    notes = [str(warning.message) for warning in caught if "bf16 arithmetic" in str(warning.message)]
    assert len(notes) == (0 if native else 1), notes


def test_bf16_arithmetic_is_read_from_the_cpu_flags(tmp_path):
    zen3 = "processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
    sapphire_rapids = "processor\t: 0\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile amx_bf16\n"
    for text, expected in ((zen3, False), (sapphire_rapids, True), ("processor\t: 0\n", None)):
        (tmp_path / "cpuinfo").write_text(text)
        assert ganeval.devices.cpu_has_bf16_arithmetic(str(tmp_path / "cpuinfo")) is expected
    assert ganeval.devices.cpu_has_bf16_arithmetic(str(tmp_path / "absent")) is None
