"""`ganeval fid`, `ganeval is`, `ganeval kid`, `ganeval pr` and `ganeval dc`: the metrics on extractor features on
the command line.

The lead's `ganeval` group adds them with `main.add_command(...)`; `inception_options` also serves `ganeval stats
--fid`, so reference statistics are made with the same network settings they are later checked against.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ganeval.defaults import (
    DEFAULT_DC_K,
    DEFAULT_FEATURES,
    DEFAULT_NUM_SUBSETS,
    DEFAULT_PR_K,
    DEFAULT_RESIZE,
    DEFAULT_SPLITS,
    DEFAULT_SUBSET_SIZE,
    DINOV2_FILE_NAME,
    DINOV2_WEIGHTS_ENV,
    FEATURE_EXTRACTORS,
    OFFLINE_ENV,
    RESIZE_MODES,
    WEIGHTS_ENV,
    WEIGHTS_FILE_NAME,
    WEIGHTS_URL,
)
from ganeval_cli.common import at_least, common_options, emit

WEIGHTS_EPILOG = (
    f"Weights: the network is the TensorFlow Inception of 2015-12-05 as ported by pytorch-fid. Download "
    f"{WEIGHTS_URL} once and put it in the torch hub cache (~/.cache/torch/hub/checkpoints/{WEIGHTS_FILE_NAME}), or "
    f"pass --inception-weights PATH, or set {WEIGHTS_ENV}=PATH; torch-fidelity's copy of the same file is found "
    f"there too. Without any, ganeval downloads it there unless {OFFLINE_ENV}=1. A file whose SHA-256 differs from "
    "the published one is refused unless --allow-unverified-weights is given, and its results then say "
    "comparable_to_published: false.")


def inception_options(function: Callable) -> Callable:
    """Add --inception-weights, --allow-unverified-weights, --resize and --tf32."""
    options = [
        click.option("--inception-weights", type=click.Path(dir_okay=False), default=None,
                     help=f"The Inception weights file ({WEIGHTS_FILE_NAME}); default: ${WEIGHTS_ENV}, then the "
                          "torch hub cache, then a download."),
        click.option("--allow-unverified-weights", is_flag=True,
                     help="Run with a weights file that is not the published one (results are then marked "
                          "comparable_to_published: false)."),
        click.option("--resize", type=click.Choice(RESIZE_MODES), default=DEFAULT_RESIZE, show_default=True,
                     help="tf: TensorFlow 1 bilinear resize to 299×299, as the published numbers were computed; "
                          "clean: clean-fid's antialiased PIL bicubic resize (numbers comparable to clean-fid's, "
                          "not to papers that used the TF code); pytorch-fid: x/255, torch's bilinear resize "
                          "(half-pixel centres), 2x−1, as pytorch-fid (numbers comparable to pytorch-fid's)."),
        click.option("--tf32", is_flag=True,
                     help="Let CUDA use TF32 for convolutions and matmuls: faster on Ampere or newer GPUs, but "
                          "numbers move in the 3rd-4th digit (results then say precision: tf32). Default: full fp32."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def feature_options(function: Callable) -> Callable:
    """Add --features and --dinov2-weights (the extractor of FID, KID, PR and DC)."""
    options = [
        click.option("--features", type=click.Choice(FEATURE_EXTRACTORS), default=DEFAULT_FEATURES,
                     show_default=True,
                     help="inception-v3-tf: the TF Inception behind published FID/KID; dinov2-vit-l14: DINOv2 "
                          "ViT-L/14 class tokens (FD-DINOv2, Stein et al. 2023; needs `pip install "
                          "\"ganeval-pggan[dinov2]\"`), preprocessed as dgm-eval does."),
        click.option("--dinov2-weights", type=click.Path(dir_okay=False), default=None,
                     help=f"The DINOv2 ViT-L/14 weights ({DINOV2_FILE_NAME} or timm's model.safetensors); "
                          f"default: ${DINOV2_WEIGHTS_ENV}, then the torch hub and Hugging Face caches (never "
                          "downloaded)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def metric_arguments(options: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments the Inception metric functions take, from the parsed common and feature options."""
    arguments = {"num_images": options["num_images"], "batch_size": options["batch_size"],
                 "device": options["device"], "inception_weights": options["inception_weights"],
                 "allow_unverified_weights": options["allow_unverified_weights"], "resize": options["resize"],
                 "precision": "tf32" if options["tf32"] else "fp32", "progress": options["progress"],
                 "value_range": options["value_range"]}
    for name in ("features", "dinov2_weights"):  # the commands of metrics that take other extractors
        if name in options:
            arguments[name] = options[name]
    return arguments


