"""Inception Score: exp(E_x KL(p(y|x) ‖ p(y))) over the 1008 Inception classes, mean and std over splits.

As the original TensorFlow code (improved-gan `inception_score.py`): the class probabilities are the softmax of
`softmax/logits/MatMul`, pool3 times the fc weights *before* the bias is added; the images are cut, in the given
order, into `splits` consecutive parts (part i = images [i·N/splits, (i+1)·N/splits)); each part's score uses that
part's marginal p(y); the result is the mean and (population) std of the parts' scores. Higher is better; the
CIFAR-10 protocol is 50,000 images in 10 splits.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.special

from ganeval.defaults import DEFAULT_RESIZE, DEFAULT_SPLITS
from ganeval.errors import GanevalInputError
from ganeval.features import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_PRECISION,
    FeatureMetric,
)
from ganeval.metric import FAKE, Run
from ganeval.sources import ImageSource, check_at_least


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


class ISMetric(FeatureMetric):
    """`is` in ganeval.evaluate: the Inception Score of the fake set, from its logits in image order."""

    name = "is"
    reads = (FAKE,)
    options = {"splits": DEFAULT_SPLITS}
    keep_logits = True

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        check_at_least("splits", options["splits"])
        if options["features"] != "inception-v3-tf":
            raise GanevalInputError("the Inception Score reads Inception's 1008 class logits: it takes the "
                                    "inception-v3-tf features only")

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["splits"], f"the Inception Score in {options['splits']} splits (lower it with --splits)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        moments = statistics[FAKE]
        mean, std = inception_score_from_logits(moments.logits, run.options["splits"])
        return {"metric": "is", "inception_score_mean": mean, "inception_score_std": std,
                "num_images": moments.num_images, "splits": run.options["splits"],
                **run.extractor().description()}


def inception_score(images: ImageSource, *, splits: int = DEFAULT_SPLITS, num_images: int | None = None,
                    batch_size: int = DEFAULT_BATCH_SIZE, device: str | None = None,
                    inception_weights: str | os.PathLike | None = None, resize: str = DEFAULT_RESIZE,
                    allow_unverified_weights: bool = False, precision: str = DEFAULT_PRECISION,
                    progress: bool = False, value_range: tuple[float, float] | None = None) -> dict[str, Any]:
    """Inception Score of one image set (higher is better); a one-metric call of `ganeval.evaluate`."""
    from ganeval.evaluate import evaluate_sets

    return evaluate_sets({FAKE: images}, ("is",), {FAKE: "images"}, splits=splits, num_images=num_images,
                         batch_size=batch_size, device=device, inception_weights=inception_weights, resize=resize,
                         allow_unverified_weights=allow_unverified_weights, precision=precision, progress=progress,
                         value_range=value_range)["is"]
