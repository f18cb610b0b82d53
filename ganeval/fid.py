"""Fréchet Inception Distance: the Fréchet distance between Gaussians fitted to two sets' pool3 features.

FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½ (lower is better; 0 for identical statistics). The trace
term is computed through symmetric eigendecompositions, which stay real and accurate for the rank-deficient,
near-singular covariances of small sets, where a general `sqrtm` needs pytorch-fid's ε-regularisation fallback.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.linalg

from ganeval.defaults import DEFAULT_FEATURES, DEFAULT_RESIZE
from ganeval.features import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PRECISION,
    FeatureMetric,
    FeatureMoments,
)
from ganeval.metric import FAKE, REAL, Run
from ganeval.sources import ImageSource
from ganeval.stats import is_stats_file, load_stats


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """tr (Σ₁^½ Σ₂ Σ₁^½)^½ for symmetric PSD Σ₁, Σ₂, through two symmetric eigendecompositions.

    With Σ₁ = V W Vᵀ, the nonzero eigenvalues of Σ₁^½ Σ₂ Σ₁^½ are those of W^½ (Vᵀ Σ₂ V) W^½ restricted to the
    eigenvectors whose eigenvalue exceeds round-off (d·ε·max W); for a set of n < d images that is an (n−1)-square
    problem. Eigenvalues below round-off would only add noise of their own size.
    """
    eigenvalues, eigenvectors = scipy.linalg.eigh(sigma1, driver="evd")
    kept = eigenvalues > len(eigenvalues) * np.finfo(np.float64).eps * max(eigenvalues.max(), 0.0)
    scale = np.sqrt(eigenvalues[kept])
    basis = eigenvectors[:, kept]
    product = (basis.T @ sigma2 @ basis) * scale[:, None] * scale[None, :]
    product_eigenvalues = scipy.linalg.eigvalsh((product + product.T) / 2, driver="evd")
    return float(np.sqrt(product_eigenvalues.clip(min=0)).sum())


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    sigma1, sigma2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != mu1.shape * 2:
        raise ValueError(f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs "
                         f"{sigma2.shape}")
    difference = mu1 - mu2
    return float(difference @ difference + np.trace(sigma1) + np.trace(sigma2)
                 - 2 * trace_sqrt_product(sigma1, sigma2))


class FIDMetric(FeatureMetric):
    """`fid` in ganeval.evaluate: Fréchet distance of the two sets' pool3 moments."""

    name = "fid"
    reads = (REAL, FAKE)
    stored = True

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return 2, "FID"

    def stats_arrays(self, moments: FeatureMoments, run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
        return {"mu": moments.mu, "sigma": moments.sigma}, self.stats_record(moments, run)

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        return {"metric": "fid", "fid": frechet_distance(real.mu, real.sigma, fake.mu, fake.sigma),
                "num_images": [real.num_images, fake.num_images], **run.extractor().description()}


def fid(real: ImageSource, fake: ImageSource, *, num_images: int | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None, features: str | Any = DEFAULT_FEATURES,
        features_name: str | None = None, inception_weights: str | os.PathLike | None = None,
        dinov2_weights: str | os.PathLike | None = None, resize: str = DEFAULT_RESIZE,
        allow_unverified_weights: bool = False, precision: str = DEFAULT_PRECISION,
        progress: bool = False, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """FID between two image sets; either may be a stats file from `ganeval stats --metrics fid` (lower is better).

    `features`: the extractor (inception-v3-tf, the default and that of published FID; dinov2-vit-l14 for
    FD-DINOv2; or a torch.nn.Module with `features_name`). Two stats files need no network: their settings are
    checked against each other (and against `resize` and `precision`) and the Fréchet distance is taken from their
    statistics. Otherwise a one-metric call of `ganeval.evaluate` (a stats file in the place of FAKE is read as the
    fake set's statistics).
    """
    if is_stats_file(real) and is_stats_file(fake):
        return _fid_of_stats_files(real, fake, resize=resize, precision=precision)
    options = dict(num_images=num_images, batch_size=batch_size, device=device, features=features,
                   features_name=features_name, inception_weights=inception_weights, dinov2_weights=dinov2_weights,
                   resize=resize, allow_unverified_weights=allow_unverified_weights, precision=precision,
                   progress=progress, value_range=value_range)
    if is_stats_file(fake):  # FID is symmetric: the stats file takes the real set's place
        result = fid(fake, real, **options)
        result["num_images"].reverse()
        return result
    from ganeval.evaluate import evaluate

    return evaluate(real, fake, metrics=("fid",), **options)["fid"]


def _fid_of_stats_files(real: ImageSource, fake: ImageSource, *, resize: str, precision: str) -> dict[str, Any]:
    """FID between two stats files whose extractor settings agree; no image is processed, no network loaded."""
    files = [load_stats(path) for path in (real, fake)]  # type: ignore[arg-type]  # stats files are paths
    stored = files[0].protocol.get("fid", {}).get("settings", {})
    settings = {**stored, "resize": resize, "precision": precision}
    moments = [stats.require("fid", settings) for stats in files]
    records = [stats.protocol["fid"] for stats in files]
    distance = frechet_distance(moments[0]["mu"], moments[0]["sigma"], moments[1]["mu"], moments[1]["sigma"])
    return {"metric": "fid", "fid": distance, "num_images": [record["num_images"] for record in records],
            "weights_sha256": settings["weights_sha256"],
            "comparable_to_published": all(record["comparable_to_published"] for record in records),
            "resize": resize, "precision": precision, "device": "cpu"}
