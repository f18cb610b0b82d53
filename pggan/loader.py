"""Training images and the random draws of each minibatch.

`TrainingImages` holds the prepared set on the training device, or leaves an `.npy` memory-mapped and gathers each
minibatch from it by index. `Minibatches` makes every random draw of training from the one `sampler` generator in
the order the loop asks for them; with a memory-mapped set it draws one minibatch ahead and a background thread
gathers that minibatch's images while the current step runs, so a run draws the same numbers either way.
"""

from __future__ import annotations

import os
import weakref
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from ganeval.errors import GanevalInputError
from ganeval.files import reading
from pggan.data import data_identity, first_images, open_images, to_resolution, training_resolution

STREAM_ABOVE_BYTES = 1 << 30  # data_streaming "auto": an .npy larger than 1 GiB is memory-mapped


class TrainingImages:
    """The uint8 NCHW training set at the training resolution: in memory on `device`, or memory-mapped (streamed)."""

    def __init__(self, path: str, resolution: int, device: torch.device, streaming: str) -> None:
        suffix = Path(path).suffix.lower()
        descriptor = None
        if suffix == ".npy" and Path(path).is_file():  # opened first: the memory map must be of this very file
            with reading(path, ".npy file"):
                descriptor = os.open(path, os.O_RDONLY)
        try:
            array = open_images(path)
            size = os.fstat(descriptor).st_size if descriptor is not None else None
            if descriptor is not None and not os.path.samestat(os.fstat(descriptor), os.stat(path)):
                raise GanevalInputError(f"{path}: replaced while it was being opened; start again")
        except BaseException:
            if descriptor is not None:
                os.close(descriptor)
            raise
        if streaming == "on" and suffix != ".npy":
            raise GanevalInputError(f"{path}: only an .npy dataset can be streamed (data_streaming=on); an .npz is "
                                    "compressed and read whole")
        self.streamed = streaming == "on" or (streaming == "auto" and suffix == ".npy"
                                              and size is not None and size > STREAM_ABOVE_BYTES)
        self.resolution = training_resolution(path, array.shape[-1], resolution)
        self.num_images, self.num_channels = array.shape[:2]
        self.device = device
        self.path = path
        # The data's identity (size, shape, a hash of sampled images): a run records it, a resumed run checks it.
        self.identity = data_identity(path, array)
        if self.streamed:
            self.array, self._descriptor = array, descriptor
            self._close = weakref.finalize(self, os.close, descriptor)  # closed with the object, or by close()
            # Each image's bytes in the file, where they lie one after the other (an .npy in C order, NCHW or NHWC).
            stored = array if array.flags.c_contiguous else array.transpose(0, 2, 3, 1)
            self._stored_shape = stored.shape[1:] if stored.flags.c_contiguous else None
            self._image_bytes = array[0].nbytes
            self._end = array.offset + self.num_images * self._image_bytes  # bytes the images need
        else:  # area-downsampled once to the training resolution
            if descriptor is not None:
                os.close(descriptor)
            array = np.require(array, requirements=["C", "W"])  # an .npy's memory map is read in whole
            self.images = to_resolution(torch.from_numpy(array), self.resolution).to(device)

    def close(self) -> None:
        """Close the streamed file now (its memory map goes with the array)."""
        if self.streamed:
            self._close()

    def gather(self, indices: torch.Tensor) -> torch.Tensor:
        """The images at `indices` (CPU int64): on the device when in memory; when streamed, read from the file into
        CPU memory (pinned when training on CUDA, for an asynchronous copy) — call `to_device` on the result.

        Streamed, the file is checked to still hold every image first, and the images are read with pread where the
        OS has it: a file truncated under a run ends it with a GanevalInputError naming the file, where a read of
        the memory map past the file's new end would kill the process with SIGBUS."""
        if not self.streamed:
            return self.images[indices.to(self.device)]
        self._check_size()
        self._will_need(indices.numpy())
        if self._stored_shape is not None and hasattr(os, "pread"):
            images = self._read(indices.numpy())
        else:
            images = self.array[indices.numpy()]
        batch = to_resolution(torch.from_numpy(images), self.resolution)
        return batch.pin_memory() if self.device.type == "cuda" else batch

    def _check_size(self) -> None:
        size = os.fstat(self._descriptor).st_size
        if size < self._end:
            raise self._shrunk(size)

    def _shrunk(self, size: int) -> GanevalInputError:
        return GanevalInputError(f"{self.path}: the data file shrank to {size:,} bytes while training read it "
                                 f"({self._end:,} hold its {self.num_images:,} images); training stopped, the "
                                 "newest checkpoint is kept — restore the file, then `pggan resume`")

    def _read(self, indices: np.ndarray) -> np.ndarray:
        """The images at `indices` as NCHW uint8, each read with one pread (a short read: the file shrank)."""
        stored = np.empty((len(indices), *self._stored_shape), dtype=np.uint8)
        for row, index in enumerate(indices.tolist()):
            data = os.pread(self._descriptor, self._image_bytes, self.array.offset + index * self._image_bytes)
            if len(data) != self._image_bytes:
                raise self._shrunk(os.fstat(self._descriptor).st_size)
            stored[row] = np.frombuffer(data, dtype=np.uint8).reshape(self._stored_shape)
        return stored if stored.shape[1:] == self.array.shape[1:] else stored.transpose(0, 3, 1, 2)

    def _will_need(self, indices: np.ndarray) -> None:
        """Ask the kernel to read these images in, all at once, before they are copied: from a cold page cache, random
        images then arrive ~60× faster than page fault after page fault (benchmarks/RESULTS.md). Only a hint."""
        if not hasattr(os, "posix_fadvise"):
            return
        for index in indices.tolist():
            os.posix_fadvise(self._descriptor, self.array.offset + index * self._image_bytes, self._image_bytes,
                             os.POSIX_FADV_WILLNEED)

    def to_device(self, batch: torch.Tensor) -> torch.Tensor:
        """A gathered minibatch on the training device (from pinned memory without blocking: later work on the
        device's stream runs after the copy)."""
        return batch.to(self.device, non_blocking=True)

    def first(self, count: int) -> np.ndarray:
        """The first `count` images (all, if fewer) as a uint8 NCHW array, for the metrics."""
        if self.streamed:
            return first_images(self.array, count, self.resolution) if count else self.array[:0]
        return self.images[:count].cpu().numpy()


