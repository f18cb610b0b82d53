"""The metric commands, made from the metric registry: `ganeval <metric>` for each registered metric, `ganeval eval`
(every metric asked for, in one pass) and `ganeval stats` (the real set's statistics, once). All of them also run as
several processes under torchrun.

A metric's arguments are its sets (`REAL FAKE`, `IMAGES [IMAGES_B]`), its options are its `Option`s (an option's
kind picks the click type that checks it), its help is the metric's `command_help` and its table the metric's
`rows`; a metric registered by another package gets its command like a built-in one.
"""

from __future__ import annotations

import inspect
from typing import Any

import click

from ganeval import registry
from ganeval.registry import Option
from ganeval_cli.common import OutputPath, common_parameters, emit
from ganeval_cli.eval_report import check_report, report_option, write_eval_report
from ganeval_cli.stats_import_command import import_command


def click_option(name: str, spec: Option) -> click.Option:
    """The command-line option of a metric's `Option`: its flag, a click type that checks it, its default and help."""
    flag = spec.flag or "--" + name.replace("_", "-")
    if spec.kind == "bool":
        return click.Option([flag, name], is_flag=True, default=spec.default, help=spec.help)
    if spec.choices is not None:
        kind: Any = click.Choice(spec.choices)
    elif spec.kind == "int":
        kind = click.IntRange(min=spec.minimum)
    elif spec.kind == "float":
        kind = float
    elif spec.kind == "path":
        kind = click.Path(dir_okay=False)
    else:
        kind = str
    return click.Option([flag, name], type=kind, default=spec.default, show_default=spec.default is not None,
                        help=spec.help)


def option_parameters(specs: dict[str, Option]) -> list[click.Option]:
    """The command-line options of these metric options (the Python-only ones, with flag "", left out)."""
    return [click_option(name, spec) for name, spec in specs.items() if spec.flag != ""]


def merged_options(metrics: list[type]) -> dict[str, Option]:
    """Every option of these metrics, once (metrics that share an option share its `Option`)."""
    merged: dict[str, Option] = {}
    for metric in metrics:
        for name, spec in metric.all_options().items():
            if merged.setdefault(name, spec) != spec:
                raise TypeError(f"metric {metric.name}: option {name} differs from another metric's option of that "
                                "name")
    return merged


def metric_list(allowed: list[str]) -> click.ParamType:
    """A comma-separated list of metric names out of `allowed`."""

    class MetricList(click.ParamType):
        name = "metrics"

        def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
            if isinstance(value, list):
                return value
            names = [name.strip() for name in str(value).split(",") if name.strip()]
            unknown = [name for name in names if name not in allowed]
            if unknown or not names:
                self.fail(f"{value!r}: unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from "
                          f"{','.join(allowed)}", param, ctx)
            return list(dict.fromkeys(names))

    return MetricList()


def distributed_device(device: str | None) -> tuple[str | None, bool]:
    """Under torchrun: join the process group; (the device of this rank, whether this rank prints)."""
    from ganeval.distributed import init_from_torchrun, launched_by_torchrun

    if not launched_by_torchrun():
        return device, True
    device, rank, _ = init_from_torchrun(device)
    return device, rank == 0


def set_parameter(argument: str, set_name: str, metric: type) -> click.Parameter:
    """A set of the metric on the command line: an argument (REAL, FAKE, IMAGES …), or for a generator the option
    `--generator MODULE:FACTORY`, an import string the library resolves."""
    from ganeval.metrics.base import GENERATOR

    if set_name == GENERATOR:
        return click.Option([f"--{argument.replace('_', '-')}", argument], required=True, metavar="MODULE:FACTORY",
                            help="The generator: package.module:factory or path/to/file.py:factory, a function (or "
                                 "class) that takes no argument and returns it (a torch module or callable taking a "
                                 "batch of latents z and returning float images in --value-range).")
    return click.Argument([argument], required=set_name not in metric.optional_sets)


