"""Jupyter notebooks: cells joined, IPython syntax neutralised, findings placed by cell."""

from __future__ import annotations

import json

import nbformat
import pytest

from perflint.cli.main import main
from perflint.notebook import neutralise, read_notebook

LOOP = 'for b in rhs:\n    x = np.load("A.npy") @ b'
# The loop's finding is PFL408's, opt-in since round 6.
SELECT = ["--extend-select", "PFL408"]


def _notebook(path, cells):
    """A real notebook, written by nbformat: ``cells`` are (kind, source) pairs."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    makers = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}
    notebook.cells = [makers[kind](source) for kind, source in cells]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run_json(capsys, *arguments):
    status = main(["check", "--no-cache", *SELECT, "--output-format", "json", *arguments])
    return status, json.loads(capsys.readouterr().out)["findings"]


def test_findings_are_reported_by_cell_and_line_within_it(project, capsys):
    _notebook(
        project / "nb.ipynb",
        [
            ("markdown", "# Solving"),
            ("code", "%matplotlib inline\nimport numpy as np\n!pip install torch"),
            ("code", "%%bash\necho this is not python ("),
            ("code", "files = !ls\nnp.sum?\n" + LOOP),
            ("code", LOOP + "  # noqa: PFL408"),
        ],
    )
    status, findings = run_json(capsys)
    assert status == 1
    assert [(f["code"], f["path"], f["cell"], f["line"], f["column"]) for f in findings] == [
        ("PFL408", "nb.ipynb", 4, 4, 9)
    ]
    main(["check", "--no-cache", *SELECT, "nb.ipynb"])
    assert capsys.readouterr().out.startswith("nb.ipynb:cell 4:4:9: PFL408 ")


def test_notebooks_are_discovered_by_default_and_can_be_excluded(project, capsys):
    _notebook(project / "analysis" / "nb.ipynb", [("code", "import numpy as np\n" + LOOP)])
    assert run_json(capsys)[0] == 1
    (project / "pyproject.toml").write_text("[tool.perflint]\nextend-exclude = ['*.ipynb']\n")
    assert run_json(capsys) == (0, [])
    (project / "pyproject.toml").write_text("[tool.perflint]\ninclude = ['*.py']\n")
    assert run_json(capsys) == (0, [])


def test_sarif_and_full_output_carry_the_cell(project, capsys):
    _notebook(project / "nb.ipynb", [("code", "import numpy as np"), ("code", LOOP)])
    main(["check", "--no-cache", *SELECT, "--output-format", "sarif", "nb.ipynb"])
    [result] = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert result["properties"] == {"cell": 2}
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 2
    main(["check", "--no-cache", *SELECT, "--output-format", "full", "nb.ipynb"])
    out = capsys.readouterr().out
    assert "nb.ipynb:cell 2:2:9: PFL408" in out and '2 |     x = np.load("A.npy") @ b' in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "cannot read notebook: invalid JSON"),
        (b'{"nbformat": 3, "worksheets": []}', "nbformat 3 is not supported"),
        (b'{"cells": [{"cell_type": "code", "source": 7}]}', "neither text nor a list of lines"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_a_malformed_notebook_is_pfl000_and_the_run_goes_on(project, capsys, content, reason):
    (project / "bad.ipynb").write_bytes(content)
    _notebook(project / "good.ipynb", [("code", "import numpy as np\n" + LOOP)])
    status, findings = run_json(capsys)
    assert status == 1
    assert [(f["code"], f["path"]) for f in findings] == [("PFL000", "bad.ipynb"), ("PFL408", "good.ipynb")]
    assert reason in findings[0]["message"] and "\n" not in findings[0]["message"]


def test_a_syntax_error_in_a_cell_is_placed_in_that_cell(project, capsys):
    _notebook(project / "nb.ipynb", [("code", "x = 1"), ("markdown", "text"), ("code", "y = 2\nz = (")])
    status, [finding] = run_json(capsys)
    assert (finding["code"], finding["cell"], finding["line"]) == ("PFL000", 3, 2)


def test_a_notebook_of_another_language_has_nothing_to_lint(project, capsys):
    path = _notebook(project / "r.ipynb", [("code", "x <- c(1, 2)")])
    document = json.loads(path.read_text())
    document["metadata"] = {"kernelspec": {"name": "ir", "language": "R", "display_name": "R"}}
    path.write_text(json.dumps(document))
    assert run_json(capsys) == (0, [])


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%timeit f(x)", "pass"),
        ("    !nvidia-smi", "    pass"),
        ("files = !ls -l", "files = None"),
        ("t = %time f()", "t = None"),
        ("np.sum??", "pass"),
        ("?np.sum", "pass"),
        ("x = a % b", "x = a % b"),
        ("print('!')", "print('!')"),
    ],
)
def test_ipython_syntax_is_neutralised_line_for_line(line, expected):
    assert neutralise(line) == expected


def test_joined_lines_map_back_to_their_cells():
    document = {
        "cells": [
            {"cell_type": "code", "source": ["a = 1\n", "b = 2"]},
            {"cell_type": "markdown", "source": "# t"},
            {"cell_type": "code", "source": "c = 3\r\nd = 4"},
        ]
    }
    notebook = read_notebook(json.dumps(document).encode())
    assert notebook.source == "a = 1\nb = 2\nc = 3\nd = 4\n"
    assert [notebook.locate(line) for line in (1, 2, 3, 4)] == [(1, 1), (1, 2), (3, 1), (3, 2)]
