"""``perflint check --fix``, ``--unsafe-fixes`` and ``--diff`` end to end: what is written, what
is not, and what the report says."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat

import pytest

from perflint.cli import fixing
from perflint.cli.main import main

# PFL501: its fix (drop ``set_to_none=False``) is unsafe.
UNSAFE_ONLY = "import torch\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)  # reset\n"
UNSAFE_FIXED = "import torch\nfor batch in loader:\n    opt.zero_grad()  # reset\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys, *arguments):
    status = main(["check", "--no-cache", *arguments])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_fix_leaves_unsafe_fixes_alone_and_says_how_to_apply_them(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, out, _ = run(capsys, "--fix", "train.py")
    assert status == 1
    assert (project / "train.py").read_text() == UNSAFE_ONLY
    assert "train.py:3:5: PFL501 `opt.zero_grad" in out  # no [*]: --fix alone does not apply it
    assert "No safe fixes; 1 fixable with `perflint check --fix --unsafe-fixes`" in out


def test_unsafe_fixes_marks_and_applies(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, out, _ = run(capsys, "--unsafe-fixes", "train.py")
    assert status == 1 and "PFL501 [*] " in out
    assert "[*] 1 fixable with `perflint check --fix --unsafe-fixes`." in out
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert status == 0
    assert (project / "train.py").read_text() == UNSAFE_FIXED
    assert "Fixed 1 finding. No findings in 1 file checked." in out


def test_fixing_keeps_permissions_line_endings_and_encoding(project, capsys):
    source = (
        "# -*- coding: latin-1 -*-\r\nimport torch\r\nname = 'café'\r\n"
        "for batch in loader:\r\n    opt.zero_grad(set_to_none=False)\r\n"
    )
    path = project / "train.py"
    path.write_bytes(source.encode("latin-1"))
    os.chmod(path, 0o751)
    assert run(capsys, "--fix", "--unsafe-fixes", "train.py")[0] == 0
    assert path.read_bytes() == source.replace("set_to_none=False", "").encode("latin-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o751
    assert [name for name in os.listdir(project) if name != "train.py"] == []  # no temporary file left


def test_fixing_through_a_symbolic_link_changes_the_file_and_keeps_the_link(project, capsys):
    (project / "real.py").write_text(UNSAFE_ONLY)
    (project / "link.py").symlink_to("real.py")
    run(capsys, "--fix", "--unsafe-fixes", "link.py")
    assert (project / "link.py").is_symlink()
    assert (project / "real.py").read_text() == UNSAFE_FIXED


def test_diff_prints_the_change_and_writes_nothing(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, out, err = run(capsys, "--diff", "--unsafe-fixes", "train.py")
    assert status == 1
    assert out == (
        "--- train.py\n+++ train.py\n@@ -1,3 +1,3 @@\n import torch\n for batch in loader:\n"
        "-    opt.zero_grad(set_to_none=False)  # reset\n+    opt.zero_grad()  # reset\n"
    )
    assert err.strip() == "Would fix 1 finding in 1 file."
    assert (project / "train.py").read_text() == UNSAFE_ONLY


def test_diff_with_nothing_to_fix_exits_zero_and_names_the_hidden_fixes(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, out, err = run(capsys, "--diff", "train.py")
    assert (status, out) == (0, "")
    assert err.strip() == "No fixes to apply. 1 more finding can be fixed with --unsafe-fixes."


def test_fix_from_standard_input_writes_the_fixed_source_to_standard_output(project, capsys, monkeypatch):
    import io

    class Input(io.TextIOWrapper):
        pass

    monkeypatch.setattr("sys.stdin", Input(io.BytesIO(UNSAFE_ONLY.encode())))
    status, out, err = run(capsys, "--fix", "--unsafe-fixes", "-")
    assert status == 0
    assert out == UNSAFE_FIXED
    assert "Fixed 1 finding." in err


def test_a_file_changed_while_being_fixed_is_not_overwritten(project, capsys, monkeypatch):
    path = project / "train.py"
    path.write_text(UNSAFE_ONLY)
    real_fix_files = fixing.fix_files

    def fix_then_edit(tasks, jobs=None):
        results = real_fix_files(tasks, jobs)
        path.write_text(UNSAFE_ONLY + "# edited meanwhile\n")
        return results

    monkeypatch.setattr(fixing, "fix_files", fix_then_edit)
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert status == 1
    assert path.read_text() == UNSAFE_ONLY + "# edited meanwhile\n"
    assert "PFL000 fixes not written: the file changed on disk while perflint was fixing it" in out
    assert "PFL501" in out


def test_json_carries_each_fix_and_the_count_fixed(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    _, out, _ = run(capsys, "--output-format", "json", "train.py")
    [finding] = json.loads(out)["findings"]
    assert finding["fix"] == {
        "applicability": "unsafe",
        "message": finding["fix"]["message"],
        "edits": [{"line": 3, "column": 19, "end_line": 3, "end_column": 36, "content": ""}],
    }
    assert finding["fix"]["message"]
    _, out, _ = run(capsys, "--output-format", "json", "--fix", "--unsafe-fixes", "train.py")
    assert json.loads(out) == {"version": json.loads(out)["version"], "findings": [], "fixed": 1}


def test_notebooks_are_reported_without_fixes_and_left_alone(project, capsys):
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": UNSAFE_ONLY.splitlines(keepends=True),
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = project / "train.ipynb"
    path.write_text(json.dumps(notebook))
    before = path.read_bytes()
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "--output-format", "json", "train.ipynb")
    assert status == 1 and path.read_bytes() == before
    [finding] = json.loads(out)["findings"]
    assert (finding["code"], finding["fix"]) == ("PFL501", None)


def test_diff_and_measure_do_not_combine(project, capsys):
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, _, err = run(capsys, "--diff", "--measure", "train.py")
    assert status == 2 and "--diff" in err


@pytest.mark.skipif(
    multiprocessing.get_start_method() != "fork",
    reason="the broken fix is planted in this process; only forked workers inherit it",
)
def test_a_fix_that_would_leave_the_file_unparsable_is_refused_and_the_file_is_not_written(
    project, capsys, monkeypatch
):
    from perflint.engine import fixes
    from perflint.engine.findings import Edit

    real_text_edits = fixes.text_edits

    def broken(tree, fix):
        return tuple(
            Edit(edit.line, edit.column, edit.end_line, edit.end_column, edit.content + "(((")
            for edit in real_text_edits(tree, fix)
        )

    monkeypatch.setattr(fixes, "text_edits", broken)
    path = project / "train.py"
    path.write_text(UNSAFE_ONLY)
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert status == 1
    assert path.read_text() == UNSAFE_ONLY
    assert "PFL000 fix refused: the fix of PFL501 would leave the file unparsable" in out
    assert "PFL501" in out.split("PFL000", 1)[1]


def test_the_configuration_can_turn_unsafe_fixes_on_and_the_command_line_off(project, capsys):
    (project / "pyproject.toml").write_text("[tool.perflint]\nunsafe-fixes = true\n")
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, out, err = run(capsys, "--diff", "--no-unsafe-fixes", "train.py")
    assert (status, out) == (0, "")
    status, out, _ = run(capsys, "--fix", "train.py")
    assert status == 0 and (project / "train.py").read_text() == UNSAFE_FIXED


def test_unsafe_fixes_in_the_configuration_must_be_a_boolean(project, capsys):
    (project / "pyproject.toml").write_text('[tool.perflint]\nunsafe-fixes = "yes"\n')
    (project / "train.py").write_text(UNSAFE_ONLY)
    status, _, err = run(capsys, "train.py")
    assert status == 2
    assert "unsafe-fixes must be true or false, not a string" in err


def test_a_file_whose_fixing_fails_keeps_its_findings_beside_the_failure(project, capsys, monkeypatch):
    from perflint.engine.findings import unlintable
    from perflint.runner import LintResult

    path = project / "train.py"
    path.write_text(UNSAFE_ONLY)
    monkeypatch.setattr(
        fixing,
        "fix_files",
        lambda tasks, jobs=None: [
            LintResult([unlintable(task.source_file.path, "time limit: linting took longer than 10 s")], None)
            for task in tasks
        ],
    )
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert status == 1 and path.read_text() == UNSAFE_ONLY
    assert "PFL000 time limit" in out and "PFL501" in out


FIXABLE_WITH_ACCENTS = (
    "import torch\n# café, naïve\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)  # reset\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    "encode",
    [
        lambda text: ("# -*- coding: latin-1 -*-\n" + text).encode("latin-1"),
        lambda text: text.encode("utf-8-sig"),
    ],
    ids=["latin-1 cookie", "BOM"],
)
def test_fixing_standard_input_prints_the_bytes_the_file_would_hold_after_fixing_on_disk(project, capsys, encode):
    import subprocess
    import sys

    data = encode(FIXABLE_WITH_ACCENTS)
    (project / "train.py").write_bytes(data)
    assert run(capsys, "--fix", "--unsafe-fixes", "train.py")[0] == 0
    on_disk = (project / "train.py").read_bytes()
    assert on_disk != data
    printed = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--fix", "--unsafe-fixes", "-"],
        input=data,
        capture_output=True,
        check=False,
    ).stdout
    assert printed == on_disk


def fixable(project, name="train.py"):
    path = project / name
    path.write_text(UNSAFE_ONLY)
    return path


def test_a_read_only_file_is_not_rewritten_and_the_report_says_why(project, capsys):
    path = fixable(project)
    os.chmod(path, 0o444)
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert status == 1 and path.read_text() == UNSAFE_ONLY
    assert "train.py:1:1: PFL000 fixes not written: the file is read-only" in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444


def test_a_symbolic_link_to_a_file_outside_the_folders_being_fixed_is_not_written_through(
    tmp_path, monkeypatch, capsys
):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    real = fixable(outside, "shared.py")
    project = tmp_path / "project"
    project.mkdir()
    (project / "link.py").symlink_to(real)
    monkeypatch.chdir(project)
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "link.py")
    assert status == 1 and real.read_text() == UNSAFE_ONLY and (project / "link.py").is_symlink()
    assert f"PFL000 fixes not written: a symbolic link leads to {os.path.realpath(real)}, outside" in out


def test_a_file_in_a_linked_folder_outside_the_tree_is_not_written_through(tmp_path, monkeypatch, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    real = fixable(outside)
    project = tmp_path / "project"
    project.mkdir()
    (project / "vendored").symlink_to(outside, target_is_directory=True)
    monkeypatch.chdir(project)
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", ".")
    assert real.read_text() == UNSAFE_ONLY
    assert "PFL000 fixes not written: a symbolic link leads to" in out


def test_a_file_with_other_hard_links_is_refused_so_the_links_stay_one_file(project, capsys):
    path = fixable(project)
    os.link(path, project / "alias.py")
    status, out, _ = run(capsys, "--fix", "--unsafe-fixes", "train.py")
    assert path.read_text() == UNSAFE_ONLY and os.stat(path).st_nlink == 2
    assert "PFL000 fixes not written: the file has 2 hard links" in out


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_fixed_file_keeps_its_owner_and_group(project, capsys):
    path = fixable(project)
    os.chown(path, 4321, 4322)
    assert run(capsys, "--fix", "--unsafe-fixes", "train.py")[0] == 0
    assert path.read_text() == UNSAFE_FIXED
    assert (os.stat(path).st_uid, os.stat(path).st_gid) == (4321, 4322)


def test_an_interrupted_write_leaves_no_temporary_file_and_the_file_unchanged(project, monkeypatch):
    path = fixable(project)

    def interrupted(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr(fixing.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fixing.write_fixed_file(str(path), UNSAFE_ONLY.encode(), UNSAFE_FIXED.encode())
    assert sorted(os.listdir(project)) == ["train.py"] and path.read_text() == UNSAFE_ONLY


def test_stale_temporary_files_are_swept_and_nothing_else(project, capsys):
    fixable(project)
    old = project / ".train.py.k2_9xq0a.perflint-fix"
    fresh = project / ".train.py.abcdefgh.perflint-fix"
    unlike = project / "notes.perflint-fix"
    linked = project / ".other.py.zzzzzzzz.perflint-fix"
    for made in (old, fresh, unlike):
        made.write_text("partial")
    linked.symlink_to(unlike)
    long_ago = os.stat(old).st_mtime - 2 * fixing.STALE_TEMPORARY_SECONDS
    for made in (old, unlike):
        os.utime(made, (long_ago, long_ago))
    os.utime(linked, (long_ago, long_ago), follow_symlinks=False)
    assert run(capsys, "--fix", "--unsafe-fixes", "train.py")[0] == 0
    assert sorted(os.listdir(project)) == sorted([fresh.name, unlike.name, linked.name, "train.py"])


def test_a_bad_profile_stops_fix_before_any_file_is_written(project, capsys):
    path = fixable(project)
    (project / "garbage.prof").write_bytes(b"\x00not a profile\xff")
    status, out, err = run(capsys, "--fix", "--unsafe-fixes", "--profile", "garbage.prof", "train.py")
    assert status == 2 and path.read_text() == UNSAFE_ONLY
    assert "garbage.prof" in err and "Traceback" not in err
