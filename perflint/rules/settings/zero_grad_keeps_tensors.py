"""PFL501: ``zero_grad(set_to_none=False)`` writes zeros into every gradient instead of freeing it."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import without_argument
from perflint.engine.rule import FIX_UNSAFE, Fix, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY

ZERO_GRAD = catalog.listed_method("zero_grad")


class ZeroGradKeepsTensors(Rule):
    """``.zero_grad(set_to_none=False)`` on an optimizer or a module."""

    code = "PFL501"
    name = "zero-grad-keeps-tensors"
    family = FAMILY
    summary = "`zero_grad(set_to_none=False)` fills every gradient with zeros instead of freeing it"
    message = (
        "`{call}` writes zeros into every gradient, and the next backward pass adds to them; "
        "`{fixed}` frees them and lets backward write fresh ones"
    )
    fix_title = "Drop `set_to_none=False` (the default, `True`, frees the gradients)"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = ("zero_grad",)
    reported_at = "the `zero_grad(...)` call"

    what_it_does = (
        "Flags a call of `.zero_grad(...)` (an optimizer's or a module's) that passes a literal "
        "`False` as `set_to_none`, by keyword or position."
    )
    known_limitations = (
        "A non-literal value is left alone, and so is code compiled or captured as a CUDA graph "
        "(`torch.compile`, `torch.cuda.make_graphed_callables`, tensordict's `CudaGraphModule`, "
        "a function called under `with torch.cuda.graph(g):`, also through a name bound to the "
        "function first), and any method of a class that compiles or captures one of its "
        "methods, where the gradients must keep their memory on purpose."
    )
    why_bad = (
        "With `set_to_none=False`, every gradient stays allocated: `zero_grad` launches a fill "
        "kernel per parameter, and the next backward pass reads those zeros and adds to them. "
        "With the default (`set_to_none=True`, since PyTorch 2.0) the gradients are freed; "
        "backward allocates each one and writes it directly, saving the fill, a read per "
        "element, and the gradients' memory between the step and the next backward pass. The "
        "saving is per parameter tensor, so it grows with the number of tensors; on the CPU, "
        "where freed memory is not cached as on a GPU, a model of a few very large tensors "
        "can instead lose time reallocating them."
    )
    example = """\
for x, y in loader:
    optimizer.zero_grad(set_to_none=False)
    loss_fn(model(x), y).backward()
    optimizer.step()
"""
    use_instead = """\
for x, y in loader:
    optimizer.zero_grad()
    loss_fn(model(x), y).backward()
    optimizer.step()
