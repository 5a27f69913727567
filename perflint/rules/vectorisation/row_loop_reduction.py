"""PFL114: a loop over rows that reduces each row, where an ``axis=`` form exists."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import chains_overlap, dotted_name
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# torch's ``max``/``min`` with ``dim=`` return (values, indices); ``amax``/``amin`` the values.
_TORCH_AXIS_METHODS = {"max": "amax", "min": "amin"}


class RowLoopReduction(Rule):
    """``for i in range(n): out[i] = np.linalg.norm(X[i] - c)``: one interpreted call per row."""

    code = "PFL114"
    name = "row-loop-reduction"
    family = FAMILY
    summary = "Python loop reducing one row of an array per iteration (norm, sum, mean, dot…)"
    message = "Loop computes `{loop}` row by row; use `{vectorised}`"
    fix_title = "Reduce all rows in one call with `axis=`/`dim=`, or a batched `@`"
    fix_safety = FIX_UNSAFE
    required_text = ("numpy", "torch")
    reported_at = "the `for` statement"

    what_it_does = (
        "Flags `for i in range(...)` whose body is one assignment `out[i] = <reduction of row i>` "
        "into a known array `out`, where the reduction is a method `X[i].sum()`, `.mean()`, `.std()`,"
        " `.var()`, `.max()`, `.min()`, `.prod()` without arguments, a NumPy or torch reduction "
        "function of one argument (`np.linalg.norm(X[i] - c)`, `np.sum(...)`, `torch.norm(...)`), or "
        "a product `X[i] @ w` / `np.dot(X[i], w)`; the row expression uses rows `X[i]` of known "
        "arrays the loop does not write, names from outside the loop that are not arrays, and "
        "element-wise operators."
    )
    known_limitations = (
        "Left alone: recurrences (the expression reads `out`), reductions that already take an axis "
        "or other arguments, and loops in functions compiled by numba, JAX, TorchScript, "
        "`torch.compile` or Cython."
    )
    why_bad = (
        "Each iteration dispatches a NumPy or torch call on one row from the interpreter: for "
        "short rows the call overhead (argument parsing, a new array object, dispatch) is many "
        "times the arithmetic. The same reduction with `axis=1` runs over all rows in one "
        "compiled loop; a batched `X @ w` runs as one matrix product."
    )
    example = """\
import numpy as np

def distances(X: np.ndarray, centre: np.ndarray) -> np.ndarray:
    out = np.empty(len(X))
    for i in range(len(X)):
        out[i] = np.linalg.norm(X[i] - centre)
    return out
"""
    use_instead = """\
import numpy as np

def distances(X: np.ndarray, centre: np.ndarray) -> np.ndarray:
    return np.linalg.norm(X - centre, axis=1)
