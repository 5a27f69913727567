"""Time a rule's flagged pattern against its fix on this machine; pyperf-inspired, in-process.

Before timing, the harness proves both sides compute the same result at each size and refuses
to time a benchmark whose sides disagree. Timing then calibrates an inner loop count per side
until one sample is long enough to trust the clock, discards warm-up samples, takes several
samples with pattern and fix interleaved (so a noisy neighbour hurts both alike), and reports
the median seconds per call, the speedup and a bootstrap confidence interval of the speedup.
Unlike pyperf it spawns no worker processes: every sample runs in this process, which keeps
``perflint --measure`` quick at the price of sharing the interpreter's state between samples.
A benchmark that cannot run here (library not installed, no such device, setup failing) comes
back skipped with the reason and no numbers; a size that does not fit in device memory is
skipped on its own.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import hashlib
import importlib
import importlib.util
import inspect
import math
import random
import statistics
import time
import types
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

from perflint.measure.agreement import describe_difference
from perflint.measure.results import (
    MEASURED,
    NOT_MEASURED,
    SKIPPED,
    Measurement,
    MeasurementReport,
    Point,
)
from perflint.measure.spec import ARRAY_BACKEND, TORCH_BACKEND, Benchmark, Target
from perflint.measure.units import format_seconds

GPU_EXTRA_HINT = "pip install 'perflint-ml[gpu]'"


@dataclass(frozen=True)
class TimingPolicy:
    """How long and how often each side is timed at one size.

    The defaults keep one size of one benchmark to about a second (calibration, one warm-up and
    fifteen interleaved samples of at least 20 ms per side), so that a full ``perflint bench``
    of some forty rules at three sizes stays within four minutes. Many short samples beat a few long
    ones on a shared machine: the median skips the samples another process interrupted
    (``benchmarks/harness_check.py`` measured 7 x 50 ms off by up to 10% on a known 2:1 ratio
    where 15 x 20 ms stayed within 7%). When one call alone is slow (a large size, a loaded
    machine), fewer samples are taken to stay within ``time_budget_seconds``, never fewer than
    ``min_samples``, and the result says so.
    """

    min_sample_seconds: float = 0.02
    warmup_samples: int = 1
    samples: int = 15
    min_samples: int = 3
    time_budget_seconds: float = 1.0
    max_loops: int = 10_000_000
    unstable_relative_stdev: float = 0.10
    outlier_relative_gap: float = 0.50
    short_sample_seconds: float = 1e-3
    bootstrap_resamples: int = 1000


DEFAULT_POLICY = TimingPolicy()
# ``perflint bench --quick``: one small size, shorter and fewer samples (for CI).
QUICK_POLICY = TimingPolicy(min_sample_seconds=0.005, samples=7, time_budget_seconds=0.5)


class BenchmarkError(Exception):
    """A benchmark that cannot be timed; the message is the reason."""


class BenchmarkDisagreement(BenchmarkError):
    """Pattern and fix returned different results: a bug in the rule's benchmark."""


class SizeDoesNotFit(BenchmarkError):
    """The inputs or intermediate results of one size exceed the device's memory."""


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
        """pyperf's checks on the raw samples: a wide spread, far outliers, samples too short.

        They are detail for ``--output-format full`` and JSON: whether a *speedup* is too
        noisy to act on is judged by its confidence interval (``Point.noisy``) instead.
        """
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


def speedup_interval(pattern: Samples, fix: Samples, resamples: int = 1000,
                     confidence: float = 0.95, seed: int = 0) -> tuple[float, float]:
    """A percentile-bootstrap interval of median(pattern) / median(fix).

    The two sides' samples were taken in interleaved rounds, so round ``i`` of each side saw
    the same machine state: resampling whole rounds (pairs) keeps that pairing. The seed is
    fixed so the same samples always give the same interval.
    """
    rounds = list(zip(pattern.per_call_seconds, fix.per_call_seconds))
    generator = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        drawn = [rounds[generator.randrange(len(rounds))] for _ in rounds]
        ratios.append(statistics.median(p for p, _ in drawn) / statistics.median(f for _, f in drawn))
    ratios.sort()
    tail = (1 - confidence) / 2
    return ratios[int(tail * resamples)], ratios[min(resamples - 1, int((1 - tail) * resamples))]


