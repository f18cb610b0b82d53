"""Sampling a generator: images at a schedule's resolution/α, the sample grid PNG, `generate` from a checkpoint
into an .npz, an .npy or a folder of PNGs, and `run_generator`, a checkpoint's generator as a function of z for
ganeval's generator metrics (`pggan ppl`)."""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torchvision.utils import make_grid

from ganeval.devices import resolve_device
from ganeval.errors import GanevalInputError
from ganeval.files import describe, refuse_overwriting_input, write_atomically
from ganeval.sample_grids import upscale_factor
from pggan.checkpoint import load_checkpoint, load_newest_checkpoint
from pggan.config import TrainConfig
from pggan.data import to_uint8
from pggan.errors import ConfigError, TrainingDivergedError
from pggan.layers import resolution_log2
from pggan.networks import Generator, build_networks
from pggan.schedule import ScheduleState, schedule
from pggan.style import StyleGenerator, truncate


@torch.no_grad()
def sample_images(generator: Generator | StyleGenerator, latents: torch.Tensor, state: ScheduleState,
                  out_resolution: int, batch_size: int = 64, **truncation: Any) -> torch.Tensor:
    """uint8 NCHW images of `generator` at the schedule's resolution/α, nearest-upsampled to out_resolution;
    `truncation`: a StyleGenerator's truncation_psi and truncation_cutoff."""
    batches = []
    for start in range(0, len(latents), batch_size):
        images = generator(latents[start:start + batch_size], state.resolution, state.alpha, **truncation)
        if not torch.isfinite(images).all():
            raise TrainingDivergedError("training diverged: the generator produced NaN/inf pixels")
        factor = out_resolution // state.resolution
        if factor > 1:
            images = images.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
        batches.append(to_uint8(images).cpu())
    return torch.cat(batches)


def save_grid(images: torch.Tensor, path: Path, grid_size: int) -> None:
    """The first grid_size² of uint8 NCHW images as a PNG grid, grid_size to a row, no padding, each enlarged by
    nearest neighbour (`upscale_factor`; a 32-px sample ×4), written atomically; grey images give a grey PNG."""
    factor = upscale_factor(*images.shape[2:])
    images = images[:grid_size * grid_size].repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
    grid = make_grid(images, nrow=grid_size, padding=0)  # grey is repeated into RGB
    array = grid[0].numpy() if images.shape[1] == 1 else grid.permute(1, 2, 0).numpy()
    write_atomically(path, lambda p: Image.fromarray(array).save(p, format="PNG"))


def load_run_generator(checkpoint: str | os.PathLike, *, device: str | torch.device | None = None, ema: bool = True
                       ) -> tuple[Generator | StyleGenerator, TrainConfig, ScheduleState, Path]:
    """The EMA generator (`ema=False`: the raw one) of `checkpoint` (or a run dir's newest checkpoint that loads) in
    eval mode on `device`, its configuration, the resolution/α it was training at, and the checkpoint's path."""
    path = Path(checkpoint)
    if path.is_dir():
        saved, path = load_newest_checkpoint(path)
    elif not path.is_file():
        raise GanevalInputError(f"{path}: no such checkpoint")
    else:
        saved = load_checkpoint(path)
    try:
        config = TrainConfig.from_dict(saved["config"]).validate()
    except ConfigError as error:
        raise GanevalInputError(f"{path}: damaged checkpoint configuration ({error})") from None
    generator, _ = build_networks(config, saved["num_channels"])
    try:
        generator.load_state_dict(saved["generator_ema" if ema else "generator"])
    except (RuntimeError, TypeError) as error:
        raise GanevalInputError(f"{path}: damaged checkpoint ({describe(error)})") from None
    generator.to(resolve_device(device)).eval()
    return generator, config, schedule(saved["counters"]["num_images"] / 1000, config), path


