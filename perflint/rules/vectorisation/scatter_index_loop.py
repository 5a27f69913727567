"""PFL117: a loop that adds into an array at gathered indices (``T[idx[i]] += w[i]``) one item
at a time: a scatter-add, a histogram, a confusion matrix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.imports import chains_overlap, dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import resolved
from perflint.engine.walker import simple_body, syntax_children
from perflint.measure.spec import NUMPY_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

_ARRAYS = (catalog.NUMPY, catalog.TORCH)
_SCATTER_OPERATORS = {cst.AddAssign: "add", cst.SubtractAssign: "subtract"}


@dataclass
class _ScatterLoop:
    """One candidate loop: how its items are named, and what its body reads and writes.

    ``index``: the loop index of ``for i in range(…)``; ``sources``: for a loop over arrays
    (``for a, b in zip(x, y)``), each target's array."""

    index: str | None
    sources: dict[str, cst.BaseExpression]
    written: set[str] = field(default_factory=set)
    read: set[str] = field(default_factory=set)
    # Each element the body reads (``w[i]``, a target ``a``, a gather ``T[idx[i]]``) and its
    # whole-array form (``w``, ``x``, ``T[idx]``).
    whole: dict[int, cst.BaseExpression] = field(default_factory=dict)
    kinds: set[catalog.ArrayKind] = field(default_factory=set)


