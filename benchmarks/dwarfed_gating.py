"""Does "heavy work beside it" sort the findings worth fixing from those that are not? Join every
recorded verdict to the engine's answer, at the verdict's line, to ``heavy_work_beside``: does
the same loop iteration (or, outside loops, the same call of the function) also run a model, a
backward pass, an optimizer step, a fit, a solve or file I/O that dwarfs the saving?

    python benchmarks/dwarfed_gating.py [VERDICTS.csv] [--corpora DIR] [--rules PFL201,PFL203]

VERDICTS.csv: ``benchmarks/results/precision/round5/track_verdicts.csv`` by default (set,
codebase, path, line, rule, verdict). Each verdict's file is found under ``--corpora`` (the
unpacked archives, one folder each, ``/work/corpora/unpacked``), in the archive of its set
(``/work/corpora/round<N>/<dev|heldout|heldout_spent>/``) or named like its code base. The file
is linted alone (no project index) with every rule; where a rule still reports the verdict's
finding, the engine is asked at the reported node itself ("reported"); elsewhere at the last
call on that line, or its statement ("gone": the finding is no longer reported, or its rule
reports it on another line). A verdict with no line, given for every finding of its rule in a
file ("file-wide"), is beside heavy work when at least half of those findings are. Verdicts whose
file is not found are counted as "no source".
"""

from __future__ import annotations

import argparse
import csv
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import libcst as cst
from heavy_work import heavy_work_beside

from perflint.engine.linter import FileContext, lint_source
from perflint.engine.rule import Rule
from perflint.rules import all_rules

RESULTS = Path(__file__).parent / "results" / "precision"
VERDICTS_CSV = RESULTS / "round5" / "track_verdicts.csv"
CORPORA = Path("/work/corpora")
VERDICTS = ("worth", "not worth", "wrong")
# Appended to every reported message while probing: what ``heavy_work_beside`` answered there.
_MARK = " <<heavy:"
_MARKED = re.compile(re.escape(_MARK) + r"(.*?)>>")


@dataclass(frozen=True)
class Verdict:
    set: str
    codebase: str
    path: str
    line: int
    rule: str
    verdict: str


def verdicts_of(path: Path) -> list[Verdict]:
    """The verdicts of a track-record CSV (``track_record.py collect``). A verdict given for a
    whole file, with no line, has line 0."""
    with path.open(newline="") as handle:
        return [
            Verdict(row["set"], row["codebase"], row["path"], int(row["line"] or 0), row["rule"], row["verdict"])
            for row in csv.DictReader(handle)
            if row["verdict"] in VERDICTS and (row["line"].isdigit() or not row["line"])
        ]


def _normalised(name: str) -> str:
    return name.lower().replace("-", "_")


def archives_of_set(review_set: str, corpora: Path) -> list[str]:
    """The archive names of ``round<N>/<dev|heldout>``, as the corpus folders hold them."""
    round_name, _, part = review_set.partition("/")
    folders = [corpora / round_name / part]
    if part == "heldout":
        folders.append(corpora / round_name / "heldout_spent")
    return sorted(entry.name for folder in folders if folder.is_dir() for entry in folder.iterdir())


def locate(verdict: Verdict, corpora: Path) -> Path | None:
    """The file a verdict is about: the one file of an unpacked archive whose path ends with
    the verdict's (reviews name some files by their last parts only, ``bnn/utils.py``), in the
    archive of the verdict's set first, then in an archive named like its code base."""
    unpacked = corpora / "unpacked"
    preferred = archives_of_set(verdict.set, corpora)
    codebase = _normalised(verdict.codebase.split(" ")[0]) if verdict.codebase else ""
    if codebase:
        preferred += sorted(entry.name for entry in unpacked.iterdir() if _normalised(entry.name).startswith(codebase))
    for archive in preferred:
        root = unpacked / archive
        if not root.is_dir():
            continue
        matches = [path for path in _python_files(root) if path == verdict.path or path.endswith("/" + verdict.path)]
        if len(matches) == 1:
            return root / matches[0]
    return None


@cache
def _python_files(root: Path) -> tuple[str, ...]:
    """The Python files under ``root``, by their paths relative to it."""
    return tuple(path.relative_to(root).as_posix() for path in root.rglob("*.py"))


class _LineProbe(Rule):
    """Asks the engine at every call and statement; reports each answer, for verdicts whose
    finding is no longer reported."""

    code = "PROBE"
    name = "heavy-work-probe"
    message = "{answer}"

    def _ask(self, node: cst.CSTNode, kind: str) -> None:
        heavy = heavy_work_beside(node, self.context)
        self.context.report(self, node, f"{kind}:{heavy.what if heavy is not None else ''}")

    def visit_Call(self, node: cst.Call) -> None:
        self._ask(node, "call")

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._ask(node, "statement")


@contextmanager
def _answers_marked() -> Iterator[None]:
    """While open, every finding's message ends with what ``heavy_work_beside`` answers at its
    node."""
    original = FileContext.report

    def report(self: FileContext, rule: Rule, node: cst.CSTNode, message: str, *args: object, **kwargs: object):
        heavy = None if rule.code == _LineProbe.code else heavy_work_beside(node, self)
        marked = message if heavy is None else f"{message}{_MARK}{heavy.what}>>"
        return original(self, rule, node, marked, *args, **kwargs)  # type: ignore[arg-type]

    FileContext.report = report  # type: ignore[method-assign]
    try:
        yield
    finally:
        FileContext.report = original  # type: ignore[method-assign]


