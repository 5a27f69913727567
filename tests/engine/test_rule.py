import libcst as cst
import pytest

from perflint.engine.linter import lint_source
from perflint.engine.rule import MessageTemplateError, Rule, message_fields
from perflint.rules import all_rules


class ForgetsToFormat(Rule):
    code = "PFL997"
    name = "forgets-to-format"
    message = "`{call}` is called; call `{fix}` instead"

    def visit_Call(self, node: cst.Call) -> None:
        self.report(node)


class FormatsItsMessage(ForgetsToFormat):
    def visit_Call(self, node: cst.Call) -> None:
        self.report(node, self.message.format(call="f()", fix="g()"))


def test_message_fields_are_the_named_fields_of_the_template_in_order():
    assert message_fields("`{call}` converts `{array}`; use `{array}.tolist()`") == ("call", "array")
    assert message_fields("no fields, {{literal braces}}") == ()


@pytest.mark.parametrize("template", ["`{}` is slow", "`{0}` is slow", "`{a.b}` is slow", "`{call` is slow"])
def test_a_template_with_a_positional_dotted_or_unclosed_field_is_refused(template):
    with pytest.raises(MessageTemplateError):
        message_fields(template)


def test_every_registered_rule_has_a_readable_template_with_fields():
    for rule in all_rules():
        assert message_fields(rule.message), rule.code


def test_reporting_the_template_unformatted_is_an_internal_error_not_braces_in_a_message():
    findings = lint_source("f()\n", "example.py", [ForgetsToFormat])
    assert [finding.code for finding in findings] == ["PFL000"]
    assert "reported its message template unformatted; its fields are call, fix" in findings[0].message
    assert "{call}" not in findings[0].message


def test_a_formatted_message_is_reported_as_written():
    (finding,) = lint_source("f()\n", "example.py", [FormatsItsMessage])
    assert (finding.code, finding.message) == ("PFL997", "`f()` is called; call `g()` instead")
