"""Every file ganeval and pggan read or write passes through here, and every failure becomes one message.

Readers (`load_array_file`, `read_npz`, `read_json`, `load_torch_file`, `decode_image`, `file_sha256`) turn the
many errors that zip, pickle, PIL, torch and the OS raise for a damaged, truncated or foreign file into one
`GanevalInputError` that names the file and says what is wrong with it. The writer (`write_atomically`) writes a
temporary file, fsyncs it and renames it onto the target, so readers see the old file or the new one and a failed
write loses nothing; it turns permission, space and path errors into one message naming the path. `probe_writable`
checks an output path before hours of work are spent on what would be written there.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import io
import json
import os
import pickle
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ganeval.errors import GanevalInputError

NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")


def describe(error: BaseException) -> str:
    """A short, one-line reason for a low-level error (an OS error's text, else the message's first line)."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    lines = str(error).strip().splitlines()
    if not lines:
        return "the file ends too early" if isinstance(error, EOFError) else type(error).__name__
    first = lines[0]
    return first.split(". ")[0] if len(first) > 120 else first  # long library messages: their first sentence


@contextlib.contextmanager
def reading(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Within the block, any error of reading `path` becomes one GanevalInputError naming it as a `what`."""
    try:
        yield
    except GanevalInputError:
        raise
    except FileNotFoundError:
        raise GanevalInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise GanevalInputError(f"{path}: is a folder, expected a {what}") from None
    except PermissionError:
        raise GanevalInputError(f"{path}: permission denied (cannot read this {what})") from None
    except MemoryError:
        raise GanevalInputError(f"{path}: too large to read into memory as a {what}") from None
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, pickle.UnpicklingError, ValueError, KeyError,
            TypeError, RuntimeError, SyntaxError, IndexError, UnicodeDecodeError) as error:
        raise GanevalInputError(f"{path}: not a readable {what} ({describe(error)})") from None


def _check_magic(path: Path, magic: bytes, what: str) -> None:
    """Refuse a file that does not start the way its suffix promises (e.g. an .npz that is not a zip archive)."""
    with reading(path, what), open(path, "rb") as file:
        head = file.read(len(magic))
    if head != magic:
        header = "a zip archive's header, as .npz files do" if magic == ZIP_MAGIC else "the .npy header"
        raise GanevalInputError(f"{path}: not a readable {what} ("
                                + ("the file is empty)" if not head else f"it does not start with {header})"))


def read_npz(path: str | os.PathLike, what: str = ".npz archive") -> dict[str, np.ndarray]:
    """Every array of an .npz archive, read whole (so each member's CRC is checked); no pickled objects."""
    path = Path(path)
    _check_magic(path, ZIP_MAGIC, what)
    with reading(path, what), open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def npz_member_names(path: str | os.PathLike, what: str = ".npz archive") -> list[str]:
    """The array names of an .npz archive, from its directory alone (no array is read)."""
    path = Path(path)
    _check_magic(path, ZIP_MAGIC, what)
    with reading(path, what), open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
        return list(archive.files)


def load_array_file(path: str | os.PathLike, name: str) -> np.ndarray:
    """The image array of an `.npy` file (memory-mapped) or an `.npz` with one array or an `images` array."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        _check_magic(path, NPY_MAGIC, ".npy file")
        with reading(path, ".npy file"):
            return np.load(path, mmap_mode="r", allow_pickle=False)
    if suffix != ".npz":
        raise GanevalInputError(f"{name}: {path} is neither an .npy nor an .npz file")
    keys = npz_member_names(path)
    if "images" not in keys and len(keys) != 1:
        raise GanevalInputError(f"{name}: {path} holds arrays {keys}; name the image array 'images'")
    key = "images" if "images" in keys else keys[0]
    with reading(path, ".npz archive"), open(path, "rb") as file, np.load(file, allow_pickle=False) as archive:
        return archive[key]


def read_json(path: str | os.PathLike, what: str) -> Any:
    """A JSON file's value."""
    with reading(path, what):
        return json.loads(Path(path).read_text())


def load_torch_file(path: str | os.PathLike, what: str, *, float_arrays: bool = False) -> Any:
    """A file written by torch.save, loaded with `weights_only` (tensors, numbers, strings, containers).

    `float_arrays`: numpy floating-point arrays are allowed too (torch-fidelity caches its statistics as such);
    arrays of any other dtype are still refused.
    """
    path = Path(path)
    if path.is_dir():
        raise GanevalInputError(f"{path}: is a folder, expected a {what}")
    if is_torchscript_archive(path):
        raise GanevalInputError(f"{path}: a TorchScript archive (torch.jit.save), not a {what} written by torch.save")
    allowed = _numpy_float_array_globals() if float_arrays else []
    with reading(path, what), warnings.catch_warnings(), torch.serialization.safe_globals(allowed):
        warnings.simplefilter("ignore")  # torch's own advice about weights_only; the error says what matters
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # not a pickle, or one holding more than weights_only allows
            others = "tensors, numpy float arrays" if float_arrays else "tensors"
            raise GanevalInputError(f"{path}: not a readable {what} (not written by torch.save, or it holds objects "
                                    f"other than {others} and plain values)") from None


def is_torchscript_archive(path: Path) -> bool:
    """Whether `path` is a zip archive as torch.jit.save writes it (a `code/` folder of TorchScript and
    `constants.pkl`); torch.save's archives hold neither."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile):
        return False
    return any(name.endswith("/constants.pkl") for name in names) and any("/code/" in name for name in names)


def _numpy_float_array_globals() -> list[Any]:
    """What unpickling a numpy float array calls: ndarray, dtype and its float classes, and `_reconstruct` under
    its numpy 1 and numpy 2 module paths."""
    reconstruct = np.zeros(0).__reduce__()[0]
    float_dtypes = [type(np.dtype(kind)) for kind in (np.float16, np.float32, np.float64)]
    return [np.ndarray, np.dtype, *float_dtypes, (reconstruct, "numpy.core.multiarray._reconstruct"),
            (reconstruct, "numpy._core.multiarray._reconstruct")]


@functools.lru_cache(maxsize=8)
def _sha256_of(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file, remembered per (path, size, modification time)."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike, what: str = "file") -> str:
    """SHA-256 hex digest of a file (cached while the file is unchanged); read errors name it as a `what`."""
    path = Path(path)
    with reading(path, what):
        status = path.stat()
        return _sha256_of(str(path.resolve()), status.st_size, status.st_mtime_ns)


def decode_image(path: str | os.PathLike, content: bytes | None = None) -> np.ndarray:
    """One image file as uint8 pixels: H×W for grey, H×W×3 for colour.

    Palettes are expanded, an alpha channel is dropped (with a warning), 16-bit grey is scaled to 8 bits as
    round(x·255/65535) = round(x/257); 32-bit integer and float images are refused (no one mapping to 8 bits).
    Images over Pillow's decompression-bomb limit are refused. `content`: the file's bytes, read elsewhere (a
    member of a zip archive, named `path` in messages).
    """
    path = Path(path)
    with reading(path, "image"):
        try:
            image = Image.open(path if content is None else io.BytesIO(content))
        except UnidentifiedImageError:
            raise GanevalInputError(f"{path}: not a readable image (Pillow cannot identify its format)") from None
        except Image.DecompressionBombError as error:
            raise GanevalInputError(f"{path}: refused, larger than Pillow's decompression-bomb limit "
                                    f"({describe(error)}); scale the image down first") from None
        with image:
            image.load()
            mode = image.mode
            if mode in SIXTEEN_BIT_MODES or (mode == "I" and image.format == "PNG"):  # 16-bit PNG grey
                return np.rint(np.asarray(image, dtype=np.float64) / 257.0).clip(0, 255).astype(np.uint8)
            if mode in ("I", "F"):
                raise GanevalInputError(f"{path}: {'32-bit integer' if mode == 'I' else 'floating-point'} image; "
                                        "convert it to 8 (or 16) bits per channel first")
            if mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
                mode = image.mode
            if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
                warnings.warn(f"{path}: alpha channel dropped", stacklevel=2)
                image = image.convert("L" if mode in ("LA", "La") else "RGB")
            elif mode not in ("RGB", "L"):
                image = image.convert("L" if mode == "1" else "RGB")
            return np.asarray(image, dtype=np.uint8)


def probe_writable(path: str | os.PathLike, *, folder: bool = False) -> None:
    """Refuse an output path that cannot be written, before any work is done for it.

    `folder`: `path` is a folder to write into (else a file). The nearest existing ancestor must be a folder in
    which a file can be created (checked by creating and removing a temporary one).
    """
    path = Path(path)
    if path.exists():
        if folder and not path.is_dir():
            raise GanevalInputError(f"{path}: is a file, expected a folder")
        if not folder and path.is_dir():
            raise GanevalInputError(f"{path}: is a folder, expected a file")
    ancestor = path if folder and path.is_dir() else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise GanevalInputError(f"cannot write {path}: {ancestor} is a file, not a folder")
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as error:
        raise GanevalInputError(f"cannot write {path}: {ancestor} is not writable ({describe(error)})") from None


def refuse_overwriting_input(output: str | os.PathLike, inputs: Iterable[tuple[str, object]]) -> None:
    """Refuse an output path that is one of the inputs (the same file, a hard link to it, or a symbolic link either
    way): writing it would destroy what is being read. `inputs`: (argument name, source) pairs; sources that are not
    paths (arrays, tensors, callables) cannot be written over and are skipped."""
    output_path = Path(output)
    for name, source in inputs:
        if not isinstance(source, (str, os.PathLike)):
            continue
        source_path = Path(source)
        same = output_path.resolve() == source_path.resolve()
        with contextlib.suppress(OSError):  # either may not exist yet
            same = same or output_path.samefile(source_path)
        if same:
            raise GanevalInputError(f"{output}: is {name} ({source}); writing it would destroy what is being read, "
                                    "so write the output elsewhere")


def _remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of earlier writes of `path` whose process is gone (killed before its rename)."""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.tmp-*"):
        pid = stale.name.rpartition("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _process_exists(int(pid)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _process_exists(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def write_atomically(path: str | os.PathLike, write: Callable[[Path], Any]) -> None:
    """Call `write(temporary_path)`, fsync it, then rename it onto `path`: readers see the old file or the new one.

    The temporary file is `.NAME.tmp-PID` beside `path`; those a killed earlier write left are removed first.
    """
    path = Path(path)
    if path.is_dir():
        raise GanevalInputError(f"cannot write {path}: it is a folder")
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if path.parent.is_dir():
        _remove_stale_temporaries(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as error:
        raise GanevalInputError(f"cannot write {path} ({describe(error)})") from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
