"""LPIPS v0.1 on VGG-16 (Zhang et al. 2018), the perceptual distance of the perceptual path length, and its weights.

The network is the `lpips` package's `LPIPS(net="vgg", version="0.1")`: images in [0, 255] (float) scaled to
[−1, 1], then shifted and scaled per channel (its `ScalingLayer`), VGG-16's relu1_2, relu2_2, relu3_3, relu4_3 and
relu5_3 activations of both images, each unit-normalised along the channels (+1e-10), their squared difference
weighted by a learned 1×1 convolution and averaged over the positions, summed over the five layers. The distance
is the one NVlabs' StyleGAN computes with its `vgg16_zhang_perceptual` network (a port of the same weights).

Two weights files, neither downloaded by the tests and neither copied into this repository:

* the VGG-16 backbone: torchvision's ImageNet weights `vgg16-397923af.pth`, found as the Inception weights are
  (`VGG16_WEIGHTS.find`): an explicit path, `$GANEVAL_VGG16_WEIGHTS`, the torch hub checkpoint folder (where
  torchvision, `lpips` and torch-fidelity keep it), then a download unless `GANEVAL_OFFLINE=1`. Its SHA-256 must
  begin with 397923af, as torch hub checks it.
* the linear layers: `lpips/weights/v0.1/vgg.pth` of the installed `lpips` package (`pip install
  "ganeval-pggan[ppl]"`), or torch-fidelity's cached copy of the same tensors (`weights-vgg16-lpips.pth` in the
  torch hub checkpoint folder), or an explicit path; checked by the SHA-256 of their tensors.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ganeval.defaults import (
    LPIPS_FILE_NAME,
    PRECISIONS,
    TORCH_FIDELITY_LPIPS_FILE_NAME,
    VGG16_FILE_NAME,
    VGG16_URL,
    VGG16_WEIGHTS_ENV,
)
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import float32_precision, load_weights
from ganeval.extractors.weights import WeightsFile, hub_checkpoints
from ganeval.files import file_sha256, is_torchscript_archive, load_torch_file

VGG16_SHA256_PREFIX = "397923af"  # torch hub names a file by the first 8 hex digits of its SHA-256
# SHA-256 of the five linear layers' tensors (names lin0 … lin4, shapes, float32 values; `tensors_sha256`), the same
# in the lpips wheel's vgg.pth and in torch-fidelity's weights-vgg16-lpips.pth.
LPIPS_TENSORS_SHA256 = "f14b1b114b5827357a3b253415804418720c602f647609bd3f9c9ada0c440ade"
# VGG-16's `features` up to relu5_3: 3×3 convolutions (padding 1) each followed by a ReLU, "M" a 2×2 max pool.
VGG16_LAYOUT = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
TAPS = (4, 9, 16, 23, 30)  # the `features` index after relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
CHANNELS = (64, 128, 256, 512, 512)
SHIFT = (-0.030, -0.088, -0.188)  # lpips' ScalingLayer, on [−1, 1] images
SCALE = (0.458, 0.448, 0.450)
NETWORK_ID = "lpips-v0.1-vgg16"


VGG16_WEIGHTS = WeightsFile("VGG-16", "--vgg16-weights", VGG16_WEIGHTS_ENV, (VGG16_FILE_NAME,), VGG16_URL,
                            download_hash_prefix=VGG16_SHA256_PREFIX, purpose=" of LPIPS")


def find_lpips_weights(path: str | os.PathLike | None = None) -> Path:
    """The LPIPS v0.1 linear layers: explicit path, then the installed `lpips` package's file, then torch-fidelity's
    cached copy."""
    if path is not None:
        if not Path(path).is_file():
            raise GanevalInputError(f"--lpips-weights: LPIPS weights file {path} does not exist")
        return Path(path)
    spec = importlib.util.find_spec("lpips")
    if spec is not None and spec.origin is not None:
        packaged = Path(spec.origin).parent / "weights" / "v0.1" / LPIPS_FILE_NAME
        if packaged.is_file():
            return packaged
    cached = hub_checkpoints() / TORCH_FIDELITY_LPIPS_FILE_NAME
    if cached.is_file():
        return cached
    raise GanevalInputError("the LPIPS v0.1 linear weights ship with the lpips package, which is not installed: "
                            "pip install \"ganeval-pggan[ppl]\" (or pip install lpips), or pass --lpips-weights PATH "
                            "(lpips/weights/v0.1/vgg.pth)")


def vgg16_file_sha256(path: Path, allow_unverified_weights: bool, consequence: str) -> str:
    """The file's SHA-256, refused (GanevalInputError) if it is a TorchScript archive, or unless it is torchvision's
    ImageNet VGG-16 or `allow_unverified_weights`; `consequence` says in the message what another file would
    change."""
    if is_torchscript_archive(path):  # StyleGAN2-ADA's metrics cache such a vgg16.pt: its own LPIPS network
        raise GanevalInputError(f"{path}: a TorchScript archive, as StyleGAN2-ADA's vgg16.pt is, not torchvision's "
                                f"VGG-16 state dict; give vgg16-397923af.pth ({VGG16_URL})")
    sha256 = file_sha256(path, "weights file")
    if not sha256.startswith(VGG16_SHA256_PREFIX) and not allow_unverified_weights:
        raise GanevalInputError(
            f"{path}: SHA-256 {sha256[:16]}… does not begin with {VGG16_SHA256_PREFIX}, so it is not torchvision's "
            f"ImageNet VGG-16 ({VGG16_URL}) and {consequence}; use that file, or pass --allow-unverified-weights "
            "(allow_unverified_weights=True) to run anyway")
    return sha256


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of tensors by name order (name, shape, dtype and float32 bytes): their identity however saved."""
    digest = hashlib.sha256()
    for name, tensor in sorted(state.items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def read_vgg16_file(path: Path) -> dict[str, torch.Tensor]:
    """Every tensor of a torchvision VGG-16 state dict, a `module.` prefix removed."""
    loaded = load_torch_file(path, "PyTorch weights file")
    if not isinstance(loaded, dict) or not all(isinstance(value, torch.Tensor) for value in loaded.values()):
        raise GanevalInputError(f"{path}: expected a VGG-16 state dict (name → tensor), got {type(loaded).__name__}")
    return {key.removeprefix("module."): value for key, value in loaded.items()}


def read_vgg16_state(path: Path) -> dict[str, torch.Tensor]:
    """The `features.*` tensors of a torchvision VGG-16 state dict (the classifier's, if present, are not used)."""
    return {key: value for key, value in read_vgg16_file(path).items() if not key.startswith("classifier.")}


def read_lpips_state(path: Path) -> tuple[dict[str, torch.Tensor], str]:
    """The five linear layers as `lins.k.weight` (from the lpips and torch-fidelity names `link.model.1.weight`), and
    the SHA-256 of the tensors as saved."""
    loaded = load_torch_file(path, "PyTorch weights file")
    if not isinstance(loaded, dict) or not all(isinstance(value, torch.Tensor) for value in loaded.values()):
        raise GanevalInputError(f"{path}: expected the LPIPS linear layers (name → tensor), got "
                                f"{type(loaded).__name__}")
    wanted = {f"lin{layer}.model.1.weight": f"lins.{layer}.weight" for layer in range(len(CHANNELS))}
    if set(loaded) != set(wanted):
        raise GanevalInputError(f"{path}: not the LPIPS v0.1 VGG-16 linear layers (expected the names "
                                f"{', '.join(sorted(wanted))}; got {', '.join(sorted(loaded)[:5])})")
    return {wanted[key]: value.float() for key, value in loaded.items()}, tensors_sha256(loaded)


def vgg16_features() -> nn.Sequential:
    """torchvision's `vgg16().features[:30]` (through relu5_3), with the same module indices and parameter names."""
    layers: list[nn.Module] = []
    channels = 3
    for width in VGG16_LAYOUT:
        if width == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, int(width), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            channels = int(width)
    return nn.Sequential(*layers)


class LPIPSNetwork(nn.Module):
    """LPIPS v0.1 on VGG-16: two N × 3 × H × W float batches in [0, 255] → N distances."""

    def __init__(self) -> None:
        super().__init__()
        self.features = vgg16_features()
        self.lins = nn.ModuleList(nn.Conv2d(width, 1, kernel_size=1, bias=False) for width in CHANNELS)
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1), persistent=False)

    def activations(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The five layers' activations of [0, 255] images, each unit-normalised along the channels."""
        x = ((images / 127.5 - 1) - self.shift) / self.scale
        taps = []
        start = 0
        for stop in TAPS:
            for layer in self.features[start:stop]:
                x = layer(x)
            taps.append(x / (x.square().sum(dim=1, keepdim=True).sqrt() + 1e-10))
            start = stop
        return taps

    def forward(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        both = self.activations(torch.cat([first, second]))
        distance = torch.zeros(first.shape[0], device=first.device)
        for lin, taps in zip(self.lins, both):
            a, b = taps.chunk(2)
            distance = distance + lin((a - b).square()).mean(dim=(1, 2, 3))
        return distance


@dataclass
class LPIPS:
    """The loaded network with its identity: pairs of [0, 255] float image batches → LPIPS distances."""

    network: LPIPSNetwork
    vgg16_path: Path
    vgg16_sha256: str
    lpips_path: Path
    lpips_sha256: str
    precision: str
    device: torch.device

    @property
    def weights_verified(self) -> bool:
        """Whether both files are the published ones (torchvision's VGG-16, the LPIPS v0.1 linear layers)."""
        return self.vgg16_sha256.startswith(VGG16_SHA256_PREFIX) and self.lpips_sha256 == LPIPS_TENSORS_SHA256

    def description(self) -> dict[str, object]:
        """What a result records about its distances."""
        return {"distance": NETWORK_ID, "vgg16_weights_sha256": self.vgg16_sha256,
                "lpips_weights_sha256": self.lpips_sha256, "comparable_to_published": self.weights_verified,
                "precision": self.precision, "device": str(self.device)}

    def __call__(self, first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
        """LPIPS(first[i], second[i]) for each i (float32, on the network's device)."""
        with torch.inference_mode(), float32_precision(self.precision):
            return self.network(first.to(self.device, torch.float32), second.to(self.device, torch.float32))


def load_lpips(vgg16_weights: str | os.PathLike | None = None, lpips_weights: str | os.PathLike | None = None, *,
               device: torch.device, allow_unverified_weights: bool = False, precision: str = "fp32",
               download: bool | None = None) -> LPIPS:
    """Find, verify and load LPIPS v0.1 on VGG-16 (see the module docstring for where the weights are looked for)."""
    if precision not in PRECISIONS:
        raise GanevalInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    lpips_path = find_lpips_weights(lpips_weights)
    lpips_state, lpips_sha256 = read_lpips_state(lpips_path)
    vgg16_path = VGG16_WEIGHTS.find(vgg16_weights, download=download)
    vgg16_sha256 = vgg16_file_sha256(vgg16_path, allow_unverified_weights, "its distances would not be comparable "
                                     "with published PPL (results then say comparable_to_published: false)")
    if not allow_unverified_weights and lpips_sha256 != LPIPS_TENSORS_SHA256:
        raise GanevalInputError(
            f"{lpips_path}: its tensors are not the published LPIPS v0.1 VGG-16 linear layers (SHA-256 "
            f"{lpips_sha256[:16]}…, expected {LPIPS_TENSORS_SHA256[:16]}…); use lpips/weights/v0.1/vgg.pth, or "
            "pass --allow-unverified-weights (allow_unverified_weights=True) to run anyway")
    network = LPIPSNetwork()
    vgg16_state = {key.removeprefix("features."): value for key, value in read_vgg16_state(vgg16_path).items()}
    load_weights(network.features, vgg16_state, vgg16_path, "VGG-16 (torchvision's features through relu5_3)")
    load_weights(network.lins, {key.removeprefix("lins."): value for key, value in lpips_state.items()}, lpips_path,
                 "LPIPS linear layers")
    network.requires_grad_(False).eval().to(device)
    return LPIPS(network, vgg16_path, vgg16_sha256, lpips_path, lpips_sha256, precision, device)
