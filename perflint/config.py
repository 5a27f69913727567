"""``[tool.perflint]`` in ``pyproject.toml``.

The configuration comes from ``--config FILE`` or else from the nearest ``pyproject.toml``,
walking up from the current folder, that has a ``[tool.perflint]`` table (as Ruff finds
``[tool.ruff]``). Its folder is the project root: the globs of ``exclude``,
``extend-exclude`` and ``per-file-ignores`` are relative to it, and the cache lives there.
Every key, type and rule code is checked, so a typo is an error rather than a setting
that silently does nothing.

``exclude`` replaces the default list of skipped folder names (``files.DEFAULT_EXCLUDE``);
``extend-exclude`` adds to it. Virtual environments (folders holding ``pyvenv.cfg``) and
perflint's own cache are skipped either way.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from perflint.files import DEFAULT_EXCLUDE, GlobSet
from perflint.rules import UnknownCodeError, select_rules

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CONFIG_FILE_NAME = "pyproject.toml"
_CODE_LIST_KEYS = ("select", "ignore", "extend-select")
_GLOB_LIST_KEYS = ("exclude", "extend-exclude")
KNOWN_KEYS = (*_CODE_LIST_KEYS, "per-file-ignores", *_GLOB_LIST_KEYS)


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
    path: Optional[str] = None
    select: Optional[tuple[str, ...]] = None
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    per_file_ignores: tuple[PerFileIgnore, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()

    def excluded(self) -> GlobSet:
        """The globs that discovery skips."""
        return GlobSet.compile(self.root, (*self.exclude, *self.extend_exclude))

    def ignored_for(self, absolute_path: str) -> tuple[str, ...]:
        """The codes and prefixes ``per-file-ignores`` switches off for this file."""
        ignored: list[str] = []
        for entry in self.per_file_ignores:
            if entry.matcher.matches_within(absolute_path):
                ignored.extend(entry.codes)
        return tuple(ignored)


def find_config_file(start: str) -> Optional[str]:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.perflint]`` table."""
    folder = os.path.abspath(start)
    while True:
        candidate = os.path.join(folder, CONFIG_FILE_NAME)
        if os.path.isfile(candidate) and "perflint" in _read_toml(candidate).get("tool", {}):
            return candidate
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def load_config(explicit_path: Optional[str], start: str) -> Config:
    """The configuration from ``explicit_path`` (``--config``), else the nearest one, else
    the defaults with ``start`` as the project root."""
    if explicit_path is not None:
        if not os.path.isfile(explicit_path):
            raise ConfigError(f"config file not found: {explicit_path}")
        path = os.path.abspath(explicit_path)
        table = _read_toml(path).get("tool", {}).get("perflint")
        if table is None:
            raise ConfigError(f"{explicit_path}: no [tool.perflint] table")
    else:
        path = find_config_file(start)
        if path is None:
            return Config(root=os.path.abspath(start))
        table = _read_toml(path)["tool"]["perflint"]
    return _parse_table(table, path)


def _read_toml(path: str) -> dict[str, Any]:
    try:
        with open(path, "rb") as stream:
            return tomllib.load(stream)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None


def _parse_table(table: Any, path: str) -> Config:
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
            _check_codes(codes, f"{where} {key}")
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
            _check_codes(codes, label)
            per_file.append(PerFileIgnore(glob, _check_globs(root, [glob], label), codes))
    return Config(root=root, path=path, per_file_ignores=tuple(per_file), **settings)


def _string_list(value: Any, label: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{label} must be a list of strings, not {_toml_type(value)}")
    return tuple(value)


def _toml_type(value: Any) -> str:
    if isinstance(value, list):
        return "a list with a non-string item"
    return {str: "a string", bool: "a boolean", int: "an integer", float: "a float",
            dict: "a table"}.get(type(value), type(value).__name__)


def _check_codes(codes: tuple[str, ...], label: str) -> None:
    try:
        select_rules(select=codes)  # the registry is the one judge of what a code or prefix is
    except UnknownCodeError as error:
        raise ConfigError(f"{label}: {error}") from None


def _check_globs(root: str, globs: Sequence[str], label: str) -> GlobSet:
    try:
        return GlobSet.compile(root, globs)
    except ValueError as error:
        raise ConfigError(f"{label}: {error}") from None
