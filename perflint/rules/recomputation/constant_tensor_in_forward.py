"""PFL407: a mask or position table rebuilt from constants on every forward pass."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import reads_a_batch_size
from perflint.engine.walker import syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

# Methods that run on every call of a model (``__call__`` as attention processors use it).
_PER_CALL_METHODS = frozenset({"forward", "__call__"})


# Nodes that compute on their operands, and nodes whose body is not evaluated in place.
_OPERATIONS = frozenset({cst.BinaryOperation, cst.UnaryOperation, cst.Comparison})
_NESTED_SCOPES = frozenset({cst.Lambda, cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp})


class ConstantTensorInForward(Rule):
    """A tensor computed from constants, shapes and ``self`` alone, inside ``forward``."""

    code = "PFL407"
    name = "constant-tensor-in-forward"
    family = FAMILY
    summary = "Mask or position table rebuilt from constants and shapes on every forward call"
    message = (
        "`{name}` is computed from constants and shapes only, on every call of `{method}`; "
        "register it as a buffer in `__init__` (at the largest size, sliced here) or cache it by shape"
    )
    message_by_shape = (
        "`{name}` is computed from constants and shapes only, on every call of `{method}`; its size "
        "is the batch size, unknown in `__init__`: cache it by shape (and device)"
    )
    fix_title = "Build it once: `self.register_buffer(...)` at construction, sliced in `forward`"
    fix_safety = FIX_UNSAFE
    default_enabled = False
    required_text = ("torch",)
    reported_at = "the assigned expression"

    what_it_does = (
        "Flags, in a `forward` method (or the `__call__` of a class, as attention processors use), an"
        " assignment `name = <expr>` that runs on every call and whose value is a computation on a "
        "torch factory's result — `torch.tril(torch.ones(T, T))`, `1.0 / 10000 ** (torch.arange(0, d,"
        " 2) / d)`, `torch.outer(torch.arange(T), freqs)`: a torch function other than a factory, or "
        "arithmetic, applied to it — where `<expr>` depends on the inputs at most through their "
        "shapes, types and devices (`x.size(1)`, `x.device`), and otherwise only on constants, "
        "attributes of `self` and module-level names."
    )
    known_limitations = (
        "Left alone: a bare factory (`torch.zeros(B, H)` for a fresh state), a value that reads an "
        "input's values or a trainable parameter's (`self.scale = nn.Parameter(...)`, which the "
        "optimizer changes between calls and whose gradient the value carries), code under a "
        "condition (often the cache-by-shape fix itself), an assignment "
        "to an attribute (a cache), and the same code in `__init__`. Off by default (opt-in): on real"
        " models the tensors it finds are mostly 1-D frequency vectors of a few hundred elements, "
        "whose rebuild costs microseconds per call; the linter cannot tell them from a T×T mask "
        "without knowing the sizes."
    )
    why_bad = (
        "The tensor is the same for every call with the same shapes, yet each forward pass "
        "allocates it and runs its kernels again — for a T×T mask, T² elements per call and "
        "per layer that builds it; on a GPU, extra kernel launches in the hot path."
    )
    example = """\
import torch

class CausalAttention(torch.nn.Module):
    def forward(self, x):
        T = x.size(1)
        mask = torch.tril(torch.ones(T, T, device=x.device, dtype=torch.bool))
        return self.attend(x, mask)
"""
    use_instead = """\
import torch

class CausalAttention(torch.nn.Module):
    def __init__(self, max_len):
        super().__init__()
        self.register_buffer("mask", torch.tril(torch.ones(max_len, max_len, dtype=torch.bool)))

    def forward(self, x):
        T = x.size(1)
        return self.attend(x, self.mask[:T, :T])
