"""Linear separability (StyleGAN §4.2): the whole computation against the definition (tests/oracle_separability.py:
the documented draws, the reference's selection and the conditional entropy written as Σₓ p(x) H(Y | X = x), with
scikit-learn's LinearSVC as the reference's SVM), known answers on synthetic attributes (one linear in z: entropy
≈ 0; one that no hyperplane can follow: ≈ its maximum), invariance to the batch size, and the command line with a
folder of TorchScript classifiers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import ganeval
from ganeval.errors import GanevalInputError
from ganeval.kernels.separability import SVM_SETTINGS, conditional_entropy, most_confident
from ganeval_cli.ganeval_cli import main as ganeval_main
from tests import oracle_separability as oracle
from tests.helpers import TinyGenerator

pytest.importorskip("sklearn")

DIRECTION = torch.from_numpy(np.random.default_rng(7).standard_normal((3, 16, 16)).astype(np.float32))


class Linear(torch.nn.Module):
    """An attribute linear in the image: a fixed direction's inner product, scaled, as the logit."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return 0.2 * (images * DIRECTION).sum(dim=(1, 2, 3))


class Wiggly(torch.nn.Module):
    """An attribute no hyperplane follows: the sign of a fast sine of that inner product (two class logits)."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        wave = torch.sin(3 * (images * DIRECTION).sum(dim=(1, 2, 3)))
        return torch.stack([4 * wave, -4 * wave], dim=1)


def classifiers() -> dict[str, torch.nn.Module]:
    return {"linear": Linear(), "wiggly": Wiggly()}


@pytest.mark.parametrize("seed", [0, 5])
def test_conditional_entropy_is_the_definitions(seed):
    rng = np.random.default_rng(seed)
    for count in (10, 101, 1000):
        labels = rng.integers(0, 2, count)
        predicted = np.where(rng.random(count) < 0.8, labels, 1 - labels)
        assert conditional_entropy(predicted, labels) == pytest.approx(oracle.conditional_entropy(predicted, labels),
                                                                       abs=1e-12)
    ones = np.ones(50, dtype=int)
    assert conditional_entropy(ones, ones) == 0.0 == oracle.conditional_entropy(ones, ones)


def test_the_most_confident_are_the_references_choice():
    rng = np.random.default_rng(3)
    first = rng.choice([0.1, 0.3, 0.5, 0.7, 0.9], 200)  # many ties
    probabilities = np.stack([first, 1 - first], axis=1)
    assert most_confident(probabilities, 100).tolist() == oracle.most_confident(probabilities, 100)


def test_the_result_is_the_definitions_on_the_same_draws():
    from sklearn.svm import LinearSVC

    generator = TinyGenerator(linear=True)
    result = ganeval.linear_separability(generator, num_samples=300, num_keep=120, classifiers=classifiers(), seed=4,
                                         value_range=(-1, 1), device="cpu", batch_size=64)
    z = np.stack([oracle.latent(4, index, 8) for index in range(300)]).astype(np.float32)
    with torch.no_grad():
        latents = torch.from_numpy(z)
        images, w = generator(latents).numpy(), generator.mapping(latents).numpy()
    entropies: dict[str, list[float]] = {"z": [], "w": []}
    for name, classifier in classifiers().items():
        with torch.no_grad():  # value_range (−1, 1) to [−1, 1]: (x − low) · 2 / (high − low) − 1, in float32
            logits = classifier(torch.from_numpy((images - np.float32(-1)) * np.float32(1.0) - np.float32(1))).numpy()
        if logits.ndim == 1:
            logits = np.stack([logits, -logits], axis=1)
        probabilities = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        kept = oracle.most_confident(probabilities, 120)
        labels = probabilities[kept].argmax(axis=1)
        for space, vectors in (("z", z), ("w", w)):
            svm = LinearSVC(**SVM_SETTINGS, random_state=4).fit(vectors[kept].astype(np.float64), labels)
            entropy = oracle.conditional_entropy(svm.predict(vectors[kept].astype(np.float64)), labels)
            entropies[space].append(entropy)
            assert result["attributes"][name][f"entropy_{space}"] == pytest.approx(entropy, abs=1e-9)
    for space in ("z", "w"):
        assert result[f"ls_{space}"] == pytest.approx(2 ** math.fsum(entropies[space]), rel=1e-9)
    assert {key: result[key] for key in ("metric", "num_samples", "num_keep", "spaces", "latent_dim", "seed")} == {
        "metric": "ls", "num_samples": 300, "num_keep": 120, "spaces": ["z", "w"], "latent_dim": 8, "seed": 4}
    assert result["svm"]["random_state"] == 4 and result["svm"]["dual"] is True


def test_known_answers_an_attribute_linear_in_z_and_one_no_hyperplane_follows():
    result = ganeval.linear_separability(TinyGenerator(linear=True), num_samples=2000, classifiers=classifiers(),
                                         value_range=(-1, 1), device="cpu")
    linear, wiggly = result["attributes"]["linear"], result["attributes"]["wiggly"]
    assert linear["entropy_z"] < 0.02 and linear["entropy_w"] < 0.02  # z ↦ w ↦ image are linear here
    assert wiggly["entropy_z"] > 0.9 and wiggly["entropy_w"] > 0.9  # about 1 bit: the SVM's side says nothing
    assert result["ls_z"] == pytest.approx(2 ** (linear["entropy_z"] + wiggly["entropy_z"]))
    assert result["num_keep"] == 1000


def test_a_one_class_attribute_counts_as_perfectly_separated():
    result = ganeval.linear_separability(TinyGenerator(), num_samples=20, classifiers=[lambda x: torch.full(
        (len(x),), 3.0)], value_range=(-1, 1), device="cpu", latent_dim=8)
    entry = result["attributes"]["attribute_00"]
    assert entry["entropy_z"] == 0.0 and entry["fitted_z"] is False and entry["converged_z"] is None
    assert result["classifiers"] == {"attribute_00": None}


def test_the_batch_size_changes_no_number():
    """(Noise a generator draws from torch's RNG is seeded per batch, from the batch's first sample index, so it
    follows the batch size: only a generator without noise gives the same numbers at every batch size.)"""
    results = [ganeval.linear_separability(TinyGenerator(), num_samples=90, classifiers=classifiers(),
                                           value_range=(-1, 1), device="cpu", batch_size=size, seed=1)
               for size in (90, 4)]
    assert {**results[0], "batch_size": 0} == {**results[1], "batch_size": 0}


def test_the_command_reads_a_folder_of_torchscript_classifiers(tmp_path):
    folder = tmp_path / "classifiers"
    folder.mkdir()
    for name, classifier in classifiers().items():
        torch.jit.save(torch.jit.trace(classifier, torch.zeros(2, 3, 16, 16)), folder / f"{name}.pt")
    outcome = CliRunner().invoke(ganeval_main, ["ls", "--generator", "tests.helpers:tiny_generator", "--classifiers",
                                                str(folder), "--value-range", "-1", "1", "--num-samples", "60",
                                                "--device", "cpu", "--json"])
    assert outcome.exit_code == 0, outcome.output
    expected = ganeval.linear_separability(TinyGenerator(), num_samples=60, classifiers=str(folder),
                                           value_range=(-1, 1), device="cpu")
    assert json.loads(outcome.stdout) == json.loads(json.dumps(expected))
    assert list(expected["classifiers"]) == ["linear", "wiggly"] and all(
        len(digest) == 64 for digest in expected["classifiers"].values())
    table = CliRunner().invoke(ganeval_main, ["ls", "--generator", "tests.helpers:tiny_generator", "--classifiers",
                                              str(folder), "--value-range", "-1", "1", "--num-samples", "60",
                                              "--device", "cpu"])
    assert table.exit_code == 0 and "LS (Z)" in table.stdout and "LS (W)" in table.stdout


def test_misuse_is_refused_with_the_argument_named(tmp_path):
    options = {"num_samples": 10, "value_range": (-1, 1), "device": "cpu"}
    with pytest.raises(GanevalInputError, match="classifiers"):
        ganeval.linear_separability(TinyGenerator(), **options)
    with pytest.raises(GanevalInputError, match="num_keep"):
        ganeval.linear_separability(TinyGenerator(), num_keep=11, classifiers=classifiers(), **options)
    (tmp_path / "bad.pt").write_bytes(b"not torchscript")
    with pytest.raises(GanevalInputError, match="bad.pt: not a readable TorchScript"):
        ganeval.linear_separability(TinyGenerator(), classifiers=str(tmp_path), **options)
    with pytest.raises(GanevalInputError, match="classifier 'attribute_00' returned"):
        ganeval.linear_separability(TinyGenerator(), classifiers=[lambda x: x], **options)
