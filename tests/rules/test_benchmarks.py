"""Every rule's benchmark: pattern and fix compute the same result at the rule's check size, on
the CPU, through the torch array namespace, and on every accelerator target present.

A benchmark whose two sides disagree measures nothing (the "fix" would not be a fix), and the
harness refuses to time it; this catches the bug in the normal test run instead.
"""

from __future__ import annotations

import pytest

from perflint.measure.harness import BenchmarkError, checked_inputs, resolve_target, targets_for
from perflint.measure.spec import ARRAY_BACKEND, Target
from perflint.rules import all_rules

# Each runs a benchmark's two sides: seconds in all, kept out of the inner loop (-m "not slow").
pytestmark = pytest.mark.slow

BENCHMARKED = [pytest.param(rule, id=rule.code) for rule in all_rules() if rule.benchmark is not None]
ARRAY_BENCHMARKED = [
    pytest.param(rule, id=rule.code)
    for rule in all_rules()
    if rule.benchmark is not None and rule.benchmark.backend == ARRAY_BACKEND
]
ACCELERATOR_TARGETS = [
    pytest.param(rule, library, device, id=f"{rule.code}-{library}-{device}")
    for rule in all_rules()
    if rule.benchmark is not None
    for library, device in targets_for(rule.benchmark)
    if device != "cpu"
]


def _target_or_skip(backend: str, library: str, device: str) -> Target:
    try:
        return resolve_target(backend, library, device)
    except BenchmarkError as error:
        pytest.skip(f"{library} on {device}: {error}")


@pytest.mark.parametrize("rule", BENCHMARKED)
def test_pattern_and_fix_agree_on_cpu(rule):
    # An accelerator-only torch benchmark (create-then-move) still computes the same on the
    # CPU, where its timing would mean nothing but its agreement can be checked.
    benchmark = rule.benchmark
    library, _ = targets_for(benchmark)[0]
    checked_inputs(benchmark, benchmark.check_size, _target_or_skip(benchmark.backend, library, "cpu"))


@pytest.mark.parametrize("rule", ARRAY_BENCHMARKED)
def test_array_benchmarks_use_only_the_namespace_so_they_also_run_with_torch(rule):
    # The GPU targets run the same code with CuPy or torch; torch's namespace on the CPU
    # proves the benchmark calls nothing NumPy-only, on machines without a GPU too.
    pytest.importorskip("torch")
    compat = pytest.importorskip("array_api_compat.torch")
    checked_inputs(rule.benchmark, rule.benchmark.check_size, Target("torch", "cpu", compat))


@pytest.mark.parametrize("rule, library, device", ACCELERATOR_TARGETS)
def test_pattern_and_fix_agree_on_each_accelerator_present(rule, library, device):
    benchmark = rule.benchmark
    checked_inputs(benchmark, benchmark.check_size, _target_or_skip(benchmark.backend, library, device))


def test_every_rule_ships_a_benchmark_with_sizes_users_think_in():
    for rule in all_rules():
        benchmark = rule.benchmark
        assert benchmark is not None, f"{rule.code} declares no benchmark"
        assert len(benchmark.sizes) >= 3 and benchmark.sizes[-1] >= 10 * benchmark.sizes[0], rule.code
        assert 0 < benchmark.check_size <= benchmark.sizes[0], rule.code
        assert benchmark.size_unit, rule.code
        assert benchmark.devices and set(benchmark.devices) <= {"cpu", "cuda", "mps"}, rule.code
