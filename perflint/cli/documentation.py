"""``perflint rules`` and ``perflint explain CODE``: the catalogue, read from the rule classes
themselves. (The rule pages are written by ``scripts/generate_docs.py``, in perflint's own
repository only.)"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from perflint import __version__
from perflint.cli.main import UsageError
from perflint.docs import default_state, installed_reference, rule_page
from perflint.engine.rule import Rule
from perflint.rules import all_rules, rule_by_code

_TEXT_COLUMNS = ("CODE", "NAME", "FAMILY", "DEFAULT", "FIX", "SUMMARY")


def _fix_label(rule: type[Rule]) -> str:
    return f"{rule.fix_safety_label()}, {'autofix' if rule.autofix else 'manual'}"


def _rule_record(rule: type[Rule]) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "family": rule.family.name,
        "default_enabled": rule.default_enabled,
        "fix_safety": rule.fix_safety,
        "fix_safeties": list(rule.fix_safeties or (rule.fix_safety,)),
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
    page = rule_page(rule, installed_reference())
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(page))
    else:
        sys.stdout.write(page)
    return 0


def run(args: argparse.Namespace) -> int:
    if args.command == "rules":
        return list_rules(args.output_format)
    if args.command == "explain":
        return explain(args.code)
    raise UsageError(f"not a documentation command: {args.command}")
