"""The gradient penalty's double backward through convolutions: torch's formula against convolution kernels.

WGAN-GP (the paper's §A.1 loss), R1 and path length regularisation differentiate a gradient, so autograd takes the
backward of each convolution's input gradient. torch's formula for it computes the weights' term as a forward
convolution of the minibatch-transposed input with the minibatch-transposed output gradient: a "kernel" as large as
the image (128×128 at 128²). On an NVIDIA H200 (torch 2.11, cuDNN, fp32 with TF32), a profile of preset g at 128²
(paper networks, minibatch 16) put 36 % of the step's GPU time in one cuDNN fallback kernel
(`sm80_xmma_fprop_implicit_gemm_indexed_wo_smem`, 11.7 ms a call, two calls a step) and the trainer ran 213 img/s.

`kernel_conv2d` below is the same convolution with the derivatives written out: the input gradient a transposed
convolution and the weight gradient `aten::convolution_backward`, each with a backward made of ordinary
convolutions, so every order runs on the kernels made for it (the idea of StyleGAN2-ADA's `conv2d_gradfix`, written
here from the derivatives). This script times D's WGAN-GP step (D(real), D(fake), the penalty, the backward) with
pggan's EqualizedConv2d on F.conv2d and on `kernel_conv2d`, in the same run, and checks that the two give the same
weight gradients to float rounding. On a CPU (oneDNN) torch's formula is not slow: at 128² the candidate was 5 %
slower on an AMD Zen 5, so pggan keeps F.conv2d until a GPU measurement says otherwise.

    python benchmarks/bench_gp_convolution.py                                  # cuda if present, preset g at 128²
    python benchmarks/bench_gp_convolution.py --device cpu --resolution 32 --budget quick --steps 10
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import types
import unittest.mock

import torch
import torch.nn.functional as F

import pggan.layers
from pggan.config import BUDGETS, make_config
from pggan.losses import discriminator_loss
from pggan.networks import build_networks


def kernel_conv2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None, *, padding: int = 0,
                  groups: int = 1) -> torch.Tensor:
    """F.conv2d(x, weight, bias, padding=padding, groups=groups), stride 1, with convolution-kernel derivatives."""
    if torch.is_autocast_enabled(x.device.type):  # autocast's rule for convolutions: the low dtype throughout
        dtype = torch.get_autocast_dtype(x.device.type)
        x, weight = x.to(dtype), weight.to(dtype)
        bias = None if bias is None else bias.to(dtype)
    with torch.autocast(x.device.type, enabled=False):
        return _Conv2d.apply(x, weight, bias, padding, groups)


class _Conv2d(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, padding, groups):
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.groups = padding, groups
        return F.conv2d(x, weight, bias, padding=padding, groups=groups)

    @staticmethod
    def backward(ctx, grad_output):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        grad_x = F.conv_transpose2d(grad_output, weight, padding=ctx.padding, groups=ctx.groups) if needs_x else None
        grad_weight = (_Conv2dWeightGradient.apply(grad_output, x, weight, ctx.padding, ctx.groups) if needs_weight
                       else None)
        grad_bias = grad_output.sum(dim=(0, 2, 3)) if needs_bias else None
        return grad_x, grad_weight, grad_bias, None, None


class _Conv2dWeightGradient(torch.autograd.Function):
    """∂L/∂W of conv2d from its output gradient and input: bilinear in both, so its own derivatives are a
    convolution (by the incoming weight gradient) and a transposed convolution."""

    @staticmethod
    def forward(ctx, grad_output, x, weight, padding, groups):
        ctx.save_for_backward(grad_output, x)
        ctx.padding, ctx.groups = padding, groups
        return torch.ops.aten.convolution_backward(grad_output, x, weight, None, [1, 1], [padding, padding], [1, 1],
                                                   False, [0, 0], groups, [False, True, False])[1]

    @staticmethod
    def backward(ctx, grad_grad_weight):
        grad_output, x = ctx.saved_tensors
        needs_grad_output, needs_x = ctx.needs_input_grad[:2]
        through_grad_output = (F.conv2d(x, grad_grad_weight, padding=ctx.padding, groups=ctx.groups)
                               if needs_grad_output else None)
        through_x = (F.conv_transpose2d(grad_output, grad_grad_weight, padding=ctx.padding, groups=ctx.groups)
                     if needs_x else None)
        return through_grad_output, through_x, None, None, None


def functional_with(conv2d) -> types.SimpleNamespace:
    """torch.nn.functional with conv2d replaced: what pggan.layers' `F` is patched to."""
    return types.SimpleNamespace(**{**{name: getattr(F, name) for name in dir(F) if not name.startswith("__")},
                                    "conv2d": conv2d})


