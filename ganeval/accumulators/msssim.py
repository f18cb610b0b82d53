"""MS-SSIM's accumulator: the per-pair MS-SSIM values of a set's pairs (PGGAN §5 diversity protocol), or of image i
of one set against image i of another."""

from __future__ import annotations

import math
from typing import Any

import torch

from ganeval.accumulators.indexed_rows import IndexedRows, next_indices
from ganeval.defaults import DEFAULT_PAIRS, PAIRINGS
from ganeval.errors import GanevalInputError
from ganeval.kernels.msssim import msssim_pairs, random_pairs


class MSSSIMAccumulator:
    """Per-pair MS-SSIM values, kept with their pair index, on the metric's device.

    Pairings: "consecutive" pairs images 2p and 2p+1 of the set as pair p (the reference protocol for a stream of
    generated images); an image waits for its partner, also across batches and across `merge`. "random" holds the
    set (uint8) and draws `num_pairs` seeded pairs of distinct images at `compute()`. "two_sets" pairs image i of
    one set (`update`) with image i of another (`update_second`) as pair i: image i of the first set waits at place
    2i, of the second at 2i + 1, and they pair as consecutive ones do. `update_pairs` adds explicit pairs.
    `num_pairs` limits consecutive pairing to the first 2·num_pairs images, and two sets to their first num_pairs.
    The mean is an exactly rounded sum (math.fsum), so it does not depend on the order in which pairs arrived or
    on how the set was split among processes. `names`: the two sets' names, for messages.
    """

    def __init__(self, device: str | torch.device = "cpu", *, pairs: str = DEFAULT_PAIRS,
                 num_pairs: int | None = None, seed: int = 0, batch_size: int = 64,
                 names: tuple[str, str] = ("images", "images_b")) -> None:
        if pairs not in (*PAIRINGS, "two_sets"):
            raise GanevalInputError(f"pairs must be one of {', '.join(PAIRINGS)}, got {pairs!r}")
        self.device = torch.device(device)
        self.pairs, self.num_pairs, self.seed, self.batch_size = pairs, num_pairs, seed, batch_size
        self.names = names
        self.reset()

    def reset(self) -> None:
        """Forget every image and pair seen."""
        self._values = IndexedRows()  # one float64 value per pair, keyed by pair index
        self._waiting: dict[int, torch.Tensor] = {}  # consecutive pairing: images whose partner has not come yet
        self._held = IndexedRows()  # random pairing: every image
        self._next_index = 0

    @property
    def limit(self) -> int | None:
        """Images of each set used: the first 2·num_pairs for consecutive pairs, num_pairs of two sets, else all."""
        if self.num_pairs is None or self.pairs == "random":
            return None
        return self.num_pairs if self.pairs == "two_sets" else 2 * self.num_pairs

    @property
    def num_waiting(self) -> int:
        """Images received but not yet paired (consecutive pairing and two sets)."""
        return len(self._waiting)

    def update(self, batch: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Add a uint8 N×C×H×W batch of the set (of the first set, with two sets); `indices`: its images' indices
        (default: the next ones)."""
        self._add(batch, indices, second=False)

    def update_second(self, batch: torch.Tensor, indices: torch.Tensor) -> None:
        """Add a batch of the second set (pairing "two_sets"), with its images' indices."""
        if self.pairs != "two_sets":
            raise GanevalInputError("a second set is paired image by image only with pairs='two_sets'")
        self._add(batch, indices, second=True)

    def _add(self, batch: torch.Tensor, indices: torch.Tensor | None, second: bool) -> None:
        indices = next_indices(self._next_index, batch.shape[0]) if indices is None else indices.cpu()
        if len(indices) and not second:
            self._next_index = int(indices.max()) + 1
        if self.limit is not None:
            kept = indices < self.limit
            batch, indices = batch[kept.to(batch.device)], indices[kept]
        batch = batch.to(self.device)
        if self.pairs == "random":
            self._held.add(batch, indices)
            return
        places = indices * 2 + int(second) if self.pairs == "two_sets" else indices
        self._waiting.update(zip(places.tolist(), batch))
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
        if self.pairs == "two_sets":
            self._check_every_image_paired()
        if self._values.num_images == 0:
            raise GanevalInputError("MS-SSIM needs at least one pair (2 images)")
        values = self._values.ordered().tolist()
        return {"msssim": math.fsum(values) / len(values), "num_pairs": len(values)}

    def _check_every_image_paired(self) -> None:
        """Refuse two sets of unequal length (beyond num_pairs), naming the longer."""
        taken = self._values.num_images
        if self.num_pairs is not None and taken < self.num_pairs:
            raise GanevalInputError(f"num_pairs={self.num_pairs} needs {self.num_pairs} images but the smaller set "
                                    f"holds {taken}")
        if self._waiting:
            longer = self.names[min(self._waiting) % 2]
            raise GanevalInputError(f"two-set MS-SSIM pairs image i with image i, but {longer} holds more than "
                                    f"{taken} images; give equal sets or num_pairs to use the first N of each")

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
                "names": self.names,
                "values": self._values.state_dict() if self._values.num_images else None,
                "held": self._held.state_dict() if self._held.num_images else None,
                "waiting": {index: image.cpu() for index, image in self._waiting.items()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace settings and contents by those of `state_dict()`."""
        self.pairs, self.num_pairs, self.seed = state["pairs"], state["num_pairs"], state["seed"]
        self.batch_size, self.names = state["batch_size"], tuple(state["names"])
        self.reset()
        if state["values"] is not None:
            self._values.load_state_dict(state["values"])
        if state["held"] is not None:
            self._held.load_state_dict(state["held"])
        self._waiting = {index: image.to(self.device) for index, image in state["waiting"].items()}
