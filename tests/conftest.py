"""Fixtures shared by the test modules, and the offline guard every test runs under.

Helpers that are not fixtures are in tests/helpers.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tests.helpers import make_images, random_lpips_linear, random_state_dict, random_vgg16_features, write_folder


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test may download weights or find a real checkpoint in the user's torch hub or Hugging Face cache."""
    monkeypatch.setenv("GANEVAL_OFFLINE", "1")
    monkeypatch.delenv("GANEVAL_INCEPTION_WEIGHTS", raising=False)
    monkeypatch.delenv("GANEVAL_DINOV2_WEIGHTS", raising=False)
    monkeypatch.delenv("GANEVAL_VGG16_WEIGHTS", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hugging-face"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))


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


@pytest.fixture(scope="session")
def vgg16_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of random VGG-16 `features` weights in torchvision's names (LPIPS's backbone; 59 MB, made once)."""
    path = tmp_path_factory.getbasetemp() / "random-vgg16-features.pth"
    if not path.exists():
        torch.save(random_vgg16_features(), path)
    return path


@pytest.fixture(scope="session")
def lpips_linear(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of random LPIPS linear layers in the lpips package's format."""
    path = tmp_path_factory.getbasetemp() / "random-lpips-linear.pth"
    if not path.exists():
        torch.save(random_lpips_linear(), path)
    return path


@pytest.fixture(scope="session")
def ppl_options(vgg16_weights: Path, lpips_linear: Path) -> dict:
    """Keyword arguments that run PPL on CPU with the random LPIPS weights (unverified by design), for a generator
    with output in [−1, 1]."""
    return {"vgg16_weights": vgg16_weights, "lpips_weights": lpips_linear, "allow_unverified_weights": True,
            "device": "cpu", "value_range": (-1, 1)}


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


@pytest.fixture
def one_thread():
    """Tiny 8×8 networks: a second intra-op thread only adds synchronisation (and, on the 2 shared cores,
    spin-waiting), so the pggan training tests that ask for it (`pytestmark = pytest.mark.usefixtures("one_thread")`)
    run single-threaded; the previous setting is restored afterwards. Not autouse: no other test's thread count
    changes."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def smooth16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared set of 128 smooth 16×16 grey images (blurred noise), for tiny pggan runs."""
    noise = torch.from_numpy(np.random.default_rng(0).standard_normal((128, 1, 16, 16)))
    smooth = F.avg_pool2d(F.pad(noise, (2, 2, 2, 2), mode="circular"), 5, 1)
    images = ((smooth / smooth.std() * 60 + 128).clamp(0, 255)).to(torch.uint8).numpy()
    path = tmp_path_factory.mktemp("data") / "tiny16.npz"
    np.savez(path, images=images)
    return path
