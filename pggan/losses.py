"""Losses: WGAN-GP (Gulrajani et al. 2017) with the paper's drift term (§A.1), the non-saturating logistic loss with
optional R1 (Mescheder et al. 2018, as StyleGAN's), and StyleGAN2's path length regularisation with lazy
regularisation (Karras et al. 2020, §3.1–3.2, Appendix B)."""

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
    with torch.profiler.record_function("pggan.gradient_penalty"):  # D(x̂) and ∇D(x̂): a profiler label
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


def lazy_r1_loss(critic: Critic, reals: Images, *, gamma: float, interval: int
                 ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Lazy R1 (StyleGAN2 §3.1, Appendix B): interval·γ/2·E‖∇_x D(x)‖² at the reals, D's loss in a step of its own
    every `interval` minibatches (the logistic loss then carries no R1), and its detached penalty."""
    reals = (reals.detach().requires_grad_(True) if isinstance(reals, torch.Tensor)
             else [real.detach().requires_grad_(True) for real in reals])
    penalty = r1_penalty(_at_least_fp32(critic(reals)), reals).mean()
    return interval * 0.5 * gamma * penalty, {"r1_penalty": penalty.detach()}


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


def path_lengths(images: torch.Tensor, latents: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
    """‖J_wᵀ y‖₂ per sample, y ~ N(0, I)/√(H·W) (StyleGAN2 §3.2, Eq. 4), by autograd of Σ G(w)·y.

    `images` = G(`latents`), the latents [N, D] or one per layer [N, L, D] (requires_grad); a per-layer gradient's
    squared norm is averaged over the L layers, as the reference. `noise` is y·√(H·W), drawn when not given. The
    graph is kept, so the lengths can be trained on.
    """
    if noise is None:
        noise = torch.randn_like(images)
    projection = noise / math.sqrt(images.shape[2] * images.shape[3])
    (gradients,) = torch.autograd.grad((images * projection).sum(), latents, create_graph=True)
    per_layer = gradients.reshape(gradients.shape[0], -1, gradients.shape[-1])  # [N, L, D], L = 1 for [N, D]
    return per_layer.square().sum(dim=2).mean(dim=1).sqrt()


class PathLengthMean:
    """The running mean a of the path lengths (StyleGAN2 §3.2): a ← a + decay·(mean of the batch's lengths − a).

    a starts at 0, as the reference; it goes into the checkpoint through `state_dict`.
    """

    def __init__(self, decay: float = 0.01):
        self.decay = _checked_decay(decay)
        self.value = torch.zeros([])

    def update(self, lengths: torch.Tensor, batch_mean: torch.Tensor | None = None) -> torch.Tensor:
        """The new a for this batch's `lengths`; a is stored detached, the returned one keeps the batch's graph.
        `batch_mean`: the mean length of the whole batch where `lengths` are one rank's slice of it (default:
        their own mean)."""
        batch_mean = lengths.mean() if batch_mean is None else batch_mean
        updated = self.value.to(lengths.device, lengths.dtype).lerp(batch_mean, self.decay)
        self.value = updated.detach()
        return updated

    def state_dict(self) -> dict[str, torch.Tensor | float]:
        """a (a 0-dim tensor on the CPU, in its own dtype) and the decay."""
        return {"value": self.value.detach().cpu().clone(), "decay": self.decay}

    def load_state_dict(self, state: dict[str, torch.Tensor | float]) -> None:
        """Restore what `state_dict` returned (a given as a number is taken as float32)."""
        self.decay = _checked_decay(float(state["decay"]))
        self.value = torch.as_tensor(state["value"]).detach().clone().reshape([])


def _checked_decay(decay: float) -> float:
    """`decay` if it is in (0, 1], else ValueError."""
    if not 0 < decay <= 1:
        raise ValueError(f"path length decay must be in (0, 1], got {decay}")
    return decay


def path_length_loss(images: torch.Tensor, latents: torch.Tensor, running_mean: PathLengthMean, *,
                     weight: float = 2.0, interval: int = 1, noise: torch.Tensor | None = None,
                     batch_mean: Callable[[torch.Tensor], torch.Tensor] = torch.mean
                     ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """G's path length regulariser weight·interval·E[(‖J_wᵀ y‖₂ − a)²] and its detached parts (StyleGAN2 §3.2).

    weight 2 and running-mean decay 0.01 are the reference's; `interval` is the lazy interval (4 in the paper):
    applied every `interval` minibatches, the penalty is scaled by it (Appendix B). The reference runs it on
    minibatch // 2 samples (`path_length_minibatch`). Updates `running_mean` by `batch_mean` of the lengths (under
    torchrun: the differentiable mean over every rank's, so that N ranks compute one process's loss).
    """
    lengths = path_lengths(images, latents, noise)
    mean = running_mean.update(lengths, batch_mean(lengths))
    penalty = (lengths - mean).square().mean()
    return weight * interval * penalty, {"path_length": lengths.mean().detach(), "path_length_mean": mean.detach(),
                                         "path_length_penalty": penalty.detach()}


def path_length_minibatch(minibatch: int, shrink: int = 2) -> int:
    """Samples of the path length pass: minibatch // shrink, at least 1 (StyleGAN2 reference pl_batch_shrink = 2)."""
    if minibatch < 1 or shrink < 1:
        raise ValueError(f"minibatch and shrink must be ≥ 1, got {minibatch} and {shrink}")
    return max(1, minibatch // shrink)


def lazy_interval_due(step: int, interval: int) -> bool:
    """Whether lazy regularisation runs at minibatch `step` (0, interval, 2·interval, …; StyleGAN2 §3.1)."""
    if interval < 1:
        raise ValueError(f"a regularisation interval must be ≥ 1, got {interval}")
    return step % interval == 0


def lazy_adam_hyperparameters(lr: float, betas: tuple[float, float], interval: int
                              ) -> tuple[float, tuple[float, float]]:
    """Adam's lr·c and β^c, c = interval/(interval + 1), for a network regularised every `interval` minibatches
    in an extra step (StyleGAN2 Appendix B: R1 every 16, path length every 4)."""
    if interval < 1:
        raise ValueError(f"a regularisation interval must be ≥ 1, got {interval}")
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)
