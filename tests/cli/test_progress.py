"""perflint/cli/progress.py: the progress bar of ``perflint bench``."""

from __future__ import annotations

import sys


def test_progress_bar_only_for_a_person_at_a_terminal(monkeypatch):
    from perflint.cli.progress import measuring_progress

    with measuring_progress(True) as progress:
        assert progress is None  # pytest captures the output: not a terminal
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with measuring_progress(False) as progress:
        assert progress is None  # JSON output
    with measuring_progress(True) as progress:
        assert callable(progress)
        progress(1, 4, "PFL101 numpy/cpu")
