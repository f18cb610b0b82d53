"""MS-SSIM diversity: mean multi-scale SSIM over pairs of images (Wang et al. 2003; PGGAN §5 protocol).

PGGAN (Karras et al. 2018) reports the mean MS-SSIM of 10,000 pairs drawn from 20,000 generated images as a
diversity measure: lower means more varied. The algorithm follows the PGGAN/TensorFlow reference exactly: an
11×11 Gaussian window (σ=1.5, MATLAB fspecial grid), 'valid' filtering per channel, the window shrunk to
min(11, H, W) with σ scaled alike at small levels, K1=0.01, K2=0.03, 0-255 range, five levels with weights
`WEIGHTS`, 2×2 block averaging between levels, per-level means over pixels and channels clipped at 0, and
MS-SSIM = prod_{l<5} cs_l ** w_l * ssim_5 ** w_5 (Wang et al. 2003, eq. 7).

Beyond the reference: any side of at least 16 px is measured (an odd last row/column is dropped before each 2×2
average), and the arithmetic is float64 so results do not depend on float32 cancellation in
sigma = E[xy] - E[x]E[y] (values up to 255² against c2 = 58.5). The reference code's 2×2 average adds the strided
slices [0::2] and [1::2], which numpy can add at an odd side only when it is 1 or 3 px, and it averages after each
of the five levels, the fifth's result unused. So it runs only on sides of 16, 24 and 48 px and multiples of 32,
and fails with a ValueError on any other side, multiples of 16 such as 80, 112 and 144 included. Where it runs it
equals this module to float32 precision (within 5e-6 relative), except at 24 px: there it averages the 3-px fourth
level into a 2×2 fifth level, using the middle row and column twice, where this module drops the last row and
column and has a 1×1 fifth level, and the values differ (0.1333 against 0.1524 on unrelated photo crops).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch

from ganeval.defaults import FILTER_SIGMA, FILTER_SIZE, K1, K2, MAX_VALUE, MSSSIM_WEIGHTS
from ganeval.errors import GanevalInputError
from ganeval.threads import available_cpus, parallel_map

WEIGHTS = MSSSIM_WEIGHTS  # each level's exponent (Wang et al. 2003, eq. 7)
C1, C2 = (K1 * MAX_VALUE) ** 2, (K2 * MAX_VALUE) ** 2  # the SSIM stabilisers
MIN_SIZE = 2 ** (len(WEIGHTS) - 1)  # four 2×2 averagings leave the fifth level at least 1×1
Kernel = Literal["c", "torch"]
COMPUTE_DTYPE = torch.float64
CPU_CHUNK_PIXELS = 2**18  # pair-pixels per CPU chunk, so that one level's filtered statistics stay in cache

try:
    from ganeval.kernels import _msssim
except ImportError:  # built without a C compiler (the extension is optional): the torch kernel runs on CPUs too
    _msssim = None


def gaussian_taps(size: int, sigma: float) -> list[float]:
    """1-D Gaussian summing to 1 on MATLAB fspecial's grid (offset by 0.5 for even sizes); the 2-D window is its
    outer product with itself."""
    offset = 0.5 if size % 2 == 0 else 0.0
    weights = [math.exp(-((i - size // 2 + offset) ** 2) / (2.0 * sigma**2)) for i in range(size)]
    total = math.fsum(weights)
    return [weight / total for weight in weights]


def _filter_valid(values: torch.Tensor, taps: list[float]) -> torch.Tensor:
    """Separable 'valid' Gaussian filtering of the last two axes: one shifted-slice multiply-add per tap."""
    size = len(taps)
    height, width = values.shape[-2:]
    rows = values[..., : height - size + 1, :] * taps[0]
    for shift in range(1, size):
        rows.add_(values[..., shift : height - size + 1 + shift, :], alpha=taps[shift])
    columns = rows[..., : width - size + 1] * taps[0]
    for shift in range(1, size):
        columns.add_(rows[..., shift : width - size + 1 + shift], alpha=taps[shift])
    return columns


def _downsample(images: torch.Tensor) -> torch.Tensor:
    """Average each 2×2 block (an odd last row/column is dropped)."""
    height, width = images.shape[-2] // 2 * 2, images.shape[-1] // 2 * 2
    images = images[..., :height, :width]
    return (images[..., 0::2, 0::2] + images[..., 1::2, 0::2] + images[..., 0::2, 1::2]
            + images[..., 1::2, 1::2]) * 0.25


def _msssim_chunk(images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
    """Per-pair MS-SSIM of two float64 N×C×H×W stacks (Wang et al. 2003, eq. 7)."""
    result = torch.ones(images_a.shape[0], dtype=COMPUTE_DTYPE, device=images_a.device)
    taps, sizes = _window_taps(*images_a.shape[-2:])
    for level, weight in enumerate(WEIGHTS):
        # sigma_aa + sigma_bb only ever appear summed, so four filtered statistics suffice
        statistics = torch.stack([images_a, images_b, images_a * images_a + images_b * images_b,
                                  images_a * images_b])
        mu_a, mu_b, second_sum, second_ab = _filter_valid(statistics, taps[level, :sizes[level]].tolist())
        mu_ab = mu_a * mu_b
        mu_sum = mu_a * mu_a + mu_b * mu_b
        contrast_structure = (2.0 * (second_ab - mu_ab) + C2) / (second_sum - mu_sum + C2)
        if level < len(WEIGHTS) - 1:
            value = contrast_structure.mean(dim=(1, 2, 3))
            images_a, images_b = _downsample(images_a), _downsample(images_b)
        else:
            value = ((2.0 * mu_ab + C1) / (mu_sum + C1) * contrast_structure).mean(dim=(1, 2, 3))
        result *= value.clamp(min=0.0) ** weight
    return result


def _window_taps(height: int, width: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Each level's window size min(11, side) (σ scaled alike), and its taps as rows of a (levels, FILTER_SIZE)
    array padded with zeros; both kernels take their windows from here."""
    taps = np.zeros((len(WEIGHTS), FILTER_SIZE))
    sizes = []
    for level in range(len(WEIGHTS)):
        size = min(FILTER_SIZE, height >> level, width >> level)
        taps[level, :size] = gaussian_taps(size, size * FILTER_SIGMA / FILTER_SIZE)
        sizes.append(size)
    return taps, tuple(sizes)