def answers_in(path: Path) -> tuple[dict[tuple[str, int], str], dict[int, str]]:
    """What ``heavy_work_beside`` answers in one file: at each finding of every rule, by (code,
    line), and at the last call (else the statement) of each line. An empty answer: none."""
    source = path.read_text(encoding="utf-8", errors="replace")
    rules = [rule for rule in all_rules()]
    reported: dict[tuple[str, int], str] = {}
    with _answers_marked():
        for finding in lint_source(source, str(path), rules, apply_noqa=False, fix_edits=False):
            match = _MARKED.search(finding.message)
            key = (finding.code, finding.line)
            if match or key not in reported:
                reported[key] = match.group(1) if match else ""
    by_line: dict[int, str] = {}
    # Sorted by position: a line's statement comes first, then its calls, the last one the
    # right-most (the innermost, often: ``loss.item()`` in ``losses.append(loss.item())``).
    for finding in lint_source(source, str(path), [_LineProbe], apply_noqa=False, prefilter=False, fix_edits=False):
        kind, _, answer = finding.message.partition(":")
        if kind == "call" or finding.line not in by_line:
            by_line[finding.line] = answer
    return reported, by_line


def join(verdicts: list[Verdict], corpora: Path) -> dict[Verdict, tuple[str, str]]:
    """Each verdict's group ("reported", "gone" or "no source"; "file-wide" for a verdict with no
    line, on every finding of its rule in its file) and the heavy work the engine names beside it
    ("" for none)."""
    by_file: dict[Path, list[Verdict]] = defaultdict(list)
    joined: dict[Verdict, tuple[str, str]] = {}
    for verdict in verdicts:
        path = locate(verdict, corpora)
        if path is None:
            joined[verdict] = ("no source", "")
        else:
            by_file[path].append(verdict)
    for path, in_file in sorted(by_file.items()):
        reported, by_line = answers_in(path)
        for verdict in in_file:
            key = (verdict.rule, verdict.line)
            if verdict.line == 0:
                joined[verdict] = _file_wide(verdict.rule, reported)
            elif key in reported:
                joined[verdict] = ("reported", reported[key])
            else:
                joined[verdict] = ("gone", by_line.get(verdict.line, ""))
    return joined


def _file_wide(rule: str, reported: dict[tuple[str, int], str]) -> tuple[str, str]:
    """A verdict on every finding of ``rule`` in a file: heavy work is beside it when it is beside
    at least half of them."""
    answers = [answer for (code, _), answer in sorted(reported.items()) if code == rule]
    if not answers:
        return ("gone", "")
    dwarfed = [answer for answer in answers if answer]
    return ("file-wide", dwarfed[0] if 2 * len(dwarfed) >= len(answers) else "")


def split(joined: dict[Verdict, tuple[str, str]]) -> dict[str, dict[tuple[str, bool], Counter[str]]]:
    """Per rule (and "all"): verdicts counted by group and by whether heavy work is beside them."""
    table: dict[str, dict[tuple[str, bool], Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for verdict, (group, heavy) in joined.items():
        for rule in (verdict.rule, "all"):
            table[rule][(group, bool(heavy))][verdict.verdict] += 1
    return table


def _cells(counts: Counter[str]) -> str:
    return " | ".join(str(counts[verdict]) for verdict in VERDICTS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("verdicts", type=Path, nargs="?", default=VERDICTS_CSV)
    parser.add_argument("--corpora", type=Path, default=CORPORA)
    parser.add_argument("--rules", default="", help="comma-separated codes; all by default")
    parser.add_argument("--kinds", action="store_true", help="also count the kinds of heavy work named")
    parser.add_argument("--list", action="store_true", help="also list every verdict with its answer")
    args = parser.parse_args()
    verdicts = verdicts_of(args.verdicts)
    if args.rules:
        verdicts = [verdict for verdict in verdicts if verdict.rule in args.rules.split(",")]
    joined = join(verdicts, args.corpora)
    table = split(joined)
    print(f"{len(verdicts)} verdicts; {os.path.basename(args.verdicts)}")
    print()
    print("| Rule | Findings | Dwarfed: worth | not worth | wrong | Not dwarfed: worth | not worth | wrong |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rules = sorted(rule for rule in table if rule != "all") + ["all"]
    for rule in rules:
        for group in ("reported", "file-wide", "gone", "no source"):
            dwarfed, alone = table[rule][(group, True)], table[rule][(group, False)]
            if dwarfed or alone:
                print(f"| {rule} | {group} | {_cells(dwarfed)} | {_cells(alone)} |")
    if args.kinds:
        kinds: dict[str, Counter[str]] = defaultdict(Counter)
        for verdict, (_, heavy) in joined.items():
            if heavy:
                kinds[heavy.partition(", in ")[0]][verdict.verdict] += 1
        print()
        print("| Heavy work named | Worth | Not worth | Wrong |")
        print("| --- | --- | --- | --- |")
        for kind, counts in sorted(kinds.items()):
            print(f"| {kind} | {_cells(counts)} |")

    if args.list:
        print()
        print("| Rule | File:line | Verdict | Findings | Heavy work beside it |")
        print("| --- | --- | --- | --- | --- |")
        for verdict, (group, heavy) in sorted(
            joined.items(), key=lambda item: (item[0].rule, item[0].path, item[0].line)
        ):
            print(f"| {verdict.rule} | {verdict.path}:{verdict.line} | {verdict.verdict} | {group} | {heavy} |")


if __name__ == "__main__":
    main()