class RunGenerator(torch.nn.Module):
    """A run's generator as a function of the latents alone, for ganeval's generator metrics (`ganeval.ppl`): float
    images in [-1, 1] at the resolution/α the checkpoint was training at, nearest-upsampled to the final resolution
    as `generate` writes them. `latent_size` is the length of z."""

    def __init__(self, generator: Generator | StyleGenerator, state: ScheduleState, out_resolution: int) -> None:
        super().__init__()
        self.generator, self.state, self.out_resolution = generator, state, out_resolution
        self.latent_size = generator.latent_size

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self._at_out_resolution(self.generator(latents, self.state.resolution, self.state.alpha))

    def _at_out_resolution(self, images: torch.Tensor) -> torch.Tensor:
        factor = self.out_resolution // self.state.resolution
        if factor > 1:
            images = images.repeat_interleave(factor, dim=2).repeat_interleave(factor, dim=3)
        return images


class StyleRunGenerator(RunGenerator):
    """A StyleGAN run's generator for ganeval's generator metrics: as `RunGenerator`, with the truncation trick
    (ψ at the layers before the cutoff; ψ = 1: none) and StyleGAN's two halves for the W-space metrics (§3.2 PPL in
    W, `space="w"`): `mapping(z)` → w [N, w_size] (untruncated), `synthesis(w)` → the images of w ([N, w_size] for
    every layer, or [N, layers, w_size]), truncated as `forward`, so synthesis(mapping(z)) = forward(z)."""

    generator: StyleGenerator

    def __init__(self, generator: StyleGenerator, state: ScheduleState, out_resolution: int, *,
                 truncation_psi: float = 1.0, truncation_cutoff: int | None = None) -> None:
        super().__init__(generator, state, out_resolution)
        self.truncation_psi, self.truncation_cutoff = truncation_psi, truncation_cutoff
        self.num_layers = 2 * (resolution_log2(state.resolution) - 1)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self._at_out_resolution(self.generator(
            latents, self.state.resolution, self.state.alpha, truncation_psi=self.truncation_psi,
            truncation_cutoff=self.truncation_cutoff))

    def mapping(self, latents: torch.Tensor) -> torch.Tensor:
        return self.generator.mapping(latents)

    def synthesis(self, w: torch.Tensor) -> torch.Tensor:
        styles = w.unsqueeze(1).expand(-1, self.num_layers, -1) if w.ndim == 2 else w
        if styles.ndim != 3 or styles.shape[1] != self.num_layers:
            raise ValueError(f"synthesis takes w as [N, {self.generator.latent_size}] or [N, {self.num_layers}, "
                             f"{self.generator.latent_size}], got {tuple(w.shape)}")
        if self.truncation_psi != 1.0:
            styles = truncate(styles, self.generator.w_avg, self.truncation_psi, self.truncation_cutoff)
        return self._at_out_resolution(self.generator.synthesis(styles, self.state.alpha))


def check_truncation_values(truncation_psi: float | None, truncation_cutoff: int | None) -> None:
    """Refuse a ψ that is not finite and a cutoff below 1."""
    if truncation_psi is not None and not math.isfinite(truncation_psi):
        raise GanevalInputError(f"--truncation-psi must be a finite number, got {truncation_psi}")
    if truncation_cutoff is not None and truncation_cutoff < 1:
        raise GanevalInputError(f"--truncation-cutoff must be ≥ 1, got {truncation_cutoff}")


def truncation_settings(generator: Generator | StyleGenerator, path: Path, truncation_psi: float | None,
                        truncation_cutoff: int | None) -> dict[str, Any]:
    """The truncation_psi and truncation_cutoff a StyleGAN generator is sampled with ({} when neither is given),
    checked: ψ finite, cutoff ≥ 1, and a generator with an average w to truncate towards."""
    check_truncation_values(truncation_psi, truncation_cutoff)
    if truncation_psi is None and truncation_cutoff is None:
        return {}
    if not isinstance(generator, StyleGenerator):
        raise GanevalInputError(f"{path}: a Progressive GAN generator has no average w to truncate towards; "
                                "--truncation-psi and --truncation-cutoff are for StyleGAN runs (mapping_layers > 0)")
    return dict(truncation_psi=1.0 if truncation_psi is None else truncation_psi, truncation_cutoff=truncation_cutoff)


