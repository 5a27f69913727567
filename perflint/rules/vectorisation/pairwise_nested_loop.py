"""PFL111: two nested index loops filling a pairwise matrix from rows of two arrays."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.imports import dotted_name
from perflint.engine.literals import UNKNOWN, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import code_of
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import nodes_in_scope
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY


@dataclass
class _Pair:
    """The two loop indices and the rows the expression reads at each."""

    outer: str
    inner: str
    rows: dict[str, set[str]] = field(default_factory=dict)
    # Each row read (``X[i]``, by ``id``) with the index it reads at.
    row_reads: dict[int, str] = field(default_factory=dict)
    # The expression reduces its rows (``np.sum``, ``.norm()``): each pair gives one number.
    reduces: bool = False


class PairwiseNestedLoop(Rule):
    """``for i: for j: D[i, j] = f(X[i], Y[j])``: an all-pairs computation one pair at a time."""

    code = "PFL111"
    name = "pairwise-nested-loop"
    family = FAMILY
    summary = "Nested index loops filling a pairwise matrix from rows of two arrays"
    message = "Nested loops compute `{store}` one pair at a time; {advice}"
    fix_title = "Broadcast rows against rows, or call `scipy.spatial.distance.cdist` (`torch.cdist`)"
    fix_safety = FIX_UNSAFE
    required_text = ("numpy", "torch")
    paid_in_the_interpreter = True
    reported_at = "the outer `for` statement"

    what_it_does = (
        "Flags two directly nested `for` loops over `range(...)` whose inner body is the one "
        "statement `D[i, j] = <expr>` (or `D[i][j] = <expr>`, or an augmented assignment), where "
        "`<expr>` reads a row `X[i]` at the outer index and a row `Y[j]` at the inner one, `X` and "
        "`Y` known NumPy arrays or torch tensors (the same array or two), and is built only from such"
        " rows, numbers, names from outside the loops, arithmetic, and NumPy/torch element-wise "
        "functions and reductions (`np.sqrt`, `np.sum`, `np.linalg.norm`, `.sum()`)."
    )
    known_limitations = (
        "A body that does anything else, or reads the indices as values, is not flagged. "
        "Code that numba, JAX, TorchScript, `torch.compile` or Cython compiles is left alone: its loops do not run in the interpreter."
    )
    why_bad = (
        "An n×m pairwise matrix this way costs n·m interpreter iterations, each slicing two "
        "rows into new array objects and dispatching every operation for one short vector. "
        "Broadcasting computes all pairs in a few compiled passes over the data, and "
        "`cdist` in one C loop: for a few hundred rows, two to three orders of magnitude faster."
    )
    example = """\
import numpy as np

