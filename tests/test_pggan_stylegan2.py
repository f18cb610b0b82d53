"""StyleGAN2's building blocks (Karras et al. 2020) against oracles: the modulated convolution, path length
regularisation with its running mean and lazy scaling, lazy regularisation's Adam settings, and the residual
discriminator as a switch of the PGGAN discriminator (its block by hand, 'orig' unchanged, a CLI run); then the
switches wired into training: the modulated style block and the skip generator against their definitions, lazy R1,
the path length state in the checkpoint, every switch off unchanged, the presets and grid, resume."""

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from ganeval_cli.pggan_cli import main
from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import D_ARCHITECTURES, PRESETS, TrainConfig, make_config
from pggan.droplets import droplet_statistics
from pggan.errors import ConfigError
from pggan.generate import generate
from pggan.grids import PAPER_STYLEGAN2_FID, STYLEGAN2
from pggan.layers import LEAKY_SLOPE, ModulatedConv2d, ResidualBlock, upsample2x
from pggan.losses import (
    PathLengthMean,
    discriminator_loss,
    lazy_adam_hyperparameters,
    lazy_interval_due,
    lazy_r1_loss,
    path_length_loss,
    path_length_minibatch,
    path_lengths,
    r1_penalty,
)
from pggan.networks import Discriminator, build_networks
from pggan.style import StyleGenerator
from pggan.train import train
from tests.helpers import assert_same_training_state, train_whole_and_killed

TINY = dict(fmap_base=64, fmap_max=16, latent_size=12)

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------------------------------------
# Modulated convolution (§2.2, Eq. 1–3).


def modulated_weight_oracle(weight: np.ndarray, styles: np.ndarray, demodulate: bool) -> np.ndarray:
    """Eq. 1 and 3 in numpy: w' = s_i·w_ijk (w scaled by 1/√fan_in), w'' = w' / √(Σ_{i,k} w'² + 1e-8)."""
    out_channels, in_channels, kh, kw = weight.shape
    scaled = weight / math.sqrt(in_channels * kh * kw)
    modulated = scaled[None] * styles[:, None, :, None, None]  # [N, out, in, kh, kw]
    if demodulate:
        modulated = modulated / np.sqrt((modulated**2).sum(axis=(2, 3, 4), keepdims=True) + 1e-8)
    return modulated


