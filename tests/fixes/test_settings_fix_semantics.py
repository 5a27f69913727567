"""What the fixes of PFL501, PFL502, PFL503, PFL306, PFL102 and PFL104 do to a program: each fixed
source comes from ``fix_source(..., unsafe=True)``, runs beside the original on the same
inputs, and computes the same; each test named after an unsafe label shows the difference
that label warns about."""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import pytest

from perflint.rules.data_loading.loader_workers_restart_each_epoch import LoaderWorkersRestartEachEpoch
from perflint.rules.settings.conv_bias_before_batchnorm import ConvBiasBeforeBatchNorm
from perflint.rules.settings.optimizer_foreach_off import OptimizerForeachOff
from perflint.rules.settings.zero_grad_keeps_tensors import ZeroGradKeepsTensors
from perflint.rules.vectorisation.builtin_reduction_on_array import BuiltinReductionOnArray
from perflint.rules.vectorisation.np_vectorize import NpVectorize
from tests.fixes.execution import both, fixed, run

torch = pytest.importorskip("torch")


# PFL501: zero_grad(set_to_none=False) -> zero_grad() --------------------------------------

ZERO_GRAD_STEP = """
import torch

def train_step(model, optimizer, inputs):
    optimizer.zero_grad(set_to_none=False)
    model(inputs).square().mean().backward()
    optimizer.step()

def grads_after_zero_grad(model, optimizer):
    optimizer.zero_grad(set_to_none=False)
    return [parameter.grad for parameter in model.parameters()]
"""


def _model_and_optimizer(weight_decay: float = 0.0):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay)


def test_zero_grad_fix_trains_to_the_same_parameters():
    original, fix = both(ZERO_GRAD_STEP, ZeroGradKeepsTensors, 2)
    inputs = torch.randn(16, 8, generator=torch.Generator().manual_seed(1))
    results = []
    for namespace in (original, fix):
        model, optimizer = _model_and_optimizer()
        for _ in range(5):
            namespace["train_step"](model, optimizer, inputs)
        results.append([parameter.detach() for parameter in model.parameters()])
    for before, after in zip(*results):
        assert torch.allclose(before, after)


def test_zero_grad_fix_unsafe_gradients_are_none_instead_of_zeros():
    original, fix = both(ZERO_GRAD_STEP, ZeroGradKeepsTensors, 2)
    inputs = torch.randn(16, 8)
    grads = []
    for namespace in (original, fix):
        model, optimizer = _model_and_optimizer()
        namespace["train_step"](model, optimizer, inputs)
        grads.append(namespace["grads_after_zero_grad"](model, optimizer))
    kept, freed = grads
    assert all(grad is not None and not grad.any() for grad in kept)
    assert all(grad is None for grad in freed)


UNUSED_PARAMETER_STEP = """
import torch

def train_step(used, unused, optimizer):
    optimizer.zero_grad(set_to_none=False)
    used.square().sum().backward()
    optimizer.step()
"""


def test_zero_grad_fix_unsafe_a_parameter_outside_the_loss_stops_decaying():
    # The first step uses both parameters, so both have gradients; then only one is used.
    # With zero gradients the optimizer still applies weight decay and momentum to the
    # other; with None it skips it.
    original, fix = both(UNUSED_PARAMETER_STEP, ZeroGradKeepsTensors)
    results = []
    for namespace in (original, fix):
        used, unused = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
        optimizer = torch.optim.SGD([used, unused], lr=0.1, momentum=0.9, weight_decay=0.1)
        (used.sum() + unused.sum()).backward()
        optimizer.step()
        after_first_step = unused.detach().clone()
        for _ in range(3):
            namespace["train_step"](used, unused, optimizer)
        results.append((after_first_step, unused.detach().clone(), used.detach().clone()))
    (first, kept_unused, kept_used), (first_fixed, fixed_unused, fixed_used) = results
    assert torch.equal(first, first_fixed) and torch.allclose(kept_used, fixed_used)
    assert torch.equal(fixed_unused, first_fixed)  # skipped: never moved again
    assert not torch.allclose(kept_unused, first)  # moved by momentum and decay


