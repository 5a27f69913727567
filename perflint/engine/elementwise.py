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
from typing import TYPE_CHECKING, Callable, Optional

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import is_number_literal
from perflint.engine.values import value_of

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
