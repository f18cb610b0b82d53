"""prepare(): idx parsing and padding, crop + area resize, clear errors; the faded reals D sees."""

import gzip
import struct
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import GanevalInputError
from pggan.data import load_images, prepare, reals_at


def write_idx(path, images):
    with gzip.open(path, "wb") as file:
        file.write(struct.pack(">IIII", 0x00000803, *images.shape))
        file.write(images.tobytes())


def test_idx_images_are_zero_padded_to_32(tmp_path):
    digits = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", digits)
    info = prepare(tmp_path / "train-images-idx3-ubyte.gz", tmp_path / "out.npz")
    images = load_images(tmp_path / "out.npz").numpy()
    assert info == {"path": str(tmp_path / "out.npz"), "num_images": 3, "num_channels": 1, "resolution": 32}
    assert images.shape == (3, 1, 32, 32)
    np.testing.assert_array_equal(images[:, 0, 2:30, 2:30], digits)  # 2 px each side: (32 − 28) / 2
    assert images[:, :, :2].sum() == images[:, :, 30:].sum() == images[:, :, :, :2].sum() == 0


def test_bad_idx_magic_is_named(tmp_path):
    with gzip.open(tmp_path / "x-idx3-ubyte.gz", "wb") as file:
        file.write(struct.pack(">IIII", 0x00000801, 1, 2, 2) + bytes(4))
    with pytest.raises(GanevalInputError, match="x-idx3-ubyte.gz: idx magic"):
        prepare(tmp_path / "x-idx3-ubyte.gz", tmp_path / "out.npz")


def test_photos_are_centre_cropped_and_area_resized(tmp_path):
    # 64×32 → centre 32×32 crop (columns 16..47) → 16×16 by 2×2 box averages; PIL rounds to nearest: ±1 level.
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
    (tmp_path / "photos").mkdir()
    Image.fromarray(photo).save(tmp_path / "photos" / "a.png")
    prepare(tmp_path / "photos", tmp_path / "out.npz", resolution=16)
    images = load_images(tmp_path / "out.npz").numpy()
    crop = photo[:, 16:48].astype(np.float64)
    expected = crop.reshape(16, 2, 16, 2, 3).mean(axis=(1, 3)).transpose(2, 0, 1)
    assert images.shape == (1, 3, 16, 16)
    assert np.abs(images[0] - expected).max() <= 1.0


def test_mixed_channels_and_small_images_are_refused_by_name(tmp_path):
    (tmp_path / "mixed").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "mixed" / "a.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "mixed" / "b.png")
    with pytest.raises(GanevalInputError, match=r"mixed channels: .*b\.png has 1"):
        prepare(tmp_path / "mixed", tmp_path / "out.npz")
    (tmp_path / "small").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "small" / "tiny.png")
    with pytest.raises(GanevalInputError, match=r"tiny\.png: 8×8 is smaller than the target 16×16"):
        prepare(tmp_path / "small", tmp_path / "out.npz", resolution=16)
    with pytest.raises(GanevalInputError, match="no such file"):
        prepare(tmp_path / "missing", tmp_path / "out.npz")


def test_reals_fade_between_resolutions_like_the_generator():
    images = torch.randint(0, 256, (2, 1, 16, 16), dtype=torch.uint8)
    full = images.double() / 127.5 - 1.0
    at8 = torch.nn.functional.avg_pool2d(full, 2)
    low = torch.nn.functional.avg_pool2d(at8, 2).repeat_interleave(2, 2).repeat_interleave(2, 3)
    assert torch.equal(reals_at(images, 8, 1.0, torch.float64), at8)
    assert torch.equal(reals_at(images, 8, 0.0, torch.float64), low)
    torch.testing.assert_close(reals_at(images, 8, 0.25, torch.float64), 0.75 * low + 0.25 * at8)


def test_prepare_removes_the_temporary_a_killed_prepare_left(tmp_path):
    gone = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)
    stale = tmp_path / f".out.npz.tmp-{gone}"
    stale.write_bytes(b"22 MB of a killed prepare")
    np.save(tmp_path / "images.npy", np.zeros((3, 8, 8, 3), np.uint8))
    prepare(tmp_path / "images.npy", tmp_path / "out.npz")
    assert not stale.exists() and (tmp_path / "out.npz").is_file()
