"""A profile of the user's own run, read so that findings can be ranked by where time went.

A static finding says a pattern is slow; a profile says where the program spends its time.
Joined, they say which findings are worth fixing first: each finding gets the share of the
run spent in the function that contains it (inclusive time, as profilers report it).

Three formats are read, told apart by their content:

- cProfile / pstats files (``python -m cProfile -o prof.out train.py``): one record per
  function, keyed by its first line, with its cumulative (inclusive) time;
- PyTorch profiler Chrome traces (``prof.export_chrome_trace("trace.json")``): complete
  events (``"ph": "X"``) of Python functions, named ``path(line): function``; a function's
  inclusive time is the time covered by its calls (recursive calls are not counted twice);
- speedscope JSON (``py-spy record --format speedscope``): sampled stacks of frames with a
  file and a line; a function's inclusive time is the weight of the samples it is on.

A profile names files by the paths of the machine it ran on. A linted file is matched to the
profile's path that shares the longest run of trailing path components with it (its name at
least). A profile position is attributed to the innermost function of the linted source that
contains the line (a ``def`` line and its decorators belong to the function), so every format
is reduced to the same thing: inclusive seconds per function of the linted files.
"""

from __future__ import annotations

import ast
import json
import marshal
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding, ProfileShare

if TYPE_CHECKING:
    from perflint.measure.results import Measurement, MeasurementReport

ACCEPTED_FORMATS = "a cProfile/pstats file, a PyTorch profiler Chrome trace (JSON), or a speedscope JSON file"

# A line number longer than this is no line of a source file (and Python refuses to convert
# integers of thousands of digits).
_MAX_LINE_DIGITS = 9
_TRACE_FUNCTION = re.compile(r"^(?P<path>.+)\((?P<line>\d+)\): (?P<function>.+)$")


class ProfileError(Exception):
    """The file cannot be read as any of the accepted profile formats, or holds what no profile
    can (a negative or non-finite time, a frame that is not there): one line, naming the file."""


def _refused(path: str, reason: str) -> ProfileError:
    return ProfileError(f"cannot read profile {path}: {reason}")


@dataclass(frozen=True)
class Sample:
    """Time spent with ``(path, line)`` on the stack: one function of the profile.

    ``stack_id`` groups the positions of one sampled stack or one call (None for pstats, whose
    records are already per function), so that a function present several times in one stack
    is counted once.
    """

    path: str
    line: int
    seconds: float
    stack_id: int | None = None


@dataclass(frozen=True)
class Profile:
    format: str
    samples: tuple[Sample, ...]
    total_seconds: float

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(sample.path for sample in self.samples)


def read_profile(path: str) -> Profile:
    """The profile in ``path``, whatever its accepted format; ``ProfileError`` otherwise.

    Every time must be a finite number of seconds, not negative: a profile is a measurement,
    and a share of the run computed from a negative or infinite time would be nonsense
    ("-2000% of the run")."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise _refused(path, error.strerror or str(error)) from None
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None  # binary: a pstats file (whose marshalled dict may begin with "{")
    if text is not None and text.lstrip()[:1] in ("{", "["):
        try:
            document = json.loads(text)
        except RecursionError:
            raise _refused(path, "its JSON is nested too deeply to read") from None
        except ValueError as error:  # JSONDecodeError, and an integer of more digits than Python converts
            raise _refused(path, f"not valid JSON ({error}); expected {ACCEPTED_FORMATS}") from None
        if isinstance(document, dict) and "speedscope" in str(document.get("$schema", "")):
            return _read_speedscope(document, path)
        if isinstance(document, list) or (isinstance(document, dict) and "traceEvents" in document):
            return _read_chrome_trace(document, path)
        raise _refused(path, f"JSON but neither a Chrome trace nor speedscope; expected {ACCEPTED_FORMATS}")
    return _read_pstats(data, path)


def _seconds(value: object, path: str, what: str, moment: bool = False) -> float:
    """``value`` as a time: a finite number, not negative unless it is a ``moment`` (a
    timestamp); else the profile is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refused(path, f"{what} is not a number ({type(value).__name__})")
    try:
        number = float(value)
        shown = f"{number:.3g}"
    except OverflowError:  # an integer beyond the largest float
        number, shown = math.inf, "a number too large for a float"
    if not math.isfinite(number) or (number < 0 and not moment):
        rule = "a finite number" if moment else "a finite number, not negative"
        raise _refused(path, f"{what} is {shown}; a time must be {rule}")
    return number


