"""The server's lint: diagnostics without the fixes' edits, the edits when asked, and the
per-file time limit on the server's lint thread."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from perflint import runner
from perflint.server.linting import ProjectLinter

SOURCE = "import torch\n\n\ndef make(device):\n    return torch.zeros(3, 4).to(device)\n"


def project(folder, settings=""):
    # PFL201 (opt-in) has the safe fix these tests apply.
    (folder / "pyproject.toml").write_text(f'[tool.perflint]\nextend-select = ["PFL201"]\n{settings}')
    return ProjectLinter(str(folder))


def test_diagnostics_are_linted_without_fix_edits_and_a_code_action_gets_them(tmp_path):
    linter = project(tmp_path)
    path = str(tmp_path / "model.py")
    diagnostics, with_edits = linter.lint(path, SOURCE), linter.lint(path, SOURCE, fix_edits=True)
    assert [finding.code for finding in with_edits] == ["PFL201"] and with_edits[0].fix is not None
    assert diagnostics == [replace(finding, fix=None) for finding in with_edits]


def test_fix_all_gives_the_text_with_the_safe_fixes(tmp_path):
    fixed = project(tmp_path).fix_all(str(tmp_path / "model.py"), SOURCE)
    assert fixed == SOURCE.replace("torch.zeros(3, 4).to(device)", "torch.zeros(3, 4, device=device)")


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no per-thread CPU clock here")
def test_the_per_file_timeout_applies_on_the_servers_lint_thread(tmp_path, monkeypatch):
    def endless(*arguments, **options):
        while True:  # CPU time spent in Python, as a pathological file would cost
            pass

    monkeypatch.setattr(runner, "lint_source", endless)
    linter = project(tmp_path, "per-file-timeout = 0.2\n")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="perflint-lint") as thread:
        findings = thread.submit(linter.lint, str(tmp_path / "model.py"), SOURCE).result(timeout=120)
    assert [(finding.code, finding.message) for finding in findings] == [("PFL000", runner.time_limit_message(0.2))]
