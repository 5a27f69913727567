"""PFL306: a DataLoader whose worker processes are started anew for every epoch."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.dataloaders import DATALOADER, iterated_loader
from perflint.engine.imports import dotted_name
from perflint.engine.literals import literal_value
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.walker import contains
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.data_loading import FAMILY


class LoaderWorkersRestartEachEpoch(Rule):
    """A loader with workers and without ``persistent_workers=True``, iterated in an outer loop."""

    code = "PFL306"
    name = "loader-workers-restart-each-epoch"
    family = FAMILY
    summary = "DataLoader with workers iterated once per epoch without `persistent_workers=True`"
    message = (
        "`{loader}` starts its worker processes anew every time the outer loop iterates it: "
        "pass {persistent} to `{callee}(...)`"
    )
    message_iter = (
        "`{loader}` starts its worker processes anew every time the loop around `{call}` runs "
        "it: pass {persistent} to `{callee}(...)`"
    )
    message_iterated_again = (
        "`{function}` iterates `{loader}` afresh each time it runs out, which starts the loader's "
        "worker processes anew: pass {persistent} to `{callee}(...)`"
    )
    message_rebuilt = (
        "`{callee}(...)` is rebuilt, and its worker processes started, on every iteration of the "
        "outer loop: build it once before that loop, with {persistent}"
    )
    fix_title = "Pass `persistent_workers=True`"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = ("DataLoader",)
    reported_at = "the `DataLoader(...)` call"

    what_it_does = (
        "Flags a `torch.utils.data.DataLoader(...)` call with worker processes (`num_workers` a "
        "literal above 0, or a non-literal value) and without `persistent_workers=True` (absent or a "
        "literal `False`), when a loop over it (`for batch in loader`, `enumerate(loader)`, or the "
        "call itself) sits inside another loop of the same function, typically the loop over epochs. "
        "A loader built inside the outer loop is flagged when its arguments do not change in that "
        "loop. Also a loader a loop passes to `iter(...)` on its iterations (a fresh iterator per "
        "epoch, or after `StopIteration`), and one given to a function of the same file that "
        "iterates it afresh each time it runs out (`def cycle(dl): while True: for x in dl: yield "
        "x`)."
    )
    known_limitations = (
        "Left alone: a loader without workers (PFL301's business), a non-literal "
        "`persistent_workers`, arguments unpacked from `**kwargs`, a loader received as a parameter, "
        "a loader iterated once, and `itertools.cycle(loader)`, which iterates the loader once and "
        "replays the batches it saved (round 12's held-out lightweight-gan wraps its loader in a "
        "`cycle` generator of its own, which iterates it again every epoch)."
    )
    why_bad = (
        "Without `persistent_workers=True`, every `iter(loader)` (the start of every `for` over "
        "it) starts `num_workers` fresh processes, which import the dataset, open its files "
        "and fill their prefetch queues before the first batch arrives, and the end of the "
        "epoch shuts them down. The start-up is paid once per epoch, and the GPU waits through "
        "it: from tens of milliseconds with `fork` to seconds with `spawn` or a dataset that is "
        "slow to set up, times every epoch, and for the validation loader as well."
    )
    example = """\
from torch.utils.data import DataLoader

loader = DataLoader(dataset, batch_size=64, num_workers=8)
for epoch in range(epochs):
    for images, labels in loader:
        train_step(images, labels)
"""
    use_instead = """\
from torch.utils.data import DataLoader

loader = DataLoader(dataset, batch_size=64, num_workers=8, persistent_workers=True)
for epoch in range(epochs):
    for images, labels in loader:
        train_step(images, labels)
