"""Set a by-hand hunt for anti-patterns beside what perflint reports on the same code, to count recall.

The hunt is a Markdown table written by a reviewer who read the code bases without running
perflint (one row per anti-pattern: ``| # | code base | file | line | family | pattern | fix |
sure? |``, the file's path inside its archive). This script unpacks every archive of the review
set, lints it with every rule (``--select ALL``), and writes a sheet that puts beside each hunted
anti-pattern the findings reported in the same file from a few lines above it to a few lines
below (the hunt names a loop's header where a rule may report a statement in its body). Each
candidate is then confirmed or refused by reading it: a finding counts as catching an
anti-pattern only when it names the same pattern.

    python benchmarks/recall_review.py /work/hunt/heldout_hunt.md /work/corpora/round2/heldout \\
        /tmp/recall_sheet.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from precision_review import lint, unpack  # noqa: E402

LINES_ABOVE = 3
LINES_BELOW = 12


def hunted(table: Path) -> list[dict[str, str]]:
    """The rows of the hunt's table, by column name."""
    rows = []
    for line in table.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 8 and cells[0].isdigit():
            number, base, path, at, family, pattern, fix, sure = cells[:8]
            rows.append(
                {"number": number, "base": base, "path": path, "line": at, "family": family, "pattern": pattern}
                | {"fix": fix, "sure": sure}
            )
    return rows


def recall_sheet(table: Path, archives: list[Path]) -> str:
    rows = hunted(table)
    by_file: dict[str, list[dict]] = defaultdict(list)
    default_codes: set[str] = set()
    with tempfile.TemporaryDirectory() as temporary:
        for archive in archives:
            folder = unpack(archive, Path(temporary))
            default_codes |= {(f["path"], f["line"], f["code"]) for f in lint(folder)}
            for finding in lint(folder, ("--select", "ALL")):
                if finding["code"] == "PFL000":
                    continue
                finding["default_on"] = (finding["path"], finding["line"], finding["code"]) in default_codes
                by_file[str(Path(finding["path"]).relative_to(folder))].append(finding)
    sections = ["# Recall sheet", "", f"{len(rows)} hunted anti-patterns.", ""]
    for row in rows:
        line = int(row["line"])
        near = [
            finding
            for finding in by_file.get(row["path"], [])
            if line - LINES_ABOVE <= finding["line"] <= line + LINES_BELOW
        ]
        sections.append(f"## {row['number']}. {row['base']} {row['path']}:{line} ({row['family']}, {row['sure']})")
        sections.append("")
        sections.append(row["pattern"])
        sections.append("")
        for finding in near:
            state = "on" if finding["default_on"] else "opt-in"
            sections.append(f"- candidate {finding['code']} ({state}) line {finding['line']}: {finding['message']}")
        if not near:
            sections.append("- no finding nearby")
        sections.append("")
        sections.append("Caught: ")
        sections.append("")
    return "\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hunt", type=Path, help="the hunt's Markdown table")
    parser.add_argument("archives", type=Path, help="folder of the review set's wheels and sdists")
    parser.add_argument("sheet", type=Path, help="the Markdown sheet to write")
    args = parser.parse_args()
    archives = sorted(path for path in args.archives.iterdir() if path.suffix in (".whl", ".gz", ".zip"))
    args.sheet.write_text(recall_sheet(args.hunt, archives), encoding="utf-8")
    print(f"wrote {args.sheet}")


if __name__ == "__main__":
    main()
