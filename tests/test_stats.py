"""The stats file: round trip, protocol record, refusal of other settings, and atomic writes."""

import numpy as np
import pytest

from ganeval.api import load_stats
from ganeval.errors import GanevalInputError
from ganeval.files import write_atomically
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
