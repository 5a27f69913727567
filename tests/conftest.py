"""Fixtures for tests that need an optional library: each such test is skipped alone where the
library is missing, so the tests beside it (NumPy-only ones above all) still run."""

from __future__ import annotations

import pytest


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


# torch's import alone takes seconds, SciPy's and pandas' a large part of one.
_SLOW_TO_IMPORT = ("torch", "scipy", "pandas")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that takes the ``torch``, ``scipy`` or ``pandas`` fixture belongs to the full run,
    not to the inner loop (``pytest -m "not slow"``): its library's import dominates it."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in _SLOW_TO_IMPORT):
            item.add_marker(pytest.mark.slow)