# PFL502: drop foreach=False ---------------------------------------------------------------

FOREACH_OPTIMIZER = """
import torch

def make_optimizer(parameters):
    return torch.optim.NAdam(parameters, lr=1e-2, weight_decay=1e-2, foreach=False)
"""


def _train(make_optimizer, steps: int = 20) -> torch.Tensor:
    torch.manual_seed(0)
    weights = [torch.randn(size, requires_grad=True) for size in (1000, 3, 77, 4096, 1)]
    gradients = [torch.randn_like(weight) for weight in weights]
    optimizer = make_optimizer(weights)
    for step in range(steps):
        for weight, gradient in zip(weights, gradients):
            weight.grad = gradient * (1 + step / 7)
        optimizer.step()
    return torch.cat([weight.detach().flatten() for weight in weights])


def test_foreach_fix_on_the_cpu_keeps_the_per_tensor_step_bit_for_bit():
    # The default (foreach=None) picks the multi-tensor step on CUDA only: on the CPU the fixed
    # optimizer runs the same per-tensor code as foreach=False.
    original, fix = both(FOREACH_OPTIMIZER, OptimizerForeachOff)
    assert "foreach" not in fixed(FOREACH_OPTIMIZER, OptimizerForeachOff)
    assert torch.equal(_train(original["make_optimizer"]), _train(fix["make_optimizer"]))


def _multi_tensor(make_optimizer):
    """The optimizer the fixed code builds, with the step its default picks on CUDA."""

    def build(parameters):
        optimizer = make_optimizer(parameters)
        for group in optimizer.param_groups:
            assert group["foreach"] is None  # the default, which means multi-tensor on CUDA
            group["foreach"] = True
        return optimizer

    return build


def test_foreach_fix_unsafe_the_multi_tensor_step_rounds_differently():
    # What the fix selects on a GPU, run on the CPU: NAdam's multi-tensor step rounds
    # differently in the last bits (Adam, AdamW and SGD happened to match bit for bit here).
    original, fix = both(FOREACH_OPTIMIZER, OptimizerForeachOff)
    per_tensor = _train(original["make_optimizer"])
    multi_tensor = _train(_multi_tensor(fix["make_optimizer"]))
    assert not torch.equal(per_tensor, multi_tensor)
    assert torch.allclose(per_tensor, multi_tensor, rtol=1e-5, atol=1e-6)


class PeakAllocation(torch.utils._python_dispatch.TorchDispatchMode):
    """The most bytes of new tensors alive at once while the mode is on (views and in-place
    results, which share an input's storage, are not new)."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0

    def _free(self, size: int) -> None:
        self.live -= size

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        result = func(*args, **(kwargs or {}))
        leaves = torch.utils._pytree.tree_leaves
        inputs = {
            leaf.untyped_storage().data_ptr() for leaf in leaves((args, kwargs)) if isinstance(leaf, torch.Tensor)
        }
        for leaf in leaves(result):
            if isinstance(leaf, torch.Tensor) and leaf.untyped_storage().data_ptr() not in inputs:
                size = leaf.untyped_storage().nbytes()
                self.live += size
                self.peak = max(self.peak, self.live)
                weakref.finalize(leaf, self._free, size)
        return result


def _step_peak(make_optimizer) -> tuple[int, int]:
    """Bytes of temporaries alive at once during one step, and the parameters' bytes."""
    torch.manual_seed(0)
    weights = [torch.randn(100_000, requires_grad=True) for _ in range(20)]
    for weight in weights:
        weight.grad = torch.randn_like(weight)
    optimizer = make_optimizer(weights)
    optimizer.step()  # the state (moments) is allocated here, before measuring
    tracker = PeakAllocation()
    with tracker:
        optimizer.step()
    return tracker.peak, sum(weight.nbytes for weight in weights)


