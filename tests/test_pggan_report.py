"""pggan's figures from run folders: why figure_swd.png is missing, every curve of it visible, samples at ≥ 128 px."""

import json

import numpy as np
import pytest
from PIL import Image

from pggan.report import CURVE_STYLES, FIGURE_DPI, SAMPLES_PER_ROW, draw_samples_figure, draw_swd_figure


def run_folder(root, name, *, records, **config):
    """A run folder holding config.json (resolution 32 and `config`) and a log.jsonl of `records`."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"resolution": 32, "metrics_num_images": 64, **config}))
    (folder / "log.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records))
    return folder


def ticks(count, *, swd=False):
    """`count` tick records, with SWD at 32 and 16 px when `swd`."""
    return [{"tick": tick, "kimg": tick * 4.0, **({"swd_x1e3": [50.0 / tick, 40.0 / tick], "swd_resolutions": [32, 16],
                                                   "metrics_resolution": 32} if swd else {})}
            for tick in range(1, count + 1)]


@pytest.mark.parametrize("config, count, reason", [
    ({"metrics_ticks": 0}, 3, "metrics_ticks is 0"),
    ({"metrics_ticks": 4}, 3, "every 4 ticks but not at the last, and the longest log holds 3 ticks"),
    ({"metrics_ticks": 1, "metrics_num_images": 0}, 3, "metrics_num_images is 0"),
])
def test_a_missing_swd_figure_says_why(tmp_path, config, count, reason):
    runs = {"g": run_folder(tmp_path, "g", records=ticks(count), **config)}
    with pytest.warns(UserWarning, match="figure_swd.png not written") as caught:
        draw_swd_figure(tmp_path, runs)
    assert reason in str(caught[0].message) and not (tmp_path / "figure_swd.png").exists()


def test_every_curve_is_drawn_and_h_lies_beneath_g(tmp_path):
    runs = {name: run_folder(tmp_path, name, records=ticks(6 if name == "h" else 3, swd=True), metrics_ticks=1)
            for name in ("a", "g", "h")}
    draw_swd_figure(tmp_path, runs)
    with Image.open(tmp_path / "figure_swd.png") as figure:
        assert figure.format == "PNG"
    markers = [style.get("marker") for name, style in CURVE_STYLES.items() if name != "h"]
    assert len(set(markers)) == len(markers)  # each configuration its own marker
    assert CURVE_STYLES["h"]["linestyle"] == "--" and CURVE_STYLES["h"]["zorder"] < CURVE_STYLES["g"]["zorder"]
    assert CURVE_STYLES["h"]["linewidth"] > CURVE_STYLES["g"]["linewidth"]  # (h) shows around (g) where they meet


def test_samples_figure_draws_each_sample_at_least_128_pixels(tmp_path):
    reals = np.random.default_rng(0).integers(0, 256, size=(SAMPLES_PER_ROW, 1, 32, 32), dtype=np.uint8)
    draw_samples_figure(tmp_path, {}, reals, "cpu")
    with Image.open(tmp_path / "figure_samples.png") as figure:
        width, height = figure.size
        pixels = np.asarray(figure.convert("L"))
    assert (width, height) == (70 + SAMPLES_PER_ROW * 128 + 10, 40 + 128 + 10) and FIGURE_DPI == 110
    strip = np.concatenate(list(reals[:, 0]), axis=1).repeat(4, axis=0).repeat(4, axis=1)
    np.testing.assert_array_equal(pixels[40:168, 70:70 + SAMPLES_PER_ROW * 128], strip)  # pixel for pixel


def test_msg_grid_checks_the_trends_msg_gan_states():
    from pggan.grids import MSG
    from pggan.report import trend_checks

    # Three seeds; SWD averages chosen so that R4 − R1 = −10 ± 1 (resolved, the paper's direction), R4 − R5 = +4 ± 1
    # (resolved, against it) and R4 − R6 = 0.5 ± 3 (not resolved).
    r4 = [20.0, 22.0, 24.0]
    rows = {seed: {"R4": {"swd_x1e3_avg": r4[i]}, "R1": {"swd_x1e3_avg": r4[i] + 10 + (i - 1)},
                   "R5": {"swd_x1e3_avg": r4[i] - 4 + (i - 1)}, "R6": {"swd_x1e3_avg": r4[i] - 0.5 + 3 * (i - 1)}}
            for i, seed in enumerate((1, 2, 3))}
    checks = {(check["row"], check["reference"]): check for check in trend_checks(rows, MSG)}
    assert set(checks) == {("R4", "R1"), ("R4", "R5"), ("R4", "R6")}  # the others' rows were not trained
    assert checks["R4", "R1"]["difference"] == -10 and checks["R4", "R1"]["verdict"] == "as the paper"
    assert checks["R4", "R5"]["difference"] == 4 and checks["R4", "R5"]["verdict"] == "against the paper"
    assert checks["R4", "R6"]["verdict"] == "not resolved"
    assert all(check["paper_celeba_difference"] is None for check in checks.values())


def test_msg_grid_learning_rate_rows_are_r4_at_other_rates():
    from pggan.grids import MSG

    r4 = MSG.config("R4", "quick").to_dict()
    for rate in (0.003, 0.005, 0.01):
        row = MSG.config(f"R7_lr{rate}", "quick").to_dict()
        assert {key for key in row if row[key] != r4[key]} == {"g_lr", "d_lr"}
        assert row["g_lr"] == row["d_lr"] == rate


def test_a_trend_is_decided_by_a_two_sided_95_percent_t_test_on_the_seeds():
    from pggan.grids import MSG
    from pggan.report import trend_checks

    # Three seeds with R4 − R1 = m + (−1, 0, 1): standard error 1/√3. A t table's 97.5 % quantile at 2 degrees of
    # freedom is 4.3027, so m = 3 SE is "not resolved" (it would pass the 2-SE rule) and m = 4.5 SE is decided.
    def check(mean: float) -> dict:
        rows = {seed: {"R4": {"swd_x1e3_avg": 20.0 + mean + offset}, "R1": {"swd_x1e3_avg": 20.0}}
                for seed, offset in zip((1, 2, 3), (-1.0, 0.0, 1.0), strict=True)}
        return trend_checks(rows, MSG)[0]

    standard_error = 1 / np.sqrt(3)
    assert check(-3 * standard_error)["verdict"] == "not resolved"
    assert check(-4.5 * standard_error)["verdict"] == "as the paper"
    assert check(4.5 * standard_error)["verdict"] == "against the paper"
    assert check(-3 * standard_error)["t_critical"] == 4.3027


def test_the_trend_table_has_a_paper_column_only_where_the_grid_has_the_papers_figures(tmp_path):
    from pggan.grids import MSG, TABLE1
    from pggan.report import write_tables

    header = dict(data="toy.npz", resolution=8, budget="quick", kimg_per_config=1.0, swd_num_images=16,
                  msssim_num_pairs=8)
    scores = {"resolutions": [8], "swd_x1e3": [1.0], "swd_x1e3_avg": 1.0, "msssim": 0.3, "kimg": 1.0,
              "train_seconds": 60.0}
    for grid, rows, column in ((MSG, ("R4", "R1"), None), (TABLE1, ("b", "a"), "paper (CelebA)")):
        write_tables(tmp_path, {1: {name: dict(scores) for name in rows}}, header, grid)
        trend_header = next(line for line in (tmp_path / f"{grid.stem}.md").read_text().splitlines()
                            if line.startswith("| trend |"))
        assert trend_header.endswith("| verdict |" if column is None else f"| verdict | {column} |"), trend_header


def test_the_droplet_trend_reads_the_seeds_that_measured_it_and_has_no_paper_fid_beside_it():
    from pggan.grids import STYLEGAN2
    from pggan.report import trend_checks

    # Seed 2's rows were evaluated before the droplet statistic existed: the trend is read on seeds 1 and 3 only.
    # A paper FID difference sits beside the quality trends (B − A = 4.39 − 4.40), not beside the droplets.
    rows = {seed: {"A": {"swd_x1e3_avg": 10.0, **({"droplet_fraction": 0.3 + seed / 10} if seed != 2 else {})},
                   "B": {"swd_x1e3_avg": 9.0, **({"droplet_fraction": 0.0} if seed != 2 else {})}}
            for seed in (1, 2, 3)}
    checks = {check["measure"]: check for check in trend_checks(rows, STYLEGAN2)}
    assert checks["droplet_fraction"]["num_seeds"] == 2 and checks["droplet_fraction"]["difference"] == -0.5
    assert "paper_fid_difference" not in checks["droplet_fraction"]
    assert checks["swd_x1e3_avg"]["num_seeds"] == 3 and checks["swd_x1e3_avg"]["paper_fid_difference"] == \
        {"FFHQ": -0.01}
