"""Generator and discriminator of Table 2 (§A.1), grown one resolution at a time with the fade-in of Figure 2, or
switched to MSG-GAN's multi-scale gradients (Karnewar & Wang 2020): G's image at every scale feeds D.

Both networks hold every resolution's layers from the start; `forward` runs only the layers the current
resolution needs, so growing is a change of arguments, not of modules (the optimiser sees fixed parameters).
`build_networks` puts StyleGAN's generator (pggan.style) in G's place when the config has a mapping network; the
widths and resampling both generators use are in pggan.layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from pggan.config import D_ARCHITECTURES, TrainConfig, msg_scales
from pggan.layers import (
    LEAKY_SLOPE,
    BinomialBlur,
    EqualizedConv2d,
    EqualizedLinear,
    MinibatchDiscrimination,
    MinibatchStddev,
    MultiScaleCombine,
    PixelNorm,
    ResidualBlock,
    blurred_upsample2x,
    downsample2x,
    fade_in,
    fading,
    num_features,
    resolution_log2,
    upsample2x,
)
from pggan.style import StyleGenerator


class Generator(nn.Module):
    """Table 2 generator: latent → 4×4 (dense + 3×3 conv) → [2× upsample, 3×3 conv, 3×3 conv]* → 1×1 toRGB."""

    def __init__(self, resolution: int, num_channels: int, *, latent_size: int = 512, fmap_base: int = 8192,
                 fmap_decay: float = 1.0, fmap_max: int = 512, normalize_latents: bool = True,
                 equalized_lr: bool = True, pixelnorm: bool = True, batchnorm: bool = False,
                 activation: str = "lrelu", tanh_at_end: bool = False, blur_resample: bool = False):
        super().__init__()
        self.resolution_log2 = resolution_log2(resolution)
        self.latent_size = latent_size
        self.normalize_latents = normalize_latents
        self.tanh_at_end = tanh_at_end
        # Between blocks; the fade-in's toRGB images are upsampled by nearest neighbour either way (as StyleGAN's).
        self.upsample = blurred_upsample2x if blur_resample else upsample2x

        def nf(stage: int) -> int:
            return num_features(stage, fmap_base, fmap_decay, fmap_max)

        def post(channels: int) -> list[nn.Module]:
            # conv → [BN, configs a–c] → activation → [pixel norm "after each convolutional layer", §4.2]
            norm = [nn.BatchNorm2d(channels)] if batchnorm else []
            act = nn.LeakyReLU(LEAKY_SLOPE) if activation == "lrelu" else nn.ReLU()
            return [*norm, act, *([PixelNorm()] if pixelnorm else [])]

        # The 4×4 dense layer is the reference's 4×4 'full' conv on a 1×1 input: fan_in = latent·16, i.e.
        # gain √2/4 over √latent_size.
        self.dense = EqualizedLinear(latent_size, nf(1) * 16, gain=math.sqrt(2) / 4, equalized=equalized_lr)
        self.dense_post = nn.Sequential(*post(nf(1)))
        self.blocks = nn.ModuleList([nn.Sequential(EqualizedConv2d(nf(1), nf(1), 3, equalized=equalized_lr),
                                                   *post(nf(1)))])
        self.to_rgb = nn.ModuleList([EqualizedConv2d(nf(1), num_channels, 1, gain=1.0, equalized=equalized_lr)])
        for res in range(3, self.resolution_log2 + 1):
            self.blocks.append(nn.Sequential(
                EqualizedConv2d(nf(res - 2), nf(res - 1), 3, equalized=equalized_lr), *post(nf(res - 1)),
                EqualizedConv2d(nf(res - 1), nf(res - 1), 3, equalized=equalized_lr), *post(nf(res - 1))))
            self.to_rgb.append(EqualizedConv2d(nf(res - 1), num_channels, 1, gain=1.0, equalized=equalized_lr))

    def forward(self, latents: torch.Tensor, resolution: int, alpha: float | torch.Tensor = 1.0, *,
                all_scales: bool = False) -> torch.Tensor | list[torch.Tensor]:
        """Images at `resolution`; the newest block is blended with the upsampled previous toRGB by `alpha` (a
        0-dim tensor always blends: torch.compile then keeps one graph for the whole fade-in).

        `all_scales` (MSG-GAN §3): the list of every block's toRGB image, 4×4 first, at the full resolution with
        α = 1; its last image is the one `forward` returns without it.
        """
        res_log2 = resolution_log2(resolution)
        if res_log2 > self.resolution_log2:
            raise ValueError(f"generator resolution {resolution} exceeds its maximum {2**self.resolution_log2}")
        if all_scales and (res_log2 != self.resolution_log2 or fading(alpha)):
            raise ValueError(f"all_scales runs at the full resolution {2**self.resolution_log2} with α = 1, got "
                             f"{resolution} and α = {alpha}")
        x = latents
        if self.normalize_latents:  # §4.2 / A.1: latents normalised onto the unit hypersphere
            x = x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)
        x = self.dense_post(self.dense(x).reshape(x.shape[0], -1, 4, 4))
        previous = x
        scales = []
        for index in range(res_log2 - 1):  # block 0 is 4×4, block k works at 2**(k+2)
            previous = x
            x = self.blocks[index](x if index == 0 else self.upsample(x))
            if all_scales:
                image = self.to_rgb[index](x)
                scales.append(torch.tanh(image) if self.tanh_at_end else image)
        if all_scales:
            return scales
        images = self.to_rgb[res_log2 - 2](x)
        if res_log2 > 2 and fading(alpha):  # Figure 2(b): (1-α)·upsample(toRGB_old) + α·toRGB_new
            images = fade_in(upsample2x(self.to_rgb[res_log2 - 3](previous)), images, alpha)
        return torch.tanh(images) if self.tanh_at_end else images


class Discriminator(nn.Module):
    """Table 2 discriminator: 1×1 fromRGB → [3×3 conv, 3×3 conv, 2×2 avg pool]* → 4×4 block → linear score.

    `architecture` "resnet" (StyleGAN2, Figure 7c) adds to each of those blocks a 1×1 skip of its downsampled input,
    the sum scaled by 1/√2 (pggan.layers.ResidualBlock); "orig" is Table 2's, drawing the same weights from a seed.
    """

    def __init__(self, resolution: int, num_channels: int, *, fmap_base: int = 8192, fmap_decay: float = 1.0,
                 fmap_max: int = 512, equalized_lr: bool = True, layernorm: bool = False,
                 mbstd_group_size: int = 4, mbdisc_kernels: int = 0, msg: bool = False, msg_combine: str = "simple",
                 msg_scales: Sequence[int] = (), blur_resample: bool = False, architecture: str = "orig"):
        super().__init__()
        if architecture not in D_ARCHITECTURES:
            raise ValueError(f"unknown discriminator architecture {architecture!r}; choose one of "
                             f"{', '.join(D_ARCHITECTURES)}")
        self.resolution_log2 = resolution_log2(resolution)
        self.msg = msg
        connected = set(msg_scales) if msg else set()
        if not connected <= {2**log2 for log2 in range(2, self.resolution_log2)}:
            raise ValueError(f"MSG scales {sorted(connected)} are not among the lower scales of {resolution}px")

        def nf(stage: int) -> int:
            return num_features(stage, fmap_base, fmap_decay, fmap_max)

        def conv(in_channels: int, out_channels: int, kernel: int, padding: int | None = None) -> list[nn.Module]:
            # conv → [layer norm over C,H,W per sample, configs a–c] → leaky ReLU
            norm = [nn.GroupNorm(1, out_channels)] if layernorm else []
            return [EqualizedConv2d(in_channels, out_channels, kernel, padding=padding, equalized=equalized_lr),
                    *norm, nn.LeakyReLU(LEAKY_SLOPE)]

        def from_rgb(stage: int) -> nn.Module:
            return nn.Sequential(EqualizedConv2d(num_channels, nf(stage), 1, equalized=equalized_lr),
                                 nn.LeakyReLU(LEAKY_SLOPE))

        # MSG-GAN's φ at each connected scale (keyed by the scale), made where its block is: without connections
        # a seed draws PGGAN's weights.
        self.combine = nn.ModuleDict()

        def block_input(scale: int, channels: int) -> int:
            if scale not in connected:
                return channels
            self.combine[str(scale)] = MultiScaleCombine(msg_combine, num_channels, channels, equalized=equalized_lr)
            return self.combine[str(scale)].out_channels

        self.from_rgb = nn.ModuleList([from_rgb(1)])
        self.blocks = nn.ModuleList([nn.Identity()])  # index 0 = the 4×4 block, kept separate below
        for res in range(3, self.resolution_log2 + 1):
            self.from_rgb.append(from_rgb(res - 1))
            width = block_input(2**res, nf(res - 1))
            block = nn.Sequential(*conv(width, nf(res - 1), 3), *conv(nf(res - 1), nf(res - 2), 3),
                                  *([BinomialBlur()] if blur_resample else []), nn.AvgPool2d(2))
            self.blocks.append(ResidualBlock(block, width, nf(res - 2), blur=blur_resample, equalized=equalized_lr)
                               if architecture == "resnet" else block)
        if msg:  # D reads the lower scales through φ, never a fromRGB: only R's is kept (the others drawn all the same)
            for index in range(self.resolution_log2 - 2):
                self.from_rgb[index] = nn.Identity()
        self.minibatch_stddev = MinibatchStddev(mbstd_group_size) if mbstd_group_size > 0 else nn.Identity()
        extra = 1 if mbstd_group_size > 0 else 0
        self.final = nn.Sequential(*conv(block_input(4, nf(1)) + extra, nf(1), 3), *conv(nf(1), nf(0), 4, padding=0),
                                   nn.Flatten())
        self.minibatch_discrimination = (MinibatchDiscrimination(nf(0), mbdisc_kernels) if mbdisc_kernels > 0
                                         else nn.Identity())
        self.score = EqualizedLinear(nf(0) + mbdisc_kernels, 1, gain=1.0, equalized=equalized_lr)

    def forward(self, images: torch.Tensor | Sequence[torch.Tensor], alpha: float | torch.Tensor = 1.0
                ) -> torch.Tensor:
        """Scores [N] for images at any grown resolution; fromRGB of the half resolution blended by 1 − α.

        With `msg` (MSG-GAN §3.1): `images` is the list at 4, 8, …, R (G's `all_scales`, or `real_pyramid`);
        x = block_R(fromRGB(image_R)), then at each lower scale s, x = block_s(φ(image_s, x)) where s is connected
        (block_s(x) elsewhere), the 4×4 block last.
        """
        if self.msg != (not isinstance(images, torch.Tensor)):
            raise ValueError("an MSG discriminator takes the list of images at 4, 8, …, R; any other a tensor")
        if self.msg:
            return self._forward_scales(images)
        res_log2 = resolution_log2(images.shape[-1])
        if res_log2 > self.resolution_log2:
            raise ValueError(f"discriminator got {images.shape[-1]}px images, its maximum is "
                             f"{2**self.resolution_log2}")
        x = self.from_rgb[res_log2 - 2](images)
        if res_log2 > 2:
            x = self.blocks[res_log2 - 2](x)
            if fading(alpha):  # mirror of the generator's fade-in (Figure 2)
                x = fade_in(self.from_rgb[res_log2 - 3](downsample2x(images)), x, alpha)
            for index in range(res_log2 - 3, 0, -1):
                x = self.blocks[index](x)
        return self._score(x)

    def _forward_scales(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """MSG-GAN's D on the images at every scale, 4×4 first."""
        sizes = [image.shape[-1] for image in images]
        if sizes != [2**log2 for log2 in range(2, self.resolution_log2 + 1)]:
            raise ValueError(f"an MSG discriminator of {2**self.resolution_log2}px takes images at 4, 8, …, "
                             f"{2**self.resolution_log2} px, got {sizes}")
        x = self.from_rgb[-1](images[-1])
        for index in range(self.resolution_log2 - 2, 0, -1):  # block k works at 2**(k+2), as images[k]
            if str(sizes[index]) in self.combine:  # never R, which entered through fromRGB
                x = self.combine[str(sizes[index])](images[index], x)
            x = self.blocks[index](x)
        if "4" in self.combine:
            x = self.combine["4"](images[0], x)
        return self._score(x)

    def _score(self, x: torch.Tensor) -> torch.Tensor:
        """The 4×4 block on D's features at 4×4: minibatch stddev, two convs, [minibatch discrimination], score."""
        x = self.final(self.minibatch_stddev(x))
        return self.score(self.minibatch_discrimination(x)).squeeze(1)


def build_networks(config: TrainConfig, num_channels: int) -> tuple[Generator | StyleGenerator, Discriminator]:
    """The generator and discriminator a TrainConfig describes, for `num_channels`-channel images.

    The generator is StyleGAN's (pggan.style) when the config has a mapping network (mapping_layers > 0): the
    mapping network is what every other StyleGAN switch builds on, so its depth is the switch (0 = PGGAN's).
    """
    shared = dict(fmap_base=config.fmap_base * config.fmap_base_factor, fmap_decay=config.fmap_decay,
                  fmap_max=config.fmap_max, equalized_lr=config.equalized_lr)
    generator: Generator | StyleGenerator
    if config.mapping_layers:
        generator = StyleGenerator(config.resolution, num_channels, latent_size=config.latent_size,
                                   normalize_latents=config.normalize_latents, pixelnorm=config.pixelnorm,
                                   activation=config.g_activation, mapping_layers=config.mapping_layers,
                                   mapping_lr_mul=config.mapping_lr_mul, const_input=config.const_input,
                                   noise_inputs=config.noise_inputs, style_mixing_prob=config.style_mixing_prob,
                                   blur_resample=config.blur_resample, style_block=config.style_block,
                                   architecture=config.g_architecture, **shared)
    else:
        generator = Generator(config.resolution, num_channels, latent_size=config.latent_size,
                              normalize_latents=config.normalize_latents, pixelnorm=config.pixelnorm,
                              batchnorm=config.g_batchnorm, activation=config.g_activation,
                              tanh_at_end=config.tanh_at_end, blur_resample=config.blur_resample, **shared)
    discriminator = Discriminator(config.resolution, num_channels, layernorm=config.d_layernorm,
                                  mbstd_group_size=config.mbstd_group_size, mbdisc_kernels=config.mbdisc_kernels,
                                  msg=config.msg, msg_combine=config.msg_combine,
                                  msg_scales=msg_scales(config.msg_connections, config.resolution),
                                  blur_resample=config.blur_resample, architecture=config.d_architecture, **shared)
    return generator, discriminator
