"""``perflint [check] [PATHS…]``, ``perflint rules``, ``perflint explain CODE``, ``perflint bench``,
``perflint server``.

Each sub-command's work lives in its own module and is imported only when that command runs,
so ``perflint check`` never pays for the measurement code.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType
from typing import Any

from perflint import __version__
from perflint.output import OUTPUT_FORMATS

SUBCOMMANDS = ("check", "rules", "explain", "bench", "server")


class UsageError(Exception):
    """Bad command line, bad configuration or a missing path: exit status 2."""


# Exit statuses of a run ended by a signal, as a shell reports a process killed by one
# (128 + the signal's number): SIGINT (Ctrl-C) 130, SIGTERM 143.
INTERRUPTED_STATUS = 128 + 2
TERMINATED_STATUS = 128 + 15


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, so the run unwinds as it does on Ctrl-C
    (``finally`` blocks end the workers and remove temporary files) and exits 143."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def _add_check_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        default=[],
        metavar="PATH",
        help="files or folders (default: .); - reads the source from standard input",
    )
    parser.add_argument(
        "--select",
        type=_codes,
        action="append",
        metavar="CODES",
        help="only these codes or prefixes (comma-separated; ALL for every rule)",
    )
    parser.add_argument("--ignore", type=_codes, action="append", metavar="CODES", help="skip these codes or prefixes")
    parser.add_argument(
        "--extend-select",
        type=_codes,
        action="append",
        metavar="CODES",
        help="add these codes or prefixes to the selection",
    )
    parser.add_argument("--output-format", choices=OUTPUT_FORMATS, default="concise")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes in place (to standard output for '-'); the report shows what remains",
    )
    parser.add_argument(
        "--unsafe-fixes",
        action="store_true",
        default=None,
        help="with --fix or --diff, apply the unsafe fixes too (they may change what the code "
        "computes: see each rule's fix safety); alone, mark them fixable in the report",
    )
    parser.add_argument(
        "--no-unsafe-fixes",
        action="store_false",
        dest="unsafe_fixes",
        help="leave the unsafe fixes alone even if the configuration says unsafe-fixes = true",
    )
    parser.add_argument(
        "--diff",
        action="store_true",
        help="print a unified diff of what --fix would change and write nothing (exit 1 if there is anything to fix)",
    )
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--statistics", action="store_true", help="print a count of findings per code")
    parser.add_argument("--config", metavar="FILE", help="read [tool.perflint] from this pyproject.toml")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="keep the cache here (default: .perflint_cache in the project root)"
    )
    parser.add_argument(
        "--stdin-filename",
        metavar="PATH",
        help="the name of the source read from standard input, for messages, configuration and per-file ignores",
    )
    parser.add_argument(
        "--per-file-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="report a file that takes more CPU time as PFL000 and go on (default: 10)",
    )
    parser.add_argument(
        "--force-exclude",
        action="store_true",
        help="apply exclude and extend-exclude to paths named on the command line too "
        "(for pre-commit, which names every file)",
    )
    parser.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="say on standard error how each project's index was made (whole project, cached, "
        "or per-file knowledge only)",
    )
    parser.add_argument(
        "--jobs",
        "-j",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: one per core for large runs)",
    )
    parser.add_argument(
        "--measure",
        action="store_true",
        help="time the micro-benchmark of every rule that fired (its pattern against its fix, "
        "not your code), on this machine",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        default=None,
        help="rank findings by the share of your own run spent in the function around each: "
        "a cProfile/pstats file, a PyTorch profiler Chrome trace or a speedscope file",
    )
    parser.add_argument(
        "--measure-budget",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="stop starting benchmarks after this many seconds; the rest are listed as not measured (default: 30)",
    )
    parser.add_argument(
        "--remeasure",
        action="store_true",
        help="time the benchmarks afresh instead of reusing cached measurements of this machine",
    )


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
    bench.add_argument(
        "--output-format",
        choices=("table", "full", "json", "openmetrics"),
        default="table",
        help="full adds each size's times, confidence interval and sample warnings; "
        "openmetrics writes gauges for a Prometheus textfile collector",
    )
    bench.add_argument(
        "--sizes",
        default=None,
        metavar="N,N,…",
        help="input sizes for every benchmark, in each rule's own unit (default: each rule's own)",
    )
    bench.add_argument(
        "--repeat",
        type=int,
        default=None,
        metavar="N",
        help="interleaved samples per side in each worker process (default: 5; 3 with --quick)",
    )
    bench.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes per benchmark, run one after another (default: 3; 2 with --quick)",
    )
    bench.add_argument(
        "--quick", action="store_true", help="each rule's middle size only, with shorter and fewer samples (for CI)"
    )
    bench.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="threads for the BLAS, OpenMP and torch pools in the benchmarks (default: 1, the "
        "pattern's own cost, steady on a shared machine); more to measure multi-threaded",
    )
    # The option's earlier name, kept so that scripts written for it still run.
    bench.add_argument("--blas-threads", type=int, dest="threads", help=argparse.SUPPRESS)
    bench.add_argument(
        "--compare",
        nargs=2,
        default=None,
        metavar=("OLD.json", "NEW.json"),
        help="compare two saved `bench --output-format json` results instead of measuring: "
        "per rule and size, the change and whether it is significant",
    )
    bench.add_argument(
        "--report",
        default=None,
        metavar="FILE.html",
        help="also write a self-contained HTML report with a chart per rule",
    )

    server = commands.add_parser(
        "server", help="run the language server on standard input and output (needs pip install 'perflint-ml[lsp]')"
    )
    server.add_argument("--config", metavar="FILE", help="read [tool.perflint] from this pyproject.toml for every file")
    server.add_argument(
        "--debounce",
        type=float,
        default=None,
        metavar="SECONDS",
        help="lint a changed document once it has been unchanged this long (default: 0, at once)",
    )
    return parser


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """``check`` is the default command: ``perflint src/`` means ``perflint check src/``."""
    argv = list(argv)
    if not argv or argv[0] not in (*SUBCOMMANDS, "-h", "--help", "--version"):
        argv.insert(0, "check")
    return build_parser().parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = parse_arguments(argv)
    arguments.command_line = ["perflint", *argv]  # recorded with measurements, to say how they were taken
    previous_handler = _handle_sigterm()
    try:
        status = _run(arguments)
        # Flushed here, not at exit, so that output that cannot be written (a full disk) is an
        # error this function reports rather than one the interpreter prints as it exits. (The
        # language server closes standard output itself when its client says exit.)
        if not sys.stdout.closed:
            sys.stdout.flush()
        return status
    except UsageError as error:
        print(f"perflint: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("perflint: interrupted", file=sys.stderr)
        return INTERRUPTED_STATUS
    except Terminated:
        print("perflint: terminated", file=sys.stderr)
        return TERMINATED_STATUS
    except BrokenPipeError:
        # The reader went away (``perflint rules | head``): stop quietly, as Unix tools do, and
        # point stdout at /dev/null so the interpreter's final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as error:
        # An I/O error is not a finding: exit 2, never 1. Output that could not be written is
        # dropped, so the interpreter does not try to flush it again as it exits.
        _discard_stdout()
        print(f"perflint: error: {_io_error_text(error)}", file=sys.stderr)
        return 2
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGTERM, previous_handler)


def _run(arguments: argparse.Namespace) -> int:
    if arguments.command == "check":
        from perflint.cli.check import run_check

        return run_check(arguments)
    if arguments.command in ("rules", "explain"):
        from perflint.cli import documentation

        return documentation.run(arguments)
    if arguments.command == "server":
        return run_server(arguments)
    from perflint.cli.bench import run_bench

    if arguments.report:
        _check_writable(arguments.report, "--report")
    return run_bench(arguments)


def _check_writable(path: str, option: str) -> None:
    """Refuse, before minutes of benchmarking, a ``path`` the result could not be written to:
    its folder missing or read-only, or the path itself a folder or a read-only file."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise UsageError(f"cannot write {option} {path}: it is a folder")
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {option} {path}: no such folder {folder}")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UsageError(f"cannot write {option} {path}: permission denied")
    if not os.path.exists(path) and not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {option} {path}: the folder {folder} is not writable")


def _io_error_text(error: OSError) -> str:
    reason = error.strerror or str(error)
    return f"{reason}: {error.filename}" if error.filename else f"cannot write the output: {reason}"


def _discard_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _handle_sigterm() -> Callable[[int, FrameType | None], Any] | int | None:
    """Turn SIGTERM into ``Terminated`` while a command runs (only from the main thread, the
    one place Python delivers signals); the handler it replaced, to restore after."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def run_server(arguments: argparse.Namespace) -> int:
    """Serve until the client says exit; pygls is imported only here."""
    try:
        import pygls  # noqa: F401
    except ImportError:
        raise UsageError("perflint server needs pygls: pip install 'perflint-ml[lsp]'") from None
    from perflint.server.server import DEFAULT_DEBOUNCE, serve

    if arguments.config is not None and not os.path.isfile(arguments.config):
        raise UsageError(f"config file not found: {arguments.config}")
    debounce = DEFAULT_DEBOUNCE if arguments.debounce is None else arguments.debounce
    if not debounce >= 0:
        raise UsageError(f"--debounce must be zero or a positive number of seconds, not {debounce:g}")
    serve(debounce, arguments.config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