def _read_pstats(data: bytes, path: str) -> Profile:
    try:
        stats = marshal.loads(data)
    except (EOFError, ValueError, TypeError, RecursionError):
        stats = None
    if not isinstance(stats, dict):
        raise _refused(path, f"not a profile; expected {ACCEPTED_FORMATS}")
    samples = []
    total = 0.0
    for key, record in stats.items():
        if not (
            isinstance(key, tuple)
            and len(key) == 3
            and isinstance(record, tuple)
            and len(record) == 5
            and isinstance(key[1], int)
            and not isinstance(key[1], bool)
        ):
            raise _refused(
                path,
                f"not a pstats file (a record is {type(record).__name__}, not the five fields "
                f"of cProfile); expected {ACCEPTED_FORMATS}",
            )
        filename, line, function = key
        own = _seconds(record[2], path, f"the own time of {function!r}")
        cumulative = _seconds(record[3], path, f"the cumulative time of {function!r}")
        total += own
        if _is_source_function(filename, function):
            samples.append(Sample(filename, line, cumulative))
    return Profile("pstats", tuple(samples), _seconds(total, path, "the total time"))


def _read_chrome_trace(document: list[Any] | dict[str, Any], path: str) -> Profile:
    events = document if isinstance(document, list) else document.get("traceEvents")
    if not isinstance(events, list):
        raise _refused(path, f"its traceEvents is not a list; expected {ACCEPTED_FORMATS}")
    calls: list[tuple[str, int, float, float]] = []
    start, end = math.inf, -math.inf
    for number, event in enumerate(events):
        if not isinstance(event, dict) or event.get("ph") != "X" or "ts" not in event:
            continue
        where = f"trace event {number}"
        begin = _seconds(event["ts"], path, f"the timestamp of {where}", moment=True)
        duration = _seconds(event.get("dur", 0.0), path, f"the duration of {where}")
        start, end = min(start, begin), max(end, begin + duration)
        match = _TRACE_FUNCTION.match(str(event.get("name", "")))
        if match is not None and _is_source_function(match.group("path"), match.group("function")):
            if len(match.group("line")) > _MAX_LINE_DIGITS:
                raise _refused(path, f"the line number of {where} has {len(match.group('line'))} digits")
            calls.append((match.group("path"), int(match.group("line")), begin, begin + duration))
    if end < start:
        raise _refused(path, f"no complete trace events; expected {ACCEPTED_FORMATS}")
    # Trace timestamps are in microseconds. A function's calls may nest (recursion): the
    # time a function covers is the union of its call intervals.
    by_function: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for file, line, begin, finish in calls:
        by_function.setdefault((file, line), []).append((begin, finish))
    samples = tuple(
        Sample(file, line, _union_length(intervals) / 1e6) for (file, line), intervals in by_function.items()
    )
    return Profile("chrome-trace", samples, _seconds((end - start) / 1e6, path, "the traced time"))


def _is_source_function(filename: object, function: object) -> bool:
    """A function written in a source file: not a builtin (``~``), not ``<stdin>``, and not a
    ``<lambda>``, ``<listcomp>`` or ``<module>``, whose time its enclosing function's
    inclusive time already holds (or which is no function at all)."""
    return (
        isinstance(filename, str)
        and not filename.startswith(("~", "<"))
        and isinstance(function, str)
        and not function.startswith("<")
    )


def _union_length(intervals: list[tuple[float, float]]) -> float:
    covered, reach = 0.0, float("-inf")
    for begin, finish in sorted(intervals):
        if finish <= reach:
            continue
        covered += finish - max(begin, reach)
        reach = finish
    return covered


