"""Perceptual path length (StyleGAN §3): the latents, interpolation, image preparation and outlier rule against the
definition (tests/oracle_ppl.py), each sample's length against the definition composed with LPIPS, LPIPS against the
lpips package and torch-fidelity on the same random VGG-16 weights, each sample's length against torch-fidelity's
PPL on the same latents, batch-size and 2-process invariance, the command line and `pggan ppl`.

The generators are tests.helpers.TinyGenerator: 16×16 images (LPIPS's smallest), every operation elementwise, so a
sample's image does not depend on its batch and numbers can be compared exactly. A length is a difference of two
nearly equal images over ε² (ε = 1e-4): float32 rounding of either image moves it by about 1e-3, so comparisons
that recompute the images in another order use a larger ε or that tolerance.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from click.testing import CliRunner

import ganeval
from ganeval.api import evaluate_sets
from ganeval.errors import GanevalInputError
from ganeval.extractors.lpips import load_lpips
from ganeval.kernels.ppl import lpips_pixels, minimum_samples, summary
from ganeval.metrics.base import GENERATOR
from ganeval_cli.ganeval_cli import main as ganeval_main
from ganeval_cli.pggan_cli import main as pggan_main
from pggan.config import make_config
from pggan.generate import run_generator
from pggan.networks import build_networks
from tests import oracle_ppl as oracle
from tests.helpers import TinyGenerator, free_port, full_vgg16_state_dict, random_vgg16_features

KEEP_ALL = {"lower_percentile": 0.0, "upper_percentile": 100.0}  # a few samples suffice without the outlier rule
KEEP_ALL_FLAGS = ["--lower-percentile", "0", "--upper-percentile", "100"]


class Recording(torch.nn.Module):
    """A generator that records the latents (or w) each call is given."""

    def __init__(self, generator: TinyGenerator) -> None:
        super().__init__()
        self.inner, self.z_dim, self.calls, self.synthesis_calls = generator, generator.z_dim, [], []

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.calls.append(z.clone())
        return self.inner(z)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        return self.inner.mapping(z)

    def synthesis(self, w: torch.Tensor) -> torch.Tensor:
        self.synthesis_calls.append(w.clone())
        return self.inner.synthesis(w)


@pytest.mark.parametrize("sampling", ["end", "full"])
def test_the_latents_are_stylegans_slerp_of_the_documented_draws(ppl_options, sampling):
    generator = Recording(TinyGenerator())
    result = ganeval.ppl(generator, num_samples=5, sampling=sampling, epsilon=0.1, seed=11, batch_size=5, **KEEP_ALL,
                         **ppl_options)
    assert len(generator.calls) == 2 and result["sampling"] == sampling
    for index in range(5):
        z0, z1, t = oracle.draws(11, index, 8)
        t = t if sampling == "full" else 0.0
        np.testing.assert_allclose(generator.calls[0][index].numpy(), oracle.slerp(z0, z1, t), atol=2e-6)
        np.testing.assert_allclose(generator.calls[1][index].numpy(), oracle.slerp(z0, z1, t + 0.1), atol=2e-6)


def test_the_w_space_interpolates_the_mapped_latents_linearly(ppl_options):
    generator = Recording(TinyGenerator())
    ganeval.ppl(generator, num_samples=4, space="w", sampling="full", epsilon=0.1, seed=3, **KEEP_ALL, **ppl_options)
    assert not generator.calls and len(generator.synthesis_calls) == 2
    for index in range(4):
        z0, z1, t = oracle.draws(3, index, 8)
        w0, w1 = (generator.mapping(torch.from_numpy(z.astype(np.float32))[None])[0].detach().double().numpy()
                  for z in (z0, z1))
        for end, step in enumerate((t, t + 0.1)):
            np.testing.assert_allclose(generator.synthesis_calls[end][index].numpy(), w0 + (w1 - w0) * step,
                                       atol=1e-6)


@pytest.mark.parametrize(("size", "crop", "channels"), [(16, False, 3), (64, True, 3), (16, False, 1)])
def test_each_length_is_lpips_over_epsilon_squared_of_the_definitions_images(ppl_options, size, crop, channels):
    """The oracle's latents and images, our LPIPS (checked against the lpips package below): ε = 0.05 keeps float32
    rounding of the two images far below the tolerance."""
    generator = TinyGenerator(size=size, channels=channels)
    result = ganeval.ppl(generator, num_samples=6, epsilon=0.05, sampling="full", crop=crop, seed=5, **KEEP_ALL,
                         **ppl_options)
    distance = load_lpips(ppl_options["vgg16_weights"], ppl_options["lpips_weights"], device=torch.device("cpu"),
                          allow_unverified_weights=True)
    expected = []
    for index in range(6):
        z0, z1, t = oracle.draws(5, index, 8)
        ends = [generator(torch.from_numpy(oracle.slerp(z0, z1, step).astype(np.float32))[None])[0].detach().numpy()
                for step in (t, t + 0.05)]
        pixels = [torch.from_numpy(oracle.lpips_input(end.astype(np.float64), -1, 1, crop)[None]).float()
                  for end in ends]
        expected.append(float(distance(*pixels)[0]) / 0.05**2)
    np.testing.assert_allclose(result["distances"], expected, rtol=2e-4)
    assert result["ppl"] == pytest.approx(np.mean(expected), rel=2e-4)
    assert result["lpips_size"] == ([size // 2, size // 2] if crop else [size, size])


@pytest.mark.parametrize(("count", "lower", "upper"), [(101, 1, 99), (150, 1, 99), (1000, 1, 99), (60, 5, 95),
                                                       (40, 0, 100), (333, 2.5, 97.5)])
def test_the_outlier_rule_is_the_definitions(count, lower, upper):
    rng = np.random.default_rng(count)
    distances = rng.gamma(2.0, 10.0, count).astype(np.float32)
    distances[::7] = distances[3]  # ties at a bound stay in
    ours = summary(distances, lower, upper)
    mean, std, kept = oracle.summary(distances, lower, upper)
    assert (ours["num_kept"], ours["num_samples"]) == (kept, count)
    assert ours["mean"] == pytest.approx(mean, rel=1e-12) and ours["std"] == pytest.approx(std, rel=1e-10)


@pytest.mark.parametrize(("lower", "upper"), [(1, 99), (0.5, 99), (5, 95), (0, 99.9), (2.5, 100), (0, 100)])
def test_the_fewest_samples_for_the_outlier_rule(lower, upper):
    def trims(count):
        distances = np.arange(count, dtype=np.float64)
        keep = oracle.kept(distances, lower, upper)
        return (lower == 0 or not keep[0]) and (upper == 100 or not keep[-1])

    needed = minimum_samples(lower, upper)
    assert trims(needed) and (needed == 1 or not trims(needed - 1))


@pytest.mark.parametrize(("shape", "crop"), [((2, 3, 520, 520), False), ((2, 1, 64, 64), True),
                                             ((1, 3, 770, 770), False), ((1, 3, 2048, 2048), True)])
def test_the_images_lpips_sees_are_the_definitions(shape, crop):
    images = torch.from_numpy(np.random.default_rng(sum(shape)).uniform(-1, 1, shape).astype(np.float32))
    ours = lpips_pixels(images, (-1.0, 1.0), crop).numpy()
    expected = np.stack([oracle.lpips_input(image.astype(np.float64), -1, 1, crop) for image in images.numpy()])
    assert ours.dtype == np.float32 and ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=2e-4)


def test_the_batch_size_changes_no_number(ppl_options):
    generator = TinyGenerator()
    results = [ganeval.ppl(generator, num_samples=9, sampling="full", seed=2, batch_size=size, **KEEP_ALL,
                           **ppl_options) for size in (2, 4, 64, 1)]
    assert results[0]["distances"] == results[1]["distances"] == results[2]["distances"]
    assert {**results[0], "batch_size": 0} == {**results[2], "batch_size": 0}
    # One pair at a time, oneDNN runs VGG-16's convolutions with other kernels: equal to float32 rounding.
    np.testing.assert_allclose(results[3]["distances"], results[2]["distances"], rtol=1e-6)


def test_both_ends_of_a_step_are_drawn_with_the_same_noise(ppl_options):
    noises = []

    class Noisy(TinyGenerator):
        def synthesis(self, w):
            noises.append(torch.randn(w.shape[0], 1, self.size, self.size))
            return super().synthesis(w) + 0.3 * noises[-1]

    noisy = ganeval.ppl(Noisy(), num_samples=6, batch_size=4, **KEEP_ALL, **ppl_options)
    clean = ganeval.ppl(TinyGenerator(), num_samples=6, batch_size=4, **KEEP_ALL, **ppl_options)
    assert len(noises) == 4  # two batches, each end drawn once
    assert torch.equal(noises[0], noises[1]) and torch.equal(noises[2], noises[3])
    assert not torch.equal(noises[0][:2], noises[2][:2])  # the next batch draws new noise
    assert 0.1 < noisy["ppl"] / clean["ppl"] < 10  # independent noise would add about LPIPS(noise) / ε² ≈ 1e6


def test_the_result_records_every_setting(ppl_options):
    result = ganeval.ppl(TinyGenerator(size=32), num_samples=101, space="w", sampling="full", crop=True, seed=4,
                         epsilon=2e-4, batch_size=50, **ppl_options)
    assert {key: result[key] for key in ("metric", "num_samples", "num_kept", "lower_percentile", "upper_percentile",
                                         "epsilon", "space", "sampling", "crop", "latent_dim", "value_range",
                                         "resolution", "lpips_size", "seed", "batch_size", "distance",
                                         "comparable_to_published", "device")} == {
        "metric": "ppl", "num_samples": 101, "num_kept": 99, "lower_percentile": 1.0, "upper_percentile": 99.0,
        "epsilon": 2e-4, "space": "w", "sampling": "full", "crop": True, "latent_dim": 8, "value_range": [-1, 1],
        "resolution": [32, 32], "lpips_size": [16, 16], "seed": 4, "batch_size": 50, "distance": "lpips-v0.1-vgg16",
        "comparable_to_published": False, "device": "cpu"}
    distances = np.array(result["distances"])
    ordered = np.sort(distances)
    assert len(distances) == 101 and result["low"] == ordered[1] and result["high"] == ordered[99]
    assert result["ppl"] == pytest.approx(ordered[1:100].mean())
    assert len(result["vgg16_weights_sha256"]) == len(result["lpips_weights_sha256"]) == 64


def test_the_command_prints_the_library_dict(ppl_options):
    weights = ["--vgg16-weights", str(ppl_options["vgg16_weights"]), "--lpips-weights",
               str(ppl_options["lpips_weights"]), "--allow-unverified-weights", "--device", "cpu"]
    outcome = CliRunner().invoke(ganeval_main, ["ppl", "--generator", "tests.helpers:tiny_generator", "--value-range",
                                                "-1", "1", "--num-samples", "7", "--lower-percentile", "0",
                                                "--upper-percentile", "100", "--seed", "9", "--json", *weights])
    assert outcome.exit_code == 0, outcome.output
    expected = ganeval.ppl(TinyGenerator(), num_samples=7, seed=9, **KEEP_ALL,
                           **{**ppl_options, "vgg16_weights": str(ppl_options["vgg16_weights"]),
                              "lpips_weights": str(ppl_options["lpips_weights"])})
    assert json.loads(outcome.stdout) == json.loads(json.dumps(expected))
    table = CliRunner().invoke(ganeval_main, ["ppl", "--generator", "tests.helpers:tiny_generator", "--value-range",
                                              "-1", "1", "--num-samples", "7", *KEEP_ALL_FLAGS, *weights])
    assert table.exit_code == 0 and "PPL" in table.stdout and "7 of 7 kept" in table.stdout


def test_a_generator_from_a_file_and_eval_leaves_generator_metrics_out(ppl_options, tmp_path):
    source = tmp_path / "my_generator.py"
    source.write_text("from tests.helpers import TinyGenerator\n\ndef make():\n    return TinyGenerator()\n")
    weights = ["--vgg16-weights", str(ppl_options["vgg16_weights"]), "--lpips-weights",
               str(ppl_options["lpips_weights"]), "--allow-unverified-weights", "--device", "cpu"]
    outcome = CliRunner().invoke(ganeval_main, ["ppl", "--generator", f"{source}:make", "--value-range", "-1", "1",
                                                "--num-samples", "3", *KEEP_ALL_FLAGS, "--json", *weights])
    assert outcome.exit_code == 0, outcome.output
    assert json.loads(outcome.stdout)["num_samples"] == 3
    refused = CliRunner().invoke(ganeval_main, ["eval", "a", "b", "--metrics", "swd,ppl"])
    assert refused.exit_code == 2 and "unknown metric(s) ppl" in refused.output


def test_pggan_ppl_is_ganeval_ppl_of_the_runs_ema_generator(ppl_options, tmp_path):
    """A checkpoint written by hand (a 32×32 run, 224 images into it: 16×16 at α = 0.5 of the fade-in, latent 8):
    `pggan ppl` on its run folder equals `ganeval.ppl` of its EMA generator sampled as `pggan generate` samples
    it, nearest-upsampled to 32×32."""
    config = make_config("g", data="unused.npz", resolution=32, fmap_base=32, fmap_max=8, latent_size=8,
                         lod_training_kimg=0.064, lod_transition_kimg=0.064, total_kimg=1)
    generator, _ = build_networks(config, 1)
    torch.manual_seed(0)
    for parameter in generator.parameters():
        parameter.data.normal_(0, 0.5)
    images_shown = 224  # 4×4 (64 images), fade-in to 8×8 (64), 8×8 (64), then half the fade-in to 16×16
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"config": config.to_dict(), "num_channels": 1, "counters": {"num_images": images_shown},
                "generator_ema": generator.state_dict()}, run / f"checkpoint-{images_shown:010d}.pt")
    weights = ["--vgg16-weights", str(ppl_options["vgg16_weights"]), "--lpips-weights",
               str(ppl_options["lpips_weights"]), "--allow-unverified-weights"]
    outcome = CliRunner().invoke(pggan_main, ["ppl", str(run), "--num-samples", "5", *KEEP_ALL_FLAGS, "--device",
                                              "cpu", "--json", *weights])
    assert outcome.exit_code == 0, outcome.output
    generator.eval()

    def sampled(z):
        return generator(z, 16, 0.5).repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)

    expected = ganeval.ppl(sampled, num_samples=5, latent_dim=8, **KEEP_ALL,
                           **{**ppl_options, "vgg16_weights": str(ppl_options["vgg16_weights"]),
                              "lpips_weights": str(ppl_options["lpips_weights"])})
    assert json.loads(outcome.stdout) == json.loads(json.dumps(expected))
    assert expected["resolution"] == [32, 32]


def style_run(tmp_path: Path, preset: str) -> tuple[Path, torch.nn.Module]:
    """A StyleGAN checkpoint written by hand (16×16, latent 8, 2 mapping layers, noise inputs, random weights and a
    random w̄), trained to its end; its folder and EMA generator."""
    config = make_config(preset, data="unused.npz", resolution=16, fmap_base=32, fmap_max=8, latent_size=8,
                         mapping_layers=2, lod_training_kimg=0.064, lod_transition_kimg=0.064, total_kimg=1)
    generator, _ = build_networks(config, 1)
    torch.manual_seed(0)
    for parameter in generator.parameters():
        parameter.data.normal_(0, 0.5)
    for parameter in generator.mapping.parameters():  # undo the lr multiplier 0.01, so that w varies with z
        parameter.data.mul_(100)
    generator.w_avg.normal_()
    run = tmp_path / preset
    run.mkdir()
    torch.save({"config": config.to_dict(), "num_channels": 1, "counters": {"num_images": 1000},
                "generator_ema": generator.state_dict()}, run / "checkpoint-0000001000.pt")
    return run, generator.eval()


@pytest.mark.parametrize("preset", ["stylegan_f", "stylegan2_e"])
def test_a_style_runs_synthesis_of_its_mapping_is_the_generator(preset, tmp_path):
    """run_generator of a StyleGAN run exposes StyleGAN's two halves: synthesis(mapping(z)) = G(z) with the same
    noise, truncated alike; w given per layer equals w broadcast to every layer."""
    run, _ = style_run(tmp_path, preset)
    for truncation in ({}, {"truncation_psi": 0.7, "truncation_cutoff": 2}):
        halves = run_generator(run, device="cpu", **truncation)
        z = torch.randn(3, 8, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            torch.manual_seed(5)
            whole = halves(z)
            w = halves.mapping(z)
            torch.manual_seed(5)
            assert torch.equal(halves.synthesis(w), whole)
            torch.manual_seed(5)
            assert torch.equal(halves.synthesis(w[:, None].expand(-1, halves.num_layers, -1)), whole)
        assert w.shape == (3, 8) and whole.shape == (3, 1, 16, 16)
    with pytest.raises(ValueError, match="synthesis takes w"):
        halves.synthesis(torch.zeros(3, 2, 8))


def test_pggan_ppl_in_w_is_the_lerp_of_a_style_runs_mapping(ppl_options, tmp_path):
    """`pggan ppl RUN --space w --truncation-psi 0.7` on a StyleGAN2 run equals `ganeval.ppl` in W of its EMA
    generator's mapping and synthesis written out here: w = mapping(z), truncated towards w̄ by ψ at every layer."""
    run, generator = style_run(tmp_path, "stylegan2_e")
    weights = ["--vgg16-weights", str(ppl_options["vgg16_weights"]), "--lpips-weights",
               str(ppl_options["lpips_weights"]), "--allow-unverified-weights"]
    outcome = CliRunner().invoke(pggan_main, ["ppl", str(run), "--space", "w", "--sampling", "full",
                                              "--truncation-psi", "0.7", "--epsilon", "0.05", "--num-samples", "4",
                                              *KEEP_ALL_FLAGS,
                                              "--device", "cpu", "--json", *weights])
    assert outcome.exit_code == 0, outcome.output

    class ByHand:
        latent_size = 8

        def __call__(self, z: torch.Tensor) -> torch.Tensor:
            return self.synthesis(self.mapping(z))

        def mapping(self, z: torch.Tensor) -> torch.Tensor:
            return generator.mapping(z)

        def synthesis(self, w: torch.Tensor) -> torch.Tensor:
            truncated = torch.lerp(generator.w_avg, w, 0.7)  # w̄ + ψ (w − w̄)
            return generator.synthesis(truncated[:, None].expand(-1, generator.num_layers, -1))

    expected = ganeval.ppl(ByHand(), num_samples=4, space="w", sampling="full", epsilon=0.05, **KEEP_ALL,
                           **{**ppl_options, "vgg16_weights": str(ppl_options["vgg16_weights"]),
                              "lpips_weights": str(ppl_options["lpips_weights"])})
    result = json.loads(outcome.stdout)
    assert result["space"] == "w" and result["num_samples"] == 4
    assert min(expected["distances"]) > 1e-6  # the images move with w: a comparison of lengths, not of zeros
    np.testing.assert_allclose(result["distances"], expected["distances"], rtol=1e-5)
    # A Progressive GAN run has no mapping network: refused in one line.
    pggan_run = tmp_path / "g"
    config = make_config("g", data="unused.npz", resolution=16, fmap_base=32, fmap_max=8, latent_size=8,
                         lod_training_kimg=0.064, lod_transition_kimg=0.064, total_kimg=1)
    pggan_run.mkdir()
    torch.save({"config": config.to_dict(), "num_channels": 1, "counters": {"num_images": 1000},
                "generator_ema": build_networks(config, 1)[0].state_dict()}, pggan_run / "checkpoint-0000001000.pt")
    for extra in (["--space", "w"], ["--truncation-psi", "0.5"]):
        refused = CliRunner().invoke(pggan_main, ["ppl", str(pggan_run), *extra, "--num-samples", "4",
                                                  *KEEP_ALL_FLAGS, "--device", "cpu", *weights])
        assert refused.exit_code == 2 and refused.output.count("\n") == 1, refused.output
        assert "mapping" in refused.output or "average w" in refused.output


