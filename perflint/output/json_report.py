"""The ``json`` format: ``{"version", "findings"}``, plus statistics and measurements when asked,
and ``fixed`` (how many fixes were applied) after ``--fix``."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from perflint import __version__
from perflint.engine.findings import Finding
from perflint.measure.results import MeasurementReport
from perflint.output.common import CodeCount


def write_json(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    statistics: Sequence[CodeCount] | None,
    measurement: MeasurementReport | None,
    fixed: int | None = None,
) -> None:
    report: dict[str, Any] = {
        "version": __version__,
        "findings": [finding.to_dict() for finding in findings],
    }
    if fixed is not None:
        report["fixed"] = fixed
    if statistics is not None:
        report["statistics"] = [{"code": entry.code, "name": entry.name, "count": entry.count} for entry in statistics]
    if measurement is not None:
        report.update(measurement.to_dict())
    json.dump(report, stream, indent=2)
    stream.write("\n")
