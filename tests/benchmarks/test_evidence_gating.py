"""benchmarks/evidence_gating.py: held-out verdicts split by the findings' repetition evidence."""

from __future__ import annotations

import json

from benchmarks.evidence_gating import findings_of, split, verdicts_of


def test_verdicts_are_split_by_evidence_and_a_finding_no_longer_reported_is_gone(tmp_path):
    sheet = tmp_path / "round3" / "heldout_verdicts_r1.md"
    sheet.parent.mkdir()
    sheet.write_text(
        "| # | Rule | Code base | File:line | Verdict | Reason |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| 1 | PFL201 | a 1.0 | a/x.py:10 | worth | per step |\n"
        "| 2 | PFL201 | a 1.0 | a/x.py:20 | **not worth** | once |\n"
        "| 3 | PFL203 | a 1.0 | a/y.py:5 | wrong | host tensor |\n"
    )
    lint = tmp_path / "lint.json"
    lint.write_text(
        json.dumps(
            {
                "a-1.0.whl": [
                    {"code": "PFL201", "path": "a/x.py", "line": 10, "evidence": "runs per step"},
                    {"code": "PFL201", "path": "a/x.py", "line": 20, "evidence": None},
                ]
            }
        )
    )
    verdicts = verdicts_of(3, tmp_path)
    assert verdicts[("PFL201", "a/x.py", 20)] == "not worth"
    table = split(findings_of([lint]), verdicts)
    assert table["with evidence"] == {"worth": 1}
    assert table["without evidence"] == {"not worth": 1}
    assert table["gone"] == {"wrong": 1}