def test_misuse_is_refused_with_the_argument_named(ppl_options):
    options = {**ppl_options, "num_samples": 3, **KEEP_ALL}
    with pytest.raises(GanevalInputError, match="value_range"):
        ganeval.ppl(TinyGenerator(), **{**options, "value_range": None})
    with pytest.raises(GanevalInputError, match="num_images"):  # the function has no num_images; evaluate_sets has
        evaluate_sets({GENERATOR: TinyGenerator()}, ("ppl",), {}, num_images=3, ppl_samples=3, **KEEP_ALL,
                      **ppl_options)
    with pytest.raises(TypeError):
        ganeval.ppl(TinyGenerator(), num_images=3, **options)
    with pytest.raises(GanevalInputError, match="mapping"):
        ganeval.ppl(lambda z: torch.zeros(len(z), 3, 16, 16), space="w", latent_dim=4, **options)
    with pytest.raises(GanevalInputError, match="latent_dim"):
        ganeval.ppl(lambda z: torch.zeros(len(z), 3, 16, 16), **options)
    with pytest.raises(GanevalInputError, match="at least 16×16"):
        ganeval.ppl(TinyGenerator(size=24), crop=True, **options)
    with pytest.raises(GanevalInputError, match="uint8"):
        ganeval.ppl(lambda z: torch.zeros(len(z), 3, 16, 16, dtype=torch.uint8), latent_dim=4, **options)
    with pytest.raises(GanevalInputError, match="percentile"):
        ganeval.ppl(TinyGenerator(), **{**options, "lower_percentile": 50.0, "upper_percentile": 40.0})


