"""Hover on a finding: why it costs, what the fix does, and what it measured on this machine.

Numbers come only from the measurement cache (``perflint.measure.cache``), looked up under the
key ``perflint check --measure`` stores them with: the rule's benchmark at its own sizes, the
default timing policy, and this machine's fingerprint. So a hover shows a number only when
this machine measured it; otherwise it says how to measure. Nothing is timed here: a hover
must answer at once.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from perflint.engine.findings import Finding
from perflint.measure.cache import MeasurementCache
from perflint.measure.results import MEASURED, SKIPPED, Measurement, measured_value
from perflint.measure.units import format_seconds, format_size, format_speedup, format_timestamp
from perflint.output.common import rule_text

if TYPE_CHECKING:
    from perflint.engine.rule import Rule

# The end of the first sentence: a full stop, then a space and a capital or the end.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`])")


def first_sentence(text: str) -> str:
    paragraph = " ".join(text.strip().split())
    return _SENTENCE_END.split(paragraph, maxsplit=1)[0]


class MachineMeasurements:
    """This machine's cached measurements. The machine's fingerprint is worked out on first
    use (it reads the CPU, libraries, BLAS and GPUs) and kept for the server's life."""

    def __init__(self) -> None:
        self._fingerprint: str | None = None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from perflint.measure.machine import describe_machine

            self._fingerprint = describe_machine()["fingerprint"]
        return self._fingerprint

    def cached(self, rule: type[Rule], project_root: str) -> list[Measurement]:
        """The targets of ``rule``'s benchmark in the project's measurement cache: measured,
        or skipped with the reason (no such device here)."""
        benchmark = rule.benchmark
        if benchmark is None:
            return []
        from perflint.measure.harness import DEFAULT_POLICY, benchmark_fingerprint, targets_for

        cache = MeasurementCache(project_root)
        found = []
        for library, device in targets_for(benchmark):
            key = cache.key(
                rule.code,
                benchmark_fingerprint(benchmark),
                library,
                device,
                benchmark.sizes,
                DEFAULT_POLICY,
                self.fingerprint,
            )
            measurement = cache.load(key)
            if measurement is not None and measurement.status in (MEASURED, SKIPPED):
                found.append(measurement)
        return found


def _measured_lines(measurement: Measurement) -> list[str]:
    unit = measurement.size_unit.split(" (")[0]
    lines = [f"Measured on this machine ({measurement.target}, {format_timestamp(measurement.measured_at)}):"]
    for point in sorted(measurement.measured_points, key=lambda point: point.size):
        pattern_seconds, fix_seconds = measured_value(point.pattern_seconds), measured_value(point.fix_seconds)
        saved = pattern_seconds - fix_seconds
        effect = f"saves {format_seconds(saved)}" if saved >= 0 else f"costs {format_seconds(-saved)} more"
        noisy = " (noisy: the 95% interval is wide or crosses 1.0)" if point.noisy else ""
        size = f"{format_size(point.size)} {unit}".strip()
        lines.append(
            f"- {size}: speedup {format_speedup(measured_value(point.speedup))} ({format_seconds(pattern_seconds)} → "
            f"{format_seconds(fix_seconds)}, {effect} per call){noisy}"
        )
    payoff = measurement.payoff()
    if payoff:
        lines.append(f"\nThe fix {payoff}.")
    return lines


def hover_markdown(finding: Finding, measurements: MachineMeasurements, project_root: str) -> str:
    """The hover text of ``finding``: the rule and its one-line why, the fix, and this
    machine's cached measurements of the rule's benchmark, or how to measure them."""
    text = rule_text(finding.code, finding.name)
    parts = [f"**{text.code}** `{text.name}`: {text.summary}"]
    if text.why_bad:
        parts.append(f"Why: {first_sentence(text.why_bad)}")
    if finding.fix is not None:
        label = "safe" if finding.fix.applicability == "safe" else "unsafe, it may change what the code computes"
        parts.append(f"Fix ({label}): {finding.fix.message}")
    elif text.fix_title:
        parts.append(f"Fix: {text.fix_title}")
    from perflint.rules import rule_by_code

    rule = rule_by_code(finding.code)
    if rule is not None and rule.benchmark is not None:
        cached = measurements.cached(rule, project_root)
        measured = [measurement for measurement in cached if measurement.measured_points]
        skipped = [
            f"{measurement.target} ({measurement.reason or 'skipped'})"
            for measurement in cached
            if measurement.status == SKIPPED
        ]
        if measured:
            parts.extend("\n".join(_measured_lines(measurement)) for measurement in measured)
        elif skipped:
            parts.append(f"Not measurable on this machine: {'; '.join(skipped)}.")
        else:
            parts.append(
                f"Not measured on this machine yet: run `perflint check --measure` on this file to "
                f"measure it and keep the result for this hover, or `perflint bench {finding.code}` to "
                f"see it now."
            )
    return "\n\n".join(parts)
