"""The measurement harness, agreement check, machine description, table and ``perflint bench``."""

from __future__ import annotations

import io
import json
import sys
import types

import numpy as np
import pytest

from perflint.cli.main import main
from perflint.measure import harness
from perflint.measure.agreement import describe_difference
from perflint.measure.harness import (
    BenchmarkDisagreement,
    Samples,
    TimingPolicy,
    checked_inputs,
    measure_benchmark,
    measure_rules,
    time_pair,
)
from perflint.measure.machine import describe_machine, nvml_gpus
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport
from perflint.measure.spec import Benchmark
from perflint.measure.table import render_table
from perflint.measure.units import format_seconds, format_speedup

QUICK = TimingPolicy(min_sample_seconds=0.002, warmup_samples=1, samples=3, time_budget_seconds=1.0)
NUMBERS = ("size", "pattern_seconds", "fix_seconds", "speedup", "pattern_stdev", "fix_stdev")


def _sum_setup(size, device):
    return (size,)


def _sum_by_loop(count):
    total = 0
    for value in range(count):
        total += value
    return total


def _sum_by_formula(count):
    return count * (count - 1) // 2


SUM_BENCHMARK = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=_sum_by_formula, default_size=2000,
                          check_size=10, size_unit="integers")


def _assert_skipped_without_numbers(measurement, reason_part):
    assert measurement.status == SKIPPED
    assert reason_part in measurement.reason
    assert all(getattr(measurement, name) is None for name in NUMBERS)
    data = measurement.to_dict()
    assert data["status"] == "skipped" and reason_part in data["reason"]
    assert not set(NUMBERS) & set(data)


@pytest.fixture
def no_cuda(monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


# The harness: refusing, skipping, timing


def test_a_disagreeing_benchmark_is_refused_not_timed():
    timed = []

    def wrong_fix(count):
        timed.append(count)
        return _sum_by_formula(count) + 1

    broken = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=wrong_fix, default_size=100, check_size=10,
                       size_unit="integers")
    measurement = measure_benchmark("PFL999", broken, "cpu", 100, policy=QUICK)
    _assert_skipped_without_numbers(measurement, "disagree")
    assert timed == [100]  # run once for the agreement check, never timed
    with pytest.raises(BenchmarkDisagreement, match="disagree"):
        checked_inputs(broken, 10, "cpu")


def test_each_side_gets_its_own_copy_of_the_inputs():
    # Both sides write into the same output array; compared without copies they would be the
    # same object and trivially "agree".
    def setup(size, device):
        return (np.zeros(size),)

    def fill_ones(out):
        out[:] = 1.0
        return out

    def fill_twos(out):
        out[:] = 2.0
        return out

    aliasing = Benchmark(setup=setup, pattern=fill_ones, fix=fill_twos, default_size=4, check_size=4,
                         size_unit="elements")
    with pytest.raises(BenchmarkDisagreement):
        checked_inputs(aliasing, 4, "cpu")


def test_a_missing_backend_is_skipped_with_the_reason():
    benchmark = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=_sum_by_formula, default_size=10,
                          check_size=10, size_unit="integers", backend="perflint_no_such_backend")
    measurement = measure_benchmark("PFL999", benchmark, "cpu", 10, policy=QUICK)
    _assert_skipped_without_numbers(measurement, "perflint_no_such_backend is not installed")


def test_a_cuda_benchmark_without_a_cuda_device_is_skipped(no_cuda):
    benchmark = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=_sum_by_formula, default_size=10,
                          check_size=10, size_unit="integers", backend="torch", devices=("cuda",))
    measurement = measure_benchmark("PFL999", benchmark, "cuda", 10, policy=QUICK)
    _assert_skipped_without_numbers(measurement, "no CUDA device")


def test_a_failing_setup_or_side_is_skipped_with_the_error():
    def failing_setup(size, device):
        raise RuntimeError("out of memory")

    def failing_fix(count):
        raise ValueError("bad shape")

    bad_setup = Benchmark(setup=failing_setup, pattern=_sum_by_loop, fix=_sum_by_formula, default_size=10,
                          check_size=10, size_unit="integers")
    bad_fix = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=failing_fix, default_size=10,
                        check_size=10, size_unit="integers")
    _assert_skipped_without_numbers(measure_benchmark("PFL999", bad_setup, "cpu", 10, policy=QUICK),
                                    "setup raised RuntimeError: out of memory")
    _assert_skipped_without_numbers(measure_benchmark("PFL999", bad_fix, "cpu", 10, policy=QUICK),
                                    "fix raised ValueError: bad shape")


