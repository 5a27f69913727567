"""PFL206: a pinned batch copied to the device without ``non_blocking=True``."""

from __future__ import annotations

from dataclasses import replace

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import DeviceMove, device_move
from perflint.engine.effects import summarise
from perflint.engine.imports import chains_overlap, target_names
from perflint.engine.literals import keyword_argument, literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_SAFE, FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.walker import root_name, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

_DATALOADER = catalog.listed("torch.utils.data.DataLoader")
# The tensor methods that convert to a dtype (``.float()``, ``.long()``…): the fix may run
# them after the copy, on the device, for the same values.
_DTYPE_CONVERSIONS = frozenset(catalog.LEGACY_CONSTRUCTOR_CONVERSIONS.values())


class BlockingCopyFromPinnedLoader(Rule):
    """``batch.to(device)`` in a loop over a ``DataLoader(..., pin_memory=True)``."""

    code = "PFL206"
    name = "blocking-copy-from-pinned-loader"
    family = FAMILY
    summary = "Batch from a pinned-memory DataLoader copied to the device without `non_blocking=True`"
    message = "`{call}` copies the pinned batch {how}; use `{fix}`"
    fix_title = "Pass `non_blocking=True` to the host-to-device copy (and convert after the move)"
    fix_safety = FIX_SAFE
    default_enabled = False
    fix_safeties = (FIX_SAFE, FIX_UNSAFE)
    autofix = True
    required_text = ("DataLoader",)
    reported_at = "the `.to(...)` or `.cuda(...)` call (its first line)"

    what_it_does = (
        "In a loop over a `DataLoader` created with `pin_memory=True` (directly, through a name, "
        "`enumerate` or `tqdm`), flags `.to(<device>)` and `.cuda()` of the batch or of part of it "
        '(`x` of `for x, y in loader`, `batch["image"]`, `v` of `for k, v in batch.items()`) without '
        "`non_blocking=True`, also when the batch is converted first (`x.float().to(device)`: the "
        "converted copy is not pinned, so the fix moves first and converts on the device). The "
        "destination must be an accelerator or named like a device."
    )
    known_limitations = (
        "Left alone: a loader whose `pin_memory` is not literally `True`, `non_blocking=` given any "
        "value, moves to the CPU (`non_blocking` is never suggested for a device-to-host copy), and "
        "values that are not the loader's batch."
        " Opt-in: on code nobody tuned on (round 1's held-out set and round 3's development set of "
        "the precision review, `benchmarks/results/precision/`) none of its 7 findings was worth "
        "fixing: the same iteration waits on the device anyway, often in a metric defined in "
        "another file (a per-sample `.item()`), so `non_blocking=True` overlaps nothing. On round "
        "2's development set, where it was tuned, 28 of 29 were worth fixing."
    )
    why_bad = (
        "Pinning makes the copy to the GPU possible as a DMA transfer that the host does not "
        "wait for, but only when it is asked for with `non_blocking=True`; without it the "
        "host blocks until the copy is done, and the loader's pinning thread did its work for "
        "nothing. A batch converted on the host first (`x.float()`) is a new, pageable tensor: "
        "its copy is neither pinned nor asynchronous, and the conversion itself runs on the "
        "CPU instead of the GPU."
    )
    example = """\
from torch.utils.data import DataLoader

def train(model, dataset, device):
    loader = DataLoader(dataset, batch_size=64, num_workers=4, pin_memory=True)
    for images in loader:
        model(images.float().to(device))
"""
    use_instead = """\
from torch.utils.data import DataLoader

def train(model, dataset, device):
    loader = DataLoader(dataset, batch_size=64, num_workers=4, pin_memory=True)
    for images in loader:
        model(images.to(device, non_blocking=True).float())
"""
    fix_safety_note = (
        "The fix passes `non_blocking=True` to the copy (`x.to(device, non_blocking=True)`, "
        "`x.cuda(non_blocking=True)`, or replaces `non_blocking=False`), and a batch converted "
        "first (`x.float().cuda()`) is moved first and converted after "
        "(`x.cuda(non_blocking=True).float()`). It is safe: a non-blocking host-to-device copy "
        "is ordered on the current stream before the kernels that use the batch, so their "
        "results are the same, and a dtype conversion rounds the same on the device as on the "
        "host (both round to nearest; only a NaN or infinity converted to an integer, "
        "undefined either way, may differ). The rule only flags copies to a device: a "
        "non-blocking copy to the host returns before the data has arrived. The one thing the "
        "copy now allows is for the host to run ahead while it is in flight, so code that "
        "writes into the pinned batch in place right after moving it would race with the "
        "copy: the fix is unsafe when a later statement of the same iteration may write into the "
        "host batch or gives it another name (`x.zero_()` after `y = x.to(device)` could zero "
        "the batch before it is copied). "
        "No fix is offered when the batch goes through anything but a dtype conversion "
        "before the move (`x.view(-1).float().cuda()`): reshaping or computing on the device "
        "instead is not the same operation."
    )

    VALID = (
        # Already non-blocking, or not pinned, or a value that is not the batch.
        """
        from torch.utils.data import DataLoader
        def train(model, ds, device, prior):
            pinned = DataLoader(ds, pin_memory=True)
            for x, y in pinned:
                model(x.to(device, non_blocking=True), y.cuda(non_blocking=True), prior.to(device))
            for x, y in DataLoader(ds):
                model(x.to(device))
        """,
        # To the host, a dtype conversion, and a `pin_memory` decided elsewhere.
        """
        import torch
        from torch.utils.data import DataLoader
        def run(ds, args, device):
            for batch in DataLoader(ds, pin_memory=True):
                host = batch.to("cpu")
                half = batch.to(torch.float16)
            for batch in DataLoader(ds, pin_memory=args.pin):
                batch.to(device)
        """,
        # A `non_blocking` argument whose value the linter cannot know.
        """
        from torch.utils.data import DataLoader
        def run(ds, device, overlap):
            for x in DataLoader(ds, pin_memory=True):
                x.to(device, non_blocking=overlap)
        """,
    )
    INVALID = (
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                loader = DataLoader(ds, batch_size=32, pin_memory=True)
                for x, y in loader:
                    model(x.to(device), y)
            """,
            line=5,
            column=15,
            fixed="""
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                loader = DataLoader(ds, batch_size=32, pin_memory=True)
                for x, y in loader:
                    model(x.to(device, non_blocking=True), y)
            """,
        ),
        # The loop writes into the pinned batch after the copy starts: the fix is unsafe.
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for x in DataLoader(ds, pin_memory=True):
                    y = x.to(device)
                    x.zero_()
                    model(y)
            """,
            line=4,
            fixed="""
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for x in DataLoader(ds, pin_memory=True):
                    y = x.to(device, non_blocking=True)
                    x.zero_()
                    model(y)
            """,
        ),
        # Converted on the host first: moved first, converted on the device.
        Invalid(
            """
            import torch
            from tqdm import tqdm
            def train(model, ds):
                loader = torch.utils.data.DataLoader(ds, pin_memory=True, num_workers=8)
                for step, batch in enumerate(tqdm(loader)):
                    images = batch["image"].float().cuda()
                    model(images)
            """,
            line=6,
            fixed="""
            import torch
            from tqdm import tqdm
            def train(model, ds):
                loader = torch.utils.data.DataLoader(ds, pin_memory=True, num_workers=8)
                for step, batch in enumerate(tqdm(loader)):
                    images = batch["image"].cuda(non_blocking=True).float()
                    model(images)
            """,
        ),
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for batch in DataLoader(ds, pin_memory=True):
                    batch = {k: v.to(device) for k, v in batch.items()}
                    model(**batch)
            """,
            line=4,
            fixed="""
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for batch in DataLoader(ds, pin_memory=True):
                    batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
                    model(**batch)
            """,
        ),
        Invalid(
            """
            from torch.utils.data import DataLoader
            def evaluate(model, ds, device):
                loader = DataLoader(ds, 64, False, None, None, 4, None, True)
                for x in loader:
                    model(x.to(device, non_blocking=False))
            """,
            line=5,
            fixed="""
            from torch.utils.data import DataLoader
            def evaluate(model, ds, device):
                loader = DataLoader(ds, 64, False, None, None, 4, None, True)
                for x in loader:
                    model(x.to(device, non_blocking=True))
            """,
        ),
        # A call laid out one argument per line keeps its layout.
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for images, labels in DataLoader(ds, pin_memory=True):
                    images = images.to(
                        device,
                        memory_format=torch.channels_last,
                    )
                    model(images, labels)
            """,
            line=5,
            fixed="""
            import torch
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for images, labels in DataLoader(ds, pin_memory=True):
                    images = images.to(
                        device,
                        memory_format=torch.channels_last,
                        non_blocking=True,
                    )
                    model(images, labels)
            """,
        ),
        # Reshaped before the move: reshaping on the device is not the same operation.
        Invalid(
            """
            from torch.utils.data import DataLoader
            def train(model, ds, device):
                for x in DataLoader(ds, pin_memory=True):
                    model(x.view(-1).float().to(device))
            """,
            line=4,
            fixed=NO_FIX,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in ("to", "cuda"):
            return
        move = device_move(node, self.context)
        if move is None or not move.towards_an_accelerator or not _blocks(move):
            return
        loader = self.context.loops.loader_of_batch(func.value)
        if loader is None or not _pins_memory(loader):
            return
        fix = _non_blocking_fix(node, func)
        if fix is not None and self._host_batch_written_after(node, root_name(func.value)):
            # The host may write the pinned batch while the copy still reads it.
            fix = replace(fix, safety=FIX_UNSAFE)
        self.report(node, self._message(node, func), fix=fix)

    def _host_batch_written_after(self, move: cst.Call, name: str | None) -> bool:
        """A statement after the move's, in the same iteration of the loop around it, may write
        into the host batch ``name`` (``x.zero_()``, ``x[0] = 1``, passing it to a call that
        may change it), or keeps another name for it, unless the move's own statement rebinds
        ``name`` to its device copy (``x = x.to(device)``)."""
        if name is None:
            return True
        path = self.context.path_to(move)
        loop = next(
            (frame.node for frame in self.context.loops.enclosing() if isinstance(frame.node, (cst.For, cst.While))),
            None,
        )
        if loop is None or loop not in path:
            return True
        inside = path[path.index(loop) + 1 :]
        for parent, child in zip(inside, inside[1:]):
            if (
                type(parent) is cst.Assign
                and child is parent.value
                and any(name in target_names(target.target) for target in parent.targets)
            ):
                return False
        later: list[cst.CSTNode] = []
        for parent, child in zip(inside, inside[1:]):
            if (
                type(parent) is cst.IndentedBlock
                or type(parent) is cst.SimpleStatementLine
                or type(parent) is cst.SimpleStatementSuite
            ):
                siblings: list[cst.CSTNode] = list(parent.body)
                if child in siblings:
                    later += siblings[siblings.index(child) + 1 :]
        effects = summarise(later, self.context.imports, self.context.functions)
        if any(chains_overlap(name, changed) for changed in effects.mutated):
            return True
        return any(
            type(node) is cst.Assign and type(node.value) is cst.Name and node.value.value == name
            for statement in later
            for node in _nodes_within(statement)
        )

    @staticmethod
    def _message(call: cst.Call, func: cst.Attribute) -> str:
        receiver = func.value
        base = receiver
        while type(base) is cst.Call and type(base.func) is cst.Attribute:
            base = base.func.value
        base_code, receiver_code = quote(base), quote(receiver)
        conversions = receiver_code[len(base_code) :] if receiver_code.startswith(base_code) else ""
        arguments = [
            quote(arg).rstrip(", ") for arg in call.args if arg.keyword is None or arg.keyword.value != "non_blocking"
        ]
        moved = f"{base_code}.{func.attr.value}({', '.join([*arguments, 'non_blocking=True'])})"
        if conversions:
            how = f"after converting it on the host (`{receiver_code}` is not pinned)"
            return BlockingCopyFromPinnedLoader.message.format(call=quote(call), how=how, fix=moved + conversions)
        return BlockingCopyFromPinnedLoader.message.format(call=quote(call), how="and waits for the copy", fix=moved)


def _blocks(move: DeviceMove) -> bool:
    """No ``non_blocking=`` at all, or a keyword one that is literally False (a positional
    one is left alone: the fix could not simply drop it)."""
    if move.non_blocking is None:
        return True
    given = keyword_argument(move.call, "non_blocking")
    return given is not None and literal_value(given.value) is False


def _nodes_within(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node`` and every node below it, outside nested functions and classes."""
    found: list[cst.CSTNode] = []
    stack = [node]
    while stack:
        current = stack.pop()
        found.append(current)
        if not isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            stack.extend(syntax_children(current))
    return found


def _non_blocking_fix(move: cst.Call, func: cst.Attribute) -> Fix | None:
    """The move with ``non_blocking=True``, made before the batch's dtype conversions; None
    when something else than a dtype conversion comes between the batch and the move."""
    conversions: list[cst.Call] = []
    base = func.value
    while type(base) is cst.Call and type(base.func) is cst.Attribute:
        if base.args or base.func.attr.value not in _DTYPE_CONVERSIONS:
            return None
        conversions.append(base)
        base = base.func.value
    moved: cst.BaseExpression = with_keyword(
        move.with_changes(func=func.with_changes(value=base), lpar=(), rpar=()), "non_blocking", cst.Name("True")
    )
    for conversion in reversed(conversions):
        moved = conversion.with_changes(func=conversion.func.with_changes(value=moved))
    moved = moved.with_changes(lpar=move.lpar, rpar=move.rpar)
    title = f"Use `{quote(moved)}`"
    return Fix.replace(move, moved, title=title)


def _pins_memory(loader: cst.Call) -> bool:
    arguments = catalog.bind(loader, _DATALOADER)
    pin_memory = arguments.argument("pin_memory") if arguments is not None else None
    return pin_memory is not None and literal_value(pin_memory) is True


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    batches = [torch.rand(64, size, generator=generator) for _ in range(16)]
    if device != "cpu":
        batches = [batch.pin_memory() for batch in batches]
    weights = torch.rand(size, 8, generator=generator).to(device)
    return batches, weights, device


def _pattern(batches, weights, device):
    outputs = [batch.to(device) @ weights for batch in batches]
    return [output.sum().item() for output in outputs]


def _fix(batches, weights, device):
    outputs = [batch.to(device, non_blocking=True) @ weights for batch in batches]
    return [output.sum().item() for output in outputs]


BlockingCopyFromPinnedLoader.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8192, 65_536, 262_144),
    check_size=8,
    size_unit="float32 features in each of 16 pinned batches of 64 rows",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "Copying 16 pinned batches of 64 x n float32 to the device and multiplying each by an n x 8 "
        "weight: `.to(device)` against `.to(device, non_blocking=True)`; CUDA only."
    ),
)
