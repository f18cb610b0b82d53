"""The attribute classifiers of linear separability: torch modules given from Python, or a folder of TorchScript
files (one per attribute, named by its file name).

A classifier takes N × 3 × H × W float32 images in [−1, 1] and returns one logit per image (N or N × 1; the
reference reads it as softmax([l, −l])) or two class logits (N × 2). StyleGAN's 40 CelebA-HQ classifiers are
TensorFlow pickles; the documentation (docs/metrics/linear-separability.md) says how to convert them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from ganeval.errors import GanevalInputError
from ganeval.extractors.base import state_sha256
from ganeval.files import file_sha256

TORCHSCRIPT_SUFFIXES = (".pt", ".pth", ".ts")


def open_classifiers(spec: Any, device: torch.device, name: str = "classifiers"
                     ) -> tuple[dict[str, Any], dict[str, str | None]]:
    """({attribute name: classifier}, {attribute name: its identity}) from a folder of TorchScript files (sorted by
    file name, each loaded onto `device`; identity: the file's SHA-256), a mapping of names to modules, or a list of
    modules (named attribute_00, attribute_01, …; identity: the SHA-256 of a module's state, None for a plain
    callable)."""
    if isinstance(spec, (str, os.PathLike)):
        return _folder(Path(spec), device, name)
    if isinstance(spec, Mapping):
        classifiers = {str(key): value for key, value in spec.items()}
    elif isinstance(spec, (list, tuple)):
        classifiers = {f"attribute_{index:02d}": value for index, value in enumerate(spec)}
    elif spec is None:
        raise GanevalInputError(f"{name}: linear separability needs attribute classifiers: --classifiers FOLDER (of "
                                "TorchScript files, one per attribute), or from Python a list or dict of modules")
    else:
        raise GanevalInputError(f"{name}: expected a folder of TorchScript files, or a list or dict of modules, got "
                                f"{type(spec).__name__}")
    if not classifiers:
        raise GanevalInputError(f"{name}: no classifier given")
    for key, classifier in classifiers.items():
        if not callable(classifier):
            raise GanevalInputError(f"{name}: {key!r} is a {type(classifier).__name__}, not a classifier module")
        if isinstance(classifier, torch.nn.Module):
            classifier.eval()
    return classifiers, {key: state_sha256(classifier) if isinstance(classifier, torch.nn.Module) else None
                         for key, classifier in classifiers.items()}


def _folder(folder: Path, device: torch.device, name: str) -> tuple[dict[str, Any], dict[str, str | None]]:
    if not folder.is_dir():
        raise GanevalInputError(f"{name}: {folder} is not a folder (of TorchScript classifiers, one per attribute)")
    files = sorted(path for path in folder.iterdir()
                   if path.suffix.lower() in TORCHSCRIPT_SUFFIXES and not path.name.startswith("."))
    if not files:
        raise GanevalInputError(f"{name}: {folder} holds no TorchScript file ({', '.join(TORCHSCRIPT_SUFFIXES)})")
    classifiers: dict[str, Any] = {}
    identities: dict[str, str | None] = {}
    for path in files:
        if path.stem in classifiers:
            raise GanevalInputError(f"{name}: {folder} holds two classifiers named {path.stem!r}; rename one")
        try:
            classifiers[path.stem] = torch.jit.load(str(path), map_location=device).eval()
        except (RuntimeError, ValueError, OSError) as error:
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise GanevalInputError(f"{path}: not a readable TorchScript classifier (write one with torch.jit.save; "
                                    f"{first})") from None
        identities[path.stem] = file_sha256(path, "classifier")
    return classifiers, identities
