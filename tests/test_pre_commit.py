"""The hook in ``.pre-commit-hooks.yaml``, run by pre-commit itself.

pre-commit clones the hook repository at a commit and pip-installs it into a virtual
environment of its own, which takes a while (and needs the package index); both cases share
one ``PRE_COMMIT_HOME``, so the environment is built once per test session.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPOSITORY_ROOT = Path(__file__).resolve().parents[1]
HOOK_ID = "perflint"
FLAGGED_SOURCE = "import numpy as np\nfor x in xs:\n    y = np.linalg.inv(A) @ x\n"
CLEAN_SOURCE = "import numpy as np\nA_inv = np.linalg.inv(A)\nfor x in xs:\n    y = A_inv @ x\n"


def _environment(**extra: str) -> dict[str, str]:
    """The current environment without git's per-repository variables (set when the tests run
    inside a git hook), plus an identity for the throw-away commits."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    environment.update(
        GIT_AUTHOR_NAME="perflint tests", GIT_AUTHOR_EMAIL="tests@perflint.invalid",
        GIT_COMMITTER_NAME="perflint tests", GIT_COMMITTER_EMAIL="tests@perflint.invalid",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    environment.update(extra)
    return environment


def _git(*arguments: str, cwd: Path) -> str:
    result = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *arguments],
        cwd=cwd, env=_environment(), capture_output=True, text=True, check=True,
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


def run_pre_commit(project: Path, files: dict[str, str], hook_repository: tuple[Path, str],
                   pre_commit_home: Path) -> subprocess.CompletedProcess:
    """``pre-commit run --all-files`` in a new git repository holding ``files`` and a config
    that uses the perflint hook at the snapshot commit, as a user's config would."""
    repository, revision = hook_repository
    config = {"repos": [{"repo": str(repository), "rev": revision, "hooks": [{"id": HOOK_ID}]}]}
    (project / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for name, source in files.items():
        (project / name).write_text(source)
    _commit_everything(project)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files", "--color", "never"],
        cwd=project, env=_environment(PRE_COMMIT_HOME=str(pre_commit_home)),
        capture_output=True, text=True, timeout=1200,
    )


def test_manifest_declares_the_perflint_hook():
    subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(REPOSITORY_ROOT / ".pre-commit-hooks.yaml")],
        check=True,
    )
    [hook] = yaml.safe_load((REPOSITORY_ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == HOOK_ID
    assert hook["entry"] == "perflint check --force-exclude"
    assert hook["language"] == "python"
    assert hook["types"] == ["python"]
    assert hook["require_serial"] is True


@pytest.mark.slow
def test_hook_fails_on_a_file_with_a_finding(tmp_path, hook_repository, pre_commit_home):
    result = run_pre_commit(tmp_path, {"train.py": FLAGGED_SOURCE, "notes.txt": "np.linalg.inv\n"},
                            hook_repository, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "train.py:3:9: PFL401" in output
    assert "notes.txt" not in output


@pytest.mark.slow
def test_hook_passes_on_a_clean_file(tmp_path, hook_repository, pre_commit_home):
    result = run_pre_commit(tmp_path, {"train.py": CLEAN_SOURCE}, hook_repository, pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output
