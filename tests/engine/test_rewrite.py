"""The shared building blocks of fixes: keyword arguments, references through imports."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.rewrite import code_of, reference, with_keyword, without_argument, without_keyword
from perflint.engine.rule import Rule


def _call(text: str) -> cst.Call:
    return cst.parse_module(text).body[0].body[0].value


@pytest.mark.parametrize(("before", "after"), [
    ("f()\n", "f(pin_memory=True)"),
    ("f(a)\n", "f(a, pin_memory=True)"),
    ("f(a, pin_memory=False)\n", "f(a, pin_memory=True)"),
    ("f(\n    a,\n    b,\n)\n", "f(\n    a,\n    b,\n    pin_memory=True,\n)"),
    ("f(\n    a,\n)\n", "f(\n    a, pin_memory=True,\n)"),
    ("f(\n    a,\n    b,  # note\n)\n", "f(\n    a,\n    b,  # note\n    pin_memory=True,\n)"),
    ("f(\n    a,  # first\n    b,  # second\n)\n",
     "f(\n    a,  # first\n    b,  # second\n    pin_memory=True,\n)"),
    ("f(a,\n  b)\n", "f(a,\n  b, pin_memory=True)"),
])
def test_with_keyword_keeps_the_calls_layout(before, after):
    assert code_of(with_keyword(_call(before), "pin_memory", cst.Name("True"))) == after


@pytest.mark.parametrize(("before", "after"), [
    ("f(a, foreach=False)\n", "f(a)"),
    ("f(foreach=False, a=1)\n", "f(a=1)"),
    ("f(\n    a,\n    foreach=False,\n)\n", "f(\n    a,\n)"),
    ("f(a)\n", "f(a)"),
])
def test_without_keyword_leaves_tidy_separators(before, after):
    assert code_of(without_keyword(_call(before), "foreach")) == after


@pytest.mark.parametrize(("before", "after"), [
    ("f(a, False)\n", "f(a)"),
    ("f(False)\n", "f()"),
    ("f(\n    flag=False,\n)\n", "f()"),
    ("f(a, False, **options)\n", "f(a, **options)"),
    ("f(a, False, key=1)\n", "f(a, key=1)"),
    ("f(\n    a,\n    False,\n)\n", "f(\n    a,\n)"),
    ("f(\n    a,  # note\n    False,\n)\n", "f(\n    a,  # note\n)"),
    ("f(\n    a,  # note\n    False)\n", "f(\n    a,  # note\n    )"),
    ("f(a, flag=False)\n", "f(a)"),
    ("f(a, False, b)\n", None),
    ("f(a, False, *rest)\n", None),
])
def test_without_argument_drops_the_given_expression_unless_others_would_shift(before, after):
    call = _call(before)
    flag = next(argument.value for argument in call.args if type(argument.value) is cst.Name
                and argument.value.value == "False")
    dropped = without_argument(call, flag)
    assert (None if dropped is None else code_of(dropped)) == after


def test_without_argument_leaves_a_call_that_lacks_the_expression_alone():
    assert without_argument(_call("f(a, False)\n"), cst.Name("False")) is None


def _references(source: str, qualified: str):
    found = []

    class Ask(Rule):
        code = "PFL999"
        name = "ask"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "here":
                answer = reference(self.context, qualified)
                found.append(None if answer is None else (code_of(answer[0]), answer[1]))

    lint_source(source, "m.py", [Ask])
    return found


@pytest.mark.parametrize(("source", "expected"), [
    ("import torch as th\nhere()\n", ("th.from_numpy", ())),
    ("from torch import from_numpy\nhere()\n", ("from_numpy", ())),
    ("import torch\nhere()\n", ("torch.from_numpy", ())),
    ("here()\n", ("torch.from_numpy", ("import torch",))),
    ("torch = 3\nhere()\n", None),
])
def test_reference_names_a_function_through_the_files_imports(source, expected):
    assert _references(source, "torch.from_numpy") == [expected]


def test_reference_uses_the_conventional_alias_when_it_is_free():
    assert _references("here()\n", "numpy.stack") == [("np.stack", ("import numpy as np",))]
    assert _references("np = 1\nhere()\n", "numpy.stack") == [("numpy.stack", ("import numpy",))]
