"""The stats file: a real set's metric arrays plus a JSON protocol record, saved once and reused.

One `.npz` per real set. Array names are prefixed by metric (`swd/level0`, `fid/mu`, …); the record
`__protocol__` holds, per metric, the settings the arrays were computed with, the image count and the
ganeval version. Loading checks the record against the settings asked for and refuses a mismatch with a
message that names the differing setting. A file written by `ganeval stats import` holds FID's `fid/mu` and
`fid/sigma` from another tool; its record says where they came from (`imported`) and has no image count (None).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ganeval.defaults import VERSION
from ganeval.errors import GanevalInputError
from ganeval.files import npz_member_names, read_npz, reading, write_atomically

PROTOCOL_KEY = "__protocol__"
STATS_FORMAT = "ganeval-stats/1"


@dataclass
class Stats:
    """A loaded stats file: `arrays[metric][name]` and `protocol[metric]` (settings, num_images, …)."""

    path: Path
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    protocol: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def imported(self) -> dict[str, Any] | None:
        """Where imported statistics came from (`ganeval stats import`: tool, mode, source file), else None."""
        return self.protocol.get("fid", {}).get("imported")

    def require(self, metric: str, settings: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The metric's arrays, after checking every stored setting equals the one asked for."""
        if metric not in self.protocol:
            if self.imported:
                raise GanevalInputError(
                    f"{self.path}: imported from {_tool(self.imported)}, it holds only FID's mean and covariance, no "
                    f"features: {metric} needs the real images (or `ganeval stats REAL --metrics {metric}`)")
            have = ", ".join(sorted(self.protocol)) or "nothing"
            raise GanevalInputError(f"{self.path}: this stats file holds no {metric} statistics (it holds {have}); "
                                    f"make them with `ganeval stats REAL -o FILE --metrics {metric}`")
        stored = self.protocol[metric]["settings"]
        for key, wanted in settings.items():
            if key not in stored and not (self.imported and key == "precision"):  # another tool's own arithmetic
                raise GanevalInputError(
                    f"{self.path}: its {metric} record does not say which {key} the statistics were computed with, "
                    f"so they cannot be checked against {key}={wanted!r}; recompute the stats file")
            if key in stored and _jsonable(stored[key]) != _jsonable(wanted):
                if self.imported:
                    hint = IMPORTED_SETTING_HINTS.get(key, "ask for the same").format(value=stored[key])
                    raise GanevalInputError(
                        f"{self.path}: statistics imported from {_tool(self.imported)} need {key}={stored[key]!r}, "
                        f"but {key}={wanted!r} was asked for; {hint}")
                raise GanevalInputError(
                    f"{self.path}: stats were computed with {key}={stored[key]!r} but {key}={wanted!r} was asked "
                    f"for; recompute the stats with the same settings")
        return self.arrays[metric]


# How to match a setting of imported statistics, which cannot be recomputed ({value}: the stored one).
IMPORTED_SETTING_HINTS = {
    "resize": "run with --resize {value} (resize='{value}')",
    "weights_sha256": "run with the Inception weights file the statistics were made with (--inception-weights)",
    "extractor": "run with the Inception features (--features inception-v3-tf, the default)",
}


def _tool(imported: Mapping[str, Any]) -> str:
    """The tool (and mode) imported statistics came from, for messages: "clean-fid (mode legacy_pytorch)"."""
    return imported["tool"] + (f" (mode {imported['mode']})" if imported.get("mode") else "")


def _jsonable(value: Any) -> Any:
    """Normalise tuples to lists (and so on) so stored and asked-for settings compare equal."""
    return json.loads(json.dumps(value))


def is_stats_file(source: object) -> bool:
    """Whether `source` names a ganeval stats file (an `.npz` holding a protocol record).

    A path ending in .npz that cannot be read at all is refused here, with the file named (it is neither a stats
    file nor an image array).
    """
    if not isinstance(source, (str, os.PathLike)) or not str(source).lower().endswith(".npz"):
        return False
    if not Path(source).is_file():
        return False
    return PROTOCOL_KEY in npz_member_names(source)


def read_stats(path: str | os.PathLike) -> Stats:
    """Read a stats file written by `save_stats`, checking its record, its image counts and that its arrays hold no
    NaN or inf (each metric's own arrays are checked by the metric: `ganeval.api.load_stats`)."""
    path = Path(path)
    flat = read_npz(path, "ganeval stats file")
    if PROTOCOL_KEY not in flat:
        raise GanevalInputError(f"{path}: not a ganeval stats file (no protocol record; an image array?)")
    with reading(path, "ganeval stats file"):
        record = json.loads(bytes(flat.pop(PROTOCOL_KEY)).decode())
    if not isinstance(record, dict) or record.get("format") != STATS_FORMAT:
        found = record.get("format") if isinstance(record, dict) else None
        raise GanevalInputError(f"{path}: stats format {found!r}, expected {STATS_FORMAT!r}")
    stats = Stats(path=path, protocol=record.get("metrics"))
    if not isinstance(stats.protocol, dict) or not all(
            isinstance(entry, dict) and isinstance(entry.get("settings"), dict) for entry in stats.protocol.values()):
        raise GanevalInputError(f"{path}: damaged stats file (its protocol record has no settings per metric)")
    for key, value in flat.items():
        metric, _, name = key.partition("/")
        stats.arrays.setdefault(metric, {})[name] = value
    for metric in stats.protocol:
        problem = _malformed(metric, stats.arrays.get(metric, {}), stats.protocol[metric])
        if problem:
            raise GanevalInputError(f"{path}: damaged or incomplete stats file: {problem}")
    return stats


def _malformed(metric: str, arrays: dict[str, np.ndarray], record: dict[str, Any]) -> str | None:
    """What is wrong with one metric's image count or array values (None if nothing)."""
    count = record.get("num_images")
    unknown_count = count is None and "imported" in record  # other tools' statistics files do not say
    if not unknown_count and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        return f"{metric}: image count {count!r} is not a positive integer"
    for name, array in arrays.items():
        if array.dtype.kind in "fc" and not np.isfinite(array).all():
            return f"{metric}/{name} holds NaN or inf"
    return None


def save_stats(path: str | os.PathLike, arrays: Mapping[str, Mapping[str, np.ndarray]],
               protocol: Mapping[str, Mapping[str, Any]]) -> None:
    """Write `arrays[metric][name]` and `protocol[metric]` atomically (temporary file, then rename)."""
    path = Path(path)
    if path.suffix.lower() != ".npz":
        raise GanevalInputError(f"-o {path}: a stats file must end in .npz")
    record = {"format": STATS_FORMAT, "ganeval_version": VERSION, "metrics": protocol}
    flat = {f"{metric}/{name}": np.asarray(value) for metric, named in arrays.items() for name, value in named.items()}
    flat[PROTOCOL_KEY] = np.frombuffer(json.dumps(record, sort_keys=True).encode(), dtype=np.uint8)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as file:  # a handle, so numpy does not append ".npz" to the temporary name
            np.savez(file, **flat)

    write_atomically(path, write)
