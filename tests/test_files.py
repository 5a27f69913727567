"""File discovery, exclusion globs and PEP 263 decoding."""

from __future__ import annotations

import os

import pytest

from perflint.files import (
    DEFAULT_EXCLUDE,
    FileFilter,
    GlobSet,
    MissingPathError,
    SourceFile,
    UnreadableSourceError,
    decode_source,
    discover,
    read_source,
)


def _touch(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _paths(discovery):
    return [source_file.path.replace(os.sep, "/") for source_file in discovery.files]


@pytest.mark.parametrize(
    ("glob", "relative", "expected"),
    [
        ("generated", "generated", True),
        ("generated", "pkg/generated", True),  # a bare name matches at any depth
        ("gen_*.py", "pkg/gen_model.py", True),
        ("*.py", "pkg/a.py", True),
        ("pkg/*.py", "pkg/a.py", True),
        ("pkg/*.py", "pkg/sub/a.py", False),  # * stays within one segment
        ("pkg/**/*.py", "pkg/sub/deep/a.py", True),
        ("pkg/**/*.py", "pkg/a.py", True),
        ("**/tests", "a/b/tests", True),
        ("pkg/a.py", "other/pkg/a.py", False),  # a glob with / is anchored at the root
        ("./pkg/", "pkg", True),
        ("pkg/[ab].py", "pkg/b.py", True),
        ("pkg/[!ab].py", "pkg/b.py", False),
        ("pkg/{x,y}.py", "pkg/y.py", True),
        ("pkg/?.py", "pkg/ab.py", False),
    ],
)
def test_glob_semantics(tmp_path, glob, relative, expected):
    globs = GlobSet.compile(str(tmp_path), [glob])
    assert globs.matches(str(tmp_path / relative)) is expected


def test_matches_within_applies_a_folder_glob_to_the_files_below_it(tmp_path):
    globs = GlobSet.compile(str(tmp_path), ["tests"])
    assert globs.matches_within(str(tmp_path / "tests" / "unit" / "test_a.py"))
    assert not globs.matches_within(str(tmp_path / "src" / "a.py"))
    # Folders above the root do not count.
    inner = GlobSet.compile(str(tmp_path / "tests" / "project"), ["tests"])
    assert not inner.matches_within(str(tmp_path / "tests" / "project" / "a.py"))


def test_unclosed_brace_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="unclosed"):
        GlobSet.compile(str(tmp_path), ["pkg/{a,b.py"])


def test_discovery_recurses_sorted_and_skips_default_and_virtualenv_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "b.py")
    _touch(tmp_path / "a.pyi")
    _touch(tmp_path / "notes.txt")
    _touch(tmp_path / "pkg" / "z.py")
    _touch(tmp_path / "pkg" / "sub" / "y.py")
    for skipped in (".git", "__pycache__", "build", "dist", ".tox", "node_modules", ".venv", ".perflint_cache"):
        _touch(tmp_path / skipped / "hidden.py")
    _touch(tmp_path / "myenv" / "pyvenv.cfg", "home = /usr\n")
    _touch(tmp_path / "myenv" / "lib" / "site.py")
    discovery = discover(["."], FileFilter.of(str(tmp_path)))
    # A folder's files come before its sub-folders, each in name order.
    assert _paths(discovery) == ["a.pyi", "b.py", "pkg/z.py", "pkg/sub/y.py"]
    assert discovery.unreadable == []


def test_named_files_are_always_linted_and_named_folders_are_walked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "build" / "gen.py")
    _touch(tmp_path / "build" / "nested" / "build" / "skipped.py")
    _touch(tmp_path / "script")
    excluded = FileFilter.of(str(tmp_path), (*DEFAULT_EXCLUDE, "script"))
    assert _paths(discover(["script", "build"], excluded)) == ["script", "build/gen.py"]