def metric_command(metric: type) -> click.Command:
    """`ganeval <metric.name> SETS… [OPTIONS]`: one metric, its table or JSON (exactly its function's dict)."""

    def run(as_json: bool, **values: Any) -> None:
        from ganeval.api import evaluate_sets, set_labels

        sources = {set_name: values.pop(argument) for argument, set_name in metric.sets.items()}
        values["device"], prints = distributed_device(values["device"])
        result = evaluate_sets(sources, (metric.name,), set_labels(metric), **values)[metric.name]
        if prints:
            emit(result, as_json, metric().rows(result))

    arguments = [set_parameter(argument, set_name, metric) for argument, set_name in metric.sets.items()]
    common = [parameter for parameter in common_parameters()  # a generator's metric counts samples, not images
              if not (metric.reads_generator() and parameter.name == "num_images")]
    return click.Command(metric.name, callback=run, params=[*arguments, *common,
                                                            *option_parameters(metric.all_options())],
                         help=inspect.cleandoc(metric.command_help or metric.title), epilog=metric.epilog,
                         short_help=metric.title)


class GroupedOptionsCommand(click.Command):
    """A command whose --help lists its options in sections: the command's own and the common ones first, then
    those of each metric (an option several metrics share, such as the feature extractor's, under all of them)."""

    def __init__(self, *args: Any, metrics: dict[str, type], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners: dict[str, list[str]] = {}
        for name, metric in metrics.items():
            for option in metric.all_options():
                self.owners.setdefault(option, []).append(name)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections: dict[str, list[tuple[str, str]]] = {}
        for parameter in self.get_params(ctx):
            record = parameter.get_help_record(ctx)
            if record is None:
                continue
            owners = self.owners.get(parameter.name or "")
            title = "Options" if owners is None else f"Options of {', '.join(owners)}"
            sections.setdefault(title, []).append(record)
        for title, records in sections.items():
            with formatter.section(title):
                formatter.write_dl(records)


def image_metrics() -> dict[str, type]:
    """The registered metrics that read image sets (those of a generator have their own commands only)."""
    return {name: cls for name, cls in registry.metrics().items() if not cls.reads_generator()}


def eval_command() -> click.Command:
    """`ganeval eval REAL FAKE --metrics …`: every metric of images asked for, in one pass over each set."""
    metrics = image_metrics()

    def run(real: str, fake: str, metrics: list[str], as_json: bool, report: str | None, **options: Any) -> None:
        from ganeval.api import evaluate
        from ganeval.errors import SharedInputError
        from ganeval_cli.common import note

        check_report(report, {"REAL": real, "FAKE": fake})
        options["device"], prints = distributed_device(options["device"])
        results = evaluate(real, fake, metrics=metrics, **options)
        skipped = {name: result["skipped"] for name, result in results.items() if "skipped" in result}
        if len(skipped) == len(metrics):  # every process holds the same results: rank 0 reports
            raise SharedInputError("every metric was skipped: " + "; ".join(f"{name}: {why}"
                                                                           for name, why in skipped.items()))
        if prints:
            rows = {name: [(name, "skipped (see the note below)")] if name in skipped
                    else registry.metric_class(name)().rows(results[name]) for name in metrics}
            emit(results, as_json, [row for metric_rows in rows.values() for row in metric_rows])
            if report is not None:
                write_eval_report(report, results, rows, {"REAL": real, "FAKE": fake})
            for name, why in skipped.items():
                note(f"{name} skipped: {why}")

    names = list(metrics)
    listing = click.Option(["--metrics"], type=metric_list(names), default="swd,msssim", show_default=True,
                           help="Comma-separated, any of: " + "; ".join(f"{name} ({cls.title})"
                                                                        for name, cls in metrics.items()) + ".")
    epilogs = dict.fromkeys(cls.epilog for cls in metrics.values() if cls.epilog)
    return GroupedOptionsCommand(
        "eval", metrics=metrics, callback=run, short_help="every metric asked for, in one pass over each set",
        params=[click.Argument(["real"]), click.Argument(["fake"]), listing,
                click.Option(["--skip-failures"], is_flag=True,
                             help="A metric that cannot be computed (its weights missing, its part of a stats file "
                                  "not matching, too few images for it) is reported as skipped, with a note line, "
                                  "and the others are computed; exit 2 only when every metric is skipped."),
                *common_parameters(), report_option(), *option_parameters(merged_options(list(metrics.values())))],
        epilog="\n\n".join(epilogs) or None,
        help=inspect.cleandoc("""
        Every metric in --metrics between REAL and FAKE, in one pass: each image is read and decoded once, and the
        feature extractor runs once per image for every metric on its features.

        Each metric's numbers are exactly those of its own command (`ganeval swd`, `ganeval fid`, …) with the same
        options. REAL may be a stats file from `ganeval stats --metrics …` holding what the metrics need. Several
        processes: `torchrun --nproc_per_node=N -m ganeval eval REAL FAKE …` (each reads its share of the images,
        the numbers are those of one process).

        \b
        Example:  ganeval eval data/real/ samples/ --metrics swd,msssim,fid,kid,is,pr,dc --json
        """))


class StatsCommand(click.Command):
    """`ganeval stats REAL`, which also answers `ganeval stats import …`: a first argument `import` runs that command
    (a folder named import is still `./import`)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if args[:1] == ["import"]:
            return import_command.make_context(f"{info_name} import", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent, **extra)


def stats_command() -> click.Command:
    """`ganeval stats REAL -o FILE --metrics …`: the real set's statistics of every storable metric, in one pass."""
    storable = {name: cls for name, cls in registry.metrics().items() if cls.stored}

    def run(real: str, output: str, metrics: list[str], as_json: bool, **options: Any) -> None:
        from ganeval.api import reference_statistics
        from ganeval.files import refuse_overwriting_input
        from ganeval.stats import save_stats

        refuse_overwriting_input(output, [("REAL", real)])
        options["device"], writes = distributed_device(options["device"])
        arrays, protocol = reference_statistics(real, metrics, **options)
        if not writes:
            return
        save_stats(output, arrays, protocol)
        counts = {metric: record["num_images"] for metric, record in protocol.items()}
        result = {"metric": "stats", "output": str(output), "metrics": sorted(protocol), "num_images": counts}
        emit(result, as_json, [("wrote", str(output)), ("metrics", ", ".join(sorted(protocol))),
                               ("images", ", ".join(f"{m}: {n}" for m, n in counts.items()))])

    stored_options = {name: spec for name, spec in merged_options(list(storable.values())).items() if spec.stored}
    return StatsCommand(
        "stats", callback=run, short_help="save the real set's statistics once, then pass the file instead of REAL",
        params=[click.Argument(["real"]),
                click.Option(["-o", "--output"], required=True, type=OutputPath(suffixes=(".npz",)),
                             help="The stats file to write (.npz); written atomically, its folder checked before any "
                                  "work."),
                click.Option(["--metrics"], type=metric_list(list(storable)), default="swd", show_default=True,
                             help="Comma-separated, any of: " + ", ".join(storable) + "."),
                *common_parameters(), *option_parameters(stored_options)],
        help=inspect.cleandoc("""
        Compute the real set's statistics once, in one pass, and save them to OUTPUT for reuse as REAL.

        The file records the protocol (settings, image count, ganeval version); a later metric run with other
        settings is refused rather than silently wrong.

        `ganeval stats import FILE -o OUTPUT --from pytorch-fid|clean-fid|torch-fidelity|ttur` converts another
        tool's FID statistics instead (see `ganeval stats import --help`).

        \b
        Example:  ganeval stats data/real/ -o real_stats.npz --metrics swd,fid,kid,pr,dc
                  ganeval eval real_stats.npz fakes/ --metrics swd,fid,kid,pr,dc
        """))


def metric_commands() -> list[click.Command]:
    """`eval`, `stats` and one command per registered metric."""
    return [eval_command(), stats_command(), *(metric_command(cls) for cls in registry.metrics().values())]
