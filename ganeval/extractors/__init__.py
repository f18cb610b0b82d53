"""The networks of the metrics: the feature extractors that turn images into the feature vectors of FID, KID, IS,
precision/recall and density/coverage — the TF Inception of published numbers (`inception`), DINOv2 ViT-L/14
(`dinov2`), VGG-16's fc2 (`vgg16`, the features of precision/recall's paper) and any torch module
(`base.ModuleExtractor`), picked from the options by `loading.open_extractor` — LPIPS on VGG-16, the perceptual
distance of the perceptual path length (`lpips`), and the attribute classifiers of linear separability
(`classifiers`). Each submodule loads on first use.
"""

from ganeval.lazy_names import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("base", "classifiers", "dinov2", "inception", "loading", "lpips",
                                                   "vgg16"))
