"""PFL211: a tensor of literal numbers built on the host and copied to a device on every call."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import HOST, OTHER_DEVICE, device_kind
from perflint.engine.literals import has_unpacked_arguments, is_number_literal
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

_LITERAL_TENSOR_FUNCTIONS = frozenset({"torch.tensor", "torch.as_tensor"})


class LiteralTensorOnDevice(Rule):
    """``torch.tensor(0.5, device=x.device)`` in ``forward`` or a loop: a blocking copy per call."""

    code = "PFL211"
    name = "literal-tensor-on-device"
    family = FAMILY
    summary = "Tensor of literal numbers created on a device in per-call code"
    message = "`{call}` builds its data on the host and copies it to the device on every {where}; {fix}"
    fix_title = "Pass the Python number to the operation, use `torch.full(..., device=)`, or register a buffer once"
    fix_safety = FIX_UNSAFE
    required_text = ("torch",)
    paid_per_execution = True
    reported_at = "the call"

    what_it_does = (
        "Flags `torch.tensor(L, device=D)` and `torch.as_tensor(L, device=D)` where `L` is a "
        "numeric literal (`0.5`, `-1`) or a non-empty list or tuple of them (nested or not) and "
        "`D` is not known to be the host, in code that runs repeatedly: on every iteration of a "
        "loop (not under a condition that depends on it, such as `if i == last:`), or in "
        "`forward` (or `__call__`) of a torch `nn.Module` subclass, which runs per layer per "
        "call. Left alone: other code outside loops (a pipeline's `__call__` or a model's "
        "`generate` runs once per generation, `__init__` once), a call whose value is discarded "
        "(`torch.tensor(0, device=d)` alone probes or initialises the device), an empty list, `torch.scalar_tensor`, a call without `device=` or with a host "
        "device, data that is not all literals, and functions compiled by `torch.compile`, "
        "TorchScript, JAX or numba, which bake constants in. Passed to an operation that takes no "
        "Python number (`torch.maximum`, `torch.minimum`, the two-tensor `torch.max`/`torch.min`), "
        "the message offers the method that does (`x.clamp_min(1e-5)`, `x.clamp_max(…)`)."
    )
    why_bad = (
        "`torch.tensor` always builds its tensor in host memory from the Python data, then "
        "copies it to the device. The copy is from pageable memory, so it is synchronous: the "
        "host waits for the device to finish the work queued before it, on every call. A survey "
        "of ten packages found this 192 times, 52 of them in per-call code."
    )
    example = """\
import torch
from torch import nn

class Mask(nn.Module):
    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return torch.where(keep, x, torch.tensor(0.0, device=x.device))
"""
    use_instead = """\
import torch
from torch import nn

class Mask(nn.Module):
    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return torch.where(keep, x, 0.0)