def _msssim_pairs_c(images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
    """Per-pair MS-SSIM with the C kernel (ganeval/kernels/_msssim.c), the pairs shared among ganeval's CPU threads."""
    from_uint8 = images_a.dtype == torch.uint8 and images_b.dtype == torch.uint8  # converted per pair, in C
    arrays = [(images if from_uint8 else images.to(COMPUTE_DTYPE)).contiguous().numpy()
              for images in (images_a, images_b)]
    num_pairs, channels, height, width = images_a.shape
    taps, sizes = _window_taps(height, width)
    values = np.empty(num_pairs)

    def run(pairs: range) -> None:
        first, last = pairs.start, pairs.stop
        _msssim.msssim(arrays[0][first:last], arrays[1][first:last], from_uint8, values[first:last],
                       (last - first, channels, height, width), taps, sizes, WEIGHTS, C1, C2)

    # Many small shares (about 4 per CPU) in ganeval's pool: a worker that the OS descheduled takes fewer of them.
    per_share = max(1, num_pairs // (4 * available_cpus()))
    parallel_map(run, [range(start, min(start + per_share, num_pairs)) for start in range(0, num_pairs, per_share)])
    return torch.from_numpy(values)


def check_size(height: int, width: int, name: str = "images") -> None:
    """Refuse images whose five-level pyramid would run out of pixels (sides below `MIN_SIZE`)."""
    if min(height, width) < MIN_SIZE:
        raise GanevalInputError(f"{name}: images are {height}×{width}, but MS-SSIM's {len(WEIGHTS)}-level pyramid "
                                f"(four 2×2 averagings) needs sides of at least {MIN_SIZE} px")


def default_kernel(device: torch.device) -> Kernel:
    """The C kernel on a CPU where it was built (see pyproject.toml), else the torch kernel."""
    return "c" if device.type == "cpu" and _msssim is not None else "torch"


@torch.no_grad()
def msssim_pairs(images_a: torch.Tensor, images_b: torch.Tensor, kernel: Kernel | None = None) -> torch.Tensor:
    """Per-pair MS-SSIM (float64, on the inputs' device) of image i of `images_a` against image i of `images_b`,
    both N×C×H×W with values 0-255. `kernel`: "c" (CPU, ganeval/kernels/_msssim.c) or "torch" (any device); both
    compute the same float64 arithmetic and agree to ~1e-15."""
    if images_a.shape != images_b.shape or images_a.ndim != 4:
        raise GanevalInputError(f"msssim_pairs needs two N×C×H×W stacks of one shape, got {tuple(images_a.shape)} "
                                f"and {tuple(images_b.shape)}")
    kernel = kernel or default_kernel(images_a.device)
    if kernel == "c" and (_msssim is None or images_a.device.type != "cpu"):
        raise GanevalInputError("the C MS-SSIM kernel runs on CPU tensors and needs ganeval's C extension, built "
                                "at install time with a C compiler; use kernel='torch'")
    check_size(images_a.shape[2], images_a.shape[3])
    num_pairs = images_a.shape[0]
    if kernel == "c":
        return _msssim_pairs_c(images_a, images_b.cpu())
    if images_a.device.type == "cpu":
        pairs_per_chunk = max(1, CPU_CHUNK_PIXELS // (images_a[0].numel()))
    else:
        pairs_per_chunk = max(1, num_pairs)
    values = [_msssim_chunk(images_a[start:start + pairs_per_chunk].to(COMPUTE_DTYPE),
                            images_b[start:start + pairs_per_chunk].to(COMPUTE_DTYPE).to(images_a.device))
              for start in range(0, num_pairs, pairs_per_chunk)]
    return torch.cat(values) if values else torch.zeros(0, dtype=COMPUTE_DTYPE, device=images_a.device)


def random_pairs(num_images: int, num_pairs: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`num_pairs` index pairs (i, j), i != j, drawn uniformly with a seeded CPU generator (device-independent)."""
    generator = torch.Generator().manual_seed(seed)
    first = torch.randint(0, num_images, (num_pairs,), generator=generator)
    second = (first + torch.randint(1, num_images, (num_pairs,), generator=generator)) % num_images
    return first, second
