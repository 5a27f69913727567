"""The device rules' messages name the fix in the user's own expressions."""

from __future__ import annotations

from perflint.engine import lint_source
from perflint.rules.device.blocking_copy_from_pinned_loader import BlockingCopyFromPinnedLoader
from perflint.rules.device.float64_to_device import Float64ToDevice
from perflint.rules.device.sync_in_training_loop import SyncInTrainingLoop
from perflint.rules.device.tensor_copies_ndarray import TensorCopiesNdarray


def messages(source: str, rule) -> list[str]:
    """The advice of each finding, without the evidence of repetition that ends a message of a
    rule paid per execution (``; runs per call: in `forward```): that is tested with the engine."""
    advice = []
    for finding in lint_source(source, "example.py", [rule]):
        suffix = f"; {finding.evidence}" if finding.evidence else ""
        assert finding.message.endswith(suffix)
        advice.append(finding.message[: len(finding.message) - len(suffix)])
    return advice


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
        "`loss.detach().cpu().item()` waits for the device on every optimisation step; accumulate on the "
        "device (`total += loss.detach()`) and read the total every N steps"
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


def test_a_guard_that_only_raises_is_advised_an_async_assertion_not_torch_where():
    from perflint.rules.device.tensor_condition_in_forward import TensorConditionInForward

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
    assert messages(source, TensorConditionInForward) == [
        "`if not torch.isfinite(x).all()` reads `torch.isfinite(x).all()` on the host: a device "
        "synchronisation on every call and a graph break under `torch.compile`; the branch only reports a "
        "failure: check it with `torch._assert_async(torch.isfinite(x).all())`, which does not wait, or only "
        "under a debug flag",
        "`if torch.isnan(loss)` reads `torch.isnan(loss)` on the host: a device synchronisation on every call "
        "and a graph break under `torch.compile`; the branch only reports a failure: check it with "
        "`torch._assert_async(torch.logical_not(torch.isnan(loss)))`, which does not wait, or only under a "
        "debug flag",
    ]


def test_a_random_draw_read_back_from_the_device_is_advised_to_be_drawn_on_the_host():
    from perflint.rules.device.tensor_condition_in_forward import TensorConditionInForward

    source = (
        "import torch\nfrom torch import nn\n"
        "class RandomDepth(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        keep = torch.randint(0, 2, (1,), device=x.device)\n"
        "        if keep.item():\n"
        "            x = x * 2\n"
        "        return x\n"
    )
    assert messages(source, TensorConditionInForward) == [
        "`if keep.item()` reads `keep.item()` on the host: a device synchronisation on every call and a graph "
        "break under `torch.compile`; `torch.randint(0, 2, (1,), device=x.device)` draws on the device only to "
        "be read on the host: draw it on the host (without `device=`, or with Python's `random`)"
    ]


def test_sync_message_keeps_the_reduction_and_a_nan_guard_is_advised_to_check_every_n_steps():
    source = (
        "import math\n"
        "def train(model, loader, optimizer):\n"
        "    for x in loader:\n"
        "        loss = model(x)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        spread = x.std().item()\n"
        "        if math.isnan(loss.item()):\n"
        "            raise RuntimeError('NaN loss')\n"
    )
    assert messages(source, SyncInTrainingLoop) == [
        "`x.std().item()` waits for the device on every optimisation step; accumulate on the device "
        "(`total += x.std().detach()`) and read the total every N steps",
        "`loss.item()` waits for the device on every optimisation step to check for non-finite values; check "
        "every N steps (`if step % N == 0`), or keep a flag on the device (`bad |= ~torch.isfinite(loss)`) "
        "and read it every N steps",
    ]


def test_literal_tensor_passed_to_maximum_or_minimum_is_advised_clamp_not_a_python_number():
    from perflint.rules.device.literal_tensor_on_device import LiteralTensorOnDevice

    source = (
        "import torch\nfrom torch import nn\n"
        "class SafeLog(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        low = torch.maximum(x, torch.tensor(1e-5, device=x.device))\n"
        "        high = x.minimum(torch.tensor(1.0, device=x.device))\n"
        "        alpha = torch.min(self.alpha, torch.tensor(1.0, dtype=x.dtype, device=x.device))\n"
        "        return torch.add(low, torch.tensor(2.0, device=x.device))\n"
    )
    assert messages(source, LiteralTensorOnDevice) == [
        "`torch.tensor(1e-5, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; `maximum` takes no Python number, but `x.clamp_min(1e-5)` does",
        "`torch.tensor(1.0, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; `minimum` takes no Python number, but `x.clamp_max(1.0)` does",
        "`torch.tensor(1.0, dtype=x.dtype, device=x.device)` builds its data on the host and copies it to the "
        "device on every call; `min` takes no Python number, but `self.alpha.clamp_max(1.0)` does",
        "`torch.tensor(2.0, device=x.device)` builds its data on the host and copies it to the device on every "
        "call; pass `2.0` to the operation as a Python number, or use `torch.full((), 2.0, device=x.device)`",
    ]


def test_persistent_workers_message_says_what_a_loader_without_workers_accepts():
    from perflint.rules.data_loading.loader_workers_restart_each_epoch import LoaderWorkersRestartEachEpoch

    source = (
        "from torch.utils.data import DataLoader\n"
        "def fit(ds, args):\n"
        "    named = DataLoader(ds, num_workers=args.workers)\n"
        "    computed = DataLoader(ds, num_workers=os.cpu_count() // 2)\n"
        "    literal = DataLoader(ds, num_workers=4)\n"
        "    for epoch in range(10):\n"
        "        for batch in named: pass\n"
        "        for batch in computed: pass\n"
        "        for batch in literal: pass\n"
    )
    assert messages(source, LoaderWorkersRestartEachEpoch) == [
        "`named` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=args.workers > 0` to `DataLoader(...)`",
        "`computed` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=True` (a loader accepts it only with `num_workers > 0`) to `DataLoader(...)`",
        "`literal` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=True` to `DataLoader(...)`",
    ]


def test_an_assertion_of_not_a_tensor_is_advised_a_tensor_negation():
    from perflint.rules.device.tensor_condition_in_forward import TensorConditionInForward

    source = (
        "import torch\nfrom torch import nn\n"
        "class Pool(nn.Module):\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        assert not torch.isnan(x).any()\n"
        "        return x\n"
    )
    assert messages(source, TensorConditionInForward) == [
        "`assert not torch.isnan(x).any()` reads `torch.isnan(x).any()` on the host: a device synchronisation "
        "on every call and a graph break under `torch.compile`; use "
        "`torch._assert_async(torch.logical_not(torch.isnan(x).any()))`, or validate the input once, where it is "
        "made, not on every call of `forward`"
    ]
