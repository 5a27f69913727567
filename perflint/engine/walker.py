"""Child enumeration that skips libcst's whitespace and punctuation nodes.

libcst's own visitor walks every whitespace, comma and parenthesis node; on real code that
walk costs as much as the parse itself. The rules only ever look at syntax, so the engine
walks the fields that hold syntax and nothing else (see benchmarks/lint_throughput.py).
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import libcst as cst

_TRIVIA_FIELDS = frozenset(
    {
        "asynchronous",
        "colon",
        "comma",
        "comment",
        "default_indent",
        "default_newline",
        "dot",
        "empty_lines",
        "encoding",
        "equal",
        "first_colon",
        "first_line",
        "footer",
        "has_trailing_newline",
        "header",
        "indent",
        "last_line",
        "lbrace",
        "lbracket",
        "leading_lines",
        "lines_after_decorators",
        "lpar",
        "newline",
        "operator",
        "rbrace",
        "rbracket",
        "rpar",
        "second_colon",
        "semicolon",
        "separator",
        "star",
        "trailing_comma",
        "trailing_whitespace",
    }
)

_child_fields_by_type: dict[type, tuple[str, ...]] = {}


def _concrete_node_types() -> frozenset[type]:
    found: set[type] = set()
    pending = [cst.CSTNode]
    while pending:
        for subclass in pending.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                pending.append(subclass)
    return frozenset(found)


# ``isinstance`` against libcst's abstract base classes goes through ABCMeta and dominated
# the traversal's profile; a set lookup on the exact type does not.
NODE_TYPES = _concrete_node_types()


def _child_fields(node_type: type) -> tuple[str, ...]:
    fields = _child_fields_by_type.get(node_type)
    if fields is None:
        fields = tuple(
            field.name
            for field in dataclasses.fields(node_type)
            if field.name not in _TRIVIA_FIELDS and not field.name.startswith("whitespace")
        )
        _child_fields_by_type[node_type] = fields
    return fields


def syntax_children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The node's children that carry syntax, in source order."""
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        value_type = type(value)
        if value_type in NODE_TYPES:
            yield value
        elif value_type is tuple or value_type is list:
            for item in value:
                if type(item) in NODE_TYPES:
                    yield item
