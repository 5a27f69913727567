"""The content-hash findings cache: what its key holds, what it may touch, and what it trusts."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest

from perflint.cache import (
    CACHE_TAG,
    Cache,
    ForeignCacheFolderError,
    build_fingerprint,
    claim_cache_folder,
    entry_key,
    is_perflint_cache_folder,
    seal_record,
    task_cache_key,
)
from perflint.engine.findings import Edit, Finding, SuggestedFix
from perflint.files import SourceFile
from perflint.runner import LintTask


def _finding(path="a.py"):
    return Finding(
        code="PFL401",
        name="loop-invariant-expensive-call",
        message="m",
        path=path,
        line=3,
        column=9,
        end_line=3,
        end_column=25,
        fix=SuggestedFix("unsafe", "hoist it", (Edit(3, 9, 3, 25, "inv_A"),)),
    )


def _task(path, codes=("PFL401",)):
    return LintTask(SourceFile(path, os.path.abspath(path)), tuple(codes))


def test_key_depends_on_build_codes_path_facts_and_bytes():
    base = entry_key("build", ["PFL401", "PFL101"], b"x = 1\n")
    assert base == entry_key("build", ["PFL101", "PFL401"], b"x = 1\n")  # code order is irrelevant
    assert base != entry_key("other build", ["PFL101", "PFL401"], b"x = 1\n")
    assert base != entry_key("build", ["PFL401"], b"x = 1\n")
    assert base != entry_key("build", ["PFL101", "PFL401"], b"x = 2\n")
    assert base != entry_key("build", ["PFL101", "PFL401"], b"x = 1\n", [["test code", True]])
    assert len(build_fingerprint()) == 64


def test_the_task_key_tells_test_code_and_notebooks_apart_but_not_file_names():
    data = b"import torch\ntorch.autograd.set_detect_anomaly(True)\n"
    assert task_cache_key(_task("train.py"), data) == task_cache_key(_task("src/other.py"), data)
    assert task_cache_key(_task("train.py"), data) != task_cache_key(_task("test_train.py"), data)
    assert task_cache_key(_task("train.py"), data) != task_cache_key(_task("tests/train.py"), data)
    assert task_cache_key(_task("nb.py"), data) != task_cache_key(_task("nb.ipynb"), data)
    assert task_cache_key(_task("train.py"), data) != task_cache_key(_task("train.py", ("PFL402",)), data)


def test_stored_findings_come_back_at_the_path_asked_for(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    key = cache.key(["PFL401"], b"data")
    assert cache.load(key, "a.py") is None
    cache.store(key, [_finding("a.py")])
    assert cache.load(key, "copy/b.py") == [_finding("copy/b.py")]
    assert Cache(str(tmp_path / ".perflint_cache")).load(key, "a.py") == [_finding("a.py")]  # a later run reads it
    cache.store(cache.key([], b"clean"), [])
    assert cache.load(cache.key([], b"clean"), "c.py") == []
    sized = replace(_finding("a.py"), size=1_000)
    cache.store(cache.key(["PFL401"], b"sized"), [sized])
    assert cache.load(cache.key(["PFL401"], b"sized"), "a.py") == [sized]


def test_the_cache_folder_is_marked_as_perflints_and_git_ignored_inside_only(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    cache.store(cache.key(["PFL401"], b"data"), [_finding()])
    base = tmp_path / ".perflint_cache"
    assert (base / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (base / CACHE_TAG).read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    assert is_perflint_cache_folder(str(base))
    assert sorted(os.listdir(tmp_path)) == [".perflint_cache"]  # nothing written beside it
    assert [name for name in os.listdir(cache.directory) if not name.endswith(".json")] == []


def test_a_cache_dir_that_is_not_perflints_is_refused_and_left_untouched(tmp_path):
    # The folder a user named as the cache: their project, with a 16-character folder in it.
    (tmp_path / "data_preparation").mkdir()
    (tmp_path / "data_preparation" / "steps.py").write_text("x = 1\n")
    (tmp_path / "main.py").write_text("x = 2\n")
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ForeignCacheFolderError, match="not empty and not perflint's"):
        claim_cache_folder(str(tmp_path))
    with pytest.raises(ForeignCacheFolderError):
        Cache(str(tmp_path)).store("0" * 64, [])
    assert sorted(os.listdir(tmp_path)) == before
    assert (tmp_path / "data_preparation" / "steps.py").read_text() == "x = 1\n"


def test_another_tools_tagged_cache_is_not_perflints(tmp_path):
    (tmp_path / CACHE_TAG).write_text("Signature: 8a477f597d28d172789f06886806bc55\n# created by pytest\n")
    (tmp_path / "v").mkdir()
    with pytest.raises(ForeignCacheFolderError):
        claim_cache_folder(str(tmp_path))


def test_a_folder_holding_only_a_users_gitignore_is_not_taken(tmp_path):
    (tmp_path / ".gitignore").write_text("*.pyc\n")
    with pytest.raises(ForeignCacheFolderError):
        claim_cache_folder(str(tmp_path))
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\n"


def test_an_empty_or_missing_cache_dir_is_created_and_marked(tmp_path):
    (tmp_path / "empty").mkdir()
    claim_cache_folder(str(tmp_path / "empty"))
    claim_cache_folder(str(tmp_path / "new" / "nested"))
    assert is_perflint_cache_folder(str(tmp_path / "empty"))
    assert is_perflint_cache_folder(str(tmp_path / "new" / "nested"))
    claim_cache_folder(str(tmp_path / "empty"))  # marked already: accepted as it is


def test_a_cache_written_before_the_tag_is_adopted(tmp_path):
    base = tmp_path / ".perflint_cache"
    (base / "0123456789abcdef").mkdir(parents=True)
    (base / "measurements").mkdir()
    (base / ".gitignore").write_text("# Created by perflint: the cache is never committed.\n*\n")
    claim_cache_folder(str(base))
    assert is_perflint_cache_folder(str(base))


def test_a_new_build_removes_only_old_build_folders_of_a_marked_cache(tmp_path):
    base = tmp_path / ".perflint_cache"
    claim_cache_folder(str(base))
    stale = base / ("0" * 16)
    stale.mkdir()
    (stale / "entry.json").write_text("{}")
    (base / "measurements").mkdir()
    cache = Cache(str(base))
    cache.store(cache.key([], b""), [])
    assert not stale.exists()
    assert (base / "measurements").is_dir()
    assert os.path.isdir(cache.directory)


def _rewrite(path, record):
    with open(path, "w") as stream:
        json.dump(record, stream)


@pytest.mark.parametrize(
    "change",
    [
        lambda item: item.update(line="six"),
        lambda item: item.update(code=5),
        lambda item: item.update(line=True),
        lambda item: item.update(column=0),
        lambda item: item.update(extra="field"),
        lambda item: item["fix"].update(applicability="maybe"),
        lambda item: item["fix"]["edits"][0].update(content=None),
        lambda item: item.pop("end_line"),
        lambda item: item.update(size=-1),
        lambda item: item.update(size="1k"),
    ],
)
def test_a_finding_with_a_wrong_field_is_a_miss_even_with_a_matching_checksum(tmp_path, change):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    key = cache.key(["PFL401"], b"data")
    cache.store(key, [_finding()])
    entry = os.path.join(cache.directory, f"{key}.json")
    with open(entry) as stream:
        payload = json.load(stream)["payload"]
    change(payload["findings"][0])
    _rewrite(entry, seal_record(payload))
    assert cache.load(key, "a.py") is None


def test_corrupt_or_edited_entries_are_misses_and_are_rewritten(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    key = cache.key(["PFL401"], b"data")
    cache.store(key, [_finding()])
    entry = os.path.join(cache.directory, f"{key}.json")
    with open(entry) as stream:
        good = json.load(stream)
    other_key = cache.key(["PFL401"], b"other data")
    garbage = [
        '{"findings": [{"code": 1}]}',
        "{not json",
        '["a list"]',
        "",
        "[" * 100_000,
        json.dumps({"findings": []}),  # the old format's shape: would drop the file's findings
        json.dumps({**good, "payload": {**good["payload"], "findings": []}}),  # edited: checksum fails
        json.dumps(seal_record({"key": other_key, "findings": []})),  # another file's entry
    ]
    for text in garbage:
        with open(entry, "w") as stream:
            stream.write(text)
        assert cache.load(key, "a.py") is None
    cache.store(key, [_finding()])
    assert cache.load(key, "a.py") == [_finding()]


class _Rule:
    def __init__(self, code, name, default_enabled=True):
        self.code, self.name, self.default_enabled = code, name, default_enabled


def test_a_corrupt_rule_index_is_not_trusted(tmp_path):
    cache = Cache(str(tmp_path / ".perflint_cache"))
    cache.store_rule_index([_Rule("PFL401", "loop-invariant-expensive-call"), _Rule("PFL101", "x", False)])
    assert [entry.code for entry in cache.rule_index()] == ["PFL401", "PFL101"]
    index = os.path.join(cache.directory, "rules.json")
    for record in (
        {"rules": []},
        seal_record({"rules": []}),
        seal_record({"rules": [["PFL401", "n", "yes"]]}),
        seal_record({"rules": [["PFL401", "n", True], ["PFL401", "n", True]]}),
        seal_record({"rules": [[401, "n", True]]}),
        {"rules": [["PFL401", "n", True]]},
    ):
        _rewrite(index, record)
        assert cache.rule_index() is None


def test_the_measurement_cache_writes_only_in_a_folder_that_is_perflints(tmp_path):
    from perflint.measure.cache import MeasurementCache
    from perflint.measure.results import SKIPPED, Measurement

    skipped = Measurement(code="PFL401", backend="numpy", library="numpy", device="cpu", status=SKIPPED, reason="r")
    (tmp_path / "project" / "src").mkdir(parents=True)
    foreign = MeasurementCache(str(tmp_path), folder=str(tmp_path / "project"))
    foreign.store("k" * 64, skipped)
    assert sorted(os.listdir(tmp_path / "project")) == ["src"]
    ours = MeasurementCache(str(tmp_path), folder=str(tmp_path / "cache"))
    ours.store("k" * 64, skipped)
    assert is_perflint_cache_folder(str(tmp_path / "cache"))
    assert ours.load("k" * 64).reason == "r" and ours.load("k" * 64).cached
    entry = tmp_path / "cache" / "measurements" / ("k" * 64 + ".json")
    entry.write_text(entry.read_text().replace('"r"', '"edited"'))
    assert ours.load("k" * 64) is None  # its checksum no longer matches
