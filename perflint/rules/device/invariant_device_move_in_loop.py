"""PFL209: the same tensor or module moved to the device on every iteration of a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import moves_to_a_device
from perflint.engine.literals import is_number_literal
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, hoist, name_for, only_read
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class InvariantDeviceMoveInLoop(Rule):
    """``.to(device)`` or ``.cuda()`` of a loop-invariant value, arguments included."""

    code = "PFL209"
    name = "invariant-device-move-in-loop"
    family = FAMILY
    summary = "The same tensor or module is moved to the device on every iteration"
    message = "`{call}` is the same on every iteration, and copies to the device each time; {advice}"
    fix_title = "Move it to the device once, before the loop, and reuse the result"
    fix_safety = FIX_UNSAFE
    # Opt-in: 6 of its 15 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    autofix = True
    paid_per_execution = True
    required_text = ("cuda", ".to(")
    reported_at = "the `.to(...)` or `.cuda(...)` call (its first line)"

    what_it_does = (
        "Inside a loop (or comprehension), flags `.to(<device>)` and `.cuda()` where the whole call "
        "is loop-invariant, arguments included, and runs on every iteration: a name or attribute the "
        "loop never rebinds or mutates (`model.cuda()`, `weights.to(device)`), or a tensor converted "
        "from such values by `torch.from_numpy`, `torch.as_tensor`, `torch.tensor` or a legacy "
        "constructor (`torch.from_numpy(class_weights).to(device)`), possibly through methods that "
        "change nothing (`.float()`). The destination must be an accelerator or named like a device "
        "(`device`, `self.device`)."
    )
    known_limitations = (
        "Left alone: the loop's batch or anything it rebinds, a device argument that changes per "
        "iteration, an object constructed in the loop, the result of an unknown call, `.to(dtype)`, a"
        " tensor moved to its own device (`x.to(device=x.device, dtype=…)`: a cast), moves to the "
        "CPU, a move under a condition that changes per iteration (`if step == 0`), a move whose result "
        "becomes a module's own parameter or buffer (`nn.Parameter(w.to(device))`, `register_buffer`: "
        "each iteration must make its own tensor, or every parameter would share one storage), loops "
        "in set-up code that runs once (`__init__`, data preparation), and, in a training step, "
        "attribute chains such as `self.weights` (an optimizer may update what they hold)."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 6 of its 15 findings were worth fixing "
        "and none was wrong. Most loops it found run over a configuration's few names (a data set's "
        "sequence fields, a network's input layers, a demo's denoisers): hoisting saves n-1 small copies, "
        "none when n is 1, and the count is not in the code."
    )
    why_bad = (
        "A CPU tensor moved with `.to(device)` is copied across the bus every time: the "
        "result is a new device tensor, and the CPU original stays where it was, so the next "
        "iteration copies the same bytes again, from pageable memory, blocking the host. A "
        "module's `.to(device)` moves its parameters in place: after the first iteration it "
        "copies nothing, but it still walks every parameter and buffer of the model in Python "
        "on each iteration."
    )
    example = """\
import numpy as np
import torch

def train(model, loader, optimizer, class_counts: np.ndarray, device):
    for x, y in loader:
        weights = torch.from_numpy(1.0 / class_counts).to(device)
        loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device), weight=weights)
        loss.backward()
        optimizer.step()
"""
    use_instead = """\
import numpy as np
import torch

def train(model, loader, optimizer, class_counts: np.ndarray, device):
    weights = torch.from_numpy(1.0 / class_counts).to(device)
    for x, y in loader:
        loss = torch.nn.functional.cross_entropy(model(x.to(device)), y.to(device), weight=weights)
        loss.backward()
        optimizer.step()
