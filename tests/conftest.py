"""Fixtures for tests that need an optional library (each such test is skipped alone where the
library is missing, so the tests beside it, NumPy-only ones above all, still run), and the
examples' findings, linted once a session, and files linted in this process rather than in worker
processes, except for the tests that take the ``worker_processes`` fixture."""

from __future__ import annotations

import pickle

import pytest

from perflint import runner
from perflint.engine import lint_source


@pytest.fixture
def torch():
    """torch, or the test is skipped."""
    return pytest.importorskip("torch")


@pytest.fixture
def scipy():
    """SciPy, or the test is skipped (for programs that import it)."""
    return pytest.importorskip("scipy")


@pytest.fixture
def pandas():
    """pandas, or the test is skipped."""
    return pytest.importorskip("pandas")


@pytest.fixture(scope="session")
def findings_of():
    """``lint_source(code, "example.py", [rule])``, linted once a session: the tests of examples,
    messages, snapshots and quoting read the findings of the same examples (findings are frozen)."""
    linted: dict = {}

    def findings(rule, code: str) -> list:
        if (rule, code) not in linted:
            linted[rule, code] = tuple(lint_source(code, "example.py", [rule]))
        return list(linted[rule, code])

    return findings


class InProcessWorkers:
    """``runner.WorkerPool`` for the tests: each file is linted in this process by the function a
    worker runs (``runner.lint_file``), its task and its result pickled as a worker's pipe pickles
    them. Forking a worker for every command a test runs took most of the commands' tests' time;
    the worker processes themselves (parallel workers, a worker that dies, the time-limit
    backstop) are tested by the tests that take ``worker_processes``, and by every test that runs
    the command in a subprocess."""

    def __init__(self, size: int, fingerprint: str | None) -> None:
        self.fingerprint = fingerprint

    def run(self, tasks, indices) -> dict:
        return {index: _piped(runner.lint_file(_piped(tasks[index]), self.fingerprint)) for index in indices}


def _piped(value):
    return pickle.loads(pickle.dumps(value))


_WORKER_POOL = runner.WorkerPool


@pytest.fixture(scope="session", autouse=True)
def _lint_in_process():
    runner.WorkerPool = InProcessWorkers
    yield
    runner.WorkerPool = _WORKER_POOL


@pytest.fixture
def worker_processes(monkeypatch):
    """Files are linted in worker processes, as the command lints them (``runner.WorkerPool``)."""
    monkeypatch.setattr(runner, "WorkerPool", _WORKER_POOL)


# torch's import alone takes seconds, SciPy's and pandas' a large part of one.
_SLOW_TO_IMPORT = ("torch", "scipy", "pandas")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that takes the ``torch``, ``scipy`` or ``pandas`` fixture belongs to the full run,
    not to the inner loop (``pytest -m "not slow"``): its library's import dominates it."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in _SLOW_TO_IMPORT):
            item.add_marker(pytest.mark.slow)
