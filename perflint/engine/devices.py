"""Where a tensor lives and where a call moves it: the host, an accelerator, or unknown.

``"cpu"`` and ``torch.device("cpu")`` are the host; ``"cuda:0"``, ``"mps"`` and
``torch.device("cuda")`` an accelerator; a name is what every assignment that reaches it says
(``device = "cpu"`` is the host). Only when nothing is known does the spelling count: a name or
attribute called like a device (``device``, ``self.device``, ``x.device``) is taken to name
one, since code moves tensors to a device named so to reach an accelerator. A parameter whose
default is the host is not taken to name an accelerator: its callers may pass one, but the code
says the host is expected.

A tensor made by a torch factory without ``device=`` lives on the host (``torch.zeros(3)``,
``torch.tensor([1.0])``), and so does ``x.device`` of such a tensor. ``device_move`` reads
every spelling of a move (``.to``, ``.cuda``, ``.cpu``, ``.type``, ``.type_as``) once, for every
rule.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.effects import summarise
from perflint.engine.imports import dotted_name, parameter_names, target_names
from perflint.engine.literals import has_unpacked_arguments, keyword_argument, literal_value, string_value
from perflint.engine.roles import is_collate_name
from perflint.engine.values import MAX_NAME_HOPS, value_of
from perflint.engine.walker import nodes_in_scope, root_name, syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext


class DeviceKind(enum.Enum):
    """What a device expression names."""

    HOST = "host"
    ACCELERATOR = "accelerator"
    NAMED_LIKE_A_DEVICE = "named like a device"  # unknown, but spelled as a device
    OTHER_DEVICE = "other device"  # a literal that names neither (``"meta"``): no copy between the two


# A device type named as a word of its own (``.cuda()``, ``"mps"``, ``torch.xpu``): evidence of
# an accelerator, where the same letters inside a word (``timestamps``) are not.
_NAMES_A_DEVICE_TYPE = re.compile(r"\b(?:" + "|".join(catalog.ACCELERATOR_DEVICE_TYPES) + r")\b")

HOST = DeviceKind.HOST
ACCELERATOR = DeviceKind.ACCELERATOR
NAMED_LIKE_A_DEVICE = DeviceKind.NAMED_LIKE_A_DEVICE
OTHER_DEVICE = DeviceKind.OTHER_DEVICE
# Bases (and metaclasses, as ``metaclass=`` names them) that make a class an abstract base.
_ABSTRACT_BASES = frozenset({"ABC", "abc.ABC", "ABCMeta", "abc.ABCMeta"})
# Destinations a rule about host-to-device copies acts on: known accelerators, and names
# spelled as a device when nothing better is known.
TOWARDS_AN_ACCELERATOR = frozenset({ACCELERATOR, NAMED_LIKE_A_DEVICE})


def _of_string(device: str) -> DeviceKind:
    if device.split(":", 1)[0] == catalog.HOST_DEVICE_TYPE:
        return HOST
    if device.startswith(catalog.ACCELERATOR_DEVICE_TYPES):
        return ACCELERATOR
    return OTHER_DEVICE


def device_kind(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> DeviceKind | None:
    """What device ``expr`` names: ``HOST``, ``ACCELERATOR``, ``OTHER_DEVICE``,
    ``NAMED_LIKE_A_DEVICE`` (unknown, but spelled as a device), or None (unknown). ``hops``:
    names followed so far (see ``values.value_of``)."""
    value = literal_value(expr)
    if isinstance(value, str):
        return _of_string(value)
    if type(expr) is cst.FormattedString:
        # ``f"cuda:{rank}"``: the device type is written out before the index.
        first = expr.parts[0] if expr.parts else None
        if type(first) is cst.FormattedStringText and ":" in first.value:
            return _of_string(first.value)
        return None
    if type(expr) is cst.Call:
        if context.imports.qualified_name(expr.func) != "torch.device" or not expr.args:
            return None
        named = device_kind(expr.args[0].value, context, hops)
        return named if named is not None else NAMED_LIKE_A_DEVICE
    if type(expr) is cst.IfExp:
        body, orelse = device_kind(expr.body, context, hops), device_kind(expr.orelse, context, hops)
        return body if body == orelse else None
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        if assigned is not None:
            known = device_kind(assigned, context, hops + 1)
            if known is not None:
                return known
        # A default is followed as a name's value is, within the same limit: ``device=device``
        # names the module's ``device``, which names itself again inside the function.
        default = context.arrays.parameter_default(expr.value) if hops < MAX_NAME_HOPS else None
        if default is not None and device_kind(default, context, hops + 1) == HOST:
            return None
        return NAMED_LIKE_A_DEVICE if "device" in expr.value.lower() else None
    if type(expr) is cst.Attribute:
        if expr.attr.value == "device" and allocated_on_host(expr.value, context, hops + 1):
            return HOST
        return NAMED_LIKE_A_DEVICE if "device" in expr.attr.value.lower() else None
    return None


def allocated_on_host(tensor: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``tensor`` is made by a torch factory on the host, directly or through the name it was
    assigned to: one that allocates there unless given ``device=`` (``torch.rand(1)``,
    ``torch.zeros(n, device="cpu")``), or ``torch.tensor(data)`` and the legacy constructors of
    data that is not a tensor, or ``torch.as_tensor(data)`` of Python numbers or a NumPy array
    (``torch.as_tensor(0.5)``), without a device; or a call asking for host tensors as its output
    (``tokenizer(text, return_tensors="pt")``). Reading its value copies nothing from a device
    and waits for none. ``hops``: names and devices followed so far, so that a tensor made on its
    own old device (``x = torch.zeros(n, device=x.device)``) ends the search."""
    if hops > MAX_NAME_HOPS:
        return False
    if type(tensor) is cst.Name:
        assigned = value_of(tensor, context, hops)
        if assigned is None:
            return False
        tensor = assigned
    if type(tensor) is not cst.Call or has_unpacked_arguments(tensor):
        return False
    if _builds_host_tensors(tensor):
        return True
    record = catalog.lookup(context.imports.qualified_name(tensor.func))
    if record is None or record.library != catalog.TORCH or record.returns != catalog.TORCH:
        return False
    if not record.has(catalog.Flag.HOST_ALLOCATION) and not _builds_from_host_data(tensor, record, context):
        return False
    device = keyword_argument(tensor, "device")
    return device is None or device_kind(device.value, context, hops + 1) == HOST


