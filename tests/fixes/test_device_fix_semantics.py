"""What the fixes of PFL201, PFL202, PFL206, PFL207 and PFL110 do to a program: each fixed
source comes from ``fix_source(..., unsafe=True)``, runs beside the original on the same
inputs, and computes the same (the CPU stands in for an accelerator where that keeps the
meaning); each test named after an unsafe label shows the difference that label warns about."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from perflint.rules.device.blocking_copy_from_pinned_loader import BlockingCopyFromPinnedLoader
from perflint.rules.device.create_then_move import CreateThenMove
from perflint.rules.device.loader_without_pinned_memory import LoaderWithoutPinnedMemory
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray
from perflint.rules.vectorisation.tensor_from_list_of_arrays import TensorFromListOfArrays
from tests.fixes.execution import both

torch = pytest.importorskip("torch")


def assert_same_tensor(before, after) -> None:
    assert before.dtype == after.dtype and before.shape == after.shape and before.device == after.device
    assert torch.equal(before, after)


# PFL201: torch.zeros(...).to(device) -> torch.zeros(..., device=device) -------------------

CREATED_THEN_MOVED = """
import torch

def step(x: torch.Tensor, device, dtype):
    for _ in range(1):
        zeros = torch.zeros(2, 3).to(device)
        ones = torch.ones(4, dtype=torch.bool).to(device=device, dtype=dtype)
        eye = torch.eye(3, dtype=torch.int64).to(x)
        empty = torch.empty(2, 5).to(device, non_blocking=True)
    return zeros, ones, eye, empty
"""


@pytest.mark.parametrize("dtype", [torch.float16, torch.int8, torch.bool, torch.complex64])
def test_create_then_move_fix_makes_the_same_tensors_in_any_dtype(dtype):
    original, fix = both(CREATED_THEN_MOVED, CreateThenMove, changes=4)
    x = torch.arange(3.0, dtype=torch.float64)
    before = original["step"](x, "cpu", dtype)
    after = fix["step"](x, "cpu", dtype)
    for made_before, made_after in zip(before[:3], after[:3]):
        assert_same_tensor(made_before, made_after)
    # `empty` is uninitialised either way: the same shape, dtype and device.
    assert (before[3].shape, before[3].dtype, before[3].device) == (after[3].shape, after[3].dtype, after[3].device)


RANDOM_THEN_MOVED = """
import torch

def noise(batch, device):
    for _ in range(1):
        return batch + torch.randn(batch.shape).to(device)
"""


def test_create_then_move_fix_of_a_random_factory_draws_the_same_on_the_cpu():
    original, fix = both(RANDOM_THEN_MOVED, CreateThenMove)
    batch = torch.ones(3, 4)
    torch.manual_seed(0)
    before = original["noise"](batch, "cpu")
    torch.manual_seed(0)
    after = fix["noise"](batch, "cpu")
    assert_same_tensor(before, after)


def test_create_then_move_fix_unsafe_a_random_factory_on_a_device_leaves_the_cpu_generator_alone():
    # On another device the fixed factory draws from that device's generator: the CPU's does
    # not advance, so every later CPU draw of a seeded run changes.
    original, fix = both(RANDOM_THEN_MOVED, CreateThenMove)
    batch = torch.ones(3, 4, device="meta")
    later = []
    for namespace in (original, fix):
        torch.manual_seed(0)
        namespace["noise"](batch, "meta")
        later.append(torch.rand(3))
    assert not torch.equal(later[0], later[1])
    torch.manual_seed(0)
    assert torch.equal(later[1], torch.rand(3))


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

def as_float(frame):
    for _ in range(1):
        array = np.asarray(frame)
        return torch.FloatTensor(array)

def as_long(frame):
    for _ in range(1):
        array = np.asarray(frame)
        return torch.LongTensor(array)

def noise(shape):
    for _ in range(1):
        return torch.tensor(np.random.randn(*shape))
"""


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64, np.uint8, np.bool_])
def test_tensor_copies_ndarray_fix_makes_the_same_values_and_dtype(dtype):
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=5)
    samples = [(np.arange(6).reshape(2, 3) * 0.7 - 1).astype(dtype) for _ in range(3)]
    for function, argument in (
        ("collate", samples),
        ("as_tensor", samples[0]),
        ("as_float", samples[0]),
        ("as_long", samples[0]),
    ):
        assert_same_tensor(original[function](argument), fix[function](argument))
    for namespace in (original, fix):
        np.random.seed(0)
        namespace["drawn"] = namespace["noise"]((2, 3))
    assert_same_tensor(original["drawn"], fix["drawn"])


def test_tensor_copies_ndarray_fix_unsafe_the_tensor_shares_the_arrays_memory():
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=5)
    frame = np.zeros(4, dtype=np.float32)
    copied, shared = original["as_tensor"](frame), fix["as_tensor"](frame)
    frame[0] = 5.0
    assert copied[0].item() == 0.0 and shared[0].item() == 5.0
    shared[1] = 7.0
    assert frame[1] == 7.0
    # A legacy constructor given an array of its own dtype shared it already: no change there.
    assert all(namespace["as_float"](frame).data_ptr() == frame.ctypes.data for namespace in (original, fix))


