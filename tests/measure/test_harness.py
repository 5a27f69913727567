"""perflint/measure/harness.py: the statistics of a measured point (pooled medians, two-level
bootstrap intervals from ``intervals``, the minimum sample count, stall and load flags), and the
harness that refuses, skips and times benchmarks in worker processes."""

from __future__ import annotations

import json
import statistics
import sys
import types
from dataclasses import replace

import numpy as np
import pytest

from perflint.measure import harness, intervals, system
from perflint.measure.harness import (
    BenchmarkDisagreement,
    Samples,
    TimingPolicy,
    _combined_point,
    _too_wide,
    _with_run_flags,
    checked_inputs,
    measure_benchmark,
    measure_in_process,
    measure_rules,
    time_pair,
    unavailability,
)
from perflint.measure.results import MEASURED, NOT_MEASURED, SKIPPED, TOO_FEW_SAMPLES, Measurement, Point
from perflint.measure.spec import ARRAY_BACKEND, Benchmark, Target
from tests.measure import workloads
from tests.measure.workloads import QUICK, SUM_BENCHMARK

STEADY = [(0.010, 0.001), (0.0101, 0.00101), (0.0099, 0.00099), (0.010, 0.001), (0.0100, 0.0010)]


def test_intervals_of_steady_workers_are_narrow_and_reproducible():
    workers = [STEADY, STEADY, STEADY]
    (low, high), (saved_low, saved_high) = intervals.bootstrap_intervals(workers)
    assert 9.5 < low <= 10.0 <= high < 10.5
    assert 0.0088 < saved_low <= 0.00901 and 0.00899 <= saved_high < 0.0092
    assert intervals.bootstrap_intervals(workers) == ((low, high), (saved_low, saved_high))  # fixed seed


def test_workers_that_disagree_widen_the_interval_beyond_what_pooled_samples_would_show():
    # Each process is steady in itself, but one ran twice as slow: pooled as if independent,
    # fifteen tight samples would give a narrow interval; resampling the processes does not.
    slow = [(2 * p, f) for p, f in STEADY]
    (low, high), _ = intervals.bootstrap_intervals([STEADY, STEADY, slow])
    (pooled_low, pooled_high), _ = intervals.bootstrap_intervals([STEADY + STEADY + slow, STEADY + STEADY + slow])
    assert high / low > 1.5
    assert high / low > pooled_high / pooled_low


def test_a_wide_interval_is_one_reaching_beyond_the_policys_tight_half_width():
    policy = TimingPolicy()
    assert not _too_wide([STEADY, STEADY, STEADY], policy)
    assert _too_wide([STEADY, STEADY, [(2 * p, f) for p, f in STEADY]], policy)
    assert not _too_wide([STEADY[:2], STEADY[:2]], policy)  # too few samples: not judged


def test_sizes_still_wide_after_the_policys_workers_get_extra_workers_up_to_the_limit(monkeypatch):
    from tests.measure.workloads import SumByLoop

    slow = [(2 * p, f) for p, f in STEADY]
    asked = []

    def worker(rule, library, device, sizes, policy, loops, servers=None, index=0):
        asked.append((list(sizes), index, loops is None))
        # Size 10 is steady in every worker; size 100 has one slow worker, then steady ones.
        rounds = {10: STEADY, 100: slow if len(asked) == 2 else STEADY}
        return {"sizes": [{"size": size, "loops": [1, 1], "rounds": rounds[size]} for size in sizes], "threads": None}

    monkeypatch.setattr(harness, "_run_worker", worker)
    monkeypatch.setattr(harness, "unavailability", lambda library, device: None)
    policy = TimingPolicy(workers=3, extra_workers=6)
    measurement, _ = harness._measure_in_workers(SumByLoop, "numpy", "cpu", [10, 100], policy)
    assert asked[:3] == [([10, 100], 0, True), ([10, 100], 1, False), ([10, 100], 2, False)]
    extra = asked[3:]
    # Four steady workers more outvote the slow one: the interval is then within ±5%, and no more are asked.
    assert extra == [([100], 0, False), ([100], 1, False), ([100], 2, False), ([100], 0, False)]
    steady, noisy = measurement.points
    assert steady.workers == 3 and noisy.workers == 7
    assert not _too_wide([list(rounds) for rounds in noisy.rounds], policy)
    asked.clear()
    limited, _ = harness._measure_in_workers(SumByLoop, "numpy", "cpu", [100], replace(policy, extra_workers=2))
    assert limited.points[0].workers == 5


