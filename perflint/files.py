"""Which files to lint, and how to read them.

Discovery recurses into folders for the files the configuration includes (``*.py``, ``*.pyi``
and ``*.ipynb`` by default), skipping version-control, cache, build and virtual-environment
folders, test code, and whatever the configuration excludes; files named on the command line
are always linted. Each folder is judged by the settings of the project that owns it, so one
run can cross several projects. Reading decodes per PEP 263, so a file that cannot be read or
decoded becomes a PFL000 finding instead of ending the run.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from re import Pattern
from typing import Callable

from perflint.engine.findings import Finding, unlintable

PYTHON_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIX = ".ipynb"
# File names discovery lints when it finds them in a folder, unless ``include`` replaces them.
DEFAULT_INCLUDE = ("*.py", "*.pyi", "*.ipynb")
CACHE_DIRECTORY = ".perflint_cache"
# The most bytes of one file perflint reads. The largest hand-written Python files are a few
# hundred kilobytes and generated ones a few megabytes; past this the file is not source code
# (``/dev/zero``, a data dump) and reading it would only exhaust memory.
MAX_SOURCE_BYTES = 10 * 1024 * 1024
# The paths a shell's process substitution (``perflint check <(git show HEAD:f.py)``) names: a
# pipe this process inherited, already open at the writer's end.
_INHERITED_DESCRIPTOR_FOLDERS = ("/dev/fd/", "/proc/self/fd/")
# Folder names skipped while walking, unless the configuration's ``exclude`` replaces them.
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".venv",
    "venv",
    "build",
    "dist",
    ".tox",
    ".nox",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".eggs",
    "site-packages",
    "__pypackages__",
)
_VIRTUAL_ENVIRONMENT_MARKER = "pyvenv.cfg"


class MissingPathError(ValueError):
    """A path named on the command line does not exist."""


class UnreadableSourceError(ValueError):
    """A file whose bytes cannot be turned into source text; the message is a one-line reason."""

    def __init__(self, reason: str, line: int = 1) -> None:
        super().__init__(reason)
        self.line = line


def _glob_to_regex(pattern: str) -> str:
    """Translate a gitignore-like glob: ``*`` and ``?`` stay within one path segment, ``**``
    crosses segments, ``[...]`` is a character class and ``{a,b}`` an alternation."""
    out = []
    index = 0
    in_braces = False
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
            continue
        if pattern.startswith("/**", index) and index + 3 == len(pattern):
            out.append("(?:/.*)?")
            index += 3
            continue
        if pattern.startswith("**", index):
            out.append(".*")
            index += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", index + 2 if pattern.startswith("[!", index) else index + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                index = end
        elif char == "{" and not in_braces:
            in_braces = True
            out.append("(?:")
        elif char == "," and in_braces:
            out.append("|")
        elif char == "}" and in_braces:
            in_braces = False
            out.append(")")
        else:
            out.append(re.escape(char))
        index += 1
    if in_braces:
        raise ValueError(f"unclosed '{{' in glob {pattern!r}")
    return "".join(out)


@dataclass(frozen=True)
class GlobSet:
    """Globs relative to a root folder, matched as Ruff matches ``exclude`` and
    ``per-file-ignores``: a glob without ``/`` matches a file or folder name anywhere; a glob
    with ``/`` matches the path relative to the root (or an absolute path)."""

    root: str
    name_patterns: tuple[Pattern[str], ...] = ()
    path_patterns: tuple[Pattern[str], ...] = ()

    @classmethod
    def compile(cls, root: str, globs: Iterable[str]) -> GlobSet:
        names: list[Pattern[str]] = []
        paths: list[Pattern[str]] = []
        for glob in globs:
            cleaned = glob.replace(os.sep, "/").strip()
            if cleaned.startswith("./"):
                cleaned = cleaned[2:]
            cleaned = cleaned.rstrip("/") or cleaned
            if not cleaned:
                raise ValueError("empty glob")
            regex = re.compile(_glob_to_regex(cleaned) + r"\Z")
            (paths if "/" in cleaned else names).append(regex)
        return cls(os.path.abspath(root), tuple(names), tuple(paths))

    def __bool__(self) -> bool:
        return bool(self.name_patterns or self.path_patterns)

    def matches(self, absolute_path: str) -> bool:
        """Whether the glob set names this file or folder itself (not its parents)."""
        name = os.path.basename(absolute_path)
        if any(pattern.match(name) for pattern in self.name_patterns):
            return True
        if not self.path_patterns:
            return False
        relative = os.path.relpath(absolute_path, self.root).replace(os.sep, "/")
        absolute = absolute_path.replace(os.sep, "/")
        return any(pattern.match(relative) or pattern.match(absolute) for pattern in self.path_patterns)

    def matches_within(self, absolute_path: str) -> bool:
        """Whether the glob set names this file or any folder above it, up to the root."""
        if self.matches(absolute_path):
            return True
        relative = os.path.relpath(absolute_path, self.root)
        if relative == os.pardir or relative.startswith(os.pardir + os.sep):
            return False
        parent = os.path.dirname(absolute_path)
        while len(parent) > len(self.root):
            if self.matches(parent):
                return True
            parent = os.path.dirname(parent)
        return False


@dataclass(frozen=True)
class SourceFile:
    """A file to lint: ``path`` as it is reported (as the user named it), ``absolute`` to open it."""

    path: str
    absolute: str


@dataclass
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    unreadable: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class FileFilter:
    """What discovery takes from a folder: the files ``included`` names, except what
    ``excluded`` names (files, and folders not to descend into)."""

    included: GlobSet
    excluded: GlobSet

    @classmethod
    def of(
        cls, root: str, exclude: Iterable[str] = DEFAULT_EXCLUDE, include: Iterable[str] = DEFAULT_INCLUDE
    ) -> FileFilter:
        return cls(GlobSet.compile(root, include), GlobSet.compile(root, exclude))

    def takes(self, absolute_file: str) -> bool:
        return self.included.matches(absolute_file) and not self.excluded.matches(absolute_file)


def is_python_file(name: str) -> bool:
    return name.endswith(PYTHON_SUFFIXES)


def is_notebook(name: str) -> bool:
    return name.endswith(NOTEBOOK_SUFFIX)


def discover(
    paths: Sequence[str],
    filter_for: FileFilter | Callable[[str], FileFilter],
    force_exclude: bool = False,
) -> Discovery:
    """The files to lint under ``paths``, each once, in a stable order.

    ``filter_for`` maps a folder (absolute) to the filter of the project that owns it, or is
    one filter for every folder. A named file is always included; a named folder is walked
    even if excluded, but what lies inside it is filtered. With ``force_exclude``, a named
    file or folder that its project excludes is skipped too: pre-commit names every staged
    file, and the project's ``exclude`` should still hold. Symbolic links are followed,
    except into a folder already visited, so a link loop ends the walk instead of recursing
    forever.
    """
    if isinstance(filter_for, FileFilter):
        filter_for = _everywhere(filter_for)
    discovery = Discovery()
    loops = {}
    for path in paths:
        if os.path.exists(path):
            continue
        loop = _link_loop(path)
        if loop is None:
            raise MissingPathError(f"no such file or directory: {path}")
        loops[path] = loop
    for path, loop in loops.items():
        discovery.unreadable.append(unlintable(os.path.normpath(path), f"cannot read: symbolic link loop {loop}"))
    seen_files: set[str] = set()
    visited_folders: set[str] = set()

    def add(path: str, absolute: str) -> None:
        real = os.path.realpath(absolute)
        if real not in seen_files:
            seen_files.add(real)
            discovery.files.append(SourceFile(os.path.normpath(path), absolute))

    for named in paths:
        if named in loops:
            continue
        absolute = os.path.abspath(named)
        if force_exclude and filter_for(os.path.dirname(absolute)).excluded.matches_within(absolute):
            continue
        if not os.path.isdir(named):
            add(named, absolute)
            continue
        pending = [(named, absolute)]
        while pending:
            folder, folder_absolute = pending.pop()
            real = os.path.realpath(folder_absolute)
            if real in visited_folders:
                continue
            visited_folders.add(real)
            try:
                entries = sorted(os.scandir(folder_absolute), key=lambda entry: entry.name)
            except OSError as error:
                reason = f"cannot read directory: {error.strerror or error}"
                discovery.unreadable.append(unlintable(os.path.normpath(folder), reason))
                continue
            subfolders = []
            folder_filter = filter_for(folder_absolute)
            for entry in entries:
                entry_path = os.path.join(folder, entry.name)
                entry_absolute = os.path.join(folder_absolute, entry.name)
                try:
                    is_folder = entry.is_dir()
                    is_file = not is_folder and entry.is_file()
                except OSError:
                    continue
                if is_folder:
                    if not _skipped_folder(entry_absolute, folder_filter.excluded):
                        subfolders.append((entry_path, entry_absolute))
                elif is_file and folder_filter.takes(entry_absolute):
                    add(entry_path, entry_absolute)
            pending.extend(reversed(subfolders))
    return discovery


def _link_loop(path: str) -> str | None:
    """``a -> b -> a`` when following the symbolic links from ``path`` comes back to one of
    them; None when it does not (the path is simply missing)."""
    chain = [os.path.abspath(path)]
    while os.path.islink(chain[-1]):
        target = os.path.join(os.path.dirname(chain[-1]), os.readlink(chain[-1]))
        target = os.path.join(os.path.realpath(os.path.dirname(target)), os.path.basename(target))
        if target in chain:
            names = [path] + [os.path.relpath(link) for link in chain[1:]] + [os.path.relpath(target)]
            return " -> ".join(names)
        chain.append(target)
    return None


def _everywhere(file_filter: FileFilter) -> Callable[[str], FileFilter]:
    def same_for(folder: str) -> FileFilter:
        return file_filter

    return same_for


def _skipped_folder(absolute: str, excluded: GlobSet) -> bool:
    return (
        os.path.basename(absolute) == CACHE_DIRECTORY
        or excluded.matches(absolute)
        or os.path.isfile(os.path.join(absolute, _VIRTUAL_ENVIRONMENT_MARKER))
    )


def decode_source(data: bytes) -> str:
    """The text of a Python file, decoded as the interpreter would (PEP 263 coding cookie,
    UTF-8 BOM, UTF-8 by default). Raises ``UnreadableSourceError`` with a one-line reason."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if not error.msg.startswith("invalid or missing encoding declaration"):
            raise UnreadableSourceError(f"cannot decode: {error.msg}") from None
        # The first lines are not UTF-8 and declare nothing: report the offending byte.
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UnreadableSourceError(
            f"cannot decode as {encoding}: byte {data[error.start]:#04x} ({error.reason})", line
        ) from None


