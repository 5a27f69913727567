"""PFL115: index loops filling an array from the indices alone (nested loops element by element,
or one loop row by row)."""

from __future__ import annotations

from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.imports import dotted_name
from perflint.engine.literals import integer_value, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import mentions, simple_body
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY


class IndexGridLoop(Rule):
    """``for i in range(n): for j in range(m): M[i, j] = f(i, j)``: n·m interpreted stores."""

    code = "PFL115"
    name = "index-grid-loop"
    family = FAMILY
    summary = (
        "Index loops filling an array (element by element, or row by row) from the loop indices and constants only"
    )
    message = "Nested loops fill `{target}` element by element from the indices; use `{vectorised}`"
    message_rows = "Loop writes `{target}` one row at a time from the index alone; use `{vectorised}`"
    fix_title = "Build the index grids with `np.ogrid`/`np.indices` (or `torch.meshgrid`) and assign once"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its 3 findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round8/dev_set_round8.md; its known limitations say why).
    default_enabled = False
    required_text = ("numpy", "torch")
    reported_at = "the outer `for` statement"

    what_it_does = (
        "Flags two or more directly nested `for` loops over `range(...)` (bounds that do not depend "
        "on the other loops' indices), whose innermost body is one assignment `M[i, j] = <expr>` (or "
        "`M[i, j, k]`, `M[i][j]`) into a known NumPy array or torch tensor `M`, indexed by every loop"
        " index once, where `<expr>` is built only from the loop indices, numbers, names from outside"
        " the loops that are not arrays, arithmetic operators, single comparisons and element-wise "
        "functions of `M`'s own library (NumPy's for a NumPy array, torch's for a tensor). Also a "
        "single loop `for i in range(...)` whose body is one store of a whole row, `M[i, :] = "
        "<expr>` or `M[i, :] += <expr>` (also `-=`, `*=`, `/=`; `M[i] = <expr>` when `M` was made 1-D"
        " in the function, `np.zeros(n)`), with `<expr>` built from `i` in the same way: one indexed "
        "store per row, and on a tensor one kernel launch per row."
    )
    known_limitations = (
        "Left alone: bodies that read other arrays (PFL101 owns element-wise loops over arrays), "
        "triangular loops (`range(i)`), and functions compiled by numba, JAX, TorchScript, "
        "`torch.compile` or Cython. A single loop is left alone over a literal range of fewer than 8 "
        "rows, when it writes a constant (no index in the value), and for `M[i] = <expr>` unless `M` "
        "was made 1-D in the function (a row of a 2-D array needs the broadcast the message cannot "
        "size). Its advice adds one `None` per `:` written after the index: for an array with more "
        "dimensions than the subscript shows, add the missing ones."
        " Opt-in since round 8 of the precision review: over every review of code it had not been tuned "
        "on (`benchmarks/results/precision/round5/track_record.md`, "
        "`benchmarks/results/precision/round8/dev_set_round8.md`), none of its 3 findings was worth "
        "fixing. Each filled a few dozen elements beside far heavier work in the same call: a "
        "patch-index vector of 15 entries before a CLIP forward (pyiqa), one add per ground-truth box "
        "beside IoUs against every anchor (monai), a loop over the number of features beside model "
        "predictions on every sampled subset (dowhy)."
    )
    why_bad = (
        "Every element costs an interpreted iteration, index arithmetic on Python integers and "
        "a scalar store through the array's `__setitem__`. The same values come from index "
        "grids and one broadcast expression in compiled code: a 16×64×64 fill measured 28 ms "
        "in loops against 0.15 ms broadcast."
    )
    example = """\
import numpy as np

def distance_grid(n: int, m: int) -> np.ndarray:
    grid = np.zeros((n, m))
    for i in range(n):
        for j in range(m):
            grid[i, j] = ((i - n / 2) ** 2 + (j - m / 2) ** 2) ** 0.5
    return grid
"""
    use_instead = """\
import numpy as np

def distance_grid(n: int, m: int) -> np.ndarray:
    i, j = np.ogrid[:n, :m]
    return ((i - n / 2) ** 2 + (j - m / 2) ** 2) ** 0.5
"""
    fix_safety_note = (
        "Unsafe: the broadcast expression computes the same values, but in the grids' integer "
        "dtype where the loop used Python integers: integer division and powers can overflow "
        "or truncate differently (`i ** 40`), and the result is cast to `M`'s dtype on "
        "assignment as before. Check expressions that are integer-only."
    )

    VALID = (
        # A torch function on NumPy's grid would fail: the grid's library only; and `where`
        # with a condition alone gives indices, not an element-wise choice.
        """
        import numpy as np
        import torch
        def grids(n: int, m: int):
            a = np.zeros((n, m))
            b = np.zeros((n, m))
            for i in range(n):
                for j in range(m):
                    a[i, j] = torch.sqrt(i * j)
            for i in range(n):
                for j in range(m):
                    b[i, j] = np.where(i > j)
            return a, b
        """,
        # Reads another array: PFL101 and friends own those.
        """
        import numpy as np
        def f(a: np.ndarray, n: int, m: int):
            out = np.zeros((n, m))
            for i in range(n):
                for j in range(m):
                    out[i, j] = a[i, j] * 2
        """,
        # A triangular loop, and one that uses only one index.
        """
        import numpy as np
        def f(n: int):
            out = np.zeros((n, n))
            for i in range(n):
                for j in range(i):
                    out[i, j] = i - j
            for i in range(n):
                for j in range(n):
                    out[i, 0] = i
        """,
        # Not a known array; and a body with more than the one assignment.
        """
        import numpy as np
        def f(table, n: int):
            grid = np.zeros((n, n))
            for i in range(n):
                for j in range(n):
                    table[i, j] = i + j
            for i in range(n):
                for j in range(n):
                    grid[i, j] = i + j
                    print(i)
        """,
        # Single loops: a row of a 2-D array from `M[i]` alone (its rank is not shown), a constant
        # fill, a literal handful of rows, a value read from another array, a second statement.
        """
        import numpy as np
        def f(table: np.ndarray, other: np.ndarray, n: int):
            for i in range(n):
                table[i] = i * 2
            for i in range(n):
                table[i, :] = 0
            for i in range(4):
                table[i, :] = i
            for i in range(n):
                table[i, :] = other[i] * i
            for i in range(n):
                table[i, :] = i
                print(i)
            eye = np.eye(n)
            for i in range(n):
                eye[i] = i
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def distance_grid(n: int, m: int) -> np.ndarray:
                grid = np.zeros((n, m))
                for i in range(n):
                    for j in range(m):
                        grid[i, j] = ((i - n / 2) ** 2 + (j - m / 2) ** 2) ** 0.5
                return grid
            """,
            line=4,
            column=5,
        ),
        # A single comparison is element-wise: an identity matrix.
        Invalid(
            """
            import numpy as np
            def identity(n: int) -> np.ndarray:
                eye = np.zeros((n, n))
                for i in range(n):
                    for j in range(n):
                        eye[i, j] = i == j
                return eye
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def positions(frames: int, h: int, w: int) -> torch.Tensor:
                codes = torch.empty(frames, h, w)
                for t in range(frames):
                    for y in range(h):
                        for x in range(w):
                            codes[t, y, x] = t * h * w + y * w + x
                return codes
            """,
            line=4,
        ),
        Invalid(
            """
            import numpy as np
            def kernel(size: int, sigma: float) -> np.ndarray:
                k = np.zeros((size, size))
                for a in range(size):
                    for b in range(size):
                        k[a][b] = np.exp(-((a - size // 2) ** 2 + (b - size // 2) ** 2) / (2 * sigma**2))
                return k
            """,
            line=4,
        ),
        # A single loop writing whole rows from the index: one kernel per row on a tensor.
        Invalid(
            """
            import torch
            def offset(candidate_idx: torch.Tensor, num_gt: int, num_anchors: int) -> torch.Tensor:
                for ng in range(num_gt):
                    candidate_idx[ng, :] += ng * num_anchors
                return candidate_idx
            """,
            line=3,
            column=5,
        ),
        Invalid(
            """
            import numpy as np
            def ramp(n: int) -> np.ndarray:
                ramp = np.zeros(n)
                for i in range(1, n):
                    ramp[i] = i / n
                return ramp
            """,
            line=4,
        ),
    )

    def visit_For(self, node: cst.For) -> None:
        if self._check_row_fill(node):
            return
        loops: list[cst.For] = []
        current: cst.BaseStatement = node
        while type(current) is cst.For:
            if current.orelse is not None or type(current.target) is not cst.Name or not self._is_range(current.iter):
                return
            loops.append(current)
            body = current.body
            if type(body) is not cst.IndentedBlock or len(body.body) != 1:
                return
            current = body.body[0]
        if len(loops) < 2 or type(current) is not cst.SimpleStatementLine or len(current.body) != 1:
            return
        statement = current.body[0]
        if type(statement) is not cst.Assign or len(statement.targets) != 1:
            return
        indices = [cast(cst.Name, loop.target).value for loop in loops]  # each checked above
        if any(mentions(loop.iter, indices) for loop in loops):
            return
        found = _indexed_array(statement.targets[0].target)
        if found is None:
            return
        array, used = found
        kind = self.context.arrays.kind_of(array)
        if kind not in (catalog.NUMPY, catalog.TORCH) or sorted(used) != sorted(indices) or len(set(used)) != len(used):
            return
        if not self._from_indices(statement.value, set(indices), kind):
            return
        if self.context.in_compiled_code():
            return
        self.report(
            node,
            self.message.format(
                target=quote(statement.targets[0].target),
                vectorised=self._vectorised(loops, used, array, statement.value, kind),
            ),
        )

    def _check_row_fill(self, node: cst.For) -> bool:
        """``for i in range(n): M[i, :] += i * c``: one loop writing a whole row (or the element
        of a 1-D array) from the index alone, one indexed store (a kernel, on a tensor) per row.
        True when ``node`` is such a single loop, reported or not, so that the nested-loop check
        is skipped."""
        if node.orelse is not None or type(node.target) is not cst.Name or not self._is_range(node.iter):
            return False
        bounds_call = node.iter
        if type(bounds_call) is not cst.Call:
            return False
        statements = simple_body(node.body)
        if len(statements) != 1:
            return False
        statement = statements[0]
        if type(statement) is cst.Assign and len(statement.targets) == 1:
            target, operator = statement.targets[0].target, "="
        elif type(statement) is cst.AugAssign and type(statement.operator) in _AUGMENTED:
            target, operator = statement.target, _AUGMENTED[type(statement.operator)]
        else:
            return False
        index = node.target.value
        row = _row_of(target, index)
        if row is None or mentions(bounds_call, index) or _tiny_range(bounds_call):
            return True
        array, trailing = row
        kind = self.context.arrays.kind_of(array)
        if kind not in (catalog.NUMPY, catalog.TORCH) or not self._from_indices(statement.value, {index}, kind):
            return True
        if not trailing and not self._made_one_dimensional(array):
            # ``M[i] = f(i)`` fills a whole row of a 2-D ``M``: the broadcast needs its number of
            # dimensions, which only a 1-D constructor shows.
            return True
        if self.context.in_compiled_code():
            return True
        bounds = ", ".join(quote(arg.value) for arg in bounds_call.args)
        span = ":".join(quote(arg.value) for arg in bounds_call.args)
        span = span if len(bounds_call.args) == 2 else ":" + span
        if kind == catalog.TORCH:
            indices = f"torch.arange({bounds}, device={quote(array)}.device)"
        else:
            indices = f"np.arange({bounds})"
        indices += "[:" + ", None" * trailing + "]" if trailing else ""
        vectorised = f"{index} = {indices}; {quote(array)}[{span}] {operator} {quote(statement.value)}"
        self.report(node, self.message_rows.format(target=quote(target), vectorised=vectorised))
        return True

    def _made_one_dimensional(self, array: cst.BaseExpression) -> bool:
        """``array`` is a name bound to a factory of one size that is not a shape tuple:
        ``np.zeros(n)``, ``torch.empty(n, device=d)``."""
        made = value_of(array, self.context)
        constructor = self.context.arrays.constructor_of(made) if made is not None else None
        if type(made) is not cst.Call or constructor not in catalog.FACTORIES:
            return False
        if constructor.rpartition(".")[2] not in _SHAPE_FACTORIES:
            return False
        sizes = [arg for arg in made.args if arg.keyword is None]
        return (
            len(sizes) == 1
            and not sizes[0].star
            and type(sizes[0].value) not in (cst.Tuple, cst.List)
            and not isinstance(literal_value(sizes[0].value), str)
        )

    def _is_range(self, iterable: cst.BaseExpression) -> bool:
        return (
            type(iterable) is cst.Call
            and self.context.imports.is_builtin(iterable.func, "range")
            and 1 <= len(iterable.args) <= 2
            and all(arg.keyword is None and not arg.star for arg in iterable.args)
        )

    def _from_indices(self, expr: cst.BaseExpression, indices: set[str], kind: str) -> bool:
        """``expr`` is element-wise over the indices, numbers and non-array outside names,
        calling only element-wise functions of the grid's own library (``kind``: ``np.ogrid``
        gives NumPy arrays, ``torch.meshgrid`` tensors), and uses an index."""
        uses_index = False

        def leaf(node: cst.BaseExpression) -> bool | None:
            nonlocal uses_index
            if type(node) is not cst.Name and type(node) is not cst.Attribute:
                return None
            chain = dotted_name(node)
            if chain is None:
                return False
            if chain in indices:
                uses_index = True
                return True
            return self.context.arrays.kind_of(node) is None

        return is_elementwise(expr, leaf, self.context, libraries=(kind,)) and uses_index

    def _vectorised(
        self, loops: list[cst.For], used: list[str], array: cst.BaseExpression, value: cst.BaseExpression, kind: str
    ) -> str:
        bounds = {
            cast(cst.Name, loop.target).value: [quote(arg.value) for arg in cast(cst.Call, loop.iter).args]
            for loop in loops
        }
        slices = ", ".join(
            ":".join(bounds[index]) if len(bounds[index]) == 2 else ":" + bounds[index][0] for index in used
        )
        expression = quote(value)
        if kind == catalog.TORCH:
            aranges = ", ".join(f"torch.arange({', '.join(bounds[index])})" for index in used)
            grids = f'{", ".join(used)} = torch.meshgrid({aranges}, indexing="ij")'
        else:
            grids = f"{', '.join(used)} = np.ogrid[{slices}]"
        return f"{grids}; {quote(array)}[{slices}] = {expression}"


