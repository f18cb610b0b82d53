"""Laplacian pyramid and descriptor sampling of the PGGAN SWD (Karras et al. 2018, §5), in torch on any device.

The reference (progressive_growing_of_gans/metrics/sliced_wasserstein.py) filters with the 5×5 binomial
kernel ([1,4,6,4,1]⊗[1,4,6,4,1])/256 and mirror borders (scipy.ndimage mode 'mirror': d c b | a b c d |
c b a). The kernel is separable and the borders are fixed, so each 1-D pass is a linear map of one image
axis: `pyr_down` is D·X·Dᵀ and `pyr_up` is U·X·Uᵀ with small banded matrices built once per size. Batched
matrix products run at full speed on CPU and GPU, where torch's CPU conv2d with tiny single-channel kernels
does not.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ganeval.errors import GanevalInputError

BINOMIAL_5 = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


def mirror_index(index: int, size: int) -> int:
    """Reflect an out-of-range index without repeating the edge sample (scipy.ndimage 'mirror')."""
    period = 2 * size - 2
    index = abs(index) % period
    return period - index if index >= size else index


@functools.lru_cache(maxsize=64)
def binomial_filter_matrix(size: int) -> np.ndarray:
    """The (size, size) matrix F with F @ signal = [1,4,6,4,1]/16 filtering under mirror borders."""
    if size < 3:
        raise GanevalInputError(f"pyramid level of size {size} is too small to filter (needs at least 3)")
    matrix = np.zeros((size, size))
    for row in range(size):
        for tap, weight in enumerate(BINOMIAL_5):
            matrix[row, mirror_index(row + tap - 2, size)] += weight
    return matrix


@functools.lru_cache(maxsize=64)
def _down_matrix(size: int, device: torch.device) -> torch.Tensor:
    """D: the filter's even outputs, mapping a side of `size` to ceil(size / 2)."""
    return torch.tensor(binomial_filter_matrix(size)[::2], dtype=torch.float32, device=device)


@functools.lru_cache(maxsize=64)
def _up_matrix(size: int, device: torch.device) -> torch.Tensor:
    """U: zero insertion to 2·size, then 2 × the filter (2 per axis makes the 4 × of the 5×5 kernel)."""
    return torch.tensor(2.0 * binomial_filter_matrix(2 * size)[:, ::2], dtype=torch.float32, device=device)


def pyr_down(images: torch.Tensor) -> torch.Tensor:
    """Blur with the 5×5 binomial kernel (mirror borders) and keep even rows and columns (like cv2.pyrDown)."""
    return _down_matrix(images.shape[2], images.device) @ images @ _down_matrix(images.shape[3], images.device).T


def pyr_up(images: torch.Tensor) -> torch.Tensor:
    """Insert zeros to double the size, then blur with 4 × the 5×5 binomial kernel (like cv2.pyrUp)."""
    return _up_matrix(images.shape[2], images.device) @ images @ _up_matrix(images.shape[3], images.device).T


def pyramid_resolutions(height: int, width: int, min_resolution: int = 16, nhood_size: int = 7) -> list[int]:
    """The height of each pyramid level, halving from the image height down to `min_resolution` (128 → 128…16).

    Levels are counted from the height, as the reference does (API.__init__ halves image_shape[1] while ≥ 16):
    128×64 images give four levels, 128×64 down to 16×8; 64×128 images three, 64×128 down to 16×32. Level k of
    H×W images is H/2ᵏ × W/2ᵏ. Refused, each with a message saying what to do: a height below `min_resolution`,
    sides not divisible by 2^(levels − 1), and a level whose narrow side is below `nhood_size` (the reference
    fails on both of the last two).
    """
    if height < min_resolution:
        raise GanevalInputError(f"images are {height}×{width}, but SWD counts its pyramid levels from the height and "
                                f"needs a height of at least {min_resolution} px (its coarsest level)")
    resolutions = []
    side = height
    while side >= min_resolution:
        resolutions.append(side)
        side //= 2
    factor = 2 ** (len(resolutions) - 1)
    if height % factor or width % factor:
        raise GanevalInputError(f"images are {height}×{width}; a {len(resolutions)}-level pyramid needs sides "
                                f"divisible by {factor}")
    for level, level_height in enumerate(resolutions):
        level_width = width >> level
        if min(level_height, level_width) >= nhood_size:
            continue
        way_out = f"pass min_resolution={resolutions[level - 1]} to stop at the level above, or " if level else ""
        raise GanevalInputError(
            f"images are {height}×{width}: SWD counts its pyramid levels from the height ({resolutions}), and level "
            f"{level} would be {level_height}×{level_width}, narrower than the {nhood_size}×{nhood_size} "
            f"neighbourhood (the reference code fails on such levels); {way_out}resize or pad the images to a "
            f"narrow side of at least {nhood_size * factor} px")
    return resolutions


