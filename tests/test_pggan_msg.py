"""MSG-GAN (Karnewar & Wang 2020) as a switch of the PGGAN networks: the scales connected, φ's shapes, gradients to
every scale, PGGAN's networks when nothing is connected, the multi-scale gradient penalty, a CLI run and its resume."""

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from pggan.checkpoint import list_checkpoints, load_checkpoint
from pggan.config import (
    CONFIG_ORDER,
    MSG_COMBINES,
    MSG_CONNECTIONS,
    PRESETS,
    TrainConfig,
    make_config,
    msg_scales,
)
from pggan.data import real_pyramid, to_uint8
from pggan.errors import ConfigError
from pggan.generate import generate
from pggan.grids import MSG, TABLE1
from pggan.layers import MultiScaleCombine
from pggan.losses import gradient_penalty
from pggan.networks import build_networks
from pggan.train import train
from tests.helpers import assert_same_training_state, train_whole_and_killed

REPO = Path(__file__).resolve().parents[1]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}
TINY = dict(fmap_base=64, fmap_max=16, latent_size=12)

pytestmark = pytest.mark.usefixtures("one_thread")


def networks(preset: str, resolution: int, channels: int = 3, **overrides):
    torch.manual_seed(0)
    return build_networks(make_config(preset, resolution=resolution, **TINY, **overrides), channels)


@pytest.mark.parametrize(("resolution", "expected"), [
    (8, {"all": (4,), "coarse": (4,), "middle": (), "fine": ()}),
    (16, {"all": (4, 8), "coarse": (4, 8), "middle": (), "fine": ()}),
    (32, {"all": (4, 8, 16), "coarse": (4, 8), "middle": (16,), "fine": ()}),
    (64, {"all": (4, 8, 16, 32), "coarse": (4, 8), "middle": (16,), "fine": (32,)}),
    (128, {"all": (4, 8, 16, 32, 64), "coarse": (4, 8), "middle": (16, 32), "fine": (64,)}),
    (256, {"all": (4, 8, 16, 32, 64, 128), "coarse": (4, 8), "middle": (16, 32), "fine": (64, 128)}),
])
def test_connection_sets_follow_the_documented_rule(resolution, expected):
    assert {name: msg_scales(name, resolution) for name in expected} == expected
    assert msg_scales("none", resolution) == ()


def test_the_msg_preset_is_g_with_msg_on_and_no_growing():
    msg, g = make_config("msg").to_dict(), make_config("g").to_dict()
    assert {key for key in msg if msg[key] != g[key]} == {"msg", "progressive"}
    assert msg["msg"] and not msg["progressive"] and msg["msg_connections"] == "all"
    assert "msg" in PRESETS


def test_the_msg_grid_rows_are_g_and_one_switch_each():
    g = make_config("g").to_dict()
    msg = {"msg": True, "progressive": False}
    expected = {"R0": {}, "R1": {**msg, "msg_connections": "none"}, "R2": {**msg, "msg_connections": "coarse"},
                "R3": {**msg, "msg_connections": "middle"}, "R4": msg, "R5": {**msg, "msg_combine": "lin_cat"},
                "R6": {**msg, "msg_combine": "cat_lin"}}
    for row, changed in expected.items():
        config = MSG.config(row, None, resolution=32).to_dict()
        assert {key: value for key, value in config.items() if value != g[key] and key != "resolution"} == changed
    with pytest.raises(ConfigError, match="rows differ in"):
        MSG.config("R4", None, msg_combine="cat_lin")
    assert list(TABLE1.rows) == list(CONFIG_ORDER) and all(TABLE1.config(row, None) == make_config(row)
                                                           for row in TABLE1.rows)


@pytest.mark.parametrize(("overrides", "field"), [
    (dict(msg=True), "msg"),  # progressive growing is on in (g)
    (dict(msg=True, progressive=False, msg_combine="sum"), "msg_combine"),
    (dict(msg=True, progressive=False, msg_connections="some"), "msg_connections"),
    (dict(msg=True, progressive=False, msg_connections="fine", resolution=32), "msg_connections"),
])
def test_bad_msg_settings_are_refused(overrides, field):
    with pytest.raises(ConfigError) as caught:
        make_config("g", **overrides)
    assert caught.value.field == field


def test_without_connections_the_networks_are_pggans_bit_for_bit():
    generator, discriminator = networks("g", 16, progressive=False)
    msg_generator, msg_discriminator = networks("msg", 16, msg_connections="none")
    for name, value in generator.state_dict().items():
        assert torch.equal(value, msg_generator.state_dict()[name]), name
    pggan_d = discriminator.state_dict()
    msg_d = msg_discriminator.state_dict()
    # MSG's D keeps fromRGB at R only; everything it holds is PGGAN's, drawn from the same seed.
    assert set(pggan_d) - set(msg_d) == {"from_rgb.0.0.weight", "from_rgb.0.0.bias", "from_rgb.1.0.weight",
                                         "from_rgb.1.0.bias"}
    assert all(torch.equal(value, pggan_d[name]) for name, value in msg_d.items())
    latents = torch.randn(8, 12)
    with torch.no_grad():
        images = generator(latents, 16, 1.0)
        scales = msg_generator(latents, 16, 1.0, all_scales=True)
        assert [image.shape[-1] for image in scales] == [4, 8, 16]
        assert torch.equal(scales[-1], images) and torch.equal(msg_generator(latents, 16, 1.0), images)
        assert torch.equal(msg_discriminator(real_pyramid(images)), discriminator(images, 1.0))
        assert torch.equal(msg_discriminator(scales), discriminator(images, 1.0))  # lower scales unread


