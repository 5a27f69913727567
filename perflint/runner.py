"""Lint many files: cache look-ups in this process, the misses in worker processes.

Whatever goes wrong with one file (unreadable, undecodable, unparsable, a rule or the engine
raising, its worker process dying, a file taking longer than its time limit) becomes a PFL000
finding for that file; the run goes on.

The engine, and with it libcst and the rules, is imported only when a file has to be linted:
a run whose every file is cached never pays for them.

Files are linted in worker processes even when one worker is asked for (``--jobs 1``): libcst's
native parser can overflow its stack and kill the process on an expression nested a few
thousand deep, and only a separate process survives that, costing its one file. The time limit
is kept two ways: in the worker a CPU-time interval timer interrupts the lint when Python code
next runs (the rules, the walk, libcst's building of the tree), and this process kills a worker
still on its file at ten times the limit plus thirty seconds of wall time, whatever it is
doing (a long stretch inside the native parser, a wait): wall time is generous because a busy
machine stretches it (a 50,000-line file, 5 s of CPU, took 44 s of wall time on the 2-core
machine the tests ran on under a load of 14).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING

from perflint.config import MAX_PER_FILE_TIMEOUT
from perflint.engine.findings import Finding, unlintable
from perflint.engine.safety import FixSafety
from perflint.files import (
    SourceFile,
    UnreadableSourceError,
    decode_source,
    encode_source,
    is_inherited_pipe,
    is_notebook,
    read_source,
)

if TYPE_CHECKING:
    from perflint.cache import Cache
    from perflint.engine.project import ProjectView
    from perflint.engine.rule import Rule

# Below this many files to lint, starting more than one worker process costs more than it saves.
PARALLEL_THRESHOLD = 16
# A worker still on its file after this many times its limit plus this many seconds of wall
# time is killed (see above).
BACKSTOP_FACTOR = 10
BACKSTOP_GRACE = 30.0
# A limit covers this much source (about 10,000 lines); a larger file gets a proportionally
# larger one, so the limit stops pathological files, not big ones; but never more than
# MAX_LIMIT_SCALE times the limit (2.4 MB of source, a minute at the default 10 s): a 10 MB
# single-line file once kept a worker busy for 200 s under a limit scaled 25-fold.
BYTES_PER_LIMIT = 400_000
MAX_LIMIT_SCALE = 6.0
# No file's limit exceeds the most the configuration accepts, whatever the scaling: the interval
# timer takes seconds as a C double and the wall-clock backstop must stay a number of seconds a
# run can wait.
MAX_TIME_LIMIT = MAX_PER_FILE_TIMEOUT


def scaled_limit(seconds: float, size: int) -> float:
    """The time limit of a file of ``size`` bytes under a per-file limit of ``seconds``."""
    scaled = seconds * min(MAX_LIMIT_SCALE, max(1.0, size / BYTES_PER_LIMIT))
    return min(scaled, MAX_TIME_LIMIT) if scaled == scaled else MAX_TIME_LIMIT  # NaN: the maximum


# What a task does with its file's fixes (``LintTask.fixes``).
NO_FIXES, SAFE_FIXES, UNSAFE_FIXES = None, FixSafety.SAFE, FixSafety.UNSAFE


@dataclass(frozen=True)
class LintTask:
    """One file, the codes enabled for it (the selection minus its per-file ignores), the
    cache folder of its project (None: not cached), its time limit in seconds (None: none),
    its bytes when they do not come from the file (standard input), which fixes to apply
    (``SAFE_FIXES``, ``UNSAFE_FIXES`` with the unsafe ones too, or ``NO_FIXES``), and what the
    project index says about its names (None: linted alone)."""

    source_file: SourceFile
    codes: tuple[str, ...]
    cache_directory: str | None = None
    time_limit: float | None = None
    data: bytes | None = None
    fixes: FixSafety | None = NO_FIXES
    project: ProjectView | None = None

    @property
    def project_digest(self) -> str:
        """The digest of the project facts the file's findings depend on: part of its cache key."""
        return self.project.digest if self.project is not None else ""