"""
    fix_safety_note = (
        "Unsafe: a buffer registered at a maximum size limits the sequence length, is saved in "
        "the state dict (pass `persistent=False` to keep it out) and follows the module's "
        "`.to()`; a cache by shape must also key on device and dtype."
    )

    VALID = (
        # Computed from a trainable parameter (deepchem's `Affine` flow): the optimizer changes
        # `self.scale` between calls, and the gradient flows through the value to it.
        """
        import torch
        from torch import nn
        class Affine(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.scale = nn.Parameter(torch.zeros(dim))
            def forward(self, x):
                y = torch.exp(self.scale) * x
                log_det_jacobian = torch.ones(y.shape[0]) * torch.log(torch.exp(self.scale.sum()))
                return y, log_det_jacobian
        """,
        # A bare factory for a fresh state, and the same mask built in __init__.
        """
        import torch
        class RNN(torch.nn.Module):
            def __init__(self, n):
                super().__init__()
                self.register_buffer("mask", torch.tril(torch.ones(n, n)))
            def forward(self, x):
                h = torch.zeros(x.size(0), self.hidden, device=x.device)
                return self.cell(x, h)
        """,
        # Reads the input's values, not only its shape.
        """
        import torch
        class Net(torch.nn.Module):
            def forward(self, x, lengths):
                mask = torch.arange(x.size(1), device=x.device)[None, :] < lengths[:, None]
                return x * mask
        """,
        # Cached by shape under a condition, into an attribute.
        """
        import torch
        class Attention(torch.nn.Module):
            def forward(self, x):
                T = x.size(1)
                if self.cached is None or self.cached.size(0) < T:
                    self.cached = torch.triu(torch.ones(T, T, device=x.device), 1)
                return self.attend(x, self.cached[:T, :T])
        """,
        # Not a forward method.
        """
        import torch
        def make_mask(T):
            return torch.tril(torch.ones(T, T))
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            class CausalAttention(torch.nn.Module):
                def forward(self, x):
                    T = x.size(1)
                    mask = torch.tril(torch.ones(T, T, device=x.device, dtype=torch.bool))
                    return self.attend(x, mask)
            """,
            line=5,
            column=16,
        ),
        # Sized by the batch (pytorch_adapt's IST loss): no buffer can be made at the largest
        # size in `__init__`, so the advice is a cache by shape.
        Invalid(
            """
            import torch
            class ISTLoss(torch.nn.Module):
                def forward(self, x, y):
                    n = x.shape[0]
                    mask = ~torch.eye(n, dtype=torch.bool)
                    return self.distance(x)[mask].view(n, n - 1)
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            class Rotary(torch.nn.Module):
                def forward(self, q):
                    inv_freq = 1.0 / (10000 ** (torch.arange(0, self.dim, 2).float() / self.dim))
                    return q * inv_freq
            """,
            line=4,
        ),
        Invalid(
            """
            import math
            import torch
            class Processor:
                def __call__(self, attn, hidden_states):
                    n = hidden_states.shape[1]
                    pos = torch.arange(n, dtype=torch.float32)
                    table = torch.sin(pos[:, None] * torch.exp(torch.arange(0, 64, 2) * (-math.log(10000.0) / 64)))
                    return hidden_states + table
            """,
            line=7,
        ),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        function = self.context.function
        if (
            function is None
            or not function.is_method
            or function.name not in _PER_CALL_METHODS
            or self.context.innermost_loop is not None
            or self.context.loops.is_conditional()
        ):
            return
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        value = node.value
        if not self._computes_on_a_factory(value):
            return
        if self.context.functions.depends_only_on_shapes(value):
            # A batch size is unknown in `__init__`: no buffer can be made there at the largest size.
            message = self.message_by_shape if reads_a_batch_size(value, self.context) else self.message
            self.report(value, message.format(name=node.targets[0].target.value, method=function.name))

    def _computes_on_a_factory(self, expr: cst.BaseExpression) -> bool:
        """Somewhere in ``expr`` a torch function other than a factory, or an arithmetic
        operator, takes a value built by a torch factory written in ``expr`` itself."""
        stack: list[tuple[cst.CSTNode, bool]] = [(expr, False)]
        while stack:
            node, computed_on = stack.pop()
            node_type = type(node)
            if node_type in _OPERATIONS:
                computed_on = True
            elif isinstance(node, cst.Call):
                qualified = self.context.imports.qualified_name(node.func)
                if qualified is not None and catalog.library_of(qualified) == catalog.TORCH:
                    if qualified in catalog.FACTORIES:
                        if computed_on:
                            return True
                    else:
                        computed_on = True
            if node_type in _NESTED_SCOPES:
                continue
            stack.extend((child, computed_on) for child in syntax_children(node))
        return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    inputs = [torch.randn(4, size, 64, device=target.device) for _ in range(10)]
    return inputs, torch.tril(torch.ones(size, size, dtype=torch.bool, device=target.device))


def _pattern(inputs, buffer):
    import torch

    outputs = []
    for x in inputs:
        T = x.size(1)
        mask = torch.tril(torch.ones(T, T, dtype=torch.bool, device=x.device))
        outputs.append((x[:, :, 0:1] * mask).sum(1))
    return torch.cat(outputs)


def _fix(inputs, buffer):
    import torch

    outputs = []
    for x in inputs:
        T = x.size(1)
        outputs.append((x[:, :, 0:1] * buffer[:T, :T]).sum(1))
    return torch.cat(outputs)


ConstantTensorInForward.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(64, 256, 1_024),
    check_size=8,
    size_unit="sequence length T (a T×T causal mask, 10 forward calls, batch 4)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "10 forward calls on a batch of 4 sequences of length T = n: a T x T causal mask built with "
        "`torch.tril(torch.ones(...))` on every call against slicing a buffer built once."
    ),
)
