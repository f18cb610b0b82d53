"""The arithmetic of the metrics, free of any metric's bookkeeping: the Laplacian pyramid and descriptor sampling,
sorting and the sliced Wasserstein distance, the MS-SSIM kernels, the Fréchet distance, the polynomial MMD, the
Inception Score of logits and exact k-nearest-neighbour spheres (shared by precision/recall and density/coverage),
the perceptual path length's interpolation, image preparation and percentile rule, and linear separability's SVM
and conditional entropies.

Each submodule loads on first use (`kernels.frechet.frechet_distance(…)`), so that the metric definitions, which
call them, import no torch or numpy until a metric is computed.
"""

from ganeval.lazy_names import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("frechet", "inception_score", "mmd", "msssim", "neighbours", "ppl",
                                                  "pyramid", "separability", "sorting", "wasserstein"))
