"""PFL107: ``DataFrame.apply(lambda row: …, axis=1)`` over arithmetic on the row's columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

_ROW_AXES = (1, "columns")
# Expressions a subscript or attribute can follow without parentheses.
_ATOMS = (cst.Name, cst.Attribute, cst.Subscript, cst.Call)


class DataframeApplyRowwise(Rule):
    """A row-wise lambda whose body is column arithmetic runs in Python once per row."""

    code = "PFL107"
    name = "dataframe-apply-rowwise"
    family = FAMILY
    summary = "DataFrame.apply with axis=1 over a lambda that is column arithmetic"
    message = "`{call}` calls the lambda once per row; use `{vectorised}` on whole columns"
    fix_title = 'Write the expression on columns (`df["a"] * df["b"]`)'
    fix_safety = FIX_UNSAFE
    required_text = ("apply",)
    reported_at = "the `apply` call"

    what_it_does = (
        'Flags `X.apply(<lambda>, axis=1)` (or `axis="columns"`) in a module that imports pandas, '
        "where the lambda has one parameter and its body is only arithmetic and single comparisons "
        'over that parameter\'s columns (`r["a"]`, `r.a`), numbers, strings and names from outside.'
    )
    known_limitations = (
        "A named function, a lambda that calls any function or uses `and`/`or`/`if`, a column read "
        "through a Series attribute (`r.name` is the row's label), or `apply` along the other axis is"
        " not flagged."
    )
    why_bad = (
        "`apply` with `axis=1` builds a Series for every row (an index, boxed values, a common "
        "dtype) and calls the lambda on it in the interpreter. The same arithmetic on whole "
        "columns runs once, in NumPy's compiled loops: typically hundreds of times faster on "
        "frames of thousands of rows."
    )
    example = """\
import pandas as pd

def add_total(orders: pd.DataFrame) -> pd.DataFrame:
    orders["total"] = orders.apply(lambda row: row["price"] * row["quantity"], axis=1)
    return orders
"""
    use_instead = """\
import pandas as pd

def add_total(orders: pd.DataFrame) -> pd.DataFrame:
    orders["total"] = orders["price"] * orders["quantity"]
    return orders
"""
    fix_safety_note = (
        "Unsafe. Column arithmetic gives the same values with the column's own dtype, where "
        "`apply` first upcast each row to a common dtype (on a frame mixing ints and floats, "
        "`apply` computes in floats). Division by zero and missing values follow the same "
        "NumPy rules either way. On an empty frame `apply` returns an empty frame rather than "
        "an empty Series."
    )

    VALID = (
        # A named function may do anything per row.
        """
        import pandas as pd
        frame = pd.read_csv("orders.csv")
        totals = frame.apply(price_with_tax, axis=1)
        """,
        # The lambda calls a function: not plain column arithmetic.
        """
        import pandas as pd
        frame = pd.read_csv("orders.csv")
        labels = frame.apply(lambda r: lookup(r["code"]) + 1, axis=1)
        shifted = frame.apply(lambda r: r["a"] if r["b"] else 0, axis=1)
        """,
        # Column-wise apply, and a row's label rather than a column.
        """
        import pandas as pd
        frame = pd.read_csv("orders.csv")
        scaled = frame.apply(lambda column: column * 2)
        means = frame.apply(lambda column: column - 1, axis=0)
        keys = frame.apply(lambda r: r.name * 2, axis=1)
        """,
    )
    INVALID = (
        Invalid(
            """
            import pandas as pd
            frame = pd.read_csv("orders.csv")
            frame["total"] = frame.apply(lambda r: r["price"] * r["quantity"], axis=1)
            """,
            line=3,
            column=18,
        ),
        Invalid(
            """
            import pandas as pd
            def flag(df: pd.DataFrame, limit: float) -> pd.Series:
                return df.apply(lambda row: row.score > limit, axis="columns")
            """,
            line=3,
        ),
        Invalid(
            """
            import pandas as pd
            def bmi(people):
                return people.apply(lambda p: p["weight"] / (p["height"] / 100) ** 2, axis=1)
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value != "apply":
            return
        if not self.context.imports.has_imported("pandas"):
            return
        function = _row_function(node)
        if function is None:
            return
        parameter = function.params.params[0].name.value
        if not _is_column_arithmetic(function.body, parameter, self.context) or not _reads_a_column(
            function.body, parameter
        ):
            return
        frame = func.value
        vectorised = function.body.visit(_ColumnsOf(parameter, frame))
        assert isinstance(vectorised, cst.BaseExpression)
        self.report(node, self.message.format(call=quote(node), vectorised=quote(vectorised)))


