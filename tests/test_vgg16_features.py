"""The vgg16-fc2 extractor: against its definition (torchvision's VGG-16 loaded strictly, the TF1 resize by its
formula, the ImageNet normalisation on the 0–255 scale, fc2 and a ReLU), against torch-fidelity's vgg16 extractor and
its prc on the same random weights, and the identity its results and stats carry.

Tolerance 1e-4 relative for features: both sides compute in fp32, but ganeval runs the convolutions in channels_last
on CPU (another summation order), which moves the features by ~1e-6 relative; random inputs make the four images'
features differ by far more (asserted).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchvision

import ganeval
from ganeval.errors import GanevalInputError
from ganeval.extractors.vgg16 import load_vgg16
from tests.helpers import (
    make_images,
    nchw,
    random_vgg16_features,
    relative_error,
    tf1_resize_by_formula,
    write_folder,
)

RELATIVE = 1e-4


def random_vgg16_state_dict() -> dict[str, torch.Tensor]:
    """torchvision's whole VGG-16 state dict with random weights: the convolutions of `random_vgg16_features`, and
    He-initialised fc1, fc2 and the 1000-way layer (seed 2), so fc2's activations keep their scale."""
    generator = torch.Generator().manual_seed(2)
    state = dict(random_vgg16_features())
    for index, (rows, columns) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        state[f"classifier.{index}.weight"] = torch.randn(rows, columns, generator=generator) * math.sqrt(2 / columns)
        state[f"classifier.{index}.bias"] = 0.01 * torch.randn(rows, generator=generator)
    return state


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The random whole VGG-16 in torchvision's format (528 MB, made once per module)."""
    path = tmp_path_factory.mktemp("vgg16") / "random-vgg16.pth"
    torch.save(random_vgg16_state_dict(), path)
    return path


@pytest.fixture(scope="module")
def extractor(vgg16_file):
    return load_vgg16(vgg16_file, device=torch.device("cpu"), allow_unverified_weights=True)


def images_of_two_kinds() -> torch.Tensor:
    return nchw(np.concatenate([make_images(2, 40, 3, "blobs"), make_images(2, 40, 4, "noise")]))


def test_features_equal_the_definition(extractor, vgg16_file):
    images = images_of_two_kinds()
    vgg = torchvision.models.vgg16()
    vgg.load_state_dict(torch.load(vgg16_file), strict=True)
    vgg.eval()
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None] * 255
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None] * 255
    pixels = images.numpy().astype(np.float32)
    resized = np.stack([[tf1_resize_by_formula(channel, 224) for channel in image] for image in pixels])
    network_input = torch.from_numpy((resized - mean) / std)
    with torch.no_grad():
        pooled = torch.flatten(vgg.avgpool(vgg.features(network_input)), 1)
        fc1 = F.relu(F.linear(pooled, vgg.classifier[0].weight, vgg.classifier[0].bias))
        expected = F.relu(F.linear(fc1, vgg.classifier[3].weight, vgg.classifier[3].bias))
    features, logits = extractor(images)
    assert logits is None and features.shape == (4, 4096) and features.dtype == torch.float32
    assert relative_error(features, expected) < RELATIVE
    # Meaningful: the images' features differ far more than the tolerance, and most of fc2's units are alive.
    assert relative_error(features[0], features[2]) > 100 * RELATIVE
    assert (features > 0).float().mean() > 0.2


def test_features_equal_torch_fidelitys_vgg16(extractor, vgg16_file):
    vgg16 = pytest.importorskip("torch_fidelity.feature_extractor_vgg16")
    images = images_of_two_kinds()
    theirs = vgg16.FeatureExtractorVGG16("vgg16", ["fc2_relu"], feature_extractor_weights_path=str(vgg16_file))
    with torch.no_grad():
        (their_features,) = theirs(images)
    features, _ = extractor(images)
    assert relative_error(features, their_features) < RELATIVE
    # The same network input, bit for bit: the same TF resize and normalisation in the same float32 order.
    compat = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    their_input = torchvision.transforms.functional.normalize(
        compat.interpolate_bilinear_2d_like_tensorflow1x(images.float(), size=(224, 224), align_corners=False),
        (255 * 0.485, 255 * 0.456, 255 * 0.406), (255 * 0.229, 255 * 0.224, 255 * 0.225))
    assert torch.equal(extractor.network_input(images), their_input)


@pytest.mark.slow  # agreement with a peer's whole metric (torch-fidelity's prc), 48 images through VGG-16
def test_precision_recall_equal_torch_fidelitys_prc(vgg16_file, tmp_path):
    metrics = pytest.importorskip("torch_fidelity.metrics")
    real, fake = tmp_path / "real", tmp_path / "fake"
    write_folder(real, np.concatenate([make_images(8, 32, 5, "blobs"), make_images(4, 32, 6, "noise")]))
    write_folder(fake, np.concatenate([make_images(6, 32, 7, "blobs"), make_images(6, 32, 8, "noise")]))
    ours = ganeval.precision_recall(real, fake, k=2, features="vgg16-fc2", vgg16_weights=vgg16_file,
                                    allow_unverified_weights=True, device="cpu", batch_size=6)
    # torch-fidelity's convention: input1 is the generated set; precision is input1's share in input2's spheres.
    theirs = metrics.calculate_metrics(input1=str(fake), input2=str(real), prc=True, prc_neighborhood=2,
                                       feature_extractor="vgg16", feature_extractor_weights_path=str(vgg16_file),
                                       cuda=False, cache=False, verbose=False, batch_size=6)
    assert 0 < ours["pr_precision"] < 1 and 0 < ours["pr_recall"] < 1  # neither count is trivially all or none
    assert round(ours["pr_precision"] * 12) == round(theirs["precision"] * 12)
    assert round(ours["pr_recall"] * 12) == round(theirs["recall"] * 12)
    assert (ours["features"], ours["feature_dim"], ours["input_size"]) == ("vgg16-fc2", 4096, 224)
    assert ours["comparable_to_published"] is False


def test_stats_of_vgg16_features_are_refused_with_inception(vgg16_file, metric_options, tmp_path):
    images = make_images(6, 32, 9, "blobs")
    stats = tmp_path / "vgg.npz"
    ganeval.save_stats(stats, *ganeval.reference_statistics(
        images, ("pr",), features="vgg16-fc2", vgg16_weights=vgg16_file, allow_unverified_weights=True,
        device="cpu"))
    with pytest.raises(GanevalInputError, match="vgg16"):
        ganeval.precision_recall(stats, images, k=2, **metric_options)


def test_weights_are_verified_by_torchvisions_hash(vgg16_file):
    with pytest.raises(GanevalInputError, match="does not begin with 397923af"):
        load_vgg16(vgg16_file, device=torch.device("cpu"))
