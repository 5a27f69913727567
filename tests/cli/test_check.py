"""``perflint check`` end to end: exit codes, selection, configuration, discovery, bad input,
noqa, the cache and worker processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys

import pytest

from perflint import runner
from perflint.cli.check import resolve_selection
from perflint.cli.main import main
from perflint.config import Config
from perflint.engine.rule import Rule
from perflint.files import SourceFile
from perflint.rules import rule_by_code

# PFL404's documented example (a rule on by default): one finding, on line 4.
FLAGGED = """\
from transformers import AutoTokenizer

def encode_all(texts, name):
    return [AutoTokenizer.from_pretrained(name)(text) for text in texts]
"""
CLEAN = """\
from transformers import AutoTokenizer

def encode_all(texts, name):
    tokenizer = AutoTokenizer.from_pretrained(name)
    return [tokenizer(text) for text in texts]
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder that is the current directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check(capsys, *arguments):
    """Run ``perflint check --output-format json``; the exit status and (code, path, line) triples."""
    status = main(["check", "--output-format", "json", *arguments])
    out = capsys.readouterr().out
    findings = json.loads(out)["findings"] if out.strip() else None
    triples = None if findings is None else [(f["code"], f["path"].replace(os.sep, "/"), f["line"]) for f in findings]
    return status, triples


def error_of(capsys, *arguments):
    status = main(["check", *arguments])
    return status, capsys.readouterr().err


# Exit codes and paths -------------------------------------------------------------------


def test_clean_file_exits_0(project, capsys):
    write(project / "clean.py", CLEAN)
    assert check(capsys, "clean.py") == (0, [])


def test_finding_exits_1_unless_exit_zero(project, capsys):
    write(project / "a.py", FLAGGED)
    assert check(capsys, "a.py") == (1, [("PFL404", "a.py", 4)])
    assert check(capsys, "--exit-zero", "a.py") == (0, [("PFL404", "a.py", 4)])


def test_default_path_is_the_current_folder_and_check_is_the_default_command(project, capsys):
    write(project / "pkg" / "a.py", FLAGGED)
    write(project / "pkg" / "b.py", CLEAN)
    assert check(capsys) == (1, [("PFL404", "pkg/a.py", 4)])
    assert main(["--output-format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["findings"][0]["path"].replace(os.sep, "/") == "pkg/a.py"


def test_missing_path_exits_2_naming_it(project, capsys):
    write(project / "a.py", FLAGGED)
    status, err = error_of(capsys, "a.py", "missing_dir")
    assert status == 2
    assert err.strip() == "perflint: error: no such file or directory: missing_dir"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--select", "PFL999"], "unknown rule code or prefix: PFL999"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--measure", "--output-format", "sarif"], "--measure cannot be combined with --output-format sarif"),
        (["--measure", "--output-format", "github"], "--measure cannot be combined with --output-format github"),
        (["--config", "nowhere.toml"], "config file not found: nowhere.toml"),
        (["--measure-budget", "nan"], "--measure-budget must be a positive number of seconds, not nan"),
        (["--measure-budget", "inf"], "--measure-budget must be a positive number of seconds, not inf"),
        (["--measure-budget", "-3"], "--measure-budget must be a positive number of seconds, not -3"),
        (["--per-file-timeout", "inf"], "--per-file-timeout must be a number of seconds above 0 and at most 3600"),
        (["--per-file-timeout", "1e308"], "--per-file-timeout must be a number of seconds above 0 and at most 3600"),
        (["--per-file-timeout", "nan"], "--per-file-timeout must be a number of seconds above 0 and at most 3600"),
    ],
)
def test_usage_errors_exit_2(project, capsys, arguments, message):
    write(project / "a.py", FLAGGED)
    status, err = error_of(capsys, *arguments, "a.py")
    assert status == 2
    assert message in err


