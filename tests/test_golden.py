"""Every number the project computes, on fixed inputs and fixed random weights, against tests/golden/golden.json.

A refactor must keep every metric's result (Python calls, one-pass `evaluate`, stats files, each CLI command's JSON;
the metrics of a generator on fixed small generators) and a seeded training run (its log, every checkpoint tensor,
the images it generates) bit for bit on the CPU the
golden file was recorded on. Floating-point results depend on the CPU's instruction set (BLAS and oneDNN kernels)
and the library versions, so on another machine (see `machine()`) the metric values are compared to 1e-4 relative
— what float32 features computed in another order can move; 1e-2 for PPL's finite differences, see
RELATIVE_TOLERANCE_ELSEWHERE_PPL — and the training hashes are not compared.

Record anew (only when a number is meant to change, saying why in the commit):
    GANEVAL_WRITE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
from ganeval import registry
from ganeval.kernels.frechet import frechet_distance
from ganeval.kernels.inception_score import inception_score_from_logits
from ganeval.kernels.mmd import kid_from_features
from ganeval_cli.ganeval_cli import main as ganeval_main
from ganeval_cli.pggan_cli import main as pggan_main
from tests.helpers import TinyGenerator

GOLDEN = Path(__file__).parent / "golden" / "golden.json"
WRITE = os.environ.get("GANEVAL_WRITE_GOLDEN") == "1"
RELATIVE_TOLERANCE_ELSEWHERE = 1e-4
# PPL's lengths are LPIPS differences between images ε = 1e-4 apart in latent space, divided by ε²: float32
# rounding (~1e-7 of a feature) over a feature difference ~1e-4 of the feature is ~1e-3 of each length, twice that
# squared. Measured between Zen 3 (AVX2, where the file was recorded) and Zen 5 (family 26, AVX-512): at most 1.7e-3.
RELATIVE_TOLERANCE_ELSEWHERE_PPL = 1e-2
TIMING_KEYS = {"tick_seconds", "images_per_second", "train_seconds", "wall_seconds"}
# The SHA-256 of `stats import`'s source file: the test writes that file from np.cov (BLAS), whose last bits follow
# the CPU, so another machine hashes other bytes (Zen 4 against the Zen 3 recording); compared on that machine only.
HASHES_OF_FLOAT_FILES = {"cli/stats_import/source_sha256"}


def machine() -> dict[str, Any]:
    """What floating-point results depend on: the CPU (model and vector extensions), torch's threads, the versions."""
    cpu = {}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("vendor_id", "cpu family", "model", "model name", "flags") and key.strip() not in cpu:
                cpu[key.strip()] = value.strip()
    except OSError:
        cpu["processor"] = platform.processor()
    flags = set(cpu.pop("flags", "").split())
    cpu["vector_extensions"] = sorted(flags & {"avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16",
                                                "amx_tile", "amx_bf16"})
    return {"cpu": cpu, "machine": platform.machine(), "torch": torch.__version__, "numpy": np.__version__,
            "torch_threads": torch.get_num_threads()}


def images(count: int, seed: int, side: int = 32) -> np.ndarray:
    """`count` uint8 NHWC RGB images: smooth random colour fields with a sharp-edged square (structure at every
    pyramid level, distinct Inception features)."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, (count, 4, 4, 3))
    fields = np.stack([np.kron(image.transpose(2, 0, 1), np.ones((side // 4, side // 4))).transpose(1, 2, 0)
                       for image in coarse])
    for image in fields:
        top, left = rng.integers(0, side // 2, 2)
        image[top:top + side // 3, left:left + side // 3] = rng.uniform(0, 255, 3)
    noise = rng.normal(0, 12, fields.shape)
    return (fields + noise).clip(0, 255).astype(np.uint8)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tensor_hashes(value: Any, prefix: str = "") -> dict[str, str]:
    """SHA-256 of every tensor in a nested checkpoint (name → digest of dtype, shape and bytes)."""
    hashes = {}
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu().contiguous().reshape(-1)
        hashes[prefix] = sha256(f"{tensor.dtype}{tuple(value.shape)}".encode()
                                + (tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b""))
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            hashes.update(tensor_hashes(value[key], f"{prefix}/{key}"))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            hashes.update(tensor_hashes(item, f"{prefix}/{index}"))
    return hashes


def json_of(result: Any, replacements: dict[str, str]) -> Any:
    """A result as JSON would carry it, with this run's temporary paths replaced by stable names."""
    text = json.dumps(result, sort_keys=True)
    for path, name in replacements.items():
        text = text.replace(json.dumps(path)[1:-1], name)
    return json.loads(text)


