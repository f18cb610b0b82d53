"""Datasets: `prepare` turns images (folder, array file, idx .gz) into one uint8 NCHW array in an .npz or .npy;
opening, downsampling and fading the reals training reads (CelebA and LSUN: `pggan.paper_data`)."""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ganeval.errors import GanevalInputError
from ganeval.files import decode_image, load_array_file, reading, refuse_overwriting_input, write_atomically
from ganeval.sources import list_image_files

IDX_UBYTE_MAGIC = 0x00000803  # idx3-ubyte: big-endian magic, then count, rows, cols as big-endian uint32


def check_resolution(resolution: int, name: str = "--resolution") -> None:
    """Refuse a side that is not a power of two ≥ 4, naming the option (or file) it came from."""
    if resolution < 4 or resolution & (resolution - 1):
        raise GanevalInputError(f"{name} must be a power of two ≥ 4, got {resolution}")


def read_idx_images(path: Path) -> np.ndarray:
    """uint8 [N, rows, cols] from an idx3-ubyte file (gzipped or not), e.g. Fashion-MNIST."""
    opener = gzip.open if path.suffix == ".gz" else open
    with reading(path, "idx file"), opener(path, "rb") as file:
        header = file.read(16)
        if len(header) < 16:
            raise GanevalInputError(f"{path}: too short for an idx3-ubyte header")
        magic, count, rows, cols = struct.unpack(">IIII", header)
        if magic != IDX_UBYTE_MAGIC:
            raise GanevalInputError(f"{path}: idx magic {magic:#010x}, expected {IDX_UBYTE_MAGIC:#010x} "
                                    "(idx3-ubyte images)")
        pixels = np.frombuffer(file.read(), dtype=np.uint8)
    if pixels.size != count * rows * cols:
        raise GanevalInputError(f"{path}: header says {count}×{rows}×{cols} pixels, file holds {pixels.size}")
    return pixels.reshape(count, rows, cols)


def as_nchw(array: np.ndarray, name: str) -> np.ndarray:
    """uint8 NCHW from a uint8 [N,H,W], [N,H,W,C] or [N,C,H,W] array with C in {1, 3}."""
    if array.dtype != np.uint8:
        raise GanevalInputError(f"{name}: expected uint8 pixels, got {array.dtype}")
    if array.ndim == 3:
        return array[:, None]
    if array.ndim == 4 and array.shape[1] in (1, 3):
        return array
    if array.ndim == 4 and array.shape[3] in (1, 3):
        return array.transpose(0, 3, 1, 2)
    raise GanevalInputError(f"{name}: expected [N,H,W], [N,H,W,C] or [N,C,H,W] with C = 1 or 3, got shape "
                            f"{tuple(array.shape)}")


def _centre_crop_resize(image: Image.Image, resolution: int, name: str) -> np.ndarray:
    """Centre square crop, then area (box-filter) resize to resolution × resolution; uint8 CHW."""
    width, height = image.size
    side = min(width, height)
    if side < resolution:
        raise GanevalInputError(f"{name}: {width}×{height} is smaller than the target {resolution}×{resolution}")
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.BOX)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)


def _folder_images(folder: Path, resolution: int | None) -> np.ndarray:
    """Every image below `folder` (ganeval's listing and decoding: the same files, the same pixels) cropped and
    resized; grey stays one channel."""
    images, channels_seen = [], None
    for path in list_image_files(folder, str(folder)):
        pixels = decode_image(path)  # palettes expanded, alpha dropped, 16-bit grey scaled to 8 bits
        image = Image.fromarray(pixels)
        channels = 1 if pixels.ndim == 2 else 3
        if channels_seen is None:
            channels_seen = (channels, path)
            if resolution is None:  # largest power of two that fits the first image
                resolution = 2 ** int(np.floor(np.log2(max(min(image.size), 1))))
                check_resolution(resolution, f"{path}: image side")
        elif channels != channels_seen[0]:
            raise GanevalInputError(f"mixed channels: {path} has {channels}, {channels_seen[1]} has "
                                    f"{channels_seen[0]}; convert the folder to one colour mode first")
        images.append(_centre_crop_resize(image, resolution, str(path)))
    return np.stack(images)


def _resize_array(images: np.ndarray, resolution: int, name: str) -> np.ndarray:
    if images.shape[2] == images.shape[3] == resolution:
        return images
    mode = "L" if images.shape[1] == 1 else "RGB"
    return np.stack([_centre_crop_resize(Image.fromarray(image[0] if mode == "L" else image.transpose(1, 2, 0),
                                                         mode), resolution, f"{name}[{index}]")
                     for index, image in enumerate(images)])


