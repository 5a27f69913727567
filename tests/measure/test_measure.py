"""The measurement harness, agreement check, machine description, table and ``perflint bench``."""

from __future__ import annotations

import io
import json
import statistics
import sys
import types

import numpy as np
import pytest

from perflint.cli.main import main
from perflint.measure import harness
from perflint.measure.agreement import describe_difference
from perflint.measure.cache import MeasurementCache
from perflint.measure.harness import (
    BenchmarkDisagreement,
    Samples,
    TimingPolicy,
    checked_inputs,
    measure_benchmark,
    measure_in_process,
    measure_rules,
    time_pair,
    unavailability,
)
from perflint.measure.machine import describe_machine, machine_fingerprint, nvml_gpus
from perflint.measure.results import (
    MEASURED,
    NOT_MEASURED,
    SKIPPED,
    Measurement,
    MeasurementReport,
    Point,
    describe_payoff,
)
from perflint.measure.spec import ARRAY_BACKEND, Benchmark, Target
from perflint.measure.table import render_table
from perflint.measure.units import format_seconds, format_size, format_speedup
from tests.measure import workloads

# No extra workers for wide intervals: these tests count the workers and samples a point gets
# (tests/measure/test_harness.py tests the extra workers).
QUICK = TimingPolicy(min_sample_seconds=0.002, warmup_samples=1, samples=3, time_budget_seconds=1.0, extra_workers=0)
NUMPY_CPU = Target("numpy", "cpu", np)


SUM_BENCHMARK = workloads.sum_benchmark()


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


# The harness: refusing, skipping, timing


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


def test_a_speedup_is_noisy_when_its_interval_crosses_one_or_is_wider_than_a_quarter():
    def point(speedup, low, high):
        return Point(size=1, pattern_seconds=1.0, fix_seconds=1.0, speedup=speedup, speedup_low=low, speedup_high=high)

    assert not point(10.0, 9.0, 11.0).noisy
    assert point(10.0, 7.0, 11.0).noisy
    assert point(10.0, 9.0, 13.0).noisy
    assert point(1.05, 0.95, 1.10).noisy
    assert not point(1.05, 1.01, 1.10).noisy


def test_payoff_names_where_the_fix_starts_or_stops_paying():
    def points(*pairs):
        return [Point(size=size, speedup=speedup, speedup_low=speedup, speedup_high=speedup) for size, speedup in pairs]

    assert describe_payoff(points((10, 3.0), (100, 30.0)), "elements") == "pays at every size measured"
    assert describe_payoff(points((10, 0.5), (100, 1.0)), "elements") == "does not pay at the sizes measured"
    # 0.55x at 1,000 and 2.2x at 10,000: on log-log axes 1.1x is crossed halfway, at ~3,200
    assert (
        describe_payoff(points((1_000, 0.55), (10_000, 2.2), (100_000, 9.0)), "elements (float64)")
        == "pays from ~3,200 elements"
    )
    assert (
        describe_payoff(points((16, 1.5), (64, 0.8), (256, 0.7)), "items per epoch")
        == "stops paying above ~32 items per epoch"
    )
    assert describe_payoff(points((1, 2.0), (10, 0.5), (100, 2.0)), "rows") == "pays only at some sizes measured"
    assert describe_payoff([], "rows") == ""


def test_benchmark_sizes_must_be_three_or_more_spanning_a_decade():
    with pytest.raises(ValueError, match="at least three"):
        workloads.sum_benchmark(sizes=(10, 100))
    with pytest.raises(ValueError, match="factor of ten"):
        workloads.sum_benchmark(sizes=(10, 20, 40))
    with pytest.raises(ValueError, match="check_size"):
        workloads.sum_benchmark(check_size=20)
    assert SUM_BENCHMARK.middle_size == 100


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
def test_a_second_measurement_on_the_same_machine_comes_from_the_cache(tmp_path):
    cache = MeasurementCache(str(tmp_path))
    first = measure_rules([workloads.SumAgain], sizes=[100], policy=QUICK, cache=cache).measurements[0]
    assert first.status == MEASURED and not first.cached
    second = measure_rules([workloads.SumAgain], sizes=[100], policy=QUICK, cache=cache).measurements[0]
    assert second.cached
    assert second.points == first.points and second.measured_at == first.measured_at
    assert (tmp_path / ".perflint_cache" / ".gitignore").is_file()
    # other sizes, or the same cache only written to (--remeasure), measure afresh
    assert not measure_rules([workloads.SumAgain], sizes=[200], policy=QUICK, cache=cache).measurements[0].cached
    fresh = measure_rules(
        [workloads.SumAgain], sizes=[100], policy=QUICK, cache=MeasurementCache(str(tmp_path), read=False)
    )
    assert not fresh.measurements[0].cached


