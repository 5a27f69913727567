"""The human formats: ``concise`` (one line per finding) and ``full`` (plus source and fix hint).

Every line is built once as styled segments; a plain writer joins their text, and only a
terminal gets the rich writer, so piped output stays fast, byte-for-byte deterministic and
free of escape codes, and rich is imported only when colour is wanted.
"""

from __future__ import annotations

import tokenize
from collections.abc import Mapping, Sequence
from typing import TextIO, Union

from perflint.engine.findings import Finding, fix_applies
from perflint.output.common import CodeCount, RuleText, plural, profile_note, rule_text

Segment = Union[str, tuple[str, str]]

PATH_STYLE = "bold"
POSITION_STYLE = "dim"
CODE_STYLE = "bold red"
GUTTER_STYLE = "bold blue"
UNDERLINE_STYLE = "bold red"
HELP_STYLE = "cyan"
SUMMARY_STYLE = "bold"
PROFILE_STYLE = "yellow"
FIXABLE_STYLE = "bold cyan"


class PlainWriter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def line(self, *segments: Segment) -> None:
        text = "".join(segment if isinstance(segment, str) else segment[0] for segment in segments)
        self.stream.write(text + "\n")


class RichWriter:
    """Writes styled lines through rich.

    On a terminal rich reads its capabilities (``TERM=dumb`` and ``NO_COLOR`` turn colour off);
    colour asked for explicitly uses the 16 standard colours every terminal shows, even when
    the stream is not a terminal.
    """

    def __init__(self, stream: TextIO, forced: bool) -> None:
        from rich.console import Console
        from rich.text import Text

        self._text = Text
        self.console = Console(
            file=stream,
            force_terminal=True,
            color_system="standard" if forced else "auto",
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=True,
        )

    def line(self, *segments: Segment) -> None:
        self.console.print(self._text.assemble(*segments))


Writer = Union[PlainWriter, RichWriter]


def summary_line(findings: Sequence[Finding], files_checked: int, fixed: int | None = None) -> str:
    """``Found 3 findings in 2 files (10 checked).``, after ``--fix`` led by ``Fixed 2 findings.``"""
    fixed_note = f"Fixed {plural(fixed, 'finding')}. " if fixed else ""
    if not findings:
        if files_checked == 0:
            return fixed_note + "No files checked."
        return fixed_note + f"No findings in {plural(files_checked, 'file')} checked."
    files_with_findings = len({finding.path for finding in findings})
    return fixed_note + (
        f"Found {plural(len(findings), 'finding')} in {plural(files_with_findings, 'file')} ({files_checked} checked)."
    )


def fixable_line(findings: Sequence[Finding], unsafe_fixes: bool) -> str | None:
    """How many findings ``--fix`` would fix, and how many more ``--unsafe-fixes`` would, as
    Ruff says it; None when none has a fix."""
    safe = sum(1 for finding in findings if finding.fix is not None and finding.fix.applicability == "safe")
    unsafe = sum(1 for finding in findings if finding.fix is not None and finding.fix.applicability != "safe")
    if unsafe_fixes and safe + unsafe:
        return f"[*] {safe + unsafe} fixable with `perflint check --fix --unsafe-fixes`."
    if safe:
        hidden = f" ({unsafe} more with `--unsafe-fixes`)" if unsafe else ""
        return f"[*] {safe} fixable with `perflint check --fix`{hidden}."
    if unsafe:
        return (
            f"No safe fixes; {unsafe} fixable with `perflint check --fix --unsafe-fixes` "
            "(read each rule's fix safety first)."
        )
    return None


def position(finding: Finding) -> str:
    """``:line:column:``, or ``:cell N:line:column:`` in a notebook (as Ruff writes it)."""
    cell = f":cell {finding.cell}" if finding.cell is not None else ""
    return f"{cell}:{finding.line}:{finding.column}:"


def _heading(writer: Writer, finding: Finding, unsafe_fixes: bool) -> None:
    writer.line(
        (finding.path, PATH_STYLE),
        (position(finding), POSITION_STYLE),
        " ",
        (finding.code, CODE_STYLE),
        (" [*]", FIXABLE_STYLE) if fix_applies(finding, unsafe_fixes) else "",
        f" {finding.message}",
        (profile_note(finding), PROFILE_STYLE),
    )


