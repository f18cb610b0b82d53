"""The Fréchet distance between two Gaussians, the arithmetic of FID (Heusel et al. 2017, eq. 2).

d² = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁^½ Σ₂ Σ₁^½)^½. The trace term is computed through symmetric
eigendecompositions, which stay real and accurate for the rank-deficient, near-singular covariances of small sets,
where a general `sqrtm` needs pytorch-fid's ε-regularisation fallback.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg


def covariance_problem(sigma: np.ndarray, relative_tolerance: float = 1e-6) -> str | None:
    """What makes `sigma` no covariance matrix, checked in O(d²) (None if nothing): values whose squares overflow,
    asymmetry, a negative variance, or a covariance larger than its variances allow (|Σᵢⱼ| ≤ √(Σᵢᵢ Σⱼⱼ))."""
    largest = float(np.abs(sigma).max(initial=0.0))
    if largest > 1e150:
        return f"the covariance holds values up to {largest:.3g}, too large for its products to be finite"
    if float(np.abs(sigma - sigma.T).max(initial=0.0)) > relative_tolerance * largest:
        return "the covariance is not symmetric"
    variances = np.diag(sigma)
    if (variances < 0).any():
        return f"the covariance has negative variances (down to {float(variances.min()):.3g})"
    bound = np.sqrt(np.outer(variances, variances)) * (1 + relative_tolerance) + relative_tolerance * largest
    if (np.abs(sigma) > bound).any():
        return "the covariance is not positive semi-definite (a covariance exceeds what its variances allow)"
    return None


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
