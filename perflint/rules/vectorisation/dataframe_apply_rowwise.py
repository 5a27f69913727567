"""PFL107: ``DataFrame.apply(lambda row: …, axis=1)`` over arithmetic on the row's columns, and
``Series.apply``/``Series.map`` over a lambda the whole column computes at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.literals import is_number_literal, literal_value
from perflint.engine.quoting import as_receiver, quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import is_written_out_table
from perflint.engine.walker import mentions
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

_ROW_AXES = (1, "columns")


class DataframeApplyRowwise(Rule):
    """A row-wise (or element-wise) lambda whose body is column arithmetic runs in Python once
    per row."""

    code = "PFL107"
    name = "dataframe-apply-rowwise"
    family = FAMILY
    summary = "DataFrame.apply with axis=1, or Series.apply/map, over a lambda that whole columns compute"
    message = "`{call}` calls the lambda once per row; use `{vectorised}` on whole columns"
    fix_title = 'Write the expression on columns (`df["a"] * df["b"]`, `s.dt.month.isin([6, 7, 8])`)'
    fix_safety = FIX_UNSAFE
    required_text = ("apply", "map")
    reported_at = "the `apply` (or `map`) call"

    what_it_does = (
        'Flags `X.apply(<lambda>, axis=1)` (or `axis="columns"`) in a module that imports pandas, '
        "where the lambda has one parameter and its body is only arithmetic and single comparisons "
        'over that parameter\'s columns (`r["a"]`, `r.a`), numbers, strings and names from outside, '
        "or that reads one column only, through what the column does at once (`r.ds.month`: "
        '`df["ds"].dt.month`) or attributes of its cell (`r.Bins.left`: `df["Bins"].map(lambda value: '
        "value.left)`). "
        "Also flags `s.apply(<lambda>)` and `s.map(<lambda>)` of a known Series (a frame's column "
        '`df["ds"]`, a parameter annotated `pd.Series`, a `pd.Series(...)`, or a name bound to one) '
        "whose lambda is what the Series does on all its elements at once: arithmetic and single "
        "comparisons of the element, numbers, strings and names from outside, the element's datetime "
        "fields (`x.month`, `x.weekday()`: `s.dt.month`, `s.dt.day_of_week`), and membership in a "
        "written-out list, tuple or set (`x in [5, 6]`: `s.isin([5, 6])`)."
    )
    known_limitations = (
        "A named function, a lambda that calls any function or uses `and`/`or`/`if`, a column read "
        "through a Series attribute (`r.name` is the row's label), a lambda reading two columns of "
        "which one through a cell's attribute or method (`r.Bins.left + r.offset`, `r.text.lower()`),"
        " or `apply` along the other axis is not flagged. On a Series, a lambda that calls a string method (`x.lower()`), looks the element"
        " up in a dict or list (`names[x]`), tests membership in a name rather than a written-out "
        "collection, or is given more arguments than the function is not flagged; nor is `apply` or "
        "`map` of anything not known to be a Series (a list, an `Index`, a group of a `groupby`, an "
        "unannotated parameter), or of a Series built from data the code writes out "
        "(`pd.Series([1, 2, 3])`), whose few rows cost what one whole-column call does. The rule "
        "cannot see a column's dtype: `.dt` needs a datetime column, so the advice assumes that "
        "`x.month` reads a `Timestamp`."
    )
    why_bad = (
        "`apply` with `axis=1` builds a Series for every row (an index, boxed values, a common "
        "dtype) and calls the lambda on it in the interpreter; `Series.apply` and `Series.map` box "
        "every element (a datetime becomes a `Timestamp`) and call the lambda on it. The same "
        "arithmetic on whole columns, the `.dt` accessor's fields and `isin` run once, in compiled "
        "loops: typically tens to hundreds of times faster on frames of thousands of rows."
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
        "an empty Series. The `.dt` accessor needs a datetime64 (or period) column: a column "
        "of Python `datetime` objects must first go through `pd.to_datetime`. `isin` matches by "
        "equality and hash as `in` does, but takes a missing value (`NaN`) to be in a collection "
        "that holds one."
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
        # A cell's attribute with another column, a cell's method, a function of a cell, an
        # attribute of the row's label: not one column's element-wise work.
        """
        import pandas as pd
        def spans(documents: pd.DataFrame) -> tuple:
            shifted = documents.apply(lambda row: row.Bins.left + row.offset, axis=1)
            lower = documents.apply(lambda row: row.text.lower(), axis=1)
            lengths = documents.apply(lambda row: len(row.text), axis=1)
            starts = documents.apply(lambda row: row.name.left, axis=1)
            return shifted, lower, lengths, starts
        """,
        # Column-wise apply, and a row's label rather than a column.
        """
        import pandas as pd
        frame = pd.read_csv("orders.csv")
        scaled = frame.apply(lambda column: column * 2)
        means = frame.apply(lambda column: column - 1, axis=0)
        keys = frame.apply(lambda r: r.name * 2, axis=1)
        """,
        # On a column: a function, a string method, a lookup, a membership test of a name, extra
        # arguments: nothing the column does at once that the rule knows.
        """
        import pandas as pd
        def describe(frame: pd.DataFrame, names: dict, weekend: set) -> pd.DataFrame:
            frame["label"] = frame["code"].apply(lambda x: str(x))
            frame["lower"] = frame["name"].map(lambda x: x.lower())
            frame["class"] = frame["code"].map(lambda x: names[x])
            frame["weekend"] = frame["date"].apply(lambda d: d.weekday() in weekend)
            frame["year"] = frame["date"].apply(lambda d: d.year, convert_dtype=False)
            frame["sqrt"] = frame["size"].apply(np.sqrt)
            frame["same"] = frame["size"].apply(lambda x: x)
            return frame
        """,
        # Not known to be a Series: a list, an unannotated parameter, a frame (column-wise), a
        # group of a groupby, an Index; and a Series of three written-out rows.
        """
        import pandas as pd
        def scale(values, frame: pd.DataFrame):
            doubled = values.map(lambda v: v * 2)
            shifted = [1, 2, 3].apply(lambda v: v + 1)
            per_column = frame.apply(lambda column: column.month)
            per_group = frame.groupby("key")["value"].apply(lambda group: group - 1)
            days = frame.index.map(lambda t: t.day)
            small = pd.Series([1, 2, 3]).apply(lambda v: v - 1)
            return doubled, shifted, per_column, per_group, days, small
        """,
    )
    INVALID = (
        # One column's cells read through an attribute (BERTopic's time bins), the axis given by
        # position; and a datetime field of one column.
        Invalid(
            """
            import pandas as pd
            def bin_starts(documents: pd.DataFrame, nr_bins: int) -> pd.DataFrame:
                documents["Bins"] = pd.cut(documents.Timestamps, bins=nr_bins)
                documents["Timestamps"] = documents.apply(lambda row: row.Bins.left, 1)
                return documents
            """,
            line=4,
            column=31,
        ),
        Invalid(
            """
            import pandas as pd
            def months(frame: pd.DataFrame) -> pd.Series:
                return frame.apply(lambda r: r["ds"].month, axis=1)
            """,
            line=3,
        ),
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
        Invalid(
            """
            import pandas as pd
            def add_quarter_condition(df: pd.DataFrame) -> pd.DataFrame:
                df["ds"] = pd.to_datetime(df["ds"])
                df["summer"] = df["ds"].apply(lambda x: x.month in [6, 7, 8]).astype(int)
                return df
            """,
            line=4,
            column=20,
        ),
        Invalid(
            """
            import pandas as pd
            def workdays(stamps: pd.Series) -> pd.Series:
                return stamps.map(lambda t: t.weekday() not in (5, 6))
            """,
            line=3,
        ),
        Invalid(
            """
            import pandas as pd
            def minutes(frame: pd.DataFrame, offset: int) -> pd.Series:
                start = frame["start"]
                return start.apply(lambda t: t.hour * 60 + t.minute - offset)
            """,
            line=4,
        ),
        Invalid(
            """
            import pandas as pd
            prices = pd.Series(load_prices(), name="price")
            with_tax = prices.apply(lambda p: p * 1.2 + 0.5)
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute:
            return
        method = func.attr.value
        if method != "apply" and method not in catalog.SERIES_ELEMENT_METHODS:
            return
        if not self.context.imports.has_imported("pandas"):
            return
        function = _row_function(node) if method == "apply" else None
        if function is None:
            self._check_elements(node, func)
            return
        parameter = function.params.params[0].name.value
        frame = func.value
        vectorised: cst.BaseExpression | None
        if _is_column_arithmetic(function.body, parameter, self.context) and _reads_a_column(function.body, parameter):
            columns = function.body.visit(_ColumnsOf(parameter, frame))
            assert isinstance(columns, cst.BaseExpression)
            vectorised = columns
        else:
            vectorised = self._one_column_form(function.body, parameter, frame)
        if vectorised is None:
            return
        self.report(node, self.message.format(call=quote(node), vectorised=quote(vectorised)))

    def _one_column_form(
        self, body: cst.BaseExpression, parameter: str, frame: cst.BaseExpression
    ) -> cst.BaseExpression | None:
        """What the column does at once for a row lambda that reads one column only
        (``row.Bins.left``, ``row.ds.month``): the column's element operations
        (``frame["ds"].dt.month``), or a map of the column over the attributes the lambda reads
        (``frame["Bins"].map(lambda value: value.left)``); None for anything else."""
        label = _only_column_label(body, parameter)
        if label is None:
            return None
        element = "value" if not mentions(body, "value") else parameter
        on_element = body.visit(_ColumnAs(parameter, cst.Name(element)))
        assert isinstance(on_element, cst.BaseExpression)
        series = cst.Subscript(
            value=as_receiver(frame), slice=[cst.SubscriptElement(cst.Index(cst.SimpleString(_string_literal(label))))]
        )
        if _is_element_arithmetic(on_element, element, self.context):
            vectorised = on_element.visit(_ElementsOf(element, series))
            assert isinstance(vectorised, cst.BaseExpression)
            return vectorised
        if not _is_attribute_of(on_element, element):
            return None
        mapped = cst.Lambda(params=cst.Parameters(params=[cst.Param(cst.Name(element))]), body=on_element)
        return cst.Call(func=cst.Attribute(value=series, attr=cst.Name("map")), args=[cst.Arg(mapped)])

    def _check_elements(self, call: cst.Call, func: cst.Attribute) -> None:
        """``s.apply(lambda x: …)`` or ``s.map(lambda x: …)`` of a known Series, over operations
        the Series does on the whole column (``s.dt.month``, ``s.isin([...])``, arithmetic)."""
        function = _element_function(call, catalog.SERIES_ELEMENT_METHODS[func.attr.value])
        if function is None:
            return
        parameter = function.params.params[0].name.value
        body = function.body
        if type(body) is cst.Name or not mentions(body, parameter):
            return
        if not _is_element_arithmetic(body, parameter, self.context):
            return
        if not self.context.arrays.is_series(func.value) or is_written_out_table(func.value, self.context):
            return
        vectorised = body.visit(_ElementsOf(parameter, func.value))
        assert isinstance(vectorised, cst.BaseExpression)
        self.report(call, self.message.format(call=quote(call), vectorised=quote(vectorised)))


