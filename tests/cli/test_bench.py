"""perflint/cli/bench.py: the ``perflint bench`` command."""

from __future__ import annotations

import json

import pytest

from perflint.cli.main import main
from perflint.measure import harness
from perflint.measure.harness import TimingPolicy
from tests.measure import workloads


def _fast_policy(monkeypatch):
    fast = TimingPolicy(
        min_sample_seconds=0.001, warmup_samples=0, samples=3, workers=2, time_budget_seconds=0.5, extra_workers=0
    )
    monkeypatch.setattr(harness, "BENCH_POLICY", fast)
    monkeypatch.setattr(harness, "QUICK_POLICY", fast)


@pytest.mark.slow
def test_bench_json_measures_the_named_rule_at_the_given_sizes(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--sizes", "4,16", "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"machine", "measurements", "run"}
    assert data["run"]["command_line"] == ["perflint", "bench", "PFL401", "--sizes", "4,16", "--output-format", "json"]
    assert data["run"]["perflint_version"] and "load_average_start" in data["run"]
    assert isinstance(data["machine"]["gpus"], list) and data["machine"]["fingerprint"]
    cpu, *others = data["measurements"]
    assert cpu["code"] == "PFL401" and cpu["library"] == "numpy"
    assert cpu["status"] == "measured" and [point["size"] for point in cpu["points"]] == [4, 16]
    for point in cpu["points"]:
        assert point["pattern_seconds"] > 0 and point["fix_seconds"] > 0
        assert point["speedup"] == pytest.approx(point["pattern_seconds"] / point["fix_seconds"])
        low, high = point["speedup_interval"]
        assert low <= point["speedup"] <= high
    assert all(other["status"] == "skipped" and "points" not in other for other in others if other["device"] != "cpu")


@pytest.mark.slow
def test_bench_quick_measures_only_the_middle_size(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--quick", "--output-format", "json"]) == 0
    [cpu] = [m for m in json.loads(capsys.readouterr().out)["measurements"] if m["device"] == "cpu"]
    assert [point["size"] for point in cpu["points"]] == [32]


def test_bench_selects_by_prefix_passes_options_and_prints_a_table(monkeypatch, capsys):
    chosen = []

    def fake_measure_rules(rules, sizes, policy, quick, progress, command_line):
        assert policy.threads == 1 and command_line[:3] == ["perflint", "bench", "PFL4"]
        assert sizes == [10, 1000] and policy.samples == 5 and not quick and progress is None
        chosen.extend(rule.code for rule in rules)
        return workloads.sample_report()

    monkeypatch.setattr(harness, "measure_rules", fake_measure_rules)
    assert main(["bench", "PFL4", "PFL101", "--sizes", "1000,10", "--repeat", "5"]) == 0
    assert chosen[0] == "PFL101" and "PFL401" in chosen
    assert all(code == "PFL101" or code.startswith("PFL4") for code in chosen)
    output = capsys.readouterr().out
    assert "143x" in output and "Test CPU 9000" in output and "\x1b" not in output


@pytest.mark.slow
def test_bench_writes_a_self_contained_html_report(monkeypatch, capsys, tmp_path):
    _fast_policy(monkeypatch)
    path = tmp_path / "report.html"
    assert main(["bench", "PFL401", "--sizes", "2,4,8", "--report", str(path)]) == 0
    page = path.read_text(encoding="utf-8")
    assert page.count("<svg") == 2 and "<polyline" in page and "<circle" in page
    assert "PFL401" in page and "Expensive linear-algebra call" in page
    assert "<script" not in page and "http://" not in page and "https://" not in page


@pytest.mark.slow
def test_bench_threads_limit_the_workers_pools_and_the_run_records_the_threads_in_use(monkeypatch, capsys):
    _fast_policy(monkeypatch)
    assert main(["bench", "PFL401", "--sizes", "4", "--threads", "1", "--output-format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    used = data["run"]["threads_used"]
    assert used["requested"] == 1 and used["pools"] and all(pool["threads"] == 1 for pool in used["pools"])
    assert all(blas["threads"] == 1 for blas in data["machine"]["blas"])


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["PFL9"], "PFL9"),
        (["PFL401", "--sizes", "0,4"], "--sizes"),
        (["PFL401", "--sizes", "four"], "--sizes"),
        (["PFL401", "--repeat", "1"], "--repeat"),
        (["PFL401", "--threads", "0"], "--threads"),
        (["PFL401", "--workers", "1"], "--workers"),
        (["PFL401", "--repeat", "2", "--workers", "2"], "--repeat x --workers"),
    ],
)
def test_bench_rejects_an_unknown_code_or_bad_numbers(capsys, arguments, message):
    assert main(["bench", *arguments]) == 2
    assert message in capsys.readouterr().err
