"""Every accepted input turned into one stream of uint8 NCHW RGB batches, with every input check and its message.

Accepted sources: a folder of images (png/jpg/jpeg/bmp/webp, recursive, sorted by relative path), an
`.npy`/`.npz` file, a numpy array or torch tensor (NHWC or NCHW; uint8 0-255, or float with an explicit
`value_range`, which uint8 input ignores), an iterable of such batches (or of `(images, labels, …)` tuples or
lists, as a torch DataLoader yields them: the first element is used), or a generator callable
`fn(batch_size) -> batch` together with `num_images`. Grayscale is expanded to RGB; an alpha channel is
dropped with a warning.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganeval.checks import check_at_least, check_value_range
from ganeval.defaults import STREAM_GENERATOR
from ganeval.devices import resolve_device
from ganeval.errors import GanevalInputError
from ganeval.files import decode_image, describe, load_array_file
from ganeval.progress import Progress
from ganeval.threads import available_cpus

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")
ImageSource = str | os.PathLike | np.ndarray | torch.Tensor | Iterable | Callable[[int], Any]


def list_image_files(folder: Path, name: str) -> list[Path]:
    """All image files below `folder` (symbolic links followed), sorted by relative path.

    Hidden files and folders are skipped. Anything else that is not a readable image file is refused rather than
    skipped, so a score never silently covers fewer images: other files, broken or looping symbolic links, FIFOs
    and other special files, and folders that cannot be listed.
    """
    if not folder.is_dir():
        raise GanevalInputError(f"{name}: {folder} is not a folder")

    def unreadable(error: OSError) -> None:
        raise GanevalInputError(f"{name}: cannot list folder {error.filename} ({describe(error)})")

    files, others, visited = [], [], {os.path.realpath(folder)}
    for root, folders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        kept = []
        for child in sorted(folders):
            real = os.path.realpath(os.path.join(root, child))
            if not child.startswith(".") and real not in visited:  # a link back up the tree is walked once
                visited.add(real)
                kept.append(child)
        folders[:] = kept
        for entry in sorted(names):
            if entry.startswith("."):
                continue
            path = Path(root, entry)
            if path.suffix.lower() not in IMAGE_EXTENSIONS:
                others.append(path)
                continue
            try:
                status = path.stat()
            except OSError as error:
                kind = "a symbolic link loop" if path.is_symlink() and error.errno == errno.ELOOP else (
                    "a broken symbolic link" if path.is_symlink() else "unreadable")
                raise GanevalInputError(f"{name}: {path} is {kind} ({describe(error)}); remove it or fix it") from None
            if not stat.S_ISREG(status.st_mode):
                raise GanevalInputError(f"{name}: {path} is not a regular file (a FIFO, socket or device); "
                                        "move it out of the folder")
            files.append(path)
    if others:
        others.sort()
        raise GanevalInputError(
            f"{name}: {others[0]} is not an image file (accepted: {', '.join(IMAGE_EXTENSIONS)}); "
            f"move it out of {folder}" + (f" (and {len(others) - 1} more like it)" if len(others) > 1 else ""))
    if not files:
        raise GanevalInputError(f"{name}: folder {folder} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    return sorted(files)


def read_image(path: Path) -> np.ndarray:
    """One image file as uint8 HWC RGB (see `ganeval.files.decode_image`); grayscale expanded to three channels."""
    pixels = decode_image(path)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return pixels


def _layout_nchw(array_shape: tuple[int, ...], name: str) -> bool:
    """Whether a 4-D array is NCHW (else NHWC), from where its 1/3/4-sized channel axis stands.

    When both axes 1 and 3 could hold channels (e.g. 4×4 grayscale as N×1×4×4), the square layout wins.
    """
    if len(array_shape) != 4:
        raise GanevalInputError(f"{name}: expected a 4-D image array (NHWC or NCHW), got shape {array_shape}")
    channels_first, channels_last = array_shape[1] in (1, 3, 4), array_shape[3] in (1, 3, 4)
    if channels_first and channels_last:
        return array_shape[2] == array_shape[3]
    if channels_first or channels_last:
        return channels_first
    raise GanevalInputError(f"{name}: shape {array_shape} has no channel axis of size 1, 3 or 4 "
                            "(expected NHWC or NCHW)")


def to_uint8_rgb(batch: np.ndarray | torch.Tensor, *, value_range: tuple[float, float] | None,
                 device: torch.device, name: str) -> torch.Tensor:
    """One batch (NHWC/NCHW, uint8 or float in `value_range`, 1/3/4 channels) as uint8 NCHW RGB on `device`."""
    if isinstance(batch, np.ndarray):
        writable = batch.flags.writeable and batch.flags.c_contiguous  # a memory-mapped .npy is read-only
        batch = torch.from_numpy(batch if writable else np.array(batch))
    if not isinstance(batch, torch.Tensor):
        raise GanevalInputError(f"{name}: a batch must be a numpy array or torch tensor, got {type(batch).__name__}")
    if batch.ndim == 3:
        batch = batch[:, None]  # N, H, W grayscale
    batch = batch if _layout_nchw(tuple(batch.shape), name) else batch.permute(0, 3, 1, 2)
    if batch.dtype.is_floating_point:  # uint8 is always 0-255; value_range describes float images only
        if value_range is None:
            raise GanevalInputError(f"{name}: float images need their value range: --value-range -1 1 (Python: "
                                    "value_range=(-1, 1)), or 0 1")
        if not torch.isfinite(batch).all():
            raise GanevalInputError(f"{name}: images contain NaN or inf (a diverged generator?)")
        low, high = value_range
        if bool(batch.min() < low - 0.5 * (high - low) / 255) or bool(batch.max() > high + 0.5 * (high - low) / 255):
            warnings.warn(f"{name}: float values outside value_range ({low:g}, {high:g}) are clipped; is that the "
                          "range the images use?", stacklevel=2)
        batch = ((batch.float() - low) * (255.0 / (high - low))).round().clamp(0, 255).to(torch.uint8)
    elif batch.dtype != torch.uint8:
        raise GanevalInputError(f"{name}: images must be uint8 or float, got {batch.dtype}")
    channels = batch.shape[1]
    if channels == 4:
        warnings.warn(f"{name}: alpha channel dropped", stacklevel=2)
        batch = batch[:, :3]
    elif channels == 1:
        batch = batch.expand(-1, 3, -1, -1)
    return batch.to(device, non_blocking=True).contiguous()


Shard = tuple[int, int]  # (this process's rank, number of processes)


class ImageBatches:
    """A one-pass stream of uint8 NCHW RGB batches on `device`, with the set's size (when known) and resolution.

    Iterating yields the batches; `indexed()` yields (indices, batch), the indices of the batch's images in the set.
    With a shard (rank r of n processes), only batches b with b mod n = r are read: every process sees the batches
    one process would see, so per-batch arithmetic is identical. A shard may hold no batch at all (then `height` and
    `width` are None).
    """

    def __init__(self, batches: Iterator[tuple[int, torch.Tensor]], num_images: int | None, name: str,
                 min_size: int, progress: bool, device: torch.device, *, shard_images: int | None = None,
                 sharded: bool = False) -> None:
        self.name = name
        self.num_images = num_images  # the whole set's (every shard's) count, None while unknown
        self.device = device
        self._progress, self._sharded = progress, sharded
        self._shard_images = shard_images if sharded else num_images  # what the progress bar counts towards
        self._first = next(batches, None)
        self._rest = batches
        self.height = self.width = None
        if self._first is not None:
            self.height, self.width = int(self._first[1].shape[2]), int(self._first[1].shape[3])
            self.device = self._first[1].device
            if min(self.height, self.width) < min_size:
                raise GanevalInputError(f"{name}: images are {self.height}×{self.width}, but this metric needs at "
                                        f"least {min_size}×{min_size}")

    def __iter__(self) -> Iterator[torch.Tensor]:
        return (batch for _, batch in self.indexed())

    def indexed(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(indices of the batch's images in the set, batch) for every batch of this shard, in order."""
        bar = Progress(self._shard_images, self.name, enabled=None if self._progress else False)
        end = 0  # one past the last index read
        item = self._first
        try:
            while item is not None:
                start, batch = item
                if tuple(batch.shape[2:]) != (self.height, self.width):
                    raise GanevalInputError(f"{self.name}: a batch of {batch.shape[2]}×{batch.shape[3]} images "
                                            f"follows {self.height}×{self.width} ones; all images in a set must have "
                                            "one size")
                if self.num_images is not None:
                    batch = batch[: max(self.num_images - start, 0)]
                end = start + batch.shape[0]
                bar.update(batch.shape[0])
                if batch.shape[0]:
                    yield torch.arange(start, end, dtype=torch.int64), batch
                if self.num_images is not None and end >= self.num_images:
                    break
                item = next(self._rest, None)
        finally:
            bar.close()
        if self.num_images is not None and not self._sharded and end < self.num_images:
            raise GanevalInputError(f"{self.name}: asked for {self.num_images} images (--num-images) but the source "
                                    f"ended after {end}")