@dataclass(frozen=True)
class LintResult:
    """The findings of a file (after fixing, the ones that remain). When fixes were applied,
    ``original`` is the bytes they were applied to and ``fixed_data`` the fixed file's bytes,
    in the file's own encoding; ``fixed`` counts the fixes."""

    findings: list[Finding]
    cache_key: str | None  # None: not to be cached (unreadable, timed out, or a failure)
    original: bytes | None = None
    fixed_data: bytes | None = None
    fixed: int = 0


class FileTimeLimitExceeded(BaseException):
    """Raised by the interval timer. A BaseException, so that the engine's guard against a
    failing rule (which catches Exception) does not swallow it and walk on."""


def lint_source(
    source: str,
    path: str,
    rule_classes: Sequence[type[Rule]],
    apply_noqa: bool = True,
    project: ProjectView | None = None,
    fix_edits: bool = True,
) -> list[Finding]:
    """The engine's ``lint_source``, imported on first use."""
    from perflint.engine.linter import lint_source as engine_lint_source

    return engine_lint_source(source, path, rule_classes, apply_noqa, project=project, fix_edits=fix_edits)


@cache
def _rule_classes(codes: tuple[str, ...]) -> tuple[type[Rule], ...]:
    from perflint.rules import all_rules

    by_code = {rule.code: rule for rule in all_rules()}
    return tuple(by_code[code.upper()] for code in codes)


