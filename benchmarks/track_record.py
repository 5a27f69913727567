"""Match today's findings on review sets against every verdict recorded on them, per rule.

Reviews of code the rules were not tuned on (held-out sets, first reads of development sets) record
a verdict per finding: `worth`, `not worth` or `wrong`, with the file and line. The archives are
fixed, so a finding perflint reports today at the same code base, file, line and rule is the one
that verdict is about. ``collect`` reads the reviews' Markdown tables (rows naming a rule, a
``path.py:LINE`` and a verdict) into one CSV, adding rows transcribed by hand from reviews written
as prose; ``match`` reads review sheets of today's findings (as ``precision_review.py --select ALL``
writes them, one per set) and counts, per rule, the findings worth fixing, not worth it, wrong, and
unread (no review recorded a verdict on them); ``decide`` prints every default-on rule's record as
read and what round 11's criterion (``record_decision``) makes of it.

    python benchmarks/track_record.py collect VERDICTS.csv --by-hand BY_HAND.csv \
        --review round1/heldout=benchmarks/results/precision/heldout.md ...
    python benchmarks/track_record.py match VERDICTS.csv round1/heldout=SHEET.md ... --output TRACK.md
    python benchmarks/track_record.py decide VERDICTS.csv
"""

from __future__ import annotations

import argparse
import csv
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

VERDICTS = ("worth", "not worth", "wrong")
TARGET_PRECISION = 0.9
REJECTION_LEVEL = 0.05
COLUMNS = ("set", "codebase", "path", "line", "rule", "verdict", "reason", "source")
RULE = re.compile(r"\bPFL\d{3}\b")
LOCATION = re.compile(r"([\w./+-]+\.(?:py|ipynb)):(\d+(?:\s*(?:,|/|-|–|and)\s*\d+)*)")
SAME_AS = re.compile(r"^Same as #(\d+)")
SHEET_ARCHIVE = re.compile(r"^## (\S+)$")
SHEET_FINDING = re.compile(r"^### (PFL\d{3}) (\S+):(\d+)$")


@dataclass(frozen=True)
class Finding:
    set: str
    archive: str
    path: str
    line: int
    rule: str


def lines_of(spec: str) -> list[int]:
    """The lines a location names: ``12``, ``12, 14``, ``338/339``, ``156-168`` (a range)."""
    lines: list[int] = []
    for part in re.split(r"\s*(?:,|/|and)\s*", spec):
        bounds = re.split(r"\s*[-–]\s*", part)
        if len(bounds) == 2:
            lines.extend(range(int(bounds[0]), int(bounds[1]) + 1))
        else:
            lines.append(int(bounds[0]))
    return lines


def table_verdicts(text: str, review_set: str, source: str) -> list[dict[str, str]]:
    """Every verdict in the Markdown table rows of one review: a row with a rule, a verdict cell and
    one or more ``path.py:LINE`` locations (``Same as #N`` reasons take row N's reason)."""
    rows: list[dict[str, str]] = []
    reasons: dict[str, str] = {}
    for row in text.splitlines():
        if not row.startswith("|"):
            continue
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        verdicts = [cell for cell in cells if cell in VERDICTS]
        rules = RULE.findall(cells[1] if cells[0].isdigit() else cells[0])
        if len(verdicts) != 1 or len(rules) != 1:
            continue
        verdict_index = cells.index(verdicts[0])
        reason = cells[-1]
        same = SAME_AS.match(reason)
        if same and same.group(1) in reasons:
            reason = f"{reason} {reasons[same.group(1)]}"
        if cells[0].isdigit():
            reasons[cells[0]] = reason
        located = cells[1:verdict_index] if cells[0].isdigit() else cells[:verdict_index]
        codebase = ""
        for cell in located:
            if LOCATION.search(cell):
                before_quote = cell.split("`")[0].strip() if "`" in cell else ""
                if not LOCATION.search(before_quote):
                    codebase = codebase or before_quote
                for path, spec in LOCATION.findall(cell):
                    rows += [
                        dict(
                            zip(COLUMNS, (review_set, codebase, path, str(line), rules[0], verdicts[0], reason, source))
                        )
                        for line in lines_of(spec)
                    ]
            elif not RULE.search(cell) and not cell.isdigit():
                codebase = cell
    return rows


