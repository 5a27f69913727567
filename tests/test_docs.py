"""Rule documentation: the committed pages (with the recorded reference measurements) and the
README table are current, the ``rules`` and ``explain`` commands work, and the page generator
(``scripts/generate_docs.py``) writes only inside perflint's own repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perflint.cli.main import main
from perflint.docs import (
    CONTRIBUTING,
    FACTS_END,
    FACTS_START,
    PAGE_SECTIONS,
    QUERIES_END,
    QUERIES_START,
    README,
    RECORD_COMMAND,
    REFERENCE_RESULTS,
    REGENERATE_COMMAND,
    RULES_INDEX,
    TABLE_END,
    TABLE_START,
    engine_queries,
    installed_reference,
    load_reference,
    plan_docs,
    readme_rule_facts,
    readme_rule_table,
    rule_page,
    rules_index_page,
    write_docs,
)
from perflint.measure.harness import benchmark_fingerprint
from perflint.measure.results import MEASURED, MeasurementReport
from perflint.measure.units import format_speedup
from perflint.rules import all_rules

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
RULES = all_rules()
RULE_IDS = [rule.code for rule in RULES]
REFERENCE = load_reference(REPOSITORY_ROOT)


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_committed_rule_page_is_current(rule):
    page = REPOSITORY_ROOT / "docs" / "rules" / f"{rule.code}.md"
    assert page.is_file(), f"docs/rules/{rule.code}.md is missing; run `{REGENERATE_COMMAND}`"
    assert page.read_text(encoding="utf-8") == rule_page(rule, REFERENCE), (
        f"docs/rules/{rule.code}.md is stale; run `{REGENERATE_COMMAND}`"
    )


def test_no_page_for_a_rule_that_does_not_exist():
    stale = plan_docs(REPOSITORY_ROOT).deletions
    assert stale == [], f"pages of removed rules: {stale}; run `{REGENERATE_COMMAND}`"


def test_readme_rule_table_is_current():
    readme = REPOSITORY_ROOT / README
    text = readme.read_text(encoding="utf-8")
    assert TABLE_START in text and TABLE_END in text, f"{README} lacks the rule-table markers"
    block = text[text.index(TABLE_START) + len(TABLE_START) : text.index(TABLE_END)]
    assert block == f"\n\n{readme_rule_table()}\n", f"{README}'s rule table is stale; run `{REGENERATE_COMMAND}`"


def test_readme_facts_about_the_rules_are_generated_and_current():
    text = (REPOSITORY_ROOT / README).read_text(encoding="utf-8")
    assert FACTS_START in text and FACTS_END in text, f"{README} lacks the rule-facts markers"
    block = text[text.index(FACTS_START) + len(FACTS_START) : text.index(FACTS_END)]
    assert block == f"\n\n{readme_rule_facts()}\n", f"{README}'s rule facts are stale; run `{REGENERATE_COMMAND}`"
    assert f"{len(all_rules())} rules" in block


def test_readme_example_output_is_what_perflint_prints_on_the_example(monkeypatch, capsys):
    text = (REPOSITORY_ROOT / README).read_text(encoding="utf-8")
    start, end = "<!-- example-output:start -->", "<!-- example-output:end -->"
    block = text[text.index(start) + len(start) : text.index(end)]
    command = "perflint examples/train_regression.py"
    monkeypatch.chdir(REPOSITORY_ROOT)
    assert main(command.split()[1:]) == 1
    printed = capsys.readouterr().out
    assert "PFL101" in printed and "PFL301" in printed and "PFL401" in printed
    assert block == f"\n\n```console\n$ {command}\n{printed}```\n\n", (
        f"{README}'s example output is not what `{command}` prints now; paste its output"
    )


def test_the_contributor_guide_lists_the_engine_queries_from_their_docstrings():
    guide = (REPOSITORY_ROOT / CONTRIBUTING).read_text(encoding="utf-8")
    block = guide[guide.index(QUERIES_START) + len(QUERIES_START) : guide.index(QUERIES_END)]
    assert block == f"\n\n{engine_queries()}\n", (
        f"{CONTRIBUTING}'s engine queries are stale; run `{REGENERATE_COMMAND}`"
    )
    assert "`self.context.arrays.kind_of(expr" in block and "The library whose array" in block


def test_the_docs_site_lists_every_rule_on_a_generated_index_page():
    index = (REPOSITORY_ROOT / RULES_INDEX).read_text(encoding="utf-8")
    assert index == rules_index_page(), f"{RULES_INDEX} is stale; run `{REGENERATE_COMMAND}`"
    assert all(f"[{rule.code}]({rule.code}.md)" in index for rule in all_rules())


def test_a_reference_run_is_recorded_with_its_machine():
    assert REFERENCE is not None, f"{REFERENCE_RESULTS} is missing; run `{RECORD_COMMAND}`"
    assert REFERENCE.machine["cpu_model"] and REFERENCE.machine["fingerprint"]
    assert (REPOSITORY_ROOT / REFERENCE_RESULTS).with_suffix(".html").is_file()


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_measured_section_quotes_the_reference_speedup_at_every_size_and_names_the_machine(rule):
    page = rule_page(rule, REFERENCE)
    measured = [m for m in REFERENCE.measurements if m.code == rule.code and m.status == MEASURED]
    if rule.benchmark.not_timed:
        assert "This benchmark is never timed, on any machine" in page and "| Target |" not in page
        return
    if not measured:
        assert "No reference measurement is recorded for this rule" in page and RECORD_COMMAND in page
        return
    if any(m.benchmark_fingerprint != benchmark_fingerprint(rule.benchmark) for m in measured):
        # Numbers of an earlier benchmark would describe code the page no longer shows.
        assert "timed an earlier version of this benchmark" in page and "| Target |" not in page
        return
    assert REFERENCE.machine["cpu_model"] in page
    for measurement in measured:
        for point in measurement.measured_points:
            assert f"| {measurement.target} | {point.size:,} |" in page
            assert f"| {format_speedup(point.speedup)} |" in page
        assert f"On {measurement.target} the fix {measurement.payoff()}." in page


def test_reference_points_taken_under_load_are_said_to_be_flagged():
    rule = next(
        rule
        for rule in RULES
        if any(
            m.code == rule.code
            and m.status == MEASURED
            and m.benchmark_fingerprint == benchmark_fingerprint(rule.benchmark)
            for m in REFERENCE.measurements
        )
    )
    loaded = ("machine loaded (load average 9.0 on 2 cores)",)
    measurements = [
        replace(m, points=tuple(replace(point, flags=loaded) for point in m.points)) if m.code == rule.code else m
        for m in REFERENCE.measurements
    ]
    page = rule_page(rule, MeasurementReport(REFERENCE.machine, measurements, {"load_average_start": 9.0}))
    assert "These points are flagged (taken on a loaded machine); the run's load average went 9.0 on" in page
    quiet = [replace(m, points=tuple(replace(point, flags=()) for point in m.points)) for m in measurements]
    assert "These points are flagged" not in rule_page(rule, MeasurementReport(REFERENCE.machine, quiet))


def test_a_rule_without_a_recorded_result_says_so_and_how_to_record_it():
    rule = RULES[0]
    without_it = MeasurementReport(
        machine=REFERENCE.machine, measurements=[m for m in REFERENCE.measurements if m.code != rule.code]
    )
    page = rule_page(rule, without_it)
    assert "No reference measurement is recorded for this rule yet." in page
    assert f"`{RECORD_COMMAND}`" in page and f"perflint bench {rule.code}" in page
    assert "| Target |" not in page


def test_an_installed_copy_without_the_recordings_says_they_are_not_included():
    page = rule_page(RULES[0], None)
    assert "this installation does not include them" in page and "| Target |" not in page


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
    # A benchmark that can never run must not send users to run it.
    assert (f"perflint bench {rule.code}" in page) != bool(rule.benchmark.not_timed)


# "What it does" states what is flagged; what is left alone, what the rule cannot see and its
# precision history belong under "Known limitations". The longest statements today (PFL211's, of
# the literals, places and message variants, and PFL212's, of a condition's forms in `forward` and
# outside it) are 180 to 195 words; the median is about 70.
WHAT_IT_DOES_WORD_LIMIT = 200


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_what_it_does_is_a_short_statement_of_what_is_flagged(rule):
    words = len(rule.what_it_does.split())
    assert words <= WHAT_IT_DOES_WORD_LIMIT, (
        f"{rule.code}'s what_it_does has {words} words (at most {WHAT_IT_DOES_WORD_LIMIT}): move what it "
        "leaves alone and its history into known_limitations"
    )


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_measured_section_says_what_exactly_is_timed_and_shows_both_functions(rule):
    page = rule_page(rule)
    measured_section = page[page.index("## Measured") :]
    assert rule.benchmark.timed and f"**Timed:** {rule.benchmark.timed}" in measured_section
    assert f"def {rule.benchmark.pattern.__name__}(" in measured_section
    assert f"def {rule.benchmark.fix.__name__}(" in measured_section


def test_readme_table_links_every_rule_page():
    table = readme_rule_table()
    for rule in RULES:
        assert f"| [{rule.code}](docs/rules/{rule.code}.md) | `{rule.name}` |" in table


def test_rules_lists_every_code(capsys):
    assert main(["rules"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]]
    assert listed == RULE_IDS


def test_rules_as_json(capsys):
    assert main(["rules", "--output-format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)["rules"]
    assert [record["code"] for record in records] == RULE_IDS
    assert all(isinstance(record["default_enabled"], bool) and record["summary"] for record in records)
    by_code = {record["code"]: record for record in records}
    assert by_code["PFL201"]["autofix"] is True and by_code["PFL201"]["fix_safeties"] == ["safe", "unsafe"]
    assert by_code["PFL501"]["fix_safeties"] == [by_code["PFL501"]["fix_safety"]] == ["unsafe"]


def test_explain_prints_the_page(capsys):
    assert main(["explain", "pfl401"]) == 0
    # A checkout (or an editable install) shows the recorded reference; an installed copy says
    # it does not include it.
    expected = rule_page(next(rule for rule in RULES if rule.code == "PFL401"), installed_reference())
    assert capsys.readouterr().out == expected


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


def _repository_with_readme(root: Path, readme: str, project: str = "perflint-ml") -> None:
    (root / "pyproject.toml").write_text(f'[project]\nname = "{project}"\n', encoding="utf-8")
    (root / README).write_text(readme, encoding="utf-8")


def test_generator_writes_pages_table_and_removes_stale_pages(tmp_path, capsys):
    _repository_with_readme(
        tmp_path,
        f"# Project\n\n{FACTS_START}\nold facts\n{FACTS_END}\n{TABLE_START}\nold table\n{TABLE_END}\n\nMore text.\n",
    )
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "rules" / "PFL999.md").write_text("a removed rule\n")
    (tmp_path / "docs" / "rules" / "index.md").write_text("not a rule page\n")

    assert write_docs(tmp_path, check_only=True) == 1
    assert "PFL999.md" in capsys.readouterr().out
    assert (tmp_path / "docs" / "rules" / "PFL999.md").exists(), "--check must write nothing"

    assert write_docs(tmp_path, check_only=False) == 0
    for rule in RULES:
        # No recorded run in this folder: the pages say where the recordings live.
        assert (tmp_path / "docs" / "rules" / f"{rule.code}.md").read_text(encoding="utf-8") == rule_page(rule, None)
    assert not (tmp_path / "docs" / "rules" / "PFL999.md").exists()
    assert (tmp_path / "docs" / "rules" / "index.md").read_text(encoding="utf-8") == rules_index_page()
    readme = (tmp_path / README).read_text(encoding="utf-8")
    assert readme == (
        f"# Project\n\n{FACTS_START}\n\n{readme_rule_facts()}\n{FACTS_END}\n"
        f"{TABLE_START}\n\n{readme_rule_table()}\n{TABLE_END}\n\nMore text.\n"
    )

    capsys.readouterr()
    assert write_docs(tmp_path, check_only=True) == 0


@pytest.mark.parametrize("project", ["someone-elses-project", None])
def test_generator_refuses_a_folder_that_is_not_perflints_repository(tmp_path, capsys, project):
    readme = f"# Mine\n\n{TABLE_START}\nmy table\n{TABLE_END}\n"
    if project is None:
        (tmp_path / README).write_text(readme, encoding="utf-8")
    else:
        _repository_with_readme(tmp_path, readme, project=project)
    (tmp_path / "docs" / "rules").mkdir(parents=True)
    (tmp_path / "docs" / "rules" / "PFL999.md").write_text("the user's own file\n")
    assert write_docs(tmp_path, check_only=False) == 2
    assert "not perflint's repository" in capsys.readouterr().err
    assert (tmp_path / "docs" / "rules" / "PFL999.md").read_text() == "the user's own file\n"
    assert sorted(path.name for path in (tmp_path / "docs" / "rules").iterdir()) == ["PFL999.md"]
    assert (tmp_path / README).read_text(encoding="utf-8") == readme


def test_docs_is_not_a_user_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["docs"]) == 2  # read as `perflint check docs`: no such path
    assert "docs" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_the_generator_script_finds_this_repository_current():
    result = subprocess.run(
        [sys.executable, str(REPOSITORY_ROOT / "scripts" / "generate_docs.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("readme", [None, "# Project without the markers\n"])
def test_generator_reports_a_readme_without_markers(tmp_path, capsys, readme):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "perflint-ml"\n', encoding="utf-8")
    if readme is not None:
        (tmp_path / README).write_text(readme, encoding="utf-8")
    assert write_docs(tmp_path, check_only=False) == 1
    assert "rule table was not written" in capsys.readouterr().err
    assert all((tmp_path / "docs" / "rules" / f"{rule.code}.md").exists() for rule in RULES)
    assert write_docs(tmp_path, check_only=True) == 1
