"""Where the "# noqa: PFLxxx" quick fix writes its comment, checked by applying the edit and
asking the engine's own noqa reading whether the finding is then suppressed."""

from __future__ import annotations

import pytest

pytest.importorskip("pygls")

from perflint.engine.findings import Edit, Finding  # noqa: E402
from perflint.engine.noqa import noqa_lines, suppressed  # noqa: E402
from perflint.server.code_actions import noqa_edit  # noqa: E402


def applied(source: str, edit: Edit) -> str:
    lines = source.splitlines(keepends=True)
    start = sum(len(line) for line in lines[: edit.line - 1]) + edit.column - 1
    end = sum(len(line) for line in lines[: edit.end_line - 1]) + edit.end_column - 1
    return source[:start] + edit.content + source[end:]


def finding_at(line: int, code: str = "PFL201") -> Finding:
    return Finding(code, "create-then-move", "message", "a.py", line, 1, line, 2)


def suppressed_after(source: str, line: int, code: str = "PFL201") -> tuple[str, bool]:
    fixed = applied(source, noqa_edit(source, line, code))
    return fixed, suppressed(finding_at(line, code), noqa_lines(fixed))


def test_a_plain_line_gets_a_noqa_comment_at_its_end():
    fixed, quiet = suppressed_after("import torch\nt = torch.zeros(3).to(d)   \nprint(t)\n", 2)
    assert fixed == "import torch\nt = torch.zeros(3).to(d)  # noqa: PFL201\nprint(t)\n"
    assert quiet


def test_an_existing_noqa_with_codes_gains_the_code():
    fixed, quiet = suppressed_after("t = torch.zeros(3).to(d)  # noqa: E501\n", 1)
    assert fixed == "t = torch.zeros(3).to(d)  # noqa: E501, PFL201\n"
    assert quiet


def test_another_comment_keeps_its_text_and_the_noqa_follows_it():
    fixed, quiet = suppressed_after("t = torch.zeros(3).to(d)  # move it\n", 1)
    assert fixed == "t = torch.zeros(3).to(d)  # move it  # noqa: PFL201\n"
    assert quiet


def test_a_line_opening_a_multi_line_string_gets_the_comment_after_the_string_not_inside_it():
    source = 't = f(torch.zeros(3).to(d), """a\nb""")\nx = 1\n'
    fixed, quiet = suppressed_after(source, 1)
    assert fixed == 't = f(torch.zeros(3).to(d), """a\nb""")  # noqa: PFL201\nx = 1\n'
    assert quiet


def test_a_backslash_continued_line_gets_the_comment_on_its_last_line():
    source = "t = torch.zeros(3) \\\n    .to(d)\n"
    fixed, quiet = suppressed_after(source, 1)
    assert fixed == "t = torch.zeros(3) \\\n    .to(d)  # noqa: PFL201\n"
    assert quiet


def test_the_last_line_without_a_newline_gets_the_comment_too():
    fixed, quiet = suppressed_after("x = 1\nt = torch.zeros(3).to(d)", 2)
    assert fixed == "x = 1\nt = torch.zeros(3).to(d)  # noqa: PFL201"
    assert quiet
