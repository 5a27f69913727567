"""What one worker of ``perflint bench`` costs when it is a fresh interpreter: the worker's wall
time, its top-level imports (``python -X importtime``), and a bare interpreter's start, per rule.

This is the cost the worker servers of ``perflint.measure.harness`` pay once per run instead of
once per worker (each fresh worker of a torch benchmark imports torch). It runs the fresh-worker
path directly, as a run falls back to where no worker server can serve.

    python benchmarks/worker_startup.py PFL101 PFL116 PFL108 PFL306
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from perflint.measure import harness
from perflint.rules import rule_by_code


def imports_by_depth(stderr: str, depth: int) -> dict[str, float]:
    """Cumulative seconds of each import ``depth`` levels down (0: imported by the worker's own
    code) in ``-X importtime`` output."""
    found = {}
    for line in stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        name = parts[2].rstrip()
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue  # the header line
        if (len(name) - len(name.lstrip()) - 1) // 2 == depth:
            found[name.strip()] = cumulative / 1e6
    return found


def main() -> int:
    environment = dict(os.environ, **{name: "1" for name in harness.THREAD_VARIABLES})
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; --quick policy, each rule's middle size")
    for code in sys.argv[1:]:
        rule = rule_by_code(code)
        benchmark = rule.benchmark
        library, device = harness.targets_for(benchmark)[0]
        request = harness.worker_request(rule, library, device, [benchmark.middle_size], harness.QUICK_POLICY, None)
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "perflint.measure.worker"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=environment,
        )
        worker = time.perf_counter() - started
        imports, parts = imports_by_depth(done.stderr, 0), imports_by_depth(done.stderr, 1)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=environment, check=True)
        bare = time.perf_counter() - started
        largest = ", ".join(
            f"{name} {seconds:.2f} s" for name, seconds in sorted(parts.items(), key=lambda kv: -kv[1])[:4]
        )
        print(
            f"{code} {library}/{device}: worker {worker:.2f} s, of which imports {sum(imports.values()):.2f} s "
            f"(largest: {largest}); a bare interpreter starts in {bare:.2f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
