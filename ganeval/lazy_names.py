"""Names imported on first use (PEP 562), so that importing a package does not pay for torch up front: the public
names of `ganeval` and `pggan`, and the submodules of `ganeval.kernels`, `ganeval.accumulators` and
`ganeval.extractors`."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_names(package: str, homes: dict[str, str], *, submodules: bool = False
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` of `package`, whose public names (`homes`: name → defining module) are
    imported the first time they are asked for; with `submodules`, the names are the package's own submodules."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(homes[name] + (f".{name}" if submodules else ""))
        value = module if submodules else getattr(module, name)
        vars(sys.modules[package])[name] = value  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return __getattr__, __dir__


def lazy_submodules(package: str, names: tuple[str, ...]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` of `package`, whose submodules `names` are imported the first time
    they are asked for as attributes (`kernels.frechet`), so that importing the package loads none of them."""
    return lazy_names(package, {name: package for name in names}, submodules=True)
