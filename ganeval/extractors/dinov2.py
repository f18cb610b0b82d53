"""DINOv2 ViT-L/14 features (Oquab et al. 2023) for FD-DINOv2 and friends (Stein et al., NeurIPS 2023; dgm-eval).

The architecture is timm's `vit_large_patch14_dinov2` (an optional extra: `pip install "ganeval-pggan[dinov2]"`);
the feature is the class token after the final layer norm, 1024-d, as the official model returns it. Preprocessing
is dgm-eval's: each image resized to 224×224 by PIL's bicubic filter on its uint8 pixels (torchvision's `Resize` of a
PIL image), scaled to [0, 1], normalised by the ImageNet mean and standard deviation. The official weights are
trained at 518×518 (37×37 patches); at 224×224 (16×16 patches) their position embeddings are resampled once, at
load time, exactly as the official model does at every forward pass: bicubic, scale factor (16 + 0.1) / 37, no
antialiasing.

Weights are never downloaded. Looked up in order: the `dinov2_weights` argument (`--dinov2-weights`),
$GANEVAL_DINOV2_WEIGHTS, torch hub's checkpoint folder (`dinov2_vitl14_pretrain.pth`, the official release, where
`torch.hub.load("facebookresearch/dinov2", "dinov2_vitl14")` leaves it), and the Hugging Face cache of timm's copy
(`timm/vit_large_patch14_dinov2.lvd142m`). Either format (official or timm) is read.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from ganeval.defaults import DINOV2_FILE_NAME, DINOV2_TIMM_HUB_ID, DINOV2_URL, DINOV2_WEIGHTS_ENV
from ganeval.errors import GanevalInputError
from ganeval.extractors.base import FeatureExtractor, float32_precision, load_weights
from ganeval.extractors.weights import WeightsFile
from ganeval.files import file_sha256, load_torch_file, reading
from ganeval.threads import available_cpus

ARCHITECTURE = "vit_large_patch14_dinov2"
INPUT_SIZE = 224
PATCH_SIZE = 14
FEATURE_DIM = 1024
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INTERPOLATE_OFFSET = 0.1  # the official model's position-embedding interpolation (dinov2/models/vision_transformer.py)


def hugging_face_copies() -> list[Path]:
    """timm's copies of the weights in the Hugging Face cache ($HF_HUB_CACHE, else $HF_HOME/hub)."""
    hub = Path(os.environ.get("HF_HUB_CACHE") or Path(os.environ.get("HF_HOME", Path.home() / ".cache"
                                                                     / "huggingface")) / "hub")
    snapshots = hub / f"models--{DINOV2_TIMM_HUB_ID.replace('/', '--')}" / "snapshots"
    return sorted(snapshots.glob("*/model.safetensors")) + sorted(snapshots.glob("*/pytorch_model.bin"))


# Never downloaded (no published hash to check a download against).
DINOV2_WEIGHTS = WeightsFile("DINOv2", "--dinov2-weights", DINOV2_WEIGHTS_ENV, (DINOV2_FILE_NAME,), DINOV2_URL,
                             help_suffix=f"; timm's copy ({DINOV2_TIMM_HUB_ID}) in the Hugging Face cache is found too",
                             more_places=hugging_face_copies)


def read_dinov2_state(path: Path) -> dict[str, torch.Tensor]:
    """A weights file (official .pth, timm .safetensors/.bin) as a state dict in timm's names, 37×37 or 16×16 grid."""
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError  # timm's dependency: imported with the optional DINOv2 features
        from safetensors.torch import load_file

        with reading(path, "safetensors weights file"):
            try:
                state = load_file(str(path))
            except SafetensorError as error:
                raise GanevalInputError(f"{path}: not a readable safetensors weights file ({error})") from None
    else:
        state = load_torch_file(path, "DINOv2 weights file")
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise GanevalInputError(f"{path}: expected a DINOv2 state dict (name → tensor)")
    # The official release also holds the masked-image-modelling token, which feature extraction does not use.
    return {key.removeprefix("module."): value.float() if value.is_floating_point() else value
            for key, value in state.items() if key != "mask_token"}


