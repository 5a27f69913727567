"""Every rule's own VALID and INVALID examples, one test each (the rule module is the spec)."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.engine.fixes import fix_source
from perflint.engine.linter import enabled_for_source
from perflint.engine.rule import NO_FIX, example_code
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
        "in tests/engine/test_linter.py"
    )


@pytest.mark.parametrize(("rule", "code"), VALID_CASES)
def test_valid_example_reaches_the_detector_and_is_silent(rule, code):
    assert_reaches_the_detector(rule, code)
    assert lint_source(code, "example.py", [rule]) == []


@pytest.mark.parametrize(("rule", "example"), INVALID_CASES)
def test_invalid_example_is_flagged_once_at_its_position(rule, example, findings_of):
    assert_reaches_the_detector(rule, example.code)
    findings = findings_of(rule, example.code)
    assert [(finding.code, finding.line) for finding in findings] == [(rule.code, example.line)]
    if example.column is not None:
        assert findings[0].column == example.column


@pytest.mark.parametrize(("rule", "example"), INVALID_CASES)
def test_invalid_example_is_fixed_into_its_fixed_source_which_stays_fixed(rule, example, findings_of):
    """A rule with an autofix declares, for every INVALID example, the source ``--fix
    --unsafe-fixes`` makes of it (or ``NO_FIX``); that source compiles, and fixing it again
    changes nothing. A rule without one offers no fix and declares no fixed source."""
    [finding] = findings_of(rule, example.code)
    if not rule.autofix:
        assert finding.fix is None and example.fixed is None
        return
    assert example.fixed is not None, f"{rule.code} has an autofix: say what this example becomes, or NO_FIX"
    if example.fixed == NO_FIX:
        assert finding.fix is None
        return
    assert finding.fix is not None
    outcome = fix_source(example.code, "example.py", [rule], unsafe=True)
    assert outcome.source == example.fixed_code
    assert outcome.fixed >= 1 and outcome.refused == ()
    compile(outcome.source, "example.py", "exec")
    again = fix_source(outcome.source, "example.py", [rule], unsafe=True)
    assert again.source == outcome.source and again.fixed == 0


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_a_rule_with_an_autofix_fixes_some_example_with_each_safety_it_declares(rule, findings_of):
    if not rule.autofix:
        assert rule.fix_safeties == ()
        return
    assert any(example.fixed not in (None, NO_FIX) for example in rule.INVALID)
    shown = {
        finding.fix.applicability
        for example in rule.INVALID
        for finding in findings_of(rule, example.code)
        if finding.fix is not None
    }
    assert shown == set(rule.fix_safeties or (rule.fix_safety,))


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_rule_has_enough_examples_and_documentation(rule):
    assert len(rule.VALID) >= 3 and len(rule.INVALID) >= 3
    for attribute in (
        "summary",
        "message",
        "fix_title",
        "what_it_does",
        "known_limitations",
        "why_bad",
        "example",
        "use_instead",
        "fix_safety_note",
        "reported_at",
    ):
        assert getattr(rule, attribute).strip(), f"{rule.code} lacks {attribute}"
    assert rule.benchmark is not None, f"{rule.code} has no micro-benchmark"


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_documented_example_is_flagged_and_its_replacement_is_not(rule):
    assert [finding.code for finding in lint_source(rule.example, "example.py", [rule])] == [rule.code]
    # The replacement often lacks the text the pre-filter looks for: the detector decides it.
    assert lint_source(rule.use_instead, "example.py", [rule], prefilter=False) == []
