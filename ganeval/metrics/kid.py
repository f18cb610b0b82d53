"""Kernel Inception Distance: unbiased MMD² between two sets' pool3 features with a cubic polynomial kernel.

k(x, y) = (x·y / d + 1)³, averaged over random subsets of each set (`ganeval.kernels.mmd`). Lower is better; small
negative values are possible (the estimator is unbiased) and mean the sets are indistinguishable at this sample
size.
"""

from __future__ import annotations

from typing import Any

from ganeval import kernels
from ganeval.defaults import DEFAULT_NUM_SUBSETS, DEFAULT_SUBSET_SIZE
from ganeval.metrics.base import FAKE, REAL, FeatureMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class KIDMetric(FeatureMetric):
    """KID between two image sets; `real` may be a stats file made with KID features (lower is better).

    `features` as in `ganeval.fid`; `seed` picks the subsets.
    """

    name = "kid"
    title = "kernel Inception distance (unbiased MMD², cubic kernel)"
    sets = {"real": REAL, "fake": FAKE}
    options = {
        "num_subsets": Option(DEFAULT_NUM_SUBSETS, "Number of random subsets the estimate is averaged over.",
                              minimum=1, flag="--subsets"),
        "subset_size": Option(DEFAULT_SUBSET_SIZE, "Images drawn (without replacement) from each set per subset; "
                              "both sets need at least this many.", minimum=2),
    }
    keep_features = True
    stored = True
    command_help = """
    Kernel Inception Distance between REAL and FAKE (lower is better; ≈0 = indistinguishable).

    KID is the unbiased squared MMD between the sets' Inception pool3 features under the cubic polynomial kernel
    k(x, y) = (x·y/2048 + 1)³, averaged over random subsets (mean ± std). Unlike FID it is unbiased, so sets of
    different sizes compare fairly, and it can be slightly negative. Often reported ×1000. REAL may be a stats
    file from `ganeval stats DIR -o real.npz --metrics kid`. --seed picks the subsets.

    \b
    Example:  ganeval kid data/train/ samples/ --num-images 10000
    """

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["subset_size"], f"KID with subset size {options['subset_size']} (lower it with --subset-size)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake = statistics[REAL], statistics[FAKE]
        options = run.options
        mean, std = kernels.mmd.kid_from_features(real.features, fake.features, num_subsets=options["num_subsets"],
                                                  subset_size=options["subset_size"], seed=run.seed)
        return {"metric": "kid", "kid_mean": mean, "kid_std": std, "num_images": [real.num_images, fake.num_images],
                "num_subsets": options["num_subsets"], "subset_size": options["subset_size"], "seed": run.seed,
                **run.extractor_description(self.name)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        return [("KID", f"{result['kid_mean']:.6f} ± {result['kid_std']:.6f}"),
                ("subsets", f"{result['num_subsets']} × {result['subset_size']} (seed {result['seed']})"),
                *self.protocol_rows(result)]
