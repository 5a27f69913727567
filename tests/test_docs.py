"""Rule documentation: the committed pages and README table are current, and the ``rules``,
``explain`` and ``docs`` commands work."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from perflint.cli.main import main
from perflint.docs import (
    PAGE_SECTIONS,
    README,
    REGENERATE_COMMAND,
    TABLE_END,
    TABLE_START,
    plan_docs,
    readme_rule_table,
    rule_page,
)
from perflint.rules import all_rules

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
RULES = all_rules()
RULE_IDS = [rule.code for rule in RULES]


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_committed_rule_page_is_current(rule):
    page = REPOSITORY_ROOT / "rules" / f"{rule.code}.md"
    assert page.is_file(), f"rules/{rule.code}.md is missing; run `{REGENERATE_COMMAND}`"
    assert page.read_text(encoding="utf-8") == rule_page(rule), (
        f"rules/{rule.code}.md is stale; run `{REGENERATE_COMMAND}`"
    )


def test_no_page_for_a_rule_that_does_not_exist():
    stale = plan_docs(REPOSITORY_ROOT).deletions
    assert stale == [], f"pages of removed rules: {stale}; run `{REGENERATE_COMMAND}`"


def test_readme_rule_table_is_current():
    readme = REPOSITORY_ROOT / README
    text = readme.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text, f"{README} lacks the rule-table markers"
    block = text[text.index(TABLE_START) + len(TABLE_START): text.index(TABLE_END)]
    assert block == f"\n\n{readme_rule_table()}\n", f"{README}'s rule table is stale; run `{REGENERATE_COMMAND}`"


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_page_sections_are_in_order(rule):
    page = rule_page(rule)
    lines = page.splitlines()
    assert lines[0] == f"# {rule.code}: {rule.name}"
    assert re.search(r"\*\*Default:\*\* (on|opt-in)", lines[2])
    assert f"**Autofix available:** {'yes' if rule.autofix else 'no'}" in lines[2]
    assert [line[3:] for line in lines if line.startswith("## ")] == list(PAGE_SECTIONS)
    assert f"Reported at: {rule.reported_at}." in page
    assert rule.example.strip() in page and rule.use_instead.strip() in page
    assert f"perflint bench {rule.code}" in page


def test_readme_table_links_every_rule_page():
    table = readme_rule_table()
    for rule in RULES:
        assert f"| [{rule.code}](rules/{rule.code}.md) | `{rule.name}` |" in table


def test_rules_lists_every_code(capsys):
    assert main(["rules"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed == RULE_IDS


def test_rules_as_json(capsys):
    assert main(["rules", "--output-format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)["rules"]
    assert [record["code"] for record in records] == RULE_IDS
    assert all(isinstance(record["default_enabled"], bool) and record["summary"] for record in records)


def test_explain_prints_the_page(capsys):
    assert main(["explain", "pfl401"]) == 0
    assert capsys.readouterr().out == rule_page(next(rule for rule in RULES if rule.code == "PFL401"))


def test_terminal_output_is_rendered_with_rich(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["rules"]) == 0
    table = capsys.readouterr().out
    for rule in RULES:
        assert rule.code in table and rule.name in table
    assert main(["explain", "PFL401"]) == 0
    rendered = capsys.readouterr().out
    assert "PFL401: loop-invariant-expensive-call" in rendered
    assert "## Why is this bad?" not in rendered and "Why is this bad?" in rendered


def test_explain_unknown_code_is_a_usage_error(capsys):
    assert main(["explain", "PFL999"]) == 2
    assert "unknown rule code: PFL999" in capsys.readouterr().err


def _repository_with_readme(root: Path, readme: str) -> None:
    (root / README).write_text(readme, encoding="utf-8")


def test_docs_writes_pages_table_and_removes_stale_pages(tmp_path, capsys):
    _repository_with_readme(tmp_path, f"# Project\n\n{TABLE_START}\nold table\n{TABLE_END}\n\nMore text.\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "PFL999.md").write_text("a removed rule\n")
    (tmp_path / "rules" / "index.md").write_text("not a rule page\n")

    assert main(["docs", "--check", "--root", str(tmp_path)]) == 1
    assert "PFL999.md" in capsys.readouterr().out
    assert (tmp_path / "rules" / "PFL999.md").exists(), "--check must write nothing"

    assert main(["docs", "--root", str(tmp_path)]) == 0
    for rule in RULES:
        assert (tmp_path / "rules" / f"{rule.code}.md").read_text(encoding="utf-8") == rule_page(rule)
    assert not (tmp_path / "rules" / "PFL999.md").exists()
    assert (tmp_path / "rules" / "index.md").exists()
    readme = (tmp_path / README).read_text(encoding="utf-8")
    assert readme == f"# Project\n\n{TABLE_START}\n\n{readme_rule_table()}\n{TABLE_END}\n\nMore text.\n"

    capsys.readouterr()
    assert main(["docs", "--check", "--root", str(tmp_path)]) == 0


@pytest.mark.parametrize("readme", [None, "# Project without the markers\n"])
def test_docs_reports_a_readme_without_markers(tmp_path, capsys, readme):
    if readme is not None:
        _repository_with_readme(tmp_path, readme)
    assert main(["docs", "--root", str(tmp_path)]) == 1
    assert "rule table was not written" in capsys.readouterr().err
    assert all((tmp_path / "rules" / f"{rule.code}.md").exists() for rule in RULES)
    assert main(["docs", "--check", "--root", str(tmp_path)]) == 1


def test_docs_on_a_missing_root_is_a_usage_error(tmp_path, capsys):
    assert main(["docs", "--root", str(tmp_path / "absent")]) == 2
    assert "no such directory" in capsys.readouterr().err