def protocol_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The table rows that say how a number was computed and whether it is comparable to published ones."""
    counts = result["num_images"] if isinstance(result["num_images"], list) else [result["num_images"]]
    return [("images", " vs ".join("unknown" if count is None else str(count) for count in counts)),
            *([("features", result["features"])] if "features" in result else []), ("resize", result["resize"]),
            ("precision", result["precision"]), ("device", result["device"]),
            ("weights sha256", result["weights_sha256"][:16] + "…"),
            ("comparable to published", "yes" if result["comparable_to_published"] else "no")]


def fid_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The FID result as table rows."""
    features = result.get("features", DEFAULT_FEATURES)
    label = "FID" if features == DEFAULT_FEATURES else f"FD ({features})"
    return [(label, f"{result['fid']:.4f}"), *protocol_rows(result)]


def kid_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The KID result as table rows."""
    return [("KID", f"{result['kid_mean']:.6f} ± {result['kid_std']:.6f}"),
            ("subsets", f"{result['num_subsets']} × {result['subset_size']} (seed {result['seed']})"),
            *protocol_rows(result)]


def pr_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The improved precision/recall result as table rows."""
    label = f"(PR, k={result['k']})"
    return [(f"precision {label}", f"{result['pr_precision']:.4f}"), (f"recall {label}", f"{result['pr_recall']:.4f}"),
            *protocol_rows(result)]


