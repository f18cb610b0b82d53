"""SWD's accumulator: the raw Laplacian-pyramid descriptors of one image set, level by level (PGGAN §5)."""

from __future__ import annotations

from typing import Any

import torch

from ganeval.accumulators.indexed_rows import IndexedRows, next_indices
from ganeval.defaults import MIN_RESOLUTION, NHOOD_SIZE, NHOODS_PER_IMAGE, STREAM_REAL
from ganeval.errors import GanevalInputError
from ganeval.kernels.pyramid import extract_descriptors, laplacian_pyramid, pyramid_resolutions, sample_positions
from ganeval.threads import available_cpus, parallel_map, torch_single_threaded


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


def levels_from_arrays(arrays: dict[str, Any], device: torch.device) -> list[torch.Tensor]:
    """The descriptors a stats file stores (`level0`, `level1`, …) as tensors on `device`, highest level first."""
    return [torch.from_numpy(arrays[f"level{i}"]).to(device) for i in range(len(arrays))]


def levels_as_arrays(levels: list[torch.Tensor]) -> dict[str, Any]:
    """Each level's descriptors as the numpy array a stats file stores, named `level0`, `level1`, …."""
    return {f"level{i}": level.cpu().numpy() for i, level in enumerate(levels)}
