"""A content-hash cache of findings, as Ruff keeps one: a file whose every input to the lint is
unchanged is not parsed again.

The cache folder (``.perflint_cache`` at the project root unless ``cache-dir`` says otherwise)
is perflint's own only once perflint has marked it: a ``CACHEDIR.TAG`` (the Cache Directory
Tagging convention, which backup tools honour) naming perflint, and a ``.gitignore`` of ``*``,
both inside it. perflint creates and marks a folder that is missing or empty; one that holds
anything else and no such tag is someone else's and is refused (``claim_cache_folder``), so a
``cache-dir = ".."`` can never delete or hide a user's files. Nothing is ever written or
deleted outside a marked folder.

Entries live in ``<cache folder>/<build>/``, one JSON file per key. A key (``task_cache_key``)
is the SHA-256 of every input of the lint: the perflint build (its source, Python's and
libcst's versions), the enabled codes, what the engine reads from the path (test code or not,
notebook or not) and the file's bytes, so an entry never needs invalidating. When a new build
first writes, the folders of other builds in the marked folder are deleted.
Findings are stored without their path (identical files share an entry). Writes are
atomic (temporary file, then ``os.replace``), so concurrent runs never read half an entry.
Every record read back is checked against its schema and its own checksum, so an entry that
was truncated, hand-edited or written by another version counts as a miss and is rewritten.

The build folder also holds the rule index (each rule's code, name and default), so a run whose
every file is cached resolves its selection without importing the rules or libcst.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from perflint import __version__
from perflint.conventions import is_test_path
from perflint.engine.findings import Finding
from perflint.files import is_notebook

if TYPE_CHECKING:
    from perflint.runner import LintTask

_FORMAT = 3  # 3: findings may carry a size
_BUILD_FOLDER = re.compile(r"[0-9a-f]{16}\Z")
_BUILD_FOLDER_LENGTH = 16

# The Cache Directory Tagging convention (https://bford.info/cachedir/): the first line is the
# fixed signature; the second says the folder is perflint's, since other tools (pytest, Ruff)
# tag their caches the same way and perflint must never clean theirs.
CACHE_TAG = "CACHEDIR.TAG"
_TAG_SIGNATURE = "Signature: 8a477f597d28d172789f06886806bc55"
_TAG_OWNER = "# This file is a cache directory tag created by perflint."
_TAG_TEXT = (
    f"{_TAG_SIGNATURE}\n{_TAG_OWNER}\n# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
_GITIGNORE = "# Created by perflint: the cache is never committed.\n*\n"


class ForeignCacheFolderError(OSError):
    """The cache folder holds files and is not marked as perflint's: perflint will not use it."""


def is_perflint_cache_folder(folder: str) -> bool:
    """``folder`` carries perflint's cache tag."""
    try:
        with open(os.path.join(folder, CACHE_TAG), encoding="utf-8", errors="replace") as stream:
            return stream.read(len(_TAG_TEXT)).splitlines()[:2] == [_TAG_SIGNATURE, _TAG_OWNER]
    except OSError:
        return False


def _is_untagged_perflint_cache(folder: str, names: set[str]) -> bool:
    """A cache written before the tag existed: perflint's .gitignore and nothing but what
    perflint put beside it (build folders, measurements, temporary entries)."""
    try:
        with open(os.path.join(folder, ".gitignore"), encoding="utf-8", errors="replace") as stream:
            if stream.read(len(_GITIGNORE) + 1) != _GITIGNORE:
                return False
    except OSError:
        return False
    return all(
        name == ".gitignore" or name == "measurements" or name.startswith(".entry-") or _BUILD_FOLDER.match(name)
        for name in names
    )


def claim_cache_folder(folder: str) -> None:
    """Make ``folder`` perflint's cache folder: create and mark it when it is missing or empty,
    accept it when it is already marked. Raises ``ForeignCacheFolderError`` when it holds
    anything else (or is not a folder), and ``OSError`` when it cannot be created."""
    if os.path.isdir(folder) and is_perflint_cache_folder(folder):
        return
    if os.path.lexists(folder) and not os.path.isdir(folder):
        raise ForeignCacheFolderError(f"the cache folder {folder} is not a folder")
    os.makedirs(folder, exist_ok=True)
    # Temporary files of another perflint process marking the folder at this moment are ignored.
    names = {name for name in os.listdir(folder) if not name.startswith(".mark-")}
    if names and not is_perflint_cache_folder(folder) and not _is_untagged_perflint_cache(folder, names):
        raise ForeignCacheFolderError(
            f"the cache folder {folder} is not empty and not perflint's (it has no perflint {CACHE_TAG}); "
            "name a new or empty folder in --cache-dir / cache-dir"
        )
    _write_text_atomically(folder, ".gitignore", _GITIGNORE)
    _write_text_atomically(folder, CACHE_TAG, _TAG_TEXT)


