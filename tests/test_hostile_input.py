"""Hostile input, table-driven: every bad file, option, `--set` value, stats file and run directory ends in its exit
code and one `error:` line naming what is wrong, never a traceback, and leaves every file written before unchanged.

Each row is (id, command line, expected exit code, a word the error line must contain). Most rows run in-process
through click's CliRunner on a copy of one prepared folder (`world`); the rows in SUBPROCESS_ROWS also run as real
processes, as a user's shell would. Rows with exit code 0 are inputs that used to fail and must now work.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import importlib.util
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from click.testing import CliRunner
from PIL import Image

import pggan.checkpoint
from ganeval.api import load_stats, reference_statistics
from ganeval.progress import Progress
from ganeval.stats import save_stats
from ganeval_cli.common import fail
from ganeval_cli.ganeval_cli import main as ganeval_main
from ganeval_cli.pggan_cli import main as pggan_main
from pggan.checkpoint import list_checkpoints, load_checkpoint, locked_run_dir
from pggan.config import TrainConfig, make_config
from pggan.data import data_identity
from pggan.data import open_images as open_dataset
from pggan.train import train
from tests.helpers import free_port, random_lpips_linear, smooth_images

REPO = Path(__file__).resolve().parents[1]
# Tiny pggan runs: 8×8, 8 feature maps, one fade-in; a few hundred images in all.
TINY = ["--device", "cpu", "--no-progress", "--set", "fmap_base=16", "--set", "fmap_max=8", "--set", "latent_size=8",
        "--kimg", "0.256", "--lod-training-kimg", "0.064", "--lod-transition-kimg", "0.064", "--kimg-per-tick", "0.064",
        "--set", "minibatch_repeats=1", "--set", "metrics_num_images=0", "--set", "grid_size=2"]


def write_pngs(folder: Path, images: np.ndarray) -> Path:
    """uint8 NCHW images as numbered PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images.transpose(0, 2, 3, 1)):
        Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image).save(folder / f"{index:03d}.png")
    return folder


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, vgg16_weights: Path) -> Path:
    """The files every row starts from: image folders and arrays, a stats file, a dataset, a finished tiny run, and
    for the generator metrics a module of generators, LPIPS weights (the random VGG-16 linked, not copied) and a
    folder holding a damaged classifier."""
    root = tmp_path_factory.mktemp("world")
    (root / "generators.py").write_text(GENERATORS)
    (root / "vgg16.pth").symlink_to(vgg16_weights)
    torch.save(random_lpips_linear(), root / "lin.pth")
    with warnings.catch_warnings():  # torch.jit's deprecation notice: the archive is what StyleGAN2-ADA ships
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(torch.nn.Conv2d(3, 4, 3), torch.zeros(1, 3, 8, 8)), root / "vgg16.pt")
    (root / "classifiers").mkdir()
    (root / "classifiers" / "smiling.pt").write_bytes(b"not TorchScript")
    images = smooth_images(8, 32, seed=1)
    write_pngs(root / "real", images)
    write_pngs(root / "fake", smooth_images(8, 32, seed=2))
    np.save(root / "images.npy", images.transpose(0, 2, 3, 1))
    np.save(root / "float.npy", images.astype(np.float32) / 127.5 - 1)
    save_stats(root / "stats.npz", *reference_statistics(images, ("swd",), device="cpu"))
    grey = smooth_images(64, 8, seed=3, channels=1)
    np.savez(root / "data8.npz", images=grey)
    with gzip.open(root / "train-images-idx3-ubyte.gz", "wb") as file:
        file.write(struct.pack(">IIII", 0x00000803, 4, 28, 28) + bytes(4 * 28 * 28))
    config = make_config("g", data=str(root / "data8.npz"), device="cpu", resolution=8, fmap_base=16, fmap_max=8,
                         latent_size=8, total_kimg=0.256, lod_training_kimg=0.064, lod_transition_kimg=0.064,
                         kimg_per_tick=0.064, minibatch_repeats=1, metrics_num_images=0, grid_size=2)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    train(config, root / "run", progress=False)
    torch.set_num_threads(previous_threads)
    return root


@dataclass
class World:
    """A private copy of the template; `path(name)` gives a file in it as a string."""

    root: Path

    def path(self, name: str) -> str:
        return str(self.root / name)

    def write(self, name: str, data: bytes) -> str:
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_bytes(data)
        return self.path(name)

    def corrupt_stats(self, name: str, edit: Callable[[dict, dict], None]) -> str:
        """A copy of stats.npz whose arrays/protocol `edit` changed (saved whole, so only the content is wrong)."""
        stats = load_stats(self.root / "stats.npz")
        edit(stats.arrays, stats.protocol)
        save_stats(self.root / name, stats.arrays, stats.protocol)
        return self.path(name)

    def folder_with(self, name: str, make: Callable[[Path], object]) -> str:
        """A copy of real/ with one more entry made by `make(folder)`."""
        shutil.copytree(self.root / "real", self.root / name)
        make(self.root / name)
        return self.path(name)


GENERATORS = '''"""Generators for the hostile rows of the generator metrics (PPL, LS)."""
import torch

from tests.helpers import TinyGenerator


def good():
    return TinyGenerator()


class Flat(TinyGenerator):
    def forward(self, z):
        return super().forward(z).flatten(1)


class Diverged(TinyGenerator):
    def forward(self, z):
        return super().forward(z) * float("nan")


class Plain:
    """A callable without mapping and synthesis."""

    z_dim = 8

    def __call__(self, z):
        return torch.zeros(len(z), 3, 16, 16)


def raises():
    raise RuntimeError("its checkpoint is missing")
'''


def generator(world: World, factory: str) -> list[str]:
    """`--generator` naming a factory of the world's generators.py, and the generators' value range."""
    return ["--generator", f"{world.path('generators.py')}:{factory}", "--value-range", "-1", "1"]


FEW = ["--num-samples", "4", "--lower-percentile", "0", "--upper-percentile", "100"]  # every length kept


def lpips_files(world: World) -> list[str]:
    """The world's LPIPS weights (random, so unverified) and a few samples with every length kept."""
    return ["--vgg16-weights", world.path("vgg16.pth"), "--lpips-weights", world.path("lin.pth"),
            "--allow-unverified-weights", *FEW]