def _builds_host_tensors(call: cst.Call) -> bool:
    """``call`` asks for its output as tensors it builds on the host, by a keyword the catalogue
    names (``tokenizer(text, return_tensors="pt")``)."""
    return any(arg.keyword is not None and arg.keyword.value in catalog.HOST_TENSOR_KEYWORDS for arg in call.args)


def may_use_an_accelerator(context: FileContext) -> bool:
    """The code around the current node may keep its tensors on an accelerator: the file names
    a device or a device type (``device``, ``.cuda()``, ``"mps"``) or uses a framework that
    places the model on one (Lightning, Accelerate), and the class around the node does not pin
    its device to the host (every ``self.*device*`` attribute it assigns is the host,
    ``self._device = "cpu"``, and it calls no ``.cuda()``); or the class around the node is a
    torch distribution, built from a network's outputs wherever the network runs. Otherwise,
    CPU-only code: torch makes tensors on the host, and reading one waits for no device."""
    current = context.functions.current_class
    if current is not None and current.built_per_call:
        return True
    source = context.source
    if not any(word in source for word in catalog.ACCELERATOR_EVIDENCE_TEXT) and not _NAMES_A_DEVICE_TYPE.search(
        source
    ):
        return False
    class_frame = context.functions.current_class
    return class_frame is None or not _class_pinned_to_host(class_frame.node, context)


def _class_pinned_to_host(class_node: cst.ClassDef, context: FileContext) -> bool:
    """The class assigns a device attribute of ``self`` and calls no ``.cuda()``, and either
    every such assignment is the host (``self._device = "cpu"``) or the class uses no device
    beyond those assignments: it reads no device attribute of ``self``, no name spelled like a
    device (``model.to(device)``, ``build(cfg, device)``; parameters declared do not count) and
    moves nothing towards an accelerator (pygod's ``ONE`` keeps ``self.device =
    validate_device(gpu)`` and trains host tensors). Its tensors are made and kept on the host."""
    assigned: set[str] = set()
    all_host = True
    used = False
    pending: list[cst.CSTNode] = [class_node.body]
    while pending:
        node = pending.pop()
        if type(node) is cst.Assign:
            assigns_a_device = False
            for target in node.targets:
                attribute = _own_device_attribute(target.target)
                if attribute is not None:
                    assigned.add(attribute)
                    all_host = all_host and device_kind(node.value, context) == HOST
                    assigns_a_device = True
                else:
                    pending.append(target.target)
            if not assigns_a_device:
                pending.append(node.value)
            continue
        if type(node) is cst.Param:
            continue
        if type(node) is cst.Attribute and node.attr.value == "cuda":
            return False
        if _own_device_attribute(node) is not None or (type(node) is cst.Name and "device" in node.value.lower()):
            used = True
        elif type(node) is cst.Call and not used:
            used = moves_to_a_device(node, context)
        pending.extend(syntax_children(node))
    return bool(assigned) and (all_host or (not used and not _is_abstract(class_node)))


