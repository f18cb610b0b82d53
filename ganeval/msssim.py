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
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import torch

from ganeval.chunks import IndexedRows, next_indices
from ganeval.defaults import DEFAULT_PAIRS, PAIRINGS
from ganeval.errors import GanevalInputError
from ganeval.metric import FAKE, Metric, Run, image_count
from ganeval.sources import ImageBatches, ImageSource, check_at_least, check_seed, open_images
from ganeval.threads import available_cpus, parallel_map

WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
FILTER_SIZE = 11
FILTER_SIGMA = 1.5
K1, K2 = 0.01, 0.03
MAX_VALUE = 255.0
C1, C2 = (K1 * MAX_VALUE) ** 2, (K2 * MAX_VALUE) ** 2  # the SSIM stabilisers
MIN_SIZE = 2 ** (len(WEIGHTS) - 1)  # four 2×2 averagings leave the fifth level at least 1×1
FIXED_WINDOW_MIN_SIZE = (FILTER_SIZE - 1) * 2 ** (len(WEIGHTS) - 1) + 1  # pytorch-msssim needs sides > 160
Kernel = Literal["c", "torch"]
DEFAULT_SEED = 0
DEFAULT_BATCH_SIZE = 64
COMPUTE_DTYPE = torch.float64
CPU_CHUNK_PIXELS = 2**18  # pair-pixels per CPU chunk, so that one level's filtered statistics stay in cache

try:
    from ganeval import _msssim
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
    """Per-pair MS-SSIM with the C kernel (ganeval/_msssim.c), the pairs shared among ganeval's CPU threads."""
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
    both N×C×H×W with values 0-255. `kernel`: "c" (CPU, ganeval/_msssim.c) or "torch" (any device); both
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


