"""StyleGAN's generator (Karras et al. 2019) as switches of the trainer, each piece against its definition: AdaIN, the
mapping network's learning-rate multiplier, style mixing's crossover, the truncation trick, w̄, the binomial filter,
noise inputs, R1; PGGAN's networks untouched with every switch off; the presets and grid; a run, sampling, resume."""

import functools
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganeval.errors import GanevalInputError
from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import TrainConfig, make_config
from pggan.errors import ConfigError
from pggan.generate import generate
from pggan.grids import PAPER_STYLEGAN_FID, STYLEGAN
from pggan.layers import BinomialBlur, binomial_blur, blurred_upsample2x
from pggan.losses import discriminator_loss, r1_penalty
from pggan.networks import Discriminator, Generator, build_networks
from pggan.report import table_rows, trend_checks
from pggan.style import W_AVG_BETA, AdaIN, MappingLinear, NoiseInput, StyleGenerator, mix_styles, truncate
from pggan.train import train
from tests.helpers import assert_same_training_state, train_whole_and_killed

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}
TINY = dict(fmap_base=64, fmap_max=16, latent_size=12)

pytestmark = pytest.mark.usefixtures("one_thread")


def style_generator(resolution: int = 16, **switches) -> StyleGenerator:
    torch.manual_seed(0)
    settings = dict(mapping_layers=2, const_input=True, noise_inputs=False, style_mixing_prob=0.0,
                    blur_resample=True, latent_size=12, fmap_base=64, fmap_max=16)
    return StyleGenerator(resolution, 1, **{**settings, **switches}).double()


def test_adain_is_instance_norm_times_the_style_scale_plus_its_bias():
    torch.manual_seed(0)
    adain = AdaIN(5, 3).double()
    assert torch.equal(adain.affine.bias, torch.tensor([1.0, 1, 1, 0, 0, 0], dtype=torch.float64))
    with torch.no_grad():
        adain.affine.bias.normal_()  # any bias, not only the initial one
    x, w = torch.randn(2, 3, 4, 4, dtype=torch.float64) * 3 + 1, torch.randn(2, 5, dtype=torch.float64)
    style = w @ (adain.affine.weight * adain.affine.runtime_scale).T + adain.affine.bias
    expected = torch.empty_like(x)
    for n in range(2):
        for c in range(3):
            plane = x[n, c]
            normalised = (plane - plane.mean()) / torch.sqrt(((plane - plane.mean()) ** 2).mean() + 1e-8)
            expected[n, c] = style[n, c] * normalised + style[n, 3 + c]
    torch.testing.assert_close(adain(x, w), expected, rtol=1e-12, atol=1e-12)


def test_the_mapping_lr_multiplier_scales_the_weights_and_their_steps():
    torch.manual_seed(0)
    slow, plain = MappingLinear(64, 32, lr_mul=0.01).double(), MappingLinear(64, 32, lr_mul=1.0).double()
    assert 80 < float(slow.weight.detach().std()) < 120 and 0.8 < float(plain.weight.detach().std()) < 1.2  # N(0, 1/λ²)
    x = torch.randn(4, 64, dtype=torch.float64)
    used = slow.weight * (2**0.5 / 64**0.5) * 0.01  # w · He constant · λ
    torch.testing.assert_close(slow(x), x @ used.T + slow.bias * 0.01)
    # Adam's first step (ε = 0) moves every stored value by lr·sign(g): the used weight moves by λ·c·lr.
    changes = []
    for layer in (slow, plain):
        before = (layer.weight * layer.weight_scale).detach().clone()
        optimizer = torch.optim.Adam(layer.parameters(), lr=1e-3, betas=(0.0, 0.99), eps=0.0)
        layer(x).square().sum().backward()
        optimizer.step()
        changes.append(((layer.weight * layer.weight_scale).detach() - before).abs().mean())
    torch.testing.assert_close(changes[0] / changes[1], torch.tensor(0.01, dtype=torch.float64), rtol=1e-9, atol=0)


