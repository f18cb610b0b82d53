"""Every metric in one pass over the images: `evaluate(real, fake, metrics=("swd", "msssim", "fid", "kid", "is"))`,
and the one-metric functions (`ganeval.swd(…)`, `ganeval.fid(…)`, …) made from the registry.

Each set is read and decoded once; every batch feeds every chosen metric's accumulator of that set (SWD
descriptors, MS-SSIM pairs, and one feature accumulator per set for FID, KID, IS, PR and DC together, so each image
goes through the network once). The result maps each metric to its result dict; a one-metric function is exactly
`evaluate` for that metric alone. Any set may be given as a stats file holding what the metrics need of it. With
torch.distributed initialised (torchrun), each process reads its share of the batches and rank 0 merges the
accumulators; every rank returns the same dict, equal to one process's.

Random choices depend on (seed, image index), never on batch size or process count: SWD neighbourhood positions,
the images of a generator callable, MS-SSIM's random pairs and KID's subsets.

A set may also be a generator that a metric samples itself (the GENERATOR set of PPL and LS): it is opened as
batches of sample indices (`ganeval.generators.open_generator`, sharded as image batches are), and each batch's
indices are passed with the generator to the metric's accumulator, which draws those samples from (seed, sample
index) and keeps its rows by sample index; the merge across processes and the results are as for images.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch

from ganeval import registry
from ganeval.checks import check_at_least, check_seed, check_value_range
from ganeval.devices import resolve_device
from ganeval.distributed import current_shard, merge_on_first, share_from_first, stop_together, union_over_ranks
from ganeval.errors import GanevalInputError
from ganeval.generators import module_device, open_generator
from ganeval.metrics.base import FAKE, GENERATOR, REAL, Metric, Run
from ganeval.sources import ImageSource, open_images
from ganeval.stats import Stats, is_stats_file, read_stats

COMMON_OPTIONS: dict[str, Any] = {"num_images": None, "seed": 0, "device": None, "batch_size": 64, "progress": False,
                                  "value_range": None, "skip_failures": False}
SET_LABELS = {REAL: "REAL", FAKE: "FAKE"}
UNEQUAL_SETS_FACTOR = 4  # REAL and FAKE read whole and this many times apart in size: say what num_images would save


def evaluate(real: ImageSource | None, fake: ImageSource, metrics: str | Iterable[str] = ("swd", "fid"),
             **options: Any) -> dict[str, dict[str, Any]]:
    """{metric: result dict} for every metric in `metrics`, from one pass over each image set.

    `real`: images, or a stats file holding what the chosen metrics need of the real set (`ganeval stats`); None
    when only fake-set metrics (msssim, is) are asked for. Options: `num_images` (an int for every metric, or
    {metric: int}), `seed`, `device`, `batch_size`, `progress`, `value_range`, and each metric's own (see
    `options_of`), e.g. `normalize`, `num_pairs`, `subset_size`, `splits`, `pr_k`, `dc_k`, `inception_weights`.
    `skip_failures`: a metric that cannot be computed — its weights are missing, its part of a stats file does not
    match, its set is too small for it, its result is undefined (SWD of flat images) — gives {"metric": name,
    "skipped": message} instead of stopping the others; bad input every metric shares (an unreadable set, a bad
    option) still stops the call.
    """
    return evaluate_sets({REAL: real, FAKE: fake}, metrics, SET_LABELS, **options)


def options_of(metric_names: Iterable[str]) -> dict[str, Any]:
    """Every option `evaluate` takes for these metrics, with its default."""
    merged = dict(COMMON_OPTIONS)
    for name in metric_names:
        merged.update({option: spec.default for option, spec in registry.metric_class(name).all_options().items()})
    return merged


def evaluate_sets(sources: Mapping[str, ImageSource | None], metrics: str | Iterable[str], labels: Mapping[str, str],
                  **options: Any) -> dict[str, dict[str, Any]]:
    """`evaluate` with the sets (REAL, FAKE, FAKE_B → source or None) and their names in messages as mappings."""
    chosen = _chosen_metrics(metrics)
    given = {set_name: source for set_name, source in sources.items() if source is not None}
    run = Run(_settled_options(chosen, options, given),
              device=_device(options.get("device"), given.get(FAKE, given.get(GENERATOR))), labels=dict(labels))
    accumulators, seen = _one_pass(run, chosen, given, storing=False)
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
    """The real set's statistics for `metrics` (those that store any: swd, fid, kid, pr, dc) from one pass, as
    stats-file arrays and protocol records ready for `ganeval.stats.save_stats`."""
    chosen = _chosen_metrics(metrics)
    unstorable = [metric.name for metric in chosen if not metric.stored]
    if unstorable:
        storable = ", ".join(name for name, cls in registry.metrics().items() if cls.stored)
        raise GanevalInputError(f"a stats file holds the real set's statistics of {storable}; "
                                f"{', '.join(unstorable)} measure(s) the fake set alone")
    if is_stats_file(real):
        raise GanevalInputError(f"{real}: is a stats file already; give the real images")
    given = {REAL: real}
    run = Run(_settled_options(chosen, options, given), device=_device(options.get("device"), real),
              labels=dict(SET_LABELS))
    accumulators, seen = _one_pass(run, chosen, given, storing=True)
    arrays: dict[str, dict[str, Any]] = {}
    protocol: dict[str, dict[str, Any]] = {}
    shard = current_shard()
    if shard is not None and shard[0] != 0:  # rank 0 holds the merged statistics and writes them
        return arrays, protocol
    cache: dict[Any, Any] = {}
    for metric in chosen:
        if metric.name in run.skipped:  # skip_failures: the file holds the others
            continue
        limit = metric.limit(run.options, REAL)
        count = seen[REAL] if limit is None else min(seen[REAL], limit)
        if count < metric.minimum_stored:
            raise GanevalInputError(f"{run.label(REAL)}: {count} images, but stored {metric.name} statistics need "
                                    f"at least {metric.minimum_stored}")
        arrays[metric.name], protocol[metric.name] = metric.stats_arrays(
            _statistics(metric, accumulators[metric.name, REAL], cache), run)
    return arrays, protocol


def load_stats(path: Any) -> Stats:
    """Read a stats file, each metric's arrays checked against its record by that metric (`check_stored`)."""
    stats = read_stats(path)
    known = registry.metrics()
    for name, record in stats.protocol.items():
        problem = known[name]().check_stored(stats.arrays.get(name, {}), record) if name in known else None
        if problem:
            raise GanevalInputError(f"{stats.path}: damaged or incomplete stats file: {problem}")
    return stats


