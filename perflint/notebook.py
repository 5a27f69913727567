"""Jupyter notebooks, linted as Ruff lints them: the code cells joined in order into one module.

The format (nbformat 4) is plain JSON, so the standard library reads it; nbformat is not needed.
IPython syntax that is not Python (``%timeit``, ``!pip``, ``x = !ls``, ``obj?``, ``%%bash``
cells) is neutralised line for line, so the joined module parses and every line keeps its
number; findings are then mapped back to their cell and the line within it, and a ``# noqa``
in a cell works because it sits on the same joined line. A notebook that cannot be read as one
is a PFL000 with the reason; a notebook whose kernel is not Python has nothing to lint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Callable

from perflint.engine.findings import Finding
from perflint.files import UnreadableSourceError

# A line that is an IPython line magic, a shell escape or a help request (`%time f()`, `!ls`,
# `?obj`, `obj?`, `obj??`).
_MAGIC_LINE = re.compile(r"^(\s*)(?:[%!?]|[\w.\[\]]+\?\??\s*$)")
# `x = %time f()` / `files = !ls`: the right-hand side is IPython.
_MAGIC_ASSIGNMENT = re.compile(r"^(\s*[\w.,\s\[\]()*]+?=\s*)[%!]")


@dataclass(frozen=True)
class NotebookSource:
    """The joined code and, for each of its lines, the cell number (1-based, counting every
    cell as Jupyter shows them) and the line within that cell."""

    source: str
    positions: tuple[tuple[int, int], ...]

    def locate(self, line: int) -> tuple[int, int]:
        if 1 <= line <= len(self.positions):
            return self.positions[line - 1]
        return self.positions[-1] if self.positions else (1, 1)


def _cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source)
    if isinstance(source, str):
        return source
    raise UnreadableSourceError("cannot read notebook: a cell's source is neither text nor a list of lines")


def neutralise(line: str) -> str:
    """The line with its IPython syntax replaced by Python that does nothing of note."""
    assignment = _MAGIC_ASSIGNMENT.match(line)
    if assignment:
        return assignment.group(1) + "None"
    magic = _MAGIC_LINE.match(line)
    if magic:
        return magic.group(1) + "pass"
    return line


def cell_lines(path: str, cell: int, data: bytes | None = None) -> list[str]:
    """The lines of cell ``cell`` (1-based) as written, for showing a finding; none if
    unreadable. From ``data`` when given (standard input's bytes), else from the file."""
    try:
        if data is None:
            with open(path, "rb") as stream:
                data = stream.read()
        cells = json.loads(data.decode("utf-8-sig"))["cells"]
        return _cell_text(cells[cell - 1]).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    except (OSError, ValueError, KeyError, IndexError, TypeError, RecursionError, UnreadableSourceError):
        return []


def read_notebook(data: bytes) -> NotebookSource:
    """The notebook's code as one module. Raises ``UnreadableSourceError`` with a one-line reason."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise UnreadableSourceError(f"cannot read notebook: not UTF-8 ({error.reason})") from None
    except ValueError as error:
        raise UnreadableSourceError(f"cannot read notebook: invalid JSON: {error}") from None
    except RecursionError:
        raise UnreadableSourceError(
            "cannot read notebook: its JSON is nested too deeply for Python's JSON parser"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        version = document.get("nbformat") if isinstance(document, dict) else None
        detail = f"nbformat {version} is not supported (4 is)" if version not in (None, 4) else "no list of cells"
        raise UnreadableSourceError(f"cannot read notebook: {detail}")
    lines: list[str] = []
    positions: list[tuple[int, int]] = []
    for number, cell in enumerate(document["cells"], start=1):
        if not isinstance(cell, dict):
            raise UnreadableSourceError(f"cannot read notebook: cell {number} is not an object")
        if cell.get("cell_type") != "code":
            continue
        cell_lines = _cell_text(cell).replace("\r\n", "\n").replace("\r", "\n").split("\n")
        whole_cell_magic = cell_lines[0].lstrip().startswith("%%")
        for line_number, line in enumerate(cell_lines, start=1):
            lines.append("" if whole_cell_magic else neutralise(line))
            positions.append((number, line_number))
    return NotebookSource("\n".join(lines) + "\n", tuple(positions))


def is_python_notebook(data: bytes) -> bool:
    """Whether the notebook's kernel runs Python (a notebook that says nothing is taken as Python)."""
    try:
        metadata = json.loads(data.decode("utf-8-sig")).get("metadata", {})
        language = (metadata.get("language_info") or {}).get("name") or (metadata.get("kernelspec") or {}).get(
            "language"
        )
    except (ValueError, AttributeError, UnicodeDecodeError, RecursionError):
        return True  # let read_notebook report what is wrong
    return not isinstance(language, str) or language.lower() == "python"


def lint_notebook(data: bytes, path: str, lint: Callable[[str], list[Finding]]) -> list[Finding]:
    """``lint`` run on the notebook's joined code, the findings placed in their cells. Their
    fixes are dropped: ``--fix`` does not rewrite notebooks, so none is offered."""
    if not is_python_notebook(data):
        return []
    notebook = read_notebook(data)
    placed = []
    for finding in lint(notebook.source):
        cell, line = notebook.locate(finding.line)
        end_cell, end_line = notebook.locate(finding.end_line)
        if end_cell != cell:  # a span cannot leave its cell; show its start
            end_line, end_column = line, finding.column
        else:
            end_column = finding.end_column
        placed.append(replace(finding, cell=cell, line=line, end_line=end_line, end_column=end_column, fix=None))
    return placed
