"""Evaluation over several processes with torch.distributed (torchrun): which share of the images a process reads,
and how the processes' accumulators meet on rank 0 and the result comes back to every rank.

Rank r of n reads batches b with b mod n = r (`ganeval.sources.open_images(shard=…)`); after the pass, every rank
sends its accumulators' `state_dict()` to rank 0, which merges them (the result of one accumulator that saw the
whole set), computes the metrics and broadcasts the result dicts. A bad input met by any rank stops every rank with
that rank's message, instead of leaving the others waiting.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import torch
import torch.distributed as dist

from ganeval.errors import SharedInputError
from ganeval.sources import Shard


def current_shard() -> Shard | None:
    """(rank, number of processes) when torch.distributed is initialised with more than one process, else None."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


def launched_by_torchrun() -> bool:
    """Whether this process is one of several started by torchrun (WORLD_SIZE > 1 in the environment)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_from_torchrun(device: str | None) -> tuple[str | None, int, int]:
    """Join torchrun's process group (NCCL on GPUs, gloo on CPUs); return (the device this rank should use, its rank,
    the number of processes)."""
    uses_cuda = torch.cuda.is_available() and (device is None or device.startswith("cuda"))
    if uses_cuda and (device is None or device == "cuda"):
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        torch.cuda.set_device(torch.device(device))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if uses_cuda else "gloo")
    return device, dist.get_rank(), dist.get_world_size()


def stop_together(error: BaseException | None) -> None:
    """Every rank calls this after its share of the work: if any rank met bad input, all raise its message."""
    if current_shard() is None:
        if error is not None:
            raise error
        return
    messages: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(messages, None if error is None else f"rank {dist.get_rank()}: {error}")
    failed = [message for message in messages if message is not None]
    if failed:
        raise SharedInputError(failed[0]) from error


def union_over_ranks(entries: dict[str, Any]) -> dict[str, Any]:
    """The union of every rank's `entries` (the lowest rank's value for a key several ranks hold), on every rank."""
    if current_shard() is None:
        return entries
    every: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(every, entries)
    union: dict[str, Any] = {}
    for rank_entries in every:
        for key, value in rank_entries.items():
            union.setdefault(key, value)
    return union


def merge_on_first(accumulator: Any) -> Any:
    """Rank 0's accumulator, merged with every other rank's (`state_dict` → `load_state_dict` → `merge`)."""
    shard = current_shard()
    if shard is None:
        return accumulator
    states: list[Any] | None = [None] * shard[1] if shard[0] == 0 else None
    dist.gather_object(accumulator.state_dict(), states, dst=0)
    if states is not None:
        for state in states[1:]:
            part = copy.copy(accumulator)
            part.reset()
            part.load_state_dict(state)
            accumulator.merge(part)
    return accumulator


def share_from_first(value: Any) -> Any:
    """Rank 0's `value` on every rank (other ranks pass anything)."""
    if current_shard() is None:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]
