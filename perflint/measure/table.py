"""The measurement table printed by ``perflint bench`` and ``perflint check --measure``."""

from __future__ import annotations

from typing import Any, TextIO

from perflint.measure.results import MEASURED, Measurement, MeasurementReport
from perflint.measure.units import format_bytes, format_seconds, format_speedup

PLAIN_WIDTH = 150  # files, pipes and CI logs are not limited to a terminal's width


def render_table(report: MeasurementReport, stream: TextIO, color: bool) -> None:
    """One row per benchmark and device; beneath it, why a row was skipped or is unstable (too
    long for a cell), then the machine the numbers belong to.

    Without ``color`` the output carries no ANSI codes at all (files, pipes, CI logs).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream, color_system="auto" if color else None, force_terminal=color,
                      width=None if color else PLAIN_WIDTH, highlight=False)
    table = Table(title="Measured cost of each pattern against its fix (median time per call ± std dev)",
                  box=box.SIMPLE_HEAD, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("Code", style="bold", no_wrap=True)
    table.add_column("Rule", no_wrap=True)
    table.add_column("Device", no_wrap=True)
    table.add_column("Size")
    table.add_column("Pattern", justify="right", no_wrap=True)
    table.add_column("Fix", justify="right", no_wrap=True)
    table.add_column("Speedup", justify="right", style="bold green", no_wrap=True)
    table.add_column("Note", style="yellow")
    for measurement in report.measurements:
        table.add_row(*_row(measurement))
    console.print(table)
    for measurement in report.measurements:
        details = measurement.warnings if measurement.status == MEASURED else (f"skipped: {measurement.reason}",)
        if details:
            console.print(f"{measurement.code} on {measurement.device}: {'; '.join(details)}", style="yellow")
    console.print(f"Machine: {machine_summary(report.machine)}")


def machine_summary(machine: dict[str, Any]) -> str:
    """A one-line description: CPU, cores, memory, GPUs, and the software that was timed."""
    cores = f"{machine.get('logical_cores')} logical cores"
    if machine.get("physical_cores"):
        cores += f" ({machine['physical_cores']} physical)"
    parts = [str(machine.get("cpu_model") or "unknown CPU"), cores]
    if machine.get("memory_bytes"):
        parts.append(f"{format_bytes(machine['memory_bytes'])} memory")
    gpus = machine.get("gpus") or []
    if gpus:
        parts.append("GPUs: " + ", ".join(
            f"{gpu['name']} ({format_bytes(gpu['memory_bytes'])})" for gpu in gpus))
    else:
        parts.append("no GPU seen by NVML")
    software = [f"Python {machine.get('python_version')}"]
    if machine.get("numpy_version"):
        software.append(f"NumPy {machine['numpy_version']}")
    if machine.get("torch_version"):
        software.append(f"torch {machine['torch_version']}")
    parts.append(", ".join(software))
    return "; ".join(parts)


def _row(measurement: Measurement) -> tuple[str, ...]:
    if measurement.status != MEASURED:
        return (measurement.code, measurement.name, measurement.device, "—", "—", "—", "—",
                "skipped")
    notes = []
    if measurement.speedup < 1:
        notes.append("fix slower here")
    if measurement.warnings:
        notes.append("unstable")
    return (
        measurement.code,
        measurement.name,
        measurement.device,
        f"{measurement.size:,} {measurement.size_unit}".strip(),
        _with_spread(measurement.pattern_seconds, measurement.pattern_stdev),
        _with_spread(measurement.fix_seconds, measurement.fix_stdev),
        format_speedup(measurement.speedup),
        "; ".join(notes),
    )


def _with_spread(median: float, stdev: float) -> str:
    """The median and the samples' standard deviation, as pyperf prints them."""
    return f"{format_seconds(median)} ± {format_seconds(stdev)}"
