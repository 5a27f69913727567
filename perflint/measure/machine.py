"""What machine a measurement ran on, recorded with every result (as pyperf does).

A number without its machine cannot be compared or reproduced. Detection never fails the
run: whatever cannot be found is reported as null (or, for GPUs, an empty list). A short
fingerprint of the facts that change timings keys the measurement cache.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from typing import Any, Callable

# Libraries whose versions change what a benchmark measures. CuPy ships as one distribution
# per CUDA version (cupy-cuda12x, ...), so each of its names is tried.
LIBRARY_DISTRIBUTIONS = {
    "numpy": ("numpy",),
    "torch": ("torch",),
    "cupy": ("cupy-cuda12x", "cupy-cuda11x", "cupy-cuda13x", "cupy"),
    "pandas": ("pandas",),
    "array_api_compat": ("array-api-compat",),
}


def describe_machine() -> dict[str, Any]:
    """CPU, cores, memory, OS, interpreter, library versions, NumPy's BLAS, GPUs, fingerprint."""
    import psutil

    machine = {
        "cpu_model": _cpu_model(),
        "cpu_max_mhz": _cpu_max_mhz(psutil),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_bytes": psutil.virtual_memory().total,
        "os": f"{platform.system()} {platform.release()}".strip(),
        "platform": platform.platform(),
        "python_version": platform.python_version(),
        "libraries": {name: _version_of(*distributions) for name, distributions in LIBRARY_DISTRIBUTIONS.items()},
        "blas": numpy_blas(),
        "torch_threads": _torch_threads(),
        "gpus": nvml_gpus(),
    }
    machine["fingerprint"] = machine_fingerprint(machine)
    return machine


def machine_fingerprint(machine: dict[str, Any]) -> str:
    """12 hex digits from the facts that change timings: CPU, cores, memory, OS, Python,
    library versions, BLAS and its threads, GPUs and their driver. Not clocks or load, which
    vary from one minute to the next."""
    facts = {
        "cpu": [
            machine.get("cpu_model"),
            machine.get("logical_cores"),
            machine.get("physical_cores"),
            machine.get("memory_bytes"),
        ],
        "os": machine.get("os"),
        "python": machine.get("python_version"),
        "libraries": machine.get("libraries"),
        "blas": [[blas.get("library"), blas.get("version"), blas.get("threads")] for blas in machine.get("blas") or []],
        "torch_threads": machine.get("torch_threads"),
        "gpus": [
            [gpu.get("name"), gpu.get("memory_bytes"), gpu.get("driver_version")] for gpu in machine.get("gpus") or []
        ],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()[:12]


def numpy_blas() -> list[dict[str, Any]]:
    """The BLAS libraries NumPy loaded, with their thread counts (through threadpoolctl).

    Without threadpoolctl, NumPy's build configuration still names the BLAS, but not the
    threads it uses (null).
    """
    try:
        import numpy  # noqa: F401  (loads the BLAS, so that threadpoolctl can see it)
    except ImportError:
        return []
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return _blas_from_numpy_config()
    try:
        return [
            {
                "library": pool.get("internal_api"),
                "version": pool.get("version"),
                "threads": pool.get("num_threads"),
                "architecture": pool.get("architecture"),
            }
            for pool in threadpool_info()
            if pool.get("user_api") == "blas"
        ]
    except Exception:
        return _blas_from_numpy_config()


def _blas_from_numpy_config() -> list[dict[str, Any]]:
    try:
        import numpy

        config = numpy.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return [{"library": blas.get("name"), "version": blas.get("version"), "threads": None, "architecture": None}]
    except Exception:
        return []


def nvml_gpus() -> list[dict[str, Any]]:
    """Every GPU the NVIDIA driver reports; an empty list when there is none.

    Any failure (nvidia-ml-py missing, no driver, no device, a driver error) means "no GPU
    seen": describing the machine must never stop a measurement. A fact one device or driver
    does not report (PCIe link of a virtual GPU, clocks under MIG) is null on its own.
    """
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception:
        return []
    try:
        driver = _optional(lambda: _text(pynvml.nvmlSystemGetDriverVersion()))
        cuda = _optional(lambda: _cuda_version(pynvml.nvmlSystemGetCudaDriverVersion()))
        gpus = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            gpus.append(
                {
                    "index": index,
                    "name": _text(pynvml.nvmlDeviceGetName(handle)),
                    "memory_bytes": int(pynvml.nvmlDeviceGetMemoryInfo(handle).total),
                    "driver_version": driver,
                    "cuda_version": cuda,
                    "compute_capability": _optional(
                        lambda: ".".join(map(str, pynvml.nvmlDeviceGetCudaComputeCapability(handle)))
                    ),
                    "pcie_generation": _optional(lambda: pynvml.nvmlDeviceGetCurrPcieLinkGeneration(handle)),
                    "pcie_width": _optional(lambda: pynvml.nvmlDeviceGetCurrPcieLinkWidth(handle)),
                    "pcie_max_generation": _optional(lambda: pynvml.nvmlDeviceGetMaxPcieLinkGeneration(handle)),
                    "pcie_max_width": _optional(lambda: pynvml.nvmlDeviceGetMaxPcieLinkWidth(handle)),
                    "sm_clock_mhz": _optional(lambda: pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM)),
                    "memory_clock_mhz": _optional(lambda: pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM)),
                }
            )
        return gpus
    except Exception:
        return []
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass  # the GPU list is already complete; a failed shutdown changes nothing


def _torch_threads() -> int | None:
    """torch's CPU threads when torch is already loaded (a torch benchmark ran or will run);
    null otherwise, since importing torch only to ask costs seconds."""
    torch = sys.modules.get("torch")
    return _optional(torch.get_num_threads) if torch is not None else None


def _optional(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except Exception:
        return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _cuda_version(encoded: int) -> str:
    """NVML encodes CUDA 12.4 as 12040."""
    return f"{encoded // 1000}.{encoded % 1000 // 10}"


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


def _cpu_max_mhz(psutil: Any) -> float | None:
    """The CPU's maximum (else current) frequency where the OS exposes it; virtual machines often do not."""
    frequency = _optional(psutil.cpu_freq)
    if frequency is None:
        return None
    megahertz = frequency.max or frequency.current
    return round(megahertz) if megahertz else None


def _version_of(*distributions: str) -> str | None:
    """The installed version, read from package metadata: importing torch to ask costs seconds."""
    from importlib import metadata

    for distribution in distributions:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None