def check_prepare_options(out_path: Path, resolution: int | None, max_images: int | None) -> None:
    """Refuse prepare's bad options (before anything is read): the side, the image count, OUT's suffix."""
    if resolution is not None:
        check_resolution(resolution)
    if max_images is not None and max_images < 1:
        raise GanevalInputError(f"--max-images must be at least 1, got {max_images}")
    if out_path.suffix.lower() not in (".npz", ".npy"):
        raise GanevalInputError(f"{out_path}: the prepared dataset must be an .npz or .npy file")


def idx_images(digits: np.ndarray, resolution: int | None, name: str) -> np.ndarray:
    """uint8 NCHW of idx images [N, rows, cols]: zero-padded to the nearest power of two (28 → 32, nothing
    resampled), then resized only if `resolution` asks."""
    side = max(digits.shape[1:])
    padded_side = max(4, 2 ** int(np.ceil(np.log2(side))))
    pad_rows, pad_cols = padded_side - digits.shape[1], padded_side - digits.shape[2]
    images = np.pad(digits, ((0, 0), (pad_rows // 2, pad_rows - pad_rows // 2),
                             (pad_cols // 2, pad_cols - pad_cols // 2)))[:, None]
    return _resize_array(images, resolution or padded_side, name)


def array_images(array: np.ndarray, resolution: int | None, name: str) -> np.ndarray:
    """uint8 NCHW of an image array (see `as_nchw`), resized to `resolution` or else to the largest power of two
    that fits."""
    images = as_nchw(array, name)
    side = min(images.shape[2:])
    return _resize_array(images, resolution or 2 ** int(np.floor(np.log2(max(side, 1)))), name)


def write_prepared(out_path: Path, images: np.ndarray, max_images: int | None, name: str) -> dict:
    """Write the first `max_images` of uint8 NCHW `images` to `out_path` (.npz, key "images", or .npy) atomically;
    returns {"path", "num_images", "num_channels", "resolution"}."""
    if max_images is not None:
        images = images[:max_images]
    if len(images) == 0:
        raise GanevalInputError(f"{name}: no images")

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:  # a handle, so numpy does not append a suffix to the temporary name
            if out_path.suffix.lower() == ".npy":
                np.save(file, np.ascontiguousarray(images))
            else:
                np.savez(file, images=np.ascontiguousarray(images))

    write_atomically(out_path, write)
    return {"path": str(out_path), "num_images": int(images.shape[0]), "num_channels": int(images.shape[1]),
            "resolution": int(images.shape[2])}


def prepare(source: str | os.PathLike, out_path: str | os.PathLike, *, resolution: int | None = None,
            max_images: int | None = None) -> dict:
    """Write `out_path` (.npz, key "images", or .npy; uint8 NCHW) from a folder, a .npy/.npz array or an idx(.gz) file.

    Photos: centre square crop + area resize. idx files (Fashion-MNIST 28×28): zero-padded by 2 pixels on each
    side to 32×32, the nearest power of two, so no pixel is resampled; then resized only if `resolution` asks.
    Returns {"path", "num_images", "num_channels", "resolution"}.
    """
    source, out_path = Path(source), Path(out_path)
    check_prepare_options(out_path, resolution, max_images)
    if not source.exists():
        raise GanevalInputError(f"{source}: no such file or folder")
    refuse_overwriting_input(out_path, [("SOURCE", source)])
    if source.is_dir():
        images = _folder_images(source, resolution)
    elif source.name.endswith((".gz", "-ubyte")) and "idx" in source.name:
        images = idx_images(read_idx_images(source), resolution, str(source))
    elif source.suffix.lower() in (".npy", ".npz"):
        images = array_images(load_array_file(source, str(source)), resolution, str(source))
    else:
        raise GanevalInputError(f"{source}: not a folder, .npy/.npz array or idx(.gz) file")
    return write_prepared(out_path, images, max_images, str(source))


def open_images(path: str | os.PathLike) -> np.ndarray:
    """uint8 NCHW array of a prepared dataset (or any square power-of-two uint8 image array file): an .npy stays
    memory-mapped (nothing is read yet), an .npz is read whole."""
    path = Path(path)
    if not path.is_file():
        raise GanevalInputError(f"{path}: no such dataset file (make one with `pggan prepare`)")
    if path.suffix.lower() not in (".npy", ".npz"):
        raise GanevalInputError(f"{path}: expected a prepared .npz (or .npy) dataset")
    images = as_nchw(load_array_file(path, str(path)), str(path))
    if images.shape[2] != images.shape[3]:
        raise GanevalInputError(f"{path}: images are {images.shape[2]}×{images.shape[3]}, not square; "
                                "run `pggan prepare` on it")
    check_resolution(images.shape[2], f"{path}: image side")
    if len(images) == 0:
        raise GanevalInputError(f"{path}: no images")
    return images


IDENTITY_SAMPLE = 64  # images hashed to tell one dataset file from another without reading it whole


def data_identity(path: str | os.PathLike, images: np.ndarray) -> dict:
    """What tells a dataset file from another without reading all of it: its size in bytes, the array's shape and
    dtype, and the SHA-256 of 64 of its images spread evenly over it (the first and the last among them)."""
    picks = np.unique(np.linspace(0, len(images) - 1, min(IDENTITY_SAMPLE, len(images))).round().astype(np.int64))
    digest = hashlib.sha256()
    for index in picks.tolist():
        digest.update(np.ascontiguousarray(images[index]).tobytes())
    return {"file_bytes": Path(path).stat().st_size, "shape": list(images.shape), "dtype": str(images.dtype),
            "sample_sha256": digest.hexdigest()}


def identity_difference(recorded: dict, current: dict) -> str | None:
    """How a dataset file differs from the one recorded (None if it does not), for the message."""
    for key in ("shape", "dtype", "file_bytes", "sample_sha256"):
        if recorded.get(key) != current.get(key):
            return f"{key.replace('_', ' ')} {recorded.get(key)} then, {current.get(key)} now"
    return None


def training_resolution(path: str | os.PathLike, image_side: int, resolution: int) -> int:
    """The resolution to train at: `resolution`, or the images' own side when it is 0; never above the images'."""
    resolution = resolution or image_side
    if image_side < resolution:
        raise GanevalInputError(f"{path}: images are {image_side}px, smaller than --resolution {resolution}")
    return resolution


def load_images(path: str | os.PathLike) -> torch.Tensor:
    """uint8 NCHW tensor of a prepared dataset, read whole into memory."""
    return torch.from_numpy(np.require(open_images(path), requirements=["C", "W"]))  # a memory map is copied in


def first_images(images: np.ndarray, count: int, resolution: int, chunk: int = 1024) -> np.ndarray:
    """The first `count` images (all, if fewer) at `resolution` (area-downsampled as training does), read in chunks
    of `chunk`, so a memory-mapped set is never read beyond them."""
    parts = []
    for start in range(0, min(count, len(images)), chunk):
        part = torch.from_numpy(np.require(images[start:min(start + chunk, count)], requirements=["C", "W"]))
        parts.append(to_resolution(part, resolution).numpy())
    return np.concatenate(parts)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float → uint8 [0, 255] (rounded, clipped)."""
    return ((images.float() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)


def to_resolution(images_uint8: torch.Tensor, resolution: int) -> torch.Tensor:
    """uint8 NCHW area-downsampled to `resolution` and rounded back to uint8 (unchanged where already there); each
    image on its own, so a set gives the same pixels whole or in minibatches."""
    if images_uint8.shape[-1] == resolution:
        return images_uint8
    return to_uint8(reals_at(images_uint8, resolution, 1.0, torch.float32))


def real_pyramid(images: torch.Tensor) -> list[torch.Tensor]:
    """MSG-GAN's reals (§3): the batch at 4, 8, …, its own resolution, each the next one 2×2-average-pooled."""
    scales = [images]
    while scales[0].shape[-1] > 4:
        scales.insert(0, torch.nn.functional.avg_pool2d(scales[0], 2))
    return scales


def reals_at(images_uint8: torch.Tensor, resolution: int, alpha: float, dtype: torch.dtype) -> torch.Tensor:
    """Reals in [-1, 1] at `resolution` (area downsampling), faded like G's output while α < 1 (§3).

    x = lerp(upsample(avgpool(x_res)), x_res, α): D sees reals mixed between the two resolutions exactly as it
    sees G's blended fakes (reference train.py `process_reals`).
    """
    images = images_uint8.to(dtype) / 127.5 - 1.0
    factor = images.shape[-1] // resolution
    if factor > 1:
        images = torch.nn.functional.avg_pool2d(images, factor)
    if alpha < 1.0 and resolution > 4:
        low = torch.nn.functional.avg_pool2d(images, 2).repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
        images = torch.lerp(low, images, alpha)
    return images
