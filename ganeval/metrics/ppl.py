"""Perceptual path length (Karras, Laine and Aila, *A Style-Based Generator Architecture for Generative Adversarial
Networks*, CVPR 2019, §3 and appendix): how much a generator's image changes, perceptually, for a small step in its
latent space — lower means a smoother, more disentangled latent space.

The protocol is NVlabs' (stylegan and stylegan2-ada-pytorch `metrics/perceptual_path_length.py`): for each sample,
latents z0, z1 ~ N(0, I) and t (t ~ U(0, 1), `sampling="full"`; t = 0, `"end"`); in Z, StyleGAN's slerp of the
normalised latents to t and t + ε; in W, lerp of the mapped latents; both images rendered with the same noise;
optionally the face crop; images larger than 256 px box-averaged down; pixels to [0, 255] in float32; the sample's
length LPIPS-VGG16(img_t, img_t+ε) / ε²; the samples between the 1st ('lower') and 99th ('higher') percentiles
averaged. The arithmetic is in `ganeval.kernels.ppl`, LPIPS in `ganeval.extractors.lpips`, the sampling in
`ganeval.accumulators.ppl`.
"""

from __future__ import annotations

from typing import Any

from ganeval import accumulators, extractors, kernels
from ganeval.defaults import (
    DEFAULT_PPL_SAMPLING,
    DEFAULT_PPL_SPACE,
    PPL_EPSILON,
    PPL_LOWER_PERCENTILE,
    PPL_NUM_SAMPLES,
    PPL_SAMPLINGS,
    PPL_SPACES,
    PPL_UPPER_PERCENTILE,
    VGG16_FILE_NAME,
    VGG16_URL,
    VGG16_WEIGHTS_ENV,
)
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import GENERATOR, FeatureMetric, GeneratorMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class PPLMetric(GeneratorMetric):
    """Perceptual path length of `generator` (StyleGAN §3): the mean LPIPS distance over ε² between images a
    latent step ε apart, 1st–99th percentile (lower = smoother latent space).

    `generator`: a torch.nn.Module or callable taking a batch of latents z (N × latent_dim) and returning float
    images N × C × H × W in `value_range` (required); for space="w" it also exposes `mapping(z)` and
    `synthesis(w)`. From the command line, an import string (`package.module:factory`). The result holds the mean
    (`ppl`), the standard deviation (`ppl_std`) and every sample's distance (`distances`, in sample order).
    """

    name = "ppl"
    title = "perceptual path length of a generator (StyleGAN; lower = smoother latent space)"
    sets = {"generator": GENERATOR}
    samples_option = "ppl_samples"
    options = {
        "ppl_samples": Option(PPL_NUM_SAMPLES, "Samples (latent pairs) drawn; the reference draws 50,000.", minimum=1,
                              keyword="num_samples", flag="--num-samples"),
        "epsilon": Option(PPL_EPSILON, "The latent step ε; each length is LPIPS / ε².", kind="float"),
        "space": Option(DEFAULT_PPL_SPACE, "z: StyleGAN's slerp between the normalised latents, the generator called "
                        "on them; w: lerp between mapping(z) of them, synthesis(w) called on the result.", kind="str",
                        choices=PPL_SPACES),
        "sampling": Option(DEFAULT_PPL_SAMPLING, "end: t = 0 (path endpoints); full: t ~ U(0, 1) (the whole path).",
                           kind="str", choices=PPL_SAMPLINGS),
        "crop": Option(False, "Crop the face region first, as StyleGAN's FFHQ numbers: rows 3c…7c, columns 2c…6c of "
                       "H, c = H // 8.", kind="bool"),
        "lower_percentile": Option(PPL_LOWER_PERCENTILE, "Lengths below this percentile (numpy 'lower') are dropped "
                                   "as outliers; 0 keeps every one.", kind="float"),
        "upper_percentile": Option(PPL_UPPER_PERCENTILE, "Lengths above this percentile (numpy 'higher') are dropped "
                                   "as outliers; 100 keeps every one.", kind="float"),
        "vgg16_weights": FeatureMetric.options["vgg16_weights"],
        "lpips_weights": Option(None, "The LPIPS v0.1 linear layers (vgg.pth); default: the installed lpips "
                                "package's lpips/weights/v0.1/vgg.pth, then torch-fidelity's cached copy.",
                                kind="path"),
        "allow_unverified_weights": FeatureMetric.options["allow_unverified_weights"],
    }
    epilog = (f"Weights: LPIPS v0.1 on VGG-16. The linear layers ship with the lpips package (pip install "
              f"\"ganeval-pggan[ppl]\"); the VGG-16 backbone is torchvision's {VGG16_FILE_NAME} ({VGG16_URL}): put it "
              f"in the torch hub cache (~/.cache/torch/hub/checkpoints/, where torchvision keeps it), or pass "
              f"--vgg16-weights PATH, or set {VGG16_WEIGHTS_ENV}=PATH; without any, ganeval downloads it there unless "
              "GANEVAL_OFFLINE=1.")
    command_help = """
    Perceptual path length of a generator (StyleGAN §3; lower = smoother latent space).

    For each of --num-samples latent pairs, the LPIPS distance between the images at t and t + ε along the path
    between them, over ε²; the lengths between the 1st and 99th percentiles are averaged. --space z (StyleGAN's
    slerp of normalised latents) or w (lerp of mapping(z), for generators with mapping and synthesis);
    --sampling end (t = 0) or full (t ~ U(0, 1)); --crop for StyleGAN's FFHQ face crop. --generator names a
    factory, package.module:factory or path/to/file.py:factory, that takes no argument and returns the generator
    (a module or callable taking z, returning float images in --value-range).

    \b
    Example:  ganeval ppl --generator mymodels.ffhq:load_generator --value-range -1 1 --crop --space w
              pggan ppl runs/g/      (a pggan run's EMA generator)
    """

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        if options["epsilon"] <= 0:
            raise GanevalInputError(f"epsilon must be a small positive number (the reference's is {PPL_EPSILON}), got "
                                    f"{options['epsilon']!r}")
        lower, upper = options["lower_percentile"], options["upper_percentile"]
        if not 0 <= lower < upper <= 100:
            raise GanevalInputError(f"the percentiles must satisfy 0 ≤ lower_percentile < upper_percentile ≤ 100, got "
                                    f"{lower!r} and {upper!r}")
        needed = kernels.ppl.minimum_samples(lower, upper)
        if options["ppl_samples"] < needed:
            raise GanevalInputError(f"num_samples={options['ppl_samples']} is too few for the percentile rule "
                                    f"({lower:g}–{upper:g}), which drops an outlier at each end from {needed} samples "
                                    "on; "
                                    "draw at least that many, or keep every length with lower_percentile=0 and "
                                    "upper_percentile=100 (--lower-percentile 0 --upper-percentile 100)")

    def accumulator(self, set_name: str, run: Run) -> Any:
        options, stream = run.options, run.streams[set_name]
        distance = run.shared("lpips", lambda: extractors.lpips.load_lpips(
            options["vgg16_weights"], options["lpips_weights"], device=run.device,
            allow_unverified_weights=options["allow_unverified_weights"]))
        return accumulators.ppl.PathLengths(
            distance, space=options["space"], sampling=options["sampling"], epsilon=options["epsilon"],
            crop=options["crop"], value_range=tuple(options["value_range"]), seed=run.seed,
            limit=options["ppl_samples"], latent_dim=options["latent_dim"], generator=stream.generator,
            name=stream.name, device=run.device)

    def statistics(self, accumulator: Any) -> dict[str, Any]:
        return {**accumulator.compute(), "latent_dim": accumulator.latent_dim,
                "distance": accumulator.distance.description()}

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        drawn, options = statistics[GENERATOR], run.options
        summary = kernels.ppl.summary(drawn["distances"], options["lower_percentile"], options["upper_percentile"])
        return {"metric": "ppl", "ppl": summary["mean"], "ppl_std": summary["std"],
                "num_samples": summary["num_samples"], "num_kept": summary["num_kept"], "low": summary["low"],
                "high": summary["high"], "lower_percentile": options["lower_percentile"],
                "upper_percentile": options["upper_percentile"], "epsilon": options["epsilon"],
                "space": options["space"], "sampling": options["sampling"], "crop": options["crop"],
                "latent_dim": drawn["latent_dim"], "value_range": list(options["value_range"]),
                "resolution": list(drawn["resolution"]), "lpips_size": list(drawn["lpips_size"]),
                "seed": run.seed, "batch_size": options["batch_size"], **drawn["distance"],
                "distances": drawn["distances"].tolist()}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        crop = ", face crop" if result["crop"] else ""
        return [("PPL", f"{result['ppl']:.6g} ± {result['ppl_std']:.6g}"),
                ("samples", f"{result['num_kept']} of {result['num_samples']} kept (percentiles "
                            f"{result['lower_percentile']:g}–{result['upper_percentile']:g}; seed {result['seed']})"),
                ("space, sampling, epsilon", f"{result['space']}, {result['sampling']}, {result['epsilon']:g}"),
                ("images", f"{result['resolution'][0]}×{result['resolution'][1]}{crop}, LPIPS at "
                           f"{result['lpips_size'][0]}×{result['lpips_size'][1]}"),
                ("distance, device", f"{result['distance']}, {result['device']}"),
                ("comparable to published", "yes" if result["comparable_to_published"] else "no")]
