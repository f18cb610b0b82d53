"""Every training setting in one dataclass, the Table 1 presets (a)–(h), (e*) and the CPU/GPU budgets.

The defaults are the paper's final recipe (Table 1 row (g), reference `config.py`), so `TrainConfig()` is the
full method; a preset lists only what Table 1 switches off or changes, each beside the sentence it encodes.
Compose: defaults ← budget ← preset ← explicit overrides (`make_config`).
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import functools
import json
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganeval.defaults import MAX_SEED
from pggan.errors import ConfigError

# The paper's EMA, β = 0.999 per G step of 16 images, as a half-life: 16 · ln ½ / ln 0.999 images ≈ 11.085 kimg.
# The reference's per-row decays of (a)–(c) (0.999**20 at 64 × 5 images per G step, 0.999**5 at 16 × 5) span the
# same images, so every row has this half-life.
EMA_KIMG_PAPER = 16 * math.log(0.5) / math.log(0.999) / 1000


def _power_of_two(value: int) -> bool:
    return value >= 4 and value & (value - 1) == 0


def _finite(low: float, high: float = math.inf, *, low_open: bool = False, high_open: bool = True
            ) -> Callable[[float], bool]:
    """A check that a float is finite and within [low, high] (ends open where asked)."""
    def check(value: float) -> bool:
        return (math.isfinite(value) and (value > low if low_open else value >= low)
                and (value < high if high_open else value <= high))
    return check


def _at_least(low: int) -> Callable[[int], bool]:
    return lambda value: value >= low


MSG_CONNECTIONS = ("all", "coarse", "middle", "fine", "none")
MSG_COMBINES = ("simple", "lin_cat", "cat_lin")
D_ARCHITECTURES = ("orig", "resnet")
G_ARCHITECTURES = ("orig", "skip")
STYLE_BLOCKS = ("adain", "modulated")


def msg_scales(connections: str, resolution: int) -> tuple[int, ...]:
    """The lower scales whose images MSG-GAN's D reads through φ (§3.1), for `connections` at final `resolution` R.

    Connectable are 4, 8, …, R/2 (R itself enters through fromRGB). coarse = 4 and 8; the rest, 16 … R/2, splits in
    two: middle = its lower half (the larger one when odd), fine = its upper half. So R = 32: coarse 4, 8, middle
    16, fine none; R = 64: 4, 8 | 16 | 32; R = 128: 4, 8 | 16, 32 | 64; R = 256: 4, 8 | 16, 32 | 64, 128.
    """
    scales = tuple(2**log2 for log2 in range(2, int(resolution).bit_length() - 1))
    rest = scales[2:]
    middle = rest[:(len(rest) + 1) // 2]
    return {"all": scales, "coarse": scales[:2], "middle": middle, "fine": rest[len(middle):], "none": ()}[connections]


def setting(default: Any, check: Callable[[Any], bool], wanted: str) -> Any:
    """A TrainConfig field with its range: `validate` wants `check(value)`, else says "<name> must be <wanted>"."""
    metadata = {"check": check, "wanted": wanted}
    if isinstance(default, (list, dict)):  # each config gets its own copy
        return field(default_factory=functools.partial(copy.deepcopy, default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass
class TrainConfig:
    """All settings of one training run (data, networks, schedule, optimiser, loss, bookkeeping, devices).

    A field made with `setting(default, check, wanted)` has a range, checked by `validate` in field order.
    """

    # Data.
    data: str = ""  # prepared .npz/.npy (see pggan.data.prepare) or any uint8 .npy/.npz image array
    # "auto": an .npy over 1 GiB is memory-mapped and gathered per minibatch, anything else held in memory (on the
    # device); "on" streams an .npy of any size, "off" holds any set in memory. The numbers are the same either way.
    data_streaming: str = setting("auto", lambda value: value in ("auto", "on", "off"), "'auto', 'on' or 'off'")
    # Final resolution; 0 = the data's resolution.
    resolution: int = setting(0, lambda value: value == 0 or _power_of_two(value),
                              "a power of two ≥ 4 (or 0 = the data's)")
    mirror_augment: bool = False  # random left-right flips of the reals (§6: CelebA runs)
    # Seeds weights, data sampling, latents (reference random_seed).
    seed: int = setting(1000, lambda value: 0 <= value <= MAX_SEED, f"an integer from 0 to {MAX_SEED}")

    # Length.
    # Thousands of real images shown to D.
    total_kimg: float = setting(10000.0, _finite(0, low_open=True), "a finite number > 0")
    # Multiplies total_kimg; preset (h) "converged" = 2× the (a)–(g) budget.
    kimg_factor: float = setting(1.0, _finite(0, low_open=True), "a finite number > 0")
    # The run's earlier lengths (total_kimg × kimg_factor), one per `pggan resume --kimg`; training never reads it.
    total_kimg_history: list[float] = setting(
        [], lambda value: all(_finite(0, low_open=True)(item) for item in value), "a list of lengths > 0 in kimg")

    # Generator and discriminator (Table 2; nf(stage) = min(int(fmap_base / 2**(stage·fmap_decay)), fmap_max)).
    latent_size: int = setting(512, _at_least(1), "≥ 1")
    normalize_latents: bool = True  # latents on the unit hypersphere (§A.1)
    fmap_base: int = setting(8192, _at_least(1), "≥ 1")
    fmap_decay: float = setting(1.0, _finite(0), "a finite number ≥ 0")
    fmap_max: int = setting(512, _at_least(1), "≥ 1")
    # Multiplies fmap_base in both networks (StyleGAN2's config F, "large networks": 2 — twice the maps wherever
    # fmap_max does not cap them, i.e. at the high resolutions).
    fmap_base_factor: int = setting(1, _at_least(1), "an integer ≥ 1")
    # "lrelu" (0.2) or "relu" (configs a–c, as Gulrajani et al.).
    g_activation: str = setting("lrelu", lambda value: value in ("lrelu", "relu"), "'lrelu' or 'relu'")
    tanh_at_end: bool = False  # tanh on G's output (configs a–c, as Gulrajani et al.)
    g_batchnorm: bool = False  # batch norm in G (configs a–c)
    d_layernorm: bool = False  # layer norm in D (configs a–c)
    pixelnorm: bool = True  # §4.2 pixelwise feature normalisation in G (config g)
    equalized_lr: bool = True  # §4.1 equalized learning rate (config f)
    # §3 minibatch stddev group size; 0 = off (config e).
    mbstd_group_size: int = setting(4, _at_least(0), "≥ 0 (0 = off)")
    # Salimans et al. minibatch discrimination kernels; 0 = off (config e*).
    mbdisc_kernels: int = setting(0, _at_least(0), "≥ 0 (0 = off)")
    # MSG-GAN (Karnewar & Wang 2020): G's image at every scale reaches D, all scales trained at once (no growing).
    msg: bool = False
    # Which lower scales D reads through the combine function: see `msg_scales`.
    msg_connections: str = setting("all", lambda value: value in MSG_CONNECTIONS,
                                   "one of " + ", ".join(f"'{name}'" for name in MSG_CONNECTIONS))
    # The combine function φ of MSG-GAN §3.1 (pggan.layers.MultiScaleCombine).
    msg_combine: str = setting("simple", lambda value: value in MSG_COMBINES,
                               "one of " + ", ".join(f"'{name}'" for name in MSG_COMBINES))
    # StyleGAN (Karras et al. 2019): its generator's features, pggan/style.py. Fully connected layers of the mapping
    # network z → w (§2: 8); 0 = PGGAN's generator, the latent at its input and none of the switches below but blur.
    mapping_layers: int = setting(0, _at_least(0), "≥ 0 (0 = PGGAN's generator)")
    # The mapping network's learning-rate multiplier (Appendix C: 0.01).
    mapping_lr_mul: float = setting(0.01, _finite(0, low_open=True), "a finite number > 0")
    const_input: bool = False  # §2: a learned 4×4 constant as the synthesis input instead of the latent's dense layer
    noise_inputs: bool = False  # §2: per-pixel noise after every conv, learned per-channel scales starting at 0
    # §3.1 style mixing regularisation: the probability that a minibatch mixes two latents' styles (the paper's 0.9).
    style_mixing_prob: float = setting(0.0, _finite(0, 1, high_open=False), "in [0, 1]")
    # The binomial [1, 2, 1] filter after G's upsampling and before D's downsampling (StyleGAN's "bilinear" resampling).
    blur_resample: bool = False
    # StyleGAN2 (Karras et al. 2020) §2.2: what each conv of the style generator is. "adain" = StyleGAN's conv →
    # noise → activation → AdaIN; "modulated" = a modulated, demodulated conv (pggan.layers.ModulatedConv2d) with
    # the style as its input scales, then noise, bias and activation outside the style block (Figure 2d).
    style_block: str = setting("adain", lambda value: value in STYLE_BLOCKS,
                               "one of " + ", ".join(f"'{name}'" for name in STYLE_BLOCKS))
    # G's outputs (StyleGAN2 Figure 7b): "orig" = the last block's toRGB (faded in by PGGAN's growing); "skip" = each
    # resolution's toRGB added to the upsampled sum of the lower ones' (no growing).
    g_architecture: str = setting("orig", lambda value: value in G_ARCHITECTURES,
                                  "one of " + ", ".join(f"'{name}'" for name in G_ARCHITECTURES))
    # D's blocks (StyleGAN2, Karras et al. 2020, Figure 7c): "orig" = Table 2's; "resnet" = each block's convolutions
    # plus a 1×1 skip of its downsampled input, summed and scaled by 1/√2 (pggan.layers.ResidualBlock); no growing.
    d_architecture: str = setting("orig", lambda value: value in D_ARCHITECTURES,
                                  "one of " + ", ".join(f"'{name}'" for name in D_ARCHITECTURES))

    # Growing schedule (reference TrainingSchedule).
    progressive: bool = True  # grow from 4×4; False = train at the final resolution from the start (config a)
    lod_training_kimg: float = setting(600.0, _finite(0), "a finite number ≥ 0")  # images per resolution while stable
    lod_transition_kimg: float = setting(600.0, _finite(0), "a finite number ≥ 0")  # images per fade-in
    minibatch_base: int = setting(16, _at_least(1), "≥ 1")
    # Resolution → minibatch.
    minibatch_dict: dict[int, int] = setting(
        {}, lambda value: all(_power_of_two(k) and v >= 1 for k, v in value.items()),
        "resolution (a power of two ≥ 4) → minibatch size ≥ 1")
    minibatch_repeats: int = setting(4, _at_least(1), "≥ 1")  # minibatches per schedule evaluation
    n_critic: int = setting(1, _at_least(1), "≥ 1")  # D steps per G step

    # Optimiser (§A.1: Adam α = 0.001, β1 = 0, β2 = 0.99, ε = 1e-8).
    g_lr: float = setting(0.001, _finite(0, low_open=True), "a finite number > 0")
    d_lr: float = setting(0.001, _finite(0, low_open=True), "a finite number > 0")
    # Resolution → learning rate (both networks).
    lr_dict: dict[int, float] = setting(
        {}, lambda value: all(_power_of_two(k) and _finite(0, low_open=True)(v) for k, v in value.items()),
        "resolution (a power of two ≥ 4) → learning rate > 0")
    adam_beta1: float = setting(0.0, _finite(0, 1), "in [0, 1)")
    adam_beta2: float = setting(0.99, _finite(0, 1), "in [0, 1)")
    adam_epsilon: float = setting(1e-8, _finite(0, low_open=True), "a finite number > 0")
    reset_optimizer_on_grow: bool = True  # Adam state reset when a fade-in starts and when it ends
    # §A.1: exponential moving average of G's weights, "decay 0.999" per G step at minibatch 16 — held here as a
    # half-life in images (as StyleGAN2-ADA's ema_kimg), so it spans the same images whatever the minibatch,
    # n_critic or number of steps. ema_rampup > 0 caps the half-life at ema_rampup × the images seen so far.
    ema_kimg: float = setting(EMA_KIMG_PAPER, _finite(0), "a finite number ≥ 0 (0 = the EMA is G itself)")
    ema_rampup: float = setting(0.0, _finite(0), "a finite number ≥ 0 (0 = no ramp-up)")
    # A diagnostic for choosing ema_kimg: more averages of G with these half-lives, kept beside the EMA and scored
    # by SWD at every metrics tick (with raw G's), so one run shows which half-life fits its budget.
    ema_sweep_kimg: list[float] = setting(
        [], lambda value: all(_finite(0)(item) for item in value) and len(set(value)) == len(value),
        "a list of distinct half-lives ≥ 0 in kimg")

    # Loss (§A.1: WGAN-GP, λ = 10, target 1, drift ε = 0.001).
    # "wgangp" or "logistic" (non-saturating, no penalty).
    loss: str = setting("wgangp", lambda value: value in ("wgangp", "logistic"), "'wgangp' or 'logistic'")
    wgan_lambda: float = setting(10.0, _finite(0), "a finite number ≥ 0")
    wgan_target: float = setting(1.0, _finite(0, low_open=True), "a finite number > 0")
    # ε_drift · E[D(x)²] keeps D's output near zero.
    wgan_epsilon: float = setting(0.001, _finite(0), "a finite number ≥ 0")
    # R1 (Mescheder et al. 2018) with the logistic loss: γ/2 · E‖∇D(real)‖² (StyleGAN's rows B–F: γ = 10); 0 = off.
    r1_gamma: float = setting(0.0, _finite(0), "a finite number ≥ 0 (0 = off)")
    # StyleGAN2 §3.1 lazy regularisation: R1 in a step of its own every r1_interval D minibatches (the paper's 16),
    # scaled by the interval, D's Adam lr·c and β^c, c = interval/(interval + 1); 1 = R1 in every D step's loss.
    r1_interval: int = setting(1, _at_least(1), "an integer ≥ 1 (1 = R1 in every D step)")
    # StyleGAN2 §3.2 path length regularisation of G: weight (the paper's 2; 0 = off), run every pl_interval G
    # minibatches (4, lazy as R1: scaled by it, G's Adam adjusted), the running mean's decay (0.01), on
    # minibatch // pl_batch_shrink samples (2).
    pl_weight: float = setting(0.0, _finite(0), "a finite number ≥ 0 (0 = off)")
    pl_interval: int = setting(4, _at_least(1), "an integer ≥ 1")
    pl_decay: float = setting(0.01, _finite(0, 1, low_open=True, high_open=False), "in (0, 1]")
    pl_batch_shrink: int = setting(2, _at_least(1), "an integer ≥ 1")

    # Bookkeeping.
    # Log line, sample grid and (every snapshot_ticks) checkpoint per tick.
    kimg_per_tick: float = setting(160.0, _finite(0, low_open=True), "a finite number > 0")
    snapshot_ticks: int = setting(1, _at_least(1), "≥ 1")
    # SWD/MS-SSIM of EMA samples every N ticks (0 = only at the end).
    metrics_ticks: int = setting(0, _at_least(0), "≥ 0 (0 = only at the end)")
    # Images per metric evaluation, 0 = none (paper: 16384 for SWD).
    metrics_num_images: int = setting(2048, _at_least(0), "≥ 0 (0 = no metrics)")
    grid_size: int = setting(8, _at_least(1), "≥ 1")  # the fixed-latent sample grid is grid_size × grid_size

    # Devices.
    device: str = "auto"  # "auto" = cuda when available, else cpu
    # "none", "bf16" or "fp16" autocast.
    amp: str = setting("none", lambda value: value in ("none", "bf16", "fp16"), "'none', 'bf16' or 'fp16'")
    compile: bool = False  # torch.compile the generator (and D when the loss has no gradient penalty)

    def replace(self, **overrides: Any) -> TrainConfig:
        """A copy with `overrides` applied, each checked against its field's type (ConfigError otherwise)."""
        return dataclasses.replace(self, **{name: coerce_setting(name, value) for name, value in overrides.items()})

    def validate(self) -> TrainConfig:
        """Self, or ConfigError naming the first setting that is out of range or inconsistent with another."""
        for setting_field in dataclasses.fields(self):
            if "check" in setting_field.metadata:
                name, value = setting_field.name, getattr(self, setting_field.name)
                if not setting_field.metadata["check"](value):
                    raise ConfigError(name, f"{name} must be {setting_field.metadata['wanted']}, got {value!r}")
        if self.progressive and self.lod_training_kimg + self.lod_transition_kimg == 0:
            raise ConfigError("lod_training_kimg", "progressive growing needs lod_training_kimg + "
                                                   "lod_transition_kimg > 0 (both are 0); use --no-progressive")
        if self.msg and self.progressive:
            raise ConfigError("msg", "MSG-GAN trains every scale at once and takes no progressive growing; add "
                                     "--no-progressive (or use --config msg)")
        if self.d_architecture == "resnet" and (self.progressive or self.msg):
            raise ConfigError("d_architecture", "the residual discriminator (d_architecture=resnet) reads one image at "
                                                "the final resolution: add --no-progressive and leave msg off")
        if self.msg and self.resolution and self.msg_connections != "none" and not msg_scales(
                self.msg_connections, self.resolution):
            raise ConfigError("msg_connections", f"msg_connections={self.msg_connections!r} connects no scale at "
                                                 f"{self.resolution}×{self.resolution} (see pggan.config.msg_scales); "
                                                 "choose another set")
        for name in ("const_input", "noise_inputs", "style_mixing_prob"):
            if getattr(self, name) and not self.mapping_layers:
                raise ConfigError(name, f"{name} is a feature of StyleGAN's generator, which needs its mapping "
                                        "network; set mapping_layers (8 in the paper) too")
        if self.style_block == "modulated" and not self.mapping_layers:
            raise ConfigError("style_block", "style_block=modulated is a block of StyleGAN's generator, which needs "
                                             "its mapping network; set mapping_layers (8 in the paper) too")
        if self.style_block == "modulated" and not self.equalized_lr:
            raise ConfigError("equalized_lr", "the modulated style block has the equalized learning rate built in "
                                              "(pggan.layers.ModulatedConv2d); set equalized_lr=true")
        if self.style_block == "modulated" and self.pixelnorm:
            raise ConfigError("pixelnorm", "pixelnorm has no place in the modulated style block (demodulation "
                                           "normalises); set pixelnorm=false")
        if self.g_architecture == "skip" and (not self.mapping_layers or self.progressive or self.msg):
            raise ConfigError("g_architecture", "the skip generator (g_architecture=skip) is StyleGAN's generator "
                                                "trained at the final resolution: set mapping_layers, add "
                                                "--no-progressive and leave msg off")
        if self.pl_weight and (not self.mapping_layers or self.msg):
            raise ConfigError("pl_weight", "path length regularisation differentiates G by w, which needs StyleGAN's "
                                           "mapping network and one image per sample: set mapping_layers and leave "
                                           "msg off")
        if self.r1_interval > 1 and not self.r1_gamma:
            raise ConfigError("r1_interval", f"r1_interval={self.r1_interval} makes R1 lazy, but R1 is off: set "
                                             "r1_gamma (10 in StyleGAN), or r1_interval=1")
        for name in ("g_batchnorm", "tanh_at_end"):
            if getattr(self, name) and self.mapping_layers:
                raise ConfigError(name, f"{name} is a setting of PGGAN's generator; StyleGAN's (mapping_layers > 0) "
                                        "takes none")
        if self.r1_gamma and self.loss != "logistic":
            raise ConfigError("r1_gamma", f"r1_gamma regularises the logistic loss; {self.loss!r} has its own "
                                          "gradient penalty: set loss=logistic, or r1_gamma=0")
        if self.mbstd_group_size:
            for size in (self.minibatch_base, *self.minibatch_dict.values()):
                if size % min(self.mbstd_group_size, size):
                    raise ConfigError("mbstd_group_size", f"every minibatch size must be a multiple of "
                                                          f"mbstd_group_size {self.mbstd_group_size}, got {size}")
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
        """Inverse of to_dict (JSON's string dict keys accepted); every value type-checked, unknown names refused."""
        if not isinstance(values, dict):
            raise ConfigError("", f"expected a mapping of setting names to values, got {type(values).__name__}")
        return cls().replace(**values)


