"""PFL403 beyond its examples: opt-in, its message, and the patterns it leaves alone."""

from __future__ import annotations

import re

import pytest

from perflint.engine import lint_source
from perflint.rules import select_rules
from perflint.rules.recomputation.regex_in_loop import RegexInLoop
from tests.rules.execution import assert_no_fix, call, dedented_and_fixed


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


# PFL403 regex-in-loop ------------------------------------------------------------------------

PFL403_CALLS = """
    import re as regex


    def every_form(lines):
        out = []
        for line in lines:
            out.append((
                regex.findall(r"\\w+", line),
                regex.sub(r"\\s+", "-", line, 2, regex.IGNORECASE),
                regex.subn(pattern=r"[aeiou]", repl="*", string=line, flags=regex.I | regex.M),
                regex.split(r",\\s*", line, 1),
                [m.span() for m in regex.finditer(r"o", line)],
                bool(regex.fullmatch(pattern=r"[a-z ,]+", string=line)),
                (regex.match(r"HELLO", line, regex.I) or regex.match(r"x", "x")).group(0),
                regex.search(rb"\\d+", line.encode()) is None,
                regex.compile(r"l+").sub("L", line),
            ))
        return out
"""


def test_pfl403_compiled_patterns_give_exactly_the_module_functions_results():
    original, fixed_source = dedented_and_fixed(PFL403_CALLS, RegexInLoop)
    assert "regex.findall(" not in fixed_source and "regex.sub(" not in fixed_source
    assert fixed_source.count("= regex.compile(") == 10
    assert 'regex.compile(r"\\s+", regex.IGNORECASE)' in fixed_source
    lines = ["Hello world, hello  again", "no match here", "a, b, c", "", "HELLO 42 oo"]
    assert call(original, "every_form", lines) == call(fixed_source, "every_form", lines)


def test_pfl403_one_constant_per_pattern_and_different_patterns_get_different_names():
    original, fixed_source = dedented_and_fixed(
        """
        import re
        def digits(names):
            return [re.sub("[^0-9]", "", name) for name in names]
        def letters(names):
            return [re.sub("[^a-z]", "", name) for name in names]
        def digits_again(names):
            return [re.sub("[^0-9]", "", name) for name in names]
        def digit_runs(names):
            return [re.sub("[^0-9]+", "", name) for name in names]
    """,
        RegexInLoop,
    )
    # One private constant per pattern, after the imports, named from what it matches.
    constants = re.findall(r"^(\w+) = re\.compile", fixed_source, re.M)
    assert sorted(constants) == ["_NON_DIGITS_PATTERN", "_NON_DIGITS_PATTERN_2", "_NON_LOWERCASE_PATTERN"]
    assert fixed_source.startswith("\nimport re\n\n_")
    names = ["a1b2", "c3", ""]
    for function in ("digits", "letters", "digits_again", "digit_runs"):
        assert call(original, function, names) == call(fixed_source, function, names)


def test_pfl403_keeps_each_comment_on_its_own_arguments_line():
    original, fixed_source = dedented_and_fixed(
        """
        import re
        def clean(lines):
            return [
                re.sub(
                    r",\\s*",
                    ";",  # the separator
                    line,  # each line
                    0,  # every match
                    re.M,
                )
                for line in lines
            ] + [
                re.sub(
                    r"\\s+",
                    " ",
                    line,  # no limit
                    flags=re.M
                )
                for line in lines
            ]
    """,
        RegexInLoop,
    )
    assert '    ";",  # the separator\n' in fixed_source
    assert "    line,  # each line\n" in fixed_source
    assert "    0,  # every match\n" in fixed_source
    assert "    line  # no limit\n" in fixed_source  # the call had no trailing comma
    assert fixed_source.count("#") == 4
    lines = ["a, b,c", "d  e"]
    assert call(original, "clean", lines) == call(fixed_source, "clean", lines)


def test_pfl403_offers_no_fix_when_a_removed_arguments_line_has_a_comment():
    assert_no_fix(
        """
        import re
        def clean(lines):
            return [re.sub(
                r"\\s+",  # runs of blanks
                " ",
                line,
            ) for line in lines]
    """,
        RegexInLoop,
    )
