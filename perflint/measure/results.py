"""What a measurement run produces. Importing this module imports nothing heavy."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

MEASURED = "measured"
SKIPPED = "skipped"
NOT_MEASURED = "not measured"
# A size whose workers returned fewer samples than ``MINIMUM_SAMPLES``: no number is shown.
TOO_FEW_SAMPLES = "too few samples"

# Below this speedup a fix is not worth a code change on performance grounds.
PAYS_FROM = 1.1
# A speedup whose confidence interval reaches further than this either side is too noisy to act on.
NOISY_RELATIVE_HALF_WIDTH = 0.25


def measured_value(number: float | None) -> float:
    """A number of a measured point (``status == MEASURED``), which the run always sets: ``None``
    here is a point that was not measured read as if it were."""
    if number is None:
        raise ValueError("a number read from a point that was not measured")
    return number


@dataclass(frozen=True)
class Point:
    """One size of one benchmark: timed, or skipped with the reason (e.g. it does not fit in
    device memory), or refused for too few samples. ``speedup_low``/``speedup_high`` bound the
    speedup, and ``saved_low``/``saved_high`` the time saved per call (pattern − fix), at 95%
    confidence. ``flags`` say why the point may not be trusted whatever its interval (a stall,
    a loaded machine); ``warnings`` are pyperf's checks on the raw samples, kept as detail."""

    size: int
    status: str = MEASURED
    pattern_seconds: float | None = None
    fix_seconds: float | None = None
    speedup: float | None = None
    speedup_low: float | None = None
    speedup_high: float | None = None
    pattern_stdev: float | None = None
    fix_stdev: float | None = None
    samples: int = 0
    warnings: tuple[str, ...] = ()
    reason: str | None = None
    saved_low: float | None = None
    saved_high: float | None = None
    workers: int = 0
    flags: tuple[str, ...] = ()
    # Every worker's (pattern, fix) seconds per call, round by round: what the intervals were
    # computed from, kept so that ``bench --compare`` can test a change against the raw samples.
    rounds: tuple[tuple[tuple[float, float], ...], ...] = field(default=(), compare=False, repr=False)

    @property
    def time_saved(self) -> float | None:
        """Seconds one execution of the fix saves over the pattern (negative: the fix is slower)."""
        if self.pattern_seconds is None or self.fix_seconds is None:
            return None
        return self.pattern_seconds - self.fix_seconds

    @property
    def flagged(self) -> bool:
        """Not to be trusted as it stands: too noisy, or measured under a stall or a loaded machine."""
        return self.noisy or bool(self.flags)

    @property
    def noisy(self) -> bool:
        """Too noisy to act on: the interval crosses 1.0 or spans more than ±25%."""
        if self.status != MEASURED or self.speedup_low is None or self.speedup_high is None:
            return False
        speedup = measured_value(self.speedup)
        crosses_one = self.speedup_low < 1.0 < self.speedup_high
        too_wide = self.speedup_low < speedup * (1 - NOISY_RELATIVE_HALF_WIDTH) or self.speedup_high > speedup * (
            1 + NOISY_RELATIVE_HALF_WIDTH
        )
        return crosses_one or too_wide

    def to_dict(self) -> dict[str, Any]:
        if self.status != MEASURED:
            data = {"size": self.size, "status": self.status, "reason": self.reason}
            if self.status == TOO_FEW_SAMPLES:
                data.update(samples=self.samples, workers=self.workers)
            return data
        return {
            "size": self.size,
            "status": self.status,
            "pattern_seconds": self.pattern_seconds,
            "fix_seconds": self.fix_seconds,
            "speedup": self.speedup,
            "speedup_interval": [self.speedup_low, self.speedup_high],
            "noisy": self.noisy,
            "time_saved_seconds": self.time_saved,
            "time_saved_interval": [self.saved_low, self.saved_high],
            "pattern_stdev": self.pattern_stdev,
            "fix_stdev": self.fix_stdev,
            "samples": self.samples,
            "workers": self.workers,
            "flags": list(self.flags),
            "flagged": self.flagged,
            "warnings": list(self.warnings),
            "samples_per_worker": [[list(pair) for pair in worker] for worker in self.rounds],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Point:
        if data["status"] != MEASURED:
            return cls(
                size=data["size"],
                status=data["status"],
                reason=data.get("reason"),
                samples=data.get("samples", 0),
                workers=data.get("workers", 0),
            )
        low, high = data["speedup_interval"]
        saved_low, saved_high = data.get("time_saved_interval") or (None, None)
        return cls(
            size=data["size"],
            pattern_seconds=data["pattern_seconds"],
            fix_seconds=data["fix_seconds"],
            speedup=data["speedup"],
            speedup_low=low,
            speedup_high=high,
            pattern_stdev=data["pattern_stdev"],
            fix_stdev=data["fix_stdev"],
            samples=data["samples"],
            warnings=tuple(data["warnings"]),
            saved_low=saved_low,
            saved_high=saved_high,
            workers=data.get("workers", 0),
            flags=tuple(data.get("flags", ())),
            rounds=tuple(
                tuple((pattern, fix) for pattern, fix in worker) for worker in data.get("samples_per_worker", ())
            ),
        )


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
    reason: str | None = None
    benchmark_fingerprint: str = ""
    measured_at: str | None = None
    cached: bool = False

    @property
    def target(self) -> str:
        return f"{self.library}/{self.device}"

    @property
    def measured_points(self) -> list[Point]:
        return [point for point in self.points if point.status == MEASURED]

    @property
    def best_speedup(self) -> float | None:
        speedups = [measured_value(point.speedup) for point in self.measured_points]
        return max(speedups) if speedups else None

    def payoff(self) -> str:
        """Where the fix pays (speedup of at least 1.1) over the sizes measured, in words."""
        return describe_payoff(self.measured_points, self.size_unit)

    def point_nearest(self, size: int) -> Point | None:
        """The measured point whose size is closest to ``size`` on a log scale (sizes span decades)."""
        points = self.measured_points
        if not points:
            return None
        return min(points, key=lambda point: (abs(math.log(point.size) - math.log(max(size, 1))), point.size))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "code": self.code,
            "name": self.name,
            "backend": self.backend,
            "library": self.library,
            "device": self.device,
            "status": self.status,
            "size_unit": self.size_unit,
        }
        if self.status == MEASURED:
            data.update(
                points=[point.to_dict() for point in self.points],
                payoff=self.payoff(),
                benchmark_fingerprint=self.benchmark_fingerprint,
                measured_at=self.measured_at,
                cached=self.cached,
            )
        else:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement:
        return cls(
            code=data["code"],
            name=data.get("name", ""),
            backend=data["backend"],
            library=data["library"],
            device=data["device"],
            status=data["status"],
            size_unit=data.get("size_unit", ""),
            points=tuple(Point.from_dict(point) for point in data.get("points", ())),
            reason=data.get("reason"),
            benchmark_fingerprint=data.get("benchmark_fingerprint", ""),
            measured_at=data.get("measured_at"),
            cached=data.get("cached", False),
        )

    def from_cache(self) -> Measurement:
        return replace(self, cached=True)


