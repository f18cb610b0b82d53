"""The FID Inception-v3 (TensorFlow graph of 2015-12-05, ported), its weights look-up, and the three input resizes.

FID, IS and KID numbers printed in papers come from one TensorFlow graph: `inception-2015-12-05`. Its PyTorch port
differs from torchvision's Inception-v3 in the pooling of four mixed blocks (average pools that leave the zero
padding out of the mean; a max pool in the last block's pool branch), has 1008 output classes, and resizes its input
with TensorFlow 1's bilinear resize (`align_corners=False`, no half-pixel centers) before scaling it to [-1, 1]
(resize "tf"). Resize "clean" preprocesses images as clean-fid does, "pytorch-fid" as pytorch-fid does: the same
network, other input pixels, so other numbers.

Weights: `pt_inception-2015-12-05-6726825d.pth` (pytorch-fid's release) or torch-fidelity's byte-identical
`weights-inception-2015-12-05-6726825d.pth`, found by `INCEPTION_WEIGHTS.find` in this order: an explicit path, the
`GANEVAL_INCEPTION_WEIGHTS` environment variable, the torch hub checkpoint folder, a download (unless
`GANEVAL_OFFLINE=1`). A file whose SHA-256 is not the canonical one runs only when explicitly allowed, and its
results are then marked as not comparable to published numbers.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn
from torchvision.models.inception import BasicConv2d, InceptionA, InceptionB, InceptionC, InceptionD, InceptionE

from ganeval.defaults import PRECISIONS, RESIZE_MODES, WEIGHTS_ENV, WEIGHTS_FILE_NAME, WEIGHTS_URL
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import FeatureExtractor, float32_precision, load_weights
from ganeval.extractors.weights import WeightsFile
from ganeval.files import file_sha256, load_torch_file

TORCH_FIDELITY_WEIGHTS_FILE_NAME = "weights-inception-2015-12-05-6726825d.pth"
# SHA-256 of the published file (95,628,359 bytes); its first 8 hex digits are the name's suffix, as torch hub names
# files. torch-fidelity's release of the weights is the same file under another name.
WEIGHTS_SHA256 = "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2"
EXTRACTOR_ID = "inception-v3-tf-2015-12-05/pool3"
INPUT_SIZE = 299
FEATURE_DIM = 2048
NUM_CLASSES = 1008


# Found by the look-up shared with the other extractors; torch-fidelity's copy under its own name is found too.
INCEPTION_WEIGHTS = WeightsFile("Inception", "--inception-weights", WEIGHTS_ENV,
                                (WEIGHTS_FILE_NAME, TORCH_FIDELITY_WEIGHTS_FILE_NAME), WEIGHTS_URL,
                                download_hash_prefix=WEIGHTS_SHA256)


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A weights file as a state dict in pytorch-fid's key names (torch-fidelity's and `module.`-prefixed accepted)."""
    loaded = load_torch_file(path, "PyTorch weights file")
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]
    if not isinstance(loaded, dict) or not all(isinstance(value, torch.Tensor) for value in loaded.values()):
        raise GanevalInputError(f"{path}: expected an Inception-v3 state dict (name → tensor), got "
                                f"{type(loaded).__name__}")
    # torch-fidelity's converter writes no BatchNorm `num_batches_tracked` counters; DataParallel saves add `module.`.
    return {key.removeprefix("module."): value for key, value in loaded.items()
            if not key.endswith("num_batches_tracked")}


class TFInceptionA(InceptionA):
    """torchvision's InceptionA with TensorFlow's average pool: padded zeros are left out of the mean."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch5x5 = self.branch5x5_2(self.branch5x5_1(x))
        branch3x3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        branch_pool = self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), branch5x5, branch3x3dbl, branch_pool], 1)


class TFInceptionC(InceptionC):
    """torchvision's InceptionC with TensorFlow's average pool: padded zeros are left out of the mean."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch7x7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        branch7x7dbl = self.branch7x7dbl_1(x)
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            branch7x7dbl = layer(branch7x7dbl)
        branch_pool = self.branch_pool(F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False))
        return torch.cat([self.branch1x1(x), branch7x7, branch7x7dbl, branch_pool], 1)


