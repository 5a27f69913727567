"""Tests of findings_identical.py: each tree's own perflint is the one that lints."""

import json
import sys

import findings_identical


def fake_tree(folder, code):
    """A stand-in for a perflint checkout whose `check` reports one finding of ``code``."""
    package = folder / "perflint"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "__main__.py").write_text(f"print({json.dumps(json.dumps({'findings': [{'code': code}]}))})\n")
    return folder


def compare(monkeypatch, before, after, path):
    monkeypatch.setattr(sys, "argv", ["findings_identical.py", str(before), str(after), str(path)])
    return findings_identical.main()


def test_two_trees_that_report_differently_are_different_even_from_inside_one_of_them(tmp_path, monkeypatch, capsys):
    before = fake_tree(tmp_path / "before", "PFL101")
    after = fake_tree(tmp_path / "after", "PFL102")
    monkeypatch.chdir(before)
    assert compare(monkeypatch, before, after, "src") == 1
    printed = capsys.readouterr().out
    assert '- {"code": "PFL101"}' in printed
    assert '+ {"code": "PFL102"}' in printed


def test_a_tree_against_itself_is_identical(tmp_path, monkeypatch, capsys):
    tree = fake_tree(tmp_path / "tree", "PFL101")
    assert compare(monkeypatch, tree, tree, "src") == 0
    assert capsys.readouterr().out.endswith("identical\n")
