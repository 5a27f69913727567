"""PFL502: a torch optimizer built with ``foreach=False`` updates one parameter at a time."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import without_argument
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY


class OptimizerForeachOff(Rule):
    """``torch.optim.Adam(..., foreach=False)`` and the other optimizers that take ``foreach``."""

    code = "PFL502"
    name = "optimizer-foreach-off"
    family = FAMILY
    summary = "Optimizer built with `foreach=False`: one kernel per parameter on every step"
    message = (
        "`{callee}(..., foreach=False)` updates the parameters one tensor at a time; without it, "
        "on CUDA, each step updates them all in a few multi-tensor kernels"
    )
    fix_title = "Drop `foreach=False`"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = ("optim",)
    reported_at = "the optimizer's constructor call"

    what_it_does = (
        "Flags the construction of a `torch.optim` optimizer that takes `foreach` (SGD, Adam, AdamW, "
        "RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, ASGD, Rprop), however imported, that "
        "passes a literal `False` as `foreach` (by keyword, or by position where the optimizer takes "
        "it positionally)."
    )
    known_limitations = "`foreach=True`, `None` and a non-literal value are left alone."
    why_bad = (
        "An optimizer step applies the same few operations to every parameter tensor. With "
        "`foreach=False` it loops over the parameters in Python and launches several small "
        "kernels per tensor: for a model of hundreds of tensors that is thousands of launches "
        "per step, each costing microseconds of host time whatever the tensor's size. The "
        "default on CUDA (`foreach=None`) groups the tensors and runs one multi-tensor kernel "
        "per operation, which PyTorch documents as significantly faster. On the CPU the "
        "default is already the per-tensor loop, so the setting only costs speed on a GPU."
    )
    example = """\
import torch

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, foreach=False)
"""
    use_instead = """\
import torch

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
"""
    fix_safety_note = (
        "The fix drops the `foreach=False` argument, leaving the default (`foreach=None`: "
        "multi-tensor on CUDA, per-tensor on the CPU). A positional `False` followed by another "
        "positional argument is left alone (dropping it would shift that argument). Unsafe: "
        "on a GPU the multi-tensor implementation computes the same update with other kernels, "
        "which may round differently in the last bits, and it holds intermediate results for "
        "all parameters at once, which costs some peak memory (the reason to keep "
        "`foreach=False` when memory is that tight). On the CPU the default is the per-tensor "
        "loop, so there the fix changes nothing."
    )

    VALID = (
        # The default, or multi-tensor asked for.
        """
        import torch
        a = torch.optim.Adam(model.parameters(), lr=1e-3)
        b = torch.optim.SGD(model.parameters(), lr=0.1, foreach=True)
        c = torch.optim.AdamW(model.parameters(), foreach=None)
        """,
        # A value decided elsewhere.
        """
        from torch import optim
        opt = optim.Adam(params, foreach=config.foreach)
        opt2 = optim.Adam(params, **optimizer_options)
        """,
        # Not torch's optimizer; an optimizer without `foreach`.
        """
        import torch
        from mylib import Adam
        a = Adam(params, foreach=False)
        b = torch.optim.LBFGS(params)
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, foreach=False)
            """,
            line=2,
            column=13,
            fixed="""
            import torch
            optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
            """,
        ),
        Invalid(
            """
            from torch.optim import SGD
            def configure_optimizers(self):
                return SGD(self.parameters(), 0.1, momentum=0.9, foreach=False)
            """,
            line=3,
            fixed="""
            from torch.optim import SGD
            def configure_optimizers(self):
                return SGD(self.parameters(), 0.1, momentum=0.9)
            """,
        ),
        # ``foreach`` is Adagrad's seventh positional parameter, and the last given.
        Invalid(
            """
            from torch.optim.adagrad import Adagrad
            opt = Adagrad(params, 0.01, 0, 0, 0, 1e-10, False)
            """,
            line=2,
            fixed="""
            from torch.optim.adagrad import Adagrad
            opt = Adagrad(params, 0.01, 0, 0, 0, 1e-10)
            """,
        ),
        # One argument per line, the module aliased, a comment kept.
        Invalid(
            """
            import torch as th
            optimizer = th.optim.Adam(
                model.parameters(),
                lr=1e-3,  # tuned
                foreach=False,
            )
            """,
            line=2,
            fixed="""
            import torch as th
            optimizer = th.optim.Adam(
                model.parameters(),
                lr=1e-3,  # tuned
            )
            """,
        ),
        # RMSprop takes ``foreach`` and then ``maximize`` by position: dropping the first would
        # pass ``True`` as ``foreach``.
        Invalid(
            """
            import torch
            opt = torch.optim.RMSprop(params, 0.01, 0.99, 1e-08, 0, 0, False, False, False, True)
            """,
            line=2,
            fixed=NO_FIX,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or not record.has(catalog.Flag.OPTIMIZER) or not record.accepts("foreach"):
            return
        arguments = catalog.bind(node, record)
        foreach = arguments.argument("foreach") if arguments is not None else None
        if foreach is not None and literal_value(foreach) is False:
            fixed = without_argument(node, foreach)
            self.report(
                node,
                self.message.format(callee=quote(node.func)),
                fix=Fix.replace(node, fixed) if fixed is not None else None,
            )


# A model of many parameter tensors, as deep networks have: the per-tensor launches are what
# the multi-tensor step saves.
def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    torch.manual_seed(0)
    parameters = [torch.randn(256, device=device) for _ in range(size)]
    gradients = [torch.randn(256, device=device) for _ in range(size)]
    return parameters, gradients


def _step(parameters, gradients, foreach):
    import torch

    weights = [parameter.clone().requires_grad_() for parameter in parameters]
    for weight, gradient in zip(weights, gradients):
        weight.grad = gradient
    options = {} if foreach is None else {"foreach": foreach}
    optimizer = torch.optim.AdamW(weights, lr=1e-3, **options)
    for _ in range(5):
        optimizer.step()
    return [weight.detach() for weight in weights]


def _pattern(parameters, gradients):
    return _step(parameters, gradients, False)


def _fix(parameters, gradients):
    return _step(parameters, gradients, None)


OptimizerForeachOff.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(20, 200, 2000),
    check_size=4,
    size_unit="parameter tensors of 256 values (five AdamW steps)",
    backend=TORCH_BACKEND,
    # On the CPU the default is the same per-tensor loop: only a GPU shows the difference.
    devices=("cuda",),
    timed=(
        "Five AdamW steps over n parameter tensors of 256 values: `foreach=False` against the default "
        "foreach implementation; CUDA only."
    ),
)
