"""``[tool.perflint]``: where it is found, what it accepts, and what it refuses."""

from __future__ import annotations

import subprocess
import sys

import pytest

from perflint.config import Config, ConfigError, find_config_file, load_config
from perflint.files import DEFAULT_EXCLUDE


def _pyproject(folder, body):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(body)
    return path


def test_nearest_pyproject_with_a_perflint_table_wins(tmp_path):
    outer = _pyproject(tmp_path, "[tool.perflint]\nignore = ['PFL4']\n")
    _pyproject(tmp_path / "pkg", "[project]\nname = 'pkg'\n")  # no [tool.perflint]: skipped
    start = tmp_path / "pkg" / "src"
    start.mkdir()
    assert find_config_file(str(start)) == str(outer)
    config = load_config(None, str(start))
    assert config.root == str(tmp_path)
    assert config.ignore == ("PFL4",)
    assert config.select is None


def test_without_a_config_file_the_defaults_apply_at_the_start_folder(tmp_path):
    config = load_config(None, str(tmp_path))
    assert (config.path, config.root) == (None, str(tmp_path))
    assert config.select is None and config.exclude == DEFAULT_EXCLUDE


def test_every_key_is_read(tmp_path):
    path = _pyproject(
        tmp_path,
        """\
[tool.perflint]
select = ["PFL4"]
ignore = ["PFL401"]
extend-select = ["PFL401"]
exclude = ["data"]
extend-exclude = ["generated"]

[tool.perflint.per-file-ignores]
"tests/**" = ["PFL4"]
""",
    )
    config = load_config(str(path), str(tmp_path / "elsewhere"))
    assert config.root == str(tmp_path)
    assert (config.select, config.ignore, config.extend_select) == (("PFL4",), ("PFL401",), ("PFL401",))
    assert (config.exclude, config.extend_exclude) == (("data",), ("generated",))
    assert [(entry.glob, entry.codes) for entry in config.per_file_ignores] == [("tests/**", ("PFL4",))]


def test_per_file_ignores_are_relative_to_the_config_folder(tmp_path):
    _pyproject(tmp_path, "[tool.perflint.per-file-ignores]\n'tests/*.py' = ['PFL401']\n'conftest.py' = ['PFL4']\n")
    config = load_config(None, str(tmp_path / "tests"))
    assert config.ignored_for(str(tmp_path / "tests" / "test_a.py")) == ("PFL401",)
    assert config.ignored_for(str(tmp_path / "src" / "tests" / "test_a.py")) == ()
    assert config.ignored_for(str(tmp_path / "deep" / "conftest.py")) == ("PFL4",)


def test_exclude_replaces_the_defaults_and_extend_exclude_adds_to_them(tmp_path):
    _pyproject(tmp_path, "[tool.perflint]\nextend-exclude = ['generated']\n")
    extended = load_config(None, str(tmp_path)).excluded()
    assert extended.matches(str(tmp_path / "build")) and extended.matches(str(tmp_path / "generated"))
    _pyproject(tmp_path, "[tool.perflint]\nexclude = ['generated']\n")
    replaced = load_config(None, str(tmp_path)).excluded()
    assert replaced.matches(str(tmp_path / "generated")) and not replaced.matches(str(tmp_path / "build"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[tool.perflint]\nselet = ['PFL4']\n", "unknown key 'selet'"),
        ("[tool.perflint]\nselect = ['PFL999']\n", "select: unknown rule code or prefix: PFL999"),
        ("[tool.perflint]\nignore = ['XYZ']\n", "ignore: unknown rule code or prefix: XYZ"),
        ("[tool.perflint]\nselect = 'PFL4'\n", "select must be a list of strings, not a string"),
        ("[tool.perflint]\nexclude = [1]\n", "exclude must be a list of strings"),
        ("[tool.perflint]\nper-file-ignores = ['a']\n", "per-file-ignores must be a table"),
        ("[tool.perflint.per-file-ignores]\n'a.py' = ['PFL9']\n", "per-file-ignores 'a.py': unknown rule code"),
        ("[tool.perflint.per-file-ignores]\n'{a.py' = ['PFL4']\n", "unclosed"),
        ("[tool.perflint]\nselect = [\n", "invalid TOML"),
        ("[tool]\nperflint = 3\n", "must be a table"),
        ("[tool.perflint]\nexclude-tests = 'no'\n", "exclude-tests must be true or false, not a string"),
        ("[tool.perflint]\ncache-dir = 3\n", "cache-dir must be a folder path"),
        ("[tool.perflint]\nper-file-timeout = 0\n", "per-file-timeout must be a number of seconds above 0"),
        ("[tool.perflint]\nper-file-timeout = inf\n", "at most 3600, not inf"),
        ("[tool.perflint]\nper-file-timeout = nan\n", "at most 3600, not nan"),
        ("[tool.perflint]\nper-file-timeout = -2\n", "at most 3600, not -2"),
        ("[tool.perflint]\nper-file-timeout = 1e308\n", "at most 3600, not 1e+308"),
        ("[tool.perflint]\nper-file-timeout = '5'\n", "per-file-timeout must be a number of seconds, not a string"),
        ("[tool.perflint]\nexclude = ['[z-a]']\n", "exclude: invalid glob '[z-a]': bad character range"),
        ("[tool.perflint.per-file-ignores]\n'[z-a]' = ['PFL4']\n", "invalid glob '[z-a]': bad character range"),
        ("[tool.perflint]\ninclude = '*.py'\n", "include must be a list of strings"),
    ],
)
def test_bad_configuration_is_an_error_naming_the_file_and_key(tmp_path, body, message):
    path = _pyproject(tmp_path, body)
    with pytest.raises(ConfigError) as raised:
        load_config(None, str(tmp_path))
    assert message in str(raised.value)
    assert str(path) in str(raised.value)


