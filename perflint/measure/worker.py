"""One worker process of a measurement: ``python -m perflint.measure.worker`` (as pyperf's workers).

The parent (``perflint.measure.harness``) starts several of these one after another for each
benchmark and target, and pools their samples: a fresh interpreter per worker means no state of
an earlier benchmark (a warmed allocator, a grown thread pool, a cached kernel) leaks into the
next, and the spread between processes shows in the interval. The request arrives as JSON on
standard input and the result leaves as JSON on standard output; anything the benchmark itself
prints goes to standard error, so it cannot corrupt the result.

The thread pools are limited before the benchmark runs: the parent sets ``OMP_NUM_THREADS`` and
the BLAS libraries' variables in the environment (read when a library loads), and the worker
applies threadpoolctl's limits and ``torch.set_num_threads`` once the benchmark's libraries are
loaded, then reports the thread counts actually in force.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any


def locate_rule(module: str, qualname: str) -> Any:
    """The rule class (or any object with a ``benchmark``) named by its module and qualified name."""
    found: Any = importlib.import_module(module)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def limit_threads(threads: int) -> dict[str, Any]:
    """Limit every loaded BLAS and OpenMP pool and torch's CPU threads to ``threads``; return the
    counts in force afterwards (the BLAS libraries by name, torch's, or null without torch)."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return {
        "requested": threads,
        "pools": [
            {
                "library": pool.get("internal_api"),
                "api": pool.get("user_api"),
                "version": pool.get("version"),
                "threads": pool.get("num_threads"),
            }
            for pool in threadpool_info()
        ],
        "torch": torch.get_num_threads() if torch is not None else None,
    }


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Measure what ``request`` asks in this process (see ``harness.worker_request``)."""
    from perflint.measure import harness

    sys.path[:0] = [entry for entry in request.get("sys_path", ()) if entry not in sys.path]
    import numpy  # noqa: F401  (loads the BLAS, so that its pool can be limited from the start)

    threads = limit_threads(request["threads"])
    rule = locate_rule(request["module"], request["qualname"])
    policy = harness.TimingPolicy(**request["policy"])
    target = harness.resolve_target(rule.benchmark.backend, request["library"], request["device"])
    result = harness.measure_in_process(
        rule.benchmark,
        target,
        request["sizes"],
        policy,
        loops=request.get("loops"),
        after_first_call=lambda: threads.update(limit_threads(request["threads"])),
    )
    result["threads"] = threads
    return result


def main() -> int:
    request = json.load(sys.stdin)
    result_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the benchmark's own prints, even from C, go to stderr
    try:
        result = run(request)
    except Exception as error:  # reported to the parent as the reason, never as a traceback
        from perflint.measure.harness import describe_error

        result = {"error": describe_error(error)}
    json.dump(result, result_stream)
    result_stream.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
