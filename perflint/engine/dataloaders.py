"""Which ``DataLoader(...)`` call a loop iterates, when the code shows it.

Worker processes, pinned memory and persistence are settings of the constructor call, while
their cost shows where the loader is iterated: rules about a loader's settings need to go
from ``for batch in loader:`` back to ``DataLoader(...)``. The evidence is the iterable
itself being the call, or a name whose every assignment reaching the loop is that call;
``enumerate(loader)`` iterates ``loader``. A loader passed in as a parameter, or built by
another function, is unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import libcst as cst

from perflint.engine import catalog

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

DATALOADER = catalog.lookup("torch.utils.data.DataLoader")
_ENUMERATE = catalog.lookup("builtins.enumerate")


def iterated_loader(iterable: cst.BaseExpression, context: "FileContext") -> Optional[cst.Call]:
    """The ``DataLoader(...)`` call whose batches a loop over ``iterable`` receives, or None."""
    if type(iterable) is cst.Call and context.imports.is_builtin(iterable.func, _ENUMERATE.function_name):
        arguments = catalog.bind(iterable, _ENUMERATE)
        inner = arguments.argument("iterable") if arguments is not None else None
        if inner is None:
            return None
        iterable = inner
    if type(iterable) is cst.Name:
        value = context.arrays.bound_value(iterable.value)
        if value is None:
            return None
        iterable = value
    if type(iterable) is cst.Call and is_dataloader(iterable, context):
        return iterable
    return None


def is_dataloader(call: cst.Call, context: "FileContext") -> bool:
    """``call`` constructs torch's ``DataLoader`` (however imported)."""
    return catalog.lookup(context.imports.qualified_name(call.func)) is DATALOADER
