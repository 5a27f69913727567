"""PFL405: a model put in eval mode, then run in a loop with autograd still recording."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from perflint.engine.imports import dotted_name
from perflint.engine.literals import literal_value
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

# Methods whose call in a function means it computes gradients.
_GRADIENT_METHODS = ("backward", "manual_backward", "grad")


class InferenceWithoutNoGrad(Rule):
    """``m.eval()`` followed by ``m(...)`` in a loop, outside ``no_grad``/``inference_mode``."""

    code = "PFL405"
    name = "inference-without-no-grad"
    family = FAMILY
    summary = "Model run in a loop after .eval() with autograd still recording"
    message = (
        "`{model}(...)` runs after `{model}.eval()` with autograd recording every activation; "
        "run the loop under `with torch.inference_mode():`"
    )
    fix_title = "Wrap the inference loop in `torch.inference_mode()` (or `torch.no_grad()`)"
    fix_safety = FIX_UNSAFE
    required_text = (".eval()",)
    reported_at = "the model call"

    what_it_does = (
        "Flags a call `m(...)` inside a loop or comprehension of a function that called "
        "`m.eval()` before (and not `m.train()` since), when autograd may be recording there: "
        "no `with torch.no_grad():`, `torch.inference_mode()` or `torch.set_grad_enabled(False)` "
        "block around it in the function, no such decorator on the function, and no gradient "
        "computed in the function (`.backward(`, `manual_backward(`, `torch.autograd.grad(`)."
    )
    why_bad = (
        "`eval()` only switches dropout and batch-norm to inference behaviour; it does not stop "
        "autograd. Every forward pass still records its graph and keeps every intermediate "
        "activation alive until the output is freed: more memory (often the difference between "
        "a batch size that fits and one that does not) and extra time per operation."
    )
    example = """\
import torch

def evaluate(model, loader):
    model.eval()
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""
    use_instead = """\
import torch

def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""
    fix_safety_note = (
        "Unsafe: outputs computed under `inference_mode` cannot take part in autograd later "
        "(they raise if used in a graph, and cannot be modified in place outside it); use "
        "`torch.no_grad()` where outputs are later fed to code that records gradients, and "
        "neither where gradients with respect to the inputs are wanted (saliency maps, "
        "adversarial examples)."
    )

    VALID = (
        # Already under no_grad, or the function is decorated.
        """
        import torch
        def evaluate(model, loader):
            model.eval()
            with torch.no_grad():
                return [model(x) for x, _ in loader]
        @torch.inference_mode()
        def predict(model, batches):
            model.eval()
            return [model(b) for b in batches]
        """,
        # Gradients are wanted: an adversarial attack in eval mode.
        """
        import torch
        def attack(model, x, steps):
            model.eval()
            for _ in range(steps):
                x.requires_grad_(True)
                loss = model(x).sum()
                grad, = torch.autograd.grad(loss, x)
                x = (x + grad.sign()).detach()
        """,
        # Back in training mode before the loop, and a training loop that calls backward.
        """
        import torch
        def fit(model, loader, opt):
            model.eval()
            baseline = score(model)
            model.train()
            for x, y in loader:
                loss = model(x, y)
                loss.backward()
                opt.step()
        """,
        # A different model is called in the loop; eval() in another function.
        """
        import torch
        def distill(teacher, student, loader):
            teacher.eval()
            outs = [student(x) for x in loader]
        def run(model, loader):
            return [model(x) for x in loader]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def evaluate(model, loader):
                model.eval()
                correct = 0
                for x, y in loader:
                    correct += (model(x).argmax(1) == y).sum().item()
                return correct
            """,
            line=6,
            column=21,
        ),
        Invalid(
            """
            import torch
            class Runner:
                def validate(self, batches):
                    self.net.eval()
                    return [self.net(b) for b in batches]
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            def embed(encoder, texts, flag):
                encoder.eval()
                with torch.set_grad_enabled(True):
                    pass
                for t in texts:
                    vector = encoder(**t)
            """,
            line=7,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Per function (by node id): the receivers put in eval mode so far.
        self._in_eval_mode: dict[int, set[str]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        function = self.context.function
        if function is None:
            return
        evaluated = self._in_eval_mode.setdefault(id(function.node), set())
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = dotted_name(func.value)
            if receiver is not None and func.attr.value == "eval" and not node.args:
                evaluated.add(receiver)
            elif receiver is not None and func.attr.value == "train" and _switches_to_training(node):
                evaluated.discard(receiver)
        model = dotted_name(func)
        if model is None or model not in evaluated or self.context.innermost_loop is None:
            return
        if self.context.functions.grad_disabled():
            return
        if any(function.calls_method(name) for name in _GRADIENT_METHODS):
            return
        self.report(node, self.message.format(model=model))


def _switches_to_training(call: cst.Call) -> bool:
    """``m.train()`` or ``m.train(True)``; ``m.train(False)`` is ``m.eval()``, and an unknown
    mode may be either (so it counts as training: stay silent)."""
    mode: Optional[cst.BaseExpression] = call.args[0].value if call.args else None
    return mode is None or literal_value(mode) is not False


def _setup(size: int, target: Target) -> tuple:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(size, size), torch.nn.ReLU(), torch.nn.Linear(size, size), torch.nn.ReLU(),
        torch.nn.Linear(size, 10),
    ).to(target.device)
    model.eval()
    batches = [torch.randn(64, size, device=target.device) for _ in range(10)]
    return model, batches


def _pattern(model, batches):
    import torch

    return torch.cat([model(batch) for batch in batches]).detach()


def _fix(model, batches):
    import torch

    with torch.inference_mode():
        return torch.cat([model(batch) for batch in batches])


InferenceWithoutNoGrad.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32, 128, 512),
    check_size=8,
    size_unit="hidden units of a 3-layer MLP (10 batches of 64)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
)
