"""Sample grids that read on screen: images tiled in rows, each enlarged by a whole factor with nearest neighbour so
that its shorter side is at least MIN_SAMPLE_PIXELS (a 32-px sample ×4). ganeval's report and pggan's sample grids
and figures share it."""

from __future__ import annotations

import math

import numpy as np

MIN_SAMPLE_PIXELS = 128  # a sample's shorter side in a grid, at least


def upscale_factor(height: int, width: int) -> int:
    """The whole factor that brings a sample's shorter side to at least MIN_SAMPLE_PIXELS (1 for large images)."""
    return max(1, math.ceil(MIN_SAMPLE_PIXELS / min(height, width)))


def image_grid(images: np.ndarray, columns: int) -> np.ndarray:
    """uint8 NHWC images as one H×W×C grid, `columns` to a row, no padding, each enlarged by `upscale_factor` with
    nearest neighbour; a short last row ends in white."""
    count, height, width = images.shape[:3]
    factor = upscale_factor(height, width)
    enlarged = images.repeat(factor, axis=1).repeat(factor, axis=2)
    rows = math.ceil(count / columns)
    cells = np.full((rows * columns, *enlarged.shape[1:]), 255, np.uint8)
    cells[:count] = enlarged
    return cells.reshape(rows, columns, *enlarged.shape[1:]).transpose(0, 2, 1, 3, 4).reshape(
        rows * enlarged.shape[1], columns * enlarged.shape[2], enlarged.shape[3])
