"""PFL122: a loop that slices one row of a CSR matrix per iteration to read its entries."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.imports import dotted_name
from perflint.engine.literals import integer_value
from perflint.engine.quoting import listed, quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import runs_few_times
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# Nodes whose bodies run at another time than the loop's iteration.
_OTHER_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


class SparseRowSliceLoop(Rule):
    """``for i in range(n): cols = X[i].indices``: each slice builds a new sparse matrix."""

    code = "PFL122"
    name = "sparse-row-slice-loop"
    family = FAMILY
    summary = "Loop slicing one row of a SciPy CSR matrix per iteration to read its entries, or reading them one by one"
    message = (
        "`{row}` builds a new sparse matrix for one row of the CSR matrix `{matrix}` on every "
        "iteration, to read {reads}; read the row from the CSR arrays instead: "
        "`start, end = {matrix}.indptr[{index}], {matrix}.indptr[{index} + 1]`, then {advice}"
    )
    entry_message = (
        "`{read}` reads one entry of the {format} matrix `{matrix}` through SciPy's indexing on "
        "every iteration (an index check and a search of the {line}, microseconds per entry); "
        "gather them in one call, `{matrix}[rows, columns]` with index arrays holding every "
        "{indices}, or read them from `{matrix}.indptr`, `{matrix}.indices` and `{matrix}.data`"
    )
    fix_title = "Read each row's entries from `X.indptr`, `X.indices` and `X.data`"
    fix_safety = FIX_UNSAFE
    required_text = ("scipy", "tocsr")
    paid_in_the_interpreter = True
    reported_at = "the first row slice; the entry read"

    what_it_does = (
        "Flags `for i in range(...)` (bounds not all literals) whose body slices row `i` of a "
        "SciPy CSR matrix, `X[i]`, `X[i, :]` or `X.getrow(i)`, and reads off the slice (or a "
        "name the body assigns it to) its `.indices`, `.data` or `.nnz`, or calls `.nonzero()`, "
        "`.getnnz()` or `.sum()` on it. The matrix is known to be CSR from a name bound to "
        "`scipy.sparse.csr_matrix(...)` or `csr_array(...)`, to any `m.tocsr()`, or a parameter "
        "annotated with one of those types; or, as weaker evidence, from the loop itself: it "
        "reads a row's `.indices`, which only compressed sparse rows have, the file imports "
        "SciPy, and nothing says the matrix is an array, a tensor or CSC. The message gives the "
        "row's bounds from `X.indptr` and each read in those bounds (`X.indices[start:end]`, "
        "`X.data[start:end].sum()`, `end - start`). "
        "Also flags a scalar read `X[i, j]` of a matrix known to be CSR or CSC (as above, not by "
        "the weaker evidence), where `i` or `j` is the target of a loop or comprehension around it "
        "and each index is such a target or an integer: one entry per iteration."
    )
    known_limitations = (
        "Weak evidence: most real code never says its matrix is CSR (an unannotated parameter, "
        "the result of a project function, `adata.X`, a branch under `scipy.sparse.issparse`), "
        "so a loop that reads a row's `.indices` in a file that imports SciPy is taken to slice "
        "a CSR matrix. That is how scvelo's `get_indices_from_csr` (`conn[i, :].indices`), its "
        "`velocity_embedding` (`T[i].indices`, `T[i].data`) and umap's precomputed-distance "
        "loops are found: on round 5's sets and five single-cell and graph code bases the six "
        "findings were all of this kind, all worth fixing. A CSC matrix's row has `.indices` "
        "too (its row positions, all zero), which code that reads them as columns does not "
        "mean. Left alone: a matrix of no known format whose rows are read only for `.data`, "
        "`.nonzero()`, `.nnz` or `.sum()` (NumPy arrays and torch tensors have `.data` and "
        "`.nonzero()`), or in a file that does not import SciPy; CSC matrices sliced by row "
        "(slower still, 2.5 ms a row measured at 100k rows, but their rows have no `indptr` "
        "form: convert once with `.tocsr()`); loops with literal bounds (a few rows); loops "
        "that change the matrix or write into a row; rows sliced with another index than the "
        "loop's target, `while` loops (umap's breadth-first search); other uses of a row "
        "(`.toarray()`, arithmetic, `.max()`, whose implicit zeros the stored values do not "
        "show). "
        "Code that numba, JAX, TorchScript, `torch.compile` or Cython compiles is left alone: its loops do not run in the interpreter."
    )
    why_bad = (
        "Slicing one row of a CSR matrix is a general indexing operation: it validates the "
        "index, copies the row's part of `indices` and `data` into new arrays and wraps them "
        "in a new sparse matrix object (a 1×n `csr_matrix`, or a 1-D `coo_array` for a "
        "`csr_array`), tens of microseconds per row whatever the row's length. The row's "
        "column indices and values already lie contiguously in `X.indices` and `X.data`, "
        "between `X.indptr[i]` and `X.indptr[i + 1]`: two slices of NumPy arrays."
    )
    example = """\
