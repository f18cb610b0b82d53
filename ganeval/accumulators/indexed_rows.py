"""Per-image rows kept with the index of their image, so accumulators that saw disjoint parts of a set merge into
exactly what one accumulator that saw the whole set holds: rows concatenated in image order."""

from __future__ import annotations

from typing import Any

import torch

from ganeval.errors import GanevalInputError


def next_indices(start: int, count: int) -> torch.Tensor:
    """The indices start … start + count − 1 (the images of a batch read in order)."""
    return torch.arange(start, start + count, dtype=torch.int64)


class IndexedRows:
    """Rows of `rows_per_image` per image, stored with the images' indices; `ordered()` concatenates them in
    image-index order whatever order (or process) they arrived in."""

    def __init__(self, rows_per_image: int = 1) -> None:
        self.rows_per_image = rows_per_image
        self._rows: list[torch.Tensor] = []
        self._indices: list[torch.Tensor] = []

    @property
    def num_images(self) -> int:
        """Images whose rows are held."""
        return sum(len(indices) for indices in self._indices)

    def add(self, rows: torch.Tensor, indices: torch.Tensor) -> None:
        """Hold `rows` (len(indices) · rows_per_image of them) of the images `indices`."""
        if rows.shape[0] != len(indices) * self.rows_per_image:
            raise ValueError(f"{rows.shape[0]} rows for {len(indices)} images of {self.rows_per_image} rows each")
        self._rows.append(rows)
        self._indices.append(indices.to(torch.int64).cpu())

    def merge(self, other: IndexedRows) -> None:
        """Add every row `other` holds (images seen by another accumulator, e.g. another process)."""
        if other.rows_per_image != self.rows_per_image:
            raise GanevalInputError(f"cannot merge rows of {other.rows_per_image} per image into {self.rows_per_image}")
        self._rows.extend(other._rows)
        self._indices.extend(other._indices)

    def indices(self) -> torch.Tensor:
        """The image indices held, in image order."""
        return torch.cat(self._indices).sort().values if self._indices else torch.zeros(0, dtype=torch.int64)

    def ordered(self) -> torch.Tensor:
        """All rows in image-index order (an image seen twice is an error: the parts were not disjoint)."""
        if not self._rows:
            raise GanevalInputError("no images were given to the accumulator")
        indices = torch.cat(self._indices)
        rows = torch.cat([rows.to(self._rows[0].device) for rows in self._rows]) if len(self._rows) > 1 \
            else self._rows[0]
        self._rows, self._indices = [rows], [indices]  # later calls, and the peak memory, see one copy
        if len(indices) > 1 and bool((indices[1:] <= indices[:-1]).any()):
            order = indices.argsort()
            if bool((indices[order][1:] == indices[order][:-1]).any()):
                raise GanevalInputError("an image was given twice to one accumulator (merged parts overlap)")
            per_row = (order[:, None] * self.rows_per_image + torch.arange(self.rows_per_image)).reshape(-1)
            rows = rows[per_row.to(rows.device)]
            self._rows, self._indices = [rows], [indices[order]]
        return rows

    def state_dict(self) -> dict[str, Any]:
        """The held rows (on the CPU) and their indices, to send to another process or save."""
        rows = self.ordered().cpu() if self._rows else torch.zeros(0)
        return {"rows_per_image": self.rows_per_image, "rows": rows, "indices": self.indices()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the held rows by those of `state_dict()`."""
        self.rows_per_image = int(state["rows_per_image"])
        self._rows, self._indices = [], []
        if len(state["indices"]):
            self.add(state["rows"], state["indices"])
