"""Shared test material that is not a fixture: image makers, the random Inception checkpoint, the full-matrix
nearest-neighbour oracle and its feature sets, and the tiny pggan configuration builders.

Test modules import these by name (`from tests.helpers import ...`); no test module imports another test module
(tests/test_layout.py checks it). The fixtures built on them are in tests/conftest.py.

The published weights are never downloaded in tests: `random_state_dict` is a pytorch-fid-format state dict whose
convolutions are He-initialised (so ReLU activations keep their scale through the 94 layers) and whose BatchNorm
statistics are random but well-conditioned, so every BN parameter matters and pool3 features are finite and differ
between images.
"""

from __future__ import annotations

import functools
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.ndimage
import torch
from PIL import Image

from ganeval.extractors.inception import InceptionV3TF
from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import PRESETS, make_config

# ---------------------------------------------------------------------------------------------------------------
# Images.


def make_images(count: int, size: int, seed: int, style: str) -> np.ndarray:
    """`count` uint8 NHWC RGB images: "noise" (uniform pixels) or "blobs" (smooth colour gradients plus a disc)."""
    rng = np.random.default_rng(seed)
    if style == "noise":
        return rng.integers(0, 256, size=(count, size, size, 3), dtype=np.uint8)
    grid = np.linspace(0, 1, size)
    images = []
    for _ in range(count):
        colour, tilt = rng.uniform(0, 255, 3), rng.uniform(-1, 1, 2)
        ramp = grid[:, None] * tilt[0] + grid[None, :] * tilt[1]
        image = colour + 120 * ramp[:, :, None]
        centre, radius = rng.uniform(0.2, 0.8, 2) * size, rng.uniform(0.1, 0.3) * size
        disc = (np.arange(size)[:, None] - centre[0]) ** 2 + (np.arange(size)[None, :] - centre[1]) ** 2 < radius**2
        image[disc] = rng.uniform(0, 255, 3)
        images.append(image.clip(0, 255).astype(np.uint8))
    return np.stack(images)


def write_folder(folder: Path, images: np.ndarray) -> Path:
    """Save NHWC uint8 images as numbered PNGs in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for index, image in enumerate(images):
        Image.fromarray(image).save(folder / f"{index:04d}.png")
    return folder


def smooth_images(count, size, seed=0, channels=3, width=None):
    """Photo-like uint8 NCHW images (size × size, or size × width): blurred noise plus a vertical gradient, so every
    pyramid level carries signal."""
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(count, channels, size, width or size))
    blurred = scipy.ndimage.gaussian_filter(noise, sigma=(0, 0, 1.5, 1.5))
    ramp = np.linspace(-1, 1, size)[None, None, :, None]
    images = 128 + 300 * blurred + 40 * ramp + 10 * rng.normal(size=noise.shape)
    return np.clip(np.rint(images), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------------------------------------------------------
# The random-weight Inception checkpoint.


@functools.lru_cache(maxsize=1)
def random_state_dict() -> dict[str, torch.Tensor]:
    """A deterministic state dict for the FID Inception with random weights (seed 0)."""
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in InceptionV3TF().state_dict().items():
        if key.endswith("num_batches_tracked"):
            continue
        if key.endswith("conv.weight"):
            fan_in = value[0].numel()
            tensor = torch.randn(value.shape, generator=generator) * math.sqrt(2.0 / fan_in)
        elif key.endswith("bn.weight"):
            tensor = 0.8 + 0.4 * torch.rand(value.shape, generator=generator)
        elif key.endswith("bn.bias") or key.endswith("running_mean"):
            tensor = 0.1 * torch.randn(value.shape, generator=generator)
        elif key.endswith("running_var"):
            tensor = 0.8 + 0.4 * torch.rand(value.shape, generator=generator)
        elif key == "fc.weight":
            tensor = torch.randn(value.shape, generator=generator) * 4 / math.sqrt(value.shape[1])
        elif key == "fc.bias":
            tensor = torch.randn(value.shape, generator=generator)
        else:
            raise AssertionError(f"unexpected parameter {key}")
        state[key] = tensor.to(value.dtype)
    return state


# ---------------------------------------------------------------------------------------------------------------
# Nearest neighbours by the definition (precision/recall, density/coverage), and the features they are tried on.


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Every Euclidean distance between the rows of a and b, by the definition."""
    return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=-1))


