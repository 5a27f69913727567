"""PFL506: an EMA or target-network update that loops over the parameters one tensor at a time."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.imports import dotted_name, target_names
from perflint.engine.quoting import listed, quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import simple_body, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY

_PLAIN, _NAMED = "plain", "named"
# Keywords the in-place methods and functions take besides tensors and numbers.
_NUMBER_KEYWORDS = frozenset({"alpha", "weight", "value", "non_blocking"})
_COPY = "torch._foreach_copy_"


class PerParameterUpdateLoop(Rule):
    """``for p, q in zip(model.parameters(), ema.parameters()): q.lerp_(p, 0.001)``."""

    code = "PFL506"
    name = "per-parameter-update-loop"
    family = FAMILY
    summary = "EMA or target-network update looping over the parameters one tensor at a time"
    message = (
        "Loop over `{pairs}` updates one tensor at a time (`{update}`); keep the tensors in lists "
        "built once and update them all with {foreach}{grad_off}"
    )
    fix_title = "Update every tensor at once with the `torch._foreach_*` operations on lists built once"
    fix_safety = FIX_UNSAFE
    # Opt-in: 2 of its 8 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    paid_per_execution = True
    required_text = ("param", "buffers", "state_dict")
    reported_at = "the `for` statement"

    what_it_does = (
        "Flags `for p, q in zip(A, B)` (two or more) where each of `A`, `B` gives a model's tensors: "
        "`m.parameters()`, `m.buffers()`, `m.state_dict().values()`, `m.named_parameters()` / "
        "`m.named_buffers()` / `m.state_dict().items()` unpacked as `(name, p)`, `list(...)` of one, "
        "a name assigned one, or a name that says parameters (`params`, `self.ema_params`), and whose"
        " body, possibly inside `with torch.no_grad():`, only updates those tensors in place: "
        "in-place methods with a multi-tensor form (`q.lerp_(p, w)`, `q.mul_(m).add_(p, alpha=1 - "
        "m)`, `q.copy_(p)`, on `q` or `q.data`), `torch.add(q, p, out=q)`, or `q.data = m * q.data + "
        "(1 - m) * p.data`, with arguments built only from the loop's tensors (also `.data`, "
        "`.detach()`), numbers, scalars from outside the loop and element-wise arithmetic. "
        "Exponential moving averages, Polyak averaging and target-network updates run on every "
        "training step."
    )
    known_limitations = (
        "Not flagged: a body that does anything else per tensor (a condition, a device move, a call, "
        "a clone); a loop in the branch for integer tensors (the `else` of `if "
        "torch.is_floating_point(t):`), which foreach arithmetic with a fractional weight cannot "
        "update in place; run-once code (`__init__`, set-up functions, module level, code only set-up "
        "calls); a loop that only copies the tensors (`q.copy_(p)`, `q.data = p.data`: a hard target "
        "update done once or every few thousand steps, a line search restoring the parameters between"
        " evaluations of the whole model); test code; compiled code (`torch.compile`, TorchScript). "
        "an iterable is taken for a model's tensors when its name says parameters (`params`, "
        "`target_params`), which the body's in-place tensor methods corroborate but do not prove; a "
        "function whose frequency the code does not show (`update_target`, `soft_update`) is taken to"
        " run per step, as EMA and Polyak updates do; a loop over one model's tensors (`for p in "
        "model.parameters(): p.mul_(0.5)`) and a body that mixes the update with other work are not "
        "flagged; the gain is largest on a GPU, where each tensor's call is a kernel launch, and "
        "smaller on the CPU (see Measured)."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 2 of its 8 findings were worth fixing "
        "and none was wrong. Most per-tensor update loops it found were target-network Polyak updates "
        "over a dozen or two small tensors once per gradient step, a few dozen launches beside hundreds; "
        "it pays for an EMA over a large backbone."
    )
    why_bad = (
        "Each in-place call on one tensor dispatches through the interpreter and the dispatcher and, "
        "on a GPU, launches its own kernel: an update of a model of hundreds of tensors launches "
        "hundreds to thousands of tiny kernels per step, each costing microseconds of host time "
        "whatever the tensor's size. The `torch._foreach_*` operations (the multi-tensor kernels "
        "the optimizers use by default on CUDA) take lists of tensors and update them in a few "
        "launches; building the lists once (in `__init__`) also saves walking the module tree on "
        "every step."
    )
    example = """\
