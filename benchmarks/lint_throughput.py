"""Lint throughput against the floor: a bare ``libcst.parse_module`` of the same files.

The engine's target is a lint (the project index's ``ast`` pre-pass + parse + traversal +
every default rule + positions of the findings) of at most 1.3x the bare parse. Both are
timed in this one process, on the same sources already read into memory, by the CPU time of
this process (so other processes on a shared machine count less). Within a round each file's
bare parse and lint are timed back to back, in an order that alternates from file to file,
so that a drift of the machine's speed during the round (on a shared machine the same parse
can take 30% longer a minute later) falls on both sides alike; the ratio of each round is
reported and the median ratio is the result. ``--select ALL`` times every rule.

    python benchmarks/lint_throughput.py PATH [PATH…] [--rounds N] [--select CODES|ALL]
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import libcst

import perflint
from perflint.engine import lint_source
from perflint.engine.project_cache import IndexedFile, project_views
from perflint.rules import select_rules


def read_sources(roots: list[str]) -> list[tuple[str, str]]:
    sources = []
    for root in roots:
        for path in sorted(Path(root).rglob("*.py")):
            sources.append((str(path), path.read_text(encoding="utf-8")))
    return sources


def project_index(sources: list[tuple[str, str]]) -> dict:
    """The project index's pre-pass (every file read with ``ast``, no cache), as ``perflint
    check`` does before the lint of any file."""
    root = os.path.commonpath([path for path, _ in sources])
    return project_views(
        [IndexedFile(os.path.abspath(path), source.encode()) for path, source in sources],
        root,
        None,
        whole_project=True,
    ).views


def time_round(sources: list[tuple[str, str]], rules, round_number: int) -> tuple[float, float, int]:
    """CPU seconds of the bare parses and of the lint (the index's pre-pass included), and
    the number of findings."""
    start = time.process_time()
    views = project_index(sources)
    lint_seconds = time.process_time() - start
    parse_seconds = 0.0
    findings = 0
    for number, (path, source) in enumerate(sources):
        view = views.get(os.path.abspath(path))
        parse_first = (number + round_number) % 2 == 0
        for side in ("parse", "lint") if parse_first else ("lint", "parse"):
            start = time.process_time()
            if side == "parse":
                libcst.parse_module(source)
                parse_seconds += time.process_time() - start
            else:
                findings += len(lint_source(source, path, rules, project=view))
                lint_seconds += time.process_time() - start
    return parse_seconds, lint_seconds, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--select", help="rules to time instead of the default ones (ALL: every rule)")
    arguments = parser.parse_args()

    sources = read_sources(arguments.paths)
    rules = select_rules([arguments.select]) if arguments.select else select_rules()
    lines = sum(source.count("\n") for _, source in sources)
    print(
        f"perflint {perflint.__version__}, libcst {importlib.metadata.version('libcst')}, "
        f"Python {platform.python_version()}, {platform.machine()}, {datetime.date.today()}"
    )
    print(f"{len(sources)} files, {lines} lines, {len(rules)} rules: {', '.join(rule.code for rule in rules)}")
    ratios = []
    for round_number in range(1, arguments.rounds + 1):
        parse_seconds, lint_seconds, findings = time_round(sources, rules, round_number)
        ratios.append(lint_seconds / parse_seconds)
        print(
            f"round {round_number}: parse {parse_seconds:.2f} s, lint {lint_seconds:.2f} s "
            f"({findings} findings), ratio {ratios[-1]:.3f}"
        )
    median = statistics.median(ratios)
    print(f"median lint/parse ratio: {median:.3f} (target <= 1.3)")
    return 0 if median <= 1.3 else 1


if __name__ == "__main__":
    sys.exit(main())