"""
    fix_safety_note = (
        "Unsafe: a Python number gives the same result where the operation accepts one, but "
        "type promotion may differ (a Python float with an integer tensor promotes to the "
        "default float dtype, a 0-d float64 tensor may not), and a buffer registered once "
        "is saved in the `state_dict` unless registered with `persistent=False`."
    )

    VALID = (
        # Run-once code: __init__ outside any loop, and module level.
        """
        import torch
        from torch import nn
        MEAN = torch.tensor([0.485, 0.456, 0.406], device="cuda")
        class Norm(nn.Module):
            def __init__(self, device):
                super().__init__()
                self.scale = torch.tensor([1.0, 2.0], device=device)
        """,
        # No device, a host device, an empty list, scalar_tensor, non-literal data.
        """
        import torch
        from torch import nn
        class Block(nn.Module):
            def forward(self, x: torch.Tensor, lengths) -> torch.Tensor:
                a = torch.tensor([1.0, 2.0])
                b = torch.tensor(0.5, device="cpu")
                c = torch.tensor([], device=x.device)
                d = torch.scalar_tensor(0.5, device=x.device)
                e = torch.tensor(lengths, device=x.device)
                return x
        """,
        # Compiled by torch.compile: the constant is baked into the graph.
        """
        import torch
        @torch.compile
        def shift(x: torch.Tensor) -> torch.Tensor:
            for _ in range(3):
                x = x + torch.tensor(1.0, device=x.device)
            return x
        """,
        # Outside loops, only a module's forward runs per layer per call: a helper of unknown
        # role, a model's generate (once per generation), a pipeline's __call__.
        """
        import torch
        from torch import nn
        def make_weights(device):
            return torch.tensor([0.2, 0.8], device=device)
        class Seq2Seq(nn.Module):
            def generate(self, prompt, device):
                start = torch.tensor([[0]], dtype=torch.long, device=device)
                return self.decode(start, prompt)
        class Pipeline:
            def __call__(self, prompt, device):
                return torch.tensor([0], device=device)
        """,
        # Runs on the last iteration only.
        """
        import torch
        for i, t in enumerate(timesteps):
            if i == len(timesteps) - 1:
                timestep_r = torch.tensor([0.0], device=device)
        """,
        # A discarded value: made to probe each device, not to be used.
        """
        import torch
        for index in range(torch.cuda.device_count()):
            try:
                torch.tensor(0, device=torch.device("cuda", index))
            except RuntimeError:
                pass
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            from torch import nn
            class Mask(nn.Module):
                def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
                    return torch.where(keep, x, torch.tensor(0.0, device=x.device))
            """,
            line=5,
            column=37,
        ),
        Invalid(
            """
            import torch
            def run(model, loader, device):
                for batch in loader:
                    weights = torch.tensor([0.2, 0.8], device=device)
                    loss = model(batch.to(device), weights)
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def iou_with_unit_box(boxes, device):
                for i in range(boxes.shape[0]):
                    unit = torch.as_tensor([[0, 0, 1, 1]], device=device)
                    yield box_iou(unit, boxes[i])
            """,
            line=4,
        ),
        # `torch.maximum` takes no Python number: the message offers `clamp_min`.
        Invalid(
            """
            import torch
            from torch import nn
            class SafeLog(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    return torch.log(torch.maximum(x, torch.tensor(1e-5, device=x.device)))
            """,
            line=5,
            column=43,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Shift(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    return x >> torch.tensor(-4, dtype=torch.int32, device=x.device)
            """,
            line=5,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._statement_value: cst.BaseExpression | None = None
        # The calls around the current node, innermost last: the operation a tensor is passed to.
        self._calls: list[cst.Call] = []

    def leave_Call(self, node: cst.Call) -> None:
        self._calls.pop()

    def visit_Expr(self, node: cst.Expr) -> None:
        # ``torch.tensor(0, device=d)`` as a statement: made only to initialise or probe the device.
        self._statement_value = node.value

    def _in_module_forward(self) -> bool:
        """In ``forward`` of a torch module (or a function nested in it): runs per layer per call."""
        frame = self.context.function
        while frame is not None and frame.parent is not None:
            frame = frame.parent
        return (
            frame is not None
            and frame.name in catalog.TORCH_MODULE_CALL_METHODS
            and frame.class_frame is not None
            and frame.class_frame.is_module_subclass
        )

    def visit_Call(self, node: cst.Call) -> None:
        operation = self._calls[-1] if self._calls else None
        self._calls.append(node)
        callee = self.context.imports.qualified_name(node.func)
        if callee not in _LITERAL_TENSOR_FUNCTIONS or has_unpacked_arguments(node):
            return
        record = catalog.lookup(callee)
        bound = catalog.bind(node, record)
        if bound is None:
            return
        data, device = bound.argument("data"), bound.argument("device")
        if data is None or device is None or not _is_numeric_literal(data, top=True):
            return
        if device_kind(device, self.context) in (HOST, OTHER_DEVICE):
            return
        in_loop = self.context.innermost_loop is not None
        if in_loop and not self.context.runs_every_iteration():
            return
        if not in_loop and not self._in_module_forward():
            return
        if node is self._statement_value or self.context.in_compiled_code():
            return
        if type(data) in (cst.List, cst.Tuple):
            fix = (
                "make it once, outside the loop"
                if in_loop
                else "register it once in `__init__` (`self.register_buffer(name, tensor, persistent=False)`)"
            )
        else:
            fix = self._number_taking_form(operation, node, quote(data)) or (
                f"pass `{quote(data)}` to the operation as a Python number, or use "
                f"`torch.full((), {quote(data)}, device={quote(device)})`"
            )
        self.report(
            node,
            self.message.format(call=quote(node), where="iteration" if in_loop else "call", fix=fix),
        )

    def _number_taking_form(self, operation: cst.Call | None, tensor: cst.Call, number: str) -> str | None:
        """``x.clamp_min(1e-5)`` for ``torch.maximum(x, torch.tensor(1e-5, device=d))``: the
        operation takes no Python number, but a method of the other tensor does."""
        if operation is None:
            return None
        qualified = self.context.imports.qualified_name(operation.func)
        method = catalog.TORCH_NUMBER_TAKING_METHODS.get(qualified) if qualified is not None else None
        others = [arg.value for arg in operation.args if arg.value is not tensor and arg.keyword is None]
        if method is None and type(operation.func) is cst.Attribute and qualified is None:
            method = catalog.TORCH_NUMBER_TAKING_METHODS.get(f"torch.{operation.func.attr.value}")
            others = [operation.func.value] if len(operation.args) == 1 else []
        if method is None or len(others) != 1 or not any(arg.value is tensor for arg in operation.args):
            return None
        name = qualified.rpartition(".")[2] if qualified is not None else operation.func.attr.value
        return f"`{name}` takes no Python number, but `{' '.join(quote(others[0]).split())}.{method}({number})` does"


def _is_numeric_literal(expr: cst.BaseExpression, top: bool = False) -> bool:
    """A number (``0.5``, ``-1``), or a non-empty list or tuple of numbers or such lists."""
    if is_number_literal(expr):
        return True
    if type(expr) is cst.UnaryOperation and type(expr.operator) in (cst.Minus, cst.Plus):
        return is_number_literal(expr.expression)
    if type(expr) in (cst.List, cst.Tuple):
        return bool(expr.elements) and all(
            type(element) is cst.Element and _is_numeric_literal(element.value) for element in expr.elements
        )
    return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    values = torch.randn(size, generator=generator).to(device)
    return values, values > 0


def _pattern(x, keep):
    import torch

    return torch.where(keep, x, torch.tensor(0.0, device=x.device))


def _fix(x, keep):
    import torch

    return torch.where(keep, x, 0.0)


LiteralTensorOnDevice.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(4_096, 65_536, 1_048_576),
    check_size=16,
    size_unit="float32 elements masked in one forward call",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    version=2,
    timed=(
        "The page's example: one masking step `torch.where(keep, x, torch.tensor(0.0, "
        "device=x.device))` on n float32 elements against `torch.where(keep, x, 0.0)`. CUDA only: "
        "there the 0-d tensor is a synchronous copy from host memory, the cost the rule names; on the "
        "CPU there is no copy, only a small constructor, so the CPU is not timed."
    ),
)
