"""The perceptual path length from its definition (Karras, Laine and Aila 2019, StyleGAN §3, and NVlabs' reference
`metrics/perceptual_path_length.py`), in plain numpy; it imports nothing from the project.

- The random choices, as ganeval's protocol documents them: sample i draws z0, z1 (standard normal, latent_dim
  each) and then t (uniform) from numpy's default generator seeded by [seed, 4, i].
- Spherical interpolation by the textbook formula on unit vectors, slerp(a, b, t) = sin((1 − t)ω)/sin ω · a +
  sin(tω)/sin ω · b with cos ω = a·b (StyleGAN builds the same point another way).
- The face crop and box downsampling by explicit loops; pixels to [0, 255].
- The outlier rule by sorting: the 'lower' p-th percentile of n values is the ⌊p/100·(n − 1)⌋-th smallest, the
  'higher' q-th the ⌈q/100·(n − 1)⌉-th; values between them (inclusive) are kept.
"""

from __future__ import annotations

import math

import numpy as np

STREAM = 4  # the seed stream of PPL's draws


def draws(seed: int, index: int, dim: int) -> tuple[np.ndarray, np.ndarray, float]:
    """z0, z1 and t of sample `index`."""
    rng = np.random.default_rng([seed, STREAM, index])
    z0 = rng.standard_normal(dim)
    z1 = rng.standard_normal(dim)
    return z0, z1, float(rng.random())


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """The point a fraction t along the great circle from a/|a| to b/|b| (float64)."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    omega = math.acos(float(np.clip(a @ b, -1, 1)))
    return math.sin((1 - t) * omega) / math.sin(omega) * a + math.sin(t * omega) / math.sin(omega) * b


def lpips_input(image: np.ndarray, low: float, high: float, crop: bool) -> np.ndarray:
    """One C × H × W generated image as LPIPS sees it: face crop, box average by H // 256 above 256, [0, 255], RGB."""
    if crop:
        c = image.shape[1] // 8
        image = image[:, 3 * c:7 * c, 2 * c:6 * c]
    height, width = image.shape[1:]
    if height > 256:
        f = height // 256
        rows, columns = height // f, width // f
        boxed = np.zeros((image.shape[0], rows, columns))
        for y in range(rows):
            for x in range(columns):
                boxed[:, y, x] = image[:, y * f:(y + 1) * f, x * f:(x + 1) * f].mean(axis=(1, 2))
        image = boxed
    image = (image - low) * 255 / (high - low)
    return np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image


def kept(distances: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """Which distances the percentile rule keeps."""
    ordered = np.sort(distances)
    n = len(distances)
    low = ordered[math.floor(lower / 100 * (n - 1))]
    high = ordered[math.ceil(upper / 100 * (n - 1))]
    return (distances >= low) & (distances <= high)


def summary(distances: np.ndarray, lower: float = 1.0, upper: float = 99.0) -> tuple[float, float, int]:
    """(mean, population standard deviation, count) of the kept distances."""
    chosen = distances[kept(distances, lower, upper)].astype(np.float64)
    mean = sum(chosen.tolist()) / len(chosen)
    return mean, math.sqrt(sum((value - mean) ** 2 for value in chosen.tolist()) / len(chosen)), len(chosen)
