"""lint_throughput_compare.py runs both trees' lint_throughput rounds in one process."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_tree_twice_gives_the_same_findings_and_a_median_for_each_side():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "lint_throughput_compare.py"), ROOT, ROOT, ROOT / "examples"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    rounds = [line for line in result.stdout.splitlines() if line.startswith("round ")]
    assert len(rounds) == 3
    for line in rounds:
        counts = dict(re.findall(r"(\w+/\w+) parse [\d.]+ s, lint [\d.]+ s \((\d+) findings\)", line))
        assert counts["before/default"] == counts["after/default"]
        assert counts["before/ALL"] == counts["after/ALL"]
        assert int(counts["before/ALL"]) > int(counts["before/default"]) > 0
    medians = re.findall(r"median lint/parse, (\w+) rules, (\w+): ([\d.]+)", result.stdout)
    assert {(label, side) for label, side, _ in medians} == {
        ("default", "before"),
        ("default", "after"),
        ("ALL", "before"),
        ("ALL", "after"),
    }
