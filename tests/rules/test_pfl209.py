"""PFL209 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import pytest

from perflint.rules.device.invariant_device_move_in_loop import InvariantDeviceMoveInLoop
from tests.rules.execution import both

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
