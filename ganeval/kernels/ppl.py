"""The arithmetic of the perceptual path length (Karras et al. 2019, StyleGAN §3), as NVlabs' reference computes it
(stylegan `metrics/perceptual_path_length.py`, stylegan2-ada-pytorch likewise): the latent pairs of each sample,
StyleGAN's spherical interpolation, the images' face crop, box downsampling and [0, 255] scaling for LPIPS, and the
percentile rule that drops the outliers.

Every random choice of a sample — its two latents z0, z1 ~ N(0, I) and its t ~ U(0, 1) — is drawn from a numpy
generator seeded by (seed, STREAM_PPL, sample index), so no number depends on the batch size or on how many
processes share the samples.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganeval.defaults import PPL_MAX_SIZE
from ganeval.errors import GanevalInputError

MIN_LPIPS_SIZE = 16  # VGG-16's fifth block (relu5_3) sits after four 2×2 max pools


def sample_draws(seed: int, stream: int, indices: torch.Tensor, dim: int, count: int = 2, *, with_t: bool = False
                 ) -> tuple[torch.Tensor, ...]:
    """For each sample index: `count` latents of `dim` N(0, 1) values (float32, each N × dim) and, `with_t`, one
    U(0, 1) value (float32, N), drawn in that order from numpy's default generator seeded by [seed, stream, index]."""
    latents = np.empty((count, len(indices), dim), np.float64)
    t = np.empty(len(indices), np.float64)
    for row, index in enumerate(indices.tolist()):
        rng = np.random.default_rng([seed, stream, index])
        for which in range(count):
            latents[which, row] = rng.standard_normal(dim)
        if with_t:
            t[row] = rng.random()
    drawn = tuple(torch.from_numpy(latent.astype(np.float32)) for latent in latents)
    return (*drawn, torch.from_numpy(t.astype(np.float32))) if with_t else drawn


def normalise(vectors: torch.Tensor) -> torch.Tensor:
    """Each vector (along the last axis) divided by its Euclidean length."""
    return vectors / vectors.square().sum(dim=-1, keepdim=True).sqrt()


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """StyleGAN's spherical interpolation of batches of vectors: a, b normalised; p = t·acos(a·b); c = the unit
    vector along b − (a·b)a; normalise(a cos p + c sin p). `t` broadcasts against N × 1."""
    a, b = normalise(a), normalise(b)
    d = (a * b).sum(dim=-1, keepdim=True)
    p = t * torch.acos(d)
    c = normalise(b - d * a)
    return normalise(a * torch.cos(p) + c * torch.sin(p))


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """a + (b − a)·t (torch.lerp), as the reference interpolates mapped latents."""
    return torch.lerp(a, b, t)


def crop_box(height: int) -> tuple[int, int, int, int]:
    """The reference's face crop of an image `height` rows high: c = height // 8, rows 3c…7c, columns 2c…6c."""
    c = height // 8
    return 3 * c, 7 * c, 2 * c, 6 * c


def lpips_size(height: int, width: int, crop: bool) -> tuple[int, int, int]:
    """(rows, columns, box factor) of the images LPIPS sees: after the crop, box-averaged down by rows // 256 when
    larger than 256 (never upsampled), the rows and columns a factor does not divide dropped."""
    if crop:
        top, bottom, left, right = crop_box(height)
        height, width = bottom - top, right - left
    factor = height // PPL_MAX_SIZE if height > PPL_MAX_SIZE else 1
    return height // factor, width // factor, factor


def lpips_pixels(images: torch.Tensor, value_range: tuple[float, float], crop: bool) -> torch.Tensor:
    """Generated images (N × C × H × W floats in `value_range`) as LPIPS takes them: face crop (`crop`), box-averaged
    down by H // 256 when larger than 256, scaled to [0, 255] in float32 (no uint8 rounding), grey repeated to RGB."""
    images = images.float()
    if crop:
        top, bottom, left, right = crop_box(images.shape[2])
        images = images[:, :, top:bottom, left:right]
    rows, columns, factor = lpips_size(images.shape[2], images.shape[3], crop=False)
    if factor > 1:
        images = images[:, :, :rows * factor, :columns * factor]
        images = images.reshape(images.shape[0], images.shape[1], rows, factor, columns, factor).mean(dim=(3, 5))
    low, high = value_range
    images = (images - low) * (255 / (high - low))
    return images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images


def check_lpips_size(height: int, width: int, crop: bool, name: str) -> None:
    """Refuse images too small for VGG-16's five blocks once cropped and downsampled."""
    rows, columns, _ = lpips_size(height, width, crop)
    if min(rows, columns) < MIN_LPIPS_SIZE:
        cropped = " after the face crop" if crop else ""
        raise GanevalInputError(f"{name}: its {height}×{width} images are {rows}×{columns}{cropped}, but LPIPS needs "
                                f"at least {MIN_LPIPS_SIZE}×{MIN_LPIPS_SIZE} (VGG-16's four 2×2 max pools)")


def percentile_bounds(distances: np.ndarray, lower: float, upper: float) -> tuple[float, float]:
    """The reference's outlier bounds: numpy's `lower` percentile `lower` and `higher` percentile `upper`."""
    return (float(np.percentile(distances, lower, method="lower")),
            float(np.percentile(distances, upper, method="higher")))


def kept(distances: np.ndarray, lower: float, upper: float) -> tuple[np.ndarray, float, float]:
    """(which distances the reference keeps: low ≤ d ≤ high, low, high)."""
    low, high = percentile_bounds(distances, lower, upper)
    return (distances >= low) & (distances <= high), low, high


def minimum_samples(lower: float, upper: float) -> int:
    """The fewest samples from which the percentile rule drops a sample at each end it trims (lower > 0: the
    `lower` percentile is above the smallest; upper < 100: the `upper` one below the largest). numpy takes the
    percentile p of n values at index p/100·(n − 1), rounded down ('lower') or up ('higher')."""

    def trims(count: int) -> bool:
        low_index = math.floor(lower / 100 * (count - 1))
        high_index = math.ceil(upper / 100 * (count - 1))
        return (lower <= 0 or low_index >= 1) and (upper >= 100 or high_index <= count - 2)

    estimate = 1 + max(math.ceil(100 / lower) if lower > 0 else 0, math.ceil(100 / (100 - upper)) if upper < 100
                       else 0)
    while not trims(estimate):  # the formula, checked against the float arithmetic numpy does
        estimate += 1
    while estimate > 1 and trims(estimate - 1):
        estimate -= 1
    return estimate


def summary(distances: np.ndarray, lower: float, upper: float) -> dict[str, float | int]:
    """The reference's result from every sample's length: the mean (and the population standard deviation, as
    torch-fidelity reports it) of the lengths the percentile rule keeps, in float64, with the bounds and counts."""
    keep, low, high = kept(distances, lower, upper)
    lengths = distances[keep].astype(np.float64)
    return {"mean": float(lengths.mean()), "std": float(lengths.std()), "low": low, "high": high,
            "num_samples": int(len(distances)), "num_kept": int(keep.sum())}
