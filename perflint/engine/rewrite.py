"""Building blocks of fixes, shared by the rules: a library function named through the file's
own imports, a keyword argument set or removed with the call's formatting kept, statements
inserted before the one holding a node, and a new name unused in the file."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence, Union

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
        closing = last.comma
        # A comment ending the old last argument's line stays on that line.
        if isinstance(closing.whitespace_after, cst.ParenthesizedWhitespace) and isinstance(
                separator.whitespace_after, cst.ParenthesizedWhitespace) and closing.whitespace_after.first_line.comment:
            comment_line = closing.whitespace_after.first_line
            closing = closing.with_changes(whitespace_after=closing.whitespace_after.with_changes(
                first_line=cst.TrailingWhitespace()))
            separator = separator.with_changes(whitespace_after=separator.whitespace_after.with_changes(
                first_line=comment_line))
        arguments[-1] = last.with_changes(comma=separator)
        arguments.append(new.with_changes(comma=closing))
    else:
        arguments.append(new)
    return call.with_changes(args=arguments)


def without_keyword(call: cst.Call, keyword: str) -> cst.Call:
    """``call`` without its ``keyword=`` argument, the separators around it kept tidy."""
    for argument in call.args:
        if argument.keyword is not None and argument.keyword.value == keyword:
            return _without(call, argument)
    return call


def without_argument(call: cst.Call, value: cst.BaseExpression) -> Optional[cst.Call]:
    """``call`` without the argument whose expression is ``value`` (the node itself, as a
    catalogue binding gives it), by keyword or by position, the separators kept tidy. None
    when the call has no such argument, or when dropping it would move another argument to
    a different parameter: a positional one, or an unpacked ``*args``, follows it."""
    for index, argument in enumerate(call.args):
        if argument.value is value:
            if argument.keyword is None and any(later.keyword is None and later.star != "**"
                                                for later in call.args[index + 1:]):
                return None
            return _without(call, argument)
    return None


def _without(call: cst.Call, removed: cst.Arg) -> cst.Call:
    arguments = [argument for argument in call.args if argument is not removed]
    if not arguments:
        # The last argument gone, its line breaks go too: ``f()``.
        return call.with_changes(args=[], whitespace_before_args=cst.SimpleWhitespace(""))
    if call.args[-1] is removed:
        arguments[-1] = arguments[-1].with_changes(comma=_closing_separator(arguments[-1].comma, removed.comma))
    return call.with_changes(args=arguments)


def _closing_separator(kept: Union[cst.Comma, cst.MaybeSentinel],
                       removed: Union[cst.Comma, cst.MaybeSentinel]) -> Union[cst.Comma, cst.MaybeSentinel]:
    """What the new last argument ends with: the removed last one's separator (a trailing
    comma and the line break before the closing parenthesis, or nothing), keeping a comment
    that ended the new last argument's line."""
    kept_space = kept.whitespace_after if isinstance(kept, cst.Comma) else None
    if not (isinstance(kept_space, cst.ParenthesizedWhitespace) and kept_space.first_line.comment is not None):
        return removed
    removed_space = removed.whitespace_after if isinstance(removed, cst.Comma) else None
    if isinstance(removed_space, cst.ParenthesizedWhitespace):
        return removed.with_changes(whitespace_after=removed_space.with_changes(first_line=kept_space.first_line))
    return kept


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
