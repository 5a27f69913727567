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
