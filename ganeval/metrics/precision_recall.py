"""Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019) of two sets' extractor features.

Each feature is the centre of a hypersphere whose radius is the distance to its k-th nearest other feature of its
own set (k = 3 by default). Precision is the share of fake features inside at least one real feature's sphere
(distance ≤ radius): how much of what the generator makes lies on the real manifold. Recall is the share of real
features inside some fake feature's sphere: how much of the real manifold the generator covers. Both in [0, 1],
higher is better.

Protocol, as the authors' code and torch-fidelity's `prc` do it: Euclidean distances; the radius is the (k + 1)-th
smallest distance to the set's features with the feature's own 0 counted, so the point itself is excluded and a
duplicate counts as a neighbour at 0; a point on a sphere's surface is inside. Every distance is exact to float64
(`ganeval.kernels.neighbours`: blocks of BLAS distances with a proven error margin, the undecided pairs by the
definition), so ties and duplicates are decided as the definition decides them and the numbers do not depend on
the block size or the device.
"""

from __future__ import annotations

from typing import Any

from ganeval import kernels
from ganeval.defaults import DEFAULT_PR_K
from ganeval.metrics.base import FAKE, REAL, FeatureMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class PrecisionRecallMetric(FeatureMetric):
    """Improved precision and recall between two image sets (higher is better); `real` may be a stats file made
    with pr features. `features` as in `ganeval.fid`."""

    name = "pr"
    title = "improved precision and recall (k-NN spheres, k = 3)"
    function_name = "precision_recall"
    sets = {"real": REAL, "fake": FAKE}
    options = {"pr_k": Option(DEFAULT_PR_K, "k of the k-nearest-neighbour spheres of precision/recall; each set "
                              "needs more than k images.", minimum=1, keyword="k")}
    keep_features = True
    stored = True
    command_help = """
    Improved precision and recall between REAL and FAKE (Kynkäänniemi et al. 2019; both in [0, 1], higher is
    better).

    Every feature gets a sphere reaching its k-th nearest neighbour in its own set. Precision is the share of FAKE
    features inside some REAL sphere (fidelity); recall is the share of REAL features inside some FAKE sphere
    (variety). Exact float64 distances. REAL may be a stats file from `ganeval stats DIR -o real.npz --metrics pr`.

    \b
    Example:  ganeval pr data/train/ samples/ --num-images 10000 --features dinov2-vit-l14
    """

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["pr_k"] + 1, f"precision/recall with k = {options['pr_k']} (lower it with --pr-k)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake, k = statistics[REAL], statistics[FAKE], run.options["pr_k"]
        numbers = kernels.neighbours.precision_recall_from_features(real.features, fake.features, k=k,
                                                                    device=run.device,
                                                                    progress=run.options["progress"])
        # Prefixed (as the kernel's): the extractor's description has a "precision" of its own (fp32 or tf32).
        return {"metric": "pr", **numbers, "k": k,
                "num_images": [real.num_images, fake.num_images], **run.extractor_description(self.name)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        label = f"(PR, k={result['k']})"
        return [(f"precision {label}", f"{result['pr_precision']:.4f}"),
                (f"recall {label}", f"{result['pr_recall']:.4f}"), *self.protocol_rows(result)]
