"""``[tool.perflint]`` in ``pyproject.toml``.

As Ruff finds ``[tool.ruff]``: ``--config FILE`` applies to every file; otherwise each file is
governed by the closest ``pyproject.toml`` with a ``[tool.perflint]`` table in its folder or
above, and a file with none above it by the working directory's (found the same way, else the
defaults). So ``perflint ../other-project/src`` uses that project's settings. A configuration's
folder is its project root: the globs of ``include``, ``exclude``, ``extend-exclude`` and
``per-file-ignores`` are relative to it, and the cache lives there unless ``cache-dir`` says
otherwise. Every key, type and rule code is checked, so a typo is an error rather than a
setting that silently does nothing.

``exclude`` replaces the default list of skipped folder names (``files.DEFAULT_EXCLUDE``);
``extend-exclude`` adds to it. Test code (``conventions.TEST_PATTERNS``) is skipped too unless
``exclude-tests = false``. Virtual environments (folders holding ``pyvenv.cfg``) and
perflint's own cache are skipped either way.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perflint.conventions import TEST_PATTERNS
from perflint.files import CACHE_DIRECTORY, DEFAULT_EXCLUDE, DEFAULT_INCLUDE, FileFilter, GlobSet

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CONFIG_FILE_NAME = "pyproject.toml"
_CODE_LIST_KEYS = ("select", "ignore", "extend-select")
_GLOB_LIST_KEYS = ("include", "exclude", "extend-exclude")
KNOWN_KEYS = (
    *_CODE_LIST_KEYS,
    "per-file-ignores",
    *_GLOB_LIST_KEYS,
    "exclude-tests",
    "cache-dir",
    "per-file-timeout",
    "unsafe-fixes",
)
# CPU seconds a file (per 400 kB of it, see ``runner.scaled_limit``) may take before it is
# reported as PFL000 and the run moves on: a pathological file ends in seconds.
DEFAULT_PER_FILE_TIMEOUT = 10.0
# An hour of CPU time for one file is past any real file; a larger number (or ``inf``) would
# overflow the interval timer, and asks for no limit, which a hung file must not have.
MAX_PER_FILE_TIMEOUT = 3600.0


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the file and the key."""


@dataclass(frozen=True)
class PerFileIgnore:
    """One ``per-file-ignores`` entry: the glob as written, compiled, and its codes."""

    glob: str
    matcher: GlobSet
    codes: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """The settings of one run's project, before the command line is applied."""

    root: str
    path: str | None = None
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    include: tuple[str, ...] = DEFAULT_INCLUDE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    exclude_tests: bool = True
    cache_dir: str | None = None
    per_file_timeout: float = DEFAULT_PER_FILE_TIMEOUT
    unsafe_fixes: bool = False

    def excluded(self) -> GlobSet:
        """The globs that discovery skips."""
        tests = TEST_PATTERNS if self.exclude_tests else ()
        return GlobSet.compile(self.root, (*self.exclude, *self.extend_exclude, *tests))

    def file_filter(self) -> FileFilter:
        return FileFilter(GlobSet.compile(self.root, self.include), self.excluded())

    @property
    def cache_directory(self) -> str:
        """Where the cache of this project lives (``cache-dir`` is relative to the root)."""
        return os.path.join(self.root, self.cache_dir or CACHE_DIRECTORY)

    def ignored_for(self, absolute_path: str) -> tuple[str, ...]:
        """The codes and prefixes ``per-file-ignores`` switches off for this file."""
        ignored: list[str] = []
        for entry in self.per_file_ignores:
            if entry.matcher.matches_within(absolute_path):
                ignored.extend(entry.codes)
        return tuple(ignored)


def find_config_file(start: str) -> str | None:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.perflint]`` table."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, CONFIG_FILE_NAME)
        if os.path.isfile(candidate) and _has_perflint_table(candidate):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_config(explicit_path: str | None, start: str, rules: Sequence[Any] | None = None) -> Config:
    """The configuration from ``explicit_path`` (``--config``), else the nearest one, else
    the defaults with ``start`` as the project root. Rule codes are checked against ``rules``
    (objects with ``code`` and ``default_enabled``; default: the registry)."""
    config = _load_unchecked(explicit_path, start)
    check_codes(config, rules)
    return config


