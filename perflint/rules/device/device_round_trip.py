"""PFL204: a value copied off the device, worked on in NumPy or Python, and copied back."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import (
    HOST,
    TOWARDS_AN_ACCELERATOR,
    built_by_a_host_library,
    device_kind,
    device_move,
    in_a_collate_function,
    moves_to_a_device,
    on_host,
)
from perflint.engine.imports import target_names
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import nodes_in_scope, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

# A tensor's data comes to the host by a move there (``.cpu()``, ``.to("cpu")``) or by
# ``.tolist()``. A bare ``.numpy()`` proves nothing (it raises on a device tensor).
# Libraries whose functions compute on the host from host data.
_HOST_LIBRARIES = ("numpy", "scipy", "math")


class DeviceRoundTrip(Rule):
    """``x.cpu()`` or ``x.tolist()``, host work on the result, and the result moved back."""

    code = "PFL204"
    name = "device-round-trip"
    family = FAMILY
    summary = "A value leaves the device, is worked on on the host, and is copied back"
    message = (
        "`{back}` copies back to the device what `{leave}` copied off it; do the work in "
        "between on the device with torch operations"
    )
    fix_title = "Do the host-side work with torch operations on the device (`torch.clamp` for `np.clip`, …)"
    fix_safety = FIX_UNSAFE
    # Opt-in: on the corpus one finding in six was worth fixing; the others were correct round
    # trips of a few values, paid once per generation or next to larger host work. See
    # benchmarks/results/precision/PFL204.md.
    default_enabled = False
    # A round trip in set-up (``__init__``) is paid once.
    paid_per_execution = True
    required_text = ("cpu()", "tolist()", '"cpu"', "'cpu'")
    reported_at = "the call that copies back (`.cuda()`, `.to(...)`, `torch.tensor(..., device=...)`)"

    what_it_does = (
        'Within one function, follows a value that leaves the device through `.cpu()`, `.to("cpu")` '
        "or `.tolist()` through what derives from it: methods of the result (`.numpy()`, "
        "`.astype()`), names it is assigned to, arithmetic, subscripts, lists and comprehensions over"
        " it, NumPy, SciPy and `math` calls, and `torch.from_numpy` / `torch.tensor` / "
        "`torch.as_tensor` of it. When something derived goes back, by `.cuda()`, `.to(<device>)` or "
        "`torch.tensor(..., device=<device>)` / `torch.as_tensor(..., device=<device>)`, the rule "
        "reports that call."
    )
    known_limitations = (
        "A call of any other function breaks the chain (its result may be anything), as does "
        "rebinding the name. A bare `.numpy()` does not start a chain: it raises on a device tensor, "
        "so its tensor was on the host already. Left alone: values that a `while` loop scans step by "
        "step, deciding its steps on them (its test or an `if` inside reads them: torchcrepe's "
        "hysteresis thresholding grows regions element by element), which torch operations cannot "
        "do on the device. A `for` loop over the values is still reported: a mask or a reduction "
        "usually replaces it. Also left alone: `.tolist()` of data a host library made (a NumPy "
        "array, a SciPy matrix's `.row`, `m.astype(...)`, also through `self.<attribute>`) and of a "
        "tensor known to be on the host (a host factory's, a tokenizer's `return_tensors=\"pt\"` output), "
        "which never was on a device, round trips in set-up code (`__init__`), paid once, and in collate "
        "functions, which merge host samples. A data transform that a collate function calls through"
        " an attribute it cannot resolve (recbole's `self.transform`) is still reported."
    )
    why_bad = (
        "Each direction is a blocking copy across the bus, and the copy to the host first waits "
        "for every kernel queued on the device. The work done on the host in between "
        "(`np.clip`, a Python loop over `tolist()`) runs on a CPU core while the GPU idles, "
        "and its result has to be copied again before the GPU can use it. Done on the device "
        "with the equivalent torch operations, nothing crosses the bus and the host never "
        "waits."
    )
    example = """\
