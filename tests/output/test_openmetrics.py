"""The ``openmetrics`` format, read back with prometheus_client's own OpenMetrics parser."""

from __future__ import annotations

import io

import pytest

from perflint.cli.main import main
from perflint.engine.findings import Finding
from perflint.output.openmetrics import path_prefix, write_check_metrics

parser = pytest.importorskip("prometheus_client.openmetrics.parser")


def _parse(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in parser.text_string_to_metric_families(text)}


def _finding(code: str, name: str, path: str) -> Finding:
    return Finding(code=code, name=name, message="m", path=path, line=1, column=1, end_line=1, end_column=2)


def test_check_metrics_count_findings_per_rule_and_path_prefix():
    findings = [
        _finding("PFL101", "elementwise-index-loop", "src/models/vit/attention.py"),
        _finding("PFL101", "elementwise-index-loop", "src/models/resnet.py"),
        _finding("PFL201", "create-then-move", 'src/data/we"ird.py'),
        _finding("PFL101", "elementwise-index-loop", "train.py"),
    ]
    stream = io.StringIO()
    write_check_metrics(findings, stream, files_checked=7)
    families = _parse(stream.getvalue())
    counts = {
        (sample.labels["code"], sample.labels["path_prefix"]): sample.value for sample in families["perflint_findings"]
    }
    assert counts == {("PFL101", "src/models"): 2, ("PFL101", "."): 1, ("PFL201", "src/data"): 1}
    assert [sample.value for sample in families["perflint_files_checked"]] == [7]


def test_path_prefix_keeps_the_first_folders():
    assert path_prefix("a/b/c/d.py") == "a/b"
    assert path_prefix("a/d.py") == "a"
    assert path_prefix("d.py") == "."


@pytest.mark.slow
def test_bench_metrics_carry_each_measured_size_and_the_machine(capsys):
    assert main(["bench", "PFL101", "PFL201", "--quick", "--output-format", "openmetrics"]) == 0
    families = _parse(capsys.readouterr().out)
    speedups = families["perflint_speedup"]
    assert speedups and {sample.labels["code"] for sample in speedups} == {"PFL101"}
    sample = speedups[0]
    assert sample.value > 0
    assert sample.labels["backend"] and sample.labels["device"] == "cpu" and int(sample.labels["size"]) > 0
    assert len(sample.labels["machine"]) == 12 and sample.labels["cpu"]
    assert {s.labels["size"] for s in families["perflint_pattern_seconds"]} == {s.labels["size"] for s in speedups}


def test_check_writes_openmetrics_for_a_textfile_collector(capsys):
    example = __file__.rsplit("/tests/", 1)[0] + "/examples/profile_guided.py"
    assert main(["check", "--no-cache", "--output-format", "openmetrics", example]) == 1
    families = _parse(capsys.readouterr().out)
    assert [(sample.labels["code"], sample.value) for sample in families["perflint_findings"]] == [("PFL101", 2)]
    assert [sample.value for sample in families["perflint_files_checked"]] == [1]
