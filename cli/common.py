"""What every `ganeval` command shares: the common options, error handling (exit 2) and output (table or JSON)."""

from __future__ import annotations

import functools
import json
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import click

from ganeval.errors import GanevalInputError

EXIT_BAD_INPUT = 2


def common_options(function: Callable) -> Callable:
    """Add --num-images, --batch-size, --device, --seed, --json and --progress/--no-progress."""
    options = [
        click.option("--num-images", type=int, default=None,
                     help="Use the first N images of each set (default: all of them)."),
        click.option("--batch-size", type=int, default=64, show_default=True,
                     help="Images per batch; lower it if memory runs out."),
        click.option("--device", default=None,
                     help="cpu, cuda, cuda:1, … (default: cuda when available, else cpu)."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Seed of every random choice; the same seed gives the same number on the same device."),
        click.option("--json", "as_json", is_flag=True, help="Print exactly one JSON object on stdout."),
        click.option("--progress/--no-progress", default=True, show_default=True,
                     help="Progress bar on stderr (only drawn when stderr is a terminal)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def reports_bad_input(function: Callable) -> Callable:
    """Turn GanevalInputError into one line on stderr and exit code 2; show warnings as one line each."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("once")
            warnings.showwarning = lambda message, *rest, **kw: click.echo(f"note: {message}", err=True)
            try:
                return function(*args, **kwargs)
            except GanevalInputError as error:
                click.echo(f"error: {error}", err=True)
                sys.exit(EXIT_BAD_INPUT)

    return wrapper


def emit(result: dict[str, Any], as_json: bool, rows: Sequence[tuple[str, str]]) -> None:
    """Print the result: one JSON object (--json) or a two-column table of (label, value) rows."""
    if as_json:
        click.echo(json.dumps(result))
        return
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}")