def _field_types() -> dict[str, Any]:
    """Each TrainConfig field's annotated type (bool, int, float, str, list[float], dict[int, int] or float)."""
    return typing.get_type_hints(TrainConfig)


FIELD_TYPES = _field_types()
# Settings of earlier versions, and what replaced them (a run directory of an earlier version names them).
RENAMED = {"g_ema_beta": "ema_kimg, the EMA's half-life in kimg (β = 0.999 per G step of 16 images is 11.085)"}


def coerce_setting(name: str, value: Any) -> Any:
    """`value` as TrainConfig field `name`'s type: ints stay ints (1.5 is refused), dict keys become ints."""
    if name not in FIELD_TYPES:
        if name in RENAMED:
            raise ConfigError(name, f"setting {name!r} was replaced by {RENAMED[name]}")
        close = difflib.get_close_matches(name, FIELD_TYPES, n=1)
        raise ConfigError(name, f"unknown setting {name!r}" + (f" (did you mean {close[0]}?)" if close else "")
                          + "; the settings are TrainConfig's fields, listed in pggan/config.py")
    kind = FIELD_TYPES[name]

    def refuse(wanted: str) -> ConfigError:
        return ConfigError(name, f"{name} must be {wanted}, got {value!r}")

    def as_int(item: Any) -> int:
        if isinstance(item, bool) or not isinstance(item, int):
            if isinstance(item, str) and item.strip().lstrip("+-").isdigit():
                return int(item)
            raise refuse("an integer")
        return item

    def as_float(item: Any) -> float:
        if isinstance(item, bool) or not isinstance(item, (int, float, str)):
            raise refuse("a number")
        try:
            return float(item)
        except ValueError:
            raise refuse("a number") from None

    if kind is bool:
        if isinstance(value, str) and value.lower() in BOOLEAN_WORDS:
            return BOOLEAN_WORDS[value.lower()]
        if not isinstance(value, bool):
            raise refuse("true or false")
        return value
    if kind is int:
        return as_int(value)
    if kind is float:
        return as_float(value)
    if kind is str:
        if not isinstance(value, str):
            raise refuse("a string")
        return value
    if typing.get_origin(kind) is list:  # list[float]
        if not isinstance(value, list):
            raise refuse("a JSON list of numbers such as [1, 4, 11.085]")
        return [as_float(item) for item in value]
    if not isinstance(value, dict):  # dict[int, int] or dict[int, float]: resolution → value
        raise refuse('a JSON object such as {"32": 8}')
    convert_value = as_int if typing.get_args(kind)[1] is int else as_float
    return {as_int(key): convert_value(item) for key, item in value.items()}


