"""perflint/output/common.py: what the formats share (paths relative to the repository)."""

from __future__ import annotations

import json

from tests.output.reports import invariant_call, render


def test_github_and_sarif_paths_are_relative_with_forward_slashes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    finding = invariant_call(str(tmp_path / "pkg" / "model.py"), 1, 1, 2)
    assert "file=pkg/model.py," in render([finding], "github")
    location = json.loads(render([finding], "sarif"))["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "pkg/model.py", "uriBaseId": "%SRCROOT%"}
