"""StyleGAN's generator (Karras et al. 2019, §2): a mapping network z → w, and a synthesis network whose every conv
is followed by [noise] → activation → AdaIN with a style from w, starting from a learned constant or from PGGAN's
dense input, grown with Progressive GAN's fade-in (or trained at the final resolution from the start).

A class of its own beside PGGAN's `pggan.networks.Generator`, not switches inside it: the two share the widths, the
resampling and the fade-in convention (`forward(latents, resolution, alpha)`, so training, sampling and the generator
metrics take either), but differ after every conv (AdaIN instead of pixel norm) and in what every layer reads (a
style of w instead of nothing), so one class would branch at every layer. Row (B) of StyleGAN's Table 1, the tuned
Progressive GAN, is PGGAN's Generator with blurred resampling; rows (C)–(F) are this class.

Random draws: training passes every forward its draws (`StyleDraws`: whether to mix, the crossover, the second
latents, the noise images), drawn for the whole minibatch from the trainer's seeded CPU sampler, which checkpoints
save, each rank keeping its slice; so a resumed run repeats an uninterrupted one on any device, and N ranks compute
the step of one process. A forward given none draws them from the default generators (sampling: `pggan generate`
seeds them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from pggan.layers import (
    LEAKY_SLOPE,
    EqualizedConv2d,
    EqualizedLinear,
    ModulatedConv2d,
    PixelNorm,
    blurred_upsample2x,
    fade_in,
    fading,
    num_features,
    resolution_log2,
    upsample2x,
)

W_AVG_BETA = 0.995  # §3.1 truncation trick: the decay of the running average of w (reference dlatent_avg_beta)
INSTANCE_NORM_EPSILON = 1e-8  # reference instance_norm


class MappingLinear(nn.Module):
    """Dense layer with a learning-rate multiplier λ (§C: "lr for the mapping network reduced by two orders of
    magnitude", λ = 0.01): weight stored as N(0, 1/λ²) and used as w·(gain/√fan_in)·λ, bias used as b·λ, so Adam's
    steps on the stored values move the used ones λ times as fast."""

    def __init__(self, in_features: int, out_features: int, *, lr_mul: float, gain: float = math.sqrt(2.0),
                 equalized: bool = True):
        super().__init__()
        he_std = gain / math.sqrt(in_features)
        # Without the equalized lr the He std is stored in the weight (as EqualizedLinear), λ still applied at run time.
        init_std, self.weight_scale = (1.0 / lr_mul, he_std * lr_mul) if equalized else (he_std / lr_mul, lr_mul)
        self.bias_scale = lr_mul
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * init_std)
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.weight_scale, self.bias * self.bias_scale)


class MappingNetwork(nn.Module):
    """f: z → w (§2, Figure 1b): [z onto the unit hypersphere, as PGGAN's] then `num_layers` fully connected layers
    of width `latent_size`, each with leaky ReLU 0.2 and the learning-rate multiplier `lr_mul`."""

    def __init__(self, latent_size: int, num_layers: int, *, lr_mul: float = 0.01, normalize_latents: bool = True,
                 equalized: bool = True):
        super().__init__()
        self.normalize_latents = normalize_latents
        layers: list[nn.Module] = []
        for _layer in range(num_layers):
            layers += [MappingLinear(latent_size, latent_size, lr_mul=lr_mul, equalized=equalized),
                       nn.LeakyReLU(LEAKY_SLOPE)]
        self.layers = nn.Sequential(*layers)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        x = latents
        if self.normalize_latents:
            x = x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)
        return self.layers(x)


def instance_norm(x: torch.Tensor) -> torch.Tensor:
    """(x − μ(x)) / σ(x) per sample and channel over the pixels, σ² + 1e-8 (AdaIN's normalisation, eq. 1)."""
    x = x - x.mean(dim=(2, 3), keepdim=True)
    return x * torch.rsqrt(x.square().mean(dim=(2, 3), keepdim=True) + INSTANCE_NORM_EPSILON)


class AdaIN(nn.Module):
    """Eq. 1: AdaIN(x_i, y) = y_{s,i}·(x_i − μ(x_i))/σ(x_i) + y_{b,i}, the style y = (y_s, y_b) a learned affine
    transform "A" of w; y_s's bias starts at 1 (the reference adds 1 to a zero-initialised one)."""

    def __init__(self, w_size: int, channels: int, *, equalized: bool = True):
        super().__init__()
        self.affine = EqualizedLinear(w_size, 2 * channels, gain=1.0, equalized=equalized)
        with torch.no_grad():
            self.affine.bias[:channels] = 1.0

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        scale, bias = self.affine(w).unsqueeze(2).unsqueeze(3).chunk(2, dim=1)
        return instance_norm(x) * scale + bias


class NoiseInput(nn.Module):
    """§2 "stochastic variation": a fresh N(0, 1) image per sample, one channel, added to every channel scaled by a
    learned per-channel factor ("B" in Figure 1b) that starts at 0."""

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        """x + noise·B, `noise` [N, 1, H, W] (drawn from the device's default generator when None)."""
        if noise is None:
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], device=x.device, dtype=x.dtype)
        return x + noise.to(x.dtype) * self.weight.reshape(1, -1, 1, 1)


class StyleEpilogue(nn.Module):
    """What follows every conv of the synthesis network (reference layer_epilogue): [noise] → activation →
    [pixel norm] → AdaIN with this layer's w. The conv's bias stands for the reference's bias after the noise (the
    two additions commute)."""

    def __init__(self, channels: int, w_size: int, *, noise_inputs: bool, pixelnorm: bool, activation: str,
                 equalized: bool):
        super().__init__()
        self.noise = NoiseInput(channels) if noise_inputs else None
        self.activation = nn.LeakyReLU(LEAKY_SLOPE) if activation == "lrelu" else nn.ReLU()
        self.pixelnorm = PixelNorm() if pixelnorm else nn.Identity()
        self.adain = AdaIN(w_size, channels, equalized=equalized)

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        noisy = self.noise(x, noise) if self.noise is not None else x
        return self.adain(self.pixelnorm(self.activation(noisy)), w)


class StyleAffine(EqualizedLinear):
    """"A" of StyleGAN2 Figure 2d: w → s, one scale per input map of a modulated conv, its bias starting at 1 (the
    reference's bias_init=1)."""

    def __init__(self, w_size: int, channels: int):
        super().__init__(w_size, channels, gain=1.0)
        with torch.no_grad():
            self.bias.fill_(1.0)


class ModulatedStyleLayer(nn.Module):
    """StyleGAN2 §2.2, Figure 2d: s = A(w), a modulated and demodulated k×k conv (Eq. 1–3), then [noise] and the
    bias outside the style block, and the activation with the reference's gain √2 (demodulation leaves the conv's
    outputs at unit variance; He's gain is applied after the activation instead)."""

    def __init__(self, in_channels: int, out_channels: int, w_size: int, *, noise_inputs: bool, activation: str):
        super().__init__()
        self.affine = StyleAffine(w_size, in_channels)
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, demodulate=True, bias=False)
        self.noise = NoiseInput(out_channels) if noise_inputs else None
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.activation = nn.LeakyReLU(LEAKY_SLOPE) if activation == "lrelu" else nn.ReLU()

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        x = self.conv(x, self.affine(w))
        if self.noise is not None:
            x = self.noise(x, noise)
        return self.activation(x + self.bias.reshape(1, -1, 1, 1)) * math.sqrt(2.0)


