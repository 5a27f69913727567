"""PFL409: a deep copy of the model or its state on every training step."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

_DEEPCOPY = "copy.deepcopy"


class DeepcopyInStepLoop(Rule):
    """``copy.deepcopy(model.state_dict())`` per batch: every parameter copied per step."""

    code = "PFL409"
    name = "deepcopy-in-step-loop"
    family = FAMILY
    summary = "`copy.deepcopy` of the model or its `state_dict()` on every training step"
    message = (
        "`{call}` copies every parameter of `{model}` on every training step; copy into tensors "
        "allocated once (`torch._foreach_copy_(saved, list({model}.state_dict().values()))`), "
        "or take the snapshot once per epoch"
    )
    fix_title = "Copy into preallocated tensors, or snapshot once per epoch"
    fix_safety = FIX_UNSAFE
    required_text = ("deepcopy",)
    reported_at = "the call"

    what_it_does = (
        "Flags `copy.deepcopy(x)` on every iteration of a training-step loop (one whose iteration "
        "calls `.backward()` and steps an optimizer, as the engine recognises it, also through "
        "functions of the same file), where `x` is `m.state_dict()` or a model `m` that the same loop"
        " calls (`m(batch)`)."
    )
    known_limitations = (
        "Left alone: a copy under a condition that depends on the loop (`if step % 100 == 0:`, `if "
        "loss < best:`), a copy in the epoch loop around the step loop (a best-model snapshot once "
        "per epoch), and copies outside training loops."
    )
    why_bad = (
        "`deepcopy` walks the whole object graph in Python: it allocates a new tensor for every "
        "parameter and buffer and copies each one, plus the module objects, hooks and "
        "attributes around them. For a model of P parameters that is P values allocated and "
        "copied per step, and on a GPU one allocation and kernel launch per tensor. Copying "
        "into tensors allocated once costs only the copy, in one batched call."
    )
    example = """\
import copy

def train(model, loader, optimizer):
    for batch in loader:
        previous = copy.deepcopy(model.state_dict())
        loss = model(batch).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""
    use_instead = """\
import torch

def train(model, loader, optimizer):
    previous = [value.detach().clone() for value in model.state_dict().values()]
    for batch in loader:
        torch._foreach_copy_(previous, list(model.state_dict().values()))
        loss = model(batch).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
"""
    fix_safety_note = (
        "Unsafe: tensors allocated once and overwritten each step hold the same values as a "
        "fresh deep copy, but only the tensors: a deep copy of the model also copies its "
        "module structure, hooks and Python attributes, which code reading the copy may use. "
        "`torch._foreach_copy_` is a private torch API; a loop of `saved.copy_(value)` is the "
        "public equivalent."
    )

    VALID = (
        # A best-model snapshot once per epoch, around the step loop.
        """
        import copy
        def fit(model, loader, optimizer, epochs):
            best = None
            for epoch in range(epochs):
                for batch in loader:
                    loss = model(batch).mean()
                    loss.backward()
                    optimizer.step()
                best = copy.deepcopy(model.state_dict())
            return best
        """,
        # Under a condition that depends on the loop: only some steps.
        """
        import copy
        def fit(model, loader, optimizer):
            for step, batch in enumerate(loader):
                loss = model(batch).mean()
                loss.backward()
                optimizer.step()
                if step % 1000 == 0:
                    snapshot = copy.deepcopy(model)
        """,
        # Not a training loop, and not the model: a config copied per batch of an evaluation.
        """
        import copy
        def evaluate(model, loader, config):
            for batch in loader:
                settings = copy.deepcopy(config)
                preds = model(batch)
        """,
        # In a training loop, but a copy of something that is neither a state dict nor the
        # model the loop calls.
        """
        import copy
        def fit(model, loader, optimizer, template):
            for batch in loader:
                item = copy.deepcopy(template)
                loss = model(batch).mean()
                loss.backward()
                optimizer.step()
        """,
    )
    INVALID = (
        Invalid(
            """
            import copy
            def train(model, loader, optimizer):
                for batch in loader:
                    previous = copy.deepcopy(model.state_dict())
                    loss = model(batch).mean()
                    loss.backward()
                    optimizer.step()
            """,
            line=4,
            column=20,
        ),
        Invalid(
            """
            from copy import deepcopy
            def train(self, loader):
                for batch in loader:
                    self.teacher = deepcopy(self.student)
                    loss = self.student(batch).mean()
                    loss.backward()
                    self.optimizer.step()
            """,
            line=4,
        ),
        Invalid(
            """
            import copy
            def train(net, loader, opt):
                step = 0
                while step < 1000:
                    batch = next(loader)
                    out = net(batch)
                    old = copy.deepcopy(net)
                    out.sum().backward()
                    opt.step()
                    step += 1
            """,
            line=7,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.imports.qualified_name(node.func) != _DEEPCOPY:
            return
        bound = catalog.bind(node, catalog.listed(_DEEPCOPY))
        copied = bound.argument("x") if bound is not None else None
        if copied is None:
            return
        loop = self.context.training_step_loop()
        if loop is None or not self.context.runs_every_iteration(loop):
            return
        model = _model_of(copied, loop)
        if model is None:
            return
        self.report(node, self.message.format(call=quote(node), model=model))


def _model_of(copied: cst.BaseExpression, loop: LoopFrame) -> str | None:
    """The model whose parameters ``copied`` holds: ``m`` of ``m.state_dict()``, or ``m``
    itself when the loop calls ``m(...)``."""
    if (
        type(copied) is cst.Call
        and type(copied.func) is cst.Attribute
        and copied.func.attr.value == "state_dict"
        and not copied.args
    ):
        return dotted_name(copied.func.value)
    chain = dotted_name(copied)
    if chain is None:
        return None
    pending: list[cst.CSTNode] = [loop.node.body if isinstance(loop.node, (cst.For, cst.While)) else loop.node]
    while pending:
        node = pending.pop()
        if type(node) is cst.Call and dotted_name(node.func) == chain:
            return chain
        pending.extend(syntax_children(node))
    return None


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(size, size), torch.nn.ReLU(), torch.nn.Linear(size, size))
    return (model.to(device),)


_STEPS = 8


def _pattern(model):
    import copy

    import torch

    for _ in range(_STEPS):
        snapshot = copy.deepcopy(model.state_dict())
    return torch.cat([value.flatten() for value in snapshot.values()])


def _fix(model):
    import torch

    saved = [value.detach().clone() for value in model.state_dict().values()]
    for _ in range(_STEPS - 1):
        torch._foreach_copy_(saved, list(model.state_dict().values()))
    return torch.cat([value.flatten() for value in saved])


DeepcopyInStepLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(64, 256, 1024),
    check_size=8,
    size_unit="features per layer of a 2-layer MLP (8 steps)",
    backend=TORCH_BACKEND,
    timed=(
        "8 steps snapshotting a 2-layer MLP of n features per layer: "
        "`copy.deepcopy(model.state_dict())` every step against copying into preallocated tensors "
        "with `torch._foreach_copy_`."
    ),
)
