"""Inception Score: the split protocol of the original TF code, closed-form cases, and bad split counts."""

from __future__ import annotations

import numpy as np
import pytest

from ganeval import inception_score
from ganeval.errors import GanevalInputError
from ganeval.kernels.inception_score import inception_score_from_logits


def original_tf_inception_score(logits: np.ndarray, splits: int) -> tuple[float, float]:
    """improved-gan's numpy part, verbatim in structure: softmax, consecutive parts, KL to the part's marginal."""
    preds = np.exp(logits - logits.max(axis=1, keepdims=True))
    preds /= preds.sum(axis=1, keepdims=True)
    scores = []
    for i in range(splits):
        part = preds[(i * preds.shape[0] // splits):((i + 1) * preds.shape[0] // splits), :]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return float(np.mean(scores)), float(np.std(scores))


def test_inception_score_follows_the_original_split_protocol():
    logits = np.random.default_rng(0).normal(0, 3, (53, 1008))  # 53 images: parts of 5 and 6
    ours = inception_score_from_logits(logits, splits=10)
    expected = original_tf_inception_score(logits, splits=10)
    assert ours == pytest.approx(expected, rel=1e-10)  # both float64; log-softmax vs log(softmax) round-off


def test_inception_score_closed_forms():
    # Identical predictions: p(y|x) = p(y), KL = 0, IS = 1 exactly (up to round-off).
    assert inception_score_from_logits(np.zeros((20, 1008)), splits=2) == pytest.approx((1.0, 0.0), abs=1e-12)
    # Confident one-hot predictions spread evenly over k classes: KL = log k for every image, so IS = k.
    confident = np.full((40, 1008), -1e3)
    confident[np.arange(40), np.arange(40) % 8] = 0.0
    assert inception_score_from_logits(confident, splits=5) == pytest.approx((8.0, 0.0), abs=1e-9)


def test_fewer_images_than_splits_is_refused(image_folders, metric_options):
    with pytest.raises(GanevalInputError, match="10 images, but the Inception Score in 20 splits"):
        inception_score(image_folders[0], splits=20, **metric_options)
    with pytest.raises(GanevalInputError, match="splits must be at least 1"):
        inception_score(image_folders[0], splits=0, **metric_options)


def test_inception_score_result_contract(image_folders, metric_options):
    result = inception_score(image_folders[1], num_images=4, splits=2, **metric_options)
    assert result["metric"] == "is" and result["num_images"] == 4 and result["splits"] == 2
    assert 1.0 <= result["inception_score_mean"] <= 1008  # exp(KL) with KL between 0 and log 1008
    assert result["comparable_to_published"] is False
