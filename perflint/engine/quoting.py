"""The user's code as a message quotes it: on one line, without comments, of bounded length.

A finding is one line in every format (concise, flake8, GitHub annotations), yet the code a
message quotes may span lines and carry comments (a call with one argument per line). Every
rule quotes through ``quote``, so no message can break a line whatever the user wrote.
"""

from __future__ import annotations

import io
import tokenize

import libcst as cst

# Longer quotes are cut with "…": a message names the code, it does not reproduce it.
MAX_QUOTED_LENGTH = 100
_SKIPPED = (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)
_OPENING = ("(", "[", "{")
_CLOSING = (")", "]", "}", ",", ":")
# Expressions an attribute, a subscript or a call can follow as written (``x[i].f()``,
# ``[a, b].f()``): any other (``a + 1``, ``-x``, ``1``) needs parentheses first.
_ATOMS = (
    cst.Name,
    cst.Attribute,
    cst.Subscript,
    cst.Call,
    cst.List,
    cst.Dict,
    cst.Set,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.SimpleString,
    cst.FormattedString,
)


def quote(code: cst.CSTNode | str, limit: int = MAX_QUOTED_LENGTH) -> str:
    """``code`` (a node, or source text) on one line: line breaks and the indentation after
    them become one space (none inside brackets), comments are dropped, and past ``limit``
    characters it is cut with "…"."""
    text = code if isinstance(code, str) else cst.Module([]).code_for_node(code)
    if any(mark in text for mark in ("\n", "\r", "#", "\\")):
        if isinstance(code, cst.BaseExpression):
            # An expression's line breaks may stand outside its own brackets (the operands of
            # a parenthesised ``a\n@ b``): inside added ones they are not ends of statements.
            text = _joined(f"({text}\n)")[1:-1]
        else:
            text = _joined(text)
    text = text.strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def as_receiver(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``expr``, parenthesised unless an attribute or a call can follow it as it is: advice
    that calls a method of the user's expression (``(x.max(0) + 1).tolist()``, not ``x.max(0) +
    1.tolist()``) builds it on this."""
    if type(expr) in _ATOMS or expr.lpar:
        return expr
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def quote_receiver(expr: cst.BaseExpression, limit: int = MAX_QUOTED_LENGTH) -> str:
    """``expr`` quoted (``quote``) so that ``.method()`` can follow the quote: parenthesised
    where it is not atomic (``as_receiver``)."""
    return quote(as_receiver(expr), limit)


def listed(items: list[str]) -> str:
    """Items joined for a message: ``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _joined(text: str) -> str:
    """The tokens of ``text`` rejoined on one line: spacing within a line kept as written."""
    lines = text.splitlines(keepends=True) or [""]
    pieces: list[str] = []
    previous = None  # the last token kept
    statement_ended = False
    commas = [0]  # per open bracket, the commas directly inside it
    try:
        for token in tokenize.generate_tokens(io.StringIO(text, newline=None).readline):
            if token.type == tokenize.NEWLINE:
                statement_ended = True
                continue
            if token.type in _SKIPPED:
                continue
            string = token.string.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
            if string in _OPENING:
                commas.append(0)
            elif string == ",":
                commas[-1] += 1
            elif string in (")", "]", "}") and len(commas) > 1:
                # The trailing comma of arguments written one per line goes, as on one line;
                # a one-element tuple's stays.
                if (
                    previous is not None
                    and previous.string == ","
                    and token.start[0] != previous.end[0]
                    and (commas[-1] > 1 or string != ")")
                ):
                    pieces.pop()
                commas.pop()
            if previous is not None:
                if statement_ended and previous.string != ":":
                    pieces.append("; ")
                elif token.start[0] == previous.end[0]:
                    pieces.append(lines[token.start[0] - 1][previous.end[1] : token.start[1]])
                elif previous.string not in _OPENING and token.string not in _CLOSING:
                    pieces.append(" ")
                elif statement_ended:
                    pieces.append(" ")
            pieces.append(string)
            previous, statement_ended = token, False
    except (tokenize.TokenError, SyntaxError):  # not whole tokens: fall back to plain words
        return " ".join(text.split())
    return "".join(pieces)
