"""``perflint server`` on the command line: pygls stays out of the other commands' start-up,
and a missing pygls or a bad option is a one-line error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perflint.cli.main import main


def test_the_other_commands_do_not_import_pygls():
    script = (
        "import sys, perflint.cli.main, perflint.cli.check; "
        "print(sorted(m for m in sys.modules if 'pygls' in m or 'lsprotocol' in m))"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert output.stdout.strip() == "[]"


def test_without_pygls_the_server_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pygls", None)  # import pygls now raises ImportError
    assert main(["server"]) == 2
    assert capsys.readouterr().err == "perflint: error: perflint server needs pygls: pip install 'perflint-ml[lsp]'\n"


def test_a_missing_config_file_and_a_negative_debounce_are_usage_errors(capsys, tmp_path):
    pytest.importorskip("pygls")
    assert main(["server", "--config", str(tmp_path / "nowhere.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    assert main(["server", "--debounce", "-1"]) == 2
    assert "--debounce must be zero or a positive number of seconds, not -1" in capsys.readouterr().err
