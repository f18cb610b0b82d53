"""Parallel CPU work in ganeval's own threads, robust on a shared machine.

torch's intra-op threads (OpenMP) spin-wait at every barrier for a thread that is late; when other processes take
cores, the late thread is descheduled and the others burn its share waiting (measured in benchmarks/RESULTS.md:
SWD 2–4× slower with two busy processes beside it). ganeval's CPU paths therefore run torch single-threaded and
split their work into many small tasks in one pool of Python threads (their kernels release the GIL): an idle
worker sleeps on the queue, and a worker that was descheduled simply takes fewer tasks. The pool is sized by the
CPUs this process may run on (its affinity mask), not by the machine's count.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import torch

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one), not the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cpu_pool() -> ThreadPoolExecutor:
    """The process-wide pool of `available_cpus()` worker threads (created on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=available_cpus(), thread_name_prefix="ganeval")
        return _pool


def parallel_map(function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
    """[function(item) for item in items], the calls spread over the pool (inline when there is one CPU)."""
    items = list(items)
    if available_cpus() == 1 or len(items) < 2:
        return [function(item) for item in items]
    return list(cpu_pool().map(function, items))


@contextlib.contextmanager
def torch_single_threaded() -> Iterator[None]:
    """Within the block, torch's own CPU ops run on one thread (ganeval's pool does the parallel work)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
