"""The building blocks of the paper's networks: equalized-lr conv/dense, pixel norm, feature-map widths and resampling,
minibatch stddev, minibatch discrimination (Karras et al. 2018, §3–4.2; Salimans et al. 2016, §3.2), MSG-GAN's
combine function (Karnewar & Wang 2020, §3.1), StyleGAN's binomial resampling filter (Karras et al. 2019, §2)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2  # §A.1: "leaky ReLU with leakiness 0.2" in every layer of both networks except the last.
HE_GAIN = math.sqrt(2.0)  # He et al. (2015) gain for (leaky) ReLU layers; linear output layers use gain 1.


class EqualizedLinear(nn.Module):
    """Dense layer; with `equalized` the weight is N(0, 1) and scaled by gain/√fan_in at run time (§4.1)."""

    def __init__(self, in_features: int, out_features: int, *, gain: float = HE_GAIN, equalized: bool = True):
        super().__init__()
        he_std = gain / math.sqrt(in_features)
        # Equalized lr: ŵ_i = w_i / c with c = He's per-layer constant, applied in forward (§4.1). Without it, the
        # same He-initialised distribution is stored in the weight itself (the conventional initialisation).
        self.runtime_scale = he_std if equalized else 1.0
        self.weight = nn.Parameter(torch.randn(out_features, in_features) * (1.0 if equalized else he_std))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.runtime_scale, self.bias)


class EqualizedConv2d(nn.Module):
    """2-D convolution with the equalized learning rate of §4.1 (or plain He initialisation when off)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, padding: int | None = None,
                 gain: float = HE_GAIN, equalized: bool = True, bias: bool = True):
        super().__init__()
        he_std = gain / math.sqrt(in_channels * kernel_size * kernel_size)
        self.runtime_scale = he_std if equalized else 1.0
        self.padding = kernel_size // 2 if padding is None else padding
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = nn.Parameter(torch.randn(shape) * (1.0 if equalized else he_std))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.runtime_scale, self.bias, padding=self.padding)


class PixelNorm(nn.Module):
    """§4.2 eq.: b_{x,y} = a_{x,y} / sqrt(1/N Σ_j (a^j_{x,y})² + ε), ε = 1e-8, over the channel axis."""

    def __init__(self, epsilon: float = 1e-8):
        super().__init__()
        self.epsilon = epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + self.epsilon)


def num_features(stage: int, fmap_base: int, fmap_decay: float, fmap_max: int) -> int:
    """Feature maps at `stage` (1 = 4×4, 2 = 8×8, …): min(int(fmap_base / 2**(stage·fmap_decay)), fmap_max)."""
    return min(int(fmap_base / 2.0 ** (stage * fmap_decay)), fmap_max)


def resolution_log2(resolution: int) -> int:
    """log2 of a power-of-two resolution ≥ 4, else ValueError."""
    log2 = int(round(math.log2(resolution))) if resolution > 0 else 0
    if resolution < 4 or 2**log2 != resolution:
        raise ValueError(f"resolution must be a power of two ≥ 4, got {resolution}")
    return log2


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2× upsampling (§A.1: 'upsampling ... replicate each pixel 2×2')."""
    return F.interpolate(x, scale_factor=2.0, mode="nearest")


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2×2 average pooling (§A.1)."""
    return F.avg_pool2d(x, 2)


def fade_in(old: torch.Tensor, new: torch.Tensor, alpha: float | torch.Tensor) -> torch.Tensor:
    """Figure 2(b): (1 − α)·old + α·new (torch.lerp), in the wider of the two dtypes. Under CUDA's autocast the
    old branch's nearest upsampling runs in fp32 while the new toRGB's convolution gives bf16/fp16; CPU's autocast
    keeps both low. In fp32 this is torch.lerp itself, bit for bit."""
    dtype = torch.promote_types(old.dtype, new.dtype)
    return torch.lerp(old.to(dtype), new.to(dtype), alpha)


def fading(alpha: float | torch.Tensor) -> bool:
    """Whether the newest block is being faded in: α < 1, or α given as a tensor (not looked at, so that
    torch.compile does not specialise the graph on its value)."""
    return isinstance(alpha, torch.Tensor) or alpha < 1.0


