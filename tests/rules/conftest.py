"""Fixtures the rules' tests share."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source


@pytest.fixture
def matrix():
    """A well-conditioned 6x6 matrix and five vectors to apply its inverse to."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 6)) + 6 * np.eye(6), rng.standard_normal((5, 6))


@pytest.fixture(scope="session")
def findings_of():
    """``lint_source(code, "example.py", [rule])``, linted once a session: the tests of examples,
    messages and snapshots read the findings of the same examples (findings are frozen)."""
    linted: dict = {}

    def findings(rule, code: str) -> list:
        if (rule, code) not in linted:
            linted[rule, code] = tuple(lint_source(code, "example.py", [rule]))
        return list(linted[rule, code])

    return findings
