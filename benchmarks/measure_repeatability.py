"""Can the numbers of ``perflint bench`` be trusted, quiet and loaded? Two plain runs and a loaded one.

1. Quiet: the same rules are measured twice through ``perflint bench --output-format json``.
   Where both runs measure a speedup of 2x or more, the two must agree within ±10%, provided the
   machine was quiet: a run whose one-minute load average, before or after it, exceeds the core
   count is not quiet, and then this check is reported as not judged (on a machine others share,
   a quiet run cannot be had; the output says so rather than pretending).
2. Loaded: the rules are measured a third time while this script keeps two processes busy
   spinning (a bounded CPU load: two busy processes, stopped when the run ends). Each point of
   the second plain run and of the loaded run must either agree with the first run within ±25% or
   be flagged (noisy interval, a stall, or a loaded machine), so that a wrong number never passes
   as sure.
3. The comparisons are also printed as ``perflint bench --compare`` shows them.

The rules are limited so that the three runs fit in minutes on a two-core machine: PFL101,
PFL105, PFL113, PFL116, PFL401 and PFL403 at their own three sizes each (18 points per run),
with the default ``perflint bench`` policy (three worker processes, one thread). The load average
is recorded before and after each run.

Run: ``python benchmarks/measure_repeatability.py``; it writes
``benchmarks/results/measure_repeatability.txt`` and the three runs' JSON beside it
(``measure_repeatability_{run1,run2,loaded}.json``). Exit status 1 if a check fails.
"""

from __future__ import annotations

import datetime
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

RULES = ("PFL101", "PFL105", "PFL113", "PFL116", "PFL401", "PFL403")
QUIET_AGREEMENT = 0.10
QUIET_FROM_SPEEDUP = 2.0
LOADED_AGREEMENT = 0.25
BUSY_PROCESSES = 2
RESULTS = Path(__file__).resolve().parent / "results"


