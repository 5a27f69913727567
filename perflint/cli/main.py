"""``perflint [check] [PATHS…]``, ``perflint rules``, ``perflint explain CODE``, ``perflint bench``.

Each sub-command's work lives in its own module and is imported only when that command runs,
so ``perflint check`` never pays for the measurement code.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, Sequence

from perflint import __version__
from perflint.output import OUTPUT_FORMATS

SUBCOMMANDS = ("check", "rules", "explain", "bench")


class UsageError(Exception):
    """Bad command line, bad configuration or a missing path: exit status 2."""


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def _add_check_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", default=[], metavar="PATH",
                        help="files or folders (default: .); - reads the source from standard input")
    parser.add_argument("--select", type=_codes, action="append", metavar="CODES",
                        help="only these codes or prefixes (comma-separated; ALL for every rule)")
    parser.add_argument("--ignore", type=_codes, action="append", metavar="CODES",
                        help="skip these codes or prefixes")
    parser.add_argument("--extend-select", type=_codes, action="append", metavar="CODES",
                        help="add these codes or prefixes to the selection")
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, default="concise")
    parser.add_argument("--fix", action="store_true",
                        help="apply the safe fixes in place (to standard output for '-'); the report shows "
                             "what remains")
    parser.add_argument("--unsafe-fixes", action="store_true", default=None,
                        help="with --fix or --diff, apply the unsafe fixes too (they may change what the code "
                             "computes: see each rule's fix safety); alone, mark them fixable in the report")
    parser.add_argument("--no-unsafe-fixes", action="store_false", dest="unsafe_fixes",
                        help="leave the unsafe fixes alone even if the configuration says unsafe-fixes = true")
    parser.add_argument("--diff", action="store_true",
                        help="print a unified diff of what --fix would change and write nothing (exit 1 if "
                             "there is anything to fix)")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--statistics", action="store_true", help="print a count of findings per code")
    parser.add_argument("--config", metavar="FILE", help="read [tool.perflint] from this pyproject.toml")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--cache-dir", metavar="DIR",
                        help="keep the cache here (default: .perflint_cache in the project root)")
    parser.add_argument("--stdin-filename", metavar="PATH",
                        help="the name of the source read from standard input, for messages, "
                             "configuration and per-file ignores")
    parser.add_argument("--per-file-timeout", type=float, default=None, metavar="SECONDS",
                        help="report a file that takes more CPU time as PFL000 and go on (default: 10)")
    parser.add_argument("--force-exclude", action="store_true",
                        help="apply exclude and extend-exclude to paths named on the command line too "
                             "(for pre-commit, which names every file)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="say on standard error how each project's index was made (whole project, cached, "
                             "or per-file knowledge only)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N",
                        help="worker processes (default: one per core for large runs)")
    parser.add_argument("--measure", action="store_true",
                        help="time the micro-benchmark of every rule that fired (its pattern against its fix, "
                             "not your code), on this machine")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="rank findings by the share of your own run spent in the function around each: "
                             "a cProfile/pstats file, a PyTorch profiler Chrome trace or a speedscope file")
    parser.add_argument("--measure-budget", type=float, default=30.0, metavar="SECONDS",
                        help="stop starting benchmarks after this many seconds; the rest are listed as not "
                             "measured (default: 30)")
    parser.add_argument("--remeasure", action="store_true",
                        help="time the benchmarks afresh instead of reusing cached measurements of this machine")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="perflint",
        description="Find performance anti-patterns in Python ML and numerical code.",
    )
    parser.add_argument("--version", action="version", version=f"perflint {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser("check", help="lint files and folders (the default command)")
    _add_check_options(check)

    rules = commands.add_parser("rules", help="list every rule")
    rules.add_argument("--output-format", choices=("text", "json"), default="text")

    explain = commands.add_parser("explain", help="show a rule's documentation")
    explain.add_argument("code", metavar="CODE")

    bench = commands.add_parser("bench", help="run rule micro-benchmarks without linting")
    bench.add_argument("codes", nargs="*", metavar="CODE", help="codes or prefixes (default: every rule)")
    bench.add_argument("--output-format", choices=("table", "full", "json", "openmetrics"), default="table",
                       help="full adds each size's times, confidence interval and sample warnings; "
                            "openmetrics writes gauges for a Prometheus textfile collector")
    bench.add_argument("--sizes", default=None, metavar="N,N,…",
                       help="input sizes for every benchmark, in each rule's own unit (default: each rule's own)")
    bench.add_argument("--repeat", type=int, default=None, metavar="N",
                       help="interleaved samples per side at each size (default: 15; 7 with --quick)")
    bench.add_argument("--quick", action="store_true",
                       help="each rule's smallest size only, with shorter and fewer samples (for CI)")
    bench.add_argument("--blas-threads", type=int, default=None, metavar="N",
                       help="limit the BLAS and OpenMP thread pools and torch's CPU threads to N while "
                            "measuring (needs threadpoolctl); steadier numbers on a shared machine")
    bench.add_argument("--report", default=None, metavar="FILE.html",
                       help="also write a self-contained HTML report with a chart per rule")
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """``check`` is the default command: ``perflint src/`` means ``perflint check src/``."""
    argv = list(argv)
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        argv.insert(0, "check")
    return build_parser().parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        if arguments.command == "check":
            from perflint.cli.check import run_check

            return run_check(arguments)
        if arguments.command in ("rules", "explain"):
            from perflint.cli import documentation

            return documentation.run(arguments)
        from perflint.cli.bench import run_bench

        return run_bench(arguments)
    except UsageError as error:
        print(f"perflint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perflint: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``perflint rules | head``): stop quietly, as Unix tools do, and
        # point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
