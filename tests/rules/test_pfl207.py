"""PFL207 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of)."""

from __future__ import annotations

import warnings

from perflint.engine import lint_source
from perflint.rules.device.loader_without_pinned_memory import LoaderWithoutPinnedMemory
from tests.rules.execution import assert_same_tensor, both, run

# PFL207: DataLoader(...) whose batches go to the device -> DataLoader(..., pin_memory=True) -

UNPINNED_LOADER_LOOP = """
from torch.utils.data import DataLoader

def run(dataset, device, batch_size=4):
    outputs = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False)
    for batch in loader:
        outputs.append(batch.to(device))
    return outputs
"""


def test_loader_without_pinned_memory_fix_loads_the_same_batches(torch):
    original, fix = both(UNPINNED_LOADER_LOOP, LoaderWithoutPinnedMemory)
    data = torch.randn(10, 3, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*pin_memory.*")
        before, after = original["run"](data, "cpu"), fix["run"](data, "cpu")
    assert len(before) == len(after) == 3
    for batch_before, batch_after in zip(before, after):
        assert_same_tensor(batch_before, batch_after)


def test_loader_without_pinned_memory_fix_unsafe_batches_are_copied_or_the_loader_warns(torch):
    original, fix = both(UNPINNED_LOADER_LOOP, LoaderWithoutPinnedMemory)
    data = torch.zeros(4, 3)
    results = []
    for namespace in (original, fix):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            batches = namespace["run"](data, "cpu", batch_size=None)
        results.append((batches, [str(warning.message) for warning in caught if "pin_memory" in str(warning.message)]))
    (unpinned, unpinned_warnings), (pinned, pinned_warnings) = results
    assert unpinned_warnings == [] and unpinned[0].data_ptr() == data[0].data_ptr()
    if torch.accelerator.is_available():
        # The pinning thread copied each sample into page-locked memory: no longer the dataset's.
        assert pinned[0].is_pinned() and pinned[0].data_ptr() != data[0].data_ptr()
    else:
        # Without an accelerator nothing is pinned, and the loader warns.
        assert pinned_warnings and "no accelerator" in pinned_warnings[0]


# PFL207: no pinning for device tensors, nor over a loader setting left to the user --------

ON_DEVICE_DATASET = """
import torch
from torch.utils.data import DataLoader, TensorDataset

def batches(features, labels, device):
    data = TensorDataset(features.to(device), labels.to(device))
    return [x.to(device) for x, y in DataLoader(data, batch_size=2)]
"""


def test_a_dataset_of_device_tensors_is_not_advised_pinning_and_pinning_would_raise(torch):
    assert lint_source(ON_DEVICE_DATASET, "example.py", [LoaderWithoutPinnedMemory]) == []
    # Nothing is copied: the batches are the device's already (the CPU stands in for it here).
    batches = run(ON_DEVICE_DATASET)["batches"](torch.ones(4, 2), torch.zeros(4), "cpu")
    assert len(batches) == 2
    on_host = ON_DEVICE_DATASET.replace("features.to(device), labels.to(device)", "features, labels")
    assert [finding.code for finding in lint_source(on_host, "example.py", [LoaderWithoutPinnedMemory])] == ["PFL207"]


def test_pinning_is_not_offered_beside_a_loader_that_takes_pin_memory_from_a_setting():
    beside_a_setting = LoaderWithoutPinnedMemory.INVALID[0].code
    findings = lint_source(beside_a_setting, "example.py", [LoaderWithoutPinnedMemory])
    assert [finding.code for finding in findings] == ["PFL207"] and findings[0].fix is None
    literal = beside_a_setting.replace("pin_memory=self.pin_memory", "pin_memory=False")
    assert all(finding.fix is not None for finding in lint_source(literal, "example.py", [LoaderWithoutPinnedMemory]))
