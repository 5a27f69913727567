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

Starting an interpreter and importing the benchmark's libraries costs far more than timing one
size (torch alone takes seconds, more on a loaded machine), so on Linux the parent starts one
*worker server* per worker index for a whole run (``python -m perflint.measure.worker --serve
LIBRARY…``): a fresh interpreter that imports the libraries once, runs nothing, and forks a
child per request. Each child is still a process of its own that no earlier benchmark ran in,
and worker *k* of every benchmark comes from server *k*, so the workers of one benchmark come
from separately started interpreters, with their own hash seeds and memory layouts, as before.
A server whose imports started a second thread (a BLAS pool of several threads) cannot fork
safely; it says so and the parent starts a fresh interpreter per worker instead.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import tempfile
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


def measured(request: dict[str, Any]) -> dict[str, Any]:
    """``run``'s result, or the reason it failed (never a traceback)."""
    try:
        return run(request)
    except Exception as error:
        from perflint.measure.harness import describe_error

        return {"error": describe_error(error)}


def main() -> int:
    if sys.argv[1:2] == ["--serve"]:
        return serve(sys.argv[2:])
    request = json.load(sys.stdin)
    result_stream = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the benchmark's own prints, even from C, go to stderr
    result = measured(request)
    json.dump(result, result_stream)
    result_stream.close()
    return 0


def serve(libraries: list[str]) -> int:
    """A worker server: import ``libraries`` (and every rule), say how many threads that left
    running, then answer each request line on standard input with one result line, measured in
    a child forked for that request alone."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    import numpy  # noqa: F401
    import threadpoolctl  # noqa: F401

    from perflint.measure import harness  # noqa: F401
    from perflint.rules import all_rules

    all_rules()
    for library in libraries:
        try:
            importlib.import_module(library)
        except Exception:  # the child reports why the library cannot be used, as a fresh worker would
            pass
    threads = len(os.listdir("/proc/self/task"))
    _answer(protocol, {"threads": threads})
    if threads != 1:
        return 0
    for line in sys.stdin:
        _answer(protocol, _forked(json.loads(line)))
    return 0


def _answer(protocol: Any, message: dict[str, Any]) -> None:
    protocol.write(json.dumps(message) + "\n")
    protocol.flush()


def _forked(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` measured in a forked child; its prints go to a file, the last line of which
    explains a child that died without a result."""
    with tempfile.TemporaryFile() as result_file, tempfile.TemporaryFile() as log:
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            try:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log.fileno(), 1)
                os.dup2(log.fileno(), 2)
                with open(result_file.fileno(), "w", encoding="utf-8", closefd=False) as stream:
                    json.dump(measured(request), stream)
            finally:
                for printed in (sys.stdout, sys.stderr):  # what the benchmark printed, for a failure's reason
                    try:
                        printed.flush()
                    except Exception:
                        pass
                os._exit(0)
        _, status = os.waitpid(child, 0)
        result_file.seek(0)
        try:
            return json.loads(result_file.read())
        except ValueError:
            log.seek(0)
            lines = log.read().decode("utf-8", "replace").strip().splitlines()
            code = os.waitstatus_to_exitcode(status)
            ending = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            return {"error": f"a worker process failed ({lines[-1] if lines else ending})"}


if __name__ == "__main__":
    sys.exit(main())