def parse_setting(text: str) -> tuple[str, Any]:
    """NAME=VALUE (VALUE as JSON where it parses, else the raw text) → (name, value of the field's type)."""
    name, separator, raw = text.partition("=")
    if not separator:
        raise ConfigError(name, f"{text!r}: expected NAME=VALUE, e.g. minibatch_base=32")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    if FIELD_TYPES.get(name) is str:
        value = value if isinstance(value, str) else raw  # e.g. --set data=123 names a file "123"
    return name, coerce_setting(name, value)


BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False, "on": True, "off": False}


# ---------------------------------------------------------------------------------------------------------------
# Table 1 presets (§6.1, Appendix A.2; values as the reference config.py's Table 1 section). Cumulative like the
# table: each row adds its switch to the previous one.

# (a) "Gulrajani et al. (2017)": "the training configuration of Gulrajani et al. ... batch normalization in G,
# layer normalization in D, minibatch 64" and their optimiser (Adam lr 1e-4, β1 = 0, β2 = 0.9, n_critic = 5).
# Also, as the reference, their G: 128-d unnormalised latents, ReLU and tanh output; no drift term; no growing.
# The reference raises the per-step EMA decay to 0.999**20 because G takes 64·5/16 = 20× fewer steps per image than
# in (d)–(g): the same half-life in images, EMA_KIMG_PAPER, which the trainer turns into each step's decay.
PRESET_A: dict[str, Any] = dict(
    progressive=False, g_batchnorm=True, d_layernorm=True, minibatch_base=64, n_critic=5,
    g_lr=1e-4, d_lr=1e-4, adam_beta2=0.9, wgan_epsilon=0.0, latent_size=128, normalize_latents=False,
    g_activation="relu", tanh_at_end=True, mbstd_group_size=0, equalized_lr=False, pixelnorm=False)
