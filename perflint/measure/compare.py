"""``perflint bench --compare OLD.json NEW.json``: what changed between two saved runs.

After a NumPy, torch or driver upgrade, a user wants to know which rules' costs moved and
whether the move is real. As pyperf's ``compare_to`` and Google Benchmark's ``compare.py`` do,
each rule, target and size present in both runs gets the relative change of the pattern's time,
the fix's time and the speedup, and a verdict on whether the speedup's change is significant.
The test is a bootstrap of the ratio new ÷ old speedup, each run's speedup resampled from its
own worker processes' samples as the run's interval was (``perflint.measure.intervals``): the
change is significant when its 95% interval excludes no change. A run saved without raw
samples falls back to whether the two runs' 95% intervals overlap (a stricter test). A point
flagged in either run (a stall, a loaded machine) is marked so, whatever the verdict.
"""

from __future__ import annotations

import json
import random
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from perflint.measure.results import MeasurementReport, Point, measured_value

if TYPE_CHECKING:
    from rich.console import JustifyMethod

SIGNIFICANT = "significant"
NOT_SIGNIFICANT = "not significant"
# Facts of the machine and run whose difference between the two runs is worth a line.
_COMPARED_FACTS = ("cpu_model", "logical_cores", "memory_bytes", "os", "python_version")


class ComparisonError(Exception):
    """A file that cannot be read as a saved ``perflint bench --output-format json`` run."""


def load_report(path: str) -> MeasurementReport:
    try:
        with open(path, encoding="utf-8") as stream:
            return MeasurementReport.from_dict(json.load(stream))
    except OSError as error:
        raise ComparisonError(f"cannot read {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise ComparisonError(f"{path} is not a `perflint bench --output-format json` result ({error})") from None


@dataclass(frozen=True)
class PointChange:
    """One rule, target and size in both runs."""

    code: str
    target: str
    size: int
    size_unit: str
    old: Point
    new: Point
    speedup_change_low: float
    speedup_change_high: float
    verdict: str
    method: str
    benchmark_changed: bool

    @property
    def speedup_change(self) -> float:
        return measured_value(self.new.speedup) / measured_value(self.old.speedup)

    @property
    def pattern_change(self) -> float:
        return measured_value(self.new.pattern_seconds) / measured_value(self.old.pattern_seconds)

    @property
    def fix_change(self) -> float:
        return measured_value(self.new.fix_seconds) / measured_value(self.old.fix_seconds)

    @property
    def flagged(self) -> bool:
        return self.old.flagged or self.new.flagged

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "target": self.target,
            "size": self.size,
            "size_unit": self.size_unit,
            "old_speedup": self.old.speedup,
            "new_speedup": self.new.speedup,
            "speedup_change": self.speedup_change,
            "speedup_change_interval": [self.speedup_change_low, self.speedup_change_high],
            "pattern_change": self.pattern_change,
            "fix_change": self.fix_change,
            "old_time_saved_seconds": self.old.time_saved,
            "new_time_saved_seconds": self.new.time_saved,
            "verdict": self.verdict,
            "method": self.method,
            "flagged": self.flagged,
            "benchmark_changed": self.benchmark_changed,
        }


@dataclass
class Comparison:
    changes: list[PointChange] = field(default_factory=list)
    only_old: list[str] = field(default_factory=list)
    only_new: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "differences": self.differences,
            "changes": [change.to_dict() for change in self.changes],
            "only_in_old": self.only_old,
            "only_in_new": self.only_new,
        }


def compare_reports(old: MeasurementReport, new: MeasurementReport, resamples: int = 2000) -> Comparison:
    comparison = Comparison(differences=describe_differences(old, new))
    old_points = _points(old)
    new_points = _points(new)
    for key, (old_measurement, old_point) in old_points.items():
        if key not in new_points:
            comparison.only_old.append(_label(key))
            continue
        new_measurement, new_point = new_points[key]
        low, high, method = _change_interval(old_point, new_point, resamples)
        comparison.changes.append(
            PointChange(
                code=key[0],
                target=key[1],
                size=key[2],
                size_unit=new_measurement.size_unit,
                old=old_point,
                new=new_point,
                speedup_change_low=low,
                speedup_change_high=high,
                verdict=SIGNIFICANT if low > 1 or high < 1 else NOT_SIGNIFICANT,
                method=method,
                benchmark_changed=old_measurement.benchmark_fingerprint != new_measurement.benchmark_fingerprint,
            )
        )
    comparison.only_new = [_label(key) for key in new_points if key not in old_points]
    return comparison


def _points(report: MeasurementReport) -> dict[tuple[str, str, int], tuple[Any, Point]]:
    return {(m.code, m.target, point.size): (m, point) for m in report.measurements for point in m.measured_points}


def _label(key: tuple[str, str, int]) -> str:
    return f"{key[0]} {key[1]} at {key[2]:,}"