"""
    fix_safety_note = (
        "The fix passes `persistent_workers=True` to a loader built before the outer loop "
        "(`persistent_workers=n > 0` when `num_workers` is a name `n`, since a loader without "
        "workers rejects `True`); a loader rebuilt inside the loop gets no fix: it must be "
        "moved out of the loop first, and persistent workers of a loader dropped every epoch "
        "would only linger. Unsafe: batches arrive in the same order, but the workers stay "
        "alive between epochs, holding their memory, and keep the state their copy of the "
        "dataset had when they started: a dataset changed in the main process between epochs "
        "(`dataset.set_epoch(e)`, a curriculum, a resampled index) is seen unchanged by "
        "persistent workers, which keep serving the first epoch's version. Only the sampler "
        "runs in the main process, so a `DistributedSampler.set_epoch` still works. A loader "
        "whose dataset the epoch loop may change (calls a method of it that is not known to leave "
        "it as it was, assigns to it or rebinds it) is not flagged: restarting the workers is what "
        "lets them see each epoch's dataset."
    )

    VALID = (
        # The epoch loop changes the dataset: restarted workers pick up each epoch's version,
        # persistent ones would keep serving the first.
        """
        from torch.utils.data import DataLoader
        loader = DataLoader(curriculum, batch_size=64, num_workers=8)
        for epoch in range(epochs):
            curriculum.set_epoch(epoch)
            for images, labels in loader:
                pass
        """,
        # Persistent already, or decided elsewhere.
        """
        from torch.utils.data import DataLoader
        loader = DataLoader(ds, num_workers=4, persistent_workers=True)
        other = DataLoader(ds, num_workers=4, persistent_workers=args.persistent)
        for epoch in range(10):
            for batch in loader:
                pass
            for batch in other:
                pass
        """,
        # No workers; a loader iterated once.
        """
        from torch.utils.data import DataLoader
        def run(ds):
            serial = DataLoader(ds, num_workers=0)
            single = DataLoader(ds, num_workers=4)
            for epoch in range(10):
                for batch in serial:
                    pass
            for batch in single:
                pass
        """,
        # A loader per fold, over that fold's data: persistence could not help.
        """
        import torch
        def cross_validate(folds):
            for train_set in folds:
                loader = torch.utils.data.DataLoader(train_set, num_workers=4)
                for batch in loader:
                    pass
        """,
        # A loader received as a parameter.
        """
        from torch.utils.data import DataLoader
        def fit(loader: DataLoader, epochs):
            for epoch in range(epochs):
                for batch in loader:
                    pass
        """,
        # One iterator made before the loop; `itertools.cycle` replays the batches of its one
        # pass; a generator that iterates a list it made of the batches.
        """
        import itertools
        from torch.utils.data import DataLoader
        def replay(iterable):
            saved = list(iterable)
            while True:
                for item in saved:
                    yield item
        def train(dataset, steps):
            loader = DataLoader(dataset, num_workers=4)
            batches = iter(loader)
            for step in range(steps):
                update(next(batches))
            cycled = itertools.cycle(DataLoader(dataset, num_workers=4))
            replayed = replay(DataLoader(dataset, num_workers=4))
        """,
    )
    INVALID = (
        Invalid(
            """
            from torch.utils.data import DataLoader
            loader = DataLoader(dataset, batch_size=64, num_workers=8)
            for epoch in range(epochs):
                for images, labels in loader:
                    pass
            """,
            line=2,
            column=10,
            fixed="""
            from torch.utils.data import DataLoader
            loader = DataLoader(dataset, batch_size=64, num_workers=8, persistent_workers=True)
            for epoch in range(epochs):
                for images, labels in loader:
                    pass
            """,
        ),
        Invalid(
            """
            import torch
            def train(model, dataset, workers):
                for epoch in range(100):
                    loader = torch.utils.data.DataLoader(dataset, shuffle=True, num_workers=workers)
                    for step, batch in enumerate(loader):
                        model(batch)
            """,
            line=4,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            from torch.utils.data import DataLoader
            while not converged:
                for batch in DataLoader(ds, 32, True, None, None, 2, persistent_workers=False):
                    update(batch)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # The worker count by position, and ``persistent_workers=False`` turned around.
        Invalid(
            """
            from torch.utils.data import DataLoader
            loader = DataLoader(ds, 32, True, None, None, 2, persistent_workers=False)
            while not converged:
                for batch in loader:
                    update(batch)
            """,
            line=2,
            fixed="""
            from torch.utils.data import DataLoader
            loader = DataLoader(ds, 32, True, None, None, 2, persistent_workers=True)
            while not converged:
                for batch in loader:
                    update(batch)
            """,
        ),
        # Workers counted elsewhere, maybe none: persistent only when there are some.
        Invalid(
            """
            import torch as th
            def fit(model, data, args):
                loader = th.utils.data.DataLoader(
                    data,
                    batch_size=args.batch_size,
                    num_workers=args.workers,
                )
                for epoch in range(args.epochs):
                    for batch in loader:
                        model(batch)
            """,
            line=3,
            fixed="""
            import torch as th
            def fit(model, data, args):
                loader = th.utils.data.DataLoader(
                    data,
                    batch_size=args.batch_size,
                    num_workers=args.workers,
                    persistent_workers=args.workers > 0,
                )
                for epoch in range(args.epochs):
                    for batch in loader:
                        model(batch)
            """,
        ),
        # A fresh iterator each time the last one runs out.
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(dataset, steps):
                loader = DataLoader(dataset, batch_size=32, num_workers=4)
                batches = iter(loader)
                for step in range(steps):
                    try:
                        batch = next(batches)
                    except StopIteration:
                        batches = iter(loader)
                        batch = next(batches)
                    update(batch)
            """,
            line=3,
            column=14,
            fixed="""
            from torch.utils.data import DataLoader
            def train(dataset, steps):
                loader = DataLoader(dataset, batch_size=32, num_workers=4, persistent_workers=True)
                batches = iter(loader)
                for step in range(steps):
                    try:
                        batch = next(batches)
                    except StopIteration:
                        batches = iter(loader)
                        batch = next(batches)
                    update(batch)
            """,
        ),
        # A generator of the file that iterates the loader again each time it runs out
        # (round 12's held-out lightweight-gan).
        Invalid(
            """
            from torch.utils.data import DataLoader
            def cycle(iterable):
                while True:
                    for i in iterable:
                        yield i
            class Trainer:
                def set_data_src(self, dataset, num_workers):
                    dataloader = DataLoader(dataset, num_workers=num_workers, batch_size=16)
                    self.loader = cycle(dataloader)
            """,
            line=8,
            fixed="""
            from torch.utils.data import DataLoader
            def cycle(iterable):
                while True:
                    for i in iterable:
                        yield i
            class Trainer:
                def set_data_src(self, dataset, num_workers):
                    dataloader = DataLoader(dataset, num_workers=num_workers, batch_size=16, persistent_workers=num_workers > 0)
                    self.loader = cycle(dataloader)
            """,
        ),
        # A worker count computed by a call: evaluating it twice might not give the same.
        Invalid(
            """
            from torch.utils.data import DataLoader
            loader = DataLoader(ds, num_workers=os.cpu_count() // 2)
            for epoch in range(10):
                for batch in loader:
                    step(batch)
            """,
            line=2,
            fixed=NO_FIX,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reported: set[int] = set()

    def visit_For(self, node: cst.For) -> None:
        outer = self.context.innermost_loop
        if outer is not None:
            self._check(node.iter, outer, self.message)

    def visit_Call(self, node: cst.Call) -> None:
        outer = self.context.innermost_loop
        if (
            outer is not None
            and self.context.imports.is_builtin(node.func, "iter")
            and len(node.args) == 1
            and node.args[0].keyword is None
            and not node.args[0].star
        ):
            self._check(node.args[0].value, outer, self.message_iter, call=quote(node))
        for argument in self.context.functions.arguments_iterated_again(node):
            loader = iterated_loader(argument, self.context)
            if loader is None or id(loader) in self._reported or not _restarts_workers(loader):
                continue
            self._reported.add(id(loader))
            message = self.message_iterated_again.format(
                function=quote(node.func),
                loader=quote(argument),
                callee=quote(loader.func),
                persistent=_persistent_advice(loader),
            )
            self.report(loader, message, fix=_persistent_fix(loader))

    def _check(self, iterated: cst.BaseExpression, outer: LoopFrame, message: str, **words: str) -> None:
        """Reports the loader a pass over ``iterated`` in the loop ``outer`` starts, when
        ``outer`` restarts its workers and a persistent loader would serve each pass."""
        loader = iterated_loader(iterated, self.context)
        if loader is None or id(loader) in self._reported or not _restarts_workers(loader):
            return
        callee = quote(loader.func)
        if contains(outer.node, loader):
            if not all(self.context.is_invariant(argument.value, outer) for argument in loader.args):
                return
            text = self.message_rebuilt.format(callee=callee, persistent=_persistent_advice(loader))
            fix = None
        else:
            if type(iterated) is cst.Call and iterated is not loader:
                iterated = iterated.args[0].value
            if _dataset_changes(loader, iterated, outer):
                return  # restarting is what lets the workers see each epoch's dataset
            text = message.format(loader=quote(iterated), callee=callee, persistent=_persistent_advice(loader), **words)
            fix = _persistent_fix(loader)
        self._reported.add(id(loader))
        self.report(loader, text, fix=fix)


def _dataset_changes(loader: cst.Call, iterated: cst.BaseExpression, outer: LoopFrame) -> bool:
    """An iteration of the epoch loop ``outer`` may change the loader's dataset: it, or the
    loader's ``.dataset``, is rebound or changed in place (``dataset.set_epoch(e)``,
    ``loader.dataset.indices = …``)."""
    arguments = catalog.bind(loader, DATALOADER)
    dataset = arguments.argument("dataset") if arguments is not None else None
    chain = dotted_name(dataset) if dataset is not None else None
    loader_chain = dotted_name(iterated)
    return (chain is not None and outer.changes(chain)) or (
        loader_chain is not None and outer.changes(f"{loader_chain}.dataset")
    )


def _persistent_value(loader: cst.Call) -> cst.BaseExpression | None:
    """``True``, or ``n > 0`` when the worker count is a name or attribute ``n``, which reads
    the same when written twice and may be 0 (a loader without workers rejects ``True``); None
    for a count computed by an expression."""
    arguments = catalog.bind(loader, DATALOADER)
    workers = arguments.argument("num_workers") if arguments is not None else None
    if workers is None:
        return None
    if isinstance(literal_value(workers), int):
        return cst.Name("True")
    if dotted_name(workers) is not None:
        return cst.Comparison(
            workers.with_changes(lpar=[], rpar=[]), [cst.ComparisonTarget(cst.GreaterThan(), cst.Integer("0"))]
        )
    return None


def _persistent_advice(loader: cst.Call) -> str:
    """What the message asks to pass: the fix's value, or, for a worker count computed by an
    expression, ``True`` with the condition a loader puts on it."""
    persistent = _persistent_value(loader)
    if persistent is None:
        return "`persistent_workers=True` (a loader accepts it only with `num_workers > 0`)"
    return f"`persistent_workers={quote(persistent)}`"


def _persistent_fix(loader: cst.Call) -> Fix | None:
    """``persistent_workers=`` the value ``_persistent_value`` gives; None when it gives none."""
    arguments = catalog.bind(loader, DATALOADER)
    persistent = _persistent_value(loader)
    if persistent is None:
        return None
    title = f"Pass `persistent_workers={quote(persistent)}`"
    current = arguments.argument("persistent_workers") if arguments is not None else None
    if current is not None:
        return Fix.replace(current, persistent, title=title)
    return Fix.replace(loader, with_keyword(loader, "persistent_workers", persistent), title=title)


def _restarts_workers(call: cst.Call) -> bool:
    """The loader has workers (or may have) and they are known not to persist."""
    arguments = catalog.bind(call, DATALOADER)
    if arguments is None or not arguments.is_known("num_workers") or not arguments.is_known("persistent_workers"):
        return False
    workers = arguments.argument("num_workers")
    if workers is None:
        return False
    count = literal_value(workers)
    if isinstance(count, int) and count <= 0:
        return False
    persistent = arguments.argument("persistent_workers")
    return persistent is None or literal_value(persistent) is False


class IndexedItems:
    """Items cheap to produce: the cost the benchmark isolates is starting the workers.

    Defined at module level so that it pickles into worker processes under ``spawn``.
    """

    def __init__(self, length: int) -> None:
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int):
        import torch

        return torch.full((64,), float(index))


_ITEMS = 64
_BATCH_SIZE = 16
_WORKERS = 2


def _setup(size: int, target: Target) -> tuple:
    return (IndexedItems(_ITEMS), size)


def _epochs(dataset: IndexedItems, epochs: int, persistent: bool):
    import torch
    from torch.utils.data import DataLoader

    loader = DataLoader(dataset, batch_size=_BATCH_SIZE, num_workers=_WORKERS, persistent_workers=persistent)
    return torch.cat([batch for _ in range(epochs) for batch in loader])


def _pattern(dataset: IndexedItems, epochs: int):
    return _epochs(dataset, epochs, persistent=False)


def _fix(dataset: IndexedItems, epochs: int):
    return _epochs(dataset, epochs, persistent=True)


LoaderWorkersRestartEachEpoch.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1, 3, 10),
    check_size=1,
    size_unit="epochs of 4 batches (two workers, default start method)",
    backend=TORCH_BACKEND,
    devices=("cpu",),
    timed=(
        "n epochs of a DataLoader with two workers over 4 batches: workers started afresh every epoch "
        "(`persistent_workers=False`) against persistent workers."
    ),
)
