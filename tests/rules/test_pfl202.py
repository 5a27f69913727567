"""PFL202 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of),
and its messages, which name the fix in the user's own expressions."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray
from tests.rules.execution import assert_left_alone, assert_same_tensor, both, run

# PFL202: torch.tensor(a) -> torch.from_numpy(a) ------------------------------------------

TENSOR_OF_ARRAY = """
import numpy as np
import torch

def collate(samples):
    return torch.tensor(np.stack(samples))

def as_tensor(frame):
    for _ in range(1):
        array = np.asarray(frame)
        return torch.tensor(array)

def noise(shape):
    for _ in range(1):
        return torch.tensor(np.random.randn(*shape))
"""


@pytest.mark.usefixtures("torch")  # the programs run torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8, np.bool_])
def test_tensor_copies_ndarray_fix_makes_the_same_values_and_dtype(dtype):
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=3)
    samples = [(np.arange(6).reshape(2, 3) * 0.7 - 1).astype(dtype) for _ in range(3)]
    for function, argument in (
        ("collate", samples),
        ("as_tensor", samples[0]),
    ):
        assert_same_tensor(original[function](argument), fix[function](argument))
    for namespace in (original, fix):
        np.random.seed(0)
        namespace["drawn"] = namespace["noise"]((2, 3))
    assert_same_tensor(original["drawn"], fix["drawn"])


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_tensor_copies_ndarray_fix_unsafe_the_tensor_shares_the_arrays_memory():
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=3)
    frame = np.zeros(4, dtype=np.float32)
    copied, shared = original["as_tensor"](frame), fix["as_tensor"](frame)
    frame[0] = 5.0
    assert copied[0].item() == 0.0 and shared[0].item() == 5.0
    shared[1] = 7.0
    assert frame[1] == 7.0


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_tensor_copies_ndarray_fix_unsafe_a_numpy_scalar_is_refused():
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=3)
    # Without a shape, `np.random.randn()` draws a Python float, not an array.
    assert original["noise"](()).shape == ()
    with pytest.raises(TypeError):
        fix["noise"](())


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


def test_tensor_copy_message_offers_from_numpy_and_leaves_the_legacy_constructors_alone(advice):
    source = (
        "import numpy as np\nimport torch\n"
        "def collate(samples):\n"
        "    x = np.stack(samples)\n"
        "    return torch.tensor(x), torch.LongTensor(x)\n"
    )
    assert advice(source, TensorCopiesNdarray) == [
        "`torch.tensor(x)` copies the NumPy array `x`; `torch.from_numpy(x)` shares its memory",
    ]


@pytest.mark.usefixtures("torch")  # the measurement runs torch
def test_a_legacy_constructor_shares_an_array_of_its_dtype_and_converts_any_other_as_from_numpy_would():
    import torch

    float32, float64 = np.zeros(4, dtype=np.float32), np.zeros(4)
    assert torch.FloatTensor(float32).data_ptr() == float32.ctypes.data
    converted, fixed = torch.FloatTensor(float64), torch.from_numpy(float64).float()
    assert converted.data_ptr() != float64.ctypes.data and fixed.data_ptr() != float64.ctypes.data
