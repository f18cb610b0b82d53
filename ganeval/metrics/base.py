"""What a metric is to `ganeval.evaluate`, and the `Run` that the metrics of one evaluation share.

A metric names the image sets it reads, declares its options (`ganeval.registry.Option`), makes the accumulator
each set feeds (`update(batch, indices)`), says what it stores in a stats file and checks there, and turns the
accumulated statistics into its result dict and its table rows. A metric module defines one `Metric` subclass and
registers it with `@register_metric`; everything else — `evaluate`, `ganeval stats`, the one-metric function, the
commands — is derived from the class.

Metric modules import nothing heavy at module level: the arithmetic is in `ganeval.kernels`, the accumulators in
`ganeval.accumulators` and the networks in `ganeval.extractors`, packages whose modules load on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ganeval import accumulators, extractors
from ganeval.defaults import (
    DEFAULT_FEATURES,
    DEFAULT_PRECISION,
    DEFAULT_RESIZE,
    DINOV2_FILE_NAME,
    DINOV2_WEIGHTS_ENV,
    FEATURE_EXTRACTORS,
    OFFLINE_ENV,
    PRECISIONS,
    RESIZE_MODES,
    VGG16_FILE_NAME,
    VGG16_WEIGHTS_ENV,
    WEIGHTS_ENV,
    WEIGHTS_FILE_NAME,
    WEIGHTS_URL,
)
from ganeval.errors import GanevalInputError
from ganeval.registry import Option, metrics

if TYPE_CHECKING:
    import torch

    from ganeval.sources import ImageBatches
    from ganeval.stats import Stats

# The image sets of an evaluation: the real set, the fake (generated) set, and a second set compared image by image
# with the fake one (two-set MS-SSIM). GENERATOR is a generator rather than images: the driver opens it as batches
# of sample indices (`ganeval.generators`) and passes the generator with each batch to the metric's accumulator,
# which draws those samples itself (PPL, LS).
REAL, FAKE, FAKE_B, GENERATOR = "real", "fake", "fake_b", "generator"


@dataclass
class Run:
    """One evaluation: its settings, the image streams opened for it, the stats files that stand for sets, and what
    its metrics share (the feature extractor, loaded once; one feature accumulator per set)."""

    options: dict[str, Any]
    device: torch.device
    labels: dict[str, str] = field(default_factory=dict)  # set → its name in messages ("REAL", "images", …)
    streams: dict[str, ImageBatches] = field(default_factory=dict)
    image_sets: set[str] = field(default_factory=set)  # the sets given as images (the others as stats files)
    stats: dict[str, Stats] = field(default_factory=dict)  # set → the stats file given in its place
    skipped: dict[str, str] = field(default_factory=dict)  # metric → why it cannot be computed (skip_failures)
    _extractor: Any = None
    _shared: dict[Any, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.options["seed"]

    def label(self, set_name: str) -> str:
        """The set's name for messages: the stream's ("FAKE (samples/)") or its stats file's."""
        if set_name in self.streams:
            return self.streams[set_name].name
        name = self.labels.get(set_name, set_name.upper())
        return f"{name} ({self.stats[set_name].path})" if set_name in self.stats else name

    def extractor(self) -> Any:
        """The feature extractor the options ask for (Inception by default), loaded once per run."""
        if self._extractor is None:
            self._extractor = extractors.loading.open_extractor(self.options, self.device)
        return self._extractor

    def streams_features(self) -> bool:
        """Whether images of some set go through the extractor (else every feature set came from stats files)."""
        feature_metrics = {name for name, cls in metrics().items() if issubclass(cls, FeatureMetric)}
        chosen = set(self.options["metrics"]) & feature_metrics
        return any(set_name in self.image_sets for name in chosen for set_name in metrics()[name].sets.values())

    def extractor_settings(self, metric: str) -> dict[str, Any]:
        """The extractor identity stored statistics must match: the loaded extractor's, or, when every set comes
        from a stats file, the first file's, with the resize and precision asked for (no network is loaded)."""
        if self.streams_features():
            return self.extractor().settings()
        first = next(iter(self.stats.values()))  # the real set's, when it is one
        stored = first.protocol.get(metric, {}).get("settings", {})
        return {**stored, "resize": self.options["resize"], "precision": self.options["precision"]}

    def extractor_description(self, metric: str) -> dict[str, Any]:
        """The fields a feature metric's result carries about its features (from the stats files' records when no
        image went through the network)."""
        if self.streams_features():
            return self.extractor().description()
        settings = self.extractor_settings(metric)
        return {"weights_sha256": settings["weights_sha256"],
                "comparable_to_published": all(stats.protocol[metric]["comparable_to_published"]
                                               for stats in self.stats.values()),
                "resize": settings["resize"], "precision": settings["precision"], "device": "cpu"}

    def shared(self, key: Any, make: Callable[[], Any]) -> Any:
        """The object this run's metrics share under `key` (an accumulator fed by several metrics or sets), made by
        `make` the first time it is asked for."""
        if key not in self._shared:
            self._shared[key] = make()
        return self._shared[key]

    def feature_statistics(self, set_name: str, *, limit: int | None, keep_features: bool = False,
                           keep_logits: bool = False) -> Any:
        """The set's one feature accumulator, shared by every metric that reads the extractor's features of it (the
        feature metrics share one image count: `FeatureMetric.limit` checks it)."""
        statistics = self.shared(("features", set_name), lambda: accumulators.features.FeatureStatistics(
            self.extractor(), limit=limit))
        statistics.keep_features |= keep_features
        statistics.keep_logits |= keep_logits
        return statistics


