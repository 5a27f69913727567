"""Would repetition evidence make opt-in findings worth showing? Join a round's held-out verdicts
to a fresh lint of the same code and split them by whether the finding carries the engine's
evidence that its code repeats (``Finding.evidence``: a training step, a per-batch call).

    python benchmarks/evidence_gating.py ROUND LINT.json [LINT.json ...]

LINT.json: ``perflint check --select ALL --output-format json`` of the round's held-out code
bases (a JSON object with ``findings``, or ``{archive: [findings]}`` as the corpus linting
writes), paths relative to each code base. Verdicts are read from
``benchmarks/results/precision/round<ROUND>/heldout_verdicts_r*.md``. A verdict whose finding is
no longer reported is counted as gone.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "precision"
VERDICTS = ("worth", "not worth", "wrong")


def findings_of(paths: list[Path]) -> dict[tuple[str, str, int], dict]:
    found = {}
    for path in paths:
        data = json.loads(path.read_text())
        groups = [data["findings"]] if "findings" in data else list(data.values())
        for group in groups:
            for finding in group:
                found[(finding["code"], finding["path"], finding["line"])] = finding
    return found


def verdicts_of(round_number: int, results: Path = RESULTS) -> dict[tuple[str, str, int], str]:
    verdicts = {}
    for sheet in sorted((results / f"round{round_number}").glob("heldout_verdicts_r*.md")):
        for line in sheet.read_text().splitlines():
            cells = [cell.strip() for cell in line.split("|")]
            if len(cells) < 7 or not re.fullmatch(r"PFL\d+", cells[2]) or ":" not in cells[4]:
                continue
            path, _, number = cells[4].strip("`").rpartition(":")
            verdict = cells[5].strip("* ").lower()
            if verdict in VERDICTS and number.isdigit():
                verdicts[(cells[2], path, int(number))] = verdict
    return verdicts


def split(
    found: dict[tuple[str, str, int], dict], verdicts: dict[tuple[str, str, int], str]
) -> dict[str, Counter[str]]:
    """Verdicts counted by whether their finding carries repetition evidence, or is gone."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    for key, verdict in verdicts.items():
        finding = found.get(key)
        group = "gone" if finding is None else ("with evidence" if finding.get("evidence") else "without evidence")
        table[group][verdict] += 1
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("round", type=int)
    parser.add_argument("lints", type=Path, nargs="+")
    args = parser.parse_args()
    verdicts = verdicts_of(args.round)
    table = split(findings_of(args.lints), verdicts)
    print(f"Round {args.round}: {len(verdicts)} verdicts")
    print("| Findings | Worth | Not worth | Wrong |")
    print("| --- | --- | --- | --- |")
    for group in ("with evidence", "without evidence", "gone"):
        counts = table[group]
        print(f"| {group} | " + " | ".join(str(counts[verdict]) for verdict in VERDICTS) + " |")


if __name__ == "__main__":
    main()
