"""Why PFL116 at 128 points read 3.0x in one run and 2.3x in the next: the state of glibc's malloc.

Each of several fresh interpreters times one benchmark size (pattern and fix interleaved, one
thread, as a worker does), after two different histories (every rule imported, or the rule's
module alone), and counts the minor page faults per call of each side, first with
the environment as it is, then with the malloc thresholds that ``perflint bench`` pins in its
workers (``perflint.measure.harness.MALLOC_VARIABLES``). Page faults are counted, not timed, so
they mean the same on a loaded machine; the CPU time per call (``time.thread_time``, which a
descheduled process does not accumulate) is shown beside them.

Run: ``python benchmarks/malloc_state.py [CODE SIZE] [PROCESSES]`` (default PFL116 128, 6
processes each way); it writes ``benchmarks/results/malloc_state_CODE_SIZE.txt``.
"""

from __future__ import annotations

import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
SAMPLES = 11
# What the process did before timing: imported every rule (as a worker server does), or the
# rule's module alone. The same code then starts from a different heap.
HISTORIES = {"all": "after importing every rule", "alone": "after importing the rule's module alone"}


def rule_alone(code: str):
    """The rule's class, importing its module alone (not every rule, as a worker server does)."""
    import importlib

    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "perflint" / "rules").rglob("*.py")):
        if f'code = "{code}"' in path.read_text(encoding="utf-8"):
            module = importlib.import_module(".".join(path.relative_to(root).with_suffix("").parts))
            return next(value for value in vars(module).values() if getattr(value, "code", None) == code)
    raise SystemExit(f"no rule {code}")


def measure(code: str, size: int, history: str) -> dict:
    """In this process: each side's median CPU seconds and minor page faults per call."""
    from perflint.measure.harness import resolve_target
    from perflint.measure.worker import limit_threads
    from perflint.rules import select_rules

    rule = select_rules(select=[code])[0] if history == "all" else rule_alone(code)
    benchmark = rule.benchmark
    library = "numpy" if benchmark.backend == "array" else benchmark.backend
    limit_threads(1)  # first, as a worker does
    target = resolve_target(benchmark.backend, library, "cpu")
    inputs = tuple(benchmark.setup(size, target))
    sides = {"pattern": benchmark.pattern, "fix": benchmark.fix}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    faults: dict[str, list[int]] = {name: [] for name in sides}
    for function in sides.values():  # warm-up
        function(*inputs)
    for sample in range(SAMPLES):
        for name in sides if sample % 2 == 0 else reversed(sides):
            before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            started = time.thread_time()
            sides[name](*inputs)
            seconds[name].append(time.thread_time() - started)
            faults[name].append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return {name: (statistics.median(seconds[name]), statistics.median(faults[name])) for name in sides}


def main() -> int:
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
        return 0
    from perflint.measure.harness import MALLOC_VARIABLES, THREAD_VARIABLES

    code, size = (sys.argv[1], int(sys.argv[2])) if len(sys.argv) >= 3 else ("PFL116", 128)
    processes = int(sys.argv[3]) if len(sys.argv) >= 4 else 6
    threads = {name: "1" for name in THREAD_VARIABLES}
    lines: list[str] = []

    def out(text: str = "") -> None:
        print(text, flush=True)
        lines.append(text)

    out(f"{code} at {size:,}: minor page faults and CPU time per call, each process a fresh interpreter")
    out(f"Load average before: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    for (label, extra), history in itertools.product(
        (("malloc as it is (glibc's dynamic thresholds)", {}), ("malloc pinned", MALLOC_VARIABLES)), HISTORIES
    ):
        settings = " ".join(f"{k}={v}" for k, v in extra.items()) or "no MALLOC_ variable set"
        out(f"\n{label}, {HISTORIES[history]}: {settings}")
        out(f"   {'process':>7}  {'pattern':>10} {'faults':>7}  {'fix':>10} {'faults':>7}  {'ratio':>6}")
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("MALLOC_") and key != "GLIBC_TUNABLES"
        }
        for number in range(1, processes + 1):
            completed = subprocess.run(
                [sys.executable, __file__, "--child", code, str(size), history],
                env={**environment, **threads, **extra},
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(completed.stdout)
            (pattern, pattern_faults), (fix, fix_faults) = result["pattern"], result["fix"]
            out(
                f"   {number:>7}  {pattern * 1e6:8.0f}us {pattern_faults:7.0f}  {fix * 1e6:8.0f}us {fix_faults:7.0f}  "
                f"{pattern / fix:6.2f}"
            )
    out(f"\nLoad average after: {', '.join(f'{value:.2f}' for value in os.getloadavg())}")
    (RESULTS / f"malloc_state_{code}_{size}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