def cli_json(main: Any, args: list[str]) -> Any:
    outcome = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("golden")
    real, fake = images(10, seed=10), images(8, seed=11)
    fake[:, ::2] //= 2  # darker odd rows: the fake set differs in detail and in colour
    np.save(root / "real.npy", real)
    np.save(root / "fake.npy", fake)
    return {"root": root, "real": real, "fake": fake, "real_path": str(root / "real.npy"),
            "fake_path": str(root / "fake.npy")}


def built_in_metrics() -> tuple[str, ...]:
    """Every metric of images in ganeval/metrics/: a new built-in metric fails this test until its values are
    recorded (the metrics of a generator are recorded by `generator_metric_results`)."""
    return tuple(name for name, cls in registry.metrics().items()
                 if cls.__module__.startswith("ganeval.metrics.") and not cls.reads_generator())


def built_in_generator_metrics() -> tuple[str, ...]:
    """Every metric of a generator in ganeval/metrics/ (PPL, LS)."""
    return tuple(name for name, cls in registry.metrics().items()
                 if cls.__module__.startswith("ganeval.metrics.") and cls.reads_generator())


def metric_results(inputs: dict[str, Any], weights: Path) -> dict[str, Any]:
    """Every metric through the Python API and `evaluate`, on the fixed sets and random Inception weights."""
    real, fake, root = inputs["real"], inputs["fake"], inputs["root"]
    inception = {"inception_weights": weights, "allow_unverified_weights": True, "device": "cpu"}
    results: dict[str, Any] = {
        "swd": ganeval.swd(real, fake, seed=3, device="cpu"),
        "swd_normalize_real": ganeval.swd(real, fake, seed=4, normalize="real", device="cpu", batch_size=5),
        "swd_unequal": ganeval.swd(real[:9], fake[:7], device="cpu", nhoods_per_image=16),
        "msssim": ganeval.msssim(fake, device="cpu"),
        "msssim_random": ganeval.msssim(fake, pairs="random", num_pairs=6, seed=5, device="cpu"),
        "msssim_two_sets": ganeval.msssim(real[:8], fake[:8], device="cpu"),
        "fid": ganeval.fid(real, fake, **inception),
        "kid": ganeval.kid(real, fake, num_subsets=5, subset_size=6, seed=2, **inception),
        "is": ganeval.inception_score(fake, splits=3, **inception),
        "pr": ganeval.precision_recall(real, fake, k=3, **inception),
        "dc": ganeval.density_coverage(real, fake, k=2, **inception),
        "evaluate": ganeval.evaluate(real, fake, metrics=built_in_metrics(), seed=7,
                                     subset_size=5, num_subsets=3, splits=2, pr_k=2, dc_k=3, num_images=7,
                                     **inception),
    }
    arrays, protocol = ganeval.reference_statistics(real, ("swd", "fid", "kid", "pr", "dc"), seed=7, **inception)
    ganeval.save_stats(root / "real_stats.npz", arrays, protocol)
    results["evaluate_from_stats"] = ganeval.evaluate(
        str(root / "real_stats.npz"), fake, metrics=("swd", "fid", "kid", "pr", "dc"), seed=7, subset_size=5,
        num_subsets=3, pr_k=2, dc_k=3, **inception)
    arrays, protocol = ganeval.reference_statistics(fake, ("fid",), **inception)
    ganeval.save_stats(root / "fake_stats.npz", arrays, protocol)
    results["fid_two_stats_files"] = ganeval.fid(str(root / "real_stats.npz"), str(root / "fake_stats.npz"))
    results["fid_fake_stats_file"] = ganeval.fid(real, str(root / "fake_stats.npz"), **inception)

    rng = np.random.default_rng(20)
    features_a, features_b = rng.normal(size=(40, 16)), rng.normal(0.3, 1.2, size=(35, 16))
    results["from_features"] = {
        "precision_recall": ganeval.precision_recall_from_features(features_a, features_b, k=3),
        "density_coverage": ganeval.density_coverage_from_features(features_a, features_b, k=4),
        "kid": kid_from_features(features_a, features_b, num_subsets=6, subset_size=10, seed=1),
        "frechet_distance": frechet_distance(features_a.mean(0), np.cov(features_a, rowvar=False),
                                             features_b.mean(0), np.cov(features_b, rowvar=False)),
        "inception_score": inception_score_from_logits(rng.normal(size=(30, 12)) * 3, splits=3),
    }
    return json_of(results, {str(weights): "WEIGHTS", str(root): "ROOT"})