# ---------------------------------------------------------------------------------------------------------------
# The peers, on the same random VGG-16 weights placed where they look for torchvision's (the torch hub cache), and
# the published LPIPS linear layers of the installed lpips package.


@pytest.fixture(scope="module")
def peer_hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    lpips = pytest.importorskip("lpips")
    hub = tmp_path_factory.mktemp("peer-hub")
    (hub / "checkpoints").mkdir()
    torch.save(full_vgg16_state_dict(), hub / "checkpoints" / "vgg16-397923af.pth")
    shutil.copy(Path(lpips.__file__).parent / "weights" / "v0.1" / "vgg.pth",
                hub / "checkpoints" / "weights-vgg16-lpips.pth")  # torch-fidelity's name for the same tensors
    return hub


@pytest.fixture
def at_peer_hub(peer_hub, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(peer_hub))
    return peer_hub


def image_pairs(size: int, count: int, seed: int, step: float) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(seed)
    first = rng.uniform(0, 255, (count, 3, size, size))
    second = np.clip(first + step * rng.standard_normal(first.shape), 0, 255)
    return torch.from_numpy(first).float(), torch.from_numpy(second).float()


@pytest.mark.slow  # a peer
@pytest.mark.parametrize(("size", "step"), [(64, 40.0), (16, 40.0), (32, 0.01)])
def test_lpips_equals_the_lpips_package_and_torch_fidelity(at_peer_hub, size, step):
    import lpips
    from torch_fidelity.sample_similarity_lpips import SampleSimilarityLPIPS

    ours = load_lpips(device=torch.device("cpu"), allow_unverified_weights=True)  # VGG-16 random: unverified
    assert ours.lpips_path.parent.parent.parent == Path(lpips.__file__).parent  # the package's own file, verified
    assert ours.description()["lpips_weights_sha256"] == ours.lpips_sha256 and ours.vgg16_path.parent == (
        at_peer_hub / "checkpoints")
    first, second = image_pairs(size, 6, size, step)
    got = ours(first, second).numpy()
    package = lpips.LPIPS(net="vgg", version="0.1", verbose=False)
    with torch.no_grad():
        theirs = package(first / 127.5 - 1, second / 127.5 - 1).flatten().numpy()
    np.testing.assert_allclose(got, theirs, rtol=1e-5)
    # torch-fidelity folds lpips' [-1, 1] scaling and per-channel shift into one affine map of [0, 255] pixels, which
    # rounds each pixel differently: where the two images are 0.01 apart that moves their distance by up to 7e-4.
    fidelity = SampleSimilarityLPIPS("lpips-vgg16", sample_similarity_resize=None, sample_similarity_dtype=None)
    with torch.no_grad():
        np.testing.assert_allclose(got, fidelity(first, second).numpy(), rtol=1e-5 if step > 1 else 2e-3)


