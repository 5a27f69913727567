"""PFL110 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from perflint.rules.vectorisation.tensor_from_list_of_arrays import TensorFromListOfArrays
from tests.rules.execution import assert_same_tensor, both

# PFL110: torch.tensor(L) of NumPy arrays -> torch.tensor(np.array(L)) ----------------------

TENSOR_FROM_ARRAYS = """
import numpy as np
import torch

def inferred(rows):
    arrays = [np.asarray(row) for row in rows]
    return torch.tensor(arrays)

def as_half(rows):
    arrays = [np.asarray(row) for row in rows]
    return torch.tensor(arrays, dtype=torch.float16)

def as_long(rows):
    arrays = [np.asarray(row) for row in rows]
    return torch.as_tensor(arrays, dtype=torch.int64)

def as_float(rows):
    arrays = [np.asarray(row) for row in rows]
    return torch.FloatTensor(arrays)

def as_legacy_long(rows):
    arrays = [np.asarray(row) for row in rows]
    return torch.LongTensor(arrays)
"""

_DTYPES = [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8, np.bool_]


def _rows(*dtypes):
    values = np.linspace(-300.7, 300.3, 6).reshape(2, 3)
    return [(values * (index + 1)).astype(dtype) for index, dtype in enumerate(dtypes)]


def assert_same_unless_the_original_raised(original, fix, rows) -> None:
    """The same tensor; or, where the constructor rejects a NumPy scalar type it cannot read
    as the requested one (float32 items for an integer dtype), a tensor after the fix."""
    import torch

    try:
        before = original(rows)
    except TypeError:
        after = fix(rows)
        assert after.dtype in (torch.int64, torch.float32, torch.float16) and after.shape == (len(rows), 2, 3)
        return
    assert_same_tensor(before, fix(rows))


@pytest.mark.usefixtures("torch")  # the programs run torch
@pytest.mark.parametrize("dtype", _DTYPES)
def test_tensor_from_list_fix_makes_the_same_values_and_dtype_for_arrays_of_one_dtype(dtype):
    original, fix = both(TENSOR_FROM_ARRAYS, TensorFromListOfArrays, changes=5)
    rows = _rows(dtype, dtype, dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Creating a tensor from a list of numpy.ndarrays")
        assert_same_tensor(original["inferred"](rows), fix["inferred"](rows))
        for function in ("as_half", "as_long", "as_float", "as_legacy_long"):
            assert_same_unless_the_original_raised(original[function], fix[function], rows)


@pytest.mark.usefixtures("torch")  # the programs run torch
@pytest.mark.parametrize(
    "dtypes", [(np.float32, np.int64), (np.float64, np.float16, np.int32), (np.uint8, np.int8), (np.float64, np.int64)]
)
def test_tensor_from_list_fix_with_a_fixed_dtype_is_exact_for_mixed_and_empty_lists(dtypes):
    # With a floating `dtype=` or a floating typed constructor, the safe fixes convert to the same values.
    original, fix = both(TENSOR_FROM_ARRAYS, TensorFromListOfArrays, changes=5)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Creating a tensor from a list of numpy.ndarrays")
        for rows in (_rows(*dtypes), []):
            for function in ("as_half", "as_float"):
                assert_same_unless_the_original_raised(original[function], fix[function], rows)
        large = [np.array([1700000000123456789, 3]), np.array([0.5, 2.0])]
        for function in ("as_half", "as_float"):
            assert_same_tensor(original[function](large), fix[function](large))


@pytest.mark.usefixtures("torch")  # the programs run torch
@pytest.mark.parametrize("other", [np.array([0.5, 2.0]), np.array([5, 3], dtype=np.uint64)])
def test_tensor_from_list_fix_unsafe_for_an_integer_dtype_numpy_rounds_large_integers_through_float64(other):
    # NumPy promotes int64 mixed with float64 or uint64 to float64: integers above 2**53 change.
    original, fix = both(TENSOR_FROM_ARRAYS, TensorFromListOfArrays, changes=5)
    rows = [np.array([1700000000123456789, 3]), other]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Creating a tensor from a list of numpy.ndarrays")
        for function in ("as_long", "as_legacy_long"):
            assert original[function](rows)[0, 0].item() == 1700000000123456789
            assert fix[function](rows)[0, 0].item() == 1700000000123456768


def test_tensor_from_list_fix_unsafe_numpy_infers_another_dtype_for_mixed_or_empty_lists(torch):
    original, fix = both(TENSOR_FROM_ARRAYS, TensorFromListOfArrays, changes=5)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Creating a tensor from a list of numpy.ndarrays")
        mixed = _rows(np.float32, np.int64)
        assert original["inferred"](mixed).dtype == torch.float32
        assert fix["inferred"](mixed).dtype == torch.float64
        assert original["inferred"]([]).dtype == torch.float32
        assert fix["inferred"]([]).dtype == torch.float64


def test_tensor_from_list_fixes_are_labelled_by_whether_the_call_fixes_the_dtype():
    from perflint.engine import lint_source

    safety = {
        finding.line: finding.fix.applicability
        for finding in lint_source(TENSOR_FROM_ARRAYS, "example.py", [TensorFromListOfArrays])
    }
    # Only a floating dtype is safe: NumPy's float64 promotion loses large integers.
    assert safety == {7: "unsafe", 11: "safe", 15: "unsafe", 19: "safe", 23: "unsafe"}