"""
    fix_safety_note = (
        "The fix assigns the move to a new name made of its words (`mean_view_to_device` for "
        "`mean.view(1, 3, 1, 1).to(device)`) right above the loop, or above the statement "
        "holding the comprehension, and reads that name where the move was. It is offered only "
        "where every iteration merely reads the moved tensor (arithmetic, comparisons, a name "
        "only read so): not where it is passed to a function or model, kept, or changed in "
        "place, since one tensor now serves every iteration; so a module's `model.to(device)` "
        "or `model.cuda()`, which moves the module in place and is used by calling it, gets no "
        "fix. It is unsafe: every iteration used to copy the value as it was then, and now sees "
        "the one copy made before the loop. A tensor the loop updates in place without naming "
        "it (a parameter an optimizer steps, a write through another name) stays stale on the "
        "device, and gradients flow through one shared copy. The move also runs when the loop "
        "runs no iteration, so an error (no such device, out of memory) can be raised where the "
        "loop would not have run."
    )

    VALID = (
        # A fresh copy per iteration, kept by each module: hoisting would share one tensor.
        """
        import torch
        def split(physics, subsets, device):
            for subset in subsets:
                subset.register_buffer("norm", physics.norm.detach().clone().to(device))
        """,
        # Each iteration wraps its tensor in its own parameter or buffer (recbole's GCMC): hoisted,
        # every entry of the list would share one storage, tying the weights.
        """
        import torch
        from torch import nn
        def add_supports(self, num_support, prior, device):
            self.weights = nn.ParameterList(
                [nn.Parameter(torch.FloatTensor(4, 8).to(device), requires_grad=True) for _ in range(num_support)]
            )
            for i in range(num_support):
                self.register_buffer(f"prior_{i}", prior.to(device))
        """,
        # Set-up code runs once: its loop runs once per program, not per batch.
        """
        import torch
        class Scaler(torch.nn.Module):
            def __init__(self, scale, sizes, device):
                super().__init__()
                self.blocks = [torch.randn(size, device=device) * scale.to(device) for size in sizes]
        """,
        # The loop's batch, and what the loop builds.
        """
        import torch
        def train(model, loader, device):
            for x, y in loader:
                x = x.to(device)
                mask = torch.ones(4).to(device)
                model(x, y.cuda(), mask)
        """,
        # The device changes per iteration, the move is cached, or it runs on one iteration.
        """
        import torch
        def spread(weights, devices, loader, device):
            copies = [weights.to(d) for d in devices]
            for step, batch in enumerate(loader):
                if step == 0:
                    weights = weights.to(device)
                if weights.device != device:
                    cached = weights.cuda()
        """,
        # An unknown call's result, a dtype conversion, and a move to the CPU.
        """
        import torch
        def run(self, loader, device):
            for batch in loader:
                w = self.get_weights().to(device)
                h = self.table.to(torch.float16)
                c = self.table.to("cpu")
        """,
        # A tensor moved to its own device is only cast: nothing is copied between devices.
        """
        import torch
        def run(pos, loader):
            for batch in loader:
                h = batch + pos.to(device=pos.device, dtype=torch.float16)
                g = batch + pos.to(pos.device)
        """,
        # In a training step, attribute chains may hold parameters the optimizer updates.
        """
        import torch
        def fit(self, loader, optimizer):
            for batch in loader:
                loss = self.model(batch, self.prior.to(self.device))
                loss.backward()
                optimizer.step()
        """,
        # Not a loop at all.
        """
        import torch
        def prepare(model, class_weights, device):
            model.cuda()
            return torch.from_numpy(class_weights).to(device)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            import torch
            def train(model, loader, optimizer, class_weights: np.ndarray, device):
                for x, y in loader:
                    weights = torch.from_numpy(class_weights).to(device)
                    loss = model(x, y, weights)
                    loss.backward()
                    optimizer.step()
            """,
            line=5,
            column=19,
            # The moved tensor is passed to the model, which may keep it or change it.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def train(model, loader, epochs):
                for epoch in range(epochs):
                    model.cuda()
                    for batch in loader:
                        model(batch)
            """,
            line=4,
            # A module moves in place and is used by calling it: nothing to hoist exactly.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def evaluate(model, loader, device):
                mean = torch.tensor([0.485, 0.456, 0.406])
                for images in loader:
                    images = images.to(device) - mean.view(1, 3, 1, 1).to(device)
                    model(images)
            """,
            line=5,
            column=38,
            fixed="""
            import torch
            def evaluate(model, loader, device):
                mean = torch.tensor([0.485, 0.456, 0.406])
                mean_view_to_device = mean.view(1, 3, 1, 1).to(device)
                for images in loader:
                    images = images.to(device) - mean_view_to_device
                    model(images)
            """,
        ),
        Invalid(
            """
            import torch
            def sample(model, steps, sigmas, device):
                x = torch.randn(4, device=device)
                for i in range(steps):
                    x = model(x, torch.tensor(sigmas).to(device)[i])
            """,
            line=5,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def embed(encoder, texts, prompt_ids):
                return [encoder(text, torch.as_tensor(prompt_ids).cuda()) for text in texts]
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # Through an alias, in a comprehension: the move goes above the statement holding it.
        Invalid(
            """
            import numpy as np
            import torch as th
            def weighted(batches, class_weights: np.ndarray):
                return [(logits * th.from_numpy(class_weights).cuda()).sum() for logits in batches]
            """,
            line=4,
            column=23,
            fixed="""
            import numpy as np
            import torch as th
            def weighted(batches, class_weights: np.ndarray):
                from_numpy_class_weights_cuda = th.from_numpy(class_weights).cuda()
                return [(logits * from_numpy_class_weights_cuda).sum() for logits in batches]
            """,
        ),
        # A tensor of one number, only read in arithmetic: the message offers the number itself.
        Invalid(
            """
            import torch
            def pool(self, fields):
                results = []
                for field in fields:
                    eps = torch.FloatTensor([1e-8]).to(self.device)
                    results.append(field.sum(1) / (field.count_nonzero(1) + eps))
                return results
            """,
            line=5,
            column=15,
            fixed="""
            import torch
            def pool(self, fields):
                results = []
                FloatTensor_to_self_device = torch.FloatTensor([1e-8]).to(self.device)
                for field in fields:
                    eps = FloatTensor_to_self_device
                    results.append(field.sum(1) / (field.count_nonzero(1) + eps))
                return results
            """,
        ),
        # Under a comment, in an accumulation: the comment stays above the hoisted move.
        Invalid(
            """
            import torch
            def loss_sum(model, loader, margin, device):
                total = 0.0
                # accumulate the hinge losses
                for x, y in loader:
                    scores = model(x.to(device))
                    total += (scores - margin.to(device)).clamp(min=0).sum()
                return total
            """,
            line=7,
            column=28,
            fixed="""
            import torch
            def loss_sum(model, loader, margin, device):
                total = 0.0
                # accumulate the hinge losses
                margin_to_device = margin.to(device)
                for x, y in loader:
                    scores = model(x.to(device))
                    total += (scores - margin_to_device).clamp(min=0).sum()
                return total
            """,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._new_names = NewNames()

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.context.innermost_loop
        func = node.func
        if frame is None or type(func) is not cst.Attribute or func.attr.value not in ("to", "cuda"):
            return
        if not moves_to_a_device(node, self.context) or not self.context.runs_every_iteration(frame):
            return
        if not all(self.context.is_invariant(arg.value, frame) for arg in node.args):
            return
        if self._invariant_value(func.value) and not self._becomes_module_state(node):
            fix = hoist(self.context, node, frame.node, self._new_names, name_for(self.context, node))
            number = _one_number(func.value) if self._converts_to_tensor(func.value) else None
            if number is not None and not only_read(self.context, node, frame.node):
                number = None
            advice = (
                "do it once before the loop"
                if number is None
                else f"use the number `{quote(number)}` itself, which needs no tensor and no copy, or move it once "
                "before the loop"
            )
            self.report(node, self.message.format(call=quote(node), advice=advice), fix=fix)

    def _converts_to_tensor(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a call of a library function that makes a tensor from its data."""
        return type(expr) is cst.Call and catalog.lookup(self.context.imports.qualified_name(expr.func)) is not None

    def _becomes_module_state(self, move: cst.Call) -> bool:
        """The moved tensor is handed to ``nn.Parameter`` or a module's ``register_buffer``:
        each iteration's result becomes its own parameter or buffer, so it must be a tensor of
        its own, not work to do once."""
        parents = self.context.parents
        argument = parents.get(id(move))
        call = parents.get(id(argument)) if type(argument) is cst.Arg else None
        if type(call) is not cst.Call:
            return False
        if self.context.imports.qualified_name(call.func) in catalog.MODULE_STATE_WRAPPERS:
            return True
        return type(call.func) is cst.Attribute and call.func.attr.value in catalog.MODULE_STATE_METHODS

    def _invariant_value(self, expr: cst.BaseExpression) -> bool:
        """``expr`` gives equal values on every iteration: an unchanged name or chain, a
        conversion of unchanged values to a tensor, or a method that changes nothing applied
        to one."""
        if type(expr) is cst.Call:
            record = catalog.lookup(self.context.imports.qualified_name(expr.func))
            if record is not None:
                if record.returns != catalog.TORCH or not (
                    record.shares_data_with or record.has(catalog.Flag.COPIES_DATA)
                ):
                    return False
                return all(self.context.is_invariant(arg.value, allow_conversions=True) for arg in expr.args)
            func = expr.func
            if type(func) is cst.Attribute and _copies(func.attr.value):
                # ``x.clone().to(d)``: a fresh copy per iteration is asked for; hoisted, every
                # iteration would share one tensor (deepinv's buffer per subset).
                return False
            if type(func) is cst.Attribute and func.attr.value in catalog.NON_MUTATING_METHODS:
                return self._invariant_value(func.value) and all(
                    self.context.is_invariant(arg.value) for arg in expr.args
                )
            return False
        if type(expr) not in (cst.Name, cst.Attribute, cst.Subscript):
            return False
        return self.context.is_invariant(expr, allow_conversions=True)


