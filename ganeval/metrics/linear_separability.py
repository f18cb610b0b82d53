"""Linear separability (Karras, Laine and Aila, *A Style-Based Generator Architecture for Generative Adversarial
Networks*, CVPR 2019, §4.2): how well a linear boundary in a latent space separates the images' attributes — the
exponentiated sum over the attributes of the conditional entropy (bits) of each attribute's label given the side of
a linear SVM fitted to it; lower means more disentangled, 1 is every attribute linearly separable.

The protocol is NVlabs' (stylegan `metrics/linear_separability.py`): N samples (200,000), each attribute
classifier's label of each image, the most confident half per attribute kept, scikit-learn's `LinearSVC` fitted
to the labels on z and on w (the mapping's output, where the generator has one), H(label | SVM side) per
attribute and space, and 2 ** sum. The classifiers are the user's (StyleGAN's 40 CelebA-HQ ones are TensorFlow
pickles; the documentation says how to convert them). The SVM and entropies are in `ganeval.kernels.separability`.
"""

from __future__ import annotations

from typing import Any

from ganeval import accumulators, extractors, kernels
from ganeval.defaults import LS_NUM_SAMPLES
from ganeval.errors import GanevalInputError
from ganeval.metrics.base import GENERATOR, GeneratorMetric, Run
from ganeval.registry import Option, register_metric


@register_metric
class LinearSeparabilityMetric(GeneratorMetric):
    """Linear separability of `generator`'s latent spaces (StyleGAN §4.2): 2 ** the sum over the attributes of
    H(classifier label | linear SVM side) in bits, in Z (`ls_z`) and, for a generator with `mapping(z)` and
    `synthesis(w)`, in W (`ls_w`); lower = more disentangled, 1 = every attribute linearly separable.

    `classifiers`: a folder of TorchScript files (one per attribute, named by its file name), or a list or dict of
    modules, each taking N × 3 × H × W float images in [−1, 1] (box-averaged down to 256 px when larger) and
    returning one logit per image (read as softmax([l, −l])) or two class logits. Needs scikit-learn (`pip install
    "ganeval-pggan[ls]"`). The result has each attribute's entropies beside the scores.
    """

    name = "ls"
    function_name = "linear_separability"
    title = "linear separability of a generator's latent spaces (StyleGAN; lower = more disentangled)"
    sets = {"generator": GENERATOR}
    samples_option = "ls_samples"
    options = {
        "ls_samples": Option(LS_NUM_SAMPLES, "Samples drawn; the reference draws 200,000.", minimum=2,
                             keyword="num_samples", flag="--num-samples"),
        "num_keep": Option(None, "Samples kept per attribute, the classifier's most confident (default: half of "
                           "num_samples, as the reference's 100,000 of 200,000).", minimum=2),
        "classifiers": Option(None, "A folder of TorchScript attribute classifiers, one per attribute (named by its "
                              "file name); from Python also a list or dict of modules.", kind="str"),
    }
    command_help = """
    Linear separability of a generator's latent spaces (StyleGAN §4.2; lower = more disentangled).

    Draws --num-samples images, labels each with every attribute classifier in --classifiers (a folder of
    TorchScript files, one per attribute), keeps the most confident half per attribute, fits a linear SVM
    (scikit-learn's LinearSVC) to the labels on z and, where the generator has mapping and synthesis, on w, and
    reports 2 ** the sum of the conditional entropies H(label | SVM side) in bits. --generator names a factory,
    package.module:factory or path/to/file.py:factory, that takes no argument and returns the generator.

    \b
    Example:  ganeval ls --generator mymodels.celebahq:load_generator --classifiers celebahq-classifiers/ \\
                  --value-range -1 1
    """

    def check(self, options: dict[str, Any]) -> None:
        super().check(options)
        if options["classifiers"] is None:
            raise GanevalInputError("linear separability needs attribute classifiers: classifiers=FOLDER (of "
                                    "TorchScript files, one per attribute) or a list or dict of modules "
                                    "(--classifiers FOLDER)")
        if options["num_keep"] is not None and options["num_keep"] > options["ls_samples"]:
            raise GanevalInputError(f"num_keep={options['num_keep']} is more than num_samples="
                                    f"{options['ls_samples']}")

    def accumulator(self, set_name: str, run: Run) -> Any:
        options, stream = run.options, run.streams[set_name]
        classifiers, _ = self.classifiers(run)
        return accumulators.separability.AttributeSamples(
            classifiers, value_range=tuple(options["value_range"]), seed=run.seed, limit=options["ls_samples"],
            latent_dim=options["latent_dim"], generator=stream.generator, name=stream.name, device=run.device)

    @staticmethod
    def classifiers(run: Run) -> tuple[dict[str, Any], dict[str, str | None]]:
        """The run's classifiers by attribute, and their identities (loaded once)."""
        return run.shared("classifiers", lambda: extractors.classifiers.open_classifiers(run.options["classifiers"],
                                                                                         run.device))

    def statistics(self, accumulator: Any) -> dict[str, Any]:
        return {**accumulator.compute(), "latent_dim": accumulator.latent_dim, "device": str(accumulator.device)}

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        drawn, options = statistics[GENERATOR], run.options
        _, identities = self.classifiers(run)
        count = len(drawn["z"])
        keep = options["num_keep"] if options["num_keep"] is not None else count // 2
        spaces = {"z": drawn["z"], **({"w": drawn["w"]} if drawn["w"] is not None else {})}
        attributes = {}
        for column, attribute in enumerate(identities):
            fitted = kernels.separability.attribute_entropies(spaces, drawn["probabilities"][:, column], keep,
                                                              run.seed)
            attributes[attribute] = {f"{key}_{space}": value for space, entry in fitted.items()
                                     for key, value in entry.items()}
        scores = {f"ls_{space}": kernels.separability.separability(
            [entry[f"entropy_{space}"] for entry in attributes.values()]) for space in spaces}
        return {"metric": "ls", **scores, "attributes": attributes, "num_samples": count, "num_keep": keep,
                "spaces": list(spaces), "latent_dim": drawn["latent_dim"], "value_range": list(options["value_range"]),
                "resolution": list(drawn["resolution"]), "classifiers": identities,
                "svm": {**kernels.separability.SVM_SETTINGS, "random_state": run.seed,
                        "scikit_learn": kernels.separability.sklearn_version()},
                "seed": run.seed, "batch_size": options["batch_size"], "device": drawn["device"]}

    def rows(self, result: dict[str, Any]) -> list[tuple[str, str]]:
        rows = [(f"LS ({space.upper()})", f"{result[f'ls_{space}']:.4f}") for space in result["spaces"]]
        rows += [(f"  {attribute}", ", ".join(f"H_{space} {entry[f'entropy_{space}']:.4f} bits"
                                              for space in result["spaces"]))
                 for attribute, entry in result["attributes"].items()]
        return [*rows, ("samples", f"{result['num_keep']} most confident of {result['num_samples']} per attribute "
                                   f"(seed {result['seed']})"),
                ("images, device", f"{result['resolution'][0]}×{result['resolution'][1]}, {result['device']}")]
