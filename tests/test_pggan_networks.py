"""Fade-in of Figure 2 in G and D, feature-map counts of Table 2, every preset's networks."""

import pytest
import torch
import torch.nn.functional as F

import pggan.networks
import pggan.style
from pggan.config import PRESETS, make_config
from pggan.layers import fade_in, upsample2x
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


def test_fade_in_is_lerp_in_the_wider_dtype():
    old, new = torch.randn(2, 3, 8, 8), torch.randn(2, 3, 8, 8)
    assert torch.equal(fade_in(old, new, 0.3), torch.lerp(old, new, 0.3))  # fp32: torch.lerp, bit for bit
    mixed = fade_in(old, new.bfloat16(), 0.3)  # CUDA autocast: fp32 upsampled branch, bf16 newest toRGB
    assert mixed.dtype == torch.float32 and torch.equal(mixed, torch.lerp(old, new.bfloat16().float(), 0.3))


def upsample2x_in_fp32(x: torch.Tensor) -> torch.Tensor:
    """Nearest upsampling as CUDA's autocast runs it: in float32 (upsample_nearest2d is on its fp32 list)."""
    return upsample2x(x.float())


def generate_fp32_and_bf16(generator: torch.nn.Module, latents: torch.Tensor, device_type: str):
    """The generator at 16², α = 0.5, in fp32 and under bf16 autocast, StyleGAN's per-pixel noise drawn the same
    in both calls."""
    with torch.no_grad():
        torch.manual_seed(1)
        exact = generator(latents, 16, 0.5)
        torch.manual_seed(1)
        with torch.autocast(device_type, dtype=torch.bfloat16):
            faded = generator(latents, 16, 0.5)
    return exact, faded


@pytest.mark.parametrize("preset", ["g", "a", "stylegan_f"])
def test_generator_fades_in_under_autocast_with_cuda_dtype_rules(preset, monkeypatch):
    # On CUDA, `--amp bf16` met (1 − α)·upsample(old toRGB) in fp32 and the new toRGB in bf16 and torch.lerp
    # refused the mix ("expected dtype float for `end`"); CPU's autocast keeps both bf16. This plays CUDA's rule.
    monkeypatch.setattr(pggan.networks, "upsample2x", upsample2x_in_fp32)
    monkeypatch.setattr(pggan.style, "upsample2x", upsample2x_in_fp32)
    generator, _ = tiny_networks(preset)
    exact, faded = generate_fp32_and_bf16(generator, torch.randn(4, 12), "cpu")
    # bf16 keeps 8 bits of mantissa: relative rounding 2**-8 per op over a few layers of O(1) values.
    torch.testing.assert_close(faded.float(), exact, atol=0.1, rtol=0.05)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.cuda
@pytest.mark.parametrize("preset", ["g", "stylegan_f"])
def test_networks_fade_in_under_cuda_bf16_autocast(preset):
    generator, discriminator = (network.cuda() for network in tiny_networks(preset))
    exact, faded = generate_fp32_and_bf16(generator, torch.randn(4, 12, device="cuda"), "cuda")
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
        score = discriminator(exact, 0.5)
    torch.testing.assert_close(faded.float(), exact, atol=0.1, rtol=0.05)
    torch.testing.assert_close(score.float(), discriminator(exact, 0.5), atol=0.1, rtol=0.05)
