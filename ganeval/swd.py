"""Sliced Wasserstein distance between Laplacian-pyramid descriptor sets (Karras et al. 2018, §5 and Table 1).

Protocol (defaults = progressive_growing_of_gans/metrics/sliced_wasserstein.py): per image and pyramid level,
128 random 7×7×3 neighbourhoods; per set and level, each colour channel normalised by the mean and standard
deviation of that set's descriptors; per level, the mean over 4 repeats of 128 random unit directions of the
mean |sorted projections of A − sorted projections of B|; reported ×10³ per level and averaged. Pyramid levels
are counted from the image height, as the reference counts them: `resolutions` lists each level's height (the
reference's SWDx1e3_<height> names), level k of H×W images being H/2ᵏ × W/2ᵏ, so 128×64 images have four levels
(128 … 16) and 64×128 images three (64 … 16). Portrait images whose coarsest level would be narrower than the 7×7
neighbourhood are refused (the reference code fails on them); see `ganeval.pyramid.pyramid_resolutions`.

Beyond the reference: sets of unequal size use the exact 1-D Wasserstein-1 distance between the two
empirical distributions (the integral of |F⁻¹ − G⁻¹| over the merged quantile breakpoints); every random
choice comes from `seed`, so the same seed gives the same number on the same device.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from typing import Any, Literal

import numpy as np
import torch

from ganeval.chunks import IndexedRows, next_indices
from ganeval.defaults import DIR_REPEATS, DIRS_PER_REPEAT, MIN_RESOLUTION, NHOOD_SIZE, NHOODS_PER_IMAGE
from ganeval.errors import GanevalInputError
from ganeval.metric import FAKE, REAL, Metric, Run
from ganeval.pyramid import extract_descriptors, laplacian_pyramid, pyramid_resolutions, sample_positions
from ganeval.sources import ImageSource, check_at_least
from ganeval.stats import Stats
from ganeval.threads import available_cpus, parallel_map, torch_single_threaded

STREAM_REAL, STREAM_FAKE, STREAM_DIRECTIONS = 0, 1, 2
Normalize = Literal["per_set", "real"]
SortMethod = Literal["torch", "radix", "numpy"]

try:
    from ganeval import _radix
except ImportError:  # built without a C compiler (the extension is optional): numpy sorts instead
    _radix = None


class SWDDescriptors:
    """Accumulates raw (unnormalised) Laplacian-pyramid descriptors of one image set, level by level.

    `update(images, indices)` takes uint8 NCHW RGB batches and the images' indices in their set (default: the next
    ones in order); each image's neighbourhood positions are drawn from (seed, stream, level, image index), so the
    descriptors do not depend on batch size, order or process count. `compute()` returns one
    (num_descriptors, 3·7·7) float32 tensor per level, highest resolution first, in image order; `merge(other)`
    adds what an accumulator of the same settings saw of other images of the set. Only descriptors are kept.
    """

    def __init__(self, *, seed: int = 0, stream: int = STREAM_REAL, nhoods_per_image: int = NHOODS_PER_IMAGE,
                 nhood_size: int = NHOOD_SIZE, min_resolution: int = MIN_RESOLUTION, limit: int | None = None) -> None:
        self.seed, self.stream = seed, stream
        self.nhoods_per_image, self.nhood_size, self.min_resolution = nhoods_per_image, nhood_size, min_resolution
        self.limit = limit  # images with an index ≥ limit are ignored (one pass can feed metrics of other sizes)
        self.reset()

    def reset(self) -> None:
        """Forget every image seen."""
        self.resolutions: list[int] | None = None
        self.image_shape: tuple[int, int] | None = None
        self._levels: list[IndexedRows] = []
        self._next_index = 0

    @property
    def num_images(self) -> int:
        """Images whose descriptors are held."""
        return self._levels[0].num_images if self._levels else 0

    def _start(self, height: int, width: int) -> None:
        self.image_shape = (height, width)
        self.resolutions = pyramid_resolutions(height, width, self.min_resolution, self.nhood_size)
        self._levels = [IndexedRows(self.nhoods_per_image) for _ in self.resolutions]

    def update(self, images: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Add the descriptors of a uint8 (N, 3, H, W) batch, on the batch's device."""
        indices = next_indices(self._next_index, images.shape[0]) if indices is None else indices.cpu()
        self._next_index = int(indices.max()) + 1 if len(indices) else self._next_index
        if self.limit is not None:
            kept = indices < self.limit
            images, indices = images[kept.to(images.device)], indices[kept]
        if images.shape[0] == 0:
            return
        height, width = images.shape[2], images.shape[3]
        if self.image_shape is None:
            self._start(height, width)
        elif (height, width) != self.image_shape:
            raise GanevalInputError(f"a batch of {height}×{width} images follows {self.image_shape[0]}×"
                                    f"{self.image_shape[1]} ones; all images in a set must have one size")
        if images.device.type == "cpu":  # small tasks in ganeval's pool, torch single-threaded (ganeval.threads)
            step = max(1, images.shape[0] // (4 * available_cpus()))
            with torch_single_threaded():
                parts = parallel_map(lambda start: (indices[start:start + step], self._descriptors(
                    images[start:start + step], indices[start:start + step])), range(0, images.shape[0], step))
        else:
            parts = [(indices, self._descriptors(images, indices))]
        for part_indices, levels in parts:  # kept as parts: compute() concatenates each level once
            for rows, descriptors in zip(self._levels, levels, strict=True):
                rows.add(descriptors, part_indices)

    def _descriptors(self, images: torch.Tensor, indices: torch.Tensor) -> list[torch.Tensor]:
        """Each level's descriptors of the images `indices`, at positions drawn from their indices."""
        levels = []
        for level, pixels in enumerate(laplacian_pyramid(images, len(self._levels))):
            positions = sample_positions([self.seed, self.stream, level], indices.numpy(), pixels.shape[2],
                                         pixels.shape[3], self.nhoods_per_image, self.nhood_size)
            levels.append(extract_descriptors(pixels, torch.from_numpy(positions).to(images.device),
                                              self.nhood_size))
        return levels

    def merge(self, other: SWDDescriptors) -> None:
        """Add the descriptors `other` (same settings, other images of the same set) holds."""
        if other.protocol()["settings"] | {"image_shape": None} != self.protocol()["settings"] | {"image_shape": None}:
            raise GanevalInputError("cannot merge SWD descriptors drawn with other settings")
        if other.image_shape is None:
            return
        if self.image_shape is None:
            self._start(*other.image_shape)
        elif other.image_shape != self.image_shape:
            raise GanevalInputError(f"cannot merge descriptors of {other.image_shape} images into {self.image_shape}")
        for mine, theirs in zip(self._levels, other._levels, strict=True):
            mine.merge(theirs)

    def compute(self) -> list[torch.Tensor]:
        """The raw descriptors of every level, highest resolution first, in image order."""
        if self.image_shape is None:
            raise GanevalInputError("no images were given to the SWD descriptor accumulator")
        return [level.ordered() for level in self._levels]

    def protocol(self) -> dict[str, Any]:
        """The settings these descriptors were drawn with, as stored in a stats file."""
        return {"settings": {"nhoods_per_image": self.nhoods_per_image, "nhood_size": self.nhood_size,
                             "min_resolution": self.min_resolution, "image_shape": list(self.image_shape or ()),
                             "seed": self.seed},
                "num_images": self.num_images, "resolutions": self.resolutions}

    def state_dict(self) -> dict[str, Any]:
        """Settings and descriptors (on the CPU), to send to another process or save."""
        return {"seed": self.seed, "stream": self.stream, "nhoods_per_image": self.nhoods_per_image,
                "nhood_size": self.nhood_size, "min_resolution": self.min_resolution, "limit": self.limit,
                "image_shape": self.image_shape, "levels": [level.state_dict() for level in self._levels]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace settings and descriptors by those of `state_dict()`."""
        self.__init__(**{key: state[key] for key in ("seed", "stream", "nhoods_per_image", "nhood_size",
                                                      "min_resolution", "limit")})
        if state["image_shape"] is not None:
            self._start(*state["image_shape"])
            for level, level_state in zip(self._levels, state["levels"], strict=True):
                level.load_state_dict(level_state)


def channel_moments(descriptors: torch.Tensor, channels: int = 3,
                    rows_per_chunk: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation (population) over all descriptors and pixels, two passes in float64.

    Column sums over chunks of `rows_per_chunk` descriptors (default: 2,048 on a CPU, so each float64 copy stays
    in cache; 65,536 on a GPU, to keep kernel launches few).
    """
    on_cpu = descriptors.device.type == "cpu"
    rows_per_chunk = rows_per_chunk or (2048 if on_cpu else 65536)
    count = descriptors.shape[0] * (descriptors.shape[1] // channels)
    chunks = descriptors.split(rows_per_chunk)
    # Chunk sums are taken in parallel on a CPU (ganeval's pool) and added in chunk order either way.
    sums_of = (lambda function: parallel_map(function, chunks)) if on_cpu else (lambda function: map(function, chunks))
    with torch_single_threaded() if on_cpu else contextlib.nullcontext():
        column_sums = torch.zeros(descriptors.shape[1], dtype=torch.float64, device=descriptors.device)
        for chunk_sum in sums_of(lambda chunk: chunk.sum(dim=0, dtype=torch.float64)):
            column_sums += chunk_sum
        mean = column_sums.reshape(channels, -1).sum(dim=1) / count
        per_component_mean = mean.repeat_interleave(descriptors.shape[1] // channels)
        centered_squares = torch.zeros_like(column_sums)
        for chunk_sum in sums_of(lambda chunk: ((chunk.double() - per_component_mean) ** 2).sum(dim=0)):
            centered_squares += chunk_sum
    return mean, (centered_squares.reshape(channels, -1).sum(dim=1) / count).sqrt()


def fold_normalization(directions: np.ndarray, moments: tuple[torch.Tensor, torch.Tensor] | None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Directions w/σ and offsets (μ/σ)·w, so that ((d − μ)/σ)·w = d·(w/σ) − offset for every descriptor d.

    μ and σ are per colour channel (descriptor components are channel-major); folding the normalisation
    into the directions saves a pass over the descriptors. Computed in float64, directions returned as float32.
    """
    if moments is None:
        return directions, np.zeros(directions.shape[1])
    mean, std = (moment.double().cpu().numpy() for moment in moments)
    per_component = directions.shape[0] // mean.shape[0]
    scale = np.repeat(1.0 / std, per_component)[:, None]
    scaled = directions.astype(np.float64) * scale
    return scaled.astype(np.float32), np.repeat(mean, per_component) @ scaled


def random_directions(rng: np.random.Generator, num_components: int, num_directions: int) -> np.ndarray:
    """Unit directions (num_components, num_directions): Gaussian in float64, normalised, cast to float32."""
    directions = rng.standard_normal((num_components, num_directions))
    directions /= np.sqrt(np.sum(np.square(directions), axis=0, keepdims=True))
    return directions.astype(np.float32)


def default_sort_method(device: torch.device) -> SortMethod:
    """torch.sort on a GPU; on a CPU the faster of ganeval's C radix sort (where it was built) and numpy's sort."""
    if device.type != "cpu":
        return "torch"
    return "numpy" if _radix is None else fastest_cpu_sort()


@functools.lru_cache(maxsize=1)
def fastest_cpu_sort() -> SortMethod:
    """"radix" or "numpy", whichever sorts SWD-sized float32 rows faster on this CPU, measured once per process.

    Both give exactly the same values; which is faster depends on the CPU and numpy's build: on the AVX-512 Zen 4
    of benchmarks/RESULTS.md the radix sort was ≈ 5× np.sort on rows of 2¹⁸ keys, on an AVX2 Zen 3 numpy 2.4's
    SIMD sort is ≈ 2× the radix sort. Timing four rows of 2¹⁶ keys each way takes a few milliseconds.
    """
    rows = np.random.default_rng(0).standard_normal((2, 5, 1 << 16)).astype(np.float32)
    scratch = np.empty(1 << 16, np.float32)
    seconds = []
    for method, batch in zip(("radix", "numpy"), rows):
        sort = (lambda row: radix_sort(row, scratch)) if method == "radix" else np.ndarray.sort
        sort(batch[0])  # warm-up: caches, first-touch of the scratch buffer
        start = time.perf_counter()
        for row in batch[1:]:
            sort(row)
        seconds.append(time.perf_counter() - start)
    return "radix" if seconds[0] < seconds[1] else "numpy"


def radix_sort(values: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """Sort a contiguous 1-D float32 array in place with ganeval's C radix sort (ganeval/_radix.c).

    The result is exactly np.sort's (NaN aside); ≈ 5× np.sort's speed on rows of 2¹⁸ floats on the CPU of
    benchmarks/RESULTS.md, and the GIL is released, so threads sort rows in parallel. `scratch`: a float32
    buffer at least as long, reused between calls to save the allocation.
    """
    if _radix is None:
        raise GanevalInputError("ganeval's C radix sort was not built (no C compiler at install time); "
                                "use sort_method='numpy' or reinstall with a C compiler")
    if values.dtype != np.float32 or values.ndim != 1 or not values.flags.c_contiguous:
        raise ValueError("radix_sort sorts contiguous 1-D float32 arrays")
    _radix.sort_float32(values, np.empty_like(values) if scratch is None else scratch)


def _cpu_wasserstein_per_direction(projections_a: np.ndarray, projections_b: np.ndarray, shifts: np.ndarray,
                                   coupling, sort_method: SortMethod) -> np.ndarray:
    """W1 between rows of projections_a − shift and projections_b, sorting the rows in place, one per thread."""
    per_thread = threading.local()
    length = max(projections_a.shape[1], projections_b.shape[1])

    def distance(row: int) -> float:
        sorted_a, sorted_b = projections_a[row], projections_b[row]
        if sort_method == "radix":
            if not hasattr(per_thread, "scratch"):
                per_thread.scratch = np.empty(length, np.float32)
            radix_sort(sorted_a, per_thread.scratch)
            radix_sort(sorted_b, per_thread.scratch)
        else:
            sorted_a.sort()
            sorted_b.sort()
        if coupling is not None:
            index_a, index_b, weights = coupling
            return float(np.abs(sorted_a[index_a] - sorted_b[index_b] - shifts[row]) @ weights)
        difference = np.subtract(sorted_a, sorted_b, out=getattr(per_thread, "difference", None))
        per_thread.difference = difference
        difference -= shifts[row]
        return float(np.abs(difference, out=difference).mean(dtype=np.float64))

    return np.array(parallel_map(distance, range(projections_a.shape[0])))  # both sorts release the GIL


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
                       sort_method: SortMethod | None = None,
                       moments_a: tuple[torch.Tensor, torch.Tensor] | None = None,
                       moments_b: tuple[torch.Tensor, torch.Tensor] | None = None,
                       workspace: list[np.ndarray] | None = None) -> float:
    """Mean over the direction sets of the mean 1-D Wasserstein-1 distance of the projected descriptors.

    With `moments_a`/`moments_b` (per-channel mean, std) each set is normalised by them first (folded into the
    directions). `sort_method`: "torch" sorts (directions, n) projections with torch.sort on the descriptors'
    device; "radix" and "numpy" project with numpy's BLAS and sort one row per CPU thread. All give the same values.
    `workspace`: a list that keeps the CPU projection buffers for the next call with as many descriptors
    (fresh half-gigabyte buffers cost as much time as the products written into them).
    """
    sort_method = sort_method or default_sort_method(descriptors_a.device)
    num_a, num_b = descriptors_a.shape[0], descriptors_b.shape[0]
    coupling = None if num_a == num_b else quantile_coupling(num_a, num_b)
    every_direction = np.concatenate(directions, axis=1)
    directions_a, offsets_a = fold_normalization(every_direction, moments_a)
    directions_b, offsets_b = fold_normalization(every_direction, moments_b)
    shifts = (offsets_a - offsets_b).astype(np.float32)  # W1 of (a·w_a − offset_a) and (b·w_b − offset_b)
    if sort_method == "torch":
        distances = _torch_wasserstein_per_direction(descriptors_a, descriptors_b, directions_a, directions_b,
                                                     shifts, coupling, block=directions[0].shape[1])
    else:
        distances = _cpu_wasserstein_per_projection_block(
            descriptors_a.cpu().numpy(), descriptors_b.cpu().numpy(), directions_a, directions_b, shifts, coupling,
            sort_method, [] if workspace is None else workspace)
    return float(np.mean(distances.reshape(len(directions), -1).mean(axis=1)))


def _torch_wasserstein_per_direction(descriptors_a: torch.Tensor, descriptors_b: torch.Tensor,
                                     directions_a: np.ndarray, directions_b: np.ndarray, shifts: np.ndarray,
                                     coupling, block: int) -> np.ndarray:
    """W1 per direction with torch.sort on the descriptors' device, `block` directions at a time."""
    device = descriptors_a.device
    if coupling is not None:
        coupling = tuple(torch.from_numpy(array).to(device) for array in coupling)
    distances = []
    for start in range(0, shifts.shape[0], block):
        rows = slice(start, start + block)
        sorted_a = (torch.from_numpy(directions_a[:, rows]).to(device).T @ descriptors_a.T).sort(dim=1).values
        sorted_b = (torch.from_numpy(directions_b[:, rows]).to(device).T @ descriptors_b.T).sort(dim=1).values
        shift = torch.from_numpy(shifts[rows]).to(device)[:, None]
        if coupling is None:
            distance = (sorted_a - sorted_b - shift).abs().double().mean(dim=1)
        else:
            index_a, index_b, weights = coupling
            distance = (sorted_a[:, index_a] - sorted_b[:, index_b] - shift).abs().double() @ weights
        distances.append(distance.cpu().numpy())
    return np.concatenate(distances)


def _cpu_wasserstein_per_projection_block(descriptors_a: np.ndarray, descriptors_b: np.ndarray,
                                          directions_a: np.ndarray, directions_b: np.ndarray, shifts: np.ndarray,
                                          coupling, sort_method: SortMethod, workspace: list[np.ndarray],
                                          projection_bytes: int = 1 << 30) -> np.ndarray:
    """W1 per direction on a CPU: as many directions projected at once as fit `projection_bytes` per set."""
    block = min(shifts.shape[0], max(1, projection_bytes // (4 * max(len(descriptors_a), len(descriptors_b)))))
    while len(workspace) < 2:
        workspace.append(np.empty(0, np.float32))
    for index, descriptors in enumerate((descriptors_a, descriptors_b)):
        if workspace[index].size < block * len(descriptors):
            workspace[index] = np.empty(block * len(descriptors), np.float32)
    distances = []
    for start in range(0, shifts.shape[0], block):  # numpy's BLAS projects ≈ 2× faster than torch's here
        rows = slice(start, start + block)
        projections = []
        for index, (descriptors, directions_set) in enumerate(((descriptors_a, directions_a[:, rows]),
                                                               (descriptors_b, directions_b[:, rows]))):
            out = workspace[index][:directions_set.shape[1] * len(descriptors)].reshape(directions_set.shape[1], -1)
            projections.append(np.matmul(directions_set.T, descriptors.T, out=out))
        distances.append(_cpu_wasserstein_per_direction(*projections, shifts[rows], coupling, sort_method))
    return np.concatenate(distances)


def check_nhood_size(nhood_size: int) -> None:
    """Refuse a neighbourhood side that is not an odd integer ≥ 1 (descriptors are centred on a pixel)."""
    if check_at_least("nhood_size", nhood_size) % 2 == 0:
        raise GanevalInputError(f"nhood_size must be odd (neighbourhoods are centred on a pixel), got {nhood_size}")


def swd_from_descriptors(real: list[torch.Tensor], fake: list[torch.Tensor], *, seed: int = 0,
                         normalize: Normalize = "per_set", dir_repeats: int = DIR_REPEATS,
                         dirs_per_repeat: int = DIRS_PER_REPEAT, sort_method: SortMethod | None = None
                         ) -> list[float]:
    """SWD per level (not yet ×10³) between two sets of raw descriptors, highest resolution first."""
    if normalize not in ("per_set", "real"):
        raise GanevalInputError(f"normalize must be 'per_set' or 'real', got {normalize!r}")
    if len(real) != len(fake):
        raise GanevalInputError(f"the real set has {len(real)} pyramid levels and the fake set {len(fake)}; "
                                "both sets must have the same image size")
    distances, workspace = [], []
    for level, (desc_real, desc_fake) in enumerate(zip(real, fake)):
        desc_fake = desc_fake.to(desc_real.device)
        moments_real = channel_moments(desc_real)
        moments_fake = moments_real if normalize == "real" else channel_moments(desc_fake)
        for name, (_, std) in (("REAL", moments_real), ("FAKE", moments_fake)):
            if not bool((std > 0).all()):
                raise GanevalInputError(
                    f"{name}: colour channel {int((std > 0).logical_not().nonzero()[0])} of pyramid level {level} is "
                    "constant over every descriptor (e.g. flat images), so SWD's per-set normalisation divides by "
                    "zero" + ("; normalize='real' scales both sets by the real set's statistics"
                              if name == "FAKE" else ""))
        rng = np.random.default_rng([seed, STREAM_DIRECTIONS, level])
        directions = [random_directions(rng, desc_real.shape[1], dirs_per_repeat) for _ in range(dir_repeats)]
        distances.append(sliced_wasserstein(desc_real, desc_fake, directions, sort_method,
                                            moments_real, moments_fake, workspace))
    return distances


class SWDMetric(Metric):
    """`swd` in ganeval.evaluate: descriptors of both sets (the real set's may come from a stats file)."""

    name = "swd"
    reads = (REAL, FAKE)
    options = {"normalize": "per_set", "nhoods_per_image": NHOODS_PER_IMAGE, "nhood_size": NHOOD_SIZE,
               "dir_repeats": DIR_REPEATS, "dirs_per_repeat": DIRS_PER_REPEAT, "min_resolution": MIN_RESOLUTION}
    stored = True

    def check(self, options: dict[str, Any]) -> None:
        if options["normalize"] not in ("per_set", "real"):
            raise GanevalInputError(f"normalize must be 'per_set' or 'real', got {options['normalize']!r}")
        for name in ("nhoods_per_image", "dir_repeats", "dirs_per_repeat", "min_resolution"):
            check_at_least(name, options[name])
        check_nhood_size(options["nhood_size"])

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        return 1, "SWD"

    @staticmethod
    def settings(options: dict[str, Any]) -> dict[str, Any]:
        return {name: options[name] for name in ("nhoods_per_image", "nhood_size", "min_resolution")}

    def accumulator(self, set_name: str, run: Run) -> SWDDescriptors:
        stream = run.streams[set_name]
        settings = self.settings(run.options)
        if stream.height is not None:
            try:  # the size check of the pyramid, before any descriptor is drawn, naming the set
                pyramid_resolutions(stream.height, stream.width, settings["min_resolution"], settings["nhood_size"])
            except GanevalInputError as error:
                raise GanevalInputError(f"{stream.name}: {error}") from None
        return SWDDescriptors(seed=run.seed, stream=STREAM_REAL if set_name == REAL else STREAM_FAKE,
                              limit=self.limit(run.options, set_name), **settings)

    def statistics(self, accumulator: SWDDescriptors) -> tuple[list[torch.Tensor], dict[str, Any]]:
        return accumulator.compute(), accumulator.protocol()

    def from_stats(self, stats: Stats, run: Run) -> tuple[list[torch.Tensor], dict[str, Any]]:
        arrays = stats.require("swd", {**self.settings(run.options), "seed": run.seed})  # positions drew on the seed
        return [torch.from_numpy(arrays[f"level{i}"]).to(run.device) for i in range(len(arrays))], stats.protocol["swd"]

    def stats_arrays(self, statistics: tuple[list[torch.Tensor], dict[str, Any]], run: Run
                     ) -> tuple[dict[str, Any], dict[str, Any]]:
        levels, protocol = statistics
        return {f"level{i}": level.cpu().numpy() for i, level in enumerate(levels)}, protocol

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        (levels_real, protocol_real), (levels_fake, protocol_fake) = statistics[REAL], statistics[FAKE]
        if protocol_real["settings"]["image_shape"] != protocol_fake["settings"]["image_shape"]:
            raise GanevalInputError(f"REAL images are {protocol_real['settings']['image_shape']} and FAKE images "
                                    f"{protocol_fake['settings']['image_shape']} (H, W); SWD compares sets of one size")
        if protocol_real["resolutions"] != protocol_fake["resolutions"]:
            raise GanevalInputError(f"REAL has pyramid levels {protocol_real['resolutions']} but FAKE, of the same "
                                    f"image size, {protocol_fake['resolutions']}: the REAL stats file comes from a "
                                    "ganeval that counted the levels of non-square images from the narrow side; "
                                    "recompute it")
        options = run.options
        distances = swd_from_descriptors(levels_real, levels_fake, seed=run.seed, normalize=options["normalize"],
                                         dir_repeats=options["dir_repeats"],
                                         dirs_per_repeat=options["dirs_per_repeat"])
        swd_x1e3 = [1e3 * distance for distance in distances]
        return {"metric": "swd", "resolutions": protocol_fake["resolutions"], "swd_x1e3": swd_x1e3,
                "swd_x1e3_avg": float(np.mean(swd_x1e3)),
                "num_images": [protocol_real["num_images"], protocol_fake["num_images"]],
                "seed": run.seed, "device": str(run.device), "normalize": options["normalize"],
                "dir_repeats": options["dir_repeats"], "dirs_per_repeat": options["dirs_per_repeat"],
                **self.settings(options)}


def swd(real: ImageSource | Stats, fake: ImageSource, *, num_images: int | None = None, batch_size: int = 64,
        device: str | torch.device | None = None, seed: int = 0, normalize: Normalize = "per_set",
        nhoods_per_image: int = NHOODS_PER_IMAGE, nhood_size: int = NHOOD_SIZE, dir_repeats: int = DIR_REPEATS,
        dirs_per_repeat: int = DIRS_PER_REPEAT, min_resolution: int = MIN_RESOLUTION,
        value_range: tuple[float, float] | None = None, progress: bool = False) -> dict[str, Any]:
    """Sliced Wasserstein distance of the PGGAN paper between a real set (or its stats file) and a fake set.

    Returns the JSON contract: resolutions (each level's height, highest first), swd_x1e3 per level, swd_x1e3_avg,
    num_images, seed, device and every setting. `num_images` caps each set; the two sets may differ in size.
    One-metric call of `ganeval.evaluate`.
    """
    from ganeval.evaluate import evaluate

    return evaluate(real, fake, metrics=("swd",), num_images=num_images, batch_size=batch_size, device=device,
                    seed=seed, normalize=normalize, nhoods_per_image=nhoods_per_image, nhood_size=nhood_size,
                    dir_repeats=dir_repeats, dirs_per_repeat=dirs_per_repeat, min_resolution=min_resolution,
                    value_range=value_range, progress=progress)["swd"]
