"""Where a pggan training step's time goes: torch.profiler over real D and G steps, fp32 or bf16 autocast.

The step is `bench_train_peers.pggan_config_step`: n_critic D steps, one G step and the EMA update, made of the
functions `pggan.train` runs (`reals_at`, `discriminator_loss`, `generator_loss`, `_optimizer_step`, `_update_ema`),
the networks fully grown (α = 1) at --resolution, one grayscale channel. After --warmup steps, --steps steps run under
torch.profiler (CPU activity, record_shapes off). Every profiled event's self CPU time goes to one category, the first
that fits in this order:

- ema, adam: inside train.py's `pggan.ema` / `pggan.optimizer_step` ranges (the EMA update, Adam's step);
- casts: aten::to / _to_copy and what runs inside them (autocast's casts, which sit inside the op they feed, e.g.
  aten::conv2d); a copy_ outside them (contiguous() inside a convolution or an upsampling) is its enclosing op's;
- convolutions: any aten op with "conv" in its name and what runs inside it, forward, backward and double backward;
- gradient_penalty: the rest of the gradient penalty, D(x̂) and ∇D(x̂) (losses.py's `pggan.gradient_penalty` range)
  and their backward inside D's backward pass (the autograd nodes recorded in that range: its double backward);
- elementwise: element-wise, reduction, pooling and resampling ops and their backward (leaky ReLU, pixel norm,
  minibatch stddev, equalized-lr weight scaling, average pooling, upsampling, the losses);
- other: dense layers (addmm/mm), random draws, views and allocation outside the ops above, autograd's and Python's
  time between ops.

The shares sum to 1. A second table splits the same time by phase (D forward and loss, the whole gradient penalty
including its convolutions, D backward, G forward and loss, G backward, Adam, EMA). ms per step and img/s are wall
clock over the profiled steps (the profiler's overhead included; img/s counts images shown to D), and beside them the
process's CPU time, which on one thread is the work done however busy the machine is. The profiler's times are wall
clock inside each op: on a busy machine they stretch with it, the shares much less.

    python benchmarks/profile_train_step.py --budget quick --amp none --steps 10      # fp32, quick nets
    python benchmarks/profile_train_step.py --budget quick --amp bf16 --steps 3
    python benchmarks/profile_train_step.py --config g --no-progressive --fmap-base 8192 --fmap-max 128 \\
        --latent-size 128 --amp bf16 --steps 3 --warmup 1 --json bf16.json

bf16 autocast is only fast on CPUs with bf16 arithmetic (avx512_bf16, amx_bf16; printed with the CPU); elsewhere the
breakdown shows torch's fallback (on an AVX2 AMD Zen 3 the bf16 convolutions leave oneDNN for ATen's _slow_conv2d,
im2col and a GEMM without bf16 hardware: see the top ops), not what a CPU with bf16 arithmetic would spend.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import torch
from bench_train_peers import cpu_description, pggan_config_step  # beside this script (run as a script)
from torch.profiler import ProfilerActivity, profile, record_function

from ganeval.devices import cpu_has_bf16_arithmetic
from pggan.config import BUDGETS, PRESETS, make_config

CATEGORIES = {
    "convolutions": "convolutions (forward, backward, double backward)",
    "gradient_penalty": "gradient penalty outside convolutions and casts: D(x̂), ∇D(x̂), its double backward",
    "elementwise": "element-wise / normalisation (leaky ReLU, pixel norm, mb stddev, eq-lr scaling, pooling)",
    "casts": "dtype casts (aten::to, _to_copy)",
    "ema": "EMA of G",
    "adam": "Adam (optimizer step)",
    "other": "other (dense layers, random draws, views, allocation, autograd and Python between ops)",
}
PHASES = {
    "d_forward": "D step: G(z), D(real), D(fake), losses",
    "gradient_penalty": "D step: gradient penalty, all of it (D(x̂), ∇D(x̂), their backward)",
    "d_backward": "D step: backward (rest)",
    "g_forward": "G step: G(z), D(G(z)), loss",
    "g_backward": "G step: backward",
    "adam": "Adam, both networks",
    "ema": "EMA of G",
    "other": "between the steps",
}
CASTS = {"aten::to", "aten::_to_copy"}
# Base names (aten:: and a trailing _ / _backward dropped) of the element-wise, reduction, pooling and resampling ops.
ELEMENTWISE = {
    "mul", "add", "sub", "rsub", "div", "pow", "rsqrt", "sqrt", "square", "mean", "sum", "var", "std", "neg", "exp",
    "log", "abs", "sign", "sgn", "clamp", "clamp_min", "where", "fill", "zero", "zeros_like", "ones_like", "lerp",
    "leaky_relu", "relu", "threshold", "softplus", "sigmoid", "tanh", "reciprocal", "maximum", "minimum", "ge", "gt",
    "le", "lt", "eq", "ne", "masked_fill", "linalg_vector_norm", "norm", "avg_pool2d", "upsample_nearest2d",
    "upsample_bilinear2d", "cat", "repeat", "clone", "addcmul", "addcdiv", "native_batch_norm", "batch_norm",
    "native_layer_norm", "layer_norm", "_native_batch_norm_legit", "_softmax", "softmax", "flip", "reflection_pad2d",
}


def op_kind(name: str) -> str | None:
    """casts / convolutions / elementwise for an op that defines its own and its children's kind, else None."""
    if name in CASTS:
        return "casts"
    if not name.startswith("aten::"):
        return None
    base = name.removeprefix("aten::")
    if "conv" in base:
        return "convolutions"
    base = base.removesuffix("_backward").removesuffix("_backward_data").rstrip("_")
    return "elementwise" if base in ELEMENTWISE else None


