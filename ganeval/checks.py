"""Argument checks shared by the metrics, the sources and the commands, each naming the argument it refuses.

Import-free (numpy's integers are `numbers.Integral`), so the metric definitions and the command line can check
their options without loading numpy or torch.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from ganeval.defaults import MAX_SEED
from ganeval.errors import GanevalInputError


def check_seed(seed: Any, name: str = "seed") -> int:
    """Refuse a seed that is not an integer in [0, 2**32 − 1] (the range every random generator here accepts)."""
    if isinstance(seed, bool) or not isinstance(seed, Integral) or not 0 <= seed <= MAX_SEED:
        raise GanevalInputError(f"{name} must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return int(seed)


def check_at_least(name: str, value: Any, minimum: int = 1) -> int:
    """Refuse a count or size below `minimum` (or not an integer), naming the argument."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise GanevalInputError(f"{name} must be at least {minimum} (an integer), got {value!r}")
    return int(value)


def check_value_range(value_range: Any) -> None:
    """Refuse a value range that is not two finite numbers, low < high."""
    try:
        low, high = (float(value) for value in value_range)
    except (TypeError, ValueError):
        raise GanevalInputError(f"value_range must be two numbers (low, high), got {value_range!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise GanevalInputError(f"value_range must be two finite numbers with low < high, got {value_range!r}")


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Refuse a value that is not one of `choices`, naming the argument and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise GanevalInputError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def check_number(name: str, value: Any) -> float:
    """Refuse a value that is not a finite real number."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise GanevalInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)
