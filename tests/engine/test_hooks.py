"""The hook contract: hooks checked at registration, and when each hook runs."""

from __future__ import annotations

from typing import Any

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.hooks import HookError, hooks_of
from perflint.engine.rule import Rule


def _text(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def test_a_hook_on_an_abstract_node_type_is_rejected_at_registration():
    class Abstract(Rule):
        code = "PFL998"
        name = "abstract"

        def visit_BaseExpression(self, node):
            pass

    with pytest.raises(HookError, match="BaseExpression is not a concrete libcst node type"):
        hooks_of(Abstract)


def test_a_hook_on_a_field_the_engine_does_not_walk_is_rejected_at_registration():
    class Whitespace(Rule):
        code = "PFL998"
        name = "whitespace"

        def visit_For_whitespace_after_for(self, node):
            pass

    with pytest.raises(HookError, match="not whitespace_after_for"):
        hooks_of(Whitespace)


def test_hook_timing_for_loops_and_assignments():
    seen: list[tuple[str, Any]] = []

    class Timing(Rule):
        code = "PFL998"
        name = "timing"

        def _loop(self) -> Any:
            frame = self.context.innermost_loop
            return None if frame is None else _text(frame.node.target)

        def visit_For(self, node):
            seen.append(("visit_For", self._loop()))

        def visit_For_body(self, node):
            seen.append(("visit_For_body", self._loop()))

        def leave_For(self, node):
            seen.append(("leave_For", self._loop()))

        def leave_Assign(self, node):
            seen.append(("leave_Assign", self.context.arrays.kind_of(cst.Name("a"))))

        def visit_Expr(self, node):
            seen.append(("after the assignment", self.context.arrays.kind_of(cst.Name("a"))))

    source = "import numpy as np\nfor x in xs:\n    for y in ys:\n        a = np.zeros(3)\n        a\n"
    assert lint_source(source, "timing.py", [Timing]) == []
    assert seen == [
        ("visit_For", None),
        ("visit_For_body", "x"),
        ("visit_For", "x"),
        ("visit_For_body", "y"),
        ("leave_Assign", None),
        ("after the assignment", "numpy"),
        ("leave_For", "x"),
        ("leave_For", None),
    ]
