"""StyleGAN2's "droplets" (Karras et al. 2020, §2.1, Figure 1): the localized spikes a StyleGAN generator grows in its
feature maps to carry signal past AdaIN's instance normalisation, measured per image and channel at every style
layer of a run's EMA generator as the peak ratio max|h| / mean|h| over the map's pixels.

Where: an AdaIN generator (StyleGAN, StyleGAN2 config A) at the input of AdaIN's instance normalisation, the tensor
whose mean and variance the normalisation divides out, so the tensor a droplet exists to dominate; a modulated one
(StyleGAN2 configs B–F, Figure 2d) at the output of the modulated, demodulated conv, where §2.2 moves the
normalisation: demodulation (Eq. 3) scales the conv's output to the unit standard deviation instance norm used to
impose, but from the weights' statistics, not the map's, so it is the same place in the layer (Figure 2b → 2c/d:
"Norm std" acts on the conv's output) with nothing a spike could fool. A Progressive GAN generator is refused: its
pixel norm divides each pixel by its length across the channels, not each map by statistics over its pixels, so a
spatial spike does not dominate it and the statistic there would not measure what §2.1 describes.

The statistic: a flat map gives 1, a single spike in an n-pixel map gives n, and ratio = n / s where s = Σ|h| / max|h|
is the number of pixels the map's magnitude would fill at its peak. A map counts as spiked when its ratio exceeds
`spike_threshold(n)` = max(n/16, 8): its magnitude concentrated in under 1/16 of its pixels (a 2×2 blob of an 8×8
map, 4×4 of 16×16, 8×8 of 32×32), and never under 8, because at 4×4 and 8×8 n/16 (1 and 4) is noise level.
Simulated (numpy, 200,000 maps per size, 50,000 at 1024 pixels): i.i.d. Gaussian maps have median ratios 2.6, 3.2,
3.8, 4.3 at 16, 64, 256, 1024 pixels, exceed n/16 in 8 % of 8×8 maps and max(n/16, 8) in none; the leaky ReLU of a
Gaussian (AdaIN's input is post-activation) exceeds max(n/16, 8) in 0.08 % of 4×4 maps, 0.6 % of 8×8 ones and none
from 16×16 up. So the fraction above the threshold means "droplets" from 16×16 up; at 4×4 and 8×8 it is kept but
near its noise floor.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganeval.devices import resolve_device
from ganeval.errors import GanevalInputError
from ganeval.files import write_atomically
from pggan.config import PRESETS, TrainConfig
from pggan.generate import load_run_generator
from pggan.style import StyleGenerator

SPIKE_AREA = 1 / 16  # a spiked map's magnitude fills under this fraction of its pixels (ratio > n · 16⁻¹ … )
SPIKE_MIN_RATIO = 8.0  # … and never under 8: n/16 is noise level at 4×4 and 8×8 (module docstring)
# Settings a run may change without leaving its preset (latent size, learning rates): ignored when naming it.
_NOT_PRESET_SWITCHES = {"latent_size", "g_lr", "d_lr"}


def peak_ratios(features: torch.Tensor) -> torch.Tensor:
    """§2.1's spike measure per sample and channel of [N, C, H, W]: max over pixels |h| / mean over pixels |h|, in
    float64 on the CPU, [N, C]; NaN for an all-zero map (no magnitude to be concentrated)."""
    magnitude = features.detach().abs().flatten(2).double()
    peak, mean = magnitude.amax(dim=2), magnitude.mean(dim=2)
    return torch.where(mean > 0, peak / mean.clamp_min(torch.finfo(torch.float64).tiny),
                       torch.full_like(mean, math.nan)).cpu()


def spike_threshold(pixels: int) -> float:
    """The peak ratio above which a map of `pixels` pixels counts as a droplet (§2.1): max(n/16, 8)."""
    return max(pixels * SPIKE_AREA, SPIKE_MIN_RATIO)


def summarise_peak_ratios(ratios: np.ndarray, pixels: int) -> dict[str, Any]:
    """Median, 99th percentile (linear interpolation) and fraction above `spike_threshold` of the peak ratios of the
    (image, channel) maps of one resolution, all-zero maps (NaN) left out and counted."""
    ratios = np.asarray(ratios, dtype=np.float64).ravel()
    measured = ratios[~np.isnan(ratios)]
    threshold = spike_threshold(pixels)
    empty = measured.size == 0
    return {"pixels": pixels, "maps": int(measured.size), "zero_maps": int(ratios.size - measured.size),
            "median": None if empty else float(np.median(measured)),
            "p99": None if empty else float(np.percentile(measured, 99)),
            "threshold": threshold,
            "fraction_above": None if empty else float(np.mean(measured > threshold))}


def style_layer_points(generator: StyleGenerator) -> list[tuple[str, torch.nn.Module, bool]]:
    """(name, module, read its input?) of each style layer's measuring point: AdaIN's input (forward pre-hook on
    `epilogues[i].adain`), or the modulated conv's output (forward hook on `layers[i].conv`)."""
    if generator.style_block == "modulated":
        return [(f"layers.{index}.conv", layer.conv, False) for index, layer in enumerate(generator.layers)]
    return [(f"epilogues.{index}.adain", epilogue.adain, True) for index, epilogue in enumerate(generator.epilogues)]


