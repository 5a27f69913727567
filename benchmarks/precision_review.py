"""Lay out every default-on finding of perflint over a review set, for reading by hand.

A review set is a folder of archives downloaded from PyPI (`pip download --no-deps NAME`):
wheels and sdists. Each archive is unpacked into a temporary folder, linted with the default
rules (no cache, no project configuration of perflint's own), and every finding is written to a
Markdown sheet with the source lines around it and an empty verdict to fill in: `worth`,
`not worth` (correct, but not worth fixing: say why) or `wrong` (say why). The sheet names each
archive and its version, so the review can be redone on the same code. ``--select`` lays out the
findings of the rules it names instead (opt-in ones included), to review a rule before turning
it on.

    python benchmarks/precision_review.py /work/corpora/heldout \
        benchmarks/results/precision/heldout_findings.md

`benchmarks/results/precision/sets.md` says which archives form the development and the
held-out set; the held-out one is run once, at the end of a round of tuning.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

CONTEXT_LINES = 3


def unpack(archive: Path, into: Path) -> Path:
    """Unpack a wheel or an sdist under ``into`` and return its folder."""
    folder = into / archive.name
    folder.mkdir()
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(folder)
    else:
        with tarfile.open(archive) as tarred:
            tarred.extractall(folder, filter="data")
    return folder


def lint(folder: Path, selection: Sequence[str] = ()) -> list[dict]:
    """perflint's findings in ``folder`` (default-on ones, or those ``selection``'s options pick,
    such as ``("--select", "ALL")``), ignoring any perflint configuration in it."""
    empty_config = folder / ".perflint-review.toml"
    empty_config.write_text("[tool.perflint]\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "perflint",
            "check",
            "--no-cache",
            "--exit-zero",
            "--output-format",
            "json",
            "--config",
            str(empty_config),
            *selection,
            str(folder),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"perflint failed on {folder}: {result.stderr.strip()}")
    return json.loads(result.stdout)["findings"]


def excerpt(path: Path, line: int, cell: int | None = None) -> str:
    """The lines around ``line`` of ``path``, or of its notebook cell ``cell`` (numbered from 1 over
    every cell, as perflint reports a notebook's findings)."""
    try:
        lines = source_lines(path, cell)
    except (OSError, ValueError, LookupError, TypeError) as error:
        return f"(cannot read: {error})"
    start = max(1, line - CONTEXT_LINES)
    end = min(len(lines), line + CONTEXT_LINES)
    return "\n".join(
        f"{number:5d}{'>' if number == line else ' '} {lines[number - 1]}" for number in range(start, end + 1)
    )


def source_lines(path: Path, cell: int | None) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if cell is None:
        return text.splitlines()
    source = json.loads(text)["cells"][cell - 1]["source"]
    return ("".join(source) if isinstance(source, list) else source).splitlines()


def review_sheet(archives: list[Path], selection: Sequence[str] = ()) -> str:
    counts: Counter[str] = Counter()
    sections = []
    with tempfile.TemporaryDirectory() as temporary:
        for archive in archives:
            folder = unpack(archive, Path(temporary))
            everything = lint(folder, selection)
            findings = [finding for finding in everything if finding["code"] != "PFL000"]
            errors = [finding for finding in everything if finding["code"] == "PFL000"]
            sections.append(f"## {archive.name}\n\n{len(findings)} findings.\n")
            for finding in findings:
                counts[finding["code"]] += 1
                relative = Path(finding["path"]).relative_to(folder)
                cell = finding.get("cell")
                where = f"Line {finding['line']} of the notebook's cell {cell}.\n\n" if cell else ""
                context = excerpt(Path(finding["path"]), finding["line"], cell)
                sections.append(
                    f"### {finding['code']} {relative}:{finding['line']}\n\n"
                    f"{finding['message']}\n\n{where}```python\n{context}\n```\n\n"
                    "Verdict: \n"
                )
            for error in errors:
                sections.append(f"PFL000 {error['path']}: {error['message']}\n")
    summary = ["# Findings to review", "", "| Rule | Findings |", "| --- | --- |"]
    summary += [f"| {code} | {count} |" for code, count in sorted(counts.items())]
    summary.append(f"| total | {sum(counts.values())} |")
    return "\n".join(summary) + "\n\n" + "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("archives", type=Path, help="folder of downloaded wheels and sdists")
    parser.add_argument("sheet", type=Path, help="the Markdown review sheet to write")
    parser.add_argument(
        "--select",
        help="rules to lay out instead of the default-on ones, as perflint's --select takes them (PFL201,PFL211)",
    )
    args = parser.parse_args()
    archives = sorted(path for path in args.archives.iterdir() if path.suffix in (".whl", ".gz", ".zip"))
    selection = ("--select", args.select) if args.select else ()
    args.sheet.write_text(review_sheet(archives, selection), encoding="utf-8")
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