def ancestors(event: object) -> Iterable[object]:
    """The event itself, then its enclosing events, innermost first."""
    while event is not None:
        yield event
        event = event.cpu_parent


def classify(events: list) -> tuple[dict[str, float], dict[str, float]]:
    """Self CPU time in µs by CATEGORIES and by PHASES, summed over `events` (one profile)."""
    # The gradient penalty's autograd nodes: sequence numbers recorded inside its range (D(x̂)'s forward nodes and
    # the nodes ∇D(x̂)'s create_graph backward makes); D's backward runs them as its double backward.
    penalty_nodes = {event.sequence_nr for event in events if event.sequence_nr >= 0
                     and any(parent.name == "pggan.gradient_penalty" for parent in ancestors(event))}
    categories = dict.fromkeys(CATEGORIES, 0.0)
    phases = dict.fromkeys(PHASES, 0.0)
    for event in events:
        names = [parent.name for parent in ancestors(event)]
        in_penalty = "pggan.gradient_penalty" in names or any(
            parent.name.startswith("autograd::engine::evaluate_function") and parent.sequence_nr in penalty_nodes
            for parent in ancestors(event))
        if "pggan.ema" in names:
            phase = "ema"
        elif "pggan.optimizer_step" in names:
            phase = "adam"
        elif in_penalty:
            phase = "gradient_penalty"
        elif "pggan.d_step" in names or "pggan.g_step" in names:
            phase = ("d_" if "pggan.d_step" in names else "g_") + ("backward" if "pggan.backward" in names
                                                                   else "forward")
        else:
            phase = "other"
        kind = next((kind for kind in map(op_kind, names) if kind is not None), None)
        if phase in ("ema", "adam"):
            category = phase
        elif kind in ("casts", "convolutions"):
            category = kind
        elif in_penalty:
            category = "gradient_penalty"
        else:
            category = kind or "other"
        categories[category] += event.self_cpu_time_total
        phases[phase] += event.self_cpu_time_total
    return categories, phases


