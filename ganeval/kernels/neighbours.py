"""Exact k-nearest-neighbour radii and sphere membership of feature sets, in blocks that bound memory.

The manifold metrics (improved precision/recall, density/coverage; the last two functions here) ask, for every pair
of points, whether one lies inside the other's k-NN sphere. Here a distance is the Euclidean one by its definition,
d(x, y) = √Σ(xᵢ − yᵢ)² in float64, the sum taken in one fixed pairwise order, so that the same two points give the
same distance wherever (and on whichever device) it is computed: duplicate points are at distance 0 and equal
distances stay equal.

Computed that way for every pair, distances would cost about ten matrix products. So each block of squared
distances is first computed through BLAS as ‖x‖² + ‖y‖² − 2x·y, whose difference from the definition is at most
c·(‖x‖² + ‖y‖²) with c = (4D + 8)·ε for D-dimensional features (ε = 2⁻⁵²; c is twice the a-priori rounding-error
bound of both computations, whatever the order of BLAS's sums). Only the pairs whose decision that margin leaves open
— is it the k-th nearest, is it inside that sphere — are computed by the definition; every result therefore equals
the one computed from all distances by the definition.

Memory: the two sets in float64, plus two blocks of `block_size`² float64 values and their boolean masks, k + 9
candidates per point and 8 MiB batches of differences; never a full distance matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganeval.checks import check_at_least
from ganeval.defaults import DEFAULT_DC_K, DEFAULT_PR_K
from ganeval.errors import GanevalInputError
from ganeval.progress import Progress

CPU_BLOCK_SIZE = 2048  # rows and columns of one block of distances: 32 MiB of float64 per buffer
CUDA_BLOCK_SIZE = 8192  # 512 MiB per buffer: fewer, larger kernels
SPARE_CANDIDATES = 8  # nearest-neighbour candidates kept per point beyond the k + 1 needed
DEFINITION_CHUNK = 1 << 20  # float64 values per batch of distances by the definition (8 MiB)
EPSILON = torch.finfo(torch.float64).eps


def prepared(features: object, name: str, device: torch.device | str | None = None) -> torch.Tensor:
    """An N×D feature array or tensor as float64 on `device` (default: where it is); empty, non-numeric or non-finite
    refused."""
    try:
        tensor = torch.as_tensor(features)
    except (TypeError, ValueError, RuntimeError):
        kind = getattr(features, "dtype", type(features).__name__)
        raise GanevalInputError(f"{name} features must be an N×D array of numbers, got {kind}") from None
    if tensor.dtype == torch.bool or tensor.is_complex():
        raise GanevalInputError(f"{name} features must be an N×D array of real numbers, got {tensor.dtype}")
    if tensor.ndim != 2 or tensor.shape[0] == 0 or tensor.shape[1] == 0:
        raise GanevalInputError(f"{name} features must be an N×D array with N, D ≥ 1, got shape {tuple(tensor.shape)}")
    tensor = tensor.to(device=tensor.device if device is None else device, dtype=torch.float64)
    per_chunk = max(1, DEFINITION_CHUNK // tensor.shape[1])  # isfinite makes temporaries the size of its input
    if not all(bool(torch.isfinite(tensor[rows]).all()) for rows in _blocks(tensor.shape[0], per_chunk)):
        raise GanevalInputError(f"{name} features hold NaN or inf")
    return tensor


def feature_pair(real: object, fake: object, k: int, device: torch.device | str | None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Two N×D and M×D feature sets as float64 tensors on one device (`device`, else where `real` is), refused
    unless their dimensions agree and each holds more than k features."""
    check_at_least("k", k)
    real_tensor = prepared(real, "real", device)
    fake_tensor = prepared(fake, "fake", real_tensor.device)
    if real_tensor.shape[1] != fake_tensor.shape[1]:
        raise GanevalInputError(f"real features have dimension {real_tensor.shape[1]}, fake features "
                                f"{fake_tensor.shape[1]}")
    for name, tensor in (("real", real_tensor), ("fake", fake_tensor)):
        if tensor.shape[0] <= k:
            raise GanevalInputError(f"{tensor.shape[0]} {name} features, but the k-th nearest neighbour with k = {k} "
                                    f"needs at least {k + 1}")
    return real_tensor, fake_tensor


