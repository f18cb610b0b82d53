"""The growing schedule as a pure function of training progress (reference train.py `TrainingSchedule`)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from pggan.config import TrainConfig
from pggan.networks import resolution_log2


@dataclass(frozen=True)
class ScheduleState:
    """Where training stands at `kimg`: level of detail, working resolution, fade-in α, minibatch, rates."""

    kimg: float
    lod: float  # 0 = final resolution; fractional while a resolution fades in
    resolution: int  # resolution the networks run at (the one fading in during a transition)
    alpha: float  # fade-in weight of the newest block, 1 − frac(lod)
    minibatch: int
    g_lr: float
    d_lr: float


def schedule(kimg: float, config: TrainConfig) -> ScheduleState:
    """State at `kimg` thousand real images: lod falls by 1 per (training + transition) phase, §3 / Figure 1.

    phase = floor(kimg / (lod_training_kimg + lod_transition_kimg)); lod = log2(R) − 2 − phase, minus the
    fraction of the current fade-in done; resolution = 2**(log2(R) − floor(lod)); α = 1 − (lod − floor(lod)).
    Without `progressive` the networks start at (and stay at) the final resolution: lod = 0.
    """
    final_log2 = resolution_log2(config.resolution)
    lod = 0.0
    if config.progressive:
        phase_kimg_total = config.lod_training_kimg + config.lod_transition_kimg
        phase_index = math.floor(kimg / phase_kimg_total) if phase_kimg_total > 0 else 0
        phase_kimg = kimg - phase_index * phase_kimg_total
        lod = float(final_log2 - 2 - phase_index)
        if config.lod_transition_kimg > 0:
            lod -= max(phase_kimg - config.lod_training_kimg, 0.0) / config.lod_transition_kimg
        lod = max(lod, 0.0)
    resolution = 2 ** (final_log2 - math.floor(lod))
    lr_at_resolution = config.lr_dict.get(resolution)
    return ScheduleState(
        kimg=kimg, lod=lod, resolution=resolution, alpha=1.0 - (lod - math.floor(lod)),
        minibatch=config.minibatch_dict.get(resolution, config.minibatch_base),
        g_lr=config.g_lr if lr_at_resolution is None else lr_at_resolution,
        d_lr=config.d_lr if lr_at_resolution is None else lr_at_resolution)


def resolution_stretches(config: TrainConfig) -> list[tuple[float, float, int]]:
    """(first kimg, end kimg, resolution) of each stretch of the run at one working resolution, up to its total.

    A resolution's stretch starts with its fade-in, at phase × (training + transition) + training kimg, and lasts to
    the next fade-in; without `progressive` the whole run is one stretch at the final resolution.
    """
    total = config.effective_total_kimg
    final_log2 = resolution_log2(config.resolution)
    if not config.progressive:
        return [(0.0, total, config.resolution)]
    phase_kimg = config.lod_training_kimg + config.lod_transition_kimg
    starts = [0.0, *(index * phase_kimg + config.lod_training_kimg for index in range(final_log2 - 2))]
    ends = [*starts[1:], math.inf]
    return [(min(start, total), min(end, total), 2 ** (2 + index))
            for index, (start, end) in enumerate(zip(starts, ends, strict=True))]


class ScheduleEta:
    """Seconds left of a run from its schedule: the kimg left in each resolution's stretch × seconds per image there.

    A resolution seen is charged what it measured (its seconds over its images, fade-in and tick bookkeeping
    included, leaving out its first record: start-up and the new layers' first steps cost more). One not seen yet
    is modelled from the highest one seen, scaled per doubling by the cost ratio measured between the two highest
    seen (clamped to 1 … 4); with one resolution seen, by its pixel count (4× per doubling, an upper bound: measured
    per-doubling ratios are 2.1–2.7 on a CPU at 4–32 px, nearer 4 only where the pixels dominate). A constant rate,
    instead, takes the later, dearer resolutions at the early, cheap rate.
    """

    def __init__(self, config: TrainConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.stretches = resolution_stretches(config)
        self.clock = clock
        self.last = clock()
        self.seconds: dict[int, float] = {}
        self.images: dict[int, int] = {}
        self.started: set[int] = set()  # resolutions whose first record, the warm-up, is past

    def record(self, resolution: int, images: int) -> None:
        """Charge the time since the previous call to `images` trained at `resolution` (not at its first call)."""
        now = self.clock()
        if resolution in self.started:
            self.seconds[resolution] = self.seconds.get(resolution, 0.0) + now - self.last
            self.images[resolution] = self.images.get(resolution, 0) + images
        self.started.add(resolution)
        self.last = now

    def seconds_per_image(self, resolution: int) -> float:
        """Measured at `resolution` if seen, else modelled from the highest resolutions seen; inf before any."""
        seen = sorted(size for size, count in self.images.items() if count > 0)
        if not seen:
            return math.inf
        if resolution in seen:
            return self.seconds[resolution] / self.images[resolution]
        highest = seen[-1]
        cost = self.seconds[highest] / self.images[highest]
        ratio = 4.0
        if len(seen) > 1:
            below = seen[-2]
            measured = cost / (self.seconds[below] / self.images[below])
            ratio = min(max(measured ** (1 / math.log2(highest / below)), 1.0), 4.0)
        return cost * ratio ** math.log2(resolution / highest)

    def seconds_left(self, kimg: float) -> float:
        """Seconds to train from `kimg` to the end of the run."""
        return sum(max(end - max(start, kimg), 0.0) * 1000 * self.seconds_per_image(resolution)
                   for start, end, resolution in self.stretches if end > kimg)
