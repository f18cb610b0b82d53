"""Fréchet Inception Distance: the Fréchet distance between Gaussians fitted to two sets' pool3 features.

FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½ (Heusel et al. 2017; lower is better, 0 for identical
statistics), computed by `ganeval.kernels.frechet`.
"""

from __future__ import annotations

from typing import Any

from ganeval import kernels
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import FAKE, REAL, FeatureMetric, Run
from ganeval.registry import register_metric


@register_metric
class FIDMetric(FeatureMetric):
    """FID between two image sets; either may be a stats file from `ganeval stats --metrics fid` (lower is better).

    `features`: the extractor (inception-v3-tf, the default and that of published FID; dinov2-vit-l14 for
    FD-DINOv2; or a torch.nn.Module with `features_name`). Two stats files need no network: their settings are
    checked against each other (and against `resize` and `precision`) and the Fréchet distance is taken from their
    statistics.
    """

    name = "fid"
    title = "Fréchet Inception distance (TF Inception 2015-12-05, TF resize)"
    sets = {"real": REAL, "fake": FAKE}
    stored = True
    command_help = """
    Fréchet Inception Distance between REAL and FAKE (lower is better; 0 = identical feature statistics).

    FID fits a Gaussian to each set's 2048-d Inception pool3 features and measures the Fréchet distance between
    them; it reacts both to image quality and to missing variety. It is biased upwards for small sets: compare
    only numbers computed on equally many images (papers use 50,000 generated images; CIFAR-10: vs the 50,000
    training images). Either argument may be a folder, an .npy/.npz image array, or a stats file from
    `ganeval stats DIR -o real.npz --metrics fid` (its settings must match this run's, else it is refused).

    \b
    Example:  ganeval fid data/cifar10-train/ samples/ --num-images 50000
              ganeval stats data/cifar10-train/ -o cifar10.npz --metrics fid && ganeval fid cifar10.npz samples/
    """

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return 2, "FID"

    def stats_arrays(self, moments: Any, run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"mu": moments.mu, "sigma": moments.sigma}, self.stats_record(moments, run)

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        imported = record.get("imported")
        if imported is not None and not (isinstance(imported, dict) and isinstance(imported.get("tool"), str)):
            return "fid: the record of where imported statistics came from names no tool"
        mu, sigma = arrays.get("mu"), arrays.get("sigma")
        if mu is None or sigma is None:
            return "fid: the mean (fid/mu) or covariance (fid/sigma) is missing"
        if mu.ndim != 1 or sigma.shape != mu.shape * 2:
            return f"fid: mean of shape {mu.shape} and covariance of shape {sigma.shape} do not match"
        return kernels.frechet.covariance_problem(sigma)

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        # FID is symmetric; a stats file's moments take Σ₁'s place, so `fid(images, FILE)` is `fid(FILE, images)`
        # to the last bit.
        first, second = (fake, real) if FAKE in run.stats and REAL not in run.stats else (real, fake)
        if first.mu.shape != second.mu.shape:
            raise GanevalInputError(f"{run.label(REAL)} holds statistics of {real.mu.shape[0]}-d features and "
                                    f"{run.label(FAKE)} of {fake.mu.shape[0]}-d features: they come from different "
                                    "feature extractors")
        distance = kernels.frechet.frechet_distance(first.mu, first.sigma, second.mu, second.sigma)
        return {"metric": "fid", "fid": distance, "num_images": [real.num_images, fake.num_images],
                **run.extractor_description(self.name)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        features = result.get("features", "inception-v3-tf")
        label = "FID" if features == "inception-v3-tf" else f"FD ({features})"
        return [(label, f"{result['fid']:.4f}"), *self.protocol_rows(result)]
