"""Long work says what it is doing: SWD's Wasserstein phase has a progress line, and sets read whole whose sizes
differ by a large factor get a note saying what `num_images` would save."""

import io
import sys
import warnings

import pytest

import ganeval
from tests.helpers import smooth_images


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_swd_wasserstein_phase_shows_its_levels_on_a_terminal(monkeypatch):
    real, fake = smooth_images(8, 32, seed=1), smooth_images(8, 32, seed=2)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = ganeval.swd(real, fake, device="cpu", progress=True)
    monkeypatch.undo()
    assert "SWD of 1,024 and 1,024 descriptors per level: 2/2 levels" in terminal.getvalue()
    assert shown == ganeval.swd(real, fake, device="cpu")  # the same numbers without the line


def test_sets_of_very_different_sizes_get_a_note_naming_num_images():
    real, fake = smooth_images(40, 32, seed=1), smooth_images(8, 32, seed=2)
    with pytest.warns(UserWarning, match=r"has 40 images and FAKE 8 \(5×\).*num_images=8\) would read 8 of each"):
        ganeval.swd(real, fake, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ganeval.swd(real, fake, device="cpu", num_images=8)  # bounded: nothing to say
        ganeval.swd(real[:16], fake, device="cpu")  # 2× apart: nothing to say
