"""``perflint check``: configuration and command line, then discovery, linting and the report."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Iterable, Optional, Sequence

from perflint.cache import Cache
from perflint.cli.main import UsageError
from perflint.config import Config, ConfigError, load_config
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding
from perflint.files import MissingPathError, discover
from perflint.rules import UnknownCodeError, rule_by_code, select_rules
from perflint.engine.rule import Rule
from perflint.runner import LintTask, lint_files

# Formats that cannot carry the table of measured costs.
_FORMATS_WITHOUT_MEASUREMENTS = ("sarif", "github")


def _flatten(groups: Optional[Sequence[Sequence[str]]]) -> Optional[list[str]]:
    """``--select A,B --select C`` arrives as ``[["A", "B"], ["C"]]``."""
    if groups is None:
        return None
    return [code for group in groups for code in group]


def resolve_selection(
    config: Config,
    select: Optional[Sequence[str]] = None,
    ignore: Sequence[str] = (),
    extend_select: Sequence[str] = (),
) -> list[type[Rule]]:
    """The enabled rules: the configuration's selection, then the command line's on top.

    As in Ruff, a command-line ``--select`` starts afresh and discards the configuration's
    selection; otherwise ``--ignore`` switches rules off and ``--extend-select`` switches
    them on over what the configuration enabled, the more specific of the two winning.
    """
    if select is not None:
        return select_rules(select, ignore, extend_select)
    enabled = set(select_rules(config.select, config.ignore, config.extend_select))
    if ignore:
        enabled -= set(select_rules(select=ignore))
    if extend_select:
        enabled |= set(select_rules(select=extend_select, ignore=ignore))
    return sorted(enabled, key=lambda rule: rule.code)


def _without(codes: Iterable[str], ignored: Sequence[str]) -> tuple[str, ...]:
    prefixes = [code.upper() for code in ignored]
    if "ALL" in prefixes:
        return ()
    return tuple(code for code in codes if not any(code.startswith(prefix) for prefix in prefixes))


def fired_rules(findings: Iterable[Finding]) -> list[type[Rule]]:
    """The rules with at least one finding, most findings first (measured first when the
    budget is short), then in code order; PFL000 is no rule."""
    counts: dict[str, int] = {}
    for finding in findings:
        if finding.code != INTERNAL_ERROR_CODE:
            counts[finding.code] = counts.get(finding.code, 0) + 1
    codes = sorted(counts, key=lambda code: (-counts[code], code))
    return [rule for rule in map(rule_by_code, codes) if rule is not None]


def run_check(args: argparse.Namespace) -> int:
    """Lint ``args.paths`` and write the report; 1 when there are findings, else 0."""
    if args.measure and args.output_format in _FORMATS_WITHOUT_MEASUREMENTS:
        raise UsageError(f"--measure cannot be combined with --output-format {args.output_format}: "
                         "that format has no place for the table of measured costs")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if args.measure_budget <= 0:
        raise UsageError(f"--measure-budget must be a positive number of seconds, not {args.measure_budget:g}")
    try:
        config = load_config(args.config, os.getcwd())
    except ConfigError as error:
        raise UsageError(str(error)) from None
    try:
        rules = resolve_selection(config, _flatten(args.select), _flatten(args.ignore) or (),
                                  _flatten(args.extend_select) or ())
    except UnknownCodeError as error:
        raise UsageError(str(error)) from None
    try:
        discovery = discover(args.paths or ["."], config.excluded(), args.force_exclude)
    except MissingPathError as error:
        raise UsageError(str(error)) from None

    codes = [rule.code for rule in rules]
    tasks = [
        LintTask(source_file, _without(codes, config.ignored_for(source_file.absolute)))
        for source_file in discovery.files
    ]
    cache = None if args.no_cache else Cache(config.root)
    findings = discovery.unreadable + lint_files(tasks, args.jobs, cache)

    measurement = None
    if args.measure:
        from perflint.cli.progress import measuring_progress
        from perflint.measure.cache import MeasurementCache
        from perflint.measure.harness import measure_rules

        # --remeasure still stores what it measures, so the next run reuses the fresh numbers.
        measurement_cache = None if args.no_cache else MeasurementCache(config.root, read=not args.remeasure)
        with measuring_progress(args.output_format != "json") as progress:
            measurement = measure_rules(fired_rules(findings), budget_seconds=args.measure_budget,
                                        cache=measurement_cache, progress=progress)

    from perflint.output import write_report

    write_report(findings, args.output_format, sys.stdout, files_checked=len(discovery.files),
                 statistics=args.statistics, measurement=measurement)
    return 0 if args.exit_zero or not findings else 1