def preset_name(config: TrainConfig) -> str | None:
    """The preset(s) the run's configuration is: equal to the preset's value of every setting any preset sets
    (latent size and learning rates aside; budgets set none of them), joined by '=' where two presets are the same
    (stylegan_f=stylegan2_a); None when it is no preset (e.g. a changed switch)."""
    switches = {key for preset in PRESETS.values() for key in preset} - _NOT_PRESET_SWITCHES
    defaults = TrainConfig()
    matches = [name for name, preset in PRESETS.items()
               if all(getattr(config, key) == preset.get(key, getattr(defaults, key)) for key in switches)]
    return "=".join(matches) or None


@contextmanager
def style_features(generator: StyleGenerator, record: Callable[[str, torch.Tensor], None]) -> Iterator[None]:
    """Within the block, every forward of `generator` calls record(layer name, feature map) at each style layer's
    measuring point (`style_layer_points`: AdaIN's input, or the modulated conv's output; StyleGAN2 §2.1–2.2)."""
    def read_input(name: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
            record(name, inputs[0])  # returns None whatever `record` returns: the forward's inputs stay as they are

        return hook

    def read_output(name: str) -> Callable[..., None]:
        def hook(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> None:
            record(name, output)  # returns None: the output stays as it is

        return hook

    handles = [module.register_forward_pre_hook(read_input(name)) if reads_input
               else module.register_forward_hook(read_output(name))
               for name, module, reads_input in style_layer_points(generator)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


@torch.no_grad()
def generator_peak_ratios(generator: StyleGenerator, latents: torch.Tensor, resolution: int, alpha: float = 1.0, *,
                          batch_size: int = 64) -> list[dict[str, Any]]:
    """The per-resolution summaries (`summarise_peak_ratios`, with the layers pooled) of `generator`'s maps at every
    style layer's measuring point for the images of `latents` at `resolution`/`alpha` (§2.1); noise inputs drawn
    from the default generators. FloatingPointError if a map holds NaN/inf."""
    collected: dict[int, list[torch.Tensor]] = {}
    layers_at: dict[int, set[str]] = {}

    def record(name: str, features: torch.Tensor) -> None:
        if not torch.isfinite(features).all():
            raise FloatingPointError(f"the generator's feature maps at {name} hold NaN/inf (a diverged run)")
        layers_at.setdefault(features.shape[-1], set()).add(name)
        collected.setdefault(features.shape[-1], []).append(peak_ratios(features).flatten())

    with style_features(generator, record):
        for start in range(0, len(latents), batch_size):
            generator(latents[start:start + batch_size], resolution, alpha)
    return [{"resolution": size, "layers": sorted(layers_at[size], key=lambda name: int(name.split(".")[1])),
             **summarise_peak_ratios(torch.cat(collected[size]).numpy(), size * size)} for size in sorted(collected)]


@torch.no_grad()
def droplet_statistics(checkpoint: str | os.PathLike, *, num_images: int = 256, seed: int = 0,
                       batch_size: int = 64, device: str | torch.device | None = None) -> dict[str, Any]:
    """StyleGAN2 §2.1's droplet statistic of the EMA generator of `checkpoint` (a run dir's newest that loads):
    `num_images` images drawn as `pggan generate --seed` draws them (same latents and noise, at the resolution/α the
    run was training at), the peak ratio of every (image, channel) map at every style layer's measuring point,
    summarised per resolution (its layers pooled); a plain JSON-able dict."""
    if num_images < 1:
        raise GanevalInputError(f"--num-images must be ≥ 1, got {num_images}")
    target = resolve_device(device)
    generator, config, state, path = load_run_generator(checkpoint, device=target)
    if not isinstance(generator, StyleGenerator):
        raise GanevalInputError(f"{checkpoint}: a Progressive GAN run (mapping_layers 0) has no style layers; the "
                                "droplet statistic measures AdaIN's or the modulated conv's feature maps (StyleGAN "
                                "and StyleGAN2 presets)")
    latents = torch.randn(num_images, config.latent_size, generator=torch.Generator().manual_seed(seed))
    with torch.random.fork_rng(devices=[target] if target.type == "cuda" else []):
        torch.manual_seed(seed)  # the noise inputs' draws, as `generate`
        try:
            resolutions = generator_peak_ratios(generator, latents.to(target), state.resolution, state.alpha,
                                                batch_size=batch_size)
        except FloatingPointError as error:
            raise GanevalInputError(f"{path}: {error}") from None
    return {"run": str(checkpoint), "checkpoint": str(path), "preset": preset_name(config),
            "style_block": generator.style_block,
            "measured_at": "modulated conv output" if generator.style_block == "modulated" else "AdaIN input",
            "num_images": num_images, "seed": seed, "resolution": state.resolution, "alpha": float(state.alpha),
            "threshold_rule": f"peak ratio > max(pixels/{round(1 / SPIKE_AREA)}, {SPIKE_MIN_RATIO:g})",
            "resolutions": resolutions}


def run_label(result: dict[str, Any]) -> str:
    """A run's name in tables and figures: its preset and its folder, e.g. 'stylegan2_b (runs/B)'."""
    return f"{result['preset']} ({result['run']})" if result["preset"] else result["run"]


def plot_droplets(results: list[dict[str, Any]], out: str | os.PathLike) -> None:
    """PNG of the peak ratio's median and 99th percentile against resolution, one line per run (matplotlib's
    object API, no pyplot), written atomically."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogFormatter

    figure = Figure(figsize=(10, 4), layout="constrained")
    axes = figure.subplots(1, 2)
    for result in results:
        sizes = [row["resolution"] for row in result["resolutions"] if row["median"] is not None]
        for axis, key in zip(axes, ("median", "p99")):
            values = [row[key] for row in result["resolutions"] if row[key] is not None]
            axis.plot(sizes, values, marker="o", label=run_label(result))
    sizes = sorted({row["resolution"] for result in results for row in result["resolutions"]})
    for axis, title in zip(axes, ("median peak ratio", "99th percentile of the peak ratio")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xticks(sizes, [f"{size}×{size}" for size in sizes])
        axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))  # 1, 10, 100: not 10⁰, 10¹
        axis.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))  # narrow ranges
        axis.set_xlabel("feature-map resolution")
        axis.set_ylabel("max|h| / mean|h| per image and channel")
        axis.set_title(title)
        axis.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize="small")
    figure.suptitle("StyleGAN2 §2.1 droplets: feature-map peak ratio (flat map 1, one spike in n pixels n)")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110)
    write_atomically(Path(out), lambda temporary: temporary.write_bytes(buffer.getvalue()))