# (b) "+ Progressive growing".
PRESET_B: dict[str, Any] = {**PRESET_A, "progressive": True}
# (c) "+ Small minibatch": 64 → 16 (the reference's EMA decay 0.999**5 here is the same half-life in images).
PRESET_C: dict[str, Any] = {**PRESET_B, "minibatch_base": 16}
# (d) "+ Revised training parameters": n_critic 1, β2 = 0.99, ε = 1e-8, drift ε = 0.001, BN/LN removed, the
# paper's G (512-d normalised latents, leaky ReLU, linear output). Choice: the learning rate stays 1e-4 as in the
# reference's Table 1 configs, which switch to 0.001 only together with the equalized learning rate (f) — the
# N(0,1)-weights-times-He-constant parametrisation is what makes 0.001 a sane step. Pass --lr 0.001 to override.
PRESET_D: dict[str, Any] = {
    **PRESET_C, "g_batchnorm": False, "d_layernorm": False, "n_critic": 1, "adam_beta2": 0.99,
    "adam_epsilon": 1e-8, "wgan_epsilon": 0.001, "latent_size": 512, "normalize_latents": True,
    "g_activation": "lrelu", "tanh_at_end": False}
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

# MSG-GAN (Karnewar & Wang 2020, §3): (g) — WGAN-GP, pixel norm, equalized lr, minibatch stddev, EMA — with G's
# images at every scale fed to D and no growing or fade-in; all scales connected by φ_simple. Choice: the learning
# rate stays (g)'s 0.001, so that the two differ only in the switch; the authors' 0.003 is --lr 0.003 (their Adam
# β = (0, 0.99) is already (g)'s).
PRESET_MSG: dict[str, Any] = {**PRESET_G, "progressive": False, "msg": True}