def test_the_mapping_network_has_its_layers_and_normalises_z():
    generator = style_generator(mapping_layers=3)
    assert sum(isinstance(module, MappingLinear) for module in generator.mapping.modules()) == 3
    z = torch.randn(4, 12, dtype=torch.float64)
    torch.testing.assert_close(generator.mapping(z), generator.mapping(z * 7.0))  # only z's direction counts


def test_style_mixing_takes_w1_before_the_crossover_and_w2_after():
    generator = style_generator(style_mixing_prob=1.0).train()
    layers = generator.num_layers  # 6 at 16×16
    z = torch.randn(3, 12, dtype=torch.float64)
    crossovers = set()
    for seed in range(60):
        torch.manual_seed(seed)
        styles = generator.styles(z, layers)
        torch.manual_seed(seed)  # the draws, in the order of the definition: mix?, crossover, second latents
        assert float(torch.rand(())) < 1.0
        crossover = int(torch.randint(1, layers, ()))
        other = torch.randn(z.shape, dtype=torch.float32).double()
        with torch.no_grad():
            w1, w2 = generator.mapping(z), generator.mapping(other)
        for layer in range(layers):
            torch.testing.assert_close(styles[:, layer], w1 if layer < crossover else w2, rtol=0, atol=0)
        crossovers.add(crossover)
    assert crossovers == set(range(1, layers))  # uniform over 1 … layers − 1: every one drawn in 60 tries
    with torch.no_grad():
        generator.eval()  # sampling never mixes
        assert all(torch.equal(row, generator.mapping(z)) for row in generator.styles(z, layers).unbind(1))
        never = style_generator(style_mixing_prob=0.0).train()
        assert all(torch.equal(row, never.mapping(z)) for row in never.styles(z, layers).unbind(1))
    a, b = torch.zeros(2, 4, 3), torch.ones(2, 4, 3)
    assert mix_styles(a, b, 3)[:, :, 0].tolist() == [[0, 0, 0, 1], [0, 0, 0, 1]]


def test_truncation_psi_1_is_the_identity_and_psi_0_gives_w_avg():
    generator = style_generator().eval()
    with torch.no_grad():
        generator.w_avg.normal_()
        z = torch.randn(5, 12, dtype=torch.float64)
        styles = generator.styles(z, 6)
        assert torch.equal(generator.styles(z, 6, truncation_psi=1.0), styles)
        assert torch.equal(generator(z, 16, truncation_psi=1.0), generator(z, 16))
        average = generator.styles(z, 6, truncation_psi=0.0)
        assert torch.allclose(average, generator.w_avg.expand(5, 6, -1), rtol=0, atol=1e-15)
        # ψ = 0 on every layer: a constant input and no noise give one image, whatever z.
        images = generator(z, 16, truncation_psi=0.0)
        assert torch.allclose(images, images[:1].expand_as(images), rtol=0, atol=1e-12)
        # The cutoff: layers before it truncated by ψ (w̄ + ψ(w − w̄)), the others as they were.
        cut = generator.styles(z, 6, truncation_psi=0.5, truncation_cutoff=2)
        torch.testing.assert_close(cut[:, :2], generator.w_avg + 0.5 * (styles[:, :2] - generator.w_avg))
        assert torch.equal(cut[:, 2:], styles[:, 2:])
        assert torch.equal(truncate(styles, generator.w_avg, 0.5, 99), truncate(styles, generator.w_avg, 0.5))


def test_w_avg_is_a_buffer_moved_by_training_forwards_only():
    generator = style_generator()
    assert "w_avg" in generator.state_dict() and "w_avg" not in dict(generator.named_parameters())
    z = torch.randn(4, 12, dtype=torch.float64)
    with torch.no_grad():
        generator.w_avg.normal_()
        before = generator.w_avg.clone()
        generator.eval()(z, 8)
        assert torch.equal(generator.w_avg, before)
        generator.train()(z, 8)
        expected = W_AVG_BETA * before + (1 - W_AVG_BETA) * generator.mapping(z).mean(dim=0)
    torch.testing.assert_close(generator.w_avg, expected, rtol=1e-12, atol=1e-12)
    assert W_AVG_BETA == 0.995


