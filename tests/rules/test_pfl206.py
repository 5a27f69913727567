"""PFL206 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of),
and its messages, which name the fix in the user's own expressions."""

from __future__ import annotations

import warnings

from perflint.rules.device.blocking_copy_from_pinned_loader import BlockingCopyFromPinnedLoader
from tests.rules.execution import assert_same_tensor, both

# PFL206: x.float().to(device) from a pinned loader -> x.to(device, non_blocking=True).float()

PINNED_LOADER_LOOP = """
from torch.utils.data import DataLoader

def run(dataset, device):
    outputs = []
    for images, labels in DataLoader(dataset, batch_size=4, pin_memory=True):
        images = images.float().to(device)
        halves = labels.half().bool().to(device)
        labels = labels.long().to(device, non_blocking=False)
        outputs.append((images, halves, labels))
    return outputs
"""


def test_blocking_copy_fix_copies_and_converts_to_the_same_batches(torch):
    original, fix = both(PINNED_LOADER_LOOP, BlockingCopyFromPinnedLoader, changes=3)
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (10, 3, 2), dtype=torch.uint8, generator=generator)
    labels = torch.randn(10, generator=generator, dtype=torch.float64) * 3
    dataset = torch.utils.data.TensorDataset(images, labels)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        before, after = original["run"](dataset, "cpu"), fix["run"](dataset, "cpu")
    assert len(before) == len(after) == 3
    for batch_before, batch_after in zip(before, after):
        for made_before, made_after in zip(batch_before, batch_after):
            assert_same_tensor(made_before, made_after)


HOST_BATCH_WRITTEN_AFTER_THE_MOVE = """
from torch.utils.data import DataLoader

def run(dataset, device, model):
    for images, labels in DataLoader(dataset, pin_memory=True):
        moved = images.to(device)
        images.zero_()
        copied = labels.to(device)
        kept = labels
        model(moved, copied, kept)
    for images, labels in DataLoader(dataset, pin_memory=True):
        images = images.to(device)
        images.zero_()
        copied = labels.to(device)
        model(copied, labels.long())
"""


def test_blocking_copy_fix_is_unsafe_when_the_iteration_writes_the_host_batch_after_the_move():
    # A non-blocking copy may still be reading the pinned batch that `zero_()` (or code
    # holding it under another name) writes; after `images = images.to(device)` the name
    # is the device copy, and reading the batch (`labels.long()`) does not race.
    from perflint.engine import lint_source

    safety = {
        finding.line: finding.fix.applicability
        for finding in lint_source(HOST_BATCH_WRITTEN_AFTER_THE_MOVE, "example.py", [BlockingCopyFromPinnedLoader])
    }
    assert safety == {6: "unsafe", 8: "unsafe", 12: "safe", 14: "safe"}


def test_pinned_copy_message_moves_first_and_converts_on_the_device(advice):
    source = (
        "from torch.utils.data import DataLoader\n"
        "def train(model, ds, device):\n"
        "    for x, y in DataLoader(ds, pin_memory=True):\n"
        "        model(x.float().to(device), y.cuda())\n"
    )
    assert advice(source, BlockingCopyFromPinnedLoader) == [
        "`x.float().to(device)` copies the pinned batch after converting it on the host (`x.float()` is "
        "not pinned); use `x.to(device, non_blocking=True).float()`",
        "`y.cuda()` copies the pinned batch and waits for the copy; use `y.cuda(non_blocking=True)`",
    ]
