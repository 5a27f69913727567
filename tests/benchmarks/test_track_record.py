"""Tests of track_record.py: reading verdicts from review tables and matching today's findings."""

from collections import Counter

import pytest
from track_record import (
    Finding,
    chance_of_so_few_worth,
    decisions,
    lines_of,
    match,
    read_sheet,
    recommendation,
    report,
    table_verdicts,
    tally,
)

REVIEW = """\
| # | Rule | Code base | File:line | Verdict | Reason |
|---|------|-----------|-----------|---------|--------|
| 1 | PFL209 (default-on) | recbole 1.2.1 | recbole/model/layers.py:155 | not worth | Once per forward. |
| 2 | PFL209 | recbole 1.2.1 | recbole/model/layers.py:183 | worth | Same as #1. |
| 3 | PFL203 | pyod | pyod/models/mo_gaal.py:243/246 | wrong | A loop with no step. |
| 4 | PFL504 | norse 1.1.0 | docs/pages/parameters.ipynb:7 (cell 23) | worth | Per step. |
| PFL113 | 1 | 1 | 0 | 0 |
"""

WHERE_TABLE = """\
| Rule | Where | Findings | Verdict | Reason |
| --- | --- | ---: | --- | --- |
| PFL201 | avalanche `models/fecam.py:120,137`, `models/ncm_classifier.py:65` | 3 | not worth | Rebuilt rarely |
"""

SHEET = """\
# Findings to review

## recbole-1.2.1-py3-none-any.whl

2 findings.

### PFL209 recbole/model/layers.py:155

message

Verdict: \n
### PFL209 recbole/model/layers.py:999

message
"""


def test_lines_of_reads_lists_pairs_and_ranges():
    assert lines_of("12, 14") == [12, 14]
    assert lines_of("338/339") == [338, 339]
    assert lines_of("156-158") == [156, 157, 158]


def test_table_rows_give_one_verdict_per_line_and_skip_summaries():
    rows = table_verdicts(REVIEW, "round4/heldout", "review.md")
    assert [(row["path"], row["line"], row["rule"], row["verdict"]) for row in rows] == [
        ("recbole/model/layers.py", "155", "PFL209", "not worth"),
        ("recbole/model/layers.py", "183", "PFL209", "worth"),
        ("pyod/models/mo_gaal.py", "243", "PFL203", "wrong"),
        ("pyod/models/mo_gaal.py", "246", "PFL203", "wrong"),
        ("docs/pages/parameters.ipynb", "7", "PFL504", "worth"),
    ]
    assert rows[0]["codebase"] == "recbole 1.2.1"
    assert rows[1]["reason"] == "Same as #1. Once per forward."


def test_a_where_cell_names_its_code_base_and_several_locations():
    rows = table_verdicts(WHERE_TABLE, "round3/dev", "dev.md")
    assert [(row["codebase"], row["path"], row["line"]) for row in rows] == [
        ("avalanche", "models/fecam.py", "120"),
        ("avalanche", "models/fecam.py", "137"),
        ("avalanche", "models/ncm_classifier.py", "65"),
    ]


def test_findings_match_by_set_code_base_path_suffix_line_and_rule():
    verdicts = table_verdicts(REVIEW, "round4/heldout", "review.md")
    findings = read_sheet(SHEET, "round4/heldout")
    other_set = Finding("round4/dev", "recbole-1.2.1-py3-none-any.whl", "recbole/model/layers.py", 155, "PFL209")
    other_code_base = Finding("round4/heldout", "tsai-1.0.1.whl", "recbole/model/layers.py", 155, "PFL209")
    matched = match(verdicts, [*findings, other_set, other_code_base])
    assert [verdict["verdict"] if verdict else None for _, verdict in matched] == ["not worth", None, None, None]
    assert tally(matched)["PFL209"] == Counter({"unread": 3, "not worth": 1})


def test_recommendation_turns_off_a_rule_with_a_wrong_finding_or_a_record_that_rejects_ninety_percent():
    assert recommendation(Counter({"worth": 9, "not worth": 1})).startswith("keep default-on (9/10")
    assert recommendation(Counter({"worth": 9, "wrong": 1})).startswith("opt-in")
    assert recommendation(Counter({"not worth": 2, "unread": 7})) == "opt-in (0/2 worth: 1.0% at 90% precision)"
    assert "too little evidence" in recommendation(Counter({"not worth": 1, "unread": 7}))
    assert "too little evidence" in recommendation(Counter({"worth": 8, "not worth": 2}))
    assert recommendation(Counter({"worth": 5, "not worth": 5})).startswith("opt-in")


def test_the_chance_of_so_few_worth_is_the_binomial_tail():
    assert chance_of_so_few_worth(0, 2) == pytest.approx(0.01)
    assert chance_of_so_few_worth(2, 4) == pytest.approx(1 - 0.9**4 - 4 * 0.9**3 * 0.1)
    assert chance_of_so_few_worth(3, 3) == pytest.approx(1.0)


def test_decisions_count_every_verdict_as_read_wrong_ones_fixed_since_included():
    verdicts = [
        {"rule": "PFL205", "verdict": "wrong"},
        {"rule": "PFL205", "verdict": "not worth"},
        {"rule": "PFL501", "verdict": "worth"},
        {"rule": "PFL102", "verdict": "not worth"},
    ]
    table = decisions(verdicts, {"PFL205", "PFL501", "PFL114"}).splitlines()
    assert table[2:] == [
        "| PFL114 | 0 | 0 | 0 | 0 | 100.0% | keep default-on: never read on unseen code |",
        "| PFL205 | 2 | 0 | 1 | 1 | 1.0% | opt-in (0/2 worth: 1.0% at 90% precision) |",
        "| PFL501 | 1 | 1 | 0 | 0 | 100.0% | keep default-on (1/1 worth) |",
    ]


def test_report_puts_default_on_rules_first_and_lists_their_unread_findings():
    verdicts = table_verdicts(REVIEW, "round4/heldout", "review.md")
    findings = read_sheet(SHEET, "round4/heldout") + [
        Finding("round4/heldout", "pyod-3.6.7.whl", "pyod/models/mo_gaal.py", 243, "PFL203")
    ]
    text = report(match(verdicts, findings), default_on={"PFL209"})
    rows = [line for line in text.splitlines() if line.startswith("| PFL")]
    assert rows[0].startswith("| PFL209 | on | 2 | 0 | 1 | 0 | 1 |")
    assert rows[1].startswith("| PFL203 | opt-in | 1 | 0 | 0 | 1 | 0 |")
    assert "- PFL209 round4/heldout recbole-1.2.1-py3-none-any.whl `recbole/model/layers.py:999`" in text