import numpy as np
import scipy.sparse as sp

def neighbour_table(conn: sp.csr_matrix, k: int) -> np.ndarray:
    table = np.full((conn.shape[0], k), -1)
    for i in range(conn.shape[0]):
        neighbours = conn[i].indices
        table[i, : len(neighbours)] = neighbours
    return table
"""
    use_instead = """\
import numpy as np
import scipy.sparse as sp

def neighbour_table(conn: sp.csr_matrix, k: int) -> np.ndarray:
    table = np.full((conn.shape[0], k), -1)
    for i in range(conn.shape[0]):
        start, end = conn.indptr[i], conn.indptr[i + 1]
        neighbours = conn.indices[start:end]
        table[i, : len(neighbours)] = neighbours
    return table
"""
    fix_safety_note = (
        "No automatic fix. `X.indices[start:end]` and `X.data[start:end]` are what `X[i].indices` "
        "and `X[i].data` hold for a CSR matrix, in the same order, but views of the matrix's "
        "arrays rather than copies: writing into them writes the matrix. `.nonzero()` also "
        "leaves out explicitly stored zeros, which `X.indices[start:end]` keeps "
        "(`X.eliminate_zeros()` once first makes them agree). Over all rows, `X.sum(axis=1)` "
        "and `np.diff(X.indptr)` give every row's sum and count in one call."
    )

    VALID = (
        # A few rows, by literal bounds.
        """
        import scipy.sparse as sp
        def head(X: sp.csr_matrix):
            for i in range(3):
                print(X[i].indices)
        """,
        # A dense NumPy array, and a matrix of no known format (an AnnData field) whose rows
        # are read for what arrays have too (`.data`, `.nonzero()`).
        """
        import numpy as np
        import scipy.sparse as sp
        def f(X: np.ndarray, adata, n: int):
            for i in range(n):
                print(X[i].indices, X[i].nonzero())
            for i in range(adata.n_obs):
                print(adata.X[i].data, adata.X[i].nonzero())
        """,
        # `.indices` in a file that does not import SciPy: torch's named tuples.
        """
        import torch
        def f(results, n):  # not scipy
            for i in range(n):
                print(results[i].indices)
        """,
        # CSC, sliced by row: no indptr form per row.
        """
        import scipy.sparse as sp
        def f(X: sp.csc_matrix):
            for i in range(X.shape[0]):
                print(X[i].indices)
        """,
        # The loop changes the matrix.
        """
        import scipy.sparse as sp
        def f(X, n):
            X = sp.csr_matrix(X)
            for i in range(n):
                X[i] = X[i] * 2
                print(X[i].data)
        """,
        # Writes into a row's copy (the indptr form would write the matrix).
        """
        import scipy.sparse as sp
        def f(X: sp.csr_matrix, n):
            for i in range(n):
                X[i].data[:] = 0
        """,
        # Entries: written, read at indices no loop changes, by a loop of a few literal
        # iterations, of a matrix of no known format, or at an array of indices (librosa's
        # `rec[i, links]`, a name no loop binds).
        """
        import numpy as np
        import scipy.sparse as sp
        def entries(X: sp.csr_matrix, Y, n: int, rows: np.ndarray):
            for i in range(n):
                X[i, 0] = 1.0
                print(X[0, 1])
            corner = [X[0, j] for j in range(2)]
            unknown = [Y[i, 0] for i in range(n)]
            gathered = [X[rows, j] for j in range(n)]
            for i in range(n):
                links = neighbours(i)
                print(X[i, links])
            return corner, unknown, gathered
        """,
        # Another index than the loop's, and a use of the row with no indptr form.
        """
        import scipy.sparse as sp
        def f(X, order):
            X = X.tocsr()
            for i in range(len(order)):
                print(X[order[i]].indices)
            for i in range(X.shape[0]):
                print(X[i].toarray())
        """,
    )
    INVALID = (
        # One entry per read, in a comprehension in a loop over rows (BERTopic's top-n scores).
        Invalid(
            """
            import numpy as np
            from scipy.sparse import csr_matrix
            def top_n_values(matrix: csr_matrix, indices: np.ndarray) -> np.ndarray:
                top_values = []
                for row, values in enumerate(indices):
                    scores = np.array([matrix[row, value] if value is not None else 0 for value in values])
                    top_values.append(scores)
                return np.array(top_values)
            """,
            line=6,
            column=28,
        ),
        Invalid(
            """
            import numpy as np
            import scipy.sparse as sp
            def neighbour_table(conn: sp.csr_matrix, k: int) -> np.ndarray:
                table = np.full((conn.shape[0], k), -1)
                for i in range(conn.shape[0]):
                    neighbours = conn[i, :].indices
                    table[i, : len(neighbours)] = neighbours
                return table
            """,
            line=6,
            column=22,
        ),
        Invalid(
            """
            import numpy as np
            from scipy.sparse import csr_matrix
            def embed(T, X, n_obs):
                T = csr_matrix(T)
                V = np.zeros_like(X)
                for i in range(n_obs):
                    indices = T[i].indices
                    dX = X[indices] - X[i, None]
                    V[i] = T[i].data.dot(dX)
                return V
            """,
            line=7,
        ),
        # Weak evidence: nothing says `conn` is CSR, but its rows' `.indices` are read.
        Invalid(
            """
            import numpy as np
            import scipy.sparse
            def get_indices_from_csr(conn):
                ixs = np.ones((conn.shape[0], np.max((conn > 0).sum(1)))) * np.nan
                for i in range(ixs.shape[0]):
                    cell_indices = conn[i, :].indices
                    ixs[i, : len(cell_indices)] = cell_indices
                return ixs
            """,
            line=6,
        ),
        Invalid(
            """
            def degrees(graph):
                adj = graph.tocsr()
                out = []
                for v in range(adj.shape[0]):
                    row = adj.getrow(v)
                    out.append(row.nnz)
                return out
            """,
            line=5,
        ),
        Invalid(
            """
            import scipy.sparse
            def totals(X: scipy.sparse.csr_array, n: int):
                totals = []
                for i in range(n):
                    totals.append(X[i].sum())
                return totals
            """,
            line=5,
        ),
    )

    def visit_For_body(self, node: cst.For) -> None:
        if type(node.target) is not cst.Name or not self._runs_over_rows(node.iter):
            return
        loop = self.context.loops.innermost
        if loop is None or loop.node is not node:
            return
        index = node.target.value
        rows: dict[str, cst.BaseExpression] = {}  # names the body binds to a row slice
        reads: list[tuple[cst.BaseExpression, cst.BaseExpression, str]] = []  # (slice, matrix, read)
        for statement in _statements(node.body):
            if (
                type(statement) is cst.Assign
                and len(statement.targets) == 1
                and type(statement.targets[0].target) is cst.Name
                and self._row_slice(statement.value, index) is not None
            ):
                rows[statement.targets[0].target.value] = statement.value
        written = {id(expr) for target in _targets(node.body) for expr in (target, *_expressions(target))}
        for expr in _expressions(node.body):
            read = _read_of(expr) if id(expr) not in written else None
            if read is None:
                continue
            receiver, name = read
            if type(receiver) is cst.Name and receiver.value in rows:
                receiver = rows[receiver.value]
            matrix = self._row_slice(receiver, index)
            if matrix is not None:
                reads.append((receiver, matrix, name))
        if not reads:
            return
        row, matrix, _ = reads[0]
        chain = dotted_name(matrix)
        if chain is None or loop.changes(chain):
            return
        names = list(dict.fromkeys(name for _, other, name in reads if dotted_name(other) == chain))
        if self.context.arrays.sparse_format(matrix) != catalog.SPARSE_CSR and not (
            catalog.SPARSE_CSR_ROW_ATTRIBUTE in names and self.context.imports.has_imported("scipy")
        ):
            return
        shown = [f"`.{name}()`" if name in catalog.SPARSE_ROW_METHODS else f"`.{name}`" for name in names]
        forms = dict.fromkeys(
            (catalog.SPARSE_ROW_ATTRIBUTES.get(name) or catalog.SPARSE_ROW_METHODS[name]).format(matrix=quote(matrix))
            for name in names
        )
        self.report(
            row,
            self.message.format(
                row=quote(row),
                matrix=quote(matrix),
                reads=listed(shown),
                index=index,
                advice=listed([f"`{form}`" for form in forms]),
            ),
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        if len(node.slice) != 2 or dotted_name(node.value) is None:
            return
        indices = [element.slice for element in node.slice]
        if not all(type(index) is cst.Index and index.star is None for index in indices):
            return
        values = [cst.ensure_type(index, cst.Index).value for index in indices]
        if not all(type(value) is cst.Name or integer_value(value) is not None for value in values):
            return
        path = self.context.path_to(node)
        if _is_target(node, path[-2]):
            return
        loops = self.context.loops.enclosing()
        targets = {name for loop in loops for name in loop.targets}
        varying = [value for value in values if type(value) is cst.Name and value.value in targets]
        # Another name may hold an array of indices (``X[i, links]``): not one entry.
        if not varying or len(varying) != sum(type(value) is cst.Name for value in values):
            return
        if any(self.context.arrays.kind_of(value, Evidence.WEAK) for value in varying):
            return
        if all(runs_few_times(loop.node, self.context) for loop in loops):
            return
        format_ = self.context.arrays.sparse_format(node.value)
        if format_ not in (catalog.SPARSE_CSR, catalog.SPARSE_CSC):
            return
        self.report(
            node,
            self.entry_message.format(
                read=quote(node),
                format=format_.upper(),
                matrix=quote(node.value),
                line="row" if format_ == catalog.SPARSE_CSR else "column",
                indices=listed([f"`{quote(value)}`" for value in varying]),
            ),
        )

    def _runs_over_rows(self, iterable: cst.BaseExpression) -> bool:
        """``range(...)`` with a bound that is not a literal (a literal one: a few rows)."""
        if type(iterable) is not cst.Call or not self.context.imports.is_builtin(iterable.func, "range"):
            return False
        return any(integer_value(arg.value) is None for arg in iterable.args)

    def _row_slice(self, expr: cst.BaseExpression, index: str) -> cst.BaseExpression | None:
        """``X`` when ``expr`` is ``X[i]``, ``X[i, :]`` or ``X.getrow(i)`` and ``X`` is known to be
        a CSR matrix, or of no known kind or format (the reads decide)."""
        if type(expr) is cst.Subscript:
            elements = [element.slice for element in expr.slice]
            if not elements or not _is_name(elements[0], index):
                return None
            if len(elements) == 2 and not _is_full_slice(elements[1]):
                return None
            if len(elements) > 2:
                return None
            matrix = expr.value
        elif (
            type(expr) is cst.Call
            and type(expr.func) is cst.Attribute
            and expr.func.attr.value == catalog.SPARSE_ROW_METHOD
            and len(expr.args) == 1
            and type(expr.args[0].value) is cst.Name
            and expr.args[0].value.value == index
        ):
            matrix = expr.func.value
        else:
            return None
        if dotted_name(matrix) is None:
            return None
        arrays = self.context.arrays
        known = arrays.sparse_format(matrix)
        if known == catalog.SPARSE_CSR or (known is None and arrays.kind_of(matrix, Evidence.WEAK) is None):
            return matrix
        return None


def _is_target(node: cst.Subscript, parent: cst.CSTNode) -> bool:
    """``node`` is written or deleted, not read (``X[i, j] = 0``)."""
    if type(parent) is cst.AssignTarget:
        return True
    return type(parent) in (cst.AugAssign, cst.AnnAssign, cst.Del) and getattr(parent, "target", None) is node


def _is_name(element: cst.BaseSlice, name: str) -> bool:
    return type(element) is cst.Index and type(element.value) is cst.Name and element.value.value == name


def _is_full_slice(element: cst.BaseSlice) -> bool:
    return type(element) is cst.Slice and element.lower is None and element.upper is None and element.step is None


def _read_of(expr: cst.CSTNode) -> tuple[cst.BaseExpression, str] | None:
    """``(row, "indices")`` for ``row.indices``, ``(row, "sum")`` for ``row.sum()``."""
    if type(expr) is cst.Attribute and expr.attr.value in catalog.SPARSE_ROW_ATTRIBUTES:
        return expr.value, expr.attr.value
    if (
        type(expr) is cst.Call
        and not expr.args
        and type(expr.func) is cst.Attribute
        and expr.func.attr.value in catalog.SPARSE_ROW_METHODS
    ):
        return expr.func.value, expr.func.attr.value
    return None


def _children(node: cst.CSTNode):
    for child in node.children:
        if not isinstance(child, _OTHER_SCOPES):
            yield child


def _expressions(node: cst.CSTNode):
    """Every node under ``node``, in source order, outside nested functions and classes."""
    for child in _children(node):
        yield child
        yield from _expressions(child)


def _targets(node: cst.CSTNode):
    """What the statements under ``node`` assign or delete (``row.data[:]`` in ``row.data[:] = 0``)."""
    for statement in _statements(node):
        if type(statement) is cst.Assign:
            yield from (target.target for target in statement.targets)
        elif type(statement) in (cst.AugAssign, cst.AnnAssign, cst.Del):
            yield statement.target


def _statements(node: cst.CSTNode):
    for child in _expressions(node):
        if isinstance(child, cst.BaseSmallStatement):
            yield child


def _setup(size: int, target: Target) -> tuple:
    import numpy as np
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    per_row = 10
    rows = np.repeat(np.arange(size), per_row)
    cols = rng.integers(0, size, size * per_row)
    conn = sp.csr_matrix((rng.random(size * per_row), (rows, cols)), shape=(size, size))
    conn.sum_duplicates()
    return (conn, per_row)


def _pattern(conn, k):
    import numpy as np

    table = np.full((conn.shape[0], k), -1)
    for i in range(conn.shape[0]):
        neighbours = conn[i].indices
        table[i, : len(neighbours)] = neighbours
    return table


def _fix(conn, k):
    import numpy as np

    table = np.full((conn.shape[0], k), -1)
    for i in range(conn.shape[0]):
        start, end = conn.indptr[i], conn.indptr[i + 1]
        neighbours = conn.indices[start:end]
        table[i, : len(neighbours)] = neighbours
    return table


SparseRowSliceLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=200,
    size_unit="rows of a CSR matrix with about 10 entries each",
    timed=(
        "A table of each row's column indices (scvelo's `get_indices_from_csr`) of an n×n "
        "float64 `csr_matrix` with about 10 entries a row: `conn[i].indices` per row against "
        "`conn.indices[conn.indptr[i]:conn.indptr[i + 1]]`."
    ),
)