def test_a_real_benchmark_gets_positive_times_and_their_ratio():
    measurement = measure_benchmark("PFL999", SUM_BENCHMARK, "cpu", 2000, name="sum-by-loop", policy=QUICK)
    assert measurement.status == MEASURED, measurement.reason
    assert measurement.size == 2000 and measurement.size_unit == "integers"
    assert measurement.pattern_seconds > 0 and measurement.fix_seconds > 0
    assert measurement.speedup == pytest.approx(measurement.pattern_seconds / measurement.fix_seconds)
    assert measurement.speedup > 1  # a 2000-step Python loop against one multiplication
    data = measurement.to_dict()
    assert {"code", "backend", "device", "size", "pattern_seconds", "fix_seconds", "speedup"} <= set(data)


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

    policy = TimingPolicy(min_sample_seconds=0.001, warmup_samples=1, samples=7, min_samples=3,
                          time_budget_seconds=0.03)
    pattern_samples, fix_samples = time_pair(slow, slow, (), policy)
    assert len(pattern_samples.per_call_seconds) == len(fix_samples.per_call_seconds) == 3
    assert "pattern: only 3 samples fit the time budget" in pattern_samples.warnings("pattern", policy)


def test_cuda_timing_synchronises_around_every_sample(monkeypatch):
    torch = pytest.importorskip("torch")
    synchronised = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: synchronised.append(device))
    policy = TimingPolicy(min_sample_seconds=0.0, warmup_samples=0, samples=3)
    measurement = measure_benchmark("PFL999", SUM_BENCHMARK, "cuda", 50, policy=policy)
    assert measurement.status == MEASURED, measurement.reason
    # two calibration runs and three samples per side, each fenced before and after
    assert synchronised == ["cuda"] * (2 * (2 + 2 * 3))


def test_instability_warnings_follow_pyperf():
    policy = TimingPolicy(samples=7)
    steady = Samples(loops=10, per_call_seconds=(0.010, 0.0101, 0.0099, 0.010, 0.0100, 0.0101, 0.0099))
    assert steady.warnings("pattern", policy) == []
    noisy = Samples(loops=10, per_call_seconds=(0.010, 0.030, 0.010, 0.010, 0.011, 0.010, 0.009))
    warnings = noisy.warnings("fix", policy)
    assert any(warning.startswith("fix unstable: std dev is") for warning in warnings)
    assert any("min or max" in warning for warning in warnings)
    short = Samples(loops=1, per_call_seconds=(1e-5,) * 7)
    assert short.warnings("fix", policy) == ["fix: shortest sample took only 10.0 µs"]


def test_measure_rules_covers_every_declared_device_and_skips_rules_without_a_benchmark(no_cuda):
    class Benchmarked:
        code, name = "PFL998", "sum-by-loop"
        benchmark = Benchmark(setup=_sum_setup, pattern=_sum_by_loop, fix=_sum_by_formula, default_size=2000,
                              check_size=10, size_unit="integers", devices=("cpu", "cuda"))

    class Unbenchmarked:
        code, name = "PFL997", "no-benchmark"
        benchmark = None

    report = measure_rules([Benchmarked, Unbenchmarked], size=300, policy=QUICK)
    assert [(m.code, m.device, m.status) for m in report.measurements] == [
        ("PFL998", "cpu", MEASURED), ("PFL998", "cuda", SKIPPED)]
    assert report.measurements[0].size == 300 and report.measurements[0].name == "sum-by-loop"
    assert report.machine["cpu_model"]


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


def test_agreement_understands_torch_tensors():
    torch = pytest.importorskip("torch")
    assert describe_difference(torch.ones(3), np.ones(3, dtype=np.float32)) is None
    assert describe_difference(torch.ones(3, requires_grad=True) * 2, torch.full((3,), 2.0)) is None
    assert describe_difference(torch.ones(3, dtype=torch.bfloat16), torch.ones(3)) is None
    assert describe_difference(torch.ones(3), torch.zeros(3)) is not None


def test_agreement_understands_pandas_objects():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert describe_difference(frame, frame.copy()) is None
    assert describe_difference(frame, frame.rename(columns={"b": "c"})) is not None
    assert describe_difference(frame, frame.assign(b=["x", "z"])) is not None
    assert describe_difference(frame["a"], frame["a"] * 1.0) is None
    assert describe_difference(frame["a"], frame["a"] + 1) is not None


# Machine description


def test_machine_description_has_every_key_and_a_gpu_list():
    machine = describe_machine()
    assert set(machine) == {"cpu_model", "logical_cores", "physical_cores", "memory_bytes", "platform",
                            "python_version", "numpy_version", "torch_version", "gpus"}
    assert machine["cpu_model"] and machine["logical_cores"] >= 1 and machine["memory_bytes"] > 0
    assert machine["python_version"] == ".".join(map(str, sys.version_info[:3]))
    assert machine["numpy_version"] == np.__version__
    assert isinstance(machine["gpus"], list)
    json.dumps(machine)


