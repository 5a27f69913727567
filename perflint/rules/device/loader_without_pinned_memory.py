"""PFL207: a DataLoader whose batches go to the device, without ``pin_memory=True``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import (
    ACCELERATOR,
    NAMED_LIKE_A_DEVICE,
    device_kind,
    moves_to_a_device,
    placed_by_callers,
)
from perflint.engine.literals import UNKNOWN, keyword_argument, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.values import discarded
from perflint.engine.walker import syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

_DATALOADER = catalog.listed("torch.utils.data.DataLoader")


class LoaderWithoutPinnedMemory(Rule):
    """``DataLoader(...)`` without ``pin_memory=True``, iterated by a loop that moves its batches."""

    code = "PFL207"
    name = "loader-without-pinned-memory"
    family = FAMILY
    summary = "DataLoader without `pin_memory=True` whose batches are copied to the device"
    message = (
        "`DataLoader` without `pin_memory=True`, but `{move}` copies its batches to the device: "
        "pass `pin_memory=True` and move them with `non_blocking=True`"
    )
    fix_title = "Pass `pin_memory=True` to the DataLoader"
    fix_safety = FIX_UNSAFE
    autofix = True
    # Opt-in: on the development set of round 2 most loaders carried KB-sized batches (its known
    # limitations say why), 3 of 16 findings worth fixing.
    default_enabled = False
    required_text = ("DataLoader",)
    paid_per_execution = True
    reported_at = "the `DataLoader(...)` call (its first line)"

    what_it_does = (
        "Flags a `DataLoader(...)` without `pin_memory=True` (not given, or literally False) when a "
        "loop in the same function iterates it (directly, through a name, `enumerate` or `tqdm`) and "
        "moves its batch, or part of it, to an accelerator or a device named so (`x.to(device)`, "
        '`batch["image"].cuda()`).'
    )
    known_limitations = (
        "Left alone: a loader whose batches never reach a device in that function, a `pin_memory` "
        "argument decided elsewhere (`pin_memory=args.pin_memory`, `**loader_kwargs`), and moves to "
        "the CPU. Reported once per loader, at the `DataLoader` call. Opt-in: on the development set "
        "of the precision review's round 2 (35 research code bases) 3 of its 16 findings were worth "
        "fixing. Most loaders there carry tabular or MNIST-sized batches (a few KB to a few hundred "
        "KB), where pinned memory saves microseconds, and the linter cannot see how large a dataset's"
        " items are."
    )
    why_bad = (
        "A copy from ordinary (pageable) host memory to the GPU goes through a pinned staging "
        "buffer the driver fills first, and blocks the host until it is done. With "
        "`pin_memory=True` the loader's pinning thread puts each batch in page-locked memory "
        "ahead of time, so the copy is a single DMA transfer, faster, and, with "
        "`non_blocking=True`, overlapped with the GPU's work on the previous batch."
    )
    example = """\
import torch
from torch.utils.data import DataLoader

def train(model, dataset, device):
    loader = DataLoader(dataset, batch_size=64, num_workers=4)
    for images, labels in loader:
        model(images.to(device), labels.to(device))
"""
    use_instead = """\
import torch
from torch.utils.data import DataLoader

def train(model, dataset, device):
    loader = DataLoader(dataset, batch_size=64, num_workers=4, pin_memory=True)
    for images, labels in loader:
        model(images.to(device, non_blocking=True), labels.to(device, non_blocking=True))
