"""Fixes perflint withholds (or finds nothing to fix) where the rewrite would change what a
program computes beyond what its rule page warns of: each test runs the original on inputs
that show the difference, and checks that ``--fix --unsafe-fixes`` leaves the code alone."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.engine.fixes import fix_source
from perflint.rules.device.loader_without_pinned_memory import LoaderWithoutPinnedMemory
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray
from perflint.rules.recomputation.heavy_load_in_loop import HeavyLoadInLoop
from perflint.rules.recomputation.invariant_file_read_in_loop import InvariantFileReadInLoop
from perflint.rules.recomputation.loop_invariant_copy import LoopInvariantCopy
from perflint.rules.recomputation.loop_invariant_expensive_call import LoopInvariantExpensiveCall
from perflint.rules.settings.conv_bias_before_batchnorm import ConvBiasBeforeBatchNorm
from perflint.rules.vectorisation.builtin_reduction_on_array import BuiltinReductionOnArray
from tests.fixes.execution import run


@pytest.fixture
def torch():
    """torch, for the tests that need it: the others run without it."""
    return pytest.importorskip("torch")


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


def test_a_star_import_makes_sum_the_librarys_so_the_builtin_rule_stays_silent(torch):
    total = run(STAR_IMPORTED_SUM)["total"](torch.tensor([[1.0, 5.0], [3.0, 2.0]]))
    assert torch.equal(total, torch.tensor(11.0))  # torch.sum of every element; the builtin gives [4., 7.]
    assert [f.code for f in lint_source(STAR_IMPORTED_SUM, "example.py", [BuiltinReductionOnArray])] == []
    assert_left_alone(STAR_IMPORTED_SUM, BuiltinReductionOnArray)
    without_star = STAR_IMPORTED_SUM.replace("from torch import *\n", "")
    assert [f.code for f in lint_source(without_star, "example.py", [BuiltinReductionOnArray])] == ["PFL102"]


# PFL202 on NumPy scalars: no array to share, and torch.from_numpy raises ------------------

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


def test_a_numpy_scalar_from_a_reduction_or_dot_product_is_not_advised_from_numpy(torch):
    out = run(SCALARS)["summaries"]([[1.0, 2.0, 4.0]])
    assert [tensor.item() for tensor in out[0]] == [7 / 3, 21.0, 21.0]
    with pytest.raises(TypeError):
        torch.from_numpy(np.asarray([1.0, 2.0]).mean())
    assert lint_source(SCALARS, "example.py", [TensorCopiesNdarray]) == []
    assert_left_alone(SCALARS, TensorCopiesNdarray)


def test_an_array_minus_its_mean_is_still_an_array_and_keeps_its_fix():
    source = SCALARS.replace("torch.tensor(a.mean())", "torch.tensor(a - a.mean())")
    fixed = [finding for finding in lint_source(source, "example.py", [TensorCopiesNdarray]) if finding.fix]
    assert len(fixed) == 1


# PFL401 / PFL406: a hoist goes stale when the loop changes its argument out of sight -----

THROUGH_A_VIEW = """
import numpy as np

def solve(A, xs):
    view = A[0]
    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        view[0] += 1.0
    return out
"""

THROUGH_A_GLOBAL = """
import numpy as np

A = np.eye(2) * 2.0

def grow():
    global A
    A = A * 2.0

def solve(xs):
    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        grow()
    return out
"""

THROUGH_A_CLOSURE = """
import numpy as np

def solve(A, xs):
    def grow():
        nonlocal A
        A = A * 2.0

    def bump():
        A[0, 0] += 1.0

    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        grow()
        bump()
    return out
"""


@pytest.mark.parametrize(
    "source, call",
    [
        (THROUGH_A_VIEW, lambda namespace, xs: namespace["solve"](np.eye(2) * 2.0, xs)),
        (THROUGH_A_GLOBAL, lambda namespace, xs: namespace["solve"](xs)),
        (THROUGH_A_CLOSURE, lambda namespace, xs: namespace["solve"](np.eye(2) * 2.0, xs)),
    ],
    ids=["view", "global", "nonlocal"],
)
def test_a_loop_that_changes_the_matrix_out_of_sight_is_not_hoisted(source, call):
    xs = [np.ones(2), np.ones(2)]
    first, _, second, _ = call(run(source), xs)
    assert not np.allclose(first, second)  # the matrix changed between iterations
    for rule in (LoopInvariantExpensiveCall, LoopInvariantCopy):
        assert lint_source(source, "example.py", [rule]) == []
        assert_left_alone(source, rule)


def test_a_view_of_another_array_changed_in_the_loop_does_not_block_the_hoist():
    source = THROUGH_A_VIEW.replace("view = A[0]", "view = np.zeros(2)")
    assert [finding.code for finding in lint_source(source, "example.py", [LoopInvariantExpensiveCall])] == ["PFL401"]


# PFL404 / PFL408: a read of a path the loop writes sees each write -----------------------

REREAD_AFTER_WRITE = """
import json
import torch

