"""Which ``DataLoader(...)`` call a loop iterates, and whether its batches go to a device.

Worker processes, pinned memory and persistence are settings of the constructor call, while
their cost shows where the loader is iterated: rules about a loader's settings need to go
from ``for batch in loader:`` back to ``DataLoader(...)``. The evidence is the iterable
itself being the call, or a name whose every assignment reaching the loop is that call;
``enumerate(loader)`` iterates ``loader``. A loader passed in as a parameter, or built by
another function, is unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import device_move
from perflint.engine.imports import dotted_name
from perflint.engine.values import MAX_NAME_HOPS, value_of
from perflint.engine.walker import names_in, syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

DATALOADER = catalog.listed("torch.utils.data.DataLoader")
_ENUMERATE = catalog.listed("builtins.enumerate")


def iterated_loader(iterable: cst.BaseExpression | None, context: FileContext) -> cst.Call | None:
    """The ``DataLoader(...)`` call whose batches a loop over ``iterable`` receives, or None:
    the call itself, a name bound to it, or a wrapper that yields its items
    (``enumerate(loader)``, ``tqdm(loader)``: ``Flag.WRAPS_ITERABLE``), in any nesting.
    Names are followed as far as ``values.MAX_NAME_HOPS``; wrappers end with the syntax."""
    hops = 0
    while iterable is not None:
        if type(iterable) is cst.Name:
            iterable = value_of(iterable, context, hops)
            hops += 1
            continue
        if type(iterable) is not cst.Call:
            return None
        if is_dataloader(iterable, context):
            return iterable
        record = _record_of(iterable, context)
        if record is None or not record.has(catalog.Flag.WRAPS_ITERABLE):
            return None
        arguments = catalog.bind(iterable, record)
        iterable = arguments.argument(record.signature.positional[0]) if arguments is not None else None
    return None


def _record_of(call: cst.Call, context: FileContext) -> catalog.Function | None:
    qualified = context.imports.qualified_name(call.func)
    if qualified is None and type(call.func) is cst.Name and context.imports.is_builtin(call.func, call.func.value):
        qualified = f"builtins.{call.func.value}"
    return catalog.lookup(qualified)


def is_dataloader(call: cst.Call, context: FileContext) -> bool:
    """``call`` constructs torch's ``DataLoader`` (however imported)."""
    return catalog.lookup(context.imports.qualified_name(call.func)) is DATALOADER


def batches_reach_device(loader: cst.Call, scope: cst.CSTNode, context: FileContext) -> bool:
    """A loop in ``scope`` (the function or module around ``loader``) iterates ``loader`` and
    moves what it yields to an accelerator: ``.cuda()``, or ``.to(d)`` where ``d`` names one
    or is spelled like a device, on an expression of the loop's variables.

    Read ahead of the walk, from the syntax alone: names bound to the loader are those
    assigned the call itself anywhere in ``scope``.
    """
    nodes = _descendants(scope)
    names = {
        target.target.value
        for node in nodes
        if type(node) is cst.Assign and node.value is loader
        for target in node.targets
        if type(target.target) is cst.Name
    }
    for node in nodes:
        if type(node) is not cst.For or not _iterates(node.iter, loader, names, context):
            continue
        targets = names_in(node.target)
        for inner in _descendants(node.body):
            if type(inner) is not cst.Call or type(inner.func) is not cst.Attribute:
                continue
            if not names_in(inner.func.value) & targets:
                continue
            move = device_move(inner, context)
            if move is not None and move.towards_an_accelerator:
                return True
    return False


def dataset_holds_device_tensors(dataset: cst.BaseExpression, scope: cst.CSTNode, context: FileContext) -> bool:
    """The dataset ``dataset`` is built, in ``scope`` (the function or module around the
    loader), from a value that scope moves to an accelerator on some path: a name among the
    dataset's arguments (or among the values assigned to the name the dataset is) that is
    assigned a move towards an accelerator (``data = torch.tensor(x).to(f"cuda:{gpu}")``).
    Worker processes cannot use such tensors: forked workers cannot initialise CUDA.

    Read from the syntax alone, every assignment in ``scope`` counted: a move on any path is
    enough, since the loader serves that path too."""
    nodes = _descendants(scope)
    assignments: dict[str, list[cst.BaseExpression]] = {}
    for node in nodes:
        if type(node) is cst.Assign:
            for target in node.targets:
                if type(target.target) is cst.Name:
                    assignments.setdefault(target.target.value, []).append(node.value)
    sources = set(names_in(dataset))
    if type(dataset) is cst.Name:
        for value in assignments.get(dataset.value, ()):
            sources |= names_in(value)
    return any(
        type(inner) is cst.Call and (move := device_move(inner, context)) is not None and move.towards_an_accelerator
        for name in sources
        for value in assignments.get(name, ())
        for inner in (value, *_descendants(value))
    )


