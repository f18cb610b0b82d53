"""ganeval: GAN evaluation as the papers define it — PGGAN sliced Wasserstein distance and MS-SSIM, FID, IS, KID,
improved precision/recall and density/coverage.

Every metric takes a folder, an .npy/.npz file, an array, a tensor (also on the GPU), an iterable of batches
or a generator callable, and returns a plain dict (the same one the CLI prints with --json).

The names below are imported on first use (PEP 562), so that `import ganeval` (and the command line's --help)
does not pay for torch until a metric is used.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ganeval.lazy_names import lazy_names

__version__ = "0.1.0"

# Each public name → the module that defines it.
_HOMES = {
    "GanevalInputError": "ganeval.errors", "MSSSIMAccumulator": "ganeval.msssim", "SWDDescriptors": "ganeval.swd",
    "Stats": "ganeval.stats", "evaluate": "ganeval.evaluate", "reference_statistics": "ganeval.evaluate",
    "fid": "ganeval.fid", "import_stats": "ganeval.stats_import", "inception_score": "ganeval.inception_score",
    "kid": "ganeval.kid",
    "load_stats": "ganeval.stats", "msssim": "ganeval.msssim", "open_images": "ganeval.sources",
    "save_stats": "ganeval.stats", "swd": "ganeval.swd",
    "precision_recall": "ganeval.precision_recall", "precision_recall_from_features": "ganeval.precision_recall",
    "density_coverage": "ganeval.density_coverage", "density_coverage_from_features": "ganeval.density_coverage",
}
__all__ = sorted(_HOMES)

__getattr__, __dir__ = lazy_names(__name__, _HOMES)


class _Package(types.ModuleType):
    """The `ganeval` module: its metric functions keep their names when their modules are imported.

    Importing a submodule binds it as an attribute of its package; `import ganeval.swd` anywhere would then turn
    `ganeval.swd` from the function into the module. The functions own these names (`ganeval.swd(...)`); the
    modules stay reachable through `from ganeval.swd import …` (sys.modules).
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and _HOMES.get(name) == value.__name__:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
