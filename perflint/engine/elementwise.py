"""Is an expression element-wise: does it give, at each index, what it gives on the elements at
that index?

Rules that offer a whole-array form of a per-element computation (an index loop, a vectorized
lambda, a row-wise ``apply``, a pairwise double loop, an index grid) share one answer for the
structure: numbers; the operators that NumPy, torch and pandas apply element by element (a
single comparison included: a chain ``a < b < c`` calls ``bool()`` on an array); and calls of
the catalogue's element-wise functions (``np.sqrt``, ``torch.exp``, builtin ``abs``) whose
arguments are element-wise, without a keyword that writes elsewhere or leaves elements
unwritten (``out=``, ``where=``), and ``where`` only with its three arguments (alone it returns
indices). What the leaves may be (an element ``a[i]``, a loop index, a scalar from outside, a
column of a row) is each rule's own, and the rule says it through ``leaf``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Optional

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import has_unpacked_arguments, integer_value, is_number_literal
from perflint.engine.values import value_of
from perflint.engine.walker import contains_walrus, mentions

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

# A rule's say on one node: True (an element-wise leaf), False (not element-wise), or None
# (not a leaf of the rule's: the structure decides).
Leaf = Callable[[cst.BaseExpression], Optional[bool]]

ARRAY_LIBRARIES = frozenset({catalog.NUMPY, catalog.TORCH})


def is_elementwise(
    expr: cst.BaseExpression,
    leaf: Leaf,
    context: FileContext,
    libraries: Collection[str] = ARRAY_LIBRARIES,
) -> bool:
    """``expr`` gives, at each index, the same expression of the elements at that index.

    ``leaf`` is asked first about every node. ``libraries``: whose element-wise functions may
    be called (none: no calls; pandas' rows take NumPy's functions but give back arrays, not
    the Series a row-wise ``apply`` gives).
    """
    said = leaf(expr)
    if said is not None:
        return said
    if is_number_literal(expr):
        return True
    if isinstance(expr, cst.BinaryOperation):
        return (
            type(expr.operator) in catalog.ELEMENTWISE_BINARY_OPERATORS
            and is_elementwise(expr.left, leaf, context, libraries)
            and is_elementwise(expr.right, leaf, context, libraries)
        )
    if isinstance(expr, cst.UnaryOperation):
        return type(expr.operator) in catalog.ELEMENTWISE_UNARY_OPERATORS and is_elementwise(
            expr.expression, leaf, context, libraries
        )
    if isinstance(expr, cst.Comparison):
        return (
            len(expr.comparisons) == 1
            and type(expr.comparisons[0].operator) in catalog.ELEMENTWISE_COMPARISON_OPERATORS
            and is_elementwise(expr.left, leaf, context, libraries)
            and is_elementwise(expr.comparisons[0].comparator, leaf, context, libraries)
        )
    if isinstance(expr, cst.Call):
        return elementwise_function(expr, context, libraries) and all(
            is_elementwise(arg.value, leaf, context, libraries) for arg in expr.args
        )
    return False


def elementwise_function(call: cst.Call, context: FileContext, libraries: Collection[str] = ARRAY_LIBRARIES) -> bool:
    """``call`` calls an element-wise function of ``libraries`` (or builtin ``abs`` on one
    argument) in a way that keeps it element-wise: nothing unpacked, no ``out=``/``where=``,
    ``where`` with all three arguments."""
    if not libraries or any(arg.star for arg in call.args):
        return False
    if any(
        arg.keyword is not None and arg.keyword.value in catalog.ELEMENTWISE_REDIRECTING_KEYWORDS for arg in call.args
    ):
        return False
    if context.imports.is_builtin(call.func, "abs"):
        return len(call.args) == 1
    qualified = context.imports.qualified_name(call.func)
    record = catalog.lookup(qualified)
    if (
        qualified is None
        or record is None
        or not record.has(catalog.Flag.ELEMENTWISE)
        or record.library not in libraries
    ):
        return False
    # ``where(condition)`` alone returns indices, not an element-wise choice.
    return not qualified.endswith(".where") or len(call.args) == 3


# Operators that compare values element by element (not ``is`` or ``in``).
_VALUE_COMPARISONS = (cst.Equal, cst.NotEqual, cst.LessThan, cst.GreaterThan, cst.LessThanEqual, cst.GreaterThanEqual)
# Operators that combine two boolean masks into one.
_MASK_OPERATORS = (cst.BitAnd, cst.BitOr, cst.BitXor)
# Prefixes of the element-wise functions that test each element (``isnan``, ``isclose``,
# ``logical_and``): their result is a boolean mask.
_TEST_PREFIXES = ("is", "logical_")


def is_boolean_mask(expr: cst.BaseExpression, context: FileContext, hops: int = 0) -> bool:
    """``expr`` gives a boolean at each index: a comparison of values (``y == i``), an
    element-wise test (``np.isnan(x)``, ``torch.isfinite(t)``, ``np.logical_and(a, b)``), ``~``, ``&``,
    ``|`` or ``^`` of such masks, or a name bound to one (``values.value_of``)."""
    if type(expr) is cst.Name:
        assigned = value_of(expr, context, hops)
        return assigned is not None and is_boolean_mask(assigned, context, hops + 1)
    if type(expr) is cst.Comparison:
        return all(type(target.operator) in _VALUE_COMPARISONS for target in expr.comparisons)
    if type(expr) is cst.UnaryOperation and type(expr.operator) is cst.BitInvert:
        return is_boolean_mask(expr.expression, context, hops)
    if type(expr) is cst.BinaryOperation and type(expr.operator) in _MASK_OPERATORS:
        return is_boolean_mask(expr.left, context, hops) and is_boolean_mask(expr.right, context, hops)
    if type(expr) is cst.Call:
        record = catalog.lookup(context.imports.qualified_name(expr.func))
        return (
            record is not None
            and record.library in ARRAY_LIBRARIES
            and record.function_name.startswith(_TEST_PREFIXES)
            and record.has(catalog.Flag.ELEMENTWISE)
        )
    return False


@dataclass(frozen=True)
class ArrayComprehension:
    """A list comprehension with one item per element (or row) of a known array, which an
    array constructor turns into one array (see ``array_from_comprehension``)."""

    comprehension: cst.ListComp
    # The array iterated, and its library (the constructor's too).
    array: cst.BaseExpression
    kind: str
    # The comprehension's target: an element (row) of ``array`` (``for x in a``), or, with
    # ``by_index``, an index of its first axis (``for i in range(len(a))``).
    target: str
    by_index: bool
    # The iterated array's library is known; else (``shape_evidence``) only the range's bound
    # reading its shape (``range(X.shape[0])``) shows that it is an array.
    known: bool = True


def array_from_comprehension(
    call: cst.Call, context: FileContext, shape_evidence: bool = False
) -> ArrayComprehension | None:
    """``call`` makes one array of a list comprehension that yields an item per element (row)
    of one known NumPy array or torch tensor: ``np.array([x * 2 for x in a])``,
    ``np.asarray([...])``, ``torch.tensor([...])``, ``torch.stack([a[i].sum() for i in
    range(len(a))])`` (``stack`` along the first axis). The constructor is of the array's own
    library and takes nothing but the list (a ``dtype=`` would cast what the items give); the
    comprehension has one ``for`` clause, no ``if`` and no ``:=``, and its target is one name,
    an item of the array or an index over its first axis (``arrays.indexed_range_array``).
    With ``shape_evidence``, an index over the first axis of an array of no known library
    whose ``.shape`` the range's bound reads is taken too (``known`` is False).
    What the item is made of is the caller's business."""
    # The list comprehension first: most calls take none, and what it is passed to costs more to learn.
    if not call.args or type(call.args[0].value) is not cst.ListComp or has_unpacked_arguments(call):
        return None
    record = catalog.lookup(context.imports.qualified_name(call.func))
    if record is None or record.library not in ARRAY_LIBRARIES:
        return None
    if record.has(catalog.Flag.CONVERTS_SEQUENCES):
        if len(call.args) != 1:
            return None
    elif not (record.has(catalog.Flag.JOINS_ARRAYS) and record.function_name == "stack") or not (
        len(call.args) == 1 or _stacks_on_first_axis(call)
    ):
        return None
    data = call.args[0]
    comprehension = data.value
    if data.keyword is not None or type(comprehension) is not cst.ListComp:
        return None
    clause = comprehension.for_in
    if (
        clause.inner_for_in is not None
        or clause.ifs
        or clause.asynchronous is not None
        or type(clause.target) is not cst.Name
        or contains_walrus(comprehension.elt)
    ):
        return None
    target = clause.target.value
    arrays = context.arrays
    by_index = False
    array: cst.BaseExpression | None = clause.iter
    known = True
    if arrays.kind_of(clause.iter) != record.library:
        array, by_index = arrays.indexed_range_array(clause.iter), True
        axis = arrays.axis_of_range(clause.iter)
        if (
            array is None
            and shape_evidence
            and axis is not None
            and axis.axis == 0
            and axis.reads_shape
            and arrays.kind_of(axis.array) is None
        ):
            array, known = axis.array, False
    if array is None or (known and arrays.kind_of(array) != record.library) or mentions(array, target):
        return None
    return ArrayComprehension(comprehension, array, record.library, target, by_index, known)


def _stacks_on_first_axis(call: cst.Call) -> bool:
    """``torch.stack(items, 0)``, ``np.stack(items, axis=0)``: the second argument is axis 0."""
    second = call.args[1]
    return (
        len(call.args) == 2
        and integer_value(second.value) == 0
        and (second.keyword is None or second.keyword.value in ("axis", "dim"))
    )
