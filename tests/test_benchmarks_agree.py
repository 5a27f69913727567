"""Every rule's benchmark: pattern and fix compute the same result at the rule's check size.

A benchmark whose two sides disagree measures nothing (the "fix" would not be a fix), and the
harness refuses to time it; this catches the bug in the normal test run instead.
"""

from __future__ import annotations

import pytest

from perflint.measure.harness import checked_inputs, unavailability
from perflint.rules import all_rules

BENCHMARKED = [pytest.param(rule, id=rule.code) for rule in all_rules() if rule.benchmark is not None]


@pytest.mark.parametrize("rule", BENCHMARKED)
def test_pattern_and_fix_agree_on_cpu(rule):
    benchmark = rule.benchmark
    reason = unavailability(benchmark.backend, "cpu")
    if reason is not None:
        pytest.skip(reason)
    checked_inputs(benchmark, benchmark.check_size, "cpu")


def test_every_rule_ships_a_benchmark_with_sane_sizes():
    for rule in all_rules():
        benchmark = rule.benchmark
        assert benchmark is not None, f"{rule.code} declares no benchmark"
        assert 0 < benchmark.check_size <= benchmark.default_size, rule.code
        assert benchmark.size_unit, rule.code
        assert benchmark.devices and set(benchmark.devices) <= {"cpu", "cuda", "mps"}, rule.code