def metric_function(metric: type[Metric]) -> Callable[..., dict[str, Any]]:
    """The one-metric function of a registered metric (`ganeval.swd`, `ganeval.inception_score`, …): its sets as
    the first arguments (an optional one defaulting to None), then every option of the metric and the common ones
    as keywords; a one-metric call of `evaluate_sets`, returning the metric's result dict."""
    specs = metric.all_options()
    keywords = {spec.keyword or name: name for name, spec in specs.items()}  # the function's keyword → option
    common = [name for name in COMMON_OPTIONS  # a metric of a generator counts its samples with an option of its own
              if name != "skip_failures" and not (name == "num_images" and metric.reads_generator())]
    defaults = {**{name: COMMON_OPTIONS[name] for name in common},
                **{keyword: specs[name].default for keyword, name in keywords.items()}}
    labels = set_labels(metric)
    parameters = [inspect.Parameter(argument, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                    **({"default": None} if set_name in metric.optional_sets else {}))
                  for argument, set_name in metric.sets.items()]
    parameters += [inspect.Parameter(keyword, inspect.Parameter.KEYWORD_ONLY, default=default)
                   for keyword, default in defaults.items()]
    signature = inspect.Signature(parameters, return_annotation=dict[str, Any])

    def one_metric(*args: Any, **kwargs: Any) -> dict[str, Any]:
        bound = signature.bind(*args, **kwargs)
        sources = {metric.sets[argument]: value for argument, value in bound.arguments.items()
                   if argument in metric.sets}
        options = {keywords.get(keyword, keyword): value for keyword, value in bound.arguments.items()
                   if keyword not in metric.sets}
        return evaluate_sets(sources, (metric.name,), labels, **options)[metric.name]

    one_metric.__signature__ = signature  # type: ignore[attr-defined]
    one_metric.__name__ = one_metric.__qualname__ = metric.public_name()
    one_metric.__module__ = "ganeval"
    options_text = "\n".join(f"    {keyword}: {specs[name].help} (default {specs[name].default!r})"
                             for keyword, name in keywords.items())
    one_metric.__doc__ = (f"{inspect.cleandoc(metric.__doc__ or metric.title)}\n\nA one-metric call of "
                          f"`ganeval.evaluate` (metric {metric.name!r}); it also takes the common options "
                          f"{', '.join(common)}.\n\n"
                          f"Options:\n{options_text}")
    return one_metric


