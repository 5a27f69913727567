"""Child enumeration that skips libcst's whitespace and punctuation nodes, in evaluation order.

libcst's own visitor walks every whitespace, comma and parenthesis node; on real code that
walk costs as much as the parse itself. The rules only ever look at syntax, so the engine
walks the fields that hold syntax and nothing else (see benchmarks/lint_throughput.py).

Fields are walked in the order Python evaluates them, not the order they are written: a
``for`` loop's iterable before its target, a comprehension's ``for`` clause before its
element, a function's decorators and defaults before its body. Knowledge that follows
execution (which loop a node runs in, what a name holds) can then be kept up to date in one
pass.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Collection, Iterator, Sequence

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

# Types whose syntax fields are evaluated in another order than libcst declares them. A
# function's name and a class's name are left out: they are bound, not evaluated.
EVALUATION_ORDER: dict[type, tuple[str, ...]] = {
    cst.For: ("iter", "target", "body", "orelse"),
    cst.CompFor: ("iter", "target", "ifs", "inner_for_in"),
    cst.ListComp: ("for_in", "elt"),
    cst.SetComp: ("for_in", "elt"),
    cst.GeneratorExp: ("for_in", "elt"),
    cst.DictComp: ("for_in", "key", "value"),
    cst.IfExp: ("test", "body", "orelse"),
    cst.FunctionDef: ("decorators", "params", "returns", "body"),
    cst.ClassDef: ("decorators", "bases", "keywords", "body"),
    cst.Try: ("body", "orelse", "handlers", "finalbody"),
    cst.TryStar: ("body", "orelse", "handlers", "finalbody"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.Assign: ("value", "targets"),
    cst.AnnAssign: ("annotation", "value", "target"),
    cst.AugAssign: ("value", "target"),
    cst.NamedExpr: ("value", "target"),
    cst.MatchCase: ("pattern", "guard", "body"),
}

_child_fields_by_type: dict[type, tuple[str, ...]] = {}


def _node_types() -> frozenset[type]:
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
NODE_TYPES = _node_types()
# The types a node can have exactly: the ones a hook can name.
CONCRETE_NODE_TYPES = frozenset(
    node_type
    for node_type in NODE_TYPES
    if not inspect.isabstract(node_type) and not node_type.__name__.startswith(("Base", "_"))
)


# Fields typed as text hold no node: a name's or a number's spelling, a string's quotes.
_TEXT_TYPES = (str, typing.Optional[str])


def syntax_fields(node_type: type) -> tuple[str, ...]:
    """The fields of ``node_type`` that hold syntax nodes, in evaluation order."""
    fields = _child_fields_by_type.get(node_type)
    if fields is None:
        types = typing.get_type_hints(node_type)
        fields = tuple(
            name
            for name in EVALUATION_ORDER.get(node_type) or (field.name for field in dataclasses.fields(node_type))
            if name not in _TRIVIA_FIELDS and not name.startswith("whitespace") and types.get(name) not in _TEXT_TYPES
        )
        _child_fields_by_type[node_type] = fields
    return fields


def field_children(value: object) -> list[cst.CSTNode]:
    """The syntax nodes held by one field's value: a node, a sequence of nodes, or nothing."""
    value_type = type(value)
    if value_type in NODE_TYPES:
        return [typing.cast(cst.CSTNode, value)]
    if value_type is tuple or value_type is list:
        return [item for item in typing.cast("Sequence[cst.CSTNode]", value) if type(item) in NODE_TYPES]
    return []


def syntax_children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The node's children that carry syntax, in evaluation order."""
    fields = _child_fields_by_type.get(type(node))
    if fields is None:
        fields = syntax_fields(type(node))
    children: list[cst.CSTNode] = []
    for name in fields:
        value = getattr(node, name)
        value_type = type(value)
        if value_type in NODE_TYPES:
            children.append(value)
        elif value_type is tuple or value_type is list:
            for item in value:
                if type(item) in NODE_TYPES:
                    children.append(item)
    return children