@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("kernel", [3, 1])
def test_modulated_conv_equals_a_per_sample_convolution_with_the_numpy_weight(demodulate, kernel):
    # float64 throughout: the grouped convolution and the per-sample loop add the same products in possibly another
    # order, so they agree to rounding (~1e-15 relative); 1e-10 leaves room and still catches any wrong weight.
    torch.manual_seed(0)
    layer = ModulatedConv2d(5, 4, kernel, demodulate=demodulate).double()
    with torch.no_grad():
        layer.bias.copy_(torch.randn(4))
    x = torch.randn(3, 5, 7, 7, dtype=torch.float64)
    styles = torch.randn(3, 5, dtype=torch.float64) + 1.0
    expected_weight = modulated_weight_oracle(layer.weight.detach().numpy(), styles.numpy(), demodulate)
    np.testing.assert_allclose(layer.modulated_weight(styles).detach().numpy(), expected_weight, rtol=1e-12)
    expected = torch.cat([F.conv2d(x[n:n + 1], torch.from_numpy(expected_weight[n]), layer.bias.detach(),
                                   padding=kernel // 2) for n in range(3)])
    out = layer(x, styles)
    assert out.shape == (3, 4, 7, 7)
    torch.testing.assert_close(out, expected, rtol=1e-10, atol=1e-10)


def test_demodulated_weights_have_unit_norm_per_sample_and_output_channel():
    # Σ_{i,k} w''² = S/(S + ε) with S = Σ w'², so it misses 1 by ε/S; here S > 0.1 (checked), ε/S < 1e-7.
    torch.manual_seed(1)
    layer = ModulatedConv2d(16, 8, 3).double()
    styles = torch.randn(6, 16, dtype=torch.float64) * 3
    undemodulated = modulated_weight_oracle(layer.weight.detach().numpy(), styles.numpy(), demodulate=False)
    assert (undemodulated**2).sum(axis=(2, 3, 4)).min() > 0.1
    norms = layer.modulated_weight(styles).square().sum(dim=(2, 3, 4))
    assert norms.shape == (6, 8)
    torch.testing.assert_close(norms, torch.ones_like(norms), rtol=0, atol=1e-7)


def test_demodulation_restores_unit_output_std_for_unit_variance_input():
    # Eq. 2–3: for i.i.d. unit-variance input, Var(y_j) = Σ_{i,k} w''_ijk² = 1 wherever the kernel sees no padding.
    # The estimate: per output channel, n = 64 samples × 32×32 interior pixels = 65536 outputs. Each output is
    # correlated with at most the 25 others whose 3×3 windows overlap it, so the sample variance's std is at most
    # √(2·25/n) ≈ 0.028, and the std's half that, 0.014; 5 σ ≈ 0.07. Without demodulation the std follows the style.
    torch.manual_seed(2)
    x = torch.randn(64, 32, 34, 34)
    styles = torch.rand(64, 32) * 4 + 1  # scales in [1, 5]: far from 1 unless undone
    demodulated = ModulatedConv2d(32, 8, 3, bias=False)
    with torch.no_grad():
        stds = demodulated(x, styles)[:, :, 1:-1, 1:-1].transpose(0, 1).reshape(8, -1).std(dim=1)
        plain = ModulatedConv2d(32, 8, 3, demodulate=False, bias=False)
        plain.weight.copy_(demodulated.weight)
        plain_stds = plain(x, styles)[:, :, 1:-1, 1:-1].transpose(0, 1).reshape(8, -1).std(dim=1)
    assert (stds - 1).abs().max() < 0.07, stds
    assert plain_stds.min() > 2, plain_stds  # E[s²] = 31/3: the std would be ≈ 3.2


def test_gradients_reach_the_styles_and_the_weight():
    torch.manual_seed(3)
    layer = ModulatedConv2d(4, 3, 3)
    styles = torch.randn(2, 4, requires_grad=True)
    layer(torch.randn(2, 4, 6, 6), styles).square().sum().backward()
    assert styles.grad.abs().min() > 0 and layer.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match=r"styles must be \[N, 4\]"):
        layer(torch.randn(2, 4, 6, 6), torch.randn(2, 3))
    with pytest.raises(ValueError, match="one style per sample"):
        layer(torch.randn(2, 4, 6, 6), torch.randn(3, 4))


# ---------------------------------------------------------------------------------------------------------------
# Path length regularisation (§3.2, Eq. 4) and lazy regularisation (§3.1, Appendix B).


def toy_generator(latents: torch.Tensor, mixing: torch.Tensor) -> torch.Tensor:
    """A nonlinear G of per-layer latents [N, L, D] to [N, 2, 3, 3] images: tanh of a linear map, squared in part."""
    features = torch.einsum("nld,ldp->np", latents, mixing)
    return (torch.tanh(features) + 0.3 * features.square()).reshape(-1, 2, 3, 3)


@pytest.mark.parametrize("layers", [3, None])  # [N, L, D] per-layer latents, or one w [N, D]
def test_path_lengths_match_finite_differences_of_the_projected_image(layers):
    # J_wᵀ y = ∇_w Σ G(w)·y by central differences in float64, step 1e-6: truncation ~1e-12 · |G'''|, rounding
    # ~1e-16/1e-6 = 1e-10; 1e-7 relative bounds both.
    torch.manual_seed(4)
    count, dim = 4, 5
    mixing = torch.randn(layers or 1, dim, 18, dtype=torch.float64) * 0.4
    latents = torch.randn(count, layers or 1, dim, dtype=torch.float64)
    noise = torch.randn(count, 2, 3, 3, dtype=torch.float64)

    def projected(w: torch.Tensor) -> torch.Tensor:  # per sample: Σ G(w)·y, y = noise/√(H·W)
        return (toy_generator(w, mixing) * noise / 3.0).sum(dim=(1, 2, 3))

    step = 1e-6
    gradients = torch.zeros_like(latents)
    for index in np.ndindex(*latents.shape[1:]):
        shift = torch.zeros_like(latents)
        shift[(slice(None), *index)] = step
        gradients[(slice(None), *index)] = (projected(latents + shift) - projected(latents - shift)) / (2 * step)
    expected = gradients.square().sum(dim=2).mean(dim=1).sqrt()

    given = (latents if layers else latents[:, 0]).clone().requires_grad_(True)
    images = toy_generator(given.reshape(count, -1, dim), mixing)
    lengths = path_lengths(images, given, noise)
    assert lengths.shape == (count,)
    torch.testing.assert_close(lengths, expected, rtol=1e-7, atol=0)
    lengths.sum().backward()  # the graph is kept: the lengths train G
    assert given.grad is not None and given.grad.abs().sum() > 0


def test_the_running_mean_follows_its_definition_and_survives_a_checkpoint():
    # a_0 = 0, a_k = a_{k−1} + 0.01·(m_k − a_{k−1}) with m_k the mean of batch k's lengths.
    batches = [torch.tensor(values, dtype=torch.float64)
               for values in ([1.0, 3.0], [2.0, 2.5], [0.5, 4.5], [7.0, 1.0])]
    running = PathLengthMean(decay=0.01)
    assert float(running.value) == 0.0
    expected = 0.0
    for batch in batches[:2]:
        expected = expected + 0.01 * (batch.mean().item() - expected)
        assert running.update(batch).item() == pytest.approx(expected, rel=1e-15)
    restored = PathLengthMean()
    restored.load_state_dict(running.state_dict())
    saved = running.state_dict()
    assert saved["decay"] == restored.state_dict()["decay"] == 0.01
    assert saved["value"].dtype == torch.float64 and torch.equal(restored.state_dict()["value"], saved["value"])
    for batch in batches[2:]:
        expected = expected + 0.01 * (batch.mean().item() - expected)
        assert running.update(batch).item() == pytest.approx(expected, rel=1e-15)
        assert restored.update(batch).item() == pytest.approx(expected, rel=1e-15)
    lengths = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)  # as the reference, the new a keeps
    running.update(lengths).backward()  # the batch's graph: ∂a/∂l_i = decay / N
    torch.testing.assert_close(lengths.grad, torch.full((2,), 0.005, dtype=torch.float64))
    assert not running.value.requires_grad
    with pytest.raises(ValueError, match="decay"):
        PathLengthMean(decay=0.0)


def test_the_path_length_loss_is_weight_times_interval_times_the_mean_squared_deviation():
    torch.manual_seed(5)
    mixing = torch.randn(2, 4, 18, dtype=torch.float64) * 0.4
    latents = torch.randn(6, 2, 4, dtype=torch.float64, requires_grad=True)
    noise = torch.randn(6, 2, 3, 3, dtype=torch.float64)
    images = toy_generator(latents, mixing)
    lengths = path_lengths(images, latents, noise).detach()
    start = 1.5
    mean = start + 0.01 * (lengths.mean() - start)  # the running mean after this batch
    losses = {}
    for interval in (1, 4, 16):
        running = PathLengthMean()
        running.load_state_dict({"value": torch.tensor(start, dtype=torch.float64), "decay": 0.01})
        losses[interval], parts = path_length_loss(images, latents, running, interval=interval, noise=noise)
        torch.testing.assert_close(parts["path_length_mean"], mean)
        torch.testing.assert_close(running.value, mean)
    penalty = (lengths - mean).square().mean()
    torch.testing.assert_close(losses[1], 2.0 * penalty)  # weight 2, the reference's
    torch.testing.assert_close(losses[4], 4 * losses[1])  # lazy: every 4th minibatch, 4× the penalty
    torch.testing.assert_close(losses[16], 16 * losses[1])
    grad_1, grad_4 = (torch.autograd.grad(losses[interval], latents, retain_graph=True)[0] for interval in (1, 4))
    torch.testing.assert_close(grad_4, 4 * grad_1)


def test_lazy_regularisation_schedule_and_adam_settings():
    assert [step for step in range(20) if lazy_interval_due(step, 4)] == [0, 4, 8, 12, 16]
    assert [step for step in range(20) if lazy_interval_due(step, 16)] == [0, 16]
    assert all(lazy_interval_due(step, 1) for step in range(5))
    # Appendix B: c = k/(k+1); Adam's lr·c and β^c.
    lr, betas = lazy_adam_hyperparameters(0.002, (0.0, 0.99), 16)
    assert lr == pytest.approx(0.002 * 16 / 17, rel=1e-15)
    assert betas == (0.0, pytest.approx(0.99 ** (16 / 17), rel=1e-15))
    lr, betas = lazy_adam_hyperparameters(0.002, (0.5, 0.99), 4)
    assert lr == pytest.approx(0.0016, rel=1e-15) and betas == (pytest.approx(0.5**0.8), pytest.approx(0.99**0.8))
    assert path_length_minibatch(32) == 16 and path_length_minibatch(5, 2) == 2 and path_length_minibatch(1) == 1
    for bad in (lambda: lazy_interval_due(3, 0), lambda: lazy_adam_hyperparameters(0.1, (0.0, 0.9), 0),
                lambda: path_length_minibatch(0)):
        with pytest.raises(ValueError, match="≥ 1"):
            bad()


# ---------------------------------------------------------------------------------------------------------------
# The residual discriminator (Figure 7c) as a switch.


def test_the_residual_block_equals_its_definition_by_hand():
    # out = (lrelu(conv₂(lrelu(conv₁(x)))) pooled + conv_1×1(pool(x))) / √2, from the block's own weights (float64).
    torch.manual_seed(6)
    maps = {k: v for k, v in TINY.items() if k != "latent_size"}
    discriminator = Discriminator(16, 3, architecture="resnet", **maps).double()
    block = discriminator.blocks[2]  # 16×16 → 8×8
    assert isinstance(block, ResidualBlock) and block.skip.bias is None
    conv1, conv2 = block.main[0], block.main[2]
    x = torch.randn(3, conv1.weight.shape[1], 16, 16, dtype=torch.float64)
    hidden = F.leaky_relu(F.conv2d(x, conv1.weight * conv1.runtime_scale, conv1.bias, padding=1), LEAKY_SLOPE)
    hidden = F.leaky_relu(F.conv2d(hidden, conv2.weight * conv2.runtime_scale, conv2.bias, padding=1), LEAKY_SLOPE)
    pooled_x = x.reshape(3, -1, 8, 2, 8, 2).mean(dim=(3, 5))
    skip = torch.einsum("oi,nihw->nohw", block.skip.weight[:, :, 0, 0] / math.sqrt(x.shape[1]), pooled_x)
    expected = (hidden.reshape(3, -1, 8, 2, 8, 2).mean(dim=(3, 5)) + skip) / math.sqrt(2)
    with torch.no_grad():
        torch.testing.assert_close(block(x), expected, rtol=1e-12, atol=1e-12)


def test_every_block_of_the_resnet_discriminator_is_residual_and_orig_is_unchanged():
    # 'orig' draws today's weights from a seed, through build_networks and through the class itself.
    maps = {k: v for k, v in TINY.items() if k != "latent_size"}
    config = make_config("g", resolution=16, **TINY)
    torch.manual_seed(0)
    _, default = build_networks(config, 3)
    torch.manual_seed(0)
    _, orig = build_networks(config.replace(d_architecture="orig").validate(), 3)
    torch.manual_seed(0)
    plain = Discriminator(16, 3, **maps)
    torch.manual_seed(0)
    plain_orig = Discriminator(16, 3, architecture="orig", **maps)
    for reference, other in ((default, orig), (plain, plain_orig)):
        assert other.state_dict().keys() == reference.state_dict().keys()
        assert all(torch.equal(value, reference.state_dict()[name]) for name, value in other.state_dict().items())
    _, resnet = build_networks(make_config("g", resolution=16, progressive=False, d_architecture="resnet", **TINY), 3)
    assert all(isinstance(block, ResidualBlock) for block in resnet.blocks[1:])
    # The same layers, each block's convolutions under `main`, plus one bias-free 1×1 skip per block.
    renamed = {name.replace(f"blocks.{index}.", f"blocks.{index}.main.") for name in default.state_dict()
               for index in (1, 2)} | {name for name in default.state_dict() if not name.startswith("blocks.")}
    renamed = {name for name in renamed if not name.startswith("blocks.") or ".main." in name}
    assert set(resnet.state_dict()) == renamed | {"blocks.1.skip.weight", "blocks.2.skip.weight"}
    scores = resnet(torch.randn(4, 3, 16, 16))
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    with pytest.raises(ValueError, match="unknown discriminator architecture"):
        Discriminator(16, 3, architecture="skip")


@pytest.mark.parametrize("overrides", [
    dict(d_architecture="skip", progressive=False),
    dict(d_architecture="resnet"),  # progressive growing is on in (g)
    dict(d_architecture="resnet", progressive=False, msg=True),
])
def test_bad_discriminator_architectures_are_refused(overrides):
    with pytest.raises(ConfigError) as caught:
        make_config("g", **overrides)
    assert caught.value.field == "d_architecture"
    assert "\n" not in str(caught.value)
    assert D_ARCHITECTURES == ("orig", "resnet")


def test_a_resnet_discriminator_run_trains_through_the_cli(tmp_path):
    rng = np.random.default_rng(0)
    noise = torch.from_numpy(rng.standard_normal((64, 1, 8, 8)))
    images = ((F.avg_pool2d(F.pad(noise, (1, 1, 1, 1), mode="circular"), 3, 1) * 80 + 128).clamp(0, 255)
              .to(torch.uint8).numpy())
    np.savez(tmp_path / "tiny8.npz", images=images)
    result = CliRunner().invoke(main, [
        "train", "--data", str(tmp_path / "tiny8.npz"), "--out", str(tmp_path / "run"), "--config", "g",
        "--no-progressive", "--set", "d_architecture=resnet", "--budget", "quick", "--set", "total_kimg=0.3",
        "--set", "resolution=8", "--fmap-base", "16", "--fmap-max", "8", "--latent-size", "8",
        "--metrics-images", "0", "--set", "grid_size=2", "--no-progress"])
    assert result.exit_code == 0, result.output
    state = load_checkpoint(list_checkpoints(tmp_path / "run")[-1])
    assert state["config"]["d_architecture"] == "resnet" and state["counters"]["num_images"] >= 300
    config = TrainConfig.from_dict(state["config"])
    torch.manual_seed(config.seed)  # the trainer's draw of the initial weights
    _, initial = build_networks(config, 1)
    assert not torch.equal(state["discriminator"]["blocks.1.skip.weight"], initial.state_dict()["blocks.1.skip.weight"])


# ---------------------------------------------------------------------------------------------------------------
# The switches in training.


def style_generator2(**switches) -> StyleGenerator:
    torch.manual_seed(0)
    settings = dict(mapping_layers=2, const_input=True, noise_inputs=True, style_mixing_prob=0.0, blur_resample=True,
                    latent_size=12, fmap_base=64, fmap_max=16, style_block="modulated")
    return StyleGenerator(16, 3, **{**settings, **switches}).double().eval()


def test_the_modulated_style_block_is_its_definition():
    """Figure 2d: s = A(w) with bias 1, demodulated conv, + noise·B, + bias, leaky ReLU × √2; toRGB undemodulated
    with the next layer's w; one noise per conv (4, 8, 8, 16, 16)."""
    generator = style_generator2()
    assert generator.noise_resolutions(6) == [4, 8, 8, 16, 16]
    layer = generator.layers[1]
    assert torch.equal(layer.affine.bias, torch.ones(16))
    with torch.no_grad():
        for parameter in (layer.noise.weight, layer.bias):
            parameter.normal_()
        x, w = torch.randn(2, 16, 8, 8, dtype=torch.float64), torch.randn(2, 12, dtype=torch.float64)
        noise = torch.randn(2, 1, 8, 8, dtype=torch.float64)
        styles = w @ (layer.affine.weight / math.sqrt(12)).T + layer.affine.bias
        weight = layer.conv.weight.unsqueeze(0) / math.sqrt(16 * 9) * styles.reshape(2, 1, -1, 1, 1)
        weight = weight / (weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).sqrt()
        convolved = torch.cat([F.conv2d(x[i:i + 1], weight[i], padding=1) for i in range(2)])
        pre = convolved + noise * layer.noise.weight.reshape(1, -1, 1, 1) + layer.bias.reshape(1, -1, 1, 1)
        expected = F.leaky_relu(pre, LEAKY_SLOPE) * math.sqrt(2)
        torch.testing.assert_close(layer(x, w, noise), expected, rtol=1e-12, atol=1e-12)
        to_rgb = generator.to_rgb[1]
        rgb_styles = w @ (to_rgb.affine.weight / math.sqrt(12)).T + to_rgb.affine.bias
        rgb_weight = to_rgb.conv.weight.unsqueeze(0) / math.sqrt(16) * rgb_styles.reshape(2, 1, -1, 1, 1)
        rgb = torch.cat([F.conv2d(x[i:i + 1], rgb_weight[i]) for i in range(2)]) + to_rgb.conv.bias.reshape(1, -1, 1, 1)
        torch.testing.assert_close(to_rgb(x, w), rgb, rtol=1e-12, atol=1e-12)
        # The synthesis: layer 0 at 4×4, layers 2k − 1, 2k at block k, toRGB with w 2k + 1.
        all_styles = torch.randn(2, 6, 12, dtype=torch.float64)
        noises = [torch.randn(2, 1, size, size, dtype=torch.float64) for size in generator.noise_resolutions(6)]
        h = generator.layers[0](generator.const.expand(2, -1, -1, -1), all_styles[:, 0], noises[0])
        for block in (1, 2):
            h = generator.upsample(h)
            h = generator.layers[2 * block - 1](h, all_styles[:, 2 * block - 1], noises[2 * block - 1])
            h = generator.layers[2 * block](h, all_styles[:, 2 * block], noises[2 * block])
        torch.testing.assert_close(generator.synthesis(all_styles, noise=noises),
                                   generator.to_rgb[2](h, all_styles[:, 5]), rtol=0, atol=0)


def test_the_skip_generator_sums_the_upsampled_torgbs():
    """Figure 7b: y₄ = toRGB₄, y₂ᵣ = upsample(yᵣ) + toRGB₂ᵣ, for AdaIN and modulated blocks alike."""
    for block in ("adain", "modulated"):
        skip = style_generator2(style_block=block, architecture="skip")
        all_scales = style_generator2(style_block=block)  # the same weights: every toRGB's own image
        assert all(torch.equal(value, all_scales.state_dict()[name]) for name, value in skip.state_dict().items())
        z = torch.randn(3, 12, dtype=torch.float64)
        draws = skip.draw(torch.Generator().manual_seed(0), 3, 16)
        with torch.no_grad():
            rgbs = all_scales(z, 16, all_scales=True, draws=draws)
            expected = skip.upsample(skip.upsample(rgbs[0]) + rgbs[1]) + rgbs[2]
            torch.testing.assert_close(skip(z, 16, draws=draws), expected, rtol=0, atol=0)
        assert skip.upsample is not upsample2x  # blur_resample: the binomial-filtered upsampling


def test_lazy_r1_is_interval_times_r1_on_its_steps():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 1)).double()
    reals = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    loss, parts = lazy_r1_loss(lambda images: critic(images).squeeze(1), reals, gamma=10.0, interval=16)
    leaf = reals.clone().requires_grad_(True)
    penalty = r1_penalty(critic(leaf).squeeze(1), leaf).mean()
    torch.testing.assert_close(loss, 16 * 5.0 * penalty)
    torch.testing.assert_close(parts["r1_penalty"], penalty)
    # Without laziness R1 is in every D loss; the lazy D loss carries none.
    with_r1, _ = discriminator_loss(lambda images: critic(images).squeeze(1), reals, reals * 0.5, kind="logistic",
                                    mix=torch.zeros(4), r1_gamma=10.0)
    without, _ = discriminator_loss(lambda images: critic(images).squeeze(1), reals, reals * 0.5, kind="logistic",
                                    mix=torch.zeros(4), r1_gamma=0.0)
    torch.testing.assert_close(with_r1 - without, 5.0 * penalty)