def without_lpips(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the lpips package were not installed (its file is where the LPIPS linear layers are looked for)."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, package=None: None if name == "lpips" else find_spec(name, package))


def flipped_byte(world: World) -> str:
    data = bytearray((world.root / "stats.npz").read_bytes())
    data[200] ^= 0xFF  # inside the first member's data: its CRC no longer matches
    return world.write("flipped.npz", bytes(data))


def truncated(world: World, name: str, new_name: str) -> str:
    data = (world.root / name).read_bytes()
    return world.write(new_name, data[: len(data) // 2])


def config_json(world: World, edit: Callable[[dict], None]) -> str:
    path = world.root / "run" / "config.json"
    config = json.loads(path.read_text())
    edit(config)
    path.write_text(json.dumps(config))
    return world.path("run")


def damage_checkpoints(world: World, count: int) -> str:
    for path in list_checkpoints(world.root / "run")[-count:]:
        path.write_bytes(path.read_bytes()[:500])
    return world.path("run")


def unlistable(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """A folder that cannot be listed (as a read-protected folder, also when the tests run as root)."""
    folder = world.folder_with("unlistable", lambda folder: None)
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike = ".") -> object:
        if os.fspath(path) == folder:
            raise PermissionError(13, "Permission denied", folder)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return folder


def small_bomb_limit(world: World, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pillow's decompression-bomb limit lowered below 32×32, so a 32×32 PNG stands for a 400-megapixel one."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    return world.path("real")


def read_only(world: World) -> str:
    (world.root / "locked").mkdir()
    (world.root / "locked").chmod(0o555)
    return world.path("locked")


def held_lock(world: World, monkeypatch: pytest.MonkeyPatch, stack: list) -> str:
    """A run directory whose lock another process (here: this test) holds."""
    lock = locked_run_dir(world.root / "busy")
    lock.__enter__()
    stack.append(lock)
    return world.path("busy")


def sixteen_bit_pngs(world: World) -> str:
    folder = world.root / "grey16"
    folder.mkdir()
    values = (np.arange(32 * 32, dtype=np.uint32).reshape(32, 32) * 64).astype(np.uint16)
    for index in range(4):
        Image.fromarray(values + index).save(folder / f"{index}.png")
    return str(folder)


def object_npy(world: World) -> str:
    np.save(world.root / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return world.path("objects.npy")


G, P = "ganeval", "pggan"
# (id, program, arguments made from the world, exit code, a word of the error line). A row's arguments may take
# (world) or (world, monkeypatch) or (world, monkeypatch, stack) for setups that patch or hold something.
ROWS: list[tuple[str, str, Callable, int, str]] = [
    # --- ganeval: files that are not what they claim to be
    ("missing-source", G, lambda w: ["swd", w.path("nope"), w.path("fake")], 2, "does not exist"),
    ("not-a-zip-npz", G, lambda w: ["swd", w.write("bad.npz", b"hello"), w.path("fake")], 2, "not a readable .npz"),
    ("zero-byte-stats", G, lambda w: ["swd", w.write("zero.npz", b""), w.path("fake")], 2, "empty"),
    ("truncated-stats", G, lambda w: ["swd", truncated(w, "stats.npz", "half.npz"), w.path("fake")], 2,
     "not a readable"),
    ("flipped-byte-stats", G, lambda w: ["swd", flipped_byte(w), w.path("fake")], 2, "CRC"),
    ("stats-missing-level", G, lambda w: ["swd", w.corrupt_stats("nolevel.npz", lambda a, p: a["swd"].pop("level1")),
                                          w.path("fake")], 2, "level1"),
    ("stats-wrong-descriptor-shape", G, lambda w: ["swd", w.corrupt_stats(
        "shape.npz", lambda a, p: a["swd"].update(level0=a["swd"]["level0"][:, :10])), w.path("fake")], 2, "shape"),
    ("stats-bad-count", G, lambda w: ["swd", w.corrupt_stats(
        "count.npz", lambda a, p: p["swd"].update(num_images=-1)), w.path("fake")], 2, "image count"),
    ("stats-fid-mismatch", G, lambda w: ["fid", w.corrupt_stats("fid1.npz", lambda a, p: (
        a.update(fid={"mu": np.zeros(3), "sigma": np.eye(4)}), p.update(fid={"settings": {}, "num_images": 4}))),
        w.path("stats.npz")], 2, "do not match"),
    ("stats-kid-count", G, lambda w: ["swd", w.corrupt_stats("kid.npz", lambda a, p: (
        a.update(kid={"features": np.zeros((3, 8), np.float32)}), p.update(kid={"settings": {}, "num_images": 5}))),
        w.path("fake")], 2, "kid/features"),
    ("stats-nan-fid", G, lambda w: ["swd", w.corrupt_stats("nan.npz", lambda a, p: (
        a.update(fid={"mu": np.full(4, np.nan), "sigma": np.eye(4)}), p.update(fid={"settings": {}, "num_images": 4}))),
        w.path("fake")], 2, "NaN"),
    ("stats-wrong-format", G, lambda w: ["swd", w.write("fmt.npz", _npz_bytes(
        __protocol__=np.frombuffer(json.dumps({"format": "other/9", "metrics": {}}).encode(), np.uint8))),
        w.path("fake")], 2, "stats format"),
    ("stats-record-not-json", G, lambda w: ["swd", w.write("rec.npz", _npz_bytes(
        __protocol__=np.frombuffer(b"{not json", np.uint8))), w.path("fake")], 2, "not a readable ganeval stats"),
    ("upper-case-NPY", G, lambda w: ["swd", w.write("UP.NPY", (w.root / "images.npy").read_bytes()),
                                     w.path("fake")], 0, ""),
    ("npy-not-npy", G, lambda w: ["swd", w.write("fake.npy", b"not numpy"), w.path("fake")], 2, ".npy header"),
    ("npy-of-objects", G, lambda w: ["swd", object_npy(w), w.path("fake")], 2, "not a readable .npy"),
    ("npz-two-arrays", G, lambda w: ["swd", w.write("two.npz", _npz_bytes(a=np.zeros(2), b=np.zeros(2))),
                                     w.path("fake")], 2, "'images'"),
    ("float-npy-needs-range", G, lambda w: ["swd", w.path("float.npy"), w.path("fake")], 2, "--value-range"),
    ("float-npy-with-range", G, lambda w: ["swd", w.path("float.npy"), w.path("fake"), "--value-range", "-1", "1"],
     0, ""),
    ("value-range-reversed", G, lambda w: ["swd", w.path("float.npy"), w.path("fake"), "--value-range", "1", "-1"],
     2, "--value-range"),
    ("value-range-nan", G, lambda w: ["swd", w.path("float.npy"), w.path("fake"), "--value-range", "nan", "1"],
     2, "--value-range"),
    ("garbage-png", G, lambda w: ["swd", w.folder_with("g", lambda f: (f / "zz.png").write_bytes(b"x")),
                                  w.path("fake")], 2, "zz.png: not a readable image"),
    ("truncated-png", G, lambda w: ["swd", w.folder_with("t", lambda f: (f / "zz.png").write_bytes(
        (f / "000.png").read_bytes()[:100])), w.path("fake")], 2, "zz.png"),
    ("decompression-bomb", G, lambda w, mp: ["swd", small_bomb_limit(w, mp), w.path("fake")], 2,
     "decompression-bomb"),
    ("dangling-symlink", G, lambda w: ["swd", w.folder_with("d", lambda f: (f / "zz.png").symlink_to(
        w.root / "nowhere.png")), w.path("fake")], 2, "broken symbolic link"),
    ("symlink-loop", G, lambda w: ["swd", w.folder_with("l", lambda f: (f / "zz.png").symlink_to(f / "zz.png")),
                                   w.path("fake")], 2, "symbolic link loop"),
    ("fifo-named-png", G, lambda w: ["swd", w.folder_with("f", lambda f: os.mkfifo(f / "zz.png")), w.path("fake")],
     2, "not a regular file"),
    ("unlistable-folder", G, lambda w, mp: ["swd", unlistable(w, mp), w.path("fake")], 2, "cannot list folder"),
    ("text-file-in-folder", G, lambda w: ["swd", w.folder_with("x", lambda f: (f / "notes.txt").write_text("x")),
                                          w.path("fake")], 2, "notes.txt is not an image"),
    ("empty-folder", G, lambda w: ["swd", (w.root / "empty").mkdir() or w.path("empty"), w.path("fake")], 2,
     "holds no images"),
    ("mixed-sizes", G, lambda w: ["swd", w.folder_with("m", lambda f: Image.new("RGB", (16, 16)).save(f / "z.png")),
                                  w.path("fake")], 2, "one size"),
    ("neither-folder-nor-array", G, lambda w: ["swd", w.write("x.txt", b"x"), w.path("fake")], 2, "neither"),
    ("sixteen-bit-grey", G, lambda w: ["msssim", sixteen_bit_pngs(w)], 0, ""),
    ("portrait-too-narrow", G, lambda w: ["swd", w.write("narrow.npy", _npy_bytes(np.zeros((4, 64, 8, 3), np.uint8))),
                                          w.write("narrow2.npy", _npy_bytes(np.ones((4, 64, 8, 3), np.uint8)))], 2,
     "narrower than"),
    ("msssim-too-small", G, lambda w: ["msssim", w.write("tiny.npy", _npy_bytes(np.zeros((4, 8, 8, 3), np.uint8)))],
     2, "at least 16"),
    # --- ganeval: option values
    ("seed-negative", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--seed", "-1"], 2, "--seed"),
    ("seed-2-to-64-swd", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--seed", str(2**64)], 2, "--seed"),
    ("seed-2-to-64-msssim", G, lambda w: ["msssim", w.path("real"), "--pairs", "random", "--seed", str(2**64)], 2,
     "--seed"),
    ("seed-not-a-number", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--seed", "x"], 2, "--seed"),
    ("device-gpu0", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--device", "gpu0"], 2, "gpu0"),
    ("device-bogus", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--device", "bogus"], 2, "bogus"),
    ("device-meta", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--device", "meta"], 2, "meta"),
    ("device-mps", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--device", "mps"], 2, "MPS"),
    ("device-cuda-99", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--device", "cuda:99"], 2, "cuda:99"),
    ("nhoods-zero", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--nhoods-per-image", "0"], 2,
     "--nhoods-per-image"),
    ("nhoods-negative", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--nhoods-per-image", "-1"], 2,
     "--nhoods-per-image"),
    ("dir-repeats-zero", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--dir-repeats", "0"], 2,
     "--dir-repeats"),
    ("dirs-per-repeat-negative", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--dirs-per-repeat", "-1"], 2,
     "--dirs-per-repeat"),
    ("batch-size-zero", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--batch-size", "0"], 2, "--batch-size"),
    ("num-images-zero", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--num-images", "0"], 2, "--num-images"),
    ("num-images-too-many", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--num-images", "50"], 2,
     "asked for 50 images"),
    ("normalize-unknown", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--normalize", "x"], 2, "per_set"),
    ("resize-unknown", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--resize", "x"], 2, "clean"),
    ("pairs-unknown", G, lambda w: ["msssim", w.path("real"), "--pairs", "x"], 2, "consecutive"),
    ("num-pairs-zero", G, lambda w: ["msssim", w.path("real"), "--num-pairs", "0"], 2, "--num-pairs"),
    ("num-pairs-too-many", G, lambda w: ["msssim", w.path("real"), "--num-pairs", "40"], 2, "num_pairs=40"),
    ("subset-size-one", G, lambda w: ["kid", w.path("real"), w.path("fake"), "--subset-size", "1"], 2,
     "--subset-size"),
    ("subsets-zero", G, lambda w: ["kid", w.path("real"), w.path("fake"), "--subsets", "0"], 2, "--subsets"),
    ("splits-zero", G, lambda w: ["is", w.path("real"), "--splits", "0"], 2, "--splits"),
    ("demo-resolution-zero", G, lambda w: ["demo", "--out", w.path("demo"), "--resolution", "0"], 2, "--resolution"),
    ("demo-resolution-negative", G, lambda w: ["demo", "--out", w.path("demo"), "--resolution", "-1"], 2,
     "--resolution"),
    ("demo-resolution-too-big", G, lambda w: ["demo", "--out", w.path("demo"), "--resolution", "151"], 2,
     "--resolution"),
    ("demo-one-image", G, lambda w: ["demo", "--out", w.path("demo"), "--num-images", "1"], 2, "--num-images"),
    ("demo-out-is-a-file", G, lambda w: ["demo", "--out", w.path("images.npy")], 2, "is a file"),
    ("unknown-option", G, lambda w: ["swd", w.path("real"), w.path("fake"), "--bogus"], 2, "--bogus"),
    ("missing-argument", G, lambda w: ["swd", w.path("real")], 2, "FAKE"),
    ("unknown-command", G, lambda w: ["swdd"], 2, "swdd"),
    # --- ganeval: outputs, stats reuse, weights
    ("stats-out-under-proc", G, lambda w: ["stats", w.path("real"), "-o", "/proc/ganeval-test/s.npz"], 2, "/proc"),
    ("stats-out-below-a-file", G, lambda w: ["stats", w.path("real"), "-o", w.path("images.npy") + "/s.npz"], 2,
     "is a file"),
    ("stats-out-is-a-folder", G, lambda w: ["stats", w.path("real"), "-o", w.path("fake")], 2, ".npz"),
    ("stats-out-not-npz", G, lambda w: ["stats", w.path("real"), "-o", w.path("s.txt")], 2, ".npz"),
    ("stats-of-a-fake-set-metric", G, lambda w: ["stats", w.path("real"), "-o", w.path("s.npz"), "--metrics", "is"],
     2, "--metrics"),
    ("stats-no-metric", G, lambda w: ["stats", w.path("real"), "-o", w.path("s.npz"), "--metrics", ","], 2,
     "--metrics"),
    ("eval-unknown-metric", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "swd,fidd"], 2,
     "fidd"),
    ("eval-needs-real-for-fid", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "fid",
                                              "--inception-weights", w.path("no.pth")], 2, "does not exist"),
    ("eval-stats-lacks-fid", G, lambda w: ["eval", w.path("stats.npz"), w.path("fake"), "--metrics", "swd,kid",
                                           "--inception-weights", w.write("w.pth", b"x"),
                                           "--allow-unverified-weights"], 2, "not a readable PyTorch weights"),
    ("eval-skip-failures-every-metric-skipped", G, lambda w: ["eval", w.path("stats.npz"), w.path("fake"),
                                                              "--metrics", "swd", "--seed", "3", "--skip-failures"],
     2, "every metric was skipped: swd"),
    ("eval-report-is-a-file", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--report", w.path("stats.npz")],
     2, "is a file, expected a folder"),
    ("eval-report-under-a-file", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--report",
                                               w.path("stats.npz/report")], 2, "is a file, not a folder"),
    ("eval-report-in-real", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--report", w.path("real/report")],
     2, "lies in REAL"),
    ("eval-report-md-is-a-folder", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--report",
                                                 report_with_folder(w, "report.md")], 2, "it is a folder"),
    ("eval-report-of-a-stats-file", G, lambda w: ["eval", w.path("stats.npz"), w.path("fake"), "--metrics", "swd",
                                                  "--report", w.path("report")], 0, ""),
    ("stats-other-seed", G, lambda w: ["swd", w.path("stats.npz"), w.path("fake"), "--seed", "3"], 2, "seed=0"),
    ("stats-other-nhoods", G, lambda w: ["swd", w.path("stats.npz"), w.path("fake"), "--nhoods-per-image", "8"], 2,
     "nhoods_per_image=128"),
    ("stats-other-image-size", G, lambda w: [
        "swd", w.path("stats.npz"), w.write("s16.npy", _npy_bytes(smooth_images(8, 16).transpose(0, 2, 3, 1)))],
     2, "[32, 32]"),
    ("weights-missing", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--inception-weights", w.path("no.pth")],
     2, "does not exist"),
    ("weights-garbage", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--inception-weights",
                                      w.write("w.pth", b"garbage"), "--allow-unverified-weights"], 2,
     "not a readable PyTorch weights file"),
    ("weights-torchscript", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--inception-weights",
                                          w.path("vgg16.pt"), "--allow-unverified-weights"], 2,
     "vgg16.pt: a TorchScript archive (torch.jit.save), not a PyTorch weights file written by torch.save"),
    ("weights-nowhere-offline", G, lambda w, mp: (mp.setenv("TORCH_HOME", w.path("torch-home")),
                                                  ["fid", w.path("real"), w.path("fake")])[1], 2,
     "Inception weights are not here"),
    # --- feature extractors: --features and the DINOv2 weights
    ("features-unknown", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features", "dinov3"], 2,
     "inception-v3-tf"),
    ("features-resize-of-inception", G, lambda w: ["kid", w.path("real"), w.path("fake"), "--features",
                                                   "dinov2-vit-l14", "--resize", "clean"], 2, "resize='clean' applies"),
    ("dinov2-weights-missing", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features", "dinov2-vit-l14",
                                             "--dinov2-weights", w.path("no.pth")], 2, "does not exist"),
    ("dinov2-weights-garbage", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "fid",
                                             "--features", "dinov2-vit-l14", "--dinov2-weights",
                                             w.write("d.pth", b"garbage")], 2, "not a readable DINOv2 weights"),
    ("dinov2-weights-of-inception", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features",
                                                  "dinov2-vit-l14", "--dinov2-weights",
                                                  w.write("other.pth", _torch_bytes())], 2,
     "not DINOv2 ViT-L/14 weights"),
    ("dinov2-weights-nowhere", G, lambda w, mp: (mp.setenv("TORCH_HOME", w.path("torch-home")),
                                                 mp.setenv("HF_HUB_CACHE", w.path("hf")),
                                                 ["fid", w.path("real"), w.path("fake"), "--features",
                                                  "dinov2-vit-l14"])[2], 2, "DINOv2 weights are not here"),
    # --- the vgg16-fc2 features: torchvision's VGG-16 file, whole (the world's holds only the convolutions)
    ("vgg16-features-weights-unverified", G, lambda w: ["pr", w.path("real"), w.path("fake"), "--pr-k", "2",
                                                        "--features", "vgg16-fc2", "--vgg16-weights",
                                                        w.path("vgg16.pth")], 2, "does not begin with 397923af"),
    ("vgg16-features-weights-without-classifier", G, lambda w: ["pr", w.path("real"), w.path("fake"), "--pr-k", "2",
                                                                "--features", "vgg16-fc2", "--vgg16-weights",
                                                                w.path("vgg16.pth"), "--allow-unverified-weights"],
     2, "not VGG-16 (torchvision's, up to fc2) weights (missing ['classifier.0.bias'"),
    ("vgg16-features-weights-garbage", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "fid",
                                                     "--features", "vgg16-fc2", "--vgg16-weights",
                                                     w.write("v.pth", b"garbage"), "--allow-unverified-weights"], 2,
     "not a readable PyTorch weights file"),
    ("vgg16-features-weights-file-missing", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features",
                                                          "vgg16-fc2", "--vgg16-weights", w.path("no.pth")], 2,
     "--vgg16-weights: VGG-16 weights file"),
    ("vgg16-features-weights-nowhere-offline", G, lambda w, mp: (mp.setenv("TORCH_HOME", w.path("torch-home")),
                                                                 ["kid", w.path("real"), w.path("fake"), "--features",
                                                                  "vgg16-fc2", "--subset-size", "4"])[1], 2,
     "VGG-16 weights of the vgg16-fc2 features are not here"),
    ("vgg16-features-weights-torchscript", G, lambda w: ["pr", w.path("real"), w.path("fake"), "--pr-k", "2",
                                                         "--features", "vgg16-fc2", "--vgg16-weights",
                                                         w.path("vgg16.pt")], 2,
     "vgg16.pt: a TorchScript archive, as StyleGAN2-ADA's vgg16.pt is, not torchvision's VGG-16 state dict"),
    ("vgg16-features-resize", G, lambda w: ["dc", w.path("real"), w.path("fake"), "--features", "vgg16-fc2",
                                            "--resize", "pytorch-fid"], 2, "resize='pytorch-fid' applies"),
    # --- pggan train: --set values and switches, checked against TrainConfig's field types and ranges
    ("train-stream-an-npz", P, lambda w: ["train", *train_args(w), "--data-streaming", "on"], 2, "only an .npy"),
    ("train-data-streaming-unknown", P, lambda w: ["train", *train_args(w), "--data-streaming", "maybe"], 2,
     "--data-streaming"),
    ("set-data-streaming-unknown", P, lambda w: ["train", *train_args(w), "--set", "data_streaming=yes"], 2,
     "data_streaming must be"),
    ("set-int-field-text", P, lambda w: ["train", *train_args(w), "--set", "minibatch_base=abc"], 2,
     "minibatch_base must be an integer"),
    ("set-float-field-text", P, lambda w: ["train", *train_args(w), "--set", "g_lr=x"], 2, "g_lr must be a number"),
    ("set-float-field-list", P, lambda w: ["train", *train_args(w), "--set", "total_kimg=[1]"], 2, "total_kimg"),
    ("set-int-field-fraction", P, lambda w: ["train", *train_args(w), "--set", "seed=1.5"], 2,
     "seed must be an integer"),
    ("set-fmap-base-zero", P, lambda w: ["train", *train_args(w), "--set", "fmap_base=0"], 2, "fmap_base must be"),
    ("set-metrics-images-negative", P, lambda w: ["train", *train_args(w), "--set", "metrics_num_images=-4"], 2,
     "metrics_num_images"),
    ("set-growing-length-negative", P, lambda w: ["train", *train_args(w), "--set", "lod_training_kimg=-1"], 2,
     "lod_training_kimg"),
    ("set-growing-lengths-zero", P, lambda w: ["train", *train_args(w), "--set", "lod_training_kimg=0", "--set",
                                               "lod_transition_kimg=0"], 2, "progressive growing"),
    ("set-unknown-field", P, lambda w: ["train", *train_args(w), "--set", "sed=1"], 2, "did you mean seed"),
    ("set-without-equals", P, lambda w: ["train", *train_args(w), "--set", "seed"], 2, "NAME=VALUE"),
    ("set-bool-field-text", P, lambda w: ["train", *train_args(w), "--set", "pixelnorm=maybe"], 2, "true or false"),
    ("set-dict-field-not-object", P, lambda w: ["train", *train_args(w), "--set", "minibatch_dict=[8]"], 2,
     "JSON object"),
    ("set-dict-key-not-power-of-two", P, lambda w: ["train", *train_args(w), "--set", 'minibatch_dict={"6": 8}'], 2,
     "minibatch_dict"),
    ("set-seed-too-large", P, lambda w: ["train", *train_args(w), "--set", f"seed={2**40}"], 2, "seed must be"),
    ("set-ema-kimg-negative", P, lambda w: ["train", *train_args(w), "--set", "ema_kimg=-1"], 2, "ema_kimg"),
    ("ema-rampup-nan", P, lambda w: ["train", *train_args(w), "--ema-rampup", "nan"], 2, "ema_rampup"),
    ("set-ema-sweep-negative", P, lambda w: ["train", *train_args(w), "--set", "ema_sweep_kimg=[1, -1]"], 2,
     "ema_sweep_kimg"),
    ("set-ema-sweep-not-a-list", P, lambda w: ["train", *train_args(w), "--set", "ema_sweep_kimg=3"], 2,
     "JSON list"),
    ("set-old-ema-beta", P, lambda w: ["train", *train_args(w), "--set", "g_ema_beta=0.999"], 2, "ema_kimg"),
    ("msg-with-growing", P, lambda w: ["train", *train_args(w), "--set", "msg=true"], 2, "no progressive growing"),
    ("msg-combine-unknown", P, lambda w: ["train", *train_args(w), "--config", "msg", "--set", "msg_combine=sum"], 2,
     "msg_combine must be one of 'simple', 'lin_cat', 'cat_lin'"),
    ("msg-connections-unknown", P, lambda w: ["train", *train_args(w), "--config", "msg", "--set",
                                              "msg_connections=some"], 2, "msg_connections must be one of"),
    ("msg-connections-none-at-8px", P, lambda w: ["train", *train_args(w), "--config", "msg", "--set",
                                                  "msg_connections=middle"], 2, "connects no scale at 8×8"),
    ("d-architecture-unknown", P, lambda w: ["train", *train_args(w), "--no-progressive", "--set",
                                             "d_architecture=skip"], 2,
     "d_architecture must be one of 'orig', 'resnet'"),
    ("resnet-d-with-growing", P, lambda w: ["train", *train_args(w), "--set", "d_architecture=resnet"], 2,
     "add --no-progressive"),
    ("resnet-d-with-msg", P, lambda w: ["train", *train_args(w), "--config", "msg", "--set", "d_architecture=resnet"],
     2, "leave msg off"),
    ("msg-ablation-config", P, lambda w: [*ablation_on_data8(w), "--configs", "g,msg"], 2, "unknown configuration"),
    ("msg-grid-unknown-row", P, lambda w: [*ablation_on_data8(w), "--grid", "msg", "--configs", "R0,g"], 2,
     "choose from R0, R1"),
    ("msg-grid-set-a-row-setting", P, lambda w: [*ablation_on_data8(w), "--grid", "msg", "--set",
                                                 "msg_combine=cat_lin"], 2, "the msg grid's rows differ in"),
    ("msg-grid-middle-at-8px", P, lambda w: [*ablation_on_data8(w), "--grid", "msg", "--configs", "R3", "--set",
                                             "resolution=0"], 2, "connects no scale at 8×8"),
    ("msg-grid-folder-of-table1", P, lambda w: tables_only(w, grid_file(w, grid="msg")), 2, "the msg grid"),
    ("stylegan-noise-without-mapping", P, lambda w: ["train", *train_args(w), "--set", "noise_inputs=true"], 2,
     "needs its mapping network"),
    ("stylegan-mixing-prob-above-one", P, lambda w: ["train", *train_args(w), "--config", "stylegan_f", "--set",
                                                     "style_mixing_prob=1.5"], 2, "must be in [0, 1]"),
    ("stylegan-r1-with-wgangp", P, lambda w: ["train", *train_args(w), "--set", "r1_gamma=10"], 2,
     "r1_gamma regularises the logistic loss"),
    ("stylegan-mapping-with-tanh", P, lambda w: ["train", *train_args(w), "--config", "stylegan_c", "--set",
                                                 "tanh_at_end=true"], 2, "tanh_at_end is a setting of PGGAN"),
    ("stylegan-grid-unknown-row", P, lambda w: [*ablation_on_data8(w), "--grid", "stylegan", "--configs", "A,g"], 2,
     "choose from A, B"),
    ("stylegan2-modulated-without-mapping", P, lambda w: ["train", *train_args(w), "--set", "style_block=modulated"],
     2, "needs its mapping network"),
    ("stylegan2-modulated-with-pixelnorm", P, lambda w: ["train", *train_args(w), "--config", "stylegan2_b", "--set",
                                                         "pixelnorm=true"], 2, "pixelnorm has no place"),
    ("stylegan2-skip-with-growing", P, lambda w: ["train", *train_args(w), "--config", "stylegan2_d", "--set",
                                                  "g_architecture=skip"], 2, "add --no-progressive"),
    ("stylegan2-pl-without-mapping", P, lambda w: ["train", *train_args(w), "--set", "pl_weight=2"], 2,
     "path length regularisation differentiates G"),
    ("stylegan2-lazy-r1-without-r1", P, lambda w: ["train", *train_args(w), "--set", "r1_interval=16"], 2,
     "makes R1 lazy"),
    ("stylegan2-pl-decay-zero", P, lambda w: ["train", *train_args(w), "--config", "stylegan2_d", "--set",
                                              "pl_decay=0"], 2, "pl_decay must be in (0, 1]"),
    ("stylegan2-grid-unknown-row", P, lambda w: [*ablation_on_data8(w), "--grid", "stylegan2", "--configs", "A,G"],
     2, "choose from A, B"),
    ("minibatch-zero", P, lambda w: ["train", *train_args(w), "--minibatch", "0"], 2, "--minibatch"),
    ("lr-inf", P, lambda w: ["train", *train_args(w), "--lr", "inf"], 2, "--lr"),
    ("lr-negative", P, lambda w: ["train", *train_args(w), "--lr", "-0.1"], 2, "--lr"),
    ("kimg-zero", P, lambda w: ["train", *train_args(w), "--kimg", "0"], 2, "--kimg"),
    ("resolution-not-power-of-two", P, lambda w: ["train", *train_args(w), "--resolution", "12"], 2, "--resolution"),
    ("seed-switch-negative", P, lambda w: ["train", *train_args(w), "--seed", "-1"], 2, "--seed"),
    ("config-unknown", P, lambda w: ["train", *train_args(w), "--config", "z"], 2, "--config"),
    ("budget-unknown", P, lambda w: ["train", *train_args(w), "--budget", "huge"], 2, "--budget"),
    ("train-no-budget-nor-kimg-on-cpu", P, lambda w: ["train", "--data", w.path("data8.npz"), "--out",
                                                      w.path("new-run"), "--device", "cpu"], 2, "--budget quick"),
    ("train-no-budget-length-by-set", P, lambda w: ["train", *without_kimg(train_args(w)), "--set",
                                                    "total_kimg=0.256"], 0, ""),
    ("device-bogus-train", P, lambda w: ["train", *train_args(w), "--device", "bogus"], 2, "bogus"),
    ("amp-unknown", P, lambda w: ["train", *train_args(w), "--amp", "fp8"], 2, "--amp"),
    # --- pggan train: run directories and data
    ("out-is-a-file", P, lambda w: ["train", *train_args(w, out=w.path("images.npy"))], 2, "is a file"),
    ("out-under-proc", P, lambda w: ["train", *train_args(w, out="/proc/pggan-test/run")], 2, "/proc"),
    ("out-holds-a-run", P, lambda w: ["train", *train_args(w, out=w.path("run"))], 2, "already holds a run"),
    ("out-locked-by-another-run", P, lambda w, mp, stack: ["train", *train_args(w, out=held_lock(w, mp, stack))], 2,
     "in use by another pggan process"),
    ("data-missing", P, lambda w: ["train", *train_args(w, data=w.path("none.npz"))], 2, "no such dataset"),
    ("data-not-an-array", P, lambda w: ["train", *train_args(w, data=w.write("d.npz", b"PK\x03\x04junk"))], 2,
     "not a readable"),
    ("data-not-square", P, lambda w: ["train", *train_args(w, data=w.write(
        "rect.npz", _npz_bytes(images=np.zeros((4, 1, 8, 16), np.uint8))))], 2, "not square"),
    ("loss-blows-up", P, lambda w: ["train", *train_args(w), "--drift", "1e30"], 3, "training diverged"),
    # --- pggan resume
    ("resume-missing-dir", P, lambda w: ["resume", w.path("nope")], 2, "no such run directory"),
    ("resume-not-a-run", P, lambda w: ["resume", w.path("real")], 2, "not a pggan run directory"),
    ("resume-config-unknown-key", P, lambda w: ["resume", config_json(w, lambda c: c.update(sed=1))], 2,
     "config.json: unknown setting 'sed'"),
    ("resume-config-wrong-type", P, lambda w: ["resume", config_json(w, lambda c: c.update(seed="x"))], 2,
     "config.json: seed must be an integer"),
    ("resume-config-out-of-range", P, lambda w: ["resume", config_json(w, lambda c: c.update(fmap_base=0))], 2,
     "config.json: fmap_base"),
    ("resume-config-not-json", P, lambda w: ["resume", w.write("run/config.json", b"{oops") and w.path("run")], 2,
     "not a readable run configuration"),
    ("resume-config-differs-from-checkpoint", P, lambda w: ["resume", config_json(
        w, lambda c: c.update(fmap_max=4))], 2, "differs from"),
    ("resume-newest-checkpoint-damaged", P, lambda w: ["resume", damage_checkpoints(w, 1), "--no-progress"], 0,
     ""),
    ("resume-every-checkpoint-damaged", P, lambda w: ["resume", damage_checkpoints(w, 2)], 2, "no checkpoint loads"),
    ("resume-finished-run", P, lambda w: ["resume", w.path("run")], 0, ""),
    ("resume-kimg-not-above-trained", P, lambda w: ["resume", w.path("run"), "--kimg", "0.256"], 2,
     "not above the 0.256 kimg"),
    ("resume-kimg-below-trained", P, lambda w: ["resume", w.path("run"), "--kimg", "0.1"], 2, "not above"),
    ("resume-kimg-nan", P, lambda w: ["resume", w.path("run"), "--kimg", "nan"], 2, "not above"),
    ("resume-kimg-text", P, lambda w: ["resume", w.path("run"), "--kimg", "more"], 2, "--kimg"),
    ("resume-kimg-config-differs", P, lambda w: ["resume", config_json(w, lambda c: c.update(fmap_max=4)),
                                                 "--kimg", "1"], 2, "differs from"),
    ("resume-length-edited-by-hand", P, lambda w: ["resume", config_json(w, lambda c: c.update(total_kimg=1))], 2,
     "differs from checkpoint"),
    # --- pggan generate
    ("generate-from-not-a-checkpoint", P, lambda w: ["generate", w.path("images.npy"), "-o", w.path("g.npz")], 2,
     "not a readable pggan checkpoint"),
    ("generate-from-damaged-checkpoint", P, lambda w: ["generate", _damaged_checkpoint(w), "-o", w.path("g.npz")], 2,
     "not a readable pggan checkpoint"),
    ("generate-from-folder-without-checkpoint", P, lambda w: ["generate", w.path("real"), "-o", w.path("g.npz")], 2,
     "no checkpoint"),
    ("generate-out-png-file", P, lambda w: ["generate", w.path("run"), "-o", w.path("out/gen.png")], 2,
     ".npz or .npy"),
    ("generate-out-npy", P, lambda w: ["generate", w.path("run"), "-n", "4", "-o", w.path("gen.npy"), "--device",
                                       "cpu"], 0, ""),
    ("generate-zero-images", P, lambda w: ["generate", w.path("run"), "-n", "0", "-o", w.path("g.npz")], 2, "-n"),
    ("generate-truncation-of-pggan", P, lambda w: ["generate", w.path("run"), "-o", w.path("g.npz"),
                                                   "--truncation-psi", "0.7"], 2, "no average w"),
    ("generate-truncation-psi-nan", P, lambda w: ["generate", w.path("run"), "-o", w.path("g.npz"),
                                                  "--truncation-psi", "nan"], 2, "finite"),
    ("generate-truncation-cutoff-zero", P, lambda w: ["generate", w.path("run"), "-o", w.path("g.npz"),
                                                      "--truncation-cutoff", "0"], 2, "--truncation-cutoff"),
    # --- pggan prepare
    ("prepare-max-images-negative", P, lambda w: ["prepare", w.path("real"), w.path("p.npz"), "--max-images", "-1"],
     2, "--max-images"),
    ("prepare-resolution-not-power-of-two", P, lambda w: ["prepare", w.path("real"), w.path("p.npz"),
                                                          "--resolution", "12"], 2, "power of two"),
    ("prepare-missing-source", P, lambda w: ["prepare", w.path("nope"), w.path("p.npz")], 2, "no such file"),
    ("prepare-out-not-npz", P, lambda w: ["prepare", w.path("real"), w.path("p.png")], 2, ".npz"),
    ("prepare-truncated-idx", P, lambda w: ["prepare", truncated(w, "train-images-idx3-ubyte.gz",
                                                                 "cut-idx3-ubyte.gz"), w.path("p.npz")], 2,
     "cut-idx3-ubyte.gz"),
    ("prepare-sixteen-bit-grey", P, lambda w: ["prepare", sixteen_bit_pngs(w), w.path("p.npz")], 0, ""),
    ("prepare-celeba-missing-folder", P, lambda w: ["prepare", "--celeba", w.path("nope"), w.path("c.npy")], 2,
     "no such folder"),
    ("prepare-celeba-empty-folder", P, lambda w: ["prepare", "--celeba", w.write("empty/.keep", b"") and
                                                  w.path("empty"), w.path("c.npy")], 2, "no images"),
    ("prepare-celeba-not-178x218", P, lambda w: ["prepare", "--celeba", w.path("real"), w.path("c.npy")], 2,
     "not an aligned CelebA image"),
    ("prepare-celeba-out-npz", P, lambda w: ["prepare", "--celeba", w.path("real"), w.path("c.npz")], 2, ".npy"),
    ("prepare-celeba-resolution-above-crop", P, lambda w: ["prepare", "--celeba", w.path("real"), w.path("c.npy"),
                                                           "--resolution", "256"], 2, "--resolution 256"),
    ("prepare-celeba-and-lsun", P, lambda w: ["prepare", "--celeba", "--lsun", w.path("real"), w.path("c.npy")], 2,
     "one of --celeba, --lsun and --download"),
    ("prepare-lsun-missing-folder", P, lambda w: ["prepare", "--lsun", w.path("nope"), w.path("l.npy")], 2,
     "no such folder"),
    ("prepare-lsun-not-an-lmdb", P, lambda w: ["prepare", "--lsun", w.write("lmdb/data.mdb", b"garbage" * 100) and
                                               w.path("lmdb"), w.path("l.npy")], 2, "lmdb"),
    ("prepare-lsun-without-lmdb-package", P, lambda w, m: [
        m.setitem(sys.modules, "lmdb", None), "prepare", "--lsun", w.write("lmdb/data.mdb", b"") and w.path("lmdb"),
        w.path("l.npy")][1:], 2, "pip install"),
    ("prepare-lsun-no-image-large-enough", P, lambda w: ["prepare", "--lsun", w.path("real"), w.path("l.npy"),
                                                         "--resolution", "64"], 2, "64"),
    ("prepare-lsun-resolution-not-power-of-two", P, lambda w: ["prepare", "--lsun", w.path("real"), w.path("l.npy"),
                                                               "--resolution", "100"], 2, "power of two"),
    ("prepare-lsun-folder-to-npy", P, lambda w: ["prepare", "--lsun", w.path("real"), w.path("l.npy"),
                                                 "--resolution", "16", "--no-progress"], 0, ""),
    ("prepare-download-unknown-name", P, lambda w: ["prepare", "--download", "imagenet", w.path("raw"),
                                                    w.path("d.npz")], 2, "'fashion-mnist', 'mnist', 'cifar10'"),
    ("prepare-download-offline", P, lambda w, m: [  # the mirror: a port on 127.0.0.1 nothing listens on
        m.setattr(torchvision.datasets.FashionMNIST, "mirrors", [f"http://127.0.0.1:{free_port()}/"]), "prepare",
        "--download", "fashion-mnist", w.path("raw"), w.path("d.npz")][1:], 2,
     "could not download Fashion-MNIST"),
    # --- pggan ablation
    ("ablation-unknown-config", P, lambda w: [*ablation_on_data8(w), "--configs", "g,z"], 2, "unknown configuration"),
    ("ablation-jobs-zero", P, lambda w: [*ablation_on_data8(w), "--jobs", "0"], 2, "--jobs"),
    ("ablation-set-out-of-range", P, lambda w: [*ablation_on_data8(w), "--set", "fmap_base=0"], 2, "fmap_base"),
    ("ablation-resolution-above-data", P, lambda w: [*ablation_on_data8(w), "--set", "resolution=16"], 2,
     "smaller than --resolution 16"),
    ("ablation-kimg-negative", P, lambda w: [*ablation_on_data8(w), "--kimg", "-1"], 2, "--kimg"),
    ("ablation-seeds-repeated", P, lambda w: [*ablation_on_data8(w), "--seeds", "1000,1000"], 2, "given twice"),
    ("ablation-seeds-text", P, lambda w: [*ablation_on_data8(w), "--seeds", "1000,x"], 2, "'x' is not an integer seed"),
    ("ablation-seeds-negative", P, lambda w: [*ablation_on_data8(w), "--seeds", "-1"], 2, "outside 0"),
    ("ablation-seeds-empty", P, lambda w: [*ablation_on_data8(w), "--seeds", ""], 2, "--seeds"),
    ("ablation-inception-weights-missing", P, lambda w: [*ablation_on_data8(w), "--inception-weights",
                                                         w.path("nope.pth")], 2, "--inception-weights"),
    ("ablation-vgg16-weights-missing", P, lambda w: [*ablation_on_data8(w), "--vgg16-weights", w.path("nope.pth")],
     2, "--vgg16-weights"),
    ("ablation-lpips-weights-missing", P, lambda w: [*ablation_on_data8(w), "--lpips-weights", w.path("nope.pth")],
     2, "--lpips-weights"),
    ("ablation-ppl-samples-zero", P, lambda w: [*ablation_on_data8(w), "--ppl-samples", "0"], 2, "--ppl-samples"),
    ("ablation-ppl-samples-too-few", P, lambda w: [*ablation_on_data8(w), "--ppl-samples", "50"], 2,
     "too few for PPL's 1st–99th percentile rule"),
    # stats import: another tool's FID statistics (mu, sigma) as a ganeval stats file
    ("import-missing-from", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o", w.path("i.npz")], 2,
     "--from"),
    ("import-unknown-from", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o", w.path("i.npz"), "--from",
                                          "tensorflow"], 2, "--from"),
    ("import-missing-file", G, lambda w: ["stats", "import", w.path("none.npz"), *import_out(w)], 2, "none.npz"),
    ("import-not-npz", G, lambda w: ["stats", "import", w.write("text.npz", b"mu, sigma"), *import_out(w)], 2,
     "text.npz: not a readable pytorch-fid statistics file"),
    ("import-npz-without-mu-sigma", G, lambda w: ["stats", "import", w.write("ms.npz", _npz_bytes(
        m=np.zeros(3), s=np.eye(3))), *import_out(w)], 2, "ms.npz: holds ['m', 's'], not the mu and sigma"),
    ("import-npz-mu-only", G, lambda w: ["stats", "import", w.write("mu.npz", _npz_bytes(mu=np.zeros(3))),
                                         *import_out(w)], 2, "no sigma"),
    ("import-sigma-a-vector", G, lambda w: ["stats", "import", peer_npz(w, "v.npz", sigma=np.ones(3)),
                                            *import_out(w)], 2, "v.npz: sigma has shape (3,)"),
    ("import-sigma-not-square", G, lambda w: ["stats", "import", peer_npz(w, "r.npz", sigma=np.zeros((3, 4))),
                                              *import_out(w)], 2, "r.npz: sigma has shape (3, 4), expected a square"),
    ("import-sigma-nan", G, lambda w: ["stats", "import", peer_npz(w, "n.npz", sigma=np.full((3, 3), np.nan)),
                                       *import_out(w)], 2, "n.npz: mu or sigma holds NaN"),
    ("import-mu-inf", G, lambda w: ["stats", "import", peer_npz(w, "i3.npz", mu=np.full(3, np.inf)), *import_out(w)],
     2, "i3.npz: mu or sigma holds NaN or inf"),
    ("import-mu-sigma-disagree", G, lambda w: ["stats", "import", peer_npz(w, "d.npz", sigma=np.eye(4)),
                                               *import_out(w)], 2, "d.npz: mu has 3 dimensions but sigma is 4×4"),
    ("import-sigma-integers", G, lambda w: ["stats", "import", peer_npz(w, "int.npz", sigma=np.eye(3, dtype=int)),
                                            *import_out(w)], 2, "int.npz: mu and sigma must be floating-point"),
    ("import-not-pool3", G, lambda w: ["stats", "import", peer_npz(w, "d64.npz", mu=np.zeros(64), sigma=np.eye(64)),
                                       *import_out(w)], 2, "d64.npz: pytorch-fid statistics of 64-d features"),
    ("import-ttur-not-pool3", G, lambda w: ["stats", "import", peer_npz(w, "t64.npz", mu=np.zeros(64),
                                                                        sigma=np.eye(64)),
                                            "-o", w.path("i.npz"), "--from", "ttur"], 2,
     "t64.npz: ttur statistics of 64-d features"),
    ("import-sigma-not-symmetric", G, lambda w: ["stats", "import", peer_npz(w, "a.npz", sigma=np.triu(np.ones(
        (3, 3)))), *import_out(w)], 2, "a.npz: sigma is no covariance matrix: the covariance is not symmetric"),
    ("import-clean-fid-mode-unknown", G, lambda w: ["stats", "import", peer_npz(w, "ref.npz"), "-o", w.path("i.npz"),
                                                    "--from", "clean-fid"], 2, "--mode"),
    ("import-mode-not-clean-fid", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), *import_out(w), "--mode",
                                                "clean"], 2, "--mode"),
    ("import-torch-fidelity-npz", G, lambda w: ["stats", "import", peer_npz(w, "x-inception-v3-compat-stat-fid-2048"
                                                                            ".pt"), "-o", w.path("i.npz"), "--from",
                                                "torch-fidelity"], 2, "not a readable torch-fidelity statistics"),
    ("import-out-not-npz", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o", w.path("i.txt"), "--from",
                                         "pytorch-fid"], 2, "-o"),
    ("import-out-under-proc", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o",
                                            "/proc/ganeval-test/i.npz", "--from", "pytorch-fid"], 2, "/proc"),
    ("import-out-is-the-source", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o", w.path("p.npz"),
                                               "--from", "pytorch-fid"], 2, "is the file being imported"),
    # --- ganeval, round two: an output that is an input, the values inside stats files, the weights' messages
    ("stats-out-is-real", G, lambda w: ["stats", image_npz(w), "-o", image_npz(w)], 2, "destroy what is being read"),
    ("stats-out-hard-link-to-real", G, lambda w: ["stats", image_npz(w), "-o", linked(w, os.link, "link.npz")], 2,
     "destroy what is being read"),
    ("stats-out-symbolic-link-to-real", G, lambda w: ["stats", image_npz(w), "-o", linked(w, os.symlink, "sym.npz")],
     2, "destroy what is being read"),
    ("stats-fid-sigma-negated", G, lambda w: ["fid", fid_stats(w, "neg.npz", np.zeros(4), -np.eye(4)),
                                              fid_stats(w, "ok.npz", np.zeros(4), np.eye(4))], 2, "negative variances"),
    ("stats-fid-sigma-huge", G, lambda w: ["fid", fid_stats(w, "huge.npz", np.zeros(4), np.eye(4) * 1e306),
                                           fid_stats(w, "ok.npz", np.zeros(4), np.eye(4))], 2, "too large"),
    ("stats-fid-sigma-not-psd", G, lambda w: ["fid", fid_stats(w, "psd.npz", np.zeros(2), np.array([[1.0, 2.0],
                                                                                                     [2.0, 1.0]])),
                                              fid_stats(w, "ok.npz", np.zeros(2), np.eye(2))], 2,
     "not positive semi-definite"),
    ("stats-fid-asymmetric", G, lambda w: ["fid", fid_stats(w, "asym.npz", np.zeros(3), np.triu(np.ones((3, 3)))),
                                           fid_stats(w, "ok.npz", np.zeros(3), np.eye(3))], 2, "not symmetric"),
    ("stats-fid-other-dimensions", G, lambda w: ["fid", fid_stats(w, "d64.npz", np.zeros(64), np.eye(64)),
                                                 fid_stats(w, "d4.npz", np.zeros(4), np.eye(4))], 2,
     "different feature extractors"),
    ("stats-swd-record-without-seed", G, lambda w: ["swd", w.corrupt_stats(
        "noseed.npz", lambda a, p: p["swd"]["settings"].pop("seed")), w.path("fake")], 2, "which seed"),
    ("stats-swd-resolutions-a-string", G, lambda w: ["swd", w.corrupt_stats(
        "res.npz", lambda a, p: p["swd"].update(resolutions="32,16")), w.path("fake")], 2, "pyramid resolutions"),
    ("stats-swd-setting-a-string", G, lambda w: ["swd", w.corrupt_stats(
        "nhood.npz", lambda a, p: p["swd"]["settings"].update(nhood_size="7")), w.path("fake")], 2, "nhood_size"),
    ("import-sigma-negated", G, lambda w: ["stats", "import", peer_npz(w, "n.npz", sigma=-np.eye(3)),
                                           *import_out(w)], 2, "negative variances"),
    ("import-sigma-negative-eigenvalue", G, lambda w: ["stats", "import", peer_npz(w, "e.npz", sigma=np.array(
        [[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]])), *import_out(w)], 2, "negative eigenvalues"),
    ("dinov2-weights-damaged-safetensors", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features",
                                                         "dinov2-vit-l14", "--dinov2-weights",
                                                         w.write("model.safetensors", b"garbage bytes")], 2,
     "model.safetensors: not a readable safetensors"),
    ("dinov2-weights-wrong-shapes", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features",
                                                  "dinov2-vit-l14", "--dinov2-weights", dinov2_wrong_shapes(w)], 2,
     "weights do not fit the DINOv2 ViT-L/14"),
    ("dinov2-weights-odd-position-embeddings", G, lambda w: ["fid", w.path("real"), w.path("fake"), "--features",
                                                             "dinov2-vit-l14", "--dinov2-weights", w.write(
        "odd.pth", _torch_bytes({"pos_embed": torch.zeros(1, 8, 16)}))], 2, "odd.pth: DINOv2 position embeddings"),
    # precision/recall, density/coverage
    ("pr-k-zero", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "pr", "--pr-k", "0"], 2,
     "--pr-k"),
    ("dc-k-negative", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "dc", "--dc-k", "-1"], 2,
     "--dc-k"),
    ("pr-k-not-below-images", G, lambda w: ["pr", w.path("real"), w.path("fake"), "--pr-k", "8"], 2,
     "8 images, but precision/recall with k = 8 (lower it with --pr-k) needs at least 9"),
    ("dc-k-not-below-images", G, lambda w: ["eval", w.path("real"), w.path("fake"), "--metrics", "fid,dc",
                                            "--dc-k", "20"], 2, "--dc-k"),
    ("stats-pr-features-count", G, lambda w: ["pr", w.corrupt_stats("pr.npz", lambda a, p: (
        a.update(pr={"features": np.zeros((3, 8), np.float32)}), p.update(pr={"settings": {}, "num_images": 5}))),
        w.path("fake")], 2, "pr/features"),
    # --- the generator metrics (PPL, LS): weights, generators, import strings, options
    ("ppl-vgg16-weights-missing", G, lambda w: ["ppl", *generator(w, "good"), "--lpips-weights", w.path("lin.pth"),
                                                *FEW], 2, "VGG-16 weights of LPIPS are not here"),
    ("ppl-vgg16-weights-file-missing", G, lambda w: ["ppl", *generator(w, "good"), "--vgg16-weights",
                                                     w.path("nope.pth"), *FEW], 2, "--vgg16-weights"),
    ("ppl-vgg16-weights-unverified", G, lambda w: ["ppl", *generator(w, "good"), *lpips_files(w)[:4], *FEW], 2,
     "397923af"),
    ("ppl-vgg16-weights-of-another-network", G, lambda w: ["ppl", *generator(w, "good"), *lpips_files(w),
                                                           "--vgg16-weights", w.write("other.pth", _torch_bytes())],
     2, "other.pth: not VGG-16"),
    ("ppl-lpips-weights-of-another-network", G, lambda w: ["ppl", *generator(w, "good"), *lpips_files(w),
                                                           "--lpips-weights", w.write("other.pth", _torch_bytes())],
     2, "not the LPIPS v0.1"),
    ("ppl-vgg16-torchscript", G, lambda w: ["ppl", *generator(w, "good"), *lpips_files(w), "--vgg16-weights",
                                            w.path("vgg16.pt")], 2,
     "a TorchScript archive, as StyleGAN2-ADA's vgg16.pt is"),
    ("ppl-lpips-not-installed", G, lambda w, mp: without_lpips(mp) or ["ppl", *generator(w, "good"),
                                                                       "--vgg16-weights", w.path("vgg16.pth"), *FEW],
     2,
     "lpips package, which is not installed"),
    ("ppl-generator-wrong-shape", G, lambda w: ["ppl", *generator(w, "Flat"), *lpips_files(w)], 2,
     "returned shape (4, 768)"),
    ("ppl-generator-nan", G, lambda w: ["ppl", *generator(w, "Diverged"), *lpips_files(w)], 2, "NaN"),
    ("ppl-space-w-without-mapping", G, lambda w: ["ppl", *generator(w, "Plain"), *lpips_files(w), "--space", "w"],
     2, "mapping(z)"),
    ("ppl-epsilon-zero", G, lambda w: ["ppl", *generator(w, "good"), "--epsilon", "0"], 2, "epsilon"),
    ("ppl-epsilon-negative", G, lambda w: ["ppl", *generator(w, "good"), "--epsilon", "-1e-4"], 2, "epsilon"),
    ("ppl-too-few-samples-for-percentiles", G, lambda w: ["ppl", *generator(w, "good"), "--num-samples", "50"], 2,
     "percentile rule (1–99)"),
    ("ppl-percentiles-reversed", G, lambda w: ["ppl", *generator(w, "good"), "--lower-percentile", "60",
                                               "--upper-percentile", "40"], 2, "percentiles"),
    ("ppl-without-value-range", G, lambda w: ["ppl", "--generator", f"{w.path('generators.py')}:good"], 2,
     "--value-range"),
    ("ppl-without-generator", G, lambda w: ["ppl", "--value-range", "-1", "1"], 2, "--generator"),
    ("ppl-import-string-unresolved", G, lambda w: ["ppl", "--generator", "no_such_module_here:make", "--value-range",
                                                   "-1", "1"], 2, "cannot import no_such_module_here"),
    ("ppl-import-string-without-colon", G, lambda w: ["ppl", "--generator", "tests.helpers", "--value-range", "-1",
                                                      "1"], 2, "not an import string"),
    ("ppl-import-string-missing-attribute", G, lambda w: ["ppl", "--generator", "tests.helpers:no_such_factory",
                                                          "--value-range", "-1", "1"], 2, "no attribute"),
    ("ppl-import-string-missing-file", G, lambda w: ["ppl", "--generator", w.path("nope.py") + ":make",
                                                     "--value-range", "-1", "1"], 2, "does not exist"),
    ("ppl-factory-fails", G, lambda w: ["ppl", *generator(w, "raises")], 2, "its checkpoint is missing"),
    ("ls-without-classifiers", G, lambda w: ["ls", *generator(w, "good"), "--num-samples", "10"], 2,
     "classifiers"),
    ("ls-classifier-not-torchscript", G, lambda w: ["ls", *generator(w, "good"), "--num-samples", "10",
                                                    "--classifiers", w.path("classifiers")], 2,
     "smiling.pt: not a readable TorchScript"),
    ("ls-classifiers-not-a-folder", G, lambda w: ["ls", *generator(w, "good"), "--num-samples", "10",
                                                  "--classifiers", w.path("nope")], 2, "is not a folder"),
    ("pggan-ppl-no-checkpoint", P, lambda w: ["ppl", w.path("real"), "--vgg16-weights", w.path("vgg16.pth")], 2,
     "no checkpoint"),
    ("pggan-ppl-run-too-small-for-lpips", P, lambda w: ["ppl", w.path("run"), *lpips_files(w)], 2,
     "LPIPS needs at least 16×16"),
    ("pggan-ppl-space-w-of-pggan", P, lambda w: ["ppl", w.path("run"), *lpips_files(w), "--space", "w"], 2,
     "needs a generator exposing mapping(z) and synthesis(w)"),
    ("pggan-ppl-truncation-of-pggan", P, lambda w: ["ppl", w.path("run"), *lpips_files(w), "--truncation-psi",
                                                    "0.5"], 2, "no average w"),
    ("pggan-ppl-truncation-psi-nan", P, lambda w: ["ppl", w.path("run"), *lpips_files(w), "--truncation-psi",
                                                   "nan"], 2, "finite"),
    # --- pggan droplets
    ("droplets-missing-run", P, lambda w: ["droplets", w.path("nope")], 2, "no such checkpoint"),
    ("droplets-folder-without-checkpoint", P, lambda w: ["droplets", w.path("real")], 2, "no checkpoint"),
    ("droplets-damaged-checkpoint", P, lambda w: ["droplets", _damaged_checkpoint(w)], 2,
     "not a readable pggan checkpoint"),
    ("droplets-zero-images", P, lambda w: ["droplets", w.path("run"), "--num-images", "0"], 2, "--num-images"),
    ("droplets-of-a-pggan-run", P, lambda w: ["droplets", w.path("run"), "--device", "cpu"], 2, "no style layers"),
    ("droplets-figure-not-png", P, lambda w: ["droplets", w.path("run"), "--out", w.path("d.pdf")], 2, ".png"),
    # --- pggan, round two: an output that is an input, a results folder of another grid, damaged files under
    # --tables-only, sets too small for the run, a checkpoint write that fails, a step that overflows
    ("prepare-out-is-source", P, lambda w: ["prepare", w.path("data8.npz"), w.path("data8.npz")], 2,
     "destroy what is being read"),
    ("prepare-out-hard-link-to-source", P, lambda w: (os.link(w.path("data8.npz"), w.path("copy.npz")),
                                                      ["prepare", w.path("data8.npz"), w.path("copy.npz")])[1], 2,
     "destroy what is being read"),
    ("ablation-folder-of-other-data", P, lambda w: tables_only(w, grid_file(w, data={"shape": [1, 3, 32, 32]})), 2,
     "trained on other data"),
    ("ablation-folder-of-other-budget", P, lambda w: tables_only(w, grid_file(w, budget="paper")), 2,
     "made with budget 'paper'"),
    ("ablation-folder-of-other-kimg", P, lambda w: tables_only(w, grid_file(w, settings={"total_kimg": 9.0})), 2,
     "made with settings"),
    ("ablation-folder-of-other-precision", P, lambda w: tables_only(w, grid_file(w, settings={"amp": "bf16"})), 2,
     "'amp': 'bf16'}, this command asks for {'metrics_ticks': 2}"),
    ("tables-evaluation-not-json", P, lambda w: tables_only(w, w.write("ab/seed-1000/g/evaluation.json", b'{"swd')),
     2, "evaluation.json: not a readable evaluation"),
    ("tables-evaluation-a-list", P, lambda w: tables_only(w, w.write("ab/seed-1000/g/evaluation.json", b"[]")), 2,
     "holds a list, not an evaluation"),
    ("tables-evaluation-without-swd", P, lambda w: tables_only(w, w.write("ab/seed-1000/g/evaluation.json",
                                                                         b'{"msssim": 0.1}')), 2,
     "lacks the SWD resolutions"),
    ("tables-evaluation-msssim-a-string", P, lambda w: tables_only(w, w.write(
        "ab/seed-1000/g/evaluation.json", json.dumps({"resolutions": [32, 16], "swd_x1e3": [1.0, 2.0],
                                                      "swd_x1e3_avg": 1.5, "msssim": "0.1"}).encode())), 2,
     "its msssim is '0.1', not a number"),
    ("tables-real-evaluation-damaged", P, lambda w: tables_only(w, w.write("ab/seed-1000/real_evaluation.json",
                                                                          b"\x00\x01")), 2,
     "real_evaluation.json: not a readable evaluation"),
    ("tables-run-config-damaged", P, lambda w: tables_only(w, w.write("ab/seed-1000/g/config.json", b"{")), 2,
     "config.json: not a readable run configuration"),
    ("ablation-one-image", P, lambda w: ["ablation", "--data", one_image(w, 32), "--out", w.path("ab"), "--configs",
                                         "g", "--device", "cpu", "--no-progress"], 2, "needs at least 4"),
    ("train-one-image", P, lambda w: ["train", *train_args(w, data=one_image(w, 16)), "--set", "resolution=16",
                                      "--set", "metrics_num_images=4"], 2, "need at least 2"),
    ("checkpoint-write-fails", P, lambda w, mp: (mp.setattr(pggan.checkpoint.torch, "save", disk_full_on_second()),
                                                 ["train", *train_args(w)])[1], 2,
     "No space left on device); the run stopped, its newest checkpoint is"),
    ("adam-overflows", P, lambda w: ["train", *train_args(w), "--set", "g_lr=1e30", "--set", "d_lr=1e30"], 3,
     "training diverged"),
]
ROOT_CANNOT_TEST = [  # permissions do not bind root, as CI runs: these rows run for other users only
    ("stats-out-read-only-folder", G, lambda w: ["stats", w.path("real"), "-o", read_only(w) + "/s.npz"], 2,
     "not writable"),
    ("out-read-only-folder", P, lambda w: ["train", *train_args(w, out=read_only(w) + "/run")], 2, "not writable"),
    # stats import
    ("import-out-read-only-folder", G, lambda w: ["stats", "import", peer_npz(w, "p.npz"), "-o",
                                                  read_only(w) + "/i.npz", "--from", "pytorch-fid"], 2,
     "not writable"),
]


