"""No input can break a run: each bad file gets a one-line PFL000 where one applies, the exit
status stays in 0/1/2, no traceback is printed, and the other files' findings still arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from perflint import runner
from perflint.engine import lint_source
from perflint.files import SourceFile
from perflint.rules import all_rules

FLAGGED = "import numpy as np\n\ndef solve_all(A, rhs):\n    return [np.linalg.inv(A) @ b for b in rhs]\n"

BAD_FILES = {
    "syntax_error.py": (b"def f(:\n    pass\n", "cannot parse"),
    "undecodable.py": (b"x = '\xff\xfe'\n", "cannot decode"),
    "binary.py": (bytes(range(256)) * 4, "cannot"),
    "empty.py": (b"", None),
    "bom.py": (b"\xef\xbb\xbf" + FLAGGED.encode(), "PFL401"),
    "crlf.py": (FLAGGED.replace("\n", "\r\n").encode(), "PFL401"),
    "cr.py": (FLAGGED.replace("\n", "\r").encode(), "PFL401"),
    "tabs_and_form_feeds.py": (b"import numpy as np\n\x0c\ndef f(A, rhs):\n\treturn [np.linalg.inv(A) @ b for b in rhs]\n",
                               "PFL401"),
    "deeply_nested.py": (b"x = " + b"(" * 190 + b"1" + b")" * 190 + b"\n", None),
    # libcst's native parser overflows its stack here and kills the process linting the file.
    "deep_brackets.py": (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "internal error"),
    "stub.pyi": (b"import numpy as np\ndef f(a: np.ndarray) -> np.ndarray: ...\n", None),
    "exported_notebook.py": (b"# %%\nimport numpy as np\n\n# %% [markdown]\n# text\n\n# %%\n"
                             + FLAGGED.split("\n", 1)[1].encode(), "PFL401"),
}


def run_cli(arguments, cwd):
    completed = subprocess.run([sys.executable, "-m", "perflint", "check", "--no-cache", "--output-format", "json",
                                *arguments], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode in (0, 1, 2)
    return completed


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_kind_of_bad_file_is_reported_and_the_run_goes_on(tmp_path, jobs):
    for name, (content, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "good.py").write_text(FLAGGED)
    completed = run_cli(["--jobs", jobs, "--per-file-timeout", "60", "."], tmp_path)
    findings = json.loads(completed.stdout)["findings"]
    by_path: dict[str, list[dict]] = {}
    for finding in findings:
        by_path.setdefault(finding["path"], []).append(finding)
        assert "\n" not in finding["message"]
    assert [f["code"] for f in by_path["good.py"]] == ["PFL401"]
    for name, (_, expected) in BAD_FILES.items():
        reported = by_path.get(name, [])
        if expected is None:
            assert reported == [], name
        elif expected.startswith("PFL"):
            assert [f["code"] for f in reported] == [expected], name
        else:
            assert [f["code"] for f in reported] == ["PFL000"] and reported[0]["message"].startswith(expected), name


def test_a_fifty_thousand_line_file_is_linted(tmp_path):
    body = "".join(f"value_{index} = {index}\n" for index in range(50_000 - 4))
    (tmp_path / "big.py").write_text(body + FLAGGED)
    findings = json.loads(run_cli(["big.py"], tmp_path).stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("PFL401", 50_000)]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_symbolic_link_loop_a_folder_without_python_and_an_unreadable_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(FLAGGED)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("no python here")
    assert json.loads(run_cli(["docs"], tmp_path).stdout)["findings"] == []
    locked = tmp_path / "pkg" / "locked.py"
    locked.write_text(FLAGGED)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read any file")
        findings = json.loads(run_cli(["."], tmp_path).stdout)["findings"]
    finally:
        locked.chmod(0o644)
    assert sorted((f["code"], f["path"]) for f in findings) == [("PFL000", "pkg/locked.py"), ("PFL401", "pkg/a.py")]
    assert findings[[f["path"] for f in findings].index("pkg/locked.py")]["message"].startswith("cannot read:")


def test_a_path_that_cannot_be_read_as_a_file_is_pfl000(tmp_path):
    """What a permission error does, in a form that also fails for a user who can read anything."""
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "folder.py").mkdir()
    tasks = [runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL401",)) for name in ("a.py", "folder.py")]
    findings = runner.lint_files(tasks, jobs=1)
    assert [(f.code, f.path) for f in findings] == [("PFL401", "a.py"), ("PFL000", "folder.py")]
    assert findings[1].message == "cannot read: Is a directory"


def test_a_file_deleted_during_the_run_is_pfl000(tmp_path):
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "gone.py").write_text(FLAGGED)
    tasks = [runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL401",)) for name in ("a.py", "gone.py")]
    (tmp_path / "gone.py").unlink()
    findings = runner.lint_files(tasks, jobs=1)
    assert [(f.code, f.path) for f in findings] == [("PFL401", "a.py"), ("PFL000", "gone.py")]
    assert findings[1].message.startswith("cannot read:")


def _slow_lint(source, path, rule_classes, apply_noqa=True, project=None):
    if "slow" in path:
        while True:  # Python code spending CPU time: the interval timer interrupts it
            pass
    return lint_source(source, path, rule_classes, apply_noqa, project)


@pytest.mark.skipif(sys.platform == "win32", reason="worker processes inherit the patch only when forked")
def test_a_file_over_its_time_limit_is_pfl000_and_the_others_are_linted(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "lint_source", _slow_lint)
    tasks = []
    for name in ("a.py", "slow.py"):
        (tmp_path / name).write_text(FLAGGED)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL401",), time_limit=2.0))
    started = time.monotonic()
    findings = runner.lint_files(tasks, jobs=1)
    assert time.monotonic() - started < 30
    assert [(f.code, f.path) for f in findings] == [("PFL401", "a.py"), ("PFL000", "slow.py")]
    assert findings[1].message == runner.time_limit_message(2.0)


@pytest.mark.skipif(sys.platform == "win32", reason="worker processes inherit the patch only when forked")
def test_a_worker_stuck_where_no_signal_reaches_is_killed_at_its_time_limit(tmp_path, monkeypatch):
    def stuck(source, path, rule_classes, apply_noqa=True, project=None):
        if "slow" in path:
            import signal

            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPROF])  # as native code would ignore it
            while True:
                time.sleep(0.01)
        return lint_source(source, path, rule_classes, apply_noqa, project)

    monkeypatch.setattr(runner, "lint_source", stuck)
    monkeypatch.setattr(runner, "BACKSTOP_FACTOR", 1)
    monkeypatch.setattr(runner, "BACKSTOP_GRACE", 3.0)
    tasks = []
    for name in ("a.py", "slow.py", "b.py", "c.py"):
        (tmp_path / name).write_text(FLAGGED)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL401",), time_limit=2.0))
    findings = runner.lint_files(tasks, jobs=2)
    assert [(f.code, f.path) for f in findings] == [("PFL401", "a.py"), ("PFL401", "b.py"), ("PFL401", "c.py"),
                                                    ("PFL000", "slow.py")]
    assert findings[-1].message == runner.time_limit_message(2.0)


# Generated programs ------------------------------------------------------------------------

EVERY_RULE = all_rules()


def _no_internal_error(source: str) -> None:
    for finding in lint_source(source, "generated.py", EVERY_RULE):
        assert not finding.message.startswith("internal error"), finding.message


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_no_rule_fails_on_programs_generated_from_the_grammar(source):
    _no_internal_error(source)


# from_node builds large programs: fewer examples keep the suite fast.
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_no_rule_fails_on_programs_generated_from_libcst_nodes(source):
    _no_internal_error(source)
