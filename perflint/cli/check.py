"""``perflint check``: configuration and command line, then discovery, linting and the report.

Each file is linted under the configuration of the project that owns it. Neither the rules
nor libcst are imported here: the selection is resolved from the cache's rule index, so a run
whose every file is cached never imports them (see ``perflint.runner``).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from perflint import selection
from perflint.cli.main import UsageError
from perflint.config import Config, ConfigError, ConfigResolver, per_file_timeout_problem
from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding
from perflint.engine.safety import FixSafety
from perflint.files import MissingPathError, SourceFile, discover
from perflint.runner import LintTask, lint_files
from perflint.selection import UnknownCodeError

# Formats that cannot carry the table of measured costs.
_FORMATS_WITHOUT_MEASUREMENTS = ("sarif", "github", "openmetrics")
STDIN_PATH = "-"
# What a finding in source read from standard input is reported at without --stdin-filename.
STDIN_DISPLAY_NAME = "<stdin>"


def _flatten(groups: Sequence[Sequence[str]] | None) -> list[str] | None:
    """``--select A,B --select C`` arrives as ``[["A", "B"], ["C"]]``."""
    if groups is None:
        return None
    return [code for group in groups for code in group]


def resolve_selection(
    config: Config,
    select: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    rules: Sequence[Any] | None = None,
) -> list[Any]:
    """The enabled rules among ``rules`` (default: the registry's rule classes): the
    configuration's selection, then the command line's on top.

    As in Ruff, a command-line ``--select`` starts afresh and discards the configuration's
    selection; otherwise ``--ignore`` switches rules off and ``--extend-select`` switches
    them on over what the configuration enabled, the more specific of the two winning.
    """
    if rules is None:
        from perflint.rules import all_rules

        rules = all_rules()
    if select is not None:
        return selection.select(rules, select, ignore, extend_select)
    enabled = set(selection.select(rules, config.select, config.ignore, config.extend_select))
    if ignore:
        enabled -= set(selection.select(rules, select=ignore))
    if extend_select:
        enabled |= set(selection.select(rules, select=extend_select, ignore=ignore))
    return sorted(enabled, key=lambda rule: rule.code)


def _without(codes: Iterable[str], ignored: Sequence[str]) -> tuple[str, ...]:
    prefixes = [code.upper() for code in ignored]
    if "ALL" in prefixes:
        return ()
    return tuple(code for code in codes if not any(code.startswith(prefix) for prefix in prefixes))


def fired_rules(findings: Iterable[Finding]) -> list[Any]:
    """The rules with at least one finding, most findings first (measured first when the
    budget is short), then in code order; PFL000 is no rule."""
    from perflint.rules import rule_by_code

    counts: dict[str, int] = {}
    for finding in findings:
        if finding.code != INTERNAL_ERROR_CODE:
            counts[finding.code] = counts.get(finding.code, 0) + 1
    codes = sorted(counts, key=lambda code: (-counts[code], code))
    return [rule for rule in map(rule_by_code, codes) if rule is not None]


def _rule_index(cache_directories: Iterable[str]) -> tuple[Sequence[Any], bool]:
    """Every rule's code and default, and whether it came from a cache's index (else it came
    from the registry, which imports every rule and libcst)."""
    from perflint.cache import Cache

    for directory in cache_directories:
        index = Cache(directory).rule_index()
        if index is not None:
            return index, True
    from perflint.rules import all_rules

    return all_rules(), False


class _Plan:
    """The enabled codes, cache folder and time limit of each project's files, worked out once
    per configuration."""

    def __init__(self, args: argparse.Namespace, rules: Sequence[Any], usable_caches: Iterable[str] = ()) -> None:
        self.args = args
        self.rules = rules
        self.usable_caches = set(usable_caches)
        self._codes: dict[int, tuple[str, ...]] = {}

    def codes(self, config: Config) -> tuple[str, ...]:
        if id(config) not in self._codes:
            args = self.args
            try:
                enabled = resolve_selection(
                    config,
                    _flatten(args.select),
                    _flatten(args.ignore) or (),
                    _flatten(args.extend_select) or (),
                    self.rules,
                )
            except UnknownCodeError as error:  # the command line's: the files' codes are checked
                raise UsageError(str(error)) from None
            self._codes[id(config)] = tuple(rule.code for rule in enabled)
        return self._codes[id(config)]

    def task(self, source_file: SourceFile, config: Config, data: bytes | None = None) -> LintTask:
        codes = _without(self.codes(config), config.ignored_for(source_file.absolute))
        cache_directory = None
        if data is None:
            cache_directory = next(iter(_cache_directories(self.args, [config])), None)
            if cache_directory not in self.usable_caches:
                cache_directory = None
        time_limit = self.args.per_file_timeout or config.per_file_timeout
        return LintTask(source_file, codes, cache_directory, time_limit, data)


def run_check(args: argparse.Namespace) -> int:
    """Lint ``args.paths`` and write the report; 1 when there are findings, else 0."""
    if args.measure and args.output_format in _FORMATS_WITHOUT_MEASUREMENTS:
        raise UsageError(
            f"--measure cannot be combined with --output-format {args.output_format}: "
            "that format has no place for the table of measured costs"
        )
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if not (math.isfinite(args.measure_budget) and args.measure_budget > 0):
        raise UsageError(f"--measure-budget must be a positive number of seconds, not {args.measure_budget:g}")
    timeout_problem = None if args.per_file_timeout is None else per_file_timeout_problem(args.per_file_timeout)
    if timeout_problem is not None:
        raise UsageError(f"--per-file-timeout {timeout_problem}")
    if args.diff and args.measure:
        raise UsageError("--diff prints what --fix would change; it cannot be combined with --measure")
    paths = args.paths or ["."]
    reads_stdin = STDIN_PATH in paths
    if reads_stdin and len(paths) > 1:
        raise UsageError("'-' (standard input) cannot be combined with other paths")
    if args.stdin_filename is not None and not reads_stdin:
        raise UsageError("--stdin-filename names the source read from standard input; pass '-' as the path")
    working_directory = os.getcwd()
    try:
        resolver = ConfigResolver(args.config, working_directory)
        discovery = None
        if not reads_stdin:
            try:
                discovery = discover(paths, resolver.file_filter, args.force_exclude)
            except MissingPathError as error:
                raise UsageError(str(error)) from None
        # The configurations were read unchecked; their codes are checked against the index.
        configs = [resolver.for_file(source_file.absolute) for source_file in discovery.files] if discovery else []
        cache_directories = [] if reads_stdin else _claimed(_cache_directories(args, configs or [resolver.fallback]))
        rules, from_cache = _rule_index(cache_directories)
        resolver.use_rules(rules)
        plan = _Plan(args, rules, cache_directories)
        plan.codes(resolver.fallback)
        if discovery is None:
            tasks, files_checked, unreadable = _stdin_tasks(args, resolver, plan)
            configs = [
                resolver.for_file(task.source_file.absolute) if args.stdin_filename else resolver.fallback
                for task in tasks
            ]
        else:
            tasks = [plan.task(source_file, config) for source_file, config in zip(discovery.files, configs)]
            # What could not be read was looked at too: the summary never counts more files with
            # findings than files checked.
            unreadable = discovery.unreadable
            files_checked = len(discovery.files) + len({finding.path for finding in unreadable})
        tasks = _with_project_views(args, tasks, configs, paths, reads_stdin)
    except ConfigError as error:
        raise UsageError(str(error)) from None
    unsafe_fixes = resolver.fallback.unsafe_fixes if args.unsafe_fixes is None else args.unsafe_fixes
    # Every input is read and checked before ``--fix`` changes a file: a bad profile is a usage
    # error of a run that wrote nothing.
    profile = _read_profile(args.profile) if args.profile is not None else None
    findings = unreadable + lint_files(tasks, args.jobs)
    if not from_cache:
        _record_rule_index({task.cache_directory for task in tasks if task.cache_directory}, rules)
    report_stream = sys.stdout
    fixed = None
    if args.fix or args.diff:
        from perflint.cli.fixing import DIFF, STANDARD_OUTPUT, WRITE, apply_fixes

        mode = DIFF if args.diff else STANDARD_OUTPUT if reads_stdin else WRITE
        diffs = _DiffCollector() if args.diff and args.output_format == "json" else None
        fix_run = apply_fixes(
            tasks, findings, unsafe=unsafe_fixes, mode=mode, stream=diffs or sys.stdout, jobs=args.jobs, roots=paths
        )
        if diffs is not None:
            _write_diff_json(findings, diffs, fix_run.fixed)
        if args.diff:
            return _diff_summary(fix_run.fixed, fix_run.files, findings, unsafe_fixes, args.exit_zero)
        if reads_stdin:
            # The fixed source goes to standard output (the original when nothing was fixed), so
            # an editor can pipe through ``perflint check --fix -``; the report goes to stderr.
            if not fix_run.files and tasks and tasks[0].data is not None:
                _echo(tasks[0].data)
            report_stream = sys.stderr
        findings, fixed = fix_run.findings, fix_run.fixed

    measurement = None
    if args.measure:
        from perflint.cli.progress import measuring_progress
        from perflint.measure.cache import MeasurementCache
        from perflint.measure.harness import measure_rules

        # --remeasure still stores what it measures, so the next run reuses the fresh numbers.
        measurement_folder = next(iter(_cache_directories(args, [resolver.fallback])), None)
        measurement_cache = (
            None
            if measurement_folder is None
            else MeasurementCache(resolver.fallback.root, read=not args.remeasure, folder=measurement_folder)
        )
        with measuring_progress(args.output_format != "json") as progress:
            measurement = measure_rules(
                fired_rules(findings), budget_seconds=args.measure_budget, cache=measurement_cache, progress=progress
            )

    if profile is not None:
        findings = _with_profile(findings, args.profile, profile, measurement)

    from perflint.output import write_report

    # Standard input's lines are shown from its bytes, never from a file of the same name.
    buffers = {task.source_file.path: None if fixed else task.data for task in tasks if task.data is not None}
    write_report(
        findings,
        args.output_format,
        report_stream,
        files_checked=files_checked,
        statistics=args.statistics,
        measurement=measurement,
        fixed=fixed,
        unsafe_fixes=unsafe_fixes,
        buffers=buffers,
    )
    return 0 if args.exit_zero or not findings else 1


def _echo(data: bytes) -> None:
    """Standard input's bytes back to standard output, unchanged."""
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8", "replace"))


class _DiffCollector(io.StringIO):
    """The stream ``apply_fixes`` prints diffs to under ``--diff --output-format json``: it is
    given each file's whole diff in one write, which starts ``--- PATH``."""

    def __init__(self) -> None:
        super().__init__()
        self.diffs: list[dict[str, str]] = []

    def write(self, text: str) -> int:
        header = text.split("\n", 1)[0]
        path = header[len("--- ") :] if header.startswith("--- ") else ""
        self.diffs.append({"path": path, "diff": text})
        return len(text)


def _write_diff_json(findings: Sequence[Finding], diffs: _DiffCollector, fixable: int) -> None:
    """``--diff --output-format json``: the findings as the json format gives them, how many
    ``--fix`` would fix, and each file's unified diff (docs/fixes.md)."""
    import json

    from perflint import __version__

    report = {
        "version": __version__,
        "findings": [finding.to_dict() for finding in sorted(findings, key=lambda finding: finding.sort_key)],
        "would_fix": fixable,
        "diffs": sorted(diffs.diffs, key=lambda diff: diff["path"]),
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")


def _diff_summary(fixable: int, files: int, findings: Sequence[Finding], unsafe_fixes: bool, exit_zero: bool) -> int:
    """After ``--diff``'s diffs, on standard error: what ``--fix`` would fix, and what more
    ``--unsafe-fixes`` would. Exit 1 when there is anything to fix."""
    from perflint.output.common import plural

    hidden = (
        0
        if unsafe_fixes
        else sum(1 for finding in findings if finding.fix is not None and finding.fix.applicability != FixSafety.SAFE)
    )
    if fixable:
        message = f"Would fix {plural(fixable, 'finding')} in {plural(files, 'file')}."
    else:
        message = "No fixes to apply."
    if hidden:
        message += f" {plural(hidden, 'more finding')} can be fixed with --unsafe-fixes."
    print(message, file=sys.stderr)
    return 0 if exit_zero or not fixable else 1


def _read_profile(path: str) -> Any:
    from perflint.profile import ProfileError, read_profile

    try:
        return read_profile(path)
    except ProfileError as error:
        raise UsageError(str(error)) from None


def _with_profile(findings: list[Finding], path: str, profile: Any, measurement: Any) -> list[Finding]:
    """The findings with their functions' shares of the profiled run; how many matched goes to
    standard error, and a profile that matches nothing is a warning (another program's)."""
    from perflint.profile import attach_profile

    attribution = attach_profile(findings, profile, measurement)
    total = attribution.matched + attribution.unmatched
    if total and not attribution.matched:
        print(
            f"perflint: warning: no finding lies in a function the profile {path} shows; is it a profile "
            f"of another program?",
            file=sys.stderr,
        )
    elif attribution.unmatched:
        print(
            f"perflint: {attribution.matched} of {total} findings matched a function in the profile "
            f"{path} ({profile.format}); {attribution.unmatched} could not be matched",
            file=sys.stderr,
        )
    return attribution.findings


def _cache_directories(args: argparse.Namespace, configs: Sequence[Config]) -> list[str]:
    if args.no_cache:
        return []
    if args.cache_dir:
        return [os.path.abspath(args.cache_dir)]
    return list(dict.fromkeys(config.cache_directory for config in configs))


def _claimed(cache_directories: Sequence[str]) -> list[str]:
    """The cache folders this run may use, each made perflint's (``cache.claim_cache_folder``). One
    that holds someone else's files is a usage error, before anything is linted; one that cannot
    be created is a warning, and its files are linted without a cache."""
    from perflint.cache import ForeignCacheFolderError, claim_cache_folder

    usable = []
    for directory in cache_directories:
        try:
            claim_cache_folder(directory)
        except ForeignCacheFolderError as error:
            raise UsageError(str(error)) from None
        except OSError as error:
            print(f"perflint: warning: cannot use the cache in {directory}: {error.strerror or error}", file=sys.stderr)
        else:
            usable.append(directory)
    return usable


def _record_rule_index(cache_directories: Iterable[str], rules: Sequence[Any]) -> None:
    """Write the index into each cache this run used, so the next run can select from it."""
    from perflint.cache import Cache

    for directory in sorted(cache_directories):
        cache = Cache(directory)
        if os.path.isdir(cache.directory):
            try:
                cache.store_rule_index(rules)
            except OSError:
                pass  # the run already warned that this cache cannot be written


def _with_project_views(
    args: argparse.Namespace, tasks: list[LintTask], configs: Sequence[Config], paths: Sequence[str], reads_stdin: bool
) -> list[LintTask]:
    """The tasks, each with what its project's index says about its names (see
    ``perflint.engine.project``): one index per project root, built from every file of the run
    in that project, and from the cached summaries of the project's other files when the run
    does not cover the whole project."""
    from dataclasses import replace

    from perflint.engine.project_cache import IndexedFile, project_views

    by_root: dict[str, list[int]] = {}
    for index, config in enumerate(configs):
        by_root.setdefault(config.root, []).append(index)
    named = [os.path.abspath(path) for path in paths if path != STDIN_PATH]
    tasks = list(tasks)
    for root, indices in by_root.items():
        whole = any(root == path or root.startswith(path.rstrip(os.sep) + os.sep) for path in named)
        cache_directory = next(iter(_cache_directories(args, [configs[indices[0]]])), None)
        files = [IndexedFile(tasks[index].source_file.absolute, tasks[index].data) for index in indices]
        outcome = project_views(files, root, cache_directory, whole_project=whole and not reads_stdin)
        if args.verbose:
            print(f"perflint: {outcome.description}", file=sys.stderr)
        for index in indices:
            view = outcome.views.get(tasks[index].source_file.absolute)
            if view is not None:
                tasks[index] = replace(tasks[index], project=view)
    return tasks


def _stdin_tasks(
    args: argparse.Namespace, resolver: ConfigResolver, plan: _Plan
) -> tuple[list[LintTask], int, list[Finding]]:
    """The one task of ``perflint check -``: the source is standard input's bytes, reported
    at ``--stdin-filename`` and configured as that file would be (its project's settings and
    per-file ignores; with ``--force-exclude``, an excluded name is not linted, as in Ruff)."""
    display = args.stdin_filename or STDIN_DISPLAY_NAME
    absolute = os.path.abspath(args.stdin_filename or STDIN_DISPLAY_NAME)
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    config = resolver.for_file(absolute) if args.stdin_filename else resolver.fallback
    if args.force_exclude and args.stdin_filename and config.excluded().matches_within(absolute):
        return [], 0, []
    return [plan.task(SourceFile(display, absolute), config, data)], 1, []