def peer_npz(world: World, name: str, mu: np.ndarray | None = None, sigma: np.ndarray | None = None) -> str:
    """An .npz of `mu` and `sigma` as pytorch-fid and clean-fid write them (by default a valid 3-d pair)."""
    return world.write(name, _npz_bytes(mu=np.zeros(3) if mu is None else mu, sigma=np.eye(3) if sigma is None
                                        else sigma))


def image_npz(world: World) -> str:
    """The world's images as an .npz image array (an input a stats file's output could name)."""
    return world.write("images.npz", _npz_bytes(images=np.load(world.path("images.npy"))))


def linked(world: World, make_link: Callable[[str, str], None], name: str) -> str:
    """A hard or symbolic link (`os.link`, `os.symlink`) to the world's images.npz, named `name`."""
    make_link(image_npz(world), world.path(name))
    return world.path(name)


def fid_stats(world: World, name: str, mu: np.ndarray, sigma: np.ndarray) -> str:
    """A stats file holding FID moments `mu`, `sigma` with a complete record (so only the values can be wrong)."""
    settings = {"extractor": "inception-v3-tf-2015-12-05/pool3", "weights_sha256": "0" * 64, "resize": "tf",
                "precision": "fp32"}
    save_stats(world.root / name, {"fid": {"mu": mu, "sigma": sigma}},
               {"fid": {"settings": settings, "num_images": 10, "comparable_to_published": False}})
    return world.path(name)


