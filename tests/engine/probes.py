"""Asking the engine a question at chosen points of a source: the engine tests' probe."""

from __future__ import annotations

from typing import Any, Callable

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.linter import FileContext
from perflint.engine.rule import Rule


def probe_calls(source: str, question: Callable[[FileContext, cst.BaseExpression], Any]) -> dict[str, Any]:
    """Ask ``question`` at every ``print(expr)`` call, keyed by the text of ``expr``.

    ``print`` is a pure builtin, so asking there does not change the loop's effects.
    """
    answers: dict[str, Any] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "print"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                label = cst.Module([]).code_for_node(node.args[0].value)
                answers[label] = question(self.context, node.args[0].value)

    assert lint_source(source, "probe.py", [Probe]) == []
    return answers
