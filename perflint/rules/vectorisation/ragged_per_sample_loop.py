"""PFL118: a per-sample loop over a padded batch, slicing each sample to its own length."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.imports import dotted_name
from perflint.engine.literals import UNKNOWN, literal_value
from perflint.engine.quoting import quote
from perflint.engine.roles import Frequency, is_loss_name
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import mentions, nodes_in_scope, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# Reductions whose masked form is a reduction of the padded tensor over the length axis.
_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "amax", "amin", "norm", "std", "var", "prod", "logsumexp"})
# Methods between the slice and its reduction that keep it element by element.
_ELEMENTWISE_METHODS = frozenset({"to", "float", "double", "half", "detach", "abs", "pow", "exp", "log", "square"})
# Builtins a per-sample loop may call without being a per-sample model.
_HARMLESS_BUILTINS = frozenset({"int", "float", "len", "range", "min", "max", "abs", "print"})
_LOOP_TYPES = (cst.For, cst.ListComp, cst.GeneratorExp, cst.SetComp, cst.DictComp)


class RaggedPerSampleLoop(Rule):
    """``for i in range(B): loss += f(x[i, :lengths[i]])`` in ``forward`` or a loss."""

    code = "PFL118"
    name = "ragged-per-sample-loop"
    family = FAMILY
    summary = "Per-sample loop slicing each sequence of a padded batch to its length, in per-call code"
    message = (
        "`{loop}` slices one sample at a time to its length (`{slice}`) and {use}; build one "
        "length mask for the batch (`length_mask = torch.arange({tensor}.shape[{axis}], device={tensor}.device) "
        "< {bound}.reshape(-1, 1)`{along}) and {masked} instead of looping over the batch"
    )
    message_offsets = (
        "`{loop}` slices one segment at a time (`{slice}`, bounds from `{bound}`) and {use}; work on "
        "the flat tensor with segment operations instead (`torch.segment_reduce`, or `index_add_` "
        "over `torch.repeat_interleave(torch.arange(n), lengths)` segment ids)"
    )
    fix_title = "Use a length mask (or segment operations) over the whole batch"
    fix_safety = FIX_UNSAFE
    # Opt-in: 2 of its 4 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("range(",)
    paid_per_execution = True
    paid_in_the_interpreter = True
    reported_at = "the first per-sample slice of the loop"

    what_it_does = (
        "In per-call code (`forward`, `*_step`, `__call__` and other functions that run per "
        "batch, or a loop inside another loop), flags a loop `for i in range(...)` (or a "
        "comprehension over one) whose body slices a tensor to one sample's length, "
        "`t[i, :lengths[i]]` or `t[i][:lengths[i]]` (whole axes beside the cut allowed), or to "
        "one segment, `t[offsets[i]:offsets[i + 1]]`, and then reduces the slice (`.sum()`, "
        "`.mean()`, `.max()`…, possibly after `.float()` or `.to(...)`), passes it to a loss (a "
        "callable named like one: `self.mel_loss`, `criterion`, `F.mse_loss`), or writes a "
        "constant into it (`t[i, lengths[i]:] = 0`). The sliced tensor or the bounds must be "
        "known tensors (weak evidence accepted: a docstring type, a tensor-only argument), or "
        "the loop must be in a method of a torch module."
    )
    known_limitations = (
        "Left alone: autoregressive loops, whose body reads what an earlier iteration wrote (a "
        "state rebound and read, `h = cell(x[i, :n[i]], h)`, or a tensor written in the loop and "
        "read in it), except plain running totals (`loss = loss + …`, `loss += …`); loops that "
        "call a model or another callable of unknown kind per sample (a per-sample model on "
        "different shapes); loops in set-up code, or in functions with no evidence of running "
        "per call; slices kept whole (a list of sequences). A per-sample mean over each "
        "sample's own length becomes a masked sum divided by the lengths, and a loss must be "
        '`reduction="none"` and masked: the advice names the mask, not the whole rewrite; on '
        "any axis but 1 the mask must be reshaped to broadcast there. On the development set of "
        "this round it found 4 loops, all worth fixing (per-sample losses in two text-to-speech "
        "losses, masked means over microphones in two `forward`s): a small sample, so its "
        "precision rests on the held-out review."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 2 of its 4 findings were worth fixing "
        "and none was wrong. Over a few examples per batch with lengths on the host, the per-sample "
        "slices read the same bytes one masked reduction would; it pays in a per-step loss whose slice "
        "bounds are device tensors. "
        "Code that numba, JAX, TorchScript, `torch.compile` or Cython compiles is left alone: its loops do not run in the interpreter."
    )
    why_bad = (
        "Each iteration launches its own small kernels (a slice, a reduction, a loss) on one "
        "sample, and on a GPU `lengths[i]` used as a slice bound is a tensor read on the host: a "
        "synchronisation per sample. A boolean mask `arange(T) < lengths[:, None]` built once "
        'lets one masked reduction (or a loss with `reduction="none"` times the mask) cover the '
        "whole batch in a few kernels, whatever the batch size."
    )
    example = """\