def targets_for(benchmark: Benchmark) -> list[tuple[str, str]]:
    """(library, device) pairs the benchmark runs on: NumPy on the CPU, CuPy and torch on CUDA
    and torch on MPS for array-namespace benchmarks; its own library on each device otherwise."""
    pairs = []
    for device in benchmark.devices:
        if benchmark.backend == ARRAY_BACKEND:
            pairs.extend({"cpu": [("numpy", "cpu")], "cuda": [("cupy", "cuda"), ("torch", "cuda")],
                          "mps": [("torch", "mps")]}[device])
        else:
            pairs.append((benchmark.backend, device))
    return pairs


def benchmark_fingerprint(benchmark: Benchmark) -> str:
    """A short hash of what the benchmark does: its functions' source, sizes, unit and version.

    Cached and recorded measurements carry it, so a changed benchmark is measured afresh.
    """
    digest = hashlib.sha256()
    for function in (benchmark.setup, benchmark.pattern, benchmark.fix):
        try:
            digest.update(inspect.getsource(function).encode())
        except (OSError, TypeError):  # built in or defined interactively: its name must do
            digest.update(getattr(function, "__qualname__", repr(function)).encode())
    digest.update(repr((benchmark.sizes, benchmark.size_unit, benchmark.backend, benchmark.devices,
                        benchmark.mutates_inputs, benchmark.version)).encode())
    return digest.hexdigest()[:12]


ProgressCallback = Callable[[int, int, str], None]


def measure_rules(
    rule_classes: Iterable[type],
    sizes: Optional[Sequence[int]] = None,
    policy: Optional[TimingPolicy] = None,
    quick: bool = False,
    budget_seconds: Optional[float] = None,
    cache: Any = None,
    progress: Optional[ProgressCallback] = None,
    blas_threads: Optional[int] = None,
) -> MeasurementReport:
    """Every benchmark of the given rules, in the given order, on every target it declares.

    ``sizes`` overrides each benchmark's sizes; ``quick`` measures only the smallest with
    ``QUICK_POLICY``. With ``budget_seconds``, a rule not started before the budget is spent is
    listed as not measured, never dropped. ``cache`` (a ``MeasurementCache``) serves earlier
    measurements of the same benchmark on the same machine and stores new ones. With
    ``blas_threads``, NumPy's BLAS uses that many threads throughout, and the machine
    description records it. Rules without a benchmark are left out.
    """
    if blas_threads is not None:
        with blas_thread_limit(blas_threads):
            return measure_rules(rule_classes, sizes, policy, quick, budget_seconds, cache, progress)
    from perflint.measure.machine import describe_machine

    policy = policy or (QUICK_POLICY if quick else DEFAULT_POLICY)
    machine = describe_machine()
    report = MeasurementReport(machine=machine)
    units = [(rule, library, device) for rule in rule_classes if getattr(rule, "benchmark", None) is not None
             for library, device in targets_for(rule.benchmark)]
    started = time.monotonic()
    for done, (rule, library, device) in enumerate(units):
        benchmark = rule.benchmark
        chosen_sizes = tuple(sizes) if sizes else ((benchmark.quick_size,) if quick else benchmark.sizes)
        if progress is not None:
            progress(done, len(units), f"{rule.code} {library}/{device}")
        key = cache.key(rule.code, benchmark_fingerprint(benchmark), library, device, chosen_sizes, policy,
                        machine["fingerprint"]) if cache is not None else None
        cached = cache.load(key) if cache is not None else None
        if cached is not None:
            report.measurements.append(cached)
            continue
        if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
            report.measurements.append(Measurement(
                code=rule.code, name=rule.name, backend=benchmark.backend, library=library, device=device,
                status=NOT_MEASURED, size_unit=benchmark.size_unit,
                reason=f"not reached within the {budget_seconds:g} s measuring budget (--measure-budget)"))
            continue
        measurement = measure_benchmark(rule.code, benchmark, library, device, chosen_sizes, name=rule.name,
                                        policy=policy)
        if cache is not None:
            # Skips are cached too: finding out that there is no CUDA device means importing
            # torch, which would cost a cached run seconds. The key holds everything a skip
            # depends on (the machine's libraries and GPUs, the benchmark's source).
            cache.store(key, measurement)
        report.measurements.append(measurement)
    if progress is not None:
        progress(len(units), len(units), "done")
    return report


