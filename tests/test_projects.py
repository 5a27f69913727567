"""Projects as Ruff sees them: the closest configuration per file, test code skipped, standard
input for editors, and a cache that lives in the project and survives concurrent runs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from perflint.cli.main import main
from perflint.config import ConfigResolver
from perflint.engine.project_cache import INDEX_FOLDER

# PFL404's documented example (a rule on by default): one finding, on line 4.
FLAGGED = """\
from transformers import AutoTokenizer

def encode_all(texts, name):
    return [AutoTokenizer.from_pretrained(name)(text) for text in texts]
"""


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check(capsys, *arguments):
    status = main(["check", "--output-format", "json", *arguments])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return status, sorted((f["code"], f["path"].replace(os.sep, "/"), f["line"]) for f in findings)


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


# Nested projects ---------------------------------------------------------------------------


def test_each_file_follows_the_closest_configuration(project, capsys):
    write(project / "pyproject.toml", "[tool.perflint]\nignore = ['PFL4']\n")
    write(project / "top.py", FLAGGED)
    write(project / "inner" / "pyproject.toml", "[tool.perflint]\nselect = ['PFL404']\n")
    write(project / "inner" / "pkg" / "a.py", FLAGGED)
    write(project / "inner" / "plain" / "pyproject.toml", "[project]\nname = 'no-table'\n")
    write(project / "inner" / "plain" / "b.py", FLAGGED)
    assert check(capsys, "--no-cache") == (1, [("PFL404", "inner/pkg/a.py", 4), ("PFL404", "inner/plain/b.py", 4)])


def test_a_project_named_on_the_command_line_uses_its_own_settings(tmp_path, monkeypatch, capsys):
    other = tmp_path / "other-project"
    write(
        other / "pyproject.toml",
        "[tool.perflint]\nextend-exclude = ['generated']\n[tool.perflint.per-file-ignores]\n'src/quiet.py' = ['ALL']\n",
    )
    for name in ("src/loud.py", "src/quiet.py", "src/generated/g.py"):
        write(other / name, FLAGGED)
    here = tmp_path / "here"
    write(here / "pyproject.toml", "[tool.perflint]\nignore = ['PFL4']\n")
    monkeypatch.chdir(here)
    assert check(capsys, "--no-cache", "../other-project/src") == (1, [("PFL404", "../other-project/src/loud.py", 4)])
    # --config wins over every project's own file.
    assert check(capsys, "--no-cache", "--config", "pyproject.toml", "../other-project/src") == (0, [])


def test_a_file_outside_every_project_falls_back_to_the_working_directorys_configuration(tmp_path, monkeypatch):
    write(tmp_path / "work" / "pyproject.toml", "[tool.perflint]\nignore = ['PFL4']\n")
    write(tmp_path / "loose" / "a.py", FLAGGED)
    resolver = ConfigResolver(None, str(tmp_path / "work"))
    config = resolver.for_file(str(tmp_path / "loose" / "a.py"))
    assert config.path == str(tmp_path / "work" / "pyproject.toml")


def test_a_nested_projects_bad_code_is_an_error_naming_its_file(project, capsys):
    write(project / "a.py", FLAGGED)
    write(project / "sub" / "pyproject.toml", "[tool.perflint]\nselect = ['PFL999']\n")
    write(project / "sub" / "b.py", FLAGGED)
    assert main(["check", "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert "sub" in err and "PFL999" in err and len(err.strip().splitlines()) == 1


# Test code ---------------------------------------------------------------------------------


TEST_FILES = ("tests/unit/helpers.py", "test/x.py", "pkg/test_model.py", "pkg/model_test.py", "pkg/conftest.py")


def test_test_code_is_skipped_by_default(project, capsys):
    for relative in ("pkg/model.py", "pkg/testing.py", "pkg/contest.py", *TEST_FILES):
        write(project / relative, FLAGGED)
    assert check(capsys, "--no-cache") == (
        1,
        [("PFL404", "pkg/contest.py", 4), ("PFL404", "pkg/model.py", 4), ("PFL404", "pkg/testing.py", 4)],
    )


def test_exclude_tests_false_lints_test_code(project, capsys):
    write(project / "pyproject.toml", "[tool.perflint]\nexclude-tests = false\n")
    for relative in TEST_FILES:
        write(project / relative, FLAGGED)
    assert [path for _, path, _ in check(capsys, "--no-cache")[1]] == sorted(TEST_FILES)


def test_a_named_test_file_is_linted_unless_force_exclude(project, capsys):
    write(project / "tests" / "test_speed.py", FLAGGED)
    assert check(capsys, "--no-cache", "tests/test_speed.py") == (1, [("PFL404", "tests/test_speed.py", 4)])
    assert check(capsys, "--no-cache", "--force-exclude", "tests/test_speed.py") == (0, [])


# Standard input ----------------------------------------------------------------------------


def _stdin(monkeypatch, text):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_dash_reads_the_source_from_standard_input(project, capsys, monkeypatch):
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-") == (1, [("PFL404", "<stdin>", 4)])
    assert not (project / ".perflint_cache").exists()  # standard input is never cached


def test_stdin_filename_names_it_and_picks_its_settings(project, capsys, monkeypatch):
    write(project / "pyproject.toml", "[tool.perflint.per-file-ignores]\n'legacy/*.py' = ['PFL4']\n")
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-", "--stdin-filename", "src/model.py") == (1, [("PFL404", "src/model.py", 4)])
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-", "--stdin-filename", "legacy/old.py") == (0, [])
    write(project / "nested" / "pyproject.toml", "[tool.perflint]\nignore = ['PFL404']\n")
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-", "--stdin-filename", "nested/x.py") == (0, [])


def test_stdin_filename_that_is_excluded_is_skipped_only_with_force_exclude(project, capsys, monkeypatch):
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-", "--stdin-filename", "tests/test_a.py") == (1, [("PFL404", "tests/test_a.py", 4)])
    _stdin(monkeypatch, FLAGGED)
    assert check(capsys, "-", "--force-exclude", "--stdin-filename", "tests/test_a.py") == (0, [])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [(["-", "a.py"], "cannot be combined"), (["--stdin-filename", "x.py", "a.py"], "pass '-'")],
)
def test_stdin_misuse_is_a_usage_error(project, capsys, arguments, message):
    write(project / "a.py", FLAGGED)
    assert main(["check", *arguments]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_stdin_through_the_installed_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "-", "--stdin-filename", "m.py"],
        input=FLAGGED,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("m.py:4:13: PFL404 ")


# Cache -------------------------------------------------------------------------------------


def test_the_cache_lives_in_the_project_that_owns_the_file(tmp_path, monkeypatch, capsys):
    other = tmp_path / "other"
    write(other / "pyproject.toml", "[tool.perflint]\n")
    write(other / "src" / "a.py", FLAGGED)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert check(capsys, "../other/src")[0] == 1
    assert (other / ".perflint_cache").is_dir()
    assert not (tmp_path / "here" / ".perflint_cache").exists()


def test_cache_dir_setting_and_option_move_the_cache(project, capsys):
    write(project / "pyproject.toml", "[tool.perflint]\ncache-dir = 'var/lint-cache'\n")
    write(project / "a.py", FLAGGED)
    check(capsys)
    assert (project / "var" / "lint-cache").is_dir() and not (project / ".perflint_cache").exists()
    check(capsys, "--cache-dir", "elsewhere")
    assert (project / "elsewhere").is_dir()


@pytest.mark.slow
def test_a_warm_run_imports_neither_libcst_nor_the_rules(project):
    write(project / "a.py", FLAGGED)
    probe = (
        "import sys; from perflint.cli.main import main; code = main(['check', '--exit-zero', 'a.py']); "
        "print(sorted(m for m in ('libcst', 'perflint.rules', 'perflint.engine.linter') if m in sys.modules))"
    )
    cold = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=project, check=True)
    warm = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=project, check=True)
    # The cold run prepares the engine here, before its forked workers start with it
    # (``runner.prepare_worker``); the warm run has no file to lint and imports none of it.
    assert cold.stdout.splitlines()[-1] == "['libcst', 'perflint.engine.linter', 'perflint.rules']"
    assert warm.stdout.splitlines()[-1] == "[]"
    assert cold.stdout.splitlines()[0] == warm.stdout.splitlines()[0]  # the same finding, from the cache


@pytest.mark.slow
def test_two_runs_at_once_leave_a_cache_both_can_read(project):
    for index in range(40):
        write(project / f"m{index}.py", FLAGGED.replace("scores", f"scores_{index}"))
    command = [sys.executable, "-m", "perflint", "check", "--jobs", "2", "--output-format", "json", "."]
    runs = [
        subprocess.Popen(command, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [run.communicate() for run in runs]
    for (out, err), run in zip(outputs, runs):
        assert run.returncode == 1, err
        assert len(json.loads(out)["findings"]) == 40
    leftovers = [
        name
        for folder, _, names in os.walk(project / ".perflint_cache")
        for name in names
        if not name.endswith(".json") and name not in (".gitignore", "CACHEDIR.TAG")
    ]
    assert leftovers == []
    warm = subprocess.run(command, cwd=project, capture_output=True, text=True)
    assert json.loads(warm.stdout) == json.loads(outputs[0][0])


def test_a_corrupted_entry_is_ignored_and_rewritten(project, capsys):
    write(project / "a.py", FLAGGED)
    first = check(capsys)
    entries = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(project / ".perflint_cache")
        for name in names
        if name.endswith(".json") and name != "rules.json" and os.path.basename(folder) != INDEX_FOLDER
    ]
    assert len(entries) == 1
    with open(entries[0], "w") as stream:
        stream.write('{"findings": [{"code": ')
    assert check(capsys) == first
    with open(entries[0]) as stream:
        assert json.load(stream)["payload"]["findings"][0]["code"] == "PFL404"
