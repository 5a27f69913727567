"""perflint/measure/results.py: a point's noise and where a fix pays."""

from __future__ import annotations

from perflint.measure.results import Point, describe_payoff


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
