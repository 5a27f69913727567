"""PFL104 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.rules.vectorisation.np_vectorize import NpVectorize
from tests.rules.execution import both, fixed

# PFL104: np.vectorize(arithmetic lambda)(arrays) -> the lambda's body on the arrays ---------

VECTORIZED = """
import numpy as np

def affine(a: np.ndarray, b: np.ndarray, scale):
    return np.vectorize(lambda x, y: 2 * x - y / scale + 1)(a, b)

def times(a: np.ndarray):
    return np.vectorize(lambda x, k: x * k)(a, 3)
"""


def test_np_vectorize_fix_computes_the_same_values():
    original, fix = both(VECTORIZED, NpVectorize, 2)
    assert "np.vectorize" not in fixed(VECTORIZED, NpVectorize, 2)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal(5)  # broadcast as vectorize does
    before, after = original["affine"](a, b, 0.5), fix["affine"](a, b, 0.5)
    assert before.shape == after.shape == (4, 5) and np.allclose(before, after)
    integers = np.arange(12).reshape(3, 4)
    assert np.array_equal(original["times"](integers), fix["times"](integers))


def test_np_vectorize_fix_unsafe_output_type_zero_d_and_empty_inputs():
    original, fix = both(VECTORIZED, NpVectorize, 2)
    # vectorize turns the number into a NumPy int64 per element: float32 times int64 is
    # float64; the array expression keeps float32 (a Python number adapts to the array).
    single = np.ones(3, dtype=np.float32)
    assert original["times"](single).dtype == np.float64
    assert fix["times"](single).dtype == np.float32
    # A 0-d input: vectorize returns a 0-d array, the expression a NumPy scalar.
    zero_d = np.array(3.0)
    assert type(original["affine"](zero_d, zero_d, 1.0)) is np.ndarray
    assert type(fix["affine"](zero_d, zero_d, 1.0)) is np.float64
    # An empty input: vectorize cannot guess the output type and raises.
    empty = np.array([])
    with pytest.raises(ValueError, match="size 0"):
        original["affine"](empty, empty, 1.0)
    assert fix["affine"](empty, empty, 1.0).shape == (0,)
