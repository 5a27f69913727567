"""perflint/measure/cache.py: measurements cached by machine, benchmark and sizes."""

from __future__ import annotations

import pytest

from perflint.measure.cache import MeasurementCache
from perflint.measure.harness import TimingPolicy, measure_rules
from perflint.measure.results import MEASURED
from tests.measure import workloads
from tests.measure.workloads import QUICK


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
