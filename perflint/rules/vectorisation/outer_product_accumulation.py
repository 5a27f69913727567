"""PFL120: a sum of outer products accumulated one row at a time in a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import syntax_children
from perflint.measure.spec import NUMPY_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# The library functions computing the outer product of two vectors.


class OuterProductAccumulation(Rule):
    """``P += w[i] * np.outer(a[i], b[i])`` in a loop: one matrix product, computed a row at a time."""

    code = "PFL120"
    name = "outer-product-accumulation"
    family = FAMILY
    summary = "Sum of outer products accumulated one row at a time in a loop"
    message = (
        "`{target}` adds `{outer}` on every iteration: a sum of outer products of rows is one matrix "
        "product; stack the `{left}` and `{right}` of all iterations as the rows of two arrays `L` and `R` "
        "and compute `L.T @ R` once (with weights `w`, one per row: `(w[:, None] * L).T @ R`)"
    )
    message_rows = (
        "`{target}` adds `{outer}` on every iteration: a sum of outer products of rows is one matrix "
        "product; compute it once as `{left}.T @ {right}` over the rows the loop visits (with weights `w`, "
        "one per row: `(w[:, None] * {left}).T @ {right}`)"
    )
    message_weighted = (
        "`{target}` adds `{outer}` times `{factor}` on every iteration: a sum of weighted outer products of "
        "rows is one matrix product; compute it once as `({weights}[:, None] * {left}).T @ {right}` over the "
        "rows the loop visits"
    )
    fix_title = "Stack the rows and compute one matrix product"
    fix_safety = FIX_UNSAFE
    # Opt-in: on the development sets one loop of the kind builds each row with a costly call
    # (an autograd gradient per data row), which the matrix product does not make cheaper.
    default_enabled = False
    required_text = ("outer", "ger")
    reported_at = "the augmented assignment"

    what_it_does = (
        "Flags `P += outer(a, b)` (also `-=`) inside a `for` loop, run on every iteration, when "
        "the added value is made only of outer products (`np.outer`, `torch.outer`, `torch.ger`), "
        "each possibly scaled by a factor (`self.Wc[i] * outer(dx, dz)`, "
        "`np.outer(Xs[k], Xs[k]) - np.outer(xf, xf)`), and at least one of them changes from one "
        "iteration to the next: the loop computes `sum_i w[i] * outer(a_i, b_i)`, which is the "
        "one matrix product `(w[:, None] * A).T @ B` of the rows stacked into `A` and `B`. The "
        "accumulator must be a name or an attribute, not an element of an array."
    )
    known_limitations = (
        "Left alone: an added value with any term other than an outer product "
        "(`wj * (outer(y, y) + kf.P)`, a loop over a few filters), an accumulation under a "
        "condition that depends on the loop, a loop in code compiled by numba, JAX, TorchScript "
        "or Cython, and an outer product spelled `a[:, None] * b[None, :]`, through `np.einsum` or "
        "`np.dot` of column and row vectors. When the rows come from a Python function applied "
        "per row (a residual function, a gradient), stacking them still needs that loop; the "
        "product replaces only the accumulation, which pays off when the rows are cheap to make: "
        "opt-in for that reason. Precision history: on the round 3 held-out set (now development) "
        "it finds the three outer-product loops of the hand hunt (filterpy's unscented and "
        "cubature Kalman filters) and the same loop in filterpy's `unscented_transform`; on the "
        "round 4 development set its one finding, in lifelines, builds each row with an autograd "
        "gradient, which costs far more than the outer product."
    )
    why_bad = (
        "Each iteration allocates a d x e matrix for the outer product, another for its scaled "
        "copy, and adds it into the accumulator: n iterations make 2n temporary matrices and n "
        "passes of the interpreter. One matrix product of the stacked n x d and n x e arrays does "
        "the same arithmetic in one BLAS call, without the temporaries."
    )
    example = """\
import numpy as np

