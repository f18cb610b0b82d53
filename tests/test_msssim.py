"""MS-SSIM against the plain numpy oracle, pairing protocols, two-set mode, pytorch-msssim and input errors.

Tolerance: ours and the oracle both compute in float64 (ours by separable slices, the oracle by 2-D FFT
convolution). The only cancellation, sigma = E[xy] - E[x]E[y], loses about eps64 * 255**2 ~ 1e-11 absolute
against c2 = (0.03*255)**2 = 58.5, i.e. ~1e-13 relative per pixel, so 1e-9 relative is a loose bound (the
brief's 1e-5 is met with room to spare).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganeval import msssim
from ganeval.accumulators.msssim import MSSSIMAccumulator
from ganeval.errors import GanevalInputError
from ganeval.kernels import msssim as msssim_kernels
from ganeval.kernels.msssim import msssim_pairs, random_pairs
from tests.helpers import nchw
from tests.oracle_msssim import msssim_pairs as oracle_pairs

RELATIVE_TOLERANCE = 1e-9


def natural_images(count: int, height: int, width: int, seed: int) -> np.ndarray:
    """N×H×W×3 uint8 crops of scikit-image's photographs, resized, plus mild noise (values are not degenerate)."""
    from skimage import data, transform

    rng = np.random.default_rng(seed)
    photos = [data.astronaut(), data.chelsea(), data.coffee()]
    images = []
    for _ in range(count):
        photo = photos[rng.integers(len(photos))]
        crop_h, crop_w = rng.integers(min(photo.shape[:2]) // 3, min(photo.shape[:2]), size=2)
        top, left = rng.integers(photo.shape[0] - crop_h + 1), rng.integers(photo.shape[1] - crop_w + 1)
        image = transform.resize(photo[top:top + crop_h, left:left + crop_w], (height, width), anti_aliasing=True)
        images.append(np.clip(image * 255 + rng.normal(0, 4, image.shape), 0, 255).round().astype(np.uint8))
    return np.stack(images)


def similar_pairs(count: int, height: int, width: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Image pairs that share structure (a photo crop and a noisy, shifted-brightness copy), so MS-SSIM ~0.3-0.9."""
    rng = np.random.default_rng(seed)
    images_a = natural_images(count, height, width, seed)
    images_b = np.clip(images_a * rng.uniform(0.6, 1.0) + rng.normal(20, 25, images_a.shape), 0, 255)
    return images_a, images_b.round().astype(np.uint8)


@pytest.mark.parametrize("kernel", ["c", "torch"])
@pytest.mark.parametrize("height,width", [(128, 128), (64, 64), (32, 32), (16, 16), (48, 80), (37, 23)])
def test_equals_oracle(height: int, width: int, kernel: str) -> None:
    images_a, images_b = similar_pairs(4, height, width, seed=height * width)
    ours = msssim_pairs(nchw(images_a), nchw(images_b), kernel=kernel).numpy()
    expected = oracle_pairs(images_a, images_b)
    assert np.all(expected > 0.05), "pairs should not be clipped to 0, or the comparison says little"
    np.testing.assert_allclose(ours, expected, rtol=RELATIVE_TOLERANCE, atol=0)


@pytest.mark.parametrize("kernel", ["c", "torch"])
def test_unrelated_images_equal_oracle_including_clipped_levels(kernel: str) -> None:
    images = natural_images(8, 64, 64, seed=3)
    ours = msssim_pairs(nchw(images[0::2]), nchw(images[1::2]), kernel=kernel).numpy()
    np.testing.assert_allclose(ours, oracle_pairs(images[0::2], images[1::2]), rtol=RELATIVE_TOLERANCE, atol=1e-12)


@pytest.mark.parametrize("height,width", [(128, 128), (40, 24), (17, 33)])
def test_c_kernel_equals_torch_kernel_on_every_pair(height: int, width: int) -> None:
    # Both are float64 with the same operations; only summation order differs (~1e-16 per sum). Seven pairs,
    # so the two CPU threads take unequal shares; flat black and white images are the float32 failure case.
    images_a, images_b = similar_pairs(7, height, width, seed=height + width)
    images_a[0], images_b[0] = 0, 255
    images_a[1, : height // 2], images_b[1, height // 2 :] = 255, 0
    with_c = msssim_pairs(nchw(images_a), nchw(images_b), kernel="c").numpy()
    with_torch = msssim_pairs(nchw(images_a), nchw(images_b), kernel="torch").numpy()
    np.testing.assert_allclose(with_c, with_torch, rtol=1e-12, atol=1e-15)
    # uint8 stacks are converted pair by pair inside the kernel, other dtypes beforehand: the same numbers
    from_floats = msssim_pairs(nchw(images_a).float(), nchw(images_b).double(), kernel="c").numpy()
    np.testing.assert_array_equal(from_floats, with_c)


def test_c_kernel_refuses_buffers_that_do_not_match_the_shape() -> None:
    from ganeval.kernels import _msssim
    from ganeval.kernels.msssim import WEIGHTS, _window_taps
    taps, sizes = _window_taps(32, 32)
    images, values = np.zeros((2, 3, 32, 32)), np.empty(2)
    with pytest.raises(ValueError, match="buffer sizes do not match the shape"):  # one pair too many
        _msssim.msssim(images, images, False, values, (3, 3, 32, 32), taps, sizes, WEIGHTS, 6.5025, 58.5225)
    with pytest.raises(ValueError, match="window is larger than its level"):  # 11 taps at the 2-px level
        _msssim.msssim(images, images, False, values, (2, 3, 32, 32), taps, (11,) * 5, WEIGHTS, 6.5025, 58.5225)


def test_the_c_kernel_is_built_and_is_the_cpu_default() -> None:
    # The extension is optional for users without a C compiler; a development install must have built it.
    from ganeval.kernels.msssim import default_kernel
    assert default_kernel(torch.device("cpu")) == "c"


@pytest.mark.parametrize("size", [128, 16])
def test_identical_images_give_one(size: int) -> None:
    images = nchw(natural_images(3, size, size, seed=size))
    # sigma_ab = sigma_aa = sigma_bb and mu_a = mu_b make every term exactly 1 up to rounding
    np.testing.assert_allclose(msssim_pairs(images, images).numpy(), 1.0, rtol=0, atol=1e-6)


def test_random_pairing_is_seeded() -> None:
    images = natural_images(12, 32, 32, seed=5)
    first = msssim(images, pairs="random", num_pairs=10, seed=7)
    again = msssim(images, pairs="random", num_pairs=10, seed=7)
    assert first["msssim"] == again["msssim"] and first["pairs"] == "random" and first["seed"] == 7
    pairs_7, pairs_8 = random_pairs(12, 10, 7), random_pairs(12, 10, 8)
    assert not (torch.equal(pairs_7[0], pairs_8[0]) and torch.equal(pairs_7[1], pairs_8[1]))
    assert bool((pairs_7[0] != pairs_7[1]).all())
    # the number is the mean of the oracle over exactly those pairs
    expected = oracle_pairs(images[pairs_7[0].numpy()], images[pairs_7[1].numpy()]).mean()
    assert first["msssim"] == pytest.approx(expected, rel=RELATIVE_TOLERANCE)


def test_consecutive_pairing_across_odd_batches() -> None:
    images = natural_images(14, 32, 32, seed=6)
    whole = msssim_pairs(nchw(images[0::2]), nchw(images[1::2])).mean().item()
    accumulator = MSSSIMAccumulator()
    for start, stop in [(0, 3), (3, 8), (8, 9), (9, 14)]:  # odd boundaries: an image waits for the next batch
        accumulator.update(nchw(images[start:stop]))
    streamed = accumulator.compute()
    assert streamed["num_pairs"] == 7
    assert streamed["msssim"] == pytest.approx(whole, rel=1e-12)
    via_api = msssim(images, batch_size=5)
    assert via_api["msssim"] == pytest.approx(whole, rel=1e-12) and via_api["num_pairs"] == 7
    assert via_api["msssim"] == pytest.approx(oracle_pairs(images[0::2], images[1::2]).mean(),
                                              rel=RELATIVE_TOLERANCE)


def test_num_pairs_takes_the_first_images() -> None:
    images = natural_images(10, 16, 16, seed=8)
    result = msssim(images, num_pairs=3, batch_size=4)
    assert result["num_pairs"] == 3
    assert result["msssim"] == pytest.approx(oracle_pairs(images[0:6:2], images[1:6:2]).mean(),
                                             rel=RELATIVE_TOLERANCE)


def test_two_sets_equal_per_pair_oracle() -> None:
    images_a, images_b = similar_pairs(6, 40, 40, seed=9)
    result = msssim(images_a, images_b, batch_size=4)
    assert result["pairs"] == "two_sets" and result["num_pairs"] == 6 and result["resolution"] == [40, 40]
    assert result["msssim"] == pytest.approx(oracle_pairs(images_a, images_b).mean(), rel=RELATIVE_TOLERANCE)
    batches_b = [images_b[0:1], images_b[1:5], images_b[5:6]]  # batch boundaries differ from set A's
    assert msssim(images_a, iter(batches_b), batch_size=4)["msssim"] == pytest.approx(result["msssim"], rel=1e-12)


def test_small_image_note_and_fixed_window_libraries() -> None:
    images = natural_images(2, 32, 32, seed=10)
    assert "pytorch-msssim" in msssim(images)["note"]


@pytest.mark.parametrize("height,width,reference", [
    (16, 16, None), (48, 48, None), (64, 96, None), (192, 192, None), (128, 64, None),
    (24, 24, "other values"), (24, 32, "other values"),
    (80, 80, "fails"), (112, 112, "fails"), (176, 176, "fails"), (40, 40, "fails"), (17, 33, "fails"),
    (64, 80, "fails"), (24, 80, "fails"),
])
def test_size_note_says_what_the_reference_code_does_at_this_size(height: int, width: int,
                                                                    reference: str | None) -> None:
    # Established by running progressive_growing_of_gans/metrics/ms_ssim.py on every side from 16 to 320 px: it
    # runs on 16, 24, 48 and multiples of 32 (equal to ours to float32 precision, except at 24) and raises a
    # ValueError in its 2×2 average on every other side.
    note = msssim(np.random.default_rng(0).integers(0, 256, (2, height, width, 3), dtype=np.uint8)).get("note", "")
    if reference is None:
        assert "reference code" not in note
    elif reference == "fails":
        assert f"the PGGAN reference code fails on {height}×{width} images" in note
    else:
        assert "reference code gives other values" in note and "1×1 fifth level" in note
    assert ("pytorch-msssim" in note) == (min(height, width) < 161)


def test_a_24_px_side_has_a_one_pixel_fifth_level() -> None:
    # 24 → 12 → 6 → 3 → 1 (the odd last row/column dropped): a 1-px window at the fifth level, as the note says;
    # the reference code's fifth level there is 2 px.
    from ganeval.kernels.msssim import _window_taps
    assert _window_taps(24, 32)[1] == (11, 11, 6, 3, 1)


def test_agrees_with_pytorch_msssim_where_settings_match() -> None:
    """pytorch-msssim averages *per-channel* MS-SSIM over channels (the reference pools channels per level), pads odd
    sides before 2×2 pooling, and builds its window in float32. With its window given in float64 and sides that stay
    even, it equals the mean over channels of ours applied to each channel alone (replicated to 3 channels)."""
    pytorch_msssim = pytest.importorskip("pytorch_msssim")
    images_a, images_b = similar_pairs(2, 176, 176, seed=11)  # 176 > 160; levels 176, 88, 44, 22, 11
    coordinates = torch.arange(11, dtype=torch.float64) - 5
    window = torch.exp(-coordinates**2 / (2 * 1.5**2))
    window = (window / window.sum()).view(1, 1, 1, 11).repeat(3, 1, 1, 1)
    tensor_a, tensor_b = nchw(images_a).double(), nchw(images_b).double()
    theirs = pytorch_msssim.ms_ssim(tensor_a, tensor_b, data_range=255, win=window, size_average=False)
    per_channel = torch.stack([msssim_pairs(tensor_a[:, [c] * 3], tensor_b[:, [c] * 3]) for c in range(3)])
    np.testing.assert_allclose(theirs.numpy(), per_channel.mean(0).numpy(), rtol=1e-9)


@pytest.mark.parametrize("call,message", [
    (lambda: msssim(np.zeros((4, 15, 32, 3), np.uint8)), "at least 16 px"),
    (lambda: msssim(np.zeros((1, 16, 16, 3), np.uint8)), "at least 2 images"),
    (lambda: msssim(np.zeros((6, 16, 16, 3), np.uint8), num_pairs=4), "num_pairs=4 needs 8 images"),
    (lambda: msssim(np.zeros((3, 16, 16, 3), np.uint8), pairs="random", num_pairs=4), "exceeds the 3 distinct"),
    (lambda: msssim(np.zeros((4, 16, 16, 3), np.uint8), pairs="sideways"), "pairs must be one of"),
    (lambda: msssim(np.zeros((4, 16, 16, 3), np.uint8), np.zeros((5, 16, 16, 3), np.uint8)), "images_b holds more"),
    (lambda: msssim(np.zeros((4, 16, 16, 3), np.uint8), np.zeros((4, 32, 32, 3), np.uint8)), "equal sizes"),
    (lambda: msssim(np.zeros((4, 16, 16, 3), np.uint8), np.zeros((4, 16, 16, 3), np.uint8), pairs="random"),
     "within one set"),
])
def test_bad_input_messages(call, message: str) -> None:
    with pytest.raises(GanevalInputError, match=message):
        call()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_equals_cpu() -> None:
    images_a, images_b = similar_pairs(6, 64, 64, seed=12)
    on_cpu = msssim_pairs(nchw(images_a), nchw(images_b))
    on_cuda = msssim_pairs(nchw(images_a).cuda(), nchw(images_b).cuda())
    assert on_cuda.device.type == "cuda"
    np.testing.assert_allclose(on_cuda.cpu().numpy(), on_cpu.numpy(), rtol=1e-12)
    images = natural_images(10, 32, 32, seed=13)
    cuda_result = msssim(torch.from_numpy(images).cuda(), pairs="random", num_pairs=6, seed=1)
    assert cuda_result["device"].startswith("cuda")
    assert cuda_result["msssim"] == pytest.approx(msssim(images, pairs="random", num_pairs=6, seed=1, device="cpu")
                                                  ["msssim"], rel=1e-12)


def test_without_the_c_extension_the_torch_kernel_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(msssim_kernels, "_msssim", None)
    assert msssim_kernels.default_kernel(torch.device("cpu")) == "torch"
    images_a, images_b = similar_pairs(2, 32, 32, seed=5)
    with pytest.raises(GanevalInputError, match="C MS-SSIM kernel runs on CPU tensors and needs"):
        msssim_pairs(nchw(images_a), nchw(images_b), kernel="c")
    fallback = msssim_pairs(nchw(images_a), nchw(images_b)).numpy()
    monkeypatch.undo()
    np.testing.assert_allclose(fallback, msssim_pairs(nchw(images_a), nchw(images_b)).numpy(), rtol=1e-12)


def test_consecutive_pairing_of_an_odd_set_leaves_the_last_image_out():
    images = np.random.default_rng(40).integers(0, 256, (5, 16, 16, 3), dtype=np.uint8)
    odd = msssim(images, device="cpu")
    assert odd["num_pairs"] == 2 and odd == msssim(images[:4], device="cpu")