"""
    fix_safety_note = (
        "Unsafe: the vectorised reduction computes the same values up to floating-point "
        "summation order, for rows of the same length (what the loop assumes). A name from "
        "outside the loop that holds an array of a different shape broadcasts differently on "
        "the whole array, and the rule cannot always tell; check it before replacing."
    )

    VALID = (
        # A recurrence: each row depends on the previous result.
        """
        import numpy as np
        def smooth(X: np.ndarray, out: np.ndarray):
            for i in range(1, len(X)):
                out[i] = out[i - 1] + X[i].sum()
        """,
        # The reduction already takes an axis, and an unknown function of the row.
        """
        import numpy as np
        def f(X: np.ndarray, out: np.ndarray):
            for i in range(len(X)):
                out[i] = X[i].sum(axis=0)
            for i in range(len(X)):
                out[i] = score(X[i])
        """,
        # Compiled by numba: the loop is machine code.
        """
        import numba
        import numpy as np
        @numba.njit
        def norms(X, out):
            for i in range(X.shape[0]):
                out[i] = np.sqrt(np.sum(X[i] ** 2))
        """,
        # The loop writes the data it reduces.
        """
        import numpy as np
        def f(X: np.ndarray, out: np.ndarray):
            for i in range(len(X)):
                X[i] -= X[i].mean()
                out[i] = X[i].std()
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def distances(X: np.ndarray, centre: np.ndarray) -> np.ndarray:
                out = np.empty(len(X))
                for i in range(len(X)):
                    out[i] = np.linalg.norm(X[i] - centre)
                return out
            """,
            line=4,
            column=5,
        ),
        Invalid(
            """
            import torch
            def row_max(x: torch.Tensor, out: torch.Tensor):
                for i in range(x.shape[0]):
                    out[i] = x[i].max()
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            def project(X: np.ndarray, w: np.ndarray, n: int) -> np.ndarray:
                scores = np.zeros(n)
                for i in range(n):
                    scores[i] = X[i] @ w
                return scores
            """,
            line=4,
        ),
        Invalid(
            """
            import numpy as np
            def means(X: np.ndarray, scale: float) -> np.ndarray:
                out = np.zeros(X.shape[0])
                for k in range(X.shape[0]):
                    out[k] = np.mean(X[k] * scale)
                return out
            """,
            line=4,
        ),
    )

    def visit_For_body(self, node: cst.For) -> None:
        # From the body on, the innermost loop is this one (its effects say what it writes).
        found = self._row_reduction(node)
        if found is None or self.context.in_compiled_code():
            return
        statement, vectorised = found
        loop = f"{quote(statement.targets[0].target)} = {quote(statement.value)}"
        self.report(node, self.message.format(loop=" ".join(loop.split()), vectorised=vectorised))

    def _row_reduction(self, node: cst.For) -> tuple[cst.Assign, str] | None:
        if node.orelse is not None or type(node.target) is not cst.Name:
            return None
        if type(node.iter) is not cst.Call or not self.context.imports.is_builtin(node.iter.func, "range"):
            return None
        body = node.body
        if type(body) is not cst.IndentedBlock or len(body.body) != 1:
            return None
        line = body.body[0]
        if type(line) is not cst.SimpleStatementLine or len(line.body) != 1 or type(line.body[0]) is not cst.Assign:
            return None
        statement = line.body[0]
        if len(statement.targets) != 1:
            return None
        index = node.target.value
        written = self._row_of(statement.targets[0].target, index)
        if written is None:
            return None
        loop = self.context.loops.innermost
        if loop is None or loop.node is not node:
            return None
        whole = self._vectorised(statement.value, index, written, loop)
        if whole is None:
            return None
        return statement, f"{quote(written)}[:] = {whole}"

    def _row_of(self, expr: cst.BaseExpression, index: str) -> cst.BaseExpression | None:
        """``X`` when ``expr`` is ``X[i]`` with ``X`` a known NumPy array or torch tensor."""
        if type(expr) is not cst.Subscript or len(expr.slice) != 1:
            return None
        element = expr.slice[0].slice
        if type(element) is not cst.Index or type(element.value) is not cst.Name or element.value.value != index:
            return None
        if self.context.arrays.kind_of(expr.value) not in (catalog.NUMPY, catalog.TORCH):
            return None
        return expr.value

    def _vectorised(
        self, value: cst.BaseExpression, index: str, written: cst.BaseExpression, loop: LoopFrame
    ) -> str | None:
        """The whole-array form of the reduction ``value`` of row ``index``, or None."""
        written_chain = dotted_name(written)
        if type(value) is cst.BinaryOperation and type(value.operator) is cst.MatrixMultiply:
            rows = self._row_expression(value.left, index, written_chain, loop)
            if rows is None or not self._outside_value(value.right, index, written_chain, loop):
                return None
            return f"{rows} @ {quote(value.right)}"
        if type(value) is not cst.Call or any(arg.star or arg.keyword for arg in value.args):
            return None
        func = value.func
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is not None:
            if record.library not in (catalog.NUMPY, catalog.TORCH):
                return None
            if record.function_name == "dot" and len(value.args) == 2:
                rows = self._row_expression(value.args[0].value, index, written_chain, loop)
                if rows is None or not self._outside_value(value.args[1].value, index, written_chain, loop):
                    return None
                return f"{rows} @ {quote(value.args[1].value)}"
            if not record.has(catalog.Flag.REDUCTION) or len(value.args) != 1:
                return None
            rows = self._row_expression(value.args[0].value, index, written_chain, loop)
            if rows is None:
                return None
            axis = "dim=1" if record.library == catalog.TORCH else "axis=1"
            return f"{quote(func)}({rows}, {axis})"
        if type(func) is not cst.Attribute or value.args or func.attr.value not in catalog.REDUCTION_FUNCTIONS:
            return None
        receiver = func.value
        rows = self._row_expression(receiver, index, written_chain, loop)
        if rows is None:
            return None
        method = func.attr.value
        if self._row_library(receiver, index) == catalog.TORCH:
            return f"{_parenthesised(rows)}.{_TORCH_AXIS_METHODS.get(method, method)}(dim=1)"
        return f"{_parenthesised(rows)}.{method}(axis=1)"

    def _row_library(self, expr: cst.BaseExpression, index: str) -> str | None:
        if type(expr) is cst.Subscript:
            array = self._row_of(expr, index)
            return self.context.arrays.kind_of(array) if array is not None else None
        if type(expr) is cst.BinaryOperation:
            return self._row_library(expr.left, index) or self._row_library(expr.right, index)
        return None

    def _row_expression(self, expr: cst.BaseExpression, index: str, written: str | None, loop: LoopFrame) -> str | None:
        """``expr`` with each row ``X[i]`` replaced by ``X``, when it is built from such rows,
        outside values and element-wise operators, and contains at least one row."""
        if type(expr) is cst.Subscript:
            array = self._row_of(expr, index)
            if array is None:
                return None
            chain = dotted_name(array)
            if chain is None or loop.changes(chain) or (written and chains_overlap(chain, written)):
                return None
            return quote(array)
        if type(expr) is cst.BinaryOperation and type(expr.operator) in catalog.ELEMENTWISE_BINARY_OPERATORS:
            left = self._row_expression(expr.left, index, written, loop)
            right = self._row_expression(expr.right, index, written, loop)
            if left is None and right is None:
                return None
            if left is None and not self._outside_value(expr.left, index, written, loop):
                return None
            if right is None and not self._outside_value(expr.right, index, written, loop):
                return None
            operator = quote(expr.operator).strip()
            return f"{left or quote(expr.left)} {operator} {right or quote(expr.right)}"
        return None

    def _outside_value(self, expr: cst.BaseExpression, index: str, written: str | None, loop: LoopFrame) -> bool:
        """A number, or a name from outside the loop that the loop does not change."""
        if type(expr) in (cst.Integer, cst.Float):
            return True
        chain = dotted_name(expr)
        if chain is None or chain.partition(".")[0] == index or loop.changes(chain):
            return False
        return not (written and chains_overlap(chain, written))


def _parenthesised(text: str) -> str:
    return text if text.replace(".", "").replace("_", "").isalnum() else f"({text})"


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.standard_normal((size, 16)), rng.standard_normal(16)


def _pattern(X, centre):
    import numpy as np

    out = np.empty(len(X))
    for i in range(len(X)):
        out[i] = np.linalg.norm(X[i] - centre)
    return out


def _fix(X, centre):
    import numpy as np

    return np.linalg.norm(X - centre, axis=1)


RowLoopReduction.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1000, 5000, 20_000),
    check_size=32,
    size_unit="rows of 16 float64 values",
    timed=(
        "Distances of n rows of 16 float64 values to a centre: `np.linalg.norm(X[i] - centre)` per "
        "row in a loop against `np.linalg.norm(X - centre, axis=1)`."
    ),
)