def read_sheet(text: str, review_set: str) -> list[Finding]:
    """The findings of a review sheet written by ``precision_review.py``."""
    findings: list[Finding] = []
    archive = ""
    for row in text.splitlines():
        if heading := SHEET_ARCHIVE.match(row):
            archive = heading.group(1)
        elif finding := SHEET_FINDING.match(row):
            rule, path, line = finding.groups()
            findings.append(Finding(review_set, archive, path, int(line), rule))
    return findings


def normalised(name: str) -> str:
    return name.lower().replace("-", "_")


def is_about(verdict: dict[str, str], finding: Finding) -> bool:
    """Whether a recorded verdict is about this finding: same set, rule and line, a path the finding's
    path ends with, and the code base it names (a verdict naming no line or no path covers them all)."""
    if verdict["set"] != finding.set or verdict["rule"] != finding.rule:
        return False
    if verdict["line"] and int(verdict["line"]) != finding.line:
        return False
    path = verdict["path"]
    if path and not (finding.path == path or finding.path.endswith("/" + path)):
        return False
    codebase = verdict["codebase"].split(" ")[0] if verdict["codebase"] else ""
    return normalised(finding.archive).startswith(normalised(codebase))


def match(verdicts: list[dict[str, str]], findings: list[Finding]) -> list[tuple[Finding, dict[str, str] | None]]:
    """Each finding with the last recorded verdict about it (verdicts are listed oldest first), or
    None when no review read it."""
    by_key: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for verdict in verdicts:
        by_key[verdict["set"], verdict["rule"]].append(verdict)
    matched = []
    for finding in findings:
        about = [verdict for verdict in by_key[finding.set, finding.rule] if is_about(verdict, finding)]
        matched.append((finding, about[-1] if about else None))
    return matched


