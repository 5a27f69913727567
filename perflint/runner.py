"""Lint many files: cache look-ups in this process, the misses in a pool of worker processes.

Whatever goes wrong with one file (unreadable, undecodable, unparsable, a rule or the engine
raising, its worker process dying) becomes a PFL000 finding for that file; the run goes on.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

from perflint.cache import Cache, entry_key
from perflint.engine.findings import Finding, unlintable
from perflint.engine.linter import lint_source
from perflint.files import SourceFile, UnreadableSourceError, decode_source, read_source
from perflint.rules import rule_by_code
from perflint.engine.rule import Rule

# Below this many files to lint, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class LintTask:
    """One file and the codes enabled for it (the selection minus its per-file ignores)."""

    source_file: SourceFile
    codes: tuple[str, ...]


@dataclass(frozen=True)
class LintResult:
    findings: list[Finding]
    cache_key: Optional[str]  # None: not to be cached (unreadable, or an unexpected failure)


@lru_cache(maxsize=None)
def _rule_classes(codes: tuple[str, ...]) -> tuple[type[Rule], ...]:
    return tuple(rule_by_code(code) for code in codes)


def lint_file(task: LintTask, fingerprint: Optional[str], data: Optional[bytes] = None) -> LintResult:
    """Read (unless ``data`` is given), decode and lint one file. Never raises for the file's sake."""
    path = task.source_file.path
    if data is None:
        data, error = read_source(task.source_file)
        if data is None:
            return LintResult([error], None)
    key = entry_key(fingerprint, task.codes, data) if fingerprint is not None else None
    try:
        source = decode_source(data)
    except UnreadableSourceError as error:
        return LintResult([unlintable(path, str(error), error.line)], key)
    try:
        return LintResult(lint_source(source, path, _rule_classes(task.codes)), key)
    except Exception as error:  # an engine bug on one file must not end the run
        return LintResult([unlintable(path, f"internal error: {type(error).__name__}: {error}")], None)


def default_jobs(file_count: int) -> int:
    if file_count < PARALLEL_THRESHOLD:
        return 1
    return os.cpu_count() or 1


def lint_files(tasks: Sequence[LintTask], jobs: Optional[int] = None, cache: Optional[Cache] = None) -> list[Finding]:
    """Every finding of every task, sorted. ``jobs`` worker processes lint the files the cache
    does not already know (default: one process for a small run, else one per core)."""
    results: dict[int, list[Finding]] = {}
    misses: list[int] = []
    for index, task in enumerate(tasks):
        if cache is None:
            misses.append(index)
            continue
        data, error = read_source(task.source_file)
        if data is None:
            results[index] = [error]
            continue
        cached = cache.load(cache.key(task.codes, data), task.source_file.path)
        if cached is None:
            misses.append(index)
        else:
            results[index] = cached
    workers = min(jobs or default_jobs(len(misses)), len(misses))
    fingerprint = cache.fingerprint if cache is not None else None
    if workers <= 1:
        fresh = {index: lint_file(tasks[index], fingerprint) for index in misses}
    else:
        fresh = _lint_in_pool(tasks, misses, workers, fingerprint)
    cache_errors = []
    for index, result in fresh.items():
        results[index] = result.findings
        if cache is not None and result.cache_key is not None:
            try:
                cache.store(result.cache_key, result.findings)
            except OSError as error:
                cache_errors.append(error)
    if cache_errors:
        print(f"perflint: warning: cannot write the cache in {cache.directory}: {cache_errors[0]}", file=sys.stderr)
    findings = [finding for index in sorted(results) for finding in results[index]]
    return sorted(findings, key=_order)


def _order(finding: Finding) -> tuple:
    return (*finding.sort_key, finding.end_line, finding.end_column, finding.message)


def _lint_in_pool(
    tasks: Sequence[LintTask], indices: Sequence[int], workers: int, fingerprint: Optional[str]
) -> dict[int, LintResult]:
    """Lint in ``workers`` processes. A dead worker breaks the whole pool, so the files it left
    unfinished are retried one at a time, in a fresh process after each death, to pin the death
    on the one file that causes it."""
    results: dict[int, LintResult] = {}
    interrupted: list[int] = []
    # Largest files first, so that one big file started last does not leave the others idle.
    largest_first = sorted(indices, key=lambda index: -_size(tasks[index]))
    pool = ProcessPoolExecutor(max_workers=workers)
    try:
        futures: dict[int, Future] = {index: pool.submit(lint_file, tasks[index], fingerprint)
                                      for index in largest_first}
        for index, future in futures.items():
            try:
                results[index] = future.result()
            except BrokenProcessPool:
                interrupted.append(index)
            except Exception as error:  # the result could not come back (e.g. not picklable)
                results[index] = _failure(tasks[index], f"{type(error).__name__}: {error}")
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    pool = None
    try:
        for index in interrupted:
            if pool is None:
                pool = ProcessPoolExecutor(max_workers=1)
            try:
                results[index] = pool.submit(lint_file, tasks[index], fingerprint).result()
            except BrokenProcessPool:
                results[index] = _failure(tasks[index], "the worker process linting this file died")
                pool.shutdown(wait=True)
                pool = None
            except Exception as error:
                results[index] = _failure(tasks[index], f"{type(error).__name__}: {error}")
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return results


def _size(task: LintTask) -> int:
    try:
        return os.path.getsize(task.source_file.absolute)
    except OSError:
        return 0


def _failure(task: LintTask, reason: str) -> LintResult:
    return LintResult([unlintable(task.source_file.path, f"internal error: {reason}")], None)