class Minibatches:
    """Every random draw of training (image indices, latents, mixing factors, flips) from `sampler`, in call order.

    Streamed: each call also draws the next minibatch of the same size and hands its gather to a background
    thread. The sampler state before that look-ahead is what a checkpoint saves (`sampler_state`), and a call for
    another size puts the sampler back to it and draws anew, so the numbers are those of drawing on demand.
    Use as a context manager: the thread ends with the block, and an error in it is raised in the caller.
    """

    def __init__(self, sampler: torch.Generator, images: TrainingImages, latent_size: int, rank: int = 0,
                 world_size: int = 1) -> None:
        self.sampler, self.images, self.latent_size = sampler, images, latent_size
        self.rank, self.world_size = rank, world_size
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="pggan-gather") if images.streamed else None
        self._ahead: tuple[int, dict[str, torch.Tensor], Future | None] | None = None
        self._state_before_ahead = sampler.get_state()

    def __enter__(self) -> Minibatches:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _draw(self, minibatch: int) -> dict[str, torch.Tensor]:
        """This rank's slice of one full minibatch of draws (the same draws on every rank), on the CPU."""
        draws = dict(indices=torch.randint(self.images.num_images, (minibatch,), generator=self.sampler),
                     latents=torch.randn(minibatch, self.latent_size, generator=self.sampler),
                     mix=torch.rand(minibatch, generator=self.sampler),
                     flips=torch.rand(minibatch, generator=self.sampler) < 0.5)
        local = minibatch // self.world_size
        return {name: value[self.rank * local:(self.rank + 1) * local] for name, value in draws.items()}

    def next(self, minibatch: int, with_reals: bool = True, following_with_reals: bool = True
             ) -> dict[str, torch.Tensor]:
        """The next minibatch's draws on the device, with its real images under "reals" (uint8) if `with_reals`.

        `following_with_reals`: whether the call after this one will want its reals (streamed: only then is the
        look-ahead's gather started; a G step's draws need none)."""
        if self._pool is None:
            draws = self._draw(minibatch)
            reals = {"reals": self.images.gather(draws["indices"])} if with_reals else {}
            return {**reals, **self._on_device(draws)}
        if self._ahead is not None and self._ahead[0] == minibatch:
            _, draws, gathered = self._ahead
        else:
            if self._ahead is not None:  # drawn for another size: undo the look-ahead
                self._cancel(self._ahead[2])
                self.sampler.set_state(self._state_before_ahead)
            draws, gathered = self._draw(minibatch), None
        reals = None
        if not with_reals:
            self._cancel(gathered)
        elif gathered is not None:
            reals = gathered.result()  # an error of the background gather is raised here
        else:
            reals = self.images.gather(draws["indices"])
        self._state_before_ahead = self.sampler.get_state()
        following = self._draw(minibatch)
        self._ahead = (minibatch, following, self._pool.submit(self.images.gather, following["indices"])
                       if following_with_reals else None)
        return {**({"reals": self.images.to_device(reals)} if with_reals else {}), **self._on_device(draws)}

    @staticmethod
    def _cancel(gathered: Future | None) -> None:
        if gathered is not None:
            gathered.cancel()  # a gather already running finishes in the background, unused

    def _on_device(self, draws: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {name: value.to(self.images.device) for name, value in draws.items()}

    def sampler_state(self) -> torch.Tensor:
        """The sampler's state as drawing on demand would have left it (before any look-ahead)."""
        return self._state_before_ahead if self._ahead is not None else self.sampler.get_state()