def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance to the k-th nearest other point: index k of the sorted row, whose index 0 is the point itself."""
    return np.partition(distances(points, points), k, axis=1)[:, k]


def features_with_duplicates(count: int, dim: int, seed: int, *, shift: float = 0.0) -> np.ndarray:
    """Gaussian features, a few repeated exactly (a point with 4 copies, pairs) so that some radii are 0."""
    rng = np.random.default_rng(seed)
    points = rng.normal(shift, 1.0, size=(count, dim))
    points[[5, 8, 9]] = points[7]
    points[count - 1] = points[0]
    return points


CASES = [  # (real count, fake count, dimension, block size): blocks that do not divide the counts, and one block
    (50, 37, 16, 7), (61, 61, 3, 16), (130, 77, 33, 32), (40, 45, 2048, 1000)]


class PooledPixels(torch.nn.Module):
    """A tiny extractor: 4×4 average-pooled pixels (48 features of a 16×16 image), the same for an image in any
    batch, counting the images it sees."""

    def __init__(self) -> None:
        super().__init__()
        self.pool = torch.nn.AvgPool2d(4)
        self.seen = 0

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        self.seen += images.shape[0]
        return self.pool(images).flatten(1)


def image_sets(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (23, 16, 16, 3), dtype=np.uint8),
            rng.integers(30, 226, (19, 16, 16, 3), dtype=np.uint8))


def module_features(module: torch.nn.Module, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255).numpy()


# ---------------------------------------------------------------------------------------------------------------
# Tiny pggan runs.


def tiny(preset: str, data: Path, **overrides):
    """A few steps at 8×8 with 8 feature maps; one fade-in (4×4 → 8×8) every 64 + 64 images."""
    settings = dict(data=str(data), resolution=8, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.256,
                    lod_training_kimg=0.064, lod_transition_kimg=0.064, minibatch_repeats=1, kimg_per_tick=0.064,
                    metrics_num_images=0, grid_size=2)
    if PRESETS[preset].get("minibatch_base") == 64:  # (a), (b): 64 × n_critic 5 = 320 images per G step
        settings.update(total_kimg=0.64, kimg_per_tick=0.32, lod_training_kimg=0.16, lod_transition_kimg=0.16)
    return make_config(preset, **{**settings, **overrides})


def weights(state: dict) -> dict[str, torch.Tensor]:
    """A checkpoint's three networks as one flat dict: "generator.<name>", "discriminator.<name>", …"""
    return {f"{net}.{name}": value for net in ("generator", "discriminator", "generator_ema")
            for name, value in state[net].items()}


