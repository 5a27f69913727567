"""``perflint bench --compare OLD.json NEW.json``: per rule, target and size, the change and whether
it is significant."""

from __future__ import annotations

import json
import random

import pytest

from perflint.cli.main import main
from perflint.measure.compare import NOT_SIGNIFICANT, SIGNIFICANT, compare_reports
from perflint.measure.results import MEASURED, Measurement, MeasurementReport, Point


def _rounds(pattern, fix, seed, spread=0.03):
    generator = random.Random(seed)
    return tuple(
        tuple(
            (pattern * (1 + generator.uniform(-spread, spread)), fix * (1 + generator.uniform(-spread, spread)))
            for _ in range(5)
        )
        for _ in range(3)
    )


def _point(size, pattern, fix, seed, **changes):
    fields = dict(
        size=size,
        pattern_seconds=pattern,
        fix_seconds=fix,
        speedup=pattern / fix,
        speedup_low=0.97 * pattern / fix,
        speedup_high=1.03 * pattern / fix,
        samples=15,
        workers=3,
        rounds=_rounds(pattern, fix, seed),
    )
    fields.update(changes)
    return Point(**fields)


def _report(points, numpy="2.0.0", fingerprint="abc", load=0.5):
    machine = {"cpu_model": "Test CPU", "logical_cores": 8, "libraries": {"numpy": numpy}, "gpus": []}
    measurement = Measurement(
        code="PFL101",
        name="elementwise-index-loop",
        backend="array",
        library="numpy",
        device="cpu",
        status=MEASURED,
        size_unit="elements",
        points=tuple(points),
        benchmark_fingerprint=fingerprint,
    )
    return MeasurementReport(
        machine=machine,
        measurements=[measurement],
        run={"perflint_version": "0.1.0", "load_average_start": load, "load_average_end": load},
    )


def test_a_real_change_is_significant_and_noise_is_not():
    old = _report([_point(1000, 1e-3, 1e-5, 1), _point(10_000, 1e-2, 1e-4, 2)])
    new = _report([_point(1000, 1.01e-3, 1e-5, 3), _point(10_000, 1e-2, 0.5e-4, 4)], numpy="2.1.0")
    comparison = compare_reports(old, new)
    same, faster_fix = comparison.changes
    assert same.verdict == NOT_SIGNIFICANT and same.speedup_change_low < 1 < same.speedup_change_high
    assert faster_fix.verdict == SIGNIFICANT and faster_fix.speedup_change == pytest.approx(2.0)
    assert faster_fix.fix_change == pytest.approx(0.5) and faster_fix.pattern_change == pytest.approx(1.0)
    assert faster_fix.speedup_change_low > 1.5
    assert "numpy: 2.0.0 → 2.1.0" in comparison.differences
    assert "highest load average seen: 0.5 → 0.5" in comparison.differences
    assert not faster_fix.benchmark_changed and faster_fix.method == "bootstrap of the raw samples"


def test_without_raw_samples_significance_falls_back_to_overlapping_intervals():
    old = _report([_point(1000, 1e-3, 1e-5, 1, rounds=())])
    overlapping = _report([_point(1000, 1.02e-3, 1e-5, 2, rounds=())])
    apart = _report([_point(1000, 2e-3, 1e-5, 3, rounds=())])
    assert compare_reports(old, overlapping).changes[0].verdict == NOT_SIGNIFICANT
    assert compare_reports(old, apart).changes[0].verdict == SIGNIFICANT
    assert compare_reports(old, apart).changes[0].method == "overlap of the two intervals"


def test_points_in_one_run_only_and_changed_benchmarks_are_named():
    old = _report([_point(1000, 1e-3, 1e-5, 1), _point(10_000, 1e-2, 1e-4, 2)])
    new = _report([_point(1000, 1e-3, 1e-5, 3), _point(100_000, 1e-1, 1e-3, 4)], fingerprint="def")
    comparison = compare_reports(old, new)
    assert comparison.only_old == ["PFL101 numpy/cpu at 10,000"]
    assert comparison.only_new == ["PFL101 numpy/cpu at 100,000"]
    assert comparison.changes[0].benchmark_changed


def test_bench_compare_prints_a_table_and_json(tmp_path, capsys):
    old_path, new_path = tmp_path / "old.json", tmp_path / "new.json"
    old_path.write_text(json.dumps(_report([_point(1000, 1e-3, 1e-5, 1)]).to_dict()))
    new_path.write_text(
        json.dumps(_report([_point(1000, 1e-3, 0.5e-5, 2, flags=("machine loaded",))], numpy="2.1.0").to_dict())
    )
    assert main(["bench", "--compare", str(old_path), str(new_path)]) == 0
    text = capsys.readouterr().out
    for expected in ("numpy: 2.0.0 → 2.1.0", "PFL101", "100x → 200x", "+100%", "significant (flagged)"):
        assert expected in text, expected
    assert main(["bench", "--compare", str(old_path), str(new_path), "--output-format", "json"]) == 0
    [change] = json.loads(capsys.readouterr().out)["changes"]
    assert change["verdict"] == SIGNIFICANT and change["flagged"] and change["speedup_change"] == pytest.approx(2.0)


def test_bench_compare_refuses_a_file_that_is_not_a_saved_run(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["bench", "--compare", str(bad), str(bad)]) == 2
    assert "is not a `perflint bench --output-format json` result" in capsys.readouterr().err
    assert main(["bench", "--compare", str(tmp_path / "missing.json"), str(bad)]) == 2
    assert "cannot read" in capsys.readouterr().err
