"""Atomic checkpoints (temporary file + fsync + os.replace), the newest `keep` kept, found again by name."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch

from ganeval.stats import write_atomically

CHECKPOINT_GLOB = "checkpoint-*.pt"


def write_json(path: Path, value: Any) -> None:
    """JSON file written atomically."""
    write_atomically(path, lambda p: p.write_text(json.dumps(value, indent=2) + "\n"))


def checkpoint_path(run_dir: Path, num_images: int) -> Path:
    """run_dir/checkpoint-<images shown to D, 10 digits>.pt (names sort by progress)."""
    return run_dir / f"checkpoint-{num_images:010d}.pt"


def list_checkpoints(run_dir: str | os.PathLike) -> list[Path]:
    """Checkpoints of a run, oldest first."""
    return sorted(Path(run_dir).glob(CHECKPOINT_GLOB))


def save_checkpoint(run_dir: Path, num_images: int, state: dict[str, Any], keep: int = 2) -> Path:
    """Write `state` atomically, then delete all but the newest `keep` checkpoints."""
    path = checkpoint_path(run_dir, num_images)
    write_atomically(path, lambda p: torch.save(state, p))
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The state dict saved by save_checkpoint (tensors, numbers, strings only: loaded with weights_only)."""
    return torch.load(path, map_location=map_location, weights_only=True)
