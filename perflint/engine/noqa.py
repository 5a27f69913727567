"""``# noqa`` and ``# noqa: PFL101,PFL2`` on the reported line, with flake8's semantics."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Sequence

from perflint.engine.findings import Finding

# flake8's own pattern: codes are separated by commas and/or whitespace.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def noqa_lines(source: str) -> list[str]:
    """For each physical line, the text searched for ``# noqa``, as flake8 does it: the whole
    of a line continued with backslashes or holding a multi-line string, else the line itself.

    Tokenizing costs time, so it happens only when the file has a ``noqa`` comment at all.
    """
    # Universal newlines: a file with lone ``\r`` line endings has many lines, not one.
    lines = io.StringIO(source, newline=None).readlines()
    if "noqa" not in source.lower():
        return lines
    searched = list(lines)
    first, last = len(lines) + 1, 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source, newline=None).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            first, last = min(first, token.start[0]), max(last, token.end[0])
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                if last > first:
                    joined = "".join(lines[first - 1 : last])
                    searched[first - 1 : last] = [joined] * (last - first + 1)
                first, last = len(lines) + 1, 0
    except (tokenize.TokenError, SyntaxError):
        return lines
    return searched


def suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    if not 1 <= finding.line <= len(lines):
        return False
    line = lines[finding.line - 1]
    if "noqa" not in line.lower():
        return False
    match = _NOQA.search(line)
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return any(finding.code.upper().startswith(code.upper()) for code in _CODE.findall(codes))
