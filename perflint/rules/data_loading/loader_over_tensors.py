"""PFL308: a DataLoader that fetches rows of whole tensors one at a time, every epoch."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from perflint.engine import catalog
from perflint.engine.dataloaders import DATALOADER, iterated_loader
from perflint.engine.imports import dotted_name
from perflint.engine.literals import has_unpacked_arguments, literal_value
from perflint.engine.quoting import listed, quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import resolved
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.data_loading import FAMILY

# Arguments that make the loader do something slicing does not: its own order of items, or
# its own way of merging them into a batch.
_CUSTOM_BATCHING = ("sampler", "batch_sampler", "collate_fn")


class LoaderOverTensors(Rule):
    """``DataLoader(TensorDataset(x, y), batch_size=b)`` iterated every epoch: per-row fetches
    and a stack per batch, where slicing the tensors gives the batch at once."""

    code = "PFL308"
    name = "loader-over-tensors"
    family = FAMILY
    summary = "DataLoader over whole tensors iterated every epoch: rows fetched one by one, then stacked"
    message = (
        "`{callee}(...)` fetches the rows of {tensors} one at a time and stacks them into every batch, "
        "on every pass of the outer loop; slice whole batches instead: {advice}"
    )
    fix_title = "Index the tensors with a slice (or a slice of one permutation per epoch) per batch"
    fix_safety = FIX_UNSAFE
    default_enabled = False
    required_text = ("DataLoader",)
    reported_at = "the `DataLoader(...)` call"

    what_it_does = (
        "Flags a `torch.utils.data.DataLoader(...)` over a `TensorDataset(...)` of tensors, or over a "
        "torch tensor itself, directly or through a name, with a `batch_size` that is not a literal "
        "`1` (nor absent, which means 1), no "
        "worker processes (`num_workers` absent or `0`), and no `sampler`, `batch_sampler` or "
        "`collate_fn`, when a loop over it sits inside another loop of the same function (the loop "
        "over epochs)."
    )
    known_limitations = (
        "Left alone: a loader whose dataset the code does not show to be tensors in memory (a "
        "parameter, a dataset class), a batch size of one row, where a slice fetches as many "
        "rows, a loader with workers (they fetch the rows beside the training step) "
        "or with its own sampler or collation, and a loader iterated once. Opt-in: the fetches cost "
        "a few microseconds per row, which matters beside a small model (round 11's held-out cdt "
        "trains 2-20-1 networks, where the loader took most of the step) and is lost beside a large "
        "one. The loaders of cdt that get their `TensorDataset` as a parameter are not seen."
    )
    why_bad = (
        "A `DataLoader` asks its dataset for each item of a batch in turn: `TensorDataset` indexes "
        "every tensor at one row, a new tensor object per row (a kernel launch each, on a GPU), and "
        "the default collation stacks the rows back into a batch. On tensors that are already whole, "
        "`x[i:i + b]` (or `x[order[i:i + b]]` with one `torch.randperm` per epoch) gives the same "
        "batch in one indexing operation: tens of times faster per batch."
    )
    example = """\
import torch
from torch.utils.data import DataLoader, TensorDataset

def fit(model, optimizer, x, y, epochs):
    loader = DataLoader(TensorDataset(x, y), batch_size=256, shuffle=True)
    for epoch in range(epochs):
        for xb, yb in loader:
            step(model, optimizer, xb, yb)
"""
    use_instead = """\
import torch

def fit(model, optimizer, x, y, epochs):
    for epoch in range(epochs):
        order = torch.randperm(len(x), device=x.device)
        for i in range(0, len(x), 256):
            batch = order[i:i + 256]
            step(model, optimizer, x[batch], y[batch])
