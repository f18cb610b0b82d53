"""What the `ganeval` and `pggan` commands share: one-line errors with documented exit codes, the option types that
validate input where it is parsed, the common options, and the output (a table or one JSON object).

Exit codes: 0 success; 1 an unexpected error (a bug: the traceback is printed, please report it); 2 bad input
(an option, argument, file or folder; one `error:` line says which and why); 3 training diverged (pggan);
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from ganeval.defaults import MAX_SEED
from ganeval.errors import GanevalInputError, SharedInputError
from ganeval.progress import end_open_line


def other_work_on_this_machine() -> int:
    """Processes besides this one that are running or ready to run now (Linux: /proc/loadavg's runnable count; a
    CPU-bound neighbour always is). 0 where the OS does not say."""
    try:
        return max(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1, 0)
    except (OSError, IndexError, ValueError):
        return 0


def sleep_sooner_when_shared() -> None:
    """Let torch's OpenMP threads sleep after 1,000 spins instead of libgomp's 300,000 when other processes are
    running at start, unless the user chose (GOMP_SPINCOUNT, OMP_WAIT_POLICY).

    A thread that reaches a barrier spins for the others; when other processes take cores, it spins for one that
    was descheduled. Measured (benchmarks/RESULTS.md, pggan training at 16×16 on 2 cores): with one or two busy
    processes beside it, ~48 img/s with the default and ~98 with 1,000 spins; idle, ~200 with the default and
    ~175 with 1,000. So the count is lowered only when the machine is busy. libgomp reads it once, when torch
    loads, which the commands do only when they run.
    """
    chosen = "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ
    if not chosen and other_work_on_this_machine() >= 1:
        os.environ["GOMP_SPINCOUNT"] = "1000"


sleep_sooner_when_shared()

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130
CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 110}


def fail(message: str, exit_code: int, error: BaseException | None = None) -> None:
    """Print one `error:` line on stderr (after ending an open progress bar) and exit; under torchrun, only the
    process that should report `error` prints (`torchrun_prefix`), and every one exits with the code."""
    prefix = torchrun_prefix(error)
    if prefix is not None:
        end_open_line()
        click.echo(f"error: {prefix}" + " ".join(str(message).split()), err=True)
    else:  # torchrun stops every process when the first one ends: leave the reporting one time to print
        time.sleep(TORCHRUN_REPORT_SECONDS)
    leave_process_group()
    sys.exit(exit_code)


def leave_process_group() -> None:
    """Destroy this process's torch.distributed group, if it joined one, before the interpreter exits.

    Left to interpreter shutdown, gloo's worker threads can be torn down while joinable, and C++ aborts the process
    ("terminate called without an active exception", SIGABRT) in place of its exit code: seen on a busy machine
    when rank 0 reported an error while rank 1 still waited to exit.
    """
    distributed = sys.modules.get("torch.distributed")
    if distributed is not None and distributed.is_available() and distributed.is_initialized():
        distributed.destroy_process_group()


TORCHRUN_REPORT_SECONDS = 2.0  # how long a process that leaves its error to another waits before it exits


def torchrun_prefix(error: BaseException | None) -> str | None:
    """What precedes this process's error line under torchrun ("" or "rank N: "), or None when another process
    reports it: an error every process raised together (`SharedInputError`, which names its rank) by rank 0; one met
    before the processes joined their group (a bad option: every process of a machine meets it alike) by each
    machine's first process; any other by the process that met it."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return ""
    rank = int(os.environ.get("RANK", "0"))
    if isinstance(error, SharedInputError):
        return "" if rank == 0 else None
    distributed = sys.modules.get("torch.distributed")
    joined = distributed is not None and distributed.is_available() and distributed.is_initialized()
    if not joined and int(os.environ.get("LOCAL_RANK", "0")) != 0:
        return None
    return f"rank {rank}: " if rank else ""


def note(message: Warning | str, *args: Any, **kwargs: Any) -> None:
    """Show a warning as one `note:` line on stderr."""
    end_open_line()
    click.echo("note: " + " ".join(str(message).split()), err=True)