def _spin() -> None:
    while True:
        pass


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def bench(label: str, out, busy: int = 0) -> tuple[dict, float]:
    """One ``perflint bench`` run of RULES, saved as JSON, and the highest one-minute load
    average seen before or after it; with ``busy`` spinning processes alongside."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
    for spinner in spinners:
        spinner.start()
    before, highest = load(), os.getloadavg()[0]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", "bench", *RULES, "--output-format", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()
    seconds = time.monotonic() - started
    path = RESULTS / f"measure_repeatability_{label}.json"
    path.write_text(completed.stdout, encoding="utf-8")
    highest = max(highest, os.getloadavg()[0])
    out(
        f"   {label:<7} {seconds:6.1f} s; load average (1, 5, 15 min) before {before}, after {load()}; "
        f"{busy} busy processes; saved {path.name}"
    )
    return json.loads(completed.stdout), highest


def points(data: dict) -> dict:
    return {
        (m["code"], f"{m['library']}/{m['device']}", p["size"]): p
        for m in data["measurements"]
        for p in m.get("points", ())
        if p["status"] == "measured"
    }


def too_few(data: dict) -> list:
    return [
        (m["code"], p["size"])
        for m in data["measurements"]
        for p in m.get("points", ())
        if p["status"] == "too few samples"
    ]


def loaded_check(first: dict, other: dict, out) -> bool:
    """Each point of ``other`` agrees with ``first`` within LOADED_AGREEMENT or is flagged; the
    table of it, and whether no point disagrees unflagged."""
    out(f"   {'rule':<7} {'target':<10} {'size':>8}  {'run 1':>8}  {'other':>8}  {'ratio':>6}  verdict")
    agreed = flagged = wrong = compared = 0
    for key in sorted(first):
        if key not in other:
            continue
        compared += 1
        a, c = first[key]["speedup"], other[key]["speedup"]
        ratio = c / a
        within = abs(ratio - 1) <= LOADED_AGREEMENT
        is_flagged = other[key]["flagged"]
        agreed += within
        flagged += is_flagged
        wrong += not within and not is_flagged
        reasons = "; ".join(other[key]["flags"]) or ("noisy interval" if other[key]["noisy"] else "")
        verdict = ("agrees" if within else "DISAGREES") + (f", flagged ({reasons})" if is_flagged else "")
        if not within and not is_flagged:
            verdict += " and is NOT flagged"
        out(f"   {key[0]:<7} {key[1]:<10} {key[2]:>8,}  {a:8.2f}  {c:8.2f}  {ratio:6.2f}  {verdict}")
    out(
        f"   {agreed} of {compared} points agree within ±{LOADED_AGREEMENT:.0%}; {flagged} are flagged; "
        f"{wrong} disagree without a flag."
    )
    return wrong == 0


def main() -> int:
    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    from perflint.measure.machine import describe_machine
    from perflint.measure.table import machine_summary

    cores = os.cpu_count() or 1
    out(
        f"perflint bench repeatability in worker processes, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
    )
    out(f"Machine: {machine_summary(describe_machine())}")
    out(f"Rules: {', '.join(RULES)} at their own sizes; `perflint bench` default policy; {cores} logical cores.")
    out("\nRuns")
    run1, load1 = bench("run1", out)
    run2, load2 = bench("run2", out)
    loaded, _ = bench("loaded", out, busy=BUSY_PROCESSES)
    ok = True

    out(f"\n1. Quiet repeatability: speedups of 2x or more in both runs must agree within ±{QUIET_AGREEMENT:.0%}")
    first, second = points(run1), points(run2)
    if max(load1, load2) > cores:
        out(
            f"   Not judged: the machine was not quiet (one-minute load average up to {max(load1, load2):.1f} "
            f"on {cores} cores around the two runs, from other people's work). A quiet-machine check needs "
            f"a machine nobody else is using; the two runs are compared as loaded runs below instead."
        )
    else:
        out(f"   {'rule':<7} {'target':<10} {'size':>8}  {'run 1':>8}  {'run 2':>8}  {'2 / 1':>6}  verdict")
        checked = failed = 0
        for key in sorted(first):
            if key not in second:
                continue
            a, b = first[key]["speedup"], second[key]["speedup"]
            ratio = b / a
            if min(a, b) >= QUIET_FROM_SPEEDUP:
                checked += 1
                agree = abs(ratio - 1) <= QUIET_AGREEMENT
                failed += not agree
                verdict = "agree" if agree else "DISAGREE"
            else:
                verdict = "below 2x, not judged"
            flags = " (flagged in a run)" if first[key]["flagged"] or second[key]["flagged"] else ""
            out(f"   {key[0]:<7} {key[1]:<10} {key[2]:>8,}  {a:8.2f}  {b:8.2f}  {ratio:6.2f}  {verdict}{flags}")
        out(f"   {checked - failed} of {checked} judged points agree within ±{QUIET_AGREEMENT:.0%}.")
        ok &= failed == 0

    for number, (label, other) in enumerate(
        (("run 2", run2), (f"loaded run ({BUSY_PROCESSES} busy processes)", loaded)), 2
    ):
        out(f"\n{number}. The {label} against run 1: each point agrees within ±{LOADED_AGREEMENT:.0%} or is flagged")
        ok &= loaded_check(first, points(other), out)
    for label, data in (("run1", run1), ("run2", run2), ("loaded", loaded)):
        if too_few(data):
            out(f"   {label}: too few samples at {too_few(data)} (no number shown)")

    for old, new in (("run1", "run2"), ("run1", "loaded")):
        out(f"\n4. perflint bench --compare {old}.json {new}.json")
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "perflint",
                "bench",
                "--compare",
                str(RESULTS / f"measure_repeatability_{old}.json"),
                str(RESULTS / f"measure_repeatability_{new}.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out(completed.stdout.rstrip())

    out(f"\nLoad average at the end: {load()} on {cores} cores.")
    out(f"Result: {'all checks passed' if ok else 'a check FAILED'}.")
    (RESULTS / "measure_repeatability.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
