"""Evaluate a generator while it trains, with ganeval's accumulators: the real set's SWD descriptors are drawn once,
each evaluation draws the generator's and compares them, and MS-SSIM measures the samples' diversity.

The generator here is a small torchvision-style DCGAN (`torch.nn.Module`, latents → images in [-1, 1]) trained for a
few steps on crops of the bundled photographs with the non-saturating loss: a stand-in for yours. What matters is
the evaluation: `SWDDescriptors.update(batch)` takes uint8 N×3×H×W batches, `compute()` gives each pyramid level's
descriptors, `swd_from_descriptors` the distance; the descriptors of the real set are kept and reused.

    python examples/evaluate_during_training.py --steps 200 --every 50
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from ganeval import MSSSIMAccumulator, SWDDescriptors
from ganeval.defaults import STREAM_FAKE, STREAM_REAL
from ganeval.demo import photo_crops
from ganeval.kernels.wasserstein import swd_from_descriptors

SIDE, LATENT = 32, 64


def generator() -> nn.Module:
    return nn.Sequential(nn.Unflatten(1, (LATENT, 1, 1)),
                         nn.ConvTranspose2d(LATENT, 128, 4), nn.BatchNorm2d(128), nn.ReLU(),           # 4×4
                         nn.ConvTranspose2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(),          # 8×8
                         nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.ReLU(),           # 16×16
                         nn.ConvTranspose2d(32, 3, 4, 2, 1), nn.Tanh())                                # 32×32


def discriminator() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 32, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 4, 2, 1), nn.LeakyReLU(0.2),
                         nn.Conv2d(64, 128, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(128, 1, 4), nn.Flatten())


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] floats → uint8 0–255, as ganeval's accumulators take them."""
    return ((images + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--every", type=int, default=50, help="evaluate every N steps")
    parser.add_argument("--num-images", type=int, default=256, help="images per set for SWD")
    args = parser.parse_args()
    torch.manual_seed(0)

    reals = torch.from_numpy(photo_crops(2048, SIDE, seed=0)).permute(0, 3, 1, 2).contiguous()  # uint8 N×3×H×W
    real_descriptors = SWDDescriptors(stream=STREAM_REAL)
    for start in range(0, args.num_images, 64):
        real_descriptors.update(reals[start:start + 64])
    real_levels = real_descriptors.compute()  # drawn once, reused at every evaluation

    g, d = generator(), discriminator()
    g_optimizer = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    d_optimizer = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    for step in range(1, args.steps + 1):
        batch = reals[torch.randint(len(reals), (32,))].float() / 127.5 - 1
        fakes = g(torch.randn(32, LATENT))
        d_loss = nn.functional.softplus(d(fakes.detach())).mean() + nn.functional.softplus(-d(batch)).mean()
        d_optimizer.zero_grad()
        d_loss.backward()
        d_optimizer.step()
        g_loss = nn.functional.softplus(-d(fakes)).mean()
        g_optimizer.zero_grad()
        g_loss.backward()
        g_optimizer.step()
        if step % args.every == 0:
            g.eval()
            fake_descriptors, pairs = SWDDescriptors(stream=STREAM_FAKE), MSSSIMAccumulator()
            with torch.no_grad():
                for _ in range(0, args.num_images, 64):
                    images = to_uint8(g(torch.randn(64, LATENT)))
                    fake_descriptors.update(images)
                    pairs.update(images)
            g.train()
            swd_x1e3 = [1e3 * value for value in swd_from_descriptors(real_levels, fake_descriptors.compute())]
            print(f"step {step}: SWD ×10³ {[round(value, 1) for value in swd_x1e3]} (32, 16 px), MS-SSIM "
                  f"{pairs.compute()['msssim']:.3f}", flush=True)


if __name__ == "__main__":
    main()