# StyleGAN's Table 1 (Karras et al. 2019), rows (B)–(F), cumulative as the table; row (A), "baseline Progressive
# GAN", is (g). (B) "+ Tuning (incl. bilinear up/down)": binomial-filtered resampling in G and D, and the reference's
# loss for rows B–F (its FFHQ set-up, train.py's default): non-saturating logistic with R1, γ = 10. Choice: the
# reference's other tuning — per-resolution learning rates from 128×128 up, training from 8×8, longer training — is
# left out, so that the rows differ in the generator and the loss alone at one budget.
PRESET_STYLEGAN_B: dict[str, Any] = {**PRESET_G, "blur_resample": True, "loss": "logistic", "r1_gamma": 10.0}
# (C) "+ Add mapping and styles": the 8-layer mapping network, AdaIN after every conv; pixel norm off (AdaIN's
# instance norm replaces it, reference use_pixel_norm = False); the input still the dense layer.
PRESET_STYLEGAN_C: dict[str, Any] = {**PRESET_STYLEGAN_B, "mapping_layers": 8, "pixelnorm": False}
# (D) "+ Remove traditional input": the learned 4×4 constant.
PRESET_STYLEGAN_D: dict[str, Any] = {**PRESET_STYLEGAN_C, "const_input": True}
# (E) "+ Add noise inputs".
PRESET_STYLEGAN_E: dict[str, Any] = {**PRESET_STYLEGAN_D, "noise_inputs": True}
# (F) "+ Mixing regularization": 90% of the minibatches mix two latents' styles (§3.1, Table 2).
PRESET_STYLEGAN_F: dict[str, Any] = {**PRESET_STYLEGAN_E, "style_mixing_prob": 0.9}

