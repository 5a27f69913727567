"""PFL302: one small array file written, or read and then stacked, per item of a loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Union

import libcst as cst

from perflint.engine import catalog
from perflint.engine.loops import LoopFrame, comprehension_targets
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import names_in
from perflint.measure.spec import Benchmark, Target
from perflint.rules.data_loading import FAMILY

Comprehension = Union[cst.ListComp, cst.GeneratorExp]


class PerItemArrayFile(Rule):
    """``np.save(f"{i}.npy", x)`` per item, or ``np.load`` per item into a list that is stacked."""

    code = "PFL302"
    name = "per-item-array-file"
    family = FAMILY
    summary = "One array file written per loop item, or read per item and then stacked"
    message = (
        "`{call}` writes one file per item: stack the items and save one array (`np.save`), "
        "one `.npz`, or write them into a `np.memmap`"
    )
    message_read = (
        "`{call}` reads one file per item, and `{joiner}(...)` then joins the arrays: store them "
        "as one array (or a `np.memmap`) and read it once"
    )
    fix_title = "Store the items in one file (a stacked array, an `.npz`, a `np.memmap`)"
    fix_safety = FIX_UNSAFE
    default_enabled = False
    required_text = ("save", "tofile", "load", "fromfile", "genfromtxt")
    reported_at = "the call that writes or reads the file"

    what_it_does = (
        "Flags, inside a loop or comprehension, on every iteration: a NumPy call that writes an array"
        " file (`np.save`, `np.savez`, `np.savez_compressed`, `np.savetxt`, `ndarray.tofile`) to a "
        "path that depends on the loop's variables; and a call that reads one (`np.load`, "
        "`np.loadtxt`, `np.fromfile`, `np.genfromtxt`) with such a path when the arrays read are "
        "joined afterwards: a comprehension passed to (or assigned to a name passed to) `np.stack`, "
        "`np.concatenate`, `np.vstack`, `np.array`, `torch.stack`, `torch.cat`…, or a list appended "
        "to in the loop and then joined in the same function."
    )
    known_limitations = (
        "Left alone: `torch.save` (a checkpoint per epoch), the same path on every iteration, a write"
        " under a condition that depends on the loop (every N steps), and files read but not joined. "
        "The rule is opt-in (`--extend-select PFL302`): see below."
    )
    why_bad = (
        "Each file costs a path lookup, an `open`, a header (`.npy` files carry a 128-byte "
        "header that `np.load` parses) and a `close`, and on most file systems a few kilobytes "
        "of metadata and at least one block: for small arrays that overhead dominates the "
        "data. Writing or reading thousands of them is far slower than one stacked array, "
        "which is one sequential read and can be memory-mapped (`np.load(path, "
        "mmap_mode='r')`) to read only the rows used. But a folder of files is sometimes the "
        "format others read: on the real code this rule was tried on, its one finding wrote "
        "a model's published file layout (one `.npy` per prompt and key, each of its own "
        "shape, that the library's loader and existing model repositories expect). The code "
        "does not show whether the files are an interface or a cache of intermediate "
        "results, so the rule is off by default: enable it for scripts that own their files."
    )
    example = """\
import numpy as np

for i, embedding in enumerate(embeddings):
    np.save(f"out/embedding_{i}.npy", embedding)
"""
    use_instead = """\
import numpy as np