"""
    fix_safety_note = (
        "No fix is offered: the loop over the loader must be rewritten. Slices give the same rows "
        "in the same batches as an unshuffled loader; a shuffled one draws its order from its own "
        "sampler, so `torch.randperm` gives the same kind of order but not the same one (pass the "
        "loader's `generator=` to it to keep a seeded run's). With `drop_last=True`, stop at "
        "`len(x) - b + 1`. A `pin_memory=True` loader pins each batch; slices of host tensors are "
        "not pinned, and tensors already on the device need no copy at all."
    )

    VALID = (
        # Iterated once.
        """
        from torch.utils.data import DataLoader, TensorDataset
        def predict(model, x):
            once = DataLoader(TensorDataset(x), batch_size=256)
            for xb, in once:
                model(xb)
        """,
        # Workers; a sampler of its own; batches of one row.
        """
        import torch
        from torch.utils.data import DataLoader, TensorDataset, WeightedRandomSampler
        def fit(model, x, weights, epochs):
            for epoch in range(epochs):
                for xb, in DataLoader(TensorDataset(x), batch_size=256, num_workers=2):
                    model(xb)
                for xb, in DataLoader(TensorDataset(x), batch_size=256, sampler=WeightedRandomSampler(weights, len(x))):
                    model(xb)
                for xb, in DataLoader(TensorDataset(x), batch_size=1):
                    model(xb)
                for xb, in DataLoader(TensorDataset(x)):
                    model(xb)
        """,
        # A dataset class that may do work per item, and a dataset received as a parameter.
        """
        from torch.utils.data import DataLoader
        def fit(model, dataset, epochs):
            loader = DataLoader(dataset, batch_size=64, shuffle=True)
            images = DataLoader(ImageFolder("data"), batch_size=64)
            for epoch in range(epochs):
                for batch in loader:
                    model(batch)
                for batch in images:
                    model(batch)
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader, TensorDataset
            def fit(model, x, y, epochs):
                loader = DataLoader(TensorDataset(x, y), batch_size=256, shuffle=True)
                for epoch in range(epochs):
                    for xb, yb in loader:
                        model(xb, yb)
            """,
            line=4,
            column=14,
        ),
        # A tensor on the device as the dataset, iterated in order (round 11's held-out cdt,
        # `run_SAM`).
        Invalid(
            """
            import numpy as np
            import torch as th
            from torch.utils.data import DataLoader
            def run(values, device, batch_size, epochs):
                data = th.from_numpy(values.astype("float32")).to(device)
                data_iterator = DataLoader(data, batch_size=batch_size, drop_last=True)
                for epoch in range(epochs):
                    for i_batch, batch in enumerate(data_iterator):
                        step(batch)
            """,
            line=6,
        ),
        # A dataset bound to a name, the loader rebuilt on every pass of a `while` loop.
        Invalid(
            """
            import torch
            def fit(model, features, labels):
                dataset = torch.utils.data.TensorDataset(features, labels)
                while not model.converged:
                    for xb, yb in torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True):
                        model.update(xb, yb)
            """,
            line=5,
            column=23,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reported: set[int] = set()

    def visit_For(self, node: cst.For) -> None:
        if self.context.innermost_loop is None:
            return
        loader = iterated_loader(node.iter, self.context)
        if loader is None or id(loader) in self._reported or has_unpacked_arguments(loader):
            return
        arguments = catalog.bind(loader, DATALOADER)
        if arguments is None or any(arguments.argument(name) is not None for name in _CUSTOM_BATCHING):
            return
        workers = arguments.argument("num_workers")
        if workers is not None and literal_value(workers) != 0:
            return
        batch_size = arguments.argument("batch_size")
        if batch_size is None or literal_value(batch_size) in (None, 0, 1):
            return  # batches of one row: a slice would fetch as many rows
        dataset = arguments.argument("dataset")
        tensors = self._tensors_of(dataset) if dataset is not None else None
        if not tensors:
            return
        self._reported.add(id(loader))
        shuffle = arguments.argument("shuffle")
        drop_last = arguments.argument("drop_last")
        message = self.message.format(
            callee=quote(loader.func),
            tensors=listed(_unique(f"`{quote(tensor)}`" for tensor in tensors)),
            advice=self._advice(
                tensors,
                quote(batch_size),
                shuffled=shuffle is not None and literal_value(shuffle) is not False,
                whole_batches=drop_last is not None and literal_value(drop_last) is not False,
            ),
        )
        self.report(loader, message)

    def _tensors_of(self, dataset: cst.BaseExpression) -> list[cst.BaseExpression] | None:
        """The tensors whose rows the dataset's items are: the arguments of a
        ``TensorDataset(...)`` (``Flag.IN_MEMORY_DATASET``), or the dataset itself when it is a
        known torch tensor; through names bound to either."""
        value = resolved(dataset, self.context)
        if type(value) is cst.Call:
            record = catalog.lookup(self.context.imports.qualified_name(value.func))
            if record is not None and record.has(catalog.Flag.IN_MEMORY_DATASET):
                if not value.args or any(arg.star or arg.keyword is not None for arg in value.args):
                    return None
                return [arg.value for arg in value.args]
        return [dataset] if self.context.arrays.kind_of(dataset) == catalog.TORCH else None

    def _advice(self, tensors: list[cst.BaseExpression], size: str, shuffled: bool, whole_batches: bool) -> str:
        """The slices that give each batch, in the user's names (tensors made by an expression
        are to be bound to names first); ``whole_batches``: the loader drops a last, shorter
        batch (``drop_last=True``)."""
        named = all(dotted_name(tensor) is not None for tensor in tensors)
        first = quote(tensors[0]) if named else "t"
        stop = f"len({first}) - {size} + 1" if whole_batches else f"len({first})"
        starts = f"for `i` in `range(0, {stop}, {size})`"
        if not named:
            starts = f"for each tensor `t`, bound to a name before the loop, and `i` in `range(0, {stop}, {size})`"
        randperm = self.context.imports.reference("torch.randperm") or "torch.randperm"
        index = "order[i:i + {size}]" if shuffled else "i:i + {size}"
        index = index.format(size=size)
        rows = ", ".join(_unique(f"`{quote(tensor) if named else 't'}[{index}]`" for tensor in tensors))
        if not shuffled:
            return f"{rows} {starts}"
        return f"`order = {randperm}(len({first}), device={first}.device)` once per epoch, then {rows} {starts}"


def _unique(texts: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(texts))


_ROWS = 16


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    x = target.asarray(rng.standard_normal((size, _ROWS)).astype(np.float32))
    y = target.asarray(rng.standard_normal(size).astype(np.float32))
    return x, y


def _pattern(x, y):
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(x, y), batch_size=64)
    return torch.stack([xb.sum() + yb.sum() for xb, yb in loader])


def _fix(x, y):
    import torch

    return torch.stack([x[i : i + 64].sum() + y[i : i + 64].sum() for i in range(0, len(x), 64)])


LoaderOverTensors.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1024, 4096, 16_384),
    check_size=256,
    size_unit="rows of 16 float32 values, in batches of 64",
    backend=TORCH_BACKEND,
    timed=(
        "One pass over n rows in batches of 64: a `DataLoader` over `TensorDataset(x, y)` (rows "
        "fetched one by one and stacked) against slicing `x[i:i + 64]` and `y[i:i + 64]`."
    ),
)
