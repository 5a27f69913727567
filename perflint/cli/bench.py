"""``perflint bench [CODES…]``: run rule micro-benchmarks on this machine without linting."""

from __future__ import annotations

import argparse
import json
import sys

from perflint.cli.main import UsageError


def run_bench(args: argparse.Namespace) -> int:
    """Time the benchmarks of the named rules (codes or prefixes; default every rule), at each
    rule's default size or at ``--size``.

    A benchmark that cannot run here is listed as skipped with its reason; that is not an
    error, so the exit status is 0 whenever the command line was valid.
    """
    from perflint.measure.harness import measure_rules
    from perflint.rules import UnknownCodeError, all_rules, select_rules

    selectors = [code.strip() for argument in args.codes for code in argument.split(",") if code.strip()]
    try:
        rules = select_rules(select=selectors) if selectors else list(all_rules())
    except UnknownCodeError as error:
        raise UsageError(str(error)) from None
    if args.size is not None and args.size < 1:
        raise UsageError(f"--size must be a positive integer, not {args.size}")
    report = measure_rules(rules, size=args.size)
    if args.output_format == "json":
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from perflint.measure.table import render_table

        render_table(report, sys.stdout, color=sys.stdout.isatty())
    return 0
