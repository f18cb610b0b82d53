"""Feature extractors: what turns images into the feature vectors of FID, KID, precision/recall and density/coverage.

Every extractor states its identity — name, input size and resize, preprocessing, feature dimension, the SHA-256 of
its weights — and every result and stats file records it, so statistics made with one extractor are refused with
another. Built in: `inception-v3-tf` (the TensorFlow Inception of 2015-12-05 behind published FID/IS/KID numbers;
the default), `dinov2-vit-l14` (DINOv2 ViT-L/14, the FD-DINOv2 of Stein et al. 2023; an optional extra) and
`vgg16-fc2` (VGG-16's fc2, the features of improved precision and recall, as torch-fidelity's `prc`). From
Python any `torch.nn.Module` mapping N×3×H×W float images in [0, 1] to N×D features serves too (`features=module`,
with a `features_name`).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import torch

from ganeval.defaults import FEATURE_EXTRACTORS
from ganeval.errors import GanevalInputError


class FeatureExtractor:
    """uint8 NCHW RGB batches → (N×D float32 features, N×classes logits or None), with the extractor's identity."""

    name: str  # "inception-v3-tf", "dinov2-vit-l14", "vgg16-fc2", or a module's given name
    input_size: int | None  # the side images are resized to; None: they are taken at their own size
    resize: str  # how they are resized ("tf", "clean", "pil-bicubic", "none")
    preprocessing: str  # what is done to the resized pixels, in words
    feature_dim: int | None  # None until the first batch (modules)
    weights_sha256: str
    precision: str
    device: torch.device
    has_logits: bool = False  # class logits for the Inception Score
    comparable_to_published: bool = False  # ganeval knows the weights file and protocol behind published numbers

    def settings(self) -> dict[str, Any]:
        """The identity stored with reference statistics and checked when they are reused."""
        return {"extractor": self.name, "weights_sha256": self.weights_sha256, "resize": self.resize,
                "precision": self.precision}

    def description(self) -> dict[str, Any]:
        """The fields every feature metric's result carries about how its features were made."""
        return {"features": self.name, "feature_dim": self.feature_dim, "input_size": self.input_size,
                "preprocessing": self.preprocessing, "weights_sha256": self.weights_sha256,
                "comparable_to_published": self.comparable_to_published, "resize": self.resize,
                "precision": self.precision, "device": str(self.device)}

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError


class ModuleExtractor(FeatureExtractor):
    """Any `torch.nn.Module` from N×3×H×W float32 in [0, 1] (the images at their own size) to N×D features."""

    def __init__(self, module: torch.nn.Module, name: str, device: torch.device, precision: str) -> None:
        self.module = module.to(device).eval()
        self.name, self.device, self.precision = name, device, precision
        self.input_size, self.resize, self.feature_dim = None, "none", None
        self.preprocessing = "uint8 / 255, no resize (the module does its own)"
        self.weights_sha256 = state_sha256(self.module)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        with torch.inference_mode(), float32_precision(self.precision):
            features = self.module(images.to(self.device, torch.float32) / 255)
        if not isinstance(features, torch.Tensor) or features.ndim != 2 or features.shape[0] != images.shape[0]:
            shape = tuple(features.shape) if isinstance(features, torch.Tensor) else type(features).__name__
            raise GanevalInputError(f"features module {self.name!r} must map N images to an N×D tensor, gave {shape}")
        self.feature_dim = int(features.shape[1])
        return features.float(), None


def load_weights(network: torch.nn.Module, state: dict[str, torch.Tensor], path: Any, network_name: str, *,
                 optional: Callable[[str], bool] = lambda name: False, assign: bool = False) -> None:
    """Load `state` into `network`, refusing (GanevalInputError naming `path`) the weights of another network: names
    missing (unless `optional`) or unexpected, or tensors whose shapes do not fit."""
    expected = {name for name in network.state_dict() if not optional(name)}
    missing, unexpected = sorted(expected - set(state)), sorted(set(state) - set(network.state_dict()))
    if missing or unexpected:
        raise GanevalInputError(f"{path}: not {network_name} weights (missing {missing[:3]}, unexpected "
                                f"{unexpected[:3]}; {len(missing)} missing, {len(unexpected)} unexpected)")
    try:
        network.load_state_dict(state, strict=False, assign=assign)
    except RuntimeError as error:
        detail = " ".join(line.strip() for line in str(error).splitlines()[1:3])
        raise GanevalInputError(f"{path}: weights do not fit the {network_name} ({detail})") from None


def state_sha256(module: torch.nn.Module) -> str:
    """SHA-256 of a module's state (names, shapes, dtypes and values in name order): its weights' identity."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes()
                      if tensor.numel() else b"")
    return digest.hexdigest()


def check_features(features: Any, features_name: Any) -> None:
    """Refuse a `features` that is neither a built-in extractor's name nor a module, or a module without a name."""
    if isinstance(features, torch.nn.Module):
        if not isinstance(features_name, str) or not features_name.strip():
            raise GanevalInputError("a features module needs a name (features_name=…), recorded with its results "
                                    "and stats files")
        if features_name in FEATURE_EXTRACTORS:
            raise GanevalInputError(f"features_name {features_name!r} is a built-in extractor's; name yours "
                                    "differently")
    elif features not in FEATURE_EXTRACTORS:
        raise GanevalInputError(f"features must be one of {', '.join(FEATURE_EXTRACTORS)} or a torch.nn.Module, "
                                f"got {features!r}")


@contextlib.contextmanager
def float32_precision(precision: str) -> Iterator[None]:
    """Within the block, CUDA matmuls and convolutions run in full fp32 ("fp32") or may use TF32 ("tf32")."""
    allow = precision == "tf32"
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
             torch.get_float32_matmul_precision())
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = allow
    torch.set_float32_matmul_precision("high" if allow else "highest")
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[:2]
        torch.set_float32_matmul_precision(saved[2])
