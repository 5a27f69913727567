"""Fixes: node changes turned into text edits, edits applied, passes, refusal of unparsable code."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.findings import Edit, SuggestedFix
from perflint.engine.fixes import MAX_PASSES, apply_fixes, fix_source
from perflint.engine.rewrite import InsertBefore, assignment, unused_name
from perflint.engine.rule import Change, Fix, Rule


class RenameSlow(Rule):
    """``slow(…)`` becomes ``fastlib.fast(…)``, importing fastlib."""

    code = "PFL991"
    name = "rename-slow"
    message = "slow"
    fix_title = "Call fastlib.fast"
    fix_safety = "safe"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "slow":
            replacement = cst.Attribute(cst.Name("fastlib"), cst.Name("fast"))
            self.report(node, fix=Fix.replace(node.func, replacement, imports=("import fastlib",)))


class HoistCompute(Rule):
    """``compute(a)`` inside a ``for`` loop is hoisted above the loop as ``hoisted``."""

    code = "PFL992"
    name = "hoist-compute"
    message = "hoist"
    fix_title = "Hoist"
    fix_safety = "unsafe"

    def __init__(self, context) -> None:
        super().__init__(context)
        self.loops: list[cst.For] = []

    def visit_For(self, node: cst.For) -> None:
        self.loops.append(node)

    def leave_For(self, node: cst.For) -> None:
        self.loops.pop()

    def visit_Call(self, node: cst.Call) -> None:
        if self.loops and isinstance(node.func, cst.Name) and node.func.value == "compute":
            loop = self.loops[-1]
            assignment = cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name("hoisted"))], node)], leading_lines=loop.leading_lines
            )
            self.report(
                node,
                fix=Fix(
                    (
                        Change(node, cst.Name("hoisted")),
                        Change(
                            loop,
                            lambda updated: cst.FlattenSentinel([assignment, updated.with_changes(leading_lines=())]),
                        ),
                    )
                ),
            )


class Unparsable(Rule):
    """``bad(…)`` becomes code that does not parse."""

    code = "PFL993"
    name = "unparsable"
    message = "bad"
    fix_title = "Break it"
    fix_safety = "safe"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "bad":
            broken = cst.Name("broken")
            object.__setattr__(broken, "value", "(((")  # past libcst's validation, as a buggy rule might get
            self.report(node, fix=Fix.replace(node.func, broken))


def test_a_fix_becomes_minimal_edits_with_its_import():
    source = "import os\nimport sys  # keep\n\nx = slow( 1,\n    2)  # note\n"
    [finding] = lint_source(source, "m.py", [RenameSlow])
    assert finding.fix == SuggestedFix(
        "safe",
        "Call fastlib.fast",
        (
            Edit(3, 1, 3, 1, "import fastlib\n"),
            Edit(4, 5, 4, 9, "fastlib.fast"),
        ),
    )
    outcome = fix_source(source, "m.py", [RenameSlow])
    assert outcome.source == "import os\nimport sys  # keep\nimport fastlib\n\nx = fastlib.fast( 1,\n    2)  # note\n"
    assert outcome.fixed == 1 and outcome.findings == []


def test_an_import_already_there_is_not_added_again_and_several_fixes_share_one():
    source = '"""Doc."""\nfrom __future__ import annotations\n\na = slow(1)\nb = slow(2)\n'
    outcome = fix_source(source, "m.py", [RenameSlow])
    assert outcome.source == (
        '"""Doc."""\nfrom __future__ import annotations\nimport fastlib\n\na = fastlib.fast(1)\nb = fastlib.fast(2)\n'
    )
    assert outcome.fixed == 2
    again = "import fastlib\na = slow(1)\n"
    assert fix_source(again, "m.py", [RenameSlow]).source == "import fastlib\na = fastlib.fast(1)\n"


def test_a_file_without_imports_gets_its_import_at_the_top_after_the_header_comments():
    source = "# licence\n\ndef f():\n    return slow(1)\n"
    assert fix_source(source, "m.py", [RenameSlow]).source == (
        "# licence\n\nimport fastlib\ndef f():\n    return fastlib.fast(1)\n"
    )


def test_a_hoist_keeps_indentation_comments_and_line_endings():
    source = (
        "def f(a, xs):\r\n    total = 0\r\n    # the loop\r\n    for x in xs:  # each\r\n"
        "        total += compute(a) * x\r\n    return total"
    )
    outcome = fix_source(source, "m.py", [HoistCompute], unsafe=True)
    assert outcome.source == (
        "def f(a, xs):\r\n    total = 0\r\n    # the loop\r\n    hoisted = compute(a)\r\n"
        "    for x in xs:  # each\r\n        total += hoisted * x\r\n    return total"
    )
    namespace: dict = {}
    exec(compile(outcome.source, "m.py", "exec"), {"compute": lambda a: a + 1}, namespace)
    assert namespace["f"](2, [1, 2]) == 9


def test_unsafe_fixes_wait_for_unsafe_fixes():
    source = "for x in xs:\n    y = compute(a)\n"
    outcome = fix_source(source, "m.py", [HoistCompute])
    assert outcome.source == source and outcome.fixed == 0 and [f.code for f in outcome.findings] == ["PFL992"]


def test_overlapping_fixes_are_applied_over_successive_passes():
    # Both hoists insert before the same loop: one per pass, the second recomputed on the new text.
    source = "for x in xs:\n    y = compute(a) + compute(b)\n"
    outcome = fix_source(source, "m.py", [HoistCompute], unsafe=True)
    assert outcome.fixed == 2
    assert outcome.findings == [] or all(f.code == "PFL992" for f in outcome.findings)
    assert outcome.source.count("hoisted = compute(") == 2


def test_a_fix_that_would_not_parse_is_refused_and_named_while_others_apply():
    source = "a = bad(1)\nb = slow(2)\n"
    outcome = fix_source(source, "m.py", [Unparsable, RenameSlow])
    assert outcome.source == "import fastlib\na = bad(1)\nb = fastlib.fast(2)\n"
    assert outcome.refused == ("PFL993",)
    assert [f.code for f in outcome.findings] == ["PFL000", "PFL993"]
    assert "PFL993" in outcome.findings[0].message


def test_a_fix_that_keeps_recreating_its_finding_stops_after_the_pass_limit():
    class Forever(RenameSlow):
        code = "PFL994"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "slow":
                self.report(
                    node, fix=Fix.replace(node, node.with_changes(args=(*node.args, cst.Arg(cst.Integer("0")))))
                )

    outcome = fix_source("x = slow()\n", "m.py", [Forever])
    assert outcome.fixed == MAX_PASSES
    assert outcome.source == "x = slow(" + ", ".join(["0"] * MAX_PASSES) + ")\n"


def test_apply_fixes_takes_identical_edits_once_and_skips_conflicts():
    source = "abcdef\n"
    first = SuggestedFix("safe", "", (Edit(1, 1, 1, 1, "X"), Edit(1, 2, 1, 3, "B")))
    shares_an_edit = SuggestedFix("safe", "", (Edit(1, 1, 1, 1, "X"), Edit(1, 4, 1, 5, "D")))
    overlaps = SuggestedFix("safe", "", (Edit(1, 2, 1, 4, "??"),))
    text, applied = apply_fixes(source, [overlaps, shares_an_edit, first])
    assert text == "XaBcDef\n"
    assert len(applied) == 2 and overlaps not in applied


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = slow(1)", "import fastlib\nx = fastlib.fast(1)"),
        ("x = slow(1)\n\n# end\n", "import fastlib\nx = fastlib.fast(1)\n\n# end\n"),
        ("import os\nx = slow(1)", "import os\nimport fastlib\nx = fastlib.fast(1)"),
        ("def f():\n    return slow(1)\nimport os", "import fastlib\ndef f():\n    return fastlib.fast(1)\nimport os"),
    ],
)
def test_the_file_end_is_kept(source, expected):
    assert fix_source(source, "m.py", [RenameSlow]).source == expected


class HoistFromComprehension(Rule):
    """``compute(a)`` in a comprehension is hoisted before the statement holding it."""

    code = "PFL995"
    name = "hoist-from-comprehension"
    message = "hoist"
    fix_title = "Hoist"
    fix_safety = "unsafe"

    comprehensions = 0

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self.comprehensions += 1

    def leave_ListComp(self, node: cst.ListComp) -> None:
        self.comprehensions -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self.comprehensions and isinstance(node.func, cst.Name) and node.func.value == "compute":
            name = unused_name(self.context, "computed")
            self.report(node, fix=Fix((Change(node, cst.Name(name)), InsertBefore(node, [assignment(name, node)]))))


def test_insert_before_finds_the_statement_in_its_block_and_keeps_comments_above():
    source = (
        "def f(a, xs):\n    if xs:\n        # squares\n        ys = [x * compute(a)\n"
        "              for x in xs]  # end\n        return ys\n"
    )
    outcome = fix_source(source, "m.py", [HoistFromComprehension], unsafe=True)
    assert outcome.source == (
        "def f(a, xs):\n    if xs:\n        # squares\n        computed = compute(a)\n"
        "        ys = [x * computed\n              for x in xs]  # end\n        return ys\n"
    )


def test_a_new_name_clashes_with_no_word_of_the_file():
    source = "computed = 1\ncomputed_2 = 2\nys = [compute(a) for x in xs]\n"
    outcome = fix_source(source, "m.py", [HoistFromComprehension], unsafe=True)
    assert "computed_3 = compute(a)\nys = [computed_3 for x in xs]\n" in outcome.source


def test_a_file_with_lone_carriage_returns_gets_its_fixes_and_keeps_its_line_endings():
    source = "import os\rx = slow(1)\r"  # libcst regenerates it exactly, statement by statement
    [finding] = lint_source(source, "m.py", [RenameSlow])
    assert finding.code == "PFL991" and finding.fix is not None and finding.line == 2
    assert fix_source(source, "m.py", [RenameSlow], unsafe=True).source == (
        "import os\rimport fastlib\rx = fastlib.fast(1)\r"
    )


class DropLastArgument(Rule):
    """``drop(a, b)`` loses its last argument, the way a careless rule leaves ``a, `` behind."""

    code = "PFL994"
    name = "drop-last-argument"
    message = "drop"
    fix_title = "Drop it"
    fix_safety = "safe"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "drop" and len(node.args) == 2:
            line_end = cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "))
            first = node.args[0].with_changes(
                comma=cst.Comma(
                    whitespace_after=cst.ParenthesizedWhitespace(
                        first_line=line_end, last_line=cst.SimpleWhitespace("")
                    )
                )
            )
            self.report(node, fix=Fix.replace(node, node.with_changes(args=[first])))


def test_a_fix_never_leaves_a_line_ending_in_whitespace_but_text_it_did_not_make_keeps_its_own():
    source = 'text = """kept   \n"""\ndrop(a,\n     b)\n'
    fixed = fix_source(source, "example.py", [DropLastArgument]).source
    assert fixed == 'text = """kept   \n"""\ndrop(a,\n)\n'
