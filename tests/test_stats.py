"""The stats file: round trip, protocol record, refusal of other settings, and atomic writes."""

import os
import subprocess
import sys

import numpy as np
import pytest

from ganeval.api import load_stats
from ganeval.errors import GanevalInputError
from ganeval.files import refuse_overwriting_input, write_atomically
from ganeval.stats import is_stats_file, save_stats


def test_round_trip_keeps_arrays_and_protocol(tmp_path):
    arrays = {"swd": {"level0": np.arange(2 * 3 * 3 * 3, dtype=np.float32).reshape(2, 27)},
              "fid": {"mu": np.ones(4), "sigma": np.eye(4)}}
    protocol = {"swd": {"settings": {"nhood_size": 3, "nhoods_per_image": 1}, "num_images": 2},
                "fid": {"settings": {}, "num_images": 2}}
    save_stats(tmp_path / "s.npz", arrays, protocol)
    stats = load_stats(tmp_path / "s.npz")
    assert is_stats_file(tmp_path / "s.npz") and stats.protocol == protocol
    np.testing.assert_array_equal(stats.require("swd", {"nhood_size": 3})["level0"], arrays["swd"]["level0"])
    with pytest.raises(GanevalInputError, match="nhood_size=3 but nhood_size=5"):
        stats.require("swd", {"nhood_size": 5})
    with pytest.raises(GanevalInputError, match="holds no kid statistics"):
        stats.require("kid", {})


def test_an_image_array_npz_is_not_a_stats_file(tmp_path):
    np.savez(tmp_path / "images.npz", images=np.zeros((2, 8, 8, 3), np.uint8))
    assert not is_stats_file(tmp_path / "images.npz")
    with pytest.raises(GanevalInputError, match="not a ganeval stats file"):
        load_stats(tmp_path / "images.npz")


def test_a_failed_write_leaves_the_previous_file_whole(tmp_path):
    target = tmp_path / "table.md"
    target.write_text("previous")

    def half_then_crash(temporary):
        temporary.write_text("half")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomically(target, half_then_crash)
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["table.md"]


def test_a_write_removes_the_temporaries_that_killed_writes_left(tmp_path):
    """A process killed between writing its temporary and renaming it leaves `.NAME.tmp-PID`; the next write of NAME
    removes those of processes that are gone, and leaves a live process's alone."""
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    stale = tmp_path / f".s.npz.tmp-{dead_pid}"
    live = tmp_path / f".s.npz.tmp-{os.getppid()}"  # the test runner's parent is alive
    other = tmp_path / f".t.npz.tmp-{dead_pid}"  # another file's: not this write's business
    for path in (stale, live, other):
        path.write_bytes(b"half a file")
    write_atomically(tmp_path / "s.npz", lambda temporary: temporary.write_bytes(b"whole"))
    assert (tmp_path / "s.npz").read_bytes() == b"whole"
    assert not stale.exists() and live.exists() and other.exists()


def test_an_output_that_is_an_input_is_refused(tmp_path):
    source = tmp_path / "images.npz"
    source.write_bytes(b"x")
    (tmp_path / "hard.npz").hardlink_to(source)
    (tmp_path / "soft.npz").symlink_to(source)
    for output in (source, tmp_path / "hard.npz", tmp_path / "soft.npz", tmp_path / "." / "images.npz"):
        with pytest.raises(GanevalInputError, match="is REAL .*images.npz.*destroy what is being read"):
            refuse_overwriting_input(output, [("REAL", source)])
    refuse_overwriting_input(tmp_path / "other.npz", [("REAL", source), ("FAKE", np.zeros(3))])  # no error
