"""Time a rule's flagged pattern against its fix on this machine, the way pyperf would.

Before timing, the harness proves both sides compute the same result and refuses to time a
benchmark whose sides disagree. Timing then calibrates an inner loop count per side until one
sample is long enough to trust the clock, discards warm-up samples, takes several samples
with pattern and fix interleaved (so a noisy neighbour hurts both alike), and reports the
median seconds per call with the spread, plus pyperf-style warnings when the samples are
unstable. A benchmark that cannot run here (backend not installed, no such device, setup
failing) comes back skipped with the reason and no numbers.
"""

from __future__ import annotations

import copy
import importlib
import math
import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from perflint.measure.agreement import describe_difference
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport
from perflint.measure.spec import Benchmark
from perflint.measure.units import format_seconds


@dataclass(frozen=True)
class TimingPolicy:
    """How long and how often each side is timed.

    The defaults keep one benchmark to about a second (calibration, one warm-up and fifteen
    interleaved samples of at least 20 ms per side), so ``perflint --measure`` stays quick.
    Many short samples beat a few long ones on a shared machine: the median skips the samples
    another process interrupted (``benchmarks/harness_check.py`` measured 7 x 50 ms off by up
    to 10% on a known 2:1 ratio where 15 x 20 ms stayed within 7%). When one call alone is
    slow (a large size, a loaded machine), fewer samples are taken to stay within
    ``time_budget_seconds``, never fewer than ``min_samples``, and the result says so.
    """

    min_sample_seconds: float = 0.02
    warmup_samples: int = 1
    samples: int = 15
    min_samples: int = 3
    time_budget_seconds: float = 2.0
    max_loops: int = 10_000_000
    unstable_relative_stdev: float = 0.10
    outlier_relative_gap: float = 0.50
    short_sample_seconds: float = 1e-3


DEFAULT_POLICY = TimingPolicy()


class BenchmarkError(Exception):
    """A benchmark that cannot be timed; the message is the reason."""


class BenchmarkDisagreement(BenchmarkError):
    """Pattern and fix returned different results: a bug in the rule's benchmark."""


@dataclass(frozen=True)
class Samples:
    """One side's timing: the calibrated loop count and one per-call time per sample."""

    loops: int
    per_call_seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_call_seconds)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.per_call_seconds)

    @property
    def stdev(self) -> float:
        return statistics.stdev(self.per_call_seconds) if len(self.per_call_seconds) > 1 else 0.0

    def warnings(self, label: str, policy: TimingPolicy) -> list[str]:
        """pyperf's instability checks: a wide spread, far outliers, samples too short."""
        found = []
        mean = self.mean
        if mean > 0 and self.stdev >= policy.unstable_relative_stdev * mean:
            found.append(f"{label} unstable: std dev is {self.stdev / mean:.0%} of the mean")
        if mean > 0 and (
            (mean - min(self.per_call_seconds)) / mean >= policy.outlier_relative_gap
            or (max(self.per_call_seconds) - mean) / mean >= policy.outlier_relative_gap
        ):
            found.append(f"{label}: min or max is {policy.outlier_relative_gap:.0%} or more away from the mean")
        shortest_sample = min(self.per_call_seconds) * self.loops
        if shortest_sample < policy.short_sample_seconds:
            found.append(f"{label}: shortest sample took only {format_seconds(shortest_sample)}")
        if len(self.per_call_seconds) < policy.samples:
            found.append(f"{label}: only {len(self.per_call_seconds)} samples fit the time budget")
        return found


def measure_rules(
    rule_classes: Iterable[type],
    size: Optional[int] = None,
    policy: Optional[TimingPolicy] = None,
) -> MeasurementReport:
    """Every benchmark of the given rules on every device it declares, plus the machine.

    ``size`` overrides each benchmark's ``default_size``. Rules without a benchmark are left out.
    """
    from perflint.measure.machine import describe_machine

    report = MeasurementReport(machine=describe_machine())
    for rule in rule_classes:
        benchmark = getattr(rule, "benchmark", None)
        if benchmark is None:
            continue
        for device in benchmark.devices:
            report.measurements.append(
                measure_benchmark(
                    rule.code, benchmark, device, benchmark.default_size if size is None else size,
                    name=rule.name, policy=policy,
                )
            )
    return report


def measure_benchmark(
    code: str,
    benchmark: Benchmark,
    device: str,
    size: int,
    name: str = "",
    policy: Optional[TimingPolicy] = None,
) -> Measurement:
    """One benchmark on one device: timed, or skipped with the reason it cannot run here."""
    policy = policy or DEFAULT_POLICY
    try:
        reason = unavailability(benchmark.backend, device)
        if reason is not None:
            raise BenchmarkError(reason)
        inputs = checked_inputs(benchmark, size, device)
        try:
            pattern, fix = time_pair(benchmark.pattern, benchmark.fix, inputs, policy, _synchronizer(device))
        except Exception as error:  # a benchmark failing mid-timing must not end the whole run
            raise BenchmarkError(f"timing failed: {_describe(error)}") from error
        if min(pattern.median, fix.median) <= 0:
            raise BenchmarkError("a side ran too fast for the clock to time")
    except BenchmarkError as error:
        return Measurement(code=code, name=name, backend=benchmark.backend, device=device, status=SKIPPED,
                           reason=str(error), size_unit=benchmark.size_unit)
    return Measurement(
        code=code, name=name, backend=benchmark.backend, device=device, status=MEASURED, size=size,
        size_unit=benchmark.size_unit, pattern_seconds=pattern.median, fix_seconds=fix.median,
        speedup=pattern.median / fix.median,
        pattern_stdev=pattern.stdev, fix_stdev=fix.stdev,
        warnings=tuple(pattern.warnings("pattern", policy) + fix.warnings("fix", policy)),
    )


