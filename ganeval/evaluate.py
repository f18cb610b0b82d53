"""Every metric in one pass over the images: `evaluate(real, fake, metrics=("swd", "msssim", "fid", "kid", "is"))`.

Each set is read and decoded once; every batch feeds every chosen metric's accumulator of that set (SWD
descriptors, MS-SSIM pairs, and one feature accumulator per set for FID, KID, IS, PR and DC together, so each image
goes through the network once). The result maps each metric to exactly the dict its own function returns
(`ganeval.swd(...)`, `ganeval.fid(...)`, …, which are one-metric calls of this one). With torch.distributed
initialised (torchrun), each process reads its share of the batches and rank 0 merges the accumulators; every
rank returns the same dict, equal to one process's.

Random choices depend on (seed, image index), never on batch size or process count: SWD neighbourhood positions,
the images of a generator callable, MS-SSIM's random pairs and KID's subsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch

from ganeval.density_coverage import DensityCoverageMetric
from ganeval.distributed import current_shard, merge_on_first, share_from_first, stop_together
from ganeval.errors import GanevalInputError
from ganeval.fid import FIDMetric
from ganeval.inception_score import ISMetric
from ganeval.kid import KIDMetric
from ganeval.metric import FAKE, REAL, Metric, Run
from ganeval.msssim import MSSSIMMetric
from ganeval.precision_recall import PrecisionRecallMetric
from ganeval.sources import ImageSource, check_at_least, check_seed, check_value_range, open_images, resolve_device
from ganeval.stats import Stats, is_stats_file, load_stats
from ganeval.swd import SWDMetric

METRICS: dict[str, Metric] = {metric.name: metric for metric in (SWDMetric(), MSSSIMMetric(), FIDMetric(),
                                                                   KIDMetric(), ISMetric(), PrecisionRecallMetric(),
                                                                   DensityCoverageMetric())}
COMMON_OPTIONS: dict[str, Any] = {"num_images": None, "seed": 0, "device": None, "batch_size": 64, "progress": False,
                                  "value_range": None, "skip_failures": False}
SET_LABELS = {REAL: "REAL", FAKE: "FAKE"}


def evaluate(real: ImageSource | None, fake: ImageSource, metrics: str | Iterable[str] = ("swd", "fid"),
             **options: Any) -> dict[str, dict[str, Any]]:
    """{metric: result dict} for every metric in `metrics`, from one pass over each image set.

    `real`: images, or a stats file holding what the chosen metrics need of the real set (`ganeval stats`); None
    when only fake-set metrics (msssim, is) are asked for. Options: `num_images` (an int for every metric, or
    {metric: int}), `seed`, `device`, `batch_size`, `progress`, `value_range`, and each metric's own (see
    `options_of`), e.g. `normalize`, `num_pairs`, `subset_size`, `splits`, `pr_k`, `dc_k`, `inception_weights`.
    `skip_failures`: a metric whose result cannot be computed (e.g. SWD of flat images) gives
    {"metric": name, "skipped": message} instead of stopping the others.
    """
    return evaluate_sets({REAL: real, FAKE: fake}, metrics, SET_LABELS, **options)


def options_of(metrics: Iterable[str]) -> dict[str, Any]:
    """Every option `evaluate` takes for these metrics, with its default."""
    merged = dict(COMMON_OPTIONS)
    for name in metrics:
        for kind in type(METRICS[name]).__mro__:  # a metric's options and those of its base classes
            merged.update(vars(kind).get("options", {}))
    return merged


def evaluate_sets(sources: Mapping[str, ImageSource | None], metrics: str | Iterable[str], labels: Mapping[str, str],
                  **options: Any) -> dict[str, dict[str, Any]]:
    """`evaluate` with the sets and their names for messages given as mappings (REAL/FAKE → source, label)."""
    chosen = _chosen_metrics(metrics)
    run = Run(_settled_options(chosen, options), device=_device(options.get("device"), sources.get(FAKE)))
    accumulators, seen = _one_pass(run, chosen, sources, labels, (REAL, FAKE))
    shard = current_shard()
    results: Any = None
    if shard is None or shard[0] == 0:
        try:
            results = _results(run, chosen, accumulators, seen)
        except GanevalInputError as raised:
            results = raised
    results = share_from_first(results)
    if isinstance(results, GanevalInputError):
        raise results
    return results


def reference_statistics(real: ImageSource, metrics: str | Iterable[str] = ("swd",), **options: Any
                         ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """The real set's statistics for `metrics` (swd, fid, kid, pr, dc) from one pass, as stats-file arrays and
    protocol records ready for `ganeval.stats.save_stats`."""
    chosen = _chosen_metrics(metrics)
    unstorable = [metric.name for metric in chosen if not metric.stored]
    if unstorable:
        storable = ", ".join(name for name, metric in METRICS.items() if metric.stored)
        raise GanevalInputError(f"a stats file holds the real set's statistics of {storable}; "
                                f"{', '.join(unstorable)} measure(s) the fake set alone")
    if is_stats_file(real):
        raise GanevalInputError(f"{real}: is a stats file already; give the real images")
    run = Run(_settled_options(chosen, options), device=_device(options.get("device"), real))
    accumulators, seen = _one_pass(run, chosen, {REAL: real}, SET_LABELS, (REAL,), storing=True)
    arrays: dict[str, dict[str, Any]] = {}
    protocol: dict[str, dict[str, Any]] = {}
    shard = current_shard()
    if shard is not None and shard[0] != 0:  # rank 0 holds the merged statistics and writes them
        return arrays, protocol
    for metric in chosen:
        count = seen[REAL] if metric.limit(run.options, REAL) is None else min(seen[REAL],
                                                                               metric.limit(run.options, REAL))
        if count < metric.minimum_stored:
            raise GanevalInputError(f"{run.label(REAL)}: {count} images, but stored {metric.name} statistics need "
                                    f"at least {metric.minimum_stored}")
        arrays[metric.name], protocol[metric.name] = metric.stats_arrays(
            _statistics(metric, accumulators[metric.name, REAL], {}), run)
    return arrays, protocol


def _one_pass(run: Run, chosen: list[Metric], sources: Mapping[str, Any], labels: Mapping[str, str],
              sets: tuple[str, ...], storing: bool = False) -> tuple[dict[tuple[str, str], Any], dict[str, int]]:
    """Open the sets, feed every accumulator in one pass over each, and (across processes) merge them on rank 0;
    the accumulators by (metric, set) and the images read per set (over every process). `storing`: for a stats
    file, so the metrics' own minimum image counts are not checked."""
    shard = current_shard()
    error: BaseException | None = None
    accumulators: dict[tuple[str, str], Any] = {}
    seen: dict[str, int] = {}
    try:
        _open(run, chosen, sources, labels, shard, sets, check_minimum=not storing)
        accumulators = {(metric.name, set_name): metric.accumulator(set_name, run)
                        for metric in chosen for set_name in metric.reads if set_name in run.streams}
        seen = _read_every_set(run, accumulators)
    except GanevalInputError as raised:
        error = raised
    stop_together(error)
    for accumulator in {id(accumulator): accumulator for accumulator in accumulators.values()}.values():
        merge_on_first(accumulator)
    return accumulators, {set_name: _total_over_ranks(count) for set_name, count in seen.items()}


