"""Time a rule's flagged pattern against its fix on this machine, in worker processes (as pyperf).

Before timing, the first worker proves both sides compute the same result at each size and
refuses to time a benchmark whose sides disagree; it also calibrates an inner loop count per
side until one sample is long enough to trust the clock. Every worker then discards a warm-up
sample and takes a few samples with pattern and fix interleaved (so a noisy neighbour hurts
both alike). Workers run one after another, each a fresh interpreter with the BLAS, OpenMP and
torch thread pools limited (one thread unless asked otherwise: a multi-threaded kernel on a
shared machine stalls whenever one of its threads is descheduled); on Linux each is forked from
a worker server that imported the libraries once for the run (``perflint.measure.worker``),
rather than paying an interpreter's start-up and torch's import per worker. glibc's malloc is
pinned in every worker to one state (``MALLOC_VARIABLES``), so that whether a temporary is
page-faulted afresh on every call no longer depends on the process's history, and a size whose
interval is still wide after the policy's workers gets more workers, up to a limit. The parent pools their
samples into the median seconds per call of each side, the speedup, the time saved per call,
and two-level bootstrap intervals of both (``perflint.measure.intervals``); a size with too few
samples is shown as such, and stalls and a loaded machine are flagged.
A benchmark that cannot run here (library not installed, no such device, setup failing) comes
back skipped with the reason and no numbers; a size that does not fit in device memory is
skipped on its own.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import os
import select
import signal
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Callable

from perflint.measure import intervals, system
from perflint.measure.agreement import describe_difference
from perflint.measure.results import (
    MEASURED,
    NOT_MEASURED,
    SKIPPED,
    TOO_FEW_SAMPLES,
    Measurement,
    MeasurementReport,
    Point,
    measured_value,
)
from perflint.measure.spec import ARRAY_BACKEND, TORCH_BACKEND, Benchmark, Target
from perflint.measure.units import format_seconds

if TYPE_CHECKING:
    from perflint.engine.rule import Rule

GPU_EXTRA_HINT = "pip install 'perflint-ml[gpu]'"
# The variables the BLAS and OpenMP runtimes read when they load, set in each worker's environment.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
# The libraries a worker server imports before it forks, when the run's benchmarks use them
# (CuPy is left to the children: nothing that touches a GPU is loaded before a fork).
PRELOADED_LIBRARIES = ("numpy", "pandas", "torch")
# How long a worker server may take to import them and say it is ready (torch on a loaded machine).
SERVER_START_SECONDS = 180.0
# glibc's malloc, pinned in every worker to one state. By default its mmap threshold starts at
# 128 KiB and rises, up to 32 MiB, each time a larger mapped block is freed, and it gives the top
# of the heap back to the OS above twice that threshold; so whether a benchmark's temporaries of
# a few hundred KiB or MiB reuse heap memory or are mapped and page-faulted afresh on every call
# depends on what the process allocated before, down to its hash seed, and on what the other
# side freed in the same worker. At PFL116's 128 points (4 MiB temporaries), of fresh interpreters
# with the same history some took 3,000 page faults per call of the pattern, others 992 or none,
# the ratio ranging from 1.5x to 3.7x; PFL105's pattern at 50 batches faulted 344 times a call
# and read 17-26x, 13.8-15.1x pinned (``benchmarks/malloc_state.py``). Pinned at the top of the
# dynamic range, the state of a program that has freed a block of 32 MiB (as programs handling
# tensors of that size soon have), a block under 32 MiB is reused and a larger one is mapped
# afresh on every call, as glibc always does. Other allocators ignore these variables.
MALLOC_VARIABLES = {"MALLOC_MMAP_THRESHOLD_": str(32 * 1024 * 1024), "MALLOC_TRIM_THRESHOLD_": str(64 * 1024 * 1024)}


@dataclass(frozen=True)
class TimingPolicy:
    """How long and how often each side is timed at one size, in how many processes, on how many threads.

    The defaults give one size of one benchmark about a second of timing (plus each worker's
    start-up): three worker processes, each with a warm-up and five interleaved samples of at
    least 20 ms per side (fifteen samples in all), within a budget of a second per size shared
    by the workers.
    Many short samples beat a few long ones on a shared machine: the median skips the samples
    another process interrupted (``benchmarks/harness_check.py`` measured 7 x 50 ms off by up to
    10% on a known 2:1 ratio where 15 x 20 ms stayed within 7%). When one call alone is slow (a
    large size, a loaded machine), fewer samples are taken to stay within the budget, never fewer
    than ``intervals.MINIMUM_SAMPLES`` in all, and the result says so. ``threads`` limits every
    thread pool the benchmark uses.

    A size whose speedup interval still reaches further than ``tight_relative_half_width`` either
    side of the speedup after those workers gets up to ``extra_workers`` more, one at a time, each
    with its own share of the budget, until the interval is that tight (pyperf takes a fixed 20
    processes; a noisy point here gets more only where it needs them). On a shared machine one
    worker can spend all its samples beside a neighbour's burst: PFL101 at 10,000 elements read
    224x [187–303] from three workers, one of them twice as slow throughout, where the run before
    read 191x [178–196]. More workers outvote it; a point still wide after them stays flagged.
    """

    min_sample_seconds: float = 0.02
    warmup_samples: int = 1
    samples: int = 5
    workers: int = 3
    time_budget_seconds: float = 1.0
    threads: int = 1
    max_loops: int = 10_000_000
    unstable_relative_stdev: float = 0.10
    outlier_relative_gap: float = 0.50
    short_sample_seconds: float = 1e-3
    bootstrap_resamples: int = 1000
    extra_workers: int = 6
    tight_relative_half_width: float = 0.05

    def __post_init__(self) -> None:
        if self.workers < intervals.MINIMUM_WORKERS:
            raise ValueError(f"workers must be at least {intervals.MINIMUM_WORKERS}, not {self.workers}")
        if self.samples * self.workers < intervals.MINIMUM_SAMPLES:
            raise ValueError(
                f"samples x workers must reach {intervals.MINIMUM_SAMPLES}, not {self.samples} x {self.workers}"
            )
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, not {self.threads}")
        if self.extra_workers < 0:
            raise ValueError(f"extra_workers must be 0 or more, not {self.extra_workers}")

    @property
    def min_samples(self) -> int:
        """Samples each worker takes whatever the budget, so that the workers together reach the minimum."""
        return math.ceil(intervals.MINIMUM_SAMPLES / self.workers)

    @property
    def worker_budget_seconds(self) -> float:
        return self.time_budget_seconds / self.workers


# ``perflint bench``: the full policy above.
BENCH_POLICY = TimingPolicy()
# ``perflint check --measure``: a person waits for it after the findings, so two workers of four
# samples of 10 ms, within 0.6 s per size, and no extra workers for a wide interval (it is shown
# as noisy); still the minimum samples, from two processes.
DEFAULT_POLICY = TimingPolicy(min_sample_seconds=0.01, samples=4, workers=2, time_budget_seconds=0.6, extra_workers=0)
# ``perflint bench --quick``: each rule's middle size, two workers of three shorter samples (for
# CI), and at most two extra workers for a wide interval.
QUICK_POLICY = TimingPolicy(min_sample_seconds=0.005, samples=3, workers=2, time_budget_seconds=0.5, extra_workers=2)


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
        if len(self.per_call_seconds) < policy.samples * policy.workers:
            found.append(f"{label}: only {len(self.per_call_seconds)} samples fit the time budget")
        return found


def targets_for(benchmark: Benchmark) -> list[tuple[str, str]]:
    """(library, device) pairs the benchmark runs on: NumPy on the CPU, CuPy and torch on CUDA
    and torch on MPS for array-namespace benchmarks; its own library on each device otherwise."""
    pairs = []
    for device in benchmark.devices:
        if benchmark.backend == ARRAY_BACKEND:
            pairs.extend(
                {"cpu": [("numpy", "cpu")], "cuda": [("cupy", "cuda"), ("torch", "cuda")], "mps": [("torch", "mps")]}[
                    device
                ]
            )
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
    digest.update(
        repr(
            (
                benchmark.sizes,
                benchmark.size_unit,
                benchmark.backend,
                benchmark.devices,
                benchmark.mutates_inputs,
                benchmark.version,
            )
        ).encode()
    )
    return digest.hexdigest()[:12]


ProgressCallback = Callable[[int, int, str], None]


def measure_rules(
    rule_classes: Iterable[type[Rule]],
    sizes: Sequence[int] | None = None,
    policy: TimingPolicy | None = None,
    quick: bool = False,
    budget_seconds: float | None = None,
    cache: Any = None,
    progress: ProgressCallback | None = None,
    command_line: Sequence[str] | None = None,
) -> MeasurementReport:
    """Every benchmark of the given rules, in the given order, on every target it declares.

    ``sizes`` overrides each benchmark's sizes; ``quick`` measures only the middle one with
    ``QUICK_POLICY``. With ``budget_seconds``, a rule not started before the budget is spent is
    listed as not measured, never dropped. ``cache`` (a ``MeasurementCache``) serves earlier
    measurements of the same benchmark on the same machine and stores new ones. The report's
    ``run`` records perflint's version, ``command_line``, the policy, the threads the workers
    actually used, the load average before and after, and the CPU's frequency scaling. Rules
    without a benchmark are left out.
    """
    from perflint import __version__
    from perflint.measure.machine import describe_machine

    policy = policy or (QUICK_POLICY if quick else DEFAULT_POLICY)
    machine = describe_machine()
    run: dict[str, Any] = {
        "perflint_version": __version__,
        "command_line": list(command_line) if command_line is not None else None,
        "policy": dataclasses.asdict(policy),
        "threads_requested": policy.threads,
        "threads_used": None,
        "load_average_start": system.load_average(),
        "frequency_scaling": system.frequency_scaling(),
    }
    report = MeasurementReport(machine=machine, run=run)
    units = [
        (rule, benchmark, library, device)
        for rule in rule_classes
        if (benchmark := rule.benchmark) is not None
        for library, device in targets_for(benchmark)
    ]
    # The servers are started when the first worker needs one, or at once without a cache when a
    # benchmark runs on the CPU (which is always there), and stopped when the run ends.
    with WorkerServers(policy, {library for _, _, library, _ in units}) as servers:
        if cache is None and any(device == "cpu" and not benchmark.not_timed for _, benchmark, _, device in units):
            servers.launch()
        started = time.monotonic()
        for done, (rule, benchmark, library, device) in enumerate(units):
            chosen_sizes = tuple(sizes) if sizes else ((benchmark.middle_size,) if quick else benchmark.sizes)
            if progress is not None:
                progress(done, len(units), f"{rule.code} {library}/{device}")
            key = (
                cache.key(
                    rule.code,
                    benchmark_fingerprint(benchmark),
                    library,
                    device,
                    chosen_sizes,
                    policy,
                    machine["fingerprint"],
                )
                if cache is not None
                else None
            )
            cached = cache.load(key) if cache is not None else None
            if cached is not None:
                report.measurements.append(cached)
                continue
            if budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                report.measurements.append(
                    replace(
                        _not_run(rule, library, device, NOT_MEASURED),
                        reason=f"not reached within the {budget_seconds:g} s measuring budget (--measure-budget)",
                    )
                )
                continue
            measurement, threads_used = _measure_in_workers(rule, library, device, chosen_sizes, policy, servers)
            if threads_used is not None:
                run["threads_used"] = _merged_threads(run["threads_used"], threads_used)
            if cache is not None:
                # Skips are cached too: finding out that there is no CUDA device means importing
                # torch, which would cost a cached run seconds. The key holds everything a skip
                # depends on (the machine's libraries and GPUs, the benchmark's source). Flags are
                # kept with the points, so a number taken under load is shown flagged from the cache
                # too; --remeasure times it afresh.
                cache.store(key, measurement)
            report.measurements.append(measurement)
        run["worker_start"] = servers.start_method
    run["load_average_end"] = system.load_average()
    if run["threads_used"] is not None:
        _record_threads_used(machine, run["threads_used"])
    if progress is not None:
        progress(len(units), len(units), "done")
    return report


def _merged_threads(known: dict[str, Any] | None, reported: dict[str, Any]) -> dict[str, Any]:
    """The thread pools seen by every worker so far: a torch benchmark's worker loads pools (and
    torch) that a NumPy one never does."""
    if known is None:
        return reported
    pools = {pool["library"]: pool for pool in known.get("pools") or []}
    for pool in reported.get("pools") or []:
        pools.setdefault(pool["library"], pool)
    torch = known.get("torch") if known.get("torch") is not None else reported.get("torch")
    return {**known, "pools": list(pools.values()), "torch": torch}


def _record_threads_used(machine: dict[str, Any], used: dict[str, Any]) -> None:
    """The machine's BLAS and torch thread counts as the workers ran them, not as this process has them
    (the fingerprint, computed before, stays the machine's identity)."""
    pools = {pool["library"]: pool["threads"] for pool in used.get("pools") or [] if pool.get("api") == "blas"}
    for blas in machine.get("blas") or []:
        if blas.get("library") in pools:
            blas["threads"] = pools[blas["library"]]
    if used.get("torch") is not None:
        machine["torch_threads"] = used["torch"]


def measure_benchmark(
    rule: Any, library: str, device: str, sizes: Sequence[int], policy: TimingPolicy | None = None
) -> Measurement:
    """One rule's benchmark on one library and device at each size, in worker processes: timed,
    skipped with the reason, or with a size refused for too few samples.

    ``rule`` is a class (or object) with ``code``, ``name`` and ``benchmark``, defined at a
    module's top level: each worker imports it by its module and qualified name.
    """
    return _measure_in_workers(rule, library, device, sizes, policy or DEFAULT_POLICY)[0]


def _not_run(rule: Any, library: str, device: str, status: str) -> Measurement:
    """The measurement of ``rule`` on ``library``/``device`` that did not run, with ``status``;
    the caller adds the reason."""
    benchmark: Benchmark = rule.benchmark
    return Measurement(
        code=rule.code,
        name=rule.name,
        backend=benchmark.backend,
        library=library,
        device=device,
        status=status,
        size_unit=benchmark.size_unit,
    )


def _measure_in_workers(
    rule: Any,
    library: str,
    device: str,
    sizes: Sequence[int],
    policy: TimingPolicy,
    servers: WorkerServers | None = None,
) -> tuple[Measurement, dict[str, Any] | None]:
    benchmark: Benchmark = rule.benchmark
    skipped = _not_run(rule, library, device, SKIPPED)
    if benchmark.not_timed:
        return replace(skipped, reason=f"never timed: {benchmark.not_timed}"), None
    reason = unavailability(library, device)
    if reason is not None:
        return replace(skipped, reason=reason), None
    loads = [system.load_average()]
    first = _run_worker(rule, library, device, list(sizes), policy, loops=None, servers=servers, index=0)
    loads.append(system.load_average())
    if "error" in first:
        return replace(skipped, reason=first["error"]), None
    timed = [entry for entry in first["sizes"] if "rounds" in entry]
    per_size_rounds: dict[int, list[list[intervals.Round]]] = {entry["size"]: [_rounds(entry)] for entry in timed}
    loops = {entry["size"]: entry["loops"] for entry in timed}
    failures = []
    for index in range(1, policy.workers):
        if not timed:
            break
        later = _run_worker(
            rule, library, device, [entry["size"] for entry in timed], policy, loops=loops, servers=servers, index=index
        )
        loads.append(system.load_average())
        if "error" in later:
            failures.append(later["error"])
            continue
        for entry in later["sizes"]:
            if "rounds" in entry:
                per_size_rounds[entry["size"]].append(_rounds(entry))
    for extra in range(policy.extra_workers):
        wide = [size for size, workers in per_size_rounds.items() if _too_wide(workers, policy)]
        if not wide:
            break
        later = _run_worker(
            rule,
            library,
            device,
            wide,
            policy,
            loops={size: loops[size] for size in wide},
            servers=servers,
            index=extra % policy.workers,
        )
        loads.append(system.load_average())
        if "error" in later:
            failures.append(later["error"])
            break
        for entry in later["sizes"]:
            if "rounds" in entry:
                per_size_rounds[entry["size"]].append(_rounds(entry))
    points = []
    for entry in first["sizes"]:
        if "rounds" not in entry:
            points.append(Point(size=entry["size"], status=SKIPPED, reason=entry["skipped"]))
            continue
        try:
            points.append(
                _combined_point(entry["size"], per_size_rounds[entry["size"]], loops[entry["size"]], policy, failures)
            )
        except BenchmarkError as error:
            return replace(skipped, reason=f"at {entry['size']:,} {benchmark.size_unit}: {error}"), first["threads"]
    points = _with_run_flags(points, loads)
    if not any(point.status != SKIPPED for point in points):
        return replace(skipped, reason=points[0].reason if points else first.get("error"), points=tuple(points)), first[
            "threads"
        ]
    return Measurement(
        code=rule.code,
        name=rule.name,
        backend=benchmark.backend,
        library=library,
        device=device,
        status=MEASURED,
        size_unit=benchmark.size_unit,
        points=tuple(points),
        benchmark_fingerprint=benchmark_fingerprint(benchmark),
        measured_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    ), first["threads"]


def _too_wide(workers: list[list[intervals.Round]], policy: TimingPolicy) -> bool:
    """Whether these rounds' speedup interval reaches further than the policy's tight half-width
    either side of the speedup (rounds too few for an interval are not judged: more workers for
    them would not be asked for by the policy's own minimum)."""
    if intervals.too_few(workers) is not None:
        return False
    pattern, fix = intervals.pooled_medians(workers)
    if min(pattern, fix) <= 0:
        return False
    (low, high), _ = intervals.bootstrap_intervals(workers, policy.bootstrap_resamples)
    speedup = pattern / fix
    return low < speedup * (1 - policy.tight_relative_half_width) or high > speedup * (
        1 + policy.tight_relative_half_width
    )


def _rounds(entry: dict[str, Any]) -> list[intervals.Round]:
    return [(pattern, fix) for pattern, fix in entry["rounds"]]


def worker_request(
    rule: Any,
    library: str,
    device: str,
    sizes: Sequence[int],
    policy: TimingPolicy,
    loops: dict[int, list[int]] | None,
) -> dict[str, Any]:
    """What one worker is asked: the rule by module and name, the target, the sizes, the policy,
    and (for every worker but the first) the loop counts the first one calibrated."""
    qualname = getattr(rule, "__qualname__", "")
    if "<locals>" in qualname or not qualname:
        raise BenchmarkError(f"{rule.code}'s rule must be defined at a module's top level to run in a worker")
    return {
        "module": rule.__module__,
        "qualname": qualname,
        "library": library,
        "device": device,
        "sizes": list(sizes),
        "policy": dataclasses.asdict(policy),
        "threads": policy.threads,
        "loops": {str(size): count for size, count in loops.items()} if loops is not None else None,
        "sys_path": [entry for entry in sys.path if entry],
    }


def worker_environment(policy: TimingPolicy) -> dict[str, str]:
    """This process's environment with every thread pool's variable set to the policy's threads,
    and glibc's malloc thresholds pinned (``MALLOC_VARIABLES``)."""
    return dict(os.environ, **{name: str(policy.threads) for name in THREAD_VARIABLES}, **MALLOC_VARIABLES)


class WorkerServers:
    """The worker servers of one run, one per worker index, all started when the first worker
    needs one (see ``perflint.measure.worker``); a context manager that stops them.

    ``run`` returns None where no server can serve (not Linux, a server whose imports left
    threads running, or one that did not start): the caller then starts a fresh interpreter for
    that worker, as it always may. A server that overruns a request's time limit is killed with
    its child, and the next request starts a new one.
    """

    def __init__(self, policy: TimingPolicy, libraries: Iterable[str]) -> None:
        self.environment = worker_environment(policy)
        self.libraries = [library for library in PRELOADED_LIBRARIES if library in set(libraries)]
        self.usable = sys.platform == "linux" and hasattr(os, "fork")
        self.count = policy.workers
        self.servers: dict[int, subprocess.Popen[str] | None] = {}
        self.ready: set[int] = set()
        self.forked = self.spawned = 0

    @property
    def start_method(self) -> str | None:
        """How this run's workers started, in words for the report; None when none ran."""
        if self.forked and self.spawned:
            return "forked from a worker server per worker index, or a fresh interpreter where none could serve"
        if self.forked:
            return "forked from a worker server per worker index (libraries imported once per run)"
        if self.spawned:
            return "a fresh interpreter each"
        return None

    def __enter__(self) -> WorkerServers:
        return self

    def __exit__(self, *exception: object) -> None:
        for index in list(self.servers):
            self._stop(index)  # idle between requests: nothing of it is worth an orderly exit

    def launch(self) -> None:
        """Start every index's server now, unless started, so that their imports overlap with
        each other and with this process's work rather than add up."""
        if self.usable and not self.servers:
            self.servers = {number: self._launch() for number in range(self.count)}

    def run(self, index: int, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        self.launch()
        server = self._ready(index) if self.usable else None
        if server is None:
            self.spawned += 1
            return None
        self.forked += 1
        assert server.stdin is not None and server.stdout is not None
        try:
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
        except OSError:
            self._stop(index)
            return {"error": "a worker process could not start: its worker server has ended"}
        line = _line_within(server.stdout, timeout)
        if line is None:
            self._stop(index)
            return {"error": f"a worker process ran longer than {timeout:.0f} s and was stopped"}
        try:
            return json.loads(line)
        except ValueError:
            self._stop(index)
            return {"error": "a worker process failed (its worker server ended)"}

    def _launch(self) -> subprocess.Popen[str] | None:
        try:
            return subprocess.Popen(
                [sys.executable, "-m", "perflint.measure.worker", "--serve", *self.libraries],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                env=self.environment,
                start_new_session=True,  # its own process group: a timeout kills it with its child
            )
        except OSError:
            return None

    def _ready(self, index: int) -> subprocess.Popen[str] | None:
        """The server of ``index``, (re)started if needed, once it has said it is ready to fork;
        None, and no server for the rest of the run, when it cannot serve."""
        server = self.servers.get(index) or self._launch()
        self.servers[index] = server
        if server is None or server.stdout is None:
            self.usable = False
            return None
        if index in self.ready:
            return server
        line = _line_within(server.stdout, SERVER_START_SECONDS)
        try:
            threads = json.loads(line)["threads"] if line else None
        except (ValueError, KeyError, TypeError):
            threads = None
        if threads != 1:  # forking with other threads running could copy a lock another thread holds
            self.usable = False
            for number in list(self.servers):
                self._stop(number)
            return None
        self.ready.add(index)
        return server

    def _stop(self, index: int) -> None:
        server = self.servers.pop(index)
        self.ready.discard(index)
        if server is None:
            return
        if server.poll() is None:
            try:
                os.killpg(server.pid, signal.SIGKILL)
            except OSError:
                pass
            server.wait()
        for stream in (server.stdin, server.stdout):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass


def _line_within(stream: Any, timeout: float) -> str | None:
    """The next line of ``stream`` (a pipe the other side writes whole lines to), "" at its end,
    None when nothing came within ``timeout`` seconds."""
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else None


def _run_worker(
    rule: Any,
    library: str,
    device: str,
    sizes: Sequence[int],
    policy: TimingPolicy,
    loops: dict[int, list[int]] | None,
    servers: WorkerServers | None = None,
    index: int = 0,
) -> dict[str, Any]:
    """Run one worker (forked from the run's worker server of this index where there is one, a
    fresh interpreter otherwise), wait for it, and return its result (``{"error": ...}`` when it
    failed, timed out or could not be started)."""
    try:
        request = worker_request(rule, library, device, sizes, policy, loops)
    except BenchmarkError as error:
        return {"error": str(error)}
    # Generous: a size's budget per worker, calibration, the agreement check and a slow import.
    timeout = 60 + 20 * policy.worker_budget_seconds * len(sizes)
    result = servers.run(index, request, timeout) if servers is not None else None
    if result is not None:
        return _with_loop_lists(result)
    environment = worker_environment(policy)
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint.measure.worker"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=environment,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"a worker process ran longer than {timeout:.0f} s and was stopped"}
    except OSError as error:
        return {"error": f"a worker process could not start: {error}"}
    try:
        result = json.loads(completed.stdout)
    except ValueError:
        last = (completed.stderr.strip().splitlines() or [f"exit status {completed.returncode}"])[-1]
        return {"error": f"a worker process failed ({last})"}
    return _with_loop_lists(result)


def _with_loop_lists(result: dict[str, Any]) -> dict[str, Any]:
    for entry in result.get("sizes") or ():
        if "loops" in entry:
            entry["loops"] = list(entry["loops"])
    return result


def _combined_point(
    size: int, workers: list[list[intervals.Round]], loops: list[int], policy: TimingPolicy, failures: Sequence[str]
) -> Point:
    """Pool the workers' rounds at one size into a point, or refuse it for too few samples."""
    count = sum(len(rounds) for rounds in workers)
    shortage = intervals.too_few(workers)
    if shortage is not None:
        if failures:
            shortage += f" ({failures[0]})"
        return Point(size=size, status=TOO_FEW_SAMPLES, reason=shortage, samples=count, workers=len(workers))
    pattern_seconds, fix_seconds = intervals.pooled_medians(workers)
    if min(pattern_seconds, fix_seconds) <= 0:
        raise BenchmarkError("a side ran too fast for the clock to time")
    (low, high), (saved_low, saved_high) = intervals.bootstrap_intervals(workers, policy.bootstrap_resamples)
    pattern = Samples(loops[0], tuple(p for rounds in workers for p, _ in rounds))
    fix = Samples(loops[1], tuple(f for rounds in workers for _, f in rounds))
    flags = [
        flag
        for flag in (
            intervals.stalled_side("pattern", pattern.per_call_seconds),
            intervals.stalled_side("fix", fix.per_call_seconds),
        )
        if flag
    ]
    return Point(
        size=size,
        pattern_seconds=pattern_seconds,
        fix_seconds=fix_seconds,
        speedup=pattern_seconds / fix_seconds,
        speedup_low=low,
        speedup_high=high,
        pattern_stdev=pattern.stdev,
        fix_stdev=fix.stdev,
        samples=count,
        workers=len(workers),
        saved_low=saved_low,
        saved_high=saved_high,
        flags=tuple(flags),
        rounds=tuple(tuple(rounds) for rounds in workers),
        warnings=tuple(pattern.warnings("pattern", policy) + fix.warnings("fix", policy)),
    )


def _with_run_flags(points: list[Point], loads: Sequence[float | None]) -> list[Point]:
    """Flags that concern the whole run: a side whose time does not grow with size, a loaded machine."""
    measured = [point for point in points if point.status == MEASURED]
    run_flags = []
    sizes = [point.size for point in measured]
    for label, seconds in (
        ("pattern", [measured_value(point.pattern_seconds) for point in measured]),
        ("fix", [measured_value(point.fix_seconds) for point in measured]),
    ):
        flag = intervals.flat_side(label, sizes, seconds)
        if flag:
            run_flags.append(flag)
    known = [load for load in loads if load is not None]
    overload = system.overload(max(known)) if known else None
    if overload:
        run_flags.append(overload)
    if not run_flags:
        return points
    return [
        replace(point, flags=point.flags + tuple(run_flags)) if point.status == MEASURED else point for point in points
    ]


def measure_in_process(
    benchmark: Benchmark,
    target: Target,
    sizes: Sequence[int],
    policy: TimingPolicy,
    loops: dict[str, list[int]] | None = None,
    after_first_call: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """A worker's share: at each size, check agreement, then time (calibrating unless ``loops``
    gives the counts) within the worker's share of the budget. The first worker (no ``loops``)
    proves the sides agree; the later ones build the same seeded inputs and skip the proof, which
    costs two calls per size. A size that does not fit is skipped alone; any other failure stops,
    reported as ``error``. ``after_first_call`` runs once the libraries are loaded, to limit the
    threads they brought."""
    worker_policy = replace(policy, time_budget_seconds=policy.worker_budget_seconds)
    results: list[dict[str, Any]] = []
    limited = False
    for size in sizes:
        try:
            if loops is None:
                inputs = checked_inputs(benchmark, size, target)
            else:
                inputs = tuple(_call("setup", benchmark.setup, size, target))
            if not limited:
                after_first_call()
                limited = True
            fresh = (lambda: _private_copy(inputs, benchmark, size, target)) if benchmark.mutates_inputs else None
            try:
                pattern, fix = time_pair(
                    benchmark.pattern,
                    benchmark.fix,
                    inputs,
                    worker_policy,
                    synchronizer(target),
                    fresh,
                    loops=loops.get(str(size)) if loops is not None else None,
                )
            except Exception as error:  # a benchmark failing mid-timing must not end the whole run
                raise _classified(error, "timing failed") from error
            results.append(
                {
                    "size": size,
                    "loops": [pattern.loops, fix.loops],
                    "rounds": list(zip(pattern.per_call_seconds, fix.per_call_seconds)),
                }
            )
        except SizeDoesNotFit as error:
            results.append({"size": size, "skipped": str(error)})
        except BenchmarkError as error:
            return {"sizes": results, "error": f"at {size:,} {benchmark.size_unit}: {error}"}
        finally:
            _free_device_memory(target)
    return {"sizes": results}


def unavailability(library: str, device: str) -> str | None:
    """Why ``library`` on ``device`` cannot run on this machine, or None when it can."""
    try:
        module = importlib.import_module(library)
    except ModuleNotFoundError:
        hint = f" ({GPU_EXTRA_HINT})" if library == "cupy" else ""
        return f"{library} is not installed{hint}"
    except Exception as error:
        return f"{library} cannot be imported: {describe_error(error)}"
    kind = device.split(":")[0]
    if kind == "cpu":
        return None
    if kind not in ("cuda", "mps"):
        return f"unknown device {device!r}"
    if library == "cupy":
        try:
            count = module.cuda.runtime.getDeviceCount()
        except Exception as error:
            return f"no CUDA device ({describe_error(error)})"
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
    fresh_inputs: Callable[[], tuple] | None = None,
    loops: Sequence[int] | None = None,
) -> tuple[Samples, Samples]:
    """Calibrate each side (unless ``loops`` gives both counts, as the first worker measured
    them), warm both up, then take interleaved samples (order alternating).

    Calibration already ran each side at least once, so when the budget is tight the separate
    warm-up samples are dropped before any real sample is. Samples stop once the time budget
    is spent (never before ``min_samples``), judged by the clock as they go rather than by the
    calibration's estimate, so one stalled calibration run cannot cut the samples short. With
    ``fresh_inputs``, every call gets a new copy of the inputs, made before its clock starts.
    """
    sides = (pattern, fix)
    if loops is None:
        calibrations = [_calibrate(function, inputs, policy, synchronize, fresh_inputs) for function in sides]
    else:
        calibrations = [
            (count, _run_sample(function, inputs, count, synchronize, fresh_inputs))
            for function, count in zip(sides, loops)
        ]
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


def _calibrate(
    function: Callable[..., Any],
    inputs: tuple,
    policy: TimingPolicy,
    synchronize: Callable[[], None],
    fresh_inputs: Callable[[], tuple] | None,
) -> tuple[int, float]:
    """The smallest loop count (grown geometrically) whose sample reaches the minimum duration,
    and how long that sample took. Calibration runs also warm the code up."""
    loops = 1
    while True:
        elapsed = _run_sample(function, inputs, loops, synchronize, fresh_inputs)
        if elapsed >= policy.min_sample_seconds or loops >= policy.max_loops:
            return loops, elapsed
        growth = 10.0 if elapsed <= 0 else min(10.0, max(2.0, 1.2 * policy.min_sample_seconds / elapsed))
        loops = min(policy.max_loops, math.ceil(loops * growth))


def _run_sample(
    function: Callable[..., Any],
    inputs: tuple,
    loops: int,
    synchronize: Callable[[], None],
    fresh_inputs: Callable[[], tuple] | None = None,
) -> float:
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


def _free_device_memory(target: Target | None) -> None:
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
        return SizeDoesNotFit(f"does not fit in device memory ({describe_error(error)})")
    return BenchmarkError(
        f"{context} {describe_error(error)}" if context.endswith("raised") else f"{context}: {describe_error(error)}"
    )


def describe_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
