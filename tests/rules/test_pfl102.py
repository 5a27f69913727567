"""PFL102 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.vectorisation.builtin_reduction_on_array import BuiltinReductionOnArray
from tests.rules.execution import assert_left_alone, both, fixed, run

# PFL102: builtin sum/min/max/any/all -> the array's reduction over axis 0 -------------------

NUMPY_REDUCTIONS = """
import numpy as np

def reduce(a: np.ndarray):
    return sum(a), min(a), max(a), any(a > 0), all(a > -10)

def column_sums(m: np.ndarray):
    return sum(m)

def extremes(a: np.ndarray):
    return min(a), max(a)
"""

TORCH_REDUCTIONS = """
import torch

def reduce(t: torch.Tensor):
    return sum(t), min(t), max(t), any(t > 0), all(t > -10)

def column_sums(m: torch.Tensor):
    return sum(m)
"""


def test_builtin_reduction_fix_gives_the_same_values_on_numpy_arrays():
    original, fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    assert "a.sum(0)" in fixed(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    vector = np.random.default_rng(0).standard_normal(1000)
    before, after = original["reduce"](vector), fix["reduce"](vector)
    assert np.allclose(before[0], after[0])
    assert before[1:] == after[1:]
    matrix = np.arange(12).reshape(4, 3)
    assert np.array_equal(original["column_sums"](matrix), fix["column_sums"](matrix))
    assert fix["column_sums"](matrix).shape == (3,)


def test_builtin_reduction_fix_gives_the_same_values_on_torch_tensors(torch):
    original, fix = both(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    assert "t.amax(0)" in fixed(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    vector = torch.randn(500, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    before, after = original["reduce"](vector), fix["reduce"](vector)
    assert torch.allclose(before[0], after[0])
    assert all(bool(a == b) for a, b in zip(before[1:], after[1:]))
    matrix = torch.arange(12).reshape(4, 3)
    assert torch.equal(original["column_sums"](matrix), fix["column_sums"](matrix))


def test_builtin_reduction_fix_unsafe_small_integers_no_longer_overflow():
    numpy_original, numpy_fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    values = np.array([100, 100], dtype=np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns of the scalar overflow
        assert numpy_original["column_sums"](values) == -56
    assert numpy_fix["column_sums"](values) == 200


def test_builtin_reduction_fix_unsafe_small_integers_no_longer_overflow_in_tensors(torch):
    torch_original, torch_fix = both(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    values = np.array([100, 100], dtype=np.int8)
    assert torch_original["column_sums"](torch.from_numpy(values)) == -56
    assert torch_fix["column_sums"](torch.from_numpy(values)) == 200


def test_builtin_reduction_fix_unsafe_float_sums_round_differently():
    numpy_original, numpy_fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    values = np.random.default_rng(0).standard_normal(100_000).astype(np.float32)
    one_at_a_time, pairwise = numpy_original["column_sums"](values), numpy_fix["column_sums"](values)
    assert one_at_a_time != pairwise
    assert np.isclose(one_at_a_time, pairwise, rtol=1e-4)


def test_builtin_reduction_fix_unsafe_nan_types_and_empty_arrays():
    numpy_original, numpy_fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    with_nan = np.array([1.0, np.nan])
    # The builtin compares in order (anything > nan is False); the method propagates NaN.
    assert numpy_original["reduce"](with_nan)[2] == 1.0
    assert np.isnan(numpy_fix["reduce"](with_nan)[2])
    # any/all: a Python bool becomes a NumPy bool_.
    vector = np.array([1.0, 2.0])
    assert numpy_original["reduce"](vector)[3] is True
    assert type(numpy_fix["reduce"](vector)[3]) is np.bool_
    # The sum of nothing: the builtin's start, 0, against the float array's 0.0.
    empty = np.array([])
    assert type(numpy_original["column_sums"](empty)) is int
    assert type(numpy_fix["column_sums"](empty)) is np.float64


def test_builtin_reduction_fix_unsafe_nan_and_types_in_tensors(torch):
    torch_original, torch_fix = both(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    with_nan = torch.tensor([1.0, float("nan")], dtype=torch.float64)
    assert torch_original["reduce"](with_nan)[2] == 1.0
    assert torch.isnan(torch_fix["reduce"](with_nan)[2])
    # any/all: a Python bool becomes a tensor.
    assert isinstance(torch_fix["reduce"](torch.tensor([1.0, 2.0], dtype=torch.float64))[3], torch.Tensor)


def test_builtin_reduction_fix_unsafe_numpy_has_no_min_or_max_of_strings():
    numpy_original, numpy_fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    names = np.array(["col_2", "col_0", "col_1"])
    assert numpy_original["extremes"](names) == ("col_0", "col_2")
    with pytest.raises(TypeError, match="minimum"):
        numpy_fix["extremes"](names)


# PFL102 after a star import: `sum` is the library's -------------------------------------

STAR_IMPORTED_SUM = """
import torch
from torch import *

def total(scores: torch.Tensor):
    return sum(scores)
"""


def test_a_star_import_makes_sum_the_librarys_so_the_builtin_rule_stays_silent(torch):
    total = run(STAR_IMPORTED_SUM)["total"](torch.tensor([[1.0, 5.0], [3.0, 2.0]]))
    assert torch.equal(total, torch.tensor(11.0))  # torch.sum of every element; the builtin gives [4., 7.]
    assert [f.code for f in lint_source(STAR_IMPORTED_SUM, "example.py", [BuiltinReductionOnArray])] == []
    assert_left_alone(STAR_IMPORTED_SUM, BuiltinReductionOnArray)
    without_star = STAR_IMPORTED_SUM.replace("from torch import *\n", "")
    assert [f.code for f in lint_source(without_star, "example.py", [BuiltinReductionOnArray])] == ["PFL102"]
