"""PFL213: one row of a tensor copied to the host per loop iteration."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import function_reads_host_tensors
from perflint.engine.imports import dotted_name
from perflint.engine.literals import integer_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

# ``.item()`` per element is PFL109's; this rule owns the row-sized transfers.
_TRANSFERS = {"tolist": "{t}.tolist()", "cpu": "{t}.cpu()", "numpy": "{t}.cpu().numpy()"}


class PerRowHostTransfer(Rule):
    """``for i in range(n): rows.append(t[i].tolist())``: a device→host copy per row."""

    code = "PFL213"
    name = "per-row-host-transfer"
    family = FAMILY
    summary = "Tensor rows copied to the host one per loop iteration (`.tolist()`, `.cpu()`, `.numpy()`)"
    message = (
        "`{call}` copies one row of `{tensor}` to the host per iteration (a transfer and a "
        "synchronisation each); convert it once before the loop (`rows = {whole}`) and index `rows`"
    )
    message_slice = (
        "`{call}` copies one slice of `{tensor}` to the host per iteration (a transfer and a "
        "synchronisation each); convert them all once before the loop (`steps = {whole}`) and index "
        "`steps[{index}]`"
    )
    fix_title = "Convert the whole tensor once before the loop and index the result"
    fix_safety = FIX_UNSAFE
    # Opt-in: 8 of its 12 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("torch",)
    reported_at = "the `.tolist()`, `.cpu()` or `.numpy()` call"

    what_it_does = (
        "Flags `t[i].tolist()`, `t[i].cpu()` and `t[i].numpy()` (also after same-library methods such as "
        "`t[i].detach().cpu()`) on every iteration of a loop over `i`, where `t` is a known torch tensor "
        "the loop does not write, and the same calls on the loop target of a loop or a comprehension "
        "over a known tensor (`for row in t: row.tolist()`, `[row.tolist() for row in t]`, `for box, "
        "label in zip(boxes, labels)`), on a slice of such a row (`t[i, :n].cpu()`, `row[:n].cpu()`), "
        "and on a name assigned such a row in the loop (`row = t[i]`). A slice along another axis "
        "selected by the loop target is reported too (one time step, `frame[0, :, t].tolist()`, other "
        "indices being slices or integer literals) when the loop runs over that axis (`for t in "
        "range(T)` with `T` read from `frame.shape` or `frame.size(2)`), advising one conversion "
        "with that axis moved first (`frame[0].movedim(1, 0).tolist()`)."
    )
    known_limitations = (
        "`.item()` is left to PFL109 (item-per-element), so one call is never reported twice. Left "
        "alone: calls under a condition that depends on the loop, tensors the loop writes, and functions "
        "compiled by numba, JAX, TorchScript, `torch.compile` or Cython.\n\n"
        "Not flagged: one element per iteration (`t[0, i]`, PFL109's); a slice along another axis in a "
        "loop not over that axis' length (a few dimensions named in a dict: botorch's bounds check); a "
        "row taken through an alias bound "
        "outside the loop, or through more than one name; a comprehension or `zip` target the loop "
        "rebinds."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 8 of its 12 findings were worth fixing "
        "and none was wrong. Where each iteration already waits many times (an `.item()` per point, whole "
        "evaluation episodes per candidate), one `.cpu()` per iteration is noise."
    )
    why_bad = (
        "Every `.tolist()`, `.cpu()` or `.numpy()` of a device tensor waits for the device to "
        "finish its queued work and then copies across the bus: a fixed latency of tens of "
        "microseconds per call, paid once per row. Converting the whole tensor once pays it "
        "once; on the CPU it still saves one Python-level call and a tensor view per row."
    )
    example = """\
import torch

def decode(ids: torch.Tensor, vocab: list) -> list:
    words = []
    for i in range(ids.shape[0]):
        words.append([vocab[t] for t in ids[i].tolist()])
    return words
"""
    use_instead = """\
import torch

def decode(ids: torch.Tensor, vocab: list) -> list:
    rows = ids.tolist()
    return [[vocab[t] for t in row] for row in rows]
