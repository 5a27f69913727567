"""PFL214: a plain tensor attribute of a module, copied to the device on every call."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import moves_to_a_device
from perflint.engine.functions import ClassFrame
from perflint.engine.imports import dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import nodes_in_scope, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

_MOVES = ("to", "cuda")


class UnregisteredTensorAttribute(Rule):
    """``self.table = torch.arange(n)`` in ``__init__`` and ``self.table.to(x.device)`` in ``forward``."""

    code = "PFL214"
    name = "unregistered-tensor-attribute"
    family = FAMILY
    summary = "Module keeps a tensor as a plain attribute and moves it to the device in `forward`"
    message = (
        "`self.{attribute}` is a plain tensor attribute (`{factory}` in `__init__`), which "
        "`model.to(device)` does not move, so `{move}` copies it on every call; register it "
        'once: `self.register_buffer("{attribute}", {factory}, persistent=False)`'
    )
    fix_title = "Register the tensor as a buffer (`persistent=False`) and drop the move"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its 2 findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("torch",)
    reported_at = "the `.to(...)` or `.cuda()` call"

    what_it_does = (
        "Flags, in `forward` (or another per-call method) of a torch `nn.Module` subclass, "
        "`self.a.to(...)` with a device (a device string, `torch.device`, a tensor, or a name spelled"
        " like a device such as `x.device`) or `self.a.cuda()`, where the class's `__init__` sets "
        "`self.a` to the result of a torch tensor factory (`torch.tensor`, `torch.zeros`, "
        "`torch.arange`…), not a `Parameter` and not through `register_buffer`, and the method never "
        "assigns `self.a`."
    )
    known_limitations = (
        "Left alone: `.to(dtype)` alone, a method that assigns the moved tensor back (`self.a = "
        "self.a.to(x.device)` moves it once), attributes set outside `__init__`, and classes that are"
        " not modules."
        " Opt-in since round 11 of the precision review: neither of its 2 findings on code it had "
        "not been tuned on was worth fixing. Both moved MTGNN's node index (torch_geometric_temporal),"
        " 1.6 KB, once per layer of a forward that copies N×N matrices to the device and does N×N "
        "work beside it. At 90% precision a record of 0 worth fixing in 2 reads happens 1 time in 100, below round 11's 5% criterion (`python benchmarks/track_record.py decide benchmarks/results/precision/round5/track_verdicts.csv`). Worth it where the tensor is large or the forward small."
    )
    why_bad = (
        "`model.to(device)` and `model.cuda()` move parameters and registered buffers only. A "
        "tensor kept as a plain attribute stays on the CPU, so the move in `forward` copies it "
        "across the bus on every call; the copy is from pageable memory and synchronises the "
        "host with the device each time. A buffer moves with the model once, is saved or not "
        "with the state as chosen (`persistent=`), and costs nothing per call."
    )
    example = """\
import torch
from torch import nn

class Positional(nn.Module):
    def __init__(self, length: int):
        super().__init__()
        self.positions = torch.arange(length)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.positions.to(x.device)
"""
    use_instead = """\
import torch
from torch import nn