def _write_text_atomically(folder: str, name: str, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".mark-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, os.path.join(folder, name))
    except BaseException:
        os.unlink(temporary)
        raise


def _libcst_version() -> str:
    """libcst's version file, found without importing libcst or reading package metadata (a run
    whose every file is cached must not pay for either)."""
    import importlib.util

    spec = importlib.util.find_spec("libcst")
    if spec is None or not spec.submodule_search_locations:
        return "absent"
    try:
        with open(os.path.join(spec.submodule_search_locations[0], "_version.py"), "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError:
        return spec.submodule_search_locations[0]


@cache
def build_fingerprint() -> str:
    """perflint's version plus a hash of its own source files, so that a development install
    whose rules were edited does not serve findings of the old rules; and the versions of
    Python and libcst, whose parsers decide what parses and where."""
    digest = hashlib.sha256(
        f"perflint {__version__} cache format {_FORMAT} python {sys.version} libcst {_libcst_version()}".encode()
    )
    package = os.path.dirname(os.path.abspath(__file__))
    for folder, subfolders, names in os.walk(package):
        subfolders[:] = sorted(name for name in subfolders if name != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                digest.update(os.path.relpath(path, package).encode())
                with open(path, "rb") as stream:
                    digest.update(stream.read())
    return digest.hexdigest()


def entry_key(fingerprint: str, codes: Sequence[str], data: bytes, path_facts: Sequence[object] = ()) -> str:
    """The cache key of a file's findings under these enabled ``codes``; ``path_facts`` are what
    the engine reads from the file's path (see ``task_cache_key``)."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(b"\0" + ",".join(sorted(codes)).encode() + b"\0")
    digest.update(json.dumps(list(path_facts)).encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


def task_cache_key(task: LintTask, data: bytes, fingerprint: str | None = None) -> str:
    """The cache key of ``task``'s file with these bytes: every input of its lint. The one place
    that lists them; an input added to the lint (a project index's digest) is added here."""
    path = task.source_file.path
    path_facts = [["test code", is_test_path(path)], ["notebook", is_notebook(path)], ["project", task.project_digest]]
    return entry_key(fingerprint or build_fingerprint(), task.codes, data, path_facts)


@dataclass(frozen=True)
class RuleEntry:
    """What selecting rules needs to know of one (``perflint.selection``)."""

    code: str
    name: str
    default_enabled: bool


_RULE_INDEX = "rules.json"
_CODE = re.compile(r"PFL\d{3}\Z")


class _SchemaMismatch(ValueError):
    """A cache record whose shape is not the one this build writes."""


def _expect(condition: bool) -> None:
    if not condition:
        raise _SchemaMismatch


def _is_int(value: Any, minimum: int = 1) -> bool:
    return type(value) is int and value >= minimum


def _check_edit(edit: Any) -> None:
    _expect(isinstance(edit, dict) and set(edit) == {"line", "column", "end_line", "end_column", "content"})
    _expect(all(_is_int(edit[name]) for name in ("line", "column", "end_line", "end_column")))
    _expect(type(edit["content"]) is str)


def _check_finding(item: Any) -> None:
    """One stored finding: exactly the fields ``Finding.to_dict`` writes, less the path."""
    required = {"code", "name", "message", "line", "column", "end_line", "end_column", "cell", "fix", "evidence"}
    _expect(isinstance(item, dict) and set(item) - {"size"} == required)
    _expect(type(item["code"]) is str and _CODE.match(item["code"]) is not None)
    _expect(type(item["name"]) is str and type(item["message"]) is str)
    _expect(all(_is_int(item[name]) for name in ("line", "column", "end_line", "end_column")))
    _expect(item["cell"] is None or _is_int(item["cell"]))
    _expect(item["evidence"] is None or type(item["evidence"]) is str)
    _expect("size" not in item or _is_int(item["size"], minimum=0))
    fix = item["fix"]
    if fix is not None:
        _expect(isinstance(fix, dict) and set(fix) == {"applicability", "message", "edits"})
        _expect(fix["applicability"] in ("safe", "unsafe") and type(fix["message"]) is str)
        _expect(isinstance(fix["edits"], list) and bool(fix["edits"]))
        for edit in fix["edits"]:
            _check_edit(edit)


def _checksum(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def seal_record(payload: Any) -> dict[str, Any]:
    """A cache record: the payload with this format's number and the payload's checksum."""
    return {"format": _FORMAT, "payload": payload, "checksum": _checksum(payload)}


def unseal_record(record: Any) -> Any:
    """The payload of a record written by ``seal_record``; ``_SchemaMismatch`` if it is not one or
    its checksum does not match (a truncated or edited file)."""
    _expect(isinstance(record, dict) and set(record) == {"format", "payload", "checksum"})
    _expect(record["format"] == _FORMAT and record["checksum"] == _checksum(record["payload"]))
    return record["payload"]


def read_findings_record(record: Any, key: str) -> list[dict[str, Any]]:
    """The findings of a stored entry for ``key``, checked field by field; ``_SchemaMismatch``
    (a ``ValueError``) when anything is off."""
    payload = unseal_record(record)
    _expect(isinstance(payload, dict) and set(payload) == {"key", "findings"} and payload["key"] == key)
    _expect(isinstance(payload["findings"], list))
    for item in payload["findings"]:
        _check_finding(item)
    return payload["findings"]


def read_rule_index_record(record: Any) -> tuple[RuleEntry, ...]:
    """The rules of a stored index, checked: a non-empty list of distinct ``[code, name, default]``."""
    payload = unseal_record(record)
    _expect(isinstance(payload, dict) and set(payload) == {"rules"} and isinstance(payload["rules"], list))
    entries = []
    for rule in payload["rules"]:
        _expect(isinstance(rule, list) and len(rule) == 3)
        code, name, default = rule
        _expect(type(code) is str and _CODE.match(code) is not None and type(name) is str and bool(name))
        _expect(type(default) is bool)
        entries.append(RuleEntry(code, name, default))
    _expect(bool(entries) and len({entry.code for entry in entries}) == len(entries))
    return tuple(entries)


class Cache:
    """The findings cache of one project: ``base`` is its cache folder."""

    def __init__(self, base: str) -> None:
        self.fingerprint = build_fingerprint()
        self.base = base
        self.directory = os.path.join(self.base, self.fingerprint[:_BUILD_FOLDER_LENGTH])
        self._prepared = False

    def rule_index(self) -> tuple[RuleEntry, ...] | None:
        """Every rule's code, name and default, as this build's index recorded them; ``None``
        when no index was written (see ``store_rule_index``), or it cannot be read or fails its
        checks (the registry is used then, and the index rewritten)."""
        try:
            with open(os.path.join(self.directory, _RULE_INDEX), encoding="utf-8") as stream:
                return read_rule_index_record(json.load(stream))
        except (OSError, ValueError, RecursionError):
            return None

    def store_rule_index(self, rules: Sequence[object]) -> None:
        """Record the registry's rules (anything with ``code``, ``name``, ``default_enabled``)."""
        entries = [[rule.code, rule.name, rule.default_enabled] for rule in rules]  # type: ignore[attr-defined]
        self._write_atomically(os.path.join(self.directory, _RULE_INDEX), seal_record({"rules": entries}))

    def key(self, codes: Sequence[str], data: bytes) -> str:
        """The key of ``data`` under ``codes`` alone, with no facts of a path (tests and tools;
        the lint's own key is ``task_cache_key``)."""
        return entry_key(self.fingerprint, codes, data)

    def _entry_path(self, key: str) -> str:
        return os.path.join(self.directory, f"{key}.json")

    def load(self, key: str, path: str) -> list[Finding] | None:
        """The cached findings, reported at ``path``; ``None`` on a miss or an entry that fails
        its checks (the file is linted again and the entry rewritten)."""
        try:
            with open(self._entry_path(key), encoding="utf-8") as stream:
                items = read_findings_record(json.load(stream), key)
            return [Finding.from_dict({**item, "path": path}) for item in items]
        except (OSError, ValueError, TypeError, RecursionError):
            return None

    def store(self, key: str, findings: Sequence[Finding]) -> None:
        """Write an entry atomically. Raises ``OSError`` if the cache folder is not writable or
        not perflint's."""
        items = []
        for finding in findings:
            item = finding.to_dict()
            del item["path"]
            items.append(item)
        self._write_atomically(self._entry_path(key), seal_record({"key": key, "findings": items}))

    def _write_atomically(self, path: str, content: object) -> None:
        self._prepare()
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                json.dump(content, stream, separators=(",", ":"))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise

    def _prepare(self) -> None:
        if self._prepared:
            return
        claim_cache_folder(self.base)
        try:
            os.mkdir(self.directory)
        except FileExistsError:
            pass
        else:
            self._remove_other_builds()
        self._prepared = True

    def _remove_other_builds(self) -> None:
        """Delete the build folders of other perflint builds; only ever called inside a folder
        ``claim_cache_folder`` accepted as perflint's."""
        current = os.path.basename(self.directory)
        for entry in os.scandir(self.base):
            if entry.name != current and _BUILD_FOLDER.match(entry.name) and entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