import torch

class EMA:
    def __init__(self, model: torch.nn.Module, ema: torch.nn.Module, decay: float = 0.999):
        self.model, self.ema, self.decay = model, ema, decay

    @torch.no_grad()
    def update(self):
        for p, q in zip(self.model.parameters(), self.ema.parameters()):
            q.mul_(self.decay).add_(p, alpha=1 - self.decay)
"""
    use_instead = """\
import torch

class EMA:
    def __init__(self, model: torch.nn.Module, ema: torch.nn.Module, decay: float = 0.999):
        self.decay = decay
        self.model_params = list(model.parameters())
        self.ema_params = list(ema.parameters())

    @torch.no_grad()
    def update(self):
        torch._foreach_mul_(self.ema_params, self.decay)
        torch._foreach_add_(self.ema_params, self.model_params, alpha=1 - self.decay)
"""
    fix_safety_note = (
        "No automatic fix: where to keep the lists is a design choice (built once in `__init__`, "
        "they must be rebuilt if the model's parameters are replaced), `zip` stops at the shorter "
        "iterable where the `torch._foreach_*` operations raise on lists of different lengths, and "
        "a `state_dict()` holds integer buffers (`num_batches_tracked`) that `_foreach_lerp_` "
        "refuses while a loop over them fails the same way only when it reaches one. The results are "
        "the same numbers: each multi-tensor operation applies the same arithmetic to each tensor."
    )

    VALID = (
        # Run once, in `__init__`: the target network starts as a copy.
        """
        import torch
        class Agent:
            def __init__(self, online: torch.nn.Module, target: torch.nn.Module):
                for p, q in zip(online.parameters(), target.parameters()):
                    q.data.copy_(p.data)
        """,
        # A copy only, even in a loop: a hard update every few thousand steps, a line search's
        # restore; and `.data` rebound to another tensor, which copies nothing.
        """
        import torch
        def sync_target(online, target):
            for p, q in zip(online.parameters(), target.parameters()):
                q.data.copy_(p.data)
        def update_all(pairs):
            for pair in pairs:
                for p, q in zip(pair.source.parameters(), pair.target.parameters()):
                    q.data.copy_(p.data)
        def set_params(self, params_data):
            for p, pdata in zip(self._params, params_data):
                p.data = pdata.data
        """,
        # Other work per tensor: a condition, a device move, a clone.
        """
        import torch
        def update(model, ema, decay: float, device):
            for p, q in zip(model.state_dict().values(), ema.state_dict().values()):
                if q.dtype.is_floating_point:
                    q.mul_(decay).add_(p, alpha=1 - decay)
            for p, q in zip(model.parameters(), ema.parameters()):
                p = p.to(device)
                q.lerp_(p, 1 - decay)
            for p, q in zip(model.parameters(), ema.parameters()):
                q.data = p.data.clone()
        """,
        # The fallback for integer tensors, beside a foreach update of the floating-point ones:
        # `torch._foreach_mul_` cannot scale an integer tensor by a fraction in place.
        """
        import torch
        def update_parameters(ema_params, model_params, decay: float):
            with torch.no_grad():
                if torch.is_floating_point(ema_params[0]) or torch.is_complex(ema_params[0]):
                    torch._foreach_lerp_(ema_params, model_params, 1 - decay)
                else:
                    for p_ema, p_model in zip(ema_params, model_params):
                        p_ema.copy_(p_ema * decay + p_model * (1 - decay))
        """,
        # Not a model's tensors: gradients paired with parameters, and lists of numbers.
        """
        import torch
        def apply(model, grads, values, scales):
            for p, g in zip(model.parameters(), grads):
                p.add_(g, alpha=-0.1)
            for v, s in zip(values, scales):
                v.mul_(s)
        """,
        # A per-tensor value that is not element-wise arithmetic (a norm per tensor).
        """
        import torch
        def update(model, ema):
            for p, q in zip(model.parameters(), ema.parameters()):
                q.lerp_(p, p.norm())
        """,
        # Module level: runs once.
        """
        import torch
        model, ema = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
        for p, q in zip(model.parameters(), ema.parameters()):
            q.mul_(0.5).add_(p, alpha=0.5)
        """,
        # A name rebound to a copy of itself (torch_geometric's `rev_gnn.py`): followed as far as
        # `values.value_of` follows names, not until the recursion limit; `saved` is no model's.
        """
        import torch
        def restore(params, saved):
            params = tuple(params)
            for p, q in zip(params, saved):
                p.copy_(q)
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            class EMA:
                @torch.no_grad()
                def update(self, model):
                    for p, q in zip(model.parameters(), self.module.parameters()):
                        q.mul_(self.decay).add_(p, alpha=1 - self.decay)
            """,
            line=5,
            column=9,
        ),
        # Polyak averaging of named parameters, under `torch.no_grad()` inside the loop.
        Invalid(
            """
            import torch
            def soft_update(online, target, tau: float):
                for (_, p), (_, q) in zip(online.named_parameters(), target.named_parameters()):
                    with torch.no_grad():
                        q.lerp_(p, tau)
            """,
            line=3,
        ),
        # The assignment form of a BYOL target update.
        Invalid(
            """
            import torch
            def update_target(self):
                for p, pt in zip(self.backbone.parameters(), self.target.parameters()):
                    pt.data = self.beta * pt.data + (1 - self.beta) * p.data
            """,
            line=3,
        ),
        # Parameters passed in by name, and `torch.add(..., out=)`.
        Invalid(
            """
            import torch
            def polyak_update(params, target_params, tau: float) -> None:
                with torch.no_grad():
                    for param, target_param in zip(params, target_params, strict=True):
                        target_param.data.mul_(1 - tau)
                        torch.add(target_param.data, param.data, alpha=tau, out=target_param.data)
            """,
            line=4,
        ),
        # Spinning Up's Polyak update: a number times a tensor is the addition's `alpha=`.
        Invalid(
            """
            import torch
            def soft_sync(targ_model, model, tau: float) -> None:
                with torch.no_grad():
                    params = model.parameters()
                    targ_params = targ_model.parameters()
                    for p, p_targ in zip(params, targ_params):
                        p_targ.data.mul_(1 - tau)
                        p_targ.data.add_(tau * p.data)
            """,
            line=6,
        ),
        # A running (SWA) average in the training loop.
        Invalid(
            """
            import torch
            def train(model, swa, loader, optimizer):
                for n, batch in enumerate(loader, 1):
                    loss = model(batch).mean()
                    loss.backward()
                    optimizer.step()
                    for p, q in zip(model.parameters(), swa.parameters()):
                        q.detach().add_(p.detach() - q.detach(), alpha=1 / n)
            """,
            line=7,
        ),
    )

    def visit_For(self, node: cst.For) -> None:
        if node.orelse is not None or node.asynchronous is not None:
            return
        tensors = self._paired_tensors(node)
        if tensors is None:
            return
        statements = self._update_statements(node.body)
        if not statements:
            return
        operations: list[str] = []
        for statement in statements:
            found = self._update(statement, tensors, set(target_names(node.target)))
            if found is None:
                return
            operations += [operation for operation in found if operation not in operations]
        context = self.context
        if context.functions.in_test_code() or context.in_compiled_code() or context.runs_once():
            return
        if context.loops.in_non_floating_branch():
            # The fallback for integer and boolean tensors (``else`` of ``if
            # torch.is_floating_point(t):``): in-place foreach arithmetic with a fractional weight
            # cannot update them, and the floating-point branch does the batched update.
            return
        if operations == [_COPY]:
            # A hard target update, a restore or an initial copy: once, or every few thousand
            # steps (a line search's restore runs once per evaluation of the whole model).
            return
        self.report(
            node,
            self.message.format(
                pairs=quote(node.iter),
                update="; ".join(quote(statement) for statement in statements),
                foreach=listed([f"`{self._reference(operation)}`" for operation in operations]),
                grad_off=self._grad_off_clause(),
            ),
        )

    def _grad_off_clause(self) -> str:
        """Where autograd may be on at the loop, the `_foreach_*` operations need it off: an
        in-place operation on a leaf tensor that requires grad (a parameter) raises, and the loop
        only avoided that through `.detach()`, `.data` or a `no_grad` block inside it."""
        if self.context.functions.grad_disabled():
            return ""
        return f", under `with {self._reference('torch.no_grad')}():`"

    def _reference(self, qualified: str) -> str:
        return self.context.imports.reference(qualified) or qualified

    def _paired_tensors(self, node: cst.For) -> set[str] | None:
        """The names the loop binds to a model's tensors, when it zips two or more of its tensor
        iterables (``zip(model.parameters(), ema.parameters())``)."""
        iterable, target = node.iter, node.target
        if type(iterable) is not cst.Call or not self.context.imports.is_builtin(iterable.func, "zip"):
            return None
        sources = []
        for arg in iterable.args:
            if arg.star:
                return None
            if arg.keyword is None:
                sources.append(arg.value)
            elif arg.keyword.value != "strict":
                return None
        if type(target) is not cst.Tuple or len(sources) < 2 or len(target.elements) != len(sources):
            return None
        tensors: set[str] = set()
        for element, source in zip(target.elements, sources):
            shape = self._tensor_iterable(source)
            item = element.value
            if shape == _NAMED and type(item) is cst.Tuple and len(item.elements) == 2:
                item = item.elements[1].value
            elif shape != _PLAIN:
                return None
            if type(item) is not cst.Name or item.value in tensors:
                return None
            tensors.add(item.value)
        return tensors

    def _tensor_iterable(self, expr: cst.BaseExpression, hops: int = 0) -> str | None:
        """``_PLAIN`` when ``expr`` gives a model's tensors, ``_NAMED`` when it gives
        ``(name, tensor)`` pairs, else None. ``hops``: names followed so far, as
        ``values.value_of`` counts them (``inputs = tuple(inputs)`` names itself)."""
        imports = self.context.imports
        if type(expr) is cst.Call and len(expr.args) == 1 and not expr.args[0].keyword and not expr.args[0].star:
            if imports.is_builtin(expr.func, "list") or imports.is_builtin(expr.func, "tuple"):
                expr = expr.args[0].value
        if type(expr) in (cst.Name, cst.Attribute):
            value = value_of(expr, self.context, hops)
            if value is not None:
                return self._tensor_iterable(value, hops + 1)
            chain = dotted_name(expr)
            return _PLAIN if chain is not None and "param" in chain.rpartition(".")[2].lower() else None
        if type(expr) is not cst.Call or type(expr.func) is not cst.Attribute:
            return None
        method, receiver = expr.func.attr.value, expr.func.value
        if method in catalog.TORCH_MODULE_TENSOR_ITERATORS:
            return _PLAIN
        if method in catalog.TORCH_MODULE_NAMED_TENSOR_ITERATORS:
            return _NAMED
        if expr.args or type(receiver) is not cst.Call or type(receiver.func) is not cst.Attribute:
            return None
        if receiver.func.attr.value != "state_dict":
            return None
        return {"values": _PLAIN, "items": _NAMED}.get(method)

    def _update_statements(self, body: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
        """The body's simple statements, also inside one ``with torch.no_grad():``."""
        statements = simple_body(body)
        if statements or type(body) is not cst.IndentedBlock or len(body.body) != 1:
            return statements
        block = body.body[0]
        if type(block) is not cst.With or not all(
            self.context.functions.disables_grad(item.item) for item in block.items
        ):
            return []
        return simple_body(block.body)

    def _update(self, statement: cst.BaseSmallStatement, tensors: set[str], bound: set[str]) -> list[str] | None:
        """The multi-tensor operations that do ``statement``'s update of one of ``tensors`` on
        every tensor at once; None when it is not such an update."""
        if type(statement) is cst.Assign:
            if len(statement.targets) != 1:
                return None
            target = statement.targets[0].target
            if (
                type(target) is not cst.Attribute
                or target.attr.value != "data"
                or not _is_name_of(target.value, tensors)
            ):
                return None
            if not self._arithmetic(statement.value, tensors, bound):
                return None
            return _operator_operations(statement.value, tensors) or [_COPY]
        if type(statement) is not cst.Expr or type(statement.value) is not cst.Call:
            return None
        found = self._out_function(statement.value, tensors, bound)
        if found is not None:
            return found
        # The in-place calls from the outermost in: ``add_`` then ``mul_`` in ``q.mul_(m).add_(p)``.
        chain: list[tuple[str, cst.Call]] = []
        receiver: cst.BaseExpression = statement.value
        while isinstance(receiver, cst.Call) and not _is_tensor(receiver, tensors):
            func = receiver.func
            if not isinstance(func, cst.Attribute) or func.attr.value not in catalog.TORCH_FOREACH_IN_PLACE:
                return None
            if not self._arguments(receiver.args, tensors, bound, ()):
                return None
            chain.append((func.attr.value, receiver))
            receiver = func.value
        if not _is_tensor(receiver, tensors):
            return None
        operations: list[str] = []
        for method, call in reversed(chain):
            arithmetic = [
                operation
                for arg in call.args
                for operation in _operator_operations(arg.value, tensors, scaling_is_alpha=method != "copy_")
            ]
            if method == "copy_" and arithmetic:
                # ``q.copy_(m * q + (1 - m) * p)`` is its arithmetic done in place.
                operations += arithmetic
                continue
            # ``q.add_(p - q, alpha=w)``: the argument is a new list (``_foreach_sub``).
            operations += [operation.removesuffix("_") for operation in arithmetic]
            operations.append(catalog.TORCH_FOREACH_IN_PLACE[method])
        return list(dict.fromkeys(operations))

    def _out_function(self, call: cst.Call, tensors: set[str], bound: set[str]) -> list[str] | None:
        """``torch.add(q, p, alpha=w, out=q)``: a torch function whose in-place method has a
        multi-tensor form, writing into one of the loop's tensors."""
        qualified = self.context.imports.qualified_name(call.func)
        if qualified is None or not qualified.startswith("torch."):
            return None
        method = qualified.removeprefix("torch.") + "_"
        out = next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "out"), None)
        if method not in catalog.TORCH_FOREACH_IN_PLACE or out is None or not _is_tensor(out, tensors):
            return None
        if not self._arguments(call.args, tensors, bound, ("out",)):
            return None
        return [catalog.TORCH_FOREACH_IN_PLACE[method]]

    def _arguments(self, args: Sequence[cst.Arg], tensors: set[str], bound: set[str], skipped: tuple[str, ...]) -> bool:
        for arg in args:
            if arg.star:
                return False
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword in skipped:
                continue
            if keyword is not None and keyword not in _NUMBER_KEYWORDS:
                return False
            if not self._arithmetic(arg.value, tensors, bound):
                return False
        return True

    def _arithmetic(self, expr: cst.BaseExpression, tensors: set[str], bound: set[str]) -> bool:
        """Element-wise arithmetic of the loop's tensors, numbers and scalars from outside."""

        def leaf(node: cst.BaseExpression) -> bool | None:
            if _is_tensor(node, tensors):
                return True
            if type(node) in (cst.Name, cst.Attribute):
                chain = dotted_name(node)
                if chain is None or chain.partition(".")[0] in bound:
                    return False
                return self.context.arrays.kind_of(node) is None
            return None

        return is_elementwise(expr, leaf, self.context)


