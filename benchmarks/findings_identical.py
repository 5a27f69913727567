"""Do two trees of perflint report the same findings? For engine changes that must not change
what is found (speed-ups, refactors): lint the same paths with each tree's ``perflint check
--output-format json`` (every rule, no cache, the longest per-file timeout) and compare
the findings, messages, fixes and evidence included.

    python benchmarks/findings_identical.py BEFORE_TREE AFTER_TREE PATH [PATH…]

BEFORE_TREE and AFTER_TREE are checkouts of perflint (``git worktree add`` or ``git archive``
of the two commits). Exits 1, listing the differences, when the findings differ.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile


def findings_of(tree: str, paths: list[str]) -> list[str]:
    """Each finding of ``tree``'s lint of ``paths``, as canonical JSON, sorted.

    The lint runs in an empty folder: ``python -m`` puts the working folder first on the import
    path, so run from inside a checkout it would import that checkout's perflint, not ``tree``'s.
    """
    with tempfile.TemporaryDirectory() as neutral:
        completed = _lint(tree, [os.path.abspath(path) for path in paths], neutral)
    if completed.returncode != 0:
        sys.exit(f"perflint of {tree} failed:\n{completed.stderr}")
    return sorted(json.dumps(finding, sort_keys=True) for finding in json.loads(completed.stdout)["findings"])


def _lint(tree: str, paths: list[str], folder: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "perflint",
            "check",
            "--select",
            "ALL",
            "--output-format",
            "json",
            "--no-cache",
            "--exit-zero",
            "--per-file-timeout",
            "3600",
            *paths,
        ],
        env={**os.environ, "PYTHONPATH": os.path.abspath(tree)},
        cwd=folder,
        capture_output=True,
        text=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args()
    before = findings_of(arguments.before, arguments.paths)
    after = findings_of(arguments.after, arguments.paths)
    only_before = sorted(set(before) - set(after))
    only_after = sorted(set(after) - set(before))
    print(f"before: {len(before)} findings; after: {len(after)} findings")
    for line in only_before:
        print(f"- {line}")
    for line in only_after:
        print(f"+ {line}")
    identical = before == after
    print("identical" if identical else "DIFFERENT")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
