"""`ganeval eval` (every metric asked for, in one pass over the images) and `ganeval stats` (the real set's
statistics, once; `ganeval stats import` for another tool's); both also run as several processes under torchrun."""

from __future__ import annotations

from typing import Any

import click

from ganeval_cli.common import OutputPath, common_options, emit
from ganeval_cli.inception_commands import (
    WEIGHTS_EPILOG,
    dc_option,
    dc_rows,
    feature_options,
    fid_rows,
    inception_options,
    is_rows,
    kid_options,
    kid_rows,
    pr_option,
    pr_rows,
    splits_option,
)
from ganeval_cli.msssim_command import msssim_options, msssim_rows
from ganeval_cli.stats_import_command import import_command
from ganeval_cli.swd_command import nhoods_option, swd_options, swd_rows

METRIC_NAMES = ("swd", "msssim", "fid", "kid", "is", "pr", "dc")
STORED_METRICS = ("swd", "fid", "kid", "pr", "dc")
ROWS = {"swd": swd_rows, "msssim": msssim_rows, "fid": fid_rows, "kid": kid_rows, "is": is_rows, "pr": pr_rows,
        "dc": dc_rows}


def metric_list(allowed: tuple[str, ...]) -> click.ParamType:
    """A comma-separated list of metric names out of `allowed`."""

    class MetricList(click.ParamType):
        name = "metrics"

        def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> list[str]:
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


def evaluation_options(as_given: dict[str, Any]) -> dict[str, Any]:
    """The parsed options as `ganeval.evaluate` keywords (--tf32 → precision)."""
    options = dict(as_given)
    options["precision"] = "tf32" if options.pop("tf32") else "fp32"
    return options


@click.command("eval", epilog=WEIGHTS_EPILOG)
@click.argument("real")
@click.argument("fake")
@click.option("--metrics", type=metric_list(METRIC_NAMES), default="swd,msssim", show_default=True,
              help="Comma-separated: swd, msssim (of FAKE), fid, kid, is (of FAKE), pr (improved precision/recall), "
                   "dc (density/coverage).")
@common_options
@swd_options
@msssim_options
@feature_options
@inception_options
@kid_options
@splits_option
@pr_option
@dc_option
def evaluate_command(real: str, fake: str, metrics: list[str], as_json: bool, **options: Any) -> None:
    """Every metric in --metrics between REAL and FAKE, in one pass: each image is read and decoded once, and
    the feature extractor runs once per image for all of FID, KID, IS, PR and DC.

    Each metric's numbers are exactly those of its own command (`ganeval swd`, `ganeval fid`, …) with the same
    options. REAL may be a stats file from `ganeval stats --metrics …` holding what the metrics need. Several
    processes: `torchrun --nproc_per_node=N -m ganeval eval REAL FAKE …` (each reads its share of the images, the
    numbers are those of one process).

    \b
    Example:  ganeval eval data/real/ samples/ --metrics swd,msssim,fid,kid,is,pr,dc --json
    """
    from ganeval.evaluate import evaluate

    options["device"], prints = distributed_device(options["device"])
    results = evaluate(real, fake, metrics=metrics, **evaluation_options(options))
    if prints:
        rows = [row for name in metrics for row in ROWS[name](results[name])]
        emit(results, as_json, rows)


class StatsCommand(click.Command):
    """`ganeval stats REAL`, which also answers `ganeval stats import …`: a first argument `import` runs that command
    (a folder named import is still `./import`)."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        if args[:1] == ["import"]:
            return import_command.make_context(f"{info_name} import", args[1:], parent=parent, **extra)
        return super().make_context(info_name, args, parent, **extra)


@click.command(cls=StatsCommand)
@click.argument("real")
@click.option("-o", "--output", required=True, type=OutputPath(suffixes=(".npz",)),
              help="The stats file to write (.npz); written atomically, its folder checked before any work.")
@click.option("--metrics", type=metric_list(STORED_METRICS), default="swd", show_default=True,
              help="Comma-separated: swd (descriptors: 128×147 floats per image and level), fid (mean, covariance), "
                   "kid, pr, dc (features).")
@common_options
@nhoods_option
@feature_options
@inception_options
def stats(real: str, output: str, metrics: list[str], as_json: bool, **options: Any) -> None:
    """Compute the real set's statistics once, in one pass, and save them to OUTPUT for reuse as REAL.

    The file records the protocol (settings, image count, ganeval version); a later metric run with other
    settings is refused rather than silently wrong.

    `ganeval stats import FILE -o OUTPUT --from pytorch-fid|clean-fid|torch-fidelity|ttur` converts another tool's FID
    statistics instead (see `ganeval stats import --help`).

    \b
    Example:  ganeval stats data/real/ -o real_stats.npz --metrics swd,fid,kid,pr,dc
              ganeval eval real_stats.npz fakes/ --metrics swd,fid,kid,pr,dc
    """
    from ganeval.evaluate import reference_statistics
    from ganeval.stats import save_stats

    options["device"], writes = distributed_device(options["device"])
    arrays, protocol = reference_statistics(real, metrics, **evaluation_options(options))
    if not writes:
        return
    save_stats(output, arrays, protocol)
    counts = {metric: record["num_images"] for metric, record in protocol.items()}
    result = {"metric": "stats", "output": str(output), "metrics": sorted(protocol), "num_images": counts}
    emit(result, as_json, [("wrote", str(output)), ("metrics", ", ".join(sorted(protocol))),
                           ("images", ", ".join(f"{m}: {n}" for m, n in counts.items()))])