class CommandGroup(click.Group):
    """A click group whose failures are one `error:` line on stderr with the exit codes of this module's docstring.

    Usage errors (bad option values, unknown options, missing arguments) name the option and what it accepts,
    and point at `--help`; exceptions listed in `exit_codes` are bad input or known failures; warnings become
    `note:` lines. Anything else is a bug and keeps its traceback.
    """

    def __init__(self, *args: Any, exit_codes: dict[type[BaseException], int] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("context_settings", CONTEXT_SETTINGS)
        super().__init__(*args, **kwargs)
        self.exit_codes = {GanevalInputError: EXIT_BAD_INPUT, **(exit_codes or {})}

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        """Run the command line; exit with 0 or one of the documented codes."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        with warnings.catch_warnings():
            warnings.simplefilter("once")
            warnings.showwarning = note
            try:
                result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            except click.exceptions.NoArgsIsHelpError as error:
                click.echo(error.ctx.get_help() if error.ctx else error.format_message())
                sys.exit(0)
            except click.ClickException as error:
                context = getattr(error, "ctx", None)
                hint = f" (see '{context.command_path} --help')" if isinstance(error, click.UsageError) and context \
                    else ""
                fail(error.format_message() + hint, EXIT_BAD_INPUT, error)
            except (click.exceptions.Abort, KeyboardInterrupt):
                fail("interrupted", EXIT_INTERRUPTED)
            except tuple(self.exit_codes) as error:
                code = next(code for kind, code in self.exit_codes.items() if isinstance(error, kind))
                fail(str(error), code, error)
        leave_process_group()
        sys.exit(result if isinstance(result, int) else 0)


# ---------------------------------------------------------------------------------------------------------------
# Option types: every value is checked where it is parsed, and a bad one is named with what is accepted.

SEED = click.IntRange(0, MAX_SEED)


def at_least(minimum: int) -> click.IntRange:
    """An integer option type with a lower bound."""
    return click.IntRange(min=minimum)


class DeviceType(click.ParamType):
    """cpu, cuda, cuda:N (or auto): checked against this machine when parsed."""

    name = "device"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ganeval.devices import resolve_device

        try:
            resolve_device(None if value == "auto" else value)
        except GanevalInputError as error:
            self.fail(str(error), param, ctx)
        return value


class SeedList(click.ParamType):
    """Comma-separated seeds, each 0 … 2³² − 1, at least one, no repeats."""

    name = "seeds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[int]:
        if isinstance(value, list):
            return value
        seeds = []
        for part in str(value).split(","):
            try:
                seed = int(part.strip())
            except ValueError:
                self.fail(f"{part.strip()!r} is not an integer seed (give e.g. 1000,1001,1002)", param, ctx)
            if not 0 <= seed <= MAX_SEED:
                self.fail(f"seed {seed} is outside 0 … {MAX_SEED}", param, ctx)
            if seed in seeds:
                self.fail(f"seed {seed} is given twice", param, ctx)
            seeds.append(seed)
        return seeds


class OutputPath(click.ParamType):
    """A file (with one of `suffixes`) or folder to be written: its place is checked to be writable when parsed,
    before any work is done for it."""

    name = "path"

    def __init__(self, *, suffixes: tuple[str, ...] = (), folder: bool = False, folder_ok: bool = False) -> None:
        self.suffixes, self.folder, self.folder_ok = suffixes, folder, folder_ok

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ganeval.files import probe_writable

        path = Path(value)
        as_folder = self.folder or (self.folder_ok and (path.is_dir() or not path.suffix))
        if not as_folder and self.suffixes and path.suffix.lower() not in self.suffixes:
            accepted = " or ".join(self.suffixes) + (" (or a folder)" if self.folder_ok else "")
            self.fail(f"{value}: expected a path ending in {accepted}", param, ctx)
        try:
            probe_writable(path, folder=as_folder)
        except GanevalInputError as error:
            self.fail(str(error), param, ctx)
        return str(value)


def _check_value_range(ctx: click.Context, param: click.Parameter, value: tuple[float, float] | None
                       ) -> tuple[float, float] | None:
    if value is not None and not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
        raise click.BadParameter(f"{value[0]:g} {value[1]:g}: expected two finite numbers LOW < HIGH, e.g. -1 1",
                                 ctx, param)
    return value


def common_parameters() -> list[click.Option]:
    """--num-images, --batch-size, --device, --seed, --value-range, --json and --progress/--no-progress."""
    return [
        click.Option(["--num-images"], type=at_least(1), default=None,
                     help="Use the first N images of each set (default: all of them)."),
        click.Option(["--batch-size"], type=at_least(1), default=64, show_default=True,
                     help="Images per batch; lower it if memory runs out."),
        click.Option(["--device"], type=DeviceType(), default=None,
                     help="cpu, cuda, cuda:1, … (default: cuda when available, else cpu)."),
        click.Option(["--seed"], type=SEED, default=0, show_default=True,
                     help="Seed of every random choice (0 … 4294967295); the same seed gives the same number on the "
                          "same device."),
        click.Option(["--value-range"], type=(float, float), default=None, callback=_check_value_range,
                     metavar="LOW HIGH",
                     help="What black and white are in float .npy/.npz arrays (or a generator's output), e.g. -1 1 "
                          "or 0 1 (uint8 is 0 255)."),
        click.Option(["--json", "as_json"], is_flag=True, help="Print exactly one JSON object on stdout."),
        click.Option(["--progress/--no-progress"], default=True, show_default=True,
                     help="Progress bar on stderr (only drawn when stderr is a terminal)."),
    ]


def emit(result: dict[str, Any], as_json: bool, rows: Sequence[tuple[str, str]]) -> None:
    """Print the result: one JSON object (--json) or a two-column table of (label, value) rows."""
    if as_json:
        click.echo(json.dumps(result))
        return
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        click.echo(f"{label:<{width}}  {value}")
