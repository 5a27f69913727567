"""The ``github`` format: GitHub Actions workflow commands that annotate the pull request diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding
from perflint.output.common import profile_note, repository_relative_path


def escape_data(value: str) -> str:
    """The message part: GitHub decodes ``%25``, ``%0D`` and ``%0A``; a raw newline ends the command."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A ``key=value`` property: as data, and ``:`` / ``,`` would end the value early."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    command = "error" if finding.code == INTERNAL_ERROR_CODE else "warning"
    properties = (
        ("file", repository_relative_path(finding.path)),
        ("line", str(finding.line)),
        ("col", str(finding.column)),
        ("endLine", str(finding.end_line)),
        ("endColumn", str(finding.end_column)),
        ("title", finding.code),
    )
    joined = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    # GitHub knows no notebook cells: the cell goes into the message, the lines are the cell's.
    message = f"cell {finding.cell}: {finding.message}" if finding.cell is not None else finding.message
    message += profile_note(finding)
    return f"::{command} {joined}::{escape_data(message)}"


def write_github(findings: Sequence[Finding], stream: TextIO) -> None:
    for finding in findings:
        stream.write(annotation(finding) + "\n")
