"""What the fixes of PFL101 and PFL209 do to a program: each fixed source comes from
``fix_source(..., unsafe=True)``, runs beside the original on the same inputs, and computes
the same; each test named after an unsafe label shows the difference that label warns about."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.rules.device.invariant_device_move_in_loop import InvariantDeviceMoveInLoop
from perflint.rules.vectorisation.elementwise_index_loop import ElementwiseIndexLoop
from tests.fixes.execution import both


@pytest.fixture
def torch():
    """torch, for the tests that need it: the NumPy ones run without it."""
    return pytest.importorskip("torch")


# PFL209: x.to(device) in a loop -> moved once above it --------------------------------------

HINGE = """
import torch

def hinge(model, loader, margin, device):
    total = 0.0
    for x in loader:
        scores = model(x.to(device))
        total += (scores - margin.to(device)).clamp(min=0).sum()
    return total
"""


def test_hoisted_move_computes_the_same_loss(torch):
    before, after = both(HINGE, InvariantDeviceMoveInLoop)
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    loader = [torch.randn(5, 4) for _ in range(3)]
    margin = torch.tensor([0.1, -0.2, 0.3])
    expected = before["hinge"](model, loader, margin, "cpu")
    got = after["hinge"](model, loader, margin, "cpu")
    assert expected > 0 and torch.equal(got, expected)


STEPPED = """
import torch

def fit(w, loader, optimizer, device):
    losses = []
    for x in loader:
        loss = ((x - w.to(device)) ** 2).sum()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    return losses
"""


def test_unsafe_hoisted_copy_goes_stale_when_the_loop_updates_the_original(torch):
    before, after = both(STEPPED, InvariantDeviceMoveInLoop)
    loader = [torch.ones(3)] * 3

    def losses(namespace):
        w = torch.zeros(3, requires_grad=True)
        optimizer = torch.optim.SGD([w], lr=0.25)
        # A dtype conversion copies the tensor as a move to another device does (on a
        # CPU-only machine, ``.to("cpu")`` returns the tensor itself and copies nothing).
        return namespace["fit"](w, loader, optimizer, torch.float64), w.detach().clone()

    expected, w_before = losses(before)
    got, w_after = losses(after)
    # Each iteration moved the stepped weights: the loss falls. The hoisted copy keeps the
    # weights as they were before the loop: every iteration sees the same loss.
    assert expected == pytest.approx([3.0, 0.75, 0.1875])
    assert got == pytest.approx([3.0, 3.0, 3.0])
    assert not torch.equal(w_before, w_after)


def test_unsafe_hoisted_move_runs_when_the_loop_runs_no_iteration(torch):
    before, after = both(HINGE, InvariantDeviceMoveInLoop)
    model = torch.nn.Linear(4, 3)
    no_such_device = "cuda:999"
    assert before["hinge"](model, [], torch.zeros(3), no_such_device) == 0.0
    with pytest.raises((RuntimeError, AssertionError)):
        after["hinge"](model, [], torch.zeros(3), no_such_device)


# PFL101: for i in range(len(a)): out[i] = f(a[i]) -> out[:] = f(a) ---------------------------

GAIN = """
import numpy as np

def gain(frame: np.ndarray, g: float) -> np.ndarray:
    out = np.empty_like(frame)
    for i in range(len(frame)):
        out[i] = np.maximum(np.sqrt(frame[i]) * g + frame[i], 0.25)
    return out

def clip(values, low, high):
    if isinstance(values, np.ndarray):
        for i in range(0, len(values)):
            values[i] = np.minimum(np.maximum(values[i], low), high)
    return values
