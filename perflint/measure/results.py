"""What a measurement run produces. Importing this module imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

MEASURED = "measured"
SKIPPED = "skipped"


@dataclass(frozen=True)
class Measurement:
    """One rule's benchmark on one backend and device: timed, or skipped with the reason.

    A skipped measurement has no numbers: a benchmark that cannot run here never reports one.
    """

    code: str
    backend: str
    device: str
    status: str
    size: Optional[int] = None
    pattern_seconds: Optional[float] = None
    fix_seconds: Optional[float] = None
    speedup: Optional[float] = None
    reason: Optional[str] = None
    warnings: tuple[str, ...] = ()
    name: str = ""
    size_unit: str = ""
    pattern_stdev: Optional[float] = None
    fix_stdev: Optional[float] = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "backend": self.backend,
                                "device": self.device, "status": self.status}
        if self.status == MEASURED:
            data.update(size=self.size, size_unit=self.size_unit, pattern_seconds=self.pattern_seconds,
                        fix_seconds=self.fix_seconds, speedup=self.speedup,
                        pattern_stdev=self.pattern_stdev, fix_stdev=self.fix_stdev,
                        warnings=list(self.warnings))
        else:
            data["reason"] = self.reason
        return data


@dataclass
class MeasurementReport:
    """The machine the numbers were measured on, and the numbers."""

    machine: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "measurements": [m.to_dict() for m in self.measurements]}
