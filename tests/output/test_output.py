"""perflint/output/__init__.py: ``write_report`` over every format (statistics, an unknown format,
file names that are not UTF-8, a full disk)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from perflint.output import OUTPUT_FORMATS
from tests.output.reports import render


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


def test_unknown_format_is_refused(findings):
    assert set(OUTPUT_FORMATS) == {"concise", "full", "json", "sarif", "github", "openmetrics"}
    with pytest.raises(ValueError, match="xml"):
        render(findings, "xml")


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
