"""Where a network's weights file is found: one look-up shared by the Inception, VGG-16 and DINOv2 extractors.

In this order: an explicit path (the command's option or keyword), an environment variable, torch hub's checkpoint
folder (where torchvision, pytorch-fid, torch-fidelity and lpips leave their files), any further places the network
names, then — for a file with a published hash — a download into that folder unless `GANEVAL_OFFLINE=1`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from ganeval.defaults import OFFLINE_ENV
from ganeval.errors import GanevalInputError


def hub_checkpoints() -> Path:
    """torch hub's checkpoint folder ($TORCH_HOME/hub/checkpoints)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


@dataclass(frozen=True)
class WeightsFile:
    """One network's weights file: its names in the checkpoint folder (the first is the download's), where it is
    published, the option and environment variable that name it, and how messages call it."""

    network: str  # "Inception", "VGG-16", …: "the {network} weights"
    option: str  # the command-line option that names the file
    env: str  # the environment variable that names the file
    file_names: tuple[str, ...]
    url: str
    download_hash_prefix: str | None = None  # the SHA-256 prefix torch hub checks; None: never downloaded
    purpose: str = ""  # appended to "the {network} weights" where a message says what is missing, e.g. " of LPIPS"
    help_suffix: str = ""  # further places, appended to `help()`
    more_places: Callable[[], list[Path]] | None = None  # looked at after the checkpoint folder

    def help(self) -> str:
        """Where the file is looked for, as one sentence for error messages and --help."""
        return (f"put {self.file_names[0]} ({self.url}) in {hub_checkpoints()}, or pass {self.option} PATH, or set "
                f"{self.env}=PATH{self.help_suffix}")

    def find(self, path: str | os.PathLike | None = None, *, download: bool | None = None) -> Path:
        """The file: `path`, then $env, the checkpoint folder, `more_places`, then a download where allowed
        (`download` None: unless $GANEVAL_OFFLINE); GanevalInputError naming where to put it otherwise."""
        explicit = path if path is not None else os.environ.get(self.env) or None
        if explicit is not None:
            origin = self.option if path is not None else self.env
            if not Path(explicit).is_file():
                raise GanevalInputError(f"{origin}: {self.network} weights file {explicit} does not exist")
            return Path(explicit)
        candidates = [hub_checkpoints() / name for name in self.file_names]
        candidates += self.more_places() if self.more_places is not None else []
        for candidate in candidates:
            if candidate.is_file():
                return candidate
        missing = f"the {self.network} weights{self.purpose}"
        if self.download_hash_prefix is None:
            raise GanevalInputError(f"{missing} are not here (ganeval never downloads them); {self.help()}")
        if download is None:
            download = os.environ.get(OFFLINE_ENV, "").lower() not in ("1", "true", "yes")
        if not download:
            raise GanevalInputError(f"{missing} are not here ({OFFLINE_ENV} forbids a download); {self.help()}")
        target = hub_checkpoints() / self.file_names[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            torch.hub.download_url_to_file(self.url, str(target), hash_prefix=self.download_hash_prefix)
        except (OSError, RuntimeError) as error:
            raise GanevalInputError(f"could not download {missing} ({error}); {self.help()}") from None
        return target
