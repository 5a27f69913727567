"""PFL101: a Python loop over array indices that applies an element-wise expression."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.elementwise import ArrayComprehension, array_from_comprehension, is_elementwise
from perflint.engine.imports import chains_overlap, dotted_name
from perflint.engine.literals import integer_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import code_of, reference
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.sizes import items_in, runs_few_times
from perflint.engine.walker import mentions, simple_body
from perflint.measure.spec import ARRAY_BACKEND, ARRAY_DEVICES, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

ElementStatement = Union[cst.Assign, cst.AugAssign]


@dataclass
class _IndexLoop:
    """What one candidate loop reads and writes, gathered while checking its body."""

    index: str
    kind: catalog.ArrayKind | None
    written: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    elements: list[cst.Subscript] = field(default_factory=list)
    # Rows of an index matrix spelling one index (``tuple(X[i])`` of ``a[tuple(X[i])]``).
    rows: list[cst.Call] = field(default_factory=list)
    # Arrays read at an index taken from another array (``a`` of ``a[idx[i]]``): a gather.
    gathered: set[str] = field(default_factory=set)
    # The arrays whose elements (or gathered rows) the body computes with, as written, by chain.
    operands: dict[str, cst.BaseExpression] = field(default_factory=dict)
    # The arrays the body writes, as written, by chain.
    targets: dict[str, cst.BaseExpression] = field(default_factory=dict)
    # Names the body assigns one element's value to (``t = a[i] * 2``), and of those, the ones
    # assigned so far while checking the body in order.
    temporaries: set[str] = field(default_factory=set)
    assigned: set[str] = field(default_factory=set)
    # Whether each array is indexed at a fixed column (``out[i, 0]``: ``out[:, 0]`` whole), by chain.
    at_column: dict[str, bool] = field(default_factory=dict)
    # Operands of no known kind (a parameter ``x`` of a NumPy loop), made arrays in the advice.
    untyped: set[str] = field(default_factory=set)


class ElementwiseIndexLoop(Rule):
    """An index loop whose every statement writes one element from the same-index elements."""

    code = "PFL101"
    name = "elementwise-index-loop"
    family = FAMILY
    summary = "Python loop over array indices applying an element-wise expression"
    message = "Loop applies `{loop}` element by element; use `{vectorised}`"
    running_message = "Loop carries a running result from element to element, `{loop}`; use `{vectorised}`"
    broadcast_message = (
        "Loop applies `{loop}` element by element; use `{vectorised}` once {narrower} {verb} as "
        "many dimensions as `{array}` ({ndim}), with axes of length 1 after the first "
        "(`{example}` for a 1-D `{first}`), for each element to broadcast over a row as in the loop"
    )
    comprehension_message = "`{call}` computes `{item}` one element of `{array}` at a time; use `{vectorised}`"
    fix_title = "Replace the loop with its assignment on whole arrays (`out[:] = ...`)"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = ("numpy", "torch")
    reported_at = "the `for` statement; for a comprehension, the call that makes the array"

    what_it_does = (
        "Flags `for i in range(len(a))` (also `range(a.shape[0])`, NumPy's `range(a.size)`, torch's "
        "`range(a.size(0))`, and `range(n)` with `n = len(a)` or `n, d = a.shape`, or with an array "
        "the body writes made that long: `out = np.zeros(n)`) over a known NumPy array or torch tensor `a` when every statement of the body "
        "assigns one element, `b[i] = <expr>` or `b[i] += <expr>` with `b` a known array of the same "
        "library, or a temporary holding one element's value (`t = a[i] * 2; b[i] = t + 1`), and "
        "`<expr>` is built only from elements `x[i]` of known arrays, gathers through an index read at "
        "the loop index (`x[idx[i]]`, or an index matrix's row `x[tuple(X[i])]`: `x[idx]`, "
        "`x[tuple(X.T)]` on whole arrays), temporaries assigned earlier in the iteration, "
        "numbers, names from outside the loop that are not arrays, arithmetic, bitwise and single "
        "comparison operators, and element-wise functions (`np.sqrt`…). "
        "Also a running reduction along a whole NumPy array (`a[i] += a[i - 1]`): `np.cumsum(a)`; "
        "and such items in a comprehension over an array, made an array (`np.array([x * 2 if x > 0 "
        "else 0 for x in a])`: `np.where(a > 0, a * 2, 0)`), or taking "
        "`X[i][cols]` of every row (`np.array(X[:, cols])`)."
    )
    known_limitations = (
        "A loop the code states runs at most 8 times (`np.zeros(3)`) is left alone. Not flagged: a body that calls any other function, uses the index as a value, reads an element "
        "at another index (`b[i - 1]`) or gathers from an array the loop writes (`b[i] = b[idx[i]]`), reads a temporary before the iteration assigns it (a value "
        "carried from the previous iteration) or accumulates into one, writes at an index from another "
        "array (`T[idx[i]] += w[i]`, a scatter: PFL117's), reads a written array whole, or a loop with "
        "`else`, nor a loop in a function compiled by numba, JAX, TorchScript, `torch.compile` or Cython "
        "(as a decorator or by a call that wraps it), where an index loop is compiled code.\n\n"
        "Not flagged: arrays held in attributes (`for i in range(self.n_points): self.y[i] = self.x[i] * "
        "2`) other than a table gathered from, which the engine does not know to be arrays; a range "
        "whose bound is a parameter with no "
        "array made that long (the loop may fill only part of the arrays); a scatter (`T[idx[i]] += "
        "w[i]`, PFL117's); a body with a condition, a call of another function or a temporary carried "
        "across iterations. On the 35 code bases of the development set it reported nothing before or "
        "after the widening to temporaries and gathers: their index loops are compiled by numba (UMAP) "
        "or are not element-wise. A gather's index array of unknown type is taken to hold indices: "
        "one that is a dict keyed by position would make the advised `x[idx]` wrong.\n\n"
        "A running reduction: one statement combining each element with its neighbour through "
        "`np.maximum`, `np.minimum`, `np.fmax`, `np.fmin`, the builtins `max`/`min`, `+` or `*` "
        "(`np.cumprod`), over `range(1, len(a))` or back over `range(a.size - 1, 0, -1)` writing "
        "`a[i - 1]` (the precision envelope of average-precision code; the same on `a[::-1]`), with "
        "no fix offered. It is flagged only over the whole array (a range from the second element "
        "to the end, or back from the last but one), on one array, with no other statement in the "
        "body; a running `max`/`min` with the builtins differs from `np.maximum.accumulate` "
        "only where the array holds NaN (the builtins keep or drop it by the order of the operands).\n\n"
        "Where the code states that an array the loop indexes has two or more dimensions (`b, c, t = "
        "X.shape`, `torch.zeros((b, c, t))`) and another it computes with may have fewer (`lam[i] * "
        "X[i]`), an element of the narrower one broadcast over a row in the loop, while the whole "
        "arrays would broadcast over the last axes: the message says to give it axes of length 1 "
        "(`lam[:, None, None]` for a 1-D `lam`), and no fix is offered. Where no dimension is "
        "stated, the arrays are taken to have the same shape.\n\n"
        "In a NumPy loop, an element `x[i]` of a parameter of no known kind (CDT's mechanisms take "
        "`x` untyped) counts as an array's: the advice makes it one, `np.asarray(x)`, and no fix "
        "is offered. An element at a written-out column, `b[i, 0]` or `x[i, 0]`, is the column "
        "`b[:, 0]` on whole arrays.\n\n"
        "`a` must be among the arrays indexed. A `range(0, …)` start counts as `range(…)`. A gather's index may be a list, and its table an attribute its class assigns an array "
        "once (`self.table = np.zeros(n)`). A comprehension is flagged only as the whole argument of `np.array`, `np.asarray`, "
        "`torch.tensor` (and the other constructors from a sequence) or `np.stack`/`torch.stack` "
        "along the first axis, of the iterated array's own library, with no `dtype=`, one `for` "
        "clause and no `if` clause; a list kept as a list, or a comprehension over a list or a "
        "value of unknown type, is not. A comprehension over `range(X.shape[0])` of an `X` of no "
        "known library is flagged only when each item is a part of a row (`X[i][cols]`), at an index "
        "that is not a tuple; the advice keeps `np.array(...)`, which copies where `X[:, cols]` is "
        "a view and converts an `X` of another library. Rows gathered in a comprehension over a "
        "list or `zip` of index arrays (`[[x[a], x[p]] for a, p in zip(A, P)]`), and items "
        "gathered at an index read from another array (`preds[i, t[i]]`) are not flagged. `np.where` computes both branches of a conditional "
        "expression on every element, so a branch that only its condition keeps valid "
        "(`np.log(x) if x > 0 else 0`) warns where the comprehension did not."
    )
    why_bad = (
        "Each iteration runs in the interpreter: it boxes an element into a scalar object, "
        "dispatches every operator and function call for that one value, and unboxes the result. "
        "The same expression on whole arrays runs the arithmetic in compiled loops (SIMD on a "
        "CPU, one kernel launch per operation on a GPU), typically two or three orders of "
        "magnitude faster for arrays of thousands of elements. On a torch tensor every "
        "iteration also builds a 0-d tensor and, under autograd, a graph node per element."
    )
    example = """\