def _shard_batches(count: int, batch_size: int, shard: Shard | None) -> list[tuple[int, int]]:
    """(start, stop) of the batches of `count` images that a shard reads: batch b goes to rank b mod n."""
    rank, world = shard or (0, 1)
    starts = range(0, count, batch_size)
    return [(start, min(start + batch_size, count)) for number, start in enumerate(starts) if number % world == rank]


def _folder_batches(files: list[Path], spans: list[tuple[int, int]], device: torch.device, name: str
                    ) -> Iterator[tuple[int, torch.Tensor]]:
    """Decode the files of each (start, stop) span in background threads (PIL releases the GIL), one batch ahead.

    The pool is shut down without joining its threads: a stream left half read is closed whenever it is garbage
    collected, which may be inside another thread's start, where joining a thread deadlocks on CPython's lock.
    """
    first_shape: tuple[int, ...] | None = None
    pool = ThreadPoolExecutor(max_workers=max(2, min(8, available_cpus())))
    try:
        chunks = [files[start:stop] for start, stop in spans]
        pending = [pool.map(read_image, chunk) for chunk in chunks[:2]]
        for index, (chunk, (start, _)) in enumerate(zip(chunks, spans)):
            images = list(pending[index])
            if index + 2 < len(chunks):
                pending.append(pool.map(read_image, chunks[index + 2]))
            pending[index] = None  # type: ignore[call-overload]  # release decoded images
            for path, image in zip(chunk, images):
                if first_shape is None:
                    first_shape, first_path = image.shape, path
                elif image.shape != first_shape:
                    raise GanevalInputError(
                        f"{name}: {path} is {image.shape[0]}×{image.shape[1]} but {first_path} is "
                        f"{first_shape[0]}×{first_shape[1]}; all images in a set must have one size")
            yield start, torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).to(device).contiguous()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def generator_seed(seed: int, start: int) -> int:
    """The torch seed for the batch of a generator callable that starts at image `start`."""
    return int(np.random.SeedSequence([seed, STREAM_GENERATOR, start]).generate_state(1, np.uint64)[0] >> 1)