def encode_source(text: str, original: bytes) -> bytes:
    """``text`` encoded as ``original`` was: its coding cookie's encoding, a UTF-8 BOM kept."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(original).readline)
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig") if not text.startswith("\ufeff") else text.encode("utf-8")
    return text.encode(encoding)


def is_inherited_pipe(absolute_path: str) -> bool:
    """``absolute_path`` names a descriptor this process inherited (process substitution): its
    bytes can be read once only, so they are never cached or read again."""
    return absolute_path.startswith(_INHERITED_DESCRIPTOR_FOLDERS)


def read_source(source_file: SourceFile) -> tuple[bytes | None, Finding | None]:
    """The file's bytes, read once, or the PFL000 finding that says why they are not.

    Only a regular file is read, and a pipe named ``/dev/fd/N`` (process substitution); a
    FIFO, a device or a socket is "not a regular file", judged before it is opened so that a
    FIFO without a writer cannot hang the run. It is opened non-blocking and judged again on
    the open descriptor, in case it was replaced in between. At most ``MAX_SOURCE_BYTES``.
    """
    path = source_file.path
    try:
        mode = os.stat(source_file.absolute).st_mode
        pipe = stat.S_ISFIFO(mode) and is_inherited_pipe(source_file.absolute)
        if not stat.S_ISREG(mode) and not pipe:
            return None, _not_regular(path, mode)
        descriptor = os.open(source_file.absolute, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        return None, unlintable(path, f"cannot read: {error.strerror or error}")
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode) and not (pipe and stat.S_ISFIFO(status.st_mode)):
            return None, _not_regular(path, status.st_mode)
        if stat.S_ISREG(status.st_mode) and status.st_size > MAX_SOURCE_BYTES:
            return None, _too_large(path)
        os.set_blocking(descriptor, True)  # a pipe's writer may not have written yet
        with os.fdopen(descriptor, "rb") as stream:
            descriptor = -1
            data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as error:
        return None, unlintable(path, f"cannot read: {error.strerror or error}")
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if len(data) > MAX_SOURCE_BYTES:
        return None, _too_large(path)
    return data, None


def _not_regular(path: str, mode: int) -> Finding:
    if stat.S_ISDIR(mode):
        return unlintable(path, "cannot read: Is a directory")
    kind = (
        "a FIFO (named pipe)"
        if stat.S_ISFIFO(mode)
        else "a character device"
        if stat.S_ISCHR(mode)
        else "a block device"
        if stat.S_ISBLK(mode)
        else "a socket"
        if stat.S_ISSOCK(mode)
        else "not a file"
    )
    return unlintable(path, f"not a regular file: {kind}")


def _too_large(path: str) -> Finding:
    return unlintable(path, f"file too large: over {MAX_SOURCE_BYTES // (1024 * 1024)} MiB, the most perflint reads")