class ScatterIndexLoop(Rule):
    """``for i in range(n): T[idx[i]] += w[i]`` and ``for a, b in zip(x, y): conf[a, b] += 1``."""

    code = "PFL117"
    name = "scatter-index-loop"
    family = FAMILY
    summary = "Python loop adding into an array at gathered indices (scatter-add, histogram, confusion matrix)"
    message = "Loop adds into `{array}` one item at a time (`{loop}`); use `{vectorised}`"
    fix_title = "Replace the loop with one unbuffered scatter-add (`np.add.at`, `index_add_`, `index_put_`)"
    fix_safety = FIX_UNSAFE
    # Opt-in until real code has been reviewed: the development sets gave it no finding to judge.
    default_enabled = False
    required_text = ("numpy", "torch")
    reported_at = "the `for` statement"

    what_it_does = (
        "Flags a loop whose body only adds into a known NumPy array or torch tensor `T` at "
        "indices read from other arrays, one item per iteration: `for i in range(…)` with "
        "`T[idx[i]] += w[i]`, `T[a[i], b[i]] += 1` or `-=`, or a loop over known arrays "
        "(`for a, b in zip(x, y)`, `for k in labels`) with `T[a, b] += 1`. The added value is "
        "built from elements at the loop index (or the loop's targets), numbers and scalars from "
        "outside the loop, with arithmetic and the catalogue's element-wise functions. Alongside "
        "the scatter the body may gather (`out[i] = G[idx[i]] * 2`, with `G` not written by the "
        "loop); a loop that only gathers is PFL101's. Not flagged: `T` a dict, a list or of unknown "
        "type; indices read from a dict; an index that is the loop index itself (`T[i] += …` is "
        "PFL101's element-wise loop); a body that does anything else (a call, a condition, a "
        "second loop); a recurrence, where the body reads an array the loop writes (`T[idx[i]] += "
        "T[j[i]]`) or writes the indices or weights it reads; a loop with `else`; a loop in code "
        "a JIT compiler compiles (numba, JAX, TorchScript, `torch.compile`, Cython). "
        "Known limitations: the range is not compared with the arrays' lengths, so the message's "
        "call covers the whole index and weight arrays where the loop may cover a prefix; when "
        "`idx` is 2-D, `T[idx[i]] += 1` adds once per distinct entry of a row where `np.add.at` "
        "adds once per entry, and the rule cannot see the number of dimensions; only `+=` and "
        "`-=` are recognised (not `*=`, nor a maximum kept with `np.maximum.at` / "
        "`scatter_reduce_`); a loop over `enumerate`, over a list, or one that does other work "
        "beside the scatter (a count kept next to a Python-side computation) is not flagged even "
        "where the scatter could be split out. "
        "Opt-in: over the development set of the precision review (35 research code bases) it "
        "found nothing to judge its precision by (their accumulating loops add into dicts and "
        "lists, or do other work per item); it stays opt-in until a review of real findings shows "
        "them worth fixing."
    )
    why_bad = (
        "Each iteration runs in the interpreter: it reads the indices and the weight as scalar "
        "objects, dispatches an indexing, an addition and an item assignment for that one item, "
        "and on a torch tensor builds 0-d tensors and launches kernels for each. `np.add.at` and "
        "torch's `index_add_` / `index_put_(…, accumulate=True)` do the same accumulation, "
        "duplicates included, in one compiled pass (for a 1-D count or weighted sum, "
        "`np.bincount(idx, weights=w, minlength=len(T))` is faster still). A fancy-indexed "
        "`T[idx] += w` is not the same: it adds once per distinct index."
    )
    example = """\
import numpy as np

def class_totals(labels: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    totals = np.zeros(n_classes)
    for i in range(len(labels)):
        totals[labels[i]] += weights[i]
    return totals
"""
    use_instead = """\
import numpy as np

def class_totals(labels: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
    totals = np.zeros(n_classes)
    np.add.at(totals, labels, weights)
    return totals
"""
    fix_safety_note = (
        "No automatic fix: the loop's range may cover only part of the index and weight arrays "
        "(`range(m)` with `m < len(idx)`), which the whole-array call would not; on torch the "
        "added values must be a tensor of `T`'s dtype, which the loop converted item by item; "
        "and when `idx` is 2-D the loop adds once per distinct index of each row where "
        "`np.add.at` adds once per entry. Write the call the message gives on the arrays (or "
        "slices of them) the loop covers."
    )

    VALID = (
        # A dict and a list accumulate by key: no array to scatter into.
        """
        import numpy as np
        def counts(labels: np.ndarray, weights: np.ndarray):
            by_label = {}
            totals = [0.0] * 10
            for i in range(len(labels)):
                by_label[labels[i]] += weights[i]
                totals[labels[i]] += weights[i]
            return by_label, totals
        """,
        # A pure gather is PFL101's element-wise loop, not a scatter.
        """
        import numpy as np
        def lookup(table: np.ndarray, idx: np.ndarray) -> np.ndarray:
            out = np.empty(len(idx))
            for i in range(len(idx)):
                out[i] = table[idx[i]]
            return out
        """,
        # The index is the loop index: an element-wise loop (PFL101), not a scatter.
        """
        import numpy as np
        def bump(totals: np.ndarray, weights: np.ndarray):
            for i in range(len(totals)):
                totals[i] += weights[i]
        """,
        # A recurrence: the body reads the array it writes, so each item depends on earlier ones.
        """
        import numpy as np
        def chain(values: np.ndarray, parent: np.ndarray, order: np.ndarray):
            for i in range(len(order)):
                values[order[i]] += values[parent[i]]
        """,
        # A gather from the array the loop scatters into reads what earlier iterations wrote.
        """
        import numpy as np
        def step(stock: np.ndarray, src: np.ndarray, dst: np.ndarray, flow: np.ndarray):
            sent = np.empty(len(src))
            for i in range(len(src)):
                sent[i] = stock[src[i]] * flow[i]
                stock[dst[i]] -= flow[i]
            return sent
        """,
        # Other work in the body: a condition, a call, a second statement that is not a scatter.
        """
        import numpy as np
        def counts(labels: np.ndarray, keep: np.ndarray, hist: np.ndarray):
            for i in range(len(labels)):
                if keep[i]:
                    hist[labels[i]] += 1
            seen = 0
            for i in range(len(labels)):
                hist[labels[i]] += 1
                seen += 1
            for i in range(len(labels)):
                hist[labels[i]] += np.sum(keep)
        """,
        # Indices read from a dict (the keys are not an index array), and a loop over a list.
        """
        import numpy as np
        def counts(names, hist: np.ndarray):
            position = {0: 2, 1: 0}
            for i in range(len(names)):
                hist[position[i]] += 1
            for a, b in zip(names, names):
                hist[a, b] += 1
        """,
        # Compiled by numba: the loop is machine code.
        """
        import numba
        import numpy as np
        @numba.njit
        def histogram(labels: np.ndarray, hist: np.ndarray):
            for i in range(len(labels)):
                hist[labels[i]] += 1
        """,
        # The loop writes the indices it reads.
        """
        import numpy as np
        def walk(next_of: np.ndarray, hist: np.ndarray):
            for i in range(len(next_of)):
                hist[next_of[i]] += 1
                next_of[i] = 0
        """,
        # A value from outside the loop that is an array broadcasts: not one item per index.
        """
        import torch
        def add_rows(table: torch.Tensor, idx: torch.Tensor, row: torch.Tensor):
            for i in range(len(idx)):
                table[idx[i]] += row
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def class_totals(labels: np.ndarray, weights: np.ndarray, n_classes: int) -> np.ndarray:
                totals = np.zeros(n_classes)
                for i in range(len(labels)):
                    totals[labels[i]] += weights[i]
                return totals
            """,
            line=4,
            column=5,
        ),
        # A confusion matrix over zipped label tensors.
        Invalid(
            """
            import torch
            def confusion(preds: torch.Tensor, targets: torch.Tensor, k: int) -> torch.Tensor:
                conf = torch.zeros(k, k, dtype=torch.long)
                for p, t in zip(preds, targets):
                    conf[t, p] += 1
                return conf
            """,
            line=4,
        ),
        # Two index arrays read at the loop index; parameters of unknown type as indices.
        Invalid(
            """
            import numpy as np
            def confusion(y_true, y_pred, n: int) -> np.ndarray:
                conf = np.zeros((n, n), dtype=int)
                for i in range(len(y_true)):
                    conf[y_true[i], y_pred[i]] += 1
                return conf
            """,
            line=4,
        ),
        # torch: a weighted scatter-add of rows into a table.
        Invalid(
            """
            import torch
            def segment_sum(x: torch.Tensor, segment: torch.Tensor, n: int) -> torch.Tensor:
                out = torch.zeros(n, x.shape[1])
                for i in range(x.shape[0]):
                    out[segment[i]] += x[i] * 0.5
                return out
            """,
            line=4,
        ),
        # A gather alongside the scatter, and a subtraction.
        Invalid(
            """
            import numpy as np
            def step(stock: np.ndarray, price: np.ndarray, src: np.ndarray, flow: np.ndarray):
                paid = np.empty(len(src))
                for i in range(len(src)):
                    paid[i] = price[src[i]] * flow[i]
                    stock[src[i]] -= flow[i]
                return paid
            """,
            line=4,
        ),
        # Counting the items of one array.
        Invalid(
            """
            import numpy as np
            def histogram(tokens: np.ndarray, vocab: int) -> np.ndarray:
                counts = np.zeros(vocab, dtype=np.int64)
                for token in tokens:
                    counts[token] += 1
                return counts
            """,
            line=4,
        ),
    )

    def visit_For(self, node: cst.For) -> None:
        if node.orelse is not None or node.asynchronous is not None:
            return
        statements = simple_body(node.body)
        if not statements:
            return
        loop = self._scatter_loop(node)
        if loop is None:
            return
        scatters: list[tuple[cst.AugAssign, cst.Subscript]] = []
        gathers: list[tuple[cst.Assign, cst.Subscript]] = []
        for statement in statements:
            if isinstance(statement, cst.AugAssign) and (scatter := self._scatter_target(statement, loop)) is not None:
                scatters.append((statement, scatter))
            elif isinstance(statement, cst.Assign) and (gather := self._gather_target(statement, loop)) is not None:
                gathers.append((statement, gather))
            else:
                return
        if not scatters:
            # A loop that only gathers (``out[i] = T[idx[i]]``) is PFL101's.
            return
        targets = [target for _, target in scatters] + [target for _, target in gathers]
        loop.written = {chain for target in targets if (chain := dotted_name(target.value)) is not None}
        loop.kinds.update(kind for target in targets if (kind := self.context.arrays.kind_of(target.value)) is not None)
        for augmented, target in scatters:
            if not all(self._index_element(_index_value(element), loop) for element in target.slice):
                return
            if not self._is_elementwise(augmented.value, loop):
                return
        for assignment, _ in gathers:
            if not self._is_elementwise(assignment.value, loop):
                return
        if any(chains_overlap(read, written) for read in loop.read for written in loop.written):
            # A recurrence: an item depends on what an earlier iteration wrote.
            return
        if len(loop.kinds) != 1 or self.context.in_compiled_code():
            return
        (kind,) = loop.kinds
        rendered = {id(augmented): self._scatter_call(augmented, target, loop, kind) for augmented, target in scatters}
        rendered.update(
            (id(assignment), self._gather_assignment(target, assignment, loop)) for assignment, target in gathers
        )
        self.report(
            node,
            self.message.format(
                array=quote(scatters[0][1].value),
                loop="; ".join(_render(statement) for statement in statements),
                vectorised="; ".join(rendered[id(statement)] for statement in statements),
            ),
        )

    def _scatter_loop(self, node: cst.For) -> _ScatterLoop | None:
        """How the loop names its items: an index over a ``range``, or targets over arrays."""
        imports, arrays = self.context.imports, self.context.arrays
        iterable, target = node.iter, node.target
        if type(iterable) is cst.Call and imports.is_builtin(iterable.func, "range"):
            return _ScatterLoop(index=target.value, sources={}) if isinstance(target, cst.Name) else None
        if type(iterable) is cst.Call and imports.is_builtin(iterable.func, "zip"):
            sources = [arg.value for arg in iterable.args if arg.keyword is None and not arg.star]
            if (
                type(target) is not cst.Tuple
                or len(sources) != len(iterable.args) - _strict_keywords(iterable)
                or len(target.elements) != len(sources)
                or any(type(element.value) is not cst.Name for element in target.elements)
            ):
                return None
            names = [cast(cst.Name, element.value).value for element in target.elements]
        elif type(target) is cst.Name:
            sources, names = [iterable], [target.value]
        else:
            return None
        if len(set(names)) != len(names) or any(arrays.kind_of(source) not in _ARRAYS for source in sources):
            return None
        loop = _ScatterLoop(index=None, sources=dict(zip(names, sources)))
        for source in sources:
            loop.kinds.add(cast(catalog.ArrayKind, arrays.kind_of(source)))
            chain = dotted_name(source)
            if chain is not None:
                loop.read.add(chain)
        return loop

    def _scatter_target(self, statement: cst.AugAssign, loop: _ScatterLoop) -> cst.Subscript | None:
        """``T`` indexed by items only, in ``T[…] += …`` or ``-=``, with ``T`` a known array."""
        target = statement.target
        if type(statement.operator) not in _SCATTER_OPERATORS or type(target) is not cst.Subscript:
            return None
        if dotted_name(target.value) is None or self.context.arrays.kind_of(target.value) not in _ARRAYS:
            return None
        for element in target.slice:
            index = element.slice
            if type(index) is not cst.Index or index.star is not None:
                return None
            value = index.value
            if not (type(value) is cst.Subscript or (type(value) is cst.Name and value.value in loop.sources)):
                return None
        return target

    def _gather_target(self, statement: cst.Assign, loop: _ScatterLoop) -> cst.Subscript | None:
        """``out`` in ``out[i] = …``, ``out`` a known array, in a loop over an index."""
        if loop.index is None or len(statement.targets) != 1:
            return None
        target = statement.targets[0].target
        if type(target) is not cst.Subscript or self._at_index(target, loop) is None:
            return None
        return target if self.context.arrays.kind_of(target.value) in _ARRAYS else None

    def _at_index(self, node: cst.Subscript, loop: _ScatterLoop) -> str | None:
        """``x`` when ``node`` is ``x[i]``, ``i`` the loop index and ``x`` a chain."""
        if loop.index is None or len(node.slice) != 1:
            return None
        index = node.slice[0].slice
        if type(index) is not cst.Index or index.star is not None:
            return None
        if type(index.value) is not cst.Name or index.value.value != loop.index:
            return None
        return dotted_name(node.value)

    def _index_element(self, node: cst.BaseExpression, loop: _ScatterLoop) -> bool:
        """``node`` is one item of an index array: ``idx[i]`` (``idx`` not a dict) or a target
        of a loop over arrays."""
        if type(node) is cst.Name and node.value in loop.sources:
            loop.whole[id(node)] = loop.sources[node.value]
            return True
        if type(node) is not cst.Subscript:
            return False
        chain = self._at_index(node, loop)
        if chain is None or chain.partition(".")[0] == loop.index or self._maybe_mapping(node.value):
            return False
        return self._element(node, chain, loop)

    def _element(self, node: cst.Subscript, chain: str, loop: _ScatterLoop) -> bool:
        kind = self.context.arrays.kind_of(node.value)
        if kind is not None:
            if kind not in _ARRAYS:
                return False
            loop.kinds.add(kind)
        loop.read.add(chain)
        loop.whole[id(node)] = node.value
        return True

    def _maybe_mapping(self, expr: cst.BaseExpression) -> bool:
        """``expr`` holds a dict: its items are looked up by key, not by position."""
        value = resolved(expr, self.context)
        if type(value) in (cst.Dict, cst.DictComp):
            return True
        return type(value) is cst.Call and self.context.imports.is_builtin(value.func, "dict")

    def _is_elementwise(self, expr: cst.BaseExpression, loop: _ScatterLoop) -> bool:
        """``expr`` gives, for each item, the item's value of the same expression on whole
        arrays: its leaves are items (``w[i]``, a target), gathers ``G[idx[i]]``, numbers and
        scalars from outside the loop."""

        def leaf(node: cst.BaseExpression) -> bool | None:
            if isinstance(node, cst.Subscript):
                chain = self._at_index(node, loop)
                if chain is not None:
                    return chain.partition(".")[0] != loop.index and self._element(node, chain, loop)
                return self._gather(node, loop)
            if isinstance(node, cst.Name) and node.value in loop.sources:
                loop.whole[id(node)] = loop.sources[node.value]
                return True
            if isinstance(node, (cst.Name, cst.Attribute)):
                return self._outside_scalar(node, loop)
            return None

        return is_elementwise(expr, leaf, self.context)

    def _gather(self, node: cst.Subscript, loop: _ScatterLoop) -> bool:
        """``G[idx[i]]``: a known array read at an index item."""
        if len(node.slice) != 1 or type(node.slice[0].slice) is not cst.Index:
            return False
        chain = dotted_name(node.value)
        kind = self.context.arrays.kind_of(node.value)
        if chain is None or kind not in _ARRAYS or not self._index_element(node.slice[0].slice.value, loop):
            return False
        loop.kinds.add(kind)
        loop.read.add(chain)
        index = node.slice[0].slice.value
        loop.whole[id(node)] = node.with_changes(
            slice=[node.slice[0].with_changes(slice=cst.Index(_whole(index, loop)))]
        )
        return True

    def _outside_scalar(self, expr: cst.Name | cst.Attribute, loop: _ScatterLoop) -> bool:
        """A name or attribute chain from outside the loop, not an array."""
        chain = dotted_name(expr)
        if chain is None or chain.partition(".")[0] == loop.index:
            return False
        if self.context.arrays.kind_of(expr) is not None:
            return False
        loop.read.add(chain)
        return True

    def _scatter_call(
        self, statement: cst.AugAssign, target: cst.Subscript, loop: _ScatterLoop, kind: catalog.ArrayKind
    ) -> str:
        """The one call that does the loop's scatter on whole arrays (runs on findings only)."""
        array = quote(target.value)
        indices = [quote(_whole(_index_value(element), loop)) for element in target.slice]
        value = _whole(statement.value, loop)
        operation = _SCATTER_OPERATORS[type(statement.operator)]
        if kind == catalog.NUMPY:
            ufunc = self.context.imports.reference(f"numpy.{operation}") or f"np.{operation}"
            where = indices[0] if len(indices) == 1 else f"({', '.join(indices)})"
            return f"{ufunc}.at({array}, {where}, {quote(value)})"
        has_items = any(id(node) in loop.whole for node in _subtree(statement.value))
        if len(indices) == 1 and has_items:
            alpha = ", alpha=-1" if operation == "subtract" else ""
            return f"{array}.index_add_(0, {indices[0]}, {quote(value)}{alpha})"
        sign = "-" if operation == "subtract" else ""
        if has_items:
            values = f"{sign}({quote(value)})" if sign else quote(value)
        else:
            tensor = self.context.imports.reference("torch.tensor") or "torch.tensor"
            values = f"{tensor}({sign}{quote(value)}, dtype={array}.dtype)"
        where = f"({indices[0]},)" if len(indices) == 1 else f"({', '.join(indices)})"
        return f"{array}.index_put_({where}, {values}, accumulate=True)"

    def _gather_assignment(self, target: cst.Subscript, statement: cst.Assign, loop: _ScatterLoop) -> str:
        whole = target.with_changes(slice=[cst.SubscriptElement(cst.Slice(lower=None, upper=None))])
        return f"{quote(whole)} = {quote(_whole(statement.value, loop))}"


