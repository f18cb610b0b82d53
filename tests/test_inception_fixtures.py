"""Shared test material for the Inception metrics: a deterministic random-weight checkpoint and small image folders.

The published weights are never downloaded in tests: `random_inception_checkpoint` writes a pytorch-fid-format
state dict whose convolutions are He-initialised (so ReLU activations keep their scale through the 94 layers) and
whose BatchNorm statistics are random but well-conditioned, so every BN parameter matters and pool3 features are
finite and differ between images. Other test modules import the fixtures from here.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganeval.extractors.inception import InceptionV3TF

# The fixtures, for `from tests.test_inception_fixtures import *` (a star import keeps ruff from reading fixture
# parameters as redefinitions); helpers are imported by name.
__all__ = ["image_folders", "inception_weights", "metric_options", "offline"]


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


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the random-weight checkpoint in pytorch-fid's format (the session's only copy)."""
    path = tmp_path_factory.getbasetemp() / "random-inception.pth"
    if not path.exists():
        torch.save(random_state_dict(), path)
    return path


@pytest.fixture(scope="session")
def metric_options(inception_weights: Path) -> dict:
    """Keyword arguments that run a metric on CPU with the random checkpoint (unverified by design)."""
    return {"inception_weights": inception_weights, "allow_unverified_weights": True, "device": "cpu"}


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may download weights or find a real checkpoint in the user's torch hub or Hugging Face cache."""
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    monkeypatch.delenv("GANEVAL_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hugging-face"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


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


@pytest.fixture(scope="session")
def image_folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two folders of 10 PNGs, 48×48 "blobs" and 40×40 "noise", deliberately different distributions and sizes."""
    root = tmp_path_factory.getbasetemp() / "inception-images"
    real = root / "real"
    fake = root / "fake"
    if not real.exists():
        write_folder(real, make_images(10, 48, seed=1, style="blobs"))
        write_folder(fake, make_images(10, 40, seed=2, style="noise"))
    return real, fake