def test_tensor_copies_ndarray_fix_unsafe_a_numpy_scalar_is_refused():
    original, fix = both(TENSOR_OF_ARRAY, TensorCopiesNdarray, changes=5)
    # Without a shape, `np.random.randn()` draws a Python float, not an array.
    assert original["noise"](()).shape == ()
    with pytest.raises(TypeError):
        fix["noise"](())


# PFL206: x.float().to(device) from a pinned loader -> x.to(device, non_blocking=True).float()

PINNED_LOADER_LOOP = """
from torch.utils.data import DataLoader

def run(dataset, device):
    outputs = []
    for images, labels in DataLoader(dataset, batch_size=4, pin_memory=True):
        images = images.float().to(device)
        halves = labels.half().bool().to(device)
        labels = labels.long().to(device, non_blocking=False)
        outputs.append((images, halves, labels))
    return outputs
"""


def test_blocking_copy_fix_copies_and_converts_to_the_same_batches():
    original, fix = both(PINNED_LOADER_LOOP, BlockingCopyFromPinnedLoader, changes=3)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10, 3, 2), dtype=torch.uint8, generator=generator)
    labels = torch.randn(10, generator=generator, dtype=torch.float64) * 3
    dataset = torch.utils.data.TensorDataset(images, labels)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        before, after = original["run"](dataset, "cpu"), fix["run"](dataset, "cpu")
    assert len(before) == len(after) == 3
    for batch_before, batch_after in zip(before, after):
        for made_before, made_after in zip(batch_before, batch_after):
            assert_same_tensor(made_before, made_after)


HOST_BATCH_WRITTEN_AFTER_THE_MOVE = """
from torch.utils.data import DataLoader

def run(dataset, device, model):
    for images, labels in DataLoader(dataset, pin_memory=True):
        moved = images.to(device)
        images.zero_()
        copied = labels.to(device)
        kept = labels
        model(moved, copied, kept)
    for images, labels in DataLoader(dataset, pin_memory=True):
        images = images.to(device)
        images.zero_()
        copied = labels.to(device)
        model(copied, labels.long())
"""


def test_blocking_copy_fix_is_unsafe_when_the_iteration_writes_the_host_batch_after_the_move():
    # A non-blocking copy may still be reading the pinned batch that `zero_()` (or code
    # holding it under another name) writes; after `images = images.to(device)` the name
    # is the device copy, and reading the batch (`labels.long()`) does not race.
    from perflint.engine import lint_source

    safety = {
        finding.line: finding.fix.applicability
        for finding in lint_source(HOST_BATCH_WRITTEN_AFTER_THE_MOVE, "example.py", [BlockingCopyFromPinnedLoader])
    }
    assert safety == {6: "unsafe", 8: "unsafe", 12: "safe", 14: "safe"}


# PFL207: DataLoader(...) whose batches go to the device -> DataLoader(..., pin_memory=True) -

UNPINNED_LOADER_LOOP = """
from torch.utils.data import DataLoader

def run(dataset, device, batch_size=4):
    outputs = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch in loader:
        outputs.append(batch.to(device))
    return outputs
"""


def test_loader_without_pinned_memory_fix_loads_the_same_batches():
    original, fix = both(UNPINNED_LOADER_LOOP, LoaderWithoutPinnedMemory)
    data = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        before, after = original["run"](data, "cpu"), fix["run"](data, "cpu")
    assert len(before) == len(after) == 3
    for batch_before, batch_after in zip(before, after):
        assert_same_tensor(batch_before, batch_after)


def test_loader_without_pinned_memory_fix_unsafe_batches_are_copied_or_the_loader_warns():
    original, fix = both(UNPINNED_LOADER_LOOP, LoaderWithoutPinnedMemory)
    data = torch.zeros(4, 3)
    results = []
    for namespace in (original, fix):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = namespace["run"](data, "cpu", batch_size=None)
        results.append((batches, [str(warning.message) for warning in caught if "pin_memory" in str(warning.message)]))
    (unpinned, unpinned_warnings), (pinned, pinned_warnings) = results
    assert unpinned_warnings == [] and unpinned[0].data_ptr() == data[0].data_ptr()
    if torch.accelerator.is_available():
        # The pinning thread copied each sample into page-locked memory: no longer the dataset's.
        assert pinned[0].is_pinned() and pinned[0].data_ptr() != data[0].data_ptr()
    else:
        # Without an accelerator nothing is pinned, and the loader warns.
        assert pinned_warnings and "no accelerator" in pinned_warnings[0]


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
    try:
        before = original(rows)
    except TypeError:
        after = fix(rows)
        assert after.dtype in (torch.int64, torch.float32, torch.float16) and after.shape == (len(rows), 2, 3)
        return
    assert_same_tensor(before, fix(rows))


@pytest.mark.parametrize("dtype", _DTYPES)
def test_tensor_from_list_fix_makes_the_same_values_and_dtype_for_arrays_of_one_dtype(dtype):
    original, fix = both(TENSOR_FROM_ARRAYS, TensorFromListOfArrays, changes=5)
    rows = _rows(dtype, dtype, dtype)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Creating a tensor from a list of numpy.ndarrays")
        assert_same_tensor(original["inferred"](rows), fix["inferred"](rows))
        for function in ("as_half", "as_long", "as_float", "as_legacy_long"):
            assert_same_unless_the_original_raised(original[function], fix[function], rows)


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


def test_tensor_from_list_fix_unsafe_numpy_infers_another_dtype_for_mixed_or_empty_lists():
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
