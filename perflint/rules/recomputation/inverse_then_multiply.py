"""PFL402: a matrix inverted only to be multiplied by, where a solve does the same for less."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote, quote_receiver
from perflint.engine.rewrite import reference
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.sizes import (
    WIDE_RIGHT_HAND_SIDES,
    dimension_count,
    is_small_matrix,
    matrix_order,
    right_hand_side_count,
)
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext


class InverseThenMultiply(Rule):
    """``inv(A) @ b`` and its spellings, where ``solve(A, b)`` gives the product directly."""

    code = "PFL402"
    name = "inverse-then-multiply"
    family = FAMILY
    summary = "Matrix inverted only to multiply by it; solve the linear system instead"
    message = "`{pattern}` inverts the matrix only to multiply by it; use {fix}"
    message_with_import = "`{pattern}` inverts the matrix only to multiply by it; use {fix} (after `{import_}`)"
    fix_title = "Solve the system: `solve(A, b)` instead of `inv(A) @ b`"
    fix_safety = FIX_UNSAFE
    autofix = True
    # Opt-in: on the development set of round 2 none of 7 findings was worth fixing (small or
    # once-inverted matrices; its known limitations say why).
    default_enabled = False
    required_text = ("inv",)
    paid_per_execution = True
    reported_at = "the product (the `@` expression or the `dot`/`matmul` call)"

    what_it_does = (
        "Flags the product of an explicit inverse and another operand: `inv(A) @ b`, `np.dot(inv(A), "
        "b)`, `np.matmul(inv(A), b)`, `torch.matmul(inv(A), b)`, `inv(A).dot(b)` (also `.matmul`, "
        "`.mm`), and the right-hand forms `b @ inv(A)` and `np.dot(b, inv(A))`, where the inverse is "
        "`numpy.linalg.inv`, `scipy.linalg.inv`, `torch.linalg.inv` or `torch.inverse`."
    )
    known_limitations = (
        "An inverse kept in a name and reused, a pseudo-inverse (`pinv`) and an element-wise product "
        "(`inv(A) * b`) are left alone, and so is an inverse of a loop-invariant matrix inside a "
        "loop: there the better fix is to compute the inverse once above the loop (PFL401), not to "
        "solve on every iteration. A matrix the code states to be at most 4×4 (`torch.eye(3)`, "
        "`T[..., :3, :3]`) is left alone too: there the call's overhead is the whole cost. Opt-in: on"
        " the development set of the precision review's round 2 (35 research code bases) none of its "
        "7 findings was worth fixing: the matrices were small (microphones by microphones, a flow's "
        "dimension, 3×3 point normalisations) or inverted once, and none stated its size in the code;"
        " at such sizes `solve(..., left=False)` measured no faster than the inverse."
        " Round 6's held-out review (`benchmarks/results/precision/heldout_round6.md`) found its "
        "advice slower where the other operand has many more columns than the matrix has rows "
        "(`inv(A) @ M.T` with A 44×44 and M.T 44×193: 0.43x; a 3×3 inverse applied to every voxel "
        "of an image: 17-22x slower), since the inverse is then a small part of the work and `solve` "
        "back-substitutes more slowly than a matrix product; and `scipy.linalg.solve` slower than "
        "`inv` and `@` on 2-10-row matrices (its input checks and condition estimate); round 9's "
        "held-out review found the same again (6 wide right-hand sides, 1 SciPy solve on 1-5-row "
        "matrices). Where the code states the sizes (`engine.sizes`) it stays silent: when the other"
        " operand holds at least twice as many right-hand sides as the matrix has rows (measured on "
        "one thread: NumPy's `solve` 1.3-1.7x slower than the product at twice as many, torch's "
        "0.78-1.03x, and slower from four times; "
        "`benchmarks/results/precision/round10/pfl402_solve_crossover.md`), and for SciPy's solver on "
        "matrices up to 32×32 (1.5-3.6x slower with one right-hand side; faster from 64×64). Where "
        "the sizes are not written in the code (a truncated SVD basis, a data matrix of samples by "
        "features, as in every one of those 7 findings) it cannot see either operand's width: read "
        "the shapes before taking its advice. For the inverse on the right (`b @ inv(A)`) NumPy's and SciPy's solvers take no `left=`: the "
        "advice solves the transposed system, `solve(A.T, b.T).T` where the code states that both "
        "operands have at most two dimensions, `.swapaxes(-1, -2)` in place of each `.T` where either "
        "is stated to be a stack of matrices, and both forms where their dimensions are unknown "
        "(round 11's held-out review found `.T` advised for python-control's frequencies × n × n "
        "stack, where it reverses the stack's axis too and raises or gives a wrong result)."
    )
    why_bad = (
        "Inverting A costs a factorisation plus n³ more operations to build the inverse, and "
        "the product another n² per right-hand side; `solve` factorises A once and "
        "back-substitutes, roughly a third of the work for one right-hand side. It is also more "
        "accurate: the explicit inverse amplifies rounding error by the condition number of A "
        "a second time."
    )
    example = """\
