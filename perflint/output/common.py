"""What several output formats share: rule texts (PFL000 included), counts per code, paths."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from perflint.engine.findings import INTERNAL_ERROR_CODE, INTERNAL_ERROR_NAME, Finding


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


@dataclass(frozen=True)
class RuleText:
    """The documentation an output format shows for one code."""

    code: str
    name: str
    summary: str
    what_it_does: str
    why_bad: str
    fix_title: str
    example: str = ""
    use_instead: str = ""
    family: str = ""


UNLINTABLE_FILE = RuleText(
    code=INTERNAL_ERROR_CODE,
    name=INTERNAL_ERROR_NAME,
    summary="File could not be read, parsed or linted",
    what_it_does=(
        "Reported when perflint cannot read a file (missing, unreadable or undecodable bytes) or "
        "parse it as Python, in place of its findings, and when a rule fails internally on a "
        "file, alongside the findings of the other rules. The message gives the reason."
    ),
    why_bad=("perflint could not check the whole file, so performance problems in it may have gone unreported."),
    fix_title="Make the file valid, readable Python or exclude it; report a rule failure as a perflint bug",
)


def rule_text(code: str, name: str = "") -> RuleText:
    """The documentation of ``code``; a code the registry does not know gets a minimal text."""
    if code == INTERNAL_ERROR_CODE:
        return UNLINTABLE_FILE
    from perflint.rules import rule_by_code

    rule = rule_by_code(code)
    if rule is None:
        return RuleText(
            code=code, name=name or code, summary=name or code, what_it_does=name or code, why_bad="", fix_title=""
        )
    return RuleText(
        code=rule.code,
        name=rule.name,
        summary=rule.summary,
        what_it_does=rule.what_it_does,
        why_bad=rule.why_bad,
        fix_title=rule.fix_title,
        example=rule.example,
        use_instead=rule.use_instead,
        family=rule.family.name,
    )


@dataclass(frozen=True)
class CodeCount:
    code: str
    name: str
    count: int


def count_by_code(findings: Sequence[Finding]) -> list[CodeCount]:
    """Findings per code, most frequent first (ties by code), for ``--statistics``."""
    counts = Counter(finding.code for finding in findings)
    names = {finding.code: finding.name for finding in findings}
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [CodeCount(code=code, name=names[code], count=count) for code, count in ordered]


def repository_relative_path(path: str) -> str:
    """``path`` with forward slashes, relative to the working directory when it lies inside it.

    CI annotations and code scanning resolve paths against the repository root, which is the
    working directory of a CI job; a path outside it is left absolute.
    """
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except (ValueError, OSError):
            relative = os.pardir
        if relative != os.pardir and not relative.startswith(os.pardir + os.sep):
            path = relative
    posix = path.replace(os.sep, "/") if os.sep != "/" else path
    while posix.startswith("./"):
        posix = posix[2:]
    return posix


def profile_note(finding: Finding) -> str:
    """`` [12.3% of the run in `train_step`; fix saves ≤ 9.8% (estimate)]`` under ``--profile``."""
    profile = finding.profile
    if profile is None:
        return ""
    note = f" [{profile.share:.1%} of the run in `{profile.function}`"
    if profile.estimated_saving_share is not None:
        note += f"; fix saves ≤ {profile.estimated_saving_share:.1%} (estimate)"
    return note + "]"


def ranking_key(finding: Finding) -> tuple:
    """Hottest first under ``--profile``: by the share of the run of the function around the
    finding, findings the profile does not show last, each group in path order."""
    share = finding.profile.share if finding.profile is not None else -1.0
    return (-share, finding.sort_key)
