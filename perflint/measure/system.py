"""How busy the machine is while measuring: load average and CPU frequency scaling.

A timing taken while other processes want more cores than there are, or while the CPU's clock
moves, is not the machine's steady-state cost. Neither can be controlled from here; both are
read and reported, so that a number taken under them is flagged instead of passing as sure.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

CPUFREQ = Path("/sys/devices/system/cpu/cpu0/cpufreq")


def load_average() -> float | None:
    """The one-minute load average, or None where the OS has none (Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def logical_cores() -> int:
    return os.cpu_count() or 1


def overload(load: float | None, cores: int | None = None) -> str | None:
    """A flag when more processes wanted a CPU than there are cores, else None."""
    cores = cores or logical_cores()
    if load is not None and load > cores:
        return f"machine loaded (load average {load:.1f} on {cores} cores)"
    return None


def frequency_scaling(base: Path = CPUFREQ) -> dict[str, Any]:
    """The cpufreq governor and clocks of CPU 0 where Linux exposes them under /sys.

    ``scaling`` is True when the governor lets the clock move (anything but ``performance``),
    False when it pins it, and None when nothing is readable (most virtual machines and
    containers): then whether the clock moved cannot be known, and the report says so.
    """

    def read(name: str) -> str | None:
        try:
            return (base / name).read_text(encoding="utf-8").strip()
        except OSError:
            return None

    governor = read("scaling_governor")
    current, maximum = read("scaling_cur_freq"), read("cpuinfo_max_freq")
    return {
        "governor": governor,
        "current_mhz": int(current) // 1000 if current and current.isdigit() else None,
        "max_mhz": int(maximum) // 1000 if maximum and maximum.isdigit() else None,
        "scaling": None if governor is None else governor != "performance",
    }


def describe_frequency_scaling(scaling: dict[str, Any]) -> str:
    if scaling.get("scaling") is None:
        return "CPU frequency scaling not readable (no cpufreq under /sys)"
    if scaling["scaling"]:
        return f"CPU frequency scaling on (governor {scaling['governor']}): clocks may vary between samples"
    return "CPU frequency fixed (governor performance)"
