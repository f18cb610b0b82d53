"""Progressive GAN training, top to bottom: setup, the loop of §3 (D step(s), G step, EMA), ticks, checkpoints.

A run directory holds config.json, log.jsonl (one line per tick), samples/tick-NNNNN.png (fixed latents, EMA
generator), the newest two checkpoint-*.pt, at the end metrics.json and, when the optional tensorboard package is
importable, TensorBoard's event files (losses, SWD per level; step: real images shown). Every random draw of training
(image indices, latents, GP mixing factors, mirror flips) comes from one CPU torch.Generator saved in each
checkpoint, and a StyleGenerator's (style mixing, noise inputs) from a second one, so a resumed run repeats an
uninterrupted one bit for bit on the same machine. Under torchrun each
rank draws the *whole* minibatch and keeps its slice, so N ranks compute the same step as one process. Sampling and
`generate` live in pggan/generate.py.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ganeval.api import evaluate as evaluate_metrics
from ganeval.defaults import MIN_RESOLUTION
from ganeval.devices import cpu_has_bf16_arithmetic, resolve_device
from ganeval.distributed import init_from_torchrun, launched_by_torchrun
from ganeval.errors import GanevalInputError
from ganeval.files import describe, read_json, reading, write_atomically
from ganeval.progress import Progress
from pggan.checkpoint import (
    TRAINING_KEYS,
    list_checkpoints,
    load_newest_checkpoint,
    locked_run_dir,
    save_checkpoint,
    write_json,
)
from pggan.config import TrainConfig
from pggan.data import identity_difference, real_pyramid, reals_at
from pggan.errors import ConfigError, TrainingDivergedError
from pggan.generate import sample_images, save_grid
from pggan.layers import resolution_log2
from pggan.loader import Minibatches, TrainingImages
from pggan.losses import (
    PathLengthMean,
    discriminator_loss,
    generator_loss,
    lazy_adam_hyperparameters,
    lazy_interval_due,
    lazy_r1_loss,
    path_length_loss,
    path_length_minibatch,
)
from pggan.networks import Generator, build_networks
from pggan.schedule import ScheduleEta, ScheduleState, schedule
from pggan.style import StyleDraws, StyleGenerator, mean_over_ranks

# ---------------------------------------------------------------------------------------------------------------
# Small pieces the loop uses.

def _setup_device(config: TrainConfig) -> tuple[int, int, torch.device]:
    """(rank, world_size, device); joins the process group when launched by torchrun (WORLD_SIZE > 1)."""
    device = resolve_device(None if config.device == "auto" else config.device)
    if not launched_by_torchrun():
        return 0, 1, device
    # By its type only: "cuda" gives each rank its own GPU, cuda:LOCAL_RANK, whichever CUDA device was named.
    name, rank, world_size = init_from_torchrun(device.type)
    return rank, world_size, torch.device(name)


def _average_gradients(module: torch.nn.Module, world_size: int) -> None:
    """All-reduce the gradients of one backward pass across ranks and divide by world_size.

    This is DistributedDataParallel's reduction done by hand: DDP's bucketed hooks cannot follow the gradient
    penalty's double backward nor the per-resolution changing set of used parameters (same choice as NVIDIA's
    own PyTorch StyleGAN2-ADA trainer).
    """
    if world_size == 1:
        return
    grads = [p.grad for p in module.parameters() if p.grad is not None]
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat)
    flat /= world_size
    offset = 0
    for grad in grads:
        grad.copy_(flat[offset:offset + grad.numel()].view_as(grad))
        offset += grad.numel()


def _optimizer_step(loss: torch.Tensor, network: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scaler: torch.amp.GradScaler, world_size: int) -> bool:
    """Backward through the (loss-scaled) loss, average gradients over ranks, step and update the scale.

    Returns False where fp16's scaler skipped the step (non-finite gradients; it halves the scale and the weights
    and Adam's statistics stay as they were), True otherwise.
    """
    optimizer.zero_grad(set_to_none=True)
    with torch.profiler.record_function("pggan.backward"):  # profiler labels (benchmarks/profile_train_step.py)
        scaler.scale(loss).backward()
    _average_gradients(network, world_size)
    with torch.profiler.record_function("pggan.optimizer_step"):
        scaler.step(optimizer)
    if not scaler.is_enabled():
        return True
    scale = scaler.get_scale()
    scaler.update()
    return scaler.get_scale() >= scale


def ema_beta(config: TrainConfig, images_per_g_step: int, num_images: int) -> float:
    """This G step's EMA decay: 0.5 ** (images per G step / half-life in images), the half-life capped by the
    ramp-up at ema_rampup × images seen (StyleGAN2-ADA's form); half-life 0 → β = 0, the EMA is G."""
    half_life = config.ema_kimg * 1000
    if config.ema_rampup > 0:
        half_life = min(half_life, num_images * config.ema_rampup)
    return 0.5 ** (images_per_g_step / half_life) if half_life > 0 else 0.0


def _update_ema(ema: torch.nn.Module, model: torch.nn.Module, beta: float) -> None:
    """θ_ema ← β·θ_ema + (1 − β)·θ (buffers, e.g. batch-norm statistics, are copied)."""
    with torch.no_grad(), torch.profiler.record_function("pggan.ema"):
        for ema_param, param in zip(ema.parameters(), model.parameters(), strict=True):
            ema_param.lerp_(param, 1.0 - beta)
        for ema_buffer, buffer in zip(ema.buffers(), model.buffers(), strict=True):
            ema_buffer.copy_(buffer)


def _non_finite_state(parts: dict[str, tuple[torch.nn.Module, torch.optim.Optimizer]]) -> list[str]:
    """Which weights or Adam statistics hold NaN/inf, e.g. "D's squared-gradient averages" after a float32 overflow
    (a huge loss can leave every loss value finite while the optimiser's statistics overflow and training stalls)."""
    found = []
    for name, (network, optimizer) in parts.items():
        if not all(bool(torch.isfinite(parameter).all()) for parameter in network.parameters()):
            found.append(f"{name} weights")
        for statistic, label in (("exp_avg", "gradient averages"), ("exp_avg_sq", "squared-gradient averages")):
            values = [state[statistic] for state in optimizer.state.values() if statistic in state]
            if not all(bool(torch.isfinite(value).all()) for value in values):
                found.append(f"{name}'s {label}")
    return found


def style_draws(generator: torch.nn.Module, sampler: torch.Generator, minibatch: int, resolution: int, rank: int,
                world_size: int, device: torch.device) -> dict[str, StyleDraws]:
    """A StyleGenerator's training draws for one forward as keyword arguments ({"draws": …}; this rank's slice of
    the whole minibatch's, from `sampler`); {} for PGGAN's generator, which draws nothing."""
    if not isinstance(generator, StyleGenerator):
        return {}
    return {"draws": generator.draw(sampler, minibatch, resolution, rank=rank, world_size=world_size,
                                    device=device)}


def lazy_adam(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """Adam's lr and betas for a network regularised in steps of their own every `interval` minibatches
    (StyleGAN2 Appendix B: lr·c, β^c, c = interval/(interval + 1)); unchanged for interval 1, where the
    regulariser is in every step's loss (R1) or takes no adjustment (path length)."""
    return lazy_adam_hyperparameters(lr, betas, interval) if interval > 1 else (lr, betas)


def path_length_step(generator: StyleGenerator, sampler: torch.Generator, running_mean: PathLengthMean,
                     config: TrainConfig, minibatch: int, resolution: int, alpha: float | torch.Tensor, rank: int,
                     world_size: int, device: torch.device) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """G's lazy path length loss (StyleGAN2 §3.2): on minibatch // pl_batch_shrink fresh latents with their style
    draws, then the projection y, all drawn for the whole pass from `sampler` (each rank keeps its slice)."""
    pl_minibatch = path_length_minibatch(minibatch, config.pl_batch_shrink)
    if pl_minibatch % world_size:
        raise GanevalInputError(f"the path length pass's {pl_minibatch} samples (minibatch {minibatch} // "
                                f"pl_batch_shrink {config.pl_batch_shrink}) do not split over {world_size} ranks")
    local = slice(rank * pl_minibatch // world_size, (rank + 1) * pl_minibatch // world_size)
    latents = torch.randn(pl_minibatch, generator.latent_size, generator=sampler)[local].to(device)
    draws = generator.draw(sampler, pl_minibatch, resolution, rank=rank, world_size=world_size, device=device)
    styles = generator.styles(latents, 2 * (resolution_log2(resolution) - 1), draws=draws)
    images = generator.synthesis(styles, alpha, noise=draws.noise)
    projection = torch.randn(pl_minibatch, *images.shape[1:], generator=sampler)[local].to(device, images.dtype)
    return path_length_loss(images, styles, running_mean, weight=config.pl_weight, interval=config.pl_interval,
                            noise=projection, batch_mean=lambda lengths: mean_over_ranks(lengths.mean()))


# Settings that `pggan resume --kimg` changes (the length, and the record of the earlier ones).
LENGTH_FIELDS = ("total_kimg", "total_kimg_history")


def _check_same_settings(saved: dict[str, Any], saved_path: Path, config: TrainConfig, run_dir: Path) -> None:
    """Refuse a config that differs from the checkpoint's `saved` one, except in the length where `config` records an
    extension of it (its total_kimg_history continues the checkpoint's)."""
    earlier = saved.get("total_kimg_history", [])
    extended = (len(config.total_kimg_history) > len(earlier)
                and config.total_kimg_history[:len(earlier)] == earlier)
    differing = [name for name, value in saved.items() if config.to_dict().get(name) != value
                 and not (extended and name in LENGTH_FIELDS)]
    if differing:
        raise GanevalInputError(f"{run_dir}/config.json differs from {saved_path.name} in {', '.join(differing)}; "
                                "a run resumes with the settings it started with")


def _truncate_log(path: Path, last_tick: int) -> None:
    """Drop log lines written after the checkpoint being resumed (they will be written again).

    A line cut short by a kill mid-write does not parse and is dropped too.
    """
    if not path.exists():
        return
    kept = []
    with reading(path, "training log"):
        lines = path.read_text().splitlines()
    for line in lines:
        try:
            if json.loads(line)["tick"] <= last_tick:
                kept.append(line)
        except (json.JSONDecodeError, KeyError):
            continue
    write_atomically(path, lambda p: p.write_text("".join(line + "\n" for line in kept)))


def open_tensorboard(run_dir: Path, purge_step: int | None) -> Any:
    """A TensorBoard SummaryWriter of event files in the run directory, beside log.jsonl, when the optional tensorboard
    package is importable (else None). `purge_step`: on resume, TensorBoard drops the interrupted run's points from
    that step on (those past the checkpoint, which the log drops too)."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # optional: needs the tensorboard package
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(run_dir), purge_step=purge_step)


def tensorboard_scalars(record: dict[str, Any], losses: list[str]) -> dict[str, float]:
    """TensorBoard's scalars of a tick record or the end's metrics: the `losses`, SWD ×10³ per level and average,
    MS-SSIM, kimg and lod."""
    scalars = {f"loss/{name}": record[name] for name in losses if name in record}
    scalars.update({f"swd_x1e3/{resolution}px": value
                    for resolution, value in zip(record.get("swd_resolutions", []), record.get("swd_x1e3", []))})
    names = {"swd_x1e3_avg": "swd_x1e3/average", "msssim": "msssim", "kimg": "progress/kimg", "lod": "progress/lod"}
    scalars.update({tag: record[key] for key, tag in names.items() if key in record})
    return scalars


def write_tensorboard(board: Any, record: dict[str, Any], losses: list[str]) -> None:
    """One point of each of the record's scalars, at the step of the real images shown so far (kimg × 1000: a step
    is an integer), written out at once."""
    step = round(record["kimg"] * 1000)
    for tag, value in tensorboard_scalars(record, losses).items():
        board.add_scalar(tag, value, global_step=step)
    board.flush()


# ---------------------------------------------------------------------------------------------------------------
# Metrics at a tick and at the end.

def evaluate(generator: Generator | StyleGenerator, reals: np.ndarray, state: ScheduleState, config: TrainConfig,
             device: torch.device) -> dict[str, Any]:
    """SWD per Laplacian level (ganeval, needs ≥ 16 px) and MS-SSIM of EMA samples at the final resolution.

    As the reference does during growing, samples of a lower level of detail are nearest-upsampled to the final
    resolution, so every tick is scored against the same reals with the same pyramid levels.
    metrics_num_images = 0 skips the evaluation. `reals`: uint8 NCHW at the final resolution (the first ones are used).
    """
    num_images = min(config.metrics_num_images, len(reals))
    if num_images == 0 or config.resolution < MIN_RESOLUTION:  # both metrics need 16 px
        return {}
    latents = torch.randn(num_images, generator.latent_size, generator=torch.Generator().manual_seed(config.seed + 2))
    fakes = sample_images(generator, latents.to(device), state, config.resolution).numpy()
    scores = evaluate_metrics(reals[:num_images], fakes, metrics=("swd", "msssim"),
                              device=device, seed=0, skip_failures=True)  # e.g. flat samples: logged, training goes on
    result: dict[str, Any] = {"metrics_resolution": config.resolution, "metrics_num_images": num_images}
    for name, score in scores.items():
        if "skipped" in score:
            result[f"{name}_skipped"] = score["skipped"]
    if "swd_x1e3" in scores["swd"]:
        result.update(swd_resolutions=scores["swd"]["resolutions"], swd_x1e3=scores["swd"]["swd_x1e3"],
                      swd_x1e3_avg=scores["swd"]["swd_x1e3_avg"])
    if "msssim" in scores["msssim"]:
        result["msssim"] = scores["msssim"]["msssim"]
    return result


def sweep_scores(generator: Generator | StyleGenerator, ema_sweep: dict[float, Generator | StyleGenerator],
                 reals: np.ndarray, state: ScheduleState, config: TrainConfig, device: torch.device) -> dict[str, Any]:
    """With ema_sweep_kimg set: SWD avg ×10³ of raw G and of each swept average, as `evaluate` scores the EMA."""
    if not ema_sweep:
        return {}
    num_images = min(config.metrics_num_images, len(reals))
    if num_images == 0 or config.resolution < MIN_RESOLUTION:
        return {}
    latents = torch.randn(num_images, generator.latent_size, generator=torch.Generator().manual_seed(config.seed + 2))
    reals = reals[:num_images]
    scores = {}
    generator.eval()  # raw G is sampled as `generate(ema=False)` samples it (batch norm's running statistics)
    try:
        for name, network in (("raw", generator), *((str(half_life), net) for half_life, net in ema_sweep.items())):
            fakes = sample_images(network, latents.to(device), state, config.resolution).numpy()
            swd = evaluate_metrics(reals, fakes, metrics=("swd",), device=device, seed=0, skip_failures=True)["swd"]
            scores[name] = swd.get("swd_x1e3_avg")
    finally:
        generator.train()
    return {"ema_sweep_swd_x1e3_avg": scores}


# ---------------------------------------------------------------------------------------------------------------
# The trainer.

def train(config: TrainConfig, out_dir: str | os.PathLike, *, resume: bool = False,
          progress: bool = True) -> dict[str, Any]:
    """Train per `config` into `out_dir` (or continue its newest checkpoint if `resume`); return final metrics
    (rank 0's; {} on the other ranks of a torchrun launch).

    The run directory is locked for the whole run (rank 0 holds the lock): a second process is refused.
    """
    run_dir = Path(out_dir)
    config.validate()
    rank, world_size, device = _setup_device(config)
    with locked_run_dir(run_dir) if rank == 0 else contextlib.nullcontext(), contextlib.ExitStack() as stack:
        return _train_locked(config, run_dir, rank, world_size, device, resume, progress, stack)


def _train_locked(config: TrainConfig, run_dir: Path, rank: int, world_size: int, device: torch.device,
                  resume: bool, progress: bool, stack: contextlib.ExitStack) -> dict[str, Any]:
    """The run itself, top to bottom: data, networks, the loop of §3, ticks, checkpoints, final metrics (what must
    end with the run, e.g. the data loader's thread, is entered on `stack`)."""
    is_writer = rank == 0
    dtype = torch.get_default_dtype()
    checkpoints = list_checkpoints(run_dir)
    if checkpoints and not resume:
        raise GanevalInputError(f"{run_dir}: already holds a run ({checkpoints[-1].name}); use `pggan resume` or "
                                "another --out")

    # Data: the prepared array on the training device, or memory-mapped and gathered per minibatch (pggan/loader.py);
    # the metrics' reals are its first metrics_num_images.
    images = TrainingImages(config.data, config.resolution, device, config.data_streaming)
    config = config.replace(resolution=images.resolution).validate()  # the data's resolution: checked as given
    if config.metrics_num_images and config.resolution >= MIN_RESOLUTION and images.num_images < 2:
        raise GanevalInputError(f"{config.data}: {images.num_images} image; the end-of-run metrics (MS-SSIM compares "
                                "pairs of samples, SWD a set) need at least 2: add images, or --set "
                                "metrics_num_images=0")
    num_channels = images.num_channels
    metric_reals = images.first(config.metrics_num_images) if is_writer else None

    # Networks, EMA copy, optimisers (Adam per §A.1), the sampling RNG.
    torch.manual_seed(config.seed)
    generator, discriminator = build_networks(config, num_channels)
    generator.to(device)
    discriminator.to(device)
    generator_ema = copy.deepcopy(generator).eval().requires_grad_(False)
    # ema_sweep_kimg: more averages of G (half-life in kimg → network), scored beside the EMA at metrics ticks.
    ema_sweep = {half_life: copy.deepcopy(generator).eval().requires_grad_(False)
                 for half_life in config.ema_sweep_kimg}
    # Lazy regularisation (StyleGAN2 Appendix B): a network regularised every k minibatches in a step of its own
    # gets Adam's lr·c and β^c, c = k/(k + 1): D with r1_interval > 1, G with path length every pl_interval > 1.
    betas = (config.adam_beta1, config.adam_beta2)
    g_interval = config.pl_interval if config.pl_weight else 1
    g_optimizer = torch.optim.Adam(generator.parameters(), lr=config.g_lr, eps=config.adam_epsilon,
                                   betas=lazy_adam(config.g_lr, betas, g_interval)[1])
    d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=config.d_lr, eps=config.adam_epsilon,
                                   betas=lazy_adam(config.d_lr, betas, config.r1_interval)[1])
    path_length_mean = PathLengthMean(config.pl_decay)
    sampler = torch.Generator().manual_seed(config.seed)
    # A StyleGenerator's draws (mixing, noise): a sampler of their own, so the minibatch draws are those of PGGAN.
    style_sampler = torch.Generator().manual_seed(config.seed + 3)
    draw_styles = functools.partial(style_draws, generator, style_sampler, rank=rank, world_size=world_size,
                                    device=device)
    fixed_latents = torch.randn(config.grid_size**2, config.latent_size,
                                generator=torch.Generator().manual_seed(config.seed + 1)).to(device)
    amp_dtype = {"none": None, "bf16": torch.bfloat16, "fp16": torch.float16}[config.amp]
    if amp_dtype == torch.bfloat16 and device.type == "cpu" and cpu_has_bf16_arithmetic() is False and rank == 0:
        warnings.warn("--amp bf16 on a CPU without bf16 arithmetic (no avx512_bf16 or amx_bf16 flag): autocast is "
                      "emulated there and ran 15× slower than fp32 on an AMD Zen 3; leave --amp out for fp32",
                      stacklevel=2)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    if config.compile:  # one graph per resolution × {stable, fading} × {grad, no grad}
        torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, 64)
    g_train = torch.compile(generator) if config.compile else generator
    # The gradient penalties' double backward is not supported by torch.compile: D is compiled without them only.
    d_train = (torch.compile(discriminator) if config.compile and config.loss == "logistic" and not config.r1_gamma
               else discriminator)

    # Progress counters: all the loop's state besides weights, optimisers and RNG.
    counters = dict(num_images=0, tick=0, tick_start_images=0, previous_lod=-1.0, train_seconds=0.0, d_steps=0,
                    g_steps=0)
    extending = False  # resumed with a length that `pggan resume --kimg` changed since the checkpoint
    if resume:
        saved, saved_path = load_newest_checkpoint(run_dir, TRAINING_KEYS)
        _check_same_settings(saved["config"], saved_path, config, run_dir)
        extending = config.total_kimg_history != saved["config"].get("total_kimg_history", [])
        if isinstance(generator, StyleGenerator) and "style" not in saved.get("rng", {}):
            raise GanevalInputError(f"{saved_path}: written by an earlier pggan, which did not save the style "
                                    "generator's random draws; this style run cannot resume: start it again")
        try:
            generator.load_state_dict(saved["generator"])
            discriminator.load_state_dict(saved["discriminator"])
            generator_ema.load_state_dict(saved["generator_ema"])
            for half_life, network in ema_sweep.items():
                network.load_state_dict(saved["ema_sweep"][str(half_life)])
            g_optimizer.load_state_dict(saved["g_optimizer"])
            d_optimizer.load_state_dict(saved["d_optimizer"])
            scaler.load_state_dict(saved["grad_scaler"])
            sampler.set_state(saved["rng"]["sampler"])
            torch.set_rng_state(saved["rng"]["torch"])
            if isinstance(generator, StyleGenerator):
                style_sampler.set_state(saved["rng"]["style"])
            if config.pl_weight:
                path_length_mean.load_state_dict(saved["path_length_mean"])
        except (RuntimeError, ValueError, KeyError, TypeError) as error:
            raise GanevalInputError(f"{saved_path}: damaged checkpoint ({describe(error)})") from None
        counters.update(saved["counters"])
        changed = identity_difference(saved["data_identity"], images.identity) if "data_identity" in saved else None
        if changed:
            raise GanevalInputError(f"{config.data}: not the data this run started with ({changed}); put that file "
                                    "back, or start a new run")
    if is_writer:
        (run_dir / "samples").mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "config.json", config.to_dict())
        if extending and (run_dir / "metrics.json").exists():  # the metrics of the length it had
            os.replace(run_dir / "metrics.json", run_dir / f"metrics-{config.total_kimg_history[-1]:g}kimg.json")
        _truncate_log(run_dir / "log.jsonl", counters["tick"])
    # TensorBoard's event files (when the package is there); a resumed run's points follow its checkpoint's tick.
    board = open_tensorboard(run_dir, counters["num_images"] + 1 if resume else None) if is_writer else None
    if board is not None:
        stack.callback(board.close)

    total_images = round(config.effective_total_kimg * 1000)
    # kimg, lod, resolution and img/s on stderr: redrawn in place on a terminal, else one line per tick (logs); the
    # ETA from the schedule, each resolution at its own cost per image.
    eta = ScheduleEta(config)
    bar = Progress(total_images / 1000, "train", unit="kimg", enabled=None if progress and is_writer else False,
                   initial=counters["num_images"] / 1000, eta=eta.seconds_left)
    autocast = (torch.autocast(device.type, dtype=amp_dtype) if amp_dtype is not None
                else contextlib.nullcontext())
    tick_losses: dict[str, list[torch.Tensor]] = {}  # per-step loss values of this tick, kept on the device
    skipped_steps = 0  # fp16 steps of this tick the scaler skipped
    tick_start_time = time.monotonic()

    # Every random draw of the loop, in order (streamed data: gathered one minibatch ahead by a background thread that
    # ends with the run).
    minibatches = stack.enter_context(Minibatches(sampler, images, config.latent_size, rank, world_size))

    while counters["num_images"] < total_images:
        step_start_images = counters["num_images"]
        state = schedule(counters["num_images"] / 1000, config)
        if state.minibatch % world_size:
            raise GanevalInputError(f"minibatch {state.minibatch} at {state.resolution}px does not split over "
                                    f"{world_size} ranks")
        # "When a new layer enters": reset Adam when a fade-in starts and when it ends (reference train.py).
        previous_lod = counters["previous_lod"]
        if config.reset_optimizer_on_grow and (math.floor(state.lod) != math.floor(previous_lod)
                                               or math.ceil(state.lod) != math.ceil(previous_lod)):
            g_optimizer.state.clear()
            d_optimizer.state.clear()
        counters["previous_lod"] = state.lod
        for group in g_optimizer.param_groups:
            group["lr"] = lazy_adam(state.g_lr, betas, g_interval)[0]
        for group in d_optimizer.param_groups:
            group["lr"] = lazy_adam(state.d_lr, betas, config.r1_interval)[0]
        # Compiled networks get a fade-in's α as a tensor, so the graph is not specialised on each value of α.
        alpha = torch.tensor(state.alpha, device=device) if config.compile and state.alpha < 1 else state.alpha

        for _repeat in range(config.minibatch_repeats):
            # Discriminator: n_critic steps, each on fresh reals and fakes.
            discriminator.requires_grad_(True)
            for _critic_step in range(config.n_critic):
                draws = minibatches.next(state.minibatch, following_with_reals=_critic_step < config.n_critic - 1)
                reals = reals_at(draws["reals"], state.resolution, state.alpha, dtype)
                if config.mirror_augment:
                    reals = torch.where(draws["flips"].reshape(-1, 1, 1, 1), reals.flip(3), reals)
                if config.msg:  # MSG-GAN: D reads the reals and G's images at every scale
                    reals = real_pyramid(reals)
                with autocast:
                    with torch.no_grad():
                        fakes = g_train(draws["latents"], state.resolution, alpha, all_scales=config.msg,
                                        **draw_styles(state.minibatch, state.resolution))
                    fakes = [fake.to(dtype) for fake in fakes] if config.msg else fakes.to(reals.dtype)
                    d_loss, parts = discriminator_loss(
                        functools.partial(d_train, alpha=alpha), reals, fakes, kind=config.loss,
                        mix=draws["mix"].to(dtype), wgan_lambda=config.wgan_lambda,
                        wgan_target=config.wgan_target, wgan_epsilon=config.wgan_epsilon,
                        r1_gamma=config.r1_gamma if config.r1_interval == 1 else 0.0)
                stepped = _optimizer_step(d_loss, discriminator, d_optimizer, scaler, world_size)
                counters["num_images"] += state.minibatch
                if stepped:
                    for name, value in parts.items():
                        tick_losses.setdefault(name, []).append(value)
                else:  # an fp16 overflow the scaler skipped: its losses are not the run's
                    skipped_steps += 1
                # Lazy R1 (StyleGAN2 §3.1): a D step of its own on the same reals every r1_interval minibatches.
                if config.r1_interval > 1 and lazy_interval_due(counters["d_steps"], config.r1_interval):
                    with autocast:
                        r1_loss, r1_parts = lazy_r1_loss(functools.partial(d_train, alpha=alpha), reals,
                                                         gamma=config.r1_gamma, interval=config.r1_interval)
                    if _optimizer_step(r1_loss, discriminator, d_optimizer, scaler, world_size):
                        tick_losses.setdefault("r1_penalty", []).append(r1_parts["r1_penalty"])
                    else:
                        skipped_steps += 1
                counters["d_steps"] += 1

            # Generator: one step, then the moving average of its weights.
            discriminator.requires_grad_(False)
            latents = minibatches.next(state.minibatch, with_reals=False)["latents"]
            with autocast:
                g_loss = generator_loss(functools.partial(d_train, alpha=alpha),
                                        g_train(latents, state.resolution, alpha, all_scales=config.msg,
                                                **draw_styles(state.minibatch, state.resolution)),
                                        kind=config.loss)
            if _optimizer_step(g_loss, generator, g_optimizer, scaler, world_size):
                tick_losses.setdefault("g_loss", []).append(g_loss.detach())
            else:
                skipped_steps += 1
            # Path length regularisation (StyleGAN2 §3.2): a G step of its own every pl_interval minibatches.
            if config.pl_weight and lazy_interval_due(counters["g_steps"], config.pl_interval):
                with autocast:
                    pl_loss, pl_parts = path_length_step(generator, style_sampler, path_length_mean, config,
                                                         state.minibatch, state.resolution, alpha, rank, world_size,
                                                         device)
                if _optimizer_step(pl_loss, generator, g_optimizer, scaler, world_size):
                    for name, value in pl_parts.items():
                        tick_losses.setdefault(name, []).append(value)
                else:
                    skipped_steps += 1
            counters["g_steps"] += 1
            _update_ema(generator_ema, generator,
                        ema_beta(config, state.minibatch * config.n_critic, counters["num_images"]))
            for half_life, network in ema_sweep.items():
                _update_ema(network, generator, ema_beta(config.replace(ema_kimg=half_life),
                                                         state.minibatch * config.n_critic, counters["num_images"]))

        # End of a tick: log line, sample grid, metrics, checkpoint.
        done = counters["num_images"] >= total_images
        tick_seconds = time.monotonic() - tick_start_time
        tick_images = counters["num_images"] - counters["tick_start_images"]
        eta.record(state.resolution, counters["num_images"] - step_start_images)
        bar.update((counters["num_images"] - step_start_images) / 1000,
                   f"lod {state.lod:.2f}, {state.resolution}×{state.resolution}, "
                   f"{tick_images / max(tick_seconds, 1e-9):.1f} img/s")
        if not done and tick_images < config.kimg_per_tick * 1000:
            continue
        # Mean losses of the steps taken (fp16: a tick whose steps the scaler all skipped logs none). The skip
        # decisions are the same on every rank (they see the same averaged gradients), so are the names.
        names = sorted(tick_losses)
        losses = torch.stack([torch.stack(tick_losses[name]).float().mean() for name in names]) if names else None
        if world_size > 1 and losses is not None:
            dist.all_reduce(losses)
            losses /= world_size
        losses_by_name = dict(zip(names, losses.tolist(), strict=True)) if losses is not None else {}
        bad = [name for name, value in losses_by_name.items() if not math.isfinite(value)]
        if scaler.is_enabled() and scaler.get_scale() < 1:  # gradients overflow fp16 even unscaled
            bad.append(f"fp16 gradients (loss scale {scaler.get_scale():g})")
        bad += _non_finite_state({"G": (generator, g_optimizer), "D": (discriminator, d_optimizer)})
        if bad:
            last = list_checkpoints(run_dir)
            raise TrainingDivergedError(
                f"training diverged: non-finite {', '.join(bad)} at kimg {counters['num_images'] / 1000:.3f} "
                f"(lod {state.lod:.2f}); stopped, last good checkpoint: {last[-1] if last else 'none written yet'}")
        counters["tick"] += 1
        counters["train_seconds"] += tick_seconds
        counters["tick_start_images"] = counters["num_images"]
        record: dict[str, Any] = dict(
            tick=counters["tick"], kimg=counters["num_images"] / 1000, lod=state.lod, resolution=state.resolution,
            alpha=state.alpha, minibatch=state.minibatch, g_lr=state.g_lr, d_lr=state.d_lr, **losses_by_name,
            tick_seconds=tick_seconds, images_per_second=tick_images / max(tick_seconds, 1e-9),
            train_seconds=counters["train_seconds"])
        if scaler.is_enabled():  # fp16: steps the scaler skipped this tick, and the loss scale it ends at
            record.update(amp_skipped_steps=skipped_steps, amp_loss_scale=scaler.get_scale())
        if is_writer:
            save_grid(sample_images(generator_ema, fixed_latents, state, config.resolution),
                      run_dir / "samples" / f"tick-{counters['tick']:05d}.png", config.grid_size)
            if config.metrics_ticks and counters["tick"] % config.metrics_ticks == 0 and not done:
                record.update(evaluate(generator_ema, metric_reals, state, config, device))
                record.update(sweep_scores(generator, ema_sweep, metric_reals, state, config, device))
            # The tick's log line goes first: a checkpoint never exists without it (resume drops later lines).
            with open(run_dir / "log.jsonl", "a") as log:
                log.write(json.dumps(record) + "\n")
            if board is not None:
                write_tensorboard(board, record, names)
            if counters["tick"] % config.snapshot_ticks == 0 or done:
                save_checkpoint(run_dir, counters["num_images"], {
                    "config": config.to_dict(), "num_channels": num_channels, "counters": dict(counters),
                    "data_identity": images.identity,
                    "generator": generator.state_dict(), "discriminator": discriminator.state_dict(),
                    "generator_ema": generator_ema.state_dict(), "g_optimizer": g_optimizer.state_dict(),
                    **({"ema_sweep": {str(half_life): network.state_dict() for half_life, network in ema_sweep.items()}}
                       if ema_sweep else {}),
                    **({"path_length_mean": path_length_mean.state_dict()} if config.pl_weight else {}),
                    "d_optimizer": d_optimizer.state_dict(), "grad_scaler": scaler.state_dict(),
                    "rng": {"sampler": minibatches.sampler_state(), "torch": torch.get_rng_state(),
                            **({"style": style_sampler.get_state()} if isinstance(generator, StyleGenerator) else {})}})
        bar.milestone()
        tick_losses, skipped_steps = {}, 0
        tick_start_time = time.monotonic()

    bar.close()

    # The end: final metrics of the EMA generator.
    state = schedule(counters["num_images"] / 1000, config)
    metrics: dict[str, Any] = {}
    if is_writer:
        metrics = dict(kimg=counters["num_images"] / 1000, lod=state.lod, resolution=state.resolution,
                       train_seconds=counters["train_seconds"],
                       images_per_second=counters["num_images"] / max(counters["train_seconds"], 1e-9),
                       **evaluate(generator_ema, metric_reals, state, config, device),
                       **sweep_scores(generator, ema_sweep, metric_reals, state, config, device))
        write_json(run_dir / "metrics.json", metrics)
        if board is not None:
            write_tensorboard(board, metrics, [])
    if world_size > 1:
        dist.barrier()
    return metrics


def resume(run_dir: str | os.PathLike, *, kimg: float | None = None, progress: bool = True) -> dict[str, Any]:
    """Continue the run in `run_dir` from its newest checkpoint with its saved config.json; `kimg`: train it to that
    many kimg in all instead of its total (config.json records the change).

    A finished run without `kimg` is left untouched: a warning says so and its metrics.json is returned.
    """
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not run_dir.is_dir():
        raise GanevalInputError(f"{run_dir}: no such run directory")
    if not config_path.is_file():
        raise GanevalInputError(f"{run_dir}: no config.json, not a pggan run directory")
    try:
        config = TrainConfig.from_dict(read_json(config_path, "run configuration (JSON)")).validate()
    except ConfigError as error:
        raise GanevalInputError(f"{config_path}: {error}") from None
    saved, saved_path = load_newest_checkpoint(run_dir)
    _check_same_settings(saved["config"], saved_path, config, run_dir)
    trained = saved["counters"]["num_images"]
    if kimg is None:
        if trained >= round(config.effective_total_kimg * 1000) and (run_dir / "metrics.json").is_file():
            warnings.warn(f"{run_dir}: already finished at {trained / 1000:g} kimg; pass --kimg M "
                          f"(> {trained / 1000:g}) to train it longer", stacklevel=2)
            return read_json(run_dir / "metrics.json", "run metrics (JSON)")
        return train(config, run_dir, resume=True, progress=progress)
    if not (math.isfinite(kimg) and round(kimg * 1000) > trained):
        raise GanevalInputError(f"{run_dir}: --kimg {kimg:g} is not above the {trained / 1000:g} kimg it has trained; "
                                "pass a larger --kimg to train it longer")
    extended = config.replace(total_kimg=kimg / config.kimg_factor,
                              total_kimg_history=[*config.total_kimg_history, config.effective_total_kimg])
    return train(extended, run_dir, resume=True, progress=progress)
