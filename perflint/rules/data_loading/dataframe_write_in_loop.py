"""PFL307: a DataFrame written to the same file, or appended to one, on every iteration."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.data_loading import FAMILY


class DataFrameWriteInLoop(Rule):
    """``df.to_csv(path, mode="a")`` per iteration, or ``df.to_parquet(path)`` to the same path."""

    code = "PFL307"
    name = "dataframe-write-in-loop"
    family = FAMILY
    summary = "DataFrame written to a file on every iteration (appended, or the same path rewritten)"
    message = (
        "`{call}` appends to a file on every iteration: collect the frames in a list, "
        "`pd.concat` them after the loop and write once"
    )
    message_rewritten = (
        "`{call}` rewrites the same file on every iteration: collect the frames in a list, "
        "`pd.concat` them after the loop and write once"
    )
    fix_title = "Collect the frames, `pd.concat` them once after the loop, and write the result once"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("to_csv", "to_json", "to_parquet", "to_hdf", "to_feather")
    reported_at = "the writer call"

    what_it_does = (
        "Flags, inside a loop or comprehension, on every iteration (not under a condition that "
        "depends on the loop), a call of `.to_csv`, `.to_json`, `.to_parquet`, `.to_hdf` or "
        '`.to_feather` that appends rows (`to_csv`/`to_json` with `mode="a"`, `to_hdf` with '
        "`append=True`), or whose arguments are all the same on every iteration (the same path, and "
        "for `to_hdf` the same key)."
    )
    known_limitations = (
        "A different file per iteration is left alone, and so is a receiver known to be a NumPy array or a tensor."
        " Opt-in since round 11 of the precision review: none of its 4 findings on code it had not been "
        "tuned on was worth fixing, all in cdt's causal-discovery models: a progress file rewritten once "
        "per edge of a graph, after the edge's models trained for seconds (a deliberate checkpoint, "
        "dwarfed by the work beside it), and two writes the code can no longer reach. At 90% precision "
        "a record of 0 worth fixing in 4 reads happens 1 time in 10,000, below round 11's 5% criterion "
        "(`python benchmarks/track_record.py decide benchmarks/results/precision/round5/track_verdicts.csv`). Worth it where the iterations are cheap and many, such as one write per row."
    )
    why_bad = (
        "Every call opens the file, formats or encodes the rows, and closes it: CSV and JSON "
        "writers have a fixed cost per call (opening, the header, the encoder's set-up) that "
        "dwarfs a few rows, Parquet and Feather write a footer with the schema per file, and "
        "HDF5 appends extend the table's index each time. Rewriting the same path on every "
        "iteration writes the whole frame again each time, which grows quadratically when the "
        "frame grows, or throws away every iteration's output but the last. One `pd.concat` "
        "and one write pays the fixed cost once."
    )
    example = """\
import pandas as pd

for path in paths:
    frame = pd.read_json(path)
    frame.to_csv("all.csv", mode="a", header=False)
"""
    use_instead = """\
import pandas as pd

frames = [pd.read_json(path) for path in paths]
pd.concat(frames).to_csv("all.csv", header=False)
"""
    fix_safety_note = (
        "Unsafe: the rows are kept in memory until the end of the loop, which may not fit for "
        "a very large output (write in chunks of many frames instead), and nothing reaches the "
        "file if the loop fails midway. Appending also kept what the file held before the "
        'loop; write with `mode="a"` once if that is wanted.'
    )

    VALID = (
        # One file per item.
        """
        import pandas as pd
        for name, group in frame.groupby("subject"):
            group.to_csv(f"subjects/{name}.csv")
            group.to_parquet(out_dir / f"{name}.parquet")
        """,
        # Written once, after the loop; periodically inside it.
        """
        import pandas as pd
        rows = []
        for step, batch in enumerate(loader):
            rows.append(evaluate(batch))
            if step % 1000 == 0:
                pd.DataFrame(rows).to_csv("progress.csv")
        pd.DataFrame(rows).to_csv("metrics.csv")
        """,
        # A different HDF5 key per iteration; a NumPy array's method of another name.
        """
        import numpy as np
        import pandas as pd
        for key, frame in frames.items():
            frame.to_hdf("store.h5", key=key)
            np.zeros(3).tofile("zeros.bin")
        """,
    )
    INVALID = (
        Invalid(
            """
            import pandas as pd
            for path in paths:
                frame = pd.read_json(path)
                frame.to_csv("all.csv", mode="a", header=False)
            """,
            line=4,
            column=5,
        ),
        Invalid(
            """
            import pandas as pd
            def track(history, results):
                for epoch, result in enumerate(results):
                    history.loc[epoch] = result
                    history.to_parquet("history.parquet")
            """,
            line=5,
        ),
        Invalid(
            """
            import pandas as pd
            while running:
                chunk = read_chunk()
                chunk.to_hdf(store_path, key="events", append=True, format="table")
            """,
            line=4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.context.innermost_loop is None or type(func) is not cst.Attribute:
            return
        writer = catalog.method(func.attr.value)
        if writer is None or not writer.flags & catalog.Flag.WRITES_TABLE_FILE or writer.signature is None:
            return
        if self.context.arrays.kind_of(func.value) in (catalog.NUMPY, catalog.TORCH):
            return
        arguments = catalog.bind(node, writer.signature)
        if arguments is None or arguments.argument(writer.signature.positional[0]) is None:
            return
        if not self.context.runs_every_iteration():
            return
        if self._appends_rows(writer.name, arguments):
            self.report(node, self.message.format(call=quote(node)))
        elif all(self.context.is_invariant(argument.value) for argument in node.args) and not any(
            argument.star for argument in node.args
        ):
            self.report(node, self.message_rewritten.format(call=quote(node)))

    def _appends_rows(self, writer: str, arguments: catalog.BoundArguments) -> bool:
        parameter, appending = catalog.ROW_APPENDING_ARGUMENTS.get(writer, (None, None))
        if parameter is None:
            return False
        value = arguments.argument(parameter)
        return value is not None and literal_value(value) == appending


def _setup(size: int, target: Target) -> tuple:
    import atexit
    import os
    import shutil
    import tempfile

    import numpy as np
    import pandas as pd

    folder = tempfile.mkdtemp(prefix="perflint-pfl307-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    rng = np.random.default_rng(0)
    frames = [
        pd.DataFrame({"step": np.arange(index * 8, index * 8 + 8), "loss": rng.random(8)}) for index in range(size)
    ]
    return os.path.join(folder, "all.csv"), frames


def _pattern(path: str, frames: list):
    import pandas as pd

    frames[0].to_csv(path, index=False)
    for frame in frames[1:]:
        frame.to_csv(path, mode="a", header=False, index=False)
    return pd.read_csv(path)


def _fix(path: str, frames: list):
    import pandas as pd

    pd.concat(frames).to_csv(path, index=False)
    return pd.read_csv(path)


DataFrameWriteInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(10, 40, 200),
    check_size=5,
    size_unit="frames of 8 rows appended to a CSV file in a temporary folder",
    backend=PANDAS_BACKEND,
    timed=(
        "Writing n frames of 8 rows to one CSV file: `to_csv(mode='a')` per frame against one "
        "`pd.concat(frames).to_csv(...)`; the file is then read back on both sides."
    ),
)
