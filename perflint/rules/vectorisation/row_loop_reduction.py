"""PFL114: a loop over rows that reduces each row, where an ``axis=`` form exists."""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import AxisLength, Evidence
from perflint.engine.elementwise import array_from_comprehension
from perflint.engine.imports import chains_overlap, dotted_name
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import runs_few_times
from perflint.engine.walker import simple_body
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# torch's ``max``/``min`` with ``dim=`` return (values, indices); ``amax``/``amin`` the values.
_TORCH_AXIS_METHODS = {"max": "amax", "min": "amin"}
# Names for the tuple of trailing axes the advice reduces over, the first the file does not use.
_AXES_NAMES = ("axes", "slice_axes", "trailing_axes")
_AXES_PLACEHOLDER = "__perflint_axes__"


class _Translated(NamedTuple):
    """An expression of reductions of a slice ``x[b, c]``, rewritten as one over ``x``."""

    node: cst.BaseExpression
    has_reduction: bool


class RowLoopReduction(Rule):
    """``for i in range(n): out[i] = np.linalg.norm(X[i] - c)``: one interpreted call per row."""

    code = "PFL114"
    name = "row-loop-reduction"
    family = FAMILY
    summary = "Python loop reducing one row of an array per iteration (norm, sum, mean, dot…)"
    message = "Loop computes `{loop}` {pace}; use `{vectorised}`"
    comprehension_message = "`{call}` computes `{item}` one row of `{array}` at a time; use `{vectorised}`"
    fix_title = "Reduce all rows in one call with `axis=`/`dim=`, or a batched `@`"
    fix_safety = FIX_UNSAFE
    required_text = ("numpy", "torch")
    reported_at = "the `for` statement; for a comprehension, the call that makes the array"

    what_it_does = (
        "Flags `for i in range(...)` whose body is one assignment `out[i] = <reduction of row i>` "
        "into a known array `out`, where the reduction is a method `X[i].sum()`, `.mean()`, `.std()`,"
        " `.var()`, `.max()`, `.min()`, `.prod()` without arguments, a NumPy or torch reduction "
        "function of one argument (`np.linalg.norm(X[i] - c)`, `np.sum(...)`, `torch.norm(...)`), or "
        "a product `X[i] @ w` / `np.dot(X[i], w)` / `X[i].dot(w)`; the row expression uses rows "
        "`X[i]` of known arrays the loop does not write, names from outside the loop that are not "
        "arrays, and element-wise operators. Also `for i, row in enumerate(X)` with `row` for "
        "`X[i]` (`X` may be typed by its docstring alone). Also two nested loops over the first two axes of one array "
        "(`range(x.shape[0])`, `range(x.shape[1])`, `len(x)`, `x.size(1)`) whose body is "
        "`out[b, c] = <reductions of x[b, c]>`, with `out` made with one axis per loop; the "
        "advice reduces over `tuple(range(2, x.ndim))` at once. Also the same reduction of each "
        "row as the item of a list comprehension that an array constructor of the array's library "
        "turns into an array (`np.array([np.linalg.norm(x - c) for x in X])`, `torch.stack([X[i]."
        "sum() for i in range(len(X))])`)."
    )
    known_limitations = (
        "Left alone: recurrences (the expression reads `out`), reductions that already take an axis "
        "or other arguments, `enumerate` counting from another start than 0, and loops in functions compiled by numba, JAX, TorchScript, "
        "`torch.compile` or Cython. The nested form is flagged only where the whole-array form "
        "reads the data no more often than the loop: each reduction is of the bare slice and "
        "reads it once (not `std`, `var`, `median` or NumPy's `nan*` functions, which read it "
        "again, nor `(x[b, c] - m).sum()`, which makes a temporary), and the body does nothing "
        "else. A loop that normalises each slice (`mean = x[b, c].mean(); std = x[b, c].std(); "
        "out[b, c] = (x[b, c] - mean) / std`, batchgenerators' "
        "`zero_mean_unit_variance_normalization`) is left alone: measured with NumPy on float32 "
        "batches, the whole-array form with `keepdims=True` took 1.9 times as long as the loop "
        "on 3-D volumes (2×4×128³), which the loop reads slice by slice while each is in the "
        "cache, and as long on 12×4×256² images; it wins on small images (9 times on 64×3×32², "
        "twice on 12×4×128²), and the code does not say which sizes it gets. The slice's array "
        "may be of no known kind when both bounds read its `.shape`; it is then taken to be of "
        "the output's library. A comprehension is flagged only as the whole argument of "
        "`np.array`, `np.asarray`, `torch.tensor` (and the other constructors from a sequence) or "
        "`np.stack`/`torch.stack` along the first axis, with no `dtype=`, one `for` clause and no "
        "`if`, over a known array (a list of arrays of different lengths is not one)."
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
        "the whole array, and the rule cannot always tell; check it before replacing. The nested "
        "form's advice assumes `x` has more than two axes (each `x[b, c]` an array to reduce): "
        "torch reads `dim=()` as every axis."
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
        # Nested: the inner loop runs over a Python list, not an axis; a per-slice call of an
        # unknown function; a recurrence (each slice adds the previous result).
        """
        import numpy as np
        def f(x: np.ndarray, channels: list):
            out = np.zeros((x.shape[0], x.shape[1]))
            for b in range(x.shape[0]):
                for c in range(len(channels)):
                    out[b, c] = x[b, c].sum()
            for b in range(x.shape[0]):
                for c in range(x.shape[1]):
                    out[b, c] = score(x[b, c])
            for b in range(x.shape[0]):
                for c in range(x.shape[1]):
                    out[b, c] = out[b, c - 1] + x[b, c].sum()
            return out
        """,
        # Nested normalisation of each slice, with or without a `per_channel` branch: the loop
        # reads each slice again while it is cached, and on large slices it is the faster form.
        """
        import numpy as np
        def normalise(data, per_channel=True, epsilon=1e-8):
            data_normalized = np.zeros(data.shape, dtype=data.dtype)
            for b in range(data.shape[0]):
                if per_channel:
                    for c in range(data.shape[1]):
                        mean = data[b, c].mean()
                        std = data[b, c].std() + epsilon
                        data_normalized[b, c] = (data[b, c] - mean) / std
                else:
                    data_normalized[b] = (data[b] - data[b].mean()) / data[b].std()
            return data_normalized
        """,
        # Nested: a reduction that reads each slice twice (`std`); slices of another array, of
        # a shape the code does not tie to the loops'; an output not made with one axis per loop.
        """
        import torch
        def f(x: torch.Tensor, y: torch.Tensor, out: torch.Tensor):
            spread = torch.zeros(len(x), x.size(1))
            for b in range(len(x)):
                for c in range(x.size(1)):
                    spread[b, c] = x[b, c].std()
            for b in range(len(x)):
                for c in range(x.size(1)):
                    spread[b, c] = y[b, c].sum()
            for b in range(len(x)):
                for c in range(x.size(1)):
                    out[b, c] = x[b, c].sum()
            return spread
        """,
        # An enumerate loop counting from 1 (each row lands one place further on), over a list
        # of rows of different lengths, and a product of the row with itself (no `X @ w`).
        """
        import numpy as np
        def f(X: np.ndarray, w: np.ndarray, chunks: list, out: np.ndarray):
            for i, x in enumerate(X, 1):
                out[i] = x.dot(w)
            for i, chunk in enumerate(chunks):
                out[i] = chunk.sum()
            for i, x in enumerate(X):
                out[i] = x.dot(x)
        """,
        # Comprehensions: a list kept as a list, a list of arrays (rows of different lengths),
        # a reduction along an axis, rows of another array than the one the range runs over,
        # and an `if` clause.
        """
        import numpy as np
        def f(X: np.ndarray, Y: np.ndarray, chunks: list):
            sums = [x.sum() for x in X]
            a = np.array([c.sum() for c in chunks])
            b = np.array([x.sum(axis=0) for x in X])
            c = np.array([Y[i].sum() for i in range(len(X))])
            d = np.array([x.sum() for x in X if x[0] > 0])
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
        # The rows an enumerate loop takes, of an array its docstring types (weak evidence),
        # and the `.dot` method.
        Invalid(
            """
            import numpy as np
            class LinearApproximator:
                def predict(self, x):
                    '''
                    Args:
                        x (np.ndarray): input.
                    '''
                    prediction = np.ones((x.shape[0], self._w.shape[0]))
                    for i, x_i in enumerate(x):
                        prediction[i] = x_i.dot(self._w.T)
                    return prediction
            """,
            line=9,
            column=9,
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
        Invalid(
            """
            import numpy as np
            def channel_ranges(data):
                ranges = np.zeros((data.shape[0], data.shape[1]), dtype=data.dtype)
                for b in range(data.shape[0]):
                    for c in range(data.shape[1]):
                        ranges[b, c] = data[b, c].max() - data[b, c].min()
                return ranges
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def channel_means(x: torch.Tensor) -> torch.Tensor:
                out = torch.empty(len(x), x.size(1))
                for i in range(len(x)):
                    for j in range(x.size(1)):
                        out[i, j] = torch.mean(x[i][j]) * 2
                return out
            """,
            line=4,
        ),
        Invalid(
            """
            import numpy as np
            def norms(vectors: np.ndarray, centre: np.ndarray) -> np.ndarray:
                return np.array([np.linalg.norm(v - centre) for v in vectors])
            """,
            line=3,
            column=12,
        ),
        Invalid(
            """
            import torch
            def row_sums(x: torch.Tensor) -> torch.Tensor:
                return torch.stack([x[i].sum() for i in range(x.shape[0])])
            """,
            line=3,
        ),
    )

    # The comprehension target that takes a row (``x`` of ``for x in X``) and its array, while
    # the rule reads a comprehension's item.
    _row_item: tuple[str, cst.BaseExpression] | None = None
    # The arrays whose rows the item reads, while the rule reads a comprehension's item.
    _rows_read: list[str | None] | None = None

    def visit_Call(self, node: cst.Call) -> None:
        found = array_from_comprehension(node, self.context)
        if found is None:
            return
        self._row_item = None if found.by_index else (found.target, found.array)
        self._rows_read = []
        rows_read = self._rows_read
        try:
            whole = self._vectorised(found.comprehension.elt, found.target, None, None)
        finally:
            self._row_item = self._rows_read = None
        # By index, every row read is of the array the range runs over (another may be longer).
        if whole is None or any(chain != dotted_name(found.array) for chain in rows_read):
            return
        if self.context.in_compiled_code() or runs_few_times(found.comprehension, self.context):
            return
        self.report(
            node,
            self.comprehension_message.format(
                call=quote(node), item=quote(found.comprehension.elt), array=quote(found.array), vectorised=whole
            ),
        )

    def visit_For_body(self, node: cst.For) -> None:
        # From the body on, the innermost loop is this one (its effects say what it writes).
        found = self._row_reduction(node)
        pace = "row by row"
        if found is None:
            nested = self._slice_reduction(node)
            if nested is None:
                return
            found, indices = nested
            pace = f"one `[{indices}]` slice at a time"
        if self.context.in_compiled_code():
            return
        statement, vectorised = found
        loop = f"{quote(statement.targets[0].target)} = {quote(statement.value)}"
        self.report(node, self.message.format(loop=" ".join(loop.split()), pace=pace, vectorised=vectorised))

    def _slice_reduction(self, node: cst.For) -> tuple[tuple[cst.Assign, str], str] | None:
        """``for b in range(x.shape[0]): for c in range(x.shape[1]): out[b, c] = <reductions of
        x[b, c]>``: the statement with the whole-array form, and the indices as written."""
        loop = self.context.loops.innermost
        outer = self._index_loop(node, 0)
        body = node.body
        if loop is None or loop.node is not node or outer is None:
            return None
        if type(body) is not cst.IndentedBlock or len(body.body) != 1 or type(body.body[0]) is not cst.For:
            return None
        inner_node = body.body[0]
        inner = self._index_loop(inner_node, 1)
        array = outer[1].array
        chain = dotted_name(array)
        if inner is None or chain is None or dotted_name(inner[1].array) != chain or inner[0] == outer[0]:
            return None
        statements = simple_body(inner_node.body)
        if len(statements) != 1 or type(statements[0]) is not cst.Assign or len(statements[0].targets) != 1:
            return None
        statement = statements[0]
        indices = (outer[0], inner[0])
        out = self._slice_of(statement.targets[0].target, indices)
        out_chain = dotted_name(out) if out is not None else None
        if out is None or out_chain is None or chains_overlap(out_chain, chain) or loop.changes(chain):
            return None
        library = self.context.arrays.kind_of(out)
        if library not in (catalog.NUMPY, catalog.TORCH) or not self._slices_array_of(
            array, library, outer[1], inner[1]
        ):
            return None
        if not self.context.arrays.made_with_range_lengths(out, (node.iter, inner_node.iter)):
            return None
        axes = next((name for name in _AXES_NAMES if not self.context.has_word(name)), None)
        whole = _SliceTranslator(self, indices, chain, out_chain, library, loop).translate(statement.value)
        if axes is None or whole is None or not whole.has_reduction:
            return None
        advice = f"{axes} = tuple(range(2, {quote(array)}.ndim)); {quote(out)}[:] = {quote(whole.node)}"
        return (statement, advice.replace(_AXES_PLACEHOLDER, axes)), ", ".join(indices)

    def _index_loop(self, node: cst.For, axis: int) -> tuple[str, AxisLength] | None:
        """The index and the array axis of ``for i in range(<length of that axis>)``."""
        if node.orelse is not None or node.asynchronous is not None or type(node.target) is not cst.Name:
            return None
        length = self.context.arrays.axis_of_range(node.iter)
        if length is None or length.axis != axis:
            return None
        return node.target.value, length

    def _slices_array_of(self, array: cst.BaseExpression, library: str, *lengths: AxisLength) -> bool:
        """The loops slice an array of ``library`` (the output's): one known to be, or one of no
        known kind whose ``.shape`` the loops' bounds read."""
        kind = self.context.arrays.kind_of(array, Evidence.WEAK)
        if kind is None:
            return all(length.reads_shape for length in lengths)
        return kind == library and all(kind in length.libraries for length in lengths)

    def _slice_of(self, expr: cst.BaseExpression, indices: tuple[str, ...]) -> cst.BaseExpression | None:
        """``x`` when ``expr`` is ``x[b, c]`` or ``x[b][c]`` with ``indices`` ``(b, c)``."""
        if type(expr) is not cst.Subscript:
            return None
        elements = [element.slice for element in expr.slice]
        names = [
            element.value.value
            for element in elements
            if type(element) is cst.Index and type(element.value) is cst.Name
        ]
        if len(names) != len(elements):
            return None
        if tuple(names) == indices:
            return expr.value
        if len(names) == 1 and len(indices) > 1 and names[0] == indices[-1]:
            return self._slice_of(expr.value, indices[:-1])
        return None

    def _row_reduction(self, node: cst.For) -> tuple[cst.Assign, str] | None:
        loop_index = self._loop_index(node)
        if loop_index is None:
            return None
        index, item = loop_index
        body = node.body
        if type(body) is not cst.IndentedBlock or len(body.body) != 1:
            return None
        line = body.body[0]
        if type(line) is not cst.SimpleStatementLine or len(line.body) != 1 or type(line.body[0]) is not cst.Assign:
            return None
        statement = line.body[0]
        if len(statement.targets) != 1:
            return None
        written = self._row_of(statement.targets[0].target, index)
        if written is None:
            return None
        loop = self.context.loops.innermost
        if loop is None or loop.node is not node:
            return None
        if item is not None:
            rows = self.context.loops.element_of(item, evidence=Evidence.WEAK)
            if rows is None:
                return None
            self._row_item = (item.value, rows)
        try:
            whole = self._vectorised(statement.value, index, written, loop)
        finally:
            self._row_item = None
        if whole is None:
            return None
        return statement, f"{quote(written)}[:] = {whole}"

    def _loop_index(self, node: cst.For) -> tuple[str, cst.Name | None] | None:
        """The index of ``for i in range(...)``, or the index and the row of ``for i, row in
        enumerate(X)`` (counting from 0, as the rows of ``X`` do)."""
        if node.orelse is not None or node.asynchronous is not None or type(node.iter) is not cst.Call:
            return None
        func, target = node.iter.func, node.target
        if type(target) is cst.Name:
            return (target.value, None) if self.context.imports.is_builtin(func, "range") else None
        if (
            type(target) is not cst.Tuple
            or len(target.elements) != 2
            or not self.context.imports.is_builtin(func, "enumerate")
            or len(node.iter.args) != 1
            or node.iter.args[0].keyword is not None
            or node.iter.args[0].star
        ):
            return None
        index, item = (element.value for element in target.elements)
        if type(index) is not cst.Name or type(item) is not cst.Name or index.value == item.value:
            return None
        return index.value, item

    def _row_of(self, expr: cst.BaseExpression, index: str) -> cst.BaseExpression | None:
        """``X`` when ``expr`` is ``X[i]`` with ``X`` a known NumPy array or torch tensor."""
        if type(expr) is cst.Name and self._row_item is not None and expr.value == self._row_item[0]:
            return self._row_item[1]
        if type(expr) is not cst.Subscript or len(expr.slice) != 1:
            return None
        element = expr.slice[0].slice
        if type(element) is not cst.Index or type(element.value) is not cst.Name or element.value.value != index:
            return None
        if self._row_item is not None or self.context.arrays.kind_of(expr.value) not in (catalog.NUMPY, catalog.TORCH):
            return None
        return expr.value

    def _vectorised(
        self, value: cst.BaseExpression, index: str, written: cst.BaseExpression | None, loop: LoopFrame | None
    ) -> str | None:
        """The whole-array form of the reduction ``value`` of row ``index``, or None."""
        written_chain = dotted_name(written) if written is not None else None
        if type(value) is cst.BinaryOperation and type(value.operator) is cst.MatrixMultiply:
            rows = self._row_expression(value.left, index, written_chain, loop)
            if rows is None or not self._outside_value(value.right, index, written_chain, loop):
                return None
            return f"{rows} @ {quote(value.right)}"
        if type(value) is not cst.Call or any(arg.star or arg.keyword for arg in value.args):
            return None
        func = value.func
        if type(func) is cst.Attribute and len(value.args) == 1:
            product = catalog.method(func.attr.value)
            if product is not None and product.flags & catalog.Flag.MATRIX_PRODUCT:
                rows = self._row_expression(func.value, index, written_chain, loop)
                if rows is None or not self._outside_value(value.args[0].value, index, written_chain, loop):
                    return None
                return f"{_parenthesised(rows)} @ {quote(value.args[0].value)}"
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
        if type(expr) is cst.Subscript or type(expr) is cst.Name:
            array = self._row_of(expr, index)
            return self.context.arrays.kind_of(array, Evidence.WEAK) if array is not None else None
        if type(expr) is cst.BinaryOperation:
            return self._row_library(expr.left, index) or self._row_library(expr.right, index)
        return None

    def _row_expression(
        self, expr: cst.BaseExpression, index: str, written: str | None, loop: LoopFrame | None
    ) -> str | None:
        """``expr`` with each row ``X[i]`` (or comprehension item ``x`` of ``for x in X``)
        replaced by ``X``, when it is built from such rows, outside values and element-wise
        operators, and contains at least one row. ``loop``: None for a comprehension, which
        changes nothing."""
        if type(expr) is cst.Subscript or type(expr) is cst.Name:
            array = self._row_of(expr, index)
            if array is None:
                return None
            chain = dotted_name(array)
            if self._rows_read is not None:
                self._rows_read.append(chain)
            if chain is None or (loop and loop.changes(chain)) or (written and chains_overlap(chain, written)):
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

    def _outside_value(self, expr: cst.BaseExpression, index: str, written: str | None, loop: LoopFrame | None) -> bool:
        """A number, or a name from outside the loop that the loop does not change."""
        if type(expr) in (cst.Integer, cst.Float):
            return True
        chain = dotted_name(expr)
        if chain is None or (loop and loop.changes(chain)):
            return False
        root = chain.partition(".")[0]
        if root == index or (self._row_item is not None and root == self._row_item[0]):
            return False
        return not (written and chains_overlap(chain, written))


class _SliceTranslator:
    """Rewrites an expression of reductions of the slice ``x[indices]`` in whole-array form."""

    def __init__(
        self,
        rule: RowLoopReduction,
        indices: tuple[str, ...],
        chain: str,
        out_chain: str,
        library: str,
        loop: LoopFrame,
    ) -> None:
        self._rule = rule
        self._indices = indices
        self._chain = chain
        self._out_chain = out_chain
        self._library = library
        self._loop = loop

    def translate(self, expr: cst.BaseExpression) -> _Translated | None:
        """Numbers, names from outside the loop, element-wise operators and reductions of the
        slice; None for anything else, the bare slice included (it is no number)."""
        if type(expr) in (cst.Integer, cst.Float):
            return _Translated(expr, False)
        if type(expr) is cst.BinaryOperation and type(expr.operator) in catalog.ELEMENTWISE_BINARY_OPERATORS:
            left, right = self.translate(expr.left), self.translate(expr.right)
            if left is None or right is None:
                return None
            return _Translated(
                expr.with_changes(left=left.node, right=right.node), left.has_reduction or right.has_reduction
            )
        if type(expr) is cst.UnaryOperation and type(expr.operator) in catalog.ELEMENTWISE_UNARY_OPERATORS:
            operand = self.translate(expr.expression)
            return operand._replace(node=expr.with_changes(expression=operand.node)) if operand else None
        if type(expr) is cst.Call:
            return self._reduction(expr)
        chain = dotted_name(expr)
        if (
            chain is None
            or chain.partition(".")[0] in self._indices
            or self._loop.changes(chain)
            or chains_overlap(chain, self._out_chain)
        ):
            return None
        return _Translated(expr, False)

    def _reduction(self, call: cst.Call) -> _Translated | None:
        """``x[b, c].mean()`` or ``np.mean(x[b, c])``, a reduction of the whole slice that the
        catalogue says takes a tuple of axes (``Flag.REDUCES_AXES``) and reads its input once
        (not ``Flag.READS_TWICE``), as one over the slice's axes of the whole array."""
        if any(arg.keyword is not None or arg.star for arg in call.args):
            return None
        keyword = "dim" if self._library == catalog.TORCH else "axis"
        func = call.func
        record = catalog.lookup(self._rule.context.imports.qualified_name(func))
        if record is not None:
            if record.library != self._library or len(call.args) != 1 or not _one_pass(record):
                return None
            array = self._sliced(call.args[0].value)
            text = f"{quote(func)}({array}, {keyword}={_AXES_PLACEHOLDER})" if array else None
        else:
            if type(func) is not cst.Attribute or call.args:
                return None
            method = catalog.axes_reduction(self._library, func.attr.value)
            array = self._sliced(func.value)
            record = catalog.lookup(f"{self._library}.{method}") if method is not None else None
            if record is None or not _one_pass(record) or array is None:
                return None
            text = f"{array}.{method}({keyword}={_AXES_PLACEHOLDER})"
        if text is None:
            return None
        return _Translated(cst.parse_expression(text).with_changes(lpar=call.lpar, rpar=call.rpar), True)

    def _sliced(self, expr: cst.BaseExpression) -> str | None:
        """``x`` as written when ``expr`` is the bare slice ``x[b, c]`` of the loops' array."""
        array = self._rule._slice_of(expr, self._indices)
        return quote(array) if array is not None and dotted_name(array) == self._chain else None


def _one_pass(record: catalog.Function) -> bool:
    return record.has(catalog.Flag.REDUCES_AXES) and not record.has(catalog.Flag.READS_TWICE)


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