class Metric:
    """One metric: subclasses set the class attributes and override the methods their metric needs."""

    name: ClassVar[str]  # the metric's name in `metrics=`, `--metrics` and the result dict
    title: ClassVar[str]  # one line: what it measures (lists of metrics, the docs)
    sets: ClassVar[dict[str, str]]  # the one-metric function's (and command's) arguments → the set each is
    optional_sets: ClassVar[tuple[str, ...]] = ()  # sets a call may leave out
    options: ClassVar[dict[str, Option]] = {}  # this class's own options (base classes add theirs)
    function_name: ClassVar[str | None] = None  # the public one-metric function, `ganeval.<function_name>`
    command_help: ClassVar[str] = ""  # the command's --help (click's format; `\b` keeps an example's lines)
    epilog: ClassVar[str | None] = None  # printed after the command's options
    stored: ClassVar[bool] = False  # whether `ganeval stats` can store the real set's statistics of it
    minimum_stored: ClassVar[int] = 1  # the fewest images whose statistics a stats file may hold
    reads_in_step: ClassVar[bool] = False  # its sets are compared image by image, so they are read side by side

    @classmethod
    def all_options(cls) -> dict[str, Option]:
        """Every option of the metric, those of its base classes first."""
        merged: dict[str, Option] = {}
        for kind in reversed(cls.__mro__):
            merged.update(vars(kind).get("options", {}))
        return merged

    @classmethod
    def reads_generator(cls) -> bool:
        """Whether it samples a generator (its sets include GENERATOR) rather than reading images."""
        return GENERATOR in cls.sets.values()

    @classmethod
    def public_name(cls) -> str:
        """The name of its one-metric function (`ganeval.swd`, `ganeval.inception_score`, …)."""
        return cls.function_name or cls.name

    def check(self, options: dict[str, Any]) -> None:
        """Refuse option values that cannot work together (each option alone is checked by its `Option`)."""

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        """How many images of the set this metric uses (None: all of them)."""
        return image_count(options, self.name)

    def count_label(self, options: dict[str, Any]) -> str | None:
        """What asks for this metric's image count, for the message when a set holds fewer (None: --num-images)."""
        return None

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        """The fewest images of each set it reads that it needs, and what needs them (for the message)."""
        return 1, self.name

    def accumulator(self, set_name: str, run: Run) -> Any:
        """The accumulator the set's batches feed (`update(batch, indices)`, `compute`, `reset`, `merge`,
        `state_dict`/`load_state_dict`); metrics may share one."""
        raise NotImplementedError

    def feed(self, accumulator: Any, set_name: str, batch: torch.Tensor, indices: torch.Tensor) -> None:
        """Give one batch of the set (uint8 NCHW RGB, with its images' indices) to the accumulator; of a GENERATOR
        set, the generator with the indices of the samples to draw."""
        accumulator.update(batch, indices)

    def statistics(self, accumulator: Any) -> Any:
        """What `result` takes from a fed (and merged) accumulator."""
        return accumulator.compute()

    def from_stats(self, stats: Stats, set_name: str, run: Run) -> Any:
        """The same statistics of a set, from a stats file (its protocol checked against this run's)."""
        raise GanevalInputError(f"{stats.path}: {self.name} takes no set from a stats file")

    def stats_arrays(self, statistics: Any, run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
        """A set's statistics as stats-file arrays and protocol record (for `ganeval stats`)."""
        raise GanevalInputError(f"{self.name} keeps nothing of a set that a stats file could hold")

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        """What is wrong with the arrays a stats file holds for this metric, against its record (None: nothing)."""
        return None

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        """The result dict from the statistics of each set it read."""
        raise NotImplementedError

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        """The result as (label, value) rows of the command's table."""
        return [(key, str(value)) for key, value in result.items()]


def image_count(options: dict[str, Any], metric: str) -> int | None:
    """`num_images` for `metric`: the number given, or its entry when a dict per metric was given."""
    count = options["num_images"]
    return count.get(metric) if isinstance(count, dict) else count


WEIGHTS_EPILOG = (
    f"Weights: the network is the TensorFlow Inception of 2015-12-05 as ported by pytorch-fid. Download "
    f"{WEIGHTS_URL} once and put it in the torch hub cache (~/.cache/torch/hub/checkpoints/{WEIGHTS_FILE_NAME}), or "
    f"pass --inception-weights PATH, or set {WEIGHTS_ENV}=PATH; torch-fidelity's copy of the same file is found "
    f"there too. Without any, ganeval downloads it there unless {OFFLINE_ENV}=1. A file whose SHA-256 differs from "
    "the published one is refused unless --allow-unverified-weights is given, and its results then say "
    "comparable_to_published: false.")


class FeatureMetric(Metric):
    """A metric on the features of a feature extractor (FID, KID, IS, PR, DC): the extractor's options, and one
    feature accumulator per set that all of them feed, so each image goes through the network once."""

    options = {
        "features": Option(DEFAULT_FEATURES, "inception-v3-tf: the TF Inception behind published FID/KID; "
                           "dinov2-vit-l14: DINOv2 ViT-L/14 class tokens (FD-DINOv2, Stein et al. 2023; needs `pip "
                           "install \"ganeval-pggan[dinov2]\"`), preprocessed as dgm-eval does; vgg16-fc2: VGG-16's "
                           "fc2 after ReLU (improved precision/recall's features), as torch-fidelity's vgg16. From "
                           "Python also any torch.nn.Module mapping N×3×H×W floats in [0, 1] to N×D features (with "
                           "features_name).",
                           kind="features", choices=FEATURE_EXTRACTORS, stored=True),
        "features_name": Option(None, "The name of a features module, recorded with its results and stats files.",
                                kind="str", flag="", stored=True),
        "inception_weights": Option(None, f"The Inception weights file ({WEIGHTS_FILE_NAME}); default: "
                                    f"${WEIGHTS_ENV}, then the torch hub cache, then a download.", kind="path",
                                    stored=True),
        "dinov2_weights": Option(None, f"The DINOv2 ViT-L/14 weights ({DINOV2_FILE_NAME} or timm's "
                                 f"model.safetensors); default: ${DINOV2_WEIGHTS_ENV}, then the torch hub and Hugging "
                                 "Face caches (never downloaded).", kind="path", stored=True),
        "vgg16_weights": Option(None, f"torchvision's VGG-16 weights ({VGG16_FILE_NAME}), for the vgg16-fc2 features "
                                "and the LPIPS of ppl; default: "
                                f"${VGG16_WEIGHTS_ENV}, then the torch hub cache, then a download.", kind="path",
                                stored=True),
        "allow_unverified_weights": Option(False, "Run with a weights file that is not the published one (results "
                                           "are then marked comparable_to_published: false).", kind="bool",
                                           stored=True),
        "resize": Option(DEFAULT_RESIZE, "tf: TensorFlow 1 bilinear resize to 299×299, as the published numbers were "
                         "computed; clean: clean-fid's antialiased PIL bicubic resize (numbers comparable to "
                         "clean-fid's, not to papers that used the TF code); pytorch-fid: x/255, torch's bilinear "
                         "resize (half-pixel centres), 2x−1, as pytorch-fid (numbers comparable to pytorch-fid's).",
                         kind="str", choices=RESIZE_MODES, stored=True),
        "precision": Option(DEFAULT_PRECISION, "fp32: full float32; tf32: let CUDA use TF32 for convolutions and "
                            "matmuls — faster on Ampere or newer GPUs, but numbers move in the 3rd-4th digit (results "
                            "then say precision: tf32).", kind="str", choices=PRECISIONS, stored=True),
    }
    epilog = WEIGHTS_EPILOG
    keep_features: ClassVar[bool] = False  # the metric needs every feature vector (KID, PR, DC), not only moments
    keep_logits: ClassVar[bool] = False  # the metric needs the class logits (IS)
    minimum_stored = 2  # a covariance (FID) or a subset of two features (KID) at the least

    def check(self, options: dict[str, Any]) -> None:
        extractors.base.check_features(options["features"], options["features_name"])
        if options["resize"] != DEFAULT_RESIZE and options["features"] != "inception-v3-tf":
            raise GanevalInputError(f"resize={options['resize']!r} applies to the inception-v3-tf features; "
                                    "dinov2-vit-l14 resizes as dgm-eval does, vgg16-fc2 as torch-fidelity's vgg16, "
                                    "and a features module takes the images at their own size")

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        names = sorted(name for name, cls in metrics().items() if issubclass(cls, FeatureMetric))
        counts = {image_count(options, name) for name in names if name in options["metrics"]}
        if len(counts) > 1:
            raise GanevalInputError(f"the feature metrics ({', '.join(names)}) share one pass of the feature "
                                    f"extractor over each set: give them one image count (got "
                                    f"{sorted(counts, key=str)})")
        return image_count(options, self.name)

    def accumulator(self, set_name: str, run: Run) -> Any:
        return run.feature_statistics(set_name, limit=self.limit(run.options, set_name),
                                      keep_features=self.keep_features, keep_logits=self.keep_logits)

    def from_stats(self, stats: Stats, set_name: str, run: Run) -> Any:
        arrays = stats.require(self.name, run.extractor_settings(self.name))
        stored = arrays["mu"] if "mu" in arrays else arrays["features"]
        expected = run.extractor().feature_dim if run.streams_features() else None
        if expected is not None and stored.shape[-1] != expected:
            raise GanevalInputError(f"{stats.path}: its {self.name} statistics are of {stored.shape[-1]}-d features, "
                                    f"but the {run.extractor().name} features are {expected}-d")
        return accumulators.features.FeatureMoments(
            num_images=stats.protocol[self.name]["num_images"], mu=arrays.get("mu"), sigma=arrays.get("sigma"),
            features=arrays.get("features"))

    def stats_arrays(self, moments: Any, run: Run) -> tuple[dict[str, Any], dict[str, Any]]:
        """A set's kept features (KID, PR, DC; FID stores its moments instead) and the protocol record."""
        return {"features": moments.features}, self.stats_record(moments, run)

    def stats_record(self, moments: Any, run: Run) -> dict[str, Any]:
        """The protocol record of stored feature statistics: the extractor's identity and the image count."""
        extractor = run.extractor()
        return {"settings": extractor.settings(), "num_images": moments.num_images,
                "comparable_to_published": extractor.comparable_to_published}

    def check_stored(self, arrays: dict[str, Any], record: dict[str, Any]) -> str | None:
        features, count = arrays.get("features"), record.get("num_images")
        if features is None or features.ndim != 2 or features.shape[0] != count:
            shape = None if features is None else features.shape
            return f"{self.name}/features has shape {shape}, expected ({count}, feature dimension)"
        return None

    @staticmethod
    def protocol_rows(result: dict[str, Any]) -> list[tuple[str, str]]:
        """The table rows that say how a number was computed and whether it is comparable to published ones."""
        counts = result["num_images"] if isinstance(result["num_images"], list) else [result["num_images"]]
        return [("images", " vs ".join("unknown" if count is None else str(count) for count in counts)),
                *([("features", result["features"])] if "features" in result else []),
                ("resize", result["resize"]), ("precision", result["precision"]), ("device", result["device"]),
                ("weights sha256", result["weights_sha256"][:16] + "…"),
                ("comparable to published", "yes" if result["comparable_to_published"] else "no")]


class GeneratorMetric(Metric):
    """A metric of a generator that it samples itself (PPL, LS): its set is GENERATOR, which the driver opens as
    batches of sample indices (`ganeval.generators.open_generator`), and its sample count is an option of its own
    (`samples_option`), not `num_images`."""

    samples_option: ClassVar[str]  # the option holding how many samples it draws
    options = {
        "latent_dim": Option(None, "The length of the generator's latent z (default: the generator's z_dim, "
                             "latent_size or latent_dim attribute).", minimum=2),
    }

    def check(self, options: dict[str, Any]) -> None:
        if image_count(options, self.name) is not None:
            raise GanevalInputError(f"{self.name} draws its own samples of the generator: give num_samples "
                                    "(--num-samples), not num_images")
        if options["value_range"] is None:
            raise GanevalInputError(f"{self.name} needs the range of the generator's float output: value_range=(-1, "
                                    "1) (--value-range -1 1), or (0, 1)")

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        return options[self.samples_option]

    def count_label(self, options: dict[str, Any]) -> str | None:
        return f"num_samples={options[self.samples_option]}"
