"""StyleGAN2's droplet statistic (Karras et al. 2020, §2.1): the peak ratio against a numpy oracle written from its
definition, the hooks against a forward by hand through the style layers, and `pggan droplets` on tiny runs of
stylegan_f / stylegan2_a (AdaIN) and stylegan2_b (demodulated): table, JSON, figure, bad input."""

import json
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner

from ganeval.errors import GanevalInputError
from ganeval_cli.pggan_cli import main
from pggan.config import make_config
from pggan.droplets import (
    droplet_statistics,
    generator_peak_ratios,
    peak_ratios,
    preset_name,
    spike_threshold,
    style_features,
    summarise_peak_ratios,
)
from pggan.layers import LEAKY_SLOPE
from pggan.style import StyleGenerator
from pggan.train import train

pytestmark = pytest.mark.usefixtures("one_thread")


# ---------------------------------------------------------------------------------------------------------------
# The statistic against its definition.


def peak_ratio_oracle(features: np.ndarray) -> np.ndarray:
    """max over pixels |h| / mean over pixels |h| per (image, channel), looping over the maps in plain numpy."""
    out = np.empty(features.shape[:2])
    for image in range(features.shape[0]):
        for channel in range(features.shape[1]):
            magnitude = [abs(float(value)) for value in features[image, channel].ravel()]
            out[image, channel] = max(magnitude) / (sum(magnitude) / len(magnitude))
    return out


