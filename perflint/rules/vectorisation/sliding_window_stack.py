"""PFL121: sliding windows of an array built one slice per index and stacked."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.literals import has_unpacked_arguments, integer_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import runs_few_times, trip_count
from perflint.engine.values import value_of
from perflint.engine.walker import contains_walrus, mention_count, mentions, names_in, simple_body
from perflint.measure.spec import NUMPY_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# Calls that stack a list of equally shaped arrays into one along a new first axis, the
# library of the arrays they stack, and the parameters they may be given besides the list.
_STACKERS = {
    "numpy.array": (catalog.NUMPY, "object", frozenset({"dtype", "copy", "order"})),
    "numpy.asarray": (catalog.NUMPY, "a", frozenset({"dtype", "order"})),
    "numpy.stack": (catalog.NUMPY, "arrays", frozenset({"axis", "dtype"})),
    "torch.stack": (catalog.TORCH, "tensors", frozenset({"dim"})),
}
# Expressions that need parentheses as a term of a sum.
_LOOSE = (cst.IfExp, cst.Lambda, cst.BooleanOperation, cst.Comparison, cst.NamedExpr, cst.UnaryOperation)

# An offset from the loop index: the coefficient of each term, keyed by its source text, with
# the integer constant under "".
Offset = dict[str, int]


class SlidingWindowStack(Rule):
    """``np.array([x[i : i + d] for i in range(n)])``: n slices, n array objects, one copy each."""

    code = "PFL121"
    name = "sliding-window-stack"
    family = FAMILY
    summary = "Sliding windows of an array built one slice per index in a comprehension, then stacked"
    message = "`{call}` stacks windows of `{array}` sliced one per index; use `{advice}`{note}"
    fix_title = "Take every window at once as a strided view: `sliding_window_view` (NumPy) or `unfold` (torch)"
    fix_safety = FIX_UNSAFE
    required_text = ("numpy", "torch")
    reported_at = "the stacking call"

    what_it_does = (
        "Flags `np.array(L)`, `np.asarray(L)`, `np.stack(L)` (along the first axis) and "
        "`torch.stack(L)` (along the first dimension) where `L` is a list comprehension "
        "`[x[i + a : i + b] for i in range(...)]`, directly or through a name bound to it and read "
        "nowhere else, or a name bound to `[]` that a loop before the call fills with one "
        "statement, `L.append(x[i + a : i + b])`: one slice per index of one array `x` known to be "
        "of the stacking call's "
        'library (weak evidence accepted: a parameter\'s docstring type, so that `df.loc[:, "y"].values` '
        "of a `df : pd.DataFrame` is an array), whose "
        "start and stop are the loop index plus offsets that do not depend on it, so that every "
        "window has the same width `b - a` (integers, or names the loop cannot rebind). "
        "The range may have a start and a positive integer step. The message gives the windows as "
        "one view in the code's own names: "
        "`np.lib.stride_tricks.sliding_window_view(x, b - a)[start:stop:step]` for NumPy, "
        "`x.unfold(0, b - a, 1)[start:stop:step]` for torch."
    )
    known_limitations = (
        "Left alone: windows whose width depends on the index (ragged), slices of a list or of a "
        "value of unknown type, a step in the slice itself, a range with a step that is not a "
        "positive integer literal, a comprehension with a condition or more than one `for`, an "
        "element that does anything besides slicing (a model called per window, a reduction: "
        "PFL114's), windows of different arrays, windows along another axis than the first, a "
        "list kept as a list or read anywhere else, a loop whose body does anything besides the "
        "one `append`, a loop the code states runs at most 8 times, and windows as wide as the "
        "array less a few (`len(x) - d + 1`, or `N - d + 1` of `x = np.zeros(N)`), which fit in it "
        "only a few times.\n\n"
        "The view's window axis comes last (`sliding_window_view(x, d, axis=0)` and "
        "`x.unfold(0, d, 1)` have shape `(n, ..., d)`, the stacked slices `(n, d, ...)`): where the "
        "slice shows the other axes (`x[i : i + d, :]`) the advice moves it back "
        "(`np.moveaxis(..., -1, 1)`, `.movedim(-1, 1)`); for `x[i : i + d]` of an array of more "
        "than one axis, which the rule cannot see, add `axis=0` and move the axis the same way. "
        "The advice assumes every window starts at a non-negative index, as it does when the "
        "first start is `0` or more; a negative start wraps around in Python.\n\n"
        "Not reached: slices of a parameter of a local helper, known only from what its callers "
        "pass (two of neuralprophet's three such comprehensions, `x` of "
        "`_stride_future_time_features_for_forecasts(x)`), since the engine does not type a "
        "parameter from its call sites. On round 5 of the precision review it reported nothing "
        "on the 15 code bases of the development set and one finding on the 15 of the held-out "
        "set (neuralprophet's lagged features, `series` a DataFrame column's values, built for "
        "every sample of the series: worth fixing), and nothing on six time-series code bases "
        "(darts, gluonts, neuralforecast, pytorch_forecasting, tsai, tslearn), which take their "
        "windows with `unfold` or `sliding_window_view` already, or slice batches to feed a model."
    )
    why_bad = (
        "Each index costs an interpreted iteration, a slice object and a new array (or tensor) "
        "header, and the stacking call then copies every window into the result, reading every "
        "element `width` times. `sliding_window_view` (or torch's `unfold`) gives all windows at "
        "once as a strided view of the same memory, with no copy at all: for a 100,000-sample "
        "float64 series with windows of 16 the comprehension took 31 ms, the view 0.01 ms, and a "
        "contiguous copy of the view (what the benchmark times, the same writable array as the "
        "comprehension's) 0.6 ms."
    )
    example = """\
