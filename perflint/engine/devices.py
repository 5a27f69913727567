"""Which device a device expression names: the host, an accelerator, or unknown.

``"cpu"`` and ``torch.device("cpu")`` are the host; ``"cuda:0"``, ``"mps"`` and
``torch.device("cuda")`` an accelerator; a name is what every assignment that reaches it says
(``device = "cpu"`` is the host). Only when nothing is known does the spelling count: a name or
attribute called like a device (``device``, ``self.device``, ``x.device``) is taken to name
one, since code moves tensors to a device named so to reach an accelerator. A parameter whose
default is the host is not taken to name an accelerator: its callers may pass one, but the code
says the host is expected.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import has_unpacked_arguments, keyword_argument, literal_value

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

HOST = "host"
ACCELERATOR = "accelerator"
NAMED_LIKE_A_DEVICE = "named like a device"
OTHER_DEVICE = "other device"  # a literal that names neither (``"meta"``): no copy between the two

_MAX_NAME_HOPS = 4


def _of_string(device: str) -> Optional[str]:
    if device.split(":", 1)[0] == catalog.HOST_DEVICE_TYPE:
        return HOST
    if device.startswith(catalog.ACCELERATOR_DEVICE_TYPES):
        return ACCELERATOR
    return OTHER_DEVICE


def device_kind(expr: cst.BaseExpression, context: "FileContext", hops: int = 0) -> Optional[str]:
    """``HOST``, ``ACCELERATOR``, ``OTHER_DEVICE``, ``NAMED_LIKE_A_DEVICE`` (unknown, but
    spelled as a device), or None (unknown)."""
    value = literal_value(expr)
    if isinstance(value, str):
        return _of_string(value)
    expr_type = type(expr)
    if expr_type is cst.Call:
        if context.imports.qualified_name(expr.func) != "torch.device" or not expr.args:
            return None
        named = device_kind(expr.args[0].value, context, hops)
        return named if named is not None else NAMED_LIKE_A_DEVICE
    if expr_type is cst.IfExp:
        body, orelse = device_kind(expr.body, context, hops), device_kind(expr.orelse, context, hops)
        return body if body == orelse else None
    if expr_type is cst.Name:
        assigned = context.arrays.bound_value(expr.value)
        if assigned is not None and hops < _MAX_NAME_HOPS:
            known = device_kind(assigned, context, hops + 1)
            if known is not None:
                return known
        default = context.arrays.parameter_default(expr.value)
        if default is not None and device_kind(default, context, hops + 1) == HOST:
            return None
        return NAMED_LIKE_A_DEVICE if "device" in expr.value.lower() else None
    if expr_type is cst.Attribute:
        return NAMED_LIKE_A_DEVICE if "device" in expr.attr.value.lower() else None
    return None


def allocated_on_host(tensor: cst.BaseExpression, context: "FileContext") -> bool:
    """``tensor`` is made by a torch factory that allocates on the host (``torch.rand(1)``,
    ``torch.zeros(n, device="cpu")``), directly or through the name it was assigned to:
    reading its value copies nothing from a device and waits for none."""
    if type(tensor) is cst.Name:
        assigned = context.arrays.bound_value(tensor.value)
        if assigned is None:
            return False
        tensor = assigned
    if type(tensor) is not cst.Call or has_unpacked_arguments(tensor):
        return False
    record = catalog.lookup(context.imports.qualified_name(tensor.func))
    if record is None or record.library != catalog.TORCH or not record.has(catalog.Flag.HOST_ALLOCATION):
        return False
    device = keyword_argument(tensor, "device")
    return device is None or device_kind(device.value, context) == HOST


def move_destination(call: cst.Call, context: "FileContext") -> Optional[str]:
    """What device a ``.cuda(...)`` or ``.to(...)`` call moves its receiver to, as
    ``device_kind`` answers; None when the call is not such a move or its destination is not
    known (``.to(dtype)``, ``.to(other_tensor)``, ``.to(**kwargs)``).

    ``.cuda()`` moves to an accelerator whatever its arguments; ``.to`` takes its device as
    ``device=`` or as its first positional argument.
    """
    func = call.func
    if type(func) is not cst.Attribute or any(arg.star for arg in call.args):
        return None
    if func.attr.value == "cuda":
        return ACCELERATOR
    if func.attr.value != "to":
        return None
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "device":
            return device_kind(arg.value, context)
    if not call.args or call.args[0].keyword is not None:
        return None
    first = call.args[0].value
    if context.arrays.kind_of(first) is not None:
        return None
    return device_kind(first, context)


def moves_to_a_device(call: cst.Call, context: "FileContext") -> bool:
    """A ``.cuda(...)`` or ``.to(...)`` call whose destination is an accelerator, or named like
    a device when nothing better is known."""
    return move_destination(call, context) in (ACCELERATOR, NAMED_LIKE_A_DEVICE)
