"""The arithmetic of linear separability (Karras et al. 2019, StyleGAN §4.2), as NVlabs' reference computes it
(stylegan `metrics/linear_separability.py`): per attribute, keep the samples the classifier is most sure of, fit a
linear SVM to its labels on the latents, and measure how much the SVM's side leaves unknown about the label — the
conditional entropy H(Y | X) in bits of the classifier's label Y given the SVM's prediction X. The separability of
a space is 2 to the sum of those entropies over the attributes (1 when every attribute is linearly separable).

The SVM is scikit-learn's `LinearSVC` (an optional dependency: `pip install "ganeval-pggan[ls]"`) with the
settings of the reference's time (`SVM_SETTINGS`: the dual solver, C = 1, squared hinge, 1,000 iterations), its
random coordinate order seeded. Where the fit fails (the kept labels are all one class), the reference assumes a
perfect prediction, and so does this.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from ganeval.errors import GanevalInputError

SVM_SETTINGS = {"penalty": "l2", "loss": "squared_hinge", "dual": True, "C": 1.0, "tol": 1e-4, "max_iter": 1000,
                "fit_intercept": True}


def binary_probabilities(logits: Any) -> Any:
    """A classifier's output as N × 2 class probabilities: one logit l per sample as the reference reads it,
    softmax([l, −l]); two logits per sample, their softmax. (torch tensors in, torch tensors out.)"""
    if logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1):
        logits = logits.reshape(-1, 1)
        logits = torch.cat([logits, -logits], dim=1)
    return torch.softmax(logits.float(), dim=1)


def most_confident(probabilities: np.ndarray, count: int) -> np.ndarray:
    """The indices of the `count` samples whose larger class probability is highest (ties: lower index first, as
    the reference's stable sort)."""
    return np.argsort(-probabilities.max(axis=1), kind="stable")[:count]


def conditional_entropy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """H(labels | predicted) in bits, from the 2 × 2 table of (predicted, label) frequencies: H(Y) − I(X; Y), not
    below 0 (float64; the reference normalises the table in float32)."""
    table = np.array([[np.mean((predicted == row) & (labels == column)) for column in (0, 1)] for row in (0, 1)])
    p = table / table.sum()
    px, py = p.sum(axis=1), p.sum(axis=0)
    mutual = sum(p[x, y] * math.log2(p[x, y] / (px[x] * py[y])) for x in (0, 1) for y in (0, 1) if p[x, y] > 0)
    entropy = -sum(value * math.log2(value) for value in py if value > 0)
    return float(max(0.0, entropy - mutual))


def svm_entropy(latents: np.ndarray, labels: np.ndarray, seed: int) -> dict[str, Any]:
    """Fit the linear SVM to `labels` on `latents` and return {"entropy": H(labels | its prediction), "fitted":
    whether it could be fitted, "converged": whether liblinear converged within max_iter (None: not fitted)}."""
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.svm import LinearSVC
    except ImportError:
        raise GanevalInputError("linear separability fits scikit-learn's LinearSVC, which is not installed: pip "
                                "install \"ganeval-pggan[ls]\" (or pip install scikit-learn)") from None
    fitted = True
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            svm = LinearSVC(**SVM_SETTINGS, random_state=seed)
            svm.fit(latents, labels)
            predicted = svm.predict(latents)
        except ValueError:  # one class only: the reference assumes a perfect prediction
            predicted, fitted = labels, False
    converged = not any(issubclass(warning.category, ConvergenceWarning) for warning in caught)
    return {"entropy": conditional_entropy(predicted, labels), "fitted": fitted,
            "converged": converged if fitted else None}


def attribute_entropies(latents: dict[str, np.ndarray], probabilities: np.ndarray, num_keep: int, seed: int
                        ) -> dict[str, dict[str, Any]]:
    """One attribute: keep its `num_keep` most confident samples, label them by the larger class probability, and
    fit the SVM in each space ({space: N × D latents}); {space: `svm_entropy`'s dict}."""
    kept = most_confident(probabilities, num_keep)
    labels = probabilities[kept].argmax(axis=1)
    return {space: svm_entropy(vectors[kept].astype(np.float64), labels, seed) for space, vectors in latents.items()}


def separability(entropies: list[float]) -> float:
    """2 ** (the sum of the attributes' conditional entropies in bits)."""
    return float(2.0 ** math.fsum(entropies))


def sklearn_version() -> str | None:
    """The installed scikit-learn's version (None: not installed)."""
    try:
        import sklearn
    except ImportError:
        return None
    return sklearn.__version__