def shares(microseconds: dict[str, float]) -> dict[str, float]:
    total = sum(microseconds.values())
    return {name: value / total for name, value in microseconds.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="g", choices=sorted(PRESETS), help="preset (default g)")
    parser.add_argument("--budget", default="quick", choices=sorted(BUDGETS),
                        help="network widths of a budget (quick: fmap_max 32; paper: fmap_base 2048, fmap_max 512)")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--fmap-base", type=int, help="override the budget's")
    parser.add_argument("--fmap-max", type=int, help="override the budget's")
    parser.add_argument("--latent-size", type=int, help="override the preset's")
    parser.add_argument("--no-progressive", action="store_true",
                        help="progressive=False (the step profiled is the fully grown one either way)")
    parser.add_argument("--minibatch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--amp", default="none", choices=("none", "bf16"))
    parser.add_argument("--steps", type=int, default=5, help="profiled steps")
    parser.add_argument("--warmup", type=int, default=2, help="steps before the profiler starts")
    parser.add_argument("--top", type=int, default=15, help="ops listed by self CPU time")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    overrides = {name: value for name, value in (("fmap_base", args.fmap_base), ("fmap_max", args.fmap_max),
                                                 ("latent_size", args.latent_size)) if value is not None}
    if args.no_progressive:
        overrides["progressive"] = False
    config = make_config(args.config, args.budget, resolution=args.resolution, **overrides)
    step, g_params, d_params = pggan_config_step(config, args.minibatch, "bf16" if args.amp == "bf16" else "fp32")
    for _ in range(args.warmup):
        step()
    wall = cpu = 0.0
    shown = 0
    with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
        for _ in range(args.steps):
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            with record_function("pggan.step"):
                shown += step()
            wall += time.perf_counter() - start_wall
            cpu += time.process_time() - start_cpu
    events = list(prof.events())
    categories, phases = classify(events)
    total_us = sum(categories.values())
    top = sorted(prof.key_averages(), key=lambda average: average.self_cpu_time_total, reverse=True)[:args.top]
    native = cpu_has_bf16_arithmetic()
    command = "python benchmarks/profile_train_step.py " + " ".join(sys.argv[1:] if argv is None else argv)
    result = {
        "machine": {"cpu": cpu_description(), "bf16_arithmetic": native, "threads": args.threads,
                    "torch": torch.__version__, "load_average": os.getloadavg()[0]},
        "command": command,
        "settings": {"config": args.config, "budget": args.budget, "resolution": config.resolution,
                     "fmap_base": config.fmap_base, "fmap_max": config.fmap_max, "latent_size": config.latent_size,
                     "n_critic": config.n_critic, "minibatch": args.minibatch, "amp": args.amp, "steps": args.steps,
                     "warmup": args.warmup, "g_params": g_params, "d_params": d_params},
        "ms_per_step": 1000 * wall / args.steps,
        "img_per_s": shown / wall,
        "cpu_ms_per_step": 1000 * cpu / args.steps,
        "img_per_cpu_s": shown / cpu,
        "profiled_ms_per_step": total_us / 1000 / args.steps,
        "categories": shares(categories),
        "category_ms_per_step": {name: value / 1000 / args.steps for name, value in categories.items()},
        "phases": shares(phases),
        "top_ops": [{"name": average.key, "self_ms_per_step": average.self_cpu_time_total / 1000 / args.steps,
                     "share": average.self_cpu_time_total / total_us, "calls_per_step": average.count / args.steps}
                    for average in top],
    }
    print(f"# Where pggan's training step goes: preset {args.config}, {args.amp if args.amp != 'none' else 'fp32'}\n")
    print(f"- CPU: {result['machine']['cpu']}, {args.threads} thread(s), torch {torch.__version__}, load average "
          f"{result['machine']['load_average']:.2f}")
    if args.amp == "bf16" and native is not True:
        print("- bf16 arithmetic: **none on this CPU** (no avx512_bf16 or amx_bf16): this breakdown shows torch's "
              "fallback for bf16 (see the top ops), not what a CPU with bf16 arithmetic spends")
    print(f"- command: `{command}`")
    print(f"- {config.resolution}×{config.resolution}×1, fmap_base {config.fmap_base}, fmap_max {config.fmap_max}, "
          f"latent {config.latent_size}, G {g_params:,} / D {d_params:,} parameters, minibatch {args.minibatch}, "
          f"n_critic {config.n_critic}; {args.warmup} warm-up + {args.steps} profiled steps")
    print(f"- **{result['ms_per_step']:.1f} ms per step, {result['img_per_s']:.2f} img/s** (wall clock, profiler "
          f"on); process CPU time {result['cpu_ms_per_step']:.1f} ms per step, {result['img_per_cpu_s']:.2f} img per "
          f"CPU s; the profiled ops' time {result['profiled_ms_per_step']:.1f} ms per step\n")
    print("| category | ms per step | share |\n|---|---|---|")
    for name, label in CATEGORIES.items():
        print(f"| {label} | {result['category_ms_per_step'][name]:.1f} | {100 * result['categories'][name]:.1f} % |")
    print("\n| phase | share |\n|---|---|")
    for name, label in PHASES.items():
        print(f"| {label} | {100 * result['phases'][name]:.1f} % |")
    print(f"\n| top {args.top} ops by self CPU time | self ms per step | share | calls per step |\n|---|---|---|---|")
    for op in result["top_ops"]:
        print(f"| {op['name']} | {op['self_ms_per_step']:.2f} | {100 * op['share']:.1f} % | "
              f"{op['calls_per_step']:g} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