# Selection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], [("PFL404", "a.py", 4)]),
        (["--select", "PFL4"], [("PFL404", "a.py", 4)]),
        (["--select", "ALL"], [("PFL404", "a.py", 4)]),
        (["--select", "PFL1,PFL2"], []),
        (["--ignore", "PFL404"], []),
        (["--ignore", "ALL"], []),
        (["--ignore", "PFL4", "--extend-select", "PFL404"], [("PFL404", "a.py", 4)]),  # more specific wins
        (["--select", "PFL404", "--ignore", "PFL4"], [("PFL404", "a.py", 4)]),
        (["--select", "PFL4", "--ignore", "PFL404"], []),
        (["--select", "PFL1", "--extend-select", "PFL4"], [("PFL404", "a.py", 4)]),
    ],
)
def test_command_line_selection(project, capsys, arguments, expected):
    write(project / "a.py", FLAGGED)
    assert check(capsys, *arguments, "a.py")[1] == expected


# PFL401's documented example: PFL401 is opt-in since round 5 of the precision review.
INVERSE_IN_LOOP = """\
import numpy as np

def solve_all(A, rhs):
    return [np.linalg.inv(A) @ b for b in rhs]
"""


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ([], []),
        (["--select", "PFL4"], [("PFL401", "a.py", 4)]),
        (["--select", "ALL"], [("PFL401", "a.py", 4)]),
        (["--extend-select", "PFL401"], [("PFL401", "a.py", 4)]),
        (["--extend-select", "PFL401", "--ignore", "PFL4"], [("PFL401", "a.py", 4)]),
    ],
)
def test_an_opt_in_rule_is_silent_by_default_and_reported_when_selected(project, capsys, arguments, expected):
    write(project / "a.py", INVERSE_IN_LOOP)
    assert check(capsys, *arguments, "a.py")[1] == expected


@pytest.mark.parametrize(
    ("config", "arguments", "expected"),
    [
        ("ignore = ['PFL4']", [], []),
        ("select = ['PFL1']", [], []),
        ("ignore = ['PFL4']", ["--extend-select", "PFL404"], [("PFL404", "a.py", 4)]),
        ("ignore = ['PFL404']", ["--extend-select", "PFL4"], [("PFL404", "a.py", 4)]),  # the command line wins
        ("ignore = ['PFL404']", ["--select", "PFL4"], [("PFL404", "a.py", 4)]),  # --select starts afresh
        ("select = ['PFL4']", ["--ignore", "PFL404"], []),
        ("select = ['PFL1']\nextend-select = ['PFL404']", [], [("PFL404", "a.py", 4)]),
    ],
)
def test_command_line_wins_over_configuration(project, capsys, config, arguments, expected):
    write(project / "pyproject.toml", f"[tool.perflint]\n{config}\n")
    write(project / "a.py", FLAGGED)
    assert check(capsys, *arguments, "a.py")[1] == expected


class _FakeRule(Rule):
    code = "PFL000"


def _fake_registry(monkeypatch):
    """Three rules, one of them opt-in, in place of the real catalogue."""
    fakes = tuple(
        type(f"Fake{code}", (_FakeRule,), {"code": code, "default_enabled": default})
        for code, default in (("PFL101", True), ("PFL102", False), ("PFL201", True))
    )
    monkeypatch.setattr("perflint.rules.all_rules", lambda: fakes)
    return fakes


@pytest.mark.parametrize(
    ("select", "ignore", "extend_select", "expected"),
    [
        (None, (), (), ["PFL101", "PFL201"]),  # opt-in PFL102 is off by default
        (["ALL"], (), (), ["PFL101", "PFL102", "PFL201"]),
        (["PFL1"], (), (), ["PFL101", "PFL102"]),  # a prefix selects opt-in rules
        (None, (), ["PFL102"], ["PFL101", "PFL102", "PFL201"]),
        (None, ["PFL1"], (), ["PFL201"]),
        (["PFL1"], ["PFL102"], (), ["PFL101"]),
        (["ALL"], ["PFL1"], ["PFL102"], ["PFL102", "PFL201"]),
    ],
)
def test_selection_with_opt_in_rules(monkeypatch, tmp_path, select, ignore, extend_select, expected):
    _fake_registry(monkeypatch)
    rules = resolve_selection(Config(root=str(tmp_path)), select, ignore, extend_select)
    assert [rule.code for rule in rules] == expected


def test_configuration_selection_then_command_line_layer(monkeypatch, tmp_path):
    _fake_registry(monkeypatch)
    config = Config(root=str(tmp_path), select=("PFL1",), ignore=("PFL102",))
    assert [r.code for r in resolve_selection(config)] == ["PFL101"]
    assert [r.code for r in resolve_selection(config, extend_select=["PFL1"])] == ["PFL101", "PFL102"]
    assert [r.code for r in resolve_selection(config, ignore=["PFL101"])] == []
    assert [r.code for r in resolve_selection(config, select=["PFL2"])] == ["PFL201"]


# Configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.perflint]\nselct = ['PFL4']\n", "unknown key 'selct'"),
        ("[tool.perflint]\nselect = ['PFL498']\n", "unknown rule code or prefix: PFL498"),
        ("[tool.perflint]\nselect = [\n", "invalid TOML"),
        ("[tool.perflint]\nignore = 'PFL4'\n", "ignore must be a list of strings"),
    ],
)
def test_configuration_errors_exit_2_naming_the_problem(project, capsys, body, message):
    write(project / "pyproject.toml", body)
    write(project / "a.py", FLAGGED)
    status, err = error_of(capsys, "a.py")
    assert status == 2
    assert message in err and "pyproject.toml" in err
    assert len(err.strip().splitlines()) == 1


def test_explicit_config_file(project, capsys):
    write(project / "configs" / "pyproject.toml", "[tool.perflint]\nignore = ['PFL4']\n")
    write(project / "a.py", FLAGGED)
    assert check(capsys, "--config", "configs/pyproject.toml", "a.py") == (0, [])


def test_per_file_ignores(project, capsys):
    write(
        project / "pyproject.toml",
        """\
[tool.perflint]
exclude-tests = false

[tool.perflint.per-file-ignores]
"tests/*.py" = ["PFL4"]
"scratch_*.py" = ["PFL404"]
"legacy" = ["ALL"]
""",
    )
    for relative in ("src/a.py", "tests/test_a.py", "tests/deep/test_b.py", "pkg/scratch_1.py", "legacy/sub/old.py"):
        write(project / relative, FLAGGED)
    assert check(capsys)[1] == [("PFL404", "src/a.py", 4), ("PFL404", "tests/deep/test_b.py", 4)]


def test_per_file_ignores_are_relative_to_the_config_folder_when_run_from_below(project, capsys, monkeypatch):
    write(
        project / "pyproject.toml",
        "[tool.perflint]\nexclude-tests = false\n[tool.perflint.per-file-ignores]\n'tests/*.py' = ['PFL4']\n",
    )
    write(project / "tests" / "test_a.py", FLAGGED)
    write(project / "tests" / "tests" / "test_b.py", FLAGGED)
    monkeypatch.chdir(project / "tests")
    assert check(capsys)[1] == [("PFL404", "tests/test_b.py", 4)]


def test_exclude_and_extend_exclude(project, capsys):
    write(project / "pyproject.toml", "[tool.perflint]\nextend-exclude = ['generated', 'src/skip_*.py']\n")
    for relative in (
        "src/a.py",
        "src/skip_me.py",
        "generated/g.py",
        "src/generated/h.py",
        "build/b.py",
        "venv2/lib/v.py",
    ):
        write(project / relative, FLAGGED)
    write(project / "venv2" / "pyvenv.cfg", "home = /usr\n")
    assert check(capsys)[1] == [("PFL404", "src/a.py", 4)]
    # A file named on the command line is linted even when excluded.
    assert check(capsys, "src/skip_me.py")[1] == [("PFL404", "src/skip_me.py", 4)]
    # Unless --force-exclude says the exclusions hold for named paths too (as pre-commit needs).
    assert check(capsys, "--force-exclude", "src/skip_me.py", "generated/g.py", "src/a.py")[1] == [
        ("PFL404", "src/a.py", 4)
    ]
    write(project / "pyproject.toml", "[tool.perflint]\nexclude = ['generated']\n")  # replaces the defaults
    assert check(capsys)[1] == [("PFL404", "build/b.py", 4), ("PFL404", "src/a.py", 4), ("PFL404", "src/skip_me.py", 4)]


# Bad input ------------------------------------------------------------------------------