def cli_results(inputs: dict[str, Any], weights: Path) -> dict[str, Any]:
    """Each `ganeval` command's JSON on the same sets."""
    real, fake, root = inputs["real_path"], inputs["fake_path"], inputs["root"]
    inception = ["--inception-weights", str(weights), "--allow-unverified-weights", "--device", "cpu"]
    results = {
        "swd": cli_json(ganeval_main, ["swd", real, fake, "--seed", "3", "--device", "cpu"]),
        "msssim": cli_json(ganeval_main, ["msssim", fake, "--device", "cpu"]),
        "msssim_two_sets": cli_json(ganeval_main, ["msssim", real, fake, "--num-pairs", "7", "--device", "cpu"]),
        "fid": cli_json(ganeval_main, ["fid", real, fake, *inception]),
        "kid": cli_json(ganeval_main, ["kid", real, fake, "--subsets", "4", "--subset-size", "5", *inception]),
        "is": cli_json(ganeval_main, ["is", fake, "--splits", "2", *inception]),
        "pr": cli_json(ganeval_main, ["pr", real, fake, "--pr-k", "2", *inception]),
        "dc": cli_json(ganeval_main, ["dc", real, fake, "--dc-k", "2", *inception]),
        "eval": cli_json(ganeval_main, ["eval", real, fake, "--metrics", "swd,msssim,fid,kid,is,pr,dc",
                                        "--subset-size", "5", "--subsets", "3", "--splits", "2", *inception]),
        "stats": cli_json(ganeval_main, ["stats", real, "-o", str(root / "cli_stats.npz"), "--metrics",
                                         "swd,fid,kid,pr,dc", *inception]),
        "eval_from_stats": cli_json(ganeval_main, ["eval", str(root / "cli_stats.npz"), fake, "--metrics",
                                                   "swd,fid,kid,pr,dc", "--subset-size", "5", *inception]),
    }
    rng = np.random.default_rng(30)
    sample = rng.normal(size=(4096, 2048))
    np.savez_compressed(root / "pytorch_fid_stats.npz", mu=sample.mean(0), sigma=np.cov(sample, rowvar=False))
    results["stats_import"] = cli_json(ganeval_main, ["stats", "import", str(root / "pytorch_fid_stats.npz"), "-o",
                                                      str(root / "imported.npz"), "--from", "pytorch-fid",
                                                      "--inception-weights", str(weights)])
    results["fid_from_imported"] = cli_json(ganeval_main, ["fid", str(root / "imported.npz"), fake, "--resize",
                                                           "pytorch-fid", *inception])
    results["demo"] = cli_json(ganeval_main, ["demo", "--out", str(root / "demo"), "--num-images", "24",
                                              "--resolution", "32", "--device", "cpu", "--seed", "1"])
    return json_of(results, {str(weights): "WEIGHTS", str(root): "ROOT"})


