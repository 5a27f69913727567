"""Code actions: each finding's fix, "fix all safe fixes in file", and ``# noqa`` insertion.

A finding's fix is text edits of the file (``SuggestedFix``, computed for the findings of the
range asked about, see ``perflint.server.server``), so a quick fix is those edits in the
client's units. "Fix all" runs the engine's ``fix_source``, the same passes and
refusals as ``perflint check --fix``, and replaces the buffer's text with the result.
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace.position_codec import PositionCodec

from perflint.engine.findings import INTERNAL_ERROR_CODE, Edit, Finding
from perflint.engine.noqa import _NOQA
from perflint.server.diagnostics import client_range, to_diagnostic

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.perflint"
FIX_ALL_TITLE = "perflint: Fix all safe fixes in file"
UNSAFE_LABEL = " (unsafe)"


def requested(kind: str, only: Sequence[str] | None) -> bool:
    """Whether the client asked for actions of ``kind``: kinds are hierarchical, so asking
    for ``source.fixAll`` includes ``source.fixAll.perflint``."""
    return only is None or any(kind == wanted or kind.startswith(f"{wanted}.") for wanted in only)


def may_have_fix(finding: Finding) -> bool:
    """Whether the finding's rule offers fixes: then its edits are worth computing for an action."""
    from perflint.rules import rule_by_code

    rule = rule_by_code(finding.code)
    return rule is not None and rule.autofix


def text_edit(edit: Edit, lines: Sequence[str], codec: PositionCodec) -> types.TextEdit:
    return types.TextEdit(
        range=client_range(edit.line, edit.column, edit.end_line, edit.end_column, lines, codec), new_text=edit.content
    )


def quick_fix(finding: Finding, uri: str, lines: Sequence[str], codec: PositionCodec) -> types.CodeAction | None:
    """The finding's fix as a quick fix: preferred when safe, labelled when unsafe."""
    fix = finding.fix
    if fix is None:
        return None
    safe = fix.applicability == "safe"
    return types.CodeAction(
        title=f"{fix.message} ({finding.code}){'' if safe else UNSAFE_LABEL}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[to_diagnostic(finding, lines, codec)],
        is_preferred=safe,
        edit=types.WorkspaceEdit(changes={uri: [text_edit(edit, lines, codec) for edit in fix.edits]}),
    )


def noqa_action(
    finding: Finding, uri: str, source: str, lines: Sequence[str], codec: PositionCodec
) -> types.CodeAction | None:
    """``# noqa: CODE`` for the finding's line; PFL000 (the file could not be linted) is no
    rule and cannot be suppressed."""
    if finding.code == INTERNAL_ERROR_CODE:
        return None
    edit = noqa_edit(source, finding.line, finding.code)
    return types.CodeAction(
        title=f"Suppress {finding.code} on this line (# noqa: {finding.code})",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[to_diagnostic(finding, lines, codec)],
        edit=types.WorkspaceEdit(changes={uri: [text_edit(edit, lines, codec)]}),
    )


def noqa_edit(source: str, line: int, code: str) -> Edit:
    """The edit that makes ``# noqa`` suppress ``code`` on ``line`` (1-based).

    flake8 reads a ``# noqa`` anywhere on a line continued with backslashes or holding a
    multi-line string (``perflint.engine.noqa.noqa_lines``), so the comment goes at the end
    of the last line of that stretch: never inside a string. An existing ``# noqa: A`` there
    gains the code (``# noqa: A, PFL101``); another comment keeps its text, the noqa follows it.
    """
    text_lines = io.StringIO(source).readlines()
    last = line
    comments: list[tokenize.TokenInfo] = []
    try:
        group_first, group_last, group_comments = len(text_lines) + 1, 0, []
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.ENDMARKER, tokenize.DEDENT, tokenize.INDENT):
                continue
            group_first, group_last = min(group_first, token.start[0]), max(group_last, token.end[0])
            if token.type == tokenize.COMMENT:
                group_comments.append(token)
            if token.type in (tokenize.NL, tokenize.NEWLINE):
                if group_first <= line <= group_last:
                    last, comments = group_last, group_comments
                    break
                group_first, group_last, group_comments = len(text_lines) + 1, 0, []
    except (tokenize.TokenError, SyntaxError):
        last, comments = line, []
    for comment in comments:
        match = _NOQA.search(comment.string)
        if match is not None and match.group("codes") is not None:
            codes_end = match.start("codes") + len(match.group("codes").rstrip(", \t"))
            row, column = comment.start[0], comment.start[1] + codes_end + 1
            return Edit(row, column, row, column, f", {code}")
    if last > len(text_lines):
        return Edit(last, 1, last, 1, f"# noqa: {code}")
    target = text_lines[last - 1]
    body = target.rstrip("\r\n")
    end = len(body.rstrip()) + 1
    return Edit(last, end, last, len(body) + 1, f"  # noqa: {code}")


def fix_all_action(uri: str, fixed: str, lines: Sequence[str], codec: PositionCodec) -> types.CodeAction:
    """Replace the whole buffer with its fixed text, as the engine's fix passes left it."""
    if not lines or lines[-1].endswith(("\n", "\r")):
        end = types.Position(line=len(lines), character=0)
    else:
        end = types.Position(line=len(lines) - 1, character=codec.client_num_units(lines[-1]))
    whole = types.Range(start=types.Position(line=0, character=0), end=end)
    return types.CodeAction(
        title=FIX_ALL_TITLE,
        kind=FIX_ALL_KIND,
        edit=types.WorkspaceEdit(changes={uri: [types.TextEdit(range=whole, new_text=fixed)]}),
    )
