"""The run directory: its lock, atomic checkpoints (temporary file + fsync + os.replace, the newest `keep` kept),
and finding the newest checkpoint that loads whole."""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ganeval.errors import GanevalInputError
from ganeval.files import describe, load_torch_file, write_atomically

CHECKPOINT_GLOB = "checkpoint-*.pt"
LOCK_FILE = ".lock"
# What `train` saves; `generate` needs only the first four.
SAMPLING_KEYS = ("config", "num_channels", "counters", "generator_ema")
TRAINING_KEYS = (*SAMPLING_KEYS, "generator", "discriminator", "g_optimizer", "d_optimizer", "grad_scaler", "rng")

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


def write_json(path: Path, value: Any) -> None:
    """JSON file written atomically."""
    write_atomically(path, lambda p: p.write_text(json.dumps(value, indent=2) + "\n"))


@contextlib.contextmanager
def locked_run_dir(run_dir: Path) -> Iterator[None]:
    """Create `run_dir` if needed and hold its lock for the block; a second process on the same run is refused.

    The lock is the operating system's (flock), so it goes with the process: a killed run leaves no stale lock.
    """
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(run_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise GanevalInputError(f"{run_dir}: cannot be used as a run directory ({describe(error)})") from None
    try:
        try:
            if fcntl is not None:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        except OSError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() if hasattr(os, "pread") else "?"
            raise GanevalInputError(f"{run_dir}: in use by another pggan process (pid {holder or '?'}); wait for it "
                                    "to finish, or use another --out") from None
        os.ftruncate(descriptor, 0)
        os.write(descriptor, str(os.getpid()).encode())
        yield
    finally:
        os.close(descriptor)  # releases the lock


def checkpoint_path(run_dir: Path, num_images: int) -> Path:
    """run_dir/checkpoint-<images shown to D, 10 digits>.pt (names sort by progress)."""
    return run_dir / f"checkpoint-{num_images:010d}.pt"


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    return sorted(Path(run_dir).glob(CHECKPOINT_GLOB))


def save_checkpoint(run_dir: Path, num_images: int, state: dict[str, Any], keep: int = 2) -> Path:
    """Write `state` atomically, then delete all but the newest `keep` checkpoints.

    A write that fails (a full disk, a file-size limit) is one GanevalInputError naming the checkpoint; the older
    checkpoints are deleted only after the new one is in place, so they survive it."""
    path = checkpoint_path(run_dir, num_images)
    try:
        write_atomically(path, lambda temporary: _torch_save(state, temporary))
    except GanevalInputError as error:
        older = [checkpoint for checkpoint in list_checkpoints(run_dir) if checkpoint != path]
        raise GanevalInputError(f"{error}; the run stopped, its newest checkpoint is "
                                + (f"{older[-1]} (`pggan resume` continues from it)" if older else "none yet")
                                ) from None
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def _torch_save(state: dict[str, Any], path: Path) -> None:
    """torch.save through a Python file, so a failed write is the OSError the OS gave (torch.save to a path says
    only "unexpected pos"; to a file it wraps the OSError in a RuntimeError)."""
    with open(path, "wb") as file:
        try:
            torch.save(state, file)
        except RuntimeError as error:
            cause = error.__context__
            while cause is not None and not isinstance(cause, OSError):
                cause = cause.__context__
            if cause is not None:
                raise cause from None
            raise OSError(f"torch.save failed: {describe(error)}") from None


def load_checkpoint(path: str | os.PathLike, keys: tuple[str, ...] = SAMPLING_KEYS) -> dict[str, Any]:
    """The state saved by save_checkpoint (loaded with weights_only), checked to hold `keys`."""
    state = load_torch_file(path, "pggan checkpoint")
    missing = [key for key in keys if key not in state] if isinstance(state, dict) else list(keys)
    if missing:
        raise GanevalInputError(f"{path}: not a pggan checkpoint (it lacks {', '.join(missing)})")
    return state


def load_newest_checkpoint(run_dir: Path, keys: tuple[str, ...] = SAMPLING_KEYS) -> tuple[dict[str, Any], Path]:
    """The newest checkpoint of `run_dir` that loads whole, and its path; a damaged newer one is passed over with a
    warning (it is replaced when the run passes that point again)."""
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise GanevalInputError(f"{run_dir}: no checkpoint-*.pt in this folder")
    problems = []
    for path in reversed(checkpoints):
        try:
            return load_checkpoint(path, keys), path
        except GanevalInputError as error:
            problems.append(str(error))
            if path != checkpoints[0]:
                warnings.warn(f"{error}; using the previous checkpoint instead", stacklevel=2)
    raise GanevalInputError(f"{run_dir}: no checkpoint loads ({'; '.join(problems)})")