# StyleGAN2's Table 1 (Karras et al. 2020), configs A–F, cumulative as the table. (A) "Baseline StyleGAN" is
# StyleGAN's row F. (B) "+ Weight demodulation" (§2.2): the modulated, demodulated conv replaces AdaIN, noise and
# bias move outside the style block.
PRESET_STYLEGAN2_A: dict[str, Any] = dict(PRESET_STYLEGAN_F)
PRESET_STYLEGAN2_B: dict[str, Any] = {**PRESET_STYLEGAN2_A, "style_block": "modulated"}
# (C) "+ Lazy regularization" (§3.1): R1 every 16 D minibatches, in a step of its own, scaled by 16.
PRESET_STYLEGAN2_C: dict[str, Any] = {**PRESET_STYLEGAN2_B, "r1_interval": 16}
# (D) "+ Path length regularization" (§3.2): weight 2, every 4 G minibatches, decay 0.01, half the minibatch.
PRESET_STYLEGAN2_D: dict[str, Any] = {**PRESET_STYLEGAN2_C, "pl_weight": 2.0}
# (E) "+ No growing, new G & D arch." (§4.1): trained at the final resolution, output skips in G (Figure 7b),
# residual D (Figure 7c).
PRESET_STYLEGAN2_E: dict[str, Any] = {**PRESET_STYLEGAN2_D, "progressive": False, "g_architecture": "skip",
                                      "d_architecture": "resnet"}