def block_size_for(device: torch.device) -> int:
    """The default block side on this device."""
    return CUDA_BLOCK_SIZE if device.type == "cuda" else CPU_BLOCK_SIZE


def squared_distances_by_definition(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Σ(aᵢ − bᵢ)² of each pair of rows (broadcast), summed in a fixed pairwise order whatever the batch."""
    squares = (a - b).square_()
    dim = squares.shape[-1]
    width = 1 << (dim - 1).bit_length()
    if width != dim:
        squares = torch.nn.functional.pad(squares, (0, width - dim))
    while width > 1:  # elementwise halves: the same additions for a pair in any batch, on any device
        width //= 2
        squares[..., :width] += squares[..., width:2 * width]
    return squares[..., 0]


def _slack_factor(dim: int) -> float:
    """c such that c·(‖x‖² + ‖y‖²) bounds |BLAS squared distance − squared distance by the definition|."""
    return (4 * dim + 8) * EPSILON


def _squared_norms(points: torch.Tensor) -> torch.Tensor:
    per_chunk = max(1, 2 * DEFINITION_CHUNK // points.shape[1])
    return torch.cat([points[rows].square().sum(dim=1) for rows in _blocks(points.shape[0], per_chunk)])


def _blocks(count: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, count)) for start in range(0, count, size)]


class _Workspace:
    """Reusable buffers of one block of float64 values each (fresh 32 MiB tensors per block cost page faults)."""

    def __init__(self, rows: int, columns: int, device: torch.device, count: int) -> None:
        self.buffers = [torch.empty(rows * columns, dtype=torch.float64, device=device) for _ in range(count)]

    def products(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """−2aᵢ·bⱼ for every pair, in the first buffer (one matrix product)."""
        out = self.buffers[0][: a.shape[0] * b.shape[0]].view(a.shape[0], b.shape[0])
        return torch.mm(a, b.T, out=out).mul_(-2)

    def shifted(self, products: torch.Tensor, a_shifted: torch.Tensor, b_shifted: torch.Tensor, which: int
                ) -> torch.Tensor:
        """a_shiftedᵢ + b_shiftedⱼ − 2aᵢ·bⱼ in buffer `which` (0: in place of the products).

        With the squared norms scaled by (1 − c) or (1 + c) as the shifted ones, this is a lower or an upper bound
        of the squared distance by the definition: ‖aᵢ‖² + ‖bⱼ‖² − 2aᵢ·bⱼ ∓ c(‖aᵢ‖² + ‖bⱼ‖²).
        """
        out = products if which == 0 else self.buffers[which][: products.numel()].view(products.shape)
        return torch.add(products, a_shifted[:, None], out=out).add_(b_shifted[None, :])


def kth_neighbour_squared_distances(points: torch.Tensor, k: int, *, block_size: int | None = None,
                                    bar: Progress | None = None) -> torch.Tensor:
    """Each point's squared distance to its k-th nearest other point: the (k + 1)-th smallest, its own 0 counted.

    `points`: N×D float64 (see `prepared`), 1 ≤ k < N. Blocks on and above the diagonal serve their rows and,
    transposed, their columns (half the products). Each point keeps the k + 9 candidates with the smallest lower
    bounds; `_exact_kth` finds the answer among them by the definition. `bar` counts the blocks done.
    """
    count, dim = points.shape
    if not 1 <= k < count:
        raise GanevalInputError(f"{count} features, but the k-th nearest neighbour with k = {k} needs k ≥ 1 and at "
                                f"least k + 1 = {k + 1} features")
    block_size = block_size or block_size_for(points.device)
    norms = _squared_norms(points)
    lowered = norms * (1 - _slack_factor(dim))
    width = min(count, k + 2 + SPARE_CANDIDATES)
    bounds = torch.full((count, width), torch.inf, dtype=torch.float64, device=points.device)
    owners = torch.zeros((count, width), dtype=torch.int64, device=points.device)
    blocks = _blocks(count, block_size)
    side = blocks[0].stop  # the first block is a full one
    workspace = _Workspace(side, side, points.device, 1)
    for index, rows in enumerate(blocks):
        for columns in blocks[index:]:
            block = workspace.shifted(workspace.products(points[rows], points[columns]), lowered[rows],
                                      lowered[columns], 0)
            _keep_smallest(bounds, owners, rows, block, columns.start)
            if columns != rows:
                _keep_smallest(bounds, owners, columns, block.T, rows.start)
            if bar is not None:
                bar.update(1)
    return _exact_kth(points, norms, bounds, owners, k)


def _keep_smallest(bounds: torch.Tensor, owners: torch.Tensor, rows: slice, block: torch.Tensor, offset: int) -> None:
    """Merge each row of `block` (lower bounds of the points offset, offset + 1, …) into the rows' smallest ones."""
    width = bounds.shape[1]
    values, columns = block.topk(min(width, block.shape[1]), dim=1, largest=False)
    merged_values = torch.cat([bounds[rows], values], dim=1)
    merged_owners = torch.cat([owners[rows], columns + offset], dim=1)
    best, where = merged_values.topk(width, dim=1, largest=False)
    bounds[rows], owners[rows] = best, merged_owners.gather(1, where)


def _exact_kth(points: torch.Tensor, norms: torch.Tensor, bounds: torch.Tensor, owners: torch.Tensor, k: int
               ) -> torch.Tensor:
    """The (k + 1)-th smallest squared distance by the definition of each point, from its candidates.

    `bounds` (ascending) are the smallest lower bounds of each row and `owners` their points; unless every point is
    a candidate, the last bound is that of the nearest point left out. Usually the bounds alone say which candidate
    is the (k + 1)-th — k candidates surely no farther, every other point surely no nearer — and one distance by the
    definition gives the answer. Else every candidate's distance is computed, and the (k + 1)-th smallest is the
    answer once no point left out can be nearer; a point for which that fails (more than 8 spare points within
    rounding of its k-th neighbour's distance) is compared with every point by the definition.
    """
    count, dim = points.shape
    complete = bounds.shape[1] == count  # every point is a candidate: none was left out
    candidates, lower = (owners, bounds) if complete else (owners[:, :-1], bounds[:, :-1])
    left_out = torch.full((count,), torch.inf, dtype=torch.float64, device=points.device) if complete \
        else bounds[:, -1].clamp(min=0)  # a distance is never below 0
    slack = (norms[:, None] + norms[candidates]).mul_(_slack_factor(dim))
    order = (lower + slack).argsort(dim=1)  # by the BLAS value itself
    candidates, lower, slack = (values.gather(1, order) for values in (candidates, lower, slack))
    upper = lower + 2 * slack
    beyond = left_out if lower.shape[1] == k + 1 else torch.minimum(lower[:, k + 1:].min(dim=1).values, left_out)
    identified = (upper[:, :k].max(dim=1).values <= lower[:, k]) & (upper[:, k] <= beyond)
    kth = torch.empty(count, dtype=torch.float64, device=points.device)
    known = torch.nonzero(identified).flatten()
    for part in _blocks(len(known), max(1, DEFINITION_CHUNK // dim)):
        rows = known[part]
        kth[rows] = squared_distances_by_definition(points[rows], points[candidates[rows, k]])
    unknown = torch.nonzero(~identified).flatten()
    for part in _blocks(len(unknown), max(1, DEFINITION_CHUNK // (candidates.shape[1] * dim))):
        rows = unknown[part]
        squared = squared_distances_by_definition(points[rows, None, :], points[candidates[rows]])
        kth[rows] = squared.kthvalue(k + 1, dim=1).values
    for row in unknown[kth[unknown] > left_out[unknown]].tolist():
        kth[row] = _row_kth_by_definition(points, row, k)
    return kth


def _row_kth_by_definition(points: torch.Tensor, row: int, k: int) -> torch.Tensor:
    """The (k + 1)-th smallest squared distance from one point to all points, each by the definition."""
    per_chunk = max(1, DEFINITION_CHUNK // points.shape[1])
    squared = torch.cat([squared_distances_by_definition(points[row], points[columns])
                         for columns in _blocks(points.shape[0], per_chunk)])
    return squared.kthvalue(k + 1).values


@dataclass
class Memberships:
    """Which points lie inside which k-NN spheres (a sphere: a point as centre, its k-NN distance as radius)."""

    fake_in_real_spheres: torch.Tensor  # int64 (M,): how many real points' spheres hold each fake point
    real_sphere_has_fake: torch.Tensor  # bool (N,): some fake point lies inside the real point's sphere
    real_in_fake_sphere: torch.Tensor  # bool (N,): the real point lies inside some fake point's sphere


def sphere_memberships(real: torch.Tensor, fake: torch.Tensor, real_squared_radii: torch.Tensor,
                       fake_squared_radii: torch.Tensor, *, strict: bool, block_size: int | None = None,
                       bar: Progress | None = None) -> Memberships:
    """Memberships of every (real, fake) pair, in one pass over the real × fake blocks.

    Inside means d < r (`strict`) or d ≤ r, with d the distance by the definition and r = √ of the squared radius.
    A pair is surely inside when its upper bound is below r²(1 − 4ε), surely outside when its lower bound is above
    r²(1 + 4ε) (the 4ε: the √ of two squares within 8 ulps of each other can round to one value); only the others
    are computed by the definition. `bar` counts the blocks done.
    """
    dim = real.shape[1]
    block_size = block_size or block_size_for(real.device)
    slack = _slack_factor(dim)
    real_norms, fake_norms = _squared_norms(real), _squared_norms(fake)
    real_low, real_high = real_norms * (1 - slack), real_norms * (1 + slack)
    fake_low, fake_high = fake_norms * (1 - slack), fake_norms * (1 + slack)
    real_in, real_out = real_squared_radii * (1 - 4 * EPSILON), real_squared_radii * (1 + 4 * EPSILON)
    fake_in, fake_out = fake_squared_radii * (1 - 4 * EPSILON), fake_squared_radii * (1 + 4 * EPSILON)
    real_radii, fake_radii = real_squared_radii.sqrt(), fake_squared_radii.sqrt()
    counts = torch.zeros(fake.shape[0], dtype=torch.int64, device=fake.device)
    has_fake = torch.zeros(real.shape[0], dtype=torch.bool, device=real.device)
    in_fake = torch.zeros(real.shape[0], dtype=torch.bool, device=real.device)
    row_blocks, column_blocks = _blocks(real.shape[0], block_size), _blocks(fake.shape[0], block_size)
    workspace = _Workspace(row_blocks[0].stop, column_blocks[0].stop, real.device, 2)
    for rows in row_blocks:
        for columns in column_blocks:
            products = workspace.products(real[rows], fake[columns])
            upper = workspace.shifted(products, real_high[rows], fake_high[columns], 1)
            lower = workspace.shifted(products, real_low[rows], fake_low[columns], 0)
            in_real_sphere = upper < real_in[rows, None]
            in_fake_sphere = upper < fake_in[None, columns]
            unsure = ~(in_real_sphere | (lower > real_out[rows, None]))
            unsure |= ~(in_fake_sphere | (lower > fake_out[None, columns]))
            if bool(unsure.any()):
                i, j = torch.nonzero(unsure, as_tuple=True)
                distances = _paired_distances(real[rows], i, fake[columns], j)
                in_real_sphere[i, j] = _inside(distances, real_radii[rows][i], strict)
                in_fake_sphere[i, j] = _inside(distances, fake_radii[columns][j], strict)
            counts[columns] += in_real_sphere.view(torch.uint8).sum(dim=0, dtype=torch.int32)
            has_fake[rows] |= in_real_sphere.any(dim=1)
            in_fake[rows] |= in_fake_sphere.any(dim=1)
            if bar is not None:
                bar.update(1)
    return Memberships(counts, has_fake, in_fake)


def _paired_distances(a: torch.Tensor, i: torch.Tensor, b: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
    """d(aᵢ, bⱼ) by the definition for each index pair, in batches that bound memory."""
    per_chunk = max(1, DEFINITION_CHUNK // a.shape[1])
    return torch.cat([squared_distances_by_definition(a[i[part]], b[j[part]])
                      for part in _blocks(len(i), per_chunk)]).sqrt()


def _inside(distances: torch.Tensor, radii: torch.Tensor, strict: bool) -> torch.Tensor:
    return distances < radii if strict else distances <= radii


def sphere_counts(real: object, fake: object, k: int, device: torch.device | str | None, block_size: int | None,
                  strict: bool, progress: bool = False) -> tuple[Memberships, int, int]:
    """The memberships of two N×D and M×D feature sets (arrays or tensors) in each other's k-NN spheres, with N and
    M: the common part of precision/recall and density/coverage. `progress`: a line on stderr counting the blocks
    of distances done, of the three passes together (on a terminal)."""
    real_tensor, fake_tensor = feature_pair(real, fake, k, device)
    side = block_size or block_size_for(real_tensor.device)
    real_blocks, fake_blocks = len(_blocks(len(real_tensor), side)), len(_blocks(len(fake_tensor), side))
    bar = Progress(real_blocks * (real_blocks + 1) // 2 + fake_blocks * (fake_blocks + 1) // 2
                   + real_blocks * fake_blocks,
                   f"k-NN spheres of {len(real_tensor):,} real and {len(fake_tensor):,} fake features",
                   unit="blocks", enabled=None if progress else False)
    real_radii = kth_neighbour_squared_distances(real_tensor, k, block_size=side, bar=bar)
    fake_radii = kth_neighbour_squared_distances(fake_tensor, k, block_size=side, bar=bar)
    inside = sphere_memberships(real_tensor, fake_tensor, real_radii, fake_radii, strict=strict, block_size=side,
                                bar=bar)
    bar.close()
    return inside, real_tensor.shape[0], fake_tensor.shape[0]


def precision_recall_from_features(real: object, fake: object, *, k: int = DEFAULT_PR_K,
                                   device: torch.device | str | None = None, block_size: int | None = None,
                                   progress: bool = False) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of two N×D and M×D feature sets, exact in float64.

    Precision: the share of fake features inside some real feature's sphere (distance ≤ its k-NN radius, the
    surface inside, as the authors' code); recall: the share of real features inside some fake feature's sphere.
    `device`: where to compute (default: where `real` is; numpy arrays: the CPU). `block_size`: the side of the
    blocks of distances held at once (default 2048 on the CPU, 8192 on CUDA); the result does not depend on it.
    `progress`: a line on stderr counting the blocks done (on a terminal). Returns {"pr_precision", "pr_recall"},
    the names `ganeval.pr` gives them.
    """
    inside, num_real, num_fake = sphere_counts(real, fake, k, device, block_size, strict=False, progress=progress)
    return {"pr_precision": int((inside.fake_in_real_spheres > 0).sum()) / num_fake,
            "pr_recall": int(inside.real_in_fake_sphere.sum()) / num_real}


def density_coverage_from_features(real: object, fake: object, *, k: int = DEFAULT_DC_K,
                                   device: torch.device | str | None = None, block_size: int | None = None,
                                   progress: bool = False) -> dict[str, float]:
    """{"dc_precision", "dc_recall", "dc_density", "dc_coverage"} (the names `ganeval.dc` gives them) of two feature
    sets as `prdc.compute_prdc(real, fake, k)` defines them (Naeem et al. 2020; inside a sphere means strictly closer
    than its radius), exact in float64.

    `device`, `block_size` and `progress` as in `precision_recall_from_features`.
    """
    inside, num_real, num_fake = sphere_counts(real, fake, k, device, block_size, strict=True, progress=progress)
    return {"dc_precision": int((inside.fake_in_real_spheres > 0).sum()) / num_fake,
            "dc_recall": int(inside.real_in_fake_sphere.sum()) / num_real,
            "dc_density": int(inside.fake_in_real_spheres.sum()) / (k * num_fake),
            "dc_coverage": int(inside.real_sphere_has_fake.sum()) / num_real}
