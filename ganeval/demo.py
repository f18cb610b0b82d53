"""Demo image sets made from scikit-image's bundled photographs, so `ganeval demo` needs no data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.ndimage
import skimage.data
from PIL import Image

from ganeval.defaults import MAX_DEMO_RESOLUTION
from ganeval.errors import GanevalInputError

PHOTOGRAPHS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field")


def photo_crops(num_images: int, resolution: int, seed: int) -> np.ndarray:
    """Random square crops (uint8 NHWC) of the bundled colour photographs, each shrunk 2× before cropping."""
    photos = [getattr(skimage.data, name)()[::2, ::2] for name in PHOTOGRAPHS]
    if not 1 <= resolution <= min(min(photo.shape[:2]) for photo in photos):
        raise GanevalInputError(f"--resolution {resolution}: the demo photographs allow 1 to {MAX_DEMO_RESOLUTION}")
    rng = np.random.default_rng(seed)
    crops = np.empty((num_images, resolution, resolution, 3), np.uint8)
    for index in range(num_images):
        photo = photos[rng.integers(len(photos))]
        top = rng.integers(photo.shape[0] - resolution + 1)
        left = rng.integers(photo.shape[1] - resolution + 1)
        crops[index] = photo[top:top + resolution, left:left + resolution]
    return crops


def write_demo_sets(out: Path, num_images: int = 256, resolution: int = 64, seed: int = 0) -> tuple[Path, Path]:
    """Write out/real (crops) and out/fake (other crops blurred by σ = 1 px) as PNG folders; return both paths."""
    if num_images < 2:
        raise GanevalInputError(f"--num-images must be at least 2, got {num_images}")
    real = photo_crops(num_images, resolution, seed)
    fake = photo_crops(num_images, resolution, seed + 1).astype(np.float64)
    fake = np.clip(np.rint(scipy.ndimage.gaussian_filter(fake, sigma=(0, 1, 1, 0))), 0, 255).astype(np.uint8)
    folders = out / "real", out / "fake"
    for folder, images in zip(folders, (real, fake)):
        folder.mkdir(parents=True, exist_ok=True)
        for index, image in enumerate(images):
            Image.fromarray(image).save(folder / f"{index:05d}.png")
    return folders
