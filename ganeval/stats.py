"""The stats file: a real set's metric arrays plus a JSON protocol record, saved once and reused.

One `.npz` per real set. Array names are prefixed by metric (`swd/level0`, `fid/mu`, …); the record
`__protocol__` holds, per metric, the settings the arrays were computed with, the image count and the
ganeval version. Loading checks the record against the settings asked for and refuses a mismatch with a
message that names the differing setting.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganeval.errors import GanevalInputError

PROTOCOL_KEY = "__protocol__"
STATS_FORMAT = "ganeval-stats/1"


@dataclass
class Stats:
    """A loaded stats file: `arrays[metric][name]` and `protocol[metric]` (settings, num_images, …)."""

    path: Path
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    protocol: dict[str, dict[str, Any]] = field(default_factory=dict)

    def require(self, metric: str, settings: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The metric's arrays, after checking every stored setting equals the one asked for."""
        if metric not in self.protocol:
            have = ", ".join(sorted(self.protocol)) or "nothing"
            raise GanevalInputError(f"{self.path}: this stats file holds no {metric} statistics (it holds {have}); "
                                    f"make them with `ganeval stats ... {'--fid' if metric != 'swd' else ''}`")
        stored = self.protocol[metric]["settings"]
        for key, wanted in settings.items():
            if key in stored and _jsonable(stored[key]) != _jsonable(wanted):
                raise GanevalInputError(
                    f"{self.path}: stats were computed with {key}={stored[key]!r} but {key}={wanted!r} was asked "
                    f"for; recompute the stats with the same settings")
        return self.arrays[metric]


def _jsonable(value: Any) -> Any:
    """Normalise tuples to lists (and so on) so stored and asked-for settings compare equal."""
    return json.loads(json.dumps(value))


def is_stats_file(source: object) -> bool:
    """Whether `source` names a ganeval stats file (an `.npz` holding a protocol record)."""
    if not isinstance(source, (str, os.PathLike)) or not str(source).endswith(".npz") or not Path(source).is_file():
        return False
    try:
        with np.load(source) as archive:
            return PROTOCOL_KEY in archive.files
    except (OSError, ValueError):
        return False


def load_stats(path: str | os.PathLike) -> Stats:
    """Read a stats file written by `save_stats`."""
    path = Path(path)
    try:
        with np.load(path) as archive:
            record = json.loads(bytes(archive[PROTOCOL_KEY]).decode())
            stats = Stats(path=path, protocol=record["metrics"])
            for key in archive.files:
                if key != PROTOCOL_KEY:
                    metric, name = key.split("/", 1)
                    stats.arrays.setdefault(metric, {})[name] = archive[key]
    except (OSError, ValueError, KeyError) as error:
        raise GanevalInputError(f"{path}: not a readable ganeval stats file ({error})") from None
    if record.get("format") != STATS_FORMAT:
        raise GanevalInputError(f"{path}: stats format {record.get('format')!r}, expected {STATS_FORMAT!r}")
    return stats


def save_stats(path: str | os.PathLike, arrays: Mapping[str, Mapping[str, np.ndarray]],
               protocol: Mapping[str, Mapping[str, Any]]) -> None:
    """Write `arrays[metric][name]` and `protocol[metric]` atomically (temporary file, then rename)."""
    from ganeval import __version__

    path = Path(path)
    if path.suffix != ".npz":
        raise GanevalInputError(f"-o {path}: a stats file must end in .npz")
    record = {"format": STATS_FORMAT, "ganeval_version": __version__, "metrics": protocol}
    flat = {f"{metric}/{name}": np.asarray(value) for metric, named in arrays.items() for name, value in named.items()}
    flat[PROTOCOL_KEY] = np.frombuffer(json.dumps(record, sort_keys=True).encode(), dtype=np.uint8)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:  # a handle, so numpy does not append ".npz" to the temporary name
            np.savez(file, **flat)

    write_atomically(path, write)


def write_atomically(path: Path, write: Any) -> None:
    """Call `write(temporary_path)`, fsync it, then rename it onto `path`: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(temporary)
        with open(temporary, "rb+") as file:
            os.fsync(file.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