def set_labels(metric: type[Metric]) -> dict[str, str]:
    """The names a one-metric call gives its sets in messages: REAL and FAKE, or its arguments' names ("images")."""
    return {set_name: SET_LABELS.get(set_name, argument) if argument == set_name else argument
            for argument, set_name in metric.sets.items()}


def _one_pass(run: Run, chosen: list[Metric], sources: Mapping[str, Any], storing: bool
              ) -> tuple[dict[tuple[str, str], Any], dict[str, int]]:
    """Open the sets, feed every accumulator in one pass over each, and (across processes) merge them on rank 0;
    the accumulators by (metric, set) and the images read per set (over every process). `storing`: see `_open`."""
    shard = current_shard()
    error: BaseException | None = None
    accumulators: dict[tuple[str, str], Any] = {}
    seen: dict[str, int] = {}
    try:  # every cheap check (options were checked before: sets, counts, stats files) before any weights load
        _open(run, chosen, sources, shard, storing)
        for metric in chosen:
            if metric.name not in run.skipped:
                with _failing_alone(run, metric):
                    accumulators.update({(metric.name, set_name): metric.accumulator(set_name, run)
                                         for set_name in metric.sets.values() if set_name in run.streams})
    except GanevalInputError as raised:
        error = raised
    stop_together(error)
    run.skipped = union_over_ranks(run.skipped)  # every process drops the same metrics (stats files: rank 0 reads)
    accumulators = {key: accumulator for key, accumulator in accumulators.items() if key[0] not in run.skipped}
    try:
        seen = _read_every_set(run, chosen, accumulators)
    except GanevalInputError as raised:
        error = raised
    stop_together(error)
    for accumulator in {id(accumulator): accumulator for accumulator in accumulators.values()}.values():
        merge_on_first(accumulator)
    return accumulators, {set_name: _total_over_ranks(count) for set_name, count in seen.items()}


@contextmanager
def _failing_alone(run: Run, metric: Metric) -> Iterator[None]:
    """With `skip_failures`, bad input met by this metric alone marks it skipped (`run.skipped`) instead of
    stopping the call; without, it is raised."""
    try:
        yield
    except GanevalInputError as error:
        if not run.options["skip_failures"]:
            raise
        run.skipped.setdefault(metric.name, str(error))


def _chosen_metrics(names: str | Iterable[str]) -> list[Metric]:
    if isinstance(names, str):
        names = names.split(",")
    elif not isinstance(names, Iterable):
        raise GanevalInputError(f"metrics must be names such as 'swd,fid' or ('swd', 'fid'), got {names!r}")
    known = registry.metrics()
    listed = [name.strip() if isinstance(name, str) else name for name in names]
    unknown = [repr(name) for name in listed if name not in known and name != ""]
    if unknown or not [name for name in listed if name]:
        raise GanevalInputError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from "
                                f"{', '.join(known)}")
    return [known[name]() for name in dict.fromkeys(name for name in listed if name)]