def time_limit_message(seconds: float) -> str:
    return f"time limit: linting took longer than {seconds:.3g} s of CPU time (per-file-timeout)"


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise ``FileTimeLimitExceeded`` in this thread once it has used ``seconds`` of CPU time.

    The main thread takes it as a signal (``setitimer``); another thread (the language server
    lints on one) from a watchdog thread that reads this thread's own CPU clock, where the OS
    has one. Either is seen between two Python instructions, so a long call into native code
    ends first. Where neither exists, no limit."""
    if seconds is None:
        yield
    elif threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _signal_time_limit(seconds):
            yield
    elif hasattr(time, "pthread_getcpuclockid"):
        with _thread_time_limit(seconds):
            yield
    else:
        yield


@contextmanager
def _signal_time_limit(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise FileTimeLimitExceeded

    # CPU time, not wall time: on a loaded machine a big file must not time out for waiting.
    previous = signal.signal(signal.SIGPROF, expire)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# A pending asynchronous exception is raised at the next instruction boundary; these many
# loop iterations are far more than it takes.
_SURFACING_INSTRUCTIONS = 100_000


@contextmanager
def _thread_time_limit(seconds: float) -> Iterator[None]:
    """The limit for a thread other than the main one: a watchdog sleeps until this thread could
    have used ``seconds`` of CPU time (never sooner than it could), reads its CPU clock, and once
    the time is used raises the exception in it (``PyThreadState_SetAsyncExc``). Leaving the
    block stops the watchdog; an exception it raised that has not surfaced yet is raised here."""
    import ctypes

    thread = threading.get_ident()
    clock = time.pthread_getcpuclockid(thread)
    deadline = time.clock_gettime(clock) + seconds
    finished = threading.Event()
    lock = threading.Lock()
    fired = []

    def watch() -> None:
        while not finished.wait(max(deadline - time.clock_gettime(clock), 0.001)):
            if time.clock_gettime(clock) < deadline:
                continue
            with lock:
                if not finished.is_set():
                    fired.append(True)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(
                        ctypes.c_ulong(thread), ctypes.py_object(FileTimeLimitExceeded)
                    )
            return

    watchdog = threading.Thread(target=watch, name="perflint-time-limit", daemon=True)
    watchdog.start()
    surfaced = False
    try:
        yield
    except FileTimeLimitExceeded:
        surfaced = True
        raise
    finally:
        with lock:
            finished.set()
        watchdog.join()
        if fired and not surfaced:
            # Raised as the block ended: let it surface here, not in whatever runs next. (Clearing
            # it with ``PyThreadState_SetAsyncExc(thread, NULL)`` would leave the interpreter's
            # "async exception pending" flag set for good, and every thread would then stop at
            # each instruction to look for one.)
            try:
                for _ in range(_SURFACING_INSTRUCTIONS):
                    pass
            except FileTimeLimitExceeded:
                pass
            raise FileTimeLimitExceeded


def lint_file(task: LintTask, fingerprint: str | None, fix_edits: bool = True) -> LintResult:
    """Read, decode and lint one file. Never raises for the file's sake. ``fix_edits=False``
    (the language server's diagnostics) leaves the findings' fixes out, and nothing is cached."""
    path = task.source_file.path
    data = task.data
    if data is None:
        data, error = read_source(task.source_file)
        if data is None:
            assert error is not None  # read_source gives the bytes or the finding that says why not
            return LintResult([error], None)
    key = None
    if fingerprint is not None and fix_edits:
        from perflint.cache import task_cache_key

        key = task_cache_key(task, data, fingerprint)
    limit = scaled_limit(task.time_limit, len(data)) if task.time_limit is not None else None
    try:
        with _time_limit(limit):
            if task.fixes is not NO_FIXES and not is_notebook(path):
                return _fix_bytes(data, path, task, fingerprint)
            return LintResult(_lint_bytes(data, path, task.codes, task.project, fix_edits), key)
    except FileTimeLimitExceeded:
        return LintResult([unlintable(path, time_limit_message(limit or 0))], None)
    except MemoryError:
        return LintResult([unlintable(path, out_of_memory_message(_memory_allowance))], None)
    except UnreadableSourceError as error:
        return LintResult([unlintable(path, str(error), error.line)], key)
    except Exception as error:  # an engine bug on one file must not end the run
        return LintResult([unlintable(path, f"internal error: {type(error).__name__}: {error}")], None)


def _lint_bytes(
    data: bytes, path: str, codes: tuple[str, ...], project: ProjectView | None, fix_edits: bool = True
) -> list[Finding]:
    if is_notebook(path):
        from perflint.notebook import lint_notebook

        return lint_notebook(
            data, path, lambda source: lint_source(source, path, _rule_classes(codes), fix_edits=fix_edits)
        )
    return lint_source(decode_source(data), path, _rule_classes(codes), project=project, fix_edits=fix_edits)


def _fix_bytes(data: bytes, path: str, task: LintTask, fingerprint: str | None) -> LintResult:
    """Lint and fix one file's bytes in passes (``engine.fixes.fix_source``); the fixed text is
    encoded as the file was (its coding cookie or BOM), line endings untouched."""
    from perflint.engine.fixes import fix_source

    source = decode_source(data)
    outcome = fix_source(
        source, path, _rule_classes(task.codes), unsafe=task.fixes == UNSAFE_FIXES, project=task.project
    )
    from perflint.cache import task_cache_key

    if not outcome.fixed:
        key = task_cache_key(task, data, fingerprint) if fingerprint is not None and not outcome.refused else None
        return LintResult(outcome.findings, key)
    fixed_data = encode_source(outcome.source, data)
    key = None
    if fingerprint is not None and not outcome.refused:
        key = task_cache_key(task, fixed_data, fingerprint)
    return LintResult(outcome.findings, key, original=data, fixed_data=fixed_data, fixed=outcome.fixed)


def available_cores() -> int:
    """The cores this process may run on (a container's or ``taskset``'s share, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_jobs(file_count: int) -> int:
    """One worker for a small run (starting more costs more than it saves), else one per core."""
    if file_count < PARALLEL_THRESHOLD:
        return 1
    return available_cores()


def worker_count(jobs: int | None, file_count: int) -> int:
    """How many workers lint ``file_count`` files under ``--jobs``: never more than the files,
    nor than the cores (linting is CPU-bound: more workers than cores only add memory and
    start-up time; ``--jobs 500`` once started 500 processes)."""
    return max(1, min(jobs or default_jobs(file_count), available_cores(), file_count))


def lint_files(tasks: Sequence[LintTask], jobs: int | None = None) -> list[Finding]:
    """Every finding of every task, sorted. ``jobs`` worker processes lint the files the cache
    does not already know (default: one for a small run, else one per core).

    Each file is read once, here: its bytes give the cache key and go to the worker, so a file
    that changes meanwhile, or a pipe that can be read only once, is linted as it was looked up."""
    results: dict[int, list[Finding]] = {}
    misses: list[int] = []
    caches: dict[str, Cache] = {}
    sent: list[LintTask] = list(tasks)
    for index, task in enumerate(tasks):
        data, error = (task.data, None) if task.data is not None else read_source(task.source_file)
        if data is None:
            assert error is not None  # read_source gives the bytes or the finding that says why not
            results[index] = [error]
            continue
        directory = task.cache_directory
        if directory is not None and task.data is None and is_inherited_pipe(task.source_file.absolute):
            directory = None  # a pipe's bytes are gone once read: nothing to look up next time
        sent[index] = replace(task, data=data, cache_directory=directory)
        if directory is None:
            misses.append(index)
            continue
        if directory not in caches:
            from perflint.cache import Cache

            caches[directory] = Cache(directory)
        cache = caches[directory]
        from perflint.cache import task_cache_key

        cached = cache.load(task_cache_key(task, data, cache.fingerprint), task.source_file.path)
        if cached is None:
            misses.append(index)
        else:
            results[index] = cached
    workers = worker_count(jobs, len(misses))
    fingerprint = next(iter(caches.values())).fingerprint if caches else None
    fresh = WorkerPool(workers, fingerprint).run(sent, misses) if misses else {}
    cache_errors: list[tuple[str, OSError]] = []
    for index, result in fresh.items():
        results[index] = result.findings
        directory = sent[index].cache_directory
        if directory is not None and result.cache_key is not None:
            try:
                caches[directory].store(result.cache_key, result.findings)
            except OSError as error:
                cache_errors.append((directory, error))
    if cache_errors:
        directory, cache_error = cache_errors[0]
        print(f"perflint: warning: cannot write the cache in {directory}: {cache_error}", file=sys.stderr)
    findings = [finding for index in sorted(results) for finding in results[index]]
    return sorted(findings, key=_order)


def fix_files(tasks: Sequence[LintTask], jobs: int | None = None) -> list[LintResult]:
    """Lint and fix each task's file in worker processes, one result per task. The cache is
    not read (fixing needs the file's tree); what remains in a fixed file is cached under its
    new bytes."""
    if not tasks:
        return []
    from perflint.cache import Cache, build_fingerprint

    fingerprint = build_fingerprint() if any(task.cache_directory for task in tasks) else None
    # A pipe (process substitution) was read by the lint and is empty now: there is nothing to
    # fix again, nor anywhere to write; what the lint found stands, with a PFL000 that says so.
    results = {
        index: LintResult([unlintable(task.source_file.path, "fixes not applied: a pipe can be read only once")], None)
        for index, task in enumerate(tasks)
        if task.data is None and is_inherited_pipe(task.source_file.absolute)
    }
    rest = [index for index in range(len(tasks)) if index not in results]
    if rest:
        results.update(WorkerPool(worker_count(jobs, len(rest)), fingerprint).run(tasks, rest))
    for index, result in results.items():
        directory = tasks[index].cache_directory
        if directory is not None and result.cache_key is not None:
            try:
                Cache(directory).store(result.cache_key, result.findings)
            except OSError:
                pass  # the lint before the fixes already warned that this cache cannot be written
    return [results[index] for index in range(len(tasks))]


def _order(finding: Finding) -> tuple:
    return (*finding.sort_key, finding.end_line, finding.end_column, finding.message)


def _serve(
    connection: Connection,
    fingerprint: str | None,
    parent: int | None,
    inherited: Sequence[int],
    memory_limit: int | None,
) -> None:
    """A worker process: lint each task it is sent until it is sent ``None`` or its parent is gone."""
    # Ctrl-C and SIGTERM are the parent's to handle; it ends the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    # A forked worker holds copies of the parent's ends of every worker's pipe: closed, so that
    # when the parent dies the last copy of this worker's other end goes and ``recv`` ends.
    for descriptor in inherited:
        try:
            os.close(descriptor)
        except OSError:
            pass
    _limit_memory(memory_limit)
    # A worker that dies (the native parser's stack overflowing, an allocation failing in native
    # code) is reported by the parent as its file's PFL000; a fault handler inherited from the
    # parent (pytest's) would only add a stack dump to standard error.
    import faulthandler

    faulthandler.disable()
    # Before the first file, so that its time limit is not spent importing; a forked worker
    # inherits all this from its parent (``WorkerPool``), and this finds it done.
    prepare_worker()
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        result = lint_file(task, fingerprint)
        try:
            connection.send(result)
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent is gone
        except Exception as error:  # the result could not be sent back (e.g. not picklable)
            connection.send(_failure(task, f"{type(error).__name__}: {error}"))


def prepare_worker() -> None:
    """Import and build what every worker needs before its first file: the engine, the rules
    and their checked hooks, the libcst fields those hooks walk, and the modules a worker's
    set-up imports. Done in this process before it forks its workers, each starts with them
    instead of spending its own time on them."""
    import ctypes  # noqa: F401  (_die_with_parent)
    import faulthandler  # noqa: F401

    from perflint.engine.hooks import hooks_of
    from perflint.engine.linter import KNOWLEDGE
    from perflint.engine.walker import syntax_fields
    from perflint.rules import all_rules

    owners: list[type] = [knowledge for _, knowledge in KNOWLEDGE]
    owners += all_rules()
    for owner in owners:
        for hook in hooks_of(owner):
            syntax_fields(hook.node_type)


def _die_with_parent(parent: int | None) -> None:
    """Have the kernel kill this worker when its parent dies, however it dies (SIGKILL too), so
    that no worker is left linting for nobody. Linux only (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere the closed pipe ends a worker at its next file. ``parent`` is perflint's process
    when it forked this worker itself (under forkserver the parent is the server)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent is not None and os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)


# Each worker's address space is bounded, so that one pathological file fails alone (PFL000
# "out of memory") instead of swapping the machine to a halt: a 10 MB single-line file once took
# 13.5 GB. Linting a 50,000-line file (1.2 MB, a finding on every third line) took 1.0 GB of
# address space beyond the worker's own (measured with libcst 1.9 on Python 3.11); the allowance
# is four times that. Address space, not resident memory: it is the limit the kernel enforces at
# allocation, so Python sees a MemoryError. It is added to what the worker holds when it starts,
# since a forked worker begins with its parent's address space.
WORKER_MEMORY_ALLOWANCE = 4 * 1024**3


def worker_memory_limit() -> int | None:
    """How much address space each worker may take beyond what it starts with, in bytes; None
    where no bound can be set (no ``resource`` module)."""
    try:
        import resource  # noqa: F401  (Unix only)
    except ImportError:
        return None
    return WORKER_MEMORY_ALLOWANCE


def _address_space() -> int:
    """This process's address space in bytes (Linux); 0 where it cannot be read."""
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            return int(stream.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


# The allowance this worker process runs under (None: none, or not a worker).
_memory_allowance: int | None = None


def _limit_memory(allowance: int | None) -> None:
    global _memory_allowance
    if allowance is None:
        return
    import resource

    limit = _address_space() + allowance
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        if soft == resource.RLIM_INFINITY or soft > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
            _memory_allowance = allowance
    except (ValueError, OSError):
        pass


def out_of_memory_message(allowance: int | None) -> str:
    amount = f"more than {allowance / 1024**3:.3g} GiB" if allowance else "more memory than there is"
    return f"out of memory: linting this file needed {amount}, the bound on each worker process"


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    index: int | None = None
    deadline: float | None = None


class WorkerPool:
    """Worker processes fed one file at a time, so this process knows which file each one is
    on and since when: a worker past its file's time limit is killed and replaced, and one that
    dies is pinned on its file alone."""

    def __init__(self, size: int, fingerprint: str | None) -> None:
        self.size = size
        self.fingerprint = fingerprint
        self.memory_limit = worker_memory_limit()
        self._parent_ends: list[Connection] = []

    def _start(self) -> _Worker:
        ours, theirs = multiprocessing.Pipe()
        self._parent_ends = [end for end in self._parent_ends if not end.closed] + [ours]
        # Only a forked worker inherits descriptors; a spawned one is given just its own end.
        forked = multiprocessing.get_start_method() == "fork"
        inherited = [end.fileno() for end in self._parent_ends] if forked else []
        process = multiprocessing.Process(
            target=_serve,
            args=(theirs, self.fingerprint, os.getpid() if forked else None, inherited, self.memory_limit),
            daemon=True,
        )
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def run(self, tasks: Sequence[LintTask], indices: Sequence[int]) -> dict[int, LintResult]:
        if multiprocessing.get_start_method() == "fork":
            prepare_worker()
        # Largest files first, so that one big file started last does not leave the others idle.
        pending = sorted(indices, key=lambda index: _size(tasks[index]))  # popped from the end
        results: dict[int, LintResult] = {}
        workers: list[_Worker] = []
        try:
            workers = [self._start() for _ in range(min(self.size, len(pending)))]
            while pending or any(worker.index is not None for worker in workers):
                for worker in workers:
                    if worker.index is None and pending:
                        self._give(worker, tasks, pending.pop())
                busy = [worker for worker in workers if worker.index is not None]
                deadlines = [worker.deadline for worker in busy if worker.deadline is not None]
                timeout = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
                ready = wait([worker.connection for worker in busy], timeout)
                for position, worker in enumerate(workers):
                    index = worker.index
                    if index is None:
                        continue
                    task = tasks[index]
                    if worker.connection in ready:
                        try:
                            results[index] = worker.connection.recv()
                            worker.index = worker.deadline = None
                            continue
                        except (EOFError, OSError):
                            results[index] = _death(task, worker.process, self.memory_limit)
                    elif worker.deadline is not None and time.monotonic() >= worker.deadline:
                        limit = scaled_limit(task.time_limit or 0, _size(task))
                        results[index] = LintResult(
                            [unlintable(task.source_file.path, time_limit_message(limit))], None
                        )
                    else:
                        continue
                    self._stop(worker)
                    workers[position] = self._start()
        finally:
            for worker in workers:
                self._stop(worker, gently=worker.index is None)
        return results

    @staticmethod
    def _give(worker: _Worker, tasks: Sequence[LintTask], index: int) -> None:
        task = tasks[index]
        worker.index = index
        # The worker's own timer counts CPU time and fires first; this wall-clock backstop is for
        # code that timer cannot interrupt, with room for a loaded machine and a fresh worker.
        if task.time_limit is None:
            worker.deadline = None
        else:
            limit = scaled_limit(task.time_limit, _size(task))
            worker.deadline = time.monotonic() + BACKSTOP_FACTOR * limit + BACKSTOP_GRACE
        try:
            worker.connection.send(task)
        except OSError:
            pass  # a worker that is already gone: the wait that follows sees it, as a death

    @staticmethod
    def _stop(worker: _Worker, gently: bool = False) -> None:
        if gently:
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.process.join(timeout=5)
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        worker.connection.close()


def _size(task: LintTask) -> int:
    if task.data is not None:
        return len(task.data)
    try:
        return os.path.getsize(task.source_file.absolute)
    except OSError:
        return 0


def _death(task: LintTask, process: multiprocessing.process.BaseProcess, memory_limit: int | None) -> LintResult:
    """The result of a worker that died on ``task``: an allocation failure in native code (the
    parser's) aborts the process rather than raising MemoryError, so SIGABRT under a memory
    bound is reported as running out of memory."""
    process.join(timeout=5)
    if memory_limit is not None and process.exitcode == -signal.SIGABRT:
        return LintResult([unlintable(task.source_file.path, out_of_memory_message(memory_limit))], None)
    return _failure(task, "the worker process linting this file died")


def _failure(task: LintTask, reason: str) -> LintResult:
    return LintResult([unlintable(task.source_file.path, f"internal error: {reason}")], None)