def _one_parameter_lambda(function: cst.BaseExpression | None) -> cst.Lambda | None:
    """``function`` when it is a lambda of one plain parameter."""
    if type(function) is not cst.Lambda:
        return None
    params = function.params
    if len(params.params) != 1 or params.posonly_params or params.kwonly_params:
        return None
    if isinstance(params.star_arg, cst.Param) or params.star_kwarg is not None:
        return None
    return function


def _element_function(call: cst.Call, keyword: str) -> cst.Lambda | None:
    """The one-parameter lambda that ``call`` (``s.apply`` or ``s.map``, whose function
    parameter is ``keyword``) applies to each element, given alone; None otherwise."""
    if len(call.args) != 1 or call.args[0].star:
        return None
    argument = call.args[0]
    if argument.keyword is not None and argument.keyword.value != keyword:
        return None
    return _one_parameter_lambda(argument.value)


def _row_function(call: cst.Call) -> cst.Lambda | None:
    """The one-parameter lambda ``call`` applies to each row (``axis=1``), or None."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None]
    keywords = {arg.keyword.value: arg.value for arg in call.args if arg.keyword is not None}
    function = keywords.get("func", positional[0] if positional else None)
    axis = keywords.get("axis", positional[1] if len(positional) > 1 else None)
    if function is None or axis is None or literal_value(axis) not in _ROW_AXES:
        return None
    return _one_parameter_lambda(function)


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


def _column_label(expr: cst.BaseExpression, parameter: str) -> str | None:
    """The label of the column ``expr`` reads of the row ``parameter`` (``r["a"]``, ``r.a``)."""
    if not _column(expr, parameter):
        return None
    if type(expr) is cst.Attribute:
        return expr.attr.value
    assert type(expr) is cst.Subscript
    label = literal_value(cst.ensure_type(expr.slice[0].slice, cst.Index).value)
    return label if isinstance(label, str) else None


def _only_column_label(body: cst.BaseExpression, parameter: str) -> str | None:
    """The one column label ``body`` reads of the row ``parameter``, when it reads the row only
    through that column; None otherwise."""
    labels: set[str | None] = set()

    class _Reads(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            if _column(node, parameter):
                labels.add(_column_label(node, parameter))
                return False
            return True

        def visit_Subscript(self, node: cst.Subscript) -> bool:
            if _column(node, parameter):
                labels.add(_column_label(node, parameter))
                return False
            return True

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == parameter:
                labels.add(None)

    body.visit(_Reads())
    if len(labels) != 1:
        return None
    return labels.pop()


def _string_literal(text: str) -> str:
    """``text`` written as a string literal, in double quotes where it allows."""
    return f'"{text}"' if '"' not in text and "\\" not in text else repr(text)


def _is_attribute_of(expr: cst.BaseExpression, element: str) -> bool:
    """``expr`` reads attributes of the name ``element`` and nothing else: ``value.left``."""
    if type(expr) is not cst.Attribute:
        return False
    while type(expr) is cst.Attribute:
        expr = expr.value
    return type(expr) is cst.Name and expr.value == element


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


def _datetime_field(expr: cst.BaseExpression, parameter: str) -> str | None:
    """The ``.dt`` spelling of ``expr`` when it reads a datetime field of the element
    ``parameter``: ``x.month`` (``month``), ``x.weekday()`` (``day_of_week``),
    ``x.normalize()`` (``normalize()``); None otherwise."""
    if type(expr) is cst.Attribute:
        if type(expr.value) is cst.Name and expr.value.value == parameter:
            return catalog.DATETIME_FIELDS.get(expr.attr.value)
        return None
    if type(expr) is not cst.Call or expr.args or type(expr.func) is not cst.Attribute:
        return None
    method = expr.func
    if type(method.value) is not cst.Name or method.value.value != parameter:
        return None
    if method.attr.value in catalog.DATETIME_METHODS:
        return f"{method.attr.value}()"
    return catalog.DATETIME_METHOD_FIELDS.get(method.attr.value)


def _literal_collection(expr: cst.BaseExpression) -> bool:
    """A list, tuple or set written out of numbers and strings: what ``isin`` takes."""
    if not isinstance(expr, (cst.List, cst.Tuple, cst.Set)) or not expr.elements:
        return False
    return all(
        type(element) is cst.Element and (is_number_literal(element.value) or type(element.value) is cst.SimpleString)
        for element in expr.elements
    )


def _is_membership(expr: cst.BaseExpression) -> bool:
    """``e in [1, 2]`` or ``e not in (1, 2)``, against a written-out collection."""
    return (
        isinstance(expr, cst.Comparison)
        and len(expr.comparisons) == 1
        and type(expr.comparisons[0].operator) in (cst.In, cst.NotIn)
        and _literal_collection(expr.comparisons[0].comparator)
    )


def _is_element_arithmetic(expr: cst.BaseExpression, parameter: str, context: FileContext) -> bool:
    """``expr`` is, for one element ``parameter`` of a Series, what the Series does on every
    element at once: arithmetic and single comparisons of the element, its datetime fields,
    numbers, strings and values from outside, and membership in a written-out collection. No
    other call and no other attribute or item of the element: a string method, a dict lookup
    or a function may do anything with it."""

    def leaf(node: cst.BaseExpression) -> bool | None:
        if type(node) in (cst.Name, cst.SimpleString):
            return True
        if _datetime_field(node, parameter) is not None:
            return True
        if type(node) is cst.Attribute:
            # A value from outside (``self.scale``, ``np.pi``), not an attribute of the element.
            return not mentions(node, parameter) and _is_chain(node)
        if isinstance(node, cst.Comparison) and _is_membership(node):
            return is_elementwise(node.left, leaf, context, libraries=())
        return None

    return is_elementwise(expr, leaf, context, libraries=())


def _is_chain(expr: cst.BaseExpression) -> bool:
    """A dotted name: ``self.scale``, ``np.pi``."""
    while type(expr) is cst.Attribute:
        expr = expr.value
    return type(expr) is cst.Name


class _ElementsOf(cst.CSTTransformer):
    """Puts the Series where the lambda reads its element: ``x.month`` becomes
    ``s.dt.month``, ``e in [...]`` becomes ``e.isin([...])``."""

    def __init__(self, parameter: str, series: cst.BaseExpression) -> None:
        super().__init__()
        self._parameter = parameter
        self._series = as_receiver(series)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._series if original_node.value == self._parameter else updated_node

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        # The attribute's name is no variable, even when spelled like the parameter.
        field = _datetime_field(original_node, self._parameter)
        if field is not None:
            return _accessor(self._series, field).with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
        return updated_node.with_changes(attr=original_node.attr)

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        field = _datetime_field(original_node, self._parameter)
        if field is None:
            return updated_node
        return _accessor(self._series, field).with_changes(lpar=original_node.lpar, rpar=original_node.rpar)

    def leave_Comparison(self, original_node: cst.Comparison, updated_node: cst.Comparison) -> cst.BaseExpression:
        if not _is_membership(original_node):
            return updated_node
        target = updated_node.comparisons[0]
        isin = cst.Call(
            func=cst.Attribute(value=as_receiver(updated_node.left), attr=cst.Name("isin")),
            args=[cst.Arg(target.comparator)],
        )
        result: cst.BaseExpression = (
            cst.UnaryOperation(operator=cst.BitInvert(), expression=isin)
            if type(target.operator) is cst.NotIn
            else isin
        )
        return result.with_changes(lpar=original_node.lpar, rpar=original_node.rpar)


def _accessor(series: cst.BaseExpression, field: str) -> cst.BaseExpression:
    """``series.dt.<field>``; a field ending in ``()`` is a method called without arguments."""
    name = field.removesuffix("()")
    attribute = cst.Attribute(value=cst.Attribute(value=series, attr=cst.Name("dt")), attr=cst.Name(name))
    return cst.Call(func=attribute) if field.endswith("()") else attribute


class _ColumnAs(cst.CSTTransformer):
    """Puts ``element`` where the lambda reads a column of its row parameter."""

    def __init__(self, parameter: str, element: cst.Name) -> None:
        super().__init__()
        self._parameter = parameter
        self._element = element

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        if _column(original_node, self._parameter):
            return self._element.with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
        return updated_node

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        if _column(original_node, self._parameter):
            return self._element.with_changes(lpar=original_node.lpar, rpar=original_node.rpar)
        return updated_node


class _ColumnsOf(cst.CSTTransformer):
    """Puts the frame where the lambda reads its row parameter."""

    def __init__(self, parameter: str, frame: cst.BaseExpression) -> None:
        super().__init__()
        self._parameter = parameter
        self._frame = as_receiver(frame)

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
    return (
        pd.DataFrame(
            {
                "price": rng.random(size),
                "quantity": rng.integers(1, 10, size).astype(float),
                "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24, size), unit="h"),
            }
        ),
    )


def _pattern(orders):
    return (
        orders.apply(lambda row: row["price"] * row["quantity"], axis=1),
        orders["date"].apply(lambda d: d.weekday() in [5, 6]),
    )


def _fix(orders):
    return orders["price"] * orders["quantity"], orders["date"].dt.day_of_week.isin([5, 6])


DataframeApplyRowwise.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 500, 2_000),
    check_size=64,
    size_unit="rows",
    backend=PANDAS_BACKEND,
    version=2,
    timed=(
        "Over n rows (float `price` and `quantity`, a datetime64 `date`): `orders.apply(lambda row: "
        "row['price'] * row['quantity'], axis=1)` and `orders['date'].apply(lambda d: d.weekday() in "
        "[5, 6])`, against the column product `orders['price'] * orders['quantity']` and "
        "`orders['date'].dt.day_of_week.isin([5, 6])`."
    ),
)