class Attribute(torch.nn.Module):
    """A fixed attribute classifier for LS: ten times the mean of the image's `rows` (a slice) as its logit."""

    def __init__(self, rows: slice) -> None:
        super().__init__()
        self.rows = rows

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return 10 * images[:, :, self.rows].mean(dim=(1, 2, 3))


def generator_metric_results(vgg16: Path, lpips_linear: Path, root: Path) -> dict[str, Any]:
    """Every metric of a generator through the Python API and its command, on tests.helpers.TinyGenerator with
    random LPIPS weights and fixed classifiers. Each built-in metric of a generator must have an entry."""
    weights = {"vgg16_weights": vgg16, "lpips_weights": lpips_linear, "allow_unverified_weights": True,
               "device": "cpu", "value_range": (-1, 1)}
    keep_all = {"lower_percentile": 0.0, "upper_percentile": 100.0}
    classifiers = {"top": Attribute(slice(0, 8)), "centre": Attribute(slice(4, 12))}
    results = {
        "ppl": ganeval.ppl(TinyGenerator(), num_samples=101, seed=3, **weights),
        "ppl_w_full_crop_noise": ganeval.ppl(TinyGenerator(size=32, noise=0.1), num_samples=8, space="w",
                                             sampling="full", crop=True, epsilon=1e-3, batch_size=3, **keep_all,
                                             **weights),
        "ls": ganeval.linear_separability(TinyGenerator(), num_samples=200, num_keep=80, classifiers=classifiers,
                                          seed=2, value_range=(-1, 1), device="cpu"),
        "ls_grey_z_only": ganeval.linear_separability(lambda z: TinyGenerator(channels=1)(z), num_samples=60,
                                                      latent_dim=8, classifiers=classifiers, value_range=(-1, 1),
                                                      device="cpu"),
        "cli_ppl": cli_json(ganeval_main, ["ppl", "--generator", "tests.helpers:tiny_generator", "--value-range",
                                           "-1", "1", "--num-samples", "12", "--sampling", "full", "--seed", "5",
                                           "--lower-percentile", "0", "--upper-percentile", "100", "--vgg16-weights",
                                           str(vgg16), "--lpips-weights", str(lpips_linear),
                                           "--allow-unverified-weights", "--device", "cpu"]),
    }
    assert {name for name in built_in_generator_metrics()} <= {result["metric"] for result in results.values()}
    for result in results.values():
        result.get("svm", {}).pop("scikit_learn", None)  # its version, not a number
    return json_of(results, {str(vgg16): "VGG16", str(lpips_linear): "LPIPS", str(root): "ROOT"})