_AUGMENTED = {
    cst.AddAssign: "+=",
    cst.SubtractAssign: "-=",
    cst.MultiplyAssign: "*=",
    cst.DivideAssign: "/=",
}
# Factories whose positional arguments are the shape (``np.eye(n)`` is 2-D from one size).
_SHAPE_FACTORIES = frozenset({"zeros", "ones", "empty", "arange"})
# A single loop over fewer rows than this (``range(3)``, written as a literal) costs too little.
_FEW_ROWS = 8


def _row_of(target: cst.BaseExpression, index: str) -> tuple[cst.BaseExpression, int] | None:
    """``(M, k)`` for ``M[i]`` (k = 0) or ``M[i, :, …]`` with k whole slices after the index."""
    if type(target) is not cst.Subscript or type(target.value) is cst.Subscript:
        return None
    first, *rest = target.slice
    if type(first.slice) is not cst.Index or type(first.slice.value) is not cst.Name:
        return None
    if first.slice.value.value != index:
        return None
    for element in rest:
        whole = element.slice
        if type(whole) is not cst.Slice or whole.lower is not None or whole.upper is not None or whole.step is not None:
            return None
    return target.value, len(rest)


def _tiny_range(iterable: cst.Call) -> bool:
    """``range(3)``: a literal bound below ``_FEW_ROWS``."""
    stop = integer_value(iterable.args[-1].value)
    return stop is not None and stop < _FEW_ROWS


