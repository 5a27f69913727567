"""How large an array or a loop is, where the code states it: literal shapes, data and counts.

A rule whose saving grows with an array's size (a solve instead of an inverse, pinned memory
for a copy) is not worth its advice on a 3×3 rotation or a 4×4 homogeneous transform: there
the call's overhead is the whole cost. Sizes are read only where the code writes them as
literals, through names (``values.value_of``): ``torch.eye(3)``, ``np.zeros((4, 4))``,
``np.array([[1, 0], [0, 1]])``, ``T[..., :3, :3]``, and element-wise arithmetic of such a
matrix with anything (``mu * torch.eye(3) + cov``). Anything else is unknown.

The same reading gives a finding its size (``Rule.report(size=...)``), in its benchmark's unit,
so that ``--measure`` reads the time saved at the measured size nearest the user's own: an
array's shape (``np.zeros(1000)``, ``torch.randn(64, 128)``, ``np.array([1, 2, 3])``), a
count (``N = 1000``, ``len(a)``, ``a.shape[0]``) and a loop's trip count (``range(N)``,
``range(len(a))``, a literal list, ``enumerate(...)`` and ``tqdm(...)`` of either).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import parameter_names
from perflint.engine.literals import UNKNOWN, integer_value, literal_value
from perflint.engine.values import MAX_NAME_HOPS, value_of
from perflint.engine.walker import syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

SMALL_MATRIX_ORDER = 4
"""Square matrices up to this order (a 3×3 rotation, a 4×4 homogeneous transform) are small:
a factorisation of one costs less than the call that launches it."""

WIDE_RIGHT_HAND_SIDES = 2
"""A product ``inv(A) @ B`` whose ``B`` has at least this many times as many columns as ``A``
has rows is cheaper than ``solve(A, B)``: the inverse is then a small part of the work, and a
matrix product runs faster than the substitutions ``solve`` does per column (one thread,
``benchmarks/results/precision/round10/pfl402_solve_crossover.md``: NumPy's ``solve`` 0.65-0.84x
of the product's time at as many columns as rows, 1.3-1.7x at twice as many, 1.6-2.1x at four
times; torch's 0.73-0.85x, 0.78-1.03x and 1.08-1.2x)."""

FEW_ITEMS = 8
"""Loops stated to run at most this many times (3 coordinates, a handful of dimensions or
classes) are few: turning them into whole-array calls saves microseconds."""

# Operators that keep the operands' matrix shape (or broadcast a scalar over it).
_SHAPE_KEEPING_OPERATORS = (cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.MatrixMultiply)
# Methods and attributes that give a matrix of the receiver's order: those that keep its shape,
# and transposes.
_ORDER_KEEPING_METHODS = catalog.SHAPE_KEEPING_METHODS | {"t"}
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


def right_hand_side_count(other: cst.BaseExpression, context: FileContext, inverse_on_left: bool) -> int | None:
    """How many right-hand sides ``other`` gives a product with an inverse, when the code states
    its shape (``array_shape``, through a transpose ``.T``): the columns of ``B`` in ``inv(A) @
    B`` (one for a vector), the rows of ``B`` in ``B @ inv(A)``; None when it is unknown."""
    transposed = type(other) is cst.Attribute and other.attr.value == "T"
    shape = array_shape(other.value if type(other) is cst.Attribute and transposed else other, context)
    if shape is None or not shape:
        return None
    if len(shape) == 1:
        return 1
    rows, columns = (shape[-1], shape[-2]) if transposed else (shape[-2], shape[-1])
    return columns if inverse_on_left else rows


def _call_order(call: cst.Call, context: FileContext, hops: int) -> int | None:
    func = call.func
    if type(func) is cst.Attribute and func.attr.value in _ORDER_KEEPING_METHODS:
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


def array_shape(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> tuple[int, ...] | None:
    """The shape of the array ``expr`` when the code states it with literals: a factory given
    its shape (``np.zeros(1000)``, ``np.ones((4, 8))``, ``torch.randn(64, 128)``, ``arange(n)``)
    or a constructor given literal, rectangular data (``np.array([[1, 2], [3, 4]])``); None
    when it is unknown."""
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        return array_shape(assigned, context, hops + 1) if assigned is not None else None
    if type(expr) is not cst.Call:
        return None
    record = catalog.lookup(context.imports.qualified_name(expr.func))
    if record is None or record.returns not in (catalog.TORCH, catalog.NUMPY) or not record.has(catalog.Flag.FACTORY):
        return None
    positional = [arg.value for arg in expr.args if arg.keyword is None and not arg.star]
    if record.has(catalog.Flag.CONVERTS_SEQUENCES):
        return _literal_shape(positional[0]) if positional and len(positional) == len(expr.args) else None
    if record.name in catalog.RANGE_FACTORIES:
        length = _range_length(positional, context, hops) if len(positional) == len(expr.args) else None
        return (length,) if length is not None else None
    signature = record.signature
    if signature.positional[:1] in (("shape",), ("size",)):
        arguments = catalog.bind(expr, record)
        shape = arguments.argument(signature.positional[0]) if arguments is not None else None
        return _dimensions([shape], context, hops) if shape is not None else None
    if signature.var_positional in ("size", "args") and not signature.positional and positional:
        return _dimensions(positional, context, hops)
    return None


def dimension_count(expr: cst.BaseExpression, context: FileContext) -> int | None:
    """The number of dimensions of the array ``expr``, where the code states it: a shape written
    with literals (``array_shape``), a name whose whole shape is unpacked or that a factory made
    with each axis's length written (``ArrayKnowledge.ndim_of``), or a transpose of either; None
    when it is unknown (a parameter may be a stack of matrices)."""
    if type(expr) is cst.Attribute and expr.attr.value in _TRANSPOSES:
        return dimension_count(expr.value, context)
    shape = array_shape(expr, context)
    if shape is not None:
        return len(shape)
    return context.arrays.ndim_of(expr)


def element_count(expr: cst.BaseExpression, context: FileContext) -> int | None:
    """How many elements the array ``expr`` holds, when its shape is stated (``array_shape``)."""
    shape = array_shape(expr, context)
    return math.prod(shape) if shape is not None else None


def count_of(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> int | None:
    """The integer ``expr`` stands for when the code states it: a literal, a name bound to one
    (``N = 1000``), the length of an array or literal collection of known size (``len(a)``,
    ``a.shape[0]``); None when it is unknown."""
    literal = integer_value(expr)
    if literal is not None:
        return literal
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        return count_of(assigned, context, hops + 1) if assigned is not None else None
    if type(expr) is cst.Call and context.imports.is_builtin(expr.func, "len") and len(expr.args) == 1:
        return items_in(expr.args[0].value, context, hops)
    if type(expr) is cst.BinaryOperation and type(expr.operator) in (cst.Add, cst.Subtract):
        # ``range(1, len(xs) + 1)``: arithmetic of two known counts.
        left, right = count_of(expr.left, context, hops), count_of(expr.right, context, hops)
        if left is None or right is None:
            return None
        return left + right if type(expr.operator) is cst.Add else left - right
    if type(expr) is cst.Subscript and type(expr.value) is cst.Attribute and expr.value.attr.value == "shape":
        if len(expr.slice) != 1 or type(expr.slice[0].slice) is not cst.Index:
            return None
        axis = integer_value(expr.slice[0].slice.value)
        shape = array_shape(expr.value.value, context, hops)
        return shape[axis] if shape is not None and axis is not None and -len(shape) <= axis < len(shape) else None
    return None


def reads_a_batch_size(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``expr`` depends on the leading dimension of an argument of the current function
    (``x.shape[0]``, ``x.size(0)``, ``len(x)``), directly or through names (``n =
    x.shape[0]`` then ``torch.eye(n)``): a batch size, which changes from call to call and is not
    known where the function's object is built (``__init__``)."""
    frame = context.function
    if frame is None:
        return False
    parameters = set(parameter_names(frame.node.params))
    pending: list[cst.CSTNode] = [expr]
    while pending:
        node = pending.pop()
        if _leading_dimension_of(node, context) in parameters:
            return True
        if type(node) is cst.Name and node.value not in parameters:
            assigned = value_of(node, context, hops)
            if assigned is not None and reads_a_batch_size(assigned, context, hops + 1):
                return True
            continue
        if type(node) is cst.Attribute:
            # ``self.n``: the attribute's name is no variable.
            pending.append(node.value)
            continue
        pending.extend(syntax_children(node))
    return False


def _leading_dimension_of(node: cst.CSTNode, context: FileContext) -> str | None:
    """The name whose leading dimension ``node`` reads: ``x`` of ``x.shape[0]``, ``x.size(0)``
    or ``len(x)``; None for anything else."""
    if type(node) is cst.Subscript and type(node.value) is cst.Attribute and node.value.attr.value == "shape":
        if len(node.slice) == 1 and type(node.slice[0].slice) is cst.Index:
            if integer_value(node.slice[0].slice.value) == 0 and type(node.value.value) is cst.Name:
                return node.value.value.value
        return None
    if type(node) is not cst.Call or len(node.args) != 1 or node.args[0].keyword is not None:
        return None
    func, argument = node.func, node.args[0].value
    if type(func) is cst.Attribute and func.attr.value == "size" and type(func.value) is cst.Name:
        return func.value.value if integer_value(argument) == 0 else None
    if context.imports.is_builtin(func, "len") and type(argument) is cst.Name:
        return argument.value
    return None


def items_in(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> int | None:
    """How many items iterating ``expr`` gives, when the code states it: a literal list, tuple
    or set, ``range(...)`` of known bounds, the first axis of an array of known shape, and
    ``enumerate``/``tqdm`` (``Flag.WRAPS_ITERABLE``) of any of them; None when it is unknown.
    A loop's trip count is ``items_in`` of what it iterates. A name bound to a literal list or
    set is unknown when the file may grow it (``__all__ = []`` then ``__all__.append(name)``:
    any method called on the name, or ``+=``), and known when it never does
    (``lesion_diameters = [5, 8, 11]`` only read)."""
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        if assigned is None:
            return None
        if isinstance(assigned, (cst.List, cst.Set)) and (
            not assigned.elements or _may_grow(expr.value, context.module)
        ):
            return None  # ``seen = []`` is filled later
        return items_in(assigned, context, hops + 1)
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        if any(type(element) is cst.StarredElement for element in expr.elements):
            return None
        return len(expr.elements)
    if type(expr) is not cst.Call:
        return None
    positional = [arg.value for arg in expr.args if arg.keyword is None and not arg.star]
    if context.imports.is_builtin(expr.func, "range"):
        return _range_length(positional, context, hops) if len(positional) == len(expr.args) else None
    record = catalog.lookup(_qualified_call_name(expr, context))
    if record is not None and record.has(catalog.Flag.WRAPS_ITERABLE):
        arguments = catalog.bind(expr, record)
        wrapped = arguments.argument(record.signature.positional[0]) if arguments is not None else None
        return items_in(wrapped, context, hops) if wrapped is not None else None
    shape = array_shape(expr, context, hops)
    return shape[0] if shape else None


def _may_grow(name: str, module: cst.Module) -> bool:
    """The file calls a method of the variable ``name`` (``name.append(x)``, ``name.extend(xs)``)
    or augments it (``name += [x]``): a list bound to it may hold more than it was bound to. (A
    list of literals passed to a function is taken as read, as plotting and configuration do.)"""
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        if type(node) is cst.Call and type(node.func) is cst.Attribute:
            receiver = node.func.value
            if type(receiver) is cst.Name and receiver.value == name:
                return True
        if type(node) is cst.AugAssign and type(node.target) is cst.Name and node.target.value == name:
            return True
        pending.extend(syntax_children(node))
    return False


def trip_count(loop: cst.CSTNode, context: FileContext) -> int | None:
    """How many times the ``for`` loop or single-clause comprehension ``loop`` iterates, when
    the code states it (``items_in`` of what it iterates); None for a ``while`` loop and when
    unknown."""
    if type(loop) is cst.For:
        return items_in(loop.iter, context)
    clause = getattr(loop, "for_in", None)
    if type(clause) is cst.CompFor and clause.inner_for_in is None:
        return items_in(clause.iter, context)
    return None


def runs_few_times(loop: cst.CSTNode, context: FileContext) -> bool:
    """The code states that ``loop`` runs at most ``FEW_ITEMS`` times (``trip_count``)."""
    count = trip_count(loop, context)
    return count is not None and count <= FEW_ITEMS


def is_written_out_table(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``expr`` is a pandas object built from data the code writes out as literals, or a part
    of one (``pd.Series([1, 2, 3])``, ``pd.DataFrame({"a": [1, 2]})["a"]``), directly or
    through names: a handful of rows, on which a whole-column call costs what a per-row one
    does."""
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        return assigned is not None and is_written_out_table(assigned, context, hops + 1)
    if type(expr) is cst.Subscript:
        return is_written_out_table(expr.value, context, hops)
    if type(expr) is not cst.Call:
        return False
    record = catalog.lookup(context.imports.qualified_name(expr.func))
    if record is None or record.returns != catalog.PANDAS or not record.has(catalog.Flag.FACTORY):
        return False
    arguments = catalog.bind(expr, record)
    data = arguments.argument("data") if arguments is not None else None
    if type(data) is cst.Dict:
        return all(
            type(element) is cst.DictElement and _literal_shape(element.value) is not None for element in data.elements
        )
    return data is not None and _literal_shape(data) is not None


def _qualified_call_name(call: cst.Call, context: FileContext) -> str | None:
    """The catalogue's name of the function ``call`` calls; ``builtins.enumerate`` for a builtin."""
    qualified = context.imports.qualified_name(call.func)
    if qualified is None and type(call.func) is cst.Name and context.imports.is_builtin(call.func, call.func.value):
        return f"builtins.{call.func.value}"
    return qualified


def _dimensions(values: list[cst.BaseExpression], context: FileContext, hops: int) -> tuple[int, ...] | None:
    """``(64, 128)`` from ``[64, 128]`` or ``[(64, 128)]``: every dimension a known count."""
    if len(values) == 1 and isinstance(values[0], (cst.Tuple, cst.List)):
        values = [element.value for element in values[0].elements]
    dims = [count_of(value, context, hops) for value in values]
    known = tuple(dim for dim in dims if dim is not None and dim >= 0)
    return known if known and len(known) == len(dims) else None


def _range_length(bounds: list[cst.BaseExpression], context: FileContext, hops: int) -> int | None:
    """How many numbers ``range(*bounds)`` (and ``arange``) gives, when every bound is known."""
    if not 1 <= len(bounds) <= 3:
        return None
    values = [count_of(bound, context, hops) for bound in bounds]
    known = [value for value in values if value is not None]
    if len(known) != len(values):
        return None
    start, stop, step = (0, known[0], 1) if len(known) == 1 else (known[0], known[1], (known + [1])[2])
    if step == 0:
        return None
    # Counted, not built: ``len(range(…))`` fails beyond the machine's integers.
    return max(0, -((start - stop) // step))


def _literal_shape(data: cst.BaseExpression) -> tuple[int, ...] | None:
    """``[[1, 2, 3], [4, 5, 6]]``: (2, 3); a ragged or starred literal: None; a scalar: ()."""
    if not isinstance(data, (cst.List, cst.Tuple)):
        return () if literal_value(data) is not UNKNOWN else None
    if any(type(element) is cst.StarredElement for element in data.elements):
        return None
    inner: tuple[int, ...] = ()
    for index, element in enumerate(data.elements):
        shape = _literal_shape(element.value)
        if shape is None or (index > 0 and shape != inner):
            return None
        inner = shape
    return (len(data.elements), *inner)