def test_no_extra_workers_when_the_policy_allows_none(monkeypatch):
    from tests.measure.workloads import SumByLoop

    asked = []

    def worker(rule, library, device, sizes, policy, loops, servers=None, index=0):
        asked.append(index)
        rounds = [(2 * p, f) for p, f in STEADY] if index == 0 else STEADY
        return {"sizes": [{"size": size, "loops": [1, 1], "rounds": rounds} for size in sizes], "threads": None}

    monkeypatch.setattr(harness, "_run_worker", worker)
    monkeypatch.setattr(harness, "unavailability", lambda library, device: None)
    measurement, _ = harness._measure_in_workers(SumByLoop, "numpy", "cpu", [100], harness.DEFAULT_POLICY)
    assert asked == [0, 1] and measurement.points[0].workers == 2


def test_workers_run_with_threads_limited_and_mallocs_thresholds_pinned():
    environment = harness.worker_environment(TimingPolicy(threads=2))
    assert all(environment[name] == "2" for name in harness.THREAD_VARIABLES)
    assert environment["MALLOC_MMAP_THRESHOLD_"] == str(32 * 1024 * 1024)
    assert environment["MALLOC_TRIM_THRESHOLD_"] == str(64 * 1024 * 1024)


@pytest.mark.parametrize(
    "workers, expected",
    [
        ([[(1.0, 1.0)] * 5], "5 samples; a 95% interval of a median needs 6 at least"),
        ([[(1.0, 1.0)] * 6], "samples from 1 worker process; the spread between processes needs 2"),
        ([[(1.0, 1.0)] * 3, [(1.0, 1.0)] * 3], None),
    ],
)
def test_a_point_needs_six_samples_from_two_processes(workers, expected):
    assert intervals.too_few(workers) == expected


def test_a_point_with_too_few_samples_carries_no_number():
    point = _combined_point(1000, [[(0.01, 0.001)] * 2, [(0.01, 0.001)] * 2], [1, 10], TimingPolicy(), ["timed out"])
    assert point.status == TOO_FEW_SAMPLES and point.speedup is None and point.time_saved is None
    assert point.samples == 4 and "needs 6" in point.reason and "timed out" in point.reason
    assert point.to_dict() == {
        "size": 1000,
        "status": TOO_FEW_SAMPLES,
        "reason": point.reason,
        "samples": 4,
        "workers": 2,
    }
    assert Point.from_dict(point.to_dict()) == point


def test_a_point_reports_the_time_saved_with_its_interval():
    point = _combined_point(1000, [STEADY, STEADY], [1, 10], TimingPolicy(), [])
    assert point.status == MEASURED and point.workers == 2 and point.samples == 10
    assert point.time_saved == pytest.approx(0.009)
    assert point.saved_low <= point.time_saved <= point.saved_high
    data = point.to_dict()
    assert data["time_saved_seconds"] == pytest.approx(0.009)
    assert data["time_saved_interval"] == [point.saved_low, point.saved_high]
    assert data["samples_per_worker"] == [[list(pair) for pair in STEADY]] * 2
    assert Point.from_dict(json.loads(json.dumps(data))).rounds == point.rounds
    assert not point.flags and not point.flagged


def test_a_side_whose_median_is_far_above_its_fastest_sample_is_flagged_as_a_stall():
    stalled = [(0.010, 0.001)] + [(0.030, 0.001)] * 5
    point = _combined_point(100, [stalled[:3], stalled[3:]], [1, 1], TimingPolicy(), [])
    assert point.flagged and point.flags == (
        "pattern median is 3.0x its fastest sample (a stall or a neighbour's burst)",
    )
    assert intervals.stalled_side("fix", [0.001, 0.0011, 0.0012]) is None


def test_a_side_stuck_at_a_floor_across_sizes_is_flagged_but_microsecond_constants_are_not():
    def point(size, pattern, fix):
        return Point(size=size, pattern_seconds=pattern, fix_seconds=fix, speedup=pattern / fix)

    floored = _with_run_flags([point(32, 0.041, 0.024), point(512, 0.040, 0.025)], [0.5])
    assert all("does not grow with size" in " ".join(p.flags) for p in floored)
    constant_fix = _with_run_flags([point(1_000, 0.001, 2e-6), point(100_000, 0.1, 2e-6)], [0.5])
    assert all(not p.flags for p in constant_fix)  # torch.from_numpy-like: microseconds whatever the size