def rounds(folder, steps):
    seen = []
    for step in range(steps):
        with open(folder + "/state.json", "w") as stream:
            json.dump({"step": step}, stream)
        seen.append(json.load(open(folder + "/state.json"))["step"])
        torch.save(torch.tensor([step]), folder + "/last.pt")
        seen.append(int(torch.load(folder + "/last.pt")))
    return seen
"""


def test_a_file_the_loop_rewrites_is_read_again_each_iteration_and_not_hoisted(
    tmp_path, torch
):  # the program saves with torch
    assert run(REREAD_AFTER_WRITE)["rounds"](str(tmp_path), 3) == [0, 0, 1, 1, 2, 2]
    for rule in (InvariantFileReadInLoop, HeavyLoadInLoop):
        assert lint_source(REREAD_AFTER_WRITE, "example.py", [rule]) == []
        assert_left_alone(REREAD_AFTER_WRITE, rule)
    unwritten = REREAD_AFTER_WRITE.replace('"/state.json", "w"', '"/other.json", "w"').replace(
        'torch.save(torch.tensor([step]), folder + "/last.pt")', "pass"
    )
    assert [
        f.code
        for rule in (InvariantFileReadInLoop, HeavyLoadInLoop)
        for f in lint_source(unwritten, "example.py", [rule])
    ] == ["PFL408", "PFL404"]


# PFL503: a convolution also used alone keeps its bias -----------------------------------

SHARED_CONVOLUTION = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
        self.head = self.body[0]

    def forward(self, x):
        return self.body(x), self.head(x)
"""


def test_a_convolution_also_used_without_its_norm_keeps_its_bias(torch):  # the program builds torch layers
    net = run(SHARED_CONVOLUTION)["Net"]()
    assert net.head.bias is not None  # the head's output depends on the bias nothing cancels
    assert lint_source(SHARED_CONVOLUTION, "example.py", [ConvBiasBeforeBatchNorm]) == []
    assert_left_alone(SHARED_CONVOLUTION, ConvBiasBeforeBatchNorm)
    alone = SHARED_CONVOLUTION.replace("        self.head = self.body[0]\n", "        self.head = nn.Identity()\n")
    assert lint_source(alone, "example.py", [ConvBiasBeforeBatchNorm])[0].fix is not None


# PFL207: no pinning for device tensors, nor over a loader setting left to the user --------

ON_DEVICE_DATASET = """
import torch
from torch.utils.data import DataLoader, TensorDataset

def batches(features, labels, device):
    data = TensorDataset(features.to(device), labels.to(device))
    return [x.to(device) for x, y in DataLoader(data, batch_size=2)]
"""


def test_a_dataset_of_device_tensors_is_not_advised_pinning_and_pinning_would_raise(torch):
    assert lint_source(ON_DEVICE_DATASET, "example.py", [LoaderWithoutPinnedMemory]) == []
    # Nothing is copied: the batches are the device's already (the CPU stands in for it here).
    batches = run(ON_DEVICE_DATASET)["batches"](torch.ones(4, 2), torch.zeros(4), "cpu")
    assert len(batches) == 2
    on_host = ON_DEVICE_DATASET.replace("features.to(device), labels.to(device)", "features, labels")
    assert [finding.code for finding in lint_source(on_host, "example.py", [LoaderWithoutPinnedMemory])] == ["PFL207"]


def test_pinning_is_not_offered_beside_a_loader_that_takes_pin_memory_from_a_setting():
    beside_a_setting = LoaderWithoutPinnedMemory.INVALID[0].code
    findings = lint_source(beside_a_setting, "example.py", [LoaderWithoutPinnedMemory])
    assert [finding.code for finding in findings] == ["PFL207"] and findings[0].fix is None
    literal = beside_a_setting.replace("pin_memory=self.pin_memory", "pin_memory=False")
    assert all(finding.fix is not None for finding in lint_source(literal, "example.py", [LoaderWithoutPinnedMemory]))
