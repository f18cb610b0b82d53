"""Agreement with the peers on the same weights and inputs: torch-fidelity (network, TF resize, FID, IS, KID),
pytorch-fid (network, the `pytorch-fid` resize), clean-fid (the `clean` resize). Each test skips when its peer is
not installed.

Tolerance 1e-4 relative for network outputs and metrics: both sides compute in fp32, but we run the convolutions
in channels_last on CPU (a different summation order), which moves pool3 features by ~1e-5 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganeval import fid, inception_score, kid
from ganeval.extractors.inception import load_inception, tf_bilinear_resize
from tests.helpers import make_images, nchw, random_state_dict, relative_error, write_folder

pytestmark = pytest.mark.slow  # agreement with the peers

RELATIVE = 1e-4


@pytest.fixture(scope="module")
def extractor(inception_weights):
    return load_inception(inception_weights, device=torch.device("cpu"), allow_unverified_weights=True)


@pytest.mark.parametrize("shape", [(32, 32), (48, 40), (299, 299), (310, 512)])
def test_tf_resize_is_bit_exact_with_torch_fidelity(shape):
    compat = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    images = torch.from_numpy(np.random.default_rng(0).uniform(0, 255, (2, 3, *shape)).astype(np.float32))
    theirs = compat.interpolate_bilinear_2d_like_tensorflow1x(images, size=(299, 299), align_corners=False)
    assert torch.equal(tf_bilinear_resize(images), theirs)  # same float32 operations in the same order


def test_features_and_logits_equal_torch_fidelity(extractor, inception_weights):
    inception = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    images = nchw(np.concatenate([make_images(2, 48, 3, "blobs"), make_images(2, 48, 4, "noise")]))
    theirs = inception.FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                                   feature_extractor_weights_path=str(inception_weights))
    with torch.no_grad():
        their_features, their_logits = theirs(images)
    features, logits = extractor(images)
    assert relative_error(features, their_features) < RELATIVE
    assert relative_error(logits, their_logits) < RELATIVE
    # The check is meaningful: the four images' features differ far more than the tolerance.
    assert relative_error(features[0], features[2]) > 100 * RELATIVE


def test_network_equals_pytorch_fid(extractor, monkeypatch):
    pytorch_fid_inception = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *a, **k: random_state_dict())
    theirs = pytorch_fid_inception.InceptionV3(resize_input=False, normalize_input=False).eval()
    network_input = extractor.network_input(nchw(make_images(3, 40, 5, "blobs")))
    with torch.no_grad():
        their_features = theirs(network_input)[0].flatten(1)
    features, _ = extractor.network(network_input.contiguous(memory_format=extractor.memory_format))
    assert relative_error(features, their_features) < RELATIVE


@pytest.mark.parametrize("height, width", [(32, 32), (48, 40), (299, 299)])
def test_pytorch_fid_resize_is_bit_exact_with_pytorch_fid(inception_weights, monkeypatch, tmp_path, height, width):
    # pytorch-fid's own pipeline for image files: its dataset (PIL, ToTensor), its network's resize and scaling.
    fid_score = pytest.importorskip("pytorch_fid.fid_score")
    pytorch_fid_inception = pytest.importorskip("pytorch_fid.inception")
    monkeypatch.setattr(pytorch_fid_inception, "load_state_dict_from_url", lambda *a, **k: random_state_dict())
    images = np.concatenate([make_images(2, 299, 8, "blobs"), make_images(1, 299, 9, "noise")])[:, :height, :width]
    files = sorted(write_folder(tmp_path / "images", images).iterdir())
    dataset = fid_score.ImagePathDataset(files, transforms=fid_score.TF.ToTensor())
    theirs = pytorch_fid_inception.InceptionV3().eval()  # its defaults: resize_input=True, normalize_input=True
    network_inputs = []
    theirs.blocks[0].register_forward_pre_hook(lambda module, inputs: network_inputs.append(inputs[0]))
    with torch.no_grad():
        their_features = theirs(torch.stack([dataset[i] for i in range(len(dataset))]))[0].flatten(1)
    ours = load_inception(inception_weights, device=torch.device("cpu"), resize="pytorch-fid",
                          allow_unverified_weights=True)
    assert torch.equal(ours.network_input(nchw(images)), network_inputs[0])
    features, _ = ours(nchw(images))
    assert relative_error(features, their_features) < RELATIVE


def test_clean_resize_equals_clean_fid(extractor):
    resize = pytest.importorskip("cleanfid.resize")
    clean = load_inception(extractor.weights_path, device=torch.device("cpu"), resize="clean",
                           allow_unverified_weights=True)
    images = np.concatenate([make_images(2, 64, 6, "blobs"), make_images(1, 64, 7, "noise")])
    theirs = np.stack([resize.build_resizer("clean")(image) for image in images]).transpose(0, 3, 1, 2)
    ours = clean.network_input(nchw(images)).numpy() * 128 + 128
    assert np.abs(ours - theirs).max() < 1e-4  # 0-255 scale; both are PIL's float32 output, undone (x−128)/128


@pytest.fixture(scope="module")
def torch_fidelity_metrics(image_folders, inception_weights):
    torch_fidelity = pytest.importorskip("torch_fidelity")
    real, fake = image_folders
    return torch_fidelity.calculate_metrics(
        input1=str(real), input2=str(fake), fid=True, kid=True, isc=True, kid_subset_size=6, kid_subsets=10,
        rng_seed=3, isc_splits=2, samples_shuffle=False, feature_extractor_weights_path=str(inception_weights),
        cuda=False, cache=False, verbose=False, save_cpu_ram=True)


def test_fid_equals_torch_fidelity(image_folders, metric_options, torch_fidelity_metrics):
    result = fid(*image_folders, **metric_options)
    assert result["num_images"] == [10, 10]
    assert abs(result["fid"] - torch_fidelity_metrics["frechet_inception_distance"]) < RELATIVE * result["fid"]


def test_kid_equals_torch_fidelity(image_folders, metric_options, torch_fidelity_metrics):
    result = kid(*image_folders, num_subsets=10, subset_size=6, seed=3, **metric_options)
    theirs = torch_fidelity_metrics["kernel_inception_distance_mean"], torch_fidelity_metrics[
        "kernel_inception_distance_std"]
    assert abs(result["kid_mean"] - theirs[0]) < RELATIVE * abs(theirs[0])
    assert abs(result["kid_std"] - theirs[1]) < RELATIVE * abs(theirs[1])


def test_inception_score_equals_torch_fidelity_without_shuffling(image_folders, metric_options,
                                                                 torch_fidelity_metrics):
    result = inception_score(image_folders[0], splits=2, **metric_options)
    assert abs(result["inception_score_mean"] - torch_fidelity_metrics["inception_score_mean"]) < (
        RELATIVE * result["inception_score_mean"])
    assert abs(result["inception_score_std"] - torch_fidelity_metrics["inception_score_std"]) < (
        RELATIVE * result["inception_score_std"])