class ZeroTo255(torch.nn.Module):
    """TinyGenerator's images scaled to [0, 255], as torch-fidelity's LPIPS takes a generator's output."""

    def __init__(self, generator: torch.nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (self.generator(z) + 1) * (255 / 2)


@pytest.mark.slow  # a peer
def test_each_length_equals_torch_fidelitys_ppl_on_the_same_latents(at_peer_hub, monkeypatch):
    """torch-fidelity draws its latents with its own RNG and interpolates linearly in Z ('lerp', its default; its
    'slerp_unit' builds the great circle by the textbook formula): neither gives StyleGAN's latents bit for bit, and
    a length moves by about 1e-3 with a last-bit change of a latent. So torch-fidelity is handed the very latent
    pairs ganeval rendered — its noise source returns them, and an interpolation registered for the test takes the
    pair's second member — and everything after the latents is compared per sample: both ends rendered, [0, 255]
    floats without resize or uint8 rounding, LPIPS-VGG16, / ε².

    torch-fidelity scales pixels for VGG in one affine step, (x − m)·s, where lpips (and ganeval) compute
    (x / 127.5 − 1 − shift) / scale; the two round a pixel differently in the last bit, and for two images 1e-4
    apart in latent space that moves a length by up to 6e-3. With torch-fidelity's scaling replaced by lpips'
    arithmetic the lengths agree to 1e-5 (equal, here); as torch-fidelity ships, to 1e-2 each and 1e-4 on the mean.
    torch-fidelity 0.4.0's outlier rule calls np.percentile(interpolation=…), which numpy 2 removed, so the rule is
    off there (its discard percentiles None) and applied to its lengths by the definition (tests/oracle_ppl.py)."""
    import torch_fidelity
    import torch_fidelity.metric_ppl
    from torch_fidelity.registry import INTERPOLATION_REGISTRY, register_interpolation
    from torch_fidelity.sample_similarity_lpips import SampleSimilarityLPIPS

    generator = Recording(TinyGenerator())
    ours = ganeval.ppl(generator, num_samples=120, seed=6, batch_size=120, value_range=(-1, 1), device="cpu",
                       allow_unverified_weights=True)
    zt0, zt1 = generator.calls
    if "ganeval-pairs" not in INTERPOLATION_REGISTRY:
        register_interpolation("ganeval-pairs", lambda a, b, t: b)
    model = torch_fidelity.GenerativeModelModuleWrapper(ZeroTo255(TinyGenerator()), 8, "normal", 0)

    def torch_fidelity_lengths() -> np.ndarray:
        handed = iter([zt0, zt1])
        monkeypatch.setattr(torch_fidelity.metric_ppl, "sample_random", lambda rng, shape, z_type: next(handed))
        return torch_fidelity.calculate_metrics(
            input1=model, input1_model_num_samples=120, ppl=True, ppl_epsilon=1e-4, ppl_reduction="none",
            ppl_sample_similarity_resize=None, ppl_sample_similarity_dtype="float32",
            ppl_z_interp_mode="ganeval-pairs", ppl_discard_percentile_lower=None,
            ppl_discard_percentile_higher=None, batch_size=120, cuda=False, verbose=False,
        )["perceptual_path_length_raw"]

    raw = torch_fidelity_lengths()
    assert len(raw) == len(ours["distances"]) == 120
    np.testing.assert_allclose(ours["distances"], raw, rtol=1e-2)  # measured: up to 5.7e-3 over 500 samples
    mean, std, count = oracle.summary(raw)
    assert ours["num_kept"] == count == 118
    assert ours["ppl"] == pytest.approx(mean, rel=1e-4) and ours["ppl_std"] == pytest.approx(std, rel=1e-3)

    shift = torch.tensor([-0.030, -0.088, -0.188])[None, :, None, None]
    scale = torch.tensor([0.458, 0.448, 0.450])[None, :, None, None]
    monkeypatch.setattr(SampleSimilarityLPIPS, "normalize",
                        staticmethod(lambda x: (x.float() / 127.5 - 1 - shift) / scale))
    np.testing.assert_allclose(ours["distances"], torch_fidelity_lengths(), rtol=1e-5)


# ---------------------------------------------------------------------------------------------------------------
# Two processes (gloo, CPU): batch b of the generator's samples on rank b mod 2; both ranks return one dict.


def _rank_main(rank: int, world_size: int, port: int, arguments: dict, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world_size),
                      GANEVAL_OFFLINE="1")
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = evaluate_sets({GENERATOR: TinyGenerator(noise=0.2)}, ("ppl", "ls"), {GENERATOR: "generator"},
                               **arguments)
    except GanevalInputError as error:
        result = {"error": str(error)}
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


