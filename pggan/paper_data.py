"""The paper's data sets, streamed into one uncompressed uint8 NCHW `.npy`: CelebA (fixed crop) and LSUN (lmdb).

Both follow the reference's `dataset_tool.py` (`create_celeba`, `create_lsun`) and store only the full resolution;
training computes each lower level of detail from it per minibatch (`pggan.data.reals_at`), where the reference
stores one TFRecord file per level. Images are written one at a time, so memory holds one image, never the set.
"""

from __future__ import annotations

import functools
import io
import struct
import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ganeval.errors import GanevalInputError
from ganeval.files import NPY_MAGIC, decode_image, describe, reading, write_atomically
from ganeval.progress import Progress
from ganeval.sources import IMAGE_EXTENSIONS, list_image_files
from pggan.data import check_resolution

CELEBA_NUM_IMAGES = 202_599  # img_align_celeba/ of the CelebA download
CELEBA_SHAPE = (218, 178, 3)  # the aligned images: 178 wide, 218 high, RGB
CELEBA_CENTRE = (89, 121)  # reference create_celeba: cx = 89, cy = 121, a 128×128 crop around it
CELEBA_CROP = 128
SHUFFLE_SEED = 123  # reference TFRecordExporter.choose_shuffled_order: np.random.RandomState(123)
NPY_HEADER_BYTES = 128  # the whole .npy header, fixed so that the image count can be rewritten at the end


def box_downsample(image: np.ndarray, resolution: int) -> np.ndarray:
    """uint8 CHW halved by 2×2 box averages until `resolution`, in float32 and rounded once at the end, as the
    reference's TFRecordExporter.add_image makes each lower level of detail."""
    pixels = image
    while pixels.shape[-1] > resolution:
        pixels = pixels.astype(np.float32)
        pixels = (pixels[:, 0::2, 0::2] + pixels[:, 0::2, 1::2] + pixels[:, 1::2, 0::2] + pixels[:, 1::2, 1::2]) * 0.25
    return pixels if pixels.dtype == np.uint8 else np.rint(pixels).clip(0, 255).astype(np.uint8)


def celeba_crop(pixels: np.ndarray, name: str) -> np.ndarray:
    """The paper's CelebA crop of one aligned 178×218 RGB image (HWC): rows 57–184, columns 25–152, as uint8 CHW."""
    if pixels.shape != CELEBA_SHAPE:
        size = f"{pixels.shape[1]}×{pixels.shape[0]}" + ("" if pixels.ndim == 3 else " grey")
        raise GanevalInputError(f"{name}: {size}, not an aligned CelebA image (178×218 RGB, img_align_celeba/)")
    x, y, half = *CELEBA_CENTRE, CELEBA_CROP // 2
    return np.ascontiguousarray(pixels[y - half:y + half, x - half:x + half].transpose(2, 0, 1))


def lsun_crop_resize(image: Image.Image, resolution: int) -> np.ndarray | None:
    """The reference's LSUN image: centre square of the short side, LANCZOS-resized (PIL's ANTIALIAS) to
    resolution²; uint8 CHW RGB, or None where the short side is below `resolution` (the reference upsamples it)."""
    image = image.convert("RGB")
    width, height = image.size
    side = min(width, height)
    if side < resolution:
        return None
    left, top = (width - side) // 2, (height - side) // 2  # = the reference's (size − crop) // 2 on both axes
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8).transpose(2, 0, 1)


def _npy_header(shape: tuple[int, ...]) -> bytes:
    """A version 1.0 .npy header for uint8 C-order `shape`, padded with spaces to NPY_HEADER_BYTES."""
    text = f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}"
    length = NPY_HEADER_BYTES - len(NPY_MAGIC) - 4  # magic, version (2 bytes), header length (2 bytes)
    return NPY_MAGIC + b"\x01\x00" + struct.pack("<H", length) + (text.ljust(length - 1) + "\n").encode("latin1")


