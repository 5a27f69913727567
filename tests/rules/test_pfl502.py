"""PFL502 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import weakref

import pytest

from perflint.rules.settings.optimizer_foreach_off import OptimizerForeachOff
from tests.rules.execution import both, fixed

# PFL502: drop foreach=False ---------------------------------------------------------------

FOREACH_OPTIMIZER = """
import torch

def make_optimizer(parameters):
    return torch.optim.NAdam(parameters, lr=1e-2, weight_decay=1e-2, foreach=False)
"""


def _train(make_optimizer, steps: int = 20):
    """The parameters after ``steps`` steps of the optimizer ``make_optimizer`` builds, flattened."""
    import torch

    torch.manual_seed(0)
    weights = [torch.randn(size, requires_grad=True) for size in (1000, 3, 77, 4096, 1)]
    gradients = [torch.randn_like(weight) for weight in weights]
    optimizer = make_optimizer(weights)
    for step in range(steps):
        for weight, gradient in zip(weights, gradients):
            weight.grad = gradient * (1 + step / 7)
        optimizer.step()
    return torch.cat([weight.detach().flatten() for weight in weights])


def test_foreach_fix_on_the_cpu_keeps_the_per_tensor_step_bit_for_bit(torch):
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


def test_foreach_fix_unsafe_the_multi_tensor_step_rounds_differently(torch):
    # What the fix selects on a GPU, run on the CPU: NAdam's multi-tensor step rounds
    # differently in the last bits (Adam, AdamW and SGD happened to match bit for bit here).
    original, fix = both(FOREACH_OPTIMIZER, OptimizerForeachOff)
    per_tensor = _train(original["make_optimizer"])
    multi_tensor = _train(_multi_tensor(fix["make_optimizer"]))
    assert not torch.equal(per_tensor, multi_tensor)
    assert torch.allclose(per_tensor, multi_tensor, rtol=1e-5, atol=1e-6)


def _step_peak(make_optimizer) -> tuple[int, int]:
    """Bytes of temporaries alive at once during one step, and the parameters' bytes."""
    import torch

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


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_foreach_fix_unsafe_the_multi_tensor_step_holds_temporaries_for_all_parameters():
    original, fix = both(FOREACH_OPTIMIZER, OptimizerForeachOff)
    per_tensor, parameter_bytes = _step_peak(original["make_optimizer"])
    multi_tensor, _ = _step_peak(_multi_tensor(fix["make_optimizer"]))
    # Per tensor, the temporaries of one parameter at a time; multi-tensor, of all at once.
    assert per_tensor < parameter_bytes
    assert multi_tensor >= parameter_bytes > 2 * per_tensor