# Nodes that open a scope of their own: code in them runs when they are called, not where they
# are written.
_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def nodes_in_scope(*roots: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Every node of ``roots`` (themselves included), depth first, neither entering nor
    yielding the functions, classes and lambdas nested in them: the code that runs where it is
    written. The caller may stop early; the order among siblings is unspecified."""
    pending = list(roots)
    while pending:
        node = pending.pop()
        if type(node) in _NESTED_SCOPES:
            continue
        yield node
        pending.extend(syntax_children(node))


def _variables(node: cst.CSTNode, outside: cst.CSTNode | None = None) -> Iterator[cst.Name]:
    """The names in ``node`` (itself included) that are variables: not the attribute of an
    attribute (``x.i``) or the keyword of an argument (``f(i=0)``), which are only spelled so;
    none within ``outside``, a node of ``node``'s tree."""
    stack = [node]
    while stack:
        current = stack.pop()
        current_type = type(current)
        if current is outside:
            continue
        if current_type is cst.Name:
            yield typing.cast(cst.Name, current)
        elif current_type is cst.Attribute or current_type is cst.Arg:
            stack.append(typing.cast("cst.Attribute | cst.Arg", current).value)
        else:
            stack.extend(syntax_children(current))


def names_in(node: cst.CSTNode) -> set[str]:
    """Every variable ``node`` reads or binds, itself included (attribute and keyword names
    are not variables)."""
    return {name.value for name in _variables(node)}


def mentions(node: cst.CSTNode, names: str | Collection[str], outside: cst.CSTNode | None = None) -> bool:
    """``node`` (itself included) reads or binds a variable called ``names`` (one name) or one
    of ``names`` other than within ``outside`` (a node of its tree); attribute and keyword names
    spelled alike do not count."""
    if type(names) is str:
        return any(name.value == names for name in _variables(node, outside))
    return any(name.value in names for name in _variables(node, outside))


_EXPRESSION_TYPES = frozenset(node_type for node_type in NODE_TYPES if issubclass(node_type, cst.BaseExpression))
_SMALL_STATEMENT_TYPES = frozenset(
    node_type for node_type in NODE_TYPES if issubclass(node_type, cst.BaseSmallStatement)
)


def small_statements(tree: cst.CSTNode, skip: type | None = None) -> Iterator[cst.BaseSmallStatement]:
    """The simple statements (``x = 1``, ``return x``) anywhere in ``tree``, nested functions'
    included, without walking into any expression (none holds a statement, a lambda's body
    neither); the subtrees of ``skip`` nodes (nested classes) are left out."""
    stack = [tree]
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type in _SMALL_STATEMENT_TYPES:
            yield typing.cast(cst.BaseSmallStatement, node)  # its type is one of _SMALL_STATEMENT_TYPES
        elif node_type is not skip and node_type not in _EXPRESSION_TYPES:
            stack.extend(syntax_children(node))


def simple_body(body: cst.BaseSuite) -> list[cst.BaseSmallStatement]:
    """The simple statements of a block (a loop's or a ``with``'s body) in order, or an empty
    list when it holds a compound statement (an ``if``, a nested loop)."""
    if type(body) is cst.SimpleStatementSuite:
        return list(body.body)
    statements: list[cst.BaseSmallStatement] = []
    for line in body.body:
        if type(line) is not cst.SimpleStatementLine:
            return []
        statements.extend(line.body)
    return statements


def contains(tree: cst.CSTNode, part: cst.CSTNode) -> bool:
    """``part`` is ``tree`` itself or a node of its subtree (by identity)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is part:
            return True
        stack.extend(syntax_children(node))
    return False


def mention_count(node: cst.CSTNode, name: str) -> int:
    """How many times ``node`` (itself included) reads or binds the variable ``name``."""
    return sum(1 for variable in _variables(node) if variable.value == name)


def root_name(expr: cst.BaseExpression) -> str | None:
    """The name an expression takes its value from through subscripts, attributes and method
    calls: ``batch`` for ``batch["image"].float()``; None for anything else."""
    while True:
        if type(expr) is cst.Name:
            return expr.value
        if type(expr) is cst.Subscript or type(expr) is cst.Attribute:
            expr = expr.value
        elif type(expr) is cst.Call and type(expr.func) is cst.Attribute:
            expr = expr.func.value
        else:
            return None


def contains_walrus(node: cst.CSTNode) -> bool:
    """``node`` holds an assignment expression (``(n := len(x))``) anywhere inside it."""
    pending = [node]
    while pending:
        current = pending.pop()
        if type(current) is cst.NamedExpr:
            return True
        pending.extend(syntax_children(current))
    return False
