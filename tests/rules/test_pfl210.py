"""PFL210 beyond its own examples: its message names the fix in the user's own expressions."""

from __future__ import annotations

from perflint.rules.device.float64_to_device import Float64ToDevice


def test_float64_message_names_the_array_to_convert(advice):
    source = (
        "import numpy as np\nimport torch\n"
        "def noise(n, device):\n"
        "    return torch.from_numpy(np.random.rand(n)).to(device)\n"
    )
    assert advice(source, Float64ToDevice) == [
        "`np.random.rand(n)` is float64, so `torch.from_numpy(np.random.rand(n)).to(device)` copies twice "
        "the bytes and makes a float64 tensor; convert first (`np.random.rand(n).astype(np.float32)`, or "
        "`dtype=np.float32` where it is made)"
    ]