def distances(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    D = np.zeros((len(X), len(Y)))
    for i in range(len(X)):
        for j in range(len(Y)):
            D[i, j] = np.sqrt(np.sum((X[i] - Y[j]) ** 2))
    return D
"""
    use_instead = """\
import numpy as np

def distances(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=-1))
"""
    fix_safety_note = (
        "Unsafe. Broadcasting materialises an n×m×d intermediate, which for large inputs can "
        "need far more memory than the loop; `cdist` (or the expansion "
        "`|x|² + |y|² - 2x·y` with a matrix product) avoids it. Reductions must name the "
        "feature axis (`axis=-1`) once rows become a 3-D block, and summation order, hence the "
        "last bits, can differ. A loop over `range(i + 1, n)` fills one triangle only: the "
        "full matrix has both."
    )

    VALID = (
        # One loop, not a pair.
        """
        import numpy as np
        X = np.random.rand(10, 3)
        norms = np.zeros(10)
        for i in range(len(X)):
            norms[i] = np.linalg.norm(X[i])
        """,
        # A function of the pair that is not arithmetic: no whole-array form is implied.
        """
        import numpy as np
        X = np.random.rand(10, 3)
        D = np.zeros((10, 10))
        for i in range(10):
            for j in range(10):
                D[i, j] = dtw(X[i], X[j])
        """,
        # Rows of unknown values, and a body that does more than store the pair.
        """
        import numpy as np
        def f(X, Y: np.ndarray):
            D = np.zeros((3, 3))
            for i in range(3):
                for j in range(3):
                    D[i, j] = np.sum(X[i] * Y[j])
            for i in range(3):
                for j in range(3):
                    D[i, j] = np.sum(Y[i] * Y[j])
                    print(i, j)
        """,
        # Compiled by numba, here through an optional import whose fallback leaves the function
        # as it is: the loops run as machine code.
        """
        import numpy as np
        try:
            from numba import njit
        except ImportError:
            def njit(f):
                return f

        @njit
        def rank_one_update(H: np.ndarray, y: np.ndarray, rho: float) -> None:
            for v in range(y.shape[0]):
                for w in range(y.shape[0]):
                    H[v, w] += y[v] * y[w] * rho
        """,
        # The indices used as values.
        """
        import numpy as np
        X = np.random.rand(10, 3)
        D = np.zeros((10, 10))
        for i in range(10):
            for j in range(10):
                D[i, j] = np.sum(X[i] * X[j]) * (i - j)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def gram(X: np.ndarray) -> np.ndarray:
                n = len(X)
                K = np.zeros((n, n))
                for i in range(n):
                    for j in range(n):
                        K[i, j] = np.exp(-gamma * np.sum((X[i] - X[j]) ** 2))
                return K
            """,
            line=5,
            column=5,
        ),
        Invalid(
            """
            import torch
            def cost(a: torch.Tensor, b: torch.Tensor, C: torch.Tensor) -> None:
                for i in range(a.shape[0]):
                    for j in range(b.shape[0]):
                        C[i][j] = torch.linalg.norm(a[i] - b[j])
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            X = np.random.rand(20, 4)
            Y = np.random.rand(30, 4)
            S = np.zeros((20, 30))
            for i in range(20):
                for j in range(30):
                    S[i, j] = ((X[i] - Y[j]) ** 2).sum()
            """,
            line=5,
        ),
        # Element-wise on single numbers: the advice is the user's expression, broadcast.
        Invalid(
            """
            import numpy as np
            def rank_one_update(H: np.ndarray, y: np.ndarray, rho: float) -> None:
                for v in range(y.shape[0]):
                    for w in range(y.shape[0]):
                        H[v, w] += y[v] * y[w] * rho
            """,
            line=3,
        ),
    )

    def visit_For(self, node: cst.For) -> None:
        inner = _only_statement(node.body)
        if type(inner) is not cst.For:
            return
        outer_index, inner_index = self._index(node), self._index(inner)
        if outer_index is None or inner_index is None or outer_index == inner_index:
            return
        store = _only_statement(inner.body)
        if type(store) is cst.Assign and len(store.targets) == 1:
            target = store.targets[0].target
        elif type(store) is cst.AugAssign:
            target = store.target
        else:
            return
        if not _stores_pair(target, outer_index, inner_index):
            return
        pair = _Pair(outer_index, inner_index)
        if not self._is_pairwise(store.value, pair):
            return
        firsts, seconds = pair.rows.get(outer_index, set()), pair.rows.get(inner_index, set())
        if not firsts or not seconds:
            return
        operator = f"{code_of(store.operator).strip()}" if type(store) is cst.AugAssign else "="
        self.report(
            node,
            self.message.format(
                store=f"{quote(target)} {operator} {quote(store.value)}",
                advice=self._advice(store.value, pair, sorted(firsts)[0], sorted(seconds)[0]),
            ),
        )

    def _advice(self, expr: cst.BaseExpression, pair: _Pair, first: str, second: str) -> str:
        """Element-wise work on the rows: the user's expression with the outer rows as a column
        and the inner rows as a row, which broadcasts to every pair. A reduction of each pair:
        rows against rows on a new axis, reduced over the last one, or ``cdist`` for a distance."""
        if not pair.reduces:
            broadcast = cast(cst.BaseExpression, expr.visit(_BroadcastRows(pair)))
            return f"compute every pair at once by broadcasting: `{quote(broadcast)}`"
        torch = self.context.arrays.lookup(first) == catalog.TORCH
        advice = (
            f"compute every pair at once by broadcasting rows against rows (`{first}[:, None, :]` with "
            f"`{second}[None, :, :]`) and reducing over the last axis (`{'dim' if torch else 'axis'}=-1`)"
        )
        if not _subtracts_rows(expr, pair):
            return advice
        cdist = f"torch.cdist({first}, {second})" if torch else f"scipy.spatial.distance.cdist({first}, {second})"
        return f"{advice}, or with `{cdist}`"

    def _index(self, loop: cst.For) -> str | None:
        """``i`` for ``for i in range(...)`` without ``else``."""
        if loop.orelse is not None or loop.asynchronous is not None or type(loop.target) is not cst.Name:
            return None
        iterable = loop.iter
        if type(iterable) is not cst.Call or not self.context.imports.is_builtin(iterable.func, "range"):
            return None
        return loop.target.value

    def _is_pairwise(self, expr: cst.BaseExpression, pair: _Pair) -> bool:
        """``expr`` is arithmetic, element-wise functions and reductions of rows at the indices,
        and scalars from outside the loops (``self.gamma``, ``np.pi``). Not a comparison: a
        distance compares nothing."""

        def leaf(node: cst.BaseExpression) -> bool | None:
            if isinstance(node, (cst.Name, cst.Attribute)):
                chain = dotted_name(node)
                return (
                    chain is not None
                    and chain.partition(".")[0] not in (pair.outer, pair.inner)
                    and self.context.arrays.kind_of(node) is None
                )
            if isinstance(node, cst.Subscript):
                return self._row(node, pair)
            if isinstance(node, cst.Call):
                return self._is_pairwise_call(node, pair)
            if isinstance(node, cst.Comparison):
                return False
            return None

        return is_elementwise(expr, leaf, self.context)

    def _row(self, expr: cst.Subscript, pair: _Pair) -> bool:
        if len(expr.slice) != 1 or type(expr.slice[0].slice) is not cst.Index:
            return False
        index = expr.slice[0].slice.value
        if type(index) is not cst.Name or index.value not in (pair.outer, pair.inner):
            return False
        if type(expr.value) is not cst.Name or self.context.arrays.kind_of(expr.value) not in (
            catalog.NUMPY,
            catalog.TORCH,
        ):
            return False
        pair.rows.setdefault(index.value, set()).add(expr.value.value)
        pair.row_reads[id(expr)] = index.value
        return True

    def _is_pairwise_call(self, call: cst.Call, pair: _Pair) -> bool:
        if any(arg.star for arg in call.args):
            return False
        positional = [arg.value for arg in call.args if arg.keyword is None]
        if any(arg.keyword is not None and literal_value(arg.value) is UNKNOWN for arg in call.args):
            return False
        func = call.func
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is not None:
            if record.library not in (catalog.NUMPY, catalog.TORCH):
                return False
            if not (record.has(catalog.ELEMENTWISE) or record.has(catalog.REDUCTION)):
                return False
            pair.reduces = pair.reduces or record.has(catalog.REDUCTION)
            return all(self._is_pairwise(value, pair) or literal_value(value) is not UNKNOWN for value in positional)
        if type(func) is cst.Attribute and func.attr.value in catalog.REDUCTION_FUNCTIONS:
            # ``(X[i] - Y[j]).sum()``: an array's own reduction.
            pair.reduces = True
            return self._is_pairwise(func.value, pair) and all(
                literal_value(value) is not UNKNOWN for value in positional
            )
        return False


class _BroadcastRows(cst.CSTTransformer):
    """``X[i]`` at the outer index becomes the column ``X[:, None]``, ``Y[j]`` at the inner one
    the row ``Y[None, :]`` (for rows of features, ``(n, 1, d)`` against ``(1, m, d)`` alike)."""

    def __init__(self, pair: _Pair) -> None:
        super().__init__()
        self._pair = pair

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        index = self._pair.row_reads.get(id(original_node))
        if index is None:
            return updated_node
        whole, new_axis = cst.Slice(lower=None, upper=None), cst.Index(cst.Name("None"))
        axes = (whole, new_axis) if index == self._pair.outer else (new_axis, whole)
        return updated_node.with_changes(slice=[cst.SubscriptElement(axis) for axis in axes])


def _subtracts_rows(expr: cst.BaseExpression, pair: _Pair) -> bool:
    """Somewhere in ``expr``, a row at one index minus a row at the other: a distance."""
    for node in nodes_in_scope(expr):
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.Subtract:
            indices = {pair.row_reads.get(id(node.left)), pair.row_reads.get(id(node.right))}
            if indices == {pair.outer, pair.inner}:
                return True
    return False


def _only_statement(body: cst.BaseSuite) -> cst.CSTNode | None:
    """The one statement of a block (a compound one, or a simple one alone on its line)."""
    lines = body.body
    if len(lines) != 1:
        return None
    line = lines[0]
    if type(body) is cst.SimpleStatementSuite:
        return line
    if type(line) is cst.SimpleStatementLine:
        return line.body[0] if len(line.body) == 1 else None
    return line


def _stores_pair(target: cst.BaseExpression, outer: str, inner: str) -> bool:
    """``D[i, j]`` or ``D[i][j]``."""
    if type(target) is not cst.Subscript:
        return False
    indices = [element.slice for element in target.slice]
    if len(indices) == 2:
        return _is_name(indices[0], outer) and _is_name(indices[1], inner) and type(target.value) is cst.Name
    value = target.value
    return (
        len(indices) == 1
        and _is_name(indices[0], inner)
        and type(value) is cst.Subscript
        and len(value.slice) == 1
        and _is_name(value.slice[0].slice, outer)
        and type(value.value) is cst.Name
    )


def _is_name(index: cst.BaseSlice, name: str) -> bool:
    return type(index) is cst.Index and type(index.value) is cst.Name and index.value.value == name


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((size, 16)), rng.random((size, 16))


def _pattern(X, Y):
    import numpy as np

    D = np.zeros((len(X), len(Y)))
    for i in range(len(X)):
        for j in range(len(Y)):
            D[i, j] = np.sqrt(np.sum((X[i] - Y[j]) ** 2))
    return D


def _fix(X, Y):
    import numpy as np

    return np.sqrt(((X[:, None, :] - Y[None, :, :]) ** 2).sum(axis=-1))


PairwiseNestedLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(10, 30, 100),
    check_size=6,
    size_unit="rows of 16 features in each array",
    timed=(
        "An n x n Euclidean distance matrix between two n x 16 float64 arrays: a double Python loop "
        "of `np.sqrt(np.sum((X[i] - Y[j]) ** 2))` against one broadcast expression."
    ),
)