def test_a_load_average_above_the_core_count_flags_every_point_of_the_run():
    assert system.overload(3.5, cores=2) == "machine loaded (load average 3.5 on 2 cores)"
    assert system.overload(1.9, cores=2) is None and system.overload(None, cores=2) is None
    points = [Point(size=10, pattern_seconds=1e-3, fix_seconds=1e-4, speedup=10.0)]
    [flagged] = _with_run_flags(points, [0.5, 4.0 * system.logical_cores()])
    assert flagged.flagged and any(flag.startswith("machine loaded") for flag in flagged.flags)


def test_frequency_scaling_is_read_from_sys_where_present(tmp_path):
    assert system.frequency_scaling(tmp_path / "absent") == {
        "governor": None,
        "current_mhz": None,
        "max_mhz": None,
        "scaling": None,
    }
    (tmp_path / "scaling_governor").write_text("powersave\n")
    (tmp_path / "scaling_cur_freq").write_text("1800000\n")
    (tmp_path / "cpuinfo_max_freq").write_text("3500000\n")
    scaling = system.frequency_scaling(tmp_path)
    assert scaling == {"governor": "powersave", "current_mhz": 1800, "max_mhz": 3500, "scaling": True}
    assert "governor powersave" in system.describe_frequency_scaling(scaling)
    assert "not readable" in system.describe_frequency_scaling(system.frequency_scaling(tmp_path / "absent"))


NUMPY_CPU = Target("numpy", "cpu", np)


def _assert_skipped_without_numbers(measurement, reason_part):
    assert measurement.status == SKIPPED
    assert reason_part in measurement.reason
    assert not measurement.measured_points
    data = measurement.to_dict()
    assert data["status"] == "skipped" and reason_part in data["reason"]
    assert "points" not in data


