"""PFL501 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

from perflint.rules.settings.zero_grad_keeps_tensors import ZeroGradKeepsTensors
from tests.rules.execution import both

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
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    return model, torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=weight_decay)


def test_zero_grad_fix_trains_to_the_same_parameters(torch):
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


def test_zero_grad_fix_unsafe_gradients_are_none_instead_of_zeros(torch):
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


def test_zero_grad_fix_unsafe_a_parameter_outside_the_loss_stops_decaying(torch):
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
