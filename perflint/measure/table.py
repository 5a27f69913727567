"""The measurement table printed by ``perflint bench`` and ``perflint check --measure``.

It must read in a 100-column terminal and show at a glance which finding costs most: one row
per rule and target, sorted by the time one execution of the fix saves (a ratio alone says
nothing about what the user gains: a 1,000x speedup of a microsecond is worth less than a 2x
of ten milliseconds), with the speedup at each size in a single cell. The time saved is read
at the measured size closest to the finding's own size where it is known, else at the
benchmark's middle size, and the table says which. Size units, skip reasons, cache dates,
noise and flags go to footnotes beneath; the per-size times, intervals and raw-sample
warnings to ``--output-format full``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, TextIO

from perflint.measure.results import (
    MEASURED,
    NOT_MEASURED,
    TOO_FEW_SAMPLES,
    Measurement,
    MeasurementReport,
    Point,
    measured_value,
)
from perflint.measure.units import (
    format_bytes,
    format_saved,
    format_seconds,
    format_size,
    format_speedup,
    format_timestamp,
)

PLAIN_WIDTH = 100  # files, pipes and CI logs: the width the table is designed for
NOISY_MARK = "?"
FLAGGED_MARK = "!"


def render_table(
    report: MeasurementReport,
    stream: TextIO,
    color: bool,
    detailed: bool = False,
    occurrences: Mapping[str, int] | None = None,
    run_shares: Mapping[str, float] | None = None,
    evidence_sizes: Mapping[str, int] | None = None,
) -> None:
    """The machine in one line, the summary table and its footnotes; with ``detailed``, every size's
    times, intervals and sample warnings too. ``occurrences`` (findings per code) adds a column, and
    ``run_shares`` (under ``--profile``: the hottest share of the run among a rule's findings) another.
    ``evidence_sizes`` (a size per code, in the benchmark's unit, where the findings show one) picks
    the size the time saved is read at; otherwise it is the benchmark's middle size.

    Without ``color`` the output carries no ANSI codes at all (files, pipes, CI logs).
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(
        file=stream,
        color_system="auto" if color else None,
        force_terminal=color,
        width=None if color else PLAIN_WIDTH,
        highlight=False,
        markup=False,
    )
    table = Table(
        title="Speedup of each rule's fix over its pattern, timed in the rule's own benchmark",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("Rule", style="bold", no_wrap=True)
    if occurrences is not None:
        table.add_column("Found", justify="right", no_wrap=True)
    if run_shares is not None:
        table.add_column("Share", justify="right", no_wrap=True)
    table.add_column("Target", no_wrap=True)
    table.add_column("Speedup at each size", style="bold green")
    table.add_column("Saved per call", justify="right", no_wrap=True)
    table.add_column("Note", style="yellow")
    console.print(f"Machine: {machine_summary(report.machine)}")
    conditions = run_conditions(report)
    if conditions:
        console.print(f"Conditions: {conditions}")
    rows = summary_rows(report, evidence_sizes)
    for measurement in rows:
        cells = [measurement.code]
        if occurrences is not None:
            cells.append(str(occurrences.get(measurement.code, "")))
        if run_shares is not None:
            share = run_shares.get(measurement.code)
            cells.append(f"{share:.1%}" if share is not None else "")
        cells.extend(
            [measurement.target, speedup_cell(measurement), saved_cell(measurement, evidence_sizes), _note(measurement)]
        )
        table.add_row(*cells)
    console.print(table)
    for line in [ranking_note(rows, evidence_sizes), *footnotes(report, rows)]:
        console.print(line, style="yellow" if line.startswith(("Skipped", "Not measured", "At ")) else None)
    if detailed:
        for measurement in report.measurements:
            if measurement.status == MEASURED:
                console.print()
                console.print(_detail_table(measurement))
                for point in measurement.measured_points:
                    if point.warnings or point.flags:
                        console.print(f"  at {point.size:,}: {'; '.join(point.flags + point.warnings)}")


def ranking_point(measurement: Measurement, evidence_sizes: Mapping[str, int] | None = None) -> Point | None:
    """The point a row is ranked by: the measured size closest to the finding's evidence when
    known, else the middle measured size."""
    if evidence_sizes and measurement.code in evidence_sizes:
        return measurement.point_nearest(evidence_sizes[measurement.code])
    points = sorted(measurement.measured_points, key=lambda point: point.size)
    return points[len(points) // 2] if points else None


def summary_rows(report: MeasurementReport, evidence_sizes: Mapping[str, int] | None = None) -> list[Measurement]:
    """Every measured target, most time saved per call first; then, for a rule with nothing
    measured, its first entry (so every rule has a row and nothing is silently dropped)."""

    def saved(measurement: Measurement) -> float:
        point = ranking_point(measurement, evidence_sizes)
        return point.time_saved if point is not None and point.time_saved is not None else float("-inf")

    measured = [m for m in report.measurements if m.status == MEASURED]
    measured.sort(key=lambda m: -saved(m))
    covered = {m.code for m in measured}
    others = []
    for measurement in report.measurements:
        if measurement.code not in covered:
            covered.add(measurement.code)
            others.append(measurement)
    return measured + others


def _marks(point: Point) -> str:
    return (NOISY_MARK if point.noisy else "") + (FLAGGED_MARK if point.flags else "")


def speedup_cell(measurement: Measurement) -> str:
    """``1k 99x · 10k 195x · 100k 210x``; a noisy speedup carries a ``?``, a flagged one a ``!``,
    and a size refused for too few samples shows no number."""
    if measurement.status != MEASURED:
        return "—"
    parts = []
    for point in measurement.points:
        if point.status == MEASURED:
            parts.append(f"{format_size(point.size)} {format_speedup(measured_value(point.speedup))}{_marks(point)}")
        elif point.status == TOO_FEW_SAMPLES:
            parts.append(f"{format_size(point.size)} too few samples")
        else:
            parts.append(f"{format_size(point.size)} —")
    return " · ".join(parts)


def saved_cell(measurement: Measurement, evidence_sizes: Mapping[str, int] | None = None) -> str:
    """``14.2 ms at 10k``: the time one execution of the fix saves at the ranking size."""
    point = ranking_point(measurement, evidence_sizes) if measurement.status == MEASURED else None
    if point is None or point.time_saved is None:
        return "—"
    return f"{format_saved(point.time_saved)}{_marks(point)} at {format_size(point.size)}"


def ranking_note(rows: list[Measurement], evidence_sizes: Mapping[str, int] | None = None) -> str:
    """Which size each row's time saved (and so the order) was read at, and why."""
    sizes = evidence_sizes or {}
    by_evidence = sorted({m.code for m in rows if m.status == MEASURED and m.code in sizes})
    text = "Rows are sorted by the time one execution of the fix saves (pattern − fix), read at "
    if by_evidence:
        stated = ", ".join(f"{code} ({sizes[code]:,})" for code in by_evidence)
        measured = {m.code for m in rows if m.status == MEASURED}
        return (
            text
            + "the measured size closest to the largest size the rule's findings state in the code (its "
            + f"costliest finding: these benchmarks save more the larger the size) for {stated}"
            + (", and at the benchmark's middle size for the rest." if len(by_evidence) < len(measured) else ".")
        )
    return text + "each benchmark's middle size (the findings show no size of their own)."


def run_conditions(report: MeasurementReport) -> str:
    """Worker processes, threads, load and frequency scaling, in one line (empty without a run record)."""
    from perflint.measure.system import describe_frequency_scaling

    run = report.run
    if not run:
        return ""
    policy = run.get("policy") or {}
    parts = [
        f"{policy.get('workers')} worker processes x {policy.get('samples')} samples per side"
        + (
            f" (up to {policy['extra_workers']} more where a speedup's interval is wider than "
            f"±{policy['tight_relative_half_width']:.0%})"
            if policy.get("extra_workers")
            else ""
        ),
        f"{run.get('threads_requested')} thread{'s' if run.get('threads_requested') != 1 else ''} requested",
    ]
    if run.get("worker_start"):
        parts.insert(1, f"workers {run['worker_start']}")
    used = run.get("threads_used") or {}
    if used:
        pools = ", ".join(f"{pool['library']} {pool['threads']}" for pool in used.get("pools") or [])
        torch = f", torch {used['torch']}" if used.get("torch") is not None else ""
        parts.append(f"in use: {pools or 'no thread pool'}{torch}")
    loads = [run.get("load_average_start"), run.get("load_average_end")]
    if any(load is not None for load in loads):
        parts.append(
            "load average "
            + " → ".join(f"{load:.1f}" for load in loads if load is not None)
            + f" on {report.machine.get('logical_cores')} cores"
        )
    if run.get("frequency_scaling") is not None:
        parts.append(describe_frequency_scaling(run["frequency_scaling"]))
    return "; ".join(parts)


def _note(measurement: Measurement) -> str:
    if measurement.status == NOT_MEASURED:
        return "not measured (budget)"
    if measurement.status != MEASURED:
        return "skipped"
    note = measurement.payoff()
    if measurement.cached:
        note += "; cached"
    return note


def footnotes(report: MeasurementReport, rows: list[Measurement]) -> list[str]:
    """Size units, noise, cache dates, skips grouped by reason, budget, in that order."""
    lines = []
    units = {m.code: m.size_unit for m in rows if m.size_unit}
    if units:
        lines.append("Sizes: " + "; ".join(f"{code} in {unit}" for code, unit in units.items()) + ".")
    if any(point.noisy for m in report.measurements for point in m.measured_points):
        lines.append(
            f"{NOISY_MARK} too noisy to act on: the 95% interval of the speedup crosses 1.0 or spans "
            "more than ±25% (--output-format full shows it)."
        )
    flags = sorted({flag for m in report.measurements for point in m.measured_points for flag in point.flags})
    if flags:
        lines.append(
            f"{FLAGGED_MARK} not to be trusted as it stands, whatever its interval: "
            + "; ".join(dict.fromkeys(map(_generic, flags)))
            + " (--output-format full names each)."
        )
    too_few = [
        f"{m.code} {m.target} at {format_size(point.size)}"
        for m in report.measurements
        for point in m.points
        if point.status == TOO_FEW_SAMPLES
    ]
    if too_few:
        lines.append(f"Too few samples (no number shown; {too_few_reason(report)}): {', '.join(too_few)}.")
    cached = [m for m in report.measurements if m.cached and m.status == MEASURED]
    if cached:
        lines.append(
            "From the cache (--remeasure times afresh): "
            + ", ".join(f"{m.code} {m.target} measured {format_timestamp(m.measured_at)}" for m in cached)
            + "."
        )
    for measurement in report.measurements:
        for point in measurement.points:
            if point.status not in (MEASURED, TOO_FEW_SAMPLES):
                lines.append(
                    f"At {format_size(point.size)}, {measurement.code} {measurement.target} skipped: {point.reason}."
                )
    skipped: dict[str, list[str]] = defaultdict(list)
    not_measured: dict[str, list[str]] = defaultdict(list)
    for measurement in report.measurements:
        if measurement.status == NOT_MEASURED:
            not_measured[measurement.reason or ""].append(f"{measurement.code} {measurement.target}")
        elif measurement.status != MEASURED:
            skipped[measurement.reason or "no reason given"].append(f"{measurement.code} {measurement.target}")
    for reason, entries in skipped.items():
        lines.append(f"Skipped ({reason}): {', '.join(entries)}.")
    for reason, entries in not_measured.items():
        lines.append(f"Not measured, {reason}: {', '.join(entries)}.")
    return lines


def _generic(flag: str) -> str:
    """A flag without its numbers, so that the footnote lists each kind once."""
    if "fastest sample" in flag:
        return "a side's median far above its fastest sample (a stall or a neighbour's burst)"
    if "does not grow with size" in flag:
        return "a side's time does not grow with size (a stall floor?)"
    if flag.startswith("machine loaded"):
        return "the machine was loaded (load average above the core count)"
    return flag


def too_few_reason(report: MeasurementReport) -> str:
    from perflint.measure.intervals import MINIMUM_SAMPLES, MINIMUM_WORKERS

    return (
        f"a 95% interval of a median needs {MINIMUM_SAMPLES} samples from {MINIMUM_WORKERS} worker processes at least"
    )


def _detail_table(measurement: Measurement) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(
        title=f"{measurement.code} {measurement.name} on {measurement.target} (sizes in {measurement.size_unit})",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    for header in ("Size", "Pattern", "Fix", "Speedup [95%]", "Saved per call [95%]", "Samples"):
        table.add_column(header, justify="right")
    for point in measurement.points:
        if point.status != MEASURED:
            table.add_row(f"{point.size:,}", point.status, "—", "—", "—", str(point.samples or "—"))
            continue
        table.add_row(
            f"{point.size:,}",
            format_seconds(measured_value(point.pattern_seconds)),
            format_seconds(measured_value(point.fix_seconds)),
            f"{format_speedup(measured_value(point.speedup))} [{format_speedup(measured_value(point.speedup_low))}–"
            f"{format_speedup(measured_value(point.speedup_high))}]{_marks(point)}",
            f"{format_saved(measured_value(point.time_saved))} [{saved_interval(point)}]",
            f"{point.samples} in {point.workers}" if point.workers else str(point.samples),
        )
    return table


def saved_interval(point: Point) -> str:
    if point.saved_low is None or point.saved_high is None:
        return "—"
    return f"{format_saved(point.saved_low)}–{format_saved(point.saved_high)}"


def machine_summary(machine: dict[str, Any]) -> str:
    """A one-line description: CPU, cores, memory, BLAS, GPUs, the software, the fingerprint."""
    cpu = str(machine.get("cpu_model") or "unknown CPU")
    if machine.get("cpu_max_mhz"):
        cpu += f" ({machine['cpu_max_mhz'] / 1000:.1f} GHz)"
    cores = f"{machine.get('logical_cores')} logical cores"
    if machine.get("physical_cores"):
        cores += f" ({machine['physical_cores']} physical)"
    parts = [cpu, cores]
    if machine.get("memory_bytes"):
        parts.append(f"{format_bytes(machine['memory_bytes'])} memory")
    for blas in machine.get("blas") or []:
        threads = f", {blas['threads']} thread{'s' if blas['threads'] != 1 else ''}" if blas.get("threads") else ""
        parts.append(f"{blas.get('library')} {blas.get('version') or ''}{threads}".replace(" ,", ","))
    if machine.get("torch_threads"):
        parts.append(f"torch {machine['torch_threads']} CPU thread{'s' if machine['torch_threads'] != 1 else ''}")
    gpus = machine.get("gpus") or []
    if gpus:
        parts.append("GPUs: " + ", ".join(_gpu_summary(gpu) for gpu in gpus))
    else:
        parts.append("no GPU seen by NVML")
    software = [f"Python {machine.get('python_version')}"]
    libraries = machine.get("libraries") or {}
    for key, label in (("numpy", "NumPy"), ("torch", "torch"), ("cupy", "CuPy")):
        if libraries.get(key):
            software.append(f"{label} {libraries[key]}")
    parts.append(", ".join(software))
    if machine.get("os"):
        parts.append(str(machine["os"]))
    if machine.get("fingerprint"):
        parts.append(f"fingerprint {machine['fingerprint']}")
    return "; ".join(parts)


def _gpu_summary(gpu: dict[str, Any]) -> str:
    text = f"{gpu['name']} ({format_bytes(gpu['memory_bytes'])}"
    if gpu.get("driver_version"):
        text += f", driver {gpu['driver_version']}"
    if gpu.get("cuda_version"):
        text += f", CUDA {gpu['cuda_version']}"
    if gpu.get("pcie_generation") and gpu.get("pcie_width"):
        text += f", PCIe {gpu['pcie_generation']} x{gpu['pcie_width']}"
    return text + ")"