def training_results(root: Path) -> dict[str, Any]:
    """A seeded 16×16 run of preset g (with its end-of-run SWD and MS-SSIM) and one of preset a, single-threaded:
    each tick's log without timings, every checkpoint tensor's hash, and the bytes `pggan generate` writes."""
    data = root / "train16.npy"
    np.save(data, images(64, seed=40, side=16)[..., :1].transpose(0, 3, 1, 2))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        results = {}
        for preset, extra in (("g", ["--metrics-images", "32"]), ("a", ["--metrics-images", "0"])):
            out = root / f"run-{preset}"
            args = ["train", "--data", str(data), "--out", str(out), "--config", preset, "--resolution", "16",
                    "--fmap-base", "32", "--fmap-max", "8", "--latent-size", "8", "--kimg", "0.64",
                    "--lod-training-kimg", "0.064", "--lod-transition-kimg", "0.064", "--kimg-per-tick", "0.16",
                    "--minibatch-repeats", "1", "--set", "grid_size=2", "--no-progress", *extra]
            outcome = CliRunner().invoke(pggan_main, args, catch_exceptions=False)
            assert outcome.exit_code == 0, outcome.output
            log = [{key: value for key, value in json.loads(line).items() if key not in TIMING_KEYS}
                   for line in (out / "log.jsonl").read_text().splitlines()]
            checkpoints = sorted(out.glob("checkpoint-*.pt"))
            generated = root / f"generated-{preset}.npz"
            outcome = CliRunner().invoke(pggan_main, ["generate", str(checkpoints[-1]), "-n", "6", "-o",
                                                      str(generated), "--seed", "2", "--device", "cpu"])
            assert outcome.exit_code == 0, outcome.output
            metrics = {key: value for key, value in json.loads((out / "metrics.json").read_text()).items()
                       if key not in TIMING_KEYS}
            results[preset] = {
                "log": log, "metrics": metrics,
                "checkpoints": {path.name: tensor_hashes(torch.load(path, weights_only=False))
                                for path in checkpoints},
                "generated": sha256(np.load(generated)["images"].tobytes()),
            }
        return results
    finally:
        torch.set_num_threads(previous)


def compare(actual: Any, expected: Any, exact: bool, where: str = "") -> None:
    """Equal bit for bit (`exact`), or floats within RELATIVE_TOLERANCE_ELSEWHERE and everything else equal."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), f"{where}: keys differ"
        for key in expected:
            compare(actual[key], expected[key], exact, f"{where}/{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: lengths differ"
        for index, (got, wanted) in enumerate(zip(actual, expected)):
            compare(got, wanted, exact, f"{where}/{index}")
    elif where in HASHES_OF_FLOAT_FILES and not exact:
        assert isinstance(actual, str) and len(actual) == len(expected), f"{where}: {actual!r} is no SHA-256"
    elif isinstance(expected, float) and not exact:
        metric = where.partition("/")[2].split("/")[0]
        tolerance = RELATIVE_TOLERANCE_ELSEWHERE_PPL if "ppl" in metric else RELATIVE_TOLERANCE_ELSEWHERE
        assert isinstance(actual, (int, float)) and math.isclose(actual, expected, rel_tol=tolerance,
                                                                 abs_tol=1e-12), f"{where}: {actual} != {expected}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    if WRITE:
        return {"machine": machine()}
    if not GOLDEN.is_file():
        pytest.fail(f"{GOLDEN} is missing; record it with GANEVAL_WRITE_GOLDEN=1")
    return json.loads(GOLDEN.read_text())


def check_or_record(golden: dict[str, Any], part: str, actual: Any, *, exact_only: bool = False) -> None:
    """Compare `actual` with the golden file's `part` (or record it when writing)."""
    if WRITE:
        recorded = json.loads(GOLDEN.read_text()) if GOLDEN.is_file() else {}
        recorded.update(machine=golden["machine"], **{part: actual})
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(recorded, indent=1, sort_keys=True) + "\n")
        return
    same_machine = golden["machine"] == machine()
    if exact_only and not same_machine:
        pytest.skip(f"recorded on {golden['machine']['cpu']}; bit-exact training hashes are compared there only")
    compare(actual, golden[part], exact=same_machine, where=part)


def test_metrics_are_unchanged(inputs, inception_weights, golden):
    check_or_record(golden, "metrics", metric_results(inputs, inception_weights))


def test_cli_json_is_unchanged(inputs, inception_weights, golden):
    check_or_record(golden, "cli", cli_results(inputs, inception_weights))


def test_generator_metrics_are_unchanged(inputs, vgg16_weights, lpips_linear, golden):
    check_or_record(golden, "generator_metrics", generator_metric_results(vgg16_weights, lpips_linear,
                                                                          inputs["root"]))


def test_seeded_training_is_unchanged(tmp_path, golden):
    check_or_record(golden, "training", training_results(tmp_path), exact_only=True)
