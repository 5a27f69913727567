"""Fixes perflint withholds (or finds nothing to fix) where the rewrite would change what a
program computes beyond what its rule page warns of: each test runs the original on inputs
that show the difference, and checks that ``--fix --unsafe-fixes`` leaves the code alone."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.engine.fixes import fix_source
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray
from perflint.rules.vectorisation.builtin_reduction_on_array import BuiltinReductionOnArray

from tests.fixes.execution import run

torch = pytest.importorskip("torch")


def assert_left_alone(source: str, rule) -> None:
    outcome = fix_source(source, "example.py", [rule], unsafe=True)
    assert outcome.fixed == 0 and outcome.source == source


# PFL102 after a star import: `sum` is the library's -------------------------------------

STAR_IMPORTED_SUM = """
import torch
from torch import *

def total(scores: torch.Tensor):
    return sum(scores)
"""


def test_a_star_import_makes_sum_the_librarys_so_the_builtin_rule_stays_silent():
    total = run(STAR_IMPORTED_SUM)["total"](torch.tensor([[1.0, 5.0], [3.0, 2.0]]))
    assert torch.equal(total, torch.tensor(11.0))  # torch.sum of every element; the builtin gives [4., 7.]
    assert [f.code for f in lint_source(STAR_IMPORTED_SUM, "example.py", [BuiltinReductionOnArray])] == []
    assert_left_alone(STAR_IMPORTED_SUM, BuiltinReductionOnArray)
    without_star = STAR_IMPORTED_SUM.replace("from torch import *\n", "")
    assert [f.code for f in lint_source(without_star, "example.py", [BuiltinReductionOnArray])] == ["PFL102"]


# PFL202 on NumPy scalars: torch.from_numpy raises ----------------------------------------

SCALARS = """
import numpy as np
import torch

def summaries(rows):
    out = []
    for row in rows:
        a = np.asarray(row)
        out.append((torch.tensor(a.mean()), torch.tensor(np.dot(a, a)), torch.tensor(a @ a)))
    return out
"""


def test_a_numpy_scalar_from_a_reduction_or_dot_product_gets_no_from_numpy_fix():
    out = run(SCALARS)["summaries"]([[1.0, 2.0, 4.0]])
    assert [tensor.item() for tensor in out[0]] == [7 / 3, 21.0, 21.0]
    with pytest.raises(TypeError):
        torch.from_numpy(np.asarray([1.0, 2.0]).mean())
    findings = lint_source(SCALARS, "example.py", [TensorCopiesNdarray])
    assert len(findings) == 3 and all(finding.fix is None for finding in findings)
    assert_left_alone(SCALARS, TensorCopiesNdarray)


def test_an_array_minus_its_mean_is_still_an_array_and_keeps_its_fix():
    source = SCALARS.replace("torch.tensor(a.mean())", "torch.tensor(a - a.mean())")
    fixed = [finding for finding in lint_source(source, "example.py", [TensorCopiesNdarray]) if finding.fix]
    assert len(fixed) == 1