def _row_function(call: cst.Call) -> cst.Lambda | None:
    """The one-parameter lambda ``call`` applies to each row (``axis=1``), or None."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    function = keywords.get("func", positional[0] if positional else None)
    axis = keywords.get("axis", positional[1] if len(positional) > 1 else None)
    if type(function) is not cst.Lambda or axis is None or literal_value(axis) not in _ROW_AXES:
        return None
    params = function.params
    if len(params.params) != 1 or params.posonly_params or params.kwonly_params:
        return None
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        return None
    return function


def _column(expr: cst.BaseExpression, parameter: str) -> bool:
    """``r["a"]`` or ``r.a`` (a column, not a Series attribute) of the row ``parameter``."""
    if type(expr) is cst.Subscript:
        return (
            type(expr.value) is cst.Name
            and expr.value.value == parameter
            and len(expr.slice) == 1
            and type(expr.slice[0].slice) is cst.Index
            and type(expr.slice[0].slice.value) is cst.SimpleString
        )
    if type(expr) is cst.Attribute:
        return (
            type(expr.value) is cst.Name
            and expr.value.value == parameter
            and expr.attr.value not in catalog.SERIES_ATTRIBUTES
        )
    return False


def _is_column_arithmetic(expr: cst.BaseExpression, parameter: str, context: FileContext) -> bool:
    """``expr`` is element-wise over the row's columns, numbers, strings and outside names.
    No calls: NumPy's functions take a column but give back an array, where ``apply`` gives a
    Series."""

    def leaf(node: cst.BaseExpression) -> bool | None:
        if _column(node, parameter) or type(node) is cst.SimpleString:
            return True
        if type(node) is cst.Name:
            return node.value != parameter
        return None

    return is_elementwise(expr, leaf, context, libraries=())


def _reads_a_column(expr: cst.BaseExpression, parameter: str) -> bool:
    if _column(expr, parameter):
        return True
    if type(expr) is cst.BinaryOperation:
        return _reads_a_column(expr.left, parameter) or _reads_a_column(expr.right, parameter)
    if type(expr) is cst.UnaryOperation:
        return _reads_a_column(expr.expression, parameter)
    if type(expr) is cst.Comparison:
        return _reads_a_column(expr.left, parameter) or _reads_a_column(expr.comparisons[0].comparator, parameter)
    return False


class _ColumnsOf(cst.CSTTransformer):
    """Puts the frame where the lambda reads its row parameter."""

    def __init__(self, parameter: str, frame: cst.BaseExpression) -> None:
        super().__init__()
        self._parameter = parameter
        self._frame = (
            frame if type(frame) in _ATOMS else frame.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        )

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._frame if original_node.value == self._parameter else updated_node

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        # Only the receiver can be the parameter; the attribute name is a column's.
        node.value.visit(self)
        return True

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if type(original_node.value) is cst.Name and original_node.value.value == self._parameter:
            return updated_node.with_changes(value=self._frame, attr=original_node.attr)
        return updated_node


def _setup(size: int, target: Target) -> tuple:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return (pd.DataFrame({"price": rng.random(size), "quantity": rng.integers(1, 10, size).astype(float)}),)


def _pattern(orders):
    return orders.apply(lambda row: row["price"] * row["quantity"], axis=1)


def _fix(orders):
    return orders["price"] * orders["quantity"]


DataframeApplyRowwise.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 500, 2_000),
    check_size=64,
    size_unit="rows",
    backend=PANDAS_BACKEND,
    timed=(
        "`orders.apply(lambda row: row['price'] * row['quantity'], axis=1)` over n rows against the "
        "column product `orders['price'] * orders['quantity']`."
    ),
)
