"""Feature extractors: the networks that turn images into the feature vectors of FID, KID, IS, precision/recall and
density/coverage — the TF Inception of published numbers (`inception`), DINOv2 ViT-L/14 (`dinov2`) and any torch
module (`base.ModuleExtractor`); `loading.open_extractor` picks one from the options. Each submodule loads on first
use.
"""

from ganeval.lazy_names import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("base", "dinov2", "inception", "loading"))
