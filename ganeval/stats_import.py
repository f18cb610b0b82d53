"""`ganeval stats import`: another tool's FID reference statistics (a mean and a covariance) as a ganeval stats file.

What each tool writes (read exactly so; checked in each tool's source):

* pytorch-fid (`python -m pytorch_fid --save-stats IMAGES OUT.npz`, `save_fid_stats`): `np.savez_compressed` of
  `mu` and `sigma` (float64), any file name.
* clean-fid (`cleanfid.fid.make_custom_stats`, and the reference statistics it downloads): an `.npz` of `mu` and
  `sigma` named `{name}_{mode}_{split}_{res}.npz`, where the mode (clean, legacy_tensorflow, legacy_pytorch) says
  how the features were made.
* TTUR (bioinf-jku/TTUR, the TensorFlow reference code of the FID paper; `precalc_stats_example.py` and its
  published `fid_stats_*.npz`, which pytorch-fid's README also points to): `np.savez_compressed` of `mu` (float32)
  and `sigma` (float64).
* torch-fidelity (its cache, `fidelity_cache/{input}-{extractor}-stat-fid-{layer}.pt`): `torch.save` of the dict
  `{"mu": …, "sigma": …}` of numpy arrays (float32 mean, float64 covariance for its float32 features).

No such file says how its features were made; the tool (and clean-fid's mode) does. The stats file written keeps
`mu` and `sigma` as they are (same dtype, same bits) and records the tool's protocol as the extractor settings a
later `ganeval fid` checks — the Inception weights and the `--resize` mode that preprocesses images as the tool
did — with where the statistics came from and whether they follow the TF protocol behind published numbers. It holds
no image count (None: the files do not say) and no features, so it serves FID only.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ganeval.defaults import CLEAN_FID_MODES, IMPORT_SOURCES
from ganeval.errors import GanevalInputError
from ganeval.extractors.inception import EXTRACTOR_ID, FEATURE_DIM, WEIGHTS_SHA256
from ganeval.files import file_sha256, load_torch_file, read_npz, refuse_overwriting_input
from ganeval.kernels.frechet import covariance_problem
from ganeval.stats import save_stats


@dataclass(frozen=True)
class PeerProtocol:
    """How a tool made its Inception features, and the ganeval resize mode that makes the same network input."""

    resize: str
    comparable_to_published: bool  # the TF protocol: the 2015-12-05 graph's weights and TF 1's bilinear resize
    description: str


# (tool, clean-fid mode) → protocol. Every one runs the TF Inception graph of 2015-12-05 to its 2048-d pool3.
PROTOCOLS = {
    ("pytorch-fid", None): PeerProtocol(
        "pytorch-fid", False, "pytorch-fid's FID Inception weights (pt_inception-2015-12-05); x/255, torch bilinear "
                              "resize to 299 (half-pixel centres), 2x − 1"),
    ("clean-fid", "clean"): PeerProtocol(
        "clean", False, "the TF Inception of 2015-12-05 (NVIDIA's TorchScript); PIL bicubic antialiased resize in "
                        "float32, (x − 128) / 128"),
    ("clean-fid", "legacy_tensorflow"): PeerProtocol(
        "tf", True, "the TF Inception of 2015-12-05 (NVIDIA's TorchScript) with its emulation of TF 1's bilinear "
                    "resize (no half-pixel centres), (x − 128) / 128"),
    ("clean-fid", "legacy_pytorch"): PeerProtocol(
        "pytorch-fid", False, "pytorch-fid's network and weights; torch bilinear resize to 299 (half-pixel centres) "
                              "of the 0–255 values, then x/255, 2x − 1"),
    ("torch-fidelity", None): PeerProtocol(
        "tf", True, "inception-v3-compat: the TF Inception weights of 2015-12-05, TF 1's bilinear resize (no "
                    "half-pixel centres), (x − 128) / 128"),
    ("ttur", None): PeerProtocol(
        "tf", True, "TTUR's fid.py: the TF Inception graph of 2015-12-05 (classify_image_graph_def.pb) fed 0–255 "
                    "images, its own TF 1 bilinear resize to 299 (no half-pixel centres), (x − 128) / 128"),
}
# clean-fid's statistics file names: `{name}_{mode}{model}_{split}_{res}.npz` (model: "" for Inception-v3).
CLEAN_FID_NAME = re.compile(rf"(?P<name>.+)_(?P<mode>{'|'.join(CLEAN_FID_MODES)})(?P<model>_clip_[a-z0-9_]+)?"
                            r"_(?P<split>[^_]+)_(?P<res>[^_]+)\.npz")
# torch-fidelity's cache name of FID statistics of its default extractor's pool3 features.
TORCH_FIDELITY_SUFFIX = "-inception-v3-compat-stat-fid-2048.pt"


def import_stats(source: str | os.PathLike, output: str | os.PathLike, *, tool: str, mode: str | None = None,
                 tool_version: str | None = None, inception_weights: str | os.PathLike | None = None
                 ) -> dict[str, Any]:
    """Write `tool`'s FID statistics file `source` to `output` as a ganeval stats file; returns its fid record.

    `mode`: clean-fid's mode, when the file's name does not say it. `tool_version`: recorded as given (the files do
    not say). `inception_weights`: the weights file the tool ran with, when it was not the published one (its
    SHA-256 is recorded instead of the published file's, and the statistics are then not comparable to published
    numbers).
    """
    source, output = Path(source), Path(output)
    if tool not in IMPORT_SOURCES:
        raise GanevalInputError(f"the tool (--from) must be one of {', '.join(IMPORT_SOURCES)}, got {tool!r}")
    if mode is not None and tool != "clean-fid":
        raise GanevalInputError(f"--mode is clean-fid's (its modes: {', '.join(CLEAN_FID_MODES)}); {tool} has none")
    refuse_overwriting_input(output, [("the file being imported", source)])
    mu, sigma = read_moments(source, tool)
    if tool == "clean-fid":
        mode = clean_fid_mode(source, mode)
    elif tool == "torch-fidelity" and not source.name.endswith(TORCH_FIDELITY_SUFFIX):
        raise GanevalInputError(
            f"{source}: not named as torch-fidelity names FID statistics of its inception-v3-compat pool3 features "
            f"(`{{input}}{TORCH_FIDELITY_SUFFIX}` in its cache), so which features it holds is unknown; import "
            "that file under its cache name")
    check_moments(source, tool, mu, sigma)
    protocol = PROTOCOLS[tool, mode]
    weights_sha256 = WEIGHTS_SHA256 if inception_weights is None else file_sha256(inception_weights, "weights file")
    record = {
        "settings": {"extractor": EXTRACTOR_ID, "weights_sha256": weights_sha256, "resize": protocol.resize},
        "num_images": None,
        "comparable_to_published": protocol.comparable_to_published and weights_sha256 == WEIGHTS_SHA256,
        "imported": {"tool": tool, "tool_version": tool_version, "mode": mode, "protocol": protocol.description,
                     "source": str(source.resolve()), "source_sha256": file_sha256(source, f"{tool} statistics file")},
    }
    save_stats(output, {"fid": {"mu": mu, "sigma": sigma}}, {"fid": record})
    return record


def read_moments(source: Path, tool: str) -> tuple[np.ndarray, np.ndarray]:
    """The `mu` and `sigma` arrays of a tool's statistics file, as stored."""
    what = f"{tool} statistics file"
    if tool == "torch-fidelity":
        loaded = load_torch_file(source, what, float_arrays=True)
        if not isinstance(loaded, dict):
            raise GanevalInputError(f"{source}: holds a {type(loaded).__name__}, not torch-fidelity's dict of mu "
                                    "and sigma")
    else:
        loaded = read_npz(source, what)
    missing = [key for key in ("mu", "sigma") if key not in loaded]
    if missing:
        raise GanevalInputError(f"{source}: holds {sorted(map(str, loaded)) or 'nothing'}, not the mu and sigma of "
                                f"{tool}'s FID statistics (no {' or '.join(missing)})")
    if not all(isinstance(loaded[key], np.ndarray) for key in ("mu", "sigma")):
        raise GanevalInputError(f"{source}: mu and sigma are not numpy arrays")
    return loaded["mu"], loaded["sigma"]


