"""A small progress bar on stderr for long work (images/s and ETA), silent when stderr is not a terminal.

A bar redraws one line in place (`\\r`) and leaves it open until it closes; `end_open_line()` ends such a line, so
that an error or a note printed meanwhile starts on a line of its own instead of being glued to the bar.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_open_line: TextIO | None = None  # the stream whose last line is a bar still being redrawn


def draw_in_place(stream: TextIO, text: str) -> None:
    """Replace the current line of `stream` with `text`, leaving the line open."""
    global _open_line
    stream.write("\r" + text)
    stream.flush()
    _open_line = stream


def end_open_line() -> None:
    """End a bar's line that is still open, so that what is printed next starts on a fresh line."""
    global _open_line
    if _open_line is not None:
        _open_line.write("\n")
        _open_line.flush()
        _open_line = None


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
            text = (f"{self.desc}: {self.count}/{self.total} {self.unit} "
                    f"[{100 * self.count / self.total:3.0f}%, {rate:,.0f} {self.unit}/s, ETA {eta:,.0f} s]")
        else:
            text = f"{self.desc}: {self.count} {self.unit} [{rate:,.0f} {self.unit}/s]"
        draw_in_place(self.stream, text)

    def close(self) -> None:
        """Finish the line."""
        if self.enabled:
            self._draw(time.perf_counter())
            end_open_line()
