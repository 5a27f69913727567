"""Building blocks of fixes, shared by the rules: a library function named through the file's
own imports, a keyword argument set or removed with the call's formatting kept, statements
inserted before the one holding a node, and a new name unused in the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

import libcst as cst

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

# The names the ecosystem imports these modules as; an added import uses them when free.
CONVENTIONAL_ALIASES = {"numpy": "np", "pandas": "pd"}


def code_of(node: cst.CSTNode) -> str:
    """The source text of ``node`` on its own (default formatting for what it does not carry)."""
    return cst.Module([]).code_for_node(node)


def reference(context: "FileContext", qualified: str) -> Optional[tuple[cst.BaseExpression, tuple[str, ...]]]:
    """An expression naming ``qualified`` (``torch.from_numpy``) as this file can, and the
    import statement it needs, if any: ``th.from_numpy`` after ``import torch as th``;
    ``np.stack`` and ``import numpy as np`` in a file that imports no NumPy. None when the
    name the import would bind is already taken by something else."""
    text = context.imports.reference(qualified)
    if text is not None:
        return cst.parse_expression(text), ()
    module, _, rest = qualified.partition(".")
    alias = CONVENTIONAL_ALIASES.get(module)
    if alias is not None and context.imports.is_free(alias) and alias not in context.words:
        return cst.parse_expression(f"{alias}.{rest}" if rest else alias), (f"import {module} as {alias}",)
    if context.imports.is_free(module) and module not in context.words:
        return cst.parse_expression(qualified), (f"import {module}",)
    return None


def keyword_value(call: cst.Call, keyword: str) -> Optional[cst.BaseExpression]:
    for argument in call.args:
        if argument.keyword is not None and argument.keyword.value == keyword:
            return argument.value
    return None


def with_keyword(call: cst.Call, keyword: str, value: cst.BaseExpression) -> cst.Call:
    """``call`` with ``keyword=value``: the argument's value replaced if it is there, else a
    new last argument (before any ``*args``/``**kwargs`` it may not follow) that keeps the
    call's style: one argument per line and a trailing comma stay so."""
    arguments = list(call.args)
    for index, argument in enumerate(arguments):
        if argument.keyword is not None and argument.keyword.value == keyword:
            arguments[index] = argument.with_changes(value=value)
            return call.with_changes(args=arguments)
    new = cst.Arg(value=value, keyword=cst.Name(keyword),
                  equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
    if not arguments:
        return call.with_changes(args=[new])
    last = arguments[-1]
    if isinstance(last.comma, cst.Comma):
        # A trailing comma: the new argument takes it, and the old last one the separator
        # between the arguments before it (a line break and indentation in a call laid out
        # one argument per line).
        separator = arguments[-2].comma if len(arguments) > 1 and isinstance(arguments[-2].comma, cst.Comma) else cst.Comma(
            whitespace_after=cst.SimpleWhitespace(" "))
        arguments[-1] = last.with_changes(comma=separator)
        arguments.append(new.with_changes(comma=last.comma))
    else:
        arguments.append(new)
    return call.with_changes(args=arguments)


def without_keyword(call: cst.Call, keyword: str) -> cst.Call:
    """``call`` without its ``keyword=`` argument, the separators around it kept tidy."""
    arguments = list(call.args)
    for index, argument in enumerate(arguments):
        if argument.keyword is not None and argument.keyword.value == keyword:
            removed = arguments.pop(index)
            if index == len(arguments) and arguments:
                arguments[-1] = arguments[-1].with_changes(comma=removed.comma)
            return call.with_changes(args=arguments)
    return call


@dataclass(frozen=True)
class InsertBefore:
    """A change that puts ``statements`` right before the statement holding ``anchor`` (the
    anchor itself when it is a statement), at its indentation; comments and blank lines
    above that statement end up above the new ones."""

    anchor: cst.CSTNode
    statements: Sequence[cst.BaseStatement]


def assignment(name: str, value: cst.BaseExpression) -> cst.SimpleStatementLine:
    """The statement ``name = value``."""
    return cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(cst.Name(name))], value)])


def unused_name(context: "FileContext", base: str, taken: Sequence[str] = ()) -> str:
    """``base``, or ``base_2``, ``base_3``… : the first that appears nowhere in the file."""
    words = context.words
    base = re.sub(r"\W+", "_", base).strip("_") or "value"
    if base[0].isdigit():
        base = f"value_{base}"
    candidate, number = base, 1
    while candidate in words or candidate in taken:
        number += 1
        candidate = f"{base}_{number}"
    return candidate
