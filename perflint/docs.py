"""Rule documentation generated from the rule classes, so the pages cannot drift from the code.

``rules/<CODE>.md`` holds one page per rule and README.md holds a table of every rule between
two marker comments; ``perflint docs`` writes both and ``perflint docs --check`` verifies them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from perflint.rules import all_rules
from perflint.engine.rule import Rule

PAGES_FOLDER = "rules"
README = "README.md"
TABLE_START = "<!-- rules-table:start -->"
TABLE_END = "<!-- rules-table:end -->"
REGENERATE_COMMAND = "perflint docs"
PAGE_SECTIONS = ("What it does", "Why is this bad?", "Example", "Use instead", "Fix safety", "Measured")

_PAGE_NAME = re.compile(r"^PFL\d{3}\.md$")


def default_state(rule: type[Rule]) -> str:
    return "on" if rule.default_enabled else "opt-in"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def _code_block(source: str) -> str:
    return f"```python\n{source.rstrip()}\n```"


def _measured_section(rule: type[Rule]) -> str:
    benchmark = rule.benchmark
    if benchmark is None:
        return "This rule has no micro-benchmark yet."
    devices = ", ".join(f"`{device}`" for device in benchmark.devices)
    return (
        f"Not measured on this page. Run `perflint bench {rule.code}` to time the flagged pattern "
        f"against its fix on your machine, or `perflint check --measure` to time every rule that "
        f"fired; both sides are checked to compute the same result before they are timed.\n\n"
        f"- Backend: {benchmark.backend}\n"
        f"- Default size: {benchmark.default_size} ({benchmark.size_unit})\n"
        f"- Devices: {devices}"
    )


def rule_page(rule: type[Rule]) -> str:
    """The Markdown page of ``rule``; its sections follow ``PAGE_SECTIONS``."""
    metadata = (
        f"**Family:** {rule.family.name} (`{rule.family.prefix}`) · "
        f"**Default:** {default_state(rule)} · "
        f"**Fix safety:** {rule.fix_safety} · "
        f"**Autofix available:** {_yes_no(rule.autofix)}"
    )
    bodies = (
        f"{rule.what_it_does}\n\nReported at: {rule.reported_at}.",
        rule.why_bad,
        _code_block(rule.example),
        f"{rule.fix_title}:\n\n{_code_block(rule.use_instead)}",
        rule.fix_safety_note,
        _measured_section(rule),
    )
    parts = [f"# {rule.code}: {rule.name}", metadata]
    for heading, body in zip(PAGE_SECTIONS, bodies):
        parts.append(f"## {heading}")
        parts.append(body.strip())
    return "\n\n".join(parts) + "\n"


def page_path(root: Path, rule: type[Rule]) -> Path:
    return root / PAGES_FOLDER / f"{rule.code}.md"


def _table_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def readme_rule_table() -> str:
    """The README's Markdown table of every rule, each code linking to its page."""
    rows = [
        "| Code | Name | Family | Default | Summary |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in all_rules():
        rows.append(
            f"| [{rule.code}]({PAGES_FOLDER}/{rule.code}.md) | `{rule.name}` | {rule.family.name} "
            f"| {default_state(rule)} | {_table_cell(rule.summary)} |"
        )
    return "\n".join(rows) + "\n"


class ReadmeMarkersMissing(Exception):
    """README.md is absent or lacks the rule-table markers, so the table has nowhere to go."""


def readme_with_table(readme_text: str) -> str:
    """``readme_text`` with the block between the markers replaced by the current table, set
    off by blank lines so that Markdown neither glues the table to a marker nor reads the end
    marker as a table row."""
    start = readme_text.find(TABLE_START)
    end = readme_text.find(TABLE_END, start + len(TABLE_START)) if start >= 0 else -1
    if start < 0 or end < 0:
        raise ReadmeMarkersMissing(f"{README} has no `{TABLE_START}` … `{TABLE_END}` block")
    return (
        readme_text[: start + len(TABLE_START)]
        + "\n\n"
        + readme_rule_table()
        + "\n"
        + readme_text[end:]
    )


@dataclass
class DocsPlan:
    """What ``perflint docs`` would change under a repository root."""

    writes: dict[Path, str] = field(default_factory=dict)
    deletions: list[Path] = field(default_factory=list)
    readme_problem: Optional[str] = None

    @property
    def stale(self) -> list[Path]:
        return sorted([*self.writes, *self.deletions])


def _read(path: Path) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def plan_docs(root: Path) -> DocsPlan:
    """Compare the pages and the README table under ``root`` with what the rules generate."""
    plan = DocsPlan()
    rules = all_rules()
    for rule in rules:
        path = page_path(root, rule)
        page = rule_page(rule)
        if _read(path) != page:
            plan.writes[path] = page
    current_pages = {f"{rule.code}.md" for rule in rules}
    pages_folder = root / PAGES_FOLDER
    if pages_folder.is_dir():
        plan.deletions = sorted(
            path
            for path in pages_folder.iterdir()
            if _PAGE_NAME.match(path.name) and path.name not in current_pages
        )
    readme_path = root / README
    readme_text = _read(readme_path)
    if readme_text is None:
        plan.readme_problem = f"no {README} under {root}, so the rule table was not written"
    else:
        try:
            updated = readme_with_table(readme_text)
        except ReadmeMarkersMissing as error:
            plan.readme_problem = f"{error}, so the rule table was not written"
        else:
            if updated != readme_text:
                plan.writes[readme_path] = updated
    return plan


def apply_docs(plan: DocsPlan) -> None:
    for path, text in plan.writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    for path in plan.deletions:
        path.unlink()