def d_step(discriminator: torch.nn.Module, reals: torch.Tensor, fakes: torch.Tensor, mix: torch.Tensor,
           amp: str) -> None:
    """D's WGAN-GP loss at α = 1 and its backward into D's weights (the gradients are left for the caller)."""
    autocast = (torch.autocast(reals.device.type, dtype=torch.bfloat16) if amp == "bf16"
                else contextlib.nullcontext())
    with autocast:
        loss, _ = discriminator_loss(lambda images: discriminator(images, 1.0), reals, fakes, kind="wgangp", mix=mix)
    loss.backward()


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--preset", default="g")
    parser.add_argument("--budget", default="paper", choices=sorted(BUDGETS))
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--fmap-max", type=int, help="override the budget's")
    parser.add_argument("--minibatch", type=int, default=16)
    parser.add_argument("--amp", default="none", choices=("none", "bf16"))
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    sizes = {} if args.fmap_max is None else {"fmap_max": args.fmap_max}
    config = make_config(args.preset, args.budget, resolution=args.resolution, **sizes)
    torch.manual_seed(0)
    discriminator = build_networks(config, 3)[1].to(device)
    batch = torch.Generator(device="cpu").manual_seed(1)
    reals, fakes = (torch.randn(args.minibatch, 3, args.resolution, args.resolution, generator=batch).to(device)
                    for _ in range(2))
    mix = torch.rand(args.minibatch, generator=batch).to(device)
    variants = {"F.conv2d (torch's double backward)": F.conv2d, "kernel_conv2d": kernel_conv2d}
    gradients, seconds = {}, {}
    for name, conv2d in variants.items():
        with unittest.mock.patch.object(pggan.layers, "F", functional_with(conv2d)):
            discriminator.zero_grad(set_to_none=True)
            d_step(discriminator, reals, fakes, mix, args.amp)
            gradients[name] = [parameter.grad.clone() for parameter in discriminator.parameters()
                               if parameter.grad is not None]  # the lower resolutions' fromRGB are unused
            times = []
            for index in range(args.warmup + args.steps):
                discriminator.zero_grad(set_to_none=True)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                started = time.perf_counter()
                d_step(discriminator, reals, fakes, mix, args.amp)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                if index >= args.warmup:
                    times.append(time.perf_counter() - started)
            seconds[name] = statistics.median(times)
    reference, candidate = gradients.values()
    difference = max(((a - b).abs().max() / a.abs().max().clamp_min(1e-30)).item()
                     for a, b in zip(reference, candidate, strict=True))
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"D's WGAN-GP step, preset {args.preset}, {args.budget} networks at {args.resolution}², minibatch "
          f"{args.minibatch}, {args.amp}, on {where} (torch {torch.__version__}); median of {args.steps} steps\n")
    print("| convolution | ms per D step |")
    print("|---|---|")
    for name, value in seconds.items():
        print(f"| {name} | {1e3 * value:.2f} |")
    ratio = seconds["F.conv2d (torch's double backward)"] / seconds["kernel_conv2d"]
    print(f"\nkernel_conv2d: {ratio:.2f}× F.conv2d's speed; weight gradients differ by {difference:.1e} of their "
          "largest value (float rounding)")
    return {"ms_per_step": {name: 1e3 * value for name, value in seconds.items()}, "speedup": ratio,
            "relative_gradient_difference": difference}


if __name__ == "__main__":
    main()