def dc_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The density/coverage result as table rows."""
    label = f"(DC, k={result['k']})"
    return [(f"{name} {label}", f"{result['dc_' + name]:.4f}")
            for name in ("density", "coverage", "precision", "recall")] + protocol_rows(result)


def is_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """The Inception Score result as table rows."""
    return [("IS", f"{result['inception_score_mean']:.4f} ± {result['inception_score_std']:.4f}"),
            ("splits", str(result["splits"])), *protocol_rows(result)]


@click.command("fid", epilog=WEIGHTS_EPILOG)
@click.argument("real")
@click.argument("fake")
@common_options
@feature_options
@inception_options
def fid_command(real: str, fake: str, as_json: bool, seed: int, **options: Any) -> None:
    """Fréchet Inception Distance between REAL and FAKE (lower is better; 0 = identical feature statistics).

    FID fits a Gaussian to each set's 2048-d Inception pool3 features and measures the Fréchet distance between
    them; it reacts both to image quality and to missing variety. It is biased upwards for small sets: compare
    only numbers computed on equally many images (papers use 50,000 generated images; CIFAR-10: vs the 50,000
    training images). Either argument may be a folder, an .npy/.npz image array, or a stats file from
    `ganeval stats DIR -o real.npz --fid` (its settings must match this run's, else it is refused).

    \b
    Example:  ganeval fid data/cifar10-train/ samples/ --num-images 50000
              ganeval stats data/cifar10-train/ -o cifar10.npz --fid && ganeval fid cifar10.npz samples/
    """
    from ganeval.fid import fid

    result = fid(real, fake, **metric_arguments(options))
    emit(result, as_json, fid_rows(result))


def splits_option(function: Callable) -> Callable:
    """Add --splits (Inception Score)."""
    return click.option("--splits", type=at_least(1), default=DEFAULT_SPLITS, show_default=True,
                        help="Number of consecutive parts the images are cut into; the score is their mean ± "
                             "std.")(function)


def kid_options(function: Callable) -> Callable:
    """Add --subsets and --subset-size (KID)."""
    options = [
        click.option("--subsets", "num_subsets", type=at_least(1), default=DEFAULT_NUM_SUBSETS, show_default=True,
                     help="Number of random subsets the estimate is averaged over."),
        click.option("--subset-size", type=at_least(2), default=DEFAULT_SUBSET_SIZE, show_default=True,
                     help="Images drawn (without replacement) from each set per subset; both sets need at least "
                          "this many."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def pr_option(function: Callable) -> Callable:
    """Add --pr-k (improved precision/recall)."""
    return click.option("--pr-k", type=at_least(1), default=DEFAULT_PR_K, show_default=True,
                        help="k of the k-nearest-neighbour spheres of precision/recall; each set needs more than k "
                             "images.")(function)


def dc_option(function: Callable) -> Callable:
    """Add --dc-k (density/coverage)."""
    return click.option("--dc-k", type=at_least(1), default=DEFAULT_DC_K, show_default=True,
                        help="k of the k-nearest-neighbour spheres of density/coverage; each set needs more than k "
                             "images.")(function)


@click.command("is", epilog=WEIGHTS_EPILOG)
@click.argument("images")
@splits_option
@common_options
@inception_options
def inception_score_command(images: str, splits: int, as_json: bool, seed: int, **options: Any) -> None:
    """Inception Score of IMAGES (higher is better; between 1 and 1008, the number of Inception classes).

    IS is exp of the mean KL divergence between each image's class distribution and the set's marginal one: high
    when every image is confidently one class and the classes vary. It only means something for ImageNet-like
    classes (CIFAR-10, ImageNet), and ignores the real data entirely. Protocol of the published CIFAR-10 numbers:
    50,000 images, 10 splits, as here by default (images split in the order given).

    \b
    Example:  ganeval is samples/ --num-images 50000
    """
    from ganeval.inception_score import inception_score

    result = inception_score(images, splits=splits, **metric_arguments(options))
    emit(result, as_json, is_rows(result))


@click.command("kid", epilog=WEIGHTS_EPILOG)
@click.argument("real")
@click.argument("fake")
@kid_options
@common_options
@feature_options
@inception_options
def kid_command(real: str, fake: str, num_subsets: int, subset_size: int, as_json: bool, seed: int,
                **options: Any) -> None:
    """Kernel Inception Distance between REAL and FAKE (lower is better; ≈0 = indistinguishable).

    KID is the unbiased squared MMD between the sets' Inception pool3 features under the cubic polynomial kernel
    k(x, y) = (x·y/2048 + 1)³, averaged over random subsets (mean ± std). Unlike FID it is unbiased, so sets of
    different sizes compare fairly, and it can be slightly negative. Often reported ×1000. REAL may be a stats
    file from `ganeval stats DIR -o real.npz --fid` (which stores the features KID needs). --seed picks the subsets.

    \b
    Example:  ganeval kid data/train/ samples/ --num-images 10000
    """
    from ganeval.kid import kid

    result = kid(real, fake, num_subsets=num_subsets, subset_size=subset_size, seed=seed,
                 **metric_arguments(options))
    emit(result, as_json, kid_rows(result))


@click.command("pr", epilog=WEIGHTS_EPILOG)
@click.argument("real")
@click.argument("fake")
@pr_option
@common_options
@feature_options
@inception_options
def pr_command(real: str, fake: str, pr_k: int, as_json: bool, seed: int, **options: Any) -> None:
    """Improved precision and recall between REAL and FAKE (Kynkäänniemi et al. 2019; both in [0, 1], higher is
    better).

    Every feature gets a sphere reaching its k-th nearest neighbour in its own set. Precision is the share of FAKE
    features inside some REAL sphere (fidelity); recall is the share of REAL features inside some FAKE sphere
    (variety). Exact float64 distances. REAL may be a stats file from `ganeval stats DIR -o real.npz --metrics pr`.

    \b
    Example:  ganeval pr data/train/ samples/ --num-images 10000 --features dinov2-vit-l14
    """
    from ganeval.precision_recall import precision_recall

    result = precision_recall(real, fake, k=pr_k, **metric_arguments(options))
    emit(result, as_json, pr_rows(result))


@click.command("dc", epilog=WEIGHTS_EPILOG)
@click.argument("real")
@click.argument("fake")
@dc_option
@common_options
@feature_options
@inception_options
def dc_command(real: str, fake: str, dc_k: int, as_json: bool, seed: int, **options: Any) -> None:
    """Density and coverage between REAL and FAKE (Naeem et al. 2020; higher is better), with prdc's precision and
    recall.

    Every REAL feature gets a sphere reaching its k-th nearest REAL neighbour. Density counts the REAL spheres
    holding each FAKE feature, averaged and divided by k (≈ 1 for matching distributions, unbounded); coverage is
    the share of REAL spheres holding at least one FAKE feature. Numbers equal `prdc.compute_prdc` on the same
    features. REAL may be a stats file from `ganeval stats DIR -o real.npz --metrics dc`.

    \b
    Example:  ganeval dc data/train/ samples/ --num-images 10000 --features dinov2-vit-l14
    """
    from ganeval.density_coverage import density_coverage

    result = density_coverage(real, fake, k=dc_k, **metric_arguments(options))
    emit(result, as_json, dc_rows(result))
