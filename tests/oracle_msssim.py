"""Plain numpy/scipy MS-SSIM written from the definition (Wang et al. 2003, as used by PGGAN); the tests' oracle.

Deliberately simple and independent of ganeval: float64 throughout, one pair at a time, the 2-D Gaussian window
built directly (no separability), every statistic filtered on its own with `scipy.signal.fftconvolve` ('valid').
Sides that are odd before a 2×2 average lose their last row/column. The reference code runs only on sides of 16,
24 and 48 px and multiples of 32, and agrees with this to float32 precision on all of them but 24 (see
ganeval/metrics/msssim.py).
"""

from __future__ import annotations

import numpy as np
from scipy import signal

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE = 11
FILTER_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MAX_VALUE = 255.0


def gaussian_window(size: int, sigma: float) -> np.ndarray:
    """MATLAB fspecial('gaussian', size, sigma): a size×size window summing to 1, grid offset by 0.5 if size is even."""
    offset = 0.5 if size % 2 == 0 else 0.0
    coordinates = np.arange(size) - size // 2 + offset
    grid_y, grid_x = np.meshgrid(coordinates, coordinates, indexing="ij")
    window = np.exp(-(grid_x**2 + grid_y**2) / (2.0 * sigma**2))
    return window / window.sum()


def ssim_and_cs(image_a: np.ndarray, image_b: np.ndarray) -> tuple[float, float]:
    """Mean SSIM and mean contrast-structure term of two H×W×C float64 images at one scale."""
    height, width = image_a.shape[:2]
    size = min(FILTER_SIZE, height, width)
    window = gaussian_window(size, size * FILTER_SIGMA / FILTER_SIZE)[:, :, None]

    def local_mean(values: np.ndarray) -> np.ndarray:
        return signal.fftconvolve(values, window, mode="valid")

    mu_a, mu_b = local_mean(image_a), local_mean(image_b)
    sigma_aa = local_mean(image_a * image_a) - mu_a * mu_a
    sigma_bb = local_mean(image_b * image_b) - mu_b * mu_b
    sigma_ab = local_mean(image_a * image_b) - mu_a * mu_b
    c1, c2 = (K1 * MAX_VALUE) ** 2, (K2 * MAX_VALUE) ** 2
    contrast_structure = (2.0 * sigma_ab + c2) / (sigma_aa + sigma_bb + c2)
    luminance = (2.0 * mu_a * mu_b + c1) / (mu_a * mu_a + mu_b * mu_b + c1)
    return float(np.mean(luminance * contrast_structure)), float(np.mean(contrast_structure))


def downsample(image: np.ndarray) -> np.ndarray:
    """Average each 2×2 block (an odd last row/column is dropped)."""
    height, width = (image.shape[0] // 2) * 2, (image.shape[1] // 2) * 2
    image = image[:height, :width]
    return (image[0::2, 0::2] + image[1::2, 0::2] + image[0::2, 1::2] + image[1::2, 1::2]) * 0.25


def msssim_pair(image_a: np.ndarray, image_b: np.ndarray) -> float:
    """MS-SSIM of two H×W×C images with values 0-255: prod of cs_1..4 ** w_1..4 times ssim_5 ** w_5."""
    image_a, image_b = image_a.astype(np.float64), image_b.astype(np.float64)
    value = 1.0
    for level, weight in enumerate(WEIGHTS):
        ssim, contrast_structure = ssim_and_cs(image_a, image_b)
        if level == len(WEIGHTS) - 1:
            value *= max(ssim, 0.0) ** weight
        else:
            value *= max(contrast_structure, 0.0) ** weight
            image_a, image_b = downsample(image_a), downsample(image_b)
    return value


def msssim_pairs(images_a: np.ndarray, images_b: np.ndarray) -> np.ndarray:
    """Per-pair MS-SSIM of two N×H×W×C stacks (image i of `images_a` against image i of `images_b`)."""
    return np.array([msssim_pair(a, b) for a, b in zip(images_a, images_b)])