def dinov2_position_embeddings(position_embeddings: torch.Tensor, grid: int) -> torch.Tensor:
    """(1, 1 + M², D) embeddings resampled to a grid×grid patch grid as DINOv2's `interpolate_pos_encoding` does:
    bicubic with the scale factor (grid + 0.1) / M, no antialiasing, in float32; the class token's stays."""
    if position_embeddings.ndim != 3 or position_embeddings.shape[:2] < (1, 2):
        raise GanevalInputError(f"DINOv2 position embeddings of shape {tuple(position_embeddings.shape)}, expected "
                                "(1, 1 + patches, width)")
    count = position_embeddings.shape[1] - 1
    side = math.isqrt(count)
    if side * side != count:
        raise GanevalInputError(f"DINOv2 position embeddings of {count} patches are not a square grid")
    if side == grid:
        return position_embeddings
    patches = position_embeddings[:, 1:].float().reshape(1, side, side, -1).permute(0, 3, 1, 2)
    scale = (grid + INTERPOLATE_OFFSET) / side
    patches = F.interpolate(patches, scale_factor=(scale, scale), mode="bicubic", antialias=False)
    patches = patches.permute(0, 2, 3, 1).reshape(1, grid * grid, -1)
    return torch.cat([position_embeddings[:, :1].float(), patches], dim=1).to(position_embeddings.dtype)


def _pil_bicubic_224(image: np.ndarray) -> np.ndarray:
    """One HWC uint8 image resized to 224×224 by PIL's bicubic filter on its uint8 pixels (dgm-eval's resize)."""
    return np.asarray(Image.fromarray(image).resize((INPUT_SIZE, INPUT_SIZE), Image.Resampling.BICUBIC))


class DINOv2Extractor(FeatureExtractor):
    """DINOv2 ViT-L/14: uint8 NCHW RGB batches → 1024-d class-token features (no logits)."""

    name = "dinov2-vit-l14"
    input_size = INPUT_SIZE
    resize = "pil-bicubic"
    preprocessing = ("resize to 224×224: PIL bicubic on uint8 (dgm-eval); x / 255; ImageNet mean/std "
                     "normalisation")
    feature_dim = FEATURE_DIM

    def __init__(self, network: torch.nn.Module, weights_sha256: str, device: torch.device, precision: str) -> None:
        self.network, self.weights_sha256, self.device, self.precision = network, weights_sha256, device, precision
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(8, available_cpus())))
        self._mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32, device=device).view(1, 3, 1, 1)
        self._std = torch.tensor(IMAGENET_STD, dtype=torch.float32, device=device).view(1, 3, 1, 1)

    def network_input(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 NCHW → float32 N×3×224×224 as dgm-eval feeds the model (PIL resize, /255, normalise)."""
        resized = np.stack(list(self._pool.map(_pil_bicubic_224, images.permute(0, 2, 3, 1).cpu().numpy())))
        pixels = torch.from_numpy(resized).to(self.device).permute(0, 3, 1, 2).float().div(255)
        return (pixels - self._mean) / self._std

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Class-token features (N×1024), float32 on the extractor's device."""
        with torch.inference_mode(), float32_precision(self.precision):
            return self.network(self.network_input(images)).float(), None


def load_dinov2(weights: str | os.PathLike | None = None, *, device: torch.device, precision: str = "fp32",
                **_: Any) -> DINOv2Extractor:
    """Find and load DINOv2 ViT-L/14 into timm's architecture at 224×224 (see the module docstring)."""
    try:
        import timm
    except ImportError:
        raise GanevalInputError("features 'dinov2-vit-l14' need the timm package: pip install "
                                "\"ganeval-pggan[dinov2]\" (or pip install timm)") from None
    path = DINOV2_WEIGHTS.find(weights)
    state = read_dinov2_state(path)
    if "pos_embed" in state:
        try:
            state["pos_embed"] = dinov2_position_embeddings(state["pos_embed"], INPUT_SIZE // PATCH_SIZE)
        except GanevalInputError as error:
            raise GanevalInputError(f"{path}: {error}") from None
    with torch.device("meta"):  # no random initialisation of 300 M parameters the weights then replace
        network = timm.create_model(ARCHITECTURE, pretrained=False, img_size=INPUT_SIZE, num_classes=0)
    load_weights(network, state, path, "DINOv2 ViT-L/14", assign=True)  # every tensor given: none stays on meta
    network.requires_grad_(False).eval().to(device)
    return DINOv2Extractor(network, file_sha256(path, "weights file"), device, precision)
