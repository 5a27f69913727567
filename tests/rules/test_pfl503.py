"""PFL503 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.settings.conv_bias_before_batchnorm import ConvBiasBeforeBatchNorm
from tests.rules.execution import assert_left_alone, both, run

# PFL503: bias=False on a convolution followed by a batch norm ------------------------------

CONV_BLOCK = """
import torch.nn as nn

def make_block():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
"""


def _blocks():
    import torch

    original, fix = both(CONV_BLOCK, ConvBiasBeforeBatchNorm)
    torch.manual_seed(0)
    with_bias = original["make_block"]()
    without_bias = fix["make_block"]()
    with torch.no_grad():
        without_bias[0].weight.copy_(with_bias[0].weight)
        with_bias[0].bias.uniform_(-2.0, 2.0)  # a bias far from zero, to be cancelled
    return with_bias, without_bias


def test_conv_bias_fix_gives_the_same_output_and_gradients_in_training_mode(torch):
    with_bias, without_bias = _blocks()
    images = torch.randn(4, 3, 10, 10)
    outputs = []
    for block in (with_bias, without_bias):
        output = block(images)
        output.square().mean().backward()
        outputs.append((output.detach(), block[0].weight.grad))
    assert torch.allclose(outputs[0][0], outputs[1][0], atol=1e-5)
    assert torch.allclose(outputs[0][1], outputs[1][1], atol=1e-5)


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_conv_bias_fix_unsafe_old_checkpoints_no_longer_load_strictly():
    with_bias, without_bias = _blocks()
    checkpoint = with_bias.state_dict()
    assert "0.bias" in checkpoint and "0.bias" not in without_bias.state_dict()
    with pytest.raises(RuntimeError, match="Unexpected key.*0.bias"):
        without_bias.load_state_dict(checkpoint)
    assert without_bias.load_state_dict(checkpoint, strict=False).unexpected_keys == ["0.bias"]


def test_conv_bias_fix_unsafe_evaluation_mode_differs_for_a_checkpoint_trained_with_the_bias(torch):
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
