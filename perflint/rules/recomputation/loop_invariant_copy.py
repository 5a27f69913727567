"""PFL406: the same array copied or converted again on every iteration of a loop."""

from __future__ import annotations

from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, hoist, name_for
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY


class LoopInvariantCopy(Rule):
    """A copy or conversion of a loop-invariant array, used only within the iteration."""

    code = "PFL406"
    name = "loop-invariant-copy"
    family = FAMILY
    summary = "Copy or conversion of a loop-invariant array repeated on every iteration"
    message = "`{copy}` copies the same array on every iteration; make the copy once before the loop"
    fix_title = "Hoist the copy above the loop and reuse it"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its 2 findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    autofix = True
    required_text = ("numpy", "torch")
    reported_at = "the copying call"

    what_it_does = (
        "Flags, inside a loop or comprehension, a copy or conversion that always copies — `.copy()`, "
        "`.T.copy()`, `.astype(...)`, `.clone()`, `np.array(X)`, `np.copy(X)` — of a known NumPy "
        "array or torch tensor that the loop does not change, with loop-invariant arguments, run on "
        "every iteration, whose result is only read in the iteration: an operand of arithmetic, the "
        "receiver of a method that does not mutate it, the argument of a side-effect-free library "
        "function, an indexed part of it (`np.array(x)[window]`), or a name bound to the copy that "
        "the loop neither changes nor keeps."
    )
    known_limitations = (
        "Left alone: a copy that is stored (appended, yielded, returned, put in a container, assigned"
        " elsewhere) or changed in the iteration (`x = x0.copy(); x[i] += eps`), where distinct "
        "copies are the point; a copy passed to an unknown function, which may keep it; `astype(..., "
        "copy=False)`; conversions that return the array itself when it already has the type or "
        "layout asked for (`.float()`, `.half()`, `.double()`, `.contiguous()`, "
        "`np.ascontiguousarray`), since the linter cannot see whether they copy; and device moves, "
        "which are PFL2xx's."
        " Opt-in since round 11 of the precision review: neither of its 2 findings on code it had not "
        "been tuned on was worth fixing. batchgenerators copies a 2- or 3-element shape beside a "
        "meshgrid of the whole patch; quantus copies a 15×15 kernel, 1–2% of an iteration whose cost "
        "is a copy of the whole padded input on the same line, which the rule does not name. At 90% "
        "precision a record of 0 worth fixing in 2 reads happens 1 time in 100, below round 11's 5% "
        "criterion (`python benchmarks/track_record.py decide "
        "benchmarks/results/precision/round5/track_verdicts.csv`). Worth it where the copied array is "
        "large beside the work of the iteration."
    )
    why_bad = (
        "Each copy allocates and writes the whole array: for a 10⁶-element array, a "
        "megabyte-scale memory pass per iteration that produces the same values every time."
    )
    example = """\
import numpy as np

def scores(weights: np.ndarray, batches):
    return [batch @ weights.astype(np.float32) for batch in batches]
"""
    use_instead = """\
import numpy as np

def scores(weights: np.ndarray, batches):
    weights32 = weights.astype(np.float32)
    return [batch @ weights32 for batch in batches]
"""
    fix_safety_note = (
        "The fix makes the copy once, as a new name made of its words "
        "(`weights_astype_float32 = weights.astype(np.float32)`) right above the loop, or above "
        "the statement holding the comprehension, and reads that name where the copy was made. "
        "It is unsafe: every iteration now shares one copy where each had its own, which gives "
        "the same results only while no iteration changes it or keeps it; and the copy is made "
        "also when the loop runs no iteration (an error in it, a wrong dtype, is then raised "
        "where the loop would not have run). So the fix is offered only where the loop visibly "
        "just reads the copy: an operand of arithmetic or a comparison, perhaps through "
        "attributes, items or methods that do not mutate, or a name bound to it that the loop "
        "only reads so. A copy passed to a function (which may change or keep it), bound to a "
        "view that may be written (`row = base[0]; row += x`), changed in place or stored gets "
        "no fix."
    )

    VALID = (
        # Finite differences: each iteration changes its own copy.
        """
        import numpy as np
        def gradient(f, x0: np.ndarray, eps):
            grad = np.zeros_like(x0)
            for i in range(x0.size):
                x = x0.copy()
                x[i] += eps
                grad[i] = (f(x) - f(x0)) / eps
            return grad
        """,
        # Snapshots: the copies are stored, so they must be distinct.
        """
        import torch
        def track(model, w: torch.Tensor, steps):
            history = []
            for _ in range(steps):
                history.append(w.clone())
                snapshot = w.clone()
                yield snapshot
        """,
        # The array changes in the loop, or the copy goes to a function that may keep it.
        """
        import numpy as np
        state = np.zeros(10)
        for t in range(T):
            state = step(state)
            frame = state.copy()
            quote(frame)
        weights = np.ones(10)
        for batch in batches:
            model.fit(batch, weights.copy())
        """,
        # Not a known array, a copy that may be a no-op by request, and conversions that copy
        # only when the tensor is not float32 or contiguous already.
        """
        import numpy as np
        import torch
        def f(table: np.ndarray, t: torch.Tensor, xs):
            for x in xs:
                y = config.copy()
                z = np.asarray(table).astype(np.float32, copy=False) + x
                w = t.float() * x + t.contiguous().sum()
        """,
        # An item of the copy written: a hoisted copy would keep each iteration's writes.
        """
        import numpy as np
        def clear(x: np.ndarray, windows):
            for window in windows:
                np.array(x)[window] = 0
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def scores(weights: np.ndarray, batches):
                return [batch @ weights.astype(np.float32) for batch in batches]
            """,
            line=3,
            column=21,
            fixed="""
            import numpy as np
            def scores(weights: np.ndarray, batches):
                weights_astype_float32 = weights.astype(np.float32)
                return [batch @ weights_astype_float32 for batch in batches]
            """,
        ),
        Invalid(
            """
            import torch
            def run(template: torch.Tensor, inputs):
                for x in inputs:
                    base = template.clone()
                    out = (base * x).sum()
            """,
            line=4,
            fixed="""
            import torch
            def run(template: torch.Tensor, inputs):
                template_clone = template.clone()
                for x in inputs:
                    base = template_clone
                    out = (base * x).sum()
            """,
        ),
        Invalid(
            """
            import numpy as np
            X = np.random.rand(100, 10)
            for w in ws:
                r = np.dot(np.array(X.T), w)
            """,
            line=4,
            # Passed to a function: whether it changes or keeps the copy is not visible here.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def f(mask: torch.Tensor, xs):
                return [x.masked_fill(mask.clone() > 0.5, 0.0) for x in xs]
            """,
            line=3,
            fixed="""
            import torch
            def f(mask: torch.Tensor, xs):
                mask_clone = mask.clone()
                return [x.masked_fill(mask_clone > 0.5, 0.0) for x in xs]
            """,
        ),
        # The iteration writes into its copy through a view: one shared copy would carry each
        # iteration's writes into the next.
        Invalid(
            """
            import numpy as np
            def shifted_totals(x0: np.ndarray, steps):
                totals = []
                for eps in steps:
                    x = x0.copy()
                    head = x[:1]
                    head += eps
                    totals.append(float(x.sum() * 2))
                return totals
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # A multi-line conversion under an alias, several uses of the copy, a comment kept.
        Invalid(
            """
            import torch as th
            def energies(states: th.Tensor, fields):
                out = []
                for field in fields:  # one field at a time
                    s = states.clone(
                        memory_format=th.contiguous_format,
                    )
                    out.append(float((s * field).sum() - s.mean()))
                return out
            """,
            line=5,
            fixed="""
            import torch as th
            def energies(states: th.Tensor, fields):
                out = []
                states_clone_contiguous_format = states.clone(
                    memory_format=th.contiguous_format,
                )
                for field in fields:  # one field at a time
                    s = states_clone_contiguous_format
                    out.append(float((s * field).sum() - s.mean()))
                return out
            """,
        ),
        # A part of the copy read (quantus's `blur_at_indices`, whose padded input is annotated
        # `np.array`, a misspelling of `np.ndarray`): the whole input is copied for one window.
        Invalid(
            """
            import numpy as np
            def blur(x: np.array, kernel: np.ndarray, windows):
                out = np.zeros(len(windows))
                for i, window in enumerate(windows):
                    out[i] = np.sum(np.array(x)[window] * kernel)
                return out
            """,
            line=5,
            column=25,
            fixed="""
            import numpy as np
            def blur(x: np.array, kernel: np.ndarray, windows):
                out = np.zeros(len(windows))
                array_x = np.array(x)
                for i, window in enumerate(windows):
                    out[i] = np.sum(array_x[window] * kernel)
                return out
            """,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._new_names = NewNames()

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self.context.innermost_loop
        if frame is None or len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        copied = self._copied_array(node.value)
        if copied is not None and not frame.keeps(node.targets[0].target.value):
            self._check(cast(cst.Call, node.value), copied)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._check_operands((node.left, node.right))

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._check_operands((node.expression,))

    def visit_Comparison(self, node: cst.Comparison) -> None:
        self._check_operands((node.left, *(target.comparator for target in node.comparisons)))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        """The copy indexed (``np.array(x)[idx]``): the part is read, and the copy dropped.
        Not a copy written into (``np.array(x)[i] = v``), whose writes a hoisted copy would keep."""
        if self.context.innermost_loop is None:
            return
        copied = self._copied_array(node.value)
        if copied is None:
            return
        parent = self.context.path_to(node)[-2]
        if type(parent) in (cst.AssignTarget, cst.Del) or (type(parent) is cst.AugAssign and parent.target is node):
            return
        self._check(cast(cst.Call, node.value), copied)

    def visit_Call(self, node: cst.Call) -> None:
        """The copy as the argument of a side-effect-free library function, or as the
        receiver of a method that leaves it unchanged."""
        func = node.func
        qualified = self.context.imports.qualified_name(func)
        if qualified is not None:
            if catalog.lookup(qualified) is not None and catalog.is_side_effect_free(qualified):
                self._check_operands([arg.value for arg in node.args if not arg.star])
        elif isinstance(func, cst.Attribute) and func.attr.value in catalog.NON_MUTATING_METHODS:
            self._check_operands((func.value,))

    def _check_operands(self, operands) -> None:
        if self.context.innermost_loop is None:
            return
        for operand in operands:
            copied = self._copied_array(operand)
            if copied is not None:
                self._check(operand, copied)

    def _copied_array(self, expr: cst.BaseExpression) -> cst.BaseExpression | None:
        """The array ``expr`` copies, when it is a catalogued copy of a known array."""
        if not isinstance(expr, cst.Call) or any(arg.star for arg in expr.args):
            return None
        if any(arg.keyword is not None and arg.keyword.value == "copy" for arg in expr.args):
            return None
        record = catalog.lookup(self.context.imports.qualified_name(expr.func))
        if record is not None:
            if not record.has(catalog.Flag.COPIES) or not expr.args or expr.args[0].keyword is not None:
                return None
            source = expr.args[0].value
        elif isinstance(expr.func, cst.Attribute):
            method = catalog.method(expr.func.attr.value)
            if method is None or not method.flags & catalog.Flag.COPIES:
                return None
            source = expr.func.value
        else:
            return None
        return source if self.context.arrays.kind_of(source) is not None else None

    def _check(self, copy: cst.Call, source: cst.BaseExpression) -> None:
        if not self.context.runs_every_iteration():
            return
        parts = [source, *(arg.value for arg in copy.args)]
        frame = self.context.innermost_loop
        if frame is not None and all(self.context.is_invariant(part) for part in parts):
            loop = frame.node
            fix = hoist(self.context, copy, loop, self._new_names, name_for(self.context, copy))
            self.report(copy, self.message.format(copy=quote(copy)), fix=fix)


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    weights = rng.standard_normal((size, 64))
    batches = [rng.standard_normal((16, size)).astype(np.float32) for _ in range(20)]
    return weights, batches


def _pattern(weights, batches):
    import numpy as np

    return np.stack([batch @ weights.astype(np.float32) for batch in batches])


def _fix(weights, batches):
    import numpy as np

    weights32 = weights.astype(np.float32)
    return np.stack([batch @ weights32 for batch in batches])


LoopInvariantCopy.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(256, 1_024, 4_096),
    check_size=8,
    size_unit="rows of a (rows × 64) float64 weight matrix converted to float32 (20 batches of 16)",
    timed=(
        "20 batches of 16 multiplied by an n x 64 float64 weight matrix converted with "
        "`.astype(np.float32)` inside the loop against converted once before it."
    ),
)