def cross_covariance(W, dX, dZ):
    P = np.zeros((dX.shape[1], dZ.shape[1]))
    for i in range(len(W)):
        P += W[i] * np.outer(dX[i], dZ[i])
    return P
"""
    use_instead = """\
import numpy as np

def cross_covariance(W, dX, dZ):
    return (W[:, None] * dX).T @ dZ
"""
    fix_safety_note = (
        "No fix is offered: the rows may be computed in the loop by other statements, which "
        "must become array operations (or a list of rows stacked once) first."
    )

    VALID = (
        # Another term than an outer product: a matrix added per filter.
        """
        import numpy as np
        for f, w in zip(filters, weights):
            P += w * (np.outer(f.y, f.y) + f.P)
        """,
        # The same outer product on every iteration; and an outer product assigned, not added.
        """
        import numpy as np
        for i in range(n):
            P += np.outer(x, x)
            Q = np.outer(a[i], b[i])
        """,
        # One element (a row) of an array updated per iteration, not one accumulator.
        """
        import numpy as np
        for i in range(n):
            P[i] += np.outer(a[i], b[i])
        """,
        # Only on some iterations.
        """
        import numpy as np
        for j in range(n):
            if m[j] != 0.0:
                P += m[j] * np.outer(v[:, j], y[j])
        """,
        # Compiled by numba.
        """
        import numpy as np
        from numba import njit
        @njit
        def f(v, y, n, P):
            for j in range(n):
                P += np.outer(v[:, j], y[j])
        """,
        # A local function named outer.
        """
        def outer(a, b):
            return a
        for i in range(n):
            P += outer(a[i], b[i])
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            for i in range(n):
                P += W[i] * np.outer(dX[i], dZ[i])
            """,
            line=3,
            column=5,
        ),
        # Rows computed in the loop, through an attribute weight and an imported `outer`.
        Invalid(
            """
            from numpy import outer
            class UKF:
                def cross_variance(self, x, z, sigmas_f, sigmas_h):
                    Pxz = 0
                    for i in range(len(sigmas_f)):
                        dx = self.residual_x(sigmas_f[i], x)
                        dz = self.residual_z(sigmas_h[i], z)
                        Pxz += self.Wc[i] * outer(dx, dz)
                    return Pxz
            """,
            line=8,
            column=13,
        ),
        # A difference of outer products, one of them the same on every iteration.
        Invalid(
            """
            import numpy as np
            for k in range(m):
                P += np.outer(Xs[k], Xs[k]) - np.outer(xf, xf)
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            for x in xs:
                C -= torch.outer(x, x) / n
            """,
            line=3,
        ),
    )

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        loop = self.context.innermost_loop
        if loop is None or type(loop.node) is not cst.For:
            return
        if type(original_node.operator) not in (cst.AddAssign, cst.SubtractAssign):
            return
        if dotted_name(original_node.target) is None:
            return
        outers = self._outer_terms(original_node.value)
        if not outers:
            return
        varying = [call for call in outers if not self.context.is_invariant(call)]
        if not varying:
            return
        if not self.context.runs_every_iteration() or self.context.in_compiled_code():
            return
        outer = varying[0]
        left, right = (arg.value for arg in outer.args)
        rows_of_left, rows_of_right = self._rows_of(left, loop), self._rows_of(right, loop)
        target = quote(original_node.target)
        if rows_of_left is None or rows_of_right is None:
            message = self.message.format(target=target, outer=quote(outer), left=quote(left), right=quote(right))
        else:
            factor = _factor_of(original_node.value, outer)
            weights = self._rows_of(factor, loop) if factor is not None else None
            message = (
                self.message_rows.format(
                    target=target, outer=quote(outer), left=quote(rows_of_left), right=quote(rows_of_right)
                )
                if factor is None or weights is None
                else self.message_weighted.format(
                    target=target,
                    outer=quote(outer),
                    factor=quote(factor),
                    weights=quote(weights),
                    left=quote(rows_of_left),
                    right=quote(rows_of_right),
                )
            )
        self.report(original_node, message)

    @staticmethod
    def _rows_of(expr: cst.BaseExpression, loop: LoopFrame) -> cst.BaseExpression | None:
        """``A`` of ``A[i]``, ``i`` the loop's target (which the loop does not rebind), or of ``a``
        in ``for a in A``: the rows the loop adds up are already an array's."""
        node = loop.node
        if (
            type(expr) is cst.Name
            and type(node) is cst.For
            and type(node.target) is cst.Name
            and node.target.value == expr.value
            and expr.value not in loop.effects.rebound
            and dotted_name(node.iter) is not None
        ):
            return node.iter
        if type(expr) is not cst.Subscript or len(expr.slice) != 1 or dotted_name(expr.value) is None:
            return None
        index = expr.slice[0].slice
        if type(index) is not cst.Index or type(index.value) is not cst.Name:
            return None
        name = index.value.value
        return expr.value if name in loop.targets and name not in loop.effects.rebound else None

    def _outer_terms(self, expr: cst.BaseExpression) -> list[cst.Call] | None:
        """The outer products ``expr`` adds up, each possibly scaled by a factor holding none;
        None when it holds any other term."""
        if type(expr) is cst.Call:
            if self.context.imports.qualified_name(expr.func) not in catalog.OUTER_PRODUCTS:
                return None
            if len(expr.args) != 2 or any(arg.star or arg.keyword is not None for arg in expr.args):
                return None
            return [expr]
        if type(expr) is not cst.BinaryOperation:
            return None
        operator = type(expr.operator)
        if operator in (cst.Add, cst.Subtract):
            left, right = self._outer_terms(expr.left), self._outer_terms(expr.right)
            return left + right if left is not None and right is not None else None
        if operator is cst.Multiply:
            left, right = self._outer_terms(expr.left), self._outer_terms(expr.right)
            if left is not None and right is None and not self._holds_outer(expr.right):
                return left
            if right is not None and left is None and not self._holds_outer(expr.left):
                return right
            return None
        if operator is cst.Divide and not self._holds_outer(expr.right):
            return self._outer_terms(expr.left)
        return None

    def _holds_outer(self, expr: cst.BaseExpression) -> bool:
        stack: list[cst.CSTNode] = [expr]
        while stack:
            node = stack.pop()
            if type(node) is cst.Call and self.context.imports.qualified_name(node.func) in catalog.OUTER_PRODUCTS:
                return True
            stack.extend(syntax_children(node))
        return False