"""
    fix_safety_note = (
        "The fix drops the `set_to_none=False` argument (by keyword or position), leaving "
        "`zero_grad()`. Unsafe: after `zero_grad()` a parameter's `.grad` is `None` until "
        "backward writes it, where it was a tensor of zeros, "
        "and stays `None` for a parameter that took no part in the loss. Code that reads "
        "`.grad` between `zero_grad` and `backward` (gradient logging, clipping of parameters "
        "that may be unused, a custom optimizer that does `p.grad.add_`) must handle `None`. "
        "Optimizers skip parameters whose gradient is `None`, which differs from stepping with "
        "a zero gradient when weight decay or momentum is on."
    )

    VALID = (
        # The default frees the gradients.
        """
        for x in xs:
            optimizer.zero_grad()
            model.zero_grad(set_to_none=True)
        """,
        # A value decided elsewhere.
        """
        def step(optimizer, keep):
            optimizer.zero_grad(set_to_none=keep)
            optimizer.zero_grad(**options)
        """,
        # Captured as a CUDA graph or compiled: the gradients' memory must stay where it is.
        """
        import torch
        def captured_step(x):
            optimizer.zero_grad(set_to_none=False)
            model(x).sum().backward()
        @torch.compile(mode="reduce-overhead")
        def compiled_step(x):
            optimizer.zero_grad(set_to_none=False)
            model(x).sum().backward()
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            captured_step(static_input)
        graphed = torch.cuda.make_graphed_callables(model, (static_input,))
        """,
        # A learner that captures its step through a name bound to the method, and warms it up
        # in another method (TorchRL's Dreamer-V3): both keep the captured step's gradients.
        """
        import torch
        from tensordict.nn import CudaGraphModule
        class Learner:
            def _forward_backward(self, sample):
                self.optimizer.zero_grad(set_to_none=False)
                self.loss(sample).backward()
            def warmup(self, sample):
                train_step = self._forward_backward
                train_step = torch.compile(train_step)
                train_step = CudaGraphModule(train_step, warmup=3)
                for _ in range(3):
                    train_step(sample)
                self.optimizer.zero_grad(set_to_none=False)
        """,
        # A different method that happens to take the keyword.
        """
        def reset(tracker):
            tracker.clear_grad(set_to_none=False)
            zero_grad = tracker.zero_grad
        """,
    )
    INVALID = (
        # Another class of the file compiles one of its methods; this one captures nothing.
        Invalid(
            """
            import torch
            class Predictor:
                def __init__(self, model):
                    self.predict = torch.compile(model.forward)
            class Trainer:
                def step(self, batch):
                    self.optimizer.zero_grad(set_to_none=False)
                    self.loss(batch).backward()
            """,
            line=7,
            fixed="""
            import torch
            class Predictor:
                def __init__(self, model):
                    self.predict = torch.compile(model.forward)
            class Trainer:
                def step(self, batch):
                    self.optimizer.zero_grad()
                    self.loss(batch).backward()
            """,
        ),
        Invalid(
            """
            for x, y in loader:
                optimizer.zero_grad(set_to_none=False)
            """,
            line=2,
            column=5,
            fixed="""
            for x, y in loader:
                optimizer.zero_grad()
            """,
        ),
        Invalid(
            """
            def training_step(self, batch):
                self.model.zero_grad(False)  # keep the buffers
            """,
            line=2,
            fixed="""
            def training_step(self, batch):
                self.model.zero_grad()  # keep the buffers
            """,
        ),
        Invalid(
            """
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for step in range(100):
                opt.zero_grad(
                    set_to_none=False,
                )
            """,
            line=4,
            fixed="""
            import torch
            opt = torch.optim.SGD(model.parameters(), lr=0.1)
            for step in range(100):
                opt.zero_grad()
            """,
        ),
        Invalid(
            """
            import torch as th
            def step(model, loss):
                model.zero_grad(set_to_none=(False))
                loss.backward()
            """,
            line=3,
            fixed="""
            import torch as th
            def step(model, loss):
                model.zero_grad()
                loss.backward()
            """,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value != ZERO_GRAD.name:
            return
        arguments = catalog.bind(node, ZERO_GRAD)
        if arguments is None:
            return
        set_to_none = arguments.argument("set_to_none")
        if set_to_none is None or literal_value(set_to_none) is not False:
            return
        if self.context.in_compiled_code() or self._in_class_compiling_a_method():
            # A CUDA graph replays kernels on fixed addresses: the gradients must stay
            # allocated, and zeroing them in place is how captured code resets them.
            return
        fixed = without_argument(node, set_to_none)
        self.report(
            node,
            self.message.format(call=quote(node), fixed=f"{quote(func.value)}.zero_grad()"),
            fix=Fix.replace(node, fixed) if fixed is not None else None,
        )

    def _in_class_compiling_a_method(self) -> bool:
        """In a method of a class that compiles or captures another of its methods, which
        uses the gradients this call keeps (TorchRL's learners warm a captured step up)."""
        frame = self.context.function
        if frame is None or not frame.is_method or frame.class_frame is None:
            return False
        return self.context.functions.compiles_a_method(frame.class_frame)


# A model of many parameter tensors, as deep networks have (a transformer has hundreds): the
# fill and the accumulating read are paid once per tensor. On the CPU, a model of a few large
# tensors can show the fix slower: without the GPU's caching allocator, freeing and
# reallocating a large gradient costs page faults that writing zeros into it does not.
_BATCH = 32
_WIDTH = 64


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    torch.manual_seed(0)
    layers = []
    for _ in range(size):
        layers += [torch.nn.Linear(_WIDTH, _WIDTH), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers).to(device)
    inputs = torch.randn(_BATCH, _WIDTH, device=device)
    # One backward pass first, so that both sides start with gradients allocated.
    model(inputs).sum().backward()
    return model, inputs


def _gradients(model) -> list:
    return [parameter.grad for parameter in model.parameters()]


def _pattern(model, inputs):
    model.zero_grad(set_to_none=False)
    model(inputs).sum().backward()
    return _gradients(model)


def _fix(model, inputs):
    model.zero_grad()
    model(inputs).sum().backward()
    return _gradients(model)


ZeroGradKeepsTensors.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 64, 256),
    check_size=2,
    size_unit="linear layers of 64x64 (one forward and backward pass, batch of 32)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "One forward and backward pass through n 64 x 64 linear layers (batch of 32): "
        "`zero_grad(set_to_none=False)` against the default `zero_grad()`."
    ),
)
