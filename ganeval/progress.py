"""The one progress display of ganeval and pggan: a line on stderr with the count, rate and ETA of long work.

On a terminal a bar redraws one line in place (`\\r`) and leaves it open until it closes; `end_open_line()` ends
such a line, so that an error or a note printed meanwhile starts on a line of its own instead of being glued to the
bar. Elsewhere (stderr redirected to a log) nothing is redrawn: only `milestone()` writes, one plain line each.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_open_line: TextIO | None = None  # the stream whose last line is a bar still being redrawn
_open_width = 0  # the length of the text drawn last on that line


def draw_in_place(stream: TextIO, text: str) -> None:
    """Replace the current line of `stream` with `text` (blanking what a longer previous text left), leaving the
    line open."""
    global _open_line, _open_width
    stream.write("\r" + text.ljust(_open_width if stream is _open_line else 0))
    stream.flush()
    _open_line, _open_width = stream, len(text)


def end_open_line() -> None:
    """End a bar's line that is still open, so that what is printed next starts on a fresh line."""
    global _open_line
    if _open_line is not None:
        _open_line.write("\n")
        _open_line.flush()
        _open_line = None


def _amount(value: float) -> str:
    """A count as shown: whole numbers with thousands separators, fractional ones (e.g. kimg) to one decimal."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _duration(seconds: float) -> str:
    """h:mm:ss, or m:ss under an hour."""
    if seconds == float("inf"):
        return "?"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts images (or kimg, or other units) towards a known total and shows the count, rate and ETA on stderr.

    `enabled`: True redraws the line in place, False shows nothing, None (the default) redraws in place when the
    stream is a terminal and otherwise writes only `milestone()` lines. The rate and ETA count from `initial` (work
    done before, e.g. by the run being resumed). `postfix` is free text shown after the numbers. `eta`, given the
    count, says the seconds left where the work's cost per unit is known to change (pggan's schedule); without it
    the ETA is what is left at the average rate so far.
    """

    def __init__(self, total: float | None, desc: str, unit: str = "img", stream: TextIO | None = None,
                 enabled: bool | None = None, *, initial: float = 0,
                 eta: Callable[[float], float] | None = None) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.in_place = self.stream.isatty() if enabled is None else enabled
        self.log_lines = enabled is None and not self.in_place
        self.initial = self.count = initial
        self.postfix = ""
        self.eta = eta
        self.start = time.perf_counter()
        self._last_draw = 0.0

    def update(self, n: float, postfix: str | None = None) -> None:
        """Advance by `n` units (and replace the postfix, if given); redraw if due (at most 5× a second)."""
        self.count += n
        if postfix is not None:
            self.postfix = postfix
        now = time.perf_counter()
        if self.in_place and (now - self._last_draw > 0.2 or (self.total is not None and self.count >= self.total)):
            self._last_draw = now
            draw_in_place(self.stream, self.text(now))

    def milestone(self) -> None:
        """Show the state now (e.g. at the end of a training tick): redrawn on a terminal, one plain line in a log."""
        if self.in_place:
            self._last_draw = time.perf_counter()
            draw_in_place(self.stream, self.text(self._last_draw))
        elif self.log_lines:
            self.stream.write(self.text(time.perf_counter()) + "\n")
            self.stream.flush()

    def text(self, now: float) -> str:
        """The line as shown: description, count (of total), rate, ETA and postfix."""
        rate = (self.count - self.initial) / max(now - self.start, 1e-9)
        shown_rate = f"{rate:,.0f}" if rate >= 10 else f"{rate:.2f}"
        if self.total:
            if self.eta is not None:
                eta = self.eta(self.count)
            else:
                eta = max(self.total - self.count, 0) / rate if rate > 0 else float("inf")
            text = (f"{self.desc}: {_amount(self.count)}/{_amount(self.total)} {self.unit} "
                    f"[{100 * self.count / self.total:3.0f}%, {shown_rate} {self.unit}/s, ETA {_duration(eta)}]")
        else:
            text = f"{self.desc}: {_amount(self.count)} {self.unit} [{shown_rate} {self.unit}/s]"
        return f"{text}  {self.postfix}" if self.postfix else text

    def close(self) -> None:
        """Finish the line."""
        if self.in_place:
            draw_in_place(self.stream, self.text(time.perf_counter()))
            end_open_line()