def test_gpu_detection_reads_nvml_and_never_raises(monkeypatch):
    class Memory:
        total = 80 * 1024**3

    fake = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 2,
        nvmlDeviceGetHandleByIndex=lambda index: index,
        nvmlDeviceGetName=lambda handle: b"NVIDIA H100" if handle == 0 else "NVIDIA A100",
        nvmlDeviceGetMemoryInfo=lambda handle: Memory(),
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    assert nvml_gpus() == [
        {"index": 0, "name": "NVIDIA H100", "memory_bytes": 80 * 1024**3},
        {"index": 1, "name": "NVIDIA A100", "memory_bytes": 80 * 1024**3},
    ]

    def no_driver():
        raise OSError("NVML Shared Library Not Found")

    monkeypatch.setattr(fake, "nvmlInit", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setattr(fake, "nvmlInit", lambda: None)
    monkeypatch.setattr(fake, "nvmlDeviceGetCount", no_driver)
    assert nvml_gpus() == []
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed
    assert nvml_gpus() == []


# Table


def _sample_report():
    machine = {"cpu_model": "Test CPU 9000", "logical_cores": 8, "physical_cores": 4, "memory_bytes": 16 * 1024**3,
               "python_version": "3.11.7", "numpy_version": "2.0.0", "torch_version": None,
               "gpus": [{"index": 0, "name": "NVIDIA H200", "memory_bytes": 141 * 1024**3}]}
    return MeasurementReport(machine=machine, measurements=[
        Measurement(code="PFL101", name="elementwise-index-loop", backend="numpy", device="cpu", status=MEASURED,
                    size=100_000, size_unit="elements", pattern_seconds=0.0215, fix_seconds=0.00015,
                    speedup=143.3, pattern_stdev=0.001, fix_stdev=0.00004,
                    warnings=("fix unstable: std dev is 27% of the mean",)),
        Measurement(code="PFL201", name="create-then-move", backend="torch", device="cuda", status=SKIPPED,
                    reason="no CUDA device", size_unit="rows"),
    ])


def test_plain_table_has_the_numbers_the_skips_and_the_machine_and_no_ansi():
    stream = io.StringIO()
    render_table(_sample_report(), stream, color=False)
    text = stream.getvalue()
    assert "\x1b" not in text
    for expected in ("PFL101", "elementwise-index-loop", "100,000 elements", "21.5 ms ± 1.00 ms", "150 µs ± 40.0 µs", "143x",
                     "PFL201", "skipped: no CUDA device", "fix unstable: std dev is 27% of the mean",
                     "Test CPU 9000", "8 logical cores (4 physical)", "NVIDIA H200"):
        assert expected in text, expected


def test_coloured_table_uses_ansi():
    stream = io.StringIO()
    render_table(_sample_report(), stream, color=True)
    assert "\x1b[" in stream.getvalue()


def test_units_are_human_friendly():
    assert [format_seconds(s) for s in (2.5, 0.0123, 1.234e-4, 5e-7, 0.0009996)] == [
        "2.50 s", "12.3 ms", "123 µs", "500 ns", "1.00 ms"]
    assert [format_speedup(s) for s in (143.2, 2.34, 0.8, 1234.6)] == ["143x", "2.3x", "0.8x", "1,235x"]


# perflint bench


def test_bench_json_measures_the_named_rule(monkeypatch, capsys):
    monkeypatch.setattr(harness, "DEFAULT_POLICY", TimingPolicy(min_sample_seconds=0.001, warmup_samples=0,
                                                                samples=3, time_budget_seconds=0.5))
    assert main(["bench", "PFL401", "--size", "16", "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"machine", "measurements"}
    assert isinstance(data["machine"]["gpus"], list)
    [measurement] = data["measurements"]
    assert measurement["code"] == "PFL401" and measurement["status"] == "measured" and measurement["size"] == 16
    assert measurement["pattern_seconds"] > 0 and measurement["fix_seconds"] > 0
    assert measurement["speedup"] == pytest.approx(measurement["pattern_seconds"] / measurement["fix_seconds"])


def test_bench_selects_by_prefix_and_prints_a_table(monkeypatch, capsys):
    chosen = []

    def fake_measure_rules(rules, size):
        assert size is None
        chosen.extend(rule.code for rule in rules)
        return _sample_report()

    monkeypatch.setattr(harness, "measure_rules", fake_measure_rules)
    assert main(["bench", "PFL4", "PFL101"]) == 0
    assert chosen[0] == "PFL101" and "PFL401" in chosen
    assert all(code == "PFL101" or code.startswith("PFL4") for code in chosen)
    output = capsys.readouterr().out
    assert "143x" in output and "Test CPU 9000" in output and "\x1b" not in output


def test_bench_rejects_an_unknown_code_or_size(capsys):
    assert main(["bench", "PFL9"]) == 2
    assert "PFL9" in capsys.readouterr().err
    assert main(["bench", "PFL401", "--size", "0"]) == 2
    assert "--size" in capsys.readouterr().err
