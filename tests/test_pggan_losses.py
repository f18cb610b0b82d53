"""WGAN-GP's gradient penalty against central finite differences; the loss's parts."""

import functools

import torch

from pggan.config import make_config
from pggan.losses import discriminator_loss, gradient_penalty
from pggan.networks import build_networks


def test_gradient_penalty_matches_finite_differences():
    # float64 central differences of f(X) = Σ_i D(X)_i with h = 1e-6: truncation O(h²·f''') ~ 1e-12 and
    # rounding O(eps·|f|/h) ~ 1e-10, so the norms agree to ~1e-9; rtol 1e-6 leaves a wide margin.
    torch.manual_seed(0)
    config = make_config("g", resolution=8, fmap_base=32, fmap_max=8, latent_size=8)
    _, discriminator = build_networks(config, num_channels=1)
    discriminator = discriminator.double()
    critic = functools.partial(discriminator, alpha=0.6)  # exercises the fade-in branch too
    reals, fakes = torch.randn(4, 1, 8, 8, dtype=torch.float64), torch.randn(4, 1, 8, 8, dtype=torch.float64)
    mix = torch.rand(4, dtype=torch.float64)
    penalty = gradient_penalty(critic, reals, fakes, mix, target=1.0)

    # One batched forward: each perturbed copy of the 4-image minibatch is its own minibatch-stddev group of 4
    # (groups are consecutive samples), so copies do not interact.
    mixed = reals + mix.reshape(-1, 1, 1, 1) * (fakes - reals)
    size, step = mixed.numel(), 1e-6
    offsets = torch.eye(size, dtype=torch.float64).view(size, *mixed.shape) * step
    with torch.no_grad():
        plus = critic((mixed + offsets).reshape(-1, 1, 8, 8)).view(size, 4).sum(dim=1)
        minus = critic((mixed - offsets).reshape(-1, 1, 8, 8)).view(size, 4).sum(dim=1)
    numeric = (plus - minus) / (2 * step)
    expected = (numeric.view(4, -1).norm(dim=1) - 1.0).square()
    torch.testing.assert_close(penalty.detach(), expected, rtol=1e-6, atol=1e-9)


def test_wgangp_loss_is_the_sum_of_its_terms():
    # L = E[D(fake)] − E[D(real)] + λ·GP + ε·E[D(real)²], recomputed from independent evaluations of D.
    torch.manual_seed(1)
    config = make_config("g", resolution=8, fmap_base=32, fmap_max=8, latent_size=8)
    _, discriminator = build_networks(config, num_channels=1)
    critic = functools.partial(discriminator, alpha=1.0)
    reals, fakes, mix = torch.randn(4, 1, 8, 8), torch.randn(4, 1, 8, 8), torch.rand(4)
    loss, parts = discriminator_loss(critic, reals, fakes, kind="wgangp", mix=mix, wgan_lambda=10.0,
                                     wgan_epsilon=0.001)
    with torch.no_grad():
        real_scores, fake_scores = critic(reals), critic(fakes)
    penalty = gradient_penalty(critic, reals, fakes, mix).mean()
    expected = fake_scores.mean() - real_scores.mean() + 10.0 * penalty + 0.001 * real_scores.square().mean()
    torch.testing.assert_close(loss.detach(), expected.detach(), rtol=1e-5, atol=1e-6)  # float32 rounding
    torch.testing.assert_close(parts["drift"], real_scores.square().mean())


def test_penalty_and_drift_are_squared_and_averaged_in_float32_under_bf16_autocast():
    """A linear critic reading one pixel with weight 255: under bf16 autocast its score on a pixel of 1 is 255 and its
    gradient there 255, both exact in bf16 (8 significant bits). Their squares need 16 bits: the drift 255² = 65025 and
    the penalty (‖∇‖ − 1)² = 254² = 64516, which bf16 arithmetic would round to 65024 and 64512. Exact values show
    both are formed in float32 from the bf16 scores and gradients."""
    linear = torch.nn.Linear(16, 1, bias=False)
    with torch.no_grad():
        linear.weight.zero_()
        linear.weight[0, 0] = 255.0

    def critic(images: torch.Tensor) -> torch.Tensor:
        return linear(images.flatten(1)).squeeze(1)

    reals = torch.zeros(2, 1, 4, 4)
    reals[:, 0, 0, 0] = 1.0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert critic(reals).dtype == torch.bfloat16  # the critic does run in bf16
        _, parts = discriminator_loss(critic, reals, reals.clone(), kind="wgangp", mix=torch.rand(2))
    assert parts["drift"].dtype == parts["gradient_penalty"].dtype == torch.float32
    assert parts["drift"].item() == 65025.0 and parts["gradient_penalty"].item() == 64516.0
