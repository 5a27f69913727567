"""Rules with small benchmarks for the harness tests, defined at module level so that the
harness's worker processes can import them by name; the timing policy and the measured run the
measurement tests share."""

from __future__ import annotations

from perflint.measure.harness import TimingPolicy
from perflint.measure.results import MEASURED, NOT_MEASURED, SKIPPED, Measurement, MeasurementReport, Point
from perflint.measure.spec import ARRAY_BACKEND, Benchmark


def sum_setup(size, target):
    return (size,)


def sum_by_loop(count):
    total = 0
    for value in range(count):
        total += value
    return total


def sum_by_formula(count):
    return count * (count - 1) // 2


def sum_benchmark(**changes):
    fields = dict(
        setup=sum_setup,
        pattern=sum_by_loop,
        fix=sum_by_formula,
        sizes=(10, 100, 2000),
        check_size=10,
        size_unit="integers",
        timed="a Python loop summing range(n) against n(n-1)/2",
    )
    fields.update(changes)
    return Benchmark(**fields)


class SumByLoop:
    code, name = "PFL999", "sum-by-loop"
    benchmark = sum_benchmark()


class SumOnEveryDevice:
    code, name = "PFL998", "sum-by-loop"
    benchmark = sum_benchmark(backend=ARRAY_BACKEND, devices=("cpu", "cuda", "mps"))


class SumAgain:
    code, name = "PFL996", "sum-again"
    benchmark = sum_benchmark()


def _off_by_one(count):
    return sum_by_formula(count) + 1


class Disagreeing:
    code, name = "PFL995", "disagreeing"
    benchmark = sum_benchmark(fix=_off_by_one)


def _too_big_above_100(size, target):
    if size > 100:
        raise RuntimeError("CUDA out of memory. Tried to allocate 80.00 GiB")
    return (size,)


class OutOfMemoryAbove100:
    code, name = "PFL994", "out-of-memory"
    benchmark = sum_benchmark(setup=_too_big_above_100)


def _failing_fix(count):
    raise ValueError("bad shape")


class FailingFix:
    code, name = "PFL993", "failing-fix"
    benchmark = sum_benchmark(fix=_failing_fix)


class NeverTimed:
    code, name = "PFL992", "never-timed"
    benchmark = sum_benchmark(not_timed="it needs two GPUs and one process per GPU")


def busy_work(iterations):
    """CPU-bound work linear in ``iterations``; returns nothing, so both sides of a ratio agree."""
    total = 0
    for value in range(iterations):
        total += value * value


def four_times_the_work(iterations):
    busy_work(4 * iterations)


class FourTimesTheWork:
    code, name = "PFL991", "four-times-the-work"
    benchmark = Benchmark(
        setup=lambda size, target: (size,),
        pattern=four_times_the_work,
        fix=busy_work,
        sizes=(2_000, 20_000, 200_000),
        check_size=2_000,
        size_unit="iterations",
    )


def _threads_in_use(size, target):
    return (size,)


def threads_as_requested(size):
    """Raises unless every thread pool in this worker runs as many threads as OMP_NUM_THREADS says
    (the parent sets it to the requested count), so that a measured result proves the limit held."""
    import os

    from threadpoolctl import threadpool_info

    requested = os.environ.get("OMP_NUM_THREADS")
    pools = sorted({pool["num_threads"] for pool in threadpool_info()})
    if requested is None or pools != [int(requested)]:
        raise RuntimeError(f"OMP_NUM_THREADS={requested}, thread pools {pools}")
    return size


class ThreadsAsRequested:
    code, name = "PFL990", "threads-as-requested"
    benchmark = Benchmark(
        setup=_threads_in_use,
        pattern=threads_as_requested,
        fix=threads_as_requested,
        sizes=(1, 2, 10),
        check_size=1,
        size_unit="calls",
    )


def _failing_setup(size, target):
    raise RuntimeError("no such file")


class FailingSetup:
    code, name = "PFL989", "failing-setup"
    benchmark = sum_benchmark(setup=_failing_setup)


def _dying_setup(size, target):
    import os

    print("setting up", flush=True)
    os._exit(3)  # as a crash in native code ends a worker: no exception, no result


class DiesInTheWorker:
    code, name = "PFL987", "dies-in-the-worker"
    benchmark = sum_benchmark(setup=_dying_setup)


# No extra workers for wide intervals: these tests count the workers and samples a point gets
# (tests/measure/test_harness.py tests the extra workers).
QUICK = TimingPolicy(min_sample_seconds=0.002, warmup_samples=1, samples=3, time_budget_seconds=1.0, extra_workers=0)


SUM_BENCHMARK = sum_benchmark()


def sample_report():
    """A measured run of two rules on a described machine, for the table and ``perflint bench``."""
    machine = {
        "cpu_model": "Test CPU 9000",
        "logical_cores": 8,
        "physical_cores": 4,
        "memory_bytes": 16 * 1024**3,
        "python_version": "3.11.7",
        "libraries": {"numpy": "2.0.0", "torch": None},
        "blas": [{"library": "openblas", "version": "0.3.27", "threads": 8}],
        "fingerprint": "0123456789ab",
        "gpus": [{"index": 0, "name": "NVIDIA H200", "memory_bytes": 141 * 1024**3}],
    }
    return MeasurementReport(
        machine=machine,
        measurements=[
            Measurement(
                code="PFL401",
                name="loop-invariant-expensive-call",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="rows and columns",
                points=(
                    Point(
                        size=8,
                        pattern_seconds=0.0002,
                        fix_seconds=0.0001,
                        speedup=2.0,
                        speedup_low=1.9,
                        speedup_high=2.1,
                        pattern_stdev=0.00001,
                        fix_stdev=0.00001,
                        samples=15,
                    ),
                    Point(size=128, status=SKIPPED, reason="does not fit in device memory"),
                ),
                cached=True,
                measured_at="2026-11-29T17:40:00+00:00",
            ),
            Measurement(
                code="PFL101",
                name="elementwise-index-loop",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="elements",
                points=(
                    Point(
                        size=1_000,
                        pattern_seconds=0.0007,
                        fix_seconds=0.00007,
                        speedup=0.9,
                        speedup_low=0.8,
                        speedup_high=1.02,
                        pattern_stdev=0.0001,
                        fix_stdev=0.00001,
                        samples=15,
                    ),
                    Point(
                        size=100_000,
                        pattern_seconds=0.0215,
                        fix_seconds=0.00015,
                        speedup=143.3,
                        speedup_low=140.0,
                        speedup_high=150.0,
                        pattern_stdev=0.001,
                        fix_stdev=0.00004,
                        samples=15,
                        warnings=("fix unstable: std dev is 27% of the mean",),
                    ),
                ),
            ),
            Measurement(
                code="PFL101",
                name="elementwise-index-loop",
                backend="array",
                library="torch",
                device="cuda",
                status=SKIPPED,
                reason="no CUDA device",
                size_unit="elements",
            ),
            Measurement(
                code="PFL201",
                name="create-then-move",
                backend="torch",
                library="torch",
                device="cuda",
                status=SKIPPED,
                reason="no CUDA device",
                size_unit="rows",
            ),
            Measurement(
                code="PFL301",
                name="dataloader-no-workers",
                backend="torch",
                library="torch",
                device="cpu",
                status=NOT_MEASURED,
                reason="not reached within the 30 s measuring budget (--measure-budget)",
                size_unit="items",
            ),
        ],
    )
