"""Image sources: every accepted input gives the same uint8 NCHW RGB batches; every bad input one clear message."""

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.errors import GanevalInputError
from ganeval.sources import open_images


def write_folder(folder, images, mode=None, extension="png"):
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        Image.fromarray(image, mode).save(folder / f"{index:03d}.{extension}")
    return folder


def collect(source, **options):
    return torch.cat(list(open_images(source, device="cpu", **options)))


@pytest.fixture
def images():
    return np.random.default_rng(0).integers(0, 256, (7, 12, 10, 3), dtype=np.uint8)  # NHWC


def test_every_source_kind_yields_the_same_nchw_batches(tmp_path, images):
    expected = torch.from_numpy(images).permute(0, 3, 1, 2)
    np.save(tmp_path / "images.npy", images)
    np.savez(tmp_path / "images.npz", images=images.transpose(0, 3, 1, 2))
    sources = [write_folder(tmp_path / "folder", images), tmp_path / "images.npy", tmp_path / "images.npz",
               images, images.transpose(0, 3, 1, 2), torch.from_numpy(images),
               [images[:4], images[4:]], (torch.from_numpy(images[i:i + 2]) for i in range(0, 7, 2))]
    for source in sources:
        assert torch.equal(collect(source, batch_size=3), expected), type(source)


def test_a_data_loader_of_images_and_labels_gives_its_images(images):
    # torch-fidelity and torchmetrics users pass DataLoaders whose batches are [images, labels]: the first element.
    expected = torch.from_numpy(images).permute(0, 3, 1, 2)
    labels = torch.arange(len(images))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(expected, labels), batch_size=3)
    assert isinstance(next(iter(loader)), list)
    assert torch.equal(collect(loader), expected)
    assert torch.equal(collect(loader, num_images=5), expected[:5])
    floats = torch.utils.data.TensorDataset(expected.float() / 127.5 - 1, labels)
    assert torch.equal(collect(torch.utils.data.DataLoader(floats, batch_size=4), value_range=(-1, 1)), expected)
    pairs = ((images[i:i + 2], labels[i:i + 2]) for i in range(0, 7, 2))  # any iterable of tuples, NHWC too
    assert torch.equal(collect(pairs), expected)


def test_folders_are_read_recursively_in_sorted_order_and_hidden_files_skipped(tmp_path, images):
    write_folder(tmp_path / "b", images[:3])
    write_folder(tmp_path / "a", images[3:])
    (tmp_path / ".DS_Store").write_bytes(b"\0")
    expected = torch.from_numpy(np.concatenate([images[3:], images[:3]])).permute(0, 3, 1, 2)
    assert torch.equal(collect(tmp_path), expected)


def test_float_images_are_mapped_from_their_value_range_with_rounding():
    floats = torch.tensor([-1.0, -0.5, 0.0, 0.999, 1.0]).reshape(5, 1, 1, 1).expand(5, 3, 2, 2)
    # (x + 1) · 127.5 rounded: −1 → 0, −0.5 → 63.75 → 64, 0 → 127.5 → 128 (round half to even), 1 → 255.
    values = collect(floats, value_range=(-1, 1))[:, 0, 0, 0].tolist()
    assert values == [0, 64, 128, 255, 255]


def test_grayscale_expands_to_rgb_and_alpha_is_dropped_with_a_warning(tmp_path, images):
    gray = images[..., 0]
    assert torch.equal(collect(write_folder(tmp_path / "gray", gray, "L")),
                       torch.from_numpy(gray)[:, None].expand(-1, 3, -1, -1))
    rgba = np.concatenate([images, np.full(images.shape[:3] + (1,), 7, np.uint8)], axis=3)
    with pytest.warns(UserWarning, match="alpha channel dropped"):
        batches = collect(write_folder(tmp_path / "rgba", rgba, "RGBA"))
    assert torch.equal(batches, torch.from_numpy(images).permute(0, 3, 1, 2))


def test_generator_callable_and_num_images(images):
    drawn = []

    def generator(batch_size):
        drawn.append(batch_size)
        return torch.zeros(batch_size, 3, 16, 16)

    assert collect(generator, num_images=5, batch_size=2, value_range=(0, 1)).shape == (5, 3, 16, 16)
    assert drawn == [2, 2, 1]
    assert collect(images, num_images=4).shape[0] == 4