"""
    fix_safety_note = (
        "Unsafe: converting the whole tensor gives the same rows, but holds all of them on the "
        "host at once; for a tensor larger than host memory, convert it in chunks instead."
    )

    VALID = (
        # .item() belongs to PFL109.
        """
        import torch
        def f(t: torch.Tensor):
            return [t[i].item() for i in range(len(t))]
        """,
        # Converted once before the loop.
        """
        import torch
        def f(t: torch.Tensor):
            rows = t.tolist()
            return [rows[i] for i in range(len(rows))]
        """,
        # The loop writes the tensor; and a transfer on some iterations only.
        """
        import torch
        def f(t: torch.Tensor, keep):
            out = []
            for i in range(len(t)):
                t[i] = t[i] * 2
                out.append(t[i].tolist())
            for i in range(len(t)):
                if keep[i]:
                    out.append(t[i].cpu())
            return out
        """,
        # Not a known tensor.
        """
        import torch
        def f(batch):
            return [batch[i].tolist() for i in range(len(batch))]
        """,
        # A row taken once before the loop (invariant, not one per iteration), and a `zip` of
        # lists.
        """
        import torch
        def f(t: torch.Tensor, names: list, ids: list):
            first = t[0]
            out = []
            for i in range(3):
                out.append(first.tolist())
            for name, row in zip(names, ids):
                out.append(row.tolist())
            return out
        """,
        # A column per entry of a dict of dimensions (a few, in a bounds check), not a loop over
        # the axis's length.
        """
        import torch
        def check(bounds: torch.Tensor, discrete_dims: dict):
            for dim, values in discrete_dims.items():
                lower, upper = bounds[:, dim].tolist()
                if lower != values[0]:
                    raise ValueError(dim)
        """,
        # One element per iteration (`.item()`'s business, PFL109), and an index that is no
        # loop target.
        """
        import torch
        def f(t: torch.Tensor, k: int):
            return [t[0, i].tolist() for i in range(3)] + [t[k, :].tolist() for _ in range(3)]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def decode(ids: torch.Tensor, vocab: list) -> list:
                words = []
                for i in range(ids.shape[0]):
                    words.append([vocab[t] for t in ids[i].tolist()])
                return words
            """,
            line=5,
            column=41,
        ),
        Invalid(
            """
            import torch
            def to_arrays(boxes: torch.Tensor):
                return [boxes[i].detach().cpu().numpy() for i in range(len(boxes))]
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            def rows(scores: torch.Tensor):
                out = []
                for row in scores:
                    out.append(row.tolist())
                return out
            """,
            line=5,
        ),
        # A comprehension over the tensor's rows.
        Invalid(
            """
            import torch
            def rows(scores: torch.Tensor):
                return [row.tolist() for row in scores]
            """,
            line=3,
        ),
        # A `zip` of tensors: each target is one row of its tensor.
        Invalid(
            """
            import torch
            def pairs(boxes: torch.Tensor, labels: torch.Tensor):
                out = []
                for box, label in zip(boxes, labels):
                    out.append((box.cpu().numpy(), int(label)))
                return out
            """,
            line=5,
        ),
        # The row rebound by the statement that converts it.
        Invalid(
            """
            import torch
            def results(detections: torch.Tensor):
                out = []
                for det in detections:
                    det = det.squeeze().tolist()
                    out.append(det[0])
                return out
            """,
            line=5,
        ),
        # A slice of a row, and a row through an alias made in the loop.
        Invalid(
            """
            import torch
            def trim(p: torch.Tensor, lengths: list):
                out = []
                for i in range(len(p)):
                    out.append(p[i, : lengths[i]].cpu())
                return out
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            def decode(ids: torch.Tensor):
                out = []
                for i in range(ids.shape[0]):
                    row = ids[i]
                    out.append(row.tolist())
                return out
            """,
            line=6,
        ),
        # One time step of a device tensor per iteration of the loop over that axis.
        Invalid(
            """
            import torch
            def compress(frame: torch.Tensor, coder):
                _, channels, steps = frame.shape
                for t in range(steps):
                    for value in frame[0, :, t].tolist():
                        coder.push(value)
            """,
            line=5,
        ),
        # The axis's length read with an index written in another base.
        Invalid(
            """
            import torch
            def encode(frame: torch.Tensor):
                out = []
                for t in range(frame.shape[0x2]):
                    out.append(frame[0, :, t].tolist())
                return out
            """,
            line=5,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in _TRANSFERS or node.args:
            return
        loop = self.context.innermost_loop
        if loop is None:
            return
        source = self._row_source(func.value)
        if source is None:
            return
        tensor = source.value if type(source) is cst.Subscript else source
        chain = dotted_name(tensor)
        if chain is None or loop.changes(chain) or not self.context.runs_every_iteration():
            return
        if self.context.in_compiled_code() or function_reads_host_tensors(self.context):
            return
        axis = _loop_axis(source, loop.targets) if isinstance(source, cst.Subscript) else None
        if isinstance(source, cst.Subscript) and axis is not None and axis != (0, 0):
            if not self._loops_over_axis(loop.node, chain, axis[0]):
                return
            message = self._slice_message(node, func.attr.value, source, axis, chain)
        else:
            message = self.message.format(
                call=quote(node), tensor=chain, whole=_TRANSFERS[func.attr.value].format(t=chain)
            )
        self.report(node, message)

    def _loops_over_axis(self, loop: cst.CSTNode, chain: str, position: int) -> bool:
        """``loop`` is ``for t in range(n)`` with ``n`` the length of axis ``position`` of the
        tensor ``chain``: ``chain.shape[position]``, ``chain.size(position)``, or a name bound to
        one of them or unpacked from ``chain.shape`` at that place (``_, K, T = frame.shape``)."""
        if not isinstance(loop, (cst.For, cst.CompFor)) or type(loop.iter) is not cst.Call or len(loop.iter.args) != 1:
            return False
        if not self.context.imports.is_builtin(loop.iter.func, "range"):
            return False
        bound = loop.iter.args[0].value
        if _axis_length(bound, chain) == position:
            return True
        if type(bound) is not cst.Name:
            return False
        assigned = value_of(bound, self.context)
        if assigned is not None:
            return _axis_length(assigned, chain) == position
        return _unpacked_from_shape(self.context.function, bound.value, chain) == position

    def _slice_message(
        self, node: cst.Call, method: str, source: cst.Subscript, axis: tuple[int, int], chain: str
    ) -> str:
        """The advice for one slice along another axis than the first (``frame[0, :, t]``): convert
        them all once, with that axis moved first (``frame[0].movedim(1, 0).tolist()``)."""
        position, moved = axis
        fixed = _fixed_part(source, position)
        whole = (
            cst.Call(
                cst.Attribute(fixed, cst.Name("movedim")),
                [cst.Arg(cst.Integer(str(moved))), cst.Arg(cst.Integer("0"))],
            )
            if moved
            else fixed
        )
        return self.message_slice.format(
            call=quote(node),
            tensor=chain,
            whole=_TRANSFERS[method].format(t=quote(whole)),
            index=quote(cst.ensure_type(source.slice[position].slice, cst.Index).value),
        )

    def _row_source(self, receiver: cst.BaseExpression) -> cst.BaseExpression | None:
        """Where ``receiver``'s row comes from: the subscript ``t[i]`` (or ``frame[0, :, t]``) with
        ``i`` a target of the innermost loop, or the tensor ``t`` of the loop target ``row`` of
        ``for row in t``."""
        while (
            type(receiver) is cst.Call
            and type(receiver.func) is cst.Attribute
            and receiver.func.attr.value in catalog.ARRAY_METHODS
            and receiver.func.attr.value not in _TRANSFERS
        ):
            receiver = receiver.func.value
        loop = self.context.innermost_loop
        if loop is None:
            return None
        receiver = _without_trailing_slices(receiver)
        if type(receiver) is cst.Name and receiver.value not in loop.targets:
            # An alias made in the loop: ``row = t[i]`` then ``row.cpu()``.
            bound = value_of(receiver, self.context)
            if bound is None or type(bound) is cst.Name:
                return None
            receiver = _without_trailing_slices(bound)
        if type(receiver) is cst.Subscript:
            if (
                _loop_axis(receiver, loop.targets) is not None
                and self.context.arrays.kind_of(receiver.value) == catalog.TORCH
            ):
                return receiver
            return None
        if type(receiver) is cst.Name and receiver.value in loop.targets:
            node = loop.node
            if type(node) is cst.For and type(node.target) is cst.Name:
                # ``for det in t: det = det.squeeze().tolist()``: the row is read before the
                # name is rebound, which ``element_of`` does not follow.
                return node.iter if self.context.arrays.kind_of(node.iter) == catalog.TORCH else None
            source = self.context.loops.element_of(receiver)
            if source is not None and self.context.arrays.kind_of(source) == catalog.TORCH:
                return source
        return None


def _loop_axis(subscript: cst.Subscript, targets) -> tuple[int, int] | None:
    """Where a loop target indexes ``subscript`` (``t`` of ``frame[0, :, t]``): its position
    among the subscript's elements and the axis it selects of what the other elements leave
    (2 and 1 here), when the target is the only element that changes (the others are slices or
    integer literals, slices only after it) and the result is more than one element. None
    otherwise."""
    found = None
    for position, element in enumerate(subscript.slice):
        part = element.slice
        if type(part) is cst.Index and type(part.value) is cst.Name and part.value.value in targets:
            if found is not None:
                return None
            axis = sum(type(before.slice) is cst.Slice for before in subscript.slice[:position])
            found = (position, axis)
        elif type(part) is cst.Index and type(part.value) is not cst.Integer:
            return None
        elif type(part) is not cst.Index and type(part) is not cst.Slice:
            return None
    if found is None or any(type(after.slice) is not cst.Slice for after in subscript.slice[found[0] + 1 :]):
        return None
    if found != (0, 0) and not any(type(element.slice) is cst.Slice for element in subscript.slice):
        # ``t[0, i]``: one element, not a slice (``.item()``'s, PFL109).
        return None
    return found


def _axis_length(expr: cst.BaseExpression, chain: str) -> int | None:
    """``k`` when ``expr`` is ``chain.shape[k]`` or ``chain.size(k)`` with a literal ``k`` >= 0."""
    if (
        type(expr) is cst.Subscript
        and type(expr.value) is cst.Attribute
        and expr.value.attr.value == "shape"
        and dotted_name(expr.value.value) == chain
        and len(expr.slice) == 1
        and type(expr.slice[0].slice) is cst.Index
    ):
        index = expr.slice[0].slice.value
    elif (
        type(expr) is cst.Call
        and type(expr.func) is cst.Attribute
        and expr.func.attr.value == "size"
        and dotted_name(expr.func.value) == chain
        and len(expr.args) == 1
    ):
        index = expr.args[0].value
    else:
        return None
    axis = integer_value(index)
    return axis if axis is not None and axis >= 0 else None


def _unpacked_from_shape(function, name: str, chain: str) -> int | None:
    """Where ``name`` stands in ``a, b, name = chain.shape`` in ``function`` (a ``FunctionFrame``
    or None), when such an assignment binds it; None otherwise."""
    if function is None:
        return None
    pending: list[cst.CSTNode] = [function.node.body]
    while pending:
        node = pending.pop()
        if type(node) is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Tuple:
            value = node.value
            if type(value) is cst.Attribute and value.attr.value == "shape" and dotted_name(value.value) == chain:
                elements = node.targets[0].target.elements
                for place, element in enumerate(elements):
                    if type(element) is cst.StarredElement:
                        return None
                    if type(element.value) is cst.Name and element.value.value == name:
                        return place
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(syntax_children(node))
    return None


def _fixed_part(subscript: cst.Subscript, position: int) -> cst.BaseExpression:
    """``frame[0]`` of ``frame[0, :, t]``: the subscript with the loop's index made a full slice
    and the full slices at its end dropped (the tensor itself when nothing is left)."""
    elements = list(subscript.slice)
    elements[position] = cst.SubscriptElement(cst.Slice(lower=None, upper=None))
    while elements and type(elements[-1].slice) is cst.Slice and _is_full(elements[-1].slice):
        elements.pop()
    if not elements:
        return subscript.value
    return cst.Subscript(
        subscript.value, [element.with_changes(comma=cst.MaybeSentinel.DEFAULT) for element in elements]
    )


def _is_full(part: cst.Slice) -> bool:
    return part.lower is None and part.upper is None and part.step is None


def _without_trailing_slices(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``row`` of ``row[:n]`` or ``row[1:, :k]``: a part of a row is still copied once per row."""
    while type(expr) is cst.Subscript and all(type(element.slice) is cst.Slice for element in expr.slice):
        expr = expr.value
    return expr


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    return (torch.randint(0, 1000, (size, 32), generator=generator).to(device),)


def _pattern(ids):
    return [ids[i].tolist() for i in range(ids.shape[0])]


def _fix(ids):
    rows = ids.tolist()
    return [rows[i] for i in range(len(rows))]


PerRowHostTransfer.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(256, 2048, 8192),
    check_size=4,
    size_unit="rows of 32 token ids",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "Reading an n x 32 int64 tensor of token ids row by row: `ids[i].tolist()` per row against one `ids.tolist()`."
    ),
)