def _load_unchecked(explicit_path: str | None, start: str) -> Config:
    if explicit_path is not None:
        if not os.path.isfile(explicit_path):
            raise ConfigError(f"config file not found: {explicit_path}")
        path = os.path.abspath(explicit_path)
        table = _read_toml(path).get("tool", {}).get("perflint")
        if table is None:
            raise ConfigError(f"{explicit_path}: no [tool.perflint] table")
    else:
        found = find_config_file(start)
        if found is None:
            return Config(root=os.path.abspath(start))
        path = found
        table = _read_toml(path)["tool"]["perflint"]
    return _parse_table(table, path)


def check_codes(config: Config, rules: Sequence[Any] | None = None) -> None:
    """Raise ``ConfigError`` naming the file and key of the first code or prefix that matches
    none of ``rules`` (default: the registry). Kept apart from parsing so that a run can read
    its configuration before it knows the rules (see ``ConfigResolver.use_rules``)."""
    if config.path is None:
        return
    where = f"{config.path}: [tool.perflint]"
    for key in _CODE_LIST_KEYS:
        _check_codes(getattr(config, key.replace("-", "_")) or (), f"{where} {key}", rules)
    for entry in config.per_file_ignores:
        _check_codes(entry.codes, f"{where} per-file-ignores {entry.glob!r}", rules)


def _has_perflint_table(candidate: str) -> bool:
    # A cheap look at the text first: most pyproject.toml files on the way up have no table.
    try:
        with open(candidate, "rb") as stream:
            if b"perflint" not in stream.read():
                return False
    except OSError as error:
        raise ConfigError(f"{candidate}: cannot read: {error.strerror or error}") from None
    return "perflint" in _read_toml(candidate).get("tool", {})


class ConfigResolver:
    """The configuration of each folder, found as described above and remembered per folder, so
    a walk over thousands of files reads each ``pyproject.toml`` once."""

    def __init__(self, explicit_path: str | None, working_directory: str) -> None:
        self._rules: Sequence[Any] | None = None
        self._working_directory = os.path.abspath(working_directory)
        self._fixed = _load_unchecked(explicit_path, working_directory) if explicit_path is not None else None
        self._fallback: Config | None = None
        self._by_folder: dict[str, Config | None] = {}
        self._by_file: dict[str, Config] = {}

    def use_rules(self, rules: Sequence[Any]) -> None:
        """Check the codes of every configuration read so far, and of each one read later,
        against ``rules``."""
        self._rules = rules
        for config in {
            id(config): config
            for config in (self._fixed, self._fallback, *self._by_file.values())
            if config is not None
        }.values():
            check_codes(config, rules)

    @property
    def fallback(self) -> Config:
        """The working directory's configuration (``--config``'s when given)."""
        if self._fixed is not None:
            return self._fixed
        if self._fallback is None:
            self._fallback = self._nearest(self._working_directory) or Config(root=self._working_directory)
        return self._fallback

    def for_folder(self, folder: str) -> Config:
        """The configuration governing the files directly in ``folder`` (absolute)."""
        if self._fixed is not None:
            return self._fixed
        return self._nearest(folder) or self.fallback

    def for_file(self, absolute_path: str) -> Config:
        return self.for_folder(os.path.dirname(absolute_path))

    def file_filter(self, folder: str) -> FileFilter:
        return self.for_folder(folder).file_filter()

    def _nearest(self, folder: str) -> Config | None:
        walked = []
        found: Config | None = None
        while True:
            if folder in self._by_folder:
                found = self._by_folder[folder]
                break
            walked.append(folder)
            candidate = os.path.join(folder, CONFIG_FILE_NAME)
            if os.path.isfile(candidate) and _has_perflint_table(candidate):
                found = self._by_file.get(candidate)
                if found is None:
                    found = _parse_table(_read_toml(candidate)["tool"]["perflint"], candidate)
                    if self._rules is not None:
                        check_codes(found, self._rules)
                    self._by_file[candidate] = found
                break
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        for visited in walked:
            self._by_folder[visited] = found
        return found


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:  # TOML is UTF-8 by definition
        raise ConfigError(
            f"{path}: invalid TOML: not UTF-8 (byte {error.start + 1} is "
            f"{error.object[error.start : error.start + 1]!r})"
        ) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None


