"""The sliced Wasserstein distance between two descriptor sets (PGGAN §5): per-channel normalisation folded into
random unit directions, projections, sorted 1-D Wasserstein-1 distances, averaged over directions and repeats.

Sets of unequal size use the exact 1-D Wasserstein-1 distance between the two empirical distributions (the integral
of |F⁻¹ − G⁻¹| over the merged quantile breakpoints). On a CPU the projections are sorted one row per thread in
ganeval's pool (`ganeval.kernels.sorting`); on a GPU with torch.sort. Every method gives the same values.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Literal

import numpy as np
import torch

from ganeval.defaults import DIR_REPEATS, DIRS_PER_REPEAT, STREAM_DIRECTIONS
from ganeval.errors import GanevalInputError
from ganeval.kernels.sorting import SortMethod, default_sort_method, radix_sort
from ganeval.progress import Progress
from ganeval.threads import parallel_map, torch_single_threaded

Normalize = Literal["per_set", "real"]


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


def swd_from_descriptors(real: list[torch.Tensor], fake: list[torch.Tensor], *, seed: int = 0,
                         normalize: Normalize = "per_set", dir_repeats: int = DIR_REPEATS,
                         dirs_per_repeat: int = DIRS_PER_REPEAT, sort_method: SortMethod | None = None,
                         progress: bool = False) -> list[float]:
    """SWD per level (not yet ×10³) between two sets of raw descriptors, highest resolution first; `progress`: a
    line on stderr counting the levels done (on a terminal)."""
    if normalize not in ("per_set", "real"):
        raise GanevalInputError(f"normalize must be 'per_set' or 'real', got {normalize!r}")
    if len(real) != len(fake):
        raise GanevalInputError(f"the real set has {len(real)} pyramid levels and the fake set {len(fake)}; "
                                "both sets must have the same image size")
    distances, workspace = [], []
    bar = Progress(len(real), f"SWD of {real[0].shape[0]:,} and {fake[0].shape[0]:,} descriptors per level",
                   unit="levels", enabled=None if progress else False)
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
        bar.update(1)
    bar.close()
    return distances