def _chosen_metrics(metrics: str | Iterable[str]) -> list[Metric]:
    names = [name.strip() for name in (metrics.split(",") if isinstance(metrics, str) else metrics) if name.strip()]
    unknown = [name for name in names if name not in METRICS]
    if unknown or not names:
        raise GanevalInputError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from "
                                f"{', '.join(METRICS)}")
    return [METRICS[name] for name in dict.fromkeys(names)]


def _settled_options(chosen: list[Metric], given: dict[str, Any]) -> dict[str, Any]:
    """Every option with its value (given or default), checked; options of no known metric are refused."""
    everything = options_of(METRICS)
    unknown = sorted(set(given) - set(everything))
    if unknown:
        raise GanevalInputError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(everything)}")
    options = {**options_of(metric.name for metric in chosen), **given, "metrics": [m.name for m in chosen]}
    check_seed(options["seed"])
    check_at_least("batch_size", options["batch_size"])
    if options["value_range"] is not None:
        check_value_range(options["value_range"])
    counts = options["num_images"]
    if isinstance(counts, Mapping):
        strays = sorted(set(counts) - set(options["metrics"]))
        if strays:
            raise GanevalInputError(f"num_images names {', '.join(strays)}, which is not among the metrics asked for")
        for name, count in counts.items():
            check_at_least(f"num_images[{name!r}]", count)
    elif counts is not None:
        check_at_least("num_images", counts)
    for metric in chosen:
        metric.check(options)
    return options


