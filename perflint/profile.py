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
import re
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import TYPE_CHECKING, Iterable, Optional, Sequence

from perflint.engine.findings import INTERNAL_ERROR_CODE, Finding, ProfileShare

if TYPE_CHECKING:
    from perflint.measure.results import MeasurementReport

ACCEPTED_FORMATS = "a cProfile/pstats file, a PyTorch profiler Chrome trace (JSON), or a speedscope JSON file"

_TRACE_FUNCTION = re.compile(r"^(?P<path>.+)\((?P<line>\d+)\): (?P<function>.+)$")


class ProfileError(Exception):
    """The file cannot be read as any of the accepted profile formats."""


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
    stack_id: Optional[int] = None


@dataclass(frozen=True)
class Profile:
    format: str
    samples: tuple[Sample, ...]
    total_seconds: float

    @property
    def paths(self) -> frozenset[str]:
        return frozenset(sample.path for sample in self.samples)


def read_profile(path: str) -> Profile:
    """The profile in ``path``, whatever its accepted format; ``ProfileError`` otherwise."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise ProfileError(f"cannot read profile {path}: {error.strerror or error}") from None
    stripped = data.lstrip()
    if stripped[:1] in (b"{", b"["):
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ProfileError(f"{path} is not valid JSON ({error}); expected {ACCEPTED_FORMATS}") from None
        if isinstance(document, dict) and "speedscope" in str(document.get("$schema", "")):
            return _read_speedscope(document, path)
        if isinstance(document, list) or (isinstance(document, dict) and "traceEvents" in document):
            return _read_chrome_trace(document, path)
        raise ProfileError(f"{path} is JSON but neither a Chrome trace nor speedscope; expected {ACCEPTED_FORMATS}")
    return _read_pstats(data, path)


def _read_pstats(data: bytes, path: str) -> Profile:
    try:
        stats = marshal.loads(data)
    except (EOFError, ValueError, TypeError):
        stats = None
    if not isinstance(stats, dict):
        raise ProfileError(f"{path} is not a profile: expected {ACCEPTED_FORMATS}")
    samples = []
    total = 0.0
    try:
        for (filename, line, function), (_calls, _primitive, own, cumulative, _callers) in stats.items():
            total += own
            if _is_source_function(filename, function):
                samples.append(Sample(filename, int(line), float(cumulative)))
    except (TypeError, ValueError):
        raise ProfileError(f"{path} is not a profile: expected {ACCEPTED_FORMATS}") from None
    return Profile("pstats", tuple(samples), total)


def _read_chrome_trace(document: object, path: str) -> Profile:
    events = document if isinstance(document, list) else document.get("traceEvents")
    if not isinstance(events, list):
        raise ProfileError(f"{path} has no trace events; expected {ACCEPTED_FORMATS}")
    calls: list[tuple[str, int, float, float]] = []
    start, end = float("inf"), float("-inf")
    for event in events:
        if not isinstance(event, dict) or event.get("ph") != "X":
            continue
        try:
            begin, duration = float(event["ts"]), float(event.get("dur", 0.0))
        except (KeyError, TypeError, ValueError):
            continue
        start, end = min(start, begin), max(end, begin + duration)
        match = _TRACE_FUNCTION.match(str(event.get("name", "")))
        if match is not None and _is_source_function(match.group("path"), match.group("function")):
            calls.append((match.group("path"), int(match.group("line")), begin, begin + duration))
    if end < start:
        raise ProfileError(f"{path} has no complete trace events; expected {ACCEPTED_FORMATS}")
    # Trace timestamps are in microseconds. A function's calls may nest (recursion): the
    # time a function covers is the union of its call intervals.
    by_function: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for file, line, begin, finish in calls:
        by_function.setdefault((file, line), []).append((begin, finish))
    samples = tuple(
        Sample(file, line, _union_length(intervals) / 1e6) for (file, line), intervals in by_function.items()
    )
    return Profile("chrome-trace", samples, (end - start) / 1e6)


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
    try:
        frames = document["shared"]["frames"]
        profiles = document["profiles"]
    except (KeyError, TypeError):
        raise ProfileError(f"{path} is speedscope without frames or profiles") from None
    samples: list[Sample] = []
    total = 0.0
    stack_id = 0
    for profile in profiles:
        if not isinstance(profile, dict) or profile.get("type") != "sampled":
            continue
        scale = _SPEEDSCOPE_UNITS.get(profile.get("unit", "none"), 1.0)
        for stack, weight in zip(profile.get("samples", ()), profile.get("weights", ())):
            seconds = float(weight) * scale
            total += seconds
            stack_id += 1
            for index in stack:
                frame = frames[index] if isinstance(index, int) and 0 <= index < len(frames) else None
                if isinstance(frame, dict) and frame.get("file") and isinstance(frame.get("line"), int):
                    samples.append(Sample(frame["file"], frame["line"], seconds, stack_id))
    return Profile("speedscope", tuple(samples), total)


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


def _innermost(spans: Sequence[_Span], line: int) -> Optional[_Span]:
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
            counted: set[tuple[_Span, Optional[int]]] = set()
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

    def share_at(self, path: str, line: int) -> Optional[ProfileShare]:
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


def _read_text(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def attach_profile(
    findings: Sequence[Finding], profile: Profile, measurement: Optional["MeasurementReport"] = None
) -> Attribution:
    """Each finding with the share of the run spent in the function around it, and with
    ``measurement`` an estimated upper bound of the saving: share × (1 − 1/speedup), the
    speedup measured at the middle size of the rule's benchmark on its first measured target.
    Notebook findings are not matched (the profile's lines are the exported script's)."""
    sources = {}
    for finding in findings:
        if finding.cell is None and finding.code != INTERNAL_ERROR_CODE and finding.path not in sources:
            text = _read_text(finding.path)
            if text is not None:
                sources[finding.path] = text
    index = ProfileIndex(profile, sources)
    speedups = _middle_speedups(measurement) if measurement is not None else {}
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
        if finding.code in speedups:
            speedup, size, unit = speedups[finding.code]
            saving = share.share * max(0.0, 1.0 - 1.0 / speedup)
            estimate = (f"at most {share.share:.1%} of the run × (1 − 1/{speedup:.3g}), the speedup "
                        f"measured at {size:,} {unit}".rstrip())
            share = ProfileShare(share.function, share.inclusive_seconds, share.share, saving, estimate)
        attached.append(replace(finding, profile=share))
    return Attribution(attached, matched, unmatched)


def _middle_speedups(measurement: "MeasurementReport") -> dict[str, tuple[float, int, str]]:
    speedups: dict[str, tuple[float, int, str]] = {}
    for result in measurement.measurements:
        points = sorted(result.measured_points, key=lambda point: point.size)
        if result.code in speedups or not points:
            continue
        middle = points[len(points) // 2]
        speedups[result.code] = (middle.speedup, middle.size, result.size_unit.split(" (")[0])
    return speedups
