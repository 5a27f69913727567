"""How large an array is, where the code states it: literal shapes and literal data.

A rule whose saving grows with an array's size (a solve instead of an inverse, pinned memory
for a copy) is not worth its advice on a 3×3 rotation or a 4×4 homogeneous transform: there
the call's overhead is the whole cost. Sizes are read only where the code writes them as
literals, through names (``values.value_of``): ``torch.eye(3)``, ``np.zeros((4, 4))``,
``np.array([[1, 0], [0, 1]])``, ``T[..., :3, :3]``, and element-wise arithmetic of such a
matrix with anything (``mu * torch.eye(3) + cov``). Anything else is unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.values import MAX_NAME_HOPS, value_of

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

SMALL_MATRIX_ORDER = 4
"""Square matrices up to this order (a 3×3 rotation, a 4×4 homogeneous transform) are small:
a factorisation of one costs less than the call that launches it."""

# Operators that keep the operands' matrix shape (or broadcast a scalar over it).
_SHAPE_KEEPING_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.MatrixMultiply)
# Methods and attributes that give a matrix of the receiver's order.
_SHAPE_KEEPING_METHODS = frozenset({"to", "float", "double", "type", "clone", "detach", "contiguous", "t", "cpu"})
_TRANSPOSES = frozenset({"T", "mT", "H", "mH"})


def matrix_order(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> int | None:
    """The order n of the square n×n matrix (or stack of them) ``expr``, when the code states
    it with literals; None when it is unknown."""
    if isinstance(expr, cst.Name):
        if hops >= MAX_NAME_HOPS:
            return None
        assigned = value_of(expr, context, hops)
        return matrix_order(assigned, context, hops + 1) if assigned is not None else None
    if isinstance(expr, (cst.List, cst.Tuple)):
        return _literal_matrix_order(expr)
    if isinstance(expr, cst.BinaryOperation):
        if not isinstance(expr.operator, _SHAPE_KEEPING_OPERATORS):
            return None
        return matrix_order(expr.left, context, hops) or matrix_order(expr.right, context, hops)
    if isinstance(expr, cst.Subscript):
        return _sliced_order(expr)
    if isinstance(expr, cst.Attribute):
        return matrix_order(expr.value, context, hops) if expr.attr.value in _TRANSPOSES else None
    if isinstance(expr, cst.Call):
        return _call_order(expr, context, hops)
    return None


def is_small_matrix(expr: cst.BaseExpression, context: FileContext) -> bool:
    """``expr`` is a square matrix of a stated order up to ``SMALL_MATRIX_ORDER``."""
    order = matrix_order(expr, context)
    return order is not None and order <= SMALL_MATRIX_ORDER


def _call_order(call: cst.Call, context: FileContext, hops: int) -> int | None:
    func = call.func
    if type(func) is cst.Attribute and func.attr.value in _SHAPE_KEEPING_METHODS:
        return matrix_order(func.value, context, hops)
    record = catalog.lookup(context.imports.qualified_name(func))
    if record is None or record.returns not in (catalog.TORCH, catalog.NUMPY):
        return None
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    if record.has(catalog.Flag.CONVERTS_SEQUENCES):
        # ``np.array([[…], […]])``, ``torch.tensor(rows)``: the data's order.
        return matrix_order(positional[0], context, hops) if positional else None
    if not record.has(catalog.Flag.FACTORY) or not positional:
        return None
    first = positional[0]
    if len(positional) == 1 and isinstance(first, (cst.Tuple, cst.List)):
        positional = [element.value for element in first.elements]
    dims = [literal_value(value) for value in positional]
    if not dims or not all(type(dim) is int for dim in dims):
        return None
    if record.name in catalog.IDENTITY_FACTORIES:
        # ``eye(n)`` or ``eye(n, m)``: n×m.
        return dims[0] if len(dims) == 1 or dims[1] == dims[0] else None
    return dims[-1] if len(dims) >= 2 and dims[-1] == dims[-2] else None


def _literal_matrix_order(rows: cst.List | cst.Tuple) -> int | None:
    """``[[a, b], [c, d]]``: 2."""
    order = len(rows.elements)
    for row in rows.elements:
        if not isinstance(row.value, (cst.List, cst.Tuple)) or len(row.value.elements) != order:
            return None
    return order or None


def _sliced_order(subscript: cst.Subscript) -> int | None:
    """``T[..., :3, :3]``, ``T[:3, :3]``: the last two axes cut to the same literal length."""
    lengths = []
    for element in subscript.slice[-2:]:
        index = element.slice
        if type(index) is not cst.Slice or index.step is not None:
            return None
        lower = 0 if index.lower is None else literal_value(index.lower)
        upper = literal_value(index.upper) if index.upper is not None else None
        if type(lower) is not int or type(upper) is not int or lower < 0 or upper < lower:
            return None
        lengths.append(upper - lower)
    if len(lengths) == 2 and lengths[0] == lengths[1]:
        return lengths[0]
    return None
