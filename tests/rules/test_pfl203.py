"""PFL203 beyond its own examples: its messages name the fix in the user's own expressions."""

from __future__ import annotations

from perflint.rules.device.sync_in_training_loop import SyncInTrainingLoop


def test_sync_message_names_the_tensor_to_keep_on_the_device(advice):
    source = (
        "def train(model, loader, optimizer, device):\n"
        "    for x in loader:\n"
        "        loss = model(x.to(device))\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        log(loss.detach().cpu().item())\n"
    )
    assert advice(source, SyncInTrainingLoop) == [
        "`loss.detach().cpu().item()` waits for the device on every optimisation step; keep `loss` on the "
        "device and read it every N steps (`if step % N == 0:`) or once after the loop"
    ]


def test_sync_message_names_the_tensor_to_accumulate_where_the_value_goes_into_a_total(advice):
    source = (
        "def train(model, loader, optimizer, device):\n"
        "    total = 0.0\n"
        "    for x in loader:\n"
        "        loss = model(x.to(device))\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        value = loss.detach().cpu().item() * x.size(0)\n"
        "        total += value\n"
    )
    assert advice(source, SyncInTrainingLoop) == [
        "`loss.detach().cpu().item()` waits for the device on every optimisation step to add it into a "
        "total; accumulate on the device (`total += loss.detach()`) and read the total every N steps"
    ]


def test_sync_message_keeps_the_reduction_and_a_nan_guard_is_advised_to_check_every_n_steps(advice):
    source = (
        "import math\n"
        "def train(model, loader, optimizer, device):\n"
        "    for x in loader:\n"
        "        loss = model(x.to(device))\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        spread = x.std().item()\n"
        "        if math.isnan(loss.item()):\n"
        "            raise RuntimeError('NaN loss')\n"
    )
    assert advice(source, SyncInTrainingLoop) == [
        "`x.std().item()` waits for the device on every optimisation step; keep `x.std()` on the device "
        "and read it every N steps (`if step % N == 0:`) or once after the loop",
        "`loss.item()` waits for the device on every optimisation step to check for non-finite values; check "
        "every N steps (`if step % N == 0`), or keep a flag on the device (`bad |= ~torch.isfinite(loss)`) "
        "and read it every N steps",
    ]
