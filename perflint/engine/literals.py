"""Literal evidence: a rule that depends on an argument's value acts only on a literal."""

from __future__ import annotations

from typing import Any, Optional

import libcst as cst

UNKNOWN = object()
"""The value of an expression that is not a literal."""

_NAMED_CONSTANTS = {"True": True, "False": False, "None": None}


def literal_value(expr: cst.BaseExpression) -> Any:
    """The value of a numeric, string, boolean or None literal, else ``UNKNOWN``."""
    if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary)):
        return expr.evaluated_value
    if isinstance(expr, cst.SimpleString):
        return expr.evaluated_value
    if isinstance(expr, cst.Name) and expr.value in _NAMED_CONSTANTS:
        return _NAMED_CONSTANTS[expr.value]
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = literal_value(expr.expression)
        if isinstance(inner, (int, float, complex)) and not isinstance(inner, bool):
            return -inner
    return UNKNOWN


def has_unpacked_arguments(call: cst.Call) -> bool:
    """``f(*args)`` or ``f(**kwargs)``: any argument may be hiding in there."""
    return any(arg.star for arg in call.args)


def keyword_argument(call: cst.Call, keyword: str) -> Optional[cst.Arg]:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    return None


def positional_arguments(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]
