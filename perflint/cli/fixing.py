"""``--fix`` and ``--diff``: fix the files that have fixes to apply, then write each fixed file,
print its diff, or (standard input) print the fixed source.

The lint before (``runner.lint_files``, cached) says which files have fixes to apply; only
those are linted again and fixed, in worker processes (``runner.fix_files``). A fixed file is
written atomically, with its permissions, encoding and line endings kept, and only if it
still holds the bytes that were fixed: a file changed meanwhile is left alone, with a PFL000
finding that says so.
"""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from dataclasses import dataclass, replace
from typing import Optional, Sequence, TextIO

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


def apply_fixes(tasks: Sequence[LintTask], findings: Sequence[Finding], *, unsafe: bool, mode: str,
                stream: TextIO, jobs: Optional[int] = None) -> FixRun:
    """Fix the files among ``tasks`` whose ``findings`` have fixes to apply; ``mode`` says what
    becomes of a fixed file: ``WRITE`` it, print its ``DIFF`` to ``stream``, or print it whole
    to ``stream`` (``STANDARD_OUTPUT``, for source read from standard input)."""
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    chosen = [task for task in tasks
              if any(fix_applies(finding, unsafe) for finding in by_path.get(task.source_file.path, ()))]
    level = UNSAFE_FIXES if unsafe else SAFE_FIXES
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
            problem = write_fixed_file(task.source_file.absolute, result.original, result.fixed_data)
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


def write_fixed_file(path: str, original: bytes, data: bytes) -> Optional[str]:
    """Replace the file at ``path`` (through any symbolic link) by ``data``, atomically: a
    temporary file in the same folder, given the file's permissions, renamed over it. Nothing
    is written if the file no longer holds ``original``. Returns why it was not written."""
    target = os.path.realpath(path)
    try:
        with open(target, "rb") as stream:
            current = stream.read()
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError as error:
        return f"fixes not written: cannot read the file again: {error.strerror or error}"
    if current != original:
        return "fixes not written: the file changed on disk while perflint was fixing it; run again"
    folder, name = os.path.split(target)
    temporary = None
    try:
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".perflint-fix")
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except OSError as error:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
        return f"fixes not written: {error.strerror or error}"
    return None


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
        decode_source(original).splitlines(keepends=True), decode_source(fixed).splitlines(keepends=True),
        fromfile=path, tofile=path)
    return "".join(_marked_line_end(line) for line in lines)


def _marked_line_end(line: str) -> str:
    if line.endswith(("\n", "\r")):
        return line
    return line + "\n\\ No newline at end of file\n"