class TFInceptionE(InceptionE):
    """torchvision's InceptionE with the TF graph's pool branch: average (zeros left out) or, in the last block, max."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch3x3 = self.branch3x3_1(x)
        branch3x3 = torch.cat([self.branch3x3_2a(branch3x3), self.branch3x3_2b(branch3x3)], 1)
        branch3x3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        branch3x3dbl = torch.cat([self.branch3x3dbl_3a(branch3x3dbl), self.branch3x3dbl_3b(branch3x3dbl)], 1)
        if self.pool == "max":
            pooled = F.max_pool2d(x, 3, stride=1, padding=1)
        else:
            pooled = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
        return torch.cat([self.branch1x1(x), branch3x3, branch3x3dbl, self.branch_pool(pooled)], 1)


class InceptionV3TF(nn.Module):
    """The FID Inception-v3: [-1, 1] input at 299×299 → (2048-d pool3 features, 1008 logits without the fc bias)."""

    def __init__(self) -> None:
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, kernel_size=3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, kernel_size=1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, kernel_size=3)
        self.Mixed_5b = TFInceptionA(192, pool_features=32)
        self.Mixed_5c = TFInceptionA(256, pool_features=64)
        self.Mixed_5d = TFInceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = TFInceptionC(768, channels_7x7=128)
        self.Mixed_6c = TFInceptionC(768, channels_7x7=160)
        self.Mixed_6d = TFInceptionC(768, channels_7x7=160)
        self.Mixed_6e = TFInceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = TFInceptionE(1280, pool="avg")
        self.Mixed_7c = TFInceptionE(2048, pool="max")
        self.fc = nn.Linear(FEATURE_DIM, NUM_CLASSES)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool3 features and the logits the TF Inception Score code reads (`softmax/logits/MatMul`: no bias)."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c,
                      self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        features = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return features, features.mm(self.fc.weight.T)


def tf_bilinear_resize(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """TensorFlow 1 `resize_bilinear(align_corners=False)`: source = dst·(in/out) in float32, no half-pixel shift.

    Separable (rows, then columns) with the same arithmetic as interpolating the four neighbours at once:
    `top = a + (b − a)·dx`, `bottom = c + (d − c)·dx`, `out = top + (bottom − top)·dy`.
    """
    height, width = images.shape[2], images.shape[3]

    def taps(in_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        source = torch.arange(size, dtype=torch.float32, device=images.device) * torch.tensor(
            in_size / size, dtype=torch.float32)
        low = source.long()  # source ≥ 0, so truncation is floor
        return low, (low + 1).clamp_max(in_size - 1), source - low.float()

    x_low, x_high, dx = taps(width)
    y_low, y_high, dy = taps(height)
    left, right = images.index_select(3, x_low), images.index_select(3, x_high)
    rows = left + (right - left) * dx.view(1, 1, 1, size)
    top, bottom = rows.index_select(2, y_low), rows.index_select(2, y_high)
    return top + (bottom - top) * dy.view(1, 1, size, 1)


def _clean_resize_one(image: np.ndarray, size: int) -> np.ndarray:
    """One HWC uint8 image → CHW float32 at size×size: PIL bicubic (antialiased) per channel in 'F' mode, 0-255."""
    channels = [np.asarray(Image.fromarray(image[:, :, c].astype(np.float32), mode="F").resize(
        (size, size), resample=Image.BICUBIC)) for c in range(image.shape[2])]
    return np.stack(channels).clip(0, 255)


_clean_resize_pool = ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2)))


def clean_bicubic_resize(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """clean-fid's resize of uint8 NCHW images: float32 0-255 at size×size on the images' device (PIL, threaded)."""
    hwc = images.permute(0, 2, 3, 1).cpu().numpy()
    resized = list(_clean_resize_pool.map(lambda image: _clean_resize_one(image, size), hwc))
    return torch.from_numpy(np.stack(resized)).to(images.device)


@dataclass
class InceptionExtractor(FeatureExtractor):
    """The loaded network with its input protocol: uint8 NCHW RGB batches → (pool3 features, unbiased logits)."""

    network: InceptionV3TF
    weights_path: Path
    weights_sha256: str
    resize: str
    precision: str
    device: torch.device
    name = "inception-v3-tf"
    input_size = INPUT_SIZE
    feature_dim = FEATURE_DIM
    has_logits = True

    @property
    def preprocessing(self) -> str:
        """What is done to the pixels, in words."""
        if self.resize == "pytorch-fid":
            return ("x / 255; resize to 299×299: torch bilinear (align_corners=False: half-pixel centres, no "
                    "antialiasing; pytorch-fid); then 2x − 1")
        how = {"tf": "TF1 bilinear (align_corners=False, no half-pixel centres)",
               "clean": "PIL bicubic, antialiased, per channel in float32 (clean-fid)"}[self.resize]
        return f"resize to 299×299: {how}; then (x − 128) / 128"

    @property
    def weights_verified(self) -> bool:
        """Whether the weights are the canonical published file."""
        return self.weights_sha256 == WEIGHTS_SHA256

    @property
    def comparable_to_published(self) -> bool:
        """Whether numbers follow the TF reference exactly: canonical weights, TF resize, full fp32."""
        return self.weights_verified and self.resize == "tf" and self.precision == "fp32"

    def settings(self) -> dict[str, str]:
        """The extractor's identity, as stored with reference statistics and checked when they are reused."""
        return {**super().settings(), "extractor": EXTRACTOR_ID}

    def network_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NCHW images → float32 299×299 in [-1, 1] as the protocol resizes and scales them."""
        if self.resize == "pytorch-fid":  # its order: ToTensor's x / 255, torch's bilinear resize, then 2x − 1
            unit = images.to(self.device, torch.float32) / 255
            return 2 * F.interpolate(unit, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False) - 1
        if self.resize == "tf":
            resized = tf_bilinear_resize(images.to(self.device, torch.float32))
        else:
            resized = clean_bicubic_resize(images).to(self.device)
        return (resized - 128) / 128

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pool3 features (N×2048) and unbiased logits (N×1008), float32 on the extractor's device."""
        with torch.inference_mode(), float32_precision(self.precision):
            return self.network(self.network_input(images).contiguous(memory_format=self.memory_format))

    @property
    def memory_format(self) -> torch.memory_format:
        """channels_last on CPU, where oneDNN convolutions run ~3× faster in it (still fp32); contiguous elsewhere."""
        return torch.channels_last if self.device.type == "cpu" else torch.contiguous_format


