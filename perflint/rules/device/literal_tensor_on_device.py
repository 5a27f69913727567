"""PFL211: a tensor of literal numbers built on the host and copied to a device on every call."""

from __future__ import annotations

from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.catalog.binding import BoundArguments
from perflint.engine.devices import HOST, OTHER_DEVICE, device_kind
from perflint.engine.host_reads import function_waits_for_device
from perflint.engine.imports import dotted_name
from perflint.engine.literals import has_unpacked_arguments, is_number_literal, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import resolved, value_of
from perflint.engine.walker import mention_count
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

_LITERAL_TENSOR_FUNCTIONS = frozenset({"torch.tensor", "torch.as_tensor"})
# Per-call methods that run once per request rather than per batch: a model's ``generate``, a
# pipeline's ``__call__`` (of a class that is not a torch module).
_ONCE_PER_REQUEST = frozenset({"generate", "__call__"})


class LiteralTensorOnDevice(Rule):
    """``torch.tensor(0.5, device=x.device)`` in ``forward`` or a loop: a blocking copy per call."""

    code = "PFL211"
    name = "literal-tensor-on-device"
    family = FAMILY
    summary = "Tensor of literal numbers or a range created on a device in per-call code"
    message = "`{call}` builds its data on the host and copies it to the device on every {where}; {fix}"
    fix_title = "Pass the Python number to the operation, use `torch.full(..., device=)`, or register a buffer once"
    fix_safety = FIX_UNSAFE
    # Opt-in: its findings on code it was not tuned on are below the bar taken together
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("torch",)
    paid_per_execution = True
    reported_at = "the call"

    what_it_does = (
        "Flags `torch.tensor(L, device=D)` and `torch.as_tensor(L, device=D)` where `L` is a numeric "
        "literal (`0.5`, `-1`) or a non-empty list or tuple of them (nested or not), a name bound to "
        "such a tuple, or to such a list that its function binds and reads nowhere else, or a "
        "`range(...)` (also in `list(...)`, `tuple(...)` or `[i for i in range(...)]`, for which the "
        "message offers `torch.arange(..., device=D)`), and `D` is not known to be the host, in code "
        "that runs repeatedly: on every iteration of a loop (not under a condition that depends on it, "
        "such as `if i == last:`), in `forward` (or `__call__`) of a torch `nn.Module` subclass, which "
        "runs per layer per call, or in another function with evidence that it runs per batch or per "
        "sample (a loss, a sampler, a `*_step` function, a torch distribution's constructor, or one the "
        "project calls from such code). "
        "Passed to an operation that takes no Python number (`torch.maximum`, `torch.minimum`, the "
        "two-tensor `torch.max`/`torch.min`), the message offers the method that does "
        "(`x.clamp_min(1e-5)`, `x.clamp_max(…)`). A list given `requires_grad=` (`torch.tensor([0.0], "
        "device=d, requires_grad=self.training)`) is no constant a buffer could hold: the message offers "
        "the factory that fills it on the device (`torch.zeros(1, device=d, "
        "requires_grad=self.training)`)."
    )
    known_limitations = (
        "Left alone: code outside loops with no such evidence (a pipeline's `__call__` or a model's "
        "`generate` runs once per generation, `__init__` once), a list the function appends to, a call "
        "whose value is discarded (`torch.tensor(0, device=d)` alone probes or initialises the device), "
        "an empty list, `torch.scalar_tensor`, a call without `device=` or with a host device, data that "
        "is not all literals, and functions compiled by `torch.compile`, TorchScript, JAX or numba, "
        "which bake constants in, and a list of different numbers with `requires_grad=`.\n\n"
        "Not flagged: data from a name the function also reads or changes elsewhere (`steps.append(v)`), "
        "from a comprehension that is not a plain copy of a range, or from per-batch Python values "
        "(`torch.tensor(lengths, device=d)`, which must be copied); a `generate` or a plain class's "
        "`__call__` (once per request); code in the body of `if torch.jit.is_scripting():`. A set-up "
        "helper whose name the engine does not know as run-once (kornia's `make_samplers`) is read as "
        "per call: on the development set that gave one finding that was correct but not worth fixing. "
        "Left alone as well: a function that waits for the device anyway, at a "
        "`.item()`/`.cpu()`, a boolean-mask index, an `if` or `assert` on a tensor's truth (not "
        "one after a Python condition, such as `if ignore_index is None and torch.max(y) > k:`), in the "
        "parent's method an override extends (`super().validation_step(batch)` of a base class that "
        "copies the batch to the host), or on every call of a function of the file it calls; and an ODE "
        "solver's `_select_initial_step`, once per solve. "
        "History: on the held-out set of the precision review's round 2 (13 research code bases nobody "
        "tuned on) 6 of its 25 findings were worth fixing and none was wrong. Most sat in code that "
        "already waits on the device nearby (metrics, point samplers), in host-side data transforms "
        "whose tensors never reach a device, or in one-off helpers, which the linter cannot tell from a "
        "loss's `forward`. Left alone since: a function that reads a tensor on the host anyway "
        "(`host_reads.function_waits_for_device`). On round 3's development set "
        "(`benchmarks/results/precision/dev_set_round3.md`) 13 of its 21 findings were worth fixing "
        "(losses and iterative solvers) and none was wrong; evaluation metrics and code that copies host "
        "data nearby make up the rest, so it stays opt-in. On round 4's development set plus round 3's "
        "held-out set (`benchmarks/results/precision/round4/dev_pfl201_211.md`), with a distribution's "
        "constructor now read as per-call code, 4 of its 6 findings were worth fixing and none was "
        "wrong: the other two sat beside a far costlier list of device scalars made into a tensor "
        "(ptwt's wavelet losses). On round 4's held-out set 7 of its 9 findings were worth fixing and none "
        "was wrong; on round 5's development set its 2 findings were not worth fixing (once per ODE solve). "
        "The waits above now leave those 4 alone and keep the 7 "
        "(`benchmarks/results/precision/round5/dev_optin_round5.md`), but the 7 sit in two code bases "
        "(pytorch_wavelets and tsai), and over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`) 36 of the 48 findings it still reports "
        "that a review read were worth fixing (75%): it stays opt-in, by the same bar as the default rules."
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
        # The function reads a tensor on the host anyway: the same test calls `torch.allclose`.
        """
        import torch
        from torch import nn
        class Categorical(nn.Module):
            def forward(self, p: torch.Tensor) -> torch.Tensor:
                if not torch.allclose(p.sum(), torch.tensor(1.0, device=p.device)):
                    raise ValueError("probabilities must sum to 1")
                return torch.multinomial(p, 1)
        """,
        # The function waits anyway: at an assert on a tensor, in the base class's step it calls
        # (which copies the batch to the host), or per solve before a solver's loop.
        """
        import torch
        import lightning as pl
        class TSoftmax(torch.nn.Module):
            def forward(self, x: torch.Tensor, t: torch.Tensor = None) -> torch.Tensor:
                if t is None:
                    t = torch.tensor(0.5, device=x.device)
                assert (t >= 0.0).all()
                return torch.softmax(x - t, dim=-1)
        class Experiment(pl.LightningModule):
            def validation_step(self, batch, batch_idx, bandwidth_id=None):
                return self.score(batch.cpu().numpy(), bandwidth_id)
        class ConditionalExperiment(Experiment):
            def validation_step(self, batch, batch_idx):
                bandwidth_id = torch.tensor([0], device=self.device)
                return super().validation_step(batch, batch_idx, bandwidth_id=bandwidth_id)
        class Controller:
            def _select_initial_step(self, d0: torch.Tensor, d1: torch.Tensor) -> torch.Tensor:
                small = torch.tensor(1e-6, dtype=d0.dtype, device=d0.device)
                return torch.where((d0 < 1e-5) | (d1 < 1e-5), small, 0.01 * d0 / d1)
        """,
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
        # Data that changes: a list the function appends to, a range of a list's items; and a
        # helper with no evidence of repetition.
        """
        import torch
        def sample_loss(values, device):
            steps = [0.0]
            steps.append(values[0])
            t = torch.tensor(steps, device=device)
            return torch.tensor([v for v in values], device=device), t
        def helper(device):
            return torch.tensor(range(4), device=device)
        """,
        # A module-level list: any code may change it.
        """
        import torch
        STEPS = [0.1, 0.5, 0.9]
        def sample_step(x, device):
            return x * torch.tensor(STEPS, device=device)
        """,
        # A branch that only TorchScript runs: eager code takes the other one.
        """
        import torch
        from torch import nn
        class Gray(nn.Module):
            def forward(self, image: torch.Tensor) -> torch.Tensor:
                if torch.jit.is_scripting():
                    weights = torch.tensor([0.299, 0.587, 0.114], device=image.device)
                else:
                    weights = self.weights
                return (image * weights[:, None, None]).sum(-3)
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
        # A loss outside any module runs per batch; data from a name bound to a list.
        Invalid(
            """
            import torch
            def focal_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
                alpha = [0.25, 0.75]
                weights = torch.tensor(alpha, device=pred.device)
                return (weights[target] * pred).mean()
            """,
            line=4,
        ),
        # A helper of the file that waits for nothing does not make its caller wait.
        Invalid(
            """
            import torch
            def c2q(real: torch.Tensor, imag: torch.Tensor) -> torch.Tensor:
                return torch.stack((real, imag), dim=-1)
            def orientations_to_highs_loss(reals: torch.Tensor, imags: torch.Tensor) -> torch.Tensor:
                horiz = torch.index_select(reals, 1, torch.tensor([0, 5], device=reals.device))
                return c2q(horiz, imags).mean()
            """,
            line=5,
        ),
        # Data from a range: `torch.arange` fills the tensor on the device.
        Invalid(
            """
            import torch
            def sample(logits: torch.Tensor, n: int) -> torch.Tensor:
                rows = torch.tensor(list(range(n)), dtype=torch.long, device=logits.device)
                return logits[rows]
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            def run(model, loader, device):
                for x in loader:
                    positions = torch.tensor([i for i in range(x.shape[1])], device=device)
                    model(x, positions)
            """,
            line=4,
        ),
        # A module-level tuple, which nothing can change.
        Invalid(
            """
            import torch
            TRIPLETS = ((0, 1, 2), (3, 4, 5))
            def train_step(points: torch.Tensor) -> torch.Tensor:
                index = torch.tensor(TRIPLETS, device=points.device)
                return points[:, index]
            """,
            line=4,
        ),
        # Returned, stacked with other tensors, or kept as an accumulator: it must stay a tensor,
        # so the message offers `torch.full`, not a Python number.
        Invalid(
            """
            import torch
            from torch import nn
            class Dice(nn.Module):
                def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
                    if self.empty:
                        return torch.tensor(1.0, device=pred.device)
                    return self.score(pred, target)
            """,
            line=6,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Quantizer(nn.Module):
                def forward(self, x: torch.Tensor, losses: list) -> torch.Tensor:
                    return torch.stack([*losses, torch.tensor(0.0, device=x.device)])
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            def deep_supervision_loss(inputs, target: torch.Tensor) -> torch.Tensor:
                loss = torch.tensor(0, dtype=torch.float, device=target.device)
                for x in inputs:
                    loss += torch.nn.functional.mse_loss(x, target)
                return loss
            """,
            line=3,
        ),
        # A list that may take gradients (encodec's vector quantiser): a buffer cannot stand for
        # it in both modes, a factory builds it on the device.
        Invalid(
            """
            import torch
            from torch import nn
            class VectorQuantization(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    device = x.device
                    loss = torch.tensor([0.0], device=device, requires_grad=self.training)
                    if self.training:
                        loss = loss + self.commitment(x)
                    return loss
            """,
            line=6,
        ),
        # An operand that is not a name takes the method in parentheses.
        Invalid(
            """
            import torch
            def initial_step(h0: torch.Tensor, device) -> torch.Tensor:
                for _ in range(3):
                    h0 = torch.max(torch.tensor(1e-6, device=device), h0 * 1e-3)
                return h0
            """,
            line=4,
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

    def _runs_per_call(self) -> bool:
        """In ``forward`` of a torch module (or a function nested in it), which runs per layer
        per call, or in another function with evidence that it runs per batch or per sample (a
        loss, a sampler, a ``*_step`` function, one the project calls from such code). A
        ``generate`` or a plain class's ``__call__`` (a pipeline's) runs once per request."""
        frame = self.context.function
        while frame is not None and frame.parent is not None:
            frame = frame.parent
        if frame is None:
            return False
        if frame.runs_the_module:
            return True
        if frame.name in _ONCE_PER_REQUEST:
            return False
        return self.context.frequency().repeats

    def _read_only_here(self, data: cst.BaseExpression) -> bool:
        """``data`` is not a name, or a name bound to a tuple (which nothing can change), or one
        its function (or module) binds and reads only here: a list nothing appends to."""
        if type(data) is not cst.Name:
            return True
        bound = value_of(data, self.context)
        if type(bound) is cst.Tuple:
            return True
        function = self.context.function
        scope = function.node if function is not None else self.context.module
        return bound is not None and scope in self.context.path_to(bound) and mention_count(scope, data.value) == 2

    def _in_module(self) -> bool:
        frame = self.context.function
        return frame is not None and frame.class_frame is not None and frame.class_frame.is_module_subclass

    def _range_arguments(self, data: cst.BaseExpression) -> cst.Call | None:
        """The ``range(...)`` call ``data`` is, directly or through ``list(...)``/``tuple(...)``
        or a comprehension that copies its items (``[i for i in range(n)]``)."""
        imports = self.context.imports
        if type(data) is cst.Call and len(data.args) == 1 and not data.args[0].keyword and not data.args[0].star:
            if imports.is_builtin(data.func, "list") or imports.is_builtin(data.func, "tuple"):
                data = data.args[0].value
        elif type(data) is cst.ListComp and data.for_in.inner_for_in is None and not data.for_in.ifs:
            target = data.for_in.target
            if type(target) is cst.Name and type(data.elt) is cst.Name and data.elt.value == target.value:
                data = data.for_in.iter
        if type(data) is not cst.Call or not imports.is_builtin(data.func, "range"):
            return None
        if not data.args or len(data.args) > 3 or any(arg.keyword or arg.star for arg in data.args):
            return None
        return data

    def _arange(self, call: cst.Call, tensor: cst.Call) -> str:
        """``torch.arange(<range's arguments>, <tensor's keywords>)`` for ``tensor``, the
        ``torch.tensor(range(...), ...)`` being reported."""
        arange = self.context.imports.reference("torch.arange") or "torch.arange"
        arguments = [quote(arg.value) for arg in call.args]
        arguments += [f"{arg.keyword.value}={quote(arg.value)}" for arg in tensor.args if arg.keyword is not None]
        return f"{arange}({', '.join(arguments)})"

    def visit_Call(self, node: cst.Call) -> None:
        operation = self._calls[-1] if self._calls else None
        self._calls.append(node)
        callee = self.context.imports.qualified_name(node.func)
        if callee not in _LITERAL_TENSOR_FUNCTIONS or has_unpacked_arguments(node):
            return
        record = catalog.listed(callee)
        bound = catalog.bind(node, record)
        if bound is None:
            return
        data, device = bound.argument("data"), bound.argument("device")
        if data is None or device is None:
            return
        value = resolved(data, self.context) if self._read_only_here(data) else None
        arange = self._range_arguments(value) if value is not None else None
        if arange is None and (value is None or not _is_numeric_literal(value, top=True)):
            return
        if device_kind(device, self.context) in (HOST, OTHER_DEVICE):
            return
        in_loop = self.context.innermost_loop is not None
        if in_loop and not self.context.runs_every_iteration():
            return
        if not in_loop and not self._runs_per_call():
            return
        if node is self._statement_value or self.context.in_compiled_code():
            return
        if function_waits_for_device(self.context, counting_decisions=True, counting_guards=True) is not None:
            # The function reads a tensor on the host anyway: one more wait costs little beside it.
            return
        if arange is not None:
            fix = f"use `{self._arange(arange, node)}`, which fills the tensor on the device"
        elif isinstance(value, (cst.List, cst.Tuple)) and bound.argument("requires_grad") is not None:
            # A tensor that may take gradients (``requires_grad=self.training``) is no constant:
            # one buffer cannot stand for it, but a factory fills it on the device.
            factory = self._filling_factory(value, bound)
            if factory is None:
                return
            fix = f"use `{factory}`, which fills it on the device"
        elif type(value) in (cst.List, cst.Tuple):
            if in_loop:
                fix = "make it once, outside the loop"
            elif self._in_module():
                fix = "register it once in `__init__` (`self.register_buffer(name, tensor, persistent=False)`)"
            else:
                function = self.context.function
                assert function is not None  # not in a loop, and runs per call: in a function
                fix = f"make it once, outside `{function.name}`, and reuse it"
        else:
            # ``torch.full`` takes the call's dtype, device and requires_grad as they are.
            keywords = ", ".join(
                f"{name}={quote(given)}"
                for name in ("dtype", "device", "requires_grad")
                if (given := bound.argument(name)) is not None
            )
            full = f"`torch.full((), {quote(data)}, {keywords})`"
            number_taking = self._number_taking_form(operation, node, quote(data))
            if number_taking is not None:
                fix = number_taking
            elif self._operand_of_an_operation(node):
                fix = f"pass `{quote(data)}` to the operation as a Python number, or use {full}"
            else:
                # Returned, kept in a name or stacked with other tensors: it must stay a tensor.
                fix = f"use {full}, which fills it on the device"
        self.report(
            node,
            self.message.format(call=quote(node), where="iteration" if in_loop else "call", fix=fix),
        )

    def _filling_factory(self, value: cst.List | cst.Tuple, bound: BoundArguments) -> str | None:
        """``torch.zeros(1, device=d, requires_grad=g)`` for ``torch.tensor([0.0], device=d,
        requires_grad=g)``: the factory that builds a flat list of one repeated number on the
        device, with the call's dtype, device and requires_grad; None for other lists."""
        numbers = [literal_value(element.value) for element in value.elements if type(element) is cst.Element]
        if len(numbers) != len(value.elements) or not all(type(number) in (int, float) for number in numbers):
            return None
        if len(set(numbers)) != 1:
            return None
        keywords = [
            f"{name}={quote(given)}"
            for name in ("dtype", "device", "requires_grad")
            if (given := bound.argument(name)) is not None
        ]
        if bound.argument("dtype") is None and type(numbers[0]) is int:
            keywords.insert(0, f"dtype={self.context.imports.reference('torch.int64') or 'torch.int64'}")
        number, size = numbers[0], len(numbers)
        if number in (0, 1):
            function = "torch.zeros" if number == 0 else "torch.ones"
            arguments = [str(size), *keywords]
        else:
            function = "torch.full"
            arguments = [f"({size},)", quote(value.elements[0].value), *keywords]
        return f"{self.context.imports.reference(function) or function}({', '.join(arguments)})"

    def _operand_of_an_operation(self, tensor: cst.Call) -> bool:
        """``tensor`` is an operand of an operator (``x >> t``, ``x * t``) or an argument of a
        torch operation or a tensor method (``torch.where(m, x, t)``, ``x.masked_fill(m, t)``),
        which take a Python number in its place; not a tensor that is returned, kept in a name,
        or joined with others (``torch.stack([a, t])``), which must stay a tensor."""
        path = self.context.path_to(tensor)
        parent = path[-2]
        if type(parent) in (cst.BinaryOperation, cst.ComparisonTarget):
            return True
        if type(parent) is not cst.Arg or type(path[-3]) is not cst.Call:
            return False
        operation = path[-3]
        qualified = self.context.imports.qualified_name(operation.func)
        if qualified is None:
            # A method of a tensor (``x.masked_fill``), not a function of this file.
            return type(operation.func) is cst.Attribute and not self.context.functions.defines(
                dotted_name(operation.func) or ""
            )
        record = catalog.lookup(qualified)
        return record is not None and record.library == catalog.TORCH and not record.has(catalog.Flag.JOINS_ARRAYS)

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
        name = qualified.rpartition(".")[2] if qualified is not None else cast(cst.Attribute, operation.func).attr.value
        receiver = " ".join(quote(others[0]).split())
        if type(others[0]) not in (cst.Name, cst.Attribute, cst.Call, cst.Subscript) and not others[0].lpar:
            # ``h0 * 1e-3`` takes the method as a whole: ``(h0 * 1e-3).clamp_min(…)``.
            receiver = f"({receiver})"
        return f"`{name}` takes no Python number, but `{receiver}.{method}({number})` does"


def _is_numeric_literal(expr: cst.BaseExpression, top: bool = False) -> bool:
    """A number (``0.5``, ``-1``), or a non-empty list or tuple of numbers or such lists."""
    if is_number_literal(expr):
        return True
    if type(expr) is cst.UnaryOperation and type(expr.operator) in (cst.Minus, cst.Plus):
        return is_number_literal(expr.expression)
    if type(expr) is cst.List or type(expr) is cst.Tuple:
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