def ablation_on_data8(world: World) -> list[str]:
    """`pggan ablation` on the world's 8-px data set, into `ab/` (the prefix of every ablation row)."""
    return ["ablation", "--data", world.path("data8.npz"), "--out", world.path("ab")]


def report_with_folder(world: World, name: str) -> str:
    """A report folder `rep/` in which a folder stands where the report's file `name` goes."""
    (world.root / "rep" / name).mkdir(parents=True)
    return world.path("rep")


def import_out(world: World) -> list[str]:
    """`-o` (in the world) and `--from pytorch-fid` of a `stats import` row."""
    return ["-o", world.path("imported.npz"), "--from", "pytorch-fid"]


SUBPROCESS_ROWS = {"zero-byte-stats", "seed-negative", "set-int-field-fraction", "flipped-byte-stats", "loss-blows-up"}


def tables_only(world: World, *damaged: str) -> list[str]:
    """`pggan ablation --tables-only` of row (g), seed 1000, on the world's 32-px images into `ab/`, after the row
    wrote the files it `damaged` there."""
    return ["ablation", "--data", world.path("images.npy"), "--out", world.path("ab"), "--configs", "g", "--seeds",
            "1000", "--tables-only", "--device", "cpu", "--no-progress"]


def grid_file(world: World, **changes: object) -> str:
    """ab/grid.json as `pggan ablation` would record it for `tables_only`, with `changes`."""
    images = open_dataset(world.path("images.npy"))
    grid = {"data": data_identity(world.path("images.npy"), images), "budget": "quick", "resolution": 32,
            "settings": {"metrics_ticks": 2}, "evaluation": {}, "inception_weights_sha256": None}
    for key, value in changes.items():
        grid[key] = {**grid[key], **value} if isinstance(value, dict) else value
    return world.write("ab/grid.json", json.dumps(grid).encode())


