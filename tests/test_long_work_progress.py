"""Long work says what it is doing: SWD's Wasserstein phase and the k-NN spheres of precision/recall and
density/coverage have a progress line, and sets read whole whose sizes
differ by a large factor get a note saying what `num_images` would save."""

import io
import sys
import warnings

import pytest
import torch

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


@pytest.mark.parametrize("kernel", ["precision_recall_from_features", "density_coverage_from_features"])
def test_the_k_nearest_neighbour_phase_counts_its_blocks_on_a_terminal(monkeypatch, kernel):
    # 10 real and 7 fake features in blocks of 4: the real set's k-NN passes 3 row blocks × the blocks on and above
    # the diagonal (3 + 2 + 1 = 6), the fake set's 2 + 1 = 3, the real × fake pass 3 × 2 = 6: 15 blocks.
    from ganeval.kernels import neighbours

    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(10, 5, generator=generator), torch.randn(7, 5, generator=generator)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    shown = getattr(neighbours, kernel)(real, fake, k=2, block_size=4, progress=True)
    monkeypatch.undo()
    assert "k-NN spheres of 10 real and 7 fake features: 15/15 blocks" in terminal.getvalue()
    assert shown == getattr(neighbours, kernel)(real, fake, k=2, block_size=4)  # the same numbers without the line


def test_sets_of_very_different_sizes_get_a_note_naming_num_images():
    real, fake = smooth_images(40, 32, seed=1), smooth_images(8, 32, seed=2)
    with pytest.warns(UserWarning, match=r"has 40 images and FAKE 8 \(5×\).*num_images=8\) would read 8 of each"):
        ganeval.swd(real, fake, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ganeval.swd(real, fake, device="cpu", num_images=8)  # bounded: nothing to say
        ganeval.swd(real[:16], fake, device="cpu")  # 2× apart: nothing to say
