"""Which device a computation runs on: the one asked for, checked to exist on this machine, else CUDA when there is
one, else the CPU."""

from __future__ import annotations

import torch

from ganeval.errors import GanevalInputError

SUPPORTED_DEVICE_TYPES = ("cpu", "cuda")
# /proc/cpuinfo flags of x86 CPUs with bf16 arithmetic (AVX-512 BF16, AMX); without them oneDNN emulates bf16.
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_bf16_arithmetic(cpuinfo_path: str = "/proc/cpuinfo") -> bool | None:
    """Whether this CPU computes in bf16 natively (an x86 CPU listing a CPU_BF16_FLAGS flag), None where unknown."""
    try:
        with open(cpuinfo_path) as cpuinfo:
            flags = next((line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags")), None)
    except OSError:
        return None
    return None if flags is None else any(flag in flags for flag in CPU_BF16_FLAGS)


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """The device to compute on: the given one (checked to exist here), else CUDA when available, else CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise GanevalInputError(f"device {device!r} is not a device name; use cpu, cuda or cuda:N") from None
    if resolved.type == "mps":
        raise GanevalInputError(f"device {device}: Apple's MPS is not supported (the metrics compute in float64, "
                                "which MPS lacks); use cpu")
    if resolved.type not in SUPPORTED_DEVICE_TYPES:
        raise GanevalInputError(f"device {device}: type {resolved.type!r} is not supported; use cpu, cuda or cuda:N")
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise GanevalInputError(f"device {device} asked for, but no CUDA device is available here")
        if resolved.index is not None and resolved.index >= torch.cuda.device_count():
            raise GanevalInputError(f"device {device}: this machine has {torch.cuda.device_count()} CUDA "
                                    f"device(s), numbered from 0")
    return resolved
