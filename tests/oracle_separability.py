"""Linear separability from its definition (Karras, Laine and Aila 2019, StyleGAN §4.2, and NVlabs' reference
`metrics/linear_separability.py`), in plain numpy; it imports nothing from the project (the SVM is scikit-learn's,
as the reference's).

- The random choices, as ganeval's protocol documents them: sample i's z is latent_dim standard normal values from
  numpy's default generator seeded by [seed, 5, i].
- Per attribute: the samples sorted by the classifier's larger class probability, most confident first (ties by
  index), the first num_keep kept, labelled by the larger probability.
- The conditional entropy H(Y | X) = Σₓ p(x) · H(Y | X = x) in bits, Y the label and X the SVM's prediction.
- The separability: 2 ** (Σ over the attributes of H(Y | X)).
"""

from __future__ import annotations

import math

import numpy as np

STREAM = 5  # the seed stream of LS's draws


def latent(seed: int, index: int, dim: int) -> np.ndarray:
    return np.random.default_rng([seed, STREAM, index]).standard_normal(dim)


def most_confident(probabilities: np.ndarray, count: int) -> list[int]:
    """The reference's selection: Python's stable sort by −max probability, the first `count`."""
    return sorted(range(len(probabilities)), key=lambda i: -float(np.max(probabilities[i])))[:count]


def conditional_entropy(predicted: np.ndarray, labels: np.ndarray) -> float:
    """H(labels | predicted) = Σₓ p(x) H(labels | predicted = x), in bits."""
    total = 0.0
    for x in np.unique(predicted):
        chosen = labels[predicted == x]
        p_x = len(chosen) / len(labels)
        for y in np.unique(chosen):
            p = float(np.mean(chosen == y))
            total -= p_x * p * math.log2(p)
    return total
