"""PFL108: a pandas DataFrame grown by one piece on every iteration of a loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.catalog import CONCATENATES
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import mentions
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext


class DataframeGrownInLoop(Rule):
    """``df = pd.concat([df, row])`` in a loop rebuilds the whole frame on every iteration."""

    code = "PFL108"
    name = "dataframe-grown-in-loop"
    family = FAMILY
    summary = "DataFrame grown by concat, append or .loc[len(df)] on every loop iteration"
    message = (
        "`{name}` is grown by `{growth}` on every iteration, rebuilding the frame each time; "
        "collect the rows (or frames) in a list and build the frame once after the loop"
    )
    fix_title = "Collect rows or frames in a list; call `pd.DataFrame(rows)` or `pd.concat(frames)` once"
    fix_safety = FIX_UNSAFE
    # Opt-in: 1 of its 29 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md, ../heldout_round5.md; its known limitations say why).
    default_enabled = False
    required_text = ("pandas",)
    reported_at = "the growing statement"

    what_it_does = (
        "Flags, inside a `for` or `while` loop, `df = pd.concat([df, …])`, `df = df.append(…)` (with "
        "`df` a known pandas object) and `df.loc[len(df)] = …`, where `df` is a loop-carried "
        "accumulator in the sense of PFL105: every assignment to it in the loop is such a growth or a"
        " first value under `if df is None:`, and the loop reads `df` nowhere else."
    )
    known_limitations = (
        "A loop that also uses the frame whole on each step is not flagged, nor a single concatenation outside a loop."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`, `benchmarks/results/precision/heldout_round5.md`), "
        "1 of its 29 "
        "findings was worth fixing and none was wrong. Most loops it finds run once per series, fold or "
        "plot component, a few dozen to a few hundred times, beside far heavier work in the same call: "
        "in NeuralProphet, measured, each grown frame was at most 1.3% of `predict` (3% all together); "
        "worth it where the loop runs over many rows and the growth is most of the call."
    )
    why_bad = (
        "A DataFrame is a set of column arrays: adding a row allocates every column anew and "
        "copies all existing rows, and `.loc[len(df)] = row` with a new label reallocates the "
        "same way. After n iterations the loop has copied about n²/2 rows, and each step also "
        "pays pandas' per-call overhead of index alignment and dtype checks. A list of dicts or "
        "frames costs O(1) per append and one construction at the end."
    )
    example = """\
import pandas as pd

def results_table(runs):
    table = pd.DataFrame(columns=["run", "score"])
    for run in runs:
        table = pd.concat([table, pd.DataFrame([{"run": run.name, "score": run.score}])])
    return table
"""
    use_instead = """\
import pandas as pd

def results_table(runs):
    rows = [{"run": run.name, "score": run.score} for run in runs]
    return pd.DataFrame(rows, columns=["run", "score"])
