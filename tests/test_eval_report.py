"""`ganeval eval --report DIR`: the report files, the same numbers as the printed JSON, PNGs of the promised sizes."""

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ganeval.report import sample_grid
from ganeval.sample_grids import MIN_SAMPLE_PIXELS, upscale_factor
from ganeval.stats import save_stats
from ganeval_cli.ganeval_cli import main
from tests.helpers import smooth_images, write_folder


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """REAL: 70 images of 32×32 (more than a grid shows); FAKE: 10 of them, other ones; REAL's SWD stats file."""
    root = tmp_path_factory.mktemp("report-sets")
    real = smooth_images(70, 32, seed=1)
    write_folder(root / "real", real.transpose(0, 2, 3, 1))
    write_folder(root / "fake", smooth_images(10, 32, seed=2).transpose(0, 2, 3, 1))
    from ganeval.api import reference_statistics

    save_stats(root / "real.npz", *reference_statistics(real, ("swd",), device="cpu"))
    return root


def run(*arguments: str) -> CliRunner:
    result = CliRunner().invoke(main, ["eval", *arguments, "--device", "cpu", "--no-progress"])
    assert result.exit_code == 0, result.output
    return result


def numbers_of(markdown: str) -> dict:
    """The result dicts in report.md's JSON block."""
    return json.loads(re.search(r"```json\n(.*?)\n```", markdown, re.S).group(1))


def test_report_holds_the_printed_numbers_a_chart_and_both_grids(sets, tmp_path):
    out = tmp_path / "report"
    printed = json.loads(run(str(sets / "real"), str(sets / "fake"), "--metrics", "swd,msssim", "--json",
                             "--report", str(out)).stdout)
    markdown = (out / "report.md").read_text()
    assert numbers_of(markdown) == printed
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3 and "<pre>" in page
    # The table rows the command prints, each in the Markdown table.
    table = run(str(sets / "real"), str(sets / "fake"), "--metrics", "swd,msssim").stdout
    for line in table.splitlines():
        label, value = re.split(r"\s{2,}", line.strip(), maxsplit=1)
        assert f"| {label} | {value.strip()} |" in markdown
    assert f"| SWD x1e3 average | {printed['swd']['swd_x1e3_avg']:.3f} |" in markdown
    command = re.search(r"^`(ganeval eval .*)`$", markdown, re.M).group(1)  # the command as given
    assert "--metrics swd,msssim" in command and f"--report {out}" in command and "--json" in command
    with Image.open(out / "swd.png") as chart:
        assert chart.format == "PNG" and chart.size == (640, 400)
    factor = MIN_SAMPLE_PIXELS // 32
    with Image.open(out / "samples-real.png") as real:  # 64 of its 70 images, 8 × 8
        assert real.size == (8 * 32 * factor, 8 * 32 * factor) and real.mode == "RGB"
    with Image.open(out / "samples-fake.png") as fake:  # its 10 images: a row of 8 and one of 2
        assert fake.size == (8 * 32 * factor, 2 * 32 * factor)
        grid = np.asarray(fake)
    first = np.asarray(Image.open(sets / "fake" / "0000.png"))
    np.testing.assert_array_equal(grid[:128, :128], first.repeat(4, axis=0).repeat(4, axis=1))  # nearest neighbour
    assert (grid[128:, 2 * 128:] == 255).all()  # the short last row ends in white


def test_a_stats_file_has_no_grid_and_swd_absent_has_no_chart(sets, tmp_path):
    out = tmp_path / "report"
    printed = json.loads(run(str(sets / "real.npz"), str(sets / "fake"), "--metrics", "swd", "--json",
                             "--report", str(out)).stdout)
    markdown = (out / "report.md").read_text()
    assert numbers_of(markdown) == printed
    assert "No images: a statistics file." in markdown and not (out / "samples-real.png").exists()
    assert (out / "samples-fake.png").is_file() and (out / "swd.png").is_file()
    run(str(sets / "real"), str(sets / "fake"), "--metrics", "msssim", "--report", str(tmp_path / "other"))
    assert "No SWD: not among the metrics asked for." in (tmp_path / "other" / "report.md").read_text()
    assert not (tmp_path / "other" / "swd.png").exists()


def test_num_images_limits_the_grid_and_large_images_are_not_enlarged(sets):
    grid, count, factor = sample_grid(str(sets / "real"), "REAL", num_images=3)
    assert (count, factor, grid.shape) == (3, 4, (128, 3 * 128, 3))
    assert upscale_factor(128, 128) == 1 and upscale_factor(20, 40) == 7
