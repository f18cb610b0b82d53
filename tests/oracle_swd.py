"""Plain numpy/scipy SWD written from the PGGAN definition (§5); never imports ganeval.

Each step is the obvious one: 2-D convolution with the 5×5 binomial kernel and scipy's 'mirror' borders,
explicit zero insertion for pyr_up, fancy indexing for the neighbourhoods, population std per channel,
matmul, sort, mean of absolute differences. Positions and directions are passed in, so the fast path can be
checked on the same random choices. Pyramid levels are counted from the image height, as the reference's
API.__init__ counts them (image_shape[1], halved while ≥ 16), so non-square images get the reference's levels.
"""

import numpy as np
import scipy.ndimage

BINOMIAL_5X5 = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float64) / 256.0


def pyr_down(images):
    """Blur each (N, C) plane with the binomial kernel, mirror borders, keep even rows and columns."""
    return scipy.ndimage.convolve(images, BINOMIAL_5X5[None, None], mode="mirror")[:, :, ::2, ::2]


def pyr_up(images):
    """Insert zeros to double each side, then blur with 4 × the binomial kernel, mirror borders."""
    n, c, h, w = images.shape
    upsampled = np.zeros((n, c, 2 * h, 2 * w), images.dtype)
    upsampled[:, :, ::2, ::2] = images
    return scipy.ndimage.convolve(upsampled, 4.0 * BINOMIAL_5X5[None, None], mode="mirror")


def laplacian_pyramid(images, num_levels):
    """[image − up(down(image)), …, low-pass residual], in float64."""
    levels = [images.astype(np.float64)]
    for _ in range(1, num_levels):
        levels.append(pyr_down(levels[-1]))
        levels[-2] = levels[-2] - pyr_up(levels[-1])
    return levels


def level_heights(height, min_resolution=16):
    """The height of each level: the image height, halved (integer division) while at least min_resolution."""
    heights = []
    while height >= min_resolution:
        heights.append(height)
        height //= 2
    return heights


def pyramid_shapes(height, width, min_resolution=16, nhood_size=7):
    """The (h, w) of each level of H×W images, or None where the reference code has no valid pyramid.

    None: no level at all; an odd side before a pyr_down (then a level and pyr_up of the next one differ in
    shape and numpy cannot subtract them); or a level narrower than the neighbourhood (a centre drawn from
    [r, side − r) with r = nhood_size // 2 needs side > 2r).
    """
    heights = level_heights(height, min_resolution)
    if not heights:
        return None
    try:
        levels = laplacian_pyramid(np.zeros((1, 1, height, width)), len(heights))
    except ValueError:
        return None
    shapes = [level.shape[2:] for level in levels]
    if min(min(shape) for shape in shapes) <= 2 * (nhood_size // 2):
        return None
    return shapes


def descriptors(level, positions, nhood_size=7):
    """Neighbourhood (C, s, s) around each (y, x) centre of positions[i] in image i, flattened per descriptor."""
    radius = nhood_size // 2
    out = []
    for image, centres in zip(level, positions):
        for y, x in centres:
            out.append(image[:, y - radius:y + radius + 1, x - radius:x + radius + 1].reshape(-1))
    return np.array(out)


def normalize(desc, mean=None, std=None, channels=3):
    """Per colour channel: subtract the mean and divide by the population std over descriptors and pixels."""
    per_channel = desc.reshape(len(desc), channels, -1)
    if mean is None:
        mean = per_channel.mean(axis=(0, 2))
        std = per_channel.std(axis=(0, 2))
    return ((per_channel - mean[:, None]) / std[:, None]).reshape(desc.shape), mean, std


def sliced_wasserstein(a, b, direction_sets):
    """Mean over direction sets of the mean over directions of the 1-D W1 distance of the projections."""
    from scipy.stats import wasserstein_distance

    results = []
    for directions in direction_sets:
        proj_a, proj_b = a @ directions, b @ directions
        if len(a) == len(b):
            results.append(np.mean(np.abs(np.sort(proj_a, axis=0) - np.sort(proj_b, axis=0))))
        else:
            results.append(np.mean([wasserstein_distance(proj_a[:, k], proj_b[:, k])
                                    for k in range(directions.shape[1])]))
    return float(np.mean(results))
