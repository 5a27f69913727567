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
