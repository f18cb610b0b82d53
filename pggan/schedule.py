"""The growing schedule as a pure function of training progress (reference train.py `TrainingSchedule`)."""

from __future__ import annotations

import math
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
