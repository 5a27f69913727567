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

The rules are limited so that the runs fit in minutes on a two-core machine: PFL101, PFL105,
PFL113, PFL116, PFL401 and PFL403 at their own three sizes each (18 points per run), with the
default ``perflint bench`` policy (three worker processes, more where an interval is wide, one
thread). The load average is recorded before and after each run.

Modes (``--mode``):
- ``all`` (the default): both plain runs and the loaded one, every check; a few minutes.
- ``quiet``: the quiet check alone, on the rules whose points reach 2x (PFL101, PFL105, PFL116,
  PFL401: PFL113's and PFL403's points stay below 2x, which this check does not judge): two
  plain runs, under a minute on a quiet two-core machine. For the machine's owner to run when
  nobody else is using it.
- ``loaded``: the loaded check alone, every rule: one plain run and one beside the two busy
  processes; usable while others share the machine.

``--rules PFL101,PFL116`` measures those rules instead (the quiet check of two rules takes about
half as long).

Run: ``python benchmarks/measure_repeatability.py [--mode all|quiet|loaded] [--rules CODES]``; it writes
``benchmarks/results/measure_repeatability[_MODE].txt`` (no suffix for ``all``) and the runs' JSON
beside it (``measure_repeatability[_MODE]_{run1,run2,loaded}.json``). Exit status 1 if a check fails
(a quiet check not judged because the machine was loaded does not fail).
"""

from __future__ import annotations

import argparse
import datetime
import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

RULES = ("PFL101", "PFL105", "PFL113", "PFL116", "PFL401", "PFL403")
QUIET_RULES = ("PFL101", "PFL105", "PFL116", "PFL401")
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


def bench(stem: str, label: str, rules, out, busy: int = 0) -> tuple[dict, float]:
    """One ``perflint bench`` run of ``rules``, saved as JSON, and the highest one-minute load
    average seen before or after it; with ``busy`` spinning processes alongside."""
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
    for spinner in spinners:
        spinner.start()
    before, highest = load(), os.getloadavg()[0]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", "bench", *rules, "--output-format", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        for spinner in spinners:
            spinner.terminate()
            spinner.join()
    seconds = time.monotonic() - started
    path = RESULTS / f"{stem}_{label}.json"
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


def quiet_check(run1: dict, run2: dict, load: float, cores: int, out) -> bool:
    """Speedups of 2x or more in both runs agree within QUIET_AGREEMENT; not judged (and not
    failed) when the machine was loaded around the runs."""
    out(f"\n1. Quiet repeatability: speedups of 2x or more in both runs must agree within ±{QUIET_AGREEMENT:.0%}")
    first, second = points(run1), points(run2)
    if load > cores:
        out(
            f"   Not judged: the machine was not quiet (one-minute load average up to {load:.1f} "
            f"on {cores} cores around the two runs, from other people's work). A quiet-machine check needs "
            f"a machine nobody else is using; the two runs are compared as loaded runs instead."
        )
        return True
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
        workers = f"{first[key]['workers']}+{second[key]['workers']} workers"
        out(f"   {key[0]:<7} {key[1]:<10} {key[2]:>8,}  {a:8.2f}  {b:8.2f}  {ratio:6.2f}  {verdict}{flags}; {workers}")
    out(f"   {checked - failed} of {checked} judged points agree within ±{QUIET_AGREEMENT:.0%}.")
    return failed == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("all", "quiet", "loaded"), default="all")
    parser.add_argument("--rules", help="comma-separated codes instead of the mode's own rules")
    arguments = parser.parse_args()
    mode = arguments.mode
    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    from perflint.measure.machine import describe_machine
    from perflint.measure.table import machine_summary

    cores = os.cpu_count() or 1
    rules = arguments.rules.split(",") if arguments.rules else QUIET_RULES if mode == "quiet" else RULES
    out(
        f"perflint bench repeatability in worker processes ({mode} mode), "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}"
    )
    out(f"Machine: {machine_summary(describe_machine())}")
    out(f"Rules: {', '.join(rules)} at their own sizes; `perflint bench` default policy; {cores} logical cores.")
    out("\nRuns")
    stem = "measure_repeatability" + ("" if mode == "all" else f"_{mode}")
    started = time.monotonic()
    run1, load1 = bench(stem, "run1", rules, out)
    runs = {"run1": run1}
    ok = True
    if mode in ("all", "quiet"):
        run2, load2 = bench(stem, "run2", rules, out)
        runs["run2"] = run2
    if mode in ("all", "loaded"):
        runs["loaded"], _ = bench(stem, "loaded", rules, out, busy=BUSY_PROCESSES)
    if mode in ("all", "quiet"):
        ok &= quiet_check(run1, run2, max(load1, load2), cores, out)

    first = points(run1)
    others = [(label, runs[key]) for label, key in (("run 2", "run2"), ("loaded run", "loaded")) if key in runs]
    for number, (label, other) in enumerate(others, 2):
        if label == "loaded run":
            label += f" ({BUSY_PROCESSES} busy processes)"
        out(f"\n{number}. The {label} against run 1: each point agrees within ±{LOADED_AGREEMENT:.0%} or is flagged")
        ok &= loaded_check(first, points(other), out)
    for label, data in runs.items():
        if too_few(data):
            out(f"   {label}: too few samples at {too_few(data)} (no number shown)")

    for new in [label for label in runs if label != "run1"]:
        out(f"\n{len(others) + 2}. perflint bench --compare run1.json {new}.json")
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "perflint",
                "bench",
                "--compare",
                str(RESULTS / f"{stem}_run1.json"),
                str(RESULTS / f"{stem}_{new}.json"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        out(completed.stdout.rstrip())

    out(f"\nLoad average at the end: {load()} on {cores} cores; {time.monotonic() - started:.0f} s in all.")
    out(f"Result: {'all checks passed' if ok else 'a check FAILED'}.")
    (RESULTS / f"{stem}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
