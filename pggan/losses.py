"""Losses: WGAN-GP (Gulrajani et al. 2017) with the paper's drift term (§A.1), and the non-saturating logistic loss
with optional R1 (Mescheder et al. 2018, as StyleGAN's)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

# A minibatch of images: one tensor, or MSG-GAN's list of the same images at 4, 8, …, R.
Images = torch.Tensor | list[torch.Tensor]
Critic = Callable[[Images], torch.Tensor]


def _at_least_fp32(values: torch.Tensor) -> torch.Tensor:
    """Scores/gradients from autocast (bf16/fp16) promoted to float32; float32/float64 unchanged."""
    return values.to(torch.promote_types(values.dtype, torch.float32))


def gradient_penalty(critic: Critic, reals: Images, fakes: Images, mix: torch.Tensor,
                     target: float = 1.0) -> torch.Tensor:
    """Per-sample (‖∇_x̂ D(x̂)‖₂ − target)² / target², x̂ = reals + mix·(fakes − reals), mix ~ U(0, 1) per sample.

    Images at several scales (MSG-GAN) are mixed with the same factor; ‖∇‖² is then the mean, over the scales the
    critic reads, of each scale's squared gradient norm, as msg-stylegan-tf's penalty (which reads every scale).
    """
    if isinstance(reals, torch.Tensor):
        mixed = torch.lerp(reals, fakes, mix.reshape(-1, 1, 1, 1)).detach().requires_grad_(True)
        (gradients,) = torch.autograd.grad(_at_least_fp32(critic(mixed)).sum(), mixed, create_graph=True)
        norms = _at_least_fp32(gradients).flatten(1).norm(dim=1)
        return (norms - target).square() / target**2
    scales = [torch.lerp(real, fake, mix.reshape(-1, 1, 1, 1)).detach().requires_grad_(True)
              for real, fake in zip(reals, fakes, strict=True)]
    gradients = [gradient for gradient in torch.autograd.grad(_at_least_fp32(critic(scales)).sum(), scales,
                                                               create_graph=True, allow_unused=True)
                 if gradient is not None]  # None: a scale D does not connect
    # The mean over S scales of Σ g² is Σ (g / √S)² over them all: one norm of the concatenated gradients.
    flat = torch.cat([_at_least_fp32(gradient).flatten(1) for gradient in gradients], dim=1)
    norms = flat.norm(dim=1) / math.sqrt(len(gradients))
    return (norms - target).square() / target**2


def r1_penalty(real_scores: torch.Tensor, reals: Images) -> torch.Tensor:
    """Per-sample ‖∇_x D(x)‖² at the reals (Mescheder et al. 2018, eq. 9 without γ/2), the gradient of Σ D(real)
    with respect to `reals`, which must require grad; at several scales (MSG-GAN) the squares are summed over the
    scales D reads. Differentiable (create_graph), so that D's step descends it."""
    inputs = [reals] if isinstance(reals, torch.Tensor) else list(reals)
    gradients = [gradient for gradient in torch.autograd.grad(real_scores.sum(), inputs, create_graph=True,
                                                              allow_unused=True) if gradient is not None]
    return sum(_at_least_fp32(gradient).square().flatten(1).sum(dim=1) for gradient in gradients)


def discriminator_loss(critic: Critic, reals: Images, fakes: Images, *, kind: str, mix: torch.Tensor,
                       wgan_lambda: float = 10.0, wgan_target: float = 1.0, wgan_epsilon: float = 0.001,
                       r1_gamma: float = 0.0) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """D's loss and its detached parts.

    wgangp: E[D(fake)] − E[D(real)] + λ·E[(‖∇D(x̂)‖ − γ)²/γ²] + ε_drift·E[D(real)²] (§A.1, reference loss.py).
    logistic: E[softplus(D(fake))] + E[softplus(−D(real))] (Goodfellow et al. 2014), + γ/2·E‖∇D(real)‖² with
    r1_gamma = γ > 0 (R1, StyleGAN's reference D_logistic_simplegp).
    """
    if r1_gamma > 0:
        reals = (reals.detach().requires_grad_(True) if isinstance(reals, torch.Tensor)
                 else [real.detach().requires_grad_(True) for real in reals])
    real_scores = _at_least_fp32(critic(reals))
    fake_scores = _at_least_fp32(critic(fakes))
    if kind == "logistic":
        loss = F.softplus(fake_scores).mean() + F.softplus(-real_scores).mean()
        if r1_gamma == 0:
            return loss, {"d_loss": loss.detach()}
        penalty = r1_penalty(real_scores, reals).mean()
        loss = loss + 0.5 * r1_gamma * penalty
        return loss, {"d_loss": loss.detach(), "r1_penalty": penalty.detach()}
    wasserstein = fake_scores.mean() - real_scores.mean()
    penalty = gradient_penalty(critic, reals, fakes, mix, wgan_target).mean()
    drift = real_scores.square().mean()
    loss = wasserstein + wgan_lambda * penalty + wgan_epsilon * drift
    return loss, {"d_loss": loss.detach(), "wasserstein": -wasserstein.detach(), "gradient_penalty": penalty.detach(),
                  "drift": drift.detach()}


def generator_loss(critic: Critic, fakes: Images, *, kind: str) -> torch.Tensor:
    """G's loss: −E[D(fake)] (WGAN) or E[softplus(−D(fake))] (non-saturating logistic)."""
    fake_scores = _at_least_fp32(critic(fakes))
    return F.softplus(-fake_scores).mean() if kind == "logistic" else -fake_scores.mean()