import numpy as np

def lagged(series: np.ndarray, n_lags: int) -> np.ndarray:
    n_samples = len(series) - n_lags + 1
    return np.array([series[i : i + n_lags] for i in range(n_samples)])
"""
    use_instead = """\
import numpy as np

def lagged(series: np.ndarray, n_lags: int) -> np.ndarray:
    n_samples = len(series) - n_lags + 1
    return np.lib.stride_tricks.sliding_window_view(series, n_lags)[:n_samples]
"""
    fix_safety_note = (
        "No automatic fix. The view the message advises holds the same values as the stacked "
        "slices, but it is a view: NumPy's is read-only and torch's shares memory with `x` (and "
        "overlapping windows with each other), so add `.copy()` (`.clone()`) where the result is "
        "written or must outlive changes to `x`; a `dtype=` becomes `.astype(...)`, which copies. "
        "The stacked slices raise for an empty range, where the view is empty."
    )

    VALID = (
        # Windows nearly as long as the array (its length less the embedding dimension): they fit
        # in it only a few times, so the loop is short (neurokit2's slope entropy).
        """
        import numpy as np
        def f(signal: np.ndarray, dimension: int):
            N = len(signal) - 1
            symbols = np.zeros(N)
            return np.array([symbols[k : N - dimension + k + 1] for k in range(dimension - 1)])
        """,
        """
        import numpy as np
        def f(x: np.ndarray, d: int):
            return np.array([x[k : len(x) - d + k] for k in range(d)])
        """,
        # The width depends on the index: ragged windows.
        """
        import numpy as np
        def f(x: np.ndarray, n: int):
            return np.array([x[i : 2 * i + 1] for i in range(n)], dtype=object)
        """,
        # Slices of a Python list; and a value of unknown type.
        """
        import numpy as np
        def f(values, n: int, d: int):
            series = [1.0, 2.0, 3.0, 4.0, 5.0]
            a = np.array([series[i : i + 2] for i in range(n)])
            b = np.array([values[i : i + d] for i in range(n)])
            return a, b
        """,
        # A step that is not a known positive integer.
        """
        import numpy as np
        def f(x: np.ndarray, n: int, d: int, step: int):
            return np.stack([x[i : i + d] for i in range(0, n, step)])
        """,
        # The element does more than slicing: a model per window, and a reduction (PFL114's).
        """
        import numpy as np
        def f(x: np.ndarray, n: int, d: int, model):
            a = np.array([model(x[i : i + d]) for i in range(n)])
            b = np.array([x[i : i + d].mean() for i in range(n)])
            return a, b
        """,
        # Windows of different arrays per index.
        """
        import numpy as np
        def f(x: np.ndarray, y: np.ndarray, n: int, d: int):
            return np.array([(x if i % 2 else y)[i : i + d] for i in range(n)])
        """,
        # Kept as a list, and a list also read elsewhere.
        """
        import numpy as np
        def f(x: np.ndarray, n: int, d: int):
            windows = [x[i : i + d] for i in range(n)]
            other = [x[i : i + d] for i in range(n)]
            other.append(x[:d])
            return windows, np.array(other)
        """,
        # Stacked along another axis; a comprehension with a condition; and a torch stack of
        # NumPy slices.
        """
        import numpy as np
        import torch
        def f(x: np.ndarray, n: int, d: int):
            a = np.stack([x[i : i + d] for i in range(n)], axis=1)
            b = np.array([x[i : i + d] for i in range(n) if i % 3])
            c = torch.stack([x[i : i + d] for i in range(n)])
            return a, b, c
        """,
        # A loop that also does other work per window, and a list also filled elsewhere.
        """
        import numpy as np
        def f(x: np.ndarray, n: int, d: int, model):
            rows = []
            for i in range(n):
                rows.append(x[i : i + d])
                model.update(i)
            more = []
            for i in range(n):
                more.append(x[i : i + d])
            more.append(x[:d])
            return np.array(rows), np.array(more)
        """,
        # The array rebound between the loop and the call: the windows are of the old one.
        """
        import numpy as np
        def f(x: np.ndarray, n: int, d: int):
            rows = []
            for i in range(n):
                rows.append(x[i : i + d])
            windows = [x[i : i + d] for i in range(n)]
            x = np.zeros(n)
            return np.array(rows), np.stack(windows), x
        """,
        # A few windows, stated by the code.
        """
        import numpy as np
        def f(x: np.ndarray):
            return np.array([x[i : i + 4] for i in range(3)])
        """,
    )
    INVALID = (
        # A loop appending one window per index.
        Invalid(
            """
            import numpy as np
            def lagged(series: np.ndarray, n_lags: int, n_samples: int) -> np.ndarray:
                rows = []
                for i in range(n_samples):
                    rows.append(series[i : i + n_lags])
                return np.asarray(rows)
            """,
            line=6,
        ),
        Invalid(
            """
            import numpy as np
            def lagged(series: np.ndarray, n_lags: int) -> np.ndarray:
                n_samples = len(series) - n_lags + 1
                return np.array([series[i : i + n_lags] for i in range(n_samples)])
            """,
            line=4,
            column=12,
        ),
        # neuralprophet's lagged features: a pandas column's values, the width a parameter.
        Invalid(
            """
            import numpy as np
            import pandas as pd
            def features(df: pd.DataFrame, max_lags: int, n_samples: int, feature_dims: int):
                series = df.loc[:, "y"].values
                return np.array(
                    [series[i + max_lags - feature_dims : i + max_lags] for i in range(n_samples)], dtype=np.float32
                )
            """,
            line=5,
        ),
        # A range with a start and a step, through a name.
        Invalid(
            """
            import numpy as np
            def frames(signal: np.ndarray):
                windows = [signal[i - 8 : i] for i in range(8, len(signal), 4)]
                return np.stack(windows)
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def patches(x: torch.Tensor, n: int, width: int) -> torch.Tensor:
                return torch.stack([x[i : i + width, :] for i in range(n)])
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        stacker = _STACKERS.get(self.context.imports.qualified_name(node.func) or "")
        if stacker is None or has_unpacked_arguments(node):
            return
        library, list_parameter, allowed = stacker
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        bound = catalog.bind(node, record) if record is not None else None
        if bound is None or bound.extra_positional or bound.extra_keywords:
            return
        given = bound.given
        if set(given) - allowed - {list_parameter}:
            return
        for axis in ("axis", "dim"):
            if axis in given and integer_value(given[axis]) != 0:
                return
        source = self._source(node, given.get(list_parameter))
        if source is None or self.context.in_compiled_code():
            return
        loop, target, iterable, element = source
        if runs_few_times(loop, self.context):
            return
        windows = self._windows(loop, target, iterable, element, library)
        if windows is None:
            return
        array, width, start, stop, step, more_axes = windows
        step_text = "" if step == 1 else f":{step}"
        rows = f"[{'' if start == '0' else start}:{stop}{step_text}]" if stop or step_text else ""
        if library == catalog.NUMPY:
            axis = ", axis=0" if more_axes else ""
            advice = f"{self._numpy('lib.stride_tricks.sliding_window_view')}({quote(array)}, {width}{axis}){rows}"
            if more_axes:
                # The view's window axis comes last; the stacked slices have it second.
                advice = f"{self._numpy('moveaxis')}({advice}, -1, 1)"
        else:
            advice = f"{quote(array)}.unfold(0, {width}, 1){rows}" + (".movedim(-1, 1)" if more_axes else "")
        dtype = given.get("dtype")
        if dtype is not None:
            advice += f".astype({quote(dtype)})"
            note = ""
        elif library == catalog.NUMPY:
            note = " (a read-only view: add `.copy()` where the result is written)"
        else:
            note = " (a view of the same memory: add `.clone()` where the result is written)"
        self.report(
            node,
            self.message.format(call=quote(node), array=quote(array), advice=advice, note=note),
            size=trip_count(loop, self.context),
        )

    def _source(
        self, call: cst.Call, data: cst.BaseExpression | None
    ) -> tuple[cst.CSTNode, cst.BaseAssignTargetExpression, cst.BaseExpression, cst.BaseExpression] | None:
        """The loop that makes the list stacked, its target, what it iterates and the element
        it puts in the list: a list comprehension (``data`` itself, or the one a name is bound
        to), or a loop before the call whose one statement appends to a name bound to ``[]``;
        nothing but the binding, the appending and the call may read the name."""
        if type(data) is cst.ListComp:
            return self._comprehension_source(data)
        function = self.context.function
        if type(data) is not cst.Name or function is None:
            return None
        value = value_of(data, self.context)
        if type(value) is cst.ListComp:
            if mention_count(function.node, data.value) != 2:
                return None
            for statement, after in self._statements_before(call):
                if any(node is value for node in _assigned_values(statement)):
                    source = self._comprehension_source(value)
                    return source if source is not None and _unchanged(source, after) else None
            return None
        if type(value) is not cst.List or value.elements or mention_count(function.node, data.value) != 3:
            return None
        for loop, after in self._statements_before(call):
            if type(loop) is not cst.For:
                continue
            statements = simple_body(loop.body)
            if len(statements) != 1 or loop.orelse is not None or loop.asynchronous is not None:
                continue
            appended = _appended(statements[0], data.value)
            if appended is not None:
                source = (loop, loop.target, loop.iter, appended)
                return source if _unchanged(source, after) else None
        return None

    def _comprehension_source(
        self, comprehension: cst.ListComp
    ) -> tuple[cst.CSTNode, cst.BaseAssignTargetExpression, cst.BaseExpression, cst.BaseExpression] | None:
        clause = comprehension.for_in
        if clause.inner_for_in is not None or clause.ifs or clause.asynchronous is not None:
            return None
        return comprehension, clause.target, clause.iter, comprehension.elt

    def _statements_before(self, call: cst.Call) -> list[tuple[cst.BaseStatement, list[cst.BaseStatement]]]:
        """The statements that come before the statement holding ``call`` in the blocks around
        it, up to the function's own body, each with the statements between it and the call's
        statement in its block."""
        path = self.context.path_to(call)
        before: list[tuple[cst.BaseStatement, list[cst.BaseStatement]]] = []
        for depth in range(len(path) - 2, -1, -1):
            block = path[depth]
            if isinstance(block, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                break
            if type(block) is cst.IndentedBlock:
                statement = path[depth + 1]
                siblings = list(block.body)
                end = next((position for position, sibling in enumerate(siblings) if sibling is statement), 0)
                before.extend(
                    (sibling, siblings[position + 1 : end]) for position, sibling in enumerate(siblings[:end])
                )
        return before

    def _windows(
        self,
        loop: cst.CSTNode,
        target: cst.BaseAssignTargetExpression,
        iterable: cst.BaseExpression,
        element: cst.BaseExpression,
        library: catalog.ArrayKind,
    ) -> tuple[cst.BaseExpression, str, str, str, int, bool] | None:
        """The array, the width, the view's start, stop and step, and whether the slice shows
        more axes, when ``loop`` slices one window of constant width per index of a range."""
        if type(target) is not cst.Name or contains_walrus(loop):
            return None
        index = target.value
        bounds = self._range(iterable)
        if bounds is None or type(element) is not cst.Subscript:
            return None
        array = element.value
        if mentions(array, index) or self._kind(array) != library:
            return None
        first, *rest = element.slice
        window = first.slice
        if type(window) is not cst.Slice or window.step is not None or window.lower is None or window.upper is None:
            return None
        if any(type(part.slice) is not cst.Slice or _bounds_of(part.slice) for part in rest):
            return None
        lower, upper = _offset(window.lower, index), _offset(window.upper, index)
        if lower is None or upper is None or lower.pop(index, 0) != 1 or upper.pop(index, 0) != 1:
            return None
        width = _combined(upper, lower, -1)
        width_text = _text(width)
        if width_text is None or (set(width) <= {""} and width.get("", 0) <= 0):
            return None
        if self._spans_the_array(width, array):
            return None
        range_start, range_stop, step = bounds
        stop_offset = _combined(range_stop, lower, 1)
        start, stop = _text(_combined(range_start, lower, 1)), _text(stop_offset)
        if start is None or stop is None:
            return None
        if start == "0" and _is_every_window(stop_offset, array, width):
            stop = ""
        return array, width_text, start, stop, step, bool(rest)

    def _spans_the_array(self, width: Offset, array: cst.BaseExpression) -> bool:
        """The width is the array's length less a few (``N - d + 1`` with ``x = np.zeros(N)``):
        such windows fit in the array only a few times, so the loop is short and the view saves
        nothing."""
        arrays = self.context.arrays
        for term, coefficient in width.items():
            if not term or coefficient != 1:
                continue
            try:
                length = cst.parse_expression(term)
            except cst.ParserSyntaxError:
                continue
            if arrays.spells_length_of(length, array):
                return True
        return False

    def _kind(self, array: cst.BaseExpression) -> catalog.ArrayKind | None:
        """The library of ``array``, weak evidence accepted, through the value a name holds
        (``series = df.loc[:, "y"].values`` of a parameter documented as a DataFrame)."""
        arrays = self.context.arrays
        kind = arrays.kind_of(array, Evidence.WEAK)
        if kind is None and type(array) is cst.Name:
            value = value_of(array, self.context)
            if value is not None:
                kind = arrays.kind_of(value, Evidence.WEAK)
        return kind

    def _range(self, iterable: cst.BaseExpression) -> tuple[Offset, Offset, int] | None:
        """The start and stop of ``range(...)`` as offsets, and its positive integer step."""
        if (
            type(iterable) is not cst.Call
            or not self.context.imports.is_builtin(iterable.func, "range")
            or any(arg.keyword is not None or arg.star for arg in iterable.args)
            or not 1 <= len(iterable.args) <= 3
        ):
            return None
        values = [arg.value for arg in iterable.args]
        step = integer_value(values[2]) if len(values) == 3 else 1
        if step is None or step <= 0:
            return None
        start = _offset(values[0], None) if len(values) > 1 else {"": 0}
        stop = _offset(values[-1] if len(values) == 1 else values[1], None)
        if start is None or stop is None:
            return None
        return start, stop, step

    def _numpy(self, name: str) -> str:
        """``np.moveaxis`` for ``moveaxis``, through the file's imports."""
        text = self.context.imports.reference(f"numpy.{name}")
        if text is not None:
            return text
        return f"{self.context.imports.reference('numpy') or 'np'}.{name}"


def _assigned_values(statement: cst.BaseStatement) -> list[cst.BaseExpression]:
    """The values the simple statement line ``statement`` assigns (``windows = [...]``)."""
    if type(statement) is not cst.SimpleStatementLine:
        return []
    values: list[cst.BaseExpression] = []
    for small in statement.body:
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is not None:
            values.append(small.value)
    return values


def _unchanged(
    source: tuple[cst.CSTNode, cst.BaseAssignTargetExpression, cst.BaseExpression, cst.BaseExpression],
    after: list[cst.BaseStatement],
) -> bool:
    """No statement between the list's making and the stacking call mentions what its
    elements read (the array, the bounds): the windows are still those of the array the
    advice names."""
    _, target, _, element = source
    read = names_in(element) - names_in(target)
    return not any(mentions(statement, read) for statement in after)


def _appended(statement: cst.BaseSmallStatement, name: str) -> cst.BaseExpression | None:
    """``x`` of ``name.append(x)``."""
    if type(statement) is not cst.Expr or type(statement.value) is not cst.Call:
        return None
    call = statement.value
    func = call.func
    if (
        type(func) is not cst.Attribute
        or type(func.value) is not cst.Name
        or func.value.value != name
        or func.attr.value != "append"
        or len(call.args) != 1
        or call.args[0].keyword is not None
        or call.args[0].star
    ):
        return None
    return call.args[0].value


def _bounds_of(part: cst.Slice) -> bool:
    """The slice states a bound or a step (anything but a whole axis, ``:``)."""
    return part.lower is not None or part.upper is not None or part.step is not None


def _offset(expr: cst.BaseExpression, index: str | None, sign: int = 1) -> Offset | None:
    """``expr`` as a sum of terms with integer coefficients (``i + max_lags - d``: ``i``,
    ``max_lags`` once each and ``d`` negated); the index may only appear alone as a term."""
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Add, cst.Subtract):
        left = _offset(expr.left, index, sign)
        right = _offset(expr.right, index, -sign if type(expr.operator) is cst.Subtract else sign)
        return None if left is None or right is None else _combined(left, right, 1)
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.Minus:
        return _offset(expr.expression, index, -sign)
    value = integer_value(expr)
    if value is not None:
        return {"": sign * value}
    if type(expr) is cst.Name and expr.value == index:
        return {index: sign}
    if isinstance(expr, _LOOSE) or (index is not None and mentions(expr, index)):
        return None
    return {_source_text(expr): sign}