def _change_interval(old: Point, new: Point, resamples: int) -> tuple[float, float, str]:
    """A 95% interval of new ÷ old speedup, and how it was obtained."""
    if old.rounds and new.rounds:
        generator = random.Random(0)
        old_draws = _bootstrap_speedups(old.rounds, resamples, generator)
        new_draws = _bootstrap_speedups(new.rounds, resamples, generator)
        ratios = sorted(n / o for n, o in zip(new_draws, old_draws))
        return ratios[int(0.025 * resamples)], ratios[int(0.975 * resamples) - 1], "bootstrap of the raw samples"
    # Without samples: the widest and narrowest ratios the two intervals allow; it excludes 1
    # only when the intervals do not overlap.
    new_low, new_high = measured_value(new.speedup_low), measured_value(new.speedup_high)
    old_low, old_high = measured_value(old.speedup_low), measured_value(old.speedup_high)
    return new_low / old_high, new_high / old_low, "overlap of the two intervals"


def _bootstrap_speedups(workers: tuple, resamples: int, generator: random.Random) -> list[float]:
    groups = [list(worker) for worker in workers if worker]
    draws = []
    for _ in range(resamples):
        drawn: list[tuple[float, float]] = []
        for _ in groups:
            group = groups[generator.randrange(len(groups))]
            drawn.extend(group[generator.randrange(len(group))] for _ in group)
        draws.append(statistics.median(p for p, _ in drawn) / statistics.median(f for _, f in drawn))
    return draws


def describe_differences(old: MeasurementReport, new: MeasurementReport) -> list[str]:
    """What differs between the two runs' machines, libraries, threads and perflint versions."""
    lines = []
    for fact in _COMPARED_FACTS:
        if old.machine.get(fact) != new.machine.get(fact):
            lines.append(f"{fact}: {old.machine.get(fact)} → {new.machine.get(fact)}")
    old_libraries, new_libraries = old.machine.get("libraries") or {}, new.machine.get("libraries") or {}
    for name in sorted(set(old_libraries) | set(new_libraries)):
        if old_libraries.get(name) != new_libraries.get(name):
            lines.append(f"{name}: {old_libraries.get(name) or 'absent'} → {new_libraries.get(name) or 'absent'}")
    old_gpus = [(gpu.get("name"), gpu.get("driver_version")) for gpu in old.machine.get("gpus") or []]
    new_gpus = [(gpu.get("name"), gpu.get("driver_version")) for gpu in new.machine.get("gpus") or []]
    if old_gpus != new_gpus:
        lines.append(f"GPUs (name, driver): {old_gpus or 'none'} → {new_gpus or 'none'}")
    for fact in ("perflint_version", "threads_requested"):
        if old.run.get(fact) != new.run.get(fact):
            lines.append(f"{fact}: {old.run.get(fact)} → {new.run.get(fact)}")
    loads = [
        max(
            (
                load
                for load in (report.run.get("load_average_start"), report.run.get("load_average_end"))
                if load is not None
            ),
            default=None,
        )
        for report in (old, new)
    ]
    if any(load is not None for load in loads):
        lines.append(
            "highest load average seen: " + " → ".join("unknown" if load is None else f"{load:.1f}" for load in loads)
        )
    return lines


def _percent(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.0f}%"


def render_comparison(comparison: Comparison, stream: TextIO, color: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from perflint.measure.units import format_size, format_speedup

    console = Console(
        file=stream,
        color_system="auto" if color else None,
        force_terminal=color,
        width=None if color else 100,
        highlight=False,
        markup=False,
    )
    console.print("Differences between the runs: " + ("; ".join(comparison.differences) or "none recorded"))
    table = Table(
        title="Change from OLD to NEW per rule, target and size",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    columns: tuple[tuple[str, JustifyMethod], ...] = (
        ("Rule", "left"),
        ("Target", "left"),
        ("Size", "right"),
        ("Speedup", "right"),
        ("Change", "right"),
        ("Pattern", "right"),
        ("Fix", "right"),
        ("Verdict", "left"),
    )
    for header, justify in columns:
        table.add_column(header, justify=justify, no_wrap=header != "Verdict")
    for change in comparison.changes:
        verdict = (
            change.verdict
            + (" (flagged)" if change.flagged else "")
            + ("; benchmark changed" if change.benchmark_changed else "")
        )
        table.add_row(
            change.code,
            change.target,
            format_size(change.size),
            f"{format_speedup(measured_value(change.old.speedup))} → {format_speedup(measured_value(change.new.speedup))}",
            _percent(change.speedup_change),
            _percent(change.pattern_change),
            _percent(change.fix_change),
            verdict,
        )
    console.print(table)
    console.print(
        "Change: of the speedup; Pattern and Fix: of each side's median time per call. Significant: "
        "the 95% interval of new ÷ old speedup (a bootstrap over each run's worker samples) excludes "
        "no change. Flagged: measured under a stall or a loaded machine in either run."
    )
    if comparison.only_old:
        console.print("Only in OLD: " + ", ".join(comparison.only_old) + ".")
    if comparison.only_new:
        console.print("Only in NEW: " + ", ".join(comparison.only_new) + ".")