def _device(device: str | torch.device | None, fake: Any) -> torch.device:
    """The given device, else the device of a fake tensor, else CUDA when available."""
    if device is None and isinstance(fake, torch.Tensor):
        return fake.device
    return resolve_device(device)


def _open(run: Run, chosen: list[Metric], sources: Mapping[str, Any], labels: Mapping[str, str], shard: Any,
          sets: tuple[str, ...], check_minimum: bool) -> None:
    """Open each set the metrics read once (or the real set's stats file), checking counts before any work."""
    for set_name in sets:
        readers = [metric for metric in chosen if set_name in metric.reads]
        if not readers:
            continue
        source = sources.get(set_name)
        if source is None:
            raise GanevalInputError(f"{', '.join(m.name for m in readers)} need(s) a {labels[set_name]} set")
        if set_name == REAL and is_stats_file(source):
            if shard is None or shard[0] == 0:  # only rank 0 computes with them
                run.stats = load_stats(source)
                for metric in readers:  # the protocol of each metric's statistics is checked now, not after the pass
                    metric.from_stats(run.stats, run)
            continue
        limits = [metric.limit(run.options, set_name) for metric in readers]
        count = None if None in limits else max(limits)
        counted_by = next((metric for metric in readers if metric.limit(run.options, set_name) == count), None)
        run.streams[set_name] = open_images(
            source, name=labels[set_name], num_images=count, batch_size=run.options["batch_size"],
            value_range=run.options["value_range"], device=run.device,
            progress=run.options["progress"] and (shard is None or shard[0] == 0), shard=shard, seed=run.seed,
            count_label=counted_by.count_label(run.options) if counted_by is not None else None)
        known = run.streams[set_name].num_images
        if known is not None and check_minimum:
            for metric in readers:
                _check_minimum(run, metric, set_name, known)


def _check_minimum(run: Run, metric: Metric, set_name: str, available: int) -> None:
    """Refuse a set with fewer images than the metric needs, naming the set and what needs them."""
    limit = metric.limit(run.options, set_name)
    count = available if limit is None else min(limit, available)
    minimum, needed_for = metric.minimum_images(run.options)
    if count < minimum:
        raise GanevalInputError(f"{run.label(set_name)}: {count} images, but {needed_for} needs at least {minimum} "
                                "images")


def _read_every_set(run: Run, accumulators: dict[tuple[str, str], Any]) -> dict[str, int]:
    """Feed every batch of every opened set to each distinct accumulator of that set; images read per set."""
    seen = {}
    for set_name, stream in run.streams.items():
        feeding = list({id(acc): acc for (_, name), acc in accumulators.items() if name == set_name}.values())
        seen[set_name] = 0
        for indices, batch in stream.indexed():
            for accumulator in feeding:
                accumulator.update(batch, indices)
            seen[set_name] += len(indices)
    return seen


def _total_over_ranks(count: int) -> int:
    """The sum of `count` over every rank (the images of a set all processes read together)."""
    if current_shard() is None:
        return count
    total = torch.tensor([count], dtype=torch.int64)
    torch.distributed.all_reduce(total)
    return int(total)


def _statistics(metric: Metric, accumulator: Any, cache: dict[Any, Any]) -> Any:
    """`metric.statistics(accumulator)`, computed once per accumulator (the shared Inception one included)."""
    key = (id(accumulator), type(metric).statistics)
    if key not in cache:
        cache[key] = metric.statistics(accumulator)
    return cache[key]


def _results(run: Run, chosen: list[Metric], accumulators: dict[tuple[str, str], Any], seen: dict[str, int]
             ) -> dict[str, dict[str, Any]]:
    """Each metric's result dict from its statistics of each set (from the pass, or from the stats file)."""
    cache: dict[Any, Any] = {}
    results = {}
    for metric in chosen:
        statistics = {}
        for set_name in metric.reads:
            if set_name in run.streams:
                _check_minimum(run, metric, set_name, seen[set_name])
                statistics[set_name] = _statistics(metric, accumulators[metric.name, set_name], cache)
            else:
                statistics[set_name] = metric.from_stats(_stats(run), run)
        try:
            results[metric.name] = metric.result(statistics, run)
        except GanevalInputError as error:
            if not run.options["skip_failures"]:
                raise
            results[metric.name] = {"metric": metric.name, "skipped": str(error)}
    return results


def _stats(run: Run) -> Stats:
    if run.stats is None:
        raise GanevalInputError("no stats file was opened for the real set")
    return run.stats