class MSSSIMAccumulator:
    """Per-pair MS-SSIM values of one set, kept with their pair index, on the metric's device.

    Pairings: "consecutive" pairs images 2p and 2p+1 of the set as pair p (the reference protocol for a stream of
    generated images); an image waits for its partner, also across batches and across `merge`. "random" holds the
    set (uint8) and draws `num_pairs` seeded pairs of distinct images at `compute()`. `update_pairs` adds explicit
    pairs (image i of one set against image i of another). `num_pairs` limits consecutive pairing to the first
    2·num_pairs images. The mean is an exactly rounded sum (math.fsum), so it does not depend on the order in which
    pairs arrived or on how the set was split among processes.
    """

    def __init__(self, device: str | torch.device = "cpu", *, pairs: str = DEFAULT_PAIRS,
                 num_pairs: int | None = None, seed: int = DEFAULT_SEED, batch_size: int = DEFAULT_BATCH_SIZE
                 ) -> None:
        if pairs not in PAIRINGS:
            raise GanevalInputError(f"pairs must be one of {', '.join(PAIRINGS)}, got {pairs!r}")
        self.device = torch.device(device)
        self.pairs, self.num_pairs, self.seed, self.batch_size = pairs, num_pairs, seed, batch_size
        self.reset()

    def reset(self) -> None:
        """Forget every image and pair seen."""
        self._values = IndexedRows()  # one float64 value per pair, keyed by pair index
        self._waiting: dict[int, torch.Tensor] = {}  # consecutive pairing: images whose partner has not come yet
        self._held = IndexedRows()  # random pairing: every image
        self._next_index = 0

    @property
    def limit(self) -> int | None:
        """Images of the set used: the first 2·num_pairs for consecutive pairs, all of them else."""
        return 2 * self.num_pairs if self.num_pairs is not None and self.pairs == "consecutive" else None

    @property
    def num_waiting(self) -> int:
        """Images received but not yet paired (consecutive pairing)."""
        return len(self._waiting)

    def update(self, batch: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Add a uint8 N×C×H×W batch of the set; `indices`: its images' indices (default: the next ones)."""
        indices = next_indices(self._next_index, batch.shape[0]) if indices is None else indices.cpu()
        if len(indices):
            self._next_index = int(indices.max()) + 1
        if self.limit is not None:
            kept = indices < self.limit
            batch, indices = batch[kept.to(batch.device)], indices[kept]
        batch = batch.to(self.device)
        if self.pairs == "random":
            self._held.add(batch, indices)
            return
        self._waiting.update(zip(indices.tolist(), batch))
        self._pair_waiting()

    def _pair_waiting(self) -> None:
        """Score every pair (2p, 2p+1) both of whose images have come."""
        firsts = sorted(index for index in self._waiting if index % 2 == 0 and index + 1 in self._waiting)
        for start in range(0, len(firsts), self.batch_size):
            chunk = firsts[start:start + self.batch_size]
            images_a = torch.stack([self._waiting.pop(index) for index in chunk])
            images_b = torch.stack([self._waiting.pop(index + 1) for index in chunk])
            self.update_pairs(images_a, images_b, torch.tensor(chunk, dtype=torch.int64) // 2)

    def update_pairs(self, images_a: torch.Tensor, images_b: torch.Tensor,
                     pair_indices: torch.Tensor | None = None) -> None:
        """Add the pairs (image i of `images_a`, image i of `images_b`); `pair_indices`: their indices (default:
        the next ones)."""
        if pair_indices is None:
            pair_indices = next_indices(self._values.num_images, images_a.shape[0])
        values = msssim_pairs(images_a.to(self.device), images_b.to(self.device))
        self._values.add(values.cpu(), pair_indices)

    def merge(self, other: MSSSIMAccumulator) -> None:
        """Add the pairs and images `other` (same pairing, other images of the same set) holds."""
        if (other.pairs, other.num_pairs, other.seed) != (self.pairs, self.num_pairs, self.seed):
            raise GanevalInputError("cannot merge MS-SSIM accumulators with other pairing settings")
        self._values.merge(other._values)
        self._held.merge(other._held)
        self._waiting.update((index, image.to(self.device)) for index, image in other._waiting.items())
        self._pair_waiting()

    def compute(self) -> dict[str, Any]:
        """The mean MS-SSIM over all pairs and their count (random pairing draws its pairs now)."""
        if self.pairs == "random":
            self._score_random_pairs()
        if self._values.num_images == 0:
            raise GanevalInputError("MS-SSIM needs at least one pair (2 images)")
        values = self._values.ordered().tolist()
        return {"msssim": math.fsum(values) / len(values), "num_pairs": len(values)}

    def _score_random_pairs(self) -> None:
        """Draw the seeded pairs over the held set and score them (once)."""
        if self._values.num_images or self._held.num_images == 0:
            return
        held = self._held.ordered()
        count = held.shape[0]
        if count < 2:
            raise GanevalInputError(f"MS-SSIM needs at least 2 images, the set holds {count}")
        num_random = count // 2 if self.num_pairs is None else self.num_pairs
        if num_random > count * (count - 1) // 2:
            raise GanevalInputError(f"num_pairs={self.num_pairs} exceeds the {count * (count - 1) // 2} distinct "
                                    f"pairs of the {count} images")
        first, second = random_pairs(count, num_random, self.seed)
        for start in range(0, num_random, self.batch_size):
            chosen = slice(start, start + self.batch_size)
            self.update_pairs(held[first[chosen].to(held.device)], held[second[chosen].to(held.device)],
                              torch.arange(start, min(start + self.batch_size, num_random)))

    def state_dict(self) -> dict[str, Any]:
        """Settings, per-pair values, waiting and held images (on the CPU), to send to another process or save."""
        return {"pairs": self.pairs, "num_pairs": self.num_pairs, "seed": self.seed, "batch_size": self.batch_size,
                "values": self._values.state_dict() if self._values.num_images else None,
                "held": self._held.state_dict() if self._held.num_images else None,
                "waiting": {index: image.cpu() for index, image in self._waiting.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace settings and contents by those of `state_dict()`."""
        self.pairs, self.num_pairs, self.seed = state["pairs"], state["num_pairs"], state["seed"]
        self.batch_size = state["batch_size"]
        self.reset()
        if state["values"] is not None:
            self._values.load_state_dict(state["values"])
        if state["held"] is not None:
            self._held.load_state_dict(state["held"])
        self._waiting = {index: image.to(self.device) for index, image in state["waiting"].items()}


def _reference_code_outcome(side: int) -> Literal["same", "different", "fails"]:
    """What the PGGAN reference code's msssim does with a side of `side` px (at least `MIN_SIZE`), against ganeval.

    Its 2×2 average adds slices [0::2] and [1::2], of (n + 1) / 2 and (n − 1) / 2 rows at an odd side n, which
    numpy broadcasts only for n = 1 and n = 3, and it averages after each of the five levels. A side of 16·k runs
    for k = 1, 3 or even (odd k ≥ 5 leaves a fifth level of k px to average); 24 runs with a 3-px fourth level
    averaged into a 2×2 fifth level, the middle row and column used twice (ganeval's is 1×1); every other side
    meets an odd side of 5 px or more before the fifth level.
    """
    if side in (16, 48) or side % 32 == 0:
        return "same"
    return "different" if side == 24 else "fails"


def _size_note(height: int, width: int) -> str | None:
    """Say where this differs from fixed-window MS-SSIM libraries, or from what the reference code does at this size."""
    notes = []
    if min(height, width) < FIXED_WINDOW_MIN_SIZE:
        notes.append(f"{height}×{width} images: libraries that keep the 11-px window at all {len(WEIGHTS)} levels "
                     f"(pytorch-msssim) refuse sides below {FIXED_WINDOW_MIN_SIZE} px; this follows the PGGAN "
                     f"reference, which shrinks the window to min(11, side) with sigma scaled alike, so values "
                     f"at this size are not comparable with theirs")
    outcomes = {_reference_code_outcome(height), _reference_code_outcome(width)}
    if "fails" in outcomes:
        notes.append(f"the PGGAN reference code fails on {height}×{width} images (it runs only on sides of 16, 24 "
                     f"and 48 px and multiples of 32: its 2×2 average, also run after the fifth level, cannot take "
                     f"an odd side of 5 px or more); here an odd last row/column is dropped before each 2×2 average")
    elif "different" in outcomes:
        notes.append("at a side of 24 px the PGGAN reference code gives other values: its 2×2 average turns the "
                     "3-px fourth level into a 2×2 fifth level, using the middle row/column twice, where this drops "
                     "the last row/column and has a 1×1 fifth level")
    return "; ".join(notes) or None


class MSSSIMMetric(Metric):
    """`msssim` in ganeval.evaluate: the diversity of the fake set, over consecutive or random pairs of it."""

    name = "msssim"
    reads = (FAKE,)
    options = {"num_pairs": None, "pairs": DEFAULT_PAIRS}

    def check(self, options: dict[str, Any]) -> None:
        if options["pairs"] not in PAIRINGS:
            raise GanevalInputError(f"pairs must be one of {', '.join(PAIRINGS)}, got {options['pairs']!r}")
        if options["num_pairs"] is not None:
            check_at_least("num_pairs", options["num_pairs"])
        count = image_count(options, self.name)
        if options["num_pairs"] is not None and options["pairs"] == "consecutive" and count is not None \
                and 2 * options["num_pairs"] > count:
            raise GanevalInputError(f"num_pairs={options['num_pairs']} needs {2 * options['num_pairs']} images of "
                                    f"each set, but num_images={count}")

    def limit(self, options: dict[str, Any], set_name: str) -> int | None:
        if options["num_pairs"] is not None and options["pairs"] == "consecutive":
            return 2 * options["num_pairs"]
        return image_count(options, self.name)

    def count_label(self, options: dict[str, Any]) -> str | None:
        if options["num_pairs"] is not None and options["pairs"] == "consecutive":
            return f"num_pairs={options['num_pairs']}"
        return None

    def minimum_images(self, options: dict[str, Any]) -> tuple[int, str]:
        if options["num_pairs"] is not None and options["pairs"] == "consecutive":
            return 2 * options["num_pairs"], f"num_pairs={options['num_pairs']}"
        return 2, "MS-SSIM"

    def accumulator(self, set_name: str, run: Run) -> MSSSIMAccumulator:
        stream = run.streams[set_name]
        if stream.height is not None:
            check_size(stream.height, stream.width, stream.name)
        return MSSSIMAccumulator(stream.device, pairs=run.options["pairs"], num_pairs=run.options["num_pairs"],
                                 seed=run.seed, batch_size=run.options["batch_size"])

    def statistics(self, accumulator: MSSSIMAccumulator) -> dict[str, Any]:
        return {**accumulator.compute(), "device": str(accumulator.device)}

    def result(self, statistics: dict[str, Any], run: Run) -> dict[str, Any]:
        stream = run.streams[FAKE]
        return msssim_result(statistics[FAKE], run.options["pairs"], run.seed, run.options["batch_size"],
                             (stream.height, stream.width))


def msssim_result(scores: dict[str, Any], pairs: str, seed: int, batch_size: int, resolution: tuple[int, int]
                  ) -> dict[str, Any]:
    """The msssim result dict: the mean and pair count, the pairing, and every setting of the protocol."""
    result: dict[str, Any] = {"metric": "msssim", "msssim": scores["msssim"], "num_pairs": scores["num_pairs"],
                              "pairs": pairs, "seed": seed, "device": scores["device"], "resolution": list(resolution),
                              "batch_size": batch_size, "weights": list(WEIGHTS), "filter_size": FILTER_SIZE,
                              "filter_sigma": FILTER_SIGMA, "k1": K1, "k2": K2, "max_value": MAX_VALUE}
    note = _size_note(*resolution)
    if note:
        result["note"] = note
    return result


def msssim(images: ImageSource, images_b: ImageSource | None = None, *, num_pairs: int | None = None,
           pairs: str = DEFAULT_PAIRS, seed: int = DEFAULT_SEED, batch_size: int = DEFAULT_BATCH_SIZE,
           device: str | torch.device | None = None, progress: bool = False,
           value_range: tuple[float, float] | None = None, num_images: int | None = None) -> dict[str, Any]:
    """Mean MS-SSIM over pairs of one set (`pairs` = consecutive or random) or image i of `images` against
    image i of `images_b` (lower = more varied; PGGAN §5: 10,000 pairs of 20,000 generated images).

    One set: a one-metric call of `ganeval.evaluate` (the set in the place of FAKE). Consecutive pairing of an odd
    number of images leaves the last one out.
    """
    if images_b is None:
        from ganeval.evaluate import evaluate_sets

        return evaluate_sets({FAKE: images}, ("msssim",), {FAKE: "images"}, num_pairs=num_pairs, pairs=pairs,
                             seed=seed, batch_size=batch_size, device=device, progress=progress,
                             value_range=value_range, num_images=num_images)["msssim"]
    check_seed(seed)
    check_at_least("batch_size", batch_size)
    if pairs != "consecutive":
        raise GanevalInputError("pairs='random' draws pairs within one set; with a second set image i is always "
                                "compared with image i (leave pairs at 'consecutive')")
    for name, value in (("num_pairs", num_pairs), ("num_images", num_images)):
        if value is not None:
            check_at_least(name, value)
    wanted = num_images if num_pairs is None else num_pairs
    if num_pairs is not None and num_images is not None and num_pairs > num_images:
        raise GanevalInputError(f"num_pairs={num_pairs} needs {num_pairs} images of each set, but "
                                f"num_images={num_images}")
    streams = []
    for source, name in ((images, "images"), (images_b, "images_b")):
        if callable(source) and not isinstance(source, torch.Tensor) and wanted is None:
            raise GanevalInputError(f"{name}: a generator callable needs num_pairs (or num_images) to know how "
                                    f"many images to draw")
        stream = open_images(source, name=name, num_images=wanted if callable(source) else num_images,
                             batch_size=batch_size, value_range=value_range, device=device, progress=progress)
        check_size(stream.height, stream.width, name)
        if num_pairs is not None and stream.num_images is not None and stream.num_images < num_pairs:
            raise GanevalInputError(f"num_pairs={num_pairs} needs {num_pairs} images but {name} holds "
                                    f"{stream.num_images}")
        streams.append(stream)
    if (streams[1].height, streams[1].width) != (streams[0].height, streams[0].width):
        raise GanevalInputError(f"images are {streams[0].height}×{streams[0].width} but images_b are "
                                f"{streams[1].height}×{streams[1].width}; two-set MS-SSIM compares equal sizes")
    accumulator = MSSSIMAccumulator(streams[0].device, batch_size=batch_size)
    taken = 0
    for batch_a, batch_b in _aligned(*(_first(stream, wanted) for stream in streams), strict=num_pairs is None):
        accumulator.update_pairs(batch_a, batch_b, next_indices(taken, batch_a.shape[0]))
        taken += batch_a.shape[0]
    if num_pairs is not None and taken < num_pairs:
        raise GanevalInputError(f"num_pairs={num_pairs} needs {num_pairs} images but the smaller set holds {taken}")
    scores = {**accumulator.compute(), "device": str(accumulator.device)}
    return msssim_result(scores, "two_sets", seed, batch_size, (streams[0].height, streams[0].width))


def _first(stream: ImageBatches, limit: int | None) -> Iterator[torch.Tensor]:
    """The stream's batches, stopping after `limit` images (all of them if None)."""
    taken = 0
    for batch in stream:
        if limit is not None:
            batch = batch[: limit - taken]
        taken += batch.shape[0]
        if batch.shape[0]:
            yield batch
        if limit is not None and taken >= limit:
            return


def _aligned(stream_a: Iterator[torch.Tensor], stream_b: Iterator[torch.Tensor],
             strict: bool) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Equal-length chunks of two streams whose batch boundaries may differ; `strict` refuses unequal lengths."""
    pending_a = pending_b = torch.zeros(0)
    taken = 0
    while True:
        if pending_a.shape[0] == 0:
            pending_a = next(stream_a, pending_a)
        if pending_b.shape[0] == 0:
            pending_b = next(stream_b, pending_b)
        count = min(pending_a.shape[0], pending_b.shape[0])
        if count == 0:
            break
        yield pending_a[:count], pending_b[:count]
        taken += count
        pending_a, pending_b = pending_a[count:], pending_b[count:]
    if strict and (pending_a.shape[0] or pending_b.shape[0]):
        longer = "images" if pending_a.shape[0] else "images_b"
        raise GanevalInputError(f"two-set MS-SSIM pairs image i with image i, but {longer} holds more than "
                                f"{taken} images; give equal sets or num_pairs to use the first N of each")


def random_pairs(num_images: int, num_pairs: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`num_pairs` index pairs (i, j), i != j, drawn uniformly with a seeded CPU generator (device-independent)."""
    generator = torch.Generator().manual_seed(seed)
    first = torch.randint(0, num_images, (num_pairs,), generator=generator)
    second = (first + torch.randint(1, num_images, (num_pairs,), generator=generator)) % num_images
    return first, second
