"""Messages quote the user's code on one line: every rule, on its INVALID examples and on the
same examples with every call's arguments spread over lines with comments."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.quoting import MAX_QUOTED_LENGTH, quote, quote_receiver
from perflint.rules import all_rules


class _ArgumentsOnTheirOwnLines(cst.CSTTransformer):
    """``f(a, b)`` becomes ``f(  # call\\n    a,  # argument\\n    b)``: legal wherever a call is."""

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not updated.args:
            return updated
        args = [
            arg.with_changes(comma=arg.comma.with_changes(whitespace_after=_broken_line("# argument")))
            if isinstance(arg.comma, cst.Comma)
            else arg
            for arg in updated.args
        ]
        return updated.with_changes(whitespace_before_args=_broken_line("# call"), args=args)


def _broken_line(comment: str) -> cst.ParenthesizedWhitespace:
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(comment)),
        indent=True,
        last_line=cst.SimpleWhitespace("    "),
    )


def _spread(code: str) -> str:
    return cst.parse_module(code).visit(_ArgumentsOnTheirOwnLines()).code


CASES = [
    pytest.param(rule, variant(example.code), id=f"{rule.code}-invalid-{index}-{variant.__name__}")
    for rule in all_rules()
    for index, example in enumerate(rule.INVALID)
    for variant in (str, _spread)
]


@pytest.mark.parametrize(("rule", "code"), CASES)
def test_every_message_and_fix_title_is_one_line_without_comments(rule, code, findings_of):
    findings = findings_of(rule, code)
    assert findings, "the example (or its spread-out variant) is no longer flagged"
    for finding in findings:
        assert "\n" not in finding.message and "\r" not in finding.message
        assert "# argument" not in finding.message and "# call" not in finding.message
        if finding.fix is not None:
            assert "\n" not in finding.fix.message and "# argument" not in finding.fix.message


def test_a_quote_joins_lines_drops_comments_and_keeps_spacing_within_a_line():
    code = "torch.tensor(  # rows\n    data,   # the rows\n    device = 'cuda',\n)"
    assert quote(cst.parse_expression(code)) == "torch.tensor(data, device = 'cuda')"
    assert quote("(single,\n)") == "(single,)"  # a one-element tuple keeps its comma
    assert quote("np.sum(x) \\\n    + 1") == "np.sum(x) + 1"
    assert quote("'#' + x") == "'#' + x"
    assert quote('"""two\nlines""" + x') == '"""two\\nlines""" + x'


def test_a_long_quote_is_cut_with_an_ellipsis():
    quoted = quote(cst.parse_expression("f(" + ", ".join(["argument"] * 40) + ")"))
    assert len(quoted) == MAX_QUOTED_LENGTH and quoted.endswith("…")


def test_an_operand_on_its_own_line_outside_the_expressions_brackets_is_not_a_new_statement():
    module = cst.parse_module("bf = (\n    e_vectors\n    @ e_values\n    @ inv(m)\n)\n")
    product = module.body[0].body[0].value
    assert quote(product.left) == "e_vectors @ e_values"


@pytest.mark.parametrize(
    ("code", "quoted"),
    [
        ("torch.max(X, dim=0)[0] + 1", "(torch.max(X, dim=0)[0] + 1)"),
        ("-x", "(-x)"),
        ("1", "(1)"),
        ("a if c else b", "(a if c else b)"),
        ("x", "x"),
        ("self.scores[i]", "self.scores[i]"),
        ("f(x)", "f(x)"),
        ("(a + b)", "(a + b)"),
        ("[a, b]", "[a, b]"),
    ],
)
def test_a_receiver_is_parenthesised_only_where_a_method_could_not_follow_it(code, quoted):
    assert quote_receiver(cst.parse_expression(code)) == quoted