def write_npy_streamed(out_path: Path, image_shape: tuple[int, int, int], images: Iterator[np.ndarray]) -> int:
    """Write every uint8 CHW image of `images` into the .npy `out_path` (atomically); returns how many."""
    count = 0

    def write(temporary: Path) -> None:
        nonlocal count
        with open(temporary, "wb") as file:
            file.write(_npy_header((0, *image_shape)))  # rewritten below, once the count is known
            for image in images:
                file.write(image.tobytes())
                count += 1
            file.seek(0)
            file.write(_npy_header((count, *image_shape)))

    write_atomically(out_path, write)
    return count


def celeba_files(source: Path) -> list[tuple[str, Callable[[], np.ndarray]]]:
    """The aligned CelebA images of `source` — a folder (its img_align_celeba_png/ or img_align_celeba/, or the folder
    itself) or the zip CelebA is downloaded as (img_align_celeba.zip) — as (name, decode) pairs in the reference's
    order: sorted by name, then shuffled by np.random.RandomState(123)."""
    if source.is_file() and zipfile.is_zipfile(source):
        entries = _zip_images(source)
    elif source.is_dir():
        for name in ("img_align_celeba_png", "img_align_celeba"):
            if (source / name).is_dir():
                source = source / name
                break
        entries = [(str(path), functools.partial(decode_image, path))
                   for path in list_image_files(source, f"--celeba {source}")]
    else:
        raise GanevalInputError(f"--celeba {source}: no such folder (give the folder of img_align_celeba/, or "
                                "img_align_celeba.zip as downloaded)")
    if not entries:
        raise GanevalInputError(f"--celeba {source}: no images (expected img_align_celeba/ with 202,599 JPEGs)")
    order = np.arange(len(entries))
    np.random.RandomState(SHUFFLE_SEED).shuffle(order)
    return [entries[index] for index in order]


def _zip_images(archive: Path) -> list[tuple[str, Callable[[], np.ndarray]]]:
    """The images of a zip archive below its img_align_celeba_png/ or img_align_celeba/ folder (or all of them),
    sorted by name, each read from the archive when decoded."""
    with reading(archive, "zip archive"), zipfile.ZipFile(archive) as opened:
        names = sorted(name for name in opened.namelist()
                       if Path(name).suffix.lower() in IMAGE_EXTENSIONS and not Path(name).name.startswith("."))
    for folder in ("img_align_celeba_png/", "img_align_celeba/"):
        inside = [name for name in names if name.startswith(folder) or f"/{folder}" in name]
        if inside:
            names = inside
            break
    handle = zipfile.ZipFile(archive)  # kept open while the images are decoded, one at a time

    def decode(name: str) -> np.ndarray:
        with reading(archive, "zip archive"):
            content = handle.read(name)
        return decode_image(f"{archive}/{name}", content)

    return [(f"{archive}/{name}", functools.partial(decode, name)) for name in names]


def prepare_celeba(folder: Path, out_path: Path, resolution: int = CELEBA_CROP,
                   max_images: int | None = None, progress: bool = True) -> dict:
    """CelebA as the paper's Table 1 uses it, into `out_path` (.npy): see `celeba_crop` and `box_downsample`."""
    check_resolution(resolution)
    if resolution > CELEBA_CROP:
        raise GanevalInputError(f"--resolution {resolution}: CelebA's fixed crop is {CELEBA_CROP}×{CELEBA_CROP}; "
                                f"choose {CELEBA_CROP} or less")
    files = celeba_files(folder)
    if len(files) != CELEBA_NUM_IMAGES:
        warnings.warn(f"--celeba {folder}: {len(files):,} images, CelebA has {CELEBA_NUM_IMAGES:,}", stacklevel=2)
    files = files[:max_images]
    bar = Progress(len(files), "prepare CelebA", enabled=None if progress else False)

    def images() -> Iterator[np.ndarray]:
        for name, decode in files:
            yield box_downsample(celeba_crop(decode(), name), resolution)
            bar.update(1)

    count = write_npy_streamed(out_path, (3, resolution, resolution), images())
    bar.close()
    return {"path": str(out_path), "num_images": count, "num_channels": 3, "resolution": resolution}