def open_images(source: ImageSource, *, name: str = "images", num_images: int | None = None,
                batch_size: int = 64, value_range: tuple[float, float] | None = None,
                device: str | torch.device | None = None, min_size: int = 1, progress: bool = False,
                shard: Shard | None = None, seed: int | None = None, count_label: str | None = None
                ) -> ImageBatches:
    """Open any accepted source as a checked stream of uint8 NCHW RGB batches (see the module docstring).

    `shard` = (rank, n): read only batches b with b mod n = rank (iterables are read whole by every process,
    each keeping its batches). `seed`: a generator callable draws each batch with torch's RNG seeded from (seed,
    index of the batch's first image) and restored afterwards, so its images do not depend on how many processes
    share the work; without `seed` it draws from torch's RNG as it stands. `count_label`: what asked for
    `num_images`, named when the source holds fewer (default: --num-images).
    """
    check_at_least("batch_size", batch_size)
    if num_images is not None:
        check_at_least("num_images", num_images)
    if value_range is not None:
        check_value_range(value_range)
    if isinstance(source, torch.Tensor) and device is None:
        device = source.device
    device = resolve_device(device)
    rank, world = shard or (0, 1)

    def convert(batch: Any) -> torch.Tensor:
        return to_uint8_rgb(batch, value_range=value_range, device=device, name=name)

    def check_count(available: int) -> int:
        if num_images is not None and num_images > available:
            asked = f"{count_label} needs {num_images} images" if count_label else \
                f"asked for {num_images} images (--num-images)"
            raise GanevalInputError(f"{asked} but {name} holds {available}")
        return available if num_images is None else num_images

    def stream(batches: Iterator[tuple[int, torch.Tensor]], total: int | None, label: str,
               spans: list[tuple[int, int]] | None) -> ImageBatches:
        shard_images = sum(stop - start for start, stop in spans) if spans is not None else None
        return ImageBatches(batches, total, label, min_size, progress, device, shard_images=shard_images,
                            sharded=world > 1)

    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise GanevalInputError(f"{name}: {path} does not exist")
        if path.is_dir():
            files = list_image_files(path, name)
            total = check_count(len(files))
            spans = _shard_batches(total, batch_size, shard)
            label = f"{name} ({path})"
            return stream(_folder_batches(files, spans, device, label), total, label, spans)
        if path.suffix.lower() in (".npy", ".npz"):
            source = load_array_file(path, name)
            name = f"{name} ({path})"
        else:
            raise GanevalInputError(f"{name}: {path} is neither a folder nor an .npy/.npz file")

    if isinstance(source, (np.ndarray, torch.Tensor)):
        if source.ndim not in (3, 4) or source.shape[0] == 0:
            raise GanevalInputError(f"{name}: expected a non-empty N×H×W(×C) image array, got shape "
                                    f"{tuple(source.shape)}")
        total = check_count(int(source.shape[0]))
        array = source
        spans = _shard_batches(total, batch_size, shard)
        return stream(((start, convert(array[start:stop])) for start, stop in spans), total, name, spans)

    if callable(source):
        if num_images is None:
            raise GanevalInputError(f"{name}: a generator callable needs num_images (how many images to draw)")
        generator = source
        spans = _shard_batches(num_images, batch_size, shard)

        def generated() -> Iterator[tuple[int, torch.Tensor]]:
            for start, stop in spans:
                with torch.no_grad(), contextlib.ExitStack() as stack:
                    if seed is not None:
                        stack.enter_context(torch.random.fork_rng(devices=[device] if device.type == "cuda" else []))
                        torch.manual_seed(generator_seed(seed, start))
                    batch = convert(generator(stop - start))
                if batch.shape[0] != stop - start:
                    raise GanevalInputError(f"{name}: the generator returned {batch.shape[0]} images when asked for "
                                            f"{stop - start}")
                yield start, batch

        return stream(generated(), num_images, name, spans)

    if isinstance(source, Iterable):
        def iterated() -> Iterator[tuple[int, torch.Tensor]]:
            start = 0
            for number, item in enumerate(source):
                if isinstance(item, (tuple, list)) and item:  # (images, labels) from a DataLoader: the images
                    item = item[0]
                if number % world != rank:  # another process's batch: skipped here, counted for the indices
                    start += len(item)
                    continue
                batch = convert(item)
                yield start, batch
                start += batch.shape[0]

        batches = iterated()
        images = stream(batches, num_images, name, None)
        if images.height is None and world == 1:
            raise GanevalInputError(f"{name}: the iterable of batches is empty")
        return images

    raise GanevalInputError(f"{name}: cannot read images from a {type(source).__name__}; give a folder, an "
                            ".npy/.npz file, an array or tensor, an iterable of batches, or a generator callable")