import torch

class MaskedMSE(torch.nn.Module):
    def forward(self, pred, target, lengths):
        total = 0.0
        for i in range(pred.shape[0]):
            total = total + ((pred[i, : lengths[i]] - target[i, : lengths[i]]) ** 2).mean()
        return total / pred.shape[0]
"""
    use_instead = """\
import torch

class MaskedMSE(torch.nn.Module):
    def forward(self, pred, target, lengths):
        mask = torch.arange(pred.shape[1], device=pred.device) < lengths[:, None]
        per_sample = ((pred - target) ** 2 * mask).sum(1) / lengths
        return per_sample.mean()
"""
    fix_safety_note = (
        "No automatic fix: the masked form depends on which axis holds the length, on the "
        "reduction (a mean over each sample's own length divides by `lengths`, a maximum fills "
        "the padding with `-inf` first) and on the loss's own reduction, which must become "
        '`reduction="none"` before masking. The result is the same up to float rounding.'
    )

    VALID = (
        # Autoregressive: the state an iteration writes is read by the next.
        """
        import torch
        class Decoder(torch.nn.Module):
            def forward(self, x, lengths, h):
                for i in range(x.shape[0]):
                    h = torch.tanh(x[i, : lengths[i]].sum(0) + h)
                return h
        """,
        # A tensor written in the loop and read in it.
        """
        import torch
        class Smoother(torch.nn.Module):
            def forward(self, x, lengths, out):
                for i in range(1, x.shape[0]):
                    out[i] = x[i, : lengths[i]].mean() + out[i - 1]
                return out
        """,
        # A per-sample model on different shapes.
        """
        import torch
        class Encoder(torch.nn.Module):
            def forward(self, x, lengths):
                feats = []
                for i in range(x.shape[0]):
                    feats.append(self.rnn(x[i, : lengths[i]]).sum(0))
                return torch.stack(feats)
        """,
        # Set-up code, and a function with no evidence that it runs per call.
        """
        import torch
        def prepare(x: torch.Tensor, lengths: torch.Tensor):
            return [x[i, : lengths[i]].sum() for i in range(x.shape[0])]
        class Stats(torch.nn.Module):
            def __init__(self, x: torch.Tensor, lengths: torch.Tensor):
                super().__init__()
                self.totals = [x[i, : lengths[i]].sum() for i in range(x.shape[0])]
        """,
        # A slice kept whole (padding to a list of sequences), or a fixed bound.
        """
        import torch
        class Splitter(torch.nn.Module):
            def forward(self, x: torch.Tensor, lengths: torch.Tensor):
                parts = [x[i, : lengths[i]] for i in range(x.shape[0])]
                heads = [x[i, :4].sum() for i in range(x.shape[0])]
                return parts, heads
        """,
        # Values of unknown kind outside a torch module.
        """
        import torch
        def forward(rows, sizes):
            return [sum(rows[i, : sizes[i]]) for i in range(len(rows))]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            class FastSpeechLoss(torch.nn.Module):
                def forward(self, mel_out, mel_target, mel_length):
                    for i in range(mel_target.shape[0]):
                        if i == 0:
                            mel_loss = self.mel_loss(mel_out[i, : mel_length[i], :], mel_target[i, : mel_length[i], :])
                        else:
                            mel_loss = mel_loss + self.mel_loss(
                                mel_out[i, : mel_length[i], :], mel_target[i, : mel_length[i], :]
                            )
                    return mel_loss / mel_target.shape[0]
            """,
            line=6,
            column=42,
        ),
        Invalid(
            """
            import pytorch_lightning as pl
            import torch
            class Pooler(pl.LightningModule):
                def training_step(self, batch, batch_idx):
                    x, lengths = batch
                    pooled = torch.stack([x[b, : lengths[b]].float().mean(0) for b in range(x.shape[0])])
                    return pooled
            """,
            line=6,
        ),
        # The length on a later axis (microphones padded on axis 3).
        Invalid(
            """
            import torch
            class ChannelPool(torch.nn.Module):
                def forward(self, output, valid_mics):
                    means = [output[b, :, :, : valid_mics[b]].mean(2) for b in range(output.shape[0])]
                    return torch.stack(means)
            """,
            line=4,
        ),
        # Writing a constant into the padding.
        Invalid(
            """
            import torch
            class Masker(torch.nn.Module):
                def forward(self, scores: torch.Tensor, lengths):
                    for i in range(scores.size(0)):
                        scores[i, lengths[i]:] = float("-inf")
                    return scores.softmax(-1)
            """,
            line=5,
        ),
        # Writing a constant into each sample's first positions: the mask itself, not its
        # complement, selects them (a masked-patch pre-training mask, lengths on the device).
        Invalid(
            """
            import torch
            class Masking(torch.nn.Module):
                def forward(self, x: torch.Tensor, len_keep: torch.Tensor):
                    mask = torch.zeros(x.shape[0], x.shape[1], device=x.device)
                    for i in range(x.shape[0]):
                        mask[i, : len_keep[i]] = 1
                    return mask
            """,
            line=6,
        ),
        # Segments of a flat tensor, bounded by offsets.
        Invalid(
            """
            import torch
            def forward(values: torch.Tensor, offsets: torch.Tensor):
                out = []
                for i in range(len(offsets) - 1):
                    out.append(values[offsets[i] : offsets[i + 1]].sum())
                return torch.stack(out)
            """,
            line=5,
        ),
        # A per-sample loss in a helper's loop, inside a training loop.
        Invalid(
            """
            import torch
            import torch.nn.functional as F
            def fit(model, loader, optimizer):
                for x, y, lengths in loader:
                    out: torch.Tensor = model(x)
                    loss = 0
                    for i in range(out.shape[0]):
                        loss += F.mse_loss(out[i, : lengths[i]], y[i, : lengths[i]])
                    loss.backward()
                    optimizer.step()
            """,
            line=8,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Loops whose per-call evidence was seen on entering them, and loops already reported.
        self._repeated_loops: set[int] = set()
        self._reported_loops: set[int] = set()
        self._autoregressive: dict[int, bool] = {}

    def _enter_loop(self, node: cst.CSTNode) -> None:
        # Only a loop over ``range`` can be reported: the cheap question first.
        if _range_target(node, self.context) is not None and self.context.frequency().frequency in (
            Frequency.PER_CALL,
            Frequency.HOT,
        ):
            self._repeated_loops.add(id(node))

    def visit_For(self, node: cst.For) -> None:
        self._enter_loop(node)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._enter_loop(node)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._enter_loop(node)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        frame = self.context.loops.innermost
        if frame is None or not isinstance(frame.node, _LOOP_TYPES) or id(frame.node) not in self._repeated_loops:
            return
        if id(frame.node) in self._reported_loops:
            return
        index = _range_target(frame.node, self.context)
        if index is None:
            return
        ragged = _ragged_slice(node, index, self.context)
        if ragged is None:
            return
        tensor, bound, axis = ragged
        use = self._use_of(node)
        if use is None or not self._tensor_evidence(tensor, bound):
            return
        if self._is_autoregressive(frame.node) or self._calls_a_model(frame.node):
            return
        self._reported_loops.add(id(frame.node))
        clause = _for_clause(frame.node)
        if clause is None:
            return
        loop = f"for {quote(clause[0])} in {quote(clause[1])}"
        if axis is None:
            message = self.message_offsets.format(loop=loop, slice=quote(node), bound=quote(bound), use=use[0])
        else:
            message = self.message.format(
                loop=loop,
                slice=quote(node),
                use=use[0],
                tensor=quote(tensor),
                axis=axis,
                along="" if axis == 1 else f", reshaped to broadcast along axis {axis}",
                bound=quote(bound),
                masked=use[1],
            )
        self.report(node, message)

    def _use_of(self, node: cst.Subscript) -> tuple[str, str] | None:
        """What the loop does with the slice, and what to do with the mask instead: reduces it,
        passes it to a loss, or writes a constant into it; None for anything else."""
        path = self.context.path_to(node)
        depth = len(path) - 1
        if depth >= 1:
            parent = path[depth - 1]
            if type(parent) is cst.AssignTarget and parent.target is node:
                assignment = path[depth - 2]
                if type(assignment) is cst.Assign and _is_constant(assignment.value, self.context):
                    where = "length_mask" if _cuts_to_length(node) else "~length_mask"
                    filled = f"{quote(_sliced(node))}.masked_fill_({where}, {quote(assignment.value)})"
                    return "writes a constant into it", f"fill with it (`{filled}`)"
                return None
        value: cst.CSTNode = node
        while depth >= 2:
            parent, grandparent = path[depth - 1], path[depth - 2]
            if type(parent) is cst.Attribute and parent.value is value and type(grandparent) is cst.Call:
                method = parent.attr.value
                if method in _REDUCTIONS:
                    return f"reduces it (`.{method}()`)", "reduce the masked batch in one call"
                if method not in _ELEMENTWISE_METHODS:
                    return None
                value, depth = grandparent, depth - 2
                continue
            if type(parent) is cst.Arg and type(grandparent) is cst.Call:
                return self._call_use(grandparent)
            if type(parent) in (cst.BinaryOperation, cst.UnaryOperation):
                value, depth = parent, depth - 1
                continue
            return None
        return None

    def _call_use(self, call: cst.Call) -> tuple[str, str] | None:
        qualified = self.context.imports.qualified_name(call.func)
        name = qualified or dotted_name(call.func)
        if name is None:
            return None
        if name in ("torch.sum", "torch.mean", "torch.amax", "torch.amin", "torch.logsumexp"):
            return f"reduces it (`{name}`)", "reduce the masked batch in one call"
        if is_loss_name(name):
            return (
                f"passes it to a loss (`{quote(call.func)}`)",
                'take the loss once with `reduction="none"` and weight it by the mask',
            )
        return None

    def _tensor_evidence(self, tensor: cst.BaseExpression, bound: cst.BaseExpression) -> bool:
        arrays = self.context.arrays
        if catalog.TORCH in (arrays.kind_of(tensor, Evidence.WEAK), arrays.kind_of(bound, Evidence.WEAK)):
            return True
        frame = self.context.functions.current
        while frame is not None and frame.parent is not None:
            frame = frame.parent
        return frame is not None and frame.class_frame is not None and frame.class_frame.is_module_subclass

    def _is_autoregressive(self, loop: cst.CSTNode) -> bool:
        if id(loop) not in self._autoregressive:
            self._autoregressive[id(loop)] = _carries_state(loop)
        return self._autoregressive[id(loop)]

    def _calls_a_model(self, loop: cst.CSTNode) -> bool:
        """The loop calls something of unknown kind per sample (a model, a module attribute of
        ``self`` not named as a loss, a local callable): a per-sample model on different shapes."""
        imports = self.context.imports
        for node in nodes_in_scope(*_repeated_parts(loop)):
            if type(node) is cst.Call:
                func = node.func
                name = dotted_name(func)
                if imports.qualified_name(func) is None and name is not None and not is_loss_name(name):
                    if (
                        type(func) is cst.Name
                        and func.value in _HARMLESS_BUILTINS
                        and imports.is_builtin(func, func.value)
                    ):
                        pass
                    elif type(func) is cst.Name or name.startswith("self."):
                        return True
        return False


def _repeated_parts(loop: cst.CSTNode) -> list[cst.CSTNode]:
    if isinstance(loop, cst.For):
        return [loop.body]
    if not isinstance(loop, (cst.ListComp, cst.GeneratorExp)):
        return []
    parts: list[cst.CSTNode] = [loop.elt]
    parts.extend(condition.test for condition in loop.for_in.ifs)
    return parts


def _for_clause(loop: cst.CSTNode) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """The target and iterable of a ``for`` loop or of a comprehension's only ``for``."""
    if isinstance(loop, cst.For):
        return loop.target, loop.iter
    if isinstance(loop, (cst.ListComp, cst.GeneratorExp)) and loop.for_in.inner_for_in is None:
        return loop.for_in.target, loop.for_in.iter
    return None