def test_each_file_is_listed_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "pkg" / "a.py")
    discovery = discover(["pkg", "pkg/a.py", "."], FileFilter.of(str(tmp_path), ()))
    assert _paths(discovery) == ["pkg/a.py"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_symbolic_link_loop_ends(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "pkg" / "a.py")
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    os.symlink(tmp_path, tmp_path / "pkg" / "up")
    os.symlink(tmp_path / "missing.py", tmp_path / "pkg" / "dangling.py")
    assert _paths(discover(["."], FileFilter.of(str(tmp_path), ()))) == ["pkg/a.py"]


def test_missing_path_is_named(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingPathError, match="nope.py"):
        discover(["nope.py"], FileFilter.of(str(tmp_path), ()))


def test_decoding_follows_pep_263():
    assert decode_source("# -*- coding: latin-1 -*-\nname = 'caf\xe9'\n".encode("latin-1")).endswith("'café'\n")
    assert decode_source(b"\xef\xbb\xbfx = 1\n") == "x = 1\n"
    assert decode_source("s = 'é'\n".encode()) == "s = 'é'\n"


def test_undecodable_bytes_give_a_one_line_reason_and_the_line():
    with pytest.raises(UnreadableSourceError) as raised:
        decode_source(b"x = 1\ny = 2\nz = '\xff'\n")
    assert raised.value.line == 3
    assert "0xff" in str(raised.value) and "\n" not in str(raised.value)
    with pytest.raises(UnreadableSourceError, match="unknown encoding"):
        decode_source(b"# coding: no-such-codec\nx = 1\n")
    with pytest.raises(UnreadableSourceError, match="0xff"):
        decode_source(b"x = '\xff'\n")


def test_unreadable_file_becomes_a_finding(tmp_path):
    data, finding = read_source(SourceFile("gone.py", str(tmp_path / "gone.py")))
    assert data is None
    assert (finding.code, finding.path) == ("PFL000", "gone.py")
    assert finding.message.startswith("cannot read:")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_symbolic_link_loop_named_on_the_command_line_is_reported_naming_the_loop(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.symlink("second", "first")
    os.symlink("first", "second")
    os.symlink("itself", "itself")
    _touch(tmp_path / "a.py")
    discovery = discover(["first", "itself", "a.py"], FileFilter.of(str(tmp_path)))
    assert _paths(discovery) == ["a.py"]
    assert [(finding.code, finding.path, finding.message) for finding in discovery.unreadable] == [
        ("PFL000", "first", "cannot read: symbolic link loop first -> second -> first"),
        ("PFL000", "itself", "cannot read: symbolic link loop itself -> itself"),
    ]
    with pytest.raises(MissingPathError):  # a link to nothing is still a missing path
        os.symlink("nowhere", "dangling")
        discover(["dangling"], FileFilter.of(str(tmp_path)))


def test_read_source_reads_a_regular_file(tmp_path):
    path = _touch(tmp_path / "a.py", "x = 1\n")
    assert read_source(SourceFile("a.py", str(path))) == (b"x = 1\n", None)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_read_source_refuses_a_fifo_before_opening_it(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    data, finding = read_source(SourceFile("pipe.py", str(tmp_path / "pipe.py")))
    assert data is None and finding.message == "not a regular file: a FIFO (named pipe)"


def test_read_source_refuses_a_socket(tmp_path):
    import socket

    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets here")
    path = str(tmp_path / "s.py")
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(path)
        data, finding = read_source(SourceFile("s.py", path))
    finally:
        server.close()
    assert data is None and finding.message == "not a regular file: a socket"


def test_read_source_refuses_a_file_over_the_cap_without_reading_it(tmp_path, monkeypatch):
    from perflint import files

    monkeypatch.setattr(files, "MAX_SOURCE_BYTES", 10)
    path = _touch(tmp_path / "a.py", "x = 1\n" * 2)
    data, finding = read_source(SourceFile("a.py", str(path)))
    assert data is None and finding.code == "PFL000" and finding.message.startswith("file too large")
    assert read_source(SourceFile("b.py", str(_touch(tmp_path / "b.py", "x = 12345\n")))) == (b"x = 12345\n", None)
