"""Following a name to the value it holds: one function and one limit for every question.

A question about a name (is ``device`` the host? is ``loader`` a DataLoader? is ``x`` made by
a factory?) asks what expression the name was last bound to (``ArrayKnowledge.bound_value``)
and may ask again about a name in that expression. Each such step is a hop. The limit is
there because nothing else bounds a chain that turns back on itself (``d = torch.device(d)``
binds ``d`` to an expression that names ``d``), and it is the same everywhere, so that two
rules asked about the same name reach the same value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine.walker import mentions

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

MAX_NAME_HOPS = 4
"""Names followed in one question at most. Real code rarely renames a value more than twice
before using it (``device = args.device``, ``dev = device``); four leaves room for that while
keeping a question's work bounded."""


def value_of(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> cst.BaseExpression | None:
    """The expression the name ``expr`` was last bound to, when ``expr`` is a name bound to
    one expression on every path to here and the question has followed fewer than
    ``MAX_NAME_HOPS`` names so far (``hops``); None otherwise. A question that recurses into
    the value passes ``hops + 1`` on."""
    if type(expr) is not cst.Name or hops >= MAX_NAME_HOPS:
        return None
    return context.arrays.bound_value(expr.value)


def resolved(expr: cst.BaseExpression, context: FileContext) -> cst.BaseExpression | None:
    """``expr`` with names followed to their values: ``expr`` itself when it is not a name,
    else the first value along its chain of names that is not one; None when a name on the way
    has no single known value or the chain is longer than ``MAX_NAME_HOPS``."""
    for hops in range(MAX_NAME_HOPS + 1):
        if type(expr) is not cst.Name:
            return expr
        value = value_of(expr, context, hops)
        if value is None:
            return None
        expr = value
    return None


def discarded(call: cst.Call, context: FileContext) -> bool:
    """``call``'s result, or that of calls on it, is bound to a name (``moved =
    x.to(device).float()``) that nothing else in the function around it reads: dead code, whose
    cost is best saved by deleting it."""
    frame = context.function
    while frame is not None and frame.parent is not None:
        frame = frame.parent
    path = context.path_to(call)
    # Through calls on the result: ``moved = x.to(device).float()``.
    while len(path) >= 3 and type(path[-2]) is cst.Attribute and type(path[-3]) is cst.Call:
        if path[-3].func is not path[-2]:
            break
        path = path[:-2]
    if frame is None or len(path) < 2:
        return False
    assign = path[-2]
    if type(assign) is not cst.Assign or len(assign.targets) != 1 or type(assign.targets[0].target) is not cst.Name:
        return False
    name = assign.targets[0].target.value
    return not mentions(frame.node, name, outside=assign)
