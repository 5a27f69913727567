"""Replay hostile cases against perflint and count what held (issue 22's proof).

    python benchmarks/robustness/run.py [-k SUBSTRING]

Every module named ``cases_*.py`` in this folder is imported (by file, so no package set-up is
needed) and its ``CASES`` list replayed. The interface a case module keeps:

- ``CASES`` is a list of callables. A case's name is the callable's ``__name__``; the first line
  of its docstring says what hostile input it tries.
- A case is called with one argument, a fresh empty temporary folder (``pathlib.Path``) that it
  may fill and that is deleted afterwards, and runs perflint (as a subprocess, ``sys.executable
  -m perflint``, so that a crash or a hang is observed rather than suffered).
- It returns a ``dict``: ``"held"`` (bool, required: perflint behaved as promised: a one-line
  error or a PFL000 finding, the right exit status, the other files still reported),
  ``"internal_error"`` (bool: a traceback, an ``internal error`` PFL000, or an exit status
  outside 0/1/2/130/143), ``"data_lost"`` (bool: a user's file deleted or changed, findings
  missing without a PFL000, or a cache serving another file's findings) and ``"detail"`` (str,
  one line, shown when the case did not hold). Missing flags count as False.
- A case that raises is counted as not held, with the exception as its detail.

Prints one line per case (``held`` / ``NOT HELD``), then the totals:
``bad inputs tried: N, internal errors: N, data lost: N, held: N/M``. Exit status 0 when every
case held, else 1.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent


def load_cases() -> list[tuple[str, Callable[[Path], dict[str, Any]]]]:
    """``(module, case)`` for every case of every ``cases_*.py`` here, in file then list order."""
    cases = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"robustness_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        cases.extend((path.stem, case) for case in module.CASES)
    return cases


def replay(case: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="perflint-robustness-") as folder:
        try:
            outcome = dict(case(Path(folder)))
        except Exception as error:  # a case's own failure: reported, never hidden
            detail = "".join(traceback.format_exception_only(type(error), error)).strip().splitlines()[-1]
            outcome = {"held": False, "detail": f"the case raised {detail}"}
    return {
        "held": bool(outcome.get("held")),
        "internal_error": bool(outcome.get("internal_error")),
        "data_lost": bool(outcome.get("data_lost")),
        "detail": str(outcome.get("detail", "")),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="substring", default="", help="only the cases whose name contains this")
    args = parser.parse_args(argv)
    cases = [(module, case) for module, case in load_cases() if args.substring in case.__name__]
    held = internal_errors = data_lost = 0
    started = time.monotonic()
    for module, case in cases:
        case_started = time.monotonic()
        outcome = replay(case)
        held += outcome["held"]
        internal_errors += outcome["internal_error"]
        data_lost += outcome["data_lost"]
        summary = (case.__doc__ or "").strip().splitlines()[0] if case.__doc__ else ""
        verdict = "held" if outcome["held"] else "NOT HELD"
        line = f"{verdict:8} {module}.{case.__name__} ({time.monotonic() - case_started:.1f} s): {summary}"
        if not outcome["held"] and outcome["detail"]:
            line += f" -- {outcome['detail']}"
        print(line, flush=True)
    print(
        f"\nbad inputs tried: {len(cases)}, internal errors: {internal_errors}, data lost: {data_lost}, "
        f"held: {held}/{len(cases)}  ({time.monotonic() - started:.0f} s, {os.cpu_count()} cores)"
    )
    return 0 if held == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