"""
    fix_safety_note = (
        "Unsafe. Building once gives the same rows, but the index and dtypes can differ: "
        "`pd.concat` of pieces keeps each piece's index (pass `ignore_index=True` to both "
        "forms to renumber), and an empty initial frame with object columns can leave the "
        "grown frame's columns as object where the one-shot frame infers numeric dtypes. "
        "`DataFrame.append` was removed in pandas 2.0, so code using it needs the rewrite anyway."
    )

    VALID = (
        # One concatenation, outside any loop.
        """
        import pandas as pd
        frame = pd.concat([train, test])
        """,
        # The frame is read on every step: the loop uses its current contents.
        """
        import pandas as pd
        def grow(frame: pd.DataFrame, items):
            for item in items:
                if item.key in frame.index:
                    continue
                frame = pd.concat([frame, item.to_frame()])
            return frame
        """,
        # Frames collected in a list and concatenated once: the fix.
        """
        import pandas as pd
        def gather(paths):
            frames = []
            for path in paths:
                frames.append(pd.read_csv(path))
            return pd.concat(frames)
        """,
        # A list's append, not a frame's.
        """
        import pandas as pd
        def gather(items):
            rows = []
            for item in items:
                rows.append(item)
            return pd.DataFrame(rows)
        """,
    )
    INVALID = (
        Invalid(
            """
            import pandas as pd
            def collect(batches):
                frame = None
                for batch in batches:
                    piece = pd.DataFrame(batch)
                    if frame is None:
                        frame = piece
                    else:
                        frame = pd.concat([frame, piece], ignore_index=True)
                return frame
            """,
            line=9,
            column=13,
        ),
        Invalid(
            """
            import pandas as pd
            log = pd.DataFrame(columns=["epoch", "loss"])
            for epoch in range(10):
                log.loc[len(log)] = [epoch, train_one_epoch()]
            """,
            line=4,
        ),
        Invalid(
            """
            import pandas as pd
            def history(events):
                frame = pd.DataFrame()
                for event in events:
                    frame = frame.append(event, ignore_index=True)
                return frame
            """,
            line=5,
        ),
    )

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._reported: set[tuple[int, str]] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self.context.innermost_loop
        if frame is None or len(node.targets) != 1:
            return
        name = self._grown_name(node)
        if name is None or (id(frame.node), name) in self._reported:
            return
        if not frame.accumulates(name, lambda statement: self._grown_name(statement) == name):
            return
        self._reported.add((id(frame.node), name))
        self.report(node, self.message.format(name=name, growth=quote(node)))

    def _grown_name(self, statement: cst.Assign) -> str | None:
        """``df`` when ``statement`` grows the frame ``df`` by one piece."""
        if len(statement.targets) != 1:
            return None
        target = statement.targets[0].target
        if type(target) is cst.Subscript:
            return self._row_appended(target)
        if type(target) is not cst.Name or type(statement.value) is not cst.Call:
            return None
        name, call = target.value, statement.value
        if type(call.func) is cst.Attribute and call.func.attr.value == "append":
            # ``df = df.append(row)``: a frame's own append (removed in pandas 2.0).
            receiver = call.func.value
            if (
                type(receiver) is cst.Name
                and receiver.value == name
                and self.context.arrays.kind_of(receiver) == catalog.PANDAS
                and not any(mentions(arg.value, name) for arg in call.args)
            ):
                return name
            return None
        record = catalog.lookup(self.context.imports.qualified_name(call.func))
        if record is None or not record.has(CONCATENATES) or record.library != catalog.PANDAS:
            return None
        bound = catalog.bind(call, record)
        pieces = bound.argument(record.signature.positional[0]) if bound is not None else None
        if not isinstance(pieces, (cst.List, cst.Tuple)) or len(pieces.elements) < 2:
            return None
        own = [
            element for element in pieces.elements if type(element.value) is cst.Name and element.value.value == name
        ]
        if len(own) != 1 or type(own[0]) is cst.StarredElement:
            return None
        others = [element.value for element in pieces.elements if element is not own[0]]
        others += [arg.value for arg in call.args if arg.keyword is not None]
        return None if any(mentions(other, name) for other in others) else name

    def _row_appended(self, target: cst.Subscript) -> str | None:
        """``df`` for ``df.loc[len(df)]``: a new last row."""
        accessor = target.value
        if type(accessor) is not cst.Attribute or accessor.attr.value != "loc" or type(accessor.value) is not cst.Name:
            return None
        if len(target.slice) != 1 or type(target.slice[0].slice) is not cst.Index:
            return None
        label = target.slice[0].slice.value
        name = accessor.value.value
        if (
            type(label) is cst.Call
            and self.context.imports.is_builtin(label.func, "len")
            and len(label.args) == 1
            and type(label.args[0].value) is cst.Name
            and label.args[0].value.value == name
        ):
            return name
        return None


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return ([{"run": index, "score": float(score)} for index, score in enumerate(rng.random(size))],)


def _pattern(rows):
    import pandas as pd

    table = pd.DataFrame({"run": pd.Series(dtype="int64"), "score": pd.Series(dtype="float64")})
    for row in rows:
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    return table


def _fix(rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["run", "score"])


DataframeGrownInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(20, 60, 200),
    check_size=8,
    size_unit="rows",
    backend=PANDAS_BACKEND,
    timed=(
        "Building an n-row, two-column DataFrame from n dicts: `pd.concat` with a one-row frame in "
        "every iteration against one `pd.DataFrame(rows)`."
    ),
)
