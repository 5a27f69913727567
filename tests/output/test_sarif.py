"""perflint/output/sarif.py: the ``sarif`` format, checked against the SARIF 2.1.0 schema."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from perflint import __version__
from perflint.engine.findings import Finding
from perflint.rules import all_rules, rule_by_code
from tests.output.reports import invariant_call, render

SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "output" / "sarif-schema-2.1.0.json"


def test_sarif_gives_a_findings_size_as_a_property_only_where_the_code_states_it(findings):
    results = sarif([replace(findings[0], size=4_096), findings[2]])["runs"][0]["results"]
    assert [result.get("properties", {}).get("size") for result in results] == [None, 4_096]


def sarif(findings) -> dict:
    return json.loads(render(findings, "sarif"))


def test_sarif_validates_against_the_sarif_2_1_0_schema(findings):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    odd_paths = [invariant_call("dir with space/a,b.py", 1, 1, 3), invariant_call("/elsewhere/x.py", 1, 1, 2)]
    sized = [replace(invariant_call("sized.py", 1, 1, 2), size=64)]
    for log in (sarif(findings + odd_paths + sized), sarif([])):
        errors = [error.message for error in validator_class(schema).iter_errors(log)]
        assert errors == []


def test_the_schema_check_rejects_an_invalid_log(findings):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    log = sarif(findings)
    log["runs"][0]["results"][0]["level"] = "fatal"
    del log["runs"][0]["results"][1]["message"]
    assert len(list(jsonschema.validators.validator_for(schema)(schema).iter_errors(log))) == 2


def test_sarif_has_what_github_code_scanning_reads(findings):
    log = sarif(findings)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "perflint" and driver["version"] == __version__
    rules = driver["rules"]
    assert [rule["id"] for rule in rules] == ["PFL000"] + [rule.code for rule in all_rules()]
    for descriptor in rules:
        assert descriptor["shortDescription"]["text"] and descriptor["fullDescription"]["text"]
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        expected_level = "error" if descriptor["id"] == "PFL000" else "warning"
        assert descriptor["defaultConfiguration"] == {"level": expected_level}
        if descriptor["id"] != "PFL000":
            rule = rule_by_code(descriptor["id"])
            assert descriptor["name"] == rule.name
            assert rule.why_bad in descriptor["help"]["text"] and rule.fix_title in descriptor["help"]["text"]
    results = run["results"]
    assert [(result["ruleId"], result["level"]) for result in results] == [
        ("PFL000", "error"),
        ("PFL401", "warning"),
        ("PFL401", "warning"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"]
    assert results[2]["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "startColumn": 9, "endLine": 12, "endColumn": 25},
            }
        }
    ]


def test_sarif_describes_a_code_the_registry_does_not_know():
    finding = Finding(
        code="PFL999", name="future-rule", message="m", path="a.py", line=1, column=1, end_line=1, end_column=2
    )
    run = sarif([finding])["runs"][0]
    assert run["tool"]["driver"]["rules"][run["results"][0]["ruleIndex"]]["id"] == "PFL999"


def test_sarif_points_outside_the_working_directory_with_a_file_uri():
    artifact = sarif([invariant_call("/elsewhere/dir x/m.py", 1, 1, 2)])["runs"][0]["results"][0]
    assert artifact["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///elsewhere/dir%20x/m.py"}


def test_sarif_encodes_a_file_name_that_is_not_utf8_as_percent_escapes():
    undecodable = os.fsdecode(b"src/bad\xff name.py")  # as os.listdir gives it: with a surrogate escape
    artifact = sarif([invariant_call(undecodable, 1, 1, 2)])["runs"][0]["results"][0]
    assert artifact["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/bad%FF%20name.py"