def _parse_table(table: Any, path: str) -> Config:
    """The table's settings, every key and type checked; rule codes are checked apart."""
    where = f"{path}: [tool.perflint]"
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(table) - set(KNOWN_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known keys: {', '.join(KNOWN_KEYS)})")
    root = os.path.dirname(path)
    settings: dict[str, Any] = {}
    for key in _CODE_LIST_KEYS:
        if key in table:
            codes = _string_list(table[key], f"{where} {key}")
            settings[key.replace("-", "_")] = codes
    for key in _GLOB_LIST_KEYS:
        if key in table:
            globs = _string_list(table[key], f"{where} {key}")
            _check_globs(root, globs, f"{where} {key}")
            settings[key.replace("-", "_")] = globs
    per_file: list[PerFileIgnore] = []
    if "per-file-ignores" in table:
        mapping = table["per-file-ignores"]
        if not isinstance(mapping, dict):
            raise ConfigError(f"{where} per-file-ignores must be a table of glob = [codes]")
        for glob, value in mapping.items():
            label = f"{where} per-file-ignores {glob!r}"
            codes = _string_list(value, label)
            per_file.append(PerFileIgnore(glob, _check_globs(root, [glob], label), codes))
    if "exclude-tests" in table:
        if not isinstance(table["exclude-tests"], bool):
            raise ConfigError(f"{where} exclude-tests must be true or false, not {_toml_type(table['exclude-tests'])}")
        settings["exclude_tests"] = table["exclude-tests"]
    if "unsafe-fixes" in table:
        if not isinstance(table["unsafe-fixes"], bool):
            raise ConfigError(f"{where} unsafe-fixes must be true or false, not {_toml_type(table['unsafe-fixes'])}")
        settings["unsafe_fixes"] = table["unsafe-fixes"]
    if "cache-dir" in table:
        if not isinstance(table["cache-dir"], str) or not table["cache-dir"].strip():
            raise ConfigError(f"{where} cache-dir must be a folder path, not {_toml_type(table['cache-dir'])}")
        settings["cache_dir"] = table["cache-dir"]
    if "per-file-timeout" in table:
        seconds = table["per-file-timeout"]
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ConfigError(f"{where} per-file-timeout must be a number of seconds, not {_toml_type(seconds)}")
        problem = per_file_timeout_problem(seconds)
        if problem is not None:
            raise ConfigError(f"{where} per-file-timeout {problem}")
        settings["per_file_timeout"] = float(seconds)
    return Config(root=root, path=path, per_file_ignores=tuple(per_file), **settings)


def per_file_timeout_problem(seconds: float) -> str | None:
    """Why ``seconds`` cannot be a per-file time limit (the setting's or ``--per-file-timeout``'s),
    as the end of a sentence; None when it can."""
    if not 0 < seconds <= MAX_PER_FILE_TIMEOUT:  # false for nan as well
        return f"must be a number of seconds above 0 and at most {MAX_PER_FILE_TIMEOUT:g}, not {seconds:g}"
    return None


def _string_list(value: Any, label: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{label} must be a list of strings, not {_toml_type(value)}")
    return tuple(value)


def _toml_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list with a non-string item"
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a float", dict: "a table"}.get(
        type(value), type(value).__name__
    )


def _check_codes(codes: tuple[str, ...], label: str, rules: Sequence[Any] | None) -> None:
    from perflint.selection import UnknownCodeError, select

    if rules is None:
        from perflint.rules import all_rules

        rules = all_rules()
    try:
        select(rules, select=codes)  # the registry is the one judge of what a code or prefix is
    except UnknownCodeError as error:
        raise ConfigError(f"{label}: {error}") from None


def _check_globs(root: str, globs: Sequence[str], label: str) -> GlobSet:
    for glob in globs:
        try:
            GlobSet.compile(root, [glob])
        except (ValueError, re.error) as error:  # re.error: a character range such as [z-a]
            raise ConfigError(f"{label}: invalid glob {glob!r}: {error}") from None
    return GlobSet.compile(root, globs)
