"""The Inception Score of class logits (Salimans et al. 2016): exp(E_x KL(p(y|x) ‖ p(y))), mean and std over splits.

As the original TensorFlow code (improved-gan `inception_score.py`): the images are cut, in the given order, into
`splits` consecutive parts (part i = images [i·N/splits, (i+1)·N/splits)); each part's score uses that part's
marginal p(y); the result is the mean and (population) std of the parts' scores.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from ganeval.defaults import DEFAULT_SPLITS


def inception_score_from_logits(logits: np.ndarray, splits: int = DEFAULT_SPLITS) -> tuple[float, float]:
    """Mean and std of exp(mean KL(p(y|x) ‖ p(y))) over `splits` consecutive parts of the logits, in float64."""
    log_p = scipy.special.log_softmax(np.asarray(logits, np.float64), axis=1)
    count = len(log_p)
    scores = []
    for index in range(splits):
        part = log_p[index * count // splits:(index + 1) * count // splits]
        log_marginal = scipy.special.logsumexp(part, axis=0) - np.log(len(part))  # finite even where p(y) underflows
        scores.append(np.exp((np.exp(part) * (part - log_marginal)).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