@contextlib.contextmanager
def blas_thread_limit(threads: int) -> Iterator[None]:
    """Run with NumPy's BLAS and OpenMP pools (through threadpoolctl) and torch's CPU threads
    limited to ``threads``.

    On a machine shared with other work, a multi-threaded BLAS or torch kernel can stall for
    seconds when one of its threads is descheduled while the others wait for it; one thread
    measures the pattern's own cost steadily. Raises ``BenchmarkError`` without threadpoolctl.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        raise BenchmarkError("limiting BLAS threads needs threadpoolctl (pip install 'perflint-ml[blas]')") from None
    import numpy  # noqa: F401  (loads the BLAS, so that there is something to limit)

    torch = None
    if importlib.util.find_spec("torch") is not None:
        import torch

        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads):
            yield
    finally:
        if torch is not None:
            torch.set_num_threads(torch_threads)


def measure_benchmark(
    code: str,
    benchmark: Benchmark,
    library: str,
    device: str,
    sizes: Sequence[int],
    name: str = "",
    policy: Optional[TimingPolicy] = None,
) -> Measurement:
    """One benchmark on one library and device at each size: timed, or skipped with the reason."""
    policy = policy or DEFAULT_POLICY
    skipped = Measurement(code=code, name=name, backend=benchmark.backend, library=library, device=device,
                          status=SKIPPED, size_unit=benchmark.size_unit)
    try:
        target = resolve_target(benchmark.backend, library, device)
    except BenchmarkError as error:
        return replace(skipped, reason=str(error))
    points = []
    for size in sizes:
        try:
            points.append(_measure_size(benchmark, target, size, policy))
        except SizeDoesNotFit as error:
            points.append(Point(size=size, status=SKIPPED, reason=str(error)))
        except BenchmarkError as error:
            return replace(skipped, reason=f"at {size:,} {benchmark.size_unit}: {error}")
        finally:
            _free_device_memory(target)
    if not any(point.status == MEASURED for point in points):
        return replace(skipped, reason=points[0].reason, points=tuple(points))
    return Measurement(
        code=code, name=name, backend=benchmark.backend, library=library, device=device, status=MEASURED,
        size_unit=benchmark.size_unit, points=tuple(points), benchmark_fingerprint=benchmark_fingerprint(benchmark),
        measured_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )


def _measure_size(benchmark: Benchmark, target: Target, size: int, policy: TimingPolicy) -> Point:
    inputs = checked_inputs(benchmark, size, target)
    fresh = (lambda: _private_copy(inputs, benchmark, size, target)) if benchmark.mutates_inputs else None
    try:
        pattern, fix = time_pair(benchmark.pattern, benchmark.fix, inputs, policy, synchronizer(target), fresh)
    except Exception as error:  # a benchmark failing mid-timing must not end the whole run
        raise _classified(error, "timing failed") from error
    if min(pattern.median, fix.median) <= 0:
        raise BenchmarkError("a side ran too fast for the clock to time")
    low, high = speedup_interval(pattern, fix, policy.bootstrap_resamples)
    return Point(
        size=size, pattern_seconds=pattern.median, fix_seconds=fix.median, speedup=pattern.median / fix.median,
        speedup_low=low, speedup_high=high, pattern_stdev=pattern.stdev, fix_stdev=fix.stdev,
        samples=len(pattern.per_call_seconds),
        warnings=tuple(pattern.warnings("pattern", policy) + fix.warnings("fix", policy)),
    )


def unavailability(library: str, device: str) -> Optional[str]:
    """Why ``library`` on ``device`` cannot run on this machine, or None when it can."""
    try:
        module = importlib.import_module(library)
    except ModuleNotFoundError:
        hint = f" ({GPU_EXTRA_HINT})" if library == "cupy" else ""
        return f"{library} is not installed{hint}"
    except Exception as error:
        return f"{library} cannot be imported: {_describe(error)}"
    kind = device.split(":")[0]
    if kind == "cpu":
        return None
    if kind not in ("cuda", "mps"):
        return f"unknown device {device!r}"
    if library == "cupy":
        try:
            count = module.cuda.runtime.getDeviceCount()
        except Exception as error:
            return f"no CUDA device ({_describe(error)})"
        return None if count > 0 else "no CUDA device"
    if library != "torch":
        return f"{library} does not run on {kind.upper()}"
    if kind == "cuda" and not module.cuda.is_available():
        return "no CUDA device"
    if kind == "mps" and not module.backends.mps.is_available():
        return "no MPS device"
    return None


def resolve_target(backend: str, library: str, device: str) -> Target:
    """The ``Target`` for ``library`` on ``device``, its array namespace resolved for array-backend
    benchmarks; ``BenchmarkError`` says why it cannot run here."""
    reason = unavailability(library, device)
    if reason is not None:
        raise BenchmarkError(reason)
    module = importlib.import_module(library)
    if backend != ARRAY_BACKEND or library == "numpy":
        # NumPy 2's main namespace implements the array API standard itself.
        return Target(library=library, device=device, xp=module)
    try:
        namespace = importlib.import_module(f"array_api_compat.{library}")
    except ImportError:
        raise BenchmarkError(f"array-api-compat is not installed ({GPU_EXTRA_HINT})") from None
    return Target(library=library, device=device, xp=namespace)


def checked_inputs(benchmark: Benchmark, size: int, target: Target) -> tuple:
    """Build the inputs and prove pattern and fix agree on them; raise ``BenchmarkError`` if not.

    Each side runs on its own copy of the inputs, so a side that writes into an input cannot
    make the other side's result look equal by aliasing.
    """
    inputs = tuple(_call("setup", benchmark.setup, size, target))
    pattern_result = _call("pattern", benchmark.pattern, *_private_copy(inputs, benchmark, size, target))
    fix_result = _call("fix", benchmark.fix, *_private_copy(inputs, benchmark, size, target))
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
    fresh_inputs: Optional[Callable[[], tuple]] = None,
) -> tuple[Samples, Samples]:
    """Calibrate each side, warm both up, then take interleaved samples (order alternating).

    Calibration already ran each side at least once, so when the budget is tight the separate
    warm-up samples are dropped before any real sample is. Samples stop once the time budget
    is spent (never before ``min_samples``), judged by the clock as they go rather than by the
    calibration's estimate, so one stalled calibration run cannot cut the samples short. With
    ``fresh_inputs``, every call gets a new copy of the inputs, made before its clock starts.
    """
    sides = (pattern, fix)
    calibrations = [_calibrate(function, inputs, policy, synchronize, fresh_inputs) for function in sides]
    loops = [count for count, _ in calibrations]
    round_seconds = sum(elapsed for _, elapsed in calibrations)
    affordable_rounds = int(policy.time_budget_seconds / max(round_seconds, 1e-9))
    warmups = policy.warmup_samples if affordable_rounds >= policy.samples + policy.warmup_samples else 0
    deadline = time.perf_counter() + policy.time_budget_seconds
    for _ in range(warmups):
        for function, count in zip(sides, loops):
            _run_sample(function, inputs, count, synchronize, fresh_inputs)
    per_call: tuple[list[float], list[float]] = ([], [])
    for sample in range(policy.samples):
        if sample >= policy.min_samples and time.perf_counter() >= deadline:
            break
        order = (0, 1) if sample % 2 == 0 else (1, 0)
        for side in order:
            elapsed = _run_sample(sides[side], inputs, loops[side], synchronize, fresh_inputs)
            per_call[side].append(elapsed / loops[side])
    return Samples(loops[0], tuple(per_call[0])), Samples(loops[1], tuple(per_call[1]))


def _calibrate(function: Callable[..., Any], inputs: tuple, policy: TimingPolicy,
               synchronize: Callable[[], None], fresh_inputs: Optional[Callable[[], tuple]]) -> tuple[int, float]:
    """The smallest loop count (grown geometrically) whose sample reaches the minimum duration,
    and how long that sample took. Calibration runs also warm the code up."""
    loops = 1
    while True:
        elapsed = _run_sample(function, inputs, loops, synchronize, fresh_inputs)
        if elapsed >= policy.min_sample_seconds or loops >= policy.max_loops:
            return loops, elapsed
        growth = 10.0 if elapsed <= 0 else min(10.0, max(2.0, 1.2 * policy.min_sample_seconds / elapsed))
        loops = min(policy.max_loops, math.ceil(loops * growth))


def _run_sample(function: Callable[..., Any], inputs: tuple, loops: int, synchronize: Callable[[], None],
                fresh_inputs: Optional[Callable[[], tuple]] = None) -> float:
    if fresh_inputs is None:
        synchronize()
        start = time.perf_counter()
        for _ in range(loops):
            function(*inputs)
        synchronize()
        return time.perf_counter() - start
    elapsed = 0.0
    for _ in range(loops):
        arguments = fresh_inputs()
        synchronize()
        start = time.perf_counter()
        function(*arguments)
        synchronize()
        elapsed += time.perf_counter() - start
    return elapsed


def synchronizer(target: Target) -> Callable[[], None]:
    """Accelerators run asynchronously: wait for queued kernels so the clock sees their work."""
    if target.device == "cpu":
        return lambda: None
    if target.library == "cupy":
        import cupy

        return cupy.cuda.runtime.deviceSynchronize
    import torch

    if target.device.startswith("mps"):
        return torch.mps.synchronize
    return lambda: torch.cuda.synchronize(target.device)


def _free_device_memory(target: Optional[Target]) -> None:
    """Between sizes, give the device its memory back so the next size starts from empty."""
    if target is None or target.device == "cpu":
        return
    import gc

    gc.collect()
    if target.library == "cupy":
        import cupy

        cupy.get_default_memory_pool().free_all_blocks()
        cupy.get_default_pinned_memory_pool().free_all_blocks()
    elif target.library == TORCH_BACKEND and target.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()
    elif target.library == TORCH_BACKEND and target.device.startswith("mps"):
        import torch

        torch.mps.empty_cache()


def _private_copy(inputs: tuple, benchmark: Benchmark, size: int, target: Target) -> tuple:
    """A deep copy of the inputs (modules such as the array namespace are shared, not copied)."""
    try:
        return tuple(value if isinstance(value, types.ModuleType) else copy.deepcopy(value) for value in inputs)
    except Exception:  # something uncopyable (a generator, a handle): build a fresh set instead
        return tuple(_call("setup", benchmark.setup, size, target))


def _call(label: str, function: Callable[..., Any], *arguments: Any) -> Any:
    try:
        return function(*arguments)
    except Exception as error:
        raise _classified(error, f"{label} raised") from error


def _classified(error: Exception, context: str) -> BenchmarkError:
    """Out-of-memory errors of every library become ``SizeDoesNotFit``; the rest keep their text."""
    if isinstance(error, BenchmarkError):
        return error
    if isinstance(error, MemoryError):
        return SizeDoesNotFit("does not fit in memory")
    if "OutOfMemory" in type(error).__name__ or "out of memory" in str(error):
        return SizeDoesNotFit(f"does not fit in device memory ({_describe(error)})")
    return BenchmarkError(f"{context} {_describe(error)}" if context.endswith("raised")
                          else f"{context}: {_describe(error)}")


def _describe(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