def _indexed_array(target: cst.BaseExpression) -> tuple[cst.BaseExpression, list[str]] | None:
    """``(M, [i, j])`` for ``M[i, j]`` or ``M[i][j]``, each index a bare name."""
    names: list[str] = []
    while type(target) is cst.Subscript:
        level = []
        for element in target.slice:
            index = element.slice
            if type(index) is not cst.Index or type(index.value) is not cst.Name:
                return None
            level.append(index.value.value)
        names = level + names
        target = target.value
    return (target, names) if names else None


def _setup(size: int, target: Target) -> tuple:
    return (size,)


def _pattern(size):
    import numpy as np

    grid = np.zeros((16, size, size))
    for t in range(16):
        for y in range(size):
            for x in range(size):
                grid[t, y, x] = t * size * size + y * size + x
    return grid


def _fix(size):
    import numpy as np

    t, y, x = np.ogrid[:16, :size, :size]
    grid = np.zeros((16, size, size))
    grid[:16, :size, :size] = t * size * size + y * size + x
    return grid


IndexGridLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 32, 96),
    check_size=4,
    size_unit="rows and columns of each of 16 planes",
    timed=(
        "Filling a 16 x n x n float64 grid with `t*n*n + y*n + x`: a triple Python loop over the "
        "indices against `np.ogrid` broadcasting."
    ),
)
