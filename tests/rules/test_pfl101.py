"""PFL101 beyond its own examples: the suggested rewrite computes what the loop computed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.vectorisation.elementwise_index_loop import ElementwiseIndexLoop
from tests.rules.execution import both

NUMPY_SETUP = (
    "import numpy as np\n"
    "np.random.seed(0)\n"
    "a = np.random.rand(50) + 0.1\n"
    "b = np.random.randn(50)\n"
    "m = np.random.randn(50, 4)\n"
    "out = np.zeros(50)\n"
    "rows = np.ones((50, 4))\n"
    "scale = 3.0\n"
)
TORCH_SETUP = (
    "import torch\n"
    "import torch.nn.functional as F\n"
    "generator = torch.Generator().manual_seed(0)\n"
    "a = torch.rand(50, generator=generator) + 0.1\n"
    "b = torch.randn(50, generator=generator)\n"
    "out = torch.zeros(50)\n"
)

EQUIVALENT_LOOPS = [
    pytest.param(NUMPY_SETUP, "for i in range(len(a)):\n    out[i] = np.sqrt(a[i]) * 2 + b[i]\n", id="numpy-assign"),
    pytest.param(NUMPY_SETUP, "for i in range(a.size):\n    out[i] += np.exp(-a[i]) / scale\n", id="numpy-augmented"),
    pytest.param(
        NUMPY_SETUP,
        "for i in range(0, a.shape[0]):\n    out[i] = np.where(b[i] > 0, a[i], -a[i])\n    a[i] = out[i] ** 2\n",
        id="numpy-two-statements-reading-a-written-element",
    ),
    pytest.param(NUMPY_SETUP, "for i in range(len(m)):\n    rows[i] = np.maximum(m[i], 0) * scale\n", id="numpy-rows"),
    pytest.param(NUMPY_SETUP, "for i in range(len(a)): a[i] = abs(b[i]) - a[i]\n", id="numpy-one-line-in-place"),
    pytest.param(
        TORCH_SETUP,
        "for i in range(a.size(0)):\n    out[i] = torch.sigmoid(a[i]) * F.relu(b[i])\n",
        id="torch",
        marks=pytest.mark.slow,
    ),
    pytest.param(
        TORCH_SETUP,
        "for i in range(len(a)):\n    out[i] = (a[i] >= 0.5) | (b[i] < 0)\n",
        id="torch-comparisons",
        marks=pytest.mark.slow,
    ),
]


def suggestion(source: str) -> str:
    findings = lint_source(source, "example.py", [ElementwiseIndexLoop])
    assert [finding.code for finding in findings] == ["PFL101"]
    return re.search(r"; use `(.*)`$", findings[0].message).group(1)


def arrays_after(code: str) -> dict[str, np.ndarray]:
    namespace: dict = {}
    exec(compile(code, "example.py", "exec"), namespace)
    return {
        name: np.asarray(value) for name, value in namespace.items() if type(value).__name__ in ("ndarray", "Tensor")
    }


@pytest.mark.parametrize(("setup", "loop"), EQUIVALENT_LOOPS)
def test_suggested_rewrite_leaves_every_array_as_the_loop_did(setup, loop):
    if "torch" in setup:
        pytest.importorskip("torch")
    by_loop = arrays_after(setup + loop)
    by_rewrite = arrays_after(setup + suggestion(setup + loop) + "\n")
    assert by_loop.keys() == by_rewrite.keys()
    for name, expected in by_loop.items():
        np.testing.assert_allclose(by_rewrite[name], expected, rtol=1e-6, err_msg=name)


def test_message_quotes_the_loop_and_its_whole_array_form():
    [finding] = lint_source(ElementwiseIndexLoop.example, "example.py", [ElementwiseIndexLoop])
    assert finding.message == (
        "Loop applies `out[i] = np.sqrt(a[i]) * 2 + b[i]` element by element; use `out[:] = np.sqrt(a) * 2 + b`"
    )
    assert (finding.line, finding.column) == (5, 5)


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
