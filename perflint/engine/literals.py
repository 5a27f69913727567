"""Literal evidence: a rule that depends on an argument's value acts only on a literal.

Every literal is read here, through Python's own reading of it (libcst's ``evaluated_value``):
``int(node.value)`` fails on ``0x4``, ``0b1``, ``0o7`` and ``1_000``, which are integers too.
"""

from __future__ import annotations

import ast
import functools
from typing import Any, cast

import libcst as cst

UNKNOWN = object()
"""The value of an expression that is not a literal."""

_NAMED_CONSTANTS = {"True": True, "False": False, "None": None}


# Literals whose value is read from their text (libcst's ``evaluated_value`` is
# ``ast.literal_eval`` of it, which compiles the text each time).
_EVALUATED_LITERALS = frozenset({cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString})


@functools.lru_cache(maxsize=4096)
def _evaluated(text: str) -> Any:
    """The value of a literal's text: the same text, the same value, so a literal that rules
    ask about many times (a test's ``0``, a mode's ``"train"``) is evaluated once."""
    return ast.literal_eval(text)


def literal_value(expr: cst.BaseExpression) -> Any:
    """The value of a numeric, string, boolean or None literal, else ``UNKNOWN``."""
    # Exact types: ``isinstance`` against libcst's classes goes through ABCMeta.
    expr_type = type(expr)
    if expr_type in _EVALUATED_LITERALS:
        return _evaluated(cast("cst.Integer | cst.Float | cst.Imaginary | cst.SimpleString", expr).value)
    if expr_type is cst.Name:
        return _NAMED_CONSTANTS.get(cast(cst.Name, expr).value, UNKNOWN)
    if expr_type is cst.UnaryOperation and type(cast(cst.UnaryOperation, expr).operator) is cst.Minus:
        inner = literal_value(cast(cst.UnaryOperation, expr).expression)
        if isinstance(inner, (int, float, complex)) and not isinstance(inner, bool):
            return -inner
    return UNKNOWN


def integer_value(expr: cst.BaseExpression) -> int | None:
    """The value of an integer literal in any base, possibly negated (``-1``, ``0x4``); None for
    anything else, booleans included."""
    value = literal_value(expr)
    return value if type(value) is int else None


def string_value(expr: cst.BaseExpression) -> str | bytes | None:
    """The value of a string or bytes literal, implicitly concatenated ones included
    (``"a" "b"``); None for an f-string or a mix of ``str`` and ``bytes``."""
    if isinstance(expr, cst.ConcatenatedString):
        left, right = string_value(expr.left), string_value(expr.right)
        if isinstance(left, str) and isinstance(right, str):
            return left + right
        if isinstance(left, bytes) and isinstance(right, bytes):
            return left + right
        return None
    value = literal_value(expr)
    return value if isinstance(value, (str, bytes)) else None


def is_number_literal(expr: cst.BaseExpression) -> bool:
    """A number written in the source (``2``, ``0.5``, ``1j``), not negated."""
    return isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary))


def has_unpacked_arguments(call: cst.Call) -> bool:
    """``f(*args)`` or ``f(**kwargs)``: any argument may be hiding in there."""
    # A loop, not ``any`` of a generator: most rules ask this of every call.
    for arg in call.args:
        if arg.star:
            return True
    return False


def keyword_argument(call: cst.Call, keyword: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    return None


def positional_arguments(call: cst.Call) -> list[cst.Arg]:
    return [arg for arg in call.args if arg.keyword is None and not arg.star]