@pytest.mark.parametrize("setup, message", [
    (lambda d, im: d, "holds no images"),
    (lambda d, im: (write_folder(d, im), (d / "notes.txt").write_text("x"), d)[-1], "notes.txt is not an image"),
    (lambda d, im: (write_folder(d, im), (d / "009.png").write_bytes(b"not a png"), d)[-1],
     "009.png: not a readable image"),
    (lambda d, im: (write_folder(d, im), (d / "008.png").write_bytes((d / "000.png").read_bytes()[:60]), d)[-1],
     "008.png: not a readable image"),
    (lambda d, im: (write_folder(d, im), write_folder(d / "z", im[:, :8]), d)[-1], "all images in a set must have"),
    (lambda d, im: d / "missing", "does not exist"),
])
def test_bad_folders_give_one_message_naming_the_file(tmp_path, images, setup, message):
    folder = tmp_path / "set"
    folder.mkdir()
    with pytest.raises(GanevalInputError, match=message):
        collect(setup(folder, images))


@pytest.mark.parametrize("source, options, message", [
    (np.zeros((4, 8, 8, 3), np.uint8), {"min_size": 16}, "needs at least 16×16"),
    (np.zeros((4, 8, 8, 3), np.uint8), {"num_images": 5}, r"asked for 5 images \(--num-images\) but"),
    (np.zeros((4, 8, 8, 3), np.float32), {}, r"need their value range: --value-range -1 1 \(Python: value_range"),
    (np.full((4, 8, 8, 3), np.nan, np.float32), {"value_range": (0, 1)}, "NaN or inf"),
    (np.zeros((4, 8, 8, 5), np.uint8), {}, "no channel axis"),
    (np.zeros((0, 8, 8, 3), np.uint8), {}, "non-empty"),
    (np.zeros((4, 8, 8, 3), np.int32), {}, "must be uint8 or float"),
    (lambda n: np.zeros((n, 8, 8, 3), np.uint8), {}, "needs num_images"),
    ("some_file.txt", {}, "does not exist"),
    (42, {}, "cannot read images from a int"),
])
def test_bad_arrays_and_arguments_give_one_message(source, options, message):
    with pytest.raises(GanevalInputError, match=message):
        collect(source, **options)


def test_a_file_that_is_neither_folder_nor_array_is_refused(tmp_path):
    (tmp_path / "x.txt").write_text("hello")
    with pytest.raises(GanevalInputError, match="neither a folder nor an .npy/.npz"):
        collect(tmp_path / "x.txt")


def test_npz_with_several_arrays_needs_an_images_key(tmp_path):
    np.savez(tmp_path / "two.npz", a=np.zeros((2, 8, 8, 3), np.uint8), b=np.zeros(3))
    with pytest.raises(GanevalInputError, match="name the image array 'images'"):
        collect(tmp_path / "two.npz")


def test_a_generator_that_produces_nan_is_named():
    with pytest.raises(GanevalInputError, match="FAKE: images contain NaN"):
        collect(lambda n: torch.full((n, 3, 8, 8), float("nan")), num_images=4, value_range=(-1, 1), name="FAKE")


def test_tiny_square_images_keep_their_layout():
    # 4×4 grayscale NCHW (N×1×4×4) could be read as NHWC with 4 channels; the square reading wins.
    nchw = np.arange(2 * 16, dtype=np.uint8).reshape(2, 1, 4, 4)
    assert torch.equal(collect(nchw), torch.from_numpy(nchw).expand(-1, 3, -1, -1))
    nhwc = np.arange(2 * 4 * 4 * 3, dtype=np.uint8).reshape(2, 4, 4, 3)
    assert torch.equal(collect(nhwc), torch.from_numpy(nhwc).permute(0, 3, 1, 2))


@pytest.mark.skipif(not hasattr(threading, "_shutdown_locks_lock"), reason="CPython's thread bootstrap lock (3.9–3.12)")
def test_an_abandoned_folder_stream_is_finalised_without_joining_threads(tmp_path):
    # A folder stream left half read (another set's bad input stopped the run) was finalised by a garbage collection
    # that ran inside a new thread's start, where CPython holds `threading._shutdown_locks_lock`; its decoding pool
    # joined its threads there, and joining needs that lock: the test session hung. The same finalisation, with the
    # lock held, in a child process that must end in time.
    write_folder(tmp_path / "real", np.random.default_rng(0).integers(0, 256, (12, 16, 16, 3), dtype=np.uint8))
    code = f"""
import gc, threading
from ganeval.sources import open_images
batches = open_images({str(tmp_path / "real")!r}, batch_size=2, device="cpu")
stream = batches.indexed()
next(stream)
with threading._shutdown_locks_lock:
    del stream, batches
    gc.collect()
print("closed")
"""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                               cwd=Path(__file__).resolve().parents[1])
    assert completed.returncode == 0 and completed.stdout.strip() == "closed", completed.stderr
