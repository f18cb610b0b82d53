"""A generator as a set: for the metrics that sample a generator themselves (perceptual path length, linear
separability) rather than read its images.

Such a set is a `torch.nn.Module` or any callable taking a batch of latents z (N × latent_dim float32) and
returning N × C × H × W float images in the range the metric is told (`value_range`); for the W-space variants it
also exposes `mapping(z)` and `synthesis(w)`. From the command line it is an import string, `package.module:factory`
or `path/to/file.py:factory`, naming a function (or class) that takes no argument and returns the generator.

The driver (`ganeval.api`) opens it as a stream of sample indices — `open_generator`, batches of `batch_size`
indices, batch b read by rank b mod n under torch.distributed as image batches are — and each metric's accumulator
draws its own latents from (seed, sample index) and calls the generator (`generate`), so a number depends neither
on the batch size nor on the number of processes.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from ganeval.checks import check_at_least
from ganeval.devices import resolve_device
from ganeval.errors import GanevalInputError
from ganeval.progress import Progress
from ganeval.sources import Shard, generator_seed

LATENT_ATTRIBUTES = ("z_dim", "latent_size", "latent_dim")  # StyleGAN's, pggan's and a common name


def load_generator(spec: str, name: str = "generator") -> Any:
    """The generator an import string names: `module:factory` (a module importable from here or the current
    folder) or `file.py:factory`, the factory called with no argument."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise GanevalInputError(f"{name}: {spec!r} is not an import string; give package.module:factory or "
                                "path/to/file.py:factory (a function that takes no argument and returns the "
                                "generator)")
    try:
        if module_name.endswith(".py") or "/" in module_name:
            path = Path(module_name)
            if not path.is_file():
                raise GanevalInputError(f"{name}: {spec!r}: {path} does not exist")
            module_spec = importlib.util.spec_from_file_location(path.stem, path)
            if module_spec is None or module_spec.loader is None:
                raise GanevalInputError(f"{name}: {spec!r}: {path} is not a Python file")
            module = importlib.util.module_from_spec(module_spec)
            module_spec.loader.exec_module(module)
        else:
            module = importlib.import_module(module_name)
    except GanevalInputError:
        raise
    except Exception as error:  # the user's module failed to import: say which and why, in one line
        raise GanevalInputError(f"{name}: {spec!r}: cannot import {module_name} ({type(error).__name__}: "
                                f"{error})") from None
    factory: Any = module
    for part in attribute.split("."):
        if not hasattr(factory, part):
            raise GanevalInputError(f"{name}: {spec!r}: {module_name} has no attribute {attribute!r}")
        factory = getattr(factory, part)
    if isinstance(factory, torch.nn.Module):
        return factory
    if not callable(factory):
        raise GanevalInputError(f"{name}: {spec!r} names a {type(factory).__name__}, not a factory of the generator")
    try:
        return factory()
    except Exception as error:
        raise GanevalInputError(f"{name}: {spec!r}: the factory failed ({type(error).__name__}: {error})") from None


def module_device(generator: Any) -> torch.device | None:
    """The device of a module's first parameter or buffer (None: a plain callable, or a module without any)."""
    if isinstance(generator, torch.nn.Module):
        for tensor in (*generator.parameters(), *generator.buffers()):
            return tensor.device
    return None