def tally(matched: list[tuple[Finding, dict[str, str] | None]]) -> dict[str, Counter[str]]:
    """Per rule: how many current findings are worth, not worth, wrong or unread."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for finding, verdict in matched:
        counts[finding.rule][verdict["verdict"] if verdict else "unread"] += 1
    return counts


def chance_of_so_few_worth(worth: int, read: int) -> float:
    """How likely a rule whose findings are 90% worth fixing gives at most `worth` of `read`."""
    return sum(
        math.comb(read, k) * TARGET_PRECISION**k * (1 - TARGET_PRECISION) ** (read - k) for k in range(worth + 1)
    )


def record_decision(worth: int, read: int) -> str:
    """Round 11's criterion: a default-on rule stays on unless its record rejects the 90% target.

    It is rejected when at most `worth` of `read` would happen less than 5% of the time to a rule
    whose findings are 90% worth fixing (a one-sided binomial test): 0 of 2 rejects it (1%);
    0 of 1 (10%), 2 of 4 (5.2%) and 8 of 10 (26%) do not.
    """
    if not read:
        return "keep default-on: never read on unseen code"
    summary = f"{worth}/{read} worth"
    chance = chance_of_so_few_worth(worth, read)
    if chance < REJECTION_LEVEL:
        return f"opt-in ({summary}: {100 * chance:.1f}% at 90% precision)"
    if worth >= TARGET_PRECISION * read:
        return f"keep default-on ({summary})"
    return f"keep default-on: too little evidence ({summary}: {100 * chance:.0f}% at 90% precision)"


def recommendation(counts: Counter[str]) -> str:
    """For today's findings: a wrong one still reported makes the rule opt-in (the issue's 0 wrong)."""
    read = counts["worth"] + counts["not worth"] + counts["wrong"]
    if counts["wrong"]:
        return f"opt-in ({counts['worth']}/{read} worth, {counts['wrong']} wrong)"
    return record_decision(counts["worth"], read)


def decisions(verdicts: list[dict[str, str]], default_on: set[str]) -> str:
    """Every default-on rule's record as read (wrong findings fixed since count against it)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for verdict in verdicts:
        counts[verdict["rule"]][verdict["verdict"]] += 1
    table = [
        "| Rule | Read | Worth | Not worth | Wrong | Chance at 90% precision | Decision |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for rule in sorted(default_on):
        rule_counts = counts[rule]
        read = sum(rule_counts[verdict] for verdict in VERDICTS)
        chance = chance_of_so_few_worth(rule_counts["worth"], read)
        table.append(
            f"| {rule} | {read} | {rule_counts['worth']} | {rule_counts['not worth']} | {rule_counts['wrong']} "
            f"| {100 * chance:.1f}% | {record_decision(rule_counts['worth'], read)} |"
        )
    return "\n".join(table)


def share(counts: Counter[str]) -> str:
    read = counts["worth"] + counts["not worth"] + counts["wrong"]
    return f"{100 * counts['worth'] / read:.0f}%" if read else "–"


def write_csv(rows: list[dict[str, str]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def report(matched: list[tuple[Finding, dict[str, str] | None]], default_on: set[str]) -> str:
    counts = tally(matched)
    order = sorted(counts, key=lambda rule: (rule not in default_on, rule))
    table = [
        "| Rule | Default | Findings | Worth | Not worth | Wrong | Unread | Worth among read | Recommendation |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for rule in order:
        rule_counts = counts[rule]
        table.append(
            f"| {rule} | {'on' if rule in default_on else 'opt-in'} | {sum(rule_counts.values())} "
            f"| {rule_counts['worth']} | {rule_counts['not worth']} | {rule_counts['wrong']} | {rule_counts['unread']} "
            f"| {share(rule_counts)} | {recommendation(rule_counts) if rule in default_on else ''} |"
        )
    details = ["", "## Every current finding a review read, by rule", ""]
    for rule in order:
        read = [(finding, verdict) for finding, verdict in matched if finding.rule == rule and verdict]
        if read:
            details.append(f"### {rule}\n")
            details += [
                f"- {verdict['verdict']}: {finding.set} {finding.archive} `{finding.path}:{finding.line}` "
                f"({verdict['source']}): {verdict['reason']}"
                for finding, verdict in sorted(read, key=lambda pair: (pair[1]["verdict"], pair[0].set, pair[0].path))
            ]
            details.append("")
    unread = sorted(
        (finding.rule, finding.set, finding.archive, finding.path, finding.line)
        for finding, verdict in matched
        if verdict is None and finding.rule in default_on
    )
    details += ["## Default-on findings no review read", ""]
    details += [f"- {rule} {review_set} {archive} `{path}:{line}`" for rule, review_set, archive, path, line in unread]
    return "\n".join(table + details)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    collect = commands.add_parser("collect", help="read the reviews' verdicts into one CSV")
    collect.add_argument("output", type=Path)
    collect.add_argument("--review", action="append", default=[], help="SET=REVIEW.md, oldest first")
    collect.add_argument(
        "--by-hand", type=Path, help="CSV of verdicts transcribed from prose (same columns), read last"
    )
    matching = commands.add_parser("match", help="count today's findings per rule and verdict")
    matching.add_argument("verdicts", type=Path)
    matching.add_argument("sheets", nargs="+", help="SET=SHEET.md")
    matching.add_argument("--output", type=Path, required=True)
    deciding = commands.add_parser("decide", help="every default-on rule's record as read, and its decision")
    deciding.add_argument("verdicts", type=Path)
    args = parser.parse_args()
    if args.command == "collect":
        rows = []
        for review in args.review:
            review_set, path = review.split("=", 1)
            rows += table_verdicts(Path(path).read_text(encoding="utf-8"), review_set, Path(path).name)
        rows += read_csv(args.by_hand) if args.by_hand else []
        write_csv(rows, args.output)
        print(f"wrote {len(rows)} verdicts to {args.output}")
        return
    from perflint.rules import all_rules

    default_on = {rule.code for rule in all_rules() if rule.default_enabled}
    if args.command == "decide":
        print(decisions(read_csv(args.verdicts), default_on))
        return
    findings = []
    for sheet in args.sheets:
        review_set, path = sheet.split("=", 1)
        findings += read_sheet(Path(path).read_text(encoding="utf-8"), review_set)
    args.output.write_text(report(match(read_csv(args.verdicts), findings), default_on) + "\n", encoding="utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