def _strict_keywords(call: cst.Call) -> int:
    """How many of ``zip``'s arguments are its ``strict=`` keyword (0 or 1)."""
    return sum(1 for arg in call.args if arg.keyword is not None and arg.keyword.value == "strict")


def _index_value(element: cst.SubscriptElement) -> cst.BaseExpression:
    """The expression of an index the rule checked is one (``cst.Index``, not a slice)."""
    return cast(cst.Index, element.slice).value


def _subtree(node: cst.CSTNode) -> list[cst.CSTNode]:
    nodes: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        nodes.append(current)
        stack.extend(syntax_children(current))
    return nodes


class _WholeArrays(cst.CSTTransformer):
    """Replaces each item the rule matched with its whole-array form."""

    def __init__(self, whole: dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self._whole = whole

    def leave_Subscript(self, original_node: cst.Subscript, updated_node: cst.Subscript) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node)

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node)

    def _replaced(self, original_node: cst.BaseExpression, updated_node: cst.BaseExpression) -> cst.BaseExpression:
        whole = self._whole.get(id(original_node))
        if whole is None:
            return updated_node
        return whole.with_changes(lpar=updated_node.lpar, rpar=updated_node.rpar)


def _whole(expr: cst.BaseExpression, loop: _ScatterLoop) -> cst.BaseExpression:
    """``expr`` on whole arrays (runs on findings only)."""
    return cast(cst.BaseExpression, expr.visit(_WholeArrays(loop.whole)))


