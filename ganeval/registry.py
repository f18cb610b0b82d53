"""The metric registry: the one place that says which metrics exist and which options each takes.

`ganeval.evaluate`, `ganeval stats`, the one-metric functions (`ganeval.swd(…)`, …), the commands (`ganeval eval
--metrics …`, `ganeval swd …`) and the stats file's checks are all derived from it. A metric is a class (see
`ganeval.metrics.base.Metric`) registered with `@register_metric`:

* the built-in metrics are the modules of the package `ganeval.metrics`, one file each;
* another package adds metrics by declaring an entry point in the group `ganeval.metrics`, naming the module that
  registers them (`toy = "toy_package.metrics"`) or the class itself (`toy = "toy_package.metrics:ToyMetric"`).

Both are found the first time the registry is asked. Metric modules import no torch and no numpy at module level
(the arithmetic sits in `ganeval.kernels` and `ganeval.accumulators`, loaded on first use), so listing the metrics and
their options for `--help` takes milliseconds.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import warnings
from dataclasses import dataclass
from typing import Any, TypeVar

from ganeval.checks import check_at_least, check_choice, check_number
from ganeval.errors import GanevalInputError

ENTRY_POINT_GROUP = "ganeval.metrics"
BUILT_IN_PACKAGE = "ganeval.metrics"
KINDS = ("int", "float", "str", "bool", "path", "features")

MetricClass = TypeVar("MetricClass", bound=type)


@dataclass(frozen=True)
class Option:
    """One keyword option of a metric: its default, what it means, and how it is checked and spelled.

    `kind`: "int", "float", "str" (with `choices`), "bool", "path" (a file) or "features" (an extractor's name, or
    from Python a torch module). `keyword`: its name in the one-metric function where that differs (`k` for
    `pr_k`). `flag`: its command-line flag where that differs from `--name-with-dashes`; "" keeps it Python-only.
    `stored`: it decides what a stats file stores, so `ganeval stats` takes it and a stats file records it.
    """

    default: Any
    help: str
    kind: str = "int"
    minimum: int | None = None
    choices: tuple[str, ...] | None = None
    keyword: str | None = None
    flag: str | None = None
    stored: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Option kind must be one of {', '.join(KINDS)}, got {self.kind!r}")

    def check(self, name: str, value: Any) -> None:
        """Refuse a value of the wrong kind or out of range (GanevalInputError naming the option); None passes
        where None is the default."""
        if value is None and self.default is None:
            return
        if self.kind == "int":
            check_at_least(name, value, self.minimum if self.minimum is not None else -2**63)
        elif self.kind == "float":
            check_number(name, value)
        elif self.kind == "str" and self.choices is not None:
            check_choice(name, value, self.choices)
        elif self.kind == "bool" and not isinstance(value, bool):
            raise GanevalInputError(f"{name} must be True or False, got {value!r}")


_registered: dict[str, type] = {}
_discovered = False


def register_metric(metric: MetricClass) -> MetricClass:
    """Class decorator: make `metric` (a `ganeval.metrics.base.Metric` subclass) known by its `name`."""
    name = getattr(metric, "name", None)
    if not isinstance(name, str) or not name.isidentifier():
        raise TypeError(f"{metric.__qualname__}: a metric's name must be a Python identifier, got {name!r}")
    other = _registered.get(name)
    if other is not None and other is not metric:
        raise TypeError(f"{metric.__module__}.{metric.__qualname__}: the metric name {name!r} is taken by "
                        f"{other.__module__}.{other.__qualname__}")
    _registered[name] = metric
    return metric


def metrics() -> dict[str, type]:
    """Every registered metric by name: the built-in ones (in module order), then those of entry points."""
    _discover()
    return dict(_registered)


def metric_class(name: str) -> type:
    """The metric registered as `name` (GanevalInputError listing the known ones otherwise)."""
    known = metrics()
    if name not in known:
        raise GanevalInputError(f"unknown metric {name!r}; choose from {', '.join(known)}")
    return known[name]


def _discover() -> None:
    """Import the built-in metric modules, then every entry point of the group, once per process."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    package = importlib.import_module(BUILT_IN_PACKAGE)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_") and module.name != "base":
            importlib.import_module(f"{BUILT_IN_PACKAGE}.{module.name}")
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        where = f"the {ENTRY_POINT_GROUP} entry point {entry.name} = {entry.value}"
        try:
            loaded = entry.load()
            if isinstance(loaded, type) and loaded not in _registered.values():
                register_metric(loaded)
        except Exception as error:  # another package's fault: named, and only its metrics are missing
            warnings.warn(f"{where} cannot be loaded ({type(error).__name__}: {error}); its metric is unavailable",
                          stacklevel=2)
            continue
        if entry.name not in _registered:
            warnings.warn(f"{where} registers no metric named {entry.name!r}", stacklevel=2)