def test_foreach_fix_unsafe_the_multi_tensor_step_holds_temporaries_for_all_parameters():
    original, fix = both(FOREACH_OPTIMIZER, OptimizerForeachOff)
    per_tensor, parameter_bytes = _step_peak(original["make_optimizer"])
    multi_tensor, _ = _step_peak(_multi_tensor(fix["make_optimizer"]))
    # Per tensor, the temporaries of one parameter at a time; multi-tensor, of all at once.
    assert per_tensor < parameter_bytes
    assert multi_tensor >= parameter_bytes > 2 * per_tensor


# PFL503: bias=False on a convolution followed by a batch norm ------------------------------

CONV_BLOCK = """
import torch.nn as nn

def make_block():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
"""


def _blocks():
    original, fix = both(CONV_BLOCK, ConvBiasBeforeBatchNorm)
    torch.manual_seed(0)
    with_bias = original["make_block"]()
    without_bias = fix["make_block"]()
    with torch.no_grad():
        without_bias[0].weight.copy_(with_bias[0].weight)
        with_bias[0].bias.uniform_(-2.0, 2.0)  # a bias far from zero, to be cancelled
    return with_bias, without_bias


def test_conv_bias_fix_gives_the_same_output_and_gradients_in_training_mode():
    with_bias, without_bias = _blocks()
    images = torch.randn(4, 3, 10, 10)
    outputs = []
    for block in (with_bias, without_bias):
        output = block(images)
        output.square().mean().backward()
        outputs.append((output.detach(), block[0].weight.grad))
    assert torch.allclose(outputs[0][0], outputs[1][0], atol=1e-5)
    assert torch.allclose(outputs[0][1], outputs[1][1], atol=1e-5)


def test_conv_bias_fix_unsafe_old_checkpoints_no_longer_load_strictly():
    with_bias, without_bias = _blocks()
    checkpoint = with_bias.state_dict()
    assert "0.bias" in checkpoint and "0.bias" not in without_bias.state_dict()
    with pytest.raises(RuntimeError, match="Unexpected key.*0.bias"):
        without_bias.load_state_dict(checkpoint)
    assert without_bias.load_state_dict(checkpoint, strict=False).unexpected_keys == ["0.bias"]


def test_conv_bias_fix_unsafe_evaluation_mode_differs_for_a_checkpoint_trained_with_the_bias():
    # The running mean learnt the bias: loaded without it, the model in evaluation mode
    # computes something else until the running mean is corrected.
    with_bias, without_bias = _blocks()
    with torch.no_grad():
        for _ in range(20):
            with_bias(torch.randn(8, 3, 10, 10))
    without_bias.load_state_dict(with_bias.state_dict(), strict=False)
    with_bias.eval()
    without_bias.eval()
    images = torch.randn(2, 3, 10, 10)
    assert not torch.allclose(with_bias(images), without_bias(images), atol=1e-3)
    with torch.no_grad():
        without_bias[1].running_mean -= with_bias[0].bias
    assert torch.allclose(with_bias(images), without_bias(images), atol=1e-5)


# PFL306: persistent_workers=True ----------------------------------------------------------


class EpochStamped(torch.utils.data.Dataset):
    """Items that show which epoch the dataset object serving them was told about."""

    def __init__(self) -> None:
        self.epoch = 0

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int):
        return torch.tensor([index, self.epoch])


LOADER_EPOCHS = """
from torch.utils.data import DataLoader

def epochs(dataset, count, on_epoch=print):
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    seen = []
    for epoch in range(count):
        on_epoch(epoch)
        for batch in loader:
            seen.append(batch)
    return seen
"""


def test_persistent_workers_fix_yields_the_same_batches_for_a_dataset_that_does_not_change():
    original, fix = both(LOADER_EPOCHS, LoaderWorkersRestartEachEpoch)
    dataset = EpochStamped()
    first = original["epochs"](dataset, 2, id)
    second = fix["epochs"](dataset, 2, id)
    assert len(first) == len(second) == 4
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_a_loader_whose_dataset_the_epoch_loop_changes_is_not_advised_persistent_workers():
    # Restarted workers see each epoch's dataset; persistent ones would keep the first.
    from perflint.engine import lint_source

    for change in ("dataset.epoch = epoch", "dataset.set_epoch(epoch)", "loader.dataset.epoch = epoch"):
        source = LOADER_EPOCHS.replace("on_epoch(epoch)", change)
        assert lint_source(source, "example.py", [LoaderWorkersRestartEachEpoch]) == [], change
    original = run(LOADER_EPOCHS.replace("on_epoch(epoch)", "dataset.epoch = epoch"))
    assert [int(batch[0, 1]) for batch in original["epochs"](EpochStamped(), 2)] == [0, 0, 1, 1]