@pytest.mark.parametrize("combine", MSG_COMBINES)
def test_gradients_reach_every_to_rgb_every_from_rgb_and_every_combine(combine):
    generator, discriminator = networks("msg", 16, msg_combine=combine)
    assert set(discriminator.combine) == {"4", "8"}
    discriminator(generator(torch.randn(8, 12), 16, all_scales=True)).sum().backward()
    for name, parameter in [*generator.named_parameters(), *discriminator.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    names = {name for name, _ in [*generator.named_parameters(prefix="G"),
                                  *discriminator.named_parameters(prefix="D")]}
    assert {f"G.to_rgb.{index}.weight" for index in range(3)} <= names
    assert "D.from_rgb.2.0.weight" in names
    assert combine == "simple" or {"D.combine.4.conv.weight", "D.combine.8.conv.weight"} <= names


def test_the_real_pyramid_is_repeated_2x2_averaging():
    images = torch.randn(3, 2, 32, 32, dtype=torch.float64)
    pyramid = real_pyramid(images)
    assert [image.shape for image in pyramid] == [(3, 2, side, side) for side in (4, 8, 16, 32)]
    assert pyramid[-1] is images
    expected = images
    for index in range(len(pyramid) - 2, -1, -1):  # each level: the mean of each 2×2 block of the next
        n, c, h, w = expected.shape
        expected = expected.reshape(n, c, h // 2, 2, w // 2, 2).mean(dim=(3, 5))
        torch.testing.assert_close(pyramid[index], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("connections", MSG_CONNECTIONS)
@pytest.mark.parametrize("combine", MSG_COMBINES)
def test_combine_shapes_for_every_function_and_connection_set(combine, connections):
    resolution = 64
    generator, discriminator = networks("msg", resolution, channels=3, msg_combine=combine,
                                        msg_connections=connections)
    scales = msg_scales(connections, resolution)
    assert sorted(int(scale) for scale in discriminator.combine) == sorted(scales)
    images = generator(torch.randn(4, 12), resolution, all_scales=True)
    features = torch.randn(4, 7, 8, 8)
    out = MultiScaleCombine(combine, 3, 7)(images[1], features)  # 3 image channels, 7 feature maps
    assert out.shape == (4, {"simple": 10, "lin_cat": 14, "cat_lin": 7}[combine], 8, 8)
    outputs = {}
    for scale, phi in discriminator.combine.items():
        phi.register_forward_hook(lambda module, inputs, output, scale=scale: outputs.update({scale: output.shape}))
    assert discriminator(images).shape == (4,)
    assert outputs == {scale: (4, phi.out_channels, int(scale), int(scale))
                       for scale, phi in discriminator.combine.items()}
    # φ's output is what the next layer takes: each connected block's (or the 4×4 block's) first conv.
    for scale, phi in discriminator.combine.items():
        index = int(scale).bit_length() - 3
        first = discriminator.final[0] if scale == "4" else discriminator.blocks[index][0]
        assert first.weight.shape[1] == phi.out_channels + (1 if scale == "4" else 0)  # + minibatch stddev


def test_cat_lin_has_no_bias_and_lin_cat_keeps_as_many_maps_as_d():
    cat_lin, lin_cat = MultiScaleCombine("cat_lin", 3, 8), MultiScaleCombine("lin_cat", 3, 8)
    assert cat_lin.conv.bias is None and cat_lin.conv.weight.shape == (8, 11, 1, 1)
    assert lin_cat.conv.bias is not None and lin_cat.conv.weight.shape == (8, 3, 1, 1)
    with pytest.raises(ValueError, match="unknown MSG combine"):
        MultiScaleCombine("sum", 3, 8)


def test_networks_refuse_the_wrong_inputs():
    generator, discriminator = networks("msg", 16)
    with pytest.raises(ValueError, match="full resolution"):
        generator(torch.randn(2, 12), 8, all_scales=True)
    with pytest.raises(ValueError, match="takes the list"):
        discriminator(torch.randn(4, 3, 16, 16))
    with pytest.raises(ValueError, match="4, 8"):
        discriminator([torch.randn(4, 3, 8, 8), torch.randn(4, 3, 16, 16)])
    _, pggan_discriminator = networks("g", 16)
    with pytest.raises(ValueError, match="takes the list"):
        pggan_discriminator([torch.randn(4, 3, 16, 16)])


def test_gradient_penalty_over_scales_is_the_mean_of_each_scales_squared_norm():
    torch.manual_seed(1)
    weight = [torch.randn(3, 4, 4, dtype=torch.float64), torch.randn(3, 8, 8, dtype=torch.float64)]

    def critic(images):  # a nonlinear D of two scales
        return sum(((image * w).sum(dim=(1, 2, 3))) ** 2 for image, w in zip(images, weight, strict=True))

    reals = [torch.randn(5, 3, 4, 4, dtype=torch.float64), torch.randn(5, 3, 8, 8, dtype=torch.float64)]
    fakes = [torch.randn_like(image) for image in reals]
    mix = torch.rand(5, dtype=torch.float64)
    penalty = gradient_penalty(critic, reals, fakes, mix, target=1.0)
    mixed = [torch.lerp(r, f, mix.reshape(-1, 1, 1, 1)) for r, f in zip(reals, fakes, strict=True)]
    # d/dx (w·x)² = 2 (w·x) w per sample: its squared norm is 4 (w·x)² ‖w‖².
    squared = [4 * (m * w).sum(dim=(1, 2, 3)) ** 2 * w.square().sum() for m, w in zip(mixed, weight, strict=True)]
    expected = ((squared[0] + squared[1]) / 2).sqrt()
    torch.testing.assert_close(penalty, (expected - 1) ** 2, rtol=1e-12, atol=0)
    # A scale the critic does not read (not connected) is left out of the mean: here the plain penalty of the other.
    unread = torch.zeros(5, 3, 4, 4, dtype=torch.float64)
    only_fine = gradient_penalty(lambda images: critic([unread, images[1]]), reals, fakes, mix)
    plain = gradient_penalty(lambda image: critic([unread, image]), reals[1], fakes[1], mix)
    torch.testing.assert_close(only_fine, plain, rtol=1e-12, atol=0)


def test_without_connections_training_is_pggans_bit_for_bit(smooth16, tmp_path):
    settings = dict(data=str(smooth16), resolution=16, fmap_base=16, fmap_max=8, latent_size=8, total_kimg=0.128,
                    kimg_per_tick=0.064, minibatch_repeats=1, metrics_num_images=0, grid_size=2)
    train(make_config("g", progressive=False, **settings), tmp_path / "g", progress=False)
    train(make_config("msg", msg_connections="none", **settings), tmp_path / "msg", progress=False)
    pggan, msg = (load_checkpoint(list_checkpoints(tmp_path / name)[-1]) for name in ("g", "msg"))
    for net in ("generator", "generator_ema"):
        assert pggan[net].keys() == msg[net].keys()
        assert all(torch.equal(value, pggan[net][name]) for name, value in msg[net].items()), net
    assert all(torch.equal(value, pggan["discriminator"][name]) for name, value in msg["discriminator"].items())
    timing = {"tick_seconds", "images_per_second", "train_seconds"}
    logs = [[{k: v for k, v in json.loads(line).items() if k not in timing}
             for line in (tmp_path / name / "log.jsonl").read_text().splitlines()] for name in ("g", "msg")]
    assert logs[0] == logs[1] and len(logs[0]) == 2


@pytest.mark.slow  # spawns processes
def test_a_tiny_msg_run_through_the_cli_resumes_bit_identically(smooth16, tmp_path):
    args = ["--data", str(smooth16), "--no-progressive", "--fmap-base", "16", "--fmap-max", "8",
            "--latent-size", "8", "--kimg", "0.4", "--kimg-per-tick", "0.1", "--snapshot-ticks", "1",
            "--metrics-images", "0", "--minibatch-repeats", "1", "--no-progress", "--set", "msg=true",
            "--set", "msg_connections=all", "--set", "msg_combine=lin_cat", "--set", "grid_size=2"]
    whole_dir, killed_dir = tmp_path / "whole", tmp_path / "killed"
    train_whole_and_killed(args, whole_dir, killed_dir)
    whole, log = assert_same_training_state(whole_dir, killed_dir)
    assert whole["counters"]["num_images"] == 400
    assert whole["config"]["msg"] and whole["config"]["msg_combine"] == "lin_cat"
    assert {"combine.4.conv.weight", "combine.8.conv.weight"} <= set(whole["discriminator"])
    assert all(entry["lod"] == 0 and entry["alpha"] == 1 and entry["resolution"] == 16 for entry in log)
    assert all(math.isfinite(entry[key]) for entry in log for key in ("d_loss", "g_loss", "gradient_penalty"))
    assert (whole_dir / "samples" / f"tick-{len(log):05d}.png").is_file()

    # Samples and metrics take G's last image: `generate` writes the EMA generator's full-resolution scale.
    generator, _ = build_networks(TrainConfig.from_dict(whole["config"]), 1)
    generator.load_state_dict(whole["generator_ema"])
    latents = torch.randn(6, 8, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        last = to_uint8(generator.eval()(latents, 16, all_scales=True)[-1]).numpy()
    assert np.array_equal(generate(whole_dir, 6, seed=3, device="cpu"), last)
