"""A content-hash cache of findings, as Ruff keeps one: a file whose bytes, enabled rules and
perflint build are unchanged is not parsed again.

Entries live in ``<cache folder>/<build>/`` (``.perflint_cache`` at the project root unless
``cache-dir`` says otherwise), one JSON file per key. A
key is the SHA-256 of the perflint build, the sorted enabled codes and the file's bytes, so
an entry never needs invalidating: anything that could change the findings changes the key.
When a new build first writes, the folders of other builds are deleted.
Findings are stored without their path (identical files share an entry). Writes are
atomic (temporary file, then ``os.replace``), so concurrent runs never read half an entry;
an entry that cannot be read back is treated as missing and rewritten.

The build folder also holds the rule index (each rule's code, name and default), so a run whose
every file is cached resolves its selection without importing the rules or libcst.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

from perflint import __version__
from perflint.engine.findings import Finding

_FORMAT = 1
_BUILD_FOLDER_LENGTH = 16


@lru_cache(maxsize=None)
def build_fingerprint() -> str:
    """perflint's version plus a hash of its own source files, so that a development install
    whose rules were edited does not serve findings of the old rules."""
    digest = hashlib.sha256(f"perflint {__version__} cache format {_FORMAT}".encode())
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


def entry_key(fingerprint: str, codes: Sequence[str], data: bytes, project_digest: str = "") -> str:
    """The cache key of a file's findings under these enabled ``codes``; ``project_digest``
    is the digest of what the project index says about the file's names (another file's
    edit that changes it changes the key)."""
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(b"\0" + ",".join(sorted(codes)).encode() + b"\0" + project_digest.encode() + b"\0")
    digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True)
class RuleEntry:
    """What selecting rules needs to know of one (``perflint.selection``)."""

    code: str
    name: str
    default_enabled: bool


_RULE_INDEX = "rules.json"


class Cache:
    """The findings cache of one project: ``base`` is its cache folder."""

    def __init__(self, base: str) -> None:
        self.fingerprint = build_fingerprint()
        self.base = base
        self.directory = os.path.join(self.base, self.fingerprint[:_BUILD_FOLDER_LENGTH])
        self._prepared = False

    def rule_index(self) -> Optional[tuple[RuleEntry, ...]]:
        """Every rule's code, name and default, as this build's index recorded them; ``None``
        when no index was written (see ``store_rule_index``) or it cannot be read."""
        try:
            with open(os.path.join(self.directory, _RULE_INDEX), encoding="utf-8") as stream:
                return tuple(RuleEntry(str(code), str(name), bool(default))
                             for code, name, default in json.load(stream)["rules"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store_rule_index(self, rules: Sequence[object]) -> None:
        """Record the registry's rules (anything with ``code``, ``name``, ``default_enabled``)."""
        entries = [[rule.code, rule.name, rule.default_enabled] for rule in rules]  # type: ignore[attr-defined]
        self._write_atomically(os.path.join(self.directory, _RULE_INDEX), {"rules": entries})

    def key(self, codes: Sequence[str], data: bytes, project_digest: str = "") -> str:
        return entry_key(self.fingerprint, codes, data, project_digest)

    def _entry_path(self, key: str) -> str:
        return os.path.join(self.directory, f"{key}.json")

    def load(self, key: str, path: str) -> Optional[list[Finding]]:
        """The cached findings, reported at ``path``; ``None`` on a miss or a corrupt entry."""
        try:
            with open(self._entry_path(key), encoding="utf-8") as stream:
                entry = json.load(stream)
            return [Finding.from_dict({**item, "path": path}) for item in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, key: str, findings: Sequence[Finding]) -> None:
        """Write an entry atomically. Raises ``OSError`` if the cache folder is not writable."""
        self._prepare()
        items = []
        for finding in findings:
            item = finding.to_dict()
            del item["path"]
            items.append(item)
        self._write_atomically(self._entry_path(key), {"findings": items})

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
        try:
            os.makedirs(self.directory)
        except FileExistsError:
            pass
        else:
            self._remove_other_builds()
        ignore_file = os.path.join(self.base, ".gitignore")
        if not os.path.exists(ignore_file):
            # Written atomically too: another perflint process may be creating it at this moment.
            descriptor, temporary = tempfile.mkstemp(dir=self.base, prefix=".gitignore-", suffix=".tmp")
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write("# Created by perflint: the cache is never committed.\n*\n")
            os.replace(temporary, ignore_file)
        self._prepared = True

    def _remove_other_builds(self) -> None:
        current = os.path.basename(self.directory)
        for entry in os.scandir(self.base):
            if entry.name != current and len(entry.name) == _BUILD_FOLDER_LENGTH and entry.is_dir():
                shutil.rmtree(entry.path, ignore_errors=True)