def tiny_style2(data: Path, preset: str, **overrides) -> TrainConfig:
    settings = dict(data=str(data), resolution=8, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.128,
                    lod_training_kimg=0.032, lod_transition_kimg=0.032, minibatch_repeats=1, kimg_per_tick=0.064,
                    metrics_num_images=0, grid_size=2, mapping_layers=2)
    return make_config(preset, **{**settings, **overrides})


@pytest.fixture
def data8(tmp_path) -> Path:
    path = tmp_path / "data8.npz"
    np.savez(path, images=np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8))
    return path


def test_lazy_r1_steps_d_every_interval_and_pl_state_is_checkpointed(data8, tmp_path):
    """8 D minibatches at r1_interval 4: 8 main steps + R1 steps at 0 and 4 (Adam's step count 10), lr·4/5 and β^(4/5);
    path length every 4 G minibatches (8 + 2 G steps), its running mean saved."""
    train(tiny_style2(data8, "stylegan2_d", r1_interval=4, progressive=False), tmp_path / "run", progress=False)
    saved = load_checkpoint(list_checkpoints(tmp_path / "run")[-1])
    assert saved["counters"]["d_steps"] == saved["counters"]["g_steps"] == 8
    d_state, g_state = (next(iter(saved[name]["state"].values())) for name in ("d_optimizer", "g_optimizer"))
    assert float(d_state["step"]) == 8 + 2
    group = saved["d_optimizer"]["param_groups"][0]
    assert group["lr"] == pytest.approx(0.001 * 4 / 5) and group["betas"][1] == pytest.approx(0.99 ** (4 / 5))
    assert float(g_state["step"]) == 8 + 2
    state = saved["path_length_mean"]
    assert state["decay"] == 0.01 and float(state["value"]) > 0
    log = [line for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert all('"path_length_penalty"' in line and '"r1_penalty"' in line for line in log)
    images = generate(tmp_path / "run", 3, seed=1, device="cpu", truncation_psi=0.7)  # sampling the modulated G
    assert images.shape == (3, 1, 8, 8) and np.array_equal(images, generate(tmp_path / "run", 3, seed=1, device="cpu",
                                                                            truncation_psi=0.7))


@pytest.mark.parametrize("preset", ["stylegan_f", "g"])
def test_with_every_stylegan2_switch_off_the_networks_are_unchanged(preset):
    config = make_config(preset, **TINY, resolution=16)
    assert (config.style_block, config.g_architecture, config.r1_interval, config.pl_weight,
            config.fmap_base_factor) == ("adain", "orig", 1, 0.0, 1)
    torch.manual_seed(0)
    generator, discriminator = build_networks(config, 1)
    assert not any(name.startswith(("layers.", "to_rgb.0.affine")) for name in generator.state_dict())
    if preset == "stylegan_f":
        torch.manual_seed(0)
        plain = StyleGenerator(16, 1, latent_size=12, fmap_base=64, fmap_max=16, mapping_layers=8, const_input=True,
                               noise_inputs=True, style_mixing_prob=0.9, blur_resample=True, pixelnorm=False)
        assert all(torch.equal(value, plain.state_dict()[name]) for name, value in generator.state_dict().items())


def test_the_stylegan2_presets_and_grid_add_one_row_of_table_1_at_a_time():
    rows = {name: make_config(f"stylegan2_{name.lower()}", budget="quick") for name in "ABCDEF"}
    assert rows["A"] == make_config("stylegan_f", budget="quick")
    changes = {name: {key for key, value in rows[name].to_dict().items() if value != rows[before].to_dict()[key]}
               for before, name in zip("ABCDE", "BCDEF")}
    assert changes == {"B": {"style_block"}, "C": {"r1_interval"}, "D": {"pl_weight"},
                       "E": {"progressive", "g_architecture", "d_architecture"}, "F": {"fmap_base_factor"}}
    assert rows["C"].r1_interval == 16 and rows["D"].pl_interval == 4 and rows["F"].fmap_base_factor == 2
    torch.manual_seed(0)
    large = build_networks(rows["F"], 1)[0]
    torch.manual_seed(0)
    normal = build_networks(rows["E"], 1)[0]
    widths = [[layer.conv.weight.shape[0] for layer in net.layers] for net in (normal, large)]
    assert widths == [[32, 32, 32, 32, 32, 16, 16], [32] * 7]  # quick: doubled at 32×32 only, capped below
    assert list(STYLEGAN2.rows) == list("ABCDEF") and set(PAPER_STYLEGAN2_FID) == set("ABCDEF")
    assert all(f"stylegan2_{row.lower()}" in PRESETS for row in "ABCDEF")


@pytest.mark.parametrize(("overrides", "field"), [
    (dict(style_block="modulated"), "style_block"),
    (dict(mapping_layers=8, pixelnorm=False, style_block="styled"), "style_block"),
    (dict(mapping_layers=8, style_block="modulated"), "pixelnorm"),
    (dict(mapping_layers=8, pixelnorm=False, equalized_lr=False, style_block="modulated"), "equalized_lr"),
    (dict(mapping_layers=8, g_architecture="skip"), "g_architecture"),
    (dict(g_architecture="skip", progressive=False), "g_architecture"),
    (dict(pl_weight=2.0), "pl_weight"),
    (dict(r1_interval=16), "r1_interval"),
    (dict(r1_interval=0), "r1_interval"),
    (dict(mapping_layers=8, pl_weight=2.0, pl_decay=0.0), "pl_decay"),
    (dict(pl_batch_shrink=0), "pl_batch_shrink"),
    (dict(fmap_base_factor=0), "fmap_base_factor"),
])
def test_bad_stylegan2_settings_are_refused(overrides, field):
    with pytest.raises(ConfigError) as caught:
        make_config("g", **overrides)
    assert caught.value.field == field


@pytest.mark.slow  # spawns processes; torch.compile compiles G's graphs in each process (≈ 1 min on 2 cores)
@pytest.mark.parametrize(("preset", "compiled"), [
    ("stylegan2_c", False), ("stylegan2_d", False), ("stylegan2_e", False), ("stylegan2_e", True),
    ("stylegan2_f", False)], ids=["C", "D", "E", "E-compile", "F"])
def test_a_tiny_stylegan2_run_through_the_cli_resumes_bit_identically(data8, tmp_path, preset, compiled):
    # Rows C–F of StyleGAN2's Table 1: lazy R1 (C), path length regularisation with its running mean (D, growing),
    # no growing with skip G and residual D (E), large networks (F). With --compile, G's compiled forward takes the
    # style draws (mixing, noise) as inputs (the path length pass runs eagerly: its double backward is not compiled).
    args = ["--data", str(data8), "--config", preset, "--fmap-base", "16", "--fmap-max", "8",
            "--latent-size", "8", "--kimg", "0.256", "--kimg-per-tick", "0.064", "--snapshot-ticks", "1",
            "--metrics-images", "0", "--minibatch-repeats", "1", "--no-progress", "--set", "mapping_layers=2",
            "--set", "r1_interval=4", "--set", "resolution=8", "--set", "grid_size=2", "--set",
            "lod_training_kimg=0.032", "--set", "lod_transition_kimg=0.032", *(["--compile"] if compiled else [])]
    train_whole_and_killed(args, tmp_path / "whole", tmp_path / "killed")
    whole, log = assert_same_training_state(tmp_path / "whole", tmp_path / "killed", rng=("sampler", "style", "torch"))
    assert whole["counters"]["num_images"] == 256 and len(log) == 4
    if make_config(preset).pl_weight > 0:
        again = load_checkpoint(list_checkpoints(tmp_path / "killed")[-1])
        assert whole["path_length_mean"]["value"].item() == again["path_length_mean"]["value"].item() > 0


@pytest.mark.slow  # spawns a process, six runs
def test_a_stylegan2_grid_runs_every_row_through_the_cli(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "data16.npz"
    np.savez(data, images=rng.integers(0, 256, (64, 1, 16, 16), dtype=np.uint8))
    command = [sys.executable, "-m", "pggan", "ablation", "--grid", "stylegan2", "--data", str(data), "--out",
               str(tmp_path / "grid"), "--kimg", "0.2", "--configs", "A,B,C,D,E,F", "--seeds", "1000", "--device",
               "cpu", "--no-progress", "--set", "fmap_base=32", "--set", "fmap_max=8", "--set", "latent_size=16",
               "--set", "mapping_layers=2", "--set", "lod_training_kimg=0.05", "--set", "lod_transition_kimg=0.05",
               "--set", "resolution=16"]
    done = subprocess.run(command, cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    table = (tmp_path / "grid" / "stylegan2_table1.md").read_text()
    assert all(label in table for label in STYLEGAN2.labels.values()) and "paper FID FFHQ" in table
    # Every row is a StyleGAN run: its evaluation holds StyleGAN2's droplet statistic, as `pggan droplets` gives it.
    for row in STYLEGAN2.rows:
        run = tmp_path / "grid" / "seed-1000" / row
        evaluation = json.loads((run / "evaluation.json").read_text())
        assert evaluation["droplets"] == droplet_statistics(run, num_images=256, seed=1000, device="cpu")["resolutions"]
        top = evaluation["droplets"][-1]
        assert top["resolution"] == 16 and (evaluation["droplet_p99"], evaluation["droplet_fraction"]) == \
            (top["p99"], top["fraction_above"])
    assert "| droplet p99 | droplet maps |" in table and "weight demodulation removes the droplets" in table
    assert (tmp_path / "grid" / "figure_droplets.png").stat().st_size > 0
