"""Fixtures the output tests share."""

from __future__ import annotations

import pytest

from perflint.engine.findings import Finding, unlintable
from tests.output.reports import invariant_call


@pytest.fixture
def findings() -> list[Finding]:
    """Out of order on purpose: every format sorts by path, line, column."""
    return [
        invariant_call("src/train.py", 12, 9, 25),
        unlintable("src/broken.py", "syntax error: unexpected indent", line=3, column=5),
        invariant_call("src/train.py", 4, 5, 21),
    ]