def _render(statement: cst.BaseSmallStatement) -> str:
    if isinstance(statement, cst.Assign):
        return f"{quote(statement.targets[0].target)} = {quote(statement.value)}"
    augmented = cast(cst.AugAssign, statement)
    return f"{quote(augmented.target)} {quote(augmented.operator)} {quote(augmented.value)}"


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    bins = 1_000
    return rng.integers(0, bins, size), rng.random(size), bins


def _pattern(labels, weights, bins):
    import numpy as np

    totals = np.zeros(bins)
    for i in range(len(labels)):
        totals[labels[i]] += weights[i]
    return totals


def _fix(labels, weights, bins):
    import numpy as np

    totals = np.zeros(bins)
    np.add.at(totals, labels, weights)
    return totals


ScatterIndexLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(10_000, 100_000, 1_000_000),
    check_size=1_000,
    size_unit="items scattered into 1,000 bins",
    backend=NUMPY_BACKEND,
    devices=("cpu",),
    timed=(
        "Summing n float64 weights into 1,000 bins by an int64 label array: the pattern loops "
        "`totals[labels[i]] += weights[i]` over the items, the fix calls `np.add.at(totals, labels, "
        "weights)` once; both start from `np.zeros(1000)`. NumPy only (the torch forms, "
        "`index_add_` and `index_put_(…, accumulate=True)`, are not timed)."
    ),
)
