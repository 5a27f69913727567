"""Fixtures the rules' tests share."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def matrix():
    """A well-conditioned 6x6 matrix and five vectors to apply its inverse to."""
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 6)) + 6 * np.eye(6), rng.standard_normal((5, 6))
