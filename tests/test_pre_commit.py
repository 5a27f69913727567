"""The hook in ``.pre-commit-hooks.yaml``, run by pre-commit itself.

pre-commit clones the hook repository at a commit and pip-installs it into a virtual
environment of its own, which takes a while (and needs the package index); both cases share
one ``PRE_COMMIT_HOME``, so the environment is built once per test session.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
HOOK_ID = "perflint"
FIX_HOOK_ID = "perflint-fix"
# PFL501, whose fix (drop the argument) is unsafe: the fix hook applies it with --unsafe-fixes.
FIXABLE_SOURCE = "import torch\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)\n"
FIXED_SOURCE = "import torch\nfor batch in loader:\n    opt.zero_grad()\n"
# PFL501, on by default; the clean source is its fix.
FLAGGED_SOURCE = FIXABLE_SOURCE
CLEAN_SOURCE = FIXED_SOURCE


def _environment(**extra: str) -> dict[str, str]:
    """The current environment without git's per-repository variables (set when the tests run
    inside a git hook), plus an identity for the throw-away commits."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(
        GIT_AUTHOR_NAME="perflint tests",
        GIT_AUTHOR_EMAIL="tests@perflint.invalid",
        GIT_COMMITTER_NAME="perflint tests",
        GIT_COMMITTER_EMAIL="tests@perflint.invalid",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    environment.update(extra)
    return environment


def _git(*arguments: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *arguments],
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _commit_everything(folder: Path) -> str:
    _git("init", "--quiet", cwd=folder)
    _git("add", "--all", cwd=folder)
    _git("commit", "--quiet", "--message", "snapshot", cwd=folder)
    return _git("rev-parse", "HEAD", cwd=folder).strip()


