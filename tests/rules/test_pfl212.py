"""PFL212 beyond its own examples: its messages name the fix in the user's own expressions."""

from __future__ import annotations

from perflint.rules.device.tensor_condition_in_forward import TensorConditionInForward


def test_a_guard_that_only_raises_is_advised_an_async_assertion_not_torch_where(advice):
    source = (
        "import warnings\nimport torch\nfrom torch import nn\n"
        "class Block(nn.Module):\n"
        "    def forward(self, x: torch.Tensor, loss: torch.Tensor) -> torch.Tensor:\n"
        "        if not torch.isfinite(x).all():\n"
        "            raise ValueError('non-finite')\n"
        "        if torch.isnan(loss):\n"
        "            warnings.warn('NaN loss')\n"
        "        return x\n"
    )
    assert advice(source, TensorConditionInForward) == [
        "`if not torch.isfinite(x).all()` reads `torch.isfinite(x).all()` on the host: a device "
        "synchronisation on every call and a graph break under `torch.compile`; the branch only reports a "
        "failure: check it with `torch._assert_async(torch.isfinite(x).all())`, which does not wait, or only "
        "under a debug flag",
        "`if torch.isnan(loss)` reads `torch.isnan(loss)` on the host: a device synchronisation on every call "
        "and a graph break under `torch.compile`; the branch only reports a failure: check it with "
        "`torch._assert_async(torch.logical_not(torch.isnan(loss)))`, which does not wait, or only under a "
        "debug flag",
    ]


def test_a_random_draw_read_back_from_the_device_is_advised_to_be_drawn_on_the_host(advice):
    source = (
        "import torch\nfrom torch import nn\n"
        "class RandomDepth(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        keep = torch.randint(0, 2, (1,), device=x.device)\n"
        "        if keep.item():\n"
        "            x = x * 2\n"
        "        return x\n"
    )
    assert advice(source, TensorConditionInForward) == [
        "`if keep.item()` reads `keep.item()` on the host: a device synchronisation on every call and a graph "
        "break under `torch.compile`; `torch.randint(0, 2, (1,), device=x.device)` draws on the device only to "
        "be read on the host: draw it on the host (without `device=`, or with Python's `random`)"
    ]


def test_an_assertion_of_not_a_tensor_is_advised_a_tensor_negation(advice):
    source = (
        "import torch\nfrom torch import nn\n"
        "class Pool(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        assert not torch.isnan(x).any()\n"
        "        return x\n"
    )
    assert advice(source, TensorConditionInForward) == [
        "`assert not torch.isnan(x).any()` reads `torch.isnan(x).any()` on the host: a device synchronisation "
        "on every call and a graph break under `torch.compile`; use "
        "`torch._assert_async(torch.logical_not(torch.isnan(x).any()))`, or validate the input once, where it is "
        "made, not on every call of `forward`"
    ]


def test_a_guard_on_a_value_read_with_item_is_advised_an_async_assertion_of_the_tensor(advice):
    source = (
        "import torch\n"
        "def count_loss(counts: torch.Tensor, expected: int) -> torch.Tensor:\n"
        "    total = counts.sum()\n"
        "    if total.item() != expected:\n"
        "        raise RuntimeError('counts do not add up')\n"
        "    return counts.float().mean()\n"
    )
    assert advice(source, TensorConditionInForward) == [
        "`if total.item() != expected` reads `total.item()` on the host: a device synchronisation on every call "
        "and a graph break under `torch.compile`; the branch only reports a failure: check it with "
        "`torch._assert_async(torch.logical_not(total != expected))`, which does not wait, or only under a "
        "debug flag"
    ]