def test_unparsable_and_undecodable_files_are_pfl000_and_the_run_goes_on(project, capsys):
    write(project / "a.py", FLAGGED)
    write(project / "broken.py", "def f(:\n    pass\n")
    (project / "latin.py").write_bytes(b"x = 1\ny = '\xe9'\n")
    (project / "declared.py").write_bytes(b"# -*- coding: latin-1 -*-\ny = '\xe9'\n")
    status, triples = check(capsys)
    assert status == 1
    assert [t for t in triples if t[0] == "PFL404"] == [("PFL404", "a.py", 4)]
    assert {(code, path) for code, path, _ in triples if code == "PFL000"} == {
        ("PFL000", "broken.py"),
        ("PFL000", "latin.py"),
    }
    main(["check", "latin.py"])
    out = capsys.readouterr().out
    assert "latin.py:2:1: PFL000 cannot decode as utf-8: byte 0xe9" in out


def test_a_crashing_engine_becomes_pfl000_for_that_file_only(project, capsys, monkeypatch):
    real = runner.lint_source

    def fragile(source, path, rule_classes, apply_noqa=True, project=None, fix_edits=True):
        if path.endswith("poison.py"):
            raise RecursionError("maximum recursion depth exceeded")
        return real(source, path, rule_classes, apply_noqa, project, fix_edits)

    monkeypatch.setattr(runner, "lint_source", fragile)
    write(project / "a.py", FLAGGED)
    write(project / "poison.py", CLEAN)
    assert check(capsys, "--jobs", "1") == (1, [("PFL404", "a.py", 4), ("PFL000", "poison.py", 1)])
    main(["check", "--jobs", "1", "poison.py"])
    assert (
        "poison.py:1:1: PFL000 internal error: RecursionError: maximum recursion depth exceeded"
        in capsys.readouterr().out
    )


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork", reason="the patched worker is inherited only by forked processes"
)
def test_a_dying_worker_becomes_pfl000_for_its_file_only(tmp_path, monkeypatch, worker_processes):
    real = runner.lint_source

    def deadly(source, path, rule_classes, apply_noqa=True, project=None, fix_edits=True):
        if path.endswith("poison.py"):
            os._exit(3)
        return real(source, path, rule_classes, apply_noqa, project, fix_edits)

    monkeypatch.setattr(runner, "lint_source", deadly)
    codes = (rule_by_code("PFL404").code,)
    tasks = []
    for name, text in (("a.py", FLAGGED), ("poison.py", CLEAN), ("b.py", FLAGGED), ("c.py", CLEAN)):
        write(tmp_path / name, text)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), codes))
    findings = runner.lint_files(tasks, jobs=2)
    assert [(f.code, f.path) for f in findings] == [("PFL404", "a.py"), ("PFL404", "b.py"), ("PFL000", "poison.py")]
    assert findings[-1].message == "internal error: the worker process linting this file died"


# noqa -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("  # noqa", True),
        ("  # noqa: PFL404", True),
        ("  # noqa: PFL4", True),
        ("  # NOQA:PFL101,PFL4", True),
        ("  # noqa: PFL2", False),
        ("  # noqa: PFL4041", False),
        ("", False),
    ],
)
def test_noqa_end_to_end(project, capsys, comment, suppressed):
    write(project / "a.py", FLAGGED.replace("for text in texts]", "for text in texts]" + comment))
    assert check(capsys, "a.py") == ((0, []) if suppressed else (1, [("PFL404", "a.py", 4)]))


# Cache ------------------------------------------------------------------------------------


def test_cache_hit_returns_identical_findings_without_linting(project, capsys, monkeypatch):
    write(project / "a.py", FLAGGED)
    write(project / "b.py", CLEAN)
    write(project / "broken.py", "def f(:\n")
    main(["check", "--output-format", "json", "--statistics"])
    first = capsys.readouterr().out
    assert (project / ".perflint_cache" / ".gitignore").read_text().splitlines()[-1] == "*"

    def no_linting(*args, **kwargs):
        raise AssertionError("a cache hit must not lint")

    monkeypatch.setattr(runner, "lint_source", no_linting)
    assert main(["check", "--output-format", "json", "--statistics"]) == 1
    assert capsys.readouterr().out == first


def test_changed_file_is_linted_again(project, capsys):
    path = write(project / "a.py", FLAGGED)
    assert check(capsys) == (1, [("PFL404", "a.py", 4)])
    path.write_text(CLEAN)
    assert check(capsys) == (0, [])
    path.write_text("\n\n" + FLAGGED)
    assert check(capsys) == (1, [("PFL404", "a.py", 6)])