class ModulatedToRGB(nn.Module):
    """StyleGAN2's toRGB (Figure 2d, reference ToRGBLayer): s = A(w), a modulated 1×1 conv without demodulation,
    plus the bias, no activation."""

    def __init__(self, in_channels: int, num_channels: int, w_size: int):
        super().__init__()
        self.affine = StyleAffine(w_size, in_channels)
        self.conv = ModulatedConv2d(in_channels, num_channels, 1, demodulate=False, bias=True)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, self.affine(w))


def truncate(styles: torch.Tensor, w_avg: torch.Tensor, psi: float, cutoff: int | None = None) -> torch.Tensor:
    """§3.1 eq. 3, the truncation trick: w' = w̄ + ψ(w − w̄) at the layers before `cutoff` (all layers when None);
    `styles` is [N, layers, w_size]."""
    truncated = torch.lerp(w_avg.to(styles.dtype), styles, psi)
    if cutoff is None or cutoff >= styles.shape[1]:
        return truncated
    before = torch.arange(styles.shape[1], device=styles.device).reshape(1, -1, 1) < cutoff
    return torch.where(before, truncated, styles)


def mix_styles(styles: torch.Tensor, other: torch.Tensor, crossover: int) -> torch.Tensor:
    """§3.1 style mixing: the layers before `crossover` take `styles`, the others `other` (both [N, layers, w])."""
    before = torch.arange(styles.shape[1], device=styles.device).reshape(1, -1, 1) < crossover
    return torch.where(before, styles, other)