@pytest.fixture
def no_cuda(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.slow
def test_a_disagreeing_benchmark_is_refused_not_timed():
    timed = []

    def wrong_fix(count):
        timed.append(count)
        return workloads.sum_by_formula(count) + 1

    broken = workloads.sum_benchmark(fix=wrong_fix)
    result = measure_in_process(broken, NUMPY_CPU, [100, 1000], QUICK)
    assert "disagree" in result["error"] and "at 100 integers" in result["error"] and result["sizes"] == []
    assert timed == [100]  # run once for the agreement check, never timed, no further size tried
    with pytest.raises(BenchmarkDisagreement, match="disagree"):
        checked_inputs(broken, 10, NUMPY_CPU)
    # Through the worker processes, the same refusal is a skip with the reason and no numbers.
    measurement = measure_benchmark(workloads.Disagreeing, "numpy", "cpu", [100, 1000], policy=QUICK)
    _assert_skipped_without_numbers(measurement, "disagree")
    assert "at 100 integers" in measurement.reason


def test_each_side_gets_its_own_copy_of_the_inputs():
    # Both sides write into the same output array; compared without copies they would be the
    # same object and trivially "agree".
    def setup(size, target):
        return (np.zeros(size),)

    def fill_ones(out):
        out[:] = 1.0
        return out

    def fill_twos(out):
        out[:] = 2.0
        return out

    aliasing = Benchmark(
        setup=setup, pattern=fill_ones, fix=fill_twos, sizes=(4, 8, 40), check_size=4, size_unit="elements"
    )
    with pytest.raises(BenchmarkDisagreement):
        checked_inputs(aliasing, 4, NUMPY_CPU)


@pytest.mark.slow
def test_a_side_that_writes_into_its_inputs_gets_fresh_ones_on_every_timed_call():
    seen_lengths = []

    def setup(size, target):
        return ([0] * size,)

    def append_and_count(values):
        seen_lengths.append(len(values))
        values.append(1)
        return len(values)

    mutating = Benchmark(
        setup=setup,
        pattern=append_and_count,
        fix=append_and_count,
        sizes=(5, 10, 50),
        check_size=5,
        size_unit="items",
        mutates_inputs=True,
    )
    result = measure_in_process(mutating, NUMPY_CPU, [5], QUICK)
    assert "error" not in result and result["sizes"][0]["rounds"]
    assert len(seen_lengths) > 10 and set(seen_lengths) == {5}
    # Without the declaration the same benchmark drifts: every call sees a longer list.
    seen_lengths.clear()
    time_pair(append_and_count, append_and_count, ([0] * 5,), QUICK)
    assert max(seen_lengths) > 5


def test_a_missing_backend_is_skipped_with_the_reason():
    rule = types.SimpleNamespace(
        code="PFL999", name="sum", benchmark=workloads.sum_benchmark(backend="perflint_no_such_backend")
    )
    measurement = measure_benchmark(rule, "perflint_no_such_backend", "cpu", [10], policy=QUICK)
    _assert_skipped_without_numbers(measurement, "perflint_no_such_backend is not installed")


@pytest.mark.slow  # imports torch
def test_a_cuda_benchmark_without_a_cuda_device_is_skipped(no_cuda):
    rule = types.SimpleNamespace(
        code="PFL999", name="sum", benchmark=workloads.sum_benchmark(backend="torch", devices=("cuda",))
    )
    measurement = measure_benchmark(rule, "torch", "cuda", [10], policy=QUICK)
    _assert_skipped_without_numbers(measurement, "no CUDA device")


@pytest.mark.slow
def test_a_size_that_does_not_fit_in_device_memory_is_skipped_alone():
    measurement = measure_benchmark(workloads.OutOfMemoryAbove100, "numpy", "cpu", [10, 100, 1000], policy=QUICK)
    assert measurement.status == MEASURED
    assert [point.status for point in measurement.points] == [MEASURED, MEASURED, SKIPPED]
    assert "does not fit in device memory" in measurement.points[2].reason
    assert measurement.points[2].speedup is None
    assert measurement.to_dict()["points"][2] == {
        "size": 1000,
        "status": "skipped",
        "reason": measurement.points[2].reason,
    }


@pytest.mark.slow
def test_a_failing_setup_or_side_is_skipped_with_the_error():
    _assert_skipped_without_numbers(
        measure_benchmark(workloads.FailingSetup, "numpy", "cpu", [10], policy=QUICK),
        "setup raised RuntimeError: no such file",
    )
    _assert_skipped_without_numbers(
        measure_benchmark(workloads.FailingFix, "numpy", "cpu", [10], policy=QUICK), "fix raised ValueError: bad shape"
    )


@pytest.mark.slow
def test_a_real_benchmark_gets_positive_times_their_ratio_and_an_interval_at_each_size():
    measurement = measure_benchmark(workloads.SumByLoop, "numpy", "cpu", [200, 2000], policy=QUICK)
    assert measurement.status == MEASURED, measurement.reason
    assert [point.size for point in measurement.points] == [200, 2000] and measurement.size_unit == "integers"
    for point in measurement.points:
        assert point.pattern_seconds > 0 and point.fix_seconds > 0
        assert point.speedup == pytest.approx(point.pattern_seconds / point.fix_seconds)
        assert point.speedup_low <= point.speedup <= point.speedup_high
        assert point.saved_low <= point.time_saved <= point.saved_high
        assert point.workers == QUICK.workers and point.samples == QUICK.workers * QUICK.samples
    assert measurement.points[1].speedup > 1  # a 2000-step Python loop against one multiplication
    data = measurement.to_dict()
    assert {"code", "backend", "library", "device", "points", "payoff", "measured_at"} <= set(data)
    assert Measurement.from_dict(data) == measurement


@pytest.mark.slow
def test_the_harness_recovers_a_known_ratio_of_work():
    # k units of work against one: the measured speedup must come out near k. A loose band
    # (0.6k to 1.5k), since this runs on shared machines where a load average of 15 on two
    # cores has been seen; benchmarks/harness_check.py checks it to 10%. A harness that lost
    # its loop count or timed the wrong side would still land far outside it.
    k = 4
    measurement = measure_benchmark(
        workloads.FourTimesTheWork, "numpy", "cpu", [20_000], policy=TimingPolicy(min_sample_seconds=0.005, samples=4)
    )
    assert measurement.status == MEASURED, measurement.reason
    assert 0.6 * k <= measurement.points[0].speedup <= 1.5 * k, measurement.points[0]


def test_samples_are_calibrated_warmed_up_and_interleaved():
    calls = []
    policy = TimingPolicy(min_sample_seconds=0.0, warmup_samples=1, samples=3)
    pattern_samples, fix_samples = time_pair(lambda: calls.append("p"), lambda: calls.append("f"), (), policy)
    # calibration (one loop already reaches a zero target), warm-up, then alternating order
    assert calls == ["p", "f", "p", "f", "p", "f", "f", "p", "p", "f"]
    assert len(pattern_samples.per_call_seconds) == len(fix_samples.per_call_seconds) == 3


def test_calibration_grows_the_loop_count_until_a_sample_is_long_enough(monkeypatch):
    clock = [0.0]  # a fake clock: a pattern call costs 2 ms, a fix call 0.125 ms, nothing else any time
    monkeypatch.setattr(harness, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    def advance(seconds):
        clock[0] += seconds

    policy = TimingPolicy(min_sample_seconds=0.010, warmup_samples=0, samples=3)
    pattern_samples, fix_samples = time_pair(lambda: advance(2e-3), lambda: advance(1.25e-4), (), policy)
    # pattern: 1 loop takes 2 ms, so aim 20% past 10 ms: 6 loops (12 ms).
    # fix: 1 loop takes 0.125 ms; growth is capped at tenfold per step: 10 loops (1.25 ms), then 96 (12 ms).
    assert pattern_samples.loops == 6 and fix_samples.loops == 96
    assert pattern_samples.per_call_seconds == pytest.approx((2e-3,) * 3)
    assert fix_samples.per_call_seconds == pytest.approx((1.25e-4,) * 3)


def test_a_slow_benchmark_takes_fewer_samples_within_the_budget():
    import time

    def slow():
        time.sleep(0.01)

    # Two workers must take three samples each to reach the six an interval needs.
    policy = TimingPolicy(min_sample_seconds=0.001, warmup_samples=1, samples=7, workers=2, time_budget_seconds=0.03)
    pattern_samples, fix_samples = time_pair(slow, slow, (), policy)
    assert len(pattern_samples.per_call_seconds) == len(fix_samples.per_call_seconds) == policy.min_samples == 3
    assert "pattern: only 3 samples fit the time budget" in pattern_samples.warnings("pattern", policy)


@pytest.mark.slow
def test_cuda_timing_synchronises_around_every_sample_and_frees_memory_after_each_size(monkeypatch):
    torch = pytest.importorskip("torch")
    synchronised, emptied = [], []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: synchronised.append(device))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    policy = TimingPolicy(min_sample_seconds=0.0, warmup_samples=0, samples=3, workers=2)
    benchmark = workloads.sum_benchmark(backend="torch", devices=("cuda",))
    # A worker's share of the work, in this process where torch.cuda is patched.
    result = measure_in_process(benchmark, Target("torch", "cuda", torch), [50, 60], policy)
    assert "error" not in result, result
    # per size: two calibration runs and three samples per side, each fenced before and after
    assert synchronised == ["cuda"] * (2 * 2 * (2 + 2 * 3))
    assert emptied == [True, True]


@pytest.mark.slow  # imports the GPU libraries to look for a device
@pytest.mark.parametrize("library", ["cupy", "torch"])
def test_gpu_timing_recovers_a_known_ratio_of_device_work(library):
    reason = unavailability(library, "cuda")
    if reason is not None:
        pytest.skip(f"{library} on CUDA: {reason}")
    k = 4

    def setup(size, target):
        matrix = target.asarray(np.random.default_rng(0).standard_normal((size, size)).astype(np.float32))
        return target.xp, matrix

    def repeated(times):
        def products(xp, matrix):
            result = matrix
            for _ in range(times):
                result = xp.matmul(matrix, matrix)
            return result

        return products

    work = Benchmark(
        setup=setup,
        pattern=repeated(k),
        fix=repeated(1),
        sizes=(256, 1024, 4096),
        check_size=256,
        size_unit="rows",
        backend=ARRAY_BACKEND,
        devices=("cuda",),
    )
    result = measure_in_process(
        work,
        harness.resolve_target(ARRAY_BACKEND, library, "cuda"),
        [2048],
        TimingPolicy(min_sample_seconds=0.01, samples=7),
    )
    assert "error" not in result, result
    rounds = result["sizes"][0]["rounds"]
    speedup = statistics.median(p for p, _ in rounds) / statistics.median(f for _, f in rounds)
    assert 0.7 * k <= speedup <= 1.3 * k, rounds


def test_instability_warnings_follow_pyperf():
    policy = TimingPolicy(samples=4, workers=2)  # eight samples expected in all
    steady = Samples(loops=10, per_call_seconds=(0.010, 0.0101, 0.0099, 0.010, 0.0100, 0.0101, 0.0099, 0.010))
    assert steady.warnings("pattern", policy) == []
    noisy = Samples(loops=10, per_call_seconds=(0.010, 0.030, 0.010, 0.010, 0.011, 0.010, 0.009, 0.010))
    warnings = noisy.warnings("fix", policy)
    assert any(warning.startswith("fix unstable: std dev is") for warning in warnings)
    assert any("min or max" in warning for warning in warnings)
    short = Samples(loops=1, per_call_seconds=(1e-5,) * 8)
    assert short.warnings("fix", policy) == ["fix: shortest sample took only 10.0 µs"]
    assert Samples(loops=1, per_call_seconds=(0.01,) * 6).warnings("fix", policy) == [
        "fix: only 6 samples fit the time budget"
    ]


_Benchmarked = workloads.SumOnEveryDevice


_AlsoBenchmarked = workloads.SumAgain


@pytest.mark.slow
def test_measure_rules_covers_every_target_and_skips_rules_without_a_benchmark(no_cuda):
    class Unbenchmarked:
        code, name = "PFL997", "no-benchmark"
        benchmark = None

    report = measure_rules([_Benchmarked, Unbenchmarked], sizes=[30, 300], policy=QUICK)
    assert [(m.code, m.target, m.status) for m in report.measurements] == [
        ("PFL998", "numpy/cpu", MEASURED),
        ("PFL998", "cupy/cuda", SKIPPED),
        ("PFL998", "torch/cuda", SKIPPED),
        ("PFL998", "torch/mps", SKIPPED),
    ]
    assert [point.size for point in report.measurements[0].points] == [30, 300]
    assert report.measurements[0].name == "sum-by-loop"
    assert all(not m.points for m in report.measurements[1:])  # nothing reported for a device not used
    assert report.machine["cpu_model"] and report.machine["fingerprint"]
    quick = measure_rules([_AlsoBenchmarked], quick=True)
    assert [point.size for point in quick.measurements[0].points] == [SUM_BENCHMARK.middle_size]
    assert quick.run["perflint_version"] and quick.run["threads_requested"] == 1
    assert quick.run["threads_used"]["requested"] == 1


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="worker servers fork on Linux only")
def test_workers_fork_from_a_server_per_worker_index_and_a_dead_one_spoils_only_its_benchmark():
    report = measure_rules([workloads.DiesInTheWorker, _AlsoBenchmarked], sizes=[100], policy=QUICK)
    dead, measured = report.measurements
    _assert_skipped_without_numbers(dead, "a worker process failed (setting up)")
    assert measured.status == MEASURED and measured.points[0].workers == QUICK.workers
    assert report.run["worker_start"].startswith("forked from a worker server per worker index")


@pytest.mark.slow
def test_rules_beyond_the_budget_are_listed_as_not_measured():
    report = measure_rules([_AlsoBenchmarked, _Benchmarked], sizes=[2000], policy=QUICK, budget_seconds=0.001)
    first, *rest = report.measurements
    assert first.code == "PFL996" and first.status == MEASURED
    assert rest and all(m.status == NOT_MEASURED and "0.001 s measuring budget" in m.reason for m in rest)
    assert all(not m.points for m in rest)


@pytest.mark.slow
@pytest.mark.parametrize("threads", [1, 2])
def test_a_worker_runs_with_every_thread_pool_limited_as_asked(threads):
    # The benchmark raises (and the measurement is skipped) unless the worker's environment and
    # every pool threadpoolctl sees agree on the requested count.
    report = measure_rules(
        [workloads.ThreadsAsRequested],
        sizes=[1],
        policy=TimingPolicy(min_sample_seconds=0.001, samples=3, workers=2, threads=threads),
    )
    [measurement] = report.measurements
    assert measurement.status == MEASURED, measurement.reason
    assert all(pool["threads"] == threads for pool in report.run["threads_used"]["pools"])