def _is_name_of(expr: cst.BaseExpression, tensors: set[str]) -> bool:
    return type(expr) is cst.Name and expr.value in tensors


def _is_tensor(expr: cst.BaseExpression, tensors: set[str]) -> bool:
    """One of the loop's tensors: ``q``, ``q.data`` or ``q.detach()``."""
    if type(expr) is cst.Attribute and expr.attr.value == "data":
        return _is_name_of(expr.value, tensors)
    if type(expr) is cst.Call and not expr.args and type(expr.func) is cst.Attribute:
        return expr.func.attr.value == "detach" and _is_name_of(expr.func.value, tensors)
    return _is_name_of(expr, tensors)


def _operator_operations(expr: cst.BaseExpression, tensors: set[str], scaling_is_alpha: bool = False) -> list[str]:
    """The multi-tensor operations of the arithmetic ``expr`` does on the loop's tensors
    (``m * q + (1 - m) * p``: multiply, add), in the order they appear; arithmetic on numbers
    alone (``1 - m``) is not one, nor, with ``scaling_is_alpha`` (the argument of ``add_``),
    a number times a tensor, which the ``alpha=`` of the multi-tensor addition does."""
    operations: list[str] = []
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop(0)
        if (
            scaling_is_alpha
            and type(node) is cst.BinaryOperation
            and type(node.operator) is cst.Multiply
            and not (_mentions_tensor(node.left, tensors) and _mentions_tensor(node.right, tensors))
        ):
            stack.extend(syntax_children(node))
            continue
        if type(node) is cst.BinaryOperation and _mentions_tensor(node, tensors):
            operation = catalog.TORCH_FOREACH_OF_OPERATOR.get(type(node.operator).__name__)
            if operation is not None and operation not in operations:
                operations.append(operation)
        stack.extend(syntax_children(node))
    return list(reversed(operations))


