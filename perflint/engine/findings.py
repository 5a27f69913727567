"""What a rule reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

INTERNAL_ERROR_CODE = "PFL000"
INTERNAL_ERROR_NAME = "unlintable-file"


@dataclass(frozen=True)
class Finding:
    """One finding. Lines and columns are 1-based; the end is exclusive, as in Ruff's output.
    In a notebook, ``cell`` is the 1-based cell number and the lines are the cell's own."""

    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    cell: Optional[int] = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form. ``fix`` is reserved for autofix, which is not built yet: always null."""
        return {**asdict(self), "fix": None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(**{key: value for key, value in data.items() if key != "fix"})

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.line, self.column, self.code)


def unlintable(path: str, reason: str, line: int = 1, column: int = 1) -> Finding:
    """The PFL000 finding for a file that could not be read, parsed or linted."""
    return Finding(
        code=INTERNAL_ERROR_CODE,
        name=INTERNAL_ERROR_NAME,
        message=reason,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
    )