import numpy as np

def whiten(cov, x):
    return np.linalg.inv(cov) @ x
"""
    use_instead = """\
import numpy as np

def whiten(cov, x):
    return np.linalg.solve(cov, x)
"""
    fix_safety_note = (
        "For `inv(A) @ b` (and `np.dot`, `np.matmul`, `torch.matmul`, `.dot`, `.matmul`, `.mm` "
        "with the inverse on the left) the fix writes `solve(A, b)` with the solver of the same "
        "library (`np.linalg.solve`, `scipy.linalg.solve`, `torch.linalg.solve`), named through "
        "the file's imports (`import numpy as np` is added where NumPy is imported only as "
        "`from numpy.linalg import inv`). It is unsafe: the result agrees with the product up "
        "to rounding, not bit for bit; for an ill-conditioned matrix (close to singular) the two "
        "differ by far more than rounding, the solve being the accurate one (an exactly "
        "singular matrix raises in both); and for stacked (batched) operands the broadcasting "
        "rules differ: `torch.linalg.solve` reads a `b` with one dimension fewer than `A` as a "
        "batch of vectors where `@` reads it as a matrix, and `np.dot` pairs the axes of "
        "operands with more than two dimensions differently from `solve`. No fix is offered "
        "for the right-hand form `b @ inv(A)`: `solve(A.T, b.T).T` transposes every axis of a "
        "stacked operand, and `torch.linalg.solve(A, b, left=False)` rejects a 1-D `b`, so "
        "neither is exact for every shape the product accepts."
    )

    VALID = (
        # Plotting runs once: no evidence that the product repeats.
        """
        import numpy as np
        def plot_ellipse(ax, cov, points):
            whitened = np.linalg.inv(cov) @ points
            ax.plot(whitened[0], whitened[1])
        """,
        # The inverse is computed once and reused: nothing to solve per product.
        """
        import numpy as np
        A_inv = np.linalg.inv(A)
        ys = [A_inv @ b for b in rhs]
        """,
        # A 3×3 or 4×4 matrix the code states (a rotation, a homogeneous transform): the
        # call's overhead is the whole cost, and a solve saves nothing measurable.
        """
        import torch
        def unnormalise(model, t2):
            t2 = t2[..., :3, :3]
            return torch.linalg.inv(t2) @ model
        """,
        # A pseudo-inverse, and an element-wise product.
        """
        import numpy as np
        w = np.linalg.pinv(X) @ y
        z = np.linalg.inv(A) * b
        """,
        # A local function that happens to be called inv.
        """
        import numpy as np
        def inv(m):
            return m.T
        y = inv(A) @ b
        """,
        # The same matrix on every iteration: PFL401 asks to hoist the inverse, which beats
        # solving on every iteration.
        """
        import numpy as np
        for x in xs:
            y = np.linalg.inv(A) @ x
        """,
        # Sizes that make `solve` slower than the product: twice as many right-hand sides as the
        # matrix has rows or more (round 9's held-out pykoopman and lingam), and SciPy's solver
        # on a matrix up to 32×32, where its input checks outweigh the work (emukit).
        """
        import numpy as np
        import scipy.linalg as sla
        def project(samples):
            A = np.random.rand(50, 50)
            B = np.random.rand(50, 1000)
            C = np.random.rand(8, 8)
            return np.linalg.inv(A) @ B, B.T @ np.linalg.inv(A), sla.inv(C) @ samples
        """,
        # The inverse itself is the result (no product).
        """
        import torch
        precision = torch.linalg.inv(cov)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            for S, r in zip(covariances, residuals):
                z = np.linalg.inv(S) @ r
            """,
            line=3,
            fixed="""
            import numpy as np
            for S, r in zip(covariances, residuals):
                z = np.linalg.solve(S, r)
            """,
        ),
        Invalid(
            """
            import numpy as np
            x = np.linalg.inv(A) @ b
            """,
            line=2,
            column=5,
            fixed="""
            import numpy as np
            x = np.linalg.solve(A, b)
            """,
        ),
        Invalid(
            """
            from numpy.linalg import inv
            from numpy import dot
            K = dot(P, inv(S))
            """,
            line=3,
            # The inverse on the right: no solve is exact for every shape (see fix safety).
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import scipy.linalg as sla
            import numpy as np
            x = np.matmul(sla.inv(A), b)
            """,
            line=3,
            fixed="""
            import scipy.linalg as sla
            import numpy as np
            x = sla.solve(A, b)
            """,
        ),
        Invalid(
            """
            import torch
            x = torch.inverse(A).mm(b)
            """,
            line=2,
            fixed="""
            import torch
            x = torch.linalg.solve(A, b)
            """,
        ),
        Invalid(
            """
            import torch
            y = b @ torch.linalg.inv(A)
            """,
            line=2,
            fixed=NO_FIX,
        ),
        # The inverse on the right, and both operands stated to be matrices: the transposed
        # system's solution, transposed.
        Invalid(
            """
            import numpy as np
            def project():
                A = np.random.rand(50, 50)
                x = np.random.rand(20, 50)
                return x @ np.linalg.inv(A)
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # A stack of matrices (python-control's frequencies × n × n `I_AB`): `.T` would reverse
        # the stack's axis too, so the advice swaps the last two axes.
        Invalid(
            """
            import numpy as np
            def feedback(frdata):
                I_AB = np.random.rand(100, 16, 16)
                return frdata @ np.linalg.inv(I_AB)
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # Imported bare: NumPy is imported for the solver; the operands' layout is kept.
        Invalid(
            """
            from numpy.linalg import inv
            def gain(P, H, R):
                return inv(
                    H @ P @ H.T + R  # innovation covariance
                ) @ (H @ P)
            """,
            line=3,
            column=12,
            fixed="""
            from numpy.linalg import inv
            import numpy as np
            def gain(P, H, R):
                return np.linalg.solve(
                    H @ P @ H.T + R,  # innovation covariance
                    (H @ P)
                )
            """,
        ),
        # No name bound to NumPy, and `np` a word of the file (filterpy's discretisation): the
        # advice says which import to add.
        Invalid(
            """
            from numpy.linalg import inv
            def discretise(C, D):
                # C and D are np arrays
                return C.dot(inv(D))
            """,
            line=4,
            column=12,
            fixed=NO_FIX,
        ),
        # The inverse imported bare in a file that imports NumPy as `np`: the advice says
        # `np.linalg.solve` (filterpy's `mahalanobis`).
        Invalid(
            """
            import numpy as np
            from numpy.linalg import inv
            def mahalanobis(y, S):
                return np.dot(np.dot(y.T, inv(S)), y)
            """,
            line=4,
            column=19,
            fixed=NO_FIX,
        ),
        # An alias of torch, and the product inside a larger expression.
        Invalid(
            """
            import torch as th
            def step(x, J, r, lr):
                return x - lr * (th.linalg.inv(J.T @ J) @ (J.T @ r))
            """,
            line=3,
            column=22,
            fixed="""
            import torch as th
            def step(x, J, r, lr):
                return x - lr * (th.linalg.solve(J.T @ J, (J.T @ r)))
            """,
        ),
    )

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        if isinstance(node.operator, cst.MatrixMultiply):
            self._check_product(node, node.left, node.right)

    def visit_Call(self, node: cst.Call) -> None:
        if any(arg.star for arg in node.args):
            return
        func = node.func
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is not None:
            if not record.has(catalog.Flag.MATRIX_PRODUCT):
                return
            bound = catalog.bind(node, record)
            parameters = record.signature.positional[:2]
            if bound is None or len(parameters) < 2 or not all(bound.passes(name) for name in parameters):
                return
            left, right = bound.argument(parameters[0]), bound.argument(parameters[1])
            if left is not None and right is not None:  # both passed
                self._check_product(node, left, right)
        elif isinstance(func, cst.Attribute) and len(node.args) == 1 and node.args[0].keyword is None:
            method = catalog.method(func.attr.value)
            if method is not None and method.flags & catalog.Flag.MATRIX_PRODUCT:
                self._check_product(node, func.value, node.args[0].value)

    def _check_product(self, node: cst.BaseExpression, left: cst.BaseExpression, right: cst.BaseExpression) -> None:
        for operand, other, inverse_on_left in ((left, right, True), (right, left, False)):
            inverse = self._inverse(operand)
            if inverse is None:
                continue
            call, record = inverse
            if is_small_matrix(call.args[0].value, self.context):
                # A 3×3 rotation or a 4×4 transform: the call's overhead is the whole cost.
                return
            solver = catalog.solver_for(record)
            if solver is None or self._solve_is_slower(call.args[0].value, other, inverse_on_left, solver):
                return
            if self.context.innermost_loop is not None and self.context.is_invariant(call.args[0].value):
                # The same inverse on every iteration: hoisting it (PFL401) beats a solve per
                # iteration, which would refactorise the matrix each time.
                return
            spelling, imports = self._solver_spelling(solver)
            advice = _solve_text(call, spelling, solver, other, inverse_on_left, self.context)
            message = self.message_with_import if imports else self.message
            self.report(
                node,
                message.format(pattern=quote(node), fix=advice, import_="; ".join(imports)),
                fix=self._solve(node, call, solver, other) if inverse_on_left else None,
                size=matrix_order(call.args[0].value, self.context),
            )
            return

    def _solve_is_slower(
        self, matrix: cst.BaseExpression, other: cst.BaseExpression, inverse_on_left: bool, solver: catalog.Function
    ) -> bool:
        """The sizes the code states make ``solve`` slower than the product: the other operand
        holds many right-hand sides for the matrix's order (``sizes.WIDE_RIGHT_HAND_SIDES``), or
        the solver's own overhead outweighs a matrix of that order (SciPy's checks)."""
        order = matrix_order(matrix, self.context)
        if order is None:
            return False
        if order <= catalog.SOLVE_OVERHEAD_ORDERS.get(solver.name, 0):
            return True
        count = right_hand_side_count(other, self.context, inverse_on_left)
        return count is not None and count >= WIDE_RIGHT_HAND_SIDES * order

    def _solver_spelling(self, solver: catalog.Function) -> tuple[str, tuple[str, ...]]:
        """The solver in the file's own names, and the import it needs, if any: ``np.linalg.solve``
        where NumPy is imported as ``np``; ``np.linalg.solve`` and ``import numpy as np`` where
        no import reaches it; its full name and ``import numpy`` where ``np`` may name something
        else (a word of the file's text)."""
        solve = reference(self.context, solver.name)
        if solve is not None:
            return quote(solve[0]), solve[1]
        library = solver.library
        return solver.name, ((f"import {library}",) if self.context.imports.is_free(library) else ())

    def _solve(
        self, product: cst.BaseExpression, inverse: cst.Call, solver: catalog.Function, other: cst.BaseExpression
    ) -> Fix | None:
        """``solve(A, b)`` in place of the product ``inv(A) @ b``, the solver named through
        the file's imports (an import added where it has none)."""
        if isinstance(product, cst.Call) and len(product.args) != (1 if inverse is _receiver(product) else 2):
            # An `out=` or `dtype=` the solve would not honour.
            return None
        solve = reference(self.context, solver.name)
        if solve is None:
            return None
        function, imports = solve
        # The inverse's call becomes the solver's, its layout kept: laid out over lines, the
        # new operand takes a line of its own, after the matrix and its comment.
        matrix = inverse.args[0]
        before, after = inverse.whitespace_before_args, matrix.whitespace_after_arg
        operand = cst.Arg(other)
        if isinstance(after, cst.ParenthesizedWhitespace):
            if isinstance(before, cst.ParenthesizedWhitespace):
                separator = cst.Comma(
                    whitespace_after=after.with_changes(indent=before.indent, last_line=before.last_line)
                )
                operand = operand.with_changes(
                    whitespace_after_arg=cst.ParenthesizedWhitespace(indent=after.indent, last_line=after.last_line)
                )
            else:
                separator = cst.Comma(whitespace_after=after)
        else:
            separator = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        call = inverse.with_changes(
            func=function,
            args=[matrix.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace("")), operand],
        )
        return Fix.replace(
            product,
            call.with_changes(lpar=product.lpar, rpar=product.rpar),
            imports=imports,
            title=f"Solve the system: `{quote(call)}`",
        )

    def _inverse(self, expr: cst.BaseExpression) -> tuple[cst.Call, catalog.Function] | None:
        """The call and record of an inverse with its matrix as the only positional argument."""
        if not isinstance(expr, cst.Call) or len(expr.args) != 1:
            return None
        argument = expr.args[0]
        if argument.star or argument.keyword is not None:
            return None
        record = catalog.lookup(self.context.imports.qualified_name(expr.func))
        if record is None or not record.has(catalog.Flag.INVERSE):
            return None
        return expr, record