# (F) "+ Large networks" (§4.2): the reference doubles fmap_base (16384 → 32768, fmap_max 512 kept), which doubles
# the maps at the high resolutions only; here fmap_base_factor 2 does the same on any budget (quick: 16 → 32 maps at
# 32×32, the lower resolutions already at fmap_max 32).
PRESET_STYLEGAN2_F: dict[str, Any] = {**PRESET_STYLEGAN2_E, "fmap_base_factor": 2}

PRESETS: dict[str, dict[str, Any]] = {
    "a": PRESET_A, "b": PRESET_B, "c": PRESET_C, "d": PRESET_D, "e_star": PRESET_E_STAR, "e": PRESET_E,
    "f": PRESET_F, "g": PRESET_G, "h": PRESET_H, "msg": PRESET_MSG, "stylegan_b": PRESET_STYLEGAN_B,
    "stylegan_c": PRESET_STYLEGAN_C, "stylegan_d": PRESET_STYLEGAN_D, "stylegan_e": PRESET_STYLEGAN_E,
    "stylegan_f": PRESET_STYLEGAN_F, "stylegan2_a": PRESET_STYLEGAN2_A, "stylegan2_b": PRESET_STYLEGAN2_B,
    "stylegan2_c": PRESET_STYLEGAN2_C, "stylegan2_d": PRESET_STYLEGAN2_D, "stylegan2_e": PRESET_STYLEGAN2_E,
    "stylegan2_f": PRESET_STYLEGAN2_F,
}
# Table 1's rows in the paper's order ((e*) before (e)): tables, figures and `pggan ablation --configs`.
CONFIG_ORDER = ("a", "b", "c", "d", "e_star", "e", "f", "g", "h")

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
    # then 16 kimg at 32×32, 64 kimg in all ((h): 128). The committed Table 1 run (results/fashion-mnist-32, 3 seeds)
    # used exactly this budget: ≈ 65 minutes per seed, two runs at a time (`pggan ablation --jobs 2`) on idle cores.
    # EMA half-life 1 kimg, chosen from results/ema-halflife (3 seeds of preset g): at 64 kimg half-lives of
    # 0.5–2 kimg score SWD avg 23.6–24.1 ×10³ against raw G's 40.3 and the paper's 11.085 kimg's 51.7.
    "quick": dict(resolution=32, fmap_base=256, fmap_max=32, total_kimg=64.0, lod_training_kimg=8.0,
                  lod_transition_kimg=8.0, kimg_per_tick=4.0, snapshot_ticks=1, metrics_ticks=0,
                  metrics_num_images=1024, grid_size=8, ema_kimg=1.0),
}


def implicit_budget_note(config: TrainConfig, device_type: str) -> str:
    """The note for a run given neither --budget nor a length: what it trains; on a CPU a ConfigError instead."""
    chosen = (f"the defaults, the paper's full-size networks (fmap_base {config.fmap_base}) for "
              f"{config.effective_total_kimg:g} kimg")
    if device_type == "cpu":
        raise ConfigError("budget", f"no --budget given: {chosen} would take days on a CPU; pass --budget quick "
                                    "(or --budget paper explicitly to insist, or --kimg to choose the length)")
    return f"no --budget given: training {chosen} on {device_type} (--budget quick or paper to choose)"


def make_config(preset: str = "g", budget: str | None = None, **overrides: Any) -> TrainConfig:
    """TrainConfig from defaults ← BUDGETS[budget] ← PRESETS[preset] ← overrides."""
    if preset not in PRESETS:
        raise ConfigError("preset", f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    if budget is not None and budget not in BUDGETS:
        raise ConfigError("budget", f"unknown budget {budget!r}; choose one of {', '.join(BUDGETS)}")
    config = TrainConfig()
    if budget is not None:
        config = config.replace(**BUDGETS[budget])
    return config.replace(**PRESETS[preset]).replace(**overrides).validate()
