"""Density and coverage (Naeem et al., ICML 2020) of two sets' extractor features, with prdc's precision and recall.

Each real feature is the centre of a hypersphere whose radius is the distance to its k-th nearest other real
feature (k = 5 by default). Density is the number of real spheres holding each fake feature, averaged over the fake
features and divided by k: about 1 when the fake features are distributed like the real ones, above 1 when they
crowd into dense real regions, below when they fall outside. Coverage is the share of real features whose sphere
holds at least one fake feature: how much of the real distribution is reached, robust to real outliers. Alongside,
precision (share of fake features inside some real sphere) and recall (share of real features inside some fake
feature's sphere, fake radii from the fake set) as the authors' `prdc` package computes them with the same k. All
four are higher-is-better; density is unbounded, the others lie in [0, 1].

Protocol, as `prdc.compute_prdc` does it: Euclidean distances; the radius is the (k + 1)-th smallest distance with
the feature's own 0 counted; inside means strictly closer than the radius (prdc's `<`, where improved precision and
recall count the surface as inside). Distances are exact to float64 (`ganeval.kernels.neighbours`), computed in
blocks, so no N × M matrix is ever held.
"""

from __future__ import annotations

from typing import Any

from ganeval import kernels
from ganeval.defaults import DEFAULT_DC_K
from ganeval.metrics.base import FAKE, REAL, FeatureMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class DensityCoverageMetric(FeatureMetric):
    """Density and coverage (with prdc's precision and recall) between two image sets (higher is better); `real`
    may be a stats file made with dc features. `features` as in `ganeval.fid`."""

    name = "dc"
    title = "density and coverage (k-NN spheres, k = 5), prdc's precision and recall"
    function_name = "density_coverage"
    sets = {"real": REAL, "fake": FAKE}
    options = {"dc_k": Option(DEFAULT_DC_K, "k of the k-nearest-neighbour spheres of density/coverage; each set "
                              "needs more than k images.", minimum=1, keyword="k")}
    keep_features = True
    stored = True
    command_help = """
    Density and coverage between REAL and FAKE (Naeem et al. 2020; higher is better), with prdc's precision and
    recall.

    Every REAL feature gets a sphere reaching its k-th nearest REAL neighbour. Density counts the REAL spheres
    holding each FAKE feature, averaged and divided by k (≈ 1 for matching distributions, unbounded); coverage is
    the share of REAL spheres holding at least one FAKE feature. Numbers equal `prdc.compute_prdc` on the same
    features. REAL may be a stats file from `ganeval stats DIR -o real.npz --metrics dc`.

    \b
    Example:  ganeval dc data/train/ samples/ --num-images 10000 --features dinov2-vit-l14
    """

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return options["dc_k"] + 1, f"density/coverage with k = {options['dc_k']} (lower it with --dc-k)"

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        real, fake, k = statistics[REAL], statistics[FAKE], run.options["dc_k"]
        numbers = kernels.neighbours.density_coverage_from_features(real.features, fake.features, k=k,
                                                                    device=run.device,
                                                                    progress=run.options["progress"])
        # Prefixed (as the kernel's): the extractor's description has a "precision" of its own (fp32 or tf32).
        return {"metric": "dc", **numbers, "k": k,
                "num_images": [real.num_images, fake.num_images], **run.extractor_description(self.name)}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        label = f"(DC, k={result['k']})"
        return [(f"{name} {label}", f"{result['dc_' + name]:.4f}")
                for name in ("density", "coverage", "precision", "recall")] + self.protocol_rows(result)