def _source_text(expr: cst.BaseExpression) -> str:
    """``expr``'s code on one line, without comments, whole: terms that are spelled alike cancel."""
    return quote(expr, limit=10_000)


def _combined(left: Offset, right: Offset, sign: int) -> Offset:
    """``left + sign * right``, terms that cancel dropped."""
    total = dict(left)
    for term, coefficient in right.items():
        total[term] = total.get(term, 0) + sign * coefficient
    return {term: coefficient for term, coefficient in total.items() if coefficient or term == ""}


def _text(offset: Offset) -> str | None:
    """The sum as source text, in the order the code wrote its terms and the constant last
    (``max_lags - feature_dims``, ``len(x) - d + 1``); ``0`` for nothing; None for a term with a
    coefficient other than 1 or -1."""
    if any(coefficient not in (1, -1) for term, coefficient in offset.items() if term):
        return None
    parts = [(coefficient, term) for term, coefficient in offset.items() if term]
    constant = offset.get("", 0)
    if constant:
        parts.append((1 if constant > 0 else -1, str(abs(constant))))
    if not parts:
        return "0"
    positive = next((part for part in parts if part[0] > 0), None)
    if positive is not None:
        parts.remove(positive)
        parts.insert(0, positive)
    text = parts[0][1] if parts[0][0] > 0 else f"-{parts[0][1]}"
    for sign, term in parts[1:]:
        text += f" + {term}" if sign > 0 else f" - {term}"
    return text


