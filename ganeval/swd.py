"""Sliced Wasserstein distance between Laplacian-pyramid descriptor sets (Karras et al. 2018, §5 and Table 1).

Protocol (defaults = progressive_growing_of_gans/metrics/sliced_wasserstein.py): per image and pyramid level,
128 random 7×7×3 neighbourhoods; per set and level, each colour channel normalised by the mean and standard
deviation of that set's descriptors; per level, the mean over 4 repeats of 128 random unit directions of the
mean |sorted projections of A − sorted projections of B|; reported ×10³ per level and averaged.

Beyond the reference: sets of unequal size use the exact 1-D Wasserstein-1 distance between the two
empirical distributions (the integral of |F⁻¹ − G⁻¹| over the merged quantile breakpoints); every random
choice comes from `seed`, so the same seed gives the same number on the same device.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import numpy as np
import torch

from ganeval.errors import GanevalInputError
from ganeval.pyramid import extract_descriptors, laplacian_pyramid, pyramid_resolutions, sample_positions
from ganeval.sources import ImageSource, open_images, resolve_device
from ganeval.stats import Stats, is_stats_file, load_stats

NHOODS_PER_IMAGE = 128
NHOOD_SIZE = 7
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16
STREAM_REAL, STREAM_FAKE, STREAM_DIRECTIONS = 0, 1, 2
Normalize = Literal["per_set", "real"]


class SWDDescriptors:
    """Accumulates raw (unnormalised) Laplacian-pyramid descriptors of one image set, level by level.

    `update(images)` takes uint8 NCHW RGB batches; `compute()` returns one (num_descriptors, 3·7·7) float32
    tensor per level, highest resolution first. Only descriptors are kept, never images.
    """

    def __init__(self, *, seed: int = 0, stream: int = STREAM_REAL, nhoods_per_image: int = NHOODS_PER_IMAGE,
                 nhood_size: int = NHOOD_SIZE, min_resolution: int = MIN_RESOLUTION) -> None:
        self.seed, self.stream = seed, stream
        self.nhoods_per_image, self.nhood_size, self.min_resolution = nhoods_per_image, nhood_size, min_resolution
        self.resolutions: list[int] | None = None
        self.image_shape: tuple[int, int] | None = None
        self.num_images = 0
        self._levels: list[list[torch.Tensor]] = []
        self._rngs: list[np.random.Generator] = []

    def update(self, images: torch.Tensor) -> None:
        """Add the descriptors of a uint8 (N, 3, H, W) batch, on the batch's device."""
        height, width = images.shape[2], images.shape[3]
        if self.image_shape is None:
            self.image_shape = (height, width)
            self.resolutions = pyramid_resolutions(height, width, self.min_resolution)
            self._levels = [[] for _ in self.resolutions]
            self._rngs = [np.random.default_rng([self.seed, self.stream, level])
                          for level in range(len(self.resolutions))]
        elif (height, width) != self.image_shape:
            raise GanevalInputError(f"a batch of {height}×{width} images follows {self.image_shape[0]}×"
                                    f"{self.image_shape[1]} ones; all images in a set must have one size")
        for level, (pixels, rng) in enumerate(zip(laplacian_pyramid(images, len(self._levels)), self._rngs)):
            positions = sample_positions(rng, images.shape[0], pixels.shape[2], pixels.shape[3],
                                         self.nhoods_per_image, self.nhood_size)
            positions = torch.from_numpy(positions).to(images.device)
            self._levels[level].append(extract_descriptors(pixels, positions, self.nhood_size))
        self.num_images += images.shape[0]

    def compute(self) -> list[torch.Tensor]:
        """The raw descriptors of every level, highest resolution first."""
        if self.image_shape is None:
            raise GanevalInputError("no images were given to the SWD descriptor accumulator")
        for level, chunks in enumerate(self._levels):  # one level at a time, so the peak is one level's copy
            if len(chunks) > 1:
                self._levels[level] = [torch.cat(chunks)]
                chunks.clear()
        return [chunks[0] for chunks in self._levels]

    def protocol(self) -> dict[str, Any]:
        """The settings these descriptors were drawn with, as stored in a stats file."""
        return {"settings": {"nhoods_per_image": self.nhoods_per_image, "nhood_size": self.nhood_size,
                             "min_resolution": self.min_resolution, "image_shape": list(self.image_shape or ()),
                             "seed": self.seed},
                "num_images": self.num_images, "resolutions": self.resolutions}


