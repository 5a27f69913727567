"""Every rule's own VALID and INVALID examples, one test each (the rule module is the spec)."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.engine.linter import enabled_for_source
from perflint.engine.rule import example_code
from perflint.rules import all_rules

RULES = all_rules()

VALID_CASES = [
    pytest.param(rule, example_code(source), id=f"{rule.code}-valid-{index}")
    for rule in RULES
    for index, source in enumerate(rule.VALID)
]
INVALID_CASES = [
    pytest.param(rule, example, id=f"{rule.code}-invalid-{index}")
    for rule in RULES
    for index, example in enumerate(rule.INVALID)
]


def assert_reaches_the_detector(rule, code: str) -> None:
    """The text pre-filter must not decide an example: the detector has to."""
    assert enabled_for_source(code, [rule]) == [rule], (
        f"{rule.code}'s pre-filter drops this example before the detector runs (it contains none "
        f"of {rule.required_text}); add an import the pre-filter sees, or test the pre-filter "
        "in tests/engine/test_prefilter.py"
    )


@pytest.mark.parametrize(("rule", "code"), VALID_CASES)
def test_valid_example_reaches_the_detector_and_is_silent(rule, code):
    assert_reaches_the_detector(rule, code)
    assert lint_source(code, "example.py", [rule]) == []


@pytest.mark.parametrize(("rule", "example"), INVALID_CASES)
def test_invalid_example_is_flagged_once_at_its_position(rule, example):
    assert_reaches_the_detector(rule, example.code)
    findings = lint_source(example.code, "example.py", [rule])
    assert [(finding.code, finding.line) for finding in findings] == [(rule.code, example.line)]
    if example.column is not None:
        assert findings[0].column == example.column


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_only_a_rule_with_an_autofix_declares_fixed_sources(rule):
    """A ``fixed=`` source is checked once autofix exists; until then none may claim one."""
    if not rule.autofix:
        assert [example.fixed for example in rule.INVALID if example.fixed is not None] == []


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_rule_has_enough_examples_and_documentation(rule):
    assert len(rule.VALID) >= 3 and len(rule.INVALID) >= 3
    for attribute in ("summary", "message", "fix_title", "what_it_does", "why_bad", "example",
                      "use_instead", "fix_safety_note", "reported_at"):
        assert getattr(rule, attribute).strip(), f"{rule.code} lacks {attribute}"
    assert rule.benchmark is not None, f"{rule.code} has no micro-benchmark"


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_documented_example_is_flagged_and_its_replacement_is_not(rule):
    assert [finding.code for finding in lint_source(rule.example, "example.py", [rule])] == [rule.code]
    assert lint_source(rule.use_instead, "example.py", [rule]) == []
