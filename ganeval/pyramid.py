"""Laplacian pyramid and descriptor sampling of the PGGAN SWD (Karras et al. 2018, §5), in torch on any device.

The reference (progressive_growing_of_gans/metrics/sliced_wasserstein.py) filters with the 5×5 binomial
kernel ([1,4,6,4,1]⊗[1,4,6,4,1])/256 and mirror borders (scipy.ndimage mode 'mirror': d c b | a b c d |
c b a). The kernel is separable, so each pass here is two 1-D 5-tap filters built from shifted slices
(torch's CPU conv2d with tiny single-channel kernels is far slower), and only the outputs that are kept
are computed: `pyr_down` filters the even rows and columns only, `pyr_up` uses the two polyphase
components of "insert zeros, then filter ×4".
"""

from __future__ import annotations

import numpy as np
import torch

from ganeval.errors import GanevalInputError


def _binomial_down(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Filter along `dim` with [1,4,6,4,1]/16 (mirror borders) and keep the even positions."""
    size = x.shape[dim]
    if size < 3:
        raise GanevalInputError(f"pyramid level of size {size} is too small to filter (needs at least 3)")
    padded = torch.cat([x.narrow(dim, 2, 1), x.narrow(dim, 1, 1), x,
                        x.narrow(dim, size - 2, 1), x.narrow(dim, size - 3, 1)], dim=dim)

    def tap(offset: int) -> torch.Tensor:
        return padded.narrow(dim, offset, size).unfold(dim, 1, 2).squeeze(-1)

    return (tap(0) + tap(4) + 4.0 * (tap(1) + tap(3)) + 6.0 * tap(2)) * (1.0 / 16.0)


def _binomial_up(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Double `dim` as "insert zeros, filter with [1,4,6,4,1]/8" (mirror borders), from its two phases.

    With u[2i] = x[i], u[2i+1] = 0 and mirror borders on u: even outputs are (x[i-1] + 6 x[i] + x[i+1]) / 8
    and odd outputs (x[i] + x[i+1]) / 2, where x[-1] = x[1] and x[n] = x[n-1].
    """
    size = x.shape[dim]
    padded = torch.cat([x.narrow(dim, 1, 1), x, x.narrow(dim, size - 1, 1)], dim=dim)
    previous, center, following = (padded.narrow(dim, offset, size) for offset in range(3))
    even = (previous + following + 6.0 * center) * (1.0 / 8.0)
    odd = (center + following) * 0.5
    shape = list(x.shape)
    shape[dim] = 2 * size
    return torch.stack([even, odd], dim=dim + 1).reshape(shape)


def pyr_down(images: torch.Tensor) -> torch.Tensor:
    """Blur with the 5×5 binomial kernel (mirror borders) and keep even rows and columns (like cv2.pyrDown)."""
    return _binomial_down(_binomial_down(images, 2), 3)


def pyr_up(images: torch.Tensor) -> torch.Tensor:
    """Insert zeros to double the size, then blur with 4 × the 5×5 binomial kernel (like cv2.pyrUp)."""
    return _binomial_up(_binomial_up(images, 2), 3)


def pyramid_resolutions(height: int, width: int, min_resolution: int = 16) -> list[int]:
    """The side of each pyramid level, halving from the full image down to `min_resolution` (128 → 128…16)."""
    side = min(height, width)
    if side < min_resolution:
        raise GanevalInputError(f"images are {height}×{width}, but SWD needs at least "
                                f"{min_resolution}×{min_resolution} (its coarsest pyramid level)")
    resolutions = []
    while side >= min_resolution:
        resolutions.append(side)
        side //= 2
    factor = 2 ** (len(resolutions) - 1)
    if height % factor or width % factor:
        raise GanevalInputError(f"images are {height}×{width}; a {len(resolutions)}-level pyramid needs sides "
                                f"divisible by {factor}")
    return resolutions


def laplacian_pyramid(images: torch.Tensor, num_levels: int) -> list[torch.Tensor]:
    """Levels from full resolution down; each is image − pyr_up(pyr_down(image)), the last the low-pass residual."""
    levels = [images.float()]
    for _ in range(1, num_levels):
        coarser = pyr_down(levels[-1])
        levels[-1] = levels[-1] - pyr_up(coarser)
        levels.append(coarser)
    return levels


def sample_positions(rng: np.random.Generator, num_images: int, height: int, width: int,
                     nhoods_per_image: int, nhood_size: int) -> np.ndarray:
    """Neighbourhood centres (num_images, nhoods_per_image, 2) as (y, x), uniform in [r, size − r − 1].

    Draws one float64 per coordinate, so the positions do not depend on how images are batched.
    """
    radius = nhood_size // 2
    uniforms = rng.random((num_images, nhoods_per_image, 2))
    spans = np.array([height - 2 * radius, width - 2 * radius])
    return (radius + np.floor(uniforms * spans)).astype(np.int64)


def extract_descriptors(level: torch.Tensor, positions: torch.Tensor, nhood_size: int) -> torch.Tensor:
    """The nhood_size² × C neighbourhoods of `level` (N, C, H, W) around `positions` (N, K, 2) as (N·K, C·s·s)."""
    num_images, channels, height, width = level.shape
    radius = nhood_size // 2
    offsets = torch.arange(-radius, radius + 1, device=level.device)
    rows = positions[:, :, 0, None, None, None] + offsets[:, None]            # N, K, 1, s, 1
    cols = positions[:, :, 1, None, None, None] + offsets                     # N, K, 1, 1, s
    planes = (torch.arange(num_images, device=level.device)[:, None, None, None, None] * channels
              + torch.arange(channels, device=level.device)[:, None, None])  # N, 1, C, 1, 1
    index = (planes * height + rows) * width + cols                           # N, K, C, s, s
    return level.reshape(-1).take(index).reshape(num_images * positions.shape[1], -1)
