"""Loops over a DataLoader: from the iterable back to the constructor call."""

from __future__ import annotations

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.dataloaders import iterated_loader
from perflint.engine.rule import Rule


def loaders_iterated(source: str) -> list:
    """For each ``for`` loop, in order: the text of the DataLoader call it iterates, or None."""
    found: list = []

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_For(self, node: cst.For) -> None:
            call = iterated_loader(node.iter, self.context)
            found.append(cst.Module([]).code_for_node(call) if call is not None else None)

    assert lint_source(source, "probe.py", [Probe]) == []
    return found


def test_a_loop_over_a_loader_call_or_a_name_bound_to_one_finds_the_call():
    source = """\
from torch.utils.data import DataLoader
def train(ds):
    loader = DataLoader(ds, num_workers=4)
    for epoch in range(3):
        for batch in loader:
            pass
        for i, batch in enumerate(loader):
            pass
    for batch in DataLoader(ds):
        pass
"""
    assert loaders_iterated(source) == [
        None,
        "DataLoader(ds, num_workers=4)",
        "DataLoader(ds, num_workers=4)",
        "DataLoader(ds)",
    ]


def test_a_parameter_a_branch_dependent_name_or_another_class_is_not_a_known_loader():
    source = """\
import torch
from mylib import DataLoader as Other
def train(loader, ds, fast):
    for batch in loader:
        pass
    chosen = torch.utils.data.DataLoader(ds) if fast else None
    if fast:
        other = torch.utils.data.DataLoader(ds, num_workers=2)
    else:
        other = make_loader(ds)
    for batch in other:
        pass
    for batch in Other(ds):
        pass
"""
    assert loaders_iterated(source) == [None, None, None]