import numpy as np

def normalise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty_like(a)
    for i in range(len(a)):
        out[i] = np.sqrt(a[i]) * 2 + b[i]
    return out
"""
    use_instead = """\
import numpy as np

def normalise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sqrt(a) * 2 + b
"""
    fix_safety_note = (
        "The fix replaces the loop by its one statement on whole arrays: `out[i] = np.sqrt(a[i]) "
        "* 2` becomes `out[:] = np.sqrt(a) * 2` (the comments above the loop stay). It is "
        "offered only where the loop is that one statement, and its range covers exactly the "
        "first axis of every array the statement indexes, which all have the same shape: each is "
        "the array the range is taken from, or a name made from it with a `*_like` factory "
        "(`out = np.empty_like(a)`) in the same block, untouched up to the loop. Elsewhere "
        "(arrays of unknown lengths, `range(a.size)` over a NumPy array that may have more "
        "than one axis, several statements) it offers no fix. It is unsafe: the loop left its "
        "index bound after it ends (`i` is the last index), the fix binds none; torch computes "
        "some functions on a 0-d element with other code than on a whole tensor, so the last "
        "bits can differ (`torch.sigmoid`); NumPy's augmented assignment on whole arrays "
        "refuses a result it must cast to another kind (`b[:] += 0.5` on an integer array "
        "raises), where the loop cast each element; and a name from outside the loop that holds "
        "an array rather than a scalar broadcasts against whole arrays differently (names known "
        "to be arrays are never flagged). Under NumPy 1.x a float32 element combined with a "
        "Python float is computed in float64 by the loop and in float32 on whole arrays."
    )

    VALID = (
        # A list on one path, an array on the other: after the `if` it may be a list, and
        # `out[:] = a * 2` would repeat it rather than double it.
        """
        import numpy as np
        def double(c):
            a = [1.0, 2.0]
            if c:
                a = np.zeros(2)
            out = np.zeros(2)
            for i in range(len(a)):
                out[i] = a[i] * 2
        """,
        # Not a known array: a list indexed by position.
        """
        import numpy as np
        values = [1.0, 2.0]
        out = np.zeros(2)
        for i in range(len(values)):
            out[i] = values[i] * 2
        """,
        # A function that is not element-wise may not vectorise.
        """
        import numpy as np
        a = np.random.rand(10, 3)
        out = np.zeros(10)
        for i in range(len(a)):
            out[i] = np.sum(a[i]) + helper(a[i])
        """,
        # A recurrence: each element depends on the previous one.
        """
        import numpy as np
        a = np.random.rand(10)
        out = np.zeros(10)
        for i in range(1, len(a)):
            out[i] = out[i - 1] + a[i]
        for i in range(len(a)):
            out[i] = out[i - 1] + a[i]
        """,
        # The loop variable used as a value.
        """
        import numpy as np
        a = np.random.rand(10)
        out = np.zeros(10)
        for i in range(len(a)):
            out[i] = a[i] * i
        """,
        # Unknown arrays: no evidence that these are arrays at all.
        """
        import numpy as np
        def f(a, out):
            for i in range(len(a)):
                out[i] = np.exp(a[i])
        """,
        # A second statement that is not an element assignment.
        """
        import numpy as np
        a = np.random.rand(10)
        out = np.zeros(10)
        total = 0.0
        for i in range(len(a)):
            out[i] = a[i] * 2
            total += a[i]
        """,
        # ``break`` ends the loop early; ``else`` runs code the rewrite would have to keep.
        """
        import numpy as np
        a = np.random.rand(10)
        out = np.zeros(10)
        for i in range(len(a)):
            out[i] = a[i] * 2
            if a[i] > 0.5:
                break
        for i in range(len(a)):
            out[i] = a[i] * 2
        else:
            done = True
        """,
        # An array from outside the loop broadcasts differently against the whole array.
        """
        import torch
        def centre(x: torch.Tensor, out: torch.Tensor):
            mean = x.mean(0)
            for i in range(x.shape[0]):
                out[i] = x[i] - mean
        """,
        # The written array is read whole: the expression depends on earlier iterations.
        """
        import numpy as np
        a = np.random.rand(10)
        out = np.zeros(10)
        for i in range(len(a)):
            out[i] = a[i] + out
        """,
        # The range is over an array the body never indexes: lengths may differ.
        """
        import numpy as np
        a = np.random.rand(10)
        b = np.random.rand(20)
        out = np.zeros(20)
        for i in range(len(a)):
            out[i] = b[i] * 2
        """,
        # Two-dimensional indexing off a fixed column (the diagonal), and ``math`` functions
        # that only take scalars.
        """
        import math
        import numpy as np
        a = np.random.rand(10, 2)
        out = np.zeros((10, 2))
        for i in range(len(a)):
            out[i, i] = a[i, 0]
        for i in range(len(a)):
            out[i] = math.exp(a[i])
        """,
        # Compiled by numba (or JAX, TorchScript, torch.compile, Cython): the loop is machine code.
        """
        import numba
        import numpy as np
        @numba.njit(cache=True)
        def scale(a: np.ndarray, out: np.ndarray) -> None:
            for i in range(len(a)):
                out[i] = a[i] * 2.0
        """,
        # A pandas Series indexes by label, not position.
        """
        import numpy as np
        import pandas as pd
        s = pd.Series(np.ones(2))
        t = pd.Series(np.zeros(2))
        for i in range(len(s)):
            t[i] = s[i] * 2
        """,
        # A length other than the arrays' (`n = len(a) // 2`, a range shorter than the array
        # written), a length that is a parameter, and a length rebound on one path only.
        """
        import numpy as np
        def f(a: np.ndarray, b: np.ndarray, m: int, c):
            n = len(a) // 2
            for i in range(n):
                b[i] = a[i] * 2
            out = np.zeros(m + 1)
            for i in range(m):
                out[i] = a[i] * 2
            for i in range(m):
                b[i] = a[i] * 2
            k = len(a)
            if c:
                k = 3
            for i in range(k):
                b[i] = a[i] * 2
        """,
        # A temporary read before the iteration assigns it carries the previous element over
        # (a recurrence), as does an accumulator; a gather from the array the loop writes reads
        # elements earlier iterations wrote; a scatter (`b[idx[i]] = …`, `T[idx[i]] += w[i]`)
        # writes at an index from another array (PFL117's).
        """
        import numpy as np
        def f(a: np.ndarray, b: np.ndarray, idx: np.ndarray, t: float):
            for i in range(len(a)):
                b[i] = t + a[i]
                t = a[i] * 2
            acc = 0.0
            for i in range(len(a)):
                acc += a[i]
                b[i] = acc
            for i in range(len(b)):
                b[i] = b[idx[i]] + 1
            for i in range(len(a)):
                b[idx[i]] = a[i]
            for i in range(len(a)):
                b[idx[i]] += a[i]
        """,
        # A loop the code states runs a handful of times (3 coordinates): not worth a rewrite.
        """
        import numpy as np
        def f(point: np.ndarray):
            origin = np.zeros(3)
            out = np.zeros(3)
            for i in range(len(origin)):
                out[i] = np.sqrt(origin[i] + point[i])
            return out
        """,
        # A gather through an index that is not an element at the loop index, or from a list.
        """
        import numpy as np
        def f(a: np.ndarray, b: np.ndarray, idx: np.ndarray, table: list):
            for i in range(len(b)):
                b[i] = a[idx[i + 1]]
            for i in range(len(b)):
                b[i] = table[idx[i]]
        """,
        # A table held in an attribute that is not known to be an array (a dict keyed by rows,
        # an attribute assigned in two places), and a row index as a tuple of another kind.
        """
        import torch
        class Table:
            def __init__(self, n):
                self.counts = {}
                self.probs = torch.zeros(n)
            def reset(self, n):
                self.probs = torch.ones(n)
            def log_probability(self, X):
                logps = torch.zeros(len(X))
                for i in range(len(X)):
                    logps[i] = self.counts[tuple(X[i])]
                for i in range(len(X)):
                    logps[i] = self.probs[tuple(X[i])]
                for i in range(len(X)):
                    logps[i] = self.probs[tuple(X[i], i)]
                return logps
        """,
        # The written array was made another length than the range runs (`len(Y)`, not `len(X)`).
        """
        import torch
        def f(T: torch.Tensor, X, Y):
            out = torch.zeros(len(Y))
            for i in range(len(X)):
                out[i] = T[X[i]]
        """,
        # Near misses of a running reduction: part of the array (`range(1, n)`), a difference
        # (not associative), two arrays, a neighbour two elements back, an unknown `values`.
        """
        import numpy as np
        def runs(a: np.ndarray, b: np.ndarray, n: int, values):
            for i in range(1, n):
                a[i] += a[i - 1]
            for i in range(1, len(a)):
                a[i] = a[i - 1] - a[i]
            for i in range(1, len(a)):
                b[i] = max(b[i - 1], a[i])
            for i in range(2, len(a)):
                a[i] += a[i - 2]
            for i in range(1, len(values)):
                values[i] = max(values[i], values[i - 1])
        """,
        # Comprehensions that are not an element-wise computation over a known array into one
        # array: a list kept as a list, a list or a parameter of unknown type iterated, a call of
        # another function, the bare element (a copy), the index as a value, an `if` clause, a
        # `dtype=`, a constructor of the other library, and an array of another length read.
        """
        import numpy as np
        import torch
        def f(a: np.ndarray, t: torch.Tensor, b: np.ndarray, values, c):
            doubled = [x * 2 for x in a]
            u = np.array([x * 2 for x in values])
            v = np.array([x * 2 for x in c])
            w = np.array([score(x) for x in a])
            y = np.array([x for x in a])
            z = np.array([i * 2 for i in range(len(a))])
            p = np.array([x * 2 for x in a if x > 0])
            q = np.array([x * 2 for x in a], dtype=np.float32)
            r = torch.tensor([x * 2 for x in a])
            s = np.array([b[i] * 2 for i in range(len(a))])
        """,
        # A range over the second axis (`d` of `n, d = X.shape`) while the body indexes the
        # first: the arrays' lengths along it are unknown.
        """
        import numpy as np
        def f(X: np.ndarray, out: np.ndarray):
            n, d = X.shape
            for j in range(d):
                out[j] = X[j] * 2
        """,
        # Rows gathered into a list kept as a list; a part of each row at a tuple (several of
        # the row's axes) or at the row's own index; an array of unknown library whose rows are
        # computed with (its shape read is no evidence of what arithmetic on it gives); a
        # length that reads no shape.
        """
        import numpy as np
        def f(xx, cols):
            rows = [xx[i][cols] for i in range(xx.shape[0])]
            t = (0, 1)
            a = np.array([xx[i][t] for i in range(xx.shape[0])])
            b = np.array([xx[i][i] for i in range(xx.shape[0])])
            c = np.array([xx[i][cols] * 2 for i in range(xx.shape[0])])
            d = np.array([xx[i][cols] for i in range(len(xx))])
        """,
        # Operands of no known kind that are not a parameter of a NumPy loop: an attribute, a
        # name bound to a call, and any in a torch loop.
        """
        import numpy as np
        import torch
        class Mechanism:
            def mechanism(self, x, n: int):
                result = np.zeros((n, 1))
                for i in range(n):
                    result[i, 0] = self.x[i] * 2
                loaded = load(n)
                for i in range(n):
                    result[i, 0] = loaded[i] * 2
                gates = torch.zeros(n)
                for i in range(n):
                    gates[i] = x[i] * 2
                return result, gates
        """,
    )
    INVALID = (
        # A column written from a parameter of no known kind, the bound an attribute (CDT's
        # sigmoid mechanism): the parameter made an array, no fix offered.
        Invalid(
            """
            import numpy as np
            class SigmoidMechanism:
                def mechanism(self, x):
                    result = np.zeros((self.points, 1))
                    for i in range(self.points):
                        result[i, 0] = self.a * (x[i] + self.c) / (1 + abs(self.b * (x[i] + self.c)))
                    return result
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # A column of a known array copied into a column: the whole columns at once.
        Invalid(
            """
            import numpy as np
            def first_column(a: np.ndarray) -> np.ndarray:
                out = np.zeros((len(a), 2))
                for i in range(len(a)):
                    out[i, 0] = a[i, 0] * 2
                return out
            """,
            line=4,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            def scale(a: np.ndarray, factor: float) -> np.ndarray:
                n = len(a)
                out = np.empty_like(a)
                for i in range(n):
                    out[i] = a[i] * factor
                return out
            """,
            line=5,
            fixed="""
            import numpy as np
            def scale(a: np.ndarray, factor: float) -> np.ndarray:
                n = len(a)
                out = np.empty_like(a)
                out[:] = a * factor
                return out
            """,
        ),
        Invalid(
            """
            import torch
            def gate(x: torch.Tensor, n: int) -> torch.Tensor:
                out = torch.zeros(n)
                for i in range(n):
                    out[i] = torch.sigmoid(x[i])
                return out
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # An array on every path is an array after the paths rejoin.
        Invalid(
            """
            import numpy as np
            def double(c):
                if c:
                    a = np.zeros(8)
                else:
                    a = np.ones(8)
                out = np.empty_like(a)
                for i in range(len(a)):
                    out[i] = a[i] * 2
            """,
            line=8,
            fixed="""
            import numpy as np
            def double(c):
                if c:
                    a = np.zeros(8)
                else:
                    a = np.ones(8)
                out = np.empty_like(a)
                out[:] = a * 2
            """,
        ),
        Invalid(
            """
            import numpy as np

            def scale(a: np.ndarray, out: np.ndarray, factor: float) -> None:
                for i in range(a.shape[0]):
                    out[i] = a[i] * factor + 1.0
            """,
            line=4,
            column=5,
            # Nothing says `out` is as long as `a`: the loop may fill only part of it.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch

            def swish(x: torch.Tensor) -> torch.Tensor:
                y = torch.empty_like(x)
                for i in range(len(x)):
                    y[i] = torch.sigmoid(x[i]) * x[i]
                return y
            """,
            line=5,
            fixed="""
            import torch

            def swish(x: torch.Tensor) -> torch.Tensor:
                y = torch.empty_like(x)
                y[:] = torch.sigmoid(x) * x
                return y
            """,
        ),
        Invalid(
            """
            import numpy as np
            a = np.random.rand(100)
            b = np.zeros(100)
            for i in range(a.size):
                b[i] += np.exp(-a[i])
            """,
            line=4,
            # `a.size` counts every element of `a`, and `b` is of a length the rule does not know.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np

            def clip(values, low, high):
                if isinstance(values, np.ndarray):
                    for i in range(0, len(values)):
                        values[i] = np.minimum(np.maximum(values[i], low), high)
            """,
            line=5,
            fixed="""
            import numpy as np

            def clip(values, low, high):
                if isinstance(values, np.ndarray):
                    values[:] = np.minimum(np.maximum(values, low), high)
            """,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F

            def gate(x: torch.Tensor, g: torch.Tensor, out: torch.Tensor) -> None:
                for i in range(x.size(0)):
                    out[i] = F.relu(x[i]) * (g[i] > 0)
                    out[i] /= 1 + torch.exp(-g[i])
            """,
            line=5,
            # Two statements, and arrays of unknown lengths.
            fixed=NO_FIX,
        ),
        # Through an alias, a loop on one line under a comment, an augmented assignment.
        Invalid(
            """
            import torch as th

            def decay(frame: th.Tensor, rate: float) -> th.Tensor:
                acc = th.ones_like(frame, dtype=th.float64)
                # decay every sample
                for i in range(frame.shape[0]): acc[i] *= th.exp(-rate * frame[i])
                return acc
            """,
            line=6,
            fixed="""
            import torch as th

            def decay(frame: th.Tensor, rate: float) -> th.Tensor:
                acc = th.ones_like(frame, dtype=th.float64)
                # decay every sample
                acc[:] *= th.exp(-rate * frame)
                return acc
            """,
        ),
        # The array the range is over is rebound after `out` was made from it.
        Invalid(
            """
            import numpy as np

            def halves(a: np.ndarray) -> np.ndarray:
                out = np.zeros_like(a)
                a = a[: len(a) // 2]
                for i in range(len(a)):
                    out[i] = a[i] / 2
                return out
            """,
            line=6,
            fixed=NO_FIX,
        ),
        # A comment in the loop would be lost.
        Invalid(
            """
            import numpy as np
            frame = np.random.rand(64)
            out = np.empty_like(frame)
            for i in range(len(frame)):
                out[i] = np.sqrt(frame[i]) * 0.5 + 1.0  # gain, offset
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # A body with temporaries: each holds one element, and on whole arrays the whole array.
        Invalid(
            """
            import numpy as np
            def shift(a: np.ndarray, b: np.ndarray) -> None:
                n = a.shape[0]
                for i in range(n):
                    t = a[i] * 2
                    b[i] = t + 1
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # A gather: `a[idx[i]]` is `a[idx]` on whole arrays (fancy indexing).
        Invalid(
            """
            import numpy as np
            def lookup(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
                out = np.empty_like(idx)
                for i in range(len(idx)):
                    out[i] = a[idx[i]]
                return out
            """,
            line=4,
            fixed="""
            import numpy as np
            def lookup(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
                out = np.empty_like(idx)
                out[:] = a[idx]
                return out
            """,
        ),
        # A gather through the rows of an index matrix from a table the class assigns a tensor
        # (pomegranate's `JointCategorical.log_probability`): `T[tuple(X.T)]` on whole arrays.
        # `X` and `idx` need not be known arrays: a list of indices gathers the same.
        Invalid(
            """
            import torch
            class JointCategorical:
                def fit(self, probs):
                    self._log_probs = torch.log(probs)
                def log_probability(self, X):
                    logps = torch.zeros(len(X))
                    for i in range(len(X)):
                        logps[i] = self._log_probs[tuple(X[i])]
                    return logps
            """,
            line=7,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            class Scorer:
                def __init__(self, n: int):
                    self.table = np.zeros(n)
                def rescored(self, idx, scale: float):
                    out = np.zeros(len(idx))
                    for i in range(len(idx)):
                        out[i] = self.table[idx[i]] * scale
                    return out
            """,
            line=7,
            fixed=NO_FIX,
        ),
        # The precision envelope of average-precision code, a running maximum from the end.
        Invalid(
            """
            import numpy as np
            def voc_ap(rec: np.ndarray, prec: np.ndarray) -> float:
                mrec = np.concatenate(([0.0], rec, [1.0]))
                mpre = np.concatenate(([0.0], prec, [0.0]))
                for i in range(mpre.size - 1, 0, -1):
                    mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
                return float(np.sum(np.diff(mrec) * mpre[1:]))
            """,
            line=5,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            def totals(counts: np.ndarray) -> np.ndarray:
                for i in range(1, len(counts)):
                    counts[i] += counts[i - 1]
                return counts
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # The range's bound is a name assigned the array's length, or the length the written
        # array was made with.
        # A comprehension of element-wise items made into an array (tigramite's kNN counts): a
        # conditional expression is `np.where` on whole arrays.
        Invalid(
            """
            import numpy as np
            def corrected(counts: np.ndarray) -> np.ndarray:
                return np.asarray([k - 1 if k > 1 else k for k in counts])
            """,
            line=3,
            column=12,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def gated(x: torch.Tensor, g: torch.Tensor, scale: float) -> torch.Tensor:
                return torch.stack([torch.sigmoid(g[i]) * x[i] * scale for i in range(len(x))])
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # A range over a length unpacked from the shape (braindecode's `mixup`): each element
        # of the 1-D `lam` scales a whole row of `X`, so on whole arrays `lam` needs axes of
        # length 1 to broadcast over the rows (`lam[:, None, None]`); the rank of `lam` is
        # not stated, so the message says so in words, and no fix is offered.
        Invalid(
            """
            import torch
            def mixup(X: torch.Tensor, lam: torch.Tensor, idx_perm: torch.Tensor) -> torch.Tensor:
                batch_size, n_channels, n_times = X.shape
                X_mix = torch.zeros((batch_size, n_channels, n_times)).to(X.device)
                for idx in range(batch_size):
                    X_mix[idx] = lam[idx] * X[idx] + (1 - lam[idx]) * X[idx_perm[idx]]
                return X_mix
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # The same part of every row (deepod's `cal_score`): `xx` is an array, as the range
        # reads its shape, and NumPy gathers the columns of every row at once.
        Invalid(
            """
            import numpy as np
            def cal_score(xx, tree):
                feature_lst = tree.feature.copy()
                return np.array([xx[i][feature_lst] for i in range(xx.shape[0])])
            """,
            line=4,
            column=12,
            fixed=NO_FIX,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        found = array_from_comprehension(node, self.context, shape_evidence=True)
        if found is None:
            return
        vectorised = self._whole_array_item(found)
        if vectorised is None or self.context.in_compiled_code() or runs_few_times(found.comprehension, self.context):
            return
        self.report(
            node,
            self.comprehension_message.format(
                call=quote(node), item=quote(found.comprehension.elt), array=quote(found.array), vectorised=vectorised
            ),
            size=items_in(found.comprehension.for_in.iter, self.context),
        )

    def _whole_array_item(self, found: ArrayComprehension) -> str | None:
        """The comprehension's item on whole arrays, when it is an element-wise expression (a
        conditional expression ``a if c else b`` becoming ``np.where(c, a, b)``) of the
        elements the comprehension takes, ``x`` of ``for x in a`` or ``b[i]`` of ``for i in
        range(len(a))`` (``a`` among the ``b``), numbers and names from outside it that are not
        arrays, with at least one operation; or a gather from each row of a NumPy array, made a
        fresh array (``np.array([X[i][cols] for i in range(len(X))])``: ``np.array(X[:, cols])``),
        where the array may be of no known library when the range reads its shape."""
        target, elements, choices, indexed, rows = found.target, {}, [], set(), set()

        def leaf(node: cst.BaseExpression) -> bool | None:
            if not found.known and type(node) is not cst.Subscript:
                return False
            if type(node) is cst.Name and node.value == target:
                if found.by_index:
                    return False  # the index as a value
                elements[id(node)] = found.array
                return True
            if type(node) is cst.Subscript:
                gathered = self._gathered_from_rows(node, found)
                if gathered is not None:
                    elements[id(node)] = gathered
                    rows.add(id(node))
                    indexed.add(dotted_name(found.array))
                    return True
                if not found.by_index or not found.known or len(node.slice) != 1:
                    return False
                if (
                    not _indexed_by_name(node.slice[0], target)
                    or self.context.arrays.kind_of(node.value) != found.kind
                    or mentions(node.value, target)
                ):
                    return False
                elements[id(node)] = node.value
                indexed.add(dotted_name(node.value))
                return True
            if type(node) is cst.IfExp:
                if not all(is_elementwise(part, leaf, self.context) for part in (node.test, node.body, node.orelse)):
                    return False
                choices.append(node)
                return True
            if type(node) is cst.Name or type(node) is cst.Attribute:
                return not mentions(node, target) and self.context.arrays.kind_of(node) is None
            return None

        item = found.comprehension.elt
        if not is_elementwise(item, leaf, self.context) or not elements:
            return None
        if id(item) in elements and id(item) not in rows:
            return None  # the bare element (a copy, no computation)
        if found.by_index and dotted_name(found.array) not in indexed:
            return None
        if not found.known and id(item) not in rows:
            return None  # an array of unknown library: only its gathered rows are known to be one
        where = reference(self.context, f"{found.kind}.where")
        if choices and where is None:
            return None
        whole = cast(
            cst.BaseExpression,
            item.visit(_WholeItems(elements, {id(choice) for choice in choices}, where[0] if where else None)),
        )
        if id(item) in rows:
            # ``X[:, cols]`` is a view where ``cols`` is a slice or a number: copy, as the
            # comprehension made a fresh array (and one of NumPy's, whatever ``X`` is).
            constructor = reference(self.context, "numpy.array")
            if constructor is None:
                return None
            whole = cst.Call(func=constructor[0], args=[cst.Arg(whole)])
        return quote(whole)

    def _gathered_from_rows(self, node: cst.Subscript, found: ArrayComprehension) -> cst.Subscript | None:
        """``X[:, cols]`` when ``node`` is ``X[i][cols]``: a part of the row ``i`` of the NumPy
        array ``X`` a comprehension runs over by index, at an index the same for every row (not
        a tuple, which would index several axes of the row rather than one of ``X``)."""
        row = node.value
        if (
            not found.by_index
            or found.kind != catalog.NUMPY
            or type(row) is not cst.Subscript
            or len(row.slice) != 1
            or dotted_name(row.value) is None
            or dotted_name(row.value) != dotted_name(found.array)
        ):
            return None
        if not _indexed_by_name(row.slice[0], found.target):
            return None
        for part in node.slice:
            if mentions(part, found.target) or (
                type(part.slice) is cst.Index and (part.slice.star is not None or self._may_be_tuple(part.slice.value))
            ):
                return None
        every_row = cst.SubscriptElement(cst.Slice(lower=None, upper=None))
        return cst.Subscript(value=row.value, slice=[every_row, *node.slice])

    def _may_be_tuple(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is a tuple, or a name assigned one."""
        if type(expr) is cst.Name:
            expr = self.context.arrays.bound_value(expr.value) or expr
        return type(expr) is cst.Tuple

    def visit_For(self, node: cst.For) -> None:
        loop = self._element_loop(node)
        if loop is None:
            running = self._running_form(node)
            if running is not None and not self.context.in_compiled_code() and not runs_few_times(node, self.context):
                self.report(
                    node,
                    self.running_message.format(loop=running[0], vectorised=running[1]),
                    fix=None,
                    size=items_in(node.iter, self.context),
                )
            return
        if self.context.in_compiled_code() or runs_few_times(node, self.context):
            return
        statements = cast("list[ElementStatement]", simple_body(node.body))  # as _element_loop checked
        asarray = self.context.imports.reference("numpy.asarray") if loop.untyped else None
        if loop.untyped and asarray is None:
            return
        vectorised = [_vectorised(statement, loop, asarray) for statement in statements]
        loop_text = "; ".join(_render(statement) for statement in statements)
        vectorised_text = "; ".join(_render(statement) for statement in vectorised)
        broadcast = self._narrower_operands(node, loop)
        if broadcast is None:
            message = self.message.format(loop=loop_text, vectorised=vectorised_text)
        else:
            narrower, (widest, ndim) = broadcast
            first = quote(narrower[0])
            message = self.broadcast_message.format(
                loop=loop_text,
                vectorised=vectorised_text,
                narrower=" and ".join(f"`{quote(array)}`" for array in narrower),
                verb="has" if len(narrower) == 1 else "have",
                array=quote(widest),
                ndim=ndim,
                example=f"{first}[:{', None' * (ndim - 1)}]",
                first=first,
            )
        self.report(
            node,
            message,
            fix=None if broadcast is not None else self._build_fix(node, loop, vectorised),
            size=items_in(node.iter, self.context),
        )

    def _narrower_operands(
        self, node: cst.For, loop: _IndexLoop
    ) -> tuple[list[cst.BaseExpression], tuple[cst.BaseExpression, int]] | None:
        """The arrays the loop computes with that may have fewer dimensions than the widest
        array it indexes, whose number of dimensions (two or more) the code states, with that
        array and number: an element of each broadcast against a row of the widest in the loop
        (``lam[i] * X[i]``, ``lam`` 1-D and ``X`` 3-D), where the whole arrays would broadcast
        against its last axes instead. An array made like one of the widest (``np.empty_like``)
        has its shape."""
        arrays = self.context.arrays
        indexed = {**loop.operands, **loop.targets}
        ndims = {chain: arrays.ndim_of(expr) for chain, expr in indexed.items()}
        # An array indexed at a fixed column (``out[i, 0]``) is one axis fewer in the loop.
        known = {chain: ndim - loop.at_column.get(chain, False) for chain, ndim in ndims.items() if ndim is not None}
        if not known or max(known.values()) < 2:
            return None
        ndim = max(known.values())
        widest = [chain for chain, rank in known.items() if rank == ndim]
        narrower = [
            expr
            for chain, expr in loop.operands.items()
            if known.get(chain) != ndim and not any(self._made_like(chain, wide, node) for wide in widest)
        ]
        if not narrower:
            return None
        return narrower, (indexed[widest[0]], ndim)

    def _build_fix(self, node: cst.For, loop: _IndexLoop, vectorised: list[ElementStatement]) -> Fix | None:
        """The loop replaced by its one statement on whole arrays, where the loop is that one
        statement and nothing else (no comment inside it to lose), and its range covers exactly
        the first axis of every array it indexes, which all have the extent's shape."""
        if len(vectorised) != 1 or loop.rows or loop.untyped or "#" in code_of(node.with_changes(leading_lines=())):
            # A gather through rows (``a[tuple(X[i])]``) has one axis fewer than the index matrix.
            return None
        bound = cast(cst.Call, node.iter).args[-1].value  # ``range(...)``, as _element_loop checked
        if type(bound) is cst.Name:
            bound = self.context.arrays.bound_value(bound.value) or bound
        if type(bound) is cst.Attribute:
            # NumPy's ``range(a.size)`` counts every element: the first axis only when 1-D.
            return None
        extent_array = self.context.arrays.indexed_range_array(node.iter)
        extent = dotted_name(extent_array) if extent_array is not None else None
        if extent is None or not all(
            chain == extent or self._made_like(chain, extent, node) for chain in loop.written | loop.read
        ):
            return None
        statement = vectorised[0].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return Fix.replace(node, cst.SimpleStatementLine([statement], leading_lines=node.leading_lines))

    def _made_like(self, chain: str, extent: str, loop: cst.For) -> bool:
        """``chain`` is a name assigned ``np.empty_like(extent)`` (any factory of the first
        argument's shape, without ``shape=``) in a statement of the loop's own block, and no
        statement between that one and the loop mentions either name."""
        value = self.context.arrays.bound_value(chain) if "." not in chain else None
        if type(value) is not cst.Call or not value.args:
            return False
        record = catalog.lookup(self.context.imports.qualified_name(value.func))
        first = value.args[0]
        if (
            record is None
            or not record.has(catalog.Flag.SHAPE_OF_FIRST_ARGUMENT)
            or first.keyword is not None
            or first.star
            or dotted_name(first.value) != extent
            or any(arg.keyword is not None and arg.keyword.value == "shape" for arg in value.args)
        ):
            return False
        loop_path = self.context.path_to(loop)
        block = cast("cst.IndentedBlock | cst.Module", loop_path[-2])  # a loop's parent
        value_path = self.context.path_to(value)
        if block not in value_path:
            return False
        assigned = value_path[value_path.index(block) + 1]
        if type(assigned) is not cst.SimpleStatementLine or len(assigned.body) != 1:
            return False
        positions = {id(statement): index for index, statement in enumerate(block.body)}
        if positions[id(assigned)] > positions[id(loop)]:
            return False
        between = block.body[positions[id(assigned)] + 1 : positions[id(loop)]]
        names = {chain, extent.partition(".")[0]}
        return not any(mentions(statement, names) for statement in between)

    def _element_loop(self, node: cst.For) -> _IndexLoop | None:
        """The loop's reads and writes when it is an element-wise index loop, else None."""
        if node.orelse is not None or node.asynchronous is not None or type(node.target) is not cst.Name:
            return None
        arrays = self.context.arrays
        statements = simple_body(node.body)
        if not statements:
            return None
        extent = arrays.indexed_range_array(node.iter) or self._array_of_range_length(node, statements)
        if extent is None:
            return None
        loop = _IndexLoop(index=node.target.value, kind=arrays.kind_of(extent))
        for statement in statements:
            if type(statement) is cst.Assign:
                if len(statement.targets) != 1:
                    return None
                target = statement.targets[0].target
            elif (
                type(statement) is cst.AugAssign and type(statement.operator) in catalog.ELEMENTWISE_AUGMENTED_OPERATORS
            ):
                target = statement.target
            else:
                return None
            if type(target) is cst.Name and target.value != loop.index:
                loop.temporaries.add(target.value)
                continue
            written = self._element_chain(target, loop)
            if written is None:
                return None
            loop.written.add(written)
            loop.targets[written] = cast(cst.Subscript, target).value
        if not loop.written:
            return None
        for statement in cast("list[ElementStatement]", statements):  # each checked above
            # A temporary read before this iteration assigns it carries a value across iterations.
            if type(statement) is cst.AugAssign and type(statement.target) is cst.Name:
                if statement.target.value not in loop.assigned:
                    return None
            if not self._is_elementwise(statement.value, loop):
                return None
            if type(statement) is cst.Assign and type(statement.targets[0].target) is cst.Name:
                loop.assigned.add(statement.targets[0].target.value)
        if dotted_name(extent) not in loop.written | loop.read:
            return None
        if any(chains_overlap(gathered, written) for gathered in loop.gathered for written in loop.written):
            return None
        return loop

    def _running_form(self, node: cst.For) -> tuple[str, str] | None:
        """The loop's statement and its whole-array form when the loop is a running reduction
        along a whole NumPy array: one statement combining each element with its neighbour
        (``a[i] = np.maximum(a[i], a[i - 1])``, ``a[i] += a[i - 1]``, a pairwise operation
        ``catalog.NUMPY_RUNNING_FORMS`` knows) over every index, forwards from the second
        element (``range(1, len(a))``: ``np.maximum.accumulate(a)``) or backwards from the
        last but one (``range(a.size - 1, 0, -1)`` writing ``a[i - 1]``: the same on ``a[::-1]``)."""
        if node.orelse is not None or node.asynchronous is not None or type(node.target) is not cst.Name:
            return None
        statements = simple_body(node.body)
        if len(statements) != 1:
            return None
        statement = statements[0]
        combined = self._pairwise(statement)
        if combined is None:
            return None
        target, symbol, operands = combined
        form = catalog.NUMPY_RUNNING_FORMS.get(symbol)
        index = node.target.value
        written = _offset_element(target, index)
        if form is None or written is None:
            return None
        chain, offset = written
        read = [_offset_element(operand, index) for operand in operands]
        if any(element is None or element[0] != chain for element in read):
            return None
        offsets = sorted(cast(tuple[str, int], element)[1] for element in read)
        array = cast(cst.Subscript, target).value
        if self.context.arrays.kind_of(array) != catalog.NUMPY:
            return None
        reference_to = reference(self.context, form)
        spelled = quote(reference_to[0]) if reference_to is not None else form
        if offsets == [offset - 1, offset] and self._covers(node.iter, chain, offset, forwards=True):
            whole = f"{chain}[:] = {spelled}({chain})"
        elif offsets == [offset, offset + 1] and self._covers(node.iter, chain, offset, forwards=False):
            whole = f"{chain}[:] = {spelled}({chain}[::-1])[::-1]"
        else:
            return None
        return _render(cast(ElementStatement, statement)), whole

    def _pairwise(
        self, statement: cst.BaseSmallStatement
    ) -> tuple[cst.BaseExpression, str, list[cst.BaseExpression]] | None:
        """The written target, the pairwise operation (a qualified name, or ``+``/``*``) and
        its two operands of ``t = f(x, y)``, ``t = x + y`` or ``t += y`` (operands ``t``, ``y``)."""
        if type(statement) is cst.AugAssign:
            symbol = _RUNNING_OPERATORS.get(type(statement.operator).__name__.removesuffix("Assign"))
            return None if symbol is None else (statement.target, symbol, [statement.target, statement.value])
        if type(statement) is not cst.Assign or len(statement.targets) != 1:
            return None
        target, value = statement.targets[0].target, statement.value
        if type(value) is cst.BinaryOperation:
            symbol = _RUNNING_OPERATORS.get(type(value.operator).__name__)
            return None if symbol is None else (target, symbol, [value.left, value.right])
        if type(value) is not cst.Call or len(value.args) != 2 or any(arg.keyword or arg.star for arg in value.args):
            return None
        func = value.func
        qualified = self.context.imports.qualified_name(func)
        if qualified is None and type(func) is cst.Name and self.context.imports.is_builtin(func, func.value):
            qualified = f"builtins.{func.value}"
        return None if qualified is None else (target, qualified, [arg.value for arg in value.args])

    def _covers(self, iterable: cst.BaseExpression, chain: str, offset: int, forwards: bool) -> bool:
        """``iterable`` is the range that, with the written element at ``i + offset``, writes
        every element of the array ``chain`` but the first (``forwards``: ``range(1, len(a))``,
        step 1) or but the last (``range(len(a) - 2, -1, -1)`` and its shifts)."""
        if type(iterable) is not cst.Call or not self.context.imports.is_builtin(iterable.func, "range"):
            return False
        if any(arg.keyword or arg.star for arg in iterable.args):
            return False
        args = [arg.value for arg in iterable.args]
        if forwards:
            if len(args) == 1:
                args = [cst.Integer("0"), *args]
            if len(args) == 3 and integer_value(args[2]) != 1 or len(args) not in (2, 3):
                return False
            start, stop = integer_value(args[0]), self._length_offset(args[1], chain)
            return start is not None and stop is not None and start + offset == 1 and stop + offset == 0
        if len(args) != 3 or integer_value(args[2]) != -1:
            return False
        start, stop = self._length_offset(args[0], chain), integer_value(args[1])
        return start is not None and stop is not None and start + offset == -2 and stop + offset == -1

    def _length_offset(self, expr: cst.BaseExpression, chain: str) -> int | None:
        """``c`` when ``expr`` is the first-axis length of the array ``chain`` plus the integer
        ``c`` (``len(a) - 1``: -1; ``a.size``: 0)."""
        shift = 0
        if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Add, cst.Subtract):
            amount = integer_value(expr.right)
            if amount is None:
                return None
            shift = amount if type(expr.operator) is cst.Add else -amount
            expr = expr.left
        array = self.context.arrays.length_array(expr)
        return shift if array is not None and dotted_name(array) == chain else None

    def _array_of_range_length(
        self, node: cst.For, statements: list[cst.BaseSmallStatement]
    ) -> cst.BaseExpression | None:
        """An array the body writes at the index that was made as long as the range runs
        (``out = np.zeros(n)`` then ``for i in range(n): out[i] = …``)."""
        for statement in statements:
            targets = (
                [target.target for target in statement.targets]
                if type(statement) is cst.Assign
                else [statement.target]
                if type(statement) is cst.AugAssign
                else []
            )
            for target in targets:
                if type(target) is cst.Subscript and self.context.arrays.made_with_range_length(
                    target.value, node.iter
                ):
                    return target.value
        return None

    def _element_chain(self, node: cst.BaseExpression, loop: _IndexLoop, operand: bool = False) -> str | None:
        """``x`` when ``node`` is ``x[i]``, or ``x[i, k]`` at a column written as an integer,
        with ``x`` a known array of the loop's library; with ``operand``, in a NumPy loop, also
        a name of no known kind (a parameter), which the loop's arithmetic takes to hold numbers
        as the array it writes does."""
        if type(node) is not cst.Subscript or len(node.slice) not in (1, 2):
            return None
        element = node.slice[0].slice
        if type(element) is not cst.Index or element.star is not None:
            return None
        if type(element.value) is not cst.Name or element.value.value != loop.index:
            return None
        at_column = len(node.slice) == 2
        if at_column and not _is_integer_index(node.slice[1]):
            return None
        chain = dotted_name(node.value)
        if chain is None or loop.at_column.setdefault(chain, at_column) != at_column:
            return None
        kind = self.context.arrays.kind_of(node.value)
        if kind == loop.kind:
            return chain
        if operand and self._untyped_operand(node.value, loop):
            loop.untyped.add(chain)
            return chain
        return None

    def _untyped_operand(self, array: cst.BaseExpression, loop: _IndexLoop) -> bool:
        """``array`` is a name of no known kind, not the loop's, read at the index of a NumPy loop."""
        return (
            loop.kind == catalog.NUMPY
            and type(array) is cst.Name
            and array.value not in loop.temporaries | {loop.index}
            and self.context.arrays.kind_of(array, Evidence.WEAK) is None
            and self.context.arrays.bound_value(array.value) is None
        )

    def _is_elementwise(self, expr: cst.BaseExpression, loop: _IndexLoop) -> bool:
        """``expr`` gives, at index ``i``, element ``i`` of the same expression on whole arrays:
        its leaves are elements ``x[i]`` of the loop's arrays and scalars from outside it."""

        def leaf(node: cst.BaseExpression) -> bool | None:
            if type(node) is cst.Subscript:
                chain = self._element_chain(node, loop, operand=True)
                if chain is None:
                    return self._is_gather(node, loop)
                loop.read.add(chain)
                loop.elements.append(node)
                loop.operands[chain] = node.value
                return True
            if type(node) is cst.Name and node.value in loop.temporaries:
                return node.value in loop.assigned
            if type(node) is cst.Name or type(node) is cst.Attribute:
                return self._is_outside_scalar(node, loop)
            return None

        return is_elementwise(expr, leaf, self.context)

    def _is_gather(self, node: cst.Subscript, loop: _IndexLoop) -> bool:
        """``a[idx[i]]``: an element of an array of the loop's library (known, or weakly known:
        ``self.table`` its class assigns ``torch.zeros(…)``) at the index held in element ``i``
        of another (``idx[i]``), which is ``a[idx]`` on whole arrays; or at the index a row of
        an index matrix spells (``a[tuple(X[i])]``, ``a[tuple(X.T)]`` on whole arrays). The
        index array need not be a known array: a list of indices gathers the same."""
        if len(node.slice) != 1:
            return False
        element = node.slice[0].slice
        if type(element) is not cst.Index or element.star is not None:
            return False
        index = element.value
        row = None
        if type(index) is cst.Call and self.context.imports.is_builtin(index.func, "tuple") and len(index.args) == 1:
            row, index = index, index.args[0].value
        if type(index) is not cst.Subscript or (row is not None and (row.args[0].keyword or row.args[0].star)):
            return False
        index_chain = self._index_chain(index, loop)
        gathered = dotted_name(node.value)
        if (
            index_chain is None
            or gathered is None
            or self.context.arrays.kind_of(node.value, Evidence.WEAK) != loop.kind
        ):
            return False
        loop.read.add(index_chain)
        loop.gathered.add(gathered)
        loop.operands[gathered] = node.value
        if row is None:
            loop.elements.append(index)
        else:
            loop.rows.append(row)
        return True

    def _index_chain(self, node: cst.Subscript, loop: _IndexLoop) -> str | None:
        """``idx`` when ``node`` is ``idx[i]`` with ``idx`` an array of the loop's library or of
        no known library (a list of indices), not a temporary of the loop."""
        chain = self._element_chain(node, loop)
        if chain is not None:
            return chain
        if len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
            return None
        element = node.slice[0].slice
        if type(element.value) is not cst.Name or element.value.value != loop.index or element.star is not None:
            return None
        chain = dotted_name(node.value)
        if chain is None or chain.partition(".")[0] in loop.temporaries | {loop.index}:
            return None
        return chain if self.context.arrays.kind_of(node.value, Evidence.WEAK) is None else None

    def _is_outside_scalar(self, expr: cst.Name | cst.Attribute, loop: _IndexLoop) -> bool:
        """A name or attribute chain from outside the loop, not an array, not written by it."""
        chain = dotted_name(expr)
        if chain is None:
            return False
        root = chain.partition(".")[0]
        if root == loop.index:
            return False
        if any(chains_overlap(chain, written) for written in loop.written):
            return False
        return self.context.arrays.kind_of(expr) is None


class _WholeArrays(cst.CSTTransformer):
    """Replaces each element ``x[i]`` the rule matched with the whole array ``x``, and each row
    spelling an index, ``tuple(X[i])``, with the index arrays of every row, ``tuple(X.T)``."""

    def __init__(
        self, elements: list[cst.Subscript], rows: list[cst.Call], untyped: set[str], asarray: str | None
    ) -> None:
        super().__init__()
        self._elements = {id(element) for element in elements}
        self._rows = {id(row) for row in rows}
        self._untyped = untyped
        self._asarray = asarray

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if id(original_node) not in self._rows:
            return updated_node
        row = cast(cst.Subscript, updated_node.args[0].value)  # ``X[i]``, as _is_gather checked
        columns = cst.Attribute(value=row.value, attr=cst.Name("T"))
        return updated_node.with_changes(args=[updated_node.args[0].with_changes(value=columns)])

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if id(original_node) not in self._elements:
            return updated_node
        array = updated_node.value
        if dotted_name(array) in self._untyped and self._asarray is not None:
            array = cst.Call(func=cst.parse_expression(self._asarray), args=[cst.Arg(array)])
        if len(updated_node.slice) == 2:
            return _whole_column(updated_node.with_changes(value=array))
        return array.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


class _WholeItems(cst.CSTTransformer):
    """Replaces each element of a comprehension's item with its whole array, and each
    conditional expression ``a if c else b`` with ``where(c, a, b)``."""

    def __init__(
        self, elements: dict[int, cst.BaseExpression], choices: set[int], where: cst.BaseExpression | None
    ) -> None:
        super().__init__()
        self._elements = elements
        self._choices = choices
        self._where = where

    # libcst types ``on_leave`` as returning the node's own type; an element becomes its whole
    # array, a conditional expression a call.
    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        array = self._elements.get(id(original_node))
        if array is not None:
            if type(array) in (cst.Name, cst.Attribute, cst.Subscript, cst.Call):
                return array.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)  # type: ignore[attr-defined]
            return array.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        if id(original_node) in self._choices and self._where is not None:
            choice = cast(cst.IfExp, updated_node)
            return cst.Call(
                func=self._where,
                args=[cst.Arg(choice.test), cst.Arg(choice.body), cst.Arg(choice.orelse)],
                lpar=choice.lpar,
                rpar=choice.rpar,
            )
        return updated_node


def _vectorised(statement: ElementStatement, loop: _IndexLoop, asarray: str | None) -> ElementStatement:
    """``b[:] = <expr on whole arrays>`` for ``b[i] = <expr on elements>`` (``b[:, k]`` for
    ``b[i, k]``), ``t = <expr on whole arrays>`` for a temporary ``t`` (runs on findings only);
    an operand of no known kind ``x`` is ``asarray(x)``."""
    value = statement.value.visit(_WholeArrays(loop.elements, loop.rows, loop.untyped, asarray))
    target = statement.targets[0].target if isinstance(statement, cst.Assign) else statement.target
    whole = target if type(target) is cst.Name else _whole_column(cast(cst.Subscript, target))
    if type(statement) is cst.Assign:
        return statement.with_changes(targets=[cst.AssignTarget(whole)], value=value)
    return statement.with_changes(target=whole, value=value)


# The operators whose running form ``catalog.NUMPY_RUNNING_FORMS`` knows, by libcst's name of
# the operator (``AddAssign`` without ``Assign``).
_RUNNING_OPERATORS = {"Add": "+", "Multiply": "*"}


def _offset_element(node: cst.BaseExpression, index: str) -> tuple[str, int] | None:
    """``("a", k)`` when ``node`` is ``a[i + k]`` (``a[i]``, ``a[i - 1]``) of the loop index ``i``."""
    if type(node) is not cst.Subscript or len(node.slice) != 1:
        return None
    element = node.slice[0].slice
    chain = dotted_name(node.value)
    if type(element) is not cst.Index or element.star is not None or chain is None:
        return None
    value = element.value
    if type(value) is cst.Name and value.value == index:
        return chain, 0
    if (
        type(value) is cst.BinaryOperation
        and type(value.operator) in (cst.Add, cst.Subtract)
        and type(value.left) is cst.Name
        and value.left.value == index
    ):
        amount = integer_value(value.right)
        if amount is not None:
            return chain, amount if type(value.operator) is cst.Add else -amount
    return None


def _whole_column(element: cst.Subscript) -> cst.Subscript:
    """``x[:]`` for an element ``x[i]``, ``x[:, k]`` for ``x[i, k]``."""
    every = cst.SubscriptElement(cst.Slice(lower=None, upper=None))
    return element.with_changes(slice=[every, *element.slice[1:]])


def _is_integer_index(element: cst.SubscriptElement) -> bool:
    """The subscript element is an integer written out (``0``, ``-1``)."""
    index = element.slice
    return type(index) is cst.Index and index.star is None and integer_value(index.value) is not None


def _indexed_by_name(element: cst.SubscriptElement, name: str) -> bool:
    """The subscript element is the bare name ``name`` (``a[i]``'s ``i``), not a slice or star."""
    index = element.slice
    return (
        type(index) is cst.Index and index.star is None and type(index.value) is cst.Name and index.value.value == name
    )


def _render(statement: ElementStatement) -> str:
    if isinstance(statement, cst.Assign):
        target, operator = statement.targets[0].target, "="
    else:
        target, operator = statement.target, quote(statement.operator)
    return f"{quote(target)} {operator} {quote(statement.value)}"


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return target.xp, target.asarray(rng.random(size)), target.asarray(rng.standard_normal(size))


def _pattern(xp, a, b):
    out = xp.empty_like(a)
    for i in range(a.shape[0]):
        out[i] = xp.sqrt(a[i]) * 2 + b[i]
    return out


def _fix(xp, a, b):
    """The documented replacement: the loop only filled a fresh array, so compute it directly."""
    return xp.sqrt(a) * 2 + b


ElementwiseIndexLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=64,
    size_unit="elements",
    size_in_code="the loop's trip count (`range(N)`, `range(len(a))` with `a = np.zeros(N)`)",
    backend=ARRAY_BACKEND,
    devices=ARRAY_DEVICES,
    timed=(
        "One call fills an n-element float64 array: the pattern loops over the indices computing "
        "`xp.sqrt(a[i]) * 2 + b[i]` into an `xp.empty_like` array; the fix computes `xp.sqrt(a) * 2 + "
        "b` on the whole arrays."
    ),
)
