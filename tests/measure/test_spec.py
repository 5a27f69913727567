"""perflint/measure/spec.py: what a benchmark declares."""

from __future__ import annotations

import pytest

from tests.measure import workloads
from tests.measure.workloads import SUM_BENCHMARK


def test_benchmark_sizes_must_be_three_or_more_spanning_a_decade():
    with pytest.raises(ValueError, match="at least three"):
        workloads.sum_benchmark(sizes=(10, 100))
    with pytest.raises(ValueError, match="factor of ten"):
        workloads.sum_benchmark(sizes=(10, 20, 40))
    with pytest.raises(ValueError, match="check_size"):
        workloads.sum_benchmark(check_size=20)
    assert SUM_BENCHMARK.middle_size == 100