import numpy as np
import torch

def clip_boxes(boxes, width, height):
    host = boxes.cpu().numpy()
    host = np.clip(host, 0, [width, height, width, height])
    return torch.from_numpy(host).cuda()
"""
    use_instead = """\
import torch

def clip_boxes(boxes, width, height):
    limits = torch.tensor([width, height, width, height], device=boxes.device)
    return torch.minimum(boxes.clamp(min=0), limits)
"""
    fix_safety_note = (
        "torch's operations give the same values as NumPy's up to float rounding; in float32 "
        "on the device they may differ in the last bits from NumPy's float64 results, and "
        "some NumPy functions have no direct torch equivalent. Review each rewrite."
    )

    VALID = (
        # The chain is broken by another function's call (also on each element of a
        # comprehension), or by rebinding.
        """
        import torch
        def decode(self, logits):
            ids = logits.argmax(-1).cpu().tolist()
            text = self.tokenizer.decode(ids)
            tokens = self.tokenizer(text)
            times = [self.to_time(i) for i in ids]
            ids = [0, 1]
            return torch.tensor(tokens).cuda(), torch.tensor(ids).cuda(), torch.tensor(times).cuda()
        """,
        # Data built on the host by SciPy or NumPy never left a device (recbole's DGCF: a SciPy
        # matrix's `.row.tolist()`), and a round trip in set-up is paid once.
        """
        import numpy as np
        import torch
        class DGCF(torch.nn.Module):
            def __init__(self, dataset, device):
                self.interaction_matrix = dataset.inter_matrix(form="coo").astype(np.float32)
                self.embedding = torch.nn.Embedding(10, 4).to(device)
                ids = self.embedding.weight.argmax(-1).cpu().tolist()
                self.ids = torch.tensor(ids).to(device)
            def edges(self, device):
                row = self.interaction_matrix.row.tolist()
                col = [item + 1 for item in self.interaction_matrix.col.tolist()]
                return torch.LongTensor(row + col).to(device)
        """,
        # A tokenizer makes its tensors on the host (speechbrain's speech-LLM prompt): their
        # `.tolist()` copies nothing off a device.
        """
        import torch
        def build_prompt(self, audio_feats):
            prompt_ids = self.tokenizer(self.prompt, return_tensors="pt").input_ids.view(-1).tolist()
            return torch.LongTensor([self.bos_index] + prompt_ids).to(audio_feats.device)
        """,
        # A collate function merges host samples: `.cpu()` there copies nothing off a device.
        """
        import torch
        def collate_fn(batch, device):
            seqs = [sample["seq"].cpu().numpy()[::-1].copy() for sample in batch]
            return torch.tensor(seqs[0], device=device)
        """,
        # A bare `.numpy()` shows its tensor is on the host already; a host copy kept there.
        """
        import numpy as np
        import torch
        def smooth(x, device):
            a = np.convolve(x.numpy(), np.ones(3) / 3)
            kept = x.cpu()
            return torch.from_numpy(a).to(device), kept
        """,
        # Leaves the device and stays on the host, or goes to the CPU again.
        """
        import numpy as np
        import torch
        def report(scores):
            host = scores.cpu().numpy()
            np.save("scores.npy", host)
            return torch.from_numpy(host * 2).to("cpu")
        """,
        # A step-by-step scan of host values (torchcrepe's hysteresis): no torch operation does
        # it on the device.
        """
        import numpy as np
        import torch
        def hysteresis(pitch, periodicity, lower, upper):
            device = pitch.device
            pitch = pitch.flatten().cpu().numpy()
            periodicity = periodicity.flatten().cpu().numpy()
            threshold = lower + np.clip(pitch ** 2, 0, 1 - lower)
            i = 0
            while i < len(periodicity) - 1:
                if periodicity[i] < threshold[i] and periodicity[i + 1] > threshold[i + 1]:
                    end = i + 1
                    while end < len(periodicity) and periodicity[end] > threshold[end]:
                        end += 1
                    threshold[i + 1 : end] = upper
                    i = end
                else:
                    i += 1
            pitch[periodicity < threshold] = -1
            return torch.tensor(2**pitch, device=device), torch.tensor(threshold, device=device)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            import torch
            def clip_boxes(boxes, width, height):
                host = boxes.cpu().numpy()
                host = np.clip(host, 0, [width, height, width, height])
                return torch.from_numpy(host).cuda()
            """,
            line=6,
            column=12,
        ),
        # `.to("cpu")` leaves the device as `.cpu()` does.
        Invalid(
            """
            import numpy as np
            import torch
            def rescale(scores, device):
                host = scores.to("cpu").numpy()
                return torch.from_numpy(np.log1p(host)).to(device)
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            def forward(self, x):
                return x.cpu().cuda()
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            def keep(scores, device):
                values = scores.tolist()
                kept = [v for v in values if v > 0.5]
                return torch.tensor(kept, device=device)
            """,
            line=5,
        ),
        Invalid(
            """
            import math
            import torch
            def norm(x, device):
                total = x.sum().cpu().item()
                scale = math.sqrt(total) * 2
                return x / torch.as_tensor(scale).to(device)
            """,
            line=6,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Per function: the names that hold host data derived from a value that left the
        # device, each with the call where it left.
        self._scopes: list[dict[str, cst.Call]] = [{}]
        # The calls whose host data a ``while`` loop scans step by step (``visit_While``).
        self._scanned: set[int] = set()

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._scopes.append({})

    def visit_While(self, node: cst.While) -> None:
        """A ``while`` loop that decides its steps on host data (its own test, or an ``if`` or
        ``while`` test inside, reads a name holding such data) scans it step by step, each step
        depending on the last (hysteresis, region growing): torch operations cannot do that on
        the device, and element tests there would each wait for it. The values that left the
        device for it are not reported."""
        scope = self._scopes[-1]
        tests: list[cst.CSTNode] = [node.test]
        for part in nodes_in_scope(node.body):
            if isinstance(part, (cst.If, cst.While)):
                tests.append(part.test)
        for test in tests:
            pending = [test]
            while pending:
                part = pending.pop()
                if type(part) is cst.Name and part.value in scope:
                    self._scanned.add(id(scope[part.value]))
                pending.extend(syntax_children(part))

    def leave_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def leave_Assign(self, node: cst.Assign) -> None:
        origin = self._origin(node.value)
        for assign_target in node.targets:
            for name in target_names(assign_target.target):
                if origin is not None:
                    self._scopes[-1][name] = origin
                else:
                    self._scopes[-1].pop(name, None)

    def visit_Call(self, node: cst.Call) -> None:
        if in_a_collate_function(self.context):
            return
        func = node.func
        if type(func) is cst.Attribute and func.attr.value in ("to", "cuda"):
            if not moves_to_a_device(node, self.context):
                return
            origin = self._origin(func.value)
        else:
            record = catalog.lookup(self.context.imports.qualified_name(func))
            if record is None or record.library != catalog.TORCH or not record.accepts_device:
                return
            if not (record.shares_data_with or record.has(catalog.Flag.COPIES_DATA)):
                return
            arguments = catalog.bind(node, record)
            if arguments is None or not record.signature.positional:
                return
            device = arguments.argument("device")
            if device is None or device_kind(device, self.context) not in TOWARDS_AN_ACCELERATOR:
                return
            origin = self._origin(arguments.argument(record.signature.positional[0]))
        if origin is not None and id(origin) not in self._scanned:
            self.report(
                node,
                self.message.format(back=quote(node), leave=quote(origin)),
            )

    def _origin(self, expr: cst.BaseExpression | None) -> cst.Call | None:
        """The ``.cpu()`` or ``.tolist()`` call whose host data ``expr`` derives from."""
        if expr is None:
            return None
        if type(expr) is cst.Name:
            return self._scopes[-1].get(expr.value)
        if type(expr) is cst.Call:
            return self._call_origin(expr)
        if isinstance(expr, (cst.BinaryOperation, cst.Comparison, cst.BooleanOperation)):
            for child in expr.children:
                if isinstance(child, cst.BaseExpression):
                    origin = self._origin(child)
                    if origin is not None:
                        return origin
            return None
        if type(expr) is cst.UnaryOperation:
            return self._origin(expr.expression)
        if isinstance(expr, (cst.Subscript, cst.Attribute)):
            return self._origin(expr.value)
        if isinstance(expr, (cst.List, cst.Tuple)):
            for element in expr.elements:
                origin = self._origin(element.value)
                if origin is not None:
                    return origin
            return None
        if isinstance(expr, (cst.ListComp, cst.GeneratorExp, cst.SetComp)):
            return self._comprehension_origin(expr)
        return None

    def _comprehension_origin(self, comprehension: cst.BaseSimpleComp) -> cst.Call | None:
        """What the elements derive from: the element expression, with the targets of a
        ``for`` over host data holding that data (``[v for v in values]``; a call of another
        function on each element breaks the chain, as anywhere else)."""
        scope = dict(self._scopes[-1])
        comp_for: cst.CompFor | None = comprehension.for_in
        self._scopes.append(scope)
        try:
            while comp_for is not None:
                origin = self._origin(comp_for.iter)
                for name in target_names(comp_for.target):
                    if origin is not None:
                        scope[name] = origin
                    else:
                        scope.pop(name, None)
                comp_for = comp_for.inner_for_in
            return self._origin(comprehension.elt)
        finally:
            self._scopes.pop()

    def _call_origin(self, call: cst.Call) -> cst.Call | None:
        func = call.func
        qualified = self.context.imports.qualified_name(func)
        if qualified is None and type(func) is cst.Attribute:
            method = func.attr.value
            move = device_move(call, self.context)
            if (move is not None and move.destination == HOST) or (method == "tolist" and not call.args):
                if (
                    self.context.arrays.kind_of(func.value) in (None, catalog.TORCH)
                    and not built_by_a_host_library(func.value, self.context)
                    and not on_host(func.value, self.context)
                ):
                    return call
                return None
            if catalog.method(method) is not None:
                return self._origin(func.value)
            return None
        if qualified is None:
            return None
        if catalog.library_of(qualified) in _HOST_LIBRARIES:
            return self._first_origin(call)
        record = catalog.lookup(qualified)
        if (
            record is not None
            and record.library == catalog.TORCH
            and (record.shares_data_with or record.has(catalog.Flag.COPIES_DATA))
        ):
            if any(arg.keyword is not None and arg.keyword.value == "device" for arg in call.args):
                return None
            return self._first_origin(call)
        return None

    def _first_origin(self, call: cst.Call) -> cst.Call | None:
        for arg in call.args:
            origin = self._origin(arg.value)
            if origin is not None:
                return origin
        return None


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    boxes = (torch.rand(size, 4, generator=generator) * 1.2 - 0.1).to(device)
    return boxes, device


def _pattern(boxes, device):
    import numpy as np
    import torch

    host = boxes.cpu().numpy()
    host = np.clip(host, 0.0, 1.0)
    return torch.from_numpy(host).to(device).sum().item()


def _fix(boxes, device):
    return boxes.clamp(0.0, 1.0).sum().item()


DeviceRoundTrip.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32_768, 262_144, 1_048_576),
    check_size=8,
    size_unit="boxes (4 float32 each) clipped to the image",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "Clipping n boxes (n x 4 float32) to [0, 1]: a round trip through `.cpu().numpy()`, `np.clip` "
        "and `torch.from_numpy(...).to(device)` against `boxes.clamp(0.0, 1.0)` on the device; CUDA "
        "only."
    ),
)
