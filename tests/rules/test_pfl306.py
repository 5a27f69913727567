"""PFL306 beyond its own examples: what its fix does to a program, run beside the original on
the same inputs (each test named after an unsafe label shows the difference that label warns of),
and its messages, which name the fix in the user's own expressions."""

from __future__ import annotations

import pytest

from perflint.rules.data_loading.loader_workers_restart_each_epoch import LoaderWorkersRestartEachEpoch
from tests.rules.execution import both, fixed, run

# PFL306: persistent_workers=True ----------------------------------------------------------


class EpochStamped:
    """A map-style dataset whose items show which epoch the dataset object serving them was
    told about (a plain class, so the module imports without torch)."""

    def __init__(self) -> None:
        self.epoch = 0

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int):
        import torch

        return torch.tensor([index, self.epoch])


LOADER_EPOCHS = """
from torch.utils.data import DataLoader

def epochs(dataset, count, on_epoch=print):
    loader = DataLoader(dataset, batch_size=4, num_workers=2)
    seen = []
    for epoch in range(count):
        on_epoch(epoch)
        for batch in loader:
            seen.append(batch)
    return seen
"""


def test_persistent_workers_fix_yields_the_same_batches_for_a_dataset_that_does_not_change(torch):
    original, fix = both(LOADER_EPOCHS, LoaderWorkersRestartEachEpoch)
    dataset = EpochStamped()
    first = original["epochs"](dataset, 2, id)
    second = fix["epochs"](dataset, 2, id)
    assert len(first) == len(second) == 4
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_a_loader_whose_dataset_the_epoch_loop_changes_is_not_advised_persistent_workers():
    # Restarted workers see each epoch's dataset; persistent ones would keep the first.
    from perflint.engine import lint_source

    for change in ("dataset.epoch = epoch", "dataset.set_epoch(epoch)", "loader.dataset.epoch = epoch"):
        source = LOADER_EPOCHS.replace("on_epoch(epoch)", change)
        assert lint_source(source, "example.py", [LoaderWorkersRestartEachEpoch]) == [], change
    original = run(LOADER_EPOCHS.replace("on_epoch(epoch)", "dataset.epoch = epoch"))
    assert [int(batch[0, 1]) for batch in original["epochs"](EpochStamped(), 2)] == [0, 0, 1, 1]


NAMED_WORKER_COUNT = """
from torch.utils.data import DataLoader

def epochs(dataset, workers):
    loader = DataLoader(dataset, batch_size=4, num_workers=workers)
    seen = []
    for epoch in range(2):
        for batch in loader:
            seen.append(batch)
    return seen
"""


def test_persistent_workers_fix_of_a_named_count_still_runs_without_workers(torch):
    # persistent_workers=True with num_workers=0 raises; the fix writes `workers > 0`.
    source = fixed(NAMED_WORKER_COUNT, LoaderWorkersRestartEachEpoch)
    assert "persistent_workers=workers > 0" in source
    original, fix = run(NAMED_WORKER_COUNT), run(source)
    for workers in (0, 2):
        first, second = original["epochs"](EpochStamped(), workers), fix["epochs"](EpochStamped(), workers)
        assert len(first) == len(second) == 4
        assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.usefixtures("torch")  # the programs run torch
def test_persistent_workers_fix_unsafe_workers_keep_the_dataset_of_the_first_epoch():
    # A change the linter cannot see (a callback holding the dataset) is what the label warns of.
    original, fix = both(LOADER_EPOCHS, LoaderWorkersRestartEachEpoch)
    dataset = EpochStamped()
    restarted = original["epochs"](dataset, 3, lambda epoch: setattr(dataset, "epoch", epoch))
    dataset = EpochStamped()
    persistent = fix["epochs"](dataset, 3, lambda epoch: setattr(dataset, "epoch", epoch))
    # Column 1 is the epoch the serving copy of the dataset knew.
    assert [int(batch[0, 1]) for batch in restarted] == [0, 0, 1, 1, 2, 2]
    assert [int(batch[0, 1]) for batch in persistent] == [0, 0, 0, 0, 0, 0]


def test_persistent_workers_message_says_what_a_loader_without_workers_accepts(advice):
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
    assert advice(source, LoaderWorkersRestartEachEpoch) == [
        "`named` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=args.workers > 0` to `DataLoader(...)`",
        "`computed` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=True` (a loader accepts it only with `num_workers > 0`) to `DataLoader(...)`",
        "`literal` starts its worker processes anew every time the outer loop iterates it: pass "
        "`persistent_workers=True` to `DataLoader(...)`",
    ]