def test_selection_is_part_of_the_cache_key(project, capsys):
    write(project / "a.py", FLAGGED)
    assert check(capsys, "--select", "PFL1") == (0, [])
    assert check(capsys) == (1, [("PFL404", "a.py", 4)])


def test_no_cache_neither_reads_nor_writes(project, capsys, monkeypatch):
    write(project / "a.py", FLAGGED)
    assert check(capsys, "--no-cache") == (1, [("PFL404", "a.py", 4)])
    assert not (project / ".perflint_cache").exists()
    check(capsys)
    log = project.parent / "linted.txt"
    real = runner.lint_source

    def logged(*args, **keywords):  # runs in the worker process: it leaves its trace in a file
        with open(log, "a") as stream:
            stream.write(args[1] + "\n")
        return real(*args, **keywords)

    monkeypatch.setattr(runner, "lint_source", logged)
    assert check(capsys, "--no-cache") == (1, [("PFL404", "a.py", 4)])
    assert log.read_text().split() == ["a.py"]


DETECT_ANOMALY = "import torch\ntorch.autograd.set_detect_anomaly(True)\n"  # PFL504, except in test code


def test_a_cache_dir_that_is_not_perflints_is_refused_before_any_work(project, capsys):
    write(project / "data_preparation" / "steps.py", CLEAN)  # 16 characters, like a build folder
    write(project / "main.py", FLAGGED)
    before = sorted(os.listdir(project))
    status, err = error_of(capsys, "--cache-dir", ".", "main.py")
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("perflint: error: the cache folder ")
    assert "not empty and not perflint's" in err
    assert sorted(os.listdir(project)) == before  # no .gitignore, no build folder, nothing deleted
    assert (project / "data_preparation" / "steps.py").read_text() == CLEAN


def test_a_configured_cache_dir_outside_the_project_is_refused(project, capsys):
    write(project / "repo" / "pyproject.toml", '[tool.perflint]\ncache-dir = ".."\n')
    write(project / "repo" / "a.py", FLAGGED)
    write(project / "sibling" / "keep.txt", "mine")
    status, err = error_of(capsys, "repo")
    assert status == 2 and "is not empty and not perflint's" in err
    assert sorted(os.listdir(project)) == ["repo", "sibling"]


def test_an_empty_cache_dir_is_taken_marked_and_used(project, capsys):
    (project / "lint-cache").mkdir()
    write(project / "a.py", FLAGGED)
    assert check(capsys, "--cache-dir", "lint-cache", "a.py") == (1, [("PFL404", "a.py", 4)])
    assert (project / "lint-cache" / "CACHEDIR.TAG").is_file()
    assert check(capsys, "--cache-dir", "lint-cache", "a.py") == (1, [("PFL404", "a.py", 4)])


def test_test_code_and_other_code_with_the_same_bytes_do_not_share_cached_findings(project, capsys):
    write(project / "train.py", DETECT_ANOMALY)
    write(project / "test_train.py", DETECT_ANOMALY)
    for _ in range(2):  # the second round is served from the cache
        assert check(capsys, "--select", "PFL504", "train.py") == (1, [("PFL504", "train.py", 2)])
        assert check(capsys, "--select", "PFL504", "test_train.py") == (0, [])


def test_a_notebook_and_a_python_file_with_the_same_bytes_do_not_share_cached_findings(project, capsys):
    notebook = json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": FLAGGED.splitlines(keepends=True),
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    write(project / "nb.ipynb", notebook)
    write(project / "nb.py", notebook)  # a dict literal to Python: nothing to report
    for _ in range(2):
        assert check(capsys, "nb.ipynb")[1] == [("PFL404", "nb.ipynb", 4)]
        assert check(capsys, "nb.py") == (0, [])


def test_a_corrupt_rule_index_does_not_silence_later_runs(project, capsys):
    write(project / "a.py", FLAGGED)
    first = check(capsys)
    assert first == (1, [("PFL404", "a.py", 4)])
    [index] = [
        os.path.join(folder, "rules.json")
        for folder, _, names in os.walk(project / ".perflint_cache")
        if "rules.json" in names
    ]
    with open(index, "w") as stream:
        stream.write('{"rules": []}')
    assert check(capsys) == first
    assert check(capsys) == first
    with open(index) as stream:
        assert len(json.load(stream)["payload"]["rules"]) > 1  # rewritten