@pytest.fixture(scope="session")
def hook_repository(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A commit of this working tree as it is now (tracked and untracked files, not ignored
    ones), so the hook is tested with the code under test, committed or not."""
    if not (REPOSITORY_ROOT / ".git").exists():
        pytest.skip("the pre-commit test needs the project's git checkout")
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=REPOSITORY_ROOT)
    snapshot = tmp_path_factory.mktemp("hook-repository")
    for name in filter(None, listed.split("\0")):
        source = REPOSITORY_ROOT / name
        if source.is_file():
            destination = snapshot / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return snapshot, _commit_everything(snapshot)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def run_pre_commit(
    project: Path,
    files: dict[str, str],
    hook_repository: tuple[Path, str],
    pre_commit_home: Path,
    hook: dict | None = None,
) -> subprocess.CompletedProcess:
    """``pre-commit run --all-files`` in a new git repository holding ``files`` and a config
    that uses a perflint hook (default: ``perflint``) at the snapshot commit, as a user's
    config would."""
    repository, revision = hook_repository
    config = {"repos": [{"repo": str(repository), "rev": revision, "hooks": [hook or {"id": HOOK_ID}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for name, source in files.items():
        (project / name).write_text(source)
    _commit_everything(project)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=project,
        env=_environment(PRE_COMMIT_HOME=str(pre_commit_home)),
        capture_output=True,
        text=True,
        timeout=1200,
    )


def test_manifest_declares_the_check_and_fix_hooks():
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(REPOSITORY_ROOT / ".pre-commit-hooks.yaml")],
        check=True,
    )
    hook, fix_hook = yaml.safe_load((REPOSITORY_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == HOOK_ID
    assert hook["entry"] == "perflint check --force-exclude"
    assert fix_hook["id"] == FIX_HOOK_ID
    assert fix_hook["entry"] == "perflint check --fix --force-exclude"
    for declared in (hook, fix_hook):
        assert declared["language"] == "python"
        assert declared["types"] == ["python"]
        assert declared["require_serial"] is True


@pytest.mark.slow
def test_hook_fails_on_a_file_with_a_finding(tmp_path, hook_repository, pre_commit_home):
    result = run_pre_commit(
        tmp_path,
        {"train.py": FLAGGED_SOURCE, "notes.txt": "opt.zero_grad(set_to_none=False)\n"},
        hook_repository,
        pre_commit_home,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "train.py:3:5: PFL501" in output
    assert "notes.txt" not in output


@pytest.mark.slow
def test_hook_passes_on_a_clean_file(tmp_path, hook_repository, pre_commit_home):
    result = run_pre_commit(tmp_path, {"train.py": CLEAN_SOURCE}, hook_repository, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output


@pytest.mark.slow
def test_fix_hook_fixes_the_file_and_then_passes(tmp_path, hook_repository, pre_commit_home):
    hook = {"id": FIX_HOOK_ID, "args": ["--unsafe-fixes"]}
    result = run_pre_commit(tmp_path, {"train.py": FIXABLE_SOURCE}, hook_repository, pre_commit_home, hook)
    output = result.stdout + result.stderr
    # pre-commit fails a hook that modified files, so that the fixes are reviewed and staged.
    assert result.returncode == 1, output
    assert "files were modified by this hook" in output
    assert "Fixed 1 finding." in output
    assert (tmp_path / "train.py").read_text() == FIXED_SOURCE
    again = subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=tmp_path,
        env=_environment(PRE_COMMIT_HOME=str(pre_commit_home)),
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert again.returncode == 0, again.stdout + again.stderr


@pytest.mark.slow
def test_fix_hook_without_unsafe_fixes_leaves_an_unsafe_fix_to_the_user(tmp_path, hook_repository, pre_commit_home):
    result = run_pre_commit(
        tmp_path, {"train.py": FIXABLE_SOURCE}, hook_repository, pre_commit_home, {"id": FIX_HOOK_ID}
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "train.py:3:5: PFL501" in output
    assert "fixable with `perflint check --fix --unsafe-fixes`" in output
    assert (tmp_path / "train.py").read_text() == FIXABLE_SOURCE


@pytest.mark.slow
def test_fix_hook_changes_only_what_it_fixes_beside_read_only_linked_and_latin_1_files(
    tmp_path, hook_repository, pre_commit_home
):
    project, outside = tmp_path / "project", tmp_path / "outside"
    project.mkdir()
    outside.mkdir()
    latin_1 = ("# -*- coding: latin-1 -*-\n# Données réelles\n" + FIXABLE_SOURCE).encode("latin-1")
    (project / "train.py").write_bytes(latin_1)
    (project / "locked.py").write_text(FIXABLE_SOURCE)
    (outside / "shared.py").write_text(FIXABLE_SOURCE)
    (project / "linked.py").symlink_to(outside / "shared.py")
    (project / "vendored").symlink_to(outside, target_is_directory=True)
    (project / "notes.txt").write_text("opt.zero_grad(set_to_none=False)\n")
    os.chmod(project / "locked.py", 0o444)
    before = {
        path: path.read_bytes()
        for path in (*project.rglob("*.py"), outside / "shared.py", project / "notes.txt")
        if path.is_file() and ".git" not in path.parts
    }
    hook = {"id": FIX_HOOK_ID, "args": ["--unsafe-fixes"]}
    result = run_pre_commit(project, {}, hook_repository, pre_commit_home, hook)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    # The latin-1 file is fixed and stays latin-1, byte for byte outside the fix.
    assert (project / "train.py").read_bytes() == latin_1.replace(b"set_to_none=False", b"")
    # The read-only file is refused with a note, and keeps its bytes and its mode.
    assert "locked.py:1:1: PFL000 fixes not written: the file is read-only" in output
    assert stat.S_IMODE(os.stat(project / "locked.py").st_mode) == 0o444
    # Nothing else changed: not the file outside the repository that links lead to, nor any other.
    changed = [path for path, data in before.items() if path.read_bytes() != data]
    assert changed == [project / "train.py"], output
    status = _git("status", "--porcelain", "--untracked-files=all", cwd=project)
    assert status.splitlines() == [" M train.py"], status
