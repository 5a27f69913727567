"""perflint/measure/machine.py: the description of the machine a run measured on."""

from __future__ import annotations

import json
import sys
import types

import numpy as np
import pytest

from perflint.measure.machine import describe_machine, machine_fingerprint, nvml_gpus


def test_machine_description_has_every_key_a_gpu_list_and_a_stable_fingerprint():
    machine = describe_machine()
    assert set(machine) == {
        "cpu_model",
        "cpu_max_mhz",
        "logical_cores",
        "physical_cores",
        "memory_bytes",
        "os",
        "platform",
        "python_version",
        "libraries",
        "blas",
        "torch_threads",
        "gpus",
        "fingerprint",
    }
    assert machine["cpu_model"] and machine["logical_cores"] >= 1 and machine["memory_bytes"] > 0
    assert machine["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["libraries"]["numpy"] == np.__version__
    assert set(machine["libraries"]) == {"numpy", "torch", "cupy", "pandas", "array_api_compat"}
    assert isinstance(machine["gpus"], list) and isinstance(machine["blas"], list)
    assert machine["fingerprint"] == describe_machine()["fingerprint"] == machine_fingerprint(machine)
    assert len(machine["fingerprint"]) == 12
    assert (
        machine_fingerprint({**machine, "libraries": {**machine["libraries"], "numpy": "0.1"}})
        != machine["fingerprint"]
    )
    assert (
        machine_fingerprint({**machine, "cpu_max_mhz": 1}) == machine["fingerprint"]
    )  # clocks vary; not a new machine
    json.dumps(machine)


def test_blas_threads_come_from_threadpoolctl():
    pytest.importorskip("threadpoolctl")
    from perflint.measure.machine import numpy_blas

    blas = numpy_blas()
    assert blas and all(entry["library"] and entry["threads"] >= 1 for entry in blas)


def _fake_nvml():
    class Memory:
        total = 80 * 1024**3

    return types.SimpleNamespace(
        NVML_CLOCK_SM=1,
        NVML_CLOCK_MEM=2,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: b"550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: 2,
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda handle: b"NVIDIA H100" if handle == 0 else "NVIDIA A100",
        nvmlDeviceGetMemoryInfo=lambda handle: Memory(),
        nvmlDeviceGetCudaComputeCapability=lambda handle: (9, 0),
        nvmlDeviceGetCurrPcieLinkGeneration=lambda handle: 5,
        nvmlDeviceGetCurrPcieLinkWidth=lambda handle: 16,
        nvmlDeviceGetMaxPcieLinkGeneration=lambda handle: 5,
        nvmlDeviceGetMaxPcieLinkWidth=lambda handle: 16,
        nvmlDeviceGetClockInfo=lambda handle, clock: 1980 if clock == 1 else 2619,
    )


def test_gpu_detection_reads_nvml_and_never_raises(monkeypatch):
    fake = _fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    h100, a100 = nvml_gpus()
    assert h100 == {
        "index": 0,
        "name": "NVIDIA H100",
        "memory_bytes": 80 * 1024**3,
        "driver_version": "550.54.15",
        "cuda_version": "12.4",
        "compute_capability": "9.0",
        "pcie_generation": 5,
        "pcie_width": 16,
        "pcie_max_generation": 5,
        "pcie_max_width": 16,
        "sm_clock_mhz": 1980,
        "memory_clock_mhz": 2619,
    }
    assert a100["name"] == "NVIDIA A100"

    def no_driver(*arguments):
        raise OSError("NVML Shared Library Not Found")

    monkeypatch.setattr(fake, "nvmlDeviceGetCurrPcieLinkWidth", no_driver)  # one fact missing: null alone
    assert nvml_gpus()[0]["pcie_width"] is None and nvml_gpus()[0]["pcie_generation"] == 5
    monkeypatch.setattr(fake, "nvmlInit", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setattr(fake, "nvmlInit", lambda: None)
    monkeypatch.setattr(fake, "nvmlDeviceGetCount", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed
    assert nvml_gpus() == []
