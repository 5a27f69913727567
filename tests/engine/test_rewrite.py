"""The shared building blocks of fixes: keyword arguments, references through imports, hoisting."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.fixes import fix_source
from perflint.engine.rewrite import (
    NewNames,
    code_of,
    hoist,
    name_for,
    only_read,
    reference,
    with_keyword,
    without_argument,
    without_keyword,
)
from perflint.engine.rule import Rule


def _call(text: str) -> cst.Call:
    return cst.parse_module(text).body[0].body[0].value


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("f()\n", "f(pin_memory=True)"),
        ("f(a)\n", "f(a, pin_memory=True)"),
        ("f(a, pin_memory=False)\n", "f(a, pin_memory=True)"),
        ("f(\n    a,\n    b,\n)\n", "f(\n    a,\n    b,\n    pin_memory=True,\n)"),
        ("f(\n    a,\n)\n", "f(\n    a,\n    pin_memory=True,\n)"),
        ("f(\n    a,\n    b,  # note\n)\n", "f(\n    a,\n    b,  # note\n    pin_memory=True,\n)"),
        (
            "f(\n    a,  # first\n    b,  # second\n)\n",
            "f(\n    a,  # first\n    b,  # second\n    pin_memory=True,\n)",
        ),
        ("f(a,\n  b)\n", "f(a,\n  b,\n  pin_memory=True)"),
        # Split over lines without a trailing comma: the keyword on its own line, no line ending
        # in a space, the last argument's comment kept on its line, the closing line as it was.
        ("f(\n    a\n)\n", "f(\n    a,\n    pin_memory=True\n)"),
        ("f(\n    a, b  # note\n)\n", "f(\n    a, b,  # note\n    pin_memory=True\n)"),
        ("f(\n        a,\n        b)\n", "f(\n        a,\n        b,\n        pin_memory=True)"),
        ("f(a, b\n)\n", "f(a, b, pin_memory=True\n)"),
        ("f(\n    a,\n    b,  # note\n)\n", "f(\n    a,\n    b,  # note\n    pin_memory=True,\n)"),
        ("f(\n    a,  # first\n    b,\n\n)\n", "f(\n    a,  # first\n    b,\n    pin_memory=True,\n\n)"),
    ],
)
def test_with_keyword_keeps_the_calls_layout(before, after):
    assert code_of(with_keyword(_call(before), "pin_memory", cst.Name("True"))) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("f(a, foreach=False)\n", "f(a)"),
        ("f(foreach=False, a=1)\n", "f(a=1)"),
        ("f(\n    a,\n    foreach=False,\n)\n", "f(\n    a,\n)"),
        ("f(a)\n", "f(a)"),
    ],
)
def test_without_keyword_leaves_tidy_separators(before, after):
    assert code_of(without_keyword(_call(before), "foreach")) == after


@pytest.mark.parametrize(
    ("before", "after"),
    [
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
    ],
)
def test_without_argument_drops_the_given_expression_unless_others_would_shift(before, after):
    call = _call(before)
    flag = next(
        argument.value for argument in call.args if type(argument.value) is cst.Name and argument.value.value == "False"
    )
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


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch as th\nhere()\n", ("th.from_numpy", ())),
        ("from torch import from_numpy\nhere()\n", ("from_numpy", ())),
        ("import torch\nhere()\n", ("torch.from_numpy", ())),
        ("here()\n", ("torch.from_numpy", ("import torch",))),
        ("torch = 3\nhere()\n", None),
    ],
)
def test_reference_names_a_function_through_the_files_imports(source, expected):
    assert _references(source, "torch.from_numpy") == [expected]


def test_reference_uses_the_conventional_alias_when_it_is_free():
    assert _references("here()\n", "numpy.stack") == [("np.stack", ("import numpy as np",))]
    assert _references("np = 1\nhere()\n", "numpy.stack") == [("numpy.stack", ("import numpy",))]


class HoistCompute(Rule):
    """``compute(…)`` in a loop, hoisted out of its innermost loop with ``rewrite.hoist``."""

    code = "PFL998"
    name = "hoist-compute"
    message = "hoist"
    fix_title = "Hoist"
    fix_safety = "unsafe"

    def visit_Module(self, node: cst.Module) -> None:
        self.names = NewNames()

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.context.innermost_loop
        if frame is not None and isinstance(node.func, cst.Name) and node.func.value == "compute":
            self.report(node, fix=hoist(self.context, node, frame.node, self.names, name_for(self.context, node)))


class OnlyReadCompute(Rule):
    """``compute(…)`` in a loop, reported where ``rewrite.only_read`` says its value is only read."""

    code = "PFL997"
    name = "only-read-compute"
    message = "only read"
    fix_title = "None"
    fix_safety = "unsafe"

    def visit_Call(self, node: cst.Call) -> None:
        frame = self.context.innermost_loop
        if frame is not None and isinstance(node.func, cst.Name) and node.func.value == "compute":
            if only_read(self.context, node, frame.node):
                self.report(node)


def test_only_read_follows_names_and_holds_in_branches_where_a_hoist_would_not():
    source = textwrap.dedent("""
        for x in xs:
            if x:
                eps = compute(1)
                y = x + eps
            kept.append(compute(2))
            z = model(compute(3))
    """)
    findings = lint_source(source, "m.py", [OnlyReadCompute])
    assert [finding.line for finding in findings] == [4]


def _hoisted(source: str) -> str:
    return fix_source(textwrap.dedent(source), "m.py", [HoistCompute], unsafe=True).source


def test_hoist_puts_the_value_above_the_loop_and_reads_it_wherever_the_loop_computes_it_alike():
    assert _hoisted("""
        for x in xs:
            y = compute(a.b) + x
            z = compute(a.b) * x
            if x:
                w = compute(a.b)
    """) == textwrap.dedent("""
        compute_a_b = compute(a.b)
        for x in xs:
            y = compute_a_b + x
            z = compute_a_b * x
            if x:
                w = compute_a_b
    """)


def test_hoist_out_of_a_comprehension_goes_above_its_statement_in_the_same_block():
    assert _hoisted("""
        def f(xs):
            if xs:
                ys = [compute(a) * x for x in xs if x]
            return ys
    """) == textwrap.dedent("""
        def f(xs):
            if xs:
                compute_a = compute(a)
                ys = [compute_a * x for x in xs if x]
            return ys
    """)


@pytest.mark.parametrize(
    "source",
    [
        # Only on some iterations: under an `if`, behind `and`, in a conditional expression.
        "for x in xs:\n    if x:\n        y = compute(a)\n",
        "for x in xs:\n    y = x and compute(a)\n",
        "while t:\n    y = compute(a) if t > 1 else 0\n",
        # In a `try` or `with` block, an exception handler, a nested function.
        "for x in xs:\n    try:\n        y = compute(a)\n    except E:\n        pass\n",
        "for x in xs:\n    with ctx:\n        y = compute(a)\n",
        # No statement runs the comprehension once: a `while` test, an `elif`, a short circuit,
        # a lambda, a class body, the element of another comprehension.
        "while any(compute(a) > x for x in xs):\n    a = a / 2\n",
        "if p:\n    pass\nelif [compute(a) for x in xs]:\n    pass\n",
        "y = p or [compute(a) for x in xs]\n",
        "f = lambda: [compute(a) for x in xs]\n",
        "class C:\n    ys = [compute(a) for x in xs]\n",
        "class C:\n    for x in xs:\n        y = compute(a) * x\n",
        "ys = [[compute(a) for x in xs] for a in bs]\n",
        "if p: ys = [compute(a) for x in xs]\n",
    ],
)
def test_hoist_offers_no_fix_where_the_value_would_be_computed_where_the_loop_would_not_compute_it(source):
    findings = lint_source(source, "m.py", [HoistCompute])
    assert findings and all(finding.fix is None for finding in findings)


def test_name_for_is_made_of_the_expressions_words_with_library_names_by_their_last_part():
    names = []

    class Name(Rule):
        code = "PFL997"
        name = "name"

        def visit_Call(self, node: cst.Call) -> None:
            if self.context.innermost_loop is None:
                names.append(name_for(self.context, node))

    lint_source("import numpy as np\nnp.linalg.inv(A)\nw.astype(np.float32, copy=True)\nnp.eye(3)\n", "m.py", [Name])
    assert names == ["inv_A", "w_astype_float32", "eye"]


@pytest.mark.parametrize(
    "source",
    [
        "for x in xs:\n    B = compute(a)\n    B *= x\n",
        "for x in xs:\n    B = compute(a)\n    row = B[0]\n    row += x\n",
        "for x in xs:\n    B = compute(a)\n    C = B\n",
        "for x in xs:\n    B = compute(a)\n    update(B.T)\n",
        "for x in xs:\n    B = compute(a)\n    out.append(B)\n",
        "for x in xs:\n    B = compute(a)\n    B.sort()\n",
        "for x in xs:\n    B = compute(a)\n    B[0] = x\n",
        "for x in xs:\n    u, s = compute(a)\n    s += 1\n",
        "for x in xs:\n    y = store(compute(a))\n",
        "ys = [compute(a) for x in xs]\n",
    ],
)
def test_hoist_offers_no_fix_where_the_loop_may_change_or_keep_the_value_each_iteration_had_anew(source):
    findings = lint_source(source, "m.py", [HoistCompute])
    assert findings and all(finding.fix is None for finding in findings)


def test_hoist_accepts_a_value_the_loop_only_reads():
    assert _hoisted("""
        for x in xs:
            u, s = compute(a)
            B = compute(b)
            y = (u.T @ x).sum() + B[0] - s.mean(axis=0) * x > 0
    """) == textwrap.dedent("""
        compute_a = compute(a)
        compute_b = compute(b)
        for x in xs:
            u, s = compute_a
            B = compute_b
            y = (u.T @ x).sum() + B[0] - s.mean(axis=0) * x > 0
    """)


def test_fixes_applied_together_never_bind_one_new_name_to_different_values():
    assert _hoisted("""
        def f(xs):
            for x in xs:
                y = compute(-a) * x
        def g(xs):
            for x in xs:
                y = compute(a) * x
                z = compute(a) + x
        for x in xs:
            y = compute(a) - x
    """) == textwrap.dedent("""
        def f(xs):
            compute_a = compute(-a)
            for x in xs:
                y = compute_a * x
        def g(xs):
            compute_a_2 = compute(a)
            for x in xs:
                y = compute_a_2 * x
                z = compute_a_2 + x
        compute_a_2 = compute(a)
        for x in xs:
            y = compute_a_2 - x
    """)


def test_the_context_gives_the_path_from_the_module_to_a_node():
    paths = []

    class Ask(Rule):
        code = "PFL999"
        name = "ask"

        def visit_Call(self, node: cst.Call) -> None:
            paths.append([type(step).__name__ for step in self.context.path_to(node)])

    lint_source("def f():\n    return g(1)\n", "m.py", [Ask])
    assert paths == [["Module", "FunctionDef", "IndentedBlock", "SimpleStatementLine", "Return", "Call"]]
