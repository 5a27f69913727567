"""PFL208: pinning a tensor in a loop only to copy it to the device at once."""

from __future__ import annotations

import libcst as cst

from perflint.engine.devices import moves_to_a_device
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.engine.values import value_of
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class ManualPinInLoop(Rule):
    """``b.pin_memory().to(device)`` (or through a name) on every iteration."""

    code = "PFL208"
    name = "manual-pin-in-loop"
    family = FAMILY
    summary = "A tensor is pinned in a loop only to be copied to the device right away"
    message = (
        "`{pin}` copies the tensor into new pinned memory on every iteration only for `{move}` "
        "to copy it again; let the DataLoader pin (`pin_memory=True`) or pin one reusable buffer"
    )
    fix_title = (
        "Let the DataLoader pin batches (`pin_memory=True`), or pin one buffer before the loop and `copy_` into it"
    )
    fix_safety = FIX_SAFE
    required_text = ("pin_memory",)
    reported_at = "the `.pin_memory()` call (its first line)"

    what_it_does = (
        "Inside a loop, flags `.pin_memory()` whose result the same iteration moves to an accelerator"
        " or a device named so: directly (`b.pin_memory().to(device)`, "
        "`b.pin_memory().cuda(non_blocking=True)`) or through a name the loop binds to it (`p = "
        "b.pin_memory()` then `p.to(device)`)."
    )
    known_limitations = (
        "Left alone: pinning outside a loop, a pinned buffer kept across iterations (bound before the"
        " loop, or not moved in the iteration that pins it), and moves to the CPU."
    )
    why_bad = (
        "`.pin_memory()` allocates page-locked host memory (a slow, driver-level allocation) "
        "and copies the whole tensor into it, on the host, blocking; only then does the copy "
        "to the device start. Done once per batch this is an extra full copy plus an "
        "allocation, and measured end to end it is often slower than the plain pageable copy "
        "it was meant to speed up. Pinning pays off when it happens off the critical path (the "
        "DataLoader's pinning thread) or once (a reusable staging buffer)."
    )
    example = """\
import torch

def upload(chunks, device):
    out = []
    for chunk in chunks:
        out.append(chunk.pin_memory().to(device, non_blocking=True))
    return out
"""
    use_instead = """\
import torch

def upload(chunks, device):
    staging = torch.empty_like(chunks[0]).pin_memory()
    out = []
    for chunk in chunks:
        staging.copy_(chunk)
        out.append(staging.to(device, non_blocking=True))
        torch.cuda.current_stream().synchronize()
    return out
"""
    fix_safety_note = (
        "The device tensors hold the same values. A reused staging buffer must not be "
        "overwritten while a non-blocking copy from it is still in flight: synchronise (or "
        "record an event) before the next `copy_`, or keep two buffers and alternate. Moving "
        "the pinning to the DataLoader changes nothing else."
    )

    VALID = (
        # A pinned buffer kept across iterations.
        """
        import torch
        def upload(chunks, device):
            staging = torch.empty(1024).pin_memory()
            for chunk in chunks:
                staging.copy_(chunk)
                yield staging.to(device, non_blocking=True)
        """,
        # Pinned in the loop but kept, not moved in that iteration.
        """
        import torch
        def prefetch(chunks):
            pinned = []
            for chunk in chunks:
                pinned.append(chunk.pin_memory())
            return pinned
        """,
        # Outside any loop, and pinned then moved to the CPU.
        """
        import torch
        def once(batch, device):
            x = batch.pin_memory().to(device, non_blocking=True)
            for _ in range(3):
                y = batch.pin_memory().to("cpu")
            return x, y
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def upload(chunks, device):
                return [chunk.pin_memory().to(device, non_blocking=True) for chunk in chunks]
            """,
            line=3,
            column=13,
        ),
        Invalid(
            """
            import torch
            def train(model, loader):
                for x, y in loader:
                    x = x.pin_memory()
                    model(x.cuda(non_blocking=True), y)
            """,
            line=4,
            column=13,
        ),
        Invalid(
            """
            import torch
            def stream(frames, device):
                while frames:
                    frame = frames.pop()
                    pinned = torch.from_numpy(frame).pin_memory()
                    yield pinned.to(device=device, non_blocking=True)
            """,
            line=5,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.context.innermost_loop
        func = node.func
        if frame is None or type(func) is not cst.Attribute or func.attr.value not in ("to", "cuda"):
            return
        if not moves_to_a_device(node, self.context):
            return
        pin: cst.BaseExpression | None = func.value
        if isinstance(pin, cst.Name):
            if pin.value not in frame.effects.rebound:
                return
            pin = value_of(pin, self.context)
        if pin is None or not _pins(pin) or id(pin) in self._reported:
            return
        self._reported.add(id(pin))
        self.report(pin, self.message.format(pin=quote(pin), move=quote(node)))


def _pins(expr) -> bool:
    return (
        type(expr) is cst.Call
        and type(expr.func) is cst.Attribute
        and expr.func.attr.value == "pin_memory"
        and not expr.args
    )


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    return [torch.rand(size, generator=generator) for _ in range(16)], device


def _pattern(chunks, device):
    pinning = device != "cpu"
    moved = [(chunk.pin_memory() if pinning else chunk).to(device, non_blocking=pinning) for chunk in chunks]
    return [tensor.sum().item() for tensor in moved]


def _fix(chunks, device):
    moved = [chunk.to(device) for chunk in chunks]
    return [tensor.sum().item() for tensor in moved]


ManualPinInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(524_288, 4_194_304, 16_777_216),
    check_size=8,
    size_unit="float32 elements in each of 16 chunks copied to the device",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "Copying 16 chunks of n float32 elements to the device: `chunk.pin_memory()` before every "
        "copy against a plain `.to(device)`; CUDA only."
    ),
)