def test_the_cache_key_changes_with_the_machine_the_benchmark_and_the_sizes():
    base = ("PFL101", "abc", "numpy", "cpu", (1, 10, 100), QUICK, "machine1")
    key = MeasurementCache.key(*base)
    for index, other in ((1, "abd"), (4, (1, 10)), (5, TimingPolicy()), (6, "machine2"), (3, "cuda")):
        changed = list(base)
        changed[index] = other
        assert MeasurementCache.key(*changed) != key


# Agreement


def test_agreement_tolerates_rounding_but_not_real_differences():
    values = np.linspace(0.0, 1.0, 50)
    assert describe_difference(values, values + 1e-12) is None
    assert "differ by up to" in describe_difference(values, values + 1e-3)
    assert "shapes (50,) and (49,)" in describe_difference(values, values[:-1])
    assert describe_difference([1.0, 2.0], np.array([1.0, 2.0])) is None  # loop result vs vectorised
    # float32 gets a looser tolerance than float64 (rtol 1e-4 against NumPy's 1e-5)
    assert describe_difference(values.astype(np.float32), values.astype(np.float32) * (1 + 2e-5)) is None
    assert describe_difference(values, values * (1 + 2e-5)) is not None
    assert describe_difference(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None


def test_agreement_recurses_into_containers_and_compares_the_rest_exactly():
    assert describe_difference((1, [2.0, "a"]), (1, [2.0, "a"])) is None
    assert describe_difference((1, [2.0, "a"]), (1, [2.0, "b"])) == "result[1][1]: 'a' != 'b'"
    assert "lengths" in describe_difference([1, 2], [1, 2, 3])
    assert describe_difference({"w": np.ones(2)}, {"w": np.ones(2)}) is None
    assert "keys" in describe_difference({"w": 1}, {"b": 1})
    assert describe_difference(True, False) is not None
    assert describe_difference(object(), object()) is not None


@pytest.mark.slow  # imports torch
def test_agreement_understands_torch_tensors():
    torch = pytest.importorskip("torch")
    assert describe_difference(torch.ones(3), np.ones(3, dtype=np.float32)) is None
    assert describe_difference(torch.ones(3, requires_grad=True) * 2, torch.full((3,), 2.0)) is None
    assert describe_difference(torch.ones(3, dtype=torch.bfloat16), torch.ones(3)) is None
    assert describe_difference(torch.ones(3), torch.zeros(3)) is not None


def test_agreement_understands_pandas_objects(pandas):
    frame = pandas.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert describe_difference(frame, frame.copy()) is None
    assert describe_difference(frame, frame.rename(columns={"b": "c"})) is not None
    assert describe_difference(frame, frame.assign(b=["x", "z"])) is not None
    assert describe_difference(frame["a"], frame["a"] * 1.0) is None
    assert describe_difference(frame["a"], frame["a"] + 1) is not None


# Machine description


def test_machine_description_has_every_key_a_gpu_list_and_a_stable_fingerprint():
    machine = describe_machine()
    assert set(machine) == {
        "cpu_model",
        "cpu_max_mhz",
        "logical_cores",
        "physical_cores",
        "memory_bytes",
        "os",
        "platform",
        "python_version",
        "libraries",
        "blas",
        "torch_threads",
        "gpus",
        "fingerprint",
    }
    assert machine["cpu_model"] and machine["logical_cores"] >= 1 and machine["memory_bytes"] > 0
    assert machine["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["libraries"]["numpy"] == np.__version__
    assert set(machine["libraries"]) == {"numpy", "torch", "cupy", "pandas", "array_api_compat"}
    assert isinstance(machine["gpus"], list) and isinstance(machine["blas"], list)
    assert machine["fingerprint"] == describe_machine()["fingerprint"] == machine_fingerprint(machine)
    assert len(machine["fingerprint"]) == 12
    assert (
        machine_fingerprint({**machine, "libraries": {**machine["libraries"], "numpy": "0.1"}})
        != machine["fingerprint"]
    )
    assert (
        machine_fingerprint({**machine, "cpu_max_mhz": 1}) == machine["fingerprint"]
    )  # clocks vary; not a new machine
    json.dumps(machine)


def test_blas_threads_come_from_threadpoolctl():
    pytest.importorskip("threadpoolctl")
    from perflint.measure.machine import numpy_blas

    blas = numpy_blas()
    assert blas and all(entry["library"] and entry["threads"] >= 1 for entry in blas)


def _fake_nvml():
    class Memory:
        total = 80 * 1024**3

    return types.SimpleNamespace(
        NVML_CLOCK_SM=1,
        NVML_CLOCK_MEM=2,
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlSystemGetDriverVersion=lambda: b"550.54.15",
        nvmlSystemGetCudaDriverVersion=lambda: 12040,
        nvmlDeviceGetCount=lambda: 2,
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda handle: b"NVIDIA H100" if handle == 0 else "NVIDIA A100",
        nvmlDeviceGetMemoryInfo=lambda handle: Memory(),
        nvmlDeviceGetCudaComputeCapability=lambda handle: (9, 0),
        nvmlDeviceGetCurrPcieLinkGeneration=lambda handle: 5,
        nvmlDeviceGetCurrPcieLinkWidth=lambda handle: 16,
        nvmlDeviceGetMaxPcieLinkGeneration=lambda handle: 5,
        nvmlDeviceGetMaxPcieLinkWidth=lambda handle: 16,
        nvmlDeviceGetClockInfo=lambda handle, clock: 1980 if clock == 1 else 2619,
    )


def test_gpu_detection_reads_nvml_and_never_raises(monkeypatch):
    fake = _fake_nvml()
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    h100, a100 = nvml_gpus()
    assert h100 == {
        "index": 0,
        "name": "NVIDIA H100",
        "memory_bytes": 80 * 1024**3,
        "driver_version": "550.54.15",
        "cuda_version": "12.4",
        "compute_capability": "9.0",
        "pcie_generation": 5,
        "pcie_width": 16,
        "pcie_max_generation": 5,
        "pcie_max_width": 16,
        "sm_clock_mhz": 1980,
        "memory_clock_mhz": 2619,
    }
    assert a100["name"] == "NVIDIA A100"

    def no_driver(*arguments):
        raise OSError("NVML Shared Library Not Found")

    monkeypatch.setattr(fake, "nvmlDeviceGetCurrPcieLinkWidth", no_driver)  # one fact missing: null alone
    assert nvml_gpus()[0]["pcie_width"] is None and nvml_gpus()[0]["pcie_generation"] == 5
    monkeypatch.setattr(fake, "nvmlInit", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setattr(fake, "nvmlInit", lambda: None)
    monkeypatch.setattr(fake, "nvmlDeviceGetCount", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed
    assert nvml_gpus() == []


# Table


def _sample_report():
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


def test_plain_table_fits_100_columns_costliest_first_with_footnotes_and_no_ansi():
    stream = io.StringIO()
    render_table(_sample_report(), stream, color=False, occurrences={"PFL101": 3, "PFL401": 1})
    text = stream.getvalue()
    assert "\x1b" not in text
    assert max(map(len, text.splitlines())) <= 100
    rows = [line for line in text.splitlines() if line.startswith("PFL")]
    assert [row.split()[0] for row in rows] == ["PFL101", "PFL401", "PFL201", "PFL301"]  # costliest first
    assert rows[0].split()[1:3] == ["3", "numpy/cpu"]
    for expected in (
        "1k 0.9x? · 100k 143x",
        "8 2.0x · 128 —",
        "pays from ~",
        "not measured (budget)",
        "Sizes: PFL101 in elements; PFL401 in rows and columns",
        "? too noisy to act on",
        "From the cache (--remeasure times afresh): PFL401 numpy/cpu measured 2026-11-29 17:40:00 UTC",
        "At 128, PFL401 numpy/cpu skipped: does not fit in device memory.",
        "Skipped (no CUDA device): PFL101 torch/cuda, PFL201 torch/cuda.",
        "Not measured, not reached within the 30 s measuring budget (--measure-budget): PFL301 torch/cpu.",
        "Test CPU 9000",
        "8 logical cores (4 physical)",
        "NVIDIA H200",
        "openblas 0.3.27, 8 threads",
        "fingerprint 0123456789ab",
    ):
        assert expected in text, expected
    assert "21.5 ms" not in text and "fix unstable" not in text  # detail belongs to --output-format full


def test_full_table_adds_times_intervals_and_sample_warnings():
    stream = io.StringIO()
    render_table(_sample_report(), stream, color=False, detailed=True)
    text = stream.getvalue()
    for expected in (
        "21.5 ms",
        "150 µs",
        "143x [140x–150x]",
        "0.9x [0.8x–1.0x]?",
        "at 100,000: fix unstable: std dev is 27% of the mean",
    ):
        assert expected in text, expected


def test_coloured_table_uses_ansi():
    stream = io.StringIO()
    render_table(_sample_report(), stream, color=True)
    assert "\x1b[" in stream.getvalue()


def test_units_are_human_friendly():
    assert [format_seconds(s) for s in (2.5, 0.0123, 1.234e-4, 5e-7, 0.0009996)] == [
        "2.50 s",
        "12.3 ms",
        "123 µs",
        "500 ns",
        "1.00 ms",
    ]
    assert [format_speedup(s) for s in (143.2, 2.34, 0.8, 1234.6)] == ["143x", "2.3x", "0.8x", "1,235x"]
    assert [format_size(n) for n in (16, 1_000, 4_096, 100_000, 2_000_000)] == ["16", "1k", "4,096", "100k", "2M"]


# perflint bench


def _fast_policy(monkeypatch):
    fast = TimingPolicy(
        min_sample_seconds=0.001, warmup_samples=0, samples=3, workers=2, time_budget_seconds=0.5, extra_workers=0
    )
    monkeypatch.setattr(harness, "BENCH_POLICY", fast)
    monkeypatch.setattr(harness, "QUICK_POLICY", fast)


@pytest.mark.slow
def test_bench_json_measures_the_named_rule_at_the_given_sizes(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--sizes", "4,16", "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"machine", "measurements", "run"}
    assert data["run"]["command_line"] == ["perflint", "bench", "PFL401", "--sizes", "4,16", "--output-format", "json"]
    assert data["run"]["perflint_version"] and "load_average_start" in data["run"]
    assert isinstance(data["machine"]["gpus"], list) and data["machine"]["fingerprint"]
    cpu, *others = data["measurements"]
    assert cpu["code"] == "PFL401" and cpu["library"] == "numpy"
    assert cpu["status"] == "measured" and [point["size"] for point in cpu["points"]] == [4, 16]
    for point in cpu["points"]:
        assert point["pattern_seconds"] > 0 and point["fix_seconds"] > 0
        assert point["speedup"] == pytest.approx(point["pattern_seconds"] / point["fix_seconds"])
        low, high = point["speedup_interval"]
        assert low <= point["speedup"] <= high
    assert all(other["status"] == "skipped" and "points" not in other for other in others if other["device"] != "cpu")


@pytest.mark.slow
def test_bench_quick_measures_only_the_middle_size(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--quick", "--output-format", "json"]) == 0
    [cpu] = [m for m in json.loads(capsys.readouterr().out)["measurements"] if m["device"] == "cpu"]
    assert [point["size"] for point in cpu["points"]] == [32]


def test_bench_selects_by_prefix_passes_options_and_prints_a_table(monkeypatch, capsys):
    chosen = []

    def fake_measure_rules(rules, sizes, policy, quick, progress, command_line):
        assert policy.threads == 1 and command_line[:3] == ["perflint", "bench", "PFL4"]
        assert sizes == [10, 1000] and policy.samples == 5 and not quick and progress is None
        chosen.extend(rule.code for rule in rules)
        return _sample_report()

    monkeypatch.setattr(harness, "measure_rules", fake_measure_rules)
    assert main(["bench", "PFL4", "PFL101", "--sizes", "1000,10", "--repeat", "5"]) == 0
    assert chosen[0] == "PFL101" and "PFL401" in chosen
    assert all(code == "PFL101" or code.startswith("PFL4") for code in chosen)
    output = capsys.readouterr().out
    assert "143x" in output and "Test CPU 9000" in output and "\x1b" not in output


@pytest.mark.slow
def test_bench_writes_a_self_contained_html_report(monkeypatch, capsys, tmp_path):
    _fast_policy(monkeypatch)
    path = tmp_path / "report.html"
    assert main(["bench", "PFL401", "--sizes", "2,4,8", "--report", str(path)]) == 0
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<polyline" in page and "<circle" in page
    assert "PFL401" in page and "Expensive linear-algebra call" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


@pytest.mark.slow
def test_bench_threads_limit_the_workers_pools_and_the_run_records_the_threads_in_use(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--sizes", "4", "--threads", "1", "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    used = data["run"]["threads_used"]
    assert used["requested"] == 1 and used["pools"] and all(pool["threads"] == 1 for pool in used["pools"])
    assert all(blas["threads"] == 1 for blas in data["machine"]["blas"])


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


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["PFL9"], "PFL9"),
        (["PFL401", "--sizes", "0,4"], "--sizes"),
        (["PFL401", "--sizes", "four"], "--sizes"),
        (["PFL401", "--repeat", "1"], "--repeat"),
        (["PFL401", "--threads", "0"], "--threads"),
        (["PFL401", "--workers", "1"], "--workers"),
        (["PFL401", "--repeat", "2", "--workers", "2"], "--repeat x --workers"),
    ],
)
def test_bench_rejects_an_unknown_code_or_bad_numbers(capsys, arguments, message):
    assert main(["bench", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_progress_bar_only_for_a_person_at_a_terminal(monkeypatch):
    from perflint.cli.progress import measuring_progress

    with measuring_progress(True) as progress:
        assert progress is None  # pytest captures the output: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with measuring_progress(False) as progress:
        assert progress is None  # JSON output
    with measuring_progress(True) as progress:
        assert callable(progress)
        progress(1, 4, "PFL101 numpy/cpu")
