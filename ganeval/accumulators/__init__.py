"""What one pass over an image set accumulates, batch by batch: SWD's descriptors, MS-SSIM's per-pair values and
the feature statistics of FID, KID, IS, PR and DC; and what the metrics that sample a generator themselves draw from
it: PPL's path lengths and LS's latents and attribute probabilities.

Every accumulator follows one protocol (the torchmetrics habit): `update(batch, indices)` with uint8 NCHW RGB images
and their indices in the set, `compute()`, `reset()`, `merge(other)` (the accumulator of the union of two disjoint
parts of a set, also across processes) and `state_dict()` / `load_state_dict()`. Rows kept per image are kept with
their image indices (`indexed_rows`), so a merge never depends on arrival order. The accumulators of a generator
set (`ppl`, `separability`) are fed the generator and its samples' indices instead of images, and draw them. Each
submodule loads on first use.
"""

from ganeval.lazy_names import lazy_submodules

__getattr__, __dir__ = lazy_submodules(__name__, ("features", "indexed_rows", "msssim", "ppl", "separability",
                                                  "swd"))