def test_the_binomial_filter_is_121_outer_121_over_16_zero_padded():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    kernel = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros(x.shape)
    for i in range(5):
        for j in range(6):
            expected[:, :, i, j] = (padded[:, :, i:i + 3, j:j + 3] * kernel).sum(axis=(2, 3))
    np.testing.assert_allclose(binomial_blur(x).numpy(), expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(blurred_upsample2x(x), binomial_blur(x.repeat_interleave(2, 2).repeat_interleave(2, 3)))
    # D blurs before every 2×2 average pooling with the switch, and holds the same weights either way.
    torch.manual_seed(0)
    plain = Discriminator(16, 1, fmap_base=64, fmap_max=16)
    torch.manual_seed(0)
    blurred = Discriminator(16, 1, fmap_base=64, fmap_max=16, blur_resample=True)
    assert [type(module).__name__ for module in blurred.blocks[1]][-2:] == ["BinomialBlur", "AvgPool2d"]
    assert sum(isinstance(module, BinomialBlur) for module in blurred.modules()) == 2
    assert all(torch.equal(value, plain.state_dict()[name]) for name, value in blurred.state_dict().items())


def test_noise_inputs_start_silent_and_add_one_noise_image_to_every_channel():
    quiet, noisy = style_generator(noise_inputs=False).eval(), style_generator(noise_inputs=True).eval()
    z = torch.randn(3, 12, dtype=torch.float64)
    with torch.no_grad():
        assert torch.equal(quiet(z, 16), noisy(z, 16))  # scales start at 0, and are the only new weights
        layer = NoiseInput(4).double()
        layer.weight.copy_(torch.tensor([1.0, -2.0, 0.5, 3.0]))
        x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
        added = (layer(x) - x) / layer.weight.reshape(1, -1, 1, 1)
        assert torch.allclose(added, added[:, :1].expand_as(added), rtol=0, atol=1e-12)
        assert not torch.allclose(layer(x), layer(x))  # fresh noise every call


def test_the_synthesis_grows_fades_and_gives_every_scale_as_pggans_generator():
    generator = style_generator().eval()
    z = torch.randn(3, 12, dtype=torch.float64)
    with torch.no_grad():
        assert [generator(z, side).shape[-1] for side in (4, 8, 16)] == [4, 8, 16]
        scales = generator(z, 16, all_scales=True)  # MSG-GAN's output: every block's toRGB, the last the image
        assert [image.shape[-1] for image in scales] == [4, 8, 16] and torch.equal(scales[-1], generator(z, 16))
        # Fade-in (PGGAN Figure 2b): (1 − α) · upsample(toRGB of 8×8) + α · toRGB of 16×16.
        blended = torch.lerp(scales[1].repeat_interleave(2, 2).repeat_interleave(2, 3), scales[2], 0.3)
        torch.testing.assert_close(generator(z, 16, 0.3), blended, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="exceeds its maximum"):
        generator(z, 32)


def test_r1_matches_finite_differences_of_a_tiny_critic():
    # float64 central differences of Σ_i D(X)_i, as the WGAN-GP test: each perturbed copy is its own stddev group.
    torch.manual_seed(0)
    _, discriminator = build_networks(make_config("stylegan_b", resolution=8, fmap_base=32, fmap_max=8,
                                                  latent_size=8), num_channels=1)
    critic = functools.partial(discriminator.double(), alpha=0.6)
    reals = torch.randn(4, 1, 8, 8, dtype=torch.float64, requires_grad=True)
    penalty = r1_penalty(critic(reals), reals)
    size, step = reals.numel(), 1e-6
    offsets = torch.eye(size, dtype=torch.float64).view(size, *reals.shape) * step
    with torch.no_grad():
        plus = critic((reals + offsets).reshape(-1, 1, 8, 8)).view(size, 4).sum(dim=1)
        minus = critic((reals - offsets).reshape(-1, 1, 8, 8)).view(size, 4).sum(dim=1)
    expected = ((plus - minus) / (2 * step)).view(4, -1).square().sum(dim=1)
    torch.testing.assert_close(penalty.detach(), expected, rtol=1e-6, atol=1e-12)
    # The logistic loss with γ: softplus terms + γ/2 · E‖∇D(real)‖², on the reals only.
    fakes = torch.randn(4, 1, 8, 8, dtype=torch.float64)
    loss, parts = discriminator_loss(critic, reals.detach(), fakes, kind="logistic", mix=torch.rand(4),
                                     r1_gamma=10.0)
    with torch.no_grad():
        plain = F.softplus(critic(fakes)).mean() + F.softplus(-critic(reals)).mean()
    torch.testing.assert_close(loss.detach(), plain + 5.0 * expected.mean(), rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(parts["r1_penalty"], expected.mean(), rtol=1e-6, atol=1e-9)
    unregularised, plain_parts = discriminator_loss(critic, reals.detach(), fakes, kind="logistic", mix=torch.rand(4))
    assert set(plain_parts) == {"d_loss"} and torch.equal(unregularised.detach(), plain)


@pytest.mark.parametrize("preset", ["a", "g", "msg", "stylegan_b"])
def test_with_every_stylegan_switch_off_the_networks_are_pggans(preset):
    config = make_config(preset, resolution=16, **TINY)
    torch.manual_seed(0)
    generator, discriminator = build_networks(config, num_channels=1)
    torch.manual_seed(0)  # PGGAN's classes built by hand with the settings they had before the switches existed
    shared = dict(fmap_base=64, fmap_max=16, equalized_lr=config.equalized_lr)
    reference = Generator(16, 1, latent_size=12, normalize_latents=config.normalize_latents,
                          pixelnorm=config.pixelnorm, batchnorm=config.g_batchnorm, activation=config.g_activation,
                          tanh_at_end=config.tanh_at_end, **shared)
    reference_d = Discriminator(16, 1, layernorm=config.d_layernorm, mbstd_group_size=config.mbstd_group_size,
                                mbdisc_kernels=config.mbdisc_kernels, msg=config.msg, msg_combine=config.msg_combine,
                                msg_scales=(4, 8) if config.msg else (), **shared)
    assert type(generator) is Generator
    for mine, theirs in ((generator, reference), (discriminator, reference_d)):
        assert mine.state_dict().keys() == theirs.state_dict().keys()
        assert all(torch.equal(value, theirs.state_dict()[name]) for name, value in mine.state_dict().items())
    latents = torch.randn(8, 12, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        generator.eval(), reference.eval()
        images = generator(latents, 16, 0.5)
        if preset == "stylegan_b":  # blurred upsampling is the one change: the 4×4 images are PGGAN's exactly
            assert torch.equal(generator(latents, 4), reference(latents, 4)) and not torch.equal(
                images, reference(latents, 16, 0.5))
        else:
            assert torch.equal(images, reference(latents, 16, 0.5))
        if not config.msg:  # (MSG's D, which reads a list of scales, is test_pggan_msg.py's)
            scores, reference_scores = discriminator(images, 0.5), reference_d(images, 0.5)
            assert torch.equal(scores, reference_scores) != config.blur_resample  # same weights, blurred pooling
    assert all(make_config(name).mapping_layers == 0 and not make_config(name).blur_resample
               and make_config(name).r1_gamma == 0 for name in ("a", "b", "c", "d", "e_star", "e", "f", "g", "h"))


def test_the_stylegan_grid_adds_one_row_of_table_1_at_a_time():
    added = {"B": {"blur_resample": True, "loss": "logistic", "r1_gamma": 10.0},
             "C": {"mapping_layers": 8, "pixelnorm": False}, "D": {"const_input": True},
             "E": {"noise_inputs": True}, "F": {"style_mixing_prob": 0.9}}
    rows = list(STYLEGAN.rows)
    assert rows == ["A", "B", "C", "D", "E", "F"] and STYLEGAN.config("A", None) == make_config("g")
    for previous, row in zip(rows, rows[1:], strict=False):
        before, after = STYLEGAN.config(previous, None).to_dict(), STYLEGAN.config(row, None).to_dict()
        assert {key: value for key, value in after.items() if before[key] != value} == added[row]
    for row in rows:
        generator, _ = build_networks(STYLEGAN.config(row, "quick"), 1)
        assert isinstance(generator, StyleGenerator) == (row in "CDEF")
    assert set(PAPER_STYLEGAN_FID) == set(rows) and PAPER_STYLEGAN_FID["A"] == {"CelebA-HQ": 7.79, "FFHQ": 8.04}
    measured = {1000: {row: {"resolutions": [32, 16], "swd_x1e3": [10.0, 10.0], "swd_x1e3_avg": 10.0,
                             "msssim": 0.3, "train_seconds": 60.0, "kimg": 1.0} for row in rows}}
    flat = table_rows(measured, STYLEGAN)
    assert flat[-1]["paper_fid_ffhq"] == 4.40 and flat[-1]["paper_fid_celebahq"] == 5.17
    assert "paper_celeba_swd_x1e3_avg" not in flat[0]
    checks = {check["row"] + check["reference"]: check for check in trend_checks(measured, STYLEGAN)}
    assert checks["CB"]["paper_fid_difference"] == {"CelebA-HQ": -0.77, "FFHQ": -0.4}
    assert checks["FA"]["paper_fid_difference"] == {"CelebA-HQ": -2.62, "FFHQ": -3.64}


@pytest.mark.parametrize(("overrides", "field"), [
    (dict(noise_inputs=True), "noise_inputs"),
    (dict(const_input=True), "const_input"),
    (dict(style_mixing_prob=0.9), "style_mixing_prob"),
    (dict(mapping_layers=8, style_mixing_prob=1.5), "style_mixing_prob"),
    (dict(mapping_layers=8, mapping_lr_mul=0.0), "mapping_lr_mul"),
    (dict(mapping_layers=-1), "mapping_layers"),
    (dict(r1_gamma=10.0), "r1_gamma"),  # (g) has WGAN-GP
    (dict(loss="logistic", r1_gamma=float("nan")), "r1_gamma"),
    (dict(mapping_layers=8, tanh_at_end=True), "tanh_at_end"),
    (dict(mapping_layers=8, g_batchnorm=True), "g_batchnorm"),
])
def test_bad_stylegan_settings_are_refused(overrides, field):
    with pytest.raises(ConfigError) as caught:
        make_config("g", **overrides)
    assert caught.value.field == field


def test_a_style_run_trains_grows_samples_and_truncates(smooth16, tmp_path):
    settings = dict(data=str(smooth16), resolution=16, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.4,
                    lod_training_kimg=0.1, lod_transition_kimg=0.05, kimg_per_tick=0.2, minibatch_repeats=1,
                    metrics_num_images=0, grid_size=2)
    train(make_config("stylegan_f", **settings), tmp_path / "f", progress=False)
    saved = load_checkpoint(list_checkpoints(tmp_path / "f")[-1])
    assert saved["counters"]["num_images"] == 400
    assert not torch.equal(saved["generator"]["w_avg"], torch.zeros(8))  # tracked while training
    assert torch.equal(saved["generator_ema"]["w_avg"], saved["generator"]["w_avg"])  # copied into the EMA
    log = [json.loads(line) for line in (tmp_path / "f" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(entry["r1_penalty"]) and np.isfinite(entry["g_loss"]) for entry in log)
    images = generate(tmp_path / "f", 4, seed=3, device="cpu")
    assert np.array_equal(images, generate(tmp_path / "f", 4, seed=3, device="cpu"))  # noise drawn from the seed
    average = generate(tmp_path / "f", 4, seed=3, device="cpu", truncation_psi=0.0)
    assert not np.array_equal(average, images)
    train(make_config("g", **settings), tmp_path / "g", progress=False)
    with pytest.raises(GanevalInputError, match="no average w"):
        generate(tmp_path / "g", 4, device="cpu", truncation_psi=0.7)
    with pytest.raises(GanevalInputError, match="finite"):
        generate(tmp_path / "f", 4, device="cpu", truncation_psi=float("inf"))


# (mapping layers, constant input, noise inputs, mixing probability) of rows C–F.
SWITCHES_OF = {"stylegan_c": (8, False, False, 0.0), "stylegan_d": (8, True, False, 0.0),
               "stylegan_e": (8, True, True, 0.0), "stylegan_f": (8, True, True, 0.9)}


@pytest.mark.slow  # spawns processes
@pytest.mark.parametrize("preset", ["stylegan_c", "stylegan_d", "stylegan_e", "stylegan_f"])
def test_a_tiny_style_run_through_the_cli_resumes_bit_identically(smooth16, tmp_path, preset):
    # Rows C–F of StyleGAN's Table 1: mapping and styles (C), the constant input (D), noise inputs (E), mixing (F).
    args = ["--data", str(smooth16), "--config", preset, "--fmap-base", "16", "--fmap-max", "8",
            "--latent-size", "8", "--kimg", "0.4", "--kimg-per-tick", "0.1", "--snapshot-ticks", "1",
            "--metrics-images", "0", "--minibatch-repeats", "1", "--no-progress", "--set", "lod_training_kimg=0.1",
            "--set", "lod_transition_kimg=0.05", "--set", "resolution=16", "--set", "grid_size=2"]
    train_whole_and_killed(args, tmp_path / "whole", tmp_path / "killed")
    # The w̄ buffers and noise scales are among the weights compared; "style" holds the mixing and noise draws.
    whole, log = assert_same_training_state(tmp_path / "whole", tmp_path / "killed", rng=("sampler", "style", "torch"))
    assert whole["counters"]["num_images"] == 400 and len(log) == 4
    config = TrainConfig.from_dict(whole["config"])
    assert (config.mapping_layers, config.const_input, config.noise_inputs, config.style_mixing_prob) == \
        SWITCHES_OF[preset]


def test_training_draws_come_from_the_sampler_and_ranks_take_slices_of_the_whole_minibatch():
    generator = style_generator(noise_inputs=True, style_mixing_prob=1.0).train()
    whole = generator.draw(torch.Generator().manual_seed(5), 6, 16)
    halves = [generator.draw(torch.Generator().manual_seed(5), 6, 16, rank=rank, world_size=2) for rank in (0, 1)]
    assert 1 <= whole.crossover < 6 and all(half.crossover == whole.crossover for half in halves)
    assert torch.equal(torch.cat([half.mix_latents for half in halves]), whole.mix_latents)
    assert [tuple(image.shape) for image in whole.noise] == [(6, 1, size, size) for size in (4, 4, 8, 8, 16, 16)]
    for layer, image in enumerate(whole.noise):
        assert torch.equal(torch.cat([half.noise[layer] for half in halves]), image)
    z = torch.randn(6, 12, dtype=torch.float64)
    with torch.no_grad():  # the same draws give the same images, whatever the default generators hold
        for epilogue in generator.epilogues:
            epilogue.noise.weight.fill_(0.5)
        torch.manual_seed(1)
        first = generator(z, 16, draws=whole)
        torch.manual_seed(2)
        assert torch.equal(generator(z, 16, draws=whole), first)
        crossover = whole.crossover
        w1, w2 = generator.mapping(z), generator.mapping(whole.mix_latents.double())
        styles = generator.styles(z, 6, draws=whole)
    assert torch.equal(styles[:, crossover - 1], w1) and torch.equal(styles[:, crossover], w2)


def test_a_style_checkpoint_without_its_draws_sampler_is_refused_on_resume(smooth16, tmp_path):
    settings = dict(data=str(smooth16), resolution=8, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.064,
                    lod_training_kimg=0.032, lod_transition_kimg=0.032, kimg_per_tick=0.032, minibatch_repeats=1,
                    metrics_num_images=0, grid_size=2, mapping_layers=2)
    config = make_config("stylegan_f", **settings)
    train(config, tmp_path, progress=False)
    path = list_checkpoints(tmp_path)[0]  # at 0.032 kimg
    list_checkpoints(tmp_path)[-1].unlink()
    state = load_checkpoint(path)
    assert "style" in state["rng"]
    del state["rng"]["style"]  # as an earlier version wrote it
    torch.save(state, path)
    with pytest.raises(GanevalInputError, match="earlier pggan"):
        train(config, tmp_path, resume=True, progress=False)