@dataclass
class MeasurementReport:
    """The machine the numbers were measured on, and the numbers; ``run`` says how they were
    taken (perflint's version, the command line, worker processes, threads, the load seen), so
    that two reports can be compared knowing what differed."""

    machine: dict[str, Any]
    measurements: list[Measurement] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = {"machine": self.machine, "measurements": [m.to_dict() for m in self.measurements]}
        if self.run:
            data["run"] = self.run
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeasurementReport:
        return cls(
            machine=data["machine"],
            measurements=[Measurement.from_dict(m) for m in data["measurements"]],
            run=data.get("run", {}),
        )


def crossover_size(points: list[Point]) -> float | None:
    """The size where the speedup first crosses ``PAYS_FROM`` between two measured sizes (either
    way), interpolated on log-log axes; None when it never crosses within the sizes measured."""
    points = sorted(points, key=lambda point: point.size)
    for left, right in zip(points, points[1:]):
        if (measured_value(left.speedup) >= PAYS_FROM) != (measured_value(right.speedup) >= PAYS_FROM):
            return _crossing(left, right)
    return None


def describe_payoff(points: list[Point], size_unit: str) -> str:
    """ "pays at every size measured", "pays from ~2,000 elements", "stops paying above ~…",
    "does not pay at the sizes measured". A crossover between two measured sizes is placed by
    interpolating the speedup on log-log axes, hence the "~"."""
    points = sorted(points, key=lambda point: point.size)
    if not points:
        return ""
    unit = size_unit.split(" (")[0]
    pays = [measured_value(point.speedup) >= PAYS_FROM for point in points]
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
    y0, y1 = math.log(measured_value(left.speedup)), math.log(measured_value(right.speedup))
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
