"""VGG-16 fc2 features (Simonyan & Zisserman 2015), the features of improved precision and recall.

Kynkäänniemi et al. (NeurIPS 2019, §3) take the 4096-d fc2 activations of an ImageNet VGG-16 for precision and
recall; torch-fidelity's `prc` does the same with torchvision's weights, and this extractor computes its numbers:
torchvision's `vgg16-397923af.pth` (the file LPIPS uses too, found by the same look-up: `--vgg16-weights`,
$GANEVAL_VGG16_WEIGHTS, torch hub's checkpoint folder, a download unless `GANEVAL_OFFLINE=1`), each uint8 image
resized to 224×224 by TensorFlow 1's bilinear resize (as the Inception's), normalised by the ImageNet mean and
standard deviation on the 0–255 scale, through the convolutions, the 7×7 average pool, fc1, ReLU and fc2, then a
ReLU (torch-fidelity's `fc2_relu`, its default for `prc`). NVIDIA's own precision/recall code runs its VGG-16 port
(`vgg16.pt`), which ganeval has not compared with these weights, so results say `comparable_to_published: false`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from ganeval.defaults import PRECISIONS
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import FeatureExtractor, float32_precision, load_weights
from ganeval.extractors.inception import tf_bilinear_resize
from ganeval.extractors.lpips import VGG16_WEIGHTS, read_vgg16_file, vgg16_file_sha256

INPUT_SIZE = 224
FEATURE_DIM = 4096
IMAGENET_MEAN_255 = (255 * 0.485, 255 * 0.456, 255 * 0.406)
IMAGENET_STD_255 = (255 * 0.229, 255 * 0.224, 255 * 0.225)
EXTRACTOR_ID = "vgg16-torchvision/fc2-relu"
UNUSED_CLASSIFIER = ("classifier.6.weight", "classifier.6.bias")  # the 1000-way ImageNet layer after fc2
# LPIPS's look-up of the same file, its messages naming what it is for here.
VGG16_FC2_WEIGHTS = dataclasses.replace(VGG16_WEIGHTS, purpose=" of the vgg16-fc2 features")


class VGG16FC2(nn.Module):
    """torchvision's VGG-16 up to fc2 and its ReLU, with torchvision's parameter names (`features.N`,
    `classifier.0` = fc1, `classifier.3` = fc2)."""

    def __init__(self) -> None:
        super().__init__()
        vgg = torchvision.models.vgg16()
        self.features, self.avgpool = vgg.features, vgg.avgpool
        self.classifier = vgg.classifier[:4]  # fc1, ReLU, Dropout (identity in eval), fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.classifier(torch.flatten(self.avgpool(self.features(x)), 1)))


def read_vgg16_classifier_state(path: Path) -> dict[str, torch.Tensor]:
    """A torchvision VGG-16 state dict (`module.`-prefixed accepted) without its 1000-way layer."""
    return {key: value for key, value in read_vgg16_file(path).items() if key not in UNUSED_CLASSIFIER}


@dataclass
class VGG16Extractor(FeatureExtractor):
    """The loaded network with its input protocol: uint8 NCHW RGB batches → 4096-d fc2 features after ReLU."""

    network: VGG16FC2
    weights_path: Path
    weights_sha256: str
    precision: str
    device: torch.device
    name = "vgg16-fc2"
    input_size = INPUT_SIZE
    resize = "tf"
    preprocessing = ("resize to 224×224: TF1 bilinear (align_corners=False, no half-pixel centres); then "
                     "(x − 255·mean) / (255·std), ImageNet mean and std (torch-fidelity's vgg16)")
    feature_dim = FEATURE_DIM

    def settings(self) -> dict[str, str]:
        """The extractor's identity, as stored with reference statistics and checked when they are reused."""
        return {**super().settings(), "extractor": EXTRACTOR_ID}

    def network_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NCHW images → float32 N×3×224×224, resized and normalised as torch-fidelity's vgg16 does."""
        resized = tf_bilinear_resize(images.to(self.device, torch.float32), INPUT_SIZE)
        mean = torch.tensor(IMAGENET_MEAN_255, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD_255, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        return (resized - mean) / std

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        """fc2 features after ReLU (N×4096), float32 on the extractor's device."""
        with torch.inference_mode(), float32_precision(self.precision):
            return self.network(self.network_input(images).contiguous(memory_format=self.memory_format)), None

    @property
    def memory_format(self) -> torch.memory_format:
        """channels_last on CPU (oneDNN's faster layout, still fp32); contiguous elsewhere."""
        return torch.channels_last if self.device.type == "cpu" else torch.contiguous_format


def load_vgg16(weights: str | os.PathLike | None = None, *, device: torch.device,
               allow_unverified_weights: bool = False, precision: str = "fp32",
               download: bool | None = None) -> VGG16Extractor:
    """Find, verify and load torchvision's VGG-16 up to fc2 (see the module docstring for the look-up order)."""
    if precision not in PRECISIONS:
        raise GanevalInputError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    path = VGG16_FC2_WEIGHTS.find(weights, download=download)
    sha256 = vgg16_file_sha256(path, allow_unverified_weights,
                               "its features would not be those of torch-fidelity's prc")
    with torch.device("meta"):  # no random initialisation of 134 M parameters the weights then replace
        network = VGG16FC2()
    load_weights(network, read_vgg16_classifier_state(path), path, "VGG-16 (torchvision's, up to fc2)", assign=True)
    extractor = VGG16Extractor(network, path, sha256, precision, device)
    network.requires_grad_(False).eval().to(device, memory_format=extractor.memory_format)
    return extractor
