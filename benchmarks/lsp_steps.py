"""Where the time of ``perflint server``'s change -> diagnostics path goes, step by step.

The server runs as ``benchmarks/lsp_latency.py`` runs it (a subprocess speaking JSON-RPC over
its pipes, default debounce), with its steps wrapped in timers that write to a log: the
``didChange`` handler's call of ``schedule`` (after pygls has read and parsed the message and
applied the change to its document), the start of ``lint_now`` on the lint thread, the lint call
(``ProjectLinter.task`` and ``lint_buffer``), and ``_publish`` (findings to diagnostics, then the
notification written). ``time.perf_counter`` is the system's monotonic clock on Linux, so the
client's and the server's times compare. For each change of the file (the examples repeated to
2,000 lines, a line changed inside the function nearest the middle, a second apart):

- *to handler*: from the client writing ``didChange`` to the server's handler;
- *to lint thread*: from the handler to ``lint_now`` starting;
- *task*, *lint*: the lint call's two parts;
- *to diagnostics*: findings converted, notification serialized and written;
- *outside the lint*: the total less *task* and *lint*.

    python benchmarks/lsp_steps.py [--changes 10] [--edit inside|assignment]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from lsp_latency import changed_assignment, changed_inside, examples_repeated  # noqa: E402
from server.lsp_client import LanguageClient  # noqa: E402

STEPS = (
    ("schedule", "perflint.server.server", "PerflintServer", "schedule"),
    ("lint_now", "perflint.server.server", "PerflintServer", "lint_now"),
    ("task", "perflint.server.linting", "ProjectLinter", "task"),
    ("lint_buffer", "perflint.server.linting", None, "lint_buffer"),
    ("publish", "perflint.server.server", "PerflintServer", "_publish"),
)


def serve(log_path: str, arguments: list[str]) -> int:
    """``perflint server`` with each of ``STEPS`` logging its start and end."""
    import importlib

    log = open(log_path, "a", buffering=1)  # noqa: SIM115 - open for the server's life

    for label, module_name, class_name, attribute in STEPS:
        module = importlib.import_module(module_name)
        owner = getattr(module, class_name) if class_name else module
        original = getattr(owner, attribute)

        def timed(*args, _original=original, _label=label, **kwargs):  # noqa: ANN002, ANN003, ANN202
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                log.write(f"{_label} {started:.6f} {time.perf_counter():.6f}\n")

        setattr(owner, attribute, timed)
    from perflint.cli.main import main

    sys.argv = ["perflint", "server", *arguments]
    return main()


class StepClient(LanguageClient):
    """The test client, starting this script's timed server instead of ``perflint server``."""

    def __init__(self, cwd: Path, log_path: str) -> None:
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", log_path],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])},
        )
        self.incoming: queue.Queue = queue.Queue()
        self.notifications: list = []
        self.next_id = 1
        threading.Thread(target=self._read, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=10)
    parser.add_argument("--edit", choices=("inside", "assignment"), default="inside")
    parser.add_argument("--serve", metavar="LOG", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.serve:
        return serve(args.serve, rest)
    edit = changed_inside if args.edit == "inside" else changed_assignment
    source = examples_repeated(2000)
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder)
        (project / "pyproject.toml").write_text("[tool.perflint]\n")
        log_path = str(project / "steps.log")
        Path(log_path).write_text("")
        client = StepClient(project, log_path)
        try:
            client.initialize(project)
            uri = (project / "big_module.py").as_uri()
            client.open(uri, edit(source, 0))
            client.diagnostics(uri, version=1, timeout=120)
            print(f"load average {os.getloadavg()[0]:.1f} at start; change: {args.edit}; 2000 lines")
            for round_number in range(1, args.changes + 1):
                time.sleep(1.0)
                logged = len(Path(log_path).read_text().splitlines())
                text = edit(source, round_number)
                started = time.perf_counter()
                client.replace(uri, text, round_number + 1)
                client.diagnostics(uri, version=round_number + 1, timeout=120)
                ended = time.perf_counter()
                time.sleep(0.2)  # the log's last line is written after the notification
                steps = {}
                for line in Path(log_path).read_text().splitlines()[logged:]:
                    label, start, end = line.split()
                    steps[label] = (float(start), float(end))
                row = {
                    "total": ended - started,
                    "to handler": steps["schedule"][0] - started,
                    "to lint thread": steps["lint_now"][0] - steps["schedule"][0],
                    "task": steps["task"][1] - steps["task"][0],
                    "lint": steps["lint_buffer"][1] - steps["lint_buffer"][0],
                    "to diagnostics": steps["publish"][1] - steps["publish"][0],
                }
                row["outside the lint"] = row["total"] - row["task"] - row["lint"]
                for key, value in row.items():
                    rows.setdefault(key, []).append(value)
        finally:
            client.close()
    for key, values in rows.items():
        milliseconds = sorted(1000 * value for value in values)
        print(
            f"  {key}: median {statistics.median(milliseconds):.1f} ms, "
            f"min {milliseconds[0]:.1f} ms, max {milliseconds[-1]:.1f} ms, n={len(milliseconds)}"
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
