"""PFL410: sorting or grouping the whole dataset inside ``__getitem__``."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import mentions
from perflint.measure.spec import Benchmark, Target
from perflint.rules.recomputation import FAMILY

_GETITEM = "__getitem__"


class DatasetWideWorkInGetitem(Rule):
    """``np.unique(self.labels)`` in ``__getitem__``: the whole dataset sorted per sample."""

    code = "PFL410"
    name = "dataset-wide-work-in-getitem"
    family = FAMILY
    summary = "Sorting, grouping or distinct values of a whole `self.` attribute inside `__getitem__`"
    message = (
        "`{call}` in `__getitem__` goes over all of `{data}` for every item (O(N log N) per "
        "sample, O(N² log N) per epoch); compute it once in `__init__` and keep the result on `self`"
    )
    fix_title = "Compute it once in `__init__` and index the stored result"
    fix_safety = FIX_UNSAFE
    required_text = (_GETITEM,)
    reported_at = "the call"

    what_it_does = (
        "Flags, inside `__getitem__` (and functions nested in it), a call that sorts, groups or finds"
        " the distinct values of its whole input — `np.unique`, `np.sort`, `np.argsort`, "
        "`torch.unique`, `torch.sort`, `torch.argsort`, and the methods `.unique()`, `.nunique()`, "
        "`.groupby()`, `.value_counts()`, `.sort_values()`, `.drop_duplicates()`, `.sort()`, "
        "`.argsort()` — applied to an attribute of `self` as a whole (`self.labels`, `self.df`, "
        '`self.df["label"]`), not to a part selected for this item (`self.labels[index]`), with '
        "arguments that do not depend on the item."
    )
    known_limitations = (
        "Only whole attributes of `self` are recognised: the same work on a module-level table or on "
        "data passed in as an argument is not flagged, nor work that depends on the item "
        "(`np.unique(self.labels[i])`)."
    )
    why_bad = (
        "`__getitem__` runs once per sample: a data loader calls it N times per epoch. A sort "
        "or a group-by over the whole dataset inside it costs O(N log N) per sample, so an "
        "epoch costs O(N² log N) where O(N log N) once would do. With 100,000 samples the "
        "loader spends its time re-sorting data that never changes."
    )
    example = """\
import numpy as np

class Labelled:
    def __init__(self, features, labels):
        self.features, self.labels = features, labels

    def __getitem__(self, index):
        classes = np.unique(self.labels)
        return self.features[index], np.searchsorted(classes, self.labels[index])
"""
    use_instead = """\
import numpy as np

class Labelled:
    def __init__(self, features, labels):
        self.features, self.labels = features, labels
        self.classes = np.unique(labels)

    def __getitem__(self, index):
        return self.features[index], np.searchsorted(self.classes, self.labels[index])
"""
    fix_safety_note = (
        "Unsafe: the result computed once is the same only while the attribute does not "
        "change between items. A dataset that appends samples or reassigns the attribute after "
        "`__init__` must recompute it there too."
    )

    VALID = (
        # Computed once in __init__; __getitem__ indexes it.
        """
        import numpy as np
        class Labelled:
            def __init__(self, labels):
                self.labels = labels
                self.classes = np.unique(labels)
            def __getitem__(self, index):
                return np.searchsorted(self.classes, self.labels[index])
        """,
        # Work on this item's part only.
        """
        import numpy as np
        class Windows:
            def __getitem__(self, index):
                window = self.signal[index : index + 64]
                order = np.argsort(window)
                return window[order], self.frames[index].unique()
        """,
        # The rows of this item's group only; an argument that depends on the item.
        """
        import numpy as np
        class Groups:
            def __getitem__(self, key):
                rows = self.by_user[key]
                local = np.unique(rows["item"])
                return local, self.table.sort_values(key)
        """,
        # Outside __getitem__.
        """
        import numpy as np
        class Stats:
            def summary(self):
                return np.unique(self.labels, return_counts=True)
            def __getitem__(self, index):
                return self.labels[index]
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            class Labelled:
                def __getitem__(self, index):
                    classes = np.unique(self.labels)
                    return np.searchsorted(classes, self.labels[index])
            """,
            line=4,
            column=19,
        ),
        Invalid(
            """
            import pandas as pd
            class Ratings:
                def __getitem__(self, index):
                    counts = self.df["user"].value_counts()
                    row = self.df.iloc[index]
                    return row, counts[row["user"]]
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            class Tokens:
                def __getitem__(self, index):
                    vocab = torch.unique(self.token_ids)
                    return torch.bucketize(self.token_ids[index], vocab)
            """,
            line=4,
        ),
        Invalid(
            """
            import pandas as pd
            class Sessions:
                def __getitem__(self, index):
                    ordered = self.events.sort_values("time")
                    return ordered.iloc[index]
            """,
            line=4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        data = self._whole_attribute_sorted(node)
        if data is None or not self._in_getitem():
            return
        self.report(node, self.message.format(call=quote(node), data=quote(data)))

    def _whole_attribute_sorted(self, call: cst.Call) -> cst.BaseExpression | None:
        """The ``self`` attribute ``call`` sorts, groups or de-duplicates as a whole, if any."""
        func = call.func
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is not None:
            if not record.has(catalog.Flag.SORTS) or not call.args or call.args[0].keyword is not None:
                return None
            data, others = call.args[0].value, call.args[1:]
        elif type(func) is cst.Attribute:
            method = catalog.method(func.attr.value)
            if method is None or catalog.Flag.SORTS not in method.flags:
                return None
            data, others = func.value, call.args
        else:
            return None
        if not _is_whole_self_attribute(data):
            return None
        # Arguments that name this item (a key, an index) make the work item-specific.
        frame = self.context.function
        parameters = _parameter_names(frame.node) if frame is not None else set()
        for arg in others:
            if mentions(arg.value, parameters):
                return None
        return data

    def _in_getitem(self) -> bool:
        frame = self.context.function
        while frame is not None:
            if frame.name == _GETITEM and frame.class_frame is not None:
                return True
            frame = frame.parent
        return False


def _is_whole_self_attribute(expr: cst.BaseExpression) -> bool:
    """``self.labels``, ``self.data.y`` or a column of one, ``self.df["label"]``."""
    if type(expr) is cst.Subscript:
        element = expr.slice[0].slice if len(expr.slice) == 1 else None
        if type(element) is not cst.Index or type(element.value) is not cst.SimpleString:
            return False
        expr = expr.value
    chain = dotted_name(expr)
    return chain is not None and chain.startswith("self.")


def _parameter_names(function: cst.CSTNode) -> set[str]:
    if type(function) is not cst.FunctionDef:
        return set()
    params = function.params
    return {param.name.value for param in (*params.posonly_params, *params.params, *params.kwonly_params)} - {"self"}


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    labels = np.random.default_rng(0).integers(0, 100, size)
    return labels, np.arange(0, size, max(1, size // 64))


def _pattern(labels, indices):
    import numpy as np

    return [int(np.searchsorted(np.unique(labels), labels[index])) for index in indices]


def _fix(labels, indices):
    import numpy as np

    classes = np.unique(labels)
    return [int(np.searchsorted(classes, labels[index])) for index in indices]


DatasetWideWorkInGetitem.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1000, 10_000, 100_000),
    check_size=128,
    size_unit="samples in the dataset (64 items fetched)",
    timed=(
        "64 `__getitem__` calls on a dataset of n labels: `np.unique(labels)` recomputed in every "
        "call against computed once at construction."
    ),
)
