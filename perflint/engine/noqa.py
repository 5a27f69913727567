"""``# noqa`` and ``# noqa: PFL101,PFL2`` on the reported line, with flake8's semantics."""

from __future__ import annotations

import re
from typing import Sequence

from perflint.engine.findings import Finding

# flake8's own pattern: codes are separated by commas and/or whitespace.
_NOQA = re.compile(r"# noqa(?::[\s]?(?P<codes>([A-Z]+[0-9]+(?:[,\s]+)?)+))?", re.IGNORECASE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


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