"""


def test_whole_array_statement_computes_the_same_on_rows_and_elements():
    before, after = both(GAIN, ElementwiseIndexLoop, changes=2)
    rng = np.random.default_rng(0)
    for shape in ((7,), (5, 3), (0,), (0, 2)):
        frame = rng.random(shape)
        for dtype in (np.float64, np.float32, np.int64):
            values = (frame * 10).astype(dtype)
            expected, got = before["gain"](values, 0.5), after["gain"](values, 0.5)
            assert expected.dtype == got.dtype and np.array_equal(expected, got)
            expected = before["clip"](values.copy(), 2, 7)
            got = after["clip"](values.copy(), 2, 7)
            assert expected.dtype == got.dtype and np.array_equal(expected, got)


DECAY = """
import torch as th

def decay(frame: th.Tensor, rate: float) -> th.Tensor:
    acc = th.ones_like(frame, dtype=th.float64)
    # decay every sample
    for i in range(frame.shape[0]): acc[i] *= th.exp(-rate * frame[i])
    return acc

def swish(x: th.Tensor) -> th.Tensor:
    y = th.empty_like(x)
    for i in range(len(x)):
        y[i] = th.sigmoid(x[i]) * x[i]
    return y
"""


def test_whole_tensor_statement_computes_the_same(torch):
    before, after = both(DECAY, ElementwiseIndexLoop, changes=2)
    torch.manual_seed(0)
    for frame in (torch.rand(9), torch.rand(4, 3), torch.rand(0)):
        expected, got = before["decay"](frame, 0.3), after["decay"](frame, 0.3)
        assert expected.dtype == got.dtype and torch.equal(expected, got)
        expected, got = before["swish"](frame), after["swish"](frame)
        assert expected.dtype == got.dtype and torch.allclose(expected, got, rtol=1e-6, atol=0)


def test_unsafe_torch_computes_an_element_with_other_code_than_a_whole_tensor(torch):
    before, after = both(DECAY, ElementwiseIndexLoop, changes=2)
    torch.manual_seed(0)
    x = torch.rand(4096) * 8 - 4
    expected, got = before["swish"](x), after["swish"](x)
    # torch.sigmoid on a 0-d tensor and on a whole one round differently in the last bit.
    assert torch.allclose(expected, got, rtol=1e-6, atol=0) and not torch.equal(expected, got)


AT_MODULE_LEVEL = """
import numpy as np
frame = np.arange(5.0)
out = np.empty_like(frame)
for i in range(len(frame)):
    out[i] = frame[i] * 2
"""


def test_unsafe_the_loop_index_is_no_longer_bound_after_the_loop():
    before, after = both(AT_MODULE_LEVEL, ElementwiseIndexLoop)
    assert np.array_equal(before["out"], after["out"])
    assert before["i"] == 4 and "i" not in after


INTEGER_STEP = """
import numpy as np

def grow(a: np.ndarray) -> np.ndarray:
    for i in range(len(a)):
        a[i] += a[i] * 0.5
    return a
"""


def test_unsafe_augmented_assignment_on_whole_arrays_refuses_to_cast_a_float_into_integers():
    before, after = both(INTEGER_STEP, ElementwiseIndexLoop)
    assert np.array_equal(before["grow"](np.array([2.0, 5.0])), after["grow"](np.array([2.0, 5.0])))
    # The loop truncates each float result into the integer array.
    assert before["grow"](np.array([2, 5])).tolist() == [3, 7]
    with pytest.raises(TypeError):
        after["grow"](np.array([2, 5]))


SCALED = """
import numpy as np

def scale(a: np.ndarray, factor) -> np.ndarray:
    out = np.zeros_like(a)
    for i in range(a.shape[0]):
        out[i] = a[i] * factor
    return out
"""


def test_unsafe_a_name_from_outside_that_holds_an_array_broadcasts_against_whole_arrays():
    before, after = both(SCALED, ElementwiseIndexLoop)
    a = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(before["scale"](a, 2.0), after["scale"](a, 2.0))
    factor = np.array([10.0, 20.0, 30.0])
    # Each element times the whole array is a sequence the loop cannot store in one element;
    # the whole arrays multiply element by element.
    with pytest.raises(ValueError):
        before["scale"](a, factor)
    assert after["scale"](a, factor).tolist() == [10.0, 40.0, 90.0]
