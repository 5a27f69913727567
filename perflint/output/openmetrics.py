"""The ``openmetrics`` format: findings and measurements as gauges a Prometheus textfile
collector can scrape, so teams chart them in Grafana across machines and over time.

The text is OpenMetrics 1.0 (which Prometheus reads), ending in ``# EOF``. Every sample of one
run carries the same labels for where it came from, so series from several machines or
commits stay apart.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING, TextIO

from perflint.engine.findings import Finding

if TYPE_CHECKING:
    from perflint.measure.results import MeasurementReport

# How many leading folders of a finding's path make its prefix: ``src/models`` for
# ``src/models/vit/attention.py``. Deep enough to tell packages apart, shallow enough to keep
# the number of series small.
PATH_PREFIX_DEPTH = 2


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{name}="{_escape(str(value))}"' for name, value in labels.items()) + "}"


def _family(stream: TextIO, name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float | None]]) -> None:
    """One gauge family; a sample without a value (a point that was not measured) is left out."""
    stream.write(f"# TYPE {name} gauge\n# HELP {name} {help_text}\n")
    for labels, value in samples:
        if value is None:
            continue
        stream.write(f"{name}{_labels(labels)} {value!r}\n")


def path_prefix(path: str, depth: int = PATH_PREFIX_DEPTH) -> str:
    """The first ``depth`` folders of ``path`` (``.`` for a file at the top)."""
    folders = PurePath(path).parts[:-1]
    return "/".join(folders[:depth]) or "."


def write_check_metrics(findings: Sequence[Finding], stream: TextIO, *, files_checked: int) -> None:
    """``perflint_findings{code, rule, path_prefix}`` and ``perflint_files_checked``."""
    counts = Counter((finding.code, finding.name, path_prefix(finding.path)) for finding in findings)
    _family(
        stream,
        "perflint_findings",
        "Findings of perflint check, per rule and path prefix.",
        (
            ({"code": code, "rule": name, "path_prefix": prefix}, float(count))
            for (code, name, prefix), count in sorted(counts.items())
        ),
    )
    _family(stream, "perflint_files_checked", "Files perflint check linted.", [({}, float(files_checked))])
    stream.write("# EOF\n")


def write_bench_metrics(report: MeasurementReport, stream: TextIO) -> None:
    """Pattern seconds, fix seconds and speedup per rule, backend, device and size, labelled
    with the machine's fingerprint and its CPU and GPU names. Only measured points appear:
    nothing is reported for a benchmark that was skipped or not reached."""
    machine = report.machine
    gpus = ", ".join(str(gpu.get("name", "")) for gpu in machine.get("gpus") or ()) or "none"
    where = {"machine": str(machine.get("fingerprint", "")), "cpu": str(machine.get("cpu_model", "")), "gpu": gpus}
    rows = [
        (
            {
                "code": measurement.code,
                "rule": measurement.name,
                "backend": measurement.backend,
                "library": measurement.library,
                "device": measurement.device,
                "size": str(point.size),
                "size_unit": measurement.size_unit,
                **where,
            },
            point,
        )
        for measurement in report.measurements
        for point in measurement.measured_points
    ]
    _family(
        stream,
        "perflint_pattern_seconds",
        "Median seconds per call of the flagged pattern.",
        ((labels, point.pattern_seconds) for labels, point in rows),
    )
    _family(
        stream,
        "perflint_fix_seconds",
        "Median seconds per call of the fix.",
        ((labels, point.fix_seconds) for labels, point in rows),
    )
    _family(
        stream,
        "perflint_speedup",
        "Pattern time divided by fix time.",
        ((labels, point.speedup) for labels, point in rows),
    )
    stream.write("# EOF\n")
