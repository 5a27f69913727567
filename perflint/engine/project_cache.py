"""The project index's summaries on disk, and the views each file of a run is linted with.

One JSON file per project in ``<cache folder>/project-index/``, beside the findings cache (its
own folder, so the findings cache's clean-up of other builds leaves it alone): for every file
of the project that was ever summarised, its size, modification time, content hash and
summary. A run re-summarises only the files whose bytes changed (the content hash decides;
size and time only spare re-reading files the run does not lint).

A run that lints the whole project builds the index from all its files. A run that lints a
few of them (pre-commit, an editor) joins their fresh summaries with the stored summaries of
the rest, re-reading any whose size or time changed; with nothing stored it has only the
files it was given, and ``--verbose`` says so.

The store says whether it holds the whole project: a run over the whole project writes it
complete, and a run over a few files keeps what the store it joined said. Only a complete
index may conclude that nothing names a function (``ProjectIndex.uncalled``).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from perflint.engine.collector import collector_paused
from perflint.engine.project import (
    SUMMARY_FORMAT,
    FileSummary,
    ProjectIndex,
    ProjectView,
    module_name,
    summarise_source,
)
from perflint.files import MAX_SOURCE_BYTES

INDEX_FOLDER = "project-index"


@dataclass(frozen=True)
class IndexedFile:
    """A file of the run: its absolute path, and its bytes when already read (else None)."""

    absolute: str
    data: bytes | None = None


@dataclass
class IndexOutcome:
    """The views of a run's files (by absolute path), how the index was made, in words, and
    how many of its files came from the cached index rather than the run."""

    views: dict[str, ProjectView]
    description: str
    cached_files: int = 0


def _content_key(module: str, is_package: bool, data: bytes) -> str:
    digest = hashlib.sha256(f"{SUMMARY_FORMAT}\0{module}\0{is_package}\0".encode("utf-8", "surrogateescape"))
    digest.update(data)
    return digest.hexdigest()


def _store_path(cache_directory: str, root: str) -> str:
    name = hashlib.sha256(os.path.abspath(root).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return os.path.join(cache_directory, INDEX_FOLDER, f"{name}.json")


def _load(path: str) -> tuple[dict[str, dict], bool]:
    """The stored entries, and whether they are the whole project's."""
    try:
        with open(path, encoding="utf-8") as stream:
            content = json.load(stream)
        if content.get("format") != SUMMARY_FORMAT or not isinstance(content.get("files"), dict):
            return {}, False
        return content["files"], content.get("complete") is True
    except (OSError, ValueError, AttributeError):
        return {}, False


def _write(path: str, files: dict[str, dict], complete: bool) -> None:
    """Atomically (temporary file, then ``os.replace``): concurrent runs never read half a store."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    ignore_file = os.path.join(os.path.dirname(folder), ".gitignore")
    if not os.path.exists(ignore_file):
        with open(ignore_file, "w", encoding="utf-8") as stream:
            stream.write("# Created by perflint: the cache is never committed.\n*\n")
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".index-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
            json.dump({"format": SUMMARY_FORMAT, "complete": complete, "files": files}, stream, separators=(",", ":"))
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _stat(path: str) -> list[float] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return [status.st_size, status.st_mtime_ns]


def _read(path: str) -> bytes | None:
    """The bytes of a regular file of at most ``MAX_SOURCE_BYTES``, else None: the index never
    opens a FIFO (which would block), a device or a file the lint itself refuses."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        with open(path, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return None
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_SOURCE_BYTES else None


def _summary(absolute: str, root: str, data: bytes, stored: dict | None) -> tuple[FileSummary | None, dict]:
    """The summary of a file's bytes: the stored one when its content key matches."""
    module, is_package = module_name(absolute, root)
    key = _content_key(module, is_package, data)
    if stored is not None and stored.get("key") == key:
        summary = FileSummary.from_json(stored.get("summary") or {})
        if summary is not None:
            return summary, stored
    try:
        source = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        source = None
    summary = summarise_source(source, module, is_package) if source is not None else None
    entry = {"key": key, "stat": _stat(absolute), "summary": summary.to_json() if summary is not None else None}
    return summary, entry


def _summarise_files(
    files: Sequence[IndexedFile],
    root: str,
    stored: dict[str, dict],
    entries: dict[str, dict],
    summaries: list[FileSummary],
) -> None:
    for indexed in files:
        if not indexed.absolute.endswith(".py"):
            continue
        data = indexed.data if indexed.data is not None else _read(indexed.absolute)
        if data is None:
            continue
        summary, entries[indexed.absolute] = _summary(indexed.absolute, root, data, stored.get(indexed.absolute))
        if summary is not None:
            summaries.append(summary)


def _summarise_rest(stored: dict[str, dict], root: str, entries: dict[str, dict], summaries: list[FileSummary]) -> None:
    """The stored summaries of the project's files the run does not lint, refreshed where a
    file's size or time changed, dropped where it is gone."""
    for absolute, entry in stored.items():
        if absolute in entries:
            continue
        status = _stat(absolute)
        if status is None:
            continue
        if entry.get("stat") != status:
            data = _read(absolute)
            if data is None:
                continue
            summary, entry = _summary(absolute, root, data, entry)
        else:
            summary = FileSummary.from_json(entry.get("summary") or {})
        entries[absolute] = entry
        if summary is not None:
            summaries.append(summary)


def project_views(
    files: Sequence[IndexedFile], root: str, cache_directory: str | None, whole_project: bool, write: bool = True
) -> IndexOutcome:
    """The view of every one of ``files`` (Python files of the project at ``root``).

    ``whole_project``: the run lints every file of the project, so stored summaries of other
    files are left out (they were deleted or excluded). Otherwise the stored summaries of the
    project's other files join the index, refreshed where a file changed on disk. With no
    ``cache_directory`` nothing is read or written; with ``write=False`` nothing is written.
    """
    # A parse with ``ast`` allocates thousands of nodes; syntax trees and summaries hold no
    # cycles (in a process holding libcst trees, the collections cost 3 to 5 times the parse).
    with collector_paused():
        return _project_views(files, root, cache_directory, whole_project, write)


def _project_views(
    files: Sequence[IndexedFile], root: str, cache_directory: str | None, whole_project: bool, write: bool
) -> IndexOutcome:
    store = _store_path(cache_directory, root) if cache_directory else None
    stored, stored_complete = _load(store) if store else ({}, False)
    entries: dict[str, dict] = {}
    summaries: list[FileSummary] = []
    _summarise_files(files, root, stored, entries, summaries)
    linted = len(summaries)
    if not whole_project:
        _summarise_rest(stored, root, entries, summaries)
    complete = whole_project or stored_complete
    if store is not None and write and (entries != stored or complete != stored_complete):
        try:
            _write(store, entries, complete)
        except OSError:
            pass  # the findings cache warns about an unwritable cache folder
    index = ProjectIndex(summaries, complete)
    views = {}
    for indexed in files:
        module, _ = module_name(indexed.absolute, root)
        view = index.view(module)
        if view is not None:
            views[indexed.absolute] = view
    if whole_project or linted == len(summaries):
        kind = "the files linted" if not whole_project and not stored else "the whole project"
        description = f"project index of {root}: {len(summaries)} files ({kind})"
    else:
        description = (
            f"project index of {root}: {linted} files linted + {len(summaries) - linted} from the cached index"
        )
    if not whole_project and not stored:
        description += "; no cached index of the rest of the project, so per-file knowledge beyond them"
    return IndexOutcome(views, description, len(summaries) - linted)
