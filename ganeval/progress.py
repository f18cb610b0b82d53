"""A small progress bar on stderr for long work (images/s and ETA), silent when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Counts images (or other units) towards a known total and redraws one stderr line at most 5× a second."""

    def __init__(self, total: int | None, desc: str, unit: str = "img", stream: TextIO | None = None,
                 enabled: bool | None = None) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.count = 0
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, n: int) -> None:
        """Advance by `n` units and redraw if due."""
        self.count += n
        now = time.perf_counter()
        if self.enabled and (now - self._last_draw > 0.2 or self.count == self.total):
            self._last_draw = now
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        rate = self.count / elapsed
        if self.total:
            eta = (self.total - self.count) / rate if rate > 0 else float("inf")
            text = (f"\r{self.desc}: {self.count}/{self.total} {self.unit} "
                    f"[{100 * self.count / self.total:3.0f}%, {rate:,.0f} {self.unit}/s, ETA {eta:,.0f} s]")
        else:
            text = f"\r{self.desc}: {self.count} {self.unit} [{rate:,.0f} {self.unit}/s]"
        self.stream.write(text)
        self.stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