def _read_speedscope(document: dict, path: str) -> Profile:
    shared = document.get("shared")
    frames = shared.get("frames") if isinstance(shared, dict) else None
    profiles = document.get("profiles")
    if not isinstance(frames, list) or not isinstance(profiles, list):
        raise _refused(path, "speedscope without a list of shared frames and a list of profiles")
    for number, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise _refused(path, f"speedscope frame {number} is not an object")
        file, line = frame.get("file"), frame.get("line")
        if file is not None and not isinstance(file, str):
            raise _refused(path, f"the file of speedscope frame {number} is not a string")
        if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
            raise _refused(path, f"the line of speedscope frame {number} is not a whole number")
    samples: list[Sample] = []
    total = 0.0
    stack_id = 0
    for number, profile in enumerate(profiles):
        if not isinstance(profile, dict):
            raise _refused(path, f"speedscope profile {number} is not an object")
        if profile.get("type") != "sampled":
            continue  # an evented profile (another tool's) has no samples to weigh
        unit = profile.get("unit", "none")
        if not isinstance(unit, str) or unit not in _SPEEDSCOPE_UNITS:
            raise _refused(
                path,
                f"speedscope profile {number} has the unit {unit!r}; expected one of {', '.join(_SPEEDSCOPE_UNITS)}",
            )
        stacks, weights = profile.get("samples"), profile.get("weights")
        if not isinstance(stacks, list) or not isinstance(weights, list) or len(stacks) != len(weights):
            raise _refused(path, f"speedscope profile {number} needs lists of samples and of weights of one length")
        for stack, weight in zip(stacks, weights):
            seconds = _seconds(weight, path, f"a weight of speedscope profile {number}") * _SPEEDSCOPE_UNITS[unit]
            if not isinstance(stack, list):
                raise _refused(path, f"a sample of speedscope profile {number} is not a list of frame indexes")
            total += seconds
            stack_id += 1
            for index in stack:
                if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(frames):
                    raise _refused(
                        path,
                        f"a sample of speedscope profile {number} names frame {index!r}, "
                        f"not one of the {len(frames)} frames",
                    )
                frame = frames[index]
                if frame.get("file") and isinstance(frame.get("line"), int):
                    samples.append(Sample(frame["file"], frame["line"], seconds, stack_id))
    return Profile("speedscope", tuple(samples), _seconds(total, path, "the total weight"))


_SPEEDSCOPE_UNITS = {"seconds": 1.0, "milliseconds": 1e-3, "microseconds": 1e-6, "nanoseconds": 1e-9, "none": 1.0}


def match_paths(linted: Iterable[str], profiled: Iterable[str]) -> dict[str, str]:
    """For each linted path, the profile path sharing the most trailing components with it
    (the file name at least); a tie between profile paths leaves the file unmatched."""
    candidates: dict[str, list[PurePath]] = {}
    for path in profiled:
        pure = PurePath(path)
        candidates.setdefault(pure.name, []).append(pure)
    matched = {}
    for path in linted:
        parts = PurePath(path).parts
        best: list[tuple[int, PurePath]] = []
        for candidate in candidates.get(PurePath(path).name, ()):
            common = 0
            for mine, theirs in zip(reversed(parts), reversed(candidate.parts)):
                if mine != theirs:
                    break
                common += 1
            best.append((common, candidate))
        if not best:
            continue
        best.sort(key=lambda item: -item[0])
        if len(best) == 1 or best[0][0] > best[1][0]:
            matched[path] = str(best[0][1])
    return matched


@dataclass(frozen=True)
class _Span:
    name: str
    first: int  # the first decorator's line, or the ``def`` line
    last: int