@pytest.mark.slow  # spawns processes
def test_two_gloo_processes_give_the_numbers_of_one(ppl_options, tmp_path):
    (tmp_path / "classifiers").mkdir()
    torch.jit.save(torch.jit.trace(Mean(), torch.zeros(2, 3, 16, 16)), tmp_path / "classifiers" / "bright.pt")
    arguments = {**{key: str(value) if isinstance(value, Path) else value for key, value in ppl_options.items()},
                 "ppl_samples": 11, "ls_samples": 11, "batch_size": 3, "seed": 8, "sampling": "full",
                 "classifiers": str(tmp_path / "classifiers"), **KEEP_ALL}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = json.loads(json.dumps(evaluate_sets({GENERATOR: TinyGenerator(noise=0.2)}, ("ppl", "ls"),
                                                  {GENERATOR: "generator"}, **arguments)))
    finally:
        torch.set_num_threads(threads)
    mp.spawn(_rank_main, args=(2, free_port(), arguments, str(tmp_path)), nprocs=2, join=True)
    ranks = [json.loads((tmp_path / f"rank{rank}.json").read_text()) for rank in range(2)]
    assert ranks[0] == ranks[1] == one
    assert one["ppl"]["num_samples"] == 11 and one["ls"]["num_samples"] == 11


class Mean(torch.nn.Module):
    """A classifier: ten times an image's mean pixel as its logit."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.mean(dim=(1, 2, 3)) * 10


def test_random_vgg16_features_have_torchvisions_names():
    import torchvision

    names = set(torchvision.models.vgg16().features.state_dict())
    assert {key.removeprefix("features.") for key in random_vgg16_features()} == names
