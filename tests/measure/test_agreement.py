"""perflint/measure/agreement.py: the check that a benchmark's two sides compute the same result."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.measure.agreement import describe_difference


def test_agreement_tolerates_rounding_but_not_real_differences():
    values = np.linspace(0.0, 1.0, 50)
    assert describe_difference(values, values + 1e-12) is None
    assert "differ by up to" in describe_difference(values, values + 1e-3)
    assert "shapes (50,) and (49,)" in describe_difference(values, values[:-1])
    assert describe_difference([1.0, 2.0], np.array([1.0, 2.0])) is None  # loop result vs vectorised
    # float32 gets a looser tolerance than float64 (rtol 1e-4 against NumPy's 1e-5)
    assert describe_difference(values.astype(np.float32), values.astype(np.float32) * (1 + 2e-5)) is None
    assert describe_difference(values, values * (1 + 2e-5)) is not None
    assert describe_difference(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) is None


def test_agreement_recurses_into_containers_and_compares_the_rest_exactly():
    assert describe_difference((1, [2.0, "a"]), (1, [2.0, "a"])) is None
    assert describe_difference((1, [2.0, "a"]), (1, [2.0, "b"])) == "result[1][1]: 'a' != 'b'"
    assert "lengths" in describe_difference([1, 2], [1, 2, 3])
    assert describe_difference({"w": np.ones(2)}, {"w": np.ones(2)}) is None
    assert "keys" in describe_difference({"w": 1}, {"b": 1})
    assert describe_difference(True, False) is not None
    assert describe_difference(object(), object()) is not None


@pytest.mark.slow  # imports torch
def test_agreement_understands_torch_tensors():
    torch = pytest.importorskip("torch")
    assert describe_difference(torch.ones(3), np.ones(3, dtype=np.float32)) is None
    assert describe_difference(torch.ones(3, requires_grad=True) * 2, torch.full((3,), 2.0)) is None
    assert describe_difference(torch.ones(3, dtype=torch.bfloat16), torch.ones(3)) is None
    assert describe_difference(torch.ones(3), torch.zeros(3)) is not None


def test_agreement_understands_pandas_objects(pandas):
    frame = pandas.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]})
    assert describe_difference(frame, frame.copy()) is None
    assert describe_difference(frame, frame.rename(columns={"b": "c"})) is not None
    assert describe_difference(frame, frame.assign(b=["x", "z"])) is not None
    assert describe_difference(frame["a"], frame["a"] * 1.0) is None
    assert describe_difference(frame["a"], frame["a"] + 1) is not None
