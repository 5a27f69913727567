"""``# noqa`` suppresses findings on its own line only, whatever the file's line endings."""

from __future__ import annotations

import pytest

from perflint.engine.findings import Finding
from perflint.engine.noqa import noqa_lines, suppressed


def _at(line: int, code: str = "PFL101") -> Finding:
    return Finding(code=code, name="n", message="m", path="a.py", line=line, column=1, end_line=line, end_column=2)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_bare_noqa_suppresses_only_its_own_line(newline):
    source = newline.join(["x = 1", "y = 2  # noqa", "z = 3", ""])
    lines = noqa_lines(source)
    assert [suppressed(_at(line), lines) for line in (1, 2, 3)] == [False, True, False]


@pytest.mark.parametrize("newline", ["\n", "\r"])
def test_a_noqa_after_a_multi_line_string_covers_the_whole_statement(newline):
    source = newline.join(['x = """a', 'b"""  # noqa: PFL1', "y = 3", ""])
    lines = noqa_lines(source)
    assert [suppressed(_at(line), lines) for line in (1, 2, 3)] == [True, True, False]
    assert not suppressed(_at(1, "PFL201"), lines)
