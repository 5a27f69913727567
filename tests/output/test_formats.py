"""The output formats: concise, full, json, sarif and github, statistics, colour and measurements."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from perflint import __version__
from perflint.engine import lint_source
from perflint.engine.findings import Finding, unlintable
from perflint.measure.results import MEASURED, SKIPPED, Measurement, MeasurementReport, Point
from perflint.output import OUTPUT_FORMATS, write_report
from perflint.output.github import escape_data, escape_property
from perflint.rules import all_rules, rule_by_code

SARIF_SCHEMA = Path(__file__).parents[1] / "data" / "output" / "sarif-schema-2.1.0.json"
ANSI_ESCAPE = "\x1b["
INVARIANT_MESSAGE = "`numpy.linalg.inv` is recomputed on every iteration with the same arguments"


def invariant_call(path: str, line: int, column: int, end_column: int) -> Finding:
    return Finding(
        code="PFL401",
        name="loop-invariant-expensive-call",
        message=INVARIANT_MESSAGE,
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=end_column,
    )


@pytest.fixture
def findings() -> list[Finding]:
    """Out of order on purpose: every format sorts by path, line, column."""
    return [
        invariant_call("src/train.py", 12, 9, 25),
        unlintable("src/broken.py", "syntax error: unexpected indent", line=3, column=5),
        invariant_call("src/train.py", 4, 5, 21),
    ]


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def render(findings, output_format, **options) -> str:
    stream = io.StringIO()
    options.setdefault("files_checked", 10)
    write_report(findings, output_format, stream, **options)
    return stream.getvalue()


def test_concise_is_one_sorted_line_per_finding_then_a_summary(findings):
    assert render(findings, "concise") == (
        "src/broken.py:3:5: PFL000 syntax error: unexpected indent\n"
        f"src/train.py:4:5: PFL401 {INVARIANT_MESSAGE}\n"
        f"src/train.py:12:9: PFL401 {INVARIANT_MESSAGE}\n"
        "\n"
        "Found 3 findings in 2 files (10 checked).\n"
    )


def test_summary_wording_for_clean_and_single_results(findings):
    assert render([], "concise") == "No findings in 10 files checked.\n"
    assert render([], "concise", files_checked=1) == "No findings in 1 file checked.\n"
    assert render([], "concise", files_checked=0) == "No files checked.\n"
    assert render(findings[:1], "concise", files_checked=1).endswith("Found 1 finding in 1 file (1 checked).\n")


SOURCE = """\
import numpy as np