np.save("out/embeddings.npy", np.stack(embeddings))
"""
    fix_safety_note = (
        "Unsafe: the files on disk change shape, so whatever reads them (another script, a "
        "dataset class) must read the one array instead; items of different shapes need an "
        "`.npz` keyed by item, or padding."
    )

    VALID = (
        # A checkpoint per epoch with torch; the same path every time; every N steps.
        """
        import numpy as np
        import torch
        for epoch in range(epochs):
            torch.save(model.state_dict(), f"checkpoint_{epoch}.pt")
            np.save("latest.npy", weights)
            if epoch % 10 == 0:
                np.save(f"weights_{epoch}.npy", weights)
        """,
        # Files read but not joined.
        """
        import numpy as np
        for path in paths:
            volume = np.load(path)
            print(volume.mean())
        shapes = [np.load(p).shape for p in paths]
        """,
        # Joined, but the list holds something other than the arrays read.
        """
        import numpy as np
        means = []
        for path in paths:
            means.append(np.load(path).mean(axis=0))
        table = np.stack(means)
        """,
        # Not NumPy's.
        """
        from mylib import save
        for i, x in enumerate(xs):
            save(f"{i}.npy", x)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            for i, embedding in enumerate(embeddings):
                np.save(f"out/embedding_{i}.npy", embedding)
            """,
            line=3,
            column=5,
        ),
        Invalid(
            """
            import numpy as np
            def load_all(paths):
                return np.stack([np.load(path) for path in paths])
            """,
            line=3,
            column=22,
        ),
        Invalid(
            """
            import os
            import numpy
            def read(folder, names):
                arrays = []
                for name in names:
                    arrays.append(numpy.fromfile(os.path.join(folder, name), dtype=numpy.float32))
                return numpy.concatenate(arrays)
            """,
            line=6,
        ),
        Invalid(
            """
            for key, frame in frames.items():
                frame.tofile(directory / f"{key}.bin")
            """,
            line=2,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Calls reading a file per iteration whose result is appended to a list: by the
        # function they are in and the list's name.
        self._appended_reads: dict[tuple[int, str], list[cst.Call]] = {}
        self._reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        loop = self.context.innermost_loop
        if loop is not None:
            # The cheap tests first: whether the call runs on every iteration asks about every
            # condition around it.
            path = self._file_argument(node, catalog.Flag.WRITES_ARRAY_FILE)
            if path is not None and _depends_on(path, loop) and self.context.runs_every_iteration():
                self._report(node, self.message.format(call=_render(node)))
                return
            self._remember_appended_read(node, loop)
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is not None and record.has(catalog.Flag.JOINS_ARRAYS):
            self._check_joined(node, record)

    def _file_argument(self, call: cst.Call, flag: catalog.Flag) -> cst.BaseExpression | None:
        """The path (or file) argument of a call that reads or writes an array file (``flag``)."""
        func = call.func
        method = catalog.method(func.attr.value) if type(func) is cst.Attribute else None
        if method is not None and method.flags & flag and method.signature is not None:
            signature = method.signature
        else:
            record = catalog.lookup(self.context.imports.qualified_name(func))
            if record is None or not record.has(flag):
                return None
            signature = record.signature
        arguments = catalog.bind(call, signature)
        return arguments.argument(signature.positional[0]) if arguments is not None else None

    def _remember_appended_read(self, call: cst.Call, loop: LoopFrame) -> None:
        func = call.func
        if type(func) is not cst.Attribute or func.attr.value != "append" or type(func.value) is not cst.Name:
            return
        if len(call.args) != 1 or type(call.args[0].value) is not cst.Call:
            return
        read = call.args[0].value
        path = self._file_argument(read, catalog.Flag.READS_ARRAY_FILE)
        if path is not None and _depends_on(path, loop) and self.context.runs_every_iteration():
            self._appended_reads.setdefault((self._scope(), func.value.value), []).append(read)

    def _check_joined(self, call: cst.Call, joiner: catalog.Function) -> None:
        arguments = catalog.bind(call, joiner)
        joined = arguments.argument(joiner.signature.positional[0]) if arguments is not None else None
        if joined is None:
            return
        reads: list[cst.Call] = []
        if type(joined) is cst.Name:
            reads += self._appended_reads.get((self._scope(), joined.value), [])
            bound = value_of(joined, self.context)
            if bound is not None:
                joined = bound
        if isinstance(joined, (cst.ListComp, cst.GeneratorExp)):
            reads += self._comprehension_reads(joined)
        message = self.message_read
        for read in reads:
            self._report(read, message.format(call=_render(read), joiner=_render(call.func)))

    def _comprehension_reads(self, comprehension: Comprehension) -> Iterator[cst.Call]:
        element = comprehension.elt
        if type(element) is not cst.Call:
            return
        path = self._file_argument(element, catalog.Flag.READS_ARRAY_FILE)
        if path is not None and names_in(path) & set(comprehension_targets(comprehension)):
            yield element

    def _scope(self) -> int:
        function = self.context.function
        return id(function.node) if function is not None else 0

    def _report(self, node: cst.Call, message: str) -> None:
        if id(node) not in self._reported:
            self._reported.add(id(node))
            self.report(node, message)


def _render(node: cst.CSTNode) -> str:
    return quote(node)


def _depends_on(path: cst.BaseExpression, loop: LoopFrame) -> bool:
    """``path`` names a loop variable or a name the loop rebinds: a different file per item."""
    return any(name in loop.targets or name in loop.effects.rebound for name in names_in(path))


_ITEM_SIZE = 64


def _setup(size: int, target: Target) -> tuple:
    import atexit
    import shutil
    import tempfile

    import numpy as np

    folder = tempfile.mkdtemp(prefix="perflint-pfl302-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    items = list(np.random.default_rng(0).standard_normal((size, _ITEM_SIZE)).astype(np.float32))
    return folder, items


def _pattern(folder: str, items: list):
    import os

    import numpy as np

    for index, item in enumerate(items):
        np.save(os.path.join(folder, f"item_{index}.npy"), item)
    return np.stack([np.load(os.path.join(folder, f"item_{index}.npy")) for index in range(len(items))])


def _fix(folder: str, items: list):
    import os

    import numpy as np

    np.save(os.path.join(folder, "items.npy"), np.stack(items))
    return np.load(os.path.join(folder, "items.npy"))


PerItemArrayFile.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(20, 100, 500),
    check_size=8,
    size_unit="arrays of 64 float32 written and read back, in a temporary folder",
    timed=(
        "Writing n arrays of 64 float32 values and reading them back, in a temporary folder: one "
        "`.npy` file per item against one stacked file."
    ),
)