def _range_target(loop: cst.CSTNode, context) -> str | None:
    """``i`` of ``for i in range(...)`` (or a comprehension's only ``for`` over one)."""
    clause = _for_clause(loop)
    if clause is None:
        return None
    target, iterable = clause
    if not isinstance(target, cst.Name) or not isinstance(iterable, cst.Call):
        return None
    func = iterable.func
    if not isinstance(func, cst.Name) or func.value != "range" or not context.imports.is_builtin(func, "range"):
        return None
    return target.value


def _indexed_by(expr: cst.BaseExpression | None, index: str, context) -> cst.BaseExpression | None:
    """The tensor of bounds ``expr`` reads at ``index``: ``lengths`` of ``lengths[i]``,
    ``offsets[i + 1]``, ``int(lengths[i])``, ``lengths[i].item()``, or a name bound to one;
    None otherwise."""
    if type(expr) is cst.Name:
        expr = value_of(expr, context)
    if expr is None:
        return None
    if type(expr) is cst.Call and len(expr.args) == 1 and type(expr.func) is cst.Name and expr.func.value == "int":
        expr = expr.args[0].value
    if type(expr) is cst.Call and not expr.args and type(expr.func) is cst.Attribute and expr.func.attr.value == "item":
        expr = expr.func.value
    if type(expr) is not cst.Subscript or len(expr.slice) != 1 or type(expr.slice[0].slice) is not cst.Index:
        return None
    position = expr.slice[0].slice.value
    if not mentions(position, index) or mentions(expr.value, index):
        return None
    if type(position) is cst.Name or (type(position) is cst.BinaryOperation and mentions(position.left, index)):
        return expr.value
    return None