for x in xs:
\ty = np.linalg.inv(A) @ x
"""


def test_full_shows_the_source_line_a_caret_under_the_span_and_the_fix_hint(tmp_path):
    path = tmp_path / "loop.py"
    path.write_text(SOURCE)
    linted = lint_source(SOURCE, str(path), all_rules())
    assert [(finding.code, finding.line) for finding in linted] == [("PFL401", 4)]
    output = render(linted, "full", files_checked=1)
    lines = output.splitlines()
    assert lines[0] == f"{path}:4:6: PFL401 {INVARIANT_MESSAGE}"
    assert lines[2] == "4 | \ty = np.linalg.inv(A) @ x"
    # The tab is kept in the caret line so the carets sit under `np.linalg.inv(A)` on any tab width.
    assert lines[3] == "  | \t    " + "^" * len("np.linalg.inv(A)")
    assert lines[4] == "  = help: Compute `np.linalg.inv(A)` once above the loop, as `inv_A` (unsafe fix)"
    assert lines[-2:] == [
        "Found 1 finding in 1 file (1 checked).",
        "No safe fixes; 1 fixable with `perflint check --fix --unsafe-fixes` (read each rule's fix safety first).",
    ]


def test_full_underlines_a_multiline_span_to_the_end_of_its_first_line(tmp_path):
    path = tmp_path / "multi.py"
    path.write_text("total = compute(\n    a,\n)\n")
    finding = Finding(
        code="PFL401",
        name="loop-invariant-expensive-call",
        message="m",
        path=str(path),
        line=1,
        column=9,
        end_line=3,
        end_column=2,
    )
    lines = render([finding], "full").splitlines()
    assert lines[2:4] == ["1 | total = compute(", "  |         " + "^" * len("compute(")]


def test_full_omits_the_snippet_of_a_file_it_cannot_read(findings):
    output = render([findings[1]], "full")
    assert output.splitlines()[:2] == [
        "src/broken.py:3:5: PFL000 syntax error: unexpected indent",
        " = help: Make the file valid, readable Python or exclude it; report a rule failure as a perflint bug",
    ]
    assert "|" not in output


def test_full_never_shows_a_line_of_another_file_found_on_sys_path(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "ghost.py").write_text("import numpy as np\n")
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    assert "import numpy" not in render([invariant_call("ghost.py", 1, 1, 7)], "full")


def test_full_reads_the_source_in_its_declared_encoding(tmp_path):
    path = tmp_path / "latin.py"
    path.write_bytes(b"# -*- coding: latin-1 -*-\nname = '\xe9t\xe9'\n")
    lines = render([invariant_call(str(path), 2, 8, 13)], "full").splitlines()
    assert lines[2:4] == ["2 | name = '\u00e9t\u00e9'", "  |        ^^^^^"]


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


def test_sarif_gives_a_findings_size_as_a_property_only_where_the_code_states_it(findings):
    results = sarif([replace(findings[0], size=4_096), findings[2]])["runs"][0]["results"]
    assert [result.get("properties", {}).get("size") for result in results] == [None, 4_096]


def test_json_is_indented_and_identical_from_run_to_run(findings):
    output = render(findings, "json")
    assert output == render(list(reversed(findings)), "json")
    assert output.startswith('{\n  "version": ')


def measurement_report() -> MeasurementReport:
    return MeasurementReport(
        machine={"cpu": "Test CPU", "cores": 2, "gpus": []},
        measurements=[
            Measurement(
                code="PFL401",
                name="loop-invariant-expensive-call",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="matrix order",
                points=(
                    Point(
                        size=256,
                        pattern_seconds=0.02,
                        pattern_stdev=0.001,
                        fix_seconds=0.001,
                        fix_stdev=0.0001,
                        speedup=20.0,
                        speedup_low=19.0,
                        speedup_high=21.0,
                        samples=15,
                    ),
                ),
            ),
            Measurement(
                code="PFL201",
                name="create-then-move",
                backend="torch",
                library="torch",
                device="cuda",
                status=SKIPPED,
                reason="no CUDA device",
            ),
        ],
    )


def test_json_adds_machine_and_measurements_when_measured(findings):
    report = json.loads(render(findings, "json", measurement=measurement_report()))
    assert list(report) == ["version", "findings", "machine", "measurements"]
    assert report["machine"]["cpu"] == "Test CPU"
    assert report["measurements"][0]["points"][0]["speedup"] == 20.0
    assert report["measurements"][0]["points"][0]["speedup_interval"] == [19.0, 21.0]
    assert report["measurements"] == [measurement.to_dict() for measurement in measurement_report().measurements]
    assert report["measurements"][1]["reason"] == "no CUDA device"
    assert "points" not in report["measurements"][1]


def test_statistics_count_per_code_most_frequent_first(findings):
    output = render(findings, "concise", statistics=True)
    assert output.endswith(
        "\n"
        "2  PFL401  loop-invariant-expensive-call\n"
        "1  PFL000  unlintable-file\n"
        "\n"
        "Found 3 findings in 2 files (10 checked).\n"
    )
    report = json.loads(render(findings, "json", statistics=True))
    assert report["statistics"] == [
        {"code": "PFL401", "name": "loop-invariant-expensive-call", "count": 2},
        {"code": "PFL000", "name": "unlintable-file", "count": 1},
    ]
    github = render(findings, "github", statistics=True)
    assert github.endswith("2  PFL401  loop-invariant-expensive-call\n1  PFL000  unlintable-file\n")
    assert "statistics" not in json.loads(render(findings, "json"))


def test_github_annotations_with_error_for_unlintable_files(findings):
    assert render(findings, "github").splitlines() == [
        "::error file=src/broken.py,line=3,col=5,endLine=3,endColumn=5,title=PFL000::syntax error: unexpected indent",
        f"::warning file=src/train.py,line=4,col=5,endLine=4,endColumn=21,title=PFL401::{INVARIANT_MESSAGE}",
        f"::warning file=src/train.py,line=12,col=9,endLine=12,endColumn=25,title=PFL401::{INVARIANT_MESSAGE}",
    ]


def test_github_escapes_workflow_command_characters():
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("dir,1/a:b%.py") == "dir%2C1/a%3Ab%25.py"
    finding = unlintable("odd,dir/x:y.py", "cannot parse: 50% of\nthe file")
    assert render([finding], "github") == (
        "::error file=odd%2Cdir/x%3Ay.py,line=1,col=1,endLine=1,endColumn=1,title=PFL000::"
        "cannot parse: 50%25 of%0Athe file\n"
    )


def test_github_and_sarif_paths_are_relative_with_forward_slashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    finding = invariant_call(str(tmp_path / "pkg" / "model.py"), 1, 1, 2)
    assert "file=pkg/model.py," in render([finding], "github")
    location = json.loads(render([finding], "sarif"))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "pkg/model.py", "uriBaseId": "%SRCROOT%"}


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


@pytest.mark.parametrize("output_format", ["concise", "full"])
def test_text_formats_have_no_escape_codes_unless_colour_is_wanted(findings, output_format):
    assert ANSI_ESCAPE not in render(findings, output_format, statistics=True)
    assert ANSI_ESCAPE in render(findings, output_format, color=True)
    plain_on_terminal = TerminalStream()
    write_report(findings, output_format, plain_on_terminal, files_checked=3, color=False)
    assert ANSI_ESCAPE not in plain_on_terminal.getvalue()


def test_a_terminal_is_coloured_by_default_with_the_same_text(findings, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    terminal = TerminalStream()
    write_report(findings, "concise", terminal, files_checked=10)
    coloured = terminal.getvalue()
    assert ANSI_ESCAPE in coloured
    from rich.text import Text

    assert Text.from_ansi(coloured).plain == render(findings, "concise")


@pytest.mark.slow
def test_plain_output_does_not_import_rich(tmp_path):
    script = (
        "import io, sys\n"
        "from perflint.engine.findings import unlintable\n"
        "from perflint.output import write_report\n"
        "for output_format in ('concise', 'full', 'json', 'sarif', 'github'):\n"
        "    write_report([unlintable('x.py', 'r')], output_format, io.StringIO(), files_checked=1, statistics=True)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'rich'))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert completed.stdout.strip() == "[]"


def test_measurement_table_follows_the_summary(findings):
    pytest.importorskip("perflint.measure.table")
    output = render(findings, "concise", measurement=measurement_report())
    summary = "Found 3 findings in 2 files (10 checked).\n"
    assert summary in output
    after_summary = output.split(summary, 1)[1]
    assert "PFL401" in after_summary and "PFL201" in after_summary
    assert "256 20x" in after_summary  # the speedup at its size
    # Found: PFL401 fired twice in the findings
    assert re.search(r"PFL401\s+2\s+numpy/cpu", after_summary)
    assert ANSI_ESCAPE not in output
    assert ANSI_ESCAPE in render(findings, "concise", measurement=measurement_report(), color=True)


def test_unknown_format_is_refused(findings):
    assert set(OUTPUT_FORMATS) == {"concise", "full", "json", "sarif", "github", "openmetrics"}
    with pytest.raises(ValueError, match="xml"):
        render(findings, "xml")


def test_sarif_encodes_a_file_name_that_is_not_utf8_as_percent_escapes():
    undecodable = os.fsdecode(b"src/bad\xff name.py")  # as os.listdir gives it: with a surrogate escape
    artifact = sarif([invariant_call(undecodable, 1, 1, 2)])["runs"][0]["results"][0]
    assert artifact["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/bad%FF%20name.py"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="file names are bytes on POSIX only")
@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
def test_every_format_reports_a_file_whose_name_is_not_utf8(tmp_path, output_format):
    example = Path(__file__).parents[2] / "examples" / "profile_guided.py"
    (tmp_path / os.fsdecode(b"bad\xff.py")).write_bytes(example.read_bytes())
    completed = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--output-format", output_format, "."],
        cwd=tmp_path,
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        timeout=120,
    )
    assert completed.returncode == 1 and b"Traceback" not in completed.stderr
    if output_format == "sarif":
        results = json.loads(completed.stdout)["runs"][0]["results"]
        assert [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in results] == [
            "bad%FF.py",
            "bad%FF.py",
        ]
    elif output_format in ("concise", "full", "github"):
        assert b"bad\xff.py" in completed.stdout  # the name's own bytes


@pytest.mark.slow
def test_full_shows_standard_inputs_line_not_the_line_of_the_file_on_disk_of_that_name(tmp_path):
    example = Path(__file__).parents[2] / "examples" / "profile_guided.py"
    (tmp_path / "train.py").write_text("# an older version on disk\n" * 30)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "perflint",
            "check",
            "--no-cache",
            "--output-format",
            "full",
            "--stdin-filename",
            "train.py",
            "-",
        ],
        cwd=tmp_path,
        input=example.read_text(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "15 |     for i in range(len(frame)):" in completed.stdout
    assert "an older version on disk" not in completed.stdout


def test_full_shows_no_line_of_a_buffer_whose_text_is_not_at_hand(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text("x = 1\n" * 5)
    finding = invariant_call("train.py", 2, 1, 3)
    assert "x = 1" in render([finding], "full")
    assert "x = 1" not in render([finding], "full", buffers={"train.py": None})
    assert "2 | y = 2" in render([finding], "full", buffers={"train.py": b"y = 1\ry = 2\r"})


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("output_format", ["concise", "json", "sarif"])
def test_a_report_to_a_full_disk_is_a_one_line_error_and_exit_2_not_the_findings_status(tmp_path, output_format):
    example = Path(__file__).parents[2] / "examples" / "profile_guided.py"
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", "check", "--no-cache", "--output-format", output_format, str(example)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert completed.returncode == 2
    assert completed.stderr == "perflint: error: cannot write the output: No space left on device\n"
