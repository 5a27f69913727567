"""The device rules' messages name the fix in the user's own expressions."""

from __future__ import annotations

from perflint.engine import lint_source
from perflint.rules.device.blocking_copy_from_pinned_loader import BlockingCopyFromPinnedLoader
from perflint.rules.device.float64_to_device import Float64ToDevice
from perflint.rules.device.sync_in_training_loop import SyncInTrainingLoop
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray


def messages(source: str, rule) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [rule])]


def test_tensor_copy_message_offers_from_numpy_and_the_legacy_constructors_dtype():
    source = (
        "import numpy as np\nimport torch\n"
        "def collate(samples):\n"
        "    x = np.stack(samples)\n"
        "    return torch.tensor(x), torch.LongTensor(x)\n"
    )
    assert messages(source, TensorCopiesNdarray) == [
        "`torch.tensor(x)` copies the NumPy array `x`; `torch.from_numpy(x)` shares its memory",
        "`torch.LongTensor(x)` copies the NumPy array `x`; `torch.from_numpy(x).long()` shares its memory",
    ]


def test_sync_message_names_the_tensor_to_accumulate():
    source = (
        "def train(model, loader, optimizer):\n"
        "    for x in loader:\n"
        "        loss = model(x)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        log(loss.detach().cpu().item())\n"
    )
    assert messages(source, SyncInTrainingLoop) == [
        "`loss.detach().cpu().item()` waits for the device on every training step; accumulate on the "
        "device (`total += loss.detach()`) and read the total every N steps; runs in a loop over `loader`"
    ]


def test_pinned_copy_message_moves_first_and_converts_on_the_device():
    source = (
        "from torch.utils.data import DataLoader\n"
        "def train(model, ds, device):\n"
        "    for x, y in DataLoader(ds, pin_memory=True):\n"
        "        model(x.float().to(device), y.cuda())\n"
    )
    assert messages(source, BlockingCopyFromPinnedLoader) == [
        "`x.float().to(device)` copies the pinned batch after converting it on the host (`x.float()` is "
        "not pinned); use `x.to(device, non_blocking=True).float()`",
        "`y.cuda()` copies the pinned batch and waits for the copy; use `y.cuda(non_blocking=True)`",
    ]


def test_float64_message_names_the_array_to_convert():
    source = (
        "import numpy as np\nimport torch\n"
        "def noise(n, device):\n"
        "    return torch.from_numpy(np.random.rand(n)).to(device)\n"
    )
    assert messages(source, Float64ToDevice) == [
        "`np.random.rand(n)` is float64, so `torch.from_numpy(np.random.rand(n)).to(device)` copies twice "
        "the bytes and makes a float64 tensor; convert first (`np.random.rand(n).astype(np.float32)`, or "
        "`dtype=np.float32` where it is made)"
    ]
