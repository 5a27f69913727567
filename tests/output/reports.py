"""Findings, a measured run and a renderer the output tests share."""

from __future__ import annotations

import io

from perflint.engine.findings import Finding
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport, Point
from perflint.output import write_report

ANSI_ESCAPE = "\x1b["


INVARIANT_MESSAGE = (
    "`np.linalg.inv` is recomputed on every iteration with the same arguments: compute it once above the loop "
    "and reuse the result"
)


def invariant_call(path: str, line: int, column: int, end_column: int) -> Finding:
    return Finding(
        code="PFL401",
        name="loop-invariant-expensive-call",
        message=INVARIANT_MESSAGE,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=end_column,
    )


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def render(findings, output_format, **options) -> str:
    stream = io.StringIO()
    options.setdefault("files_checked", 10)
    write_report(findings, output_format, stream, **options)
    return stream.getvalue()


def measurement_report() -> MeasurementReport:
    return MeasurementReport(
        machine={"cpu": "Test CPU", "cores": 2, "gpus": []},
        measurements=[
            Measurement(
                code="PFL401",
                name="loop-invariant-expensive-call",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="matrix order",
                points=(
                    Point(
                        size=256,
                        pattern_seconds=0.02,
                        pattern_stdev=0.001,
                        fix_seconds=0.001,
                        fix_stdev=0.0001,
                        speedup=20.0,
                        speedup_low=19.0,
                        speedup_high=21.0,
                        samples=15,
                    ),
                ),
            ),
            Measurement(
                code="PFL201",
                name="create-then-move",
                backend="torch",
                library="torch",
                device="cuda",
                status=SKIPPED,
                reason="no CUDA device",
            ),
        ],
    )
