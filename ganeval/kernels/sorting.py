"""Sorting SWD's projections on a CPU: ganeval's C radix sort (`ganeval/kernels/_radix.c`) or numpy's, whichever
is faster on this CPU; both give exactly the same values.

Which wins depends on the CPU and numpy's build (measured in benchmarks/RESULTS.md): on an AVX-512 Zen 4 the radix
sort was ≈ 5× `np.sort` on rows of 2¹⁸ keys; on an AVX2 Zen 3, numpy 2.4's SIMD sort is ≈ 2× the radix sort.
"""

from __future__ import annotations

import functools
import time
from typing import Literal

import numpy as np
import torch

from ganeval.errors import GanevalInputError

SortMethod = Literal["torch", "radix", "numpy"]

try:
    from ganeval.kernels import _radix
except ImportError:  # built without a C compiler (the extension is optional): numpy sorts instead
    _radix = None


def radix_sort_built() -> bool:
    """Whether ganeval's C radix sort was compiled at install time (it needs a C compiler; it is optional)."""
    return _radix is not None


def default_sort_method(device: torch.device) -> SortMethod:
    """torch.sort on a GPU; on a CPU the faster of ganeval's C radix sort (where it was built) and numpy's sort."""
    if device.type != "cpu":
        return "torch"
    return fastest_cpu_sort() if radix_sort_built() else "numpy"


@functools.lru_cache(maxsize=1)
def fastest_cpu_sort() -> SortMethod:
    """"radix" or "numpy", whichever sorts SWD-sized float32 rows faster on this CPU, measured once per process.

    Both give exactly the same values; which is faster depends on the CPU and numpy's build: on the AVX-512 Zen 4
    of benchmarks/RESULTS.md the radix sort was ≈ 5× np.sort on rows of 2¹⁸ keys, on an AVX2 Zen 3 numpy 2.4's
    SIMD sort is ≈ 2× the radix sort. Timing four rows of 2¹⁶ keys each way takes a few milliseconds.
    """
    rows = np.random.default_rng(0).standard_normal((2, 5, 1 << 16)).astype(np.float32)
    scratch = np.empty(1 << 16, np.float32)
    seconds = []
    for method, batch in zip(("radix", "numpy"), rows):
        sort = (lambda row: radix_sort(row, scratch)) if method == "radix" else np.ndarray.sort
        sort(batch[0])  # warm-up: caches, first-touch of the scratch buffer
        start = time.perf_counter()
        for row in batch[1:]:
            sort(row)
        seconds.append(time.perf_counter() - start)
    return "radix" if seconds[0] < seconds[1] else "numpy"


def radix_sort(values: np.ndarray, scratch: np.ndarray | None = None) -> None:
    """Sort a contiguous 1-D float32 array in place with ganeval's C radix sort (ganeval/kernels/_radix.c).

    The result is exactly np.sort's (NaN aside); ≈ 5× np.sort's speed on rows of 2¹⁸ floats on the CPU of
    benchmarks/RESULTS.md, and the GIL is released, so threads sort rows in parallel. `scratch`: a float32
    buffer at least as long, reused between calls to save the allocation.
    """
    if _radix is None:
        raise GanevalInputError("ganeval's C radix sort was not built (no C compiler at install time); "
                                "use sort_method='numpy' or reinstall with a C compiler")
    if values.dtype != np.float32 or values.ndim != 1 or not values.flags.c_contiguous:
        raise ValueError("radix_sort sorts contiguous 1-D float32 arrays")
    _radix.sort_float32(values, np.empty_like(values) if scratch is None else scratch)