def _is_every_window(stop: Offset, array: cst.BaseExpression, width: Offset) -> bool:
    """``stop`` is the number of windows of ``width`` that ``array`` holds, ``len(x) - d + 1``
    (or ``x.shape[0] - d + 1``, torch's ``x.size(0) - d + 1``): the view needs no slicing."""
    name = _source_text(array)
    for length in (f"len({name})", f"{name}.shape[0]", f"{name}.size(0)"):
        every = _combined({length: 1, "": 1}, width, -1)
        if {term: c for term, c in every.items() if c} == {term: c for term, c in stop.items() if c}:
            return True
    return False


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    return np.random.default_rng(0).standard_normal(size), 16


def _pattern(series, width):
    import numpy as np

    return np.array([series[i : i + width] for i in range(len(series) - width + 1)])


def _fix(series, width):
    import numpy as np

    # A copy: the same writable, contiguous array as the pattern's (the view alone is cheaper).
    return np.lib.stride_tricks.sliding_window_view(series, width).copy()


SlidingWindowStack.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=64,
    size_unit="samples of a float64 series (windows of 16)",
    backend=NUMPY_BACKEND,
    timed=(
        "Every window of 16 of an n-sample float64 series: `np.array([series[i : i + 16] for i in "
        "range(n - 15)])` against `np.lib.stride_tricks.sliding_window_view(series, 16).copy()`."
    ),
)