@pytest.mark.parametrize("size", [4, 8, 16, 32])
def test_a_flat_map_gives_1_and_a_single_spike_gives_the_pixel_count(size):
    flat = torch.full((1, 3, size, size), -2.5)
    spikes = torch.zeros(2, 3, size, size)
    spikes[0, 0, 1, 2], spikes[0, 1, -1, -1], spikes[0, 2, 0, 0], spikes[1, :, size // 2, size // 3] = 7.0, -3, 1e-6, 5
    np.testing.assert_allclose(peak_ratios(flat).numpy(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(peak_ratios(spikes).numpy(), size * size, rtol=1e-12)
    # k equal spikes in n pixels: n / k.
    blob = torch.zeros(1, 1, size, size)
    blob[0, 0, :2, :2] = 4.0
    assert peak_ratios(blob).item() == pytest.approx(size * size / 4)


def test_random_maps_match_the_numpy_oracle_and_an_all_zero_map_is_nan():
    rng = np.random.default_rng(0)
    features = rng.standard_normal((4, 5, 8, 8)) * rng.uniform(0.1, 10, (4, 5, 1, 1))
    features[1, 2] = np.where(features[1, 2] > 0, features[1, 2], 0.2 * features[1, 2])  # leaky-ReLU'd
    features[3, 4, 3, 3] = 40.0  # a spike over noise
    np.testing.assert_allclose(peak_ratios(torch.from_numpy(features).float()).numpy(), peak_ratio_oracle(features),
                               rtol=1e-6)
    np.testing.assert_allclose(peak_ratios(torch.from_numpy(features)).numpy(), peak_ratio_oracle(features),
                               rtol=1e-12)
    zero = torch.zeros(1, 2, 4, 4)
    zero[0, 1, 0, 0] = 1.0
    ratios = peak_ratios(zero).numpy()
    assert math.isnan(ratios[0, 0]) and ratios[0, 1] == 16


def test_the_summary_is_median_p99_and_fraction_above_the_threshold():
    rng = np.random.default_rng(1)
    ratios = np.concatenate([rng.uniform(1, 30, 997), [np.nan, np.nan, np.nan]])
    summary = summarise_peak_ratios(ratios, 16 * 16)
    measured = ratios[:997]
    assert summary["maps"] == 997 and summary["zero_maps"] == 3 and summary["pixels"] == 256
    assert summary["median"] == pytest.approx(np.median(measured))
    assert summary["p99"] == pytest.approx(sorted(measured)[int(0.99 * 996)], rel=0.05)
    assert summary["p99"] == pytest.approx(np.percentile(measured, 99))
    assert summary["threshold"] == 16 and summary["fraction_above"] == pytest.approx(np.mean(measured > 16))
    assert json.loads(json.dumps(summary)) == summary
    assert [spike_threshold(size * size) for size in (4, 8, 16, 32, 64)] == [8, 8, 16, 64, 256]
    assert summarise_peak_ratios(np.array([np.nan]), 16)["median"] is None


# ---------------------------------------------------------------------------------------------------------------
# The hooks read the tensors the normalisation sees.


def tiny_generator(style_block: str) -> StyleGenerator:
    torch.manual_seed(0)
    generator = StyleGenerator(8, 1, latent_size=6, fmap_base=32, fmap_max=4, mapping_layers=2, noise_inputs=True,
                               style_mixing_prob=0.0, style_block=style_block).double().eval()
    with torch.no_grad():  # noise strengths and biases away from their zero initialisation, so each one counts
        for name, parameter in generator.named_parameters():
            if name.endswith(("noise.weight", ".bias")) and "mapping" not in name:
                parameter.normal_()
    return generator


def recorded(generator: StyleGenerator, styles: torch.Tensor, noise: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    seen: dict[str, torch.Tensor] = {}
    with torch.no_grad(), style_features(generator, lambda name, features: seen.setdefault(name, features.clone())):
        generator.synthesis(styles, noise=noise)
    return seen


def test_adain_hooks_read_the_input_of_the_instance_norm_after_noise_and_activation():
    generator = tiny_generator("adain")
    styles = generator.styles(torch.randn(3, 6, dtype=torch.float64), 4)
    noise = [torch.randn(3, 1, size, size, dtype=torch.float64) for size in generator.noise_resolutions(4)]
    seen = recorded(generator, styles, noise)
    assert list(seen) == [f"epilogues.{index}.adain" for index in range(4)]
    epilogues, convs = generator.epilogues, generator.convs
    with torch.no_grad():
        def before_adain(index: int, x: torch.Tensor) -> torch.Tensor:
            return F.leaky_relu(x + noise[index] * epilogues[index].noise.weight.reshape(1, -1, 1, 1), LEAKY_SLOPE)

        x = generator.const.expand(3, -1, -1, -1)
        expected = [before_adain(0, x)]
        x = convs[0](epilogues[0].adain(expected[0], styles[:, 0]))
        expected.append(before_adain(1, x))
        x = convs[1](generator.upsample(epilogues[1].adain(expected[1], styles[:, 1])))
        expected.append(before_adain(2, x))
        x = convs[2](epilogues[2].adain(expected[2], styles[:, 2]))
        expected.append(before_adain(3, x))
    for index, tensor in enumerate(expected):
        torch.testing.assert_close(seen[f"epilogues.{index}.adain"], tensor, rtol=1e-12, atol=1e-12)
    assert [seen[f"epilogues.{index}.adain"].shape[-1] for index in range(4)] == [4, 4, 8, 8]


def test_modulated_hooks_read_the_demodulated_conv_output_before_noise_bias_and_activation():
    generator = tiny_generator("modulated")
    styles = generator.styles(torch.randn(3, 6, dtype=torch.float64), 4)
    noise = [torch.randn(3, 1, size, size, dtype=torch.float64) for size in generator.noise_resolutions(4)]
    seen = recorded(generator, styles, noise)
    assert list(seen) == [f"layers.{index}.conv" for index in range(3)]
    layers = generator.layers
    with torch.no_grad():
        def conv_output(index: int, x: torch.Tensor) -> torch.Tensor:
            layer = layers[index]
            weight = layer.conv.weight * layer.conv.runtime_scale * layer.affine(styles[:, index]).reshape(3, 1, -1,
                                                                                                           1, 1)
            weight = weight / (weight.square().sum(dim=(2, 3, 4), keepdim=True) + 1e-8).sqrt()  # Eq. 3
            return torch.cat([F.conv2d(x[n:n + 1], weight[n], padding=1) for n in range(3)])

        def after(index: int, h: torch.Tensor) -> torch.Tensor:
            layer = layers[index]
            h = h + noise[index] * layer.noise.weight.reshape(1, -1, 1, 1) + layer.bias.reshape(1, -1, 1, 1)
            return F.leaky_relu(h, LEAKY_SLOPE) * math.sqrt(2)

        expected = [conv_output(0, generator.const.expand(3, -1, -1, -1))]
        x = generator.upsample(after(0, expected[0]))
        expected.append(conv_output(1, x))
        expected.append(conv_output(2, after(1, expected[1])))
    for index, tensor in enumerate(expected):
        torch.testing.assert_close(seen[f"layers.{index}.conv"], tensor, rtol=1e-10, atol=1e-10)
    # The demodulated output has about unit variance per map over random inputs (§2.2), AdaIN's input does not need to.
    assert [seen[f"layers.{index}.conv"].shape[-1] for index in range(3)] == [4, 8, 8]


# ---------------------------------------------------------------------------------------------------------------
# Tiny runs through the command line.


def tiny_run(data, out, preset: str):
    # The presets' own switches (8 mapping layers, growing), so the runs are named by their presets; 8×8 (α = 1)
    # from 32 images on.
    config = make_config(preset, data=str(data), resolution=8, fmap_base=16, fmap_max=8, latent_size=8,
                         total_kimg=0.064, lod_training_kimg=0.016, lod_transition_kimg=0.016, kimg_per_tick=0.064,
                         minibatch_repeats=1, metrics_num_images=0, grid_size=2)
    train(config, out, progress=False)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("droplets")
    data = root / "data8.npz"
    np.savez(data, images=np.random.default_rng(0).integers(0, 256, (64, 1, 8, 8), dtype=np.uint8))
    made = {preset: tiny_run(data, root / preset, preset) for preset in ("stylegan_f", "stylegan2_a", "stylegan2_b",
                                                                         "g")}
    torch.set_num_threads(previous)
    return made


def test_the_command_prints_a_row_per_run_and_resolution_and_writes_the_figure(runs, tmp_path):
    figure = tmp_path / "droplets.png"
    arguments = ["droplets", str(runs["stylegan_f"]), str(runs["stylegan2_a"]), str(runs["stylegan2_b"]), "-n", "6",
                 "--device", "cpu", "--out", str(figure)]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["run", "res", "layers", "maps", "median", "p99", "threshold", "above"]
    rows = [line.split() for line in lines[1:7]]
    assert [(row[0], row[2], row[3]) for row in rows] == [  # label: preset (folder)
        ("stylegan_f=stylegan2_a", "4×4", "2"), ("stylegan_f=stylegan2_a", "8×8", "2"),
        ("stylegan_f=stylegan2_a", "4×4", "2"), ("stylegan_f=stylegan2_a", "8×8", "2"),
        ("stylegan2_b", "4×4", "1"), ("stylegan2_b", "8×8", "2")]
    assert "measured at: AdaIN input, modulated conv output" in result.stdout
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"wrote {figure}" in result.stdout


def test_json_is_one_object_whose_numbers_are_the_statistic_of_the_generated_maps(runs):
    result = CliRunner().invoke(main, ["droplets", str(runs["stylegan2_b"]), str(runs["stylegan_f"]), "-n", "5",
                                       "--seed", "3", "--device", "cpu", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    demodulated, adain = report["runs"]
    assert (demodulated["style_block"], demodulated["measured_at"]) == ("modulated", "modulated conv output")
    assert (adain["style_block"], adain["measured_at"]) == ("adain", "AdaIN input")
    assert [row["resolution"] for row in demodulated["resolutions"]] == [4, 8]
    assert demodulated["resolutions"][1]["layers"] == ["layers.1.conv", "layers.2.conv"]
    # 5 images × nf(2) = 16/2² = 4 channels × 2 layers at 8×8
    assert demodulated["resolutions"][1]["maps"] + demodulated["resolutions"][1]["zero_maps"] == 5 * 4 * 2
    assert all(1 <= row["median"] <= row["p99"] <= row["pixels"] for run in report["runs"]
               for row in run["resolutions"])
    # The same numbers from the library, and again from the same seed.
    assert droplet_statistics(runs["stylegan2_b"], num_images=5, seed=3, device="cpu") == demodulated
    assert droplet_statistics(runs["stylegan2_b"], num_images=5, seed=4, device="cpu") != demodulated


def test_a_progressive_gan_run_is_refused_naming_it(runs):
    with pytest.raises(GanevalInputError, match=re.escape(f"{runs['g']}: a Progressive GAN run")):
        droplet_statistics(runs["g"], num_images=2, device="cpu")


@pytest.mark.parametrize("preset", ["g", "h", "msg", "stylegan_b", "stylegan_e", "stylegan2_b", "stylegan2_f"])
def test_a_run_is_named_by_its_preset_whatever_its_budget_and_latent_size(preset):
    for budget in (None, "quick", "paper"):
        assert preset_name(make_config(preset, budget, latent_size=16)) == preset
    assert preset_name(make_config("stylegan2_a", "quick")) == "stylegan_f=stylegan2_a"
    assert preset_name(make_config("stylegan2_b", mapping_layers=2)) is None  # not a preset's network


@pytest.mark.parametrize("arguments, word", [
    (lambda runs, tmp: [str(tmp / "nope")], "no such checkpoint"),
    (lambda runs, tmp: [str(tmp)], "no checkpoint"),
    (lambda runs, tmp: [str(runs["stylegan2_b"]), "--num-images", "0"], "--num-images"),
    (lambda runs, tmp: [str(runs["g"])], "no style layers"),
    (lambda runs, tmp: [str(runs["stylegan2_b"]), "--out", str(tmp / "figure.pdf")], ".png"),
    (lambda runs, tmp: [], "RUN_DIR"),
])
def test_bad_input_exits_2_with_one_error_line(runs, tmp_path, arguments, word):
    result = CliRunner().invoke(main, ["droplets", *arguments(runs, tmp_path), "--device", "cpu"])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and word in lines[0], lines


def test_help_teaches_with_an_example():
    result = CliRunner().invoke(main, ["droplets", "--help"])
    assert result.exit_code == 0 and "pggan droplets runs/" in result.stdout and "peak ratio" in result.stdout


def test_a_generator_whose_maps_hold_nan_is_refused_naming_the_layer():
    generator = tiny_generator("modulated")
    with torch.no_grad():
        generator.const[0, 0, 0, 0] = math.nan
    with pytest.raises(FloatingPointError, match="layers.0.conv"):
        generator_peak_ratios(generator, torch.randn(2, 6, dtype=torch.float64), 8)
    ok = generator_peak_ratios(tiny_generator("adain"), torch.randn(3, 6, dtype=torch.float64), 8)
    assert [(row["resolution"], row["layers"], row["maps"] + row["zero_maps"]) for row in ok] == [
        (4, ["epilogues.0.adain", "epilogues.1.adain"], 3 * 4 * 2), (8, ["epilogues.2.adain", "epilogues.3.adain"],
                                                                     3 * 4 * 2)]
