"""PFL301 beyond its examples: opt-in selection, positional arguments, and its benchmark's
workers (that pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule)."""

from __future__ import annotations

import pickle

import pytest

from perflint.engine import lint_source
from perflint.measure.spec import Target
from perflint.rules import select_rules
from perflint.rules.data_loading.dataloader_no_workers import DataLoaderNoWorkers, DecodingDataset


def _codes(source: str) -> list[tuple[str, int]]:
    return [(finding.code, finding.line) for finding in lint_source(source, "example.py", [DataLoaderNoWorkers])]


def test_rule_is_opt_in():
    assert DataLoaderNoWorkers not in select_rules()
    assert DataLoaderNoWorkers in select_rules(extend_select=["PFL301"])
    assert DataLoaderNoWorkers in select_rules(select=["PFL3"])


@pytest.mark.parametrize(
    ("arguments", "flagged"),
    [
        ("ds, 8, True, None, None", True),
        ("ds, 8, True, None, None, 0", True),
        ("ds, 8, True, None, None, 3", False),
        ("ds, 8, True, None, None, workers", False),
        ("ds, num_workers=False", True),
        ("*loader_args", False),
        ("ds, **options", False),
        # ``**options`` cannot hold a second ``num_workers``.
        ("ds, num_workers=0, **options", True),
        ("dataset=ds, batch_size=8", True),
        ("dataset=TensorDataset(x), batch_size=8", False),
    ],
)
def test_num_workers_by_keyword_or_position(arguments, flagged):
    source = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "from torchvision.datasets import MNIST\n"
        'ds = MNIST("data")\n'
        f"loader = DataLoader({arguments})\n"
    )
    assert _codes(source) == ([("PFL301", 4)] if flagged else [])


def test_a_name_is_read_in_its_own_function():
    source = (
        "from torch.utils.data import DataLoader, TensorDataset\n"
        "from torchvision.datasets import MNIST\n"
        'def large():\n    ds = MNIST("data")\n    return DataLoader(ds)\n'
        "def small():\n    return DataLoader(ds)\n"
    )
    assert _codes(source) == [("PFL301", 5)]


@pytest.mark.slow  # imports torch
def test_benchmark_dataset_pickles_into_workers_that_persist():
    torch = pytest.importorskip("torch")
    benchmark = DataLoaderNoWorkers.benchmark
    dataset, with_workers = benchmark.setup(benchmark.check_size, Target("torch", "cpu", torch))
    assert isinstance(pickle.loads(pickle.dumps(dataset)), DecodingDataset)
    assert with_workers.num_workers > 0 and with_workers.persistent_workers


def _messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [DataLoaderNoWorkers])]


def test_message_names_workers_that_persist_and_pinned_memory_only_for_batches_sent_to_a_gpu():
    source = """\
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
def train(model, device):
    images = ImageFolder("data")
    to_gpu = DataLoader(images)
    pinned = DataLoader(images, pin_memory=True)
    on_host = DataLoader(images)
    for epoch in range(3):
        for x, y in to_gpu:
            model(x.to(device))
        for x, y in pinned:
            model(x.to(device))
        for x, y in on_host:
            model(x)
"""
    prefix = (
        "`DataLoader(...)` without worker processes loads and collates every batch in the main process, "
        "and its dataset reads every item from files: pass "
    )
    assert _messages(source) == [
        prefix + "`num_workers=N, persistent_workers=True, pin_memory=True` (its batches go to a GPU)",
        prefix + "`num_workers=N, persistent_workers=True`",
        prefix + "`num_workers=N, persistent_workers=True`",
    ]
