"""Lint throughput against the floor: a bare ``libcst.parse_module`` of the same files.

The engine's target is a lint (the project index's ``ast`` pre-pass + parse + traversal +
every default rule + positions of the findings) of at most 1.3x the bare parse. Both are timed in this one process, in alternating
rounds, on the same sources already read into memory, by the CPU time of this process (so
other processes on a shared machine count less); the ratio of each round is reported and
the median ratio is the result.

    python benchmarks/lint_throughput.py PATH [PATH…] [--rounds N]
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


def time_parse(sources: list[tuple[str, str]]) -> float:
    start = time.process_time()
    for _, source in sources:
        libcst.parse_module(source)
    return time.process_time() - start


def time_lint(sources: list[tuple[str, str]], rules) -> tuple[float, int]:
    """The project index's pre-pass (every file read with ``ast``, no cache) and the lint of
    every file with its view, as ``perflint check`` does."""
    start = time.process_time()
    root = os.path.commonpath([path for path, _ in sources])
    views = project_views(
        [IndexedFile(os.path.abspath(path), source.encode()) for path, source in sources],
        root,
        None,
        whole_project=True,
    ).views
    findings = 0
    for path, source in sources:
        findings += len(lint_source(source, path, rules, project=views.get(os.path.abspath(path))))
    return time.process_time() - start, findings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()

    sources = read_sources(arguments.paths)
    rules = select_rules()
    lines = sum(source.count("\n") for _, source in sources)
    print(
        f"perflint {perflint.__version__}, libcst {importlib.metadata.version('libcst')}, "
        f"Python {platform.python_version()}, {platform.machine()}, {datetime.date.today()}"
    )
    print(f"{len(sources)} files, {lines} lines, {len(rules)} rules: {', '.join(rule.code for rule in rules)}")
    ratios = []
    for round_number in range(1, arguments.rounds + 1):
        if round_number % 2:
            parse_seconds = time_parse(sources)
            lint_seconds, findings = time_lint(sources, rules)
        else:
            lint_seconds, findings = time_lint(sources, rules)
            parse_seconds = time_parse(sources)
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
