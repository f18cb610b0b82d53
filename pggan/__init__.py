"""pggan: Progressive Growing of GANs (Karras et al., ICLR 2018) — the trainer behind the Table 1 ablation.

Entry points: `pggan.train.train(config, out_dir)`, `pggan.train.resume(run_dir)`,
`pggan.train.generate(checkpoint, num_images, out)`, `pggan.data.prepare(source, out_npz)`,
`pggan.schedule.schedule(kimg, config)`; settings in `pggan.config` (TrainConfig, PRESETS, BUDGETS).
"""

from pggan.config import BUDGETS, PRESETS, TrainConfig, make_config
from pggan.data import load_images, prepare
from pggan.networks import Discriminator, Generator, build_networks

__all__ = ["BUDGETS", "PRESETS", "Discriminator", "Generator", "TrainConfig", "build_networks", "load_images",
           "make_config", "prepare"]