def _mentions_tensor(node: cst.CSTNode, tensors: set[str]) -> bool:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.BaseExpression) and _is_tensor(current, tensors):
            return True
        stack.extend(syntax_children(current))
    return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    generator = torch.Generator().manual_seed(0)
    model = [torch.randn(4096, generator=generator).to(target.device) for _ in range(size)]
    ema = [torch.randn(4096, generator=generator).to(target.device) for _ in range(size)]
    return model, ema, 0.999


def _pattern(model, ema, decay):
    for p, q in zip(model, ema):
        q.mul_(decay).add_(p, alpha=1 - decay)
    return ema


def _fix(model, ema, decay):
    import torch

    torch._foreach_mul_(ema, decay)
    torch._foreach_add_(ema, model, alpha=1 - decay)
    return ema


PerParameterUpdateLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(16, 161, 1_610),
    check_size=4,
    size_unit="parameter tensors of 4,096 float32 values (161: ResNet-50's count)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    mutates_inputs=True,
    timed=(
        "One EMA update of n float32 tensors of 4,096 values each, held in two lists: the pattern "
        "loops `q.mul_(decay).add_(p, alpha=1 - decay)` over the zipped lists, the fix calls "
        "`torch._foreach_mul_(ema, decay)` and `torch._foreach_add_(ema, model, alpha=1 - decay)` once "
        "each. Building the lists is not timed (the fix builds them once)."
    ),
)
