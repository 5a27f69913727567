"""PFL403 beyond its examples: opt-in, its message, and the patterns it leaves alone."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules import select_rules
from perflint.rules.recomputation.regex_in_loop import RegexInLoop


def messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [RegexInLoop])]


def test_the_rule_is_opt_in():
    assert RegexInLoop not in select_rules()
    assert RegexInLoop in select_rules(select=["PFL403"])


def test_message_names_the_function_and_the_pattern():
    source = 'import re\nfor line in lines:\n    parts = re.split(r",\\s*", line)\n'
    assert messages(source) == [
        '`re.split` compiles or looks up r",\\s*" on every iteration; compile it once at module level'
    ]


@pytest.mark.parametrize(
    "call",
    ['PATTERN.sub(" ", line)', 're.sub(pattern, " ", line)', 're.sub(f"{sep}+", " ", line)', "re.escape(line)"],
)
def test_compiled_or_computed_patterns_are_not_flagged(call):
    assert messages(f"import re\nfor line in lines:\n    x = {call}\n") == []
