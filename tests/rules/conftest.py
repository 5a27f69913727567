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


@pytest.fixture
def advice():
    """``advice(source, rule)``: the advice of each finding of ``rule`` in ``source``, without the
    evidence of repetition that ends a message of a rule paid per execution (``; runs per call: in
    `forward```): that is tested with the engine."""

    def messages(source: str, rule) -> list[str]:
        advice = []
        for finding in lint_source(source, "example.py", [rule]):
            suffix = f"; {finding.evidence}" if finding.evidence else ""
            assert finding.message.endswith(suffix)
            advice.append(finding.message[: len(finding.message) - len(suffix)])
        return advice

    return messages
