"""The Inception extractor itself: the TF resize against its formula, the random checkpoint's sanity, the fp32
guard, and what makes a result comparable to published numbers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganeval.extractors.base import float32_precision
from ganeval.extractors.inception import load_inception, tf_bilinear_resize
from tests.helpers import make_images, tf1_resize_by_formula


@pytest.mark.parametrize("shape", [(7, 5), (40, 64)])
def test_tf_resize_follows_the_tf1_formula(shape):
    image = np.random.default_rng(0).uniform(0, 255, shape).astype(np.float32)
    ours = tf_bilinear_resize(torch.from_numpy(image)[None, None], size=37)[0, 0].numpy()
    # Same float32 operations per pixel; numpy scalar vs vectorised evaluation may differ in the last bit.
    np.testing.assert_allclose(ours, tf1_resize_by_formula(image, 37), rtol=1e-6, atol=1e-4)


def test_random_checkpoint_gives_finite_distinct_features(inception_weights):
    extractor = load_inception(inception_weights, device=torch.device("cpu"), allow_unverified_weights=True)
    images = torch.from_numpy(make_images(4, 32, 0, "blobs")).permute(0, 3, 1, 2)
    features, logits = extractor(images)
    assert features.shape == (4, 2048) and logits.shape == (4, 1008)
    assert torch.isfinite(features).all() and torch.isfinite(logits).all()
    # Non-degenerate: most feature dimensions vary across the four images (random BN shifts leave some ReLU
    # channels dead everywhere, 13% with this seed), and logits are not flat.
    assert (features.std(dim=0) > 1e-3 * features.abs().mean()).float().mean() > 0.8
    assert logits.std(dim=1).min() > 0.1


def test_fp32_guard_disables_tf32_and_restores_the_settings():
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
              torch.get_float32_matmul_precision())
    with float32_precision("fp32"):
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "highest"
    assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
            torch.get_float32_matmul_precision()) == before


def test_only_verified_weights_tf_resize_and_fp32_are_comparable_to_published(inception_weights, monkeypatch):
    import ganeval.extractors.inception as inception

    # Pretend the random checkpoint is the published file, then change one setting at a time.
    monkeypatch.setattr(inception, "WEIGHTS_SHA256", inception.file_sha256(inception_weights))
    device = torch.device("cpu")
    assert load_inception(inception_weights, device=device).comparable_to_published
    assert not load_inception(inception_weights, device=device, resize="clean").comparable_to_published
    assert not load_inception(inception_weights, device=device, precision="tf32").comparable_to_published