def _settled_options(chosen: list[Metric], given: dict[str, Any], sets: Mapping[str, Any]) -> dict[str, Any]:
    """Every option with its value (given or default), checked; options of no known metric are refused."""
    everything = options_of(registry.metrics())
    unknown = sorted(set(given) - set(everything))
    if unknown:
        raise GanevalInputError(f"unknown option(s) {', '.join(unknown)}; the options are {', '.join(everything)}")
    options = {**options_of(metric.name for metric in chosen), **given, "metrics": [m.name for m in chosen],
               "sets": list(sets)}
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
        for name, spec in type(metric).all_options().items():
            spec.check(name, options[name])
        metric.check(options)
    return options


def _device(device: str | torch.device | None, fake: Any) -> torch.device:
    """The given device, else the device of a fake tensor (or of a generator module's weights), else CUDA when
    available."""
    if device is None and isinstance(fake, torch.Tensor):
        return fake.device
    if device is None and module_device(fake) is not None:
        return module_device(fake)
    return resolve_device(device)


def _sets_read(chosen: list[Metric]) -> list[str]:
    """Every set a chosen metric reads, in the order the metrics name them."""
    return list(dict.fromkeys(set_name for metric in chosen for set_name in metric.sets.values()))


def _read_in_step(run: Run, chosen: list[Metric], sources: Mapping[str, Any]) -> list[str]:
    """The image sets read side by side, a batch of each in turn: those of a metric that compares them image by
    image (two-set MS-SSIM), so that an image waits for its partner at most a batch."""
    for metric in chosen:
        paired = [set_name for set_name in metric.sets.values()
                  if set_name in sources and not is_stats_file(sources[set_name])]
        if metric.reads_in_step and len(paired) > 1:
            return paired
    return []


def _open(run: Run, chosen: list[Metric], sources: Mapping[str, Any], shard: Any, storing: bool) -> None:
    """Open each set the metrics read once (or its stats file, whose protocol is checked against the run's),
    checking counts before any work. `storing`: the given sets' statistics are stored, so the other sets
    are not needed and the metrics' own minimum image counts are not checked."""
    in_step = _read_in_step(run, chosen, sources)
    run.image_sets = {set_name for set_name, source in sources.items() if not is_stats_file(source)}
    for set_name in _sets_read(chosen):
        if storing and set_name not in sources:
            continue
        readers = [metric for metric in chosen if set_name in metric.sets.values()]
        source = sources.get(set_name)
        if source is None:
            needing = [metric.name for metric in readers if set_name not in metric.optional_sets]
            if needing:
                raise GanevalInputError(f"{', '.join(needing)} need(s) a {run.labels.get(set_name, set_name)} set")
            continue
        if set_name not in run.image_sets:
            if shard is None or shard[0] == 0:  # only rank 0 computes with them
                run.stats[set_name] = load_stats(source)
                for metric in readers:  # the protocol of each metric's statistics is checked now, not after the pass
                    with _failing_alone(run, metric):
                        metric.from_stats(run.stats[set_name], set_name, run)
            continue
        limits = [metric.limit(run.options, set_name) for metric in readers]
        count = None if None in limits else max(limits)
        counted_by = next((metric for metric in readers if metric.limit(run.options, set_name) == count), None)
        label = run.labels.get(set_name, set_name)
        if any(metric.reads_generator() for metric in readers):  # drawn by the metrics' accumulators themselves
            run.streams[set_name] = open_generator(
                source, name=label, num_samples=count, batch_size=run.options["batch_size"], device=run.device,
                progress=run.options["progress"] and (shard is None or shard[0] == 0), shard=shard)
            continue
        run.streams[set_name] = open_images(
            source, name=label, num_images=count, batch_size=run.options["batch_size"],
            value_range=run.options["value_range"], device=run.device,
            progress=run.options["progress"] and (shard is None or shard[0] == 0) and set_name in [
                *in_step[:1], *(name for name in _sets_read(chosen) if name not in in_step)],
            shard=shard, seed=run.seed, count_label=counted_by.count_label(run.options) if counted_by else None)
        known = run.streams[set_name].num_images
        if known is not None and not storing:
            for metric in readers:
                with _failing_alone(run, metric):
                    _check_minimum(run, metric, set_name, known)
    if shard is None and not storing and run.options["num_images"] is None:
        _note_unequal_sets(run)


