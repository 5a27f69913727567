"""Hostile cases for ``--fix``: files it must not write, encodings it must keep, inputs it must
check before writing, temporary files it must not leave (issue 19's file safety and issue 22,
items 4, 6 and 14). The interface is described in ``run.py``: each case takes a fresh folder,
runs perflint as a subprocess, and returns ``held``, ``internal_error``, ``data_lost`` and a
one-line ``detail``."""

from __future__ import annotations

import ast
import os
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# PFL501: its fix (drop ``set_to_none=False``) is unsafe, so --fix --unsafe-fixes applies it.
FIXABLE = "import torch\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)  # reset\n"
FIXED = "import torch\nfor batch in loader:\n    opt.zero_grad()  # reset\n"
EXIT_STATUSES = (0, 1, 2, 130, 143)


def _perflint(folder: Path, *arguments: str, data: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", *arguments],
        cwd=folder,
        input=data,
        capture_output=True,
        timeout=120,
    )


def _internal_error(run: subprocess.CompletedProcess) -> bool:
    out, err = run.stdout.decode("utf-8", "replace"), run.stderr.decode("utf-8", "replace")
    return run.returncode not in EXIT_STATUSES or "Traceback" in err or "internal error" in out + err


def _outcome(held: bool, run: subprocess.CompletedProcess, data_lost: bool, detail: str) -> dict[str, Any]:
    held = held and not data_lost and not _internal_error(run)
    return {
        "held": held,
        "internal_error": _internal_error(run),
        "data_lost": data_lost,
        "detail": "" if held else " ".join(detail.split()),
    }


def _refused(folder: Path, path: Path, expected_note: str, *arguments: str) -> dict[str, Any]:
    """``--fix --unsafe-fixes`` leaves ``path``'s bytes alone and says why in a PFL000 note."""
    before = path.read_bytes()
    run = _perflint(folder, "--fix", "--unsafe-fixes", *arguments)
    out = run.stdout.decode("utf-8", "replace")
    data_lost = path.read_bytes() != before
    noted = f"PFL000 fixes not written: {expected_note}" in out
    return _outcome(
        noted and run.returncode == 1,
        run,
        data_lost,
        "the file changed" if data_lost else f"exit {run.returncode}, no note: {out.strip()[-160:]}",
    )


def read_only_file_is_not_rewritten(folder: Path) -> dict[str, Any]:
    """A read-only file with a fix to apply (rename needs only a writable folder)."""
    path = folder / "train.py"
    path.write_text(FIXABLE)
    os.chmod(path, 0o444)
    result = _refused(folder, path, "the file is read-only", "train.py")
    if stat.S_IMODE(os.stat(path).st_mode) != 0o444:
        result.update(held=False, detail="the file's mode changed")
    return result


def symbolic_link_to_a_file_outside_the_tree(folder: Path) -> dict[str, Any]:
    """A file named through a symbolic link that leads out of the folder being fixed."""
    (folder / "outside").mkdir()
    (folder / "project").mkdir()
    real = folder / "outside" / "shared.py"
    real.write_text(FIXABLE)
    (folder / "project" / "link.py").symlink_to(real)
    result = _refused(folder / "project", real, "a symbolic link leads to", "link.py")
    if not (folder / "project" / "link.py").is_symlink():
        result.update(held=False, detail="the link was replaced by a file")
    return result


def linked_folder_outside_the_tree(folder: Path) -> dict[str, Any]:
    """A folder symbolic link inside the project that leads to files outside it."""
    (folder / "outside").mkdir()
    (folder / "project").mkdir()
    real = folder / "outside" / "train.py"
    real.write_text(FIXABLE)
    (folder / "project" / "vendored").symlink_to(folder / "outside", target_is_directory=True)
    return _refused(folder / "project", real, "a symbolic link leads to", ".")


def file_with_another_hard_link(folder: Path) -> dict[str, Any]:
    """A file with two hard links: replacing it by rename would split them."""
    path = folder / "train.py"
    path.write_text(FIXABLE)
    os.link(path, folder / "alias.py")
    result = _refused(folder, path, "the file has 2 hard links", "train.py")
    if os.stat(path).st_ino != os.stat(folder / "alias.py").st_ino:
        result.update(held=False, data_lost=True, detail="the hard links were split")
    return result


def latin_1_file_fixed_on_disk_keeps_its_encoding(folder: Path) -> dict[str, Any]:
    """A file with a latin-1 coding cookie and accented bytes, fixed in place."""
    data = ("# -*- coding: latin-1 -*-\n# Données\n" + FIXABLE).encode("latin-1")
    path = folder / "train.py"
    path.write_bytes(data)
    run = _perflint(folder, "--fix", "--unsafe-fixes", "train.py")
    expected = data.replace(b"set_to_none=False", b"")
    written = path.read_bytes()
    return _outcome(
        written == expected and run.returncode == 0, run, written not in (data, expected), f"wrote {written[:60]!r}"
    )


