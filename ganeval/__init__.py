"""ganeval: GAN evaluation as the papers define it — PGGAN sliced Wasserstein distance and MS-SSIM, FID, IS, KID.

Every metric takes a folder, an .npy/.npz file, an array, a tensor (also on the GPU), an iterable of batches
or a generator callable, and returns a plain dict (the same one the CLI prints with --json).
"""

__version__ = "0.1.0"

from ganeval.errors import GanevalInputError  # noqa: E402
from ganeval.evaluate import evaluate, reference_statistics  # noqa: E402
from ganeval.fid import fid  # noqa: E402
from ganeval.inception_score import inception_score  # noqa: E402
from ganeval.kid import kid  # noqa: E402
from ganeval.msssim import MSSSIMAccumulator, msssim  # noqa: E402
from ganeval.sources import open_images  # noqa: E402
from ganeval.stats import Stats, load_stats, save_stats  # noqa: E402
from ganeval.swd import SWDDescriptors, swd  # noqa: E402

__all__ = ["GanevalInputError", "MSSSIMAccumulator", "SWDDescriptors", "Stats", "evaluate", "fid", "inception_score",
           "kid", "load_stats", "msssim", "open_images", "reference_statistics", "save_stats", "swd"]
