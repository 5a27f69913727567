"""Is the measurement harness trustworthy on this machine?

Two checks, each through the same code ``perflint bench`` uses:

1. Known ratio: pure-Python busy work of 2N iterations against N iterations must measure a
   speedup of about 2 (and the same function against itself about 1), at several sizes,
   each measured a few times.
2. Repeatability: a rule benchmark measured several times in a row at its largest size should
   give close speedups, and should rarely be flagged too noisy to act on.

NumPy's BLAS is limited to one thread, as for the reference run (see
``benchmarks/record_reference.py``): on this shared two-core machine a two-thread BLAS stalls
whenever a neighbour takes a core.

Run: ``python benchmarks/harness_check.py [--ratio-repeats R] [--repeats K]``. Output is plain text; the recorded
run is in ``benchmarks/results/harness_check.txt``. Exit status 1 if the median of a known
ratio's runs is off by more than the tolerance.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
from functools import partial

from perflint.measure.harness import BENCH_POLICY, measure_benchmark, targets_for, time_pair
from perflint.measure.machine import describe_machine
from perflint.measure.table import machine_summary
from perflint.measure.units import format_seconds
from perflint.measure.worker import limit_threads
from perflint.rules import rule_by_code

RATIO_TOLERANCE = 0.10
REPEATABILITY_RULES = ("PFL101", "PFL401")


def busy_work(iterations: int) -> int:
    """CPU-bound, allocation-free work whose cost is linear in ``iterations``."""
    total = 0
    for value in range(iterations):
        total += value * value
    return total


def check_known_ratios(repeats: int) -> bool:
    """Each ratio measured ``repeats`` times; the verdict is on their median, and every single
    run is shown, since one run is what a user sees."""
    print(f"1. Known ratios (busy work of kN iterations against N, k = 2 and 1; {repeats} runs each)")
    print(f"   {'N':>7}  {'k':>2}  {'median':>7}  {'error':>6}  {'within':>6}  runs (kN side / N side = ratio)")
    all_ok = True
    for iterations in (1_000, 10_000, 100_000):
        for multiple in (2, 1):
            runs = [
                time_pair(partial(busy_work, multiple * iterations), partial(busy_work, iterations), (), BENCH_POLICY)
                for _ in range(repeats)
            ]
            ratios = [pattern.median / fix.median for pattern, fix in runs]
            errors = [ratio / multiple - 1 for ratio in ratios]
            median_error = statistics.median(errors)
            ok = abs(median_error) <= RATIO_TOLERANCE
            all_ok &= ok
            within = sum(abs(error) <= RATIO_TOLERANCE for error in errors)
            details = "; ".join(
                f"{format_seconds(pattern.median)} / {format_seconds(fix.median)} = {ratio:.3f}"
                for (pattern, fix), ratio in zip(runs, ratios)
            )
            print(
                f"   {iterations:>7,}  {multiple:>2}  {statistics.median(ratios):>6.3f}x  {median_error:>+6.1%}  "
                f"{within:>2} of {repeats}  {details}  {'ok' if ok else 'OFF'}"
            )
    return all_ok


def check_repeatability(repeats: int) -> None:
    print(f"\n2. Repeatability ({repeats} runs of each benchmark at its largest size)")
    for code in REPEATABILITY_RULES:
        rule = rule_by_code(code)
        if rule is None or rule.benchmark is None:
            print(f"   {code}: no benchmark registered")
            continue
        size = rule.benchmark.sizes[-1]
        library, device = targets_for(rule.benchmark)[0]
        speedups, patterns, fixes, noisy, warned = [], [], [], 0, 0
        for _ in range(repeats):
            measurement = measure_benchmark(rule, library, device, [size], policy=BENCH_POLICY)
            if measurement.status != "measured":
                print(f"   {code}: skipped: {measurement.reason}")
                break
            [point] = measurement.points
            speedups.append(point.speedup)
            patterns.append(point.pattern_seconds)
            fixes.append(point.fix_seconds)
            noisy += point.noisy
            warned += bool(point.warnings)
        else:
            median = statistics.median(speedups)
            print(f"   {code} ({rule.name}, size {size:,} {rule.benchmark.size_unit}):")
            print(f"     speedups: {', '.join(f'{value:.1f}x' for value in speedups)}")
            print(
                f"     median {median:.1f}x, min {min(speedups):.1f}x, max {max(speedups):.1f}x, "
                f"max/min {max(speedups) / min(speedups):.2f}"
            )
            print(f"     pattern median per run: {', '.join(format_seconds(value) for value in patterns)}")
            print(f"     fix median per run:     {', '.join(format_seconds(value) for value in fixes)}")
            print(
                f"     runs flagged too noisy to act on (95% interval crosses 1.0 or spans > ±25%): "
                f"{noisy} of {repeats}"
            )
            print(f"     runs with a pyperf-style sample warning (detail only): {warned} of {repeats}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratio-repeats", type=int, default=3, help="runs of each known ratio")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each rule benchmark")
    arguments = parser.parse_args()
    print(f"perflint harness check, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    limit_threads(1)  # the known ratios run here; the rule benchmarks in worker processes limited alike
    print(f"Machine: {machine_summary(describe_machine())}")
    if hasattr(os, "getloadavg"):
        print("Load average at start (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(f"Policy: {BENCH_POLICY}\n")
    ratios_ok = check_known_ratios(arguments.ratio_repeats)
    check_repeatability(arguments.repeats)
    if hasattr(os, "getloadavg"):
        print("\nLoad average at end (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(f"Known ratios within {RATIO_TOLERANCE:.0%} (median of runs): {'yes' if ratios_ok else 'NO'}")
    return 0 if ratios_ok else 1


if __name__ == "__main__":
    sys.exit(main())