def test_explicit_config_must_exist_and_hold_the_table(tmp_path):
    with pytest.raises(ConfigError, match="config file not found: .*missing.toml"):
        load_config(str(tmp_path / "missing.toml"), str(tmp_path))
    path = _pyproject(tmp_path, "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.perflint\] table"):
        load_config(str(path), str(tmp_path))


def test_the_new_keys_are_read(tmp_path):
    _pyproject(
        tmp_path,
        "[tool.perflint]\ninclude = ['*.py']\nexclude-tests = false\ncache-dir = 'var/cache'\nper-file-timeout = 2.5\n",
    )
    config = load_config(None, str(tmp_path))
    assert (config.include, config.exclude_tests, config.per_file_timeout) == (("*.py",), False, 2.5)
    assert config.cache_directory == str(tmp_path / "var" / "cache")
    assert not config.excluded().matches(str(tmp_path / "tests"))
    assert Config(root=str(tmp_path)).excluded().matches(str(tmp_path / "tests"))  # the default


def test_a_pyproject_that_is_not_utf8_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b"[tool.perflint]\nselect = ['PFL1'] # caf\xe9\n")
    with pytest.raises(ConfigError, match="invalid TOML: not UTF-8") as raised:
        load_config(None, str(tmp_path))
    assert str(path) in str(raised.value)
    with pytest.raises(ConfigError, match="invalid TOML: not UTF-8"):
        load_config(str(path), str(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("arguments", "body", "message"),
    [
        (["--per-file-timeout", "inf"], None, "--per-file-timeout must be a number of seconds above 0"),
        (["--per-file-timeout", "1e308"], None, "--per-file-timeout must be a number of seconds above 0"),
        (["--per-file-timeout", "nan"], None, "--per-file-timeout must be a number of seconds above 0"),
        (["--per-file-timeout", "-1"], None, "--per-file-timeout must be a number of seconds above 0"),
        ([], b"[tool.perflint]\nexclude = ['[z-a]']\n", "invalid glob '[z-a]'"),
        ([], b"[tool.perflint.per-file-ignores]\n'[z-a]' = ['PFL1']\n", "invalid glob '[z-a]'"),
        ([], b"[tool.perflint]\nper-file-timeout = inf\n", "per-file-timeout must be a number of seconds"),
        ([], b"[tool.perflint]\nselect = ['PFL1'] # \xff\n", "not UTF-8"),
        (["--config", "other.toml"], b"[tool.perflint]\nselect = ['PFL1'] # \xff\n", "not UTF-8"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_2_from_the_command_line(tmp_path, arguments, body, message):
    (tmp_path / "train.py").write_text("import numpy as np\n")
    if body is not None:
        (tmp_path / ("other.toml" if "--config" in arguments else "pyproject.toml")).write_bytes(body)
    completed = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", *arguments, "train.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert completed.stderr.count("\n") == 1 and message in completed.stderr
    assert "Traceback" not in completed.stderr
