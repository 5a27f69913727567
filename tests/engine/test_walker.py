"""Searching a subtree for a variable: one ``mentions`` and one ``names_in`` for every rule."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.walker import contains, mentions, names_in, simple_body, small_statements


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("f(self.y[X])", "X", True),
        ("f(self.X, X=1)", "X", False),  # an attribute and a keyword spelled alike
        ("X", "X", True),  # the node itself
        ("[X for X in xs]", "X", True),  # a binding is a mention
        ("lambda X: 0", "X", True),
        ("a.b.X", "X", False),
    ],
)
def test_a_variable_is_mentioned_only_by_a_name_that_is_a_variable(text, name, expected):
    assert mentions(cst.parse_expression(text), name) is expected


def test_several_names_are_searched_at_once():
    expr = cst.parse_expression("f(a.b, k=c)")
    assert mentions(expr, {"c", "z"}) and not mentions(expr, ["b", "k"])


def test_the_names_within_a_node_left_outside_are_not_searched():
    module = cst.parse_module("moved = x.cuda()\nprint(x)\n")
    assign = module.body[0].body[0]
    assert not mentions(module, "moved", outside=assign) and mentions(module, "moved")
    assert mentions(module, "x", outside=assign) and not mentions(module, ["x", "moved"], outside=module)


def test_names_in_lists_the_variables_and_not_attribute_or_keyword_names():
    assert names_in(cst.parse_expression("a.b(c, k=d)")) == {"a", "c", "d"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("for i in x:\n    a = 1; b = 2\n    c = 3\n", ["a", "b", "c"]),
        ("for i in x: a = 1; b = 2\n", ["a", "b"]),
        ("for i in x:\n    a = 1\n    if i:\n        b = 2\n", []),  # a compound statement
    ],
)
def test_simple_body_lists_a_blocks_simple_statements_or_none(source, expected):
    loop = cst.parse_module(source).body[0]
    statements = simple_body(loop.body)
    assert [statement.targets[0].target.value for statement in statements] == expected


def test_contains_finds_a_node_by_identity_in_the_tree_itself_included():
    tree = cst.parse_expression("f(a, g(b))")
    inner = tree.args[1].value
    assert contains(tree, inner) and contains(tree, tree) and contains(inner, inner)
    assert not contains(inner, tree)
    assert not contains(tree, cst.parse_expression("g(b)"))  # equal, but another node


def test_small_statements_lists_every_simple_statement_nested_ones_included_but_skipped_subtrees():
    module = cst.parse_module(
        "a = 1\n"
        "if c:\n    b = 2\nelse:\n    pass\n"
        "def f():\n    for x in xs:\n        return x\n"
        "class Inner:\n    d = 3\n"
        "g = lambda: 4\n"
    )
    found = {cst.Module([]).code_for_node(node) for node in small_statements(module, skip=cst.ClassDef)}
    assert found == {"a = 1", "b = 2", "pass", "return x", "g = lambda: 4"}
