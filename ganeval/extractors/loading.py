"""Which feature extractor the options ask for: a built-in one by name (loaded with its weights) or a given module."""

from __future__ import annotations

from typing import Any

import torch

from ganeval.defaults import DEFAULT_FEATURES
from ganeval.extractors.base import FeatureExtractor, ModuleExtractor
from ganeval.extractors.dinov2 import load_dinov2
from ganeval.extractors.inception import load_inception
from ganeval.extractors.vgg16 import load_vgg16


def open_extractor(options: dict[str, Any], device: torch.device) -> FeatureExtractor:
    """The extractor the options ask for (`features`, its weights, resize and precision), loaded on `device`."""
    features = options.get("features", DEFAULT_FEATURES)
    if isinstance(features, torch.nn.Module):
        return ModuleExtractor(features, options["features_name"], device, options["precision"])
    if features == "dinov2-vit-l14":
        return load_dinov2(options["dinov2_weights"], device=device, precision=options["precision"])
    if features == "vgg16-fc2":
        return load_vgg16(options["vgg16_weights"], device=device,
                          allow_unverified_weights=options["allow_unverified_weights"], precision=options["precision"])
    return load_inception(options["inception_weights"], device=device, resize=options["resize"],
                          allow_unverified_weights=options["allow_unverified_weights"],
                          precision=options["precision"])
