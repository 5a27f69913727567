"""PFL408: the same data file read again on every iteration of a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, hoist, name_for
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Invalid, Rule
from perflint.measure.spec import PANDAS_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

# Arguments that make a read lazy: a memory map reads pages on demand, not the file.
_LAZY_READ_PARAMETERS = ("mmap_mode",)


class InvariantFileReadInLoop(Rule):
    """A data file read inside a loop with arguments that do not change between iterations."""

    code = "PFL408"
    name = "invariant-file-read-in-loop"
    family = FAMILY
    summary = "The same data file read again on every iteration of a loop"
    message = "`{call}` reads the same file on every iteration; read it once before the loop"
    fix_title = "Read the file once, above the loop, and reuse the data"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its 4 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/heldout_round6.md; its known limitations say why).
    default_enabled = False
    autofix = True
    required_text = ("read_", "load", "genfromtxt", "fromfile")
    reported_at = "the read call"

    what_it_does = (
        "Flags a call that reads a data file — `pandas.read_csv`, `read_parquet`, `read_json`, "
        "`read_excel`, `read_feather`, `read_pickle`, `read_table`, `numpy.load`, `loadtxt`, "
        "`genfromtxt`, `fromfile`, and `json.load(open(path))` — inside a loop or comprehension, on "
        "every iteration, with loop-invariant arguments (for `json.load`, the arguments of the `open`"
        " call)."
    )
    known_limitations = (
        "Left alone: a different file each iteration, a read under a condition that depends on the "
        "loop, a read in a loop that breaks or returns or inside a `try` within the loop (polling and"
        " retrying loops, which expect the file to change or appear), a read of a path the same loop "
        "writes (`open(path, 'w')`, `df.to_csv(path)`, any call that is not known to only read given "
        "the path), a file object opened elsewhere, and `numpy.load(..., mmap_mode=...)`, which maps "
        "the file instead of reading it."
        " Opt-in since round 6 of the precision review: over every review of code it had not been tuned "
        "on (`benchmarks/results/precision/round5/track_record.md`, "
        "`benchmarks/results/precision/heldout_round6.md`), none of its 4 findings was worth fixing and "
        "none was wrong. Each re-read a small file (a 4×4 affine, a sphere of a few hundred points, "
        "once per subject in dipy's workflows; a CLI's configuration once per run) beside far heavier "
        "work in the same iteration; worth it where a large table is parsed again on every step."
    )
    why_bad = (
        "Each read goes to the file system and parses the whole file again — CSV and JSON "
        "parsing runs at tens of megabytes per second — to produce the same data every time. "
        "For a loop of k iterations that is k - 1 reads and parses too many."
    )
    example = """\
import pandas as pd

def label_counts(ids):
    counts = []
    for i in ids:
        labels = pd.read_csv("labels.csv")
        counts.append((labels["id"] == i).sum())
    return counts
"""
    use_instead = """\
import pandas as pd

def label_counts(ids):
    labels = pd.read_csv("labels.csv")
    return [(labels["id"] == i).sum() for i in ids]
