"""The content-hash findings cache."""

from __future__ import annotations

import os

from perflint.cache import Cache, build_fingerprint, entry_key
from perflint.engine.findings import Finding


def _finding(path="a.py"):
    return Finding(code="PFL401", name="loop-invariant-expensive-call", message="m", path=path,
                   line=3, column=9, end_line=3, end_column=25)


def test_key_depends_on_build_codes_and_bytes_only():
    base = entry_key("build", ["PFL401", "PFL101"], b"x = 1\n")
    assert base == entry_key("build", ["PFL101", "PFL401"], b"x = 1\n")  # code order is irrelevant
    assert base != entry_key("other build", ["PFL101", "PFL401"], b"x = 1\n")
    assert base != entry_key("build", ["PFL401"], b"x = 1\n")
    assert base != entry_key("build", ["PFL101", "PFL401"], b"x = 2\n")
    assert len(build_fingerprint()) == 64


def test_stored_findings_come_back_at_the_path_asked_for(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    key = cache.key(["PFL401"], b"data")
    assert cache.load(key, "a.py") is None
    cache.store(key, [_finding("a.py")])
    assert cache.load(key, "copy/b.py") == [_finding("copy/b.py")]
    assert Cache(str(tmp_path / ".perflint_cache")).load(key, "a.py") == [_finding("a.py")]  # a later run reads it
    cache.store(cache.key([], b"clean"), [])
    assert cache.load(cache.key([], b"clean"), "c.py") == []


def test_cache_folder_is_git_ignored_and_holds_no_temporary_files(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    cache.store(cache.key(["PFL401"], b"data"), [_finding()])
    base = tmp_path / ".perflint_cache"
    assert (base / ".gitignore").read_text().splitlines()[-1] == "*"
    assert [name for name in os.listdir(cache.directory) if not name.endswith(".json")] == []


def test_corrupt_entry_is_a_miss_and_is_rewritten(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    key = cache.key(["PFL401"], b"data")
    cache.store(key, [_finding()])
    entry = os.path.join(cache.directory, f"{key}.json")
    for garbage in ('{"findings": [{"code": 1}]}', "{not json", '["a list"]', ""):
        with open(entry, "w") as stream:
            stream.write(garbage)
        assert cache.load(key, "a.py") is None
    cache.store(key, [_finding()])
    assert cache.load(key, "a.py") == [_finding()]


def test_a_new_build_removes_the_entries_of_old_builds(tmp_path):
    stale = tmp_path / ".perflint_cache" / ("0" * 16)
    stale.mkdir(parents=True)
    (stale / "entry.json").write_text("{}")
    cache = Cache(str(tmp_path / ".perflint_cache"))
    cache.store(cache.key([], b""), [])
    assert not stale.exists()
    assert os.path.isdir(cache.directory)
