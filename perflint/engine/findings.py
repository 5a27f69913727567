"""What a rule reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Optional

INTERNAL_ERROR_CODE = "PFL000"
INTERNAL_ERROR_NAME = "unlintable-file"


@dataclass(frozen=True)
class Fix:
    """A replacement for the reported source range (filled in by autofix; reserved now)."""

    title: str
    replacement: str
    safe: bool


@dataclass(frozen=True)
class Finding:
    """One finding. Lines and columns are 1-based; the end is exclusive, as in Ruff's output."""

    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fix: Optional[Fix] = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fix"] = asdict(self.fix) if self.fix is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        fix = data.get("fix")
        return cls(**{**data, "fix": Fix(**fix) if fix else None})

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)


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