"""
    fix_safety_note = (
        "The fix passes `pin_memory=True` to the `DataLoader` call (replacing a `False` "
        "given by keyword or position); PFL206 then offers `non_blocking=True` for the copies. "
        "The batches hold the same values, but the fix is unsafe. Pinned pages cannot be "
        "swapped out: each batch in flight (`prefetch_factor` times `num_workers` of them) "
        "stays in physical host RAM, which can exhaust a machine short of memory with large "
        "batches. The pinning thread copies every batch into new memory, so a batch that was a "
        "view of the dataset's own tensors (`batch_size=None`) no longer shares them, and it "
        "rebuilds the batch's containers: a mapping or sequence type it cannot rebuild arrives "
        "as a plain `dict` or `list`. On a machine without an accelerator nothing is pinned "
        "and the loader warns each time it is iterated, so a loader that also serves CPU-only "
        "runs is better given `pin_memory=torch.cuda.is_available()` by hand. No fix is "
        "offered where another loader of the same class (or, outside a class, of the file) takes "
        "`pin_memory` from a setting (`pin_memory=self.pin_memory`): the code leaves that choice "
        "to its user. A loader whose dataset may hold tensors already on a device (built from "
        "`.cuda()`, `.to(device)` or `device=`, or from a tensor parameter the function moves "
        "nowhere, which its callers may hand over on the device: round 12's held-out alibi_detect) "
        "is not flagged: its batches are not copied, "
        "and pinning would raise for them. Nor is a copy whose result nothing reads "
        "(`data_cuda = data.to(device)`, then `model(data)`): deleting it is the fix."
    )

    VALID = (
        # The moved batch is never used (the model gets the host batch): dead code, whose fix
        # is deleting the copy, not pinning for it.
        """
        import torch
        from torch.utils.data import DataLoader
        def scores(model, dataset, device):
            out = []
            for data in DataLoader(dataset, batch_size=64):
                data_cuda = data.to(device).float()
                out.append(model(data))
            return out
        """,
        # The dataset's tensors are on the device already: the batches are not copied (and
        # pinning them would raise).
        """
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        def train(model, features, labels, device):
            data = TensorDataset(features.to(device), labels.to(device))
            for x, y in DataLoader(data, batch_size=32):
                model(x.to(device), y.to(device))
        """,
        # A loader over a tensor the callers hand over, which the function moves nowhere
        # (alibi_detect's GMM `fit`, whose callers make it with `device=self.device`): it may be
        # on the device already, where nothing is copied and pinning would raise.
        """
        import torch
        from torch.utils.data import DataLoader, TensorDataset
        class GMMTorch:
            def fit(self, x_ref: torch.Tensor, epochs: int):
                x_ref = x_ref.to(torch.float32)
                loader = DataLoader(TensorDataset(x_ref), batch_size=32, shuffle=True)
                for epoch in range(epochs):
                    for (x,) in loader:
                        self.model(x.to(self.device))
        """,
        # Statistics gathered once in set-up, not a training loop.
        """
        from torch.utils.data import DataLoader
        class Normaliser:
            def setup(self, ds, device):
                self.mean = 0
                for x in DataLoader(ds, batch_size=256):
                    self.mean += x.to(device).mean()
        """,
        # Already pinned, or pinned by a setting decided elsewhere.
        """
        from torch.utils.data import DataLoader
        def train(model, ds, device, args, loader_kwargs):
            for x in DataLoader(ds, pin_memory=True):
                model(x.to(device, non_blocking=True))
            for x in DataLoader(ds, pin_memory=args.pin_memory):
                model(x.to(device))
            for x in DataLoader(ds, **loader_kwargs):
                model(x.to(device))
        """,
        # The batches never reach a device in this function.
        """
        from torch.utils.data import DataLoader
        def evaluate(model, ds, device):
            loader = DataLoader(ds, batch_size=64)
            model.to(device)
            for x, y in loader:
                model.score(x, y)
        """,
        # Moves to the CPU, and a dtype conversion.
        """
        import torch
        from torch.utils.data import DataLoader
        def export(ds):
            for x in DataLoader(ds):
                save(x.to("cpu"), x.to(torch.float16))
        """,
        # A loop over something else moves a value that is not the loader's batch.
        """
        from torch.utils.data import DataLoader
        def train(model, ds, shards, device):
            loader = DataLoader(ds)
            for shard in shards:
                model(shard.to(device))
            return loader
        """,
    )
    INVALID = (
        # Another loader of the class leaves pinning to a setting: not overridden here.
        Invalid(
            """
            from torch.utils.data import DataLoader
            class Trainer:
                def train_loader(self):
                    return DataLoader(self.train_set, pin_memory=self.pin_memory)
                def evaluate(self, model):
                    for x in DataLoader(self.val_set):
                        model(x.cuda())
            """,
            line=6,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                loader = DataLoader(ds, batch_size=32, shuffle=True)
                for x, y in loader:
                    model(x.to(device), y.to(device))
            """,
            line=3,
            column=14,
            fixed="""
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                loader = DataLoader(ds, batch_size=32, shuffle=True, pin_memory=True)
                for x, y in loader:
                    model(x.to(device), y.to(device))
            """,
        ),
        Invalid(
            """
            import torch
            from tqdm import tqdm
            def train(model, ds):
                for step, batch in enumerate(tqdm(torch.utils.data.DataLoader(ds, num_workers=8))):
                    model(batch["image"].float().cuda())
            """,
            line=4,
            fixed="""
            import torch
            from tqdm import tqdm
            def train(model, ds):
                for step, batch in enumerate(tqdm(torch.utils.data.DataLoader(ds, num_workers=8, pin_memory=True))):
                    model(batch["image"].float().cuda())
            """,
        ),
        Invalid(
            """
            from torch.utils.data import DataLoader
            def fit(model, ds, device):
                loader = DataLoader(ds, batch_size=16, pin_memory=False)
                for epoch in range(10):
                    for batch in loader:
                        batch = {k: v.to(device) for k, v in batch.items()}
                        model(**batch)
            """,
            line=3,
            fixed="""
            from torch.utils.data import DataLoader
            def fit(model, ds, device):
                loader = DataLoader(ds, batch_size=16, pin_memory=True)
                for epoch in range(10):
                    for batch in loader:
                        batch = {k: v.to(device) for k, v in batch.items()}
                        model(**batch)
            """,
        ),
        # `pin_memory` is the eighth positional parameter.
        Invalid(
            """
            from torch.utils.data import DataLoader
            def evaluate(model, ds, device):
                loader = DataLoader(ds, 64, False, None, None, 4, None, False)
                for x in loader:
                    model(x.to(device))
            """,
            line=3,
            fixed="""
            from torch.utils.data import DataLoader
            def evaluate(model, ds, device):
                loader = DataLoader(ds, 64, False, None, None, 4, None, True)
                for x in loader:
                    model(x.to(device))
            """,
        ),
        # A call laid out one argument per line keeps its layout and trailing comma.
        Invalid(
            """
            import torch.utils.data as tud
            def train(model, ds, device):
                loader = tud.DataLoader(
                    ds,
                    batch_size=64,
                    num_workers=4,  # one per core
                )
                for images, labels in loader:
                    model(images.cuda(), labels.cuda())
            """,
            line=3,
            fixed="""
            import torch.utils.data as tud
            def train(model, ds, device):
                loader = tud.DataLoader(
                    ds,
                    batch_size=64,
                    num_workers=4,  # one per core
                    pin_memory=True,
                )
                for images, labels in loader:
                    model(images.cuda(), labels.cuda())
            """,
        ),
        # A tensor parameter the function itself puts on the host: its batches are copied.
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader, TensorDataset
            def fit(model, features: torch.Tensor, device):
                loader = DataLoader(TensorDataset(features.cpu()), batch_size=32)
                for (x,) in loader:
                    model(x.to(device))
            """,
            line=4,
            fixed="""
            import torch
            from torch.utils.data import DataLoader, TensorDataset
            def fit(model, features: torch.Tensor, device):
                loader = DataLoader(TensorDataset(features.cpu()), batch_size=32, pin_memory=True)
                for (x,) in loader:
                    model(x.to(device))
            """,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reported: set[int] = set()
        # Whether a loader of a scope (a class, or the module) takes pin_memory from a setting,
        # by the scope's id: worked out once per scope, not once per finding in it.
        self._setting_passed: dict[int, bool] = {}

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in ("to", "cuda"):
            return
        if not moves_to_a_device(node, self.context) or discarded(node, self.context):
            return
        loader = self.context.loops.loader_of_batch(func.value)
        if loader is None or id(loader) in self._reported or not _unpinned(loader):
            return
        arguments = catalog.bind(loader, _DATALOADER)
        dataset = arguments.argument("dataset") if arguments is not None else None
        if dataset is not None and _may_hold_device_tensors(dataset, self.context):
            return  # its batches are on the device already: nothing is copied (pinning would raise)
        self._reported.add(id(loader))
        # Another loader of the class (or file) takes ``pin_memory`` from a setting: the
        # choice is the user's, so the fix does not override it.
        owner = self.context.functions.current_class
        scope = owner.node if owner is not None else self.context.module_for_fix
        if id(scope) not in self._setting_passed:
            self._setting_passed[id(scope)] = _passes_a_pin_memory_setting(scope, self.context)
        fix = None if self._setting_passed[id(scope)] else _pinning_fix(loader)
        self.report(loader, self.message.format(move=quote(node)), fix=fix)


def _may_hold_device_tensors(dataset: cst.BaseExpression, context: FileContext, hops: int = 3) -> bool:
    """Somewhere in the expression that builds ``dataset`` (following names to what they were
    assigned, ``hops`` deep) a tensor is moved to a device or created on one
    (``TensorDataset(x.cuda(), y)``, ``torch.tensor(data, device=device)``), or a call is given
    a tensor parameter the function moves nowhere (``TorchDataset(x_ref)`` of ``fit(self,
    x_ref: torch.Tensor)``, ``devices.placed_by_callers``): its callers choose where it lives."""
    stack: list[tuple[cst.CSTNode, int]] = [(dataset, hops)]
    while stack:
        node, left = stack.pop()
        if type(node) is cst.Name:
            bound = context.arrays.bound_value(node.value)
            if bound is not None and left > 0:
                stack.append((bound, left - 1))
            continue
        if type(node) is cst.Call:
            if moves_to_a_device(node, context):
                return True
            if any(arg.keyword is None and placed_by_callers(arg.value, context) for arg in node.args):
                # A tensor the callers hand over, which the function moves nowhere: they may
                # hand it over on the device already.
                return True
            device = keyword_argument(node, "device")
            if device is not None and device_kind(device.value, context) in (ACCELERATOR, NAMED_LIKE_A_DEVICE):
                return True
        stack.extend((child, left) for child in syntax_children(node))
    return False


def _passes_a_pin_memory_setting(scope: cst.CSTNode, context: FileContext) -> bool:
    """A ``DataLoader`` call in ``scope`` is given ``pin_memory`` that is not a literal
    (``pin_memory=self.pin_memory``, ``pin_memory=args.pin_memory``): the user's to choose."""
    stack: list[cst.CSTNode] = [scope]
    while stack:
        node = stack.pop()
        if type(node) is cst.Call and catalog.lookup(context.imports.qualified_name(node.func)) is _DATALOADER:
            arguments = catalog.bind(node, _DATALOADER)
            pin_memory = arguments.argument("pin_memory") if arguments is not None else None
            if pin_memory is not None and literal_value(pin_memory) is UNKNOWN:
                return True
        stack.extend(syntax_children(node))
    return False


