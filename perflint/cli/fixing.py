"""``--fix`` and ``--diff``: fix the files that have fixes to apply, then write each fixed file,
print its diff, or (standard input) print the fixed source.

The lint before (``runner.lint_files``, cached) says which files have fixes to apply; only
those are linted again and fixed, in worker processes (``runner.fix_files``). A fixed file is
written atomically, with its permissions, owner, group, encoding and line endings kept, and
only if it still holds the bytes that were fixed: a file changed meanwhile is left alone, with
a PFL000 finding that says so. So is a file that pre-commit should not see rewritten behind a
team's back: a read-only one, one with other hard links, or one that a symbolic link reaches
from outside the folders being fixed (discovery still follows folder links; the refusal is
made here, at write time, so no file outside the tree is ever written). A temporary file is
removed on any exit that reaches Python; those a killed run left are swept before writing.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TextIO

from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding, fix_applies, unlintable
from perflint.files import decode_source
from perflint.runner import SAFE_FIXES, UNSAFE_FIXES, LintTask, fix_files

WRITE, DIFF, STANDARD_OUTPUT = "write", "diff", "stdout"


@dataclass(frozen=True)
class FixRun:
    """Every finding after fixing (the ones that remain, with the rest untouched), how many
    fixes were applied (or, with ``--diff``, would be), and in how many files."""

    findings: list[Finding]
    fixed: int
    files: int


def apply_fixes(
    tasks: Sequence[LintTask],
    findings: Sequence[Finding],
    *,
    unsafe: bool,
    mode: str,
    stream: TextIO,
    jobs: int | None = None,
    roots: Sequence[str] = (),
) -> FixRun:
    """Fix the files among ``tasks`` whose ``findings`` have fixes to apply; ``mode`` says what
    becomes of a fixed file: ``WRITE`` it, print its ``DIFF`` to ``stream``, or print it whole
    to ``stream`` (``STANDARD_OUTPUT``, for source read from standard input). ``roots`` are the
    paths the run was given: a symbolic link is written through only to a file inside one of
    them (or the working directory)."""
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    chosen = [
        task
        for task in tasks
        if any(fix_applies(finding, unsafe) for finding in by_path.get(task.source_file.path, ()))
    ]
    level = UNSAFE_FIXES if unsafe else SAFE_FIXES
    folders = _folders(roots)
    if mode == WRITE:
        sweep_stale_temporaries(os.path.dirname(os.path.realpath(task.source_file.absolute)) for task in chosen)
    results = fix_files([replace(task, fixes=level) for task in chosen], jobs)
    replaced: dict[str, list[Finding]] = {}
    fixed = files = 0
    for task, result in zip(chosen, results):
        path = task.source_file.path
        if result.fixed_data is None or result.original is None:
            if all(finding.code == INTERNAL_ERROR_CODE for finding in result.findings):
                # Fixing failed (a time limit, a worker that died): what the lint found stands.
                replaced[path] = [*by_path[path], *result.findings]
            else:
                replaced[path] = result.findings
            continue
        if mode == WRITE:
            problem = write_fixed_file(task.source_file.absolute, result.original, result.fixed_data, folders)
            if problem is not None:
                replaced[path] = [*by_path[path], unlintable(path, problem)]
                continue
        elif mode == DIFF:
            stream.write(unified_diff(path, result.original, result.fixed_data))
        else:
            write_bytes(stream, result.fixed_data)
        replaced[path] = result.findings
        fixed += result.fixed
        files += 1
    remaining = [finding for finding in findings if finding.path not in replaced]
    remaining += [finding for path_findings in replaced.values() for finding in path_findings]
    return FixRun(sorted(remaining, key=lambda finding: finding.sort_key), fixed, files)


# A temporary file's name: ``.<file name>.<mkstemp's 8 random characters>.perflint-fix``, in
# the folder of the file it replaces. Only names of this shape are ever swept.
TEMPORARY_SUFFIX = ".perflint-fix"
_TEMPORARY_NAME = re.compile(r"\..+\.[a-z0-9_]{8}" + re.escape(TEMPORARY_SUFFIX))
# A temporary file this old is left from a run that was killed (SIGKILL, a power cut): no run
# takes an hour between creating its temporary file and renaming it.
STALE_TEMPORARY_SECONDS = 3600.0


def write_fixed_file(path: str, original: bytes, data: bytes, folders: Sequence[str] | None = None) -> str | None:
    """Replace the file at ``path`` by ``data``, atomically: a temporary file in the same
    folder, given the file's permissions, owner and group, renamed over it. Nothing is written
    if the file no longer holds ``original``; nor (returning why) to a file that is read-only,
    that has other hard links (the rename would split them), that a symbolic link leads to
    from outside ``folders`` (the folders the run was given and the working directory, as
    ``_folders`` makes them; by default the working directory), or whose owner and group the
    new file cannot be given."""
    target = os.path.realpath(path)
    try:
        with open(target, "rb") as stream:
            current = stream.read()
        status = os.stat(target)
    except OSError as error:
        return f"fixes not written: cannot read the file again: {error.strerror or error}"
    if current != original:
        return "fixes not written: the file changed on disk while perflint was fixing it; run again"
    refusal = _refusal(path, target, status, _folders(()) if folders is None else folders)
    if refusal is not None:
        return f"fixes not written: {refusal}"
    folder, name = os.path.split(target)
    temporary = None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=TEMPORARY_SUFFIX)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        created = os.stat(temporary)
        if (created.st_uid, created.st_gid) != (status.st_uid, status.st_gid):
            try:
                os.chown(temporary, status.st_uid, status.st_gid)
            except OSError:
                return (
                    "fixes not written: the file's owner or group could not be given to the fixed file "
                    "(run as its owner)"
                )
        os.chmod(temporary, stat.S_IMODE(status.st_mode))
        os.replace(temporary, target)
        temporary = None
    except OSError as error:
        return f"fixes not written: {error.strerror or error}"
    finally:
        # On any exit that did not rename it (an error, an interrupt, SIGTERM made an exception).
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass
    return None


def _refusal(path: str, target: str, status: os.stat_result, folders: Sequence[str]) -> str | None:
    """Why the file at ``path`` (whose real path is ``target``) must not be replaced, if it
    must not; a symbolic link may lead only inside ``folders``."""
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"
    if not status.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        return "the file is read-only (make it writable to let perflint fix it)"
    if status.st_nlink > 1:
        return (
            f"the file has {status.st_nlink} hard links, and replacing it would leave the others "
            "unfixed (fix it through --diff by hand)"
        )
    if target != os.path.normpath(os.path.abspath(path)) and not any(
        target.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders
    ):
        return f"a symbolic link leads to {target}, outside the folders being fixed"
    return None


def sweep_stale_temporaries(folders: Iterable[str], older_than: float = STALE_TEMPORARY_SECONDS) -> list[str]:
    """Remove, from ``folders``, the temporary files a killed ``--fix`` left: only regular
    files (not links) named as perflint names them, owned by this user, last changed more
    than ``older_than`` seconds ago (a younger one may be another run's, still writing).
    Returns the paths removed."""
    removed = []
    now = time.time()
    for folder in sorted(set(folders)):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if not _TEMPORARY_NAME.fullmatch(entry.name):
                continue
            try:
                status = entry.stat(follow_symlinks=False)
                if (
                    not stat.S_ISREG(status.st_mode)
                    or status.st_uid != os.geteuid()
                    or now - status.st_mtime < older_than
                ):
                    continue
                os.unlink(entry.path)
            except OSError:
                continue
            removed.append(entry.path)
    return removed


def _folders(roots: Sequence[str]) -> list[str]:
    """The real folders of ``roots`` and of the working directory: a named file's folder, and
    a named folder where it is named (a link named as a folder is not followed out of it)."""
    folders = [os.path.realpath(os.getcwd())]
    for root in roots:
        absolute = os.path.abspath(root)
        parent, name = os.path.split(absolute)
        if os.path.isdir(absolute):
            folders.append(os.path.join(os.path.realpath(parent), name) if name else absolute)
        else:
            folders.append(os.path.realpath(parent))
    return folders


def write_bytes(stream: TextIO, data: bytes) -> None:
    """``data`` to ``stream``'s binary buffer, byte for byte (a coding cookie's encoding, a
    BOM, line endings kept, as the on-disk path writes them); a stream without a buffer (a
    test's ``StringIO``) gets the decoded text."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(decode_source(data))
        return
    stream.flush()
    buffer.write(data)
    buffer.flush()


def unified_diff(path: str, original: bytes, fixed: bytes) -> str:
    """The change as a unified diff (``--- path`` / ``+++ path``), as ``diff -u`` and Ruff
    print it, a last line without a line break marked as such."""
    lines = difflib.unified_diff(
        decode_source(original).splitlines(keepends=True),
        decode_source(fixed).splitlines(keepends=True),
        fromfile=path,
        tofile=path,
    )
    return "".join(_marked_line_end(line) for line in lines)


def _marked_line_end(line: str) -> str:
    if line.endswith(("\n", "\r")):
        return line
    return line + "\n\\ No newline at end of file\n"