def _ragged_slice(
    node: cst.Subscript, index: str, context
) -> tuple[cst.BaseExpression, cst.BaseExpression, int | None] | None:
    """(the tensor, the tensor of bounds, the axis cut, None for offsets) when ``node`` cuts one
    sample to its length (``t[i, :n[i]]``, ``t[i][:n[i]]``) or one segment
    (``t[off[i]:off[i + 1]]``); None otherwise."""
    elements = node.slice
    slices = [element.slice for element in elements if type(element.slice) is cst.Slice]
    indices = [element.slice for element in elements if type(element.slice) is cst.Index]
    # Whole axes (``t[i, :n[i], :]``) keep every element: one bounded cut is the sample's.
    cuts = [cut for cut in slices if cut.lower is not None or cut.upper is not None or cut.step is not None]
    if len(cuts) != 1:
        return None
    cut = cuts[0]
    axis = next(position for position, element in enumerate(elements) if element.slice is cut)
    lower, upper = _indexed_by(cut.lower, index, context), _indexed_by(cut.upper, index, context)
    bound = upper or lower
    if bound is None:
        return None
    by_sample = any(type(position.value) is cst.Name and position.value.value == index for position in indices)
    tensor = node.value
    if not by_sample and type(tensor) is cst.Subscript and not indices:
        inner = tensor.slice
        if len(inner) == 1 and type(inner[0].slice) is cst.Index:
            position = inner[0].slice.value
            if type(position) is cst.Name and position.value == index:
                return tensor.value, bound, axis + 1
    if by_sample:
        return tensor, bound, axis
    if not indices and lower is not None and upper is not None and dotted_name(lower) == dotted_name(upper):
        return tensor, bound, None
    return None


