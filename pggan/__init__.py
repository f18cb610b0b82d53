"""pggan: Progressive Growing of GANs (Karras et al., ICLR 2018) — the trainer behind the Table 1 ablation.

Entry points: `pggan.train.train(config, out_dir)`, `pggan.train.resume(run_dir)`,
`pggan.train.generate(checkpoint, num_images, out)`, `pggan.data.prepare(source, out_npz)`,
`pggan.schedule.schedule(kimg, config)`; settings in `pggan.config` (TrainConfig, PRESETS, BUDGETS).

The names below are imported on first use (PEP 562), so that `import pggan` (and `pggan --help`) does not pay for
torch until the networks or the data are used.
"""

from __future__ import annotations

import importlib
from typing import Any

# Each public name → the module that defines it.
_HOMES = {
    "BUDGETS": "pggan.config", "PRESETS": "pggan.config", "TrainConfig": "pggan.config", "make_config": "pggan.config",
    "load_images": "pggan.data", "prepare": "pggan.data", "Discriminator": "pggan.networks",
    "Generator": "pggan.networks", "build_networks": "pggan.networks",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    """Import a public name from its module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'pggan' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the not yet imported public ones included."""
    return sorted(set(globals()) | set(__all__))
