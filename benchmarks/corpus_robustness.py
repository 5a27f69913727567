"""Lint large bodies of real code with every rule and count internal errors (target: zero).

Every ``*.py`` and ``*.pyi`` file under the given folders is linted with ``--select ALL``
through the same runner ``perflint check`` uses (worker processes, per-file time limit), but
without the default exclusions: test folders, which the CLI skips, are where odd syntax lives.
A PFL000 finding is sorted into *internal error* (a rule or the engine failed, or a worker
died: a perflint bug), *time limit* and *unreadable or unparsable input* (the file itself is
bad: CPython's test suite ships deliberately broken files). Exit status 1 if any internal
error was seen.

    python benchmarks/corpus_robustness.py [--stdlib] [PATH …] [--jobs N]
"""

from __future__ import annotations

import argparse
import collections
import datetime
import os
import platform
import sys
import sysconfig
import time

import perflint
from perflint.engine.findings import INTERNAL_ERROR_CODE
from perflint.files import SourceFile, is_python_file
from perflint.rules import select_rules
from perflint.runner import LintTask, lint_files

# Third-party packages installed inside the standard library folder are not the standard library.
_NOT_STDLIB = {"site-packages", "dist-packages", "__pycache__"}


def python_files(root: str) -> list[SourceFile]:
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(name for name in subfolders if name not in _NOT_STDLIB)
        for name in sorted(names):
            if is_python_file(name) and not name.endswith(".ipynb"):
                path = os.path.join(folder, name)
                found.append(SourceFile(path, os.path.abspath(path)))
    return found


def category(message: str) -> str:
    if message.startswith("internal error"):
        return "internal error"
    if message.startswith("time limit"):
        return "time limit"
    return "unreadable or unparsable input"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--stdlib", action="store_true", help="also the running interpreter's standard library")
    parser.add_argument("--jobs", type=int, default=None)
    arguments = parser.parse_intermixed_args()  # options may come between the paths
    roots = list(arguments.paths)
    if arguments.stdlib:
        roots.insert(0, sysconfig.get_paths()["stdlib"])
    codes = tuple(rule.code for rule in select_rules(select=["ALL"]))
    print(
        f"perflint {perflint.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.date.today()}"
    )
    print(f"rules (--select ALL): {', '.join(codes)}")
    internal_total = 0
    for root in roots:
        files = python_files(root)
        tasks = [LintTask(source_file, codes) for source_file in files]
        started = time.perf_counter()
        findings = lint_files(tasks, jobs=arguments.jobs)
        elapsed = time.perf_counter() - started
        by_code = collections.Counter(finding.code for finding in findings)
        problems = [finding for finding in findings if finding.code == INTERNAL_ERROR_CODE]
        by_category = collections.Counter(category(finding.message) for finding in problems)
        internal_total += by_category["internal error"]
        rule_counts = (
            ", ".join(f"{code} {count}" for code, count in sorted(by_code.items()) if code != INTERNAL_ERROR_CODE)
            or "none"
        )
        print(f"\n{root}: {len(files)} files in {elapsed:.0f} s wall")
        print(f"  findings: {rule_counts}")
        for name in ("internal error", "time limit", "unreadable or unparsable input"):
            print(f"  PFL000 {name}: {by_category[name]}")
        for finding in problems:
            print(f"    {finding.path}:{finding.line}:{finding.column}: {finding.message}")
    print(f"\ninternal errors in total: {internal_total} (target: 0)")
    return 1 if internal_total else 0


if __name__ == "__main__":
    sys.exit(main())