"""
    fix_safety_note = (
        "The fix reads the file once, as a new name made of the call's words "
        '(`read_csv_labels_csv = pd.read_csv("labels.csv")`) right above the loop, or above '
        "the statement holding the comprehension, and reads that name where the call was. It "
        "is unsafe: it assumes the file does not change while the loop runs (a file another "
        "process rewrites, or the loop itself writes, was read afresh on each iteration); the "
        "file is read also when the loop runs no iteration (a missing file now fails where the "
        "loop would not have run); and every iteration now shares the data it read. That last "
        "point is checked: the fix is offered only where the loop visibly just reads the data "
        "(arithmetic and comparisons on it or on its columns, items and attributes, or a name "
        "bound to it that the loop only reads so); data passed to a function, stored, or "
        "changed in place gets no fix."
    )

    VALID = (
        # The loop rewrites the file it reads: each read sees the last write.
        """
        import json
        for step in range(5):
            state = json.load(open("state.json"))
            with open("state.json", "w") as stream:
                json.dump(update(state), stream)
        """,
        # A different file on every iteration, and a read before the loop.
        """
        import pandas as pd
        frames = [pd.read_csv(path) for path in paths]
        labels = pd.read_csv("labels.csv")
        for i in ids:
            row = labels[labels.id == i]
        """,
        # A memory map reads pages on demand; and a file name built from the loop target.
        """
        import numpy as np
        for i in range(n):
            shard = np.load("embeddings.npy", mmap_mode="r")
            block = np.load(f"shard_{i}.npy")
        """,
        # A polling loop: it waits for the file to change or appear.
        """
        import json
        while True:
            try:
                status = json.load(open("status.json"))
            except FileNotFoundError:
                continue
            if status["done"]:
                break
        """,
        # Only on the first iteration.
        """
        import pandas as pd
        for epoch in range(epochs):
            if epoch == 0:
                meta = pd.read_parquet(META_PATH)
        """,
    )
    INVALID = (
        Invalid(
            """
            import pandas as pd
            for i in ids:
                labels = pd.read_csv("labels.csv")
            """,
            line=3,
            column=14,
            fixed="""
            import pandas as pd
            read_csv_labels_csv = pd.read_csv("labels.csv")
            for i in ids:
                labels = read_csv_labels_csv
            """,
        ),
        Invalid(
            """
            import json
            def lookup_all(keys, config_path):
                return [json.load(open(config_path))[key] for key in keys]
            """,
            line=3,
            # The items go into the list: read once, the list would hold shared objects where
            # it held separate ones.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            for x in queries:
                bank = np.load(BANK_PATH)
                scores = bank @ x
            """,
            line=3,
            fixed="""
            import numpy as np
            load_BANK_PATH = np.load(BANK_PATH)
            for x in queries:
                bank = load_BANK_PATH
                scores = bank @ x
            """,
        ),
        # Columns and comparisons of the data, a multi-line call, a comprehension in a function.
        Invalid(
            """
            import pandas as pd
            def label_counts(ids, path):
                return [int((pd.read_csv(
                    path,
                    usecols=["id"],  # only the ids
                )["id"] == i).sum()) for i in ids]
            """,
            line=3,
            fixed="""
            import pandas as pd
            def label_counts(ids, path):
                read_csv_path_id = pd.read_csv(
                    path,
                    usecols=["id"],  # only the ids
                )
                return [int((read_csv_path_id["id"] == i).sum()) for i in ids]
            """,
        ),
        # Changed in place on each iteration: one shared frame would carry the changes over.
        Invalid(
            """
            import pandas as pd
            for threshold in thresholds:
                table = pd.read_parquet("scores.parquet")
                table["score"] -= threshold
                report((table["score"] > 0).mean())
            """,
            line=3,
            fixed=NO_FIX,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._new_names = NewNames()

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.context.innermost_loop
        if frame is None:
            return
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or not (record.has(catalog.Flag.READS_FILE) or record.has(catalog.Flag.READS_ARRAY_FILE)):
            return
        if any(arg.star for arg in node.args):
            return
        bound = catalog.bind(node, record)
        if bound is None or any(_is_lazy(bound.argument(name)) for name in _LAZY_READ_PARAMETERS):
            return
        if not self.context.runs_every_iteration() or frame.exits_early or self.context.loops.in_try_body(frame):
            return
        if all(self._invariant(arg.value) for arg in node.args) and not frame.may_write_file(node):
            fix = hoist(self.context, node, frame.node, self._new_names, name_for(self.context, node))
            self.report(node, self.message.format(call=quote(node)), fix=fix)

    def _invariant(self, argument: cst.BaseExpression) -> bool:
        """The argument names the same file on every iteration: it is loop-invariant, or it
        opens a loop-invariant path (``open(path)`` is a new file object each time)."""
        if isinstance(argument, cst.Call) and self.context.imports.is_builtin(argument.func, "open"):
            return not any(arg.star for arg in argument.args) and all(
                self.context.is_invariant(arg.value) for arg in argument.args
            )
        return self.context.is_invariant(argument)


def _is_lazy(argument) -> bool:
    return argument is not None and literal_value(argument) is not None


def _setup(size: int, target: Target) -> tuple:
    import io

    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"id": np.arange(size), "label": rng.integers(0, 10, size)})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue(), list(range(0, size, max(1, size // 20)))


def _pattern(csv_text: str, ids: list):
    import io

    import pandas as pd

    return [int(pd.read_csv(io.StringIO(csv_text))["label"].iloc[i]) for i in ids]


def _fix(csv_text: str, ids: list):
    import io

    import pandas as pd

    labels = pd.read_csv(io.StringIO(csv_text))["label"]
    return [int(labels.iloc[i]) for i in ids]


InvariantFileReadInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=40,
    size_unit="CSV rows (parsed from memory; 20 lookups)",
    backend=PANDAS_BACKEND,
    timed=("20 lookups in an n-row CSV parsed from memory: `pd.read_csv` inside the loop against once before it."),
)