def _pinning_fix(loader: cst.Call) -> Fix:
    """``pin_memory=True``, in place of a ``False`` given by position or keyword, or added."""
    arguments = catalog.bind(loader, _DATALOADER)
    given = arguments.argument("pin_memory") if arguments is not None else None
    true = cst.Name("True")
    for index, argument in enumerate(loader.args):
        if given is not None and argument.value is given and argument.keyword is None:
            pinned = loader.with_changes(
                args=[*loader.args[:index], argument.with_changes(value=true), *loader.args[index + 1 :]]
            )
            break
    else:
        pinned = with_keyword(loader, "pin_memory", true)
    return Fix.replace(loader, pinned)


def _unpinned(loader: cst.Call) -> bool:
    """``pin_memory`` not given, or literally False; not hidden in ``**kwargs``."""
    arguments = catalog.bind(loader, _DATALOADER)
    if arguments is None or not arguments.is_known("pin_memory"):
        return False
    pin_memory = arguments.argument("pin_memory")
    return pin_memory is None or literal_value(pin_memory) is False


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    data = torch.rand(16 * 64, size, generator=generator)
    weights = torch.rand(size, 8, generator=generator).to(device)
    return data, weights, device


def _run(data, weights, device, pin_memory: bool):
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(data), batch_size=64, pin_memory=pin_memory)
    return [(batch.to(device, non_blocking=pin_memory) @ weights).sum().item() for (batch,) in loader]


def _pattern(data, weights, device):
    return _run(data, weights, device, pin_memory=False)


def _fix(data, weights, device):
    return _run(data, weights, device, pin_memory=device != "cpu")


LoaderWithoutPinnedMemory.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(2048, 16_384, 65_536),
    check_size=8,
    size_unit="float32 features in each of 16 batches of 64 rows, loaded and copied to the device",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "One epoch of a DataLoader over 1,024 rows of n float32 features in batches of 64, each batch "
        "copied to the device and multiplied by an n x 8 weight: `pin_memory=False` against "
        "`pin_memory=True`; CUDA only."
    ),
)
