"""What machine a measurement ran on, recorded with every result (as pyperf does).

A number without its machine cannot be compared or reproduced. Detection never fails the
run: whatever cannot be found is reported as null (or, for GPUs, an empty list).
"""

from __future__ import annotations

import platform
from typing import Any, Optional


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, operating system, interpreter and library versions, and GPUs."""
    import psutil

    return {
        "cpu_model": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "numpy_version": _version_of("numpy"),
        "torch_version": _version_of("torch"),
        "gpus": nvml_gpus(),
    }


def nvml_gpus() -> list[dict[str, Any]]:
    """Every GPU the NVIDIA driver reports, with its memory; an empty list when there is none.

    Any failure (nvidia-ml-py missing, no driver, no device, a driver error) means "no GPU
    seen": describing the machine must never stop a measurement.
    """
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return []
    try:
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append({
                "index": index,
                "name": name.decode() if isinstance(name, bytes) else name,
                "memory_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
            })
        return gpus
    except Exception:
        return []
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass  # the GPU list is already complete; a failed shutdown changes nothing


def _cpu_model() -> str:
    """Linux names the CPU in /proc/cpuinfo; elsewhere the platform module is the best guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass  # not Linux, or /proc is hidden: fall back below
    return platform.processor() or platform.machine() or "unknown CPU"


def _version_of(distribution: str) -> Optional[str]:
    """The installed version, read from package metadata: importing torch to ask costs seconds."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None