def standard_input_in_the_files_own_encoding(folder: Path) -> dict[str, Any]:
    """Fixing standard input with a latin-1 cookie or a BOM prints the bytes the disk path writes."""
    for data in (
        ("# -*- coding: latin-1 -*-\n# Données\n" + FIXABLE).encode("latin-1"),
        ("# Données\n" + FIXABLE).encode("utf-8-sig"),
    ):
        run = _perflint(folder, "--fix", "--unsafe-fixes", "-", data=data)
        expected = data.replace(b"set_to_none=False", b"")
        if run.stdout != expected:
            return _outcome(False, run, False, f"printed {run.stdout[:60]!r}, expected {expected[:60]!r}")
    return _outcome(True, run, False, "")


def bad_profile_with_fix_writes_nothing(folder: Path) -> dict[str, Any]:
    """``--fix --profile garbage.prof``: a usage error before any file is written."""
    path = folder / "train.py"
    path.write_text(FIXABLE)
    (folder / "garbage.prof").write_bytes(b"\x00not a profile\xff")
    run = _perflint(folder, "--fix", "--unsafe-fixes", "--profile", "garbage.prof", "train.py")
    written = path.read_text() != FIXABLE
    return _outcome(
        run.returncode == 2 and not written,
        run,
        written,
        "the file was rewritten before the error" if written else f"exit {run.returncode}",
    )


def stale_temporary_files_are_swept_and_only_they(folder: Path) -> dict[str, Any]:
    """Temporary files a killed ``--fix`` left: the stale one goes, a fresh one and look-alikes stay."""
    path = folder / "train.py"
    path.write_text(FIXABLE)
    stale, fresh = folder / ".train.py.k2_9xq0a.perflint-fix", folder / ".train.py.abcdefgh.perflint-fix"
    user_file = folder / "notes.perflint-fix"
    for made in (stale, fresh, user_file):
        made.write_text("partial")
    long_ago = time.time() - 7200
    for made in (stale, user_file):
        os.utime(made, (long_ago, long_ago))
    run = _perflint(folder, "--fix", "--unsafe-fixes", "train.py")
    left = sorted(entry.name for entry in folder.iterdir())
    expected = sorted([fresh.name, user_file.name, "train.py"])
    lost = not user_file.exists() or not fresh.exists()
    return _outcome(left == expected and path.read_text() == FIXED, run, lost, f"left {left}")


def pattern_fix_keeps_every_comment(folder: Path) -> dict[str, Any]:
    """PFL403's fix on a call laid out one argument per line, comments on the kept arguments' lines."""
    source = (
        'import re\n\ndef clean(lines):\n    return [\n        re.sub(\n            r",\\s*",\n'
        '            ";",  # separator\n            line,  # each line\n            0,  # every match\n'
        "            re.M,\n        )\n        for line in lines\n    ]\n"
    )
    path = folder / "clean.py"
    path.write_text(source)
    run = _perflint(folder, "--fix", "--select", "PFL403", "clean.py")
    text = path.read_text()
    comments = [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]
    try:
        ast.parse(text)
    except SyntaxError:
        return _outcome(False, run, True, "the fixed file does not parse")
    fixed = "_COMMA_WHITESPACE_PATTERN.sub(" in text
    return _outcome(
        fixed and comments == ["separator", "each line", "every match"],
        run,
        False,
        f"fixed {fixed}, comments after the fix: {comments}",
    )


def keyword_fix_leaves_no_trailing_whitespace(folder: Path) -> dict[str, Any]:
    """A keyword added to a call split over lines (PFL207's pin_memory=True)."""
    source = (
        "from torch.utils.data import DataLoader\n\ndef train(model, ds, device):\n    loader = DataLoader(\n"
        "        ds,\n        batch_size=32\n    )\n    for x in loader:\n        model(x.to(device))\n"
    )
    path = folder / "train.py"
    path.write_text(source)
    run = _perflint(folder, "--fix", "--unsafe-fixes", "--select", "PFL207", "train.py")
    lines = path.read_text().splitlines()
    trailing = [line for line in lines if line != line.rstrip()]
    longest = max(map(len, source.splitlines()))
    fixed = "        pin_memory=True" in lines
    return _outcome(
        fixed and not trailing and max(map(len, lines)) <= longest,
        run,
        False,
        f"trailing whitespace {trailing}, fixed {fixed}",
    )


def owner_and_group_kept(folder: Path) -> dict[str, Any]:
    """A file owned by another user and group, fixed by root."""
    path = folder / "train.py"
    path.write_text(FIXABLE)
    os.chown(path, 4321, 4322)
    run = _perflint(folder, "--fix", "--unsafe-fixes", "train.py")
    owner = (os.stat(path).st_uid, os.stat(path).st_gid)
    return _outcome(owner == (4321, 4322) and path.read_text() == FIXED, run, False, f"owner and group now {owner}")


CASES = [
    read_only_file_is_not_rewritten,
    symbolic_link_to_a_file_outside_the_tree,
    linked_folder_outside_the_tree,
    file_with_another_hard_link,
    latin_1_file_fixed_on_disk_keeps_its_encoding,
    standard_input_in_the_files_own_encoding,
    bad_profile_with_fix_writes_nothing,
    stale_temporary_files_are_swept_and_only_they,
    pattern_fix_keeps_every_comment,
    keyword_fix_leaves_no_trailing_whitespace,
]
if hasattr(os, "geteuid") and os.geteuid() == 0:
    # Only root can give a file to another owner to begin with.
    CASES.append(owner_and_group_kept)