def train_whole_and_killed(args: list[str], whole_dir: Path, killed_dir: Path) -> None:
    """`pggan train ARGS` into whole_dir uninterrupted, and into killed_dir SIGKILLed as soon as its first checkpoint
    exists, then `pggan resume`d: the CLI in subprocesses, one thread each."""
    command, repo = [sys.executable, "-m", "pggan"], Path(__file__).resolve().parents[1]
    one_thread = {**os.environ, "OMP_NUM_THREADS": "1"}
    uninterrupted = subprocess.run([*command, "train", *args, "--out", str(whole_dir)], cwd=repo, env=one_thread,
                                   capture_output=True, text=True, timeout=300)
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    process = subprocess.Popen([*command, "train", *args, "--out", str(killed_dir)], cwd=repo, env=one_thread,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list_checkpoints(killed_dir) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, process.stderr.read().decode()
    assert not (killed_dir / "metrics.json").exists()  # it really died before the end
    resumed = subprocess.run([*command, "resume", str(killed_dir), "--no-progress"], cwd=repo, env=one_thread,
                             capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr


def assert_same_training_state(first_dir: Path, second_dir: Path, rng: tuple[str, ...] = ("sampler",)
                               ) -> tuple[dict, list[dict]]:
    """Two runs' last checkpoints hold equal weights, Adam states and `rng` states, and their logs are equal tick by
    tick (timings aside); returns the first's checkpoint and log."""
    first, second = (load_checkpoint(list_checkpoints(run)[-1]) for run in (first_dir, second_dir))
    for name, value in weights(first).items():
        assert torch.equal(value, weights(second)[name]), name
    for net in ("g_optimizer", "d_optimizer"):
        for key, slot in first[net]["state"].items():
            for field, value in slot.items():
                assert torch.equal(value, second[net]["state"][key][field]), (net, key, field)
    for generator in rng:
        assert torch.equal(first["rng"][generator], second["rng"][generator]), generator
    timing = {"tick_seconds", "images_per_second", "train_seconds"}
    logs = [[{k: v for k, v in json.loads(line).items() if k not in timing}
             for line in (run / "log.jsonl").read_text().splitlines()] for run in (first_dir, second_dir)]
    assert logs[0] == logs[1]  # same losses every tick, no duplicated ticks
    return first, logs[0]


# ---------------------------------------------------------------------------------------------------------------
# Small utilities.


def nchw(images: np.ndarray) -> torch.Tensor:
    """NHWC uint8 numpy → NCHW uint8 tensor."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def relative_error(ours: np.ndarray | float, theirs: np.ndarray | float) -> float:
    """max |ours − theirs| / max |theirs|."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a gloo process group's MASTER_PORT)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# The generator metrics (PPL, LS): random-weight LPIPS files and small generators.


@functools.lru_cache(maxsize=1)
def random_vgg16_features() -> dict[str, torch.Tensor]:
    """torchvision VGG-16 `features.*` tensors with random He-initialised weights (seed 0), so activations keep
    their scale through the 13 convolutions; torchvision's classifier is left out (ganeval does not use it)."""
    generator = torch.Generator().manual_seed(0)
    state, channels, index = {}, 3, 0
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            index += 1
            continue
        state[f"features.{index}.weight"] = torch.randn(width, channels, 3, 3, generator=generator) * math.sqrt(
            2.0 / (channels * 9))
        state[f"features.{index}.bias"] = 0.01 * torch.randn(width, generator=generator)
        channels, index = width, index + 2
    return state


def full_vgg16_state_dict() -> dict[str, torch.Tensor]:
    """`random_vgg16_features` with torchvision's classifier (zeros): the whole state dict torchvision's `vgg16`
    loads strictly, as the peers (lpips, torch-fidelity) load it from the torch hub cache."""
    state = dict(random_vgg16_features())
    for index, (rows, columns) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        state[f"classifier.{index}.weight"] = torch.zeros(rows, columns)
        state[f"classifier.{index}.bias"] = torch.zeros(rows)
    return state


def random_lpips_linear() -> dict[str, torch.Tensor]:
    """LPIPS linear layers in the lpips package's names, with random non-negative weights (seed 1)."""
    generator = torch.Generator().manual_seed(1)
    return {f"lin{layer}.model.1.weight": torch.rand(1, width, 1, 1, generator=generator) / width
            for layer, width in enumerate((64, 128, 256, 512, 512))}


class TinyGenerator(torch.nn.Module):
    """A small StyleGAN-shaped generator: z (8) → mapping → w (8) → synthesis → 3 × size × size images in (−1, 1).

    Every operation is elementwise or a sum over a non-batch axis, so a sample's image is the same whatever batch
    it is computed in (torch's CPU matmuls and convolutions may round differently by batch size). `noise`: the
    synthesis adds noise × torch.randn per image, drawn from torch's RNG as a StyleGAN generator draws its noise;
    `linear`: images linear in z (no tanh anywhere), for attributes linear in z.
    """

    z_dim = 8

    def __init__(self, size: int = 16, channels: int = 3, noise: float = 0.0, linear: bool = False, seed: int = 0):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.size, self.channels, self.noise, self.linear = size, channels, noise, linear
        self.mix = torch.nn.Parameter(torch.randn(8, 8, generator=generator) / math.sqrt(8))
        coarse = torch.randn(8, channels, 4, 4, generator=generator)
        self.patterns = torch.nn.Parameter(torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear",
                                                                           align_corners=False) * 0.5)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        w = (z[:, :, None] * self.mix[None]).sum(dim=1)
        return w if self.linear else torch.tanh(w)

    def synthesis(self, w: torch.Tensor) -> torch.Tensor:
        x = (w[:, :, None, None, None] * self.patterns[None]).sum(dim=1)
        if self.noise:
            x = x + self.noise * torch.randn(x.shape)
        return 0.25 * x if self.linear else torch.tanh(x)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.synthesis(self.mapping(z))


def tiny_generator() -> TinyGenerator:
    """The factory the command-line tests name: `--generator tests.helpers:tiny_generator`."""
    return TinyGenerator()


def tf1_resize_by_formula(image: np.ndarray, size: int) -> np.ndarray:
    """TF1 ResizeBilinear (align_corners=False) pixel by pixel: src = dst·in/out (float32), lerp x then y."""
    height, width = image.shape
    out = np.empty((size, size), np.float32)
    for row in range(size):
        y = np.float32(row) * np.float32(height / size)
        y0 = int(y)
        y1, dy = min(y0 + 1, height - 1), y - np.float32(y0)
        for col in range(size):
            x = np.float32(col) * np.float32(width / size)
            x0 = int(x)
            x1, dx = min(x0 + 1, width - 1), x - np.float32(x0)
            top = image[y0, x0] + (image[y0, x1] - image[y0, x0]) * dx
            bottom = image[y1, x0] + (image[y1, x1] - image[y1, x0]) * dx
            out[row, col] = top + (bottom - top) * dy
    return out