def test_the_summary_never_counts_more_files_with_findings_than_files_checked(project, capsys):
    write(project / "a.py", FLAGGED)
    os.symlink("loop", project / "loop")
    assert main(["check", "a.py", "loop"]) == 1
    out = capsys.readouterr().out
    assert "Found 2 findings in 2 files (2 checked)." in out


@pytest.mark.slow
def test_output_that_cannot_be_written_exits_2_with_one_line(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    write(tmp_path / "a.py", FLAGGED)
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", "check", "--no-cache", "a.py"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert completed.returncode == 2
    assert completed.stderr == "perflint: error: cannot write the output: No space left on device\n"


def test_jobs_are_capped_at_the_cores():
    assert runner.worker_count(500, 1000) == runner.available_cores()
    assert runner.worker_count(None, 3) == 1
    assert runner.worker_count(2, 1) == 1


def test_diff_with_json_output_prints_the_findings_and_each_files_diff(project, capsys):
    write(project / "a.py", FLAGGED)
    write(project / "b.py", CLEAN)
    assert main(["check", "--diff", "--unsafe-fixes", "--output-format", "json"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert [f["code"] for f in report["findings"]] == ["PFL404"]
    assert report["would_fix"] == 1
    assert [diff["path"] for diff in report["diffs"]] == ["a.py"]
    assert report["diffs"][0]["diff"].startswith("--- a.py\n+++ a.py\n@@ ")
    assert (project / "a.py").read_text() == FLAGGED  # --diff writes nothing
    assert "Would fix 1 finding in 1 file." in captured.err


def test_cache_lives_at_the_config_root(project, capsys, monkeypatch):
    write(project / "pyproject.toml", "[tool.perflint]\nignore = []\n")
    write(project / "src" / "a.py", FLAGGED)
    monkeypatch.chdir(project / "src")
    assert check(capsys) == (1, [("PFL404", "a.py", 4)])
    assert (project / ".perflint_cache").is_dir() and not (project / "src" / ".perflint_cache").exists()


# Worker processes and measurement --------------------------------------------------------


def test_jobs_2_gives_the_same_findings_as_jobs_1(project, capsys, worker_processes):
    for index in range(6):
        write(project / f"m{index}.py", FLAGGED if index % 2 else CLEAN)
    write(project / "broken.py", "def f(:\n")
    one = check(capsys, "--no-cache", "--jobs", "1")
    two = check(capsys, "--no-cache", "--jobs", "2")
    assert one == two
    assert one[1] == [("PFL000", "broken.py", 1)] + [("PFL404", f"m{i}.py", 4) for i in (1, 3, 5)]


def test_measure_times_the_rules_that_fired_within_the_budget_through_the_cache(project, capsys, monkeypatch):
    from perflint.measure import harness
    from perflint.measure.results import MeasurementReport

    asked = []

    def measure_rules(rule_classes, budget_seconds, cache, progress):
        asked.append(([rule.code for rule in rule_classes], budget_seconds, cache is not None and cache.read, progress))
        return MeasurementReport(machine={"cpu": "test"}, measurements=[])

    monkeypatch.setattr(harness, "measure_rules", measure_rules)
    write(project / "a.py", FLAGGED)
    write(project / "broken.py", "def f(:\n")
    assert main(["check", "--measure", "--output-format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["machine"] == {"cpu": "test"} and report["measurements"] == []
    assert main(["check", "--measure", "--measure-budget", "5", "--remeasure"]) == 1
    # no progress bar when the output is not a terminal; --remeasure stores but does not read
    assert asked == [(["PFL404"], 30.0, True, None), (["PFL404"], 5.0, False, None)]
    capsys.readouterr()
    assert main(["check", "--measure", "--measure-budget", "0"]) == 2
    assert "--measure-budget" in capsys.readouterr().err


def test_measurements_are_cached_in_the_cache_dir_given(project, capsys, monkeypatch):
    from perflint.measure import harness
    from perflint.measure.results import MeasurementReport

    folders = []

    def measure_rules(rule_classes, budget_seconds, cache, progress):
        folders.append(cache.base)
        return MeasurementReport(machine={"cpu": "test"}, measurements=[])

    monkeypatch.setattr(harness, "measure_rules", measure_rules)
    write(project / "a.py", FLAGGED)
    assert main(["check", "--measure", "--cache-dir", "elsewhere", "a.py"]) == 1
    write(project / "pyproject.toml", '[tool.perflint]\ncache-dir = "configured"\n')
    assert main(["check", "--measure", "a.py"]) == 1
    assert folders == [str(project / "elsewhere"), str(project / "configured")]


SIZED_LOOPS = """\
import numpy as np

N = 100_000


def scale(factor):
    small = np.zeros(1_000)
    out = np.zeros(1_000)
    for i in range(len(small)):
        out[i] = small[i] * factor
    large = np.zeros(N)
    doubled = np.zeros(N)
    for i in range(N):
        doubled[i] = large[i] * 2
    return out, doubled
"""


def test_measure_ranks_a_rule_at_the_largest_size_its_findings_state(project, capsys, monkeypatch):
    from perflint.measure import harness
    from perflint.measure.results import MEASURED, Measurement, MeasurementReport, Point

    def measured(code, sizes_and_savings):
        points = tuple(
            Point(
                size=size,
                pattern_seconds=2 * saved,
                fix_seconds=saved,
                speedup=2.0,
                speedup_low=1.9,
                speedup_high=2.1,
                samples=15,
                workers=3,
            )
            for size, saved in sizes_and_savings
        )
        return Measurement(
            code=code,
            name=code.lower(),
            backend="numpy",
            library="numpy",
            device="cpu",
            status=MEASURED,
            size_unit="elements",
            points=points,
        )

    # At its middle size PFL101 saves less than PFL404 (1 ms against 2 ms); at 100k, more (10 ms).
    report = MeasurementReport(
        machine={"cpu": "test"},
        measurements=[
            measured("PFL101", [(1_000, 1e-4), (10_000, 1e-3), (100_000, 1e-2)]),
            measured("PFL404", [(8, 5e-4), (32, 2e-3), (128, 2e-2)]),
        ],
    )
    monkeypatch.setattr(harness, "measure_rules", lambda rule_classes, budget_seconds, cache, progress: report)
    write(project / "loops.py", SIZED_LOOPS)
    write(project / "solve.py", FLAGGED)
    assert main(["check", "--no-cache", "--output-format", "json"]) == 1
    sizes = [(finding["code"], finding.get("size")) for finding in json.loads(capsys.readouterr().out)["findings"]]
    assert sizes == [("PFL101", 1_000), ("PFL101", 100_000), ("PFL404", None)]
    assert main(["check", "--no-cache", "--measure"]) == 1
    text = capsys.readouterr().out
    rows = [line.split()[0] for line in text.splitlines() if line.startswith(("PFL101 ", "PFL404 "))]
    assert rows == ["PFL101", "PFL404"]
    assert "10.0 ms at 100k" in text and "2.00 ms at 32" in text
    note = " ".join(text.split())
    assert "the largest size the rule's findings state in the code" in note
    assert "for PFL101 (100,000), and at the benchmark's middle size for the rest." in note
    # With only the small loop's size stated, PFL101 is read at 1k, where it saves least.
    write(project / "loops.py", SIZED_LOOPS.replace("N = 100_000", "N = int(input())"))
    assert main(["check", "--no-cache", "--measure", "loops.py", "solve.py"]) == 1
    text = capsys.readouterr().out
    rows = [line.split()[0] for line in text.splitlines() if line.startswith(("PFL101 ", "PFL404 "))]
    assert rows == ["PFL404", "PFL101"]
    assert "100 µs at 1k" in text and "for PFL101 (1,000)" in " ".join(text.split())


# The installed command ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_installed_command_survives_a_symbolic_link_loop(tmp_path):
    executable = os.path.join(os.path.dirname(sys.executable), "perflint")
    if not os.path.exists(executable):
        pytest.skip("the perflint command is not installed next to this interpreter")
    write(tmp_path / "pkg" / "a.py", FLAGGED)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "again")
    os.symlink(tmp_path, tmp_path / "pkg" / "root")
    completed = subprocess.run(
        [executable, "pkg", "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout.splitlines()[0].startswith(os.path.join("pkg", "a.py") + ":4:13: PFL404 ")
