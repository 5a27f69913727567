"""How long after a change ``perflint server`` publishes the diagnostics of a 2,000-line file.

The file is perflint's own examples (``examples/*.py``) repeated to 2,000 lines: training and
inference code dense with findings and fixes, so the lint does all its work (findings and
positions; the fixes' edits only when a code action asks, timed separately in this process). With ``--source PATH``, the first 2,000 lines of that file instead (cut
at a top-level statement), e.g. a real module of an ML library with few findings. The server
runs as an editor runs it, a subprocess speaking JSON-RPC over its pipes. The clock starts
just before a ``didChange`` is written and stops when the ``publishDiagnostics`` of that
version has been read, so the latency counts the debounce, the lint, the conversion to LSP
and both pipes. Changes are a second apart, so each is linted on its own, and of two kinds:

- *inside a function*: one line in the body of the function in the middle of the file changes
  (``edit_1 = 1``, then ``edit_2 = 2``...), what typing does most: the server lints it
  incrementally (``perflint.engine.incremental``);
- *assignment added*: a top-level assignment (``EDIT_N = N``) is added in the middle of the
  file (from one change to the next, the name it binds changes);
- *assignment changed*: the value of such an assignment changes (``EDIT = N``);
- *import added*: an import (``import math as edit_N``) is added after the import nearest the
  middle;
- *import renamed*: the name the one-line ``import`` nearest the middle binds changes (in the
  examples ``import numpy as np``, to ``np_edit`` and back from one change to the next), so
  every function that mentions it is linted again;
- *comment between functions*: a comment (``# edit N``) changes above the function nearest the
  middle.

The server lints each of them incrementally, or, where ``perflint.engine.incremental``
declines, whole.

Each kind runs with the server's default debounce (none: what an editor gets, the lint and the
protocol alone); the change inside a function also with ``--debounce 0.2``, the default before
the server linted incrementally. Then, in this process, the lint calls the server makes (the
incremental one of each kind from the previous version, and the whole lint), the whole lint
with the fixes' edits, and a bare ``libcst.parse_module`` of the same text, to show where the
time goes. The target is 300 ms
from change to diagnostics.

    python benchmarks/lsp_latency.py [--changes 15] [--lines 2000] [--source PATH]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from server.lsp_client import LanguageClient  # noqa: E402

import perflint  # noqa: E402
from perflint.server.server import DEFAULT_DEBOUNCE  # noqa: E402

TARGET_SECONDS = 0.300
# The server's default debounce before it linted incrementally, measured beside today's default.
EARLIER_DEBOUNCE = 0.2


def examples_repeated(lines: int) -> str:
    """perflint's examples, repeated until the text has ``lines`` lines."""
    example = "\n".join((ROOT / "examples" / name).read_text() for name in ("train_regression.py", "profile_guided.py"))
    text_lines: list[str] = []
    while len(text_lines) < lines:
        text_lines.extend(example.splitlines())
    return "\n".join(text_lines[:lines]) + "\n"


def head_of(path: Path, lines: int) -> str:
    """The first ``lines`` lines of ``path``, cut back to where a top-level statement starts."""
    text_lines = path.read_text(encoding="utf-8").splitlines()[: lines + 1]
    end = len(text_lines) - 1
    while end > 0 and (text_lines[end].startswith((" ", "\t", ")", "]", "}")) or not text_lines[end].strip()):
        end -= 1
    return "\n".join(text_lines[:end]) + "\n"


def _middle_top_level(lines: list[str]) -> int:
    """The index of the first top-level line from the middle of ``lines`` on."""
    middle = len(lines) // 2
    while lines[middle].startswith((" ", "\t", ")", "]", "}")) or not lines[middle].strip():
        middle += 1  # a top-level line, so the new one breaks no block
    return middle


