"""What a rule reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

INTERNAL_ERROR_CODE = "PFL000"
INTERNAL_ERROR_NAME = "unlintable-file"


@dataclass(frozen=True)
class ProfileShare:
    """From ``--profile``: the function around a finding and its share of the profiled run;
    with ``--measure``, an estimated upper bound of what the fix saves, with its inputs."""

    function: str
    inclusive_seconds: float
    share: float  # of the whole run, 0..1
    estimated_saving_share: float | None = None
    estimate: str | None = None  # how the estimate was made, in words

    def to_dict(self) -> dict[str, Any]:
        return {"function": self.function, "inclusive_seconds": self.inclusive_seconds, "share": self.share}


@dataclass(frozen=True)
class Edit:
    """Replace the text from (``line``, ``column``) up to (``end_line``, ``end_column``),
    exclusive, with ``content``; 1-based, like a finding's range. Equal ends insert."""

    line: int
    column: int
    end_line: int
    end_column: int
    content: str


@dataclass(frozen=True)
class SuggestedFix:
    """A finding's fix as text edits of the file, applied all together or not at all.
    ``applicability`` is ``"safe"`` or ``"unsafe"``; ``message`` says what the fix does."""

    applicability: str
    message: str
    edits: tuple[Edit, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "applicability": self.applicability,
            "message": self.message,
            "edits": [asdict(edit) for edit in self.edits],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SuggestedFix:
        return cls(data["applicability"], data["message"], tuple(Edit(**edit) for edit in data["edits"]))


@dataclass(frozen=True)
class Finding:
    """One finding. Lines and columns are 1-based; the end is exclusive, as in Ruff's output.
    In a notebook, ``cell`` is the 1-based cell number and the lines are the cell's own.
    ``evidence`` says, for a rule whose cost is paid per execution, why the code runs often
    ("runs per batch: in `training_step`"); None for other rules. ``size`` is the size the code
    states for what the finding is about (a loop's trip count, a matrix's order), in the unit of
    the rule's benchmark, where the engine knows it; None otherwise."""

    code: str
    name: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    cell: int | None = None
    profile: ProfileShare | None = None
    fix: SuggestedFix | None = None
    evidence: str | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``fix`` is null when the rule offers none. ``size`` appears only where
        it is known, ``profile`` and ``estimated_saving_share`` only under ``--profile``."""
        data = asdict(self)
        data["fix"] = self.fix.to_dict() if self.fix is not None else None
        del data["profile"]
        if self.size is None:
            del data["size"]
        if self.profile is not None:
            data["profile"] = self.profile.to_dict()
            if self.profile.estimated_saving_share is not None:
                data["estimated_saving_share"] = self.profile.estimated_saving_share
                data["estimate"] = self.profile.estimate
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        fields = {
            key: value
            for key, value in data.items()
            if key not in ("fix", "profile", "estimated_saving_share", "estimate")
        }
        if data.get("fix") is not None:
            fields["fix"] = SuggestedFix.from_dict(data["fix"])
        if data.get("profile") is not None:
            fields["profile"] = ProfileShare(
                **data["profile"],
                estimated_saving_share=data.get("estimated_saving_share"),
                estimate=data.get("estimate"),
            )
        return cls(**fields)

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.path, self.cell or 0, self.line, self.column, self.code)


def fix_applies(finding: Finding, unsafe: bool) -> bool:
    """``finding`` has a fix that ``--fix`` applies (with ``--unsafe-fixes`` when ``unsafe``)."""
    return finding.fix is not None and (unsafe or finding.fix.applicability == "safe")


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
