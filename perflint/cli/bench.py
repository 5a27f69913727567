"""``perflint bench [CODES…]``: run rule micro-benchmarks on this machine without linting, or
compare two saved runs (``--compare OLD.json NEW.json``)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from perflint.cli.main import UsageError


def parse_sizes(text: str | None) -> list[int] | None:
    """``--sizes 1000,10000`` as a sorted list of distinct positive integers."""
    if text is None:
        return None
    try:
        sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    except ValueError:
        raise UsageError(f"--sizes takes comma-separated integers, not {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise UsageError(f"--sizes must be positive integers, not {text!r}")
    return sizes


def run_bench(args: argparse.Namespace) -> int:
    """Time the benchmarks of the named rules (codes or prefixes; default every rule), at each
    rule's own sizes, at ``--sizes``, or at its middle size only with ``--quick``.

    A benchmark that cannot run here is listed as skipped with its reason; that is not an
    error, so the exit status is 0 whenever the command line was valid.
    """
    if args.compare:
        return _run_compare(args)
    from perflint.cli.progress import measuring_progress
    from perflint.measure import harness
    from perflint.measure.intervals import MINIMUM_SAMPLES
    from perflint.rules import UnknownCodeError, all_rules, select_rules

    selectors = [code.strip() for argument in args.codes for code in argument.split(",") if code.strip()]
    try:
        rules = select_rules(select=selectors) if selectors else list(all_rules())
    except UnknownCodeError as error:
        raise UsageError(str(error)) from None
    sizes = parse_sizes(args.sizes)
    policy = harness.QUICK_POLICY if args.quick else harness.BENCH_POLICY
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, not {args.threads}")
    if args.workers is not None and args.workers < 2:
        raise UsageError(
            f"--workers must be at least 2 (one process cannot show how processes differ), not {args.workers}"
        )
    changes = {"threads": args.threads or 1}
    if args.repeat is not None:
        changes["samples"] = args.repeat
    if args.workers is not None:
        changes["workers"] = args.workers
    try:
        policy = replace(policy, **changes)
    except ValueError:
        raise UsageError(
            f"--repeat x --workers must give {MINIMUM_SAMPLES} samples at least "
            f"(a 95% interval of a median needs them), not {args.repeat or policy.samples} x "
            f"{args.workers or policy.workers}"
        ) from None
    with measuring_progress(args.output_format not in ("json", "openmetrics")) as progress:
        report = harness.measure_rules(
            rules, sizes=sizes, policy=policy, quick=args.quick, progress=progress, command_line=args.command_line
        )
    if args.report:
        from perflint.measure.html_report import write_html_report

        try:
            write_html_report(report, args.report)
        except OSError as error:
            raise UsageError(f"cannot write {args.report}: {error.strerror or error}") from None
    if args.output_format == "openmetrics":
        from perflint.output.openmetrics import write_bench_metrics

        write_bench_metrics(report, sys.stdout)
    elif args.output_format == "json":
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        from perflint.measure.table import render_table

        render_table(report, sys.stdout, color=sys.stdout.isatty(), detailed=args.output_format == "full")
    return 0


def _run_compare(args: argparse.Namespace) -> int:
    """``--compare OLD.json NEW.json``: the change per rule, target and size, as a table or JSON."""
    from perflint.measure.compare import ComparisonError, compare_reports, load_report, render_comparison

    try:
        old, new = (load_report(path) for path in args.compare)
    except ComparisonError as error:
        raise UsageError(str(error)) from None
    comparison = compare_reports(old, new)
    if args.output_format == "json":
        json.dump(comparison.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_comparison(comparison, sys.stdout, color=sys.stdout.isatty())
    return 0