def changed(text: str, round_number: int) -> str:
    """``text`` with a constant assignment added at top level in the middle, so the edit is
    real and the findings stay where they were."""
    lines = text.splitlines(keepends=True)
    lines.insert(_middle_top_level(lines), f"EDIT_{round_number} = {round_number}\n")
    return "".join(lines)


def changed_assignment(text: str, round_number: int) -> str:
    """``text`` with ``EDIT = N`` at top level in the middle: from one round to the next, the
    value of a module-level assignment changes."""
    lines = text.splitlines(keepends=True)
    lines.insert(_middle_top_level(lines), f"EDIT = {round_number}\n")
    return "".join(lines)


def _middle_import(tree: ast.Module, middle: int) -> ast.stmt:
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return min(imports, key=lambda node: abs(node.lineno - middle))


def import_added(text: str, round_number: int) -> str:
    """``text`` with ``import math as edit_N`` after the top-level import nearest the middle."""
    statement = _middle_import(ast.parse(text), text.count("\n") // 2)
    lines = text.splitlines(keepends=True)
    lines.insert(statement.end_lineno or statement.lineno, f"import math as edit_{round_number}\n")
    return "".join(lines)


def import_renamed(text: str, round_number: int) -> str:
    """``text`` with the one-line ``import X`` or ``import X as Y`` nearest the middle binding
    ``Y_edit`` (or ``X_edit``) instead in odd rounds."""
    tree = ast.parse(text)
    imports = [
        node
        for node in tree.body
        if isinstance(node, ast.Import) and len(node.names) == 1 and node.lineno == node.end_lineno
    ]
    middle = text.count("\n") // 2
    statement = min(imports, key=lambda node: abs(node.lineno - middle))
    alias = statement.names[0]
    lines = text.splitlines(keepends=True)
    if round_number % 2:
        bound = alias.asname or alias.name.partition(".")[0]
        lines[statement.lineno - 1] = f"import {alias.name} as {bound}_edit\n"
    return "".join(lines)


def comment_changed(text: str, round_number: int) -> str:
    """``text`` with ``# edit N`` on a line of its own above the function nearest the middle."""
    tree = ast.parse(text)
    middle = text.count("\n") // 2
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    function = min(functions, key=lambda node: abs(node.lineno - middle))
    first = min([function.lineno, *(decorator.lineno for decorator in function.decorator_list)])
    lines = text.splitlines(keepends=True)
    lines.insert(first - 1, f"# edit {round_number}\n")
    return "".join(lines)


def changed_inside(text: str, round_number: int) -> str:
    """``text`` with a line (``edit_N = N``) added at the start of the body of the function that
    starts nearest the middle of the file."""
    tree = ast.parse(text)
    middle = text.count("\n") // 2
    functions = [node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
    function = min(functions, key=lambda node: abs(node.lineno - middle))
    first = function.body[0]
    lines = text.splitlines(keepends=True)
    indent = " " * first.col_offset
    lines.insert(first.lineno - 1, f"{indent}edit_{round_number} = {round_number}\n")
    return "".join(lines)


def measure(project: Path, source: str, debounce: float, changes: int, edit: Callable[[str, int], str]) -> list[float]:
    client = LanguageClient(project, "--debounce", str(debounce))
    try:
        client.initialize(project)
        uri = (project / "big_module.py").as_uri()
        client.open(uri, edit(source, 0))
        first = client.diagnostics(uri, version=1, timeout=120)
        print(f"  {len(first)} diagnostics in the file")
        latencies = []
        for round_number in range(1, changes + 1):
            text = edit(source, round_number)
            version = round_number + 1
            started = time.perf_counter()
            client.replace(uri, text, version)
            client.diagnostics(uri, version=version, timeout=120)
            latencies.append(time.perf_counter() - started)
            time.sleep(1.0)
        return latencies
    finally:
        client.close()


EDITS: dict[str, Callable[[str, int], str]] = {
    "inside a function": changed_inside,
    "assignment added": changed,
    "assignment changed": changed_assignment,
    "import added": import_added,
    "import renamed": import_renamed,
    "comment between functions": comment_changed,
}


def in_process(project: Path, source: str, rounds: int) -> dict[str, list[float]]:
    """Seconds of the server's incremental lint of each kind of change (from the previous
    version's lint; a kind it declines is linted whole), of its whole lint for diagnostics (no
    fix edits), of the same lint with the fixes' edits (what a code action asking for fixes
    costs), and of a bare parse, alternating, after one warm-up."""
    import libcst

    from perflint.server.linting import ProjectLinter

    linter = ProjectLinter(str(project))
    path = str(project / "big_module.py")
    linter.lint(path, source, fix_edits=True)
    states = {label: linter.lint_incrementally(path, edit(source, 0), None)[1] for label, edit in EDITS.items()}
    times: dict[str, list[float]] = {label: [] for label in EDITS}
    declined = dict.fromkeys(EDITS, 0)
    lint_times, fixes_times, parse_times = [], [], []
    for round_number in range(1, rounds + 1):
        for label, edit in EDITS.items():
            text = edit(source, round_number)
            started = time.perf_counter()
            _, next_state = linter.lint_incrementally(path, text, states[label])
            times[label].append(time.perf_counter() - started)
            states[label] = next_state or states[label]
            declined[label] += next_state is None
        text = changed_inside(source, round_number)
        started = time.perf_counter()
        linter.lint(path, text)
        lint_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        linter.lint(path, text, fix_edits=True)
        fixes_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        libcst.parse_module(text)
        parse_times.append(time.perf_counter() - started)
    measured = {
        f"the server's lint of a change: {label} (ProjectLinter.lint_incrementally"
        + (f", {declined[label]} of {rounds} linted whole)" if declined[label] else ")"): times[label]
        for label in EDITS
    }
    return {
        **measured,
        "the whole lint for diagnostics (ProjectLinter.lint)": lint_times,
        "the same with the fixes' edits (a code action's first ask)": fixes_times,
        "bare libcst.parse_module": parse_times,
    }


def summary(latencies: list[float]) -> str:
    milliseconds = sorted(1000 * latency for latency in latencies)
    quartiles = statistics.quantiles(milliseconds, n=4)
    return (
        f"median {statistics.median(milliseconds):.0f} ms, quartiles {quartiles[0]:.0f}-{quartiles[2]:.0f} ms, "
        f"min {milliseconds[0]:.0f} ms, max {milliseconds[-1]:.0f} ms, n={len(milliseconds)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=15)
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        metavar="PATH",
        help="lint the head of this file instead of the examples repeated",
    )
    args = parser.parse_args()
    source = examples_repeated(args.lines) if args.source is None else head_of(args.source, args.lines)
    described = "examples/*.py repeated" if args.source is None else f"the head of {args.source}"
    print(
        f"perflint {perflint.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, "
        f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC"
    )
    print(f"file: {described}, {source.count(chr(10))} lines; {args.changes} changes a second apart")
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "pyproject.toml").write_text("[tool.perflint]\n")
        for label, edit in EDITS.items():
            debounces = {EARLIER_DEBOUNCE, DEFAULT_DEBOUNCE, 0.0} if edit is changed_inside else {DEFAULT_DEBOUNCE}
            for debounce in sorted(debounces, reverse=True):
                print(f"\nchange {label}, debounce {debounce:g} s:")
                latencies = measure(project, source, debounce, args.changes, edit)
                print(f"  change -> diagnostics: {summary(latencies)}")
                if debounce:
                    print(f"  less the debounce: {summary([latency - debounce for latency in latencies])}")
        print("\nin this process (the whole lints of the texts changed inside a function):")
        for label, times in in_process(project, source, args.changes).items():
            print(f"  {label}: {summary(times)}")
    print(
        f"\nload average {os.getloadavg()[0]:.1f} at the end; target: diagnostics within "
        f"{1000 * TARGET_SECONDS:.0f} ms of a change"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