def per_item_work(dataset: cst.BaseExpression, context: FileContext) -> str | None:
    """What the dataset ``dataset`` does for every item it returns, in words, when the code
    shows it doing real work there: a dataset class of a library that reads its items from files
    (``torchvision.datasets.MNIST(...)``: ``catalog.FILE_DATASET_NAMESPACES``), a dataset given a
    per-item transform (``transform=``), or a class of this file whose ``__getitem__`` calls
    something other than a conversion or view of what it holds (``Image.open(path)``,
    ``self.augment(x)``; ``catalog.ITEM_CONVERSIONS``). None otherwise: a parameter, an array,
    a thin wrapper that indexes arrays it holds, a class of another file. Names are followed to
    their one value (``values.MAX_NAME_HOPS``)."""
    for hops in range(MAX_NAME_HOPS + 1):
        if type(dataset) is not cst.Name:
            break
        value = value_of(dataset, context, hops)
        if value is None:
            return None
        dataset = value
    if type(dataset) is not cst.Call:
        return None
    for arg in dataset.args:
        if arg.keyword is not None and arg.keyword.value in catalog.PER_ITEM_TRANSFORM_KEYWORDS:
            if type(arg.value) is not cst.Name or arg.value.value != "None":
                return f"applies `{arg.keyword.value}=` to every item"
    qualified = context.imports.qualified_name(dataset.func)
    if qualified is not None and qualified.startswith(catalog.FILE_DATASET_NAMESPACES):
        return "reads every item from files"
    record = catalog.lookup(qualified)
    if record is not None and record.shares_data_with is not None:
        # ``Subset(images, indices)``: the items, and their work, are the source's.
        arguments = catalog.bind(dataset, record)
        source = arguments.argument(record.shares_data_with) if arguments is not None else None
        return per_item_work(source, context) if source is not None else None
    if type(dataset.func) is not cst.Name:
        return None
    methods = _own_methods(dataset.func.value, context)
    getitem = methods.pop("__getitem__", None) if methods is not None else None
    if getitem is None:
        return None
    work = _work_call(getitem, context, methods)
    return None if work is None else f"calls `{work}` for every item in `{dataset.func.value}.__getitem__`"


def _own_methods(class_name: str, context: FileContext) -> dict[str, cst.FunctionDef] | None:
    """The methods of the class ``class_name`` defined at this file's top level, by name."""
    for statement in context.module.body:
        if type(statement) is cst.ClassDef and statement.name.value == class_name:
            return {item.name.value: item for item in statement.body.body if type(item) is cst.FunctionDef}
    return None


def _work_call(
    function: cst.FunctionDef, context: FileContext, methods: dict[str, cst.FunctionDef] | None = None
) -> str | None:
    """The first call in ``function``, in source order (nested functions aside), that is no
    conversion or view of an item (``catalog.ITEM_CONVERSIONS``, ``ITEM_CONVERSION_METHODS``), no
    builtin but ``open``, no constant fill (``torch.ones(n)``) and no context manager, named by its callee (``Image.open`` of
    ``Image.open(path).convert("RGB")``); a call of one of the class's own ``methods``
    (``self._load(i)``) is read in its place, once."""
    methods = dict(methods or {})
    method_of_a_result: str | None = None
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if type(node) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        if type(node) is cst.WithItem:
            item = node.item
            pending.extend(reversed(list(syntax_children(item.func if type(item) is cst.Call else item))))
            continue
        if type(node) is cst.Call and not _converts_an_item(node, context):
            name = dotted_name(node.func)
            own = name.removeprefix("self.") if name is not None and name.startswith("self.") else None
            if own is not None and own in methods:
                method = methods.pop(own)
                found = _work_call(method, context, methods)
                if found is not None:
                    return found
            elif name is not None:
                return name
            elif method_of_a_result is None and type(node.func) is cst.Attribute:
                method_of_a_result = f".{node.func.attr.value}"
        pending.extend(reversed(list(syntax_children(node))))
    return method_of_a_result


def _converts_an_item(call: cst.Call, context: FileContext) -> bool:
    func = call.func
    if type(func) is cst.Name and context.imports.is_builtin(func, func.value):
        return func.value != "open"
    qualified = context.imports.qualified_name(func)
    if qualified in catalog.ITEM_CONVERSIONS:
        return True
    record = catalog.lookup(qualified)
    if record is not None and record.has(catalog.Flag.FILLS_ZEROS_OR_ONES):
        return True  # ``torch.ones(n)``: a constant, no work on the item
    return qualified is None and type(func) is cst.Attribute and func.attr.value in catalog.ITEM_CONVERSION_METHODS


def _iterates(iterable: cst.BaseExpression, loader: cst.Call, names: set[str], context: FileContext) -> bool:
    if type(iterable) is cst.Call and context.imports.is_builtin(iterable.func, _ENUMERATE.function_name):
        if not iterable.args:
            return False
        iterable = iterable.args[0].value
    return iterable is loader or (type(iterable) is cst.Name and iterable.value in names)


def _descendants(node: cst.CSTNode) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []
    stack = list(syntax_children(node))
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(syntax_children(current))
    return found
