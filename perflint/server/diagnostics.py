"""Findings as LSP diagnostics: positions in the client's units, the code linked to its rule page.

A finding counts lines from 1 and columns from 1 in code points; LSP counts both from 0, and
columns in the code units the client asked for (UTF-16 unless it chose otherwise), which
pygls's position codec converts to.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

import perflint
from perflint.docs import PAGES_FOLDER
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding

SOURCE = "perflint"
# The generated rule pages (``rules/PFLxxx.md``) live in perflint's own checkout, beside the
# package; an installed copy has none, and its diagnostics carry no link.
CHECKOUT = Path(perflint.__file__).resolve().parent.parent


@cache
def rule_page_uri(code: str) -> str | None:
    """The ``file:`` URI of the rule's page where it exists, else None."""
    page = CHECKOUT / PAGES_FOLDER / f"{code}.md"
    return page.as_uri() if page.is_file() else None


def lines_of(text: str) -> list[str]:
    """The text's lines as findings count them: ended by ``\\n`` only (``str.splitlines``
    would also split at form feeds and other separators that Python's tokenizer does not)."""
    return io.StringIO(text).readlines()


def client_range(
    line: int, column: int, end_line: int, end_column: int, lines: Sequence[str], codec: PositionCodec
) -> types.Range:
    """A finding-style range (1-based, code points, end exclusive) in the client's units."""
    start = codec.position_to_client_units(lines, types.Position(line=max(line - 1, 0), character=max(column - 1, 0)))
    end = codec.position_to_client_units(
        lines, types.Position(line=max(end_line - 1, 0), character=max(end_column - 1, 0))
    )
    return types.Range(start=start, end=end)


def finding_range(finding: Finding, lines: Sequence[str], codec: PositionCodec) -> types.Range:
    return client_range(finding.line, finding.column, finding.end_line, finding.end_column, lines, codec)


def to_diagnostic(finding: Finding, lines: Sequence[str], codec: PositionCodec) -> types.Diagnostic:
    href = rule_page_uri(finding.code)
    return types.Diagnostic(
        range=finding_range(finding, lines, codec),
        message=finding.message,
        severity=types.DiagnosticSeverity.Error
        if finding.code == INTERNAL_ERROR_CODE
        else types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(href=href) if href is not None else None,
        source=SOURCE,
    )


def contains(finding: Finding, line: int, column: int) -> bool:
    """Whether the 1-based (``line``, ``column``) in code points lies in the finding's range,
    its end included (a cursor just after the flagged text still hovers it)."""
    if (line, column) < (finding.line, finding.column):
        return False
    return (line, column) <= (finding.end_line, finding.end_column)