def _sliced(node: cst.Subscript) -> cst.BaseExpression:
    """The whole tensor ``node`` slices: ``t`` of ``t[i, n[i]:]`` and of ``t[i][n[i]:]``."""
    tensor = node.value
    return tensor.value if type(tensor) is cst.Subscript and len(node.slice) == 1 else tensor


def _cuts_to_length(node: cst.Subscript) -> bool:
    """``node`` keeps each sample's first ``n[i]`` positions (``t[i, :n[i]]``), which a length
    mask selects; otherwise it keeps the padding after them (``t[i, n[i]:]``), its complement."""
    cut = next(element.slice for element in node.slice if type(element.slice) is cst.Slice)
    return cut.lower is None


def _is_constant(value: cst.BaseExpression, context) -> bool:
    """A number, ``float("-inf")``, ``-math.inf``, ``torch.finfo(x.dtype).min``."""
    if type(value) is cst.UnaryOperation:
        value = value.expression
    if literal_value(value) is not UNKNOWN:
        return True
    if type(value) is cst.Call and type(value.func) is cst.Name and value.func.value == "float":
        return len(value.args) == 1 and literal_value(value.args[0].value) is not UNKNOWN
    qualified = context.imports.qualified_name(value)
    return qualified is not None and qualified.rsplit(".", 1)[-1] in ("inf", "nan")