def _receiver(call: cst.Call) -> cst.BaseExpression | None:
    return call.func.value if isinstance(call.func, cst.Attribute) else None


def _transposed(expr: cst.BaseExpression) -> str:
    if isinstance(expr, cst.Attribute) and expr.attr.value == "T":
        return quote(expr.value)
    return f"{quote_receiver(expr)}.T"


def _swapped(expr: cst.BaseExpression) -> str:
    return f"{quote_receiver(expr)}.swapaxes(-1, -2)"


def _solve_text(
    call: cst.Call,
    spelling: str,
    solver: catalog.Function,
    other: cst.BaseExpression,
    inverse_on_left: bool,
    context: FileContext,
) -> str:
    """The advice, quoted: ``solve(A, b)``, the solver spelt ``spelling`` (in the file's own
    names); for ``b @ inv(A)``, ``solve(A, b, left=False)`` where the solver takes ``left=``.
    Else the product is the transposed system's solution transposed: ``solve(A.T, b.T).T`` where the code
    states that both operands have at most two dimensions, the last two axes swapped where
    either is a stack of matrices (``.T`` would reverse the stack's axis too: round 11's
    held-out review, python-control's frequencies × n × n ``I_AB``), and both forms where
    their dimensions are unknown."""
    matrix = call.args[0].value
    if inverse_on_left:
        return f"`{spelling}({quote(matrix)}, {quote(other)})`"
    if solver.accepts("left"):
        return f"`{spelling}({quote(matrix)}, {quote(other)}, left=False)`"
    for_matrices = f"`{spelling}({_transposed(matrix)}, {_transposed(other)}).T`"
    for_stacks = f"`{spelling}({_swapped(matrix)}, {_swapped(other)}).swapaxes(-1, -2)`"
    matrix_dimensions, other_dimensions = dimension_count(matrix, context), dimension_count(other, context)
    if matrix_dimensions == 2 and other_dimensions in (1, 2):
        return for_matrices
    if (matrix_dimensions or 0) > 2 or (other_dimensions or 0) > 2:
        return for_stacks
    return f"{for_matrices} for matrices, {for_stacks} for stacks of them"


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((size, size)) + size * np.eye(size)
    right_hand_side = rng.standard_normal((size, 8))
    return matrix, right_hand_side


def _pattern(matrix, right_hand_side):
    import numpy as np

    return np.linalg.inv(matrix) @ right_hand_side


def _fix(matrix, right_hand_side):
    import numpy as np

    return np.linalg.solve(matrix, right_hand_side)


InverseThenMultiply.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 64, 256),
    check_size=8,
    size_unit="rows and columns (8 right-hand sides)",
    size_in_code="the order of the inverted matrix (`np.random.rand(n, n)`, `torch.eye(n)`)",
    timed=(
        "`np.linalg.inv(matrix) @ right_hand_side` against `np.linalg.solve(matrix, right_hand_side)` "
        "for an n x n float64 matrix and 8 right-hand sides."
    ),
)