def _is_abstract(class_node: cst.ClassDef) -> bool:
    """The class is an abstract base (``ABC`` among its bases, ``metaclass=ABCMeta``, or an
    ``@abstractmethod``): its subclasses supply methods that may use the device it keeps
    (pygod's ``DeepDetector``, whose detectors move their models with ``.to(self.device)``)."""
    for base in (*class_node.bases, *class_node.keywords):
        if dotted_name(base.value) in _ABSTRACT_BASES:
            return True
    for statement in class_node.body.body:
        if type(statement) is cst.FunctionDef and any(
            (dotted_name(decorator.decorator) or "").rpartition(".")[2] == "abstractmethod"
            for decorator in statement.decorators
        ):
            return True
    return False


def _own_device_attribute(node: cst.CSTNode) -> str | None:
    """``device`` of ``self.device`` (any attribute of ``self`` named like a device)."""
    if (
        type(node) is cst.Attribute
        and type(node.value) is cst.Name
        and node.value.value == "self"
        and "device" in node.attr.value.lower()
    ):
        return node.attr.value
    return None


def on_host(tensor: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``tensor`` lives on the host: ``allocated_on_host``, the result of a move there
    (``x.cpu()``, ``x.to("cpu")``, ``torch.unique(x).cpu()``), arithmetic of two such tensors
    (``start + length``), of one and a Python number (``half_sizes * 2 + 1``, ``size - ks``) or of
    one alone (``~mask``), an element-wise operation with one that has a
    dimension or more (``upos.eq(torch.tensor([[i]]))``, ``x + torch.ones(3)``: torch mixes a
    device tensor only with a 0-d host tensor, and raises for any other), a method of one that returns a tensor and moves
    nothing (``torch.Tensor(losses).mean()``), a torch function of one without ``device=``
    (``torch.kthvalue(x, k)``) or a part of such a result (``.values``), directly or through the
    name it was assigned to; a part of one (``perm[:h]``), or an item of one through a loop over it
    (``for idx in perm``).
    ``hops``: names followed so far (see ``values.value_of``)."""
    if allocated_on_host(tensor, context):
        return True
    if type(tensor) is cst.Name:
        assigned = value_of(tensor, context, hops)
        if assigned is None:
            # ``for idx in torch.randperm(n)``: an item of a tensor is where the tensor is.
            iterated = context.arrays.items_source(tensor.value) if hops < MAX_NAME_HOPS else None
            if iterated is not None:
                return on_host(iterated, context, hops + 1)
            return hops == 0 and moved_to_an_accelerator_later(tensor, context)
        tensor = assigned
        hops += 1
    if type(tensor) is cst.BinaryOperation:
        if _host_tensor_with_dimensions(tensor.left, context) or _host_tensor_with_dimensions(tensor.right, context):
            return True
        left, right = tensor.left, tensor.right
        if _python_number(left, context, hops):
            return on_host(right, context, hops)
        if _python_number(right, context, hops):
            return on_host(left, context, hops)
        return on_host(left, context, hops) and on_host(right, context, hops)
    if type(tensor) is cst.Attribute and tensor.attr.value in catalog.TUPLE_ITEM_NAMES:
        # ``torch.kthvalue(x, k).values``: a part of a result where the result is.
        return on_host(tensor.value, context, hops)
    if type(tensor) is cst.Attribute:
        # ``tokenizer(text, return_tensors="pt").input_ids``: a field of tensors made on the host.
        owner = tensor.value
        if type(owner) is cst.Name and hops < MAX_NAME_HOPS:
            owner = value_of(owner, context, hops) or owner
        return type(owner) is cst.Call and _builds_host_tensors(owner)
    if type(tensor) is cst.UnaryOperation:
        return on_host(tensor.expression, context, hops)
    if type(tensor) is cst.Subscript:
        # ``perm[:h]``: a part of a tensor is where the tensor is.
        return on_host(tensor.value, context, hops)
    if type(tensor) is not cst.Call:
        return False
    if move_destination(tensor, context) == HOST:
        return True
    if _torch_function_of_a_host_tensor(tensor, context, hops):
        return True
    func = tensor.func
    if (
        type(func) is cst.Attribute
        and func.attr.value in catalog.ELEMENTWISE_BINARY_METHODS
        and any(arg.keyword is None and _host_tensor_with_dimensions(arg.value, context) for arg in tensor.args)
    ):
        return True
    return (
        type(func) is cst.Attribute
        and _computed_where_its_receiver_is(tensor, context)
        and on_host(func.value, context, hops)
    )


def moved_to_an_accelerator_later(name: cst.Name, context: FileContext) -> bool:
    """``name`` is a parameter the function around it moves to an accelerator only after this
    read: a later statement of the same block, outside any loop of the function, rebinds it to a
    move of itself (``batch_x[perm]`` above ``batch_x = batch_x.float().to(self.device)``), and
    no statement between binds it. The caller hands the function host data, which the function
    itself then moves: until that move the name is on the host."""
    frame = context.function
    if frame is None or type(frame.node) is not cst.FunctionDef:
        return False
    if name.value not in set(parameter_names(frame.node.params)):
        return False
    path = context.path_to(name)
    if frame.node not in path:
        return False
    inside = path[path.index(frame.node) + 1 :]
    if any(type(node) in (cst.For, cst.While) for node in inside):
        return False
    block = next((node for node in reversed(inside) if type(node) is cst.IndentedBlock), None)
    if block is None:
        return False
    statement = next((node for node in inside[inside.index(block) + 1 :] if node in block.body), None)
    if statement is None:
        return False
    for later in block.body[block.body.index(statement) + 1 :]:
        if name.value in summarise([later], context.imports).rebound:
            return _moves_one_of(later, {name.value}, context)
    return False


def placed_by_callers(tensor: cst.BaseExpression, context: FileContext) -> bool:
    """``tensor`` is a tensor parameter of the function around it (annotated ``torch.Tensor``,
    or known to the engine as one), as passed or cast where it lives (``x_ref.to(torch.float32)``,
    ``x.float()``, also through the name it was assigned to), and the function moves that
    parameter to no device: where it lives is its callers' choice, and a caller may hand over a
    tensor already on the device (alibi_detect's detectors make their inputs with
    ``torch.as_tensor(x, device=self.device)`` before ``fit`` builds a loader over them)."""
    frame = context.function
    if frame is None or type(frame.node) is not cst.FunctionDef:
        return False
    name = _cast_parameter(tensor, context)
    if name is None or name not in set(parameter_names(frame.node.params)):
        return False
    if context.arrays.kind_of(cst.Name(name)) != catalog.TORCH:
        return False
    for node in nodes_in_scope(frame.node.body):
        if type(node) is cst.Call:
            move = device_move(node, context)
            if move is not None and not move.stays and root_name(move.receiver) == name:
                return False
    return True


def _cast_parameter(tensor: cst.BaseExpression, context: FileContext, hops: int = 0) -> str | None:
    """The name ``tensor`` is, or casts where it lives (``x.to(torch.float32)``, ``x.float()``),
    followed through the names it was assigned to: a parameter's name when it is one."""
    while type(tensor) is cst.Call and type(tensor.func) is cst.Attribute:
        # A cast or a copy where the tensor lives (``.float()``, ``.detach()``,
        # ``.to(torch.float32)``); not a move.
        move = device_move(tensor, context)
        keeps_its_place = move.stays if move is not None else tensor.func.attr.value in catalog.SHAPE_KEEPING_METHODS
        if not keeps_its_place:
            return None
        tensor = tensor.func.value
    if type(tensor) is not cst.Name:
        return None
    assigned = value_of(tensor, context, hops) if hops < MAX_NAME_HOPS else None
    if assigned is None or assigned is tensor:
        return tensor.value
    inner = _cast_parameter(assigned, context, hops + 1)
    return inner if inner == tensor.value else None


def built_by_a_host_library(value: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``value`` is made by a library that computes only in host memory, so it was never on a
    device: a known NumPy array or pandas object, the result of a NumPy, SciPy or pandas call, of
    a method torch tensors lack (``m.astype(np.float32)``, ``m.tocoo()``), a part of one
    (``m.row``, ``a[0]``), directly, through the name it was assigned to, or through the one value
    its class assigns ``self.<attribute>`` (a SciPy matrix built in ``__init__``)."""
    if context.arrays.kind_of(value) in (catalog.NUMPY, catalog.PANDAS):
        return True
    if type(value) is cst.Name:
        assigned = value_of(value, context, hops)
        return assigned is not None and built_by_a_host_library(assigned, context, hops + 1)
    if type(value) is cst.Attribute:
        if type(value.value) is cst.Name and value.value.value == "self":
            assigned = context.functions.attribute_value(value.attr.value) if hops < MAX_NAME_HOPS else None
            return assigned is not None and built_by_a_host_library(assigned, context, hops + 1)
        return built_by_a_host_library(value.value, context, hops)
    if type(value) is cst.Subscript:
        return built_by_a_host_library(value.value, context, hops)
    if type(value) is not cst.Call:
        return False
    qualified = context.imports.qualified_name(value.func)
    if qualified is not None:
        return catalog.library_of(qualified) in catalog.HOST_LIBRARIES
    func = value.func
    return type(func) is cst.Attribute and func.attr.value in catalog.HOST_ONLY_METHODS


def _python_number(expr: cst.BaseExpression, context: FileContext, hops: int) -> bool:
    """``expr`` is a Python number, never a tensor: a number written out (``2``, ``-1``), a call
    of the builtin ``int``, ``float`` or ``len``, arithmetic of such numbers, directly or
    through the name it was assigned to. Arithmetic of a tensor with one stays where the
    tensor is."""
    if hops > MAX_NAME_HOPS:
        return False
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        return assigned is not None and _python_number(assigned, context, hops + 1)
    if type(expr) is cst.BinaryOperation:
        return _python_number(expr.left, context, hops) and _python_number(expr.right, context, hops)
    if type(expr) is cst.Call:
        func = expr.func
        return type(func) is cst.Name and any(
            context.imports.is_builtin(func, builtin) for builtin in catalog.NUMBER_BUILTINS
        )
    return isinstance(literal_value(expr), (int, float, complex))


def _torch_function_of_a_host_tensor(call: cst.Call, context: FileContext, hops: int) -> bool:
    """``torch.kthvalue(x, k)`` with ``x`` on the host: a torch function computes where its first
    tensor argument lives unless told a device (``device=``)."""
    name = context.imports.qualified_name(call.func)
    if name is None or not name.startswith("torch.") or not call.args:
        return False
    first = call.args[0]
    if (
        first.keyword is not None
        or first.star
        or any(arg.keyword is not None and arg.keyword.value == "device" for arg in call.args)
    ):
        return False
    return on_host(first.value, context, hops)


def _computed_where_its_receiver_is(call: cst.Call, context: FileContext) -> bool:
    """``call`` is a tensor method that returns a tensor on its receiver's device: a reduction or
    an element-wise method (``x.mean()``, ``x.abs()``), not a move (``x.to(d)``, ``x.cuda()``)."""
    func = call.func
    if type(func) is not cst.Attribute or context.imports.qualified_name(func) is not None:
        return False
    method = catalog.method(func.attr.value)
    if method is None or method.returns != catalog.SAME_LIBRARY:
        return False
    return func.attr.value not in _MOVE_METHODS


def _builds_from_host_data(call: cst.Call, record: catalog.Function, context: FileContext) -> bool:
    """``torch.tensor(data)``, ``torch.FloatTensor(data)``: a copy of Python data or a NumPy
    array, made on the host. (Of a tensor, the copy stays on that tensor's device.)
    ``torch.as_tensor(data)`` returns a tensor as it is, wherever it lives: only Python numbers
    or a NumPy array, as the code shows them, make it a host tensor."""
    if not record.has(catalog.Flag.CONVERTS_SEQUENCES):
        return False
    if record.has(catalog.Flag.COPIES_DATA):
        return not any(arg.keyword is None and context.arrays.kind_of(arg.value) == catalog.TORCH for arg in call.args)
    data = call.args[0] if call.args and record.shares_data_with is not None else None
    return data is not None and data.keyword is None and _host_data(data.value, context)


def _host_data(data: cst.BaseExpression, context: FileContext) -> bool:
    """``data`` is Python numbers written out (``0.5``, ``[[1, 2], [3, 4]]``) or made by a host
    library (``np.stack(rows)``), directly or through the name it was assigned to."""
    if type(data) is cst.Name:
        data = value_of(data, context) or data
    if isinstance(data, (cst.List, cst.Tuple)):
        return all(type(element) is cst.Element and _host_data(element.value, context) for element in data.elements)
    return isinstance(literal_value(data), (int, float, complex)) or built_by_a_host_library(data, context)


def _host_tensor_with_dimensions(tensor: cst.BaseExpression, context: FileContext) -> bool:
    """``tensor`` is made on the host from a list, tuple or shape written out with at least one
    item (``torch.tensor([[i]])``, ``torch.ones((3,))``): it has a dimension or more, so no device
    tensor can meet it in an element-wise operation."""
    if type(tensor) is cst.Name:
        tensor = value_of(tensor, context) or tensor
    if type(tensor) is not cst.Call or not tensor.args or tensor.args[0].keyword is not None:
        return False
    first = tensor.args[0].value
    return isinstance(first, (cst.List, cst.Tuple)) and bool(first.elements) and allocated_on_host(tensor, context)


def host_factory(tensor: cst.BaseExpression, context: FileContext, hops: int = 0) -> cst.Call | None:
    """The torch factory that makes ``tensor`` on the host though it could make it on a device
    (``torch.arange(n)``, ``torch.ones(n, m, dtype=torch.bool)``: no ``device=``, no
    ``generator=`` that pins it to the host, no ``pin_memory=``, no ``**kwargs``), directly,
    through the name it was assigned to, or through a method computed where its receiver is or
    arithmetic with it (``torch.arange(n).unsqueeze(-1)``, ``rows + start``). Not
    ``torch.tensor(data)``, which copies host data whatever its device. None otherwise."""
    if type(tensor) is cst.Name:
        if hops >= MAX_NAME_HOPS:
            return None
        assigned = value_of(tensor, context, hops)
        return host_factory(assigned, context, hops + 1) if assigned is not None else None
    if type(tensor) is cst.BinaryOperation:
        return host_factory(tensor.left, context, hops) or host_factory(tensor.right, context, hops)
    if type(tensor) is cst.Comparison:
        return host_factory(tensor.left, context, hops)
    if type(tensor) is not cst.Call:
        return None
    func = tensor.func
    if type(func) is cst.Attribute and _computed_where_its_receiver_is(tensor, context):
        return host_factory(func.value, context, hops)
    record = catalog.lookup(context.imports.qualified_name(func))
    if (
        record is None
        or record.library != catalog.TORCH
        or not record.has(catalog.Flag.HOST_ALLOCATION)
        or any(arg.star == "**" for arg in tensor.args)
        or keyword_argument(tensor, "device") is not None
        or keyword_argument(tensor, "pin_memory") is not None
        or pinned_to_host(tensor)
    ):
        return None
    return tensor


def host_factory_returned(call: cst.Call, context: FileContext) -> cst.Call | None:
    """The torch factory (see ``host_factory``) whose host tensor every ``return`` of the one
    function of this file that ``call`` calls gives back, written in the return itself
    (``return (torch.rand(*shape) > 0.5).float() * 2 - 1``); None otherwise."""
    name = dotted_name(call.func)
    definition = context.functions.definition(name) if name is not None else None
    if definition is None:
        return None
    found: list[cst.Call | None] = []
    for node in nodes_in_scope(definition.body):
        if type(node) is cst.Return:
            # Names are not followed: they are the callee's, not the caller's.
            found.append(host_factory(node.value, context, MAX_NAME_HOPS) if node.value is not None else None)
    return found[0] if len(found) == 1 else None


def pinned_to_host(factory: cst.Call) -> bool:
    """A random factory given ``generator=`` and no ``device=`` draws on the host, where its
    generator is: torch refuses a generator of another device than the tensor's, so it cannot
    be told to draw on an accelerator without also changing the generator."""
    return keyword_argument(factory, "generator") is not None and keyword_argument(factory, "device") is None


@dataclass(frozen=True)
class DeviceMove:
    """A call that may move its receiver to another device, read once for every rule.

    ``.to(other)`` and ``.type_as(other)`` take ``other``'s device (and dtype): a move to
    wherever ``other`` lives. That is the host when ``other`` is known to be made there, and
    otherwise taken as a device named so (``NAMED_LIKE_A_DEVICE``): code matches a tensor to
    another to reach the device the model's tensors are on, the same evidence as moving to a
    name spelled ``device``. A cast keeps the receiver where it is: ``.to(dtype)``,
    ``.type(torch.float16)``, and ``.to(x.device)``, ``.to(x)`` or ``.to(device=x.device,
    dtype=…)`` of ``x`` itself (``stays``).
    """

    call: cst.Call
    method: str  # "to", "cuda", "cpu", "type" or "type_as"
    receiver: cst.BaseExpression
    device: cst.BaseExpression | None  # as written (``device``, ``"cuda:1"``, the ``1`` of ``.cuda(1)``)
    destination: DeviceKind | None  # None: unknown, or a cast (see ``stays``)
    dtype: cst.BaseExpression | None = None
    non_blocking: cst.BaseExpression | None = None
    like: cst.BaseExpression | None = None  # ``other`` of ``.to(other)`` and ``.type_as(other)``
    extras: tuple[str, ...] = ()  # other arguments given: ``copy``, ``memory_format``
    stays: bool = False  # the result is on the receiver's device

    @property
    def towards_an_accelerator(self) -> bool:
        """The destination is an accelerator, or named like a device when nothing better is known."""
        return self.destination in TOWARDS_AN_ACCELERATOR


_MOVE_METHODS = frozenset(form.split()[0] for form in catalog.MOVE_SIGNATURES)
# What a move may be given besides its destination, dtype and ``non_blocking``.
_EXTRAS = ("copy", "memory_format")


def _bound(call: cst.Call, form: str) -> dict[str, cst.BaseExpression] | None:
    """The call's arguments by parameter name in the catalogue's signature of ``form``; None
    when they do not fit it."""
    signature = catalog.MOVE_SIGNATURES[form]
    bound = catalog.bind(call, signature) if signature is not None else None
    return bound.given if bound is not None else None


def device_move(call: cst.Call, context: FileContext) -> DeviceMove | None:
    """The move ``call`` makes, or None when it is not a call of ``.to``, ``.cuda``, ``.cpu``,
    ``.type`` or ``.type_as``, unpacks ``*args``/``**kwargs`` (anything may hide there), or
    passes arguments those methods do not take."""
    func = call.func
    if type(func) is not cst.Attribute or func.attr.value not in _MOVE_METHODS or has_unpacked_arguments(call):
        return None
    method, receiver = func.attr.value, func.value
    if method == "type":
        return _type(call, receiver, context)
    form = _to_form(call, context) if method == "to" else method
    bound = _bound(call, form)
    if bound is None:
        return None
    extras = tuple(name for name in bound if name in _EXTRAS)
    non_blocking = bound.get("non_blocking")
    if method == "cpu":
        return DeviceMove(call, method, receiver, None, HOST, extras=extras)
    if method == "cuda":
        return DeviceMove(
            call, method, receiver, bound.get("device"), ACCELERATOR, non_blocking=non_blocking, extras=extras
        )
    if "other" in bound:
        return _like(call, method, receiver, bound["other"], non_blocking, extras, context)
    device, dtype = bound.get("device"), bound.get("dtype")
    if device is None or _device_of(device, receiver):
        return DeviceMove(call, method, receiver, device, None, dtype, non_blocking, extras=extras, stays=True)
    return DeviceMove(call, method, receiver, device, device_kind(device, context), dtype, non_blocking, extras=extras)


def _to_form(call: cst.Call, context: FileContext) -> str:
    """Which of ``to(device, dtype, …)``, ``to(dtype, …)`` and ``to(other, …)`` a call uses,
    by its first positional argument (its form in ``catalog.MOVE_SIGNATURES``)."""
    first = next((arg.value for arg in call.args if arg.keyword is None), None)
    if first is None:
        return "to"
    if context.arrays.kind_of(first) == catalog.TORCH:
        return "to other"
    return "to dtype" if _names_a_dtype(first, context) else "to"


def _names_a_dtype(expr: cst.BaseExpression, context: FileContext) -> bool:
    """``torch.float16``, a Python type torch takes as one, or a name or attribute spelled as a
    dtype (``dtype``, ``self.dtype``, ``x.dtype``, ``weight_dtype``)."""
    if type(expr) is cst.Name and expr.value in catalog.PYTHON_TYPES_AS_DTYPES:
        return context.imports.is_builtin(expr, expr.value)
    qualified = context.imports.qualified_name(expr)
    if (
        qualified is not None
        and qualified.count(".") == 1
        and qualified.startswith("torch.")
        and type(expr) is not cst.Call
    ):
        return True
    name = dotted_name(expr)
    return name is not None and name.rsplit(".", 1)[-1].lower().endswith("dtype")


def _device_of(device: cst.BaseExpression, tensor: cst.BaseExpression) -> bool:
    """``device`` is ``tensor.device`` (``x.to(x.device)`` stays where it is)."""
    if type(device) is not cst.Attribute or device.attr.value != "device":
        return False
    name = dotted_name(device.value)
    return name is not None and name == dotted_name(tensor)


def _like(
    call: cst.Call,
    method: str,
    receiver: cst.BaseExpression,
    other: cst.BaseExpression,
    non_blocking: cst.BaseExpression | None,
    extras: tuple[str, ...],
    context: FileContext,
) -> DeviceMove:
    dtype = cst.Attribute(other, cst.Name("dtype"))
    name = dotted_name(other)
    if name is not None and name == dotted_name(receiver):
        return DeviceMove(call, method, receiver, None, None, dtype, non_blocking, other, extras, stays=True)
    destination = HOST if allocated_on_host(other, context) else NAMED_LIKE_A_DEVICE
    return DeviceMove(
        call,
        method,
        receiver,
        cst.Attribute(other, cst.Name("device")),
        destination,
        dtype,
        non_blocking,
        other,
        extras,
    )


def _type(call: cst.Call, receiver: cst.BaseExpression, context: FileContext) -> DeviceMove | None:
    """``.type(t)``: a cast, or with a legacy tensor type a move to that type's device
    (``"torch.cuda.FloatTensor"``, ``torch.FloatTensor``); without an argument it returns the
    type's name and moves nothing."""
    bound = _bound(call, "type")
    if bound is None or "dtype" not in bound:
        return None
    given = bound["dtype"]
    named = string_value(given)
    if not isinstance(named, str):
        named = context.imports.qualified_name(given)
    non_blocking = bound.get("non_blocking")
    if named is not None and named.startswith("torch.cuda.") and named.endswith("Tensor"):
        return DeviceMove(call, "type", receiver, None, ACCELERATOR, given, non_blocking)
    if named is not None and named in catalog.LEGACY_CONSTRUCTOR_CONVERSIONS:
        return DeviceMove(call, "type", receiver, None, HOST, given, non_blocking)
    return DeviceMove(call, "type", receiver, None, None, given, non_blocking, stays=True)


def move_destination(call: cst.Call, context: FileContext) -> DeviceKind | None:
    """Where ``call`` moves its receiver, as ``device_kind`` answers; None when the call is not
    a move, only casts, or its destination is not known."""
    move = device_move(call, context)
    return move.destination if move is not None else None


def moves_to_a_device(call: cst.Call, context: FileContext) -> bool:
    """A move whose destination is an accelerator, or named like a device when nothing better
    is known."""
    move = device_move(call, context)
    return move is not None and move.towards_an_accelerator


def function_reads_host_tensors(context: FileContext) -> bool:
    """The function around the current node moves nothing itself, and converts a tensor to
    NumPy with ``.numpy()`` without first moving it to the host (``.cpu()``), which fails for a
    tensor on a device, or converts between PIL images and tensors (torchvision's
    ``pil_to_tensor``), or its callers move what it returns (``results_moved_by_callers``): its
    tensors are host tensors (an audio transform that ends in ``feat.numpy()``, an image
    transform of a data pipeline, an augmentation of the loader's host batch)."""
    frame = context.function
    while frame is not None and frame.parent is not None:
        frame = frame.parent
    if frame is None:
        return False
    reads_host_memory = False
    pending: list[cst.CSTNode] = [frame.node]
    while pending:
        node = pending.pop()
        if type(node) is cst.Call:
            if device_move(node, context) is not None:
                return False
            func = node.func
            if context.imports.qualified_name(func) in catalog.PIL_IMAGE_CONVERSIONS:
                reads_host_memory = True
            elif type(func) is cst.Attribute and func.attr.value == "numpy" and not node.args:
                reads_host_memory = reads_host_memory or _read_where_it_lives(func.value, context)
        pending.extend(syntax_children(node))
    return reads_host_memory or (type(frame.node) is cst.FunctionDef and results_moved_by_callers(frame.node, context))


def results_moved_by_callers(function: cst.FunctionDef, context: FileContext) -> bool:
    """The file calls ``function`` (by its name, or as ``self.<name>`` for a method), and every
    call is assigned to names one of which a later statement of the same block moves to an
    accelerator (pygod's ``x_aug, edge_index_aug, label_aug = self._data_augmentation(data)``
    then ``x_aug = x_aug.to(self.device)``): the callers move what it makes, so it makes it on
    the host."""
    name = function.name.value
    calls = 0
    pending: list[cst.CSTNode] = [context.module]
    while pending:
        block = pending.pop()
        if isinstance(block, (cst.BaseExpression, cst.SimpleStatementLine)):
            continue
        pending.extend(syntax_children(block))
        if type(block) is not cst.IndentedBlock and type(block) is not cst.Module:
            continue
        statements = list(block.body)
        for index, statement in enumerate(statements):
            call = _call_assigned(statement, name)
            if call is None:
                continue
            calls += 1
            targets = {target for assigned in call[1] for target in target_names(assigned.target)}
            if not any(_moves_one_of(later, targets, context) for later in statements[index + 1 :]):
                return False
    return calls > 0


def in_a_collate_function(context: FileContext) -> bool:
    """The current node is in a collate function (``roles.is_collate_name``), or a function
    nested in one. A collate function merges the samples a dataset returns, which live in host
    memory, and runs in the loader's worker processes, where CUDA is not used: its tensors were
    never on a device, and the batch is moved to one after it returns."""
    frame = context.function
    while frame is not None:
        if is_collate_name(frame.name):
            return True
        frame = frame.parent
    return False


def _read_where_it_lives(tensor: cst.BaseExpression, context: FileContext) -> bool:
    """``tensor`` (the receiver of ``.numpy()``) is read in place: not the result of a call that
    moves it (``.cpu()``), through ``.detach()``. NumPy arrays have no ``.numpy()``: a receiver
    whose kind is unknown is a tensor."""
    while type(tensor) is cst.Call and type(tensor.func) is cst.Attribute and tensor.func.attr.value == "detach":
        tensor = tensor.func.value
    return context.arrays.kind_of(tensor) in (catalog.TORCH, None)


def _call_assigned(statement: cst.CSTNode, name: str) -> tuple[cst.Call, Sequence[cst.AssignTarget]] | None:
    """``a, b = f(x)`` or ``a = self.f(x)`` calling the function ``name``: the call and targets."""
    if type(statement) is not cst.SimpleStatementLine or type(statement.body[0]) is not cst.Assign:
        return None
    assign = statement.body[0]
    value = assign.value
    if type(value) is not cst.Call:
        return None
    func = value.func
    if (type(func) is cst.Name and func.value == name) or (
        type(func) is cst.Attribute
        and func.attr.value == name
        and type(func.value) is cst.Name
        and func.value.value == "self"
    ):
        return value, assign.targets
    return None


def _moves_one_of(statement: cst.CSTNode, names: set[str], context: FileContext) -> bool:
    """``statement`` is ``x = x.to(device)`` (any move towards an accelerator) for ``x`` in
    ``names``."""
    if type(statement) is not cst.SimpleStatementLine or type(statement.body[0]) is not cst.Assign:
        return False
    value = statement.body[0].value
    while type(value) is cst.Call and type(value.func) is cst.Attribute:
        move = device_move(value, context)
        if move is not None:
            return move.towards_an_accelerator and root_name(move.receiver) in names
        value = value.func.value
    return False