def _underline(source_line: str, finding: Finding) -> str:
    """Spaces (tabs kept, so the carets align) up to the column, then a caret per character.

    A span running onto later lines is underlined to the end of its first line.
    """
    start = min(finding.column - 1, len(source_line))
    if finding.end_line == finding.line:
        end = min(finding.end_column - 1, len(source_line))
    else:
        end = len(source_line)
    indent = "".join(character if character == "\t" else " " for character in source_line[:start])
    return indent + "^" * max(end - start, 1)


def source_lines(path: str, cell: int | None = None, data: bytes | None = None) -> list[str]:
    """The file's lines as Python reads it (its encoding cookie honoured), or a notebook
    cell's lines, or none if unreadable; from ``data`` when given (standard input's bytes).

    Read directly rather than through ``linecache``, which looks a relative path up on
    ``sys.path`` when it is missing and could show a line of some other file.
    """
    if cell is not None:
        from perflint.notebook import cell_lines

        return cell_lines(path, cell, data)
    if data is not None:
        from perflint.files import UnreadableSourceError, decode_source

        try:
            text = decode_source(data)
        except UnreadableSourceError:
            return []
        return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    try:
        with tokenize.open(path) as source:
            return source.read().split("\n")
    except (OSError, SyntaxError, UnicodeDecodeError):
        return []


def _snippet(writer: Writer, finding: Finding, lines: list[str], text: RuleText) -> None:
    """The line with the finding underlined, then the fix: its own message when it has a fix
    (marked safe or unsafe), else the rule's advice."""
    source_line = lines[finding.line - 1].rstrip("\r") if 0 < finding.line <= len(lines) else ""
    if source_line:
        number = str(finding.line)
        gutter = " " * len(number)
        writer.line((f"{gutter} |", GUTTER_STYLE))
        writer.line((f"{number} | ", GUTTER_STYLE), source_line)
        writer.line((f"{gutter} | ", GUTTER_STYLE), (_underline(source_line, finding), UNDERLINE_STYLE))
        hint_indent = gutter
    else:
        hint_indent = ""
    if finding.fix is not None:
        writer.line((f"{hint_indent} = help: ", HELP_STYLE), f"{finding.fix.message} ({finding.fix.applicability} fix)")
    elif text.fix_title:
        writer.line((f"{hint_indent} = help: ", HELP_STYLE), text.fix_title)


def write_text(
    findings: Sequence[Finding],
    stream: TextIO,
    *,
    full: bool,
    files_checked: int,
    statistics: Sequence[CodeCount] | None,
    color: bool,
    color_forced: bool,
    fixed: int | None = None,
    unsafe_fixes: bool = False,
    buffers: Mapping[str, bytes | None] | None = None,
) -> None:
    """Findings, then the statistics when asked, then the summary (what ``--fix`` fixed, what
    remains, and what is fixable), a blank line apart. Fixable findings are marked ``[*]``.
    ``buffers``: see ``perflint.output.write_report``."""
    writer: Writer = RichWriter(stream, forced=color_forced) if color else PlainWriter(stream)
    texts: dict[str, RuleText] = {}
    files: dict[str, list[str]] = {}
    for index, finding in enumerate(findings):
        if full and index:
            writer.line()
        _heading(writer, finding, unsafe_fixes)
        if full:
            if finding.code not in texts:
                texts[finding.code] = rule_text(finding.code, finding.name)
            where = f"{finding.path}\0{finding.cell}"
            if where not in files:
                if buffers is not None and finding.path in buffers:
                    data = buffers[finding.path]
                    files[where] = [] if data is None else source_lines(finding.path, finding.cell, data)
                else:
                    files[where] = source_lines(finding.path, finding.cell)
            _snippet(writer, finding, files[where], texts[finding.code])
    if findings:
        writer.line()
    if statistics:
        write_statistics(writer, statistics)
        writer.line()
    writer.line((summary_line(findings, files_checked, fixed), SUMMARY_STYLE))
    fixable = fixable_line(findings, unsafe_fixes)
    if fixable:
        writer.line(fixable)


def write_statistics(writer: Writer, statistics: Sequence[CodeCount]) -> None:
    count_width = max(len(str(entry.count)) for entry in statistics)
    code_width = max(len(entry.code) for entry in statistics)
    for entry in statistics:
        writer.line(f"{entry.count:>{count_width}}  ", (f"{entry.code:<{code_width}}", CODE_STYLE), f"  {entry.name}")