def function_spans(source: str) -> list[_Span]:
    """Every function of ``source`` with its lines, decorators included; outer before inner."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])
            spans.append(_Span(node.name, first, node.end_lineno or node.lineno))
    spans.sort(key=lambda span: (span.first, -span.last))
    return spans


def _innermost(spans: Sequence[_Span], line: int) -> _Span | None:
    found = None
    for span in spans:
        if span.first <= line <= span.last and (found is None or span.first >= found.first):
            found = span
    return found


class ProfileIndex:
    """Inclusive seconds per function of the linted files, from one profile."""

    def __init__(self, profile: Profile, sources: dict[str, str]) -> None:
        """``sources``: the linted files' paths (as findings name them) and their text."""
        self.profile = profile
        matched = match_paths(sources, profile.paths)
        by_profile_path: dict[str, list[Sample]] = {}
        for sample in profile.samples:
            by_profile_path.setdefault(sample.path, []).append(sample)
        self._spans: dict[str, list[_Span]] = {}
        self._seconds: dict[tuple[str, _Span], float] = {}
        for path, profile_path in matched.items():
            spans = function_spans(sources[path])
            self._spans[path] = spans
            counted: set[tuple[_Span, int | None]] = set()
            for sample in by_profile_path[profile_path]:
                span = _innermost(spans, sample.line)
                if span is None:
                    continue
                if sample.stack_id is not None:
                    if (span, sample.stack_id) in counted:
                        continue
                    counted.add((span, sample.stack_id))
                key = (path, span)
                self._seconds[key] = self._seconds.get(key, 0.0) + sample.seconds

    def share_at(self, path: str, line: int) -> ProfileShare | None:
        """The function around ``path:line`` and its share of the run; None when the file or
        the function does not appear in the profile."""
        span = _innermost(self._spans.get(path, ()), line)
        if span is None or (path, span) not in self._seconds:
            return None
        seconds = self._seconds[(path, span)]
        total = self.profile.total_seconds
        return ProfileShare(span.name, seconds, min(1.0, seconds / total) if total > 0 else 0.0)


@dataclass(frozen=True)
class Attribution:
    findings: list[Finding]
    matched: int  # findings placed in a profiled function
    unmatched: int  # findings in files or functions the profile does not show


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def attach_profile(
    findings: Sequence[Finding], profile: Profile, measurement: MeasurementReport | None = None
) -> Attribution:
    """Each finding with the share of the run spent in the function around it, and with
    ``measurement`` an estimated upper bound of the saving: share × (1 − 1/speedup), the
    speedup measured on the rule's first measured target at the size closest to the finding's
    own where the code states it (``Finding.size``), else at the benchmark's middle size.
    Notebook findings are not matched (the profile's lines are the exported script's)."""
    sources = {}
    for finding in findings:
        if finding.cell is None and finding.code != INTERNAL_ERROR_CODE and finding.path not in sources:
            text = _read_text(finding.path)
            if text is not None:
                sources[finding.path] = text
    index = ProfileIndex(profile, sources)
    targets = _first_measured_targets(measurement) if measurement is not None else {}
    attached, matched, unmatched = [], 0, 0
    for finding in findings:
        if finding.code == INTERNAL_ERROR_CODE:
            attached.append(finding)
            continue
        share = index.share_at(finding.path, finding.line) if finding.cell is None else None
        if share is None:
            unmatched += 1
            attached.append(finding)
            continue
        matched += 1
        speedup_at = _speedup_at(targets[finding.code], finding.size) if finding.code in targets else None
        if speedup_at is not None:
            speedup, size, unit = speedup_at
            saving = share.share * max(0.0, 1.0 - 1.0 / speedup)
            estimate = (
                f"at most {share.share:.1%} of the run × (1 − 1/{speedup:.3g}), the speedup "
                f"measured at {size:,} {unit}".rstrip()
            )
            share = ProfileShare(share.function, share.inclusive_seconds, share.share, saving, estimate)
        attached.append(replace(finding, profile=share))
    return Attribution(attached, matched, unmatched)


def _first_measured_targets(measurement: MeasurementReport) -> dict[str, Measurement]:
    targets: dict[str, Measurement] = {}
    for result in measurement.measurements:
        if result.code not in targets and result.measured_points:
            targets[result.code] = result
    return targets


def _speedup_at(result: Measurement, size: int | None) -> tuple[float, int, str] | None:
    """The speedup at the measured size closest to ``size`` (the middle one when unknown), that
    size, and its unit."""
    from perflint.measure.table import ranking_point

    point = ranking_point(result, {result.code: size} if size is not None else None)
    if point is None or point.speedup is None:
        return None
    return point.speedup, point.size, result.size_unit.split(" (")[0]