def run_generator(checkpoint: str | os.PathLike, *, device: str | torch.device | None = None, ema: bool = True,
                  truncation_psi: float | None = None, truncation_cutoff: int | None = None) -> RunGenerator:
    """`RunGenerator` of the EMA generator of `checkpoint` (or a run dir's newest checkpoint that loads); for a
    StyleGAN run a `StyleRunGenerator` (mapping and synthesis for W-space metrics), truncated by ψ when given."""
    generator, config, state, path = load_run_generator(checkpoint, device=device, ema=ema)
    truncation = truncation_settings(generator, path, truncation_psi, truncation_cutoff)
    if isinstance(generator, StyleGenerator):
        return StyleRunGenerator(generator, state, config.resolution, **truncation).eval()
    return RunGenerator(generator, state, config.resolution).eval()


def generate(checkpoint: str | os.PathLike, num_images: int, out: str | os.PathLike | None = None, *,
             seed: int = 0, batch_size: int = 64, device: str | None = None, ema: bool = True,
             truncation_psi: float | None = None, truncation_cutoff: int | None = None) -> np.ndarray:
    """N uint8 NCHW images of the EMA generator (`ema=False`: the raw one) of `checkpoint` (or a run dir's
    newest); optionally saved.

    Images come at the resolution/α the checkpoint was training at, nearest-upsampled to the final resolution
    (as the reference). `out`: a folder (PNG files 000000.png, …) or an .npz (key "images"). A StyleGAN generator
    takes the truncation trick (StyleGAN §3.1): ψ `truncation_psi` at the layers before `truncation_cutoff` (None:
    all); its noise inputs are drawn from `seed` too, so the same seed gives the same images.
    """
    path = Path(checkpoint)
    if num_images < 1:
        raise GanevalInputError(f"num_images must be ≥ 1, got {num_images}")
    check_truncation_values(truncation_psi, truncation_cutoff)
    if out is not None:
        _check_output(Path(out))
    target = resolve_device(device)
    generator, config, state, path = load_run_generator(path, device=target, ema=ema)
    truncation = truncation_settings(generator, path, truncation_psi, truncation_cutoff)
    if out is not None:
        refuse_overwriting_input(out, [("the checkpoint", path), ("the run's data", config.data)])
    latents = torch.randn(num_images, config.latent_size, generator=torch.Generator().manual_seed(seed))
    try:
        with torch.random.fork_rng(devices=[target] if target.type == "cuda" else []):
            torch.manual_seed(seed)  # the noise inputs' draws
            images = sample_images(generator, latents.to(target), state, config.resolution, batch_size,
                                   **truncation).numpy()
    except TrainingDivergedError as error:
        raise GanevalInputError(f"{path}: {error}") from error
    if out is not None:
        _write_images(images, Path(out))
    return images


def _check_output(out: Path) -> None:
    """Refuse an output that is neither .npz, .npy nor a folder (e.g. `-o gen.png`, which would become a folder)."""
    if out.suffix and out.suffix.lower() not in (".npz", ".npy") and not out.is_dir():
        raise GanevalInputError(f"-o {out}: expected a folder (numbered PNGs) or a file ending in .npz or .npy")


def _write_images(images: np.ndarray, out: Path) -> None:
    """uint8 NCHW images to an .npz or .npy (atomic) or to numbered PNGs in a folder."""
    if out.suffix.lower() == ".npz":
        write_atomically(out, lambda p: p.write_bytes(_npz_bytes(images)))
        return
    if out.suffix.lower() == ".npy":
        def write_npy(temporary: Path) -> None:
            with open(temporary, "wb") as file:  # a handle, so numpy does not append ".npy" to the temporary name
                np.save(file, images)

        write_atomically(out, write_npy)
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise GanevalInputError(f"cannot write {out} ({describe(error)})") from None
    for index, image in enumerate(images):
        array = image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0)
        write_atomically(out / f"{index:06d}.png", lambda p, a=array: Image.fromarray(a).save(p, format="PNG"))


def _npz_bytes(images: np.ndarray) -> bytes:
    """An .npz holding `images` under the key "images", as bytes."""
    buffer = io.BytesIO()
    np.savez(buffer, images=images)
    return buffer.getvalue()
