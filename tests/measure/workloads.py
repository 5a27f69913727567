"""Rules with small benchmarks for the harness tests, defined at module level so that the
harness's worker processes can import them by name."""

from __future__ import annotations

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
    fields = dict(setup=sum_setup, pattern=sum_by_loop, fix=sum_by_formula, sizes=(10, 100, 2000), check_size=10,
                  size_unit="integers", timed="a Python loop summing range(n) against n(n-1)/2")
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
    benchmark = Benchmark(setup=lambda size, target: (size,), pattern=four_times_the_work, fix=busy_work,
                          sizes=(2_000, 20_000, 200_000), check_size=2_000, size_unit="iterations")


def _threads_in_use(size, target):
    return (size,)


def report_threads(size):
    """The BLAS threads and OMP_NUM_THREADS this worker runs with (both sides agree)."""
    import os

    from threadpoolctl import threadpool_info

    return sorted({pool["num_threads"] for pool in threadpool_info()}), os.environ.get("OMP_NUM_THREADS")


class ReportsThreads:
    code, name = "PFL990", "reports-threads"
    benchmark = Benchmark(setup=_threads_in_use, pattern=report_threads, fix=report_threads, sizes=(1, 2, 10),
                          check_size=1, size_unit="calls")
