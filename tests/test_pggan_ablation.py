"""The Table 1 grid end to end on a tiny data set: tables, figures, resumption after a kill, and honest numbers."""

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage
import torch
from click.testing import CliRunner

import ganeval
from pggan import ablation
from pggan.ablation import run_ablation, seeds_in
from pggan.generate import generate, run_generator
from tests.helpers import random_state_dict

pytestmark = pytest.mark.slow  # the Table 1 grid: several tiny training runs, worker and CLI processes

# SWD's coarsest pyramid level is 16 px, so the tiny grid trains to 16×16 (not 8×8): 4 → 8 → 16 in 0.1-kimg
# phases, tiny networks, one tick per 0.1 kimg so the training log holds SWD points for the figure.
TINY = dict(budget="quick", kimg=0.6, device="cpu", swd_num_images=128, msssim_num_pairs=64, progress=False,
            resolution=16, fmap_base=32, fmap_max=8, latent_size=16, lod_training_kimg=0.1,
            lod_transition_kimg=0.1, kimg_per_tick=0.1, metrics_ticks=1, metrics_num_images=64)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    rng = np.random.default_rng(0)
    blobs = scipy.ndimage.gaussian_filter(rng.normal(size=(300, 16, 16, 1)), sigma=(0, 2, 2, 0))
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, images=np.clip(128 + 400 * blobs, 0, 255).astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def finished_grid(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    return out, run_ablation(tiny_data, out, configs=["a", "g"], jobs=2, **TINY)  # both rows at once


def test_tiny_grid_writes_all_tables_and_figures(finished_grid):
    out, table = finished_grid
    for name in ("table1.md", "table1.csv", "table1.json", "figure_samples.png", "figure_swd.png"):
        assert (out / name).stat().st_size > 0, name
    assert [row["config"] for row in table["rows"]] == ["real", "a", "g"]
    stored = json.loads((out / "table1.json").read_text())
    assert stored["rows"] == table["rows"]
    assert "(g) + Pixelwise normalization" in (out / "table1.md").read_text()


def test_table_swd_equals_ganeval_swd_by_hand(finished_grid, tiny_data):
    out, table = finished_grid
    row = next(row for row in table["rows"] if row["config"] == "g")
    evaluation = json.loads((out / "seed-1000" / "g" / "evaluation.json").read_text())
    fakes = generate(out / "seed-1000" / "g", 128, seed=1000, device="cpu")
    reals = np.load(tiny_data)["images"].transpose(0, 3, 1, 2)[:128]
    by_hand = ganeval.swd(reals, fakes, seed=1000, device="cpu")
    assert by_hand["swd_x1e3"] == evaluation["swd_x1e3"]
    assert row["swd_x1e3_16"] == round(by_hand["swd_x1e3"][0], 3)
    raw = ganeval.swd(reals, generate(out / "seed-1000" / "g", 128, seed=1000, device="cpu", ema=False), seed=1000,
                      device="cpu")
    assert evaluation["raw_swd_x1e3_avg"] == raw["swd_x1e3_avg"] != by_hand["swd_x1e3_avg"]


CLI_TINY = ["--budget", "quick", "--kimg", "0.6", "--device", "cpu", "--swd-images", "128", "--msssim-pairs", "64",
            "--no-progress", "--lod-training-kimg", "0.1", "--lod-transition-kimg", "0.1", "--kimg-per-tick", "0.1",
            "--metrics-ticks", "1", "--metrics-images", "64", "--set", "resolution=16", "--set", "fmap_base=32",
            "--set", "fmap_max=8", "--set", "latent_size=16"]


def test_killed_grid_resumes_without_retraining_finished_configs(tiny_data, tmp_path):
    out = tmp_path / "grid"
    command = [sys.executable, "-m", "pggan", "ablation", "--data", str(tiny_data), "--out", str(out),
               "--configs", "a,g", *CLI_TINY]
    environment = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(command, cwd=Path(__file__).parents[1], env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not list((out / "seed-1000" / "g").glob("checkpoint-*.pt")) and process.poll() is None:
        assert time.monotonic() < deadline, "the grid never reached the second configuration"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    first = out / "seed-1000" / "a" / "evaluation.json"
    assert first.exists() and not (out / "seed-1000" / "g" / "evaluation.json").exists()
    finished_at, checkpoints = first.stat().st_mtime_ns, sorted((out / "seed-1000" / "a").glob("checkpoint-*.pt"))
    rerun = subprocess.run(command, cwd=Path(__file__).parents[1], env=environment, capture_output=True,
                           text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert first.stat().st_mtime_ns == finished_at
    assert sorted((out / "seed-1000" / "a").glob("checkpoint-*.pt")) == checkpoints
    table = json.loads((out / "table1.json").read_text())
    assert [row["config"] for row in table["rows"]] == ["real", "a", "g"]
    assert "(g) + Pixelwise normalization" in rerun.stdout  # the CLI prints the finished table


def test_fid_and_kid_columns_appear_when_inception_weights_are_given(tiny_data, tmp_path, monkeypatch):
    from ganeval.accumulators.features import FeatureStatistics
    from ganeval.extractors.inception import load_inception
    from ganeval.kernels.frechet import frechet_distance

    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    weights = tmp_path / "random-inception.pth"
    torch.save(random_state_dict(), weights)
    table = run_ablation(tiny_data, tmp_path / "grid", configs=["g"], fid_num_images=8, inception_weights=weights,
                         allow_unverified_weights=True, **{**TINY, "metrics_ticks": 0})
    row = next(row for row in table["rows"] if row["config"] == "g")
    # By hand: the same 8 generated images and 8 reals through the same network and Fréchet formula.
    extractor = load_inception(weights, device=torch.device("cpu"), allow_unverified_weights=True)
    reals = np.load(tiny_data)["images"].transpose(0, 3, 1, 2)[:8]
    fakes = generate(tmp_path / "grid" / "seed-1000" / "g", 128, seed=1000, device="cpu")[:8]
    moments = []
    for images in (reals, fakes):
        statistics = FeatureStatistics(extractor)
        statistics.update(torch.from_numpy(np.repeat(images, 3, axis=1)))  # grey → RGB, as ganeval reads grey
        moments.append(statistics.compute())
    by_hand = frechet_distance(moments[0].mu, moments[0].sigma, moments[1].mu, moments[1].sigma)
    assert row["fid"] == round(by_hand, 3) and "kid_mean" in row
    assert "FID" in (tmp_path / "grid" / "table1.md").read_text()


def test_ppl_column_is_ganeval_ppl_of_the_ema_generator(tiny_data, tmp_path, vgg16_weights, lpips_linear):
    table = run_ablation(tiny_data, tmp_path / "grid", configs=["g"], ppl_num_samples=128, vgg16_weights=vgg16_weights,
                         lpips_weights=lpips_linear, allow_unverified_weights=True, **{**TINY, "metrics_ticks": 0})
    row = next(row for row in table["rows"] if row["config"] == "g")
    # The same number through ganeval directly: the run's EMA generator, Z space, t ~ U(0, 1), no crop, the seed.
    by_hand = ganeval.ppl(run_generator(tmp_path / "grid" / "seed-1000" / "g"), value_range=(-1, 1), num_samples=128,
                          space="z", sampling="full", crop=False, seed=1000, device="cpu", vgg16_weights=vgg16_weights,
                          lpips_weights=lpips_linear, allow_unverified_weights=True)
    assert row["ppl"] == round(by_hand["ppl"], 3)
    text = (tmp_path / "grid" / "table1.md").read_text()
    assert "| PPL |" in text and "on 128 latent pairs" in text and "not measured" not in text


def test_stylegan2_grids_ppl_is_its_path_length_in_w_between_endpoints(tiny_data, tmp_path, vgg16_weights,
                                                                          lpips_linear):
    """StyleGAN2's Table 1 measures its path length in W at path endpoints: the grid's PPL column does too."""
    out = tmp_path / "grid"
    table = run_ablation(tiny_data, out, grid="stylegan2", configs=["B"], ppl_num_samples=128,
                         vgg16_weights=vgg16_weights, lpips_weights=lpips_linear, allow_unverified_weights=True,
                         **{**TINY, "kimg": 0.2, "metrics_ticks": 0, "mapping_layers": 2})
    row = next(row for row in table["rows"] if row["config"] == "B")
    by_hand = ganeval.ppl(run_generator(out / "seed-1000" / "B"), value_range=(-1, 1), num_samples=128, space="w",
                          sampling="end", crop=False, seed=1000, device="cpu", vgg16_weights=vgg16_weights,
                          lpips_weights=lpips_linear, allow_unverified_weights=True)
    assert row["ppl"] == round(by_hand["ppl"], 3)
    evaluation = json.loads((out / "seed-1000" / "B" / "evaluation.json").read_text())
    assert (evaluation["ppl_space"], evaluation["ppl_sampling"]) == ("w", "end")
    assert "W space, path endpoints (t = 0)" in (out / "stylegan2_table1.md").read_text()


def test_ppl_column_says_why_it_is_empty_without_weights(finished_grid):
    out, _ = finished_grid
    evaluation = json.loads((out / "seed-1000" / "g" / "evaluation.json").read_text())
    assert "ppl" not in evaluation and "VGG-16 weights of LPIPS are not here" in evaluation["ppl_not_measured"]
    text = (out / "table1.md").read_text()
    assert "| PPL |" in text and "PPL —: not measured (the VGG-16 weights of LPIPS are not here" in text
    g_row = next(line for line in text.splitlines() if line.startswith("| (g)"))
    assert "| — |" in g_row


def copy_evaluations(out: Path, copy: Path) -> None:
    """Copy a grid's evaluation.json files (each run's and each seed's real_evaluation.json), as results are
    committed, from `out` into `copy`."""
    for path in out.glob("seed-*/**/*evaluation.json"):
        target = copy / path.relative_to(out)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)


@pytest.fixture(scope="module")
def two_seed_grid(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds")
    return out, run_ablation(tiny_data, out, configs=["d", "e"], seeds=[7, 8], jobs=2, **{**TINY, "metrics_ticks": 0})


def test_seeds_give_mean_and_standard_deviation_per_cell(two_seed_grid):
    out, table = two_seed_grid
    runs = {(seed, name): json.loads((out / f"seed-{seed}" / name / "evaluation.json").read_text())
            for seed in (7, 8) for name in ("d", "e")}
    for name in ("d", "e"):
        row = next(row for row in table["rows"] if row["config"] == name)
        values = [runs[seed, name]["swd_x1e3_avg"] for seed in (7, 8)]
        assert row["num_seeds"] == 2
        assert row["swd_x1e3_avg"] == round(np.mean(values), 3)
        assert row["swd_x1e3_avg_std"] == round(np.std(values, ddof=1), 3)
        assert f"{row['swd_x1e3_avg']} ± {row['swd_x1e3_avg_std']}" in (out / "table1.md").read_text()
    assert runs[7, "e"]["swd_x1e3_avg"] != runs[8, "e"]["swd_x1e3_avg"]  # the seeds are different runs
    per_seed = list(csv.DictReader(io.StringIO((out / "table1_per_seed.csv").read_text())))
    assert {(row["seed"], row["config"]) for row in per_seed} == {
        (str(seed), name) for seed in (7, 8) for name in ("real", "d", "e")}
    assert all(row["raw_swd_x1e3_avg"] for row in per_seed if row["config"] != "real")


def test_trend_check_is_the_paired_difference_and_its_standard_error(two_seed_grid):
    out, table = two_seed_grid
    check = next(check for check in table["trends"] if check["claim"] == "minibatch stddev improves SWD")
    differences = [json.loads((out / f"seed-{seed}" / "e" / "evaluation.json").read_text())["swd_x1e3_avg"]
                   - json.loads((out / f"seed-{seed}" / "d" / "evaluation.json").read_text())["swd_x1e3_avg"]
                   for seed in (7, 8)]
    error = np.std(differences, ddof=1) / np.sqrt(2)
    assert check["difference"] == round(np.mean(differences), 4) and check["standard_error"] == round(error, 4)
    t_975_one_degree = 12.7062  # the t distribution's 97.5 % quantile at 1 degree of freedom (a t table)
    expected = ("not resolved" if abs(np.mean(differences)) <= t_975_one_degree * error
                else "as the paper" if np.mean(differences) < 0 else "against the paper")
    assert check["verdict"] == expected and check["paper_celeba_difference"] == round(7.04 - 8.07, 4)
    assert [check["row"] for check in table["trends"]] == ["e", "e"]  # only the trends both rows allow
    assert "## The paper's trends, checked" in (out / "table1.md").read_text()


def test_tables_are_rebuilt_from_evaluations_alone(two_seed_grid, tiny_data, tmp_path):
    """Committed results hold only each run's evaluation.json: the runner assembles the same table from them."""
    out, table = two_seed_grid
    copy = tmp_path / "committed"
    copy_evaluations(out, copy)
    shutil.copy(out / "figure_samples.png", copy / "figure_samples.png")  # committed beside them
    rebuilt = run_ablation(tiny_data, copy, configs=["d", "e"], seeds=[7, 8], **{**TINY, "metrics_ticks": 0})
    assert rebuilt["rows"] == table["rows"] and rebuilt["trends"] == table["trends"]
    assert not list(copy.glob("seed-*/*/checkpoint-*.pt"))  # nothing was trained again
    # With no run to sample, the committed figure is kept rather than redrawn with the real images only.
    assert (copy / "figure_samples.png").read_bytes() == (out / "figure_samples.png").read_bytes()


def test_samples_figure_is_kept_where_some_rows_have_no_checkpoint(two_seed_grid, tiny_data, tmp_path):
    """A committed grid whose row (d) keeps only its evaluation.json and row (e) its whole run folder: rebuilt with
    `--tables-only`, figure_samples.png stays as committed (redrawn from (e) alone it would lose (d)), with a
    warning naming the row."""
    out, _ = two_seed_grid
    copy = tmp_path / "mixed"
    copy_evaluations(out, copy)
    shutil.rmtree(copy / "seed-7" / "e")
    shutil.copytree(out / "seed-7" / "e", copy / "seed-7" / "e")
    committed = b"the committed figure of every row"
    (copy / "figure_samples.png").write_bytes(committed)
    with pytest.warns(UserWarning, match=r"figure_samples\.png: kept as it is.* row\(s\) d of seed 7"):
        run_ablation(tiny_data, copy, configs=["d", "e"], seeds=[7, 8], train=False,
                     **{**TINY, "metrics_ticks": 0})
    assert (copy / "figure_samples.png").read_bytes() == committed


def test_seeds_left_out_of_the_tables_are_named(two_seed_grid, tiny_data, tmp_path):
    """Tables of seed 8 alone, where seed 7 finished too: one warning names seed 7 as left out, and the table is
    seed 8's."""
    out, _ = two_seed_grid
    copy = tmp_path / "seeds"
    copy_evaluations(out, copy)
    with pytest.warns(UserWarning, match=r"the tables cover seed\(s\) 8 only; the finished runs of seed\(s\) 7"):
        table = run_ablation(tiny_data, copy, configs=["d", "e"], seeds=[8], train=False,
                             **{**TINY, "metrics_ticks": 0})
    assert table["seeds"] == [8] and {row["num_seeds"] for row in table["rows"] if row["config"] != "real"} == {1}


def test_a_row_fewer_seeds_finished_says_so(two_seed_grid, tiny_data, tmp_path):
    """Seeds committed as they finish, tables rebuilt with train=False (`--tables-only`): a row one seed has not
    reached is that seed's value alone, with no spread, the seeds column says 1, and nothing is trained."""
    out, _ = two_seed_grid
    copy = tmp_path / "partial"
    copy_evaluations(out, copy)
    shutil.rmtree(copy / "seed-8" / "e")  # seed 8 has not finished row (e) yet
    table = run_ablation(tiny_data, copy, configs=["d", "e"], seeds=[7, 8], train=False,
                         **{**TINY, "metrics_ticks": 0})
    assert not (copy / "seed-8" / "e").exists()  # nothing was trained
    rows = {row["config"]: row for row in table["rows"]}
    seed_7_e = json.loads((out / "seed-7" / "e" / "evaluation.json").read_text())
    assert rows["d"]["num_seeds"] == 2 and "swd_x1e3_avg_std" in rows["d"]
    assert rows["e"]["num_seeds"] == 1 and "swd_x1e3_avg_std" not in rows["e"]
    assert rows["e"]["swd_x1e3_avg"] == round(seed_7_e["swd_x1e3_avg"], 3)
    lines = (copy / "table1.md").read_text().splitlines()
    titles = [cell.strip() for cell in next(line for line in lines if line.startswith("| configuration")).strip("|")
              .split("|")]
    cells = [cell.strip() for cell in next(line for line in lines if line.startswith("| (e) ")).strip("|").split("|")]
    assert cells[titles.index("seeds")] == "1"
    assert {check["verdict"] for check in table["trends"] if check["row"] == "e"} == {"one seed"}


def test_tables_only_without_seeds_reads_every_seed_folder(two_seed_grid, tiny_data, tmp_path):
    """`pggan ablation --tables-only` with no --seeds rebuilds over every OUT/seed-S (it took seed 1000 alone, and a
    committed 3-seed table was silently rewritten as one seed's)."""
    from ganeval_cli.pggan_cli import main as pggan_main

    out, table = two_seed_grid
    copy = tmp_path / "committed"
    copy_evaluations(out, copy)
    (copy / "seed-notes").mkdir()  # not a seed
    assert seeds_in(copy) == [7, 8]
    settings = [f"--set={name}={TINY[name]}" for name in ("resolution", "fmap_base", "fmap_max", "latent_size")]
    result = CliRunner().invoke(pggan_main, [
        "ablation", "--data", str(tiny_data), "--out", str(copy), "--configs", "d,e", "--tables-only", "--kimg", "0.6",
        "--device", "cpu", "--swd-images", "128", "--msssim-pairs", "64", "--lod-training-kimg", "0.1",
        "--lod-transition-kimg", "0.1", "--kimg-per-tick", "0.1", "--metrics-ticks", "0", "--metrics-images", "64",
        "--no-progress", *settings])
    assert result.exit_code == 0, result.output
    rebuilt = json.loads((copy / "table1.json").read_text())
    assert rebuilt["rows"] == table["rows"]
    assert {row["num_seeds"] for row in rebuilt["rows"] if row["config"] != "real"} == {2}


def test_a_run_resumed_further_is_scored_again_not_shown_with_its_old_scores(tiny_data, tmp_path):
    """`pggan resume RUN --kimg N` on a grid's finished run: --tables-only warns that the scores are of the shorter
    run; the grid run again scores it anew (the kimg column follows)."""
    from pggan.train import resume

    out = tmp_path / "grid"
    settings = {**TINY, "metrics_ticks": 0}
    run_ablation(tiny_data, out, configs=["g"], **settings)
    run = out / "seed-1000" / "g"
    before = json.loads((run / "evaluation.json").read_text())["kimg"]
    after = resume(run, kimg=before + 0.2, progress=False)["kimg"]
    assert after > before
    with pytest.warns(UserWarning, match=rf"scores it at {before} kimg, but it has trained to {after} kimg"):
        table = run_ablation(tiny_data, out, configs=["g"], train=False, **settings)
    assert next(row for row in table["rows"] if row["config"] == "g")["kimg"] == before
    table = run_ablation(tiny_data, out, configs=["g"], **settings)
    assert next(row for row in table["rows"] if row["config"] == "g")["kimg"] == after
    assert json.loads((run / "evaluation.json").read_text())["kimg"] == after


def test_resolution_zero_scores_at_the_data_resolution(tiny_data, tmp_path):
    """--set resolution=0 means the data's own side (as in `pggan train`): the reals are read at 16 px (it crashed)."""
    table = run_ablation(tiny_data, tmp_path / "grid", configs=["g"], train=False, **{**TINY, "resolution": 0})
    assert table["resolution"] == 16
    assert [row["config"] for row in table["rows"]] == ["real"]


def test_jobs_show_one_progress_line_for_the_grid(tiny_data, tmp_path, monkeypatch, capsys):
    """--jobs N: the workers train silently, so the parent reads their logs and shows the grid's kimg (one line per
    poll when stderr is not a terminal), ending at the total with every run done."""
    monkeypatch.setattr(ablation, "PROGRESS_SECONDS", 0.5)
    run_ablation(tiny_data, tmp_path / "grid", configs=["d", "e"], jobs=2, **{**TINY, "progress": True,
                                                                              "metrics_ticks": 0})
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("ablation (2 runs, 2 at once)")]
    counts = [float(line.split(": ")[1].split("/")[0]) for line in lines]
    assert counts == sorted(counts) and counts[-1] == 1.2  # 2 runs × 0.6 kimg
    assert lines[-1].endswith("2/2 runs done")


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killing_the_ablation_ends_its_workers(tiny_data, tmp_path):
    """`--jobs 2` trains in worker processes; a SIGKILL of the ablation (which cannot clean up) must end them too."""
    command = [sys.executable, "-m", "pggan", "ablation", "--data", str(tiny_data), "--out", str(tmp_path / "grid"),
               "--configs", "f,g", "--jobs", "2", "--kimg", "20", "--device", "cpu", "--no-progress",
               "--set", "fmap_base=32", "--set", "fmap_max=8", "--set", "latent_size=16", "--set", "resolution=16"]
    parent = subprocess.Popen(command, cwd=Path(__file__).resolve().parents[1], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((tmp_path / "grid").glob("seed-*/*/log.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.2)  # both workers started training
    workers = children_of(parent.pid)
    assert len(workers) >= 2 and parent.poll() is None
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 15
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_msg_grid_trains_its_rows_and_writes_its_own_tables(tmp_path):
    # 32×32, so that the middle row (R3) connects a scale (16); growing (R0) in 0.05-kimg phases reaches 32 at 0.3.
    rng = np.random.default_rng(1)
    blobs = scipy.ndimage.gaussian_filter(rng.normal(size=(200, 32, 32, 1)), sigma=(0, 3, 3, 0))
    data = tmp_path / "tiny32.npz"
    np.savez(data, images=np.clip(128 + 600 * blobs, 0, 255).astype(np.uint8))
    out = tmp_path / "grid"
    settings = {**TINY, "resolution": 32, "kimg": 0.3, "lod_training_kimg": 0.05, "lod_transition_kimg": 0.05,
                "metrics_ticks": 0}
    table = run_ablation(data, out, grid="msg", configs=["R5", "R0", "R3"], **settings)
    assert [row["config"] for row in table["rows"]] == ["real", "R0", "R3", "R5"]  # the grid's order
    assert table["trends"] == [] and "kimg_h" not in table
    assert json.loads((out / "grid.json").read_text())["grid"] == "msg"
    markdown = (out / "msg_grid.md").read_text()
    assert markdown.startswith("# MSG-GAN grid") and "R3 MSG, middle scales" in markdown
    assert "paper SWD avg" not in markdown and "trends" not in markdown  # no paper columns, no trend checks
    assert not (out / "table1.md").exists() and (out / "msg_grid_per_seed.csv").is_file()
    assert (out / "figure_samples.png").is_file()
    configs = {row: json.loads((out / "seed-1000" / row / "config.json").read_text()) for row in ("R0", "R3", "R5")}
    assert not configs["R0"]["msg"] and configs["R0"]["progressive"]
    assert configs["R3"]["msg"] and configs["R3"]["msg_connections"] == "middle" and not configs["R3"]["progressive"]
    assert configs["R5"]["msg_combine"] == "lin_cat" and configs["R5"]["msg_connections"] == "all"
    for row in ("R0", "R3", "R5"):
        assert all(np.isfinite(table["rows"][["R0", "R3", "R5"].index(row) + 1][key])
                   for key in ("swd_x1e3_avg", "msssim"))
    # The Table 1 grid refuses this folder: its runs are another grid's.
    with pytest.raises(ganeval.errors.GanevalInputError, match="the msg grid"):
        run_ablation(data, out, configs=["g"], **settings)
