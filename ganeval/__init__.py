"""ganeval: GAN evaluation as the papers define it — PGGAN sliced Wasserstein distance and MS-SSIM, FID, IS, KID,
improved precision/recall and density/coverage, and StyleGAN's perceptual path length and linear separability of a
generator.

Every metric of images takes a folder, an .npy/.npz file, an array, a tensor (also on the GPU), an iterable of
batches or a generator callable; the metrics of a generator (`ganeval.ppl`, `ganeval.linear_separability`) take the
generator and sample it themselves. Each returns a plain dict (the same one the CLI prints with --json).
`ganeval.evaluate` computes several in one pass; each metric also has its own function (`ganeval.swd`,
`ganeval.fid`, …), made from the metric registry (`ganeval.registry`), which other packages extend through the
`ganeval.metrics` entry points.

The names below are imported on first use (PEP 562), so that `import ganeval` (and the command line's --help)
does not pay for torch until a metric is used.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ganeval.defaults import VERSION
from ganeval.lazy_names import lazy_names

__version__ = VERSION

# Each public name → the module that defines it; the one-metric functions come from the registry.
_HOMES = {
    "GanevalInputError": "ganeval.errors", "Option": "ganeval.registry", "register_metric": "ganeval.registry",
    "Metric": "ganeval.metrics.base", "FeatureMetric": "ganeval.metrics.base", "REAL": "ganeval.metrics.base",
    "FAKE": "ganeval.metrics.base", "FAKE_B": "ganeval.metrics.base", "GENERATOR": "ganeval.metrics.base",
    "GeneratorMetric": "ganeval.metrics.base", "open_generator": "ganeval.generators",
    "evaluate": "ganeval.api", "evaluate_sets": "ganeval.api", "options_of": "ganeval.api",
    "reference_statistics": "ganeval.api", "open_images": "ganeval.sources",
    "Stats": "ganeval.stats", "load_stats": "ganeval.api", "save_stats": "ganeval.stats",
    "import_stats": "ganeval.stats_import",
    "SWDDescriptors": "ganeval.accumulators.swd", "MSSSIMAccumulator": "ganeval.accumulators.msssim",
    "FeatureStatistics": "ganeval.accumulators.features",
    "precision_recall_from_features": "ganeval.kernels.neighbours",
    "density_coverage_from_features": "ganeval.kernels.neighbours",
}
_homes_getattr, _homes_dir = lazy_names(__name__, _HOMES)


def _metric_classes() -> dict[str, type]:
    """Each registered metric by the name of its one-metric function (`swd`, `inception_score`, …)."""
    return {cls.public_name(): cls for cls in importlib.import_module("ganeval.registry").metrics().values()}


def _is_submodule(name: str) -> bool:
    """Whether `name` is one of the package's modules (which `from ganeval import name` imports as such)."""
    here = Path(__file__).parent
    return (here / f"{name}.py").is_file() or (here / name / "__init__.py").is_file()


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return _homes_getattr(name)
    if name == "__all__":
        return sorted([*_HOMES, *_metric_classes()])
    if name.startswith("_") or _is_submodule(name) or name not in _metric_classes():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    metric_function = importlib.import_module("ganeval.api").metric_function
    function = globals()[name] = metric_function(_metric_classes()[name])  # found directly from now on
    return function


def __dir__() -> list[str]:
    return sorted({*_homes_dir(), *_metric_classes()})
