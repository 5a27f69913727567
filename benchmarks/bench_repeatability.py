"""Can ``perflint bench`` be trusted and afforded? Its speed, its repeatability, and an
independent cross-check, each measured through the command users run.

1. Time: ``perflint bench --quick`` must finish in under 60 s, a full ``perflint bench`` in
   under 4 minutes (wall clock, every rule, on this machine).
2. Repeatability: the full run is done twice; per rule, target and size the two speedups and
   their ratio are printed. Where both runs measure a speedup of 2x or more, they must agree
   within ±25%.
3. Cross-check: for PFL101 and PFL105 the pattern and fix are also timed with ``timeit``
   directly (autoranged loop count, best of five repeats), and both figures are printed side by
   side. A rule not in the catalogue is named as such.

Run: ``python benchmarks/bench_repeatability.py [--blas-threads N]``; the recorded runs are
``benchmarks/results/bench_repeatability*.txt``. ``--blas-threads`` is passed to every
``perflint bench`` (the reference run uses 1; see ``benchmarks/record_reference.py``). Exit
status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
import timeit

QUICK_LIMIT_SECONDS = 60.0
FULL_LIMIT_SECONDS = 240.0
AGREEMENT = 0.25
CROSS_CHECKED = ("PFL101", "PFL105")
EXTRA: list[str] = []  # options given to every `perflint bench`


def run_bench(*arguments: str) -> tuple[float, dict]:
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "perflint", "bench", "--output-format", "json", *EXTRA, *arguments],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.monotonic() - started, json.loads(completed.stdout)


def speedups(data: dict) -> dict[tuple[str, str, int], float]:
    found = {}
    for measurement in data["measurements"]:
        for point in measurement.get("points", ()):
            if point["status"] == "measured":
                found[(measurement["code"], f"{measurement['library']}/{measurement['device']}", point["size"])] = (
                    point["speedup"]
                )
    return found


def timeit_speedup(code: str, size: int) -> tuple[float, float, float]:
    """Pattern and fix seconds per call by ``timeit`` on NumPy, and their ratio."""
    import numpy

    from perflint.measure.spec import Target
    from perflint.rules import rule_by_code

    benchmark = rule_by_code(code).benchmark
    inputs = benchmark.setup(size, Target("numpy", "cpu", numpy))
    per_call = []
    for function in (benchmark.pattern, benchmark.fix):
        timer = timeit.Timer(lambda: function(*inputs))
        number, _ = timer.autorange()
        per_call.append(min(timer.repeat(repeat=5, number=number)) / number)
    return per_call[0], per_call[1], per_call[0] / per_call[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blas-threads", type=int, default=None, help="passed to every perflint bench")
    arguments = parser.parse_args()
    if arguments.blas_threads:
        EXTRA.extend(["--blas-threads", str(arguments.blas_threads)])
    from perflint.measure.machine import describe_machine
    from perflint.measure.table import machine_summary
    from perflint.rules import rule_by_code

    print(f"perflint bench repeatability, {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}")
    print(f"Machine: {machine_summary(describe_machine())}")
    if hasattr(os, "getloadavg"):
        print("Load average at start (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    ok = True

    print(f"\n1. Time (wall clock, through `python -m perflint bench {' '.join(EXTRA)} ... --output-format json`)")
    quick_seconds, _ = run_bench("--quick")
    first_seconds, first = run_bench()
    second_seconds, second = run_bench()
    for label, seconds, limit in (
        ("bench --quick", quick_seconds, QUICK_LIMIT_SECONDS),
        ("bench (run 1)", first_seconds, FULL_LIMIT_SECONDS),
        ("bench (run 2)", second_seconds, FULL_LIMIT_SECONDS),
    ):
        within = seconds < limit
        ok &= within
        print(f"   {label:<14} {seconds:6.1f} s  (limit {limit:.0f} s)  {'ok' if within else 'OVER'}")

    print(
        f"\n2. Repeatability (speedup ratios of the two full runs; must agree within ±{AGREEMENT:.0%} "
        "where both are 2x or more)"
    )
    print(f"   {'rule':<7} {'target':<10} {'size':>8}  {'run 1':>8}  {'run 2':>8}  {'2 / 1':>6}  verdict")
    one, two = speedups(first), speedups(second)
    checked = agreeing = 0
    for key in sorted(one.keys() & two.keys()):
        code, target, size = key
        ratio = two[key] / one[key]
        if min(one[key], two[key]) >= 2:
            checked += 1
            agree = abs(ratio - 1) <= AGREEMENT
            agreeing += agree
            verdict = "ok" if agree else "DISAGREE"
        else:
            verdict = "(under 2x: not judged)"
        print(f"   {code:<7} {target:<10} {size:>8,}  {one[key]:>7.2f}x  {two[key]:>7.2f}x  {ratio:>6.2f}  {verdict}")
    for key in sorted(one.keys() ^ two.keys()):
        print(f"   {key[0]} {key[1]} {key[2]:,}: measured in only one run")
    ok &= agreeing == checked
    print(f"   {agreeing} of {checked} speedups of 2x or more agree within ±{AGREEMENT:.0%}")

    print("\n3. Cross-check against timeit (NumPy on the CPU; best of 5 autoranged repeats)")
    for code in CROSS_CHECKED:
        rule = rule_by_code(code)
        if rule is None or rule.benchmark is None:
            print(f"   {code}: not in the catalogue yet; nothing to cross-check")
            continue
        for size in rule.benchmark.sizes:
            pattern, fix, ratio = timeit_speedup(code, size)
            harness = one.get((code, "numpy/cpu", size))
            shown = f"{harness:.1f}x" if harness else "not measured"
            print(
                f"   {code} at {size:>7,}: timeit {pattern * 1e6:10.1f} µs / {fix * 1e6:8.2f} µs = {ratio:7.1f}x;"
                f"  perflint bench (run 1): {shown}"
            )
    if hasattr(os, "getloadavg"):
        print("\nLoad average at end (1, 5, 15 min): " + ", ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(f"All targets met: {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
