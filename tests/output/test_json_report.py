"""perflint/output/json_report.py: the ``json`` format."""

from __future__ import annotations

import json
from dataclasses import replace

from perflint import __version__
from perflint.engine.findings import Finding
from tests.output.reports import measurement_report, render


def test_json_has_the_documented_keys_in_a_stable_order_and_round_trips(findings):
    report = json.loads(render(findings, "json"))
    assert list(report) == ["version", "findings"]
    assert report["version"] == __version__
    assert [list(entry) for entry in report["findings"]] == [
        ["code", "name", "message", "path", "line", "column", "end_line", "end_column", "cell", "fix", "evidence"]
    ] * 3
    assert [Finding.from_dict(entry) for entry in report["findings"]] == sorted(
        findings, key=lambda finding: finding.sort_key
    )
    assert all(entry["fix"] is None for entry in report["findings"])


def test_json_gives_a_findings_size_only_where_the_code_states_it(findings):
    sized = replace(findings[0], size=4_096)
    entries = json.loads(render([sized, findings[1]], "json"))["findings"]
    assert [entry.get("size", "absent") for entry in entries] == ["absent", 4_096]
    assert list(entries[1])[-1] == "size"
    assert Finding.from_dict(entries[1]) == sized


def test_json_is_indented_and_identical_from_run_to_run(findings):
    output = render(findings, "json")
    assert output == render(list(reversed(findings)), "json")
    assert output.startswith('{\n  "version": ')


def test_json_adds_machine_and_measurements_when_measured(findings):
    report = json.loads(render(findings, "json", measurement=measurement_report()))
    assert list(report) == ["version", "findings", "machine", "measurements"]
    assert report["machine"]["cpu"] == "Test CPU"
    assert report["measurements"][0]["points"][0]["speedup"] == 20.0
    assert report["measurements"][0]["points"][0]["speedup_interval"] == [19.0, 21.0]
    assert report["measurements"] == [measurement.to_dict() for measurement in measurement_report().measurements]
    assert report["measurements"][1]["reason"] == "no CUDA device"
    assert "points" not in report["measurements"][1]
