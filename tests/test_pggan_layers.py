"""Layers of §3–4: equalized lr, pixel norm, minibatch stddev (against a numpy oracle), minibatch discrimination."""

import math

import numpy as np
import pytest
import torch

from pggan.layers import EqualizedConv2d, EqualizedLinear, MinibatchDiscrimination, MinibatchStddev, PixelNorm


@pytest.mark.parametrize("equalized", [True, False])
def test_equalized_layers_keep_unit_variance(equalized):
    # Var(out) = fan_in · (gain²/fan_in) · Var(w) · Var(x) = gain² = 1 for gain 1, with Var(w) = 1 stored
    # (equalized) or folded into the stored weights (plain He init). The estimate's spread: over weight draws
    # the mean of Σw² has relative std √(2/(fan_in·out)) ≤ 0.01 here; over inputs ≥ 10⁴ outputs → ≈ 0.014.
    # 5 σ ≈ 0.07.
    torch.manual_seed(0)
    conv = EqualizedConv2d(64, 64, 3, gain=1.0, equalized=equalized)
    dense = EqualizedLinear(256, 128, gain=1.0, equalized=equalized)
    with torch.no_grad():
        conv_out = conv(torch.randn(16, 64, 16, 16))[:, :, 1:-1, 1:-1]  # borders see zero padding
        dense_out = dense(torch.randn(4096, 256))
    assert abs(conv_out.var().item() - 1.0) < 0.07
    assert abs(dense_out.var().item() - 1.0) < 0.07
    # Equalized: the stored weights are N(0, 1) and the He constant is applied at run time (§4.1).
    expected_weight_std = 1.0 if equalized else 1.0 / math.sqrt(64 * 9)
    assert conv.weight.std().item() == pytest.approx(expected_weight_std, rel=0.05)  # 36864 draws: rel σ 0.4 %
    assert conv.runtime_scale == pytest.approx(1.0 / math.sqrt(64 * 9) if equalized else 1.0)


def test_pixel_norm_gives_unit_mean_square_per_pixel():
    # mean_j b_j² = m / (m + ε) with m = mean_j a_j² ~ 9, so the deviation from 1 is ε/m ≈ 1e-9 plus float32
    # rounding of a 32-term mean (~32 · 6e-8); 1e-5 bounds both.
    torch.manual_seed(0)
    x = 3.0 * torch.randn(8, 32, 5, 5)
    mean_square = PixelNorm()(x).square().mean(dim=1)
    torch.testing.assert_close(mean_square, torch.ones_like(mean_square), atol=1e-5, rtol=0)


def minibatch_stddev_oracle(x: np.ndarray, group: int, epsilon: float = 1e-8) -> np.ndarray:
    """Numpy version of §3: per consecutive group, population std per feature, averaged, appended as a map."""
    n, _, h, w = x.shape
    stat = np.empty(n)
    for start in range(0, n, group):
        members = x[start:start + group].astype(np.float64)
        std = np.sqrt(((members - members.mean(axis=0)) ** 2).mean(axis=0) + epsilon)
        stat[start:start + group] = std.mean()
    return np.concatenate([x, np.broadcast_to(stat[:, None, None, None], (n, 1, h, w))], axis=1)


@pytest.mark.parametrize(("batch", "group"), [(8, 4), (12, 4), (2, 4)])
def test_minibatch_stddev_matches_numpy_oracle(batch, group):
    # float32 vs float64 means of ≤ 48 terms: relative error ≲ 1e-6.
    torch.manual_seed(batch)
    x = torch.randn(batch, 3, 4, 4) * torch.linspace(0.5, 2.0, batch).reshape(-1, 1, 1, 1)
    expected = minibatch_stddev_oracle(x.numpy(), min(group, batch))
    out = MinibatchStddev(group)(x)
    assert out.shape == (batch, 4, 4, 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_refuses_ragged_groups():
    with pytest.raises(ValueError, match="multiple of the group size"):
        MinibatchStddev(4)(torch.randn(6, 2, 4, 4))


def test_minibatch_discrimination_matches_its_definition():
    # o(x_i)_b = Σ_{j≠i} exp(-Σ_c |M_ibc − M_jbc|) + bias_b, written out with loops in float64.
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(6, num_kernels=3, kernel_dim=2).double()
    x = torch.randn(5, 6, dtype=torch.float64)
    m = (x @ layer.tensor).reshape(5, 3, 2).detach().numpy()
    expected = np.zeros((5, 3))
    for i in range(5):
        for j in range(5):
            if i != j:
                expected[i] += np.exp(-np.abs(m[i] - m[j]).sum(axis=1))
    out = layer(x).detach().numpy()
    np.testing.assert_allclose(out[:, :6], x.numpy())
    np.testing.assert_allclose(out[:, 6:], expected + layer.bias.detach().numpy(), rtol=1e-12)