def _note_unequal_sets(run: Run) -> None:
    """A note when REAL and FAKE, both read whole, differ in size by a large factor (e.g. 60,000 training images
    against 2,000 samples): the larger one costs most of the time, and `num_images` would bound it."""
    counts = {set_name: run.streams[set_name].num_images for set_name in (REAL, FAKE) if set_name in run.streams}
    if len(counts) < 2 or None in counts.values():
        return
    larger, smaller = sorted(counts, key=lambda set_name: counts[set_name], reverse=True)
    if counts[larger] >= UNEQUAL_SETS_FACTOR * counts[smaller]:
        warnings.warn(f"{run.label(larger)} has {counts[larger]:,} images and {run.label(smaller)} {counts[smaller]:,}"
                      f" ({counts[larger] / counts[smaller]:.0f}×): every image of both is read; --num-images "
                      f"{counts[smaller]} (num_images={counts[smaller]}) would read {counts[smaller]:,} of each, "
                      f"{counts[larger] - counts[smaller]:,} fewer", stacklevel=4)


def _check_minimum(run: Run, metric: Metric, set_name: str, available: int) -> None:
    """Refuse a set with fewer images than the metric needs, naming the set and what needs them."""
    limit = metric.limit(run.options, set_name)
    count = available if limit is None else min(limit, available)
    minimum, needed_for = metric.minimum_images(run.options)
    if count < minimum:
        raise GanevalInputError(f"{run.label(set_name)}: {count} images, but {needed_for} needs at least {minimum} "
                                "images")


def _read_every_set(run: Run, chosen: list[Metric], accumulators: dict[tuple[str, str], Any]) -> dict[str, int]:
    """Feed every batch of every opened set to each distinct accumulator of that set (sets compared image by image
    side by side, the others one after the other); the images read per set."""
    by_name = {metric.name: metric for metric in chosen}
    feeding = {set_name: list({id(accumulator): (by_name[name], accumulator)
                               for (name, read), accumulator in accumulators.items() if read == set_name}.values())
               for set_name in run.streams}
    in_step = [set_name for set_name in _read_in_step(run, chosen, run.streams) if set_name in run.streams]
    groups: list[list[str]] = []
    for set_name in run.streams:
        if set_name not in in_step:
            groups.append([set_name])
        elif set_name == in_step[0]:
            groups.append(in_step)
    seen = dict.fromkeys(run.streams, 0)
    for group in groups:
        batches = {set_name: run.streams[set_name].indexed() for set_name in group}
        while batches:
            for set_name, stream in list(batches.items()):
                item = next(stream, None)
                if item is None:
                    del batches[set_name]
                    continue
                indices, batch = item
                for metric, accumulator in feeding[set_name]:
                    metric.feed(accumulator, set_name, batch, indices)
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
    """`metric.statistics(accumulator)`, computed once per accumulator (the shared feature one included)."""
    key = (id(accumulator), type(metric).statistics)
    if key not in cache:
        cache[key] = metric.statistics(accumulator)
    return cache[key]


def _results(run: Run, chosen: list[Metric], accumulators: dict[tuple[str, str], Any], seen: dict[str, int]
             ) -> dict[str, dict[str, Any]]:
    """Each metric's result dict from its statistics of each set (from the pass, or from a stats file)."""
    cache: dict[Any, Any] = {}
    results = {}
    for metric in chosen:
        if metric.name not in run.skipped:
            with _failing_alone(run, metric):
                statistics = {}
                for set_name in metric.sets.values():
                    if set_name in run.streams:
                        _check_minimum(run, metric, set_name, seen[set_name])
                        statistics[set_name] = _statistics(metric, accumulators[metric.name, set_name], cache)
                    elif set_name in run.stats:
                        statistics[set_name] = metric.from_stats(run.stats[set_name], set_name, run)
                results[metric.name] = metric.result(statistics, run)
        if metric.name in run.skipped:
            results[metric.name] = {"metric": metric.name, "skipped": run.skipped[metric.name]}
    return results
