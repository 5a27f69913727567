"""perflint/output/text.py: the concise and full formats, their colour and the measurement table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from perflint.engine import lint_source
from perflint.engine.findings import Finding
from perflint.output import write_report
from perflint.rules import all_rules
from tests.output.reports import (
    ANSI_ESCAPE,
    INVARIANT_MESSAGE,
    TerminalStream,
    invariant_call,
    measurement_report,
    render,
)


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
