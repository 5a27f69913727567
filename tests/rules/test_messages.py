"""Every rule's messages on its own INVALID examples, compared with a snapshot kept in
``tests/rules/snapshots/<CODE>.txt`` (as Ruff's snapshot tests do): a change of wording shows
up as a diff a reviewer reads. After a deliberate change, rewrite the snapshots with

    PERFLINT_UPDATE_SNAPSHOTS=1 pytest tests/rules/test_messages.py

and commit them with the change.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import pytest

from perflint.rules import all_rules

RULES = all_rules()
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("PERFLINT_UPDATE_SNAPSHOTS") == "1"


def rendered_messages(rule, findings_of) -> str:
    lines = []
    for index, example in enumerate(rule.INVALID):
        for finding in findings_of(rule, example.code):
            lines.append(f"invalid {index}, {finding.line}:{finding.column} {finding.code} {finding.message}")
            if finding.fix is not None:
                lines.append(f"    fix ({finding.fix.applicability}): {finding.fix.message}")
    return "\n".join(lines) + "\n"


def template_fields(rule) -> set[str]:
    """The ``{fields}`` of every message template the rule declares (``message``,
    ``message_rebuilt``…)."""
    fields = set()
    for attribute in dir(rule):
        template = getattr(rule, attribute)
        if attribute.startswith("message") and isinstance(template, str):
            fields |= {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return fields


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_every_message_field_is_filled_in_and_the_message_is_one_line(rule, findings_of):
    unfilled = [f"{{{field}}}" for field in template_fields(rule)]
    for example in rule.INVALID:
        for finding in findings_of(rule, example.code):
            assert not any(field in finding.message for field in unfilled), finding.message
            assert "\n" not in finding.message, finding.message


@pytest.mark.parametrize("rule", RULES, ids=[rule.code for rule in RULES])
def test_messages_match_their_snapshot(rule, findings_of):
    snapshot = SNAPSHOTS / f"{rule.code}.txt"
    current = rendered_messages(rule, findings_of)
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_text(current, encoding="utf-8")
    assert snapshot.is_file(), f"no snapshot for {rule.code}; run PERFLINT_UPDATE_SNAPSHOTS=1 pytest {__file__}"
    assert current == snapshot.read_text(encoding="utf-8")


def test_every_snapshot_belongs_to_a_rule():
    codes = {rule.code for rule in RULES}
    assert sorted(path.stem for path in SNAPSHOTS.glob("*.txt") if path.stem not in codes) == []