def dinov2_wrong_shapes(world: World) -> str:
    """DINOv2 ViT-L/14 weights with every name right and every shape wrong (the network made on the meta device)."""
    timm = pytest.importorskip("timm")
    with torch.device("meta"):
        network = timm.create_model("vit_large_patch14_dinov2", pretrained=False, img_size=224, num_classes=0)
    state = {name: torch.zeros(2) for name in network.state_dict()}
    state["pos_embed"] = torch.zeros(1, 257, 1024)  # a 16×16 grid: resampled as usual, then refused with the rest
    return world.write("wrong.pth", _torch_bytes(state))


def one_image(world: World, side: int) -> str:
    """A data set of one RGB image of side × side pixels."""
    return world.write(f"one{side}.npz", _npz_bytes(images=smooth_images(1, side, seed=5)))


def disk_full_on_second() -> Callable:
    """A torch.save whose second call fails as torch's zip writer fails on a full disk (the first checkpoint is
    written, and survives)."""
    calls = []
    save = torch.save

    def failing(state: object, file: object) -> None:
        calls.append(file)
        if len(calls) == 2:
            try:  # as torch.save into a file reports the OS's error: a RuntimeError raised while handling it
                raise OSError(errno.ENOSPC, "No space left on device")
            except OSError:
                raise RuntimeError("[enforce fail at inline_container.cc:783] . PytorchStreamWriter failed writing "
                                   "file data/3: file write failed") from None
        save(state, file)

    return failing