def check_moments(source: Path, tool: str, mu: np.ndarray, sigma: np.ndarray) -> None:
    """Refuse a mean and covariance that are not those of Inception's 2048-d pool3 features."""
    if not (np.issubdtype(mu.dtype, np.floating) and np.issubdtype(sigma.dtype, np.floating)):
        raise GanevalInputError(f"{source}: mu and sigma must be floating-point, got {mu.dtype} and {sigma.dtype}")
    if mu.ndim != 1:
        raise GanevalInputError(f"{source}: mu has shape {mu.shape}, expected a vector (the features' mean)")
    if sigma.ndim != 2 or sigma.shape[0] != sigma.shape[1]:
        raise GanevalInputError(f"{source}: sigma has shape {sigma.shape}, expected a square covariance matrix")
    if sigma.shape[0] != mu.shape[0]:
        raise GanevalInputError(f"{source}: mu has {mu.shape[0]} dimensions but sigma is "
                                f"{sigma.shape[0]}×{sigma.shape[1]}; they are not one set's statistics")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise GanevalInputError(f"{source}: mu or sigma holds NaN or inf")
    problem = covariance_problem(sigma)
    if problem is None and float(np.linalg.eigvalsh(sigma).min()) < -1e-6 * float(np.abs(sigma).max()):
        problem = "the covariance is not positive semi-definite (it has negative eigenvalues)"
    if problem:
        raise GanevalInputError(f"{source}: sigma is no covariance matrix: {problem}")
    if mu.shape[0] != FEATURE_DIM:
        raise GanevalInputError(f"{source}: {tool} statistics of {mu.shape[0]}-d features; ganeval's FID compares "
                                f"Inception's {FEATURE_DIM}-d pool3 features (each tool's default)")


def clean_fid_mode(source: Path, given: str | None) -> str:
    """clean-fid's mode of a statistics file: from its name, or `given` where the name does not say it."""
    match = CLEAN_FID_NAME.fullmatch(source.name.lower())
    if match and match["model"]:
        raise GanevalInputError(f"{source}: clean-fid statistics of {match['model'][1:]} features (its name says "
                                "so); ganeval imports Inception's")
    named = match["mode"] if match else None
    if given is not None and named is not None and given != named:
        raise GanevalInputError(f"{source}: its name says clean-fid mode {named}, but --mode {given} was given")
    if given is None and named is None:
        raise GanevalInputError(
            f"{source}: its name does not say which clean-fid mode made it (clean-fid names them "
            f"{{name}}_{{mode}}_{{split}}_{{res}}.npz); give --mode ({', '.join(CLEAN_FID_MODES[:-1])} or "
            f"{CLEAN_FID_MODES[-1]})")
    return given or named  # type: ignore[return-value]  # one of them is set
