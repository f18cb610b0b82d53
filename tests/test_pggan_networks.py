"""Fade-in of Figure 2 in G and D, feature-map counts of Table 2, every preset's networks."""

import pytest
import torch
import torch.nn.functional as F

from pggan.config import PRESETS, make_config
from pggan.networks import Discriminator, Generator, build_networks

TINY = dict(resolution=16, fmap_base=64, fmap_max=16, latent_size=12, mbdisc_kernels=0)


def tiny_networks(preset: str) -> tuple[Generator, Discriminator]:
    torch.manual_seed(0)
    config = make_config(preset, **{**TINY, "latent_size": 12})
    return build_networks(config, num_channels=3)


@pytest.mark.parametrize("preset", ["g", "a"])  # a: batch norm + ReLU + tanh; g: pixel norm + equalized lr
def test_generator_fade_in_endpoints_are_exact(preset):
    generator, _ = tiny_networks(preset)
    latents = torch.randn(8, 12)
    with torch.no_grad():
        previous = generator(latents, 8, 1.0)
        at_zero = generator(latents, 16, 0.0)
        at_one = generator(latents, 16, 1.0)
        # α = 0: exactly the nearest-upsampled previous-resolution image (lerp weight 0 returns its start).
        assert torch.equal(at_zero, previous.repeat_interleave(2, 2).repeat_interleave(2, 3))
        # α = 1: the new block alone, so the old toRGB no longer matters.
        generator.to_rgb[1].weight.add_(1.0)
        assert torch.equal(generator(latents, 16, 1.0), at_one)
        assert not torch.equal(generator(latents, 8, 1.0), previous)


def test_generator_output_is_linear_in_alpha():
    # Without tanh, out(α) = (1 − α)·old + α·new; float32 rounding of values O(1): 1e-5.
    generator, _ = tiny_networks("g")
    latents = torch.randn(4, 12)
    with torch.no_grad():
        old, new, mid = (generator(latents, 16, a) for a in (0.0, 1.0, 0.3))
    torch.testing.assert_close(mid, 0.7 * old + 0.3 * new, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("preset", ["g", "a", "e_star"])
def test_discriminator_fade_in_endpoints_are_exact(preset):
    _, discriminator = tiny_networks(preset)
    images = torch.randn(8, 3, 16, 16)
    with torch.no_grad():
        at_one = discriminator(images, 1.0)
        # α = 0: D sees only the 2×2-average-pooled image through the previous fromRGB.
        assert torch.equal(discriminator(images, 0.0), discriminator(F.avg_pool2d(images, 2), 1.0))
        # α = 1: the new fromRGB + block alone.
        discriminator.from_rgb[1][0].weight.add_(1.0)
        assert torch.equal(discriminator(images, 1.0), at_one)


def test_feature_map_counts_follow_table_2_formula():
    # Table 1 networks (reference fmap_base 2048): nf(s) = min(2048 / 2**s, 512) = 512, 512, 256, 128, 64, 32
    # for s = 1..6; G's block at 4·2**k px outputs nf(k+1), D's block there outputs nf(k).
    config = make_config("g", resolution=128, fmap_base=2048, fmap_max=512)
    generator, discriminator = build_networks(config, num_channels=3)
    assert [block[0].weight.shape[0] for block in generator.blocks] == [512, 512, 256, 128, 64, 32]
    assert [rgb[0].weight.shape[0] for rgb in discriminator.from_rgb] == [512, 512, 256, 128, 64, 32]
    assert discriminator.final[-3].weight.shape[:2] == (512, 512)  # 4×4 conv: nf(1) → nf(0) = min(2048, 512)
    assert generator.dense.weight.shape == (512 * 16, 512)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_builds_matching_networks(preset):
    config = make_config(preset, **TINY)
    generator, discriminator = build_networks(config, num_channels=1)
    has = {type(m).__name__ for m in [*generator.modules(), *discriminator.modules()]}
    assert ("BatchNorm2d" in has) == config.g_batchnorm
    assert ("GroupNorm" in has) == config.d_layernorm
    assert ("PixelNorm" in has) == config.pixelnorm
    assert ("MinibatchStddev" in has) == (config.mbstd_group_size > 0)
    assert discriminator.score.runtime_scale != 1.0 if config.equalized_lr else discriminator.score.runtime_scale == 1
    if config.msg:  # MSG-GAN: G's images at every scale go to D, at the full resolution with α = 1
        scales = generator(torch.randn(4, generator.latent_size), 16, all_scales=True)
        assert [image.shape for image in scales] == [(4, 1, side, side) for side in (4, 8, 16)]
        assert discriminator(scales).shape == (4,)
        return
    images = generator(torch.randn(4, generator.latent_size), 16, 0.5)
    assert images.shape == (4, 1, 16, 16) and discriminator(images, 0.5).shape == (4,)