def laplacian_pyramid(images: torch.Tensor, num_levels: int) -> list[torch.Tensor]:
    """Levels from full resolution down; each is image − pyr_up(pyr_down(image)), the last the low-pass residual."""
    levels = [images.float()]
    for _ in range(1, num_levels):
        coarser = pyr_down(levels[-1])
        levels[-1] = levels[-1] - pyr_up(coarser)
        levels.append(coarser)
    return levels


SPLITMIX_GAMMA = np.uint64(0x9E3779B97F4A7C15)
SPLITMIX_MULTIPLIERS = (np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB))


def keyed_uniforms(key: list[int], indices: np.ndarray, per_index: int) -> np.ndarray:
    """(len(indices), per_index) float64 uniforms in [0, 1), a pure function of (key, index, position in the row).

    Counter-based: value j of index i is SplitMix64 (Steele, Lea and Flood 2014) of the counter i·per_index + j
    offset by a 64-bit stream key hashed from `key` by numpy's SeedSequence, its top 53 bits scaled to [0, 1). No
    state is carried from one image to the next, so an image's draws do not depend on how a set is batched or split
    among processes.
    """
    stream = np.random.SeedSequence(key).generate_state(1, np.uint64)[0]
    counters = np.asarray(indices, dtype=np.uint64)[:, None] * np.uint64(per_index) + np.arange(per_index,
                                                                                               dtype=np.uint64)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        mixed = stream + (counters + np.uint64(1)) * SPLITMIX_GAMMA
        mixed = (mixed ^ (mixed >> np.uint64(30))) * SPLITMIX_MULTIPLIERS[0]
        mixed = (mixed ^ (mixed >> np.uint64(27))) * SPLITMIX_MULTIPLIERS[1]
        mixed ^= mixed >> np.uint64(31)
    return (mixed >> np.uint64(11)).astype(np.float64) * 2.0**-53


def sample_positions(key: list[int], image_indices: np.ndarray, height: int, width: int, nhoods_per_image: int,
                     nhood_size: int) -> np.ndarray:
    """Neighbourhood centres (num_images, nhoods_per_image, 2) as (y, x), uniform in [r, size − r − 1].

    One keyed uniform per coordinate of each image (`keyed_uniforms`, keyed by `key` and the image's index in its
    set), so the positions depend on the image index alone, not on batch size, arrival order or process count.
    """
    radius = nhood_size // 2
    uniforms = keyed_uniforms(key, image_indices, 2 * nhoods_per_image).reshape(len(image_indices),
                                                                                nhoods_per_image, 2)
    spans = np.array([height - 2 * radius, width - 2 * radius])
    return (radius + np.floor(uniforms * spans)).astype(np.int64)


def extract_descriptors(level: torch.Tensor, positions: torch.Tensor, nhood_size: int) -> torch.Tensor:
    """The nhood_size² × C neighbourhoods of `level` (N, C, H, W) around `positions` (N, K, 2) as (N·K, C·s·s)."""
    num_images, nhoods = positions.shape[0], positions.shape[1]
    radius = nhood_size // 2
    windows = level.unfold(2, nhood_size, 1).unfold(3, nhood_size, 1)  # view: N, C, H−s+1, W−s+1, s, s
    image = torch.arange(num_images, device=level.device)[:, None].expand(num_images, nhoods)
    patches = windows[image, :, positions[:, :, 0] - radius, positions[:, :, 1] - radius]  # N, K, C, s, s
    return patches.reshape(num_images * nhoods, -1)