def _lmdb_images(folder: Path) -> tuple[int, Iterator[Image.Image | None]]:
    """(entries, each value decoded, None where Pillow cannot) of an LSUN lmdb export folder, in key order."""
    try:
        import lmdb  # an optional dependency (the `lsun` extra): imported only when an lmdb is read
    except ImportError:
        raise GanevalInputError(f"--lsun {folder}: reading an lmdb needs the lmdb package; install it with "
                                "`pip install 'ganeval-pggan[lsun]'` (or `pip install lmdb`)") from None
    try:
        environment = lmdb.open(str(folder), readonly=True, lock=False, max_readers=1)
        entries = environment.stat()["entries"]
    except lmdb.Error as error:
        raise GanevalInputError(f"--lsun {folder}: not a readable lmdb ({describe(error)})") from None

    def images() -> Iterator[Image.Image | None]:
        try:
            with environment.begin(write=False) as transaction:
                for _key, value in transaction.cursor():
                    yield _decode_bytes(value)
        except lmdb.Error as error:
            raise GanevalInputError(f"--lsun {folder}: not a readable lmdb ({describe(error)})") from None
        finally:
            environment.close()

    return entries, images()


def _decode_bytes(data: bytes) -> Image.Image | None:
    """One encoded image of the lmdb (JPEG, WebP, …), or None where Pillow cannot decode it."""
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def _folder_images(folder: Path) -> tuple[int, Iterator[Image.Image | None]]:
    """(count, each image decoded, None where it cannot be) of a folder of LSUN images, sorted by path."""
    files = list_image_files(folder, f"--lsun {folder}")

    def images() -> Iterator[Image.Image | None]:
        for path in files:
            try:
                yield Image.fromarray(decode_image(path))
            except GanevalInputError:
                yield None

    return len(files), images()


def prepare_lsun(source: Path, out_path: Path, resolution: int = 128, max_images: int | None = None,
                 progress: bool = True) -> dict:
    """An LSUN category (its lmdb export folder, or a folder of its images) into `out_path` (.npy) at
    `resolution`: see `lsun_crop_resize`. Images below the resolution and undecodable ones are skipped and counted."""
    check_resolution(resolution)
    if not source.is_dir():
        raise GanevalInputError(f"--lsun {source}: no such folder (expected an lmdb export folder holding "
                                "data.mdb, or a folder of images)")
    total, decoded = _lmdb_images(source) if (source / "data.mdb").exists() else _folder_images(source)
    if total == 0:
        decoded.close()
        raise GanevalInputError(f"--lsun {source}: no images")
    limit = min(total, max_images or total)
    skipped = {"smaller than the resolution": 0, "undecodable": 0}
    bar = Progress(limit, "prepare LSUN", enabled=None if progress else False)

    def images() -> Iterator[np.ndarray]:
        written = 0
        for image in decoded:
            pixels = None if image is None else lsun_crop_resize(image, resolution)
            if pixels is None:
                skipped["undecodable" if image is None else "smaller than the resolution"] += 1
                continue
            yield pixels
            written += 1
            bar.update(1)
            if written == limit:
                return
        if written == 0:
            reasons = ", ".join(f"{count:,} {reason}" for reason, count in skipped.items() if count)
            raise GanevalInputError(f"--lsun {source}: no image to keep at --resolution {resolution} ({reasons})")

    try:
        count = write_npy_streamed(out_path, (3, resolution, resolution), images())
    finally:
        decoded.close()
        bar.close()
    return {"path": str(out_path), "num_images": count, "num_channels": 3, "resolution": resolution,
            "skipped": dict(skipped)}