def train_args(world: World, *, out: str | None = None, data: str | None = None) -> list[str]:
    return ["--data", data or world.path("data8.npz"), "--out", out or world.path("new-run"), *TINY]


def without_kimg(arguments: list[str]) -> list[str]:
    """The arguments less `--kimg VALUE`."""
    index = arguments.index("--kimg")
    return arguments[:index] + arguments[index + 2:]


def _npz_bytes(**arrays: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _torch_bytes(state: dict | None = None) -> bytes:
    """A readable PyTorch state dict (by default of some other network)."""
    buffer = io.BytesIO()
    torch.save({"conv.weight": torch.zeros(2, 2)} if state is None else state, buffer)
    return buffer.getvalue()


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _damaged_checkpoint(world: World) -> str:
    newest = list_checkpoints(world.root / "run")[-1]
    return world.write("damaged.pt", newest.read_bytes()[:300])


def snapshot(root: Path) -> dict[str, str]:
    """SHA-256 of every regular file below `root` (FIFOs and links skipped)."""
    digests = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and not path.is_fifo():
            digests[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def run_row(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row: tuple, *, subprocess_: bool
            ) -> tuple[int, str, str, dict[str, str], Path]:
    """Copy the world, build the row's arguments, run the command; (exit code, stdout, stderr, snapshot, root)."""
    name, program, make_arguments, _, _ = row
    world = World(tmp_path / "world")
    shutil.copytree(template, world.root, symlinks=True)
    stack: list = []
    arity = make_arguments.__code__.co_argcount
    arguments = make_arguments(*[world, monkeypatch, stack][:arity])
    before = snapshot(world.root)
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS", raising=False)
    try:
        if subprocess_:
            completed = subprocess.run([sys.executable, "-m", program, *arguments], cwd=REPO,
                                       capture_output=True, text=True, timeout=300, env={**os.environ})
            return completed.returncode, completed.stdout, completed.stderr, before, world.root
        result = CliRunner().invoke(ganeval_main if program == G else pggan_main, arguments)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # a traceback: the row fails with it
        return result.exit_code, result.stdout, result.stderr, before, world.root
    finally:
        for lock in stack:
            lock.__exit__(None, None, None)


def check(row: tuple, exit_code: int, stderr: str, before: dict[str, str], root: Path) -> None:
    name, _, _, wanted_code, word = row
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert all(line.startswith(("error:", "note:")) for line in lines), f"{name}: stray stderr lines {lines}"
    assert exit_code == wanted_code, f"{name}: exit code {exit_code}, stderr {stderr!r}"
    if wanted_code == 0:
        assert not errors, f"{name}: {errors}"
    else:
        assert len(errors) == 1, f"{name}: expected one error line, got {lines}"
        assert word.lower() in errors[0].lower(), f"{name}: {word!r} not in {errors[0]!r}"
    after = snapshot(root)
    changed = [path for path, digest in before.items() if after.get(path) != digest and not path.endswith(".lock")]
    if wanted_code != 0:
        assert not changed, f"{name}: files written before were changed or lost: {changed}"
    leftovers = [path for path in after if ".tmp-" in path]
    assert not leftovers, f"{name}: temporary files left behind: {leftovers}"


@pytest.mark.parametrize("row", ROWS, ids=[row[0] for row in ROWS])
def test_hostile_input_in_process(template, tmp_path, monkeypatch, row):
    exit_code, _, stderr, before, root = run_row(template, tmp_path, monkeypatch, row, subprocess_=False)
    check(row, exit_code, stderr, before, root)


@pytest.mark.slow  # spawns processes
@pytest.mark.parametrize("row", [row for row in ROWS if row[0] in SUBPROCESS_ROWS],
                         ids=[row[0] for row in ROWS if row[0] in SUBPROCESS_ROWS])
def test_hostile_input_as_a_real_process(template, tmp_path, monkeypatch, row):
    exit_code, _, stderr, before, root = run_row(template, tmp_path, monkeypatch, row, subprocess_=True)
    check(row, exit_code, stderr, before, root)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="file permissions do not bind root")
@pytest.mark.parametrize("row", ROOT_CANNOT_TEST, ids=[row[0] for row in ROOT_CANNOT_TEST])
def test_hostile_input_needing_permissions(template, tmp_path, monkeypatch, row):
    exit_code, _, stderr, before, root = run_row(template, tmp_path, monkeypatch, row, subprocess_=False)
    check(row, exit_code, stderr, before, root)


def test_every_subprocess_row_is_in_the_table():
    assert SUBPROCESS_ROWS <= {row[0] for row in ROWS}
    assert len({row[0] for row in ROWS + ROOT_CANNOT_TEST}) == len(ROWS + ROOT_CANNOT_TEST)


def test_an_error_after_a_progress_bar_starts_on_a_line_of_its_own():
    stream = io.StringIO()
    bar = Progress(10, "REAL", stream=stream, enabled=True)
    bar.update(5)  # the bar's line is open: "\rREAL: 5/10 img …"
    assert not stream.getvalue().endswith("\n")
    with pytest.raises(SystemExit) as exit_info:
        fail("REAL: something is wrong", 2)
    assert exit_info.value.code == 2 and stream.getvalue().endswith("\n")


def test_set_minibatch_dict_keeps_int_keys_through_config_json_and_resume(template, tmp_path):
    # --set minibatch_dict='{"8": 8}' (JSON keys are strings) must reach training as {8: 8}, and the run read back
    # from config.json must be the same config, so a resumed run uses the same minibatch as an uninterrupted one.
    run_dir = tmp_path / "run"
    arguments = ["train", *train_args(World(template), out=str(run_dir)), "--set", 'minibatch_dict={"8": 8}']
    result = CliRunner().invoke(pggan_main, arguments)
    assert result.exit_code == 0, result.output
    written = json.loads((run_dir / "config.json").read_text())
    assert written["minibatch_dict"] == {"8": 8}
    assert TrainConfig.from_dict(written).minibatch_dict == {8: 8}
    minibatches = {record["resolution"]: record["minibatch"]
                   for record in map(json.loads, (run_dir / "log.jsonl").read_text().splitlines())}
    assert minibatches[8] == 8 and minibatches[4] == 16
    assert load_checkpoint(list_checkpoints(run_dir)[-1])["config"]["minibatch_dict"] == {8: 8}
