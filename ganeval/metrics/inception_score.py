"""Inception Score: exp(E_x KL(p(y|x) ‖ p(y))) over the 1008 Inception classes, mean and std over splits.

As the original TensorFlow code (improved-gan `inception_score.py`): the class probabilities are the softmax of
`softmax/logits/MatMul`, pool3 times the fc weights *before* the bias is added; the images are cut, in the given
order, into `splits` consecutive parts, each scored with its own marginal p(y) (`ganeval.kernels.inception_score`).
Higher is better; the CIFAR-10 protocol is 50,000 images in 10 splits.
"""

from __future__ import annotations

from typing import Any

from ganeval import kernels
from ganeval.defaults import DEFAULT_SPLITS
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import FAKE, FeatureMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class ISMetric(FeatureMetric):
    """Inception Score of one image set (higher is better), from its Inception logits in image order."""

    name = "is"
    title = "Inception Score (10 splits)"
    function_name = "inception_score"
    sets = {"images": FAKE}
    options = {"splits": Option(DEFAULT_SPLITS, "Number of consecutive parts the images are cut into; the score is "
                                "their mean ± std.", minimum=1)}
    keep_logits = True
    command_help = """
    Inception Score of IMAGES (higher is better; between 1 and 1008, the number of Inception classes).

    IS is exp of the mean KL divergence between each image's class distribution and the set's marginal one: high
    when every image is confidently one class and the classes vary. It only means something for ImageNet-like
    classes (CIFAR-10, ImageNet), and ignores the real data entirely. Protocol of the published CIFAR-10 numbers:
    50,000 images, 10 splits, as here by default (images split in the order given).

    \b
    Example:  ganeval is samples/ --num-images 50000
    """

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        if options["features"] != "inception-v3-tf":
            raise GanevalInputError("the Inception Score reads Inception's 1008 class logits: it takes the "
                                    "inception-v3-tf features only")

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["splits"], f"the Inception Score in {options['splits']} splits (lower it with --splits)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        moments = statistics[FAKE]
        mean, std = kernels.inception_score.inception_score_from_logits(moments.logits, run.options["splits"])
        return {"metric": "is", "inception_score_mean": mean, "inception_score_std": std,
                "num_images": moments.num_images, "splits": run.options["splits"],
                **run.extractor_description(self.name)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        return [("IS", f"{result['inception_score_mean']:.4f} ± {result['inception_score_std']:.4f}"),
                ("splits", str(result["splits"])), *self.protocol_rows(result)]