def channel_moments(descriptors: torch.Tensor, channels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation (population, float64 sums) over all descriptors and pixels."""
    per_channel = descriptors.reshape(descriptors.shape[0], channels, -1)
    count = per_channel.shape[0] * per_channel.shape[2]
    mean = per_channel.sum(dim=(0, 2), dtype=torch.float64) / count
    centered_square = torch.zeros(channels, dtype=torch.float64, device=descriptors.device)
    for chunk in per_channel.split(1 << 16):
        centered_square += ((chunk.double() - mean[:, None]) ** 2).sum(dim=(0, 2))
    return mean, (centered_square / count).sqrt()


def normalize_descriptors(descriptors: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(descriptors − mean_c) / std_c for each colour channel c, as a new float32 tensor."""
    channels = mean.shape[0]
    per_channel = descriptors.reshape(descriptors.shape[0], channels, -1)
    normalized = (per_channel - mean.float()[:, None]) / std.float()[:, None]
    return normalized.reshape(descriptors.shape)


def random_directions(rng: np.random.Generator, num_components: int, num_directions: int) -> np.ndarray:
    """Unit directions (num_components, num_directions): Gaussian in float64, normalised, cast to float32."""
    directions = rng.standard_normal((num_components, num_directions))
    directions /= np.sqrt(np.sum(np.square(directions), axis=0, keepdims=True))
    return directions.astype(np.float32)


def _sorted_projections(descriptors: torch.Tensor, directions: torch.Tensor, use_numpy_sort: bool):
    """Projections onto each direction, sorted: (num_directions, num_descriptors), numpy or torch."""
    projections = directions.T @ descriptors.T  # (num_directions, num_descriptors), rows contiguous for sorting
    if not use_numpy_sort:
        return projections.sort(dim=1).values
    rows = projections.cpu().numpy()
    halves = np.array_split(np.arange(rows.shape[0]), 2)
    with ThreadPoolExecutor(max_workers=2) as pool:  # np.sort releases the GIL: one half per core
        for part, sorted_part in zip(halves, pool.map(lambda part: np.sort(rows[part], axis=1), halves)):
            rows[part] = sorted_part
    return rows


def quantile_coupling(num_a: int, num_b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index pairs and weights such that W1 = Σ weight·|a_sorted[ia] − b_sorted[ib]| for sizes num_a, num_b.

    The quantile functions of the two empirical distributions are step functions with breakpoints at
    i/num_a and j/num_b; on each interval between merged breakpoints both are constant.
    """
    scale = num_a * num_b  # breakpoints in integer units of 1 / (num_a·num_b)
    breakpoints = np.union1d(np.arange(1, num_a + 1, dtype=np.int64) * num_b,
                             np.arange(1, num_b + 1, dtype=np.int64) * num_a)
    starts = np.concatenate([[0], breakpoints[:-1]])
    return starts // num_b, starts // num_a, (breakpoints - starts) / scale


def sliced_wasserstein(descriptors_a: torch.Tensor, descriptors_b: torch.Tensor, directions: list[np.ndarray],
                       use_numpy_sort: bool | None = None) -> float:
    """Mean over the direction sets of the mean 1-D Wasserstein-1 distance of the projected descriptors."""
    if use_numpy_sort is None:
        use_numpy_sort = descriptors_a.device.type == "cpu"
    num_a, num_b = descriptors_a.shape[0], descriptors_b.shape[0]
    coupling = None if num_a == num_b else quantile_coupling(num_a, num_b)
    per_repeat = []
    for directions_np in directions:
        direction_tensor = torch.from_numpy(directions_np).to(descriptors_a.device)
        sorted_a = _sorted_projections(descriptors_a, direction_tensor, use_numpy_sort)
        sorted_b = _sorted_projections(descriptors_b, direction_tensor, use_numpy_sort)
        if use_numpy_sort:
            if coupling is None:
                distance = np.abs(sorted_a - sorted_b).mean(axis=1, dtype=np.float64)
            else:
                index_a, index_b, weights = coupling
                distance = np.abs(sorted_a[:, index_a] - sorted_b[:, index_b]) @ weights
            per_repeat.append(float(distance.mean()))
        else:
            if coupling is None:
                distance = (sorted_a - sorted_b).abs().double().mean(dim=1)
            else:
                index_a, index_b, weights = (torch.from_numpy(array).to(sorted_a.device) for array in coupling)
                distance = (sorted_a[:, index_a] - sorted_b[:, index_b]).abs().double() @ weights
            per_repeat.append(float(distance.mean()))
    return float(np.mean(per_repeat))


def swd_from_descriptors(real: list[torch.Tensor], fake: list[torch.Tensor], *, seed: int = 0,
                         normalize: Normalize = "per_set", dir_repeats: int = DIR_REPEATS,
                         dirs_per_repeat: int = DIRS_PER_REPEAT, use_numpy_sort: bool | None = None) -> list[float]:
    """SWD per level (not yet ×10³) between two sets of raw descriptors, highest resolution first."""
    if normalize not in ("per_set", "real"):
        raise GanevalInputError(f"normalize must be 'per_set' or 'real', got {normalize!r}")
    if len(real) != len(fake):
        raise GanevalInputError(f"the real set has {len(real)} pyramid levels and the fake set {len(fake)}; "
                                "both sets must have the same image size")
    distances = []
    for level, (desc_real, desc_fake) in enumerate(zip(real, fake)):
        desc_fake = desc_fake.to(desc_real.device)
        moments_real = channel_moments(desc_real)
        moments_fake = moments_real if normalize == "real" else channel_moments(desc_fake)
        rng = np.random.default_rng([seed, STREAM_DIRECTIONS, level])
        directions = [random_directions(rng, desc_real.shape[1], dirs_per_repeat) for _ in range(dir_repeats)]
        distances.append(sliced_wasserstein(normalize_descriptors(desc_real, *moments_real),
                                            normalize_descriptors(desc_fake, *moments_fake),
                                            directions, use_numpy_sort))
    return distances


def real_descriptors(real: ImageSource | Stats, *, seed: int, settings: dict[str, Any], device: torch.device,
                     **open_options: Any) -> tuple[list[torch.Tensor], dict[str, Any]]:
    """Descriptors of the real set, from a stats file (protocol checked) or computed from its images."""
    if isinstance(real, Stats) or is_stats_file(real):
        stats = real if isinstance(real, Stats) else load_stats(real)
        arrays = stats.require("swd", settings)
        levels = [torch.from_numpy(arrays[f"level{i}"]).to(device) for i in range(len(arrays))]
        return levels, stats.protocol["swd"]
    return _descriptors_of(real, seed=seed, stream=STREAM_REAL, settings=settings, device=device,
                           name="REAL", **open_options)


def _descriptors_of(source: ImageSource, *, seed: int, stream: int, settings: dict[str, Any], device: torch.device,
                    name: str, **open_options: Any) -> tuple[list[torch.Tensor], dict[str, Any]]:
    """Stream a source through a descriptor accumulator; return its levels and protocol record."""
    images = open_images(source, name=name, device=device, min_size=settings["min_resolution"], **open_options)
    accumulator = SWDDescriptors(seed=seed, stream=stream, **settings)
    for batch in images:
        accumulator.update(batch)
    return accumulator.compute(), accumulator.protocol()


def swd(real: ImageSource | Stats, fake: ImageSource, *, num_images: int | None = None, batch_size: int = 64,
        device: str | torch.device | None = None, seed: int = 0, normalize: Normalize = "per_set",
        nhoods_per_image: int = NHOODS_PER_IMAGE, nhood_size: int = NHOOD_SIZE, dir_repeats: int = DIR_REPEATS,
        dirs_per_repeat: int = DIRS_PER_REPEAT, min_resolution: int = MIN_RESOLUTION,
        value_range: tuple[float, float] | None = None, progress: bool = False) -> dict[str, Any]:
    """Sliced Wasserstein distance of the PGGAN paper between a real set (or its stats file) and a fake set.

    Returns the JSON contract: resolutions (highest first), swd_x1e3 per level, swd_x1e3_avg, num_images,
    seed, device and every setting. `num_images` caps each set; the two sets may differ in size.
    """
    device = resolve_device(device) if not isinstance(fake, torch.Tensor) or device else fake.device
    settings = {"nhoods_per_image": nhoods_per_image, "nhood_size": nhood_size, "min_resolution": min_resolution}
    open_options = {"num_images": num_images, "batch_size": batch_size, "value_range": value_range,
                    "progress": progress}
    levels_real, protocol_real = real_descriptors(real, seed=seed, settings=settings, device=device,
                                                  **open_options)
    levels_fake, protocol_fake = _descriptors_of(fake, seed=seed, stream=STREAM_FAKE, settings=settings,
                                                 device=device, name="FAKE", **open_options)
    if protocol_real["settings"]["image_shape"] != protocol_fake["settings"]["image_shape"]:
        raise GanevalInputError(f"REAL images are {protocol_real['settings']['image_shape']} and FAKE images "
                                f"{protocol_fake['settings']['image_shape']} (H, W); SWD compares sets of one size")
    distances = swd_from_descriptors(levels_real, levels_fake, seed=seed, normalize=normalize,
                                     dir_repeats=dir_repeats, dirs_per_repeat=dirs_per_repeat)
    swd_x1e3 = [1e3 * distance for distance in distances]
    return {"metric": "swd", "resolutions": protocol_fake["resolutions"], "swd_x1e3": swd_x1e3,
            "swd_x1e3_avg": float(np.mean(swd_x1e3)),
            "num_images": [protocol_real["num_images"], protocol_fake["num_images"]],
            "seed": seed, "device": str(device), "normalize": normalize, "dir_repeats": dir_repeats,
            "dirs_per_repeat": dirs_per_repeat, **settings}


def swd_reference_stats(real: ImageSource, *, seed: int = 0, device: str | torch.device | None = None,
                        nhoods_per_image: int = NHOODS_PER_IMAGE, nhood_size: int = NHOOD_SIZE,
                        min_resolution: int = MIN_RESOLUTION, **open_options: Any
                        ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The real set's SWD descriptors and protocol record, ready for `ganeval.stats.save_stats`."""
    settings = {"nhoods_per_image": nhoods_per_image, "nhood_size": nhood_size, "min_resolution": min_resolution}
    levels, protocol = _descriptors_of(real, seed=seed, stream=STREAM_REAL, settings=settings,
                                       device=resolve_device(device), name="REAL", **open_options)
    return {f"level{i}": level.cpu().numpy() for i, level in enumerate(levels)}, protocol