# StyleGAN's low-pass filter for resampling (Karras et al. 2019, §2 and Appendix C, "bilinear up/downsampling"
# after Zhang 2019): the binomial [1, 2, 1] ⊗ [1, 2, 1] / 16.
BINOMIAL_KERNEL = torch.outer(torch.tensor([1.0, 2.0, 1.0]), torch.tensor([1.0, 2.0, 1.0])) / 16


def binomial_blur(x: torch.Tensor) -> torch.Tensor:
    """Each channel convolved with BINOMIAL_KERNEL, zero-padded to the same size (reference blur2d)."""
    channels = x.shape[1]
    kernel = BINOMIAL_KERNEL.to(device=x.device, dtype=x.dtype).expand(channels, 1, 3, 3)
    return F.conv2d(x, kernel, padding=1, groups=channels)


def blurred_upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2× upsampling, then the binomial blur: StyleGAN's "bilinear" upsampling (§2, row B of its
    Table 1). The reference blurs after the upsampling conv; blur and conv commute away from the border."""
    return binomial_blur(upsample2x(x))


class BinomialBlur(nn.Module):
    """`binomial_blur` as a layer (D's blocks, before each 2×2 average pooling, with StyleGAN's resampling)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return binomial_blur(x)


class MinibatchStddev(nn.Module):
    """§3: std of every feature over each group of `group_size` samples, averaged to one extra feature map.

    Groups are *consecutive* samples (the reference strides them across the batch; with i.i.d. minibatches the
    two are the same statistic). Consecutive groups stay inside each rank's slice under data parallelism, so a
    multi-process step equals the single-process step whenever the per-rank minibatch is a multiple of it.
    """

    def __init__(self, group_size: int = 4, epsilon: float = 1e-8):
        super().__init__()
        self.group_size = group_size
        self.epsilon = epsilon

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = min(self.group_size, n)
        if n % group:
            raise ValueError(f"minibatch stddev: minibatch {n} is not a multiple of the group size {group}")
        grouped = x.reshape(n // group, group, c, h, w)
        centred = grouped - grouped.mean(dim=1, keepdim=True)
        std = torch.sqrt(centred.square().mean(dim=1) + self.epsilon)  # population std over the group
        stat = std.mean(dim=(1, 2, 3))  # one number per group
        stat_map = stat.repeat_interleave(group).reshape(n, 1, 1, 1).expand(n, 1, h, w)
        return torch.cat([x, stat_map.to(x.dtype)], dim=1)


class MinibatchDiscrimination(nn.Module):
    """Salimans et al. (2016) §3.2: o(x_i)_b = Σ_{j≠i} exp(-‖M_{i,b} − M_{j,b}‖_1), with M = f(x_i)·T.

    Config (e*) of Table 1 places it, like the reference, after the last 4×4 layer of D with 100 kernels of
    dimension 5. Choices the paper leaves open: T ~ N(0, 0.05²) (the init of Salimans' code, without its
    data-dependent weight-norm init) and a learned per-kernel bias initialised to -1 as there.
    """

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5):
        super().__init__()
        self.num_kernels, self.kernel_dim = num_kernels, kernel_dim
        self.tensor = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) * 0.05)
        self.bias = nn.Parameter(torch.full((num_kernels,), -1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = (x @ self.tensor).reshape(-1, self.num_kernels, self.kernel_dim)
        l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(dim=3)  # [N, N, B]
        closeness = torch.exp(-l1).sum(dim=1) - 1.0  # drop the j = i term, exp(0) = 1
        return torch.cat([x, closeness + self.bias], dim=1)


class MultiScaleCombine(nn.Module):
    """MSG-GAN's combine function φ (Karnewar & Wang 2020, §3.1): D's features x at one scale joined with the image
    at that scale; `out_channels` is what the next layer of D receives.

    simple: concat(image, x). lin_cat: concat(1×1 conv(image), x), the conv linear (bias, no activation) to as many
    maps as x, as the authors' PyTorch code (BMSG-GAN). cat_lin: 1×1 conv(concat(x, image)) back to x's maps,
    without bias or activation, as their StyleGAN code (msg-stylegan-tf).
    """

    def __init__(self, kind: str, image_channels: int, feature_channels: int, *, equalized: bool = True):
        super().__init__()
        self.kind = kind
        if kind == "simple":
            self.conv = None
            self.out_channels = image_channels + feature_channels
        elif kind == "lin_cat":
            self.conv = EqualizedConv2d(image_channels, feature_channels, 1, equalized=equalized)
            self.out_channels = 2 * feature_channels
        elif kind == "cat_lin":
            self.conv = EqualizedConv2d(feature_channels + image_channels, feature_channels, 1, equalized=equalized,
                                        bias=False)
            self.out_channels = feature_channels
        else:
            raise ValueError(f"unknown MSG combine function {kind!r}; choose simple, lin_cat or cat_lin")

    def forward(self, image: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "simple":
            return torch.cat([image, x], dim=1)
        if self.kind == "lin_cat":
            return torch.cat([self.conv(image), x], dim=1)
        return self.conv(torch.cat([x, image], dim=1))


class ModulatedConv2d(nn.Module):
    """StyleGAN2's modulated convolution (Karras et al. 2020, §2.2, Eq. 1–3), one weight per sample.

    w'_ijk = s_i · w_ijk (Eq. 1) with w the equalized-lr weight (N(0, 1) stored, scaled by 1/√fan_in at run time) and
    s the sample's style, one scale per input channel; with `demodulate`, w''_ijk = w'_ijk / √(Σ_{i,k} w'_ijk² + ε)
    (Eq. 3), ε = 1e-8. Run as one grouped convolution, the minibatch folded into the groups. Upsampling is not fused
    in: a generator upsamples first, then convolves.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, demodulate: bool = True,
                 bias: bool = True, epsilon: float = 1e-8):
        super().__init__()
        self.demodulate = demodulate
        self.epsilon = epsilon
        self.runtime_scale = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None

    def modulated_weight(self, styles: torch.Tensor) -> torch.Tensor:
        """The per-sample weights [N, out, in, k, k] for `styles` [N, in]: Eq. 1, then Eq. 3 with `demodulate`."""
        if styles.ndim != 2 or styles.shape[1] != self.weight.shape[1]:
            raise ValueError(f"styles must be [N, {self.weight.shape[1]}], got {list(styles.shape)}")
        weight = self.weight.unsqueeze(0) * self.runtime_scale * styles.reshape(styles.shape[0], 1, -1, 1, 1)
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.square().sum(dim=(2, 3, 4), keepdim=True) + self.epsilon)
        return weight

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        """x [N, in, H, W] convolved with each sample's own modulated weight, plus the bias."""
        batch, _, height, width = x.shape
        if styles.shape[0] != batch:
            raise ValueError(f"one style per sample: {batch} inputs, {styles.shape[0]} styles")
        weight = self.modulated_weight(styles)
        grouped = F.conv2d(x.reshape(1, -1, height, width), weight.reshape(-1, *weight.shape[2:]),
                           padding=self.padding, groups=batch)
        out = grouped.reshape(batch, -1, *grouped.shape[2:])
        return out if self.bias is None else out + self.bias.reshape(1, -1, 1, 1)


class ResidualBlock(nn.Module):
    """StyleGAN2's residual discriminator block (Karras et al. 2020, Figure 7c): (main(x) + skip(x)) / √2.

    `main` is the block's convolutions ending in its 2× downsampling; skip(x) is a 1×1 convolution of the 2×2-average
    downsampled x (binomial-blurred first with `blur`, as `main`'s downsampling then is), without bias or activation.
    """

    def __init__(self, main: nn.Module, in_channels: int, out_channels: int, *, blur: bool = False,
                 equalized: bool = True):
        super().__init__()
        self.main = main
        self.blur = blur
        self.skip = EqualizedConv2d(in_channels, out_channels, 1, gain=1.0, equalized=equalized, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.main(x) + self.skip(F.avg_pool2d(binomial_blur(x) if self.blur else x, 2))) * math.sqrt(0.5)
