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


def loaders_reaching_a_device(source: str) -> dict[str, bool]:
    """For each DataLoader call (by the name it is assigned to, or its text): do its batches
    reach a device?"""
    from perflint.engine.dataloaders import batches_reach_device, is_dataloader

    found: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Module(self, node: cst.Module) -> None:
            self.module = node

        def visit_Call(self, node: cst.Call) -> None:
            if is_dataloader(node, self.context):
                scope = self.context.function.node if self.context.function is not None else self.module
                found[cst.Module([]).code_for_node(node.args[0].value)] = batches_reach_device(
                    node, scope, self.context
                )

    assert lint_source(source, "probe.py", [Probe]) == []
    return found


def test_batches_reach_a_device_when_a_loop_over_the_loader_moves_its_variables_there():
    source = """\
import torch
from torch.utils.data import DataLoader
def train(model, device):
    to_gpu = DataLoader(gpu_set)
    to_named = DataLoader(named_set)
    on_host = DataLoader(host_set)
    converted = DataLoader(dtype_set)
    unused = DataLoader(unused_set)
    for epoch in range(3):
        for x, y in to_gpu:
            model(x.cuda(), y.cuda(non_blocking=True))
        for step, batch in enumerate(to_named):
            model(batch["image"].to(device))
    for x in on_host:
        model(x.to("cpu"))
    for x in converted:
        model(x.to(torch.float32))
    for x in DataLoader(direct_set):
        model(x.to("cuda:0"))
    for x in loader_elsewhere:
        model(x.cuda())
"""
    assert loaders_reaching_a_device(source) == {
        "gpu_set": True,
        "named_set": True,
        "host_set": False,
        "dtype_set": False,
        "unused_set": False,
        "direct_set": True,
    }
