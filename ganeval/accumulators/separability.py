"""Linear separability's accumulator: each sample's latent z, its mapped w (where the generator has a mapping) and
every attribute classifier's class probabilities of its image, drawn from a generator.

It is fed the generator with a batch of sample indices (`update(generator, indices)`: a generator set's batch, see
`ganeval.generators`), draws each sample's z from (seed, index), and keeps the rows by sample index, so that
neither the batch size nor the number of processes changes a number.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganeval.accumulators.indexed_rows import IndexedRows
from ganeval.defaults import STREAM_LS
from ganeval.errors import GanevalInputError
from ganeval.generators import find_latent_dim, generate, module_device
from ganeval.kernels.ppl import lpips_size, sample_draws
from ganeval.kernels.separability import binary_probabilities


class AttributeSamples:
    """z, w and the classifiers' N × 2 probabilities of samples 0 … limit − 1.

    `classifiers`: {attribute name: a module taking N × 3 × H × W float32 images in [−1, 1] (box-averaged down to
    256 px when larger, as the reference feeds its CelebA-HQ classifiers) and returning one logit per image (N or
    N × 1, read as softmax([l, −l])) or two class logits (N × 2)}. `with_w`: also keep `generator.mapping(z)` (its
    last layer's vector when it maps to one per layer, as the reference's dlatents[:, -1]); None: when the generator
    exposes mapping(z) and synthesis(w). `generator`: the generator it will be fed, checked now (its latent length,
    found from its attributes when `latent_dim` is None).
    """

    def __init__(self, classifiers: dict[str, Any], *, value_range: tuple[float, float], seed: int, limit: int,
                 latent_dim: int | None = None, with_w: bool | None = None, generator: Any = None,
                 name: str = "generator", device: str | torch.device = "cpu") -> None:
        self.classifiers, self.value_range, self.seed, self.limit, self.name = (classifiers, value_range, seed, limit,
                                                                                name)
        self.latent_dim = find_latent_dim(generator, latent_dim, name)
        if with_w is None:
            with_w = all(callable(getattr(generator, part, None)) for part in ("mapping", "synthesis"))
        self.with_w = with_w
        self.device = torch.device(device)
        self.reset()

    def reset(self) -> None:
        """Forget every sample."""
        self._z, self._w, self._probabilities = IndexedRows(), IndexedRows(), IndexedRows()
        self.resolution: tuple[int, int] | None = None

    def update(self, generator: Any, indices: torch.Tensor) -> None:
        """Draw the samples `indices` (those below `limit`) from `generator`; keep z, w and the probabilities."""
        indices = indices[indices < self.limit]
        if not len(indices):
            return
        (z,) = sample_draws(self.seed, STREAM_LS, indices, self.latent_dim, count=1)
        images = generate(generator, z.to(self.device), seed=self.seed, start=int(indices[0]), device=self.device,
                          name=self.name)
        if self.resolution is None:
            self.resolution = (int(images.shape[2]), int(images.shape[3]))
        images = self._classifier_input(images)
        probabilities = [self._probabilities_of(name, classifier, images)
                         for name, classifier in self.classifiers.items()]
        self._z.add(z.cpu(), indices)
        self._probabilities.add(torch.stack(probabilities, dim=1).cpu(), indices)  # N × attributes × 2
        if self.with_w:
            mapping = generator.mapping
            with torch.no_grad():
                w = mapping(z.to(module_device(getattr(mapping, "__self__", mapping)) or self.device))
            if not isinstance(w, torch.Tensor) or w.ndim not in (2, 3) or w.shape[0] != len(indices) \
                    or not torch.isfinite(w).all():
                shape = tuple(w.shape) if isinstance(w, torch.Tensor) else type(w).__name__
                raise GanevalInputError(f"{self.name}: its mapping(z) returned {shape} (or non-finite values) for "
                                        f"{len(indices)} latents; expected {len(indices)} × w_dim (or × layers × "
                                        "w_dim)")
            self._w.add((w[:, -1] if w.ndim == 3 else w).float().cpu(), indices)

    def _classifier_input(self, images: torch.Tensor) -> torch.Tensor:
        """Images in [−1, 1], RGB, box-averaged down by H // 256 when larger than 256."""
        rows, columns, factor = lpips_size(images.shape[2], images.shape[3], crop=False)
        images = images.float()
        if factor > 1:
            images = images[:, :, :rows * factor, :columns * factor].reshape(
                images.shape[0], images.shape[1], rows, factor, columns, factor).mean(dim=(3, 5))
        low, high = self.value_range
        images = (images - low) * (2 / (high - low)) - 1
        return images.repeat(1, 3, 1, 1) if images.shape[1] == 1 else images

    def _probabilities_of(self, name: str, classifier: Any, images: torch.Tensor) -> torch.Tensor:
        device = module_device(classifier) or self.device
        with torch.no_grad():
            logits = classifier(images.to(device))
        count = images.shape[0]
        if not isinstance(logits, torch.Tensor) or logits.shape not in ((count,), (count, 1), (count, 2)):
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise GanevalInputError(f"classifier {name!r} returned {shape} for {count} images; expected one logit "
                                    f"per image ({count} or {count} × 1) or two class logits ({count} × 2)")
        if not logits.dtype.is_floating_point or not torch.isfinite(logits).all():
            raise GanevalInputError(f"classifier {name!r} returned non-finite or non-float logits")
        return binary_probabilities(logits).to(self.device)

    def merge(self, other: AttributeSamples) -> None:
        """Add the samples another accumulator (another process) drew."""
        self._z.merge(other._z)
        self._w.merge(other._w)
        self._probabilities.merge(other._probabilities)
        self.resolution = self.resolution or other.resolution

    def compute(self) -> dict[str, Any]:
        """{"z": N × D, "w": N × D_w or None, "probabilities": N × attributes × 2} (float arrays in sample order),
        and the generator's "resolution"."""
        return {"z": self._z.ordered().numpy(), "w": self._w.ordered().numpy() if self.with_w else None,
                "probabilities": self._probabilities.ordered().numpy().astype(np.float64),
                "resolution": self.resolution}

    def state_dict(self) -> dict[str, Any]:
        return {"z": self._z.state_dict(), "w": self._w.state_dict(), "probabilities": self._probabilities.state_dict(),
                "resolution": self.resolution}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._z.load_state_dict(state["z"])
        self._w.load_state_dict(state["w"])
        self._probabilities.load_state_dict(state["probabilities"])
        self.resolution = None if state["resolution"] is None else tuple(state["resolution"])