class Positional(nn.Module):
    def __init__(self, length: int):
        super().__init__()
        self.register_buffer("positions", torch.arange(length), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.positions
"""
    fix_safety_note = (
        "Unsafe: a buffer also follows `model.half()` and other dtype conversions of floating "
        "point tensors, and appears in `named_buffers()`; with `persistent=False` it stays "
        "out of the `state_dict`, so checkpoints are unchanged. Code that reads the attribute "
        "expecting a CPU tensor now gets the model's device."
    )

    VALID = (
        # Registered as a buffer, or a Parameter: the model moves it.
        """
        import torch
        from torch import nn
        class Positional(nn.Module):
            def __init__(self, length):
                super().__init__()
                self.register_buffer("positions", torch.arange(length), persistent=False)
                self.scale = nn.Parameter(torch.ones(1))
            def forward(self, x):
                return x * self.scale.to(x.device) + self.positions.to(x.device)
        """,
        # Assigned back: moved once, on the first call.
        """
        import torch
        from torch import nn
        class Cache(nn.Module):
            def __init__(self):
                super().__init__()
                self.table = torch.zeros(16)
            def forward(self, x):
                if self.table.device != x.device:
                    self.table = self.table.to(x.device)
                return x + self.table
        """,
        # A dtype conversion, not a move; and a class that is not a module.
        """
        import torch
        from torch import nn
        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.weights = torch.ones(4)
            def forward(self, x):
                return x * self.weights.to(torch.float16)
        class Helper:
            def __init__(self):
                self.weights = torch.ones(4)
            def forward(self, x):
                return x * self.weights.to(x.device)
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            from torch import nn
            class Positional(nn.Module):
                def __init__(self, length):
                    super().__init__()
                    self.positions = torch.arange(length)
                def forward(self, x):
                    return x + self.positions.to(x.device)
            """,
            line=8,
            column=20,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn
            class Mixer(nn.Module):
                def __init__(self, weights):
                    super().__init__()
                    self.mix = torch.tensor(weights, dtype=torch.float32)
                def forward(self, x):
                    return x @ self.mix.cuda()
            """,
            line=8,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Window(nn.Module):
                def __init__(self, size, device):
                    super().__init__()
                    self.window = torch.hann_window(size)
                    self.device = device
                def forward(self, signal):
                    window = self.window.to(device=self.device, dtype=signal.dtype)
                    return torch.stft(signal, 512, window=window, return_complex=True)
            """,
            line=9,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._plain_tensors: dict[int, dict[str, str]] = {}

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in _MOVES:
            return
        receiver = dotted_name(func.value)
        if receiver is None or receiver.count(".") != 1 or not receiver.startswith("self."):
            return
        frame = self.context.function
        if frame is None or frame.role != "per-call":
            return
        class_frame = frame.class_frame
        if class_frame is None or not class_frame.is_module_subclass:
            return
        attribute = receiver.partition(".")[2]
        factory = self._plain_tensors_of(class_frame).get(attribute)
        if factory is None or not moves_to_a_device(node, self.context):
            return
        method = frame
        while method.parent is not None:
            method = method.parent
        if _assigns(method.node, receiver):
            return
        self.report(
            node,
            self.message.format(attribute=attribute, factory=factory, move=quote(node)),
        )

    def _plain_tensors_of(self, class_frame: ClassFrame) -> dict[str, str]:
        """``self.x = torch.<factory>(...)`` assignments of the class's ``__init__``: name to
        the factory call's text."""
        known = self._plain_tensors.get(id(class_frame.node))
        if known is None:
            known = {}
            body = class_frame.node.body
            for member in body.body if type(body) is cst.IndentedBlock else ():
                if type(member) is cst.FunctionDef and member.name.value == "__init__":
                    known = self._factory_assignments(member)
            self._plain_tensors[id(class_frame.node)] = known
        return known

    def _factory_assignments(self, init: cst.FunctionDef) -> dict[str, str]:
        imports = self.context.imports
        assignments: dict[str, str] = {}
        for node in nodes_in_scope(init.body):
            if type(node) is cst.Assign and len(node.targets) == 1 and type(node.value) is cst.Call:
                target = dotted_name(node.targets[0].target)
                record = catalog.lookup(imports.qualified_name(node.value.func))
                if (
                    target is not None
                    and target.count(".") == 1
                    and target.startswith("self.")
                    and record is not None
                    and record.library == catalog.TORCH
                    and record.has(catalog.Flag.FACTORY)
                    and record.returns == catalog.TORCH
                ):
                    assignments[target.partition(".")[2]] = quote(node.value)
        return assignments


def _assigns(function: cst.CSTNode, chain: str) -> bool:
    """``function`` assigns ``chain`` (``self.table = ...``) anywhere in its body."""
    pending: list[cst.CSTNode] = [function]
    while pending:
        node = pending.pop()
        if type(node) is cst.Assign and any(dotted_name(target.target) == chain for target in node.targets):
            return True
        if isinstance(node, (cst.AugAssign, cst.AnnAssign)) and dotted_name(node.target) == chain:
            return True
        pending.extend(syntax_children(node))
    return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    table = torch.randn(size, generator=generator)
    inputs = torch.randn(64, size, generator=generator).to(device)
    return table, table.to(device), inputs, device


def _pattern(table, registered, inputs, device):
    return inputs + table.to(device)


def _fix(table, registered, inputs, device):
    return inputs + registered


UnregisteredTensorAttribute.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(4096, 65_536, 1_048_576),
    check_size=8,
    size_unit="float32 elements in the attribute (added to 64 rows)",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "Adding an n-element float32 table to 64 rows on the device: the table kept as a plain "
        "attribute and moved with `.to(device)` on every call against a registered buffer already on "
        "the device; CUDA only."
    ),
)
