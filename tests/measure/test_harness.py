"""The statistics of a measured point: pooled medians, two-level bootstrap intervals, the minimum
sample count, stall and load flags, and their place in the table and JSON."""

from __future__ import annotations

import io
import json
from dataclasses import replace

import pytest

from perflint.measure import harness, intervals, system
from perflint.measure.harness import TimingPolicy, _combined_point, _too_wide, _with_run_flags
from perflint.measure.results import MEASURED, TOO_FEW_SAMPLES, Measurement, MeasurementReport, Point
from perflint.measure.table import render_table, summary_rows
from perflint.measure.units import format_speedup

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


def _measurement(code, points):
    return Measurement(
        code=code,
        name=code.lower(),
        backend="numpy",
        library="numpy",
        device="cpu",
        status=MEASURED,
        size_unit="elements",
        points=tuple(points),
    )


def _point(size, pattern, fix, **changes):
    fields = dict(
        size=size,
        pattern_seconds=pattern,
        fix_seconds=fix,
        speedup=pattern / fix,
        speedup_low=0.95 * pattern / fix,
        speedup_high=1.05 * pattern / fix,
        samples=15,
        workers=3,
    )
    fields.update(changes)
    return Point(**fields)


def test_rows_are_ranked_by_time_saved_at_the_middle_size_not_by_ratio():
    # PFL202-like: thousands of x, microseconds saved; PFL106-like: 14x, milliseconds saved.
    huge_ratio = _measurement("PFL202", [_point(10, 2e-6, 1e-9), _point(100, 2e-5, 1e-9), _point(1000, 2e-2, 1e-9)])
    big_saving = _measurement("PFL106", [_point(10, 1.4e-3, 1e-4), _point(100, 1.4e-2, 1e-3), _point(1000, 0.14, 0.01)])
    report = MeasurementReport(machine={}, measurements=[huge_ratio, big_saving])
    assert [m.code for m in summary_rows(report)] == ["PFL106", "PFL202"]
    # Where a finding's own size is known, the closest measured size decides: near 1,000 elements
    # the first rule saves 20 ms, more than the other's 13 ms at its middle size.
    assert [m.code for m in summary_rows(report, {"PFL202": 5_000})] == ["PFL202", "PFL106"]
    assert [m.code for m in summary_rows(report, {"PFL202": 5_000, "PFL106": 900})] == ["PFL106", "PFL202"]
    stream = io.StringIO()
    render_table(report, stream, color=False)
    text = stream.getvalue()
    assert "13.0 ms at 100" in text and "20.0 µs at 100" in text
    assert "read at each benchmark's middle size" in " ".join(text.split())


def test_the_table_marks_flagged_points_and_refuses_too_few_samples():
    loaded = _point(100, 1e-3, 1e-4, flags=("machine loaded (load average 9.0 on 2 cores)",))
    refused = Point(
        size=1000,
        status=TOO_FEW_SAMPLES,
        reason="4 samples; a 95% interval of a median needs 6 at least",
        samples=4,
        workers=2,
    )
    report = MeasurementReport(
        machine={},
        measurements=[_measurement("PFL101", [loaded, refused])],
        run={
            "policy": {"workers": 3, "samples": 5, "extra_workers": 6, "tight_relative_half_width": 0.05},
            "threads_requested": 1,
            "threads_used": {"requested": 1, "pools": [{"library": "openblas", "threads": 1}], "torch": None},
            "load_average_start": 9.0,
            "load_average_end": 8.5,
            "frequency_scaling": {"scaling": None},
        },
    )
    stream = io.StringIO()
    render_table(report, stream, color=False)
    text = stream.getvalue()
    for expected in (
        "100 10x!",
        "1k too few samples",
        "! not to be trusted",
        "the machine was loaded",
        "Too few samples (no number shown",
        "3 worker processes x 5 samples per side (up to 6 more where a speedup's interval is wider than ±5%)",
        "in use: openblas 1",
        "load average 9.0 → 8.5",
        "CPU frequency scaling not readable",
    ):
        assert expected in " ".join(text.split()), expected
    assert max(map(len, text.splitlines())) <= 100


def test_speedups_below_a_tenth_stay_readable():
    assert [format_speedup(value) for value in (0.5, 0.1, 0.042, 0.0031)] == ["0.5x", "0.1x", "0.042x", "0.0031x"]