def _factor_of(value: cst.BaseExpression, outer: cst.Call) -> cst.BaseExpression | None:
    """``w`` when ``value`` is ``w * outer`` or ``outer * w``."""
    if type(value) is cst.BinaryOperation and type(value.operator) is cst.Multiply:
        if value.right is outer:
            return value.left
        if value.left is outer:
            return value.right
    return None


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random(size), rng.standard_normal((size, 8)), rng.standard_normal((size, 6))


def _pattern(weights, rows_a, rows_b):
    import numpy as np

    total = np.zeros((rows_a.shape[1], rows_b.shape[1]))
    for i in range(len(weights)):
        total += weights[i] * np.outer(rows_a[i], rows_b[i])
    return total


def _fix(weights, rows_a, rows_b):
    return (weights[:, None] * rows_a).T @ rows_b


OuterProductAccumulation.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 1_000, 10_000),
    check_size=50,
    size_unit="rows (8 x 6 outer products)",
    backend=NUMPY_BACKEND,
    devices=("cpu",),
    timed=(
        "Summing n weighted outer products of float64 rows of 8 and 6 values: the pattern adds "
        "`weights[i] * np.outer(rows_a[i], rows_b[i])` into an 8 x 6 accumulator per row, the fix "
        "computes `(weights[:, None] * rows_a).T @ rows_b` once."
    ),
)