NAMED_WORKER_COUNT = """
from torch.utils.data import DataLoader

def epochs(dataset, workers):
    loader = DataLoader(dataset, batch_size=4, num_workers=workers)
    seen = []
    for epoch in range(2):
        for batch in loader:
            seen.append(batch)
    return seen
"""


def test_persistent_workers_fix_of_a_named_count_still_runs_without_workers():
    # persistent_workers=True with num_workers=0 raises; the fix writes `workers > 0`.
    source = fixed(NAMED_WORKER_COUNT, LoaderWorkersRestartEachEpoch)
    assert "persistent_workers=workers > 0" in source
    original, fix = run(NAMED_WORKER_COUNT), run(source)
    for workers in (0, 2):
        first, second = original["epochs"](EpochStamped(), workers), fix["epochs"](EpochStamped(), workers)
        assert len(first) == len(second) == 4
        assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_persistent_workers_fix_unsafe_workers_keep_the_dataset_of_the_first_epoch():
    # A change the linter cannot see (a callback holding the dataset) is what the label warns of.
    original, fix = both(LOADER_EPOCHS, LoaderWorkersRestartEachEpoch)
    dataset = EpochStamped()
    restarted = original["epochs"](dataset, 3, lambda epoch: setattr(dataset, "epoch", epoch))
    dataset = EpochStamped()
    persistent = fix["epochs"](dataset, 3, lambda epoch: setattr(dataset, "epoch", epoch))
    # Column 1 is the epoch the serving copy of the dataset knew.
    assert [int(batch[0, 1]) for batch in restarted] == [0, 0, 1, 1, 2, 2]
    assert [int(batch[0, 1]) for batch in persistent] == [0, 0, 0, 0, 0, 0]


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


def test_builtin_reduction_fix_gives_the_same_values_on_torch_tensors():
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
    torch_original, torch_fix = both(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    values = np.array([100, 100], dtype=np.int8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy warns of the scalar overflow
        assert numpy_original["column_sums"](values) == -56
    assert numpy_fix["column_sums"](values) == 200
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
    torch_original, torch_fix = both(TORCH_REDUCTIONS, BuiltinReductionOnArray, 6)
    with_nan = np.array([1.0, np.nan])
    # The builtin compares in order (anything > nan is False); the method propagates NaN.
    assert numpy_original["reduce"](with_nan)[2] == 1.0
    assert np.isnan(numpy_fix["reduce"](with_nan)[2])
    assert torch_original["reduce"](torch.from_numpy(with_nan))[2] == 1.0
    assert torch.isnan(torch_fix["reduce"](torch.from_numpy(with_nan))[2])
    # any/all: a Python bool becomes a NumPy bool_ or a tensor.
    vector = np.array([1.0, 2.0])
    assert numpy_original["reduce"](vector)[3] is True
    assert type(numpy_fix["reduce"](vector)[3]) is np.bool_
    assert isinstance(torch_fix["reduce"](torch.from_numpy(vector))[3], torch.Tensor)
    # The sum of nothing: the builtin's start, 0, against the float array's 0.0.
    empty = np.array([])
    assert type(numpy_original["column_sums"](empty)) is int
    assert type(numpy_fix["column_sums"](empty)) is np.float64


def test_builtin_reduction_fix_unsafe_numpy_has_no_min_or_max_of_strings():
    numpy_original, numpy_fix = both(NUMPY_REDUCTIONS, BuiltinReductionOnArray, 8)
    names = np.array(["col_2", "col_0", "col_1"])
    assert numpy_original["extremes"](names) == ("col_0", "col_2")
    with pytest.raises(TypeError, match="minimum"):
        numpy_fix["extremes"](names)


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