def _carries_state(loop: cst.CSTNode) -> bool:
    """The loop's body reads what an earlier iteration wrote: a name it rebinds, read before
    the iteration binds it, other than in a running total (``loss = loss + …``, ``loss += …``);
    or a tensor it writes into (``out[i] = …``) and reads."""
    if type(loop) is not cst.For:
        return False
    rebound, written = _assigned(loop.body)
    bound_so_far: set[str] = set()
    carried = False

    def walk(node: cst.CSTNode, statement: cst.CSTNode | None) -> None:
        nonlocal carried
        if carried or isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        if isinstance(node, cst.BaseSmallStatement):
            statement = node
        if isinstance(node, (cst.Assign, cst.AugAssign)):
            targets = [target.target for target in node.targets] if isinstance(node, cst.Assign) else [node.target]
            walk(node.value, statement)
            for target in targets:
                if type(target) is cst.Subscript:
                    for element in target.slice:
                        walk(element, statement)
                elif type(target) is cst.Name:
                    bound_so_far.add(target.value)
            return
        if isinstance(node, cst.Attribute):
            walk(node.value, statement)
            return
        if isinstance(node, cst.Name):
            name = node.value
            if name in written or (
                name in rebound and name not in bound_so_far and not _running_total(statement, name)
            ):
                carried = True
            return
        for child in syntax_children(node):
            walk(child, statement)

    walk(loop.body, None)
    return carried


def _assigned(body: cst.CSTNode) -> tuple[set[str], set[str]]:
    """The names ``body`` binds, and the tensors it writes items of (``out`` of ``out[i] = …``)."""
    names: set[str] = set()
    written: set[str] = set()
    for node in nodes_in_scope(body):
        if isinstance(node, (cst.Assign, cst.AugAssign)):
            targets = [target.target for target in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Name):
                    names.add(target.value)
                elif isinstance(target, cst.Subscript):
                    chain = dotted_name(target.value)
                    if chain is not None:
                        written.add(chain)
    return names, written


def _running_total(statement: cst.CSTNode | None, name: str) -> bool:
    """``statement`` adds to ``name`` and reads it nowhere else: ``name += x``, ``name = name
    + x``."""
    if type(statement) is cst.AugAssign:
        return (
            type(statement.target) is cst.Name
            and statement.target.value == name
            and not mentions(statement.value, name)
        )
    if type(statement) is cst.Assign and len(statement.targets) == 1:
        target, value = statement.targets[0].target, statement.value
        return (
            type(target) is cst.Name
            and target.value == name
            and type(value) is cst.BinaryOperation
            and type(value.left) is cst.Name
            and value.left.value == name
            and not mentions(value.right, name)
        )
    return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    generator = torch.Generator().manual_seed(0)
    x = torch.rand(size, 256, 64, generator=generator)
    lengths = torch.randint(1, 257, (size,), generator=generator)
    return x.to(target.device), lengths.to(target.device)


def _pattern(x, lengths):
    import torch

    pooled = []
    for i in range(x.shape[0]):
        pooled.append(x[i, : lengths[i]].mean(0))
    return torch.stack(pooled)


def _fix(x, lengths):
    import torch

    mask = torch.arange(x.shape[1], device=x.device) < lengths[:, None]
    return (x * mask[..., None]).sum(1) / lengths[:, None]


RaggedPerSampleLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 32, 128),
    check_size=4,
    size_unit="sequences in the batch (padded to 256 steps of 64 features)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "Mean-pooling each sequence of a padded float32 batch over its own length (between 1 and "
        "256 steps of 64 features): a loop over the batch taking `x[i, :lengths[i]].mean(0)` "
        "against one length mask, a masked sum and a division by the lengths."
    ),
)
