"""`ganeval eval --report DIR`: the option, and the report of a finished evaluation with the command as given and
its settings (ganeval/report.py writes it)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import click
from click.core import ParameterSource

from ganeval import registry
from ganeval_cli.common import OutputPath, common_parameters

UNREPORTED = ("as_json", "progress", "report")  # how the run shows itself, not what it computes


def report_option() -> click.Option:
    """--report DIR: also write DIR/report.md and DIR/report.html."""
    return click.Option(["--report"], type=OutputPath(folder=True), default=None, metavar="DIR",
                        help="Also write DIR/report.md and DIR/report.html (the command, its settings, every metric's "
                             "numbers, SWD per level as a bar chart, sample grids of both sets; PNGs beside them).")


def command_line(context: click.Context) -> str:
    """The command as run: its arguments, and the options given on the command line."""
    parts = ["ganeval", context.info_name or "eval"]
    for parameter in context.command.params:
        value = context.params.get(parameter.name)
        if isinstance(parameter, click.Argument):
            parts.append(shlex.quote(str(value)))
            continue
        if context.get_parameter_source(parameter.name) != ParameterSource.COMMANDLINE:
            continue
        if isinstance(parameter, click.Option) and parameter.is_flag:
            flags = parameter.opts if value else parameter.secondary_opts
            parts.extend(flags[:1])
            continue
        shown = ",".join(value) if isinstance(value, list) else " ".join(f"{item:g}" for item in value) \
            if isinstance(value, tuple) else shlex.quote(str(value))
        parts += [parameter.opts[0], shown]
    return " ".join(parts)


def check_report(directory: str | None, sets: Mapping[str, Any]) -> None:
    """Refuse a report folder that cannot take the report, before any work is done (see `check_report_dir`)."""
    if directory is not None:
        from ganeval.report import check_report_dir

        check_report_dir(directory, sets)


def write_eval_report(directory: str, results: Mapping[str, Mapping[str, Any]],
                      rows: Mapping[str, Sequence[tuple[str, str]]], sets: Mapping[str, Any]) -> None:
    """The report of this `ganeval eval` run into `directory`, its settings from the current click context."""
    from ganeval.report import write_report

    context = click.get_current_context()
    chosen = {"real", "fake", "metrics", *(parameter.name for parameter in common_parameters()),
              *(name for metric in results for name in registry.metric_class(metric).all_options())}
    settings = {parameter.name: _shown(context.params[parameter.name]) for parameter in context.command.params
                if parameter.name in chosen and parameter.name not in UNREPORTED}
    write_report(directory, results, rows, sets, command=command_line(context), settings=settings,
                 value_range=context.params.get("value_range"), num_images=context.params.get("num_images"))


def _shown(value: Any) -> str:
    """A setting's value as the report shows it (None: the default the library chooses)."""
    if value is None:
        return "default"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)