def unavailability(backend: str, device: str) -> Optional[str]:
    """Why ``backend`` on ``device`` cannot run on this machine, or None when it can."""
    try:
        importlib.import_module(backend)
    except ModuleNotFoundError:
        return f"{backend} is not installed"
    except Exception as error:
        return f"{backend} cannot be imported: {_describe(error)}"
    kind = device.split(":")[0]
    if kind == "cpu":
        return None
    if kind not in ("cuda", "mps"):
        return f"unknown device {device!r}"
    try:
        import torch
    except ImportError:
        return f"no {kind.upper()} device (torch is not installed)"
    if kind == "cuda" and not torch.cuda.is_available():
        return "no CUDA device"
    if kind == "mps" and not torch.backends.mps.is_available():
        return "no MPS device"
    return None


def checked_inputs(benchmark: Benchmark, size: int, device: str) -> tuple:
    """Build the inputs and prove pattern and fix agree on them; raise ``BenchmarkError`` if not.

    Each side runs on its own copy of the inputs, so a side that writes into an input cannot
    make the other side's result look equal by aliasing.
    """
    inputs = tuple(_call("setup", benchmark.setup, size, device))
    pattern_result = _call("pattern", benchmark.pattern, *_private_copy(inputs, benchmark, size, device))
    fix_result = _call("fix", benchmark.fix, *_private_copy(inputs, benchmark, size, device))
    difference = describe_difference(pattern_result, fix_result)
    if difference is not None:
        raise BenchmarkDisagreement(
            f"pattern and fix disagree ({difference}); not timed: the rule's benchmark is wrong"
        )
    return inputs


def time_pair(
    pattern: Callable[..., Any],
    fix: Callable[..., Any],
    inputs: tuple,
    policy: TimingPolicy,
    synchronize: Callable[[], None] = lambda: None,
) -> tuple[Samples, Samples]:
    """Calibrate each side, warm both up, then take interleaved samples (order alternating).

    Calibration already ran each side at least once, so when the budget is tight the separate
    warm-up samples are dropped before any real sample is.
    """
    sides = (pattern, fix)
    calibrations = [_calibrate(function, inputs, policy, synchronize) for function in sides]
    loops = [count for count, _ in calibrations]
    round_seconds = sum(elapsed for _, elapsed in calibrations)
    affordable_rounds = int(policy.time_budget_seconds / max(round_seconds, 1e-9))
    warmups = policy.warmup_samples if affordable_rounds >= policy.samples + policy.warmup_samples else 0
    sample_count = max(policy.min_samples, min(policy.samples, affordable_rounds))
    for _ in range(warmups):
        for function, count in zip(sides, loops):
            _run_sample(function, inputs, count, synchronize)
    per_call: tuple[list[float], list[float]] = ([], [])
    for sample in range(sample_count):
        order = (0, 1) if sample % 2 == 0 else (1, 0)
        for side in order:
            per_call[side].append(_run_sample(sides[side], inputs, loops[side], synchronize) / loops[side])
    return Samples(loops[0], tuple(per_call[0])), Samples(loops[1], tuple(per_call[1]))


def _calibrate(function: Callable[..., Any], inputs: tuple, policy: TimingPolicy,
               synchronize: Callable[[], None]) -> tuple[int, float]:
    """The smallest loop count (grown geometrically) whose sample reaches the minimum duration,
    and how long that sample took. Calibration runs also warm the code up."""
    loops = 1
    while True:
        elapsed = _run_sample(function, inputs, loops, synchronize)
        if elapsed >= policy.min_sample_seconds or loops >= policy.max_loops:
            return loops, elapsed
        growth = 10.0 if elapsed <= 0 else min(10.0, max(2.0, 1.2 * policy.min_sample_seconds / elapsed))
        loops = min(policy.max_loops, math.ceil(loops * growth))


def _run_sample(function: Callable[..., Any], inputs: tuple, loops: int, synchronize: Callable[[], None]) -> float:
    synchronize()
    start = time.perf_counter()
    for _ in range(loops):
        function(*inputs)
    synchronize()
    return time.perf_counter() - start


def _synchronizer(device: str) -> Callable[[], None]:
    """Accelerators run asynchronously: wait for queued kernels so the clock sees their work."""
    if device == "cpu":
        return lambda: None
    import torch

    if device.startswith("mps"):
        return torch.mps.synchronize
    return lambda: torch.cuda.synchronize(device)


def _private_copy(inputs: tuple, benchmark: Benchmark, size: int, device: str) -> tuple:
    try:
        return copy.deepcopy(inputs)
    except Exception:  # something uncopyable (a generator, a handle): build a fresh set instead
        return tuple(_call("setup", benchmark.setup, size, device))


def _call(label: str, function: Callable[..., Any], *arguments: Any) -> Any:
    try:
        return function(*arguments)
    except Exception as error:
        raise BenchmarkError(f"{label} raised {_describe(error)}") from error


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
