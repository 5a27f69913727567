"""Fixtures for tests that need an optional library (each such test is skipped alone where the
library is missing, so the tests beside it, NumPy-only ones above all, still run), and the
examples' findings, linted once a session."""

from __future__ import annotations

import pytest

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


# torch's import alone takes seconds, SciPy's and pandas' a large part of one.
_SLOW_TO_IMPORT = ("torch", "scipy", "pandas")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that takes the ``torch``, ``scipy`` or ``pandas`` fixture belongs to the full run,
    not to the inner loop (``pytest -m "not slow"``): its library's import dominates it."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in _SLOW_TO_IMPORT):
            item.add_marker(pytest.mark.slow)