@dataclass
class StyleDraws:
    """The random draws of one training forward of a StyleGenerator, this rank's slice of the whole minibatch's:
    style mixing's crossover (None: this minibatch does not mix) and second latents [N, D] (§3.1), and one noise
    image [N, 1, H, W] per layer in use (§2; empty without noise inputs)."""

    crossover: int | None
    mix_latents: torch.Tensor | None
    noise: list[torch.Tensor]


class _SumOverRanks(torch.autograd.Function):
    """Σ over the ranks of a tensor, differentiable: the gradient of every rank's copy of the sum is summed too."""

    @staticmethod
    def forward(ctx: Any, values: torch.Tensor) -> torch.Tensor:
        summed = values.clone()
        dist.all_reduce(summed)
        return summed

    @staticmethod
    def backward(ctx: Any, gradient: torch.Tensor) -> torch.Tensor:
        summed = gradient.clone()
        dist.all_reduce(summed)
        return summed


def mean_over_ranks(values: torch.Tensor) -> torch.Tensor:
    """The mean of the ranks' `values` under torch.distributed (equal slices: the whole minibatch's mean), else
    `values`; differentiable, its backward sums the ranks' gradients (which training then averages as for any
    loss, so N ranks step as one process)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return values
    return _SumOverRanks.apply(values) / dist.get_world_size()


class StyleGenerator(nn.Module):
    """Figure 1b: mapping network, then 4×4 (constant or dense input, 3×3 conv) → [2× upsample, 3×3 conv, 3×3 conv]*
    → 1×1 toRGB, one style per conv (two per resolution), at the widths nf(stage) of PGGAN's generator.

    `style_block="modulated"`: StyleGAN2's layers (Karras et al. 2020, Figure 2d) instead of conv + AdaIN;
    `architecture="skip"`: its output skips (Figure 7b), the image the sum of every resolution's upsampled toRGB."""

    def __init__(self, resolution: int, num_channels: int, *, latent_size: int = 512, fmap_base: int = 8192,
                 fmap_decay: float = 1.0, fmap_max: int = 512, normalize_latents: bool = True,
                 equalized_lr: bool = True, pixelnorm: bool = False, activation: str = "lrelu",
                 mapping_layers: int = 8, mapping_lr_mul: float = 0.01, const_input: bool = True,
                 noise_inputs: bool = True, style_mixing_prob: float = 0.9, blur_resample: bool = True,
                 style_block: str = "adain", architecture: str = "orig"):
        super().__init__()
        self.resolution_log2 = resolution_log2(resolution)
        self.latent_size = latent_size
        self.num_layers = 2 * (self.resolution_log2 - 1)  # two convs per resolution: 18 at 1024×1024
        self.style_mixing_prob = style_mixing_prob
        self.noise_inputs = noise_inputs
        self.style_block = style_block
        self.architecture = architecture
        self.upsample = blurred_upsample2x if blur_resample else upsample2x

        def nf(stage: int) -> int:
            return num_features(stage, fmap_base, fmap_decay, fmap_max)

        def epilogue(channels: int) -> StyleEpilogue:
            return StyleEpilogue(channels, latent_size, noise_inputs=noise_inputs, pixelnorm=pixelnorm,
                                 activation=activation, equalized=equalized_lr)

        self.mapping = MappingNetwork(latent_size, mapping_layers, lr_mul=mapping_lr_mul,
                                      normalize_latents=normalize_latents, equalized=equalized_lr)
        # §2: "the synthesis network starts from a learned 4×4×512 constant" (ones, as the reference), or the
        # traditional input: PGGAN's dense layer, here of the first layer's w (reference, rows B and C).
        self.const_input = const_input
        if const_input:
            self.const = nn.Parameter(torch.ones(1, nf(1), 4, 4))
        else:
            self.dense = EqualizedLinear(latent_size, nf(1) * 16, gain=math.sqrt(2) / 4, equalized=equalized_lr)
        if style_block == "modulated":
            # StyleGAN2 (reference SynthesisNetwork): one modulated layer at 4×4, two per resolution above it, each
            # resolution's toRGB reading the w of the next layer; as many w's as StyleGAN's, 2 per resolution.
            def layer(in_channels: int, out_channels: int) -> ModulatedStyleLayer:
                return ModulatedStyleLayer(in_channels, out_channels, latent_size, noise_inputs=noise_inputs,
                                           activation=activation)

            self.layers = nn.ModuleList([layer(nf(1), nf(1))])
            self.to_rgb = nn.ModuleList([ModulatedToRGB(nf(1), num_channels, latent_size)])
            for res in range(3, self.resolution_log2 + 1):
                self.layers.extend([layer(nf(res - 2), nf(res - 1)), layer(nf(res - 1), nf(res - 1))])
                self.to_rgb.append(ModulatedToRGB(nf(res - 1), num_channels, latent_size))
        else:
            self.epilogues = nn.ModuleList([epilogue(nf(1)), epilogue(nf(1))])
            self.convs = nn.ModuleList([EqualizedConv2d(nf(1), nf(1), 3, equalized=equalized_lr)])
            self.to_rgb = nn.ModuleList([EqualizedConv2d(nf(1), num_channels, 1, gain=1.0, equalized=equalized_lr)])
            for res in range(3, self.resolution_log2 + 1):
                self.convs.extend([EqualizedConv2d(nf(res - 2), nf(res - 1), 3, equalized=equalized_lr),
                                   EqualizedConv2d(nf(res - 1), nf(res - 1), 3, equalized=equalized_lr)])
                self.epilogues.extend([epilogue(nf(res - 1)), epilogue(nf(res - 1))])
                self.to_rgb.append(EqualizedConv2d(nf(res - 1), num_channels, 1, gain=1.0, equalized=equalized_lr))
        # w̄ for the truncation trick: saved with the weights, copied (not averaged) into the EMA generator.
        self.register_buffer("w_avg", torch.zeros(latent_size))

    def noise_resolutions(self, num_layers: int) -> list[int]:
        """The resolution of each noise input of the synthesis with `num_layers` styles: AdaIN blocks 4, 4, 8, 8, …
        (a noise per style); modulated ones 4, 8, 8, 16, 16, … (the last style is toRGB's, which takes no noise)."""
        if self.style_block == "modulated":
            return [2 ** ((layer + 1) // 2 + 2) for layer in range(num_layers - 1)]
        return [2 ** (layer // 2 + 2) for layer in range(num_layers)]

    def draw(self, sampler: torch.Generator, minibatch: int, resolution: int, *, rank: int = 0, world_size: int = 1,
             device: torch.device | str = "cpu") -> StyleDraws:
        """The draws of one training forward at `resolution` for the whole `minibatch`, from `sampler` (CPU), in
        this order: mix? (probability style_mixing_prob), crossover uniform in 1 … L − 1, second latents, then one
        noise image per layer; this rank's slice of them, on `device`."""
        num_layers = 2 * (resolution_log2(resolution) - 1)
        local = slice(rank * minibatch // world_size, (rank + 1) * minibatch // world_size)
        crossover, mix_latents = None, None
        if self.style_mixing_prob > 0 and float(torch.rand((), generator=sampler)) < self.style_mixing_prob:
            crossover = int(torch.randint(1, num_layers, (), generator=sampler))
            mix_latents = torch.randn(minibatch, self.latent_size, generator=sampler)[local].to(device)
        noise = [torch.randn(minibatch, 1, size, size, generator=sampler)[local].to(device)
                 for size in self.noise_resolutions(num_layers)] if self.noise_inputs else []
        return StyleDraws(crossover, mix_latents, noise)

    def styles(self, latents: torch.Tensor, num_layers: int, *, truncation_psi: float = 1.0,
               truncation_cutoff: int | None = None, draws: StyleDraws | None = None) -> torch.Tensor:
        """The w of each of the first `num_layers` layers, [N, num_layers, w_size]. In training mode it updates
        w̄ ← β·w̄ + (1 − β)·mean(w), β = 0.995, the mean over the whole minibatch (all ranks), and mixes styles with
        probability style_mixing_prob (§3.1: a second z's w from a crossover drawn uniformly from 1 … num_layers − 1;
        `draws` gives the decision, crossover and latents, else they are drawn here); then the truncation trick when
        ψ ≠ 1."""
        w = self.mapping(latents)
        styles = w.unsqueeze(1).expand(-1, num_layers, -1)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(mean_over_ranks(w.detach().mean(dim=0)).to(self.w_avg.dtype), 1.0 - W_AVG_BETA)
            if draws is None and self.style_mixing_prob > 0 and float(torch.rand(())) < self.style_mixing_prob:
                crossover = int(torch.randint(1, num_layers, ()))
                draws = StyleDraws(crossover, torch.randn(latents.shape, dtype=torch.float32), [])
            if draws is not None and draws.crossover is not None:
                other = self.mapping(draws.mix_latents.to(latents.device, latents.dtype))
                styles = mix_styles(styles, other.unsqueeze(1).expand(-1, num_layers, -1), draws.crossover)
        if truncation_psi != 1.0:
            styles = truncate(styles, self.w_avg, truncation_psi, truncation_cutoff)
        return styles

    def forward(self, latents: torch.Tensor, resolution: int, alpha: float | torch.Tensor = 1.0, *,
                all_scales: bool = False, truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
                draws: StyleDraws | None = None) -> torch.Tensor | list[torch.Tensor]:
        """Images at `resolution` as `pggan.networks.Generator.forward` (fade-in by `alpha`, `all_scales` for
        MSG-GAN), from the styles of `latents` (truncated by ψ at the layers before the cutoff); `draws`: training's
        random draws (`draw`), else drawn from the default generators."""
        res_log2 = resolution_log2(resolution)
        if res_log2 > self.resolution_log2:
            raise ValueError(f"generator resolution {resolution} exceeds its maximum {2**self.resolution_log2}")
        if all_scales and (res_log2 != self.resolution_log2 or fading(alpha)):
            raise ValueError(f"all_scales runs at the full resolution {2**self.resolution_log2} with α = 1, got "
                             f"{resolution} and α = {alpha}")
        styles = self.styles(latents, 2 * (res_log2 - 1), truncation_psi=truncation_psi,
                             truncation_cutoff=truncation_cutoff, draws=draws)
        return self.synthesis(styles, alpha, all_scales=all_scales, noise=draws.noise if draws is not None else None)

    def synthesis(self, styles: torch.Tensor, alpha: float | torch.Tensor = 1.0, *, all_scales: bool = False,
                  noise: list[torch.Tensor] | None = None) -> torch.Tensor | list[torch.Tensor]:
        """g: the images of `styles` [N, layers, w_size], at the resolution whose layers they are (2 per resolution
        from 4×4), the newest block blended with the upsampled previous toRGB by `alpha` as in PGGAN, or with the
        skip architecture the sum of every resolution's upsampled toRGB; `noise`: one image per noise input
        (`noise_resolutions`), else drawn per layer."""
        num_blocks = styles.shape[1] // 2
        noise = noise or [None] * styles.shape[1]
        if self.const_input:
            x = self.const.expand(styles.shape[0], -1, -1, -1).to(styles.dtype)
        else:
            x = self.dense(styles[:, 0]).reshape(styles.shape[0], -1, 4, 4)
        modulated = self.style_block == "modulated"
        x = self.layers[0](x, styles[:, 0], noise[0]) if modulated else self.epilogues[0](x, styles[:, 0], noise[0])
        scales, images = [], None
        for index in range(num_blocks):  # block k works at 2**(k+2)
            previous = x
            if index > 0:
                x = self.upsample(x)
                if modulated:  # its layers are 2k − 1 and 2k, its toRGB reads w 2k + 1
                    x = self.layers[2 * index - 1](x, styles[:, 2 * index - 1], noise[2 * index - 1])
                    x = self.layers[2 * index](x, styles[:, 2 * index], noise[2 * index])
                else:  # its layers are 2k and 2k + 1
                    x = self.epilogues[2 * index](self.convs[2 * index - 1](x), styles[:, 2 * index],
                                                  noise[2 * index])
            if not modulated:
                x = self.epilogues[2 * index + 1](self.convs[2 * index](x), styles[:, 2 * index + 1],
                                                  noise[2 * index + 1])
            if all_scales:
                scales.append(self.rgb(index, x, styles))
            elif self.architecture == "skip":  # Figure 7b: upsample(sum of the lower toRGBs) + this one's
                rgb = self.rgb(index, x, styles)
                images = rgb if images is None else self.upsample(images) + rgb
        if all_scales:
            return scales
        if self.architecture == "skip":
            return images
        images = self.rgb(num_blocks - 1, x, styles)
        if num_blocks > 1 and fading(alpha):  # PGGAN Figure 2(b): (1-α)·upsample(toRGB_old) + α·toRGB_new
            images = fade_in(upsample2x(self.rgb(num_blocks - 2, previous, styles)), images, alpha)
        return images

    def rgb(self, block: int, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """Block `block`'s toRGB of its features `x`: a 1×1 conv (AdaIN blocks), or StyleGAN2's modulated one with
        the w of layer 2·block + 1."""
        if self.style_block == "modulated":
            return self.to_rgb[block](x, styles[:, 2 * block + 1])
        return self.to_rgb[block](x)
