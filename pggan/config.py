"""Every training setting in one dataclass, the Table 1 presets (a)–(h), (e*) and the CPU/GPU budgets.

The defaults are the paper's final recipe (Table 1 row (g), reference `config.py`), so `TrainConfig()` is the
full method; a preset lists only what Table 1 switches off or changes, each beside the sentence it encodes.
Compose: defaults ← budget ← preset ← explicit overrides (`make_config`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TrainConfig:
    """All settings of one training run (data, networks, schedule, optimiser, loss, bookkeeping, devices)."""

    # Data.
    data: str = ""  # prepared .npz (see pggan.data.prepare) or any uint8 .npy/.npz image array
    resolution: int = 0  # final resolution; 0 = the data's resolution
    mirror_augment: bool = False  # random left-right flips of the reals (§6: CelebA runs)
    seed: int = 1000  # seeds weights, data sampling, latents (reference random_seed)

    # Length.
    total_kimg: float = 10000.0  # thousands of real images shown to D
    kimg_factor: float = 1.0  # multiplies total_kimg; preset (h) "converged" = 2× the (a)–(g) budget

    # Generator and discriminator (Table 2; nf(stage) = min(int(fmap_base / 2**(stage·fmap_decay)), fmap_max)).
    latent_size: int = 512
    normalize_latents: bool = True  # latents on the unit hypersphere (§A.1)
    fmap_base: int = 8192
    fmap_decay: float = 1.0
    fmap_max: int = 512
    g_activation: str = "lrelu"  # "lrelu" (0.2) or "relu" (configs a–c, as Gulrajani et al.)
    tanh_at_end: bool = False  # tanh on G's output (configs a–c, as Gulrajani et al.)
    g_batchnorm: bool = False  # batch norm in G (configs a–c)
    d_layernorm: bool = False  # layer norm in D (configs a–c)
    pixelnorm: bool = True  # §4.2 pixelwise feature normalisation in G (config g)
    equalized_lr: bool = True  # §4.1 equalized learning rate (config f)
    mbstd_group_size: int = 4  # §3 minibatch stddev group size; 0 = off (config e)
    mbdisc_kernels: int = 0  # Salimans et al. minibatch discrimination kernels; 0 = off (config e*)

    # Growing schedule (reference TrainingSchedule).
    progressive: bool = True  # grow from 4×4; False = train at the final resolution from the start (config a)
    lod_training_kimg: float = 600.0  # images per resolution while stable
    lod_transition_kimg: float = 600.0  # images per fade-in
    minibatch_base: int = 16
    minibatch_dict: dict[int, int] = field(default_factory=dict)  # resolution → minibatch
    minibatch_repeats: int = 4  # minibatches per schedule evaluation
    n_critic: int = 1  # D steps per G step

    # Optimiser (§A.1: Adam α = 0.001, β1 = 0, β2 = 0.99, ε = 1e-8).
    g_lr: float = 0.001
    d_lr: float = 0.001
    lr_dict: dict[int, float] = field(default_factory=dict)  # resolution → learning rate (both networks)
    adam_beta1: float = 0.0
    adam_beta2: float = 0.99
    adam_epsilon: float = 1e-8
    reset_optimizer_on_grow: bool = True  # Adam state reset when a fade-in starts and when it ends
    g_ema_beta: float = 0.999  # §A.1: exponential moving average of G's weights, decay 0.999 per G step

    # Loss (§A.1: WGAN-GP, λ = 10, target 1, drift ε = 0.001).
    loss: str = "wgangp"  # "wgangp" or "logistic" (non-saturating, no penalty)
    wgan_lambda: float = 10.0
    wgan_target: float = 1.0
    wgan_epsilon: float = 0.001  # ε_drift · E[D(x)²] keeps D's output near zero

    # Bookkeeping.
    kimg_per_tick: float = 160.0  # log line, sample grid and (every snapshot_ticks) checkpoint per tick
    snapshot_ticks: int = 1
    metrics_ticks: int = 0  # SWD/MS-SSIM of EMA samples every N ticks (0 = only at the end)
    metrics_num_images: int = 2048  # images per metric evaluation, 0 = none (paper: 16384 for SWD)
    grid_size: int = 8  # the fixed-latent sample grid is grid_size × grid_size

    # Devices.
    device: str = "auto"  # "auto" = cuda when available, else cpu
    amp: str = "none"  # "none", "bf16" or "fp16" autocast
    compile: bool = False  # torch.compile the generator (and D when the loss has no gradient penalty)

    def replace(self, **overrides: Any) -> TrainConfig:
        """A copy with `overrides` applied; unknown names raise ValueError."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown TrainConfig setting(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **overrides)

    def validate(self) -> TrainConfig:
        """Self, or ValueError naming the first inconsistent setting."""
        checks = [
            (self.resolution == 0 or (self.resolution >= 4 and self.resolution & (self.resolution - 1) == 0),
             f"resolution must be a power of two ≥ 4 (or 0 = the data's), got {self.resolution}"),
            (self.loss in ("wgangp", "logistic"), f"loss must be 'wgangp' or 'logistic', got {self.loss!r}"),
            (self.amp in ("none", "bf16", "fp16"), f"amp must be 'none', 'bf16' or 'fp16', got {self.amp!r}"),
            (self.g_activation in ("lrelu", "relu"), f"g_activation must be 'lrelu' or 'relu', got "
                                                     f"{self.g_activation!r}"),
            (min([self.minibatch_base, *self.minibatch_dict.values()]) >= 1, "minibatch sizes must be ≥ 1"),
            (self.mbstd_group_size == 0 or all(m % min(self.mbstd_group_size, m) == 0 for m in
                                               (self.minibatch_base, *self.minibatch_dict.values())),
             f"every minibatch size must be a multiple of mbstd_group_size {self.mbstd_group_size}"),
            (self.n_critic >= 1 and self.minibatch_repeats >= 1, "n_critic and minibatch_repeats must be ≥ 1"),
            (self.total_kimg > 0 and self.kimg_factor > 0, "total_kimg and kimg_factor must be > 0"),
            (self.kimg_per_tick > 0 and self.snapshot_ticks >= 1, "kimg_per_tick must be > 0, snapshot_ticks ≥ 1"),
            (0.0 <= self.g_ema_beta < 1.0, f"g_ema_beta must be in [0, 1), got {self.g_ema_beta}"),
            (self.latent_size >= 1 and self.fmap_max >= 1, "latent_size and fmap_max must be ≥ 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        return self

    @property
    def effective_total_kimg(self) -> float:
        """total_kimg × kimg_factor."""
        return self.total_kimg * self.kimg_factor

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (dict keys stay ints; `from_dict` restores them)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of to_dict (also accepts JSON's string dict keys)."""
        values = dict(values)
        values["minibatch_dict"] = {int(k): int(v) for k, v in values.get("minibatch_dict", {}).items()}
        values["lr_dict"] = {int(k): float(v) for k, v in values.get("lr_dict", {}).items()}
        return cls(**values)


# ---------------------------------------------------------------------------------------------------------------
# Table 1 presets (§6.1, Appendix A.2; values as the reference config.py's Table 1 section). Cumulative like the
# table: each row adds its switch to the previous one.

# (a) "Gulrajani et al. (2017)": "the training configuration of Gulrajani et al. ... batch normalization in G,
# layer normalization in D, minibatch 64" and their optimiser (Adam lr 1e-4, β1 = 0, β2 = 0.9, n_critic = 5).
# Also, as the reference, their G: 128-d unnormalised latents, ReLU and tanh output; no drift term; no growing.
# Choice beside "exponential moving average": the reference raises the per-step decay to 0.999**20 because G
# takes 64·5/16 = 20× fewer steps per image than in (d)–(g), so the average spans the same number of images.
PRESET_A: dict[str, Any] = dict(
    progressive=False, g_batchnorm=True, d_layernorm=True, minibatch_base=64, n_critic=5,
    g_lr=1e-4, d_lr=1e-4, adam_beta2=0.9, wgan_epsilon=0.0, latent_size=128, normalize_latents=False,
    g_activation="relu", tanh_at_end=True, mbstd_group_size=0, equalized_lr=False, pixelnorm=False,
    g_ema_beta=0.999**20)
# (b) "+ Progressive growing".
PRESET_B: dict[str, Any] = {**PRESET_A, "progressive": True}
# (c) "+ Small minibatch": 64 → 16. EMA decay 0.999**5 (16·5/16 = 5× fewer G steps per image than in (d)).
PRESET_C: dict[str, Any] = {**PRESET_B, "minibatch_base": 16, "g_ema_beta": 0.999**5}
# (d) "+ Revised training parameters": n_critic 1, β2 = 0.99, ε = 1e-8, drift ε = 0.001, BN/LN removed, the
# paper's G (512-d normalised latents, leaky ReLU, linear output). Choice: the learning rate stays 1e-4 as in the
# reference's Table 1 configs, which switch to 0.001 only together with the equalized learning rate (f) — the
# N(0,1)-weights-times-He-constant parametrisation is what makes 0.001 a sane step. Pass --lr 0.001 to override.
PRESET_D: dict[str, Any] = {
    **PRESET_C, "g_batchnorm": False, "d_layernorm": False, "n_critic": 1, "adam_beta2": 0.99,
    "adam_epsilon": 1e-8, "wgan_epsilon": 0.001, "latent_size": 512, "normalize_latents": True,
    "g_activation": "lrelu", "tanh_at_end": False, "g_ema_beta": 0.999}
# (e*) "+ Minibatch discrimination" (Salimans et al. 2016) instead of stddev: 100 kernels of dim 5 (reference).
PRESET_E_STAR: dict[str, Any] = {**PRESET_D, "mbdisc_kernels": 100}
# (e) "+ Minibatch stddev" (§3), group size 4.
PRESET_E: dict[str, Any] = {**PRESET_D, "mbstd_group_size": 4}
# (f) "+ Equalized learning rate" (§4.1) and the paper's lr 0.001.
PRESET_F: dict[str, Any] = {**PRESET_E, "equalized_lr": True, "g_lr": 0.001, "d_lr": 0.001}
# (g) "+ Pixelwise normalization" (§4.2): after every 3×3 conv of G, ε = 1e-8. This is TrainConfig's default.
PRESET_G: dict[str, Any] = {**PRESET_F, "pixelnorm": True}
# (h) "Converged": (g) trained longer. The paper gives no length; choice: 2× the (a)–(g) budget.
PRESET_H: dict[str, Any] = {**PRESET_G, "kimg_factor": 2.0}

PRESETS: dict[str, dict[str, Any]] = {
    "a": PRESET_A, "b": PRESET_B, "c": PRESET_C, "d": PRESET_D, "e_star": PRESET_E_STAR, "e": PRESET_E,
    "f": PRESET_F, "g": PRESET_G, "h": PRESET_H,
}

# ---------------------------------------------------------------------------------------------------------------
# Budgets: size and length, disjoint from the preset switches so every preset composes with every budget.

BUDGETS: dict[str, dict[str, Any]] = {
    # Table 1 as the paper ran it (GPU): CelebA/LSUN 128×128, reduced-capacity networks (reference fmap_base 2048
    # instead of 8192: 512 maps at 4×4 and 8×8, then 256, 128, 64, 32 at 128×128), 10M images, 800 kimg per
    # stable phase and per fade-in.
    "paper": dict(resolution=128, fmap_base=2048, fmap_max=512, total_kimg=10000.0, lod_training_kimg=800.0,
                  lod_transition_kimg=800.0, kimg_per_tick=100.0, snapshot_ticks=5, metrics_ticks=10,
                  metrics_num_images=16384),
    # Fashion-MNIST 32×32 on 2 CPU cores: 32 maps at most, 8 kimg per phase (4×4, fade 8, 8, fade 16, 16, fade 32)
    # then 16 kimg at 32×32, 64 kimg in all ((h): 128). The committed Table 1 run (results/fashion-mnist-32) used
    # exactly this budget: the nine rows took 58 minutes two at a time (`pggan ablation --jobs 2`).
    "quick": dict(resolution=32, fmap_base=256, fmap_max=32, total_kimg=64.0, lod_training_kimg=8.0,
                  lod_transition_kimg=8.0, kimg_per_tick=4.0, snapshot_ticks=1, metrics_ticks=0,
                  metrics_num_images=1024, grid_size=8),
}


def make_config(preset: str = "g", budget: str | None = None, **overrides: Any) -> TrainConfig:
    """TrainConfig from defaults ← BUDGETS[budget] ← PRESETS[preset] ← overrides."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if budget is not None and budget not in BUDGETS:
        raise ValueError(f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    config = TrainConfig()
    if budget is not None:
        config = config.replace(**BUDGETS[budget])
    return config.replace(**PRESETS[preset]).replace(**overrides).validate()
