"""What a measurement run produces. Importing this module imports nothing heavy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Optional

MEASURED = "measured"
SKIPPED = "skipped"
NOT_MEASURED = "not measured"

# Below this speedup a fix is not worth a code change on performance grounds.
PAYS_FROM = 1.1
# A speedup whose confidence interval reaches further than this either side is too noisy to act on.
NOISY_RELATIVE_HALF_WIDTH = 0.25


@dataclass(frozen=True)
class Point:
    """One size of one benchmark: timed, or skipped with the reason (e.g. it does not fit in
    device memory). ``speedup_low``/``speedup_high`` bound the speedup at 95% confidence;
    ``warnings`` are pyperf's checks on the raw samples, kept as detail."""

    size: int
    status: str = MEASURED
    pattern_seconds: Optional[float] = None
    fix_seconds: Optional[float] = None
    speedup: Optional[float] = None
    speedup_low: Optional[float] = None
    speedup_high: Optional[float] = None
    pattern_stdev: Optional[float] = None
    fix_stdev: Optional[float] = None
    samples: int = 0
    warnings: tuple[str, ...] = ()
    reason: Optional[str] = None

    @property
    def noisy(self) -> bool:
        """Too noisy to act on: the interval crosses 1.0 or spans more than ±25%."""
        if self.status != MEASURED or self.speedup_low is None or self.speedup_high is None:
            return False
        crosses_one = self.speedup_low < 1.0 < self.speedup_high
        too_wide = (self.speedup_low < self.speedup * (1 - NOISY_RELATIVE_HALF_WIDTH)
                    or self.speedup_high > self.speedup * (1 + NOISY_RELATIVE_HALF_WIDTH))
        return crosses_one or too_wide

    def to_dict(self) -> dict[str, Any]:
        if self.status != MEASURED:
            return {"size": self.size, "status": self.status, "reason": self.reason}
        return {
            "size": self.size, "status": self.status, "pattern_seconds": self.pattern_seconds,
            "fix_seconds": self.fix_seconds, "speedup": self.speedup,
            "speedup_interval": [self.speedup_low, self.speedup_high], "noisy": self.noisy,
            "pattern_stdev": self.pattern_stdev, "fix_stdev": self.fix_stdev, "samples": self.samples,
            "warnings": list(self.warnings),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Point":
        if data["status"] != MEASURED:
            return cls(size=data["size"], status=data["status"], reason=data.get("reason"))
        low, high = data["speedup_interval"]
        return cls(size=data["size"], pattern_seconds=data["pattern_seconds"], fix_seconds=data["fix_seconds"],
                   speedup=data["speedup"], speedup_low=low, speedup_high=high,
                   pattern_stdev=data["pattern_stdev"], fix_stdev=data["fix_stdev"], samples=data["samples"],
                   warnings=tuple(data["warnings"]))


@dataclass(frozen=True)
class Measurement:
    """One rule's benchmark on one library and device, at each of its sizes; or skipped (the
    library or device is not here), or not measured (the time budget ran out first).

    Only a measured one has points with numbers: nothing is reported for a device not used.
    """

    code: str
    backend: str
    library: str
    device: str
    status: str
    size_unit: str = ""
    name: str = ""
    points: tuple[Point, ...] = ()
    reason: Optional[str] = None
    benchmark_fingerprint: str = ""
    measured_at: Optional[str] = None
    cached: bool = False

    @property
    def target(self) -> str:
        return f"{self.library}/{self.device}"

    @property
    def measured_points(self) -> list[Point]:
        return [point for point in self.points if point.status == MEASURED]

    @property
    def best_speedup(self) -> Optional[float]:
        speedups = [point.speedup for point in self.measured_points]
        return max(speedups) if speedups else None

    def payoff(self) -> str:
        """Where the fix pays (speedup of at least 1.1) over the sizes measured, in words."""
        return describe_payoff(self.measured_points, self.size_unit)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "backend": self.backend,
                                "library": self.library, "device": self.device, "status": self.status,
                                "size_unit": self.size_unit}
        if self.status == MEASURED:
            data.update(points=[point.to_dict() for point in self.points], payoff=self.payoff(),
                        benchmark_fingerprint=self.benchmark_fingerprint, measured_at=self.measured_at,
                        cached=self.cached)
        else:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Measurement":
        return cls(code=data["code"], name=data.get("name", ""), backend=data["backend"], library=data["library"],
                   device=data["device"], status=data["status"], size_unit=data.get("size_unit", ""),
                   points=tuple(Point.from_dict(point) for point in data.get("points", ())),
                   reason=data.get("reason"), benchmark_fingerprint=data.get("benchmark_fingerprint", ""),
                   measured_at=data.get("measured_at"), cached=data.get("cached", False))

    def from_cache(self) -> "Measurement":
        return replace(self, cached=True)


@dataclass
class MeasurementReport:
    """The machine the numbers were measured on, and the numbers."""

    machine: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"machine": self.machine, "measurements": [m.to_dict() for m in self.measurements]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MeasurementReport":
        return cls(machine=data["machine"], measurements=[Measurement.from_dict(m) for m in data["measurements"]])


def describe_payoff(points: list[Point], size_unit: str) -> str:
    """"pays at every size measured", "pays from ~2,000 elements", "stops paying above ~…",
    "does not pay at the sizes measured". A crossover between two measured sizes is placed by
    interpolating the speedup on log-log axes, hence the "~"."""
    points = sorted(points, key=lambda point: point.size)
    if not points:
        return ""
    unit = size_unit.split(" (")[0]
    pays = [point.speedup >= PAYS_FROM for point in points]
    if all(pays):
        return "pays at every size measured"
    if not any(pays):
        return "does not pay at the sizes measured"
    first_paying = pays.index(True)
    if all(pays[first_paying:]):
        size = _crossing(points[first_paying - 1], points[first_paying])
        return f"pays from ~{_round_size(size)} {unit}".strip()
    last_paying = len(pays) - 1 - pays[::-1].index(True)
    if all(pays[: last_paying + 1]):
        size = _crossing(points[last_paying], points[last_paying + 1])
        return f"stops paying above ~{_round_size(size)} {unit}".strip()
    return "pays only at some sizes measured"


def _crossing(left: Point, right: Point) -> float:
    """The size where the log-log line through two points crosses a speedup of ``PAYS_FROM``."""
    x0, x1 = math.log(left.size), math.log(right.size)
    y0, y1 = math.log(left.speedup), math.log(right.speedup)
    if y1 == y0:
        return float(right.size)
    fraction = (math.log(PAYS_FROM) - y0) / (y1 - y0)
    return math.exp(x0 + fraction * (x1 - x0))


def _round_size(size: float) -> str:
    """Two significant digits, as a plain integer with thousands separators: ``2,000``, ``350``."""
    if size < 10:
        return f"{size:.2g}"
    digits = int(math.floor(math.log10(size))) - 1
    return f"{int(round(size, -digits)):,}"
