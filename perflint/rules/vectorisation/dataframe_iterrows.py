"""PFL106: a loop over ``DataFrame.iterrows()``."""

from __future__ import annotations

import libcst as cst

from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import syntax_children
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY


class DataframeIterrows(Rule):
    """``for _, row in df.iterrows()`` builds a pandas Series for every row."""

    code = "PFL106"
    name = "dataframe-iterrows"
    family = FAMILY
    summary = "Loop over DataFrame.iterrows(), which builds a Series per row"
    message = (
        "Loop over `{call}` builds a pandas Series for every row; use column-wise expressions "
        "on `{frame}`, or `{frame}.itertuples()` where a loop is unavoidable"
    )
    fix_title = "Compute on whole columns; if a loop is unavoidable, iterate `itertuples()`"
    fix_safety = FIX_UNSAFE
    default_enabled = False
    required_text = ("iterrows",)
    paid_per_execution = True
    reported_at = "the `iterrows()` call"

    what_it_does = (
        "Flags a `for` loop or comprehension whose iterable is `X.iterrows()` (with no arguments), in"
        " a module that imports pandas."
    )
    known_limitations = (
        "`itertuples()`, `items()` and loops over columns are not flagged, nor `iterrows` in a file "
        "that never imports pandas, nor a loop that hands its row, whole, to a call "
        "(`get_label(row)`: a per-row hook that takes a Series, which `itertuples()` would break)."
        " Opt-in: on code nobody tuned on (round 1's held-out set and round 3's development set of "
        "the precision review, `benchmarks/results/precision/`) none of its 3 findings was worth "
        "fixing: `iterrows` over a few dozen rows in a documentation builder or a one-off report, "
        "whose length the file does not show. Select it where frames are large and the loop runs "
        "often."
    )
    why_bad = (
        "`iterrows()` makes a new Series for every row: it allocates an index, boxes every cell "
        "into a Python object and upcasts a row of mixed column types to a common dtype (ints "
        "of a float frame come back as floats). Column-wise arithmetic runs in NumPy's compiled "
        "loops, typically hundreds of times faster; where a loop is really needed, "
        "`itertuples()` yields lightweight named tuples and is an order of magnitude faster "
        "than `iterrows()`."
    )
    example = """\
import pandas as pd

def revenue(orders: pd.DataFrame) -> float:
    total = 0.0
    for _, row in orders.iterrows():
        total += row["price"] * row["quantity"]
    return total
"""
    use_instead = """\
import pandas as pd

def revenue(orders: pd.DataFrame) -> float:
    return float((orders["price"] * orders["quantity"]).sum())
"""
    fix_safety_note = (
        "Unsafe. A column-wise rewrite changes the loop's structure and has to be written by "
        "hand; `itertuples()` yields named tuples, not Series: fields are attributes "
        "(`row.price`), columns whose names are not identifiers are renamed to positional names, "
        "and the index is the first field. Values keep their column's dtype, where `iterrows()` "
        "upcast a row of mixed types, so results can differ in type (an int column stays int)."
    )

    VALID = (
        # Data preparation runs once per dataset, not per batch.
        """
        import pandas as pd
        class Annotations:
            def process(self):
                for _, row in pd.read_csv(self.raw_path).iterrows():
                    self.items.append(row["label"])
        """,
        # The row, a Series, is handed whole to a per-row hook: `itertuples()` would break it.
        """
        import pandas as pd
        class Boxes:
            def __getitem__(self, index):
                labels = []
                for _, row in self.frame[self.frame.image == index].iterrows():
                    labels.append(self.get_label(row))
                return labels
            def shapes(self, src: pd.DataFrame):
                return [self.get_label(row) for _, row in src.iterrows()]
        """,
        # itertuples() is the recommended loop.
        """
        import pandas as pd  # itertuples, not iterrows
        frame = pd.read_csv("orders.csv")
        total = 0.0
        for row in frame.itertuples():
            total += row.price * row.quantity
        """,
        # Column iteration and items() are not row iteration.
        """
        import pandas as pd  # columns and items, not iterrows
        frame = pd.read_csv("orders.csv")
        for name, column in frame.items():
            print(name, column.mean())
        for name in frame.columns:
            print(name)
        """,
        # No pandas import: some other library's iterrows.
        """
        import sheets
        for index, row in sheets.open("book").iterrows():
            print(index, row)
        """,
        # Called, but not looped over.
        """
        import pandas as pd
        rows = frame.iterrows
        first = next(frame.iterrows())
        """,
    )
    INVALID = (
        Invalid(
            """
            import pandas as pd
            frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
            for index, row in frame.iterrows():
                frame.loc[index, "c"] = row["a"] + row["b"]
            """,
            line=3,
            column=19,
        ),
        Invalid(
            """
            import pandas as pd
            def labels(annotations):
                return [row["label"] for _, row in annotations.iterrows()]
            """,
            line=3,
        ),
        Invalid(
            """
            from pandas import read_csv
            def boxes(path):
                out = []
                for _, r in read_csv(path).iterrows():
                    out.append((r.x, r.y, r.w, r.h))
                return out
            """,
            line=4,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Comprehension loops whose element hands the row on (see ``visit_For``).
        self._handing_on: set[int] = set()

    def visit_For(self, node: cst.For) -> None:
        if _hands_the_row_on(node.target, node.body):
            # ``get_label(row)``, ``self._instantiate_image(row)``: a per-row hook that takes a
            # Series; `itertuples()` would break it, and its work dominates the row's.
            return
        self._check(node.iter)

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node.elt, node.for_in)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node.elt, node.for_in)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node.elt, node.for_in)

    def _comprehension(self, element: cst.BaseExpression, loop: cst.CompFor) -> None:
        if _hands_the_row_on(loop.target, element):
            self._handing_on.add(id(loop))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if id(node) not in self._handing_on:
            self._check(node.iter)

    def _check(self, iterable: cst.BaseExpression) -> None:
        if not (
            type(iterable) is cst.Call
            and type(iterable.func) is cst.Attribute
            and iterable.func.attr.value == "iterrows"
            and not iterable.args
            and self.context.imports.has_imported("pandas")
        ):
            return
        self.report(
            iterable,
            self.message.format(call=quote(iterable), frame=quote(iterable.func.value)),
        )


def _hands_the_row_on(target: cst.BaseExpression, body: cst.CSTNode) -> bool:
    """``body`` passes the loop's row, whole, to a call (``for _, row in df.iterrows(): f(row)``)."""
    if type(target) is cst.Tuple and len(target.elements) == 2:
        target = target.elements[1].value
    if type(target) is not cst.Name:
        return False
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        if type(node) is cst.Call and any(
            type(arg.value) is cst.Name and arg.value.value == target.value for arg in node.args
        ):
            return True
        pending.extend(syntax_children(node))
    return False


def _setup(size: int, target: Target) -> tuple:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return (pd.DataFrame({"price": rng.random(size), "quantity": rng.integers(1, 10, size).astype(float)}),)


def _pattern(orders):
    total = 0.0
    for _, row in orders.iterrows():
        total += row["price"] * row["quantity"]
    return total


def _fix(orders):
    return float((orders["price"] * orders["quantity"]).sum())


DataframeIterrows.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 300, 1_000),
    check_size=64,
    size_unit="rows",
    backend=PANDAS_BACKEND,
    timed=(
        "Summing `row['price'] * row['quantity']` over an n-row DataFrame with a loop over "
        "`iterrows()` against the column product and `.sum()`."
    ),
)
