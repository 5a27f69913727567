"""``perflint rules``, ``perflint explain CODE`` and ``perflint docs``: the catalogue, read from
the rule classes themselves."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from perflint import __version__
from perflint.cli.main import UsageError
from perflint.docs import REGENERATE_COMMAND, apply_docs, default_state, plan_docs, rule_page
from perflint.rules import all_rules, rule_by_code
from perflint.engine.rule import Rule

_TEXT_COLUMNS = ("CODE", "NAME", "FAMILY", "DEFAULT", "FIX", "SUMMARY")


def _fix_label(rule: type[Rule]) -> str:
    return f"{rule.fix_safety}, {'autofix' if rule.autofix else 'manual'}"


def _rule_record(rule: type[Rule]) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "family": rule.family.name,
        "default_enabled": rule.default_enabled,
        "fix_safety": rule.fix_safety,
        "autofix": rule.autofix,
        "summary": rule.summary,
    }


def _rule_row(rule: type[Rule]) -> tuple[str, ...]:
    return (rule.code, rule.name, rule.family.name, default_state(rule), _fix_label(rule), rule.summary)


def _print_rules_table(rules: tuple[type[Rule], ...]) -> None:
    """A rich table for a terminal; the summary goes under the name so it fits 80 columns."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="perflint rules", box=None, pad_edge=False)
    table.add_column("CODE", no_wrap=True)
    table.add_column("RULE", ratio=1, min_width=max(len(rule.name) for rule in rules))
    for header in ("FAMILY", "DEFAULT", "FIX"):
        table.add_column(header)
    for rule in rules:
        name_and_summary = Text.assemble((rule.name, "bold"), "\n", (rule.summary, "dim"))
        table.add_row(rule.code, name_and_summary, rule.family.name, default_state(rule), _fix_label(rule))
    Console().print(table)


def _print_rules_text(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[index]) for row in [_TEXT_COLUMNS, *rows]) for index in range(len(_TEXT_COLUMNS) - 1)]
    for row in [_TEXT_COLUMNS, *rows]:
        aligned = "  ".join(cell.ljust(width) for cell, width in zip(row, widths))
        print(f"{aligned}  {row[-1]}")


def list_rules(output_format: str) -> int:
    rules = all_rules()
    if output_format == "json":
        print(json.dumps({"version": __version__, "rules": [_rule_record(rule) for rule in rules]}, indent=2))
        return 0
    if sys.stdout.isatty():
        _print_rules_table(rules)
    else:
        _print_rules_text([_rule_row(rule) for rule in rules])
    return 0


def explain(code: str) -> int:
    rule = rule_by_code(code)
    if rule is None:
        raise UsageError(f"unknown rule code: {code} (`perflint rules` lists them)")
    page = rule_page(rule)
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(page))
    else:
        sys.stdout.write(page)
    return 0


def write_docs(root: Path, check_only: bool) -> int:
    """Bring ``rules/*.md`` and the README's rule table up to date, or, with ``check_only``,
    exit 1 naming what is stale."""
    if not root.is_dir():
        raise UsageError(f"no such directory: {root}")
    plan = plan_docs(root)
    stale = [str(path) for path in plan.stale]
    if check_only:
        for path in stale:
            print(f"stale: {path}")
        if plan.readme_problem:
            print(f"perflint: {plan.readme_problem}", file=sys.stderr)
        if stale:
            print(f"run `{REGENERATE_COMMAND}` to regenerate them", file=sys.stderr)
        return 1 if stale or plan.readme_problem else 0
    apply_docs(plan)
    for path in plan.writes:
        print(f"wrote {path}")
    for path in plan.deletions:
        print(f"deleted {path}")
    if plan.readme_problem:
        print(f"perflint: {plan.readme_problem}", file=sys.stderr)
        return 1
    if not stale:
        print("rule documentation is up to date")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.command == "rules":
        return list_rules(args.output_format)
    if args.command == "explain":
        return explain(args.code)
    if args.command == "docs":
        return write_docs(Path(args.root), args.check)
    raise UsageError(f"not a documentation command: {args.command}")
