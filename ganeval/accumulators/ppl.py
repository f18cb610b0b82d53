"""The perceptual path length's accumulator: each sample's LPIPS distance over ε², drawn from a generator.

It is fed the generator with a batch of sample indices (`update(generator, indices)`: a generator set's batch, see
`ganeval.generators`), draws each sample's latents and t from (seed, index), renders both ends of the step with the
same noise (torch's RNG seeded alike before each half), and keeps the distances by sample index, so that neither the
batch size nor the number of processes changes a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganeval.accumulators.indexed_rows import IndexedRows
from ganeval.defaults import STREAM_PPL
from ganeval.errors import GanevalInputError
from ganeval.generators import check_mapping, find_latent_dim, generate, module_device
from ganeval.kernels.ppl import check_lpips_size, lerp, lpips_pixels, lpips_size, sample_draws, slerp


class PathLengths:
    """Per-sample perceptual path lengths LPIPS(G(at t), G(at t + ε)) / ε² of samples 0 … limit − 1.

    `distance`: an `ganeval.extractors.lpips.LPIPS` (pairs of [0, 255] float batches → distances). `space` "z":
    StyleGAN's slerp between the normalised latents, the generator called on them; "w": lerp between
    `generator.mapping` of them, `generator.synthesis` called on the result. `sampling` "end": t = 0; "full":
    t ~ U(0, 1). `generator`: the generator it will be fed, checked now (its latent length, found from its
    attributes when `latent_dim` is None; its mapping and synthesis for space "w").
    """

    def __init__(self, distance: Any, *, space: str, sampling: str, epsilon: float, crop: bool,
                 value_range: tuple[float, float], seed: int, limit: int, latent_dim: int | None = None,
                 generator: Any = None, name: str = "generator", device: str | torch.device = "cpu") -> None:
        self.distance, self.space, self.sampling, self.epsilon, self.crop = distance, space, sampling, epsilon, crop
        self.value_range, self.seed, self.limit, self.name = value_range, seed, limit, name
        self.latent_dim = find_latent_dim(generator, latent_dim, name)
        if space == "w":
            check_mapping(generator, name, "space='w'")
        self.device = torch.device(device)
        self.reset()

    def reset(self) -> None:
        """Forget every sample."""
        self._distances = IndexedRows()
        self.resolution: tuple[int, int] | None = None  # the generator's images, H × W

    def update(self, generator: Any, indices: torch.Tensor) -> None:
        """Draw the samples `indices` (those below `limit`) from `generator` and keep their distances."""
        indices = indices[indices < self.limit]
        if not len(indices):
            return
        start = int(indices[0])
        z0, z1, t = sample_draws(self.seed, STREAM_PPL, indices, self.latent_dim, with_t=True)
        z0, z1 = z0.to(self.device), z1.to(self.device)
        t = (t if self.sampling == "full" else torch.zeros_like(t)).to(self.device)
        if self.space == "w":
            mapped = self._mapped(generator, torch.cat([z0, z1]), start)
            w0, w1 = mapped.chunk(2)
            steps = t.view(-1, *[1] * (mapped.ndim - 1))
            ends = (lerp(w0, w1, steps), lerp(w0, w1, steps + self.epsilon))
            render, what = generator.synthesis, "its synthesis(w)"
        else:
            ends = (slerp(z0, z1, t[:, None]), slerp(z0, z1, t[:, None] + self.epsilon))
            render, what = generator, "the generator"
        first, second = (generate(render, end, seed=self.seed, start=start, device=self.device, name=self.name,
                                  what=what) for end in ends)  # the same torch seed: both ends share their noise
        if first.shape != second.shape:
            raise GanevalInputError(f"{self.name}: {what} returned {tuple(first.shape)} and then "
                                    f"{tuple(second.shape)} for the two ends of the same samples")
        resolution = (int(first.shape[2]), int(first.shape[3]))
        if self.resolution is None:
            check_lpips_size(*resolution, self.crop, self.name)
            self.resolution = resolution
        elif resolution != self.resolution:
            raise GanevalInputError(f"{self.name}: {what} returned {resolution[0]}×{resolution[1]} images after "
                                    f"{self.resolution[0]}×{self.resolution[1]} ones")
        distances = self.distance(lpips_pixels(first, self.value_range, self.crop),
                                  lpips_pixels(second, self.value_range, self.crop)) / self.epsilon ** 2
        self._distances.add(distances.float().cpu(), indices)

    def _mapped(self, generator: Any, latents: torch.Tensor, start: int) -> torch.Tensor:
        """`generator.mapping(latents)`, checked: one finite row (vector, or per-layer vectors) per latent."""
        mapping = generator.mapping
        with torch.no_grad():
            mapped = mapping(latents.to(module_device(getattr(mapping, "__self__", mapping)) or self.device))
        if not isinstance(mapped, torch.Tensor) or mapped.ndim not in (2, 3) or mapped.shape[0] != len(latents):
            shape = tuple(mapped.shape) if isinstance(mapped, torch.Tensor) else type(mapped).__name__
            raise GanevalInputError(f"{self.name}: its mapping(z) returned {shape} for {len(latents)} latents; "
                                    f"expected {len(latents)} × w_dim (or {len(latents)} × layers × w_dim)")
        if not mapped.dtype.is_floating_point or not torch.isfinite(mapped).all():
            raise GanevalInputError(f"{self.name}: its mapping(z) returned non-finite or non-float values")
        return mapped.float().to(self.device)

    def merge(self, other: PathLengths) -> None:
        """Add the samples another accumulator (another process) drew."""
        self._distances.merge(other._distances)
        self.resolution = self.resolution or other.resolution

    def compute(self) -> dict[str, Any]:
        """{"distances": float32 array in sample order, "resolution": (H, W), "lpips_size": (H, W)}."""
        distances = self._distances.ordered().numpy().astype(np.float32)
        assert self.resolution is not None  # set with the first distance
        rows, columns, _ = lpips_size(*self.resolution, self.crop)
        return {"distances": distances, "resolution": self.resolution, "lpips_size": (rows, columns)}

    def state_dict(self) -> dict[str, Any]:
        return {"distances": self._distances.state_dict(), "resolution": self.resolution}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._distances.load_state_dict(state["distances"])
        self.resolution = None if state["resolution"] is None else tuple(state["resolution"])
