"""PFL211 beyond its own examples: its messages name the fix in the user's own expressions."""

from __future__ import annotations

from perflint.rules.device.literal_tensor_on_device import LiteralTensorOnDevice


def test_literal_tensor_passed_to_maximum_or_minimum_is_advised_clamp_not_a_python_number(advice):
    source = (
        "import torch\nfrom torch import nn\n"
        "class SafeLog(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        low = torch.maximum(x, torch.tensor(1e-5, device=x.device))\n"
        "        high = x.minimum(torch.tensor(1.0, device=x.device))\n"
        "        alpha = torch.min(self.alpha, torch.tensor(1.0, dtype=x.dtype, device=x.device))\n"
        "        return torch.add(low, torch.tensor(2.0, device=x.device))\n"
    )
    assert advice(source, LiteralTensorOnDevice) == [
        "`torch.tensor(1e-5, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; `maximum` takes no Python number, but `x.clamp_min(1e-5)` does",
        "`torch.tensor(1.0, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; `minimum` takes no Python number, but `x.clamp_max(1.0)` does",
        "`torch.tensor(1.0, dtype=x.dtype, device=x.device)` builds its data on the host and copies it to the "
        "device on every call; `min` takes no Python number, but `self.alpha.clamp_max(1.0)` does",
        "`torch.tensor(2.0, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; pass `2.0` to the operation as a Python number, or use `torch.full((), 2.0, device=x.device)`",
    ]
