"""perflint/measure/units.py: times, speedups and sizes written for people."""

from __future__ import annotations

from perflint.measure.units import format_seconds, format_size, format_speedup


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


def test_speedups_below_a_tenth_stay_readable():
    assert [format_speedup(value) for value in (0.5, 0.1, 0.042, 0.0031)] == ["0.5x", "0.1x", "0.042x", "0.0031x"]