def find_latent_dim(generator: Any, given: int | None, name: str) -> int:
    """The length of z: `given`, else the generator's `z_dim`, `latent_size` or `latent_dim` attribute."""
    if given is not None:
        return check_at_least("latent_dim", given, 2)
    for attribute in LATENT_ATTRIBUTES:
        value = getattr(generator, attribute, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return check_at_least(f"{name}.{attribute}", value, 2)
    raise GanevalInputError(f"{name}: the length of its latents is unknown: give latent_dim (--latent-dim), or give "
                            f"the generator one of the attributes {', '.join(LATENT_ATTRIBUTES)}")


def check_mapping(generator: Any, name: str, why: str) -> None:
    """Refuse a generator without `mapping(z)` and `synthesis(w)` where `why` needs them."""
    missing = [part for part in ("mapping", "synthesis") if not callable(getattr(generator, part, None))]
    if missing:
        raise GanevalInputError(f"{name}: {why} needs a generator exposing mapping(z) and synthesis(w); it has no "
                                f"{' and no '.join(missing)}")


def generate(function: Callable[[torch.Tensor], Any], latents: torch.Tensor, *, seed: int, start: int,
             device: torch.device, name: str, what: str = "the generator") -> torch.Tensor:
    """`function(latents)` under no_grad with torch's RNG seeded from (seed, `start`) and restored afterwards (so two
    calls with the same `start` draw the same noise), checked: N × C × H × W float images, C 1 or 3, finite."""
    target = module_device(getattr(function, "__self__", function)) or device
    with torch.no_grad(), torch.random.fork_rng(devices=[target] if target.type == "cuda" else []):
        torch.manual_seed(generator_seed(seed, start))
        images = function(latents.to(target))
    return check_images(images, len(latents), name, what).to(device)


def check_images(images: Any, count: int, name: str, what: str = "the generator") -> torch.Tensor:
    """Refuse what a generator returned unless it is `count` finite float images N × C × H × W, C 1 or 3."""
    if not isinstance(images, torch.Tensor):
        raise GanevalInputError(f"{name}: {what} returned a {type(images).__name__}, expected a tensor of images "
                                "N × C × H × W")
    if images.ndim != 4 or images.shape[0] != count or images.shape[1] not in (1, 3):
        raise GanevalInputError(f"{name}: {what} returned shape {tuple(images.shape)} for {count} latents; expected "
                                f"{count} × C × H × W with C = 1 or 3")
    if not images.dtype.is_floating_point:
        raise GanevalInputError(f"{name}: {what} returned {images.dtype} images; the metric needs its float output "
                                "(uint8 rounding hides the difference a small step makes)")
    if not torch.isfinite(images).all():
        raise GanevalInputError(f"{name}: {what} returned NaN or inf pixels (a diverged generator?)")
    return images


class GeneratorSamples:
    """A generator opened as a set: its batches of sample indices (this process's share), with the generator.

    `indexed()` yields (indices, generator) like `ImageBatches.indexed` yields (indices, batch); the metric's
    accumulator draws those samples itself. `height` and `width` are None (the metric learns them on the first
    batch).
    """

    height = width = None

    def __init__(self, generator: Any, num_samples: int, batch_size: int, name: str, device: torch.device,
                 progress: bool, shard: Shard | None) -> None:
        self.generator, self.num_images, self.name, self.device = generator, num_samples, name, device
        rank, world = shard or (0, 1)
        starts = range(0, num_samples, batch_size)
        self._spans = [(start, min(start + batch_size, num_samples)) for number, start in enumerate(starts)
                       if number % world == rank]
        self._progress = progress

    def indexed(self) -> Iterator[tuple[torch.Tensor, Any]]:
        bar = Progress(sum(stop - start for start, stop in self._spans), self.name,
                       enabled=None if self._progress else False)
        try:
            for start, stop in self._spans:
                yield torch.arange(start, stop, dtype=torch.int64), self.generator
                bar.update(stop - start)
        finally:
            bar.close()


def open_generator(source: Any, *, name: str = "generator", num_samples: int, batch_size: int = 64,
                   device: str | torch.device | None = None, progress: bool = False, shard: Shard | None = None
                   ) -> GeneratorSamples:
    """A generator (a module or callable taking z, or an import string naming its factory) as a set of
    `num_samples` samples read in batches of `batch_size` indices; a module is put in eval mode."""
    check_at_least("num_samples", num_samples)
    check_at_least("batch_size", batch_size)
    if isinstance(source, str):
        with _importable_from_here():
            source = load_generator(source, name)
    if not callable(source):
        raise GanevalInputError(f"{name}: expected a generator (a torch.nn.Module or callable taking a batch of "
                                f"latents), got {type(source).__name__}")
    if isinstance(source, torch.nn.Module):
        source.eval()
    return GeneratorSamples(source, num_samples, batch_size, name, resolve_device(device), progress, shard)


@contextlib.contextmanager
def _importable_from_here() -> Iterator[None]:
    """The current folder on sys.path while an import string is resolved (as `python -m` has it)."""
    here = str(Path.cwd())
    added = here not in sys.path
    if added:
        sys.path.insert(0, here)
    try:
        yield
    finally:
        if added:
            sys.path.remove(here)
