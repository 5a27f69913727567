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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """A test that takes the ``torch`` fixture runs torch, whose import alone takes seconds: it
    belongs to the full run, not to the inner loop (``pytest -m "not slow"``)."""
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
