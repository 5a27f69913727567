"""perflint/measure/table.py: the table of a run, costliest first."""

from __future__ import annotations

import io

from perflint.measure.results import MEASURED, TOO_FEW_SAMPLES, Measurement, MeasurementReport, Point
from perflint.measure.table import render_table, summary_rows
from tests.measure import workloads


def test_plain_table_fits_100_columns_costliest_first_with_footnotes_and_no_ansi():
    stream = io.StringIO()
    render_table(workloads.sample_report(), stream, color=False, occurrences={"PFL101": 3, "PFL401": 1})
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
    render_table(workloads.sample_report(), stream, color=False, detailed=True)
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
    render_table(workloads.sample_report(), stream, color=True)
    assert "\x1b[" in stream.getvalue()


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
