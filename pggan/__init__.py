"""pggan: Progressive Growing of GANs (Karras et al., ICLR 2018) — the trainer behind the Table 1 ablation.

Entry points: `pggan.train.train(config, out_dir)`, `pggan.train.resume(run_dir)`,
`pggan.generate.generate(checkpoint, num_images, out)`, `pggan.data.prepare(source, out_npz)`,
`pggan.schedule.schedule(kimg, config)`; settings in `pggan.config` (TrainConfig, PRESETS, BUDGETS).

The names below are imported on first use (PEP 562), so that `import pggan` (and `pggan --help`) does not pay for
torch until the networks or the data are used.
"""

from __future__ import annotations

from ganeval.lazy_names import lazy_names

# Each public name → the module that defines it.
_HOMES = {
    "BUDGETS": "pggan.config", "PRESETS": "pggan.config", "TrainConfig": "pggan.config", "make_config": "pggan.config",
    "load_images": "pggan.data", "prepare": "pggan.data", "Discriminator": "pggan.networks",
    "Generator": "pggan.networks", "build_networks": "pggan.networks",
}
__all__ = sorted(_HOMES)

__getattr__, __dir__ = lazy_names(__name__, _HOMES)