def load_inception(weights: str | os.PathLike | None = None, *, device: torch.device, resize: str = "tf",
                   allow_unverified_weights: bool = False, precision: str = "fp32",
                   download: bool | None = None) -> InceptionExtractor:
    """Find, verify and load the FID Inception network (see the module docstring for the look-up order)."""
    if resize not in RESIZE_MODES:
        raise GanevalInputError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
    if precision not in PRECISIONS:
        raise GanevalInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    path = INCEPTION_WEIGHTS.find(weights, download=download)
    sha256 = file_sha256(path, "weights file")
    if sha256 != WEIGHTS_SHA256 and not allow_unverified_weights:
        raise GanevalInputError(
            f"{path}: SHA-256 {sha256[:16]}… is not that of the published Inception weights ({WEIGHTS_SHA256[:16]}…), "
            "so its numbers would not be comparable with published FID/IS; use the published file "
            f"({WEIGHTS_URL}), or pass --allow-unverified-weights (allow_unverified_weights=True) to run anyway "
            "(results then say comparable_to_published: false)")
    network = InceptionV3TF()
    state = read_state_dict(path)
    load_weights(network, state, path, "FID Inception-v3", optional=lambda name: name.endswith("num_batches_tracked"))
    extractor = InceptionExtractor(network, path, sha256, resize, precision, device)
    network.requires_grad_(False).eval().to(device, memory_format=extractor.memory_format)
    return extractor