def _one_number(value: cst.BaseExpression) -> cst.BaseExpression | None:
    """The number a tensor built from a one-number list holds (``torch.FloatTensor([1e-8])``,
    ``torch.tensor([0.5])``; ``value`` is known to be a conversion to a tensor): where the moved
    tensor is only read in arithmetic, the number itself gives the same result."""
    if type(value) is not cst.Call or len(value.args) != 1 or value.args[0].keyword is not None:
        return None
    data = value.args[0].value
    if not isinstance(data, (cst.List, cst.Tuple)) or len(data.elements) != 1:
        return None
    element = data.elements[0]
    return element.value if type(element) is cst.Element and is_number_literal(element.value) else None


def _copies(method_name: str) -> bool:
    method = catalog.method(method_name)
    return method is not None and catalog.Flag.COPIES in method.flags


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    device = target.device
    rng = np.random.default_rng(0)
    class_weights = rng.random(size).astype(np.float32)
    logits = rng.standard_normal((32, 16, size)).astype(np.float32)
    return class_weights, logits, device


def _pattern(class_weights, logits, device):
    import torch

    batches = torch.from_numpy(logits).to(device)
    total = torch.zeros(batches.shape[-1], device=device)
    for batch in batches:
        total += (batch * torch.from_numpy(class_weights).to(device)).sum(0)
    return total.cpu().numpy().round(3).tolist()


def _fix(class_weights, logits, device):
    import torch

    batches = torch.from_numpy(logits).to(device)
    weights = torch.from_numpy(class_weights).to(device)
    total = torch.zeros(batches.shape[-1], device=device)
    for batch in batches:
        total += (batch * weights).sum(0)
    return total.cpu().numpy().round(3).tolist()


InvariantDeviceMoveInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32_768, 262_144, 1_048_576),
    check_size=8,
    size_unit="float32 class weights, moved to the device in each of 32 steps",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "32 steps weighting a 16 x n float32 batch by n class weights: the weights moved to the "
        "device in every step against once before the loop; CUDA only."
    ),
)
