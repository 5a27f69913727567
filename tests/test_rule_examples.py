"""Every rule's own VALID and INVALID examples, one test each (the rule module is the spec)."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules import all_rules

RULES = all_rules()

VALID_CASES = [
    pytest.param(rule, source, id=f"{rule.code}-valid-{index}")
    for rule in RULES
    for index, source in enumerate(rule.VALID)
]
INVALID_CASES = [
    pytest.param(rule, example, id=f"{rule.code}-invalid-{index}")
    for rule in RULES
    for index, example in enumerate(rule.INVALID)
]


@pytest.mark.parametrize(("rule", "source"), VALID_CASES)
def test_valid_example_is_silent(rule, source):
    assert lint_source(source, "example.py", [rule]) == []


@pytest.mark.parametrize(("rule", "example"), INVALID_CASES)
def test_invalid_example_is_flagged_once_on_its_line(rule, example):
    findings = lint_source(example.source, "example.py", [rule])
    assert [(finding.code, finding.line) for finding in findings] == [(rule.code, example.line)]


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
