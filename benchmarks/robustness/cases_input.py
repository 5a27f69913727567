"""Hostile inputs other than files and caches (issue 22, items 6-10 and 13's wording): bad
settings, bad profiles, names that are not UTF-8, a full disk, lone carriage returns, multi-line
quoted code, standard input, code nested past Python's limits. The interface is described in ``run.py``;
``python benchmarks/robustness/cases_input.py`` replays these cases alone."""

from __future__ import annotations

import json
import marshal
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "profile_guided.py").read_text()  # two PFL101 findings, lines 15 and 23
EXIT_STATUSES = (0, 1, 2, 130, 143)
FINDING_LINE = re.compile(r"^\S.*:\d+:\d+: PFL\d{3} ")

Case = Callable[[Path], dict[str, Any]]


class Run:
    """One perflint run: exit status (None: killed at its time limit), standard output and error."""

    def __init__(self, status: int | None, out: str, err: str) -> None:
        self.status, self.out, self.err = status, out, err

    @property
    def internal_error(self) -> bool:
        return (
            self.status not in EXIT_STATUSES
            or "Traceback" in self.err
            or "internal error" in self.out
            or "internal error" in self.err
        )

    def one_line_error(self, *wanted: str) -> bool:
        return (
            self.status == 2
            and self.err.count("\n") == 1
            and self.err.startswith("perflint: error: ")
            and all(text in self.err for text in wanted)
        )


def perflint(
    folder: Path,
    *arguments: str,
    stdin: str | None = None,
    timeout: float = 180,
    env: dict[str, str] | None = None,
) -> Run:
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", *arguments],
            cwd=folder,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            errors="surrogateescape",
            env=env,
        )
    except subprocess.TimeoutExpired:
        return Run(None, "", "")
    return Run(completed.returncode, completed.stdout, completed.stderr)


def outcome(held: bool, run: Run, data_lost: bool = False, detail: str = "") -> dict[str, Any]:
    if run.status is None:
        return {"held": False, "detail": "hung: killed after its time limit"}
    detail = detail or f"exit {run.status}; stderr {run.err.strip()[-200:]!r}"
    return {
        "held": held and not run.internal_error and not data_lost,
        "internal_error": run.internal_error,
        "data_lost": data_lost,
        "detail": detail,
    }


def _named(function: Case, name: str, doc: str) -> Case:
    function.__name__, function.__doc__ = name, doc
    return function


def _project(folder: Path, pyproject: bytes | None = None) -> None:
    (folder / "good.py").write_text(EXAMPLE)
    if pyproject is not None:
        (folder / "pyproject.toml").write_bytes(pyproject)


# 7. Settings: one line, exit 2 ---------------------------------------------------------------


def _timeout_case(value: str) -> Case:
    def case(folder: Path) -> dict[str, Any]:
        _project(folder)
        run = perflint(folder, "check", "--no-cache", "--per-file-timeout", value, "good.py")
        return outcome(run.one_line_error("--per-file-timeout"), run)

    return _named(
        case, f"per_file_timeout_{value.replace('-', 'minus_').replace('.', '_')}", f"--per-file-timeout {value}"
    )


def _setting_case(name: str, body: bytes, wanted: str, explicit: bool = False) -> Case:
    def case(folder: Path) -> dict[str, Any]:
        (folder / "good.py").write_text(EXAMPLE)
        config = folder / ("settings.toml" if explicit else "pyproject.toml")
        config.write_bytes(body)
        run = perflint(folder, "check", "--no-cache", *(["--config", config.name] if explicit else []), "good.py")
        return outcome(run.one_line_error(wanted, config.name), run)

    return _named(case, name, f"{'--config file' if explicit else 'pyproject.toml'}: {body[:60]!r}")


# 7. Profiles: "cannot read profile FILE: reason", exit 2 ---------------------------------------

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _speedscope(frames: Any = None, profile: dict | None = None, **document: Any) -> bytes:
    sampled = {"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": [1.0]}
    base = {
        "$schema": SCHEMA,
        "shared": {"frames": [{"name": "f", "file": "good.py", "line": 15}] if frames is None else frames},
        "profiles": [dict(sampled, **(profile or {}))],
    }
    base.update(document)
    return json.dumps(base).encode()


def _trace(event: str) -> bytes:
    return ('{"traceEvents": [' + event + "]}").encode()


BAD_PROFILES: dict[str, bytes] = {
    "speedscope_without_shared_frames": _speedscope(shared=None),
    "speedscope_frames_not_a_list": _speedscope(frames={"0": {"file": "good.py", "line": 1}}),
    "speedscope_profiles_not_a_list": _speedscope(profiles="sampled"),
    "speedscope_profile_not_an_object": _speedscope(profiles=[3]),
    "speedscope_samples_not_a_list": _speedscope(profile={"samples": 5}),
    "speedscope_fewer_weights_than_samples": _speedscope(profile={"samples": [[0], [0]], "weights": [1.0]}),
    "speedscope_weight_as_text": _speedscope(profile={"weights": ["1"]}),
    "speedscope_negative_weight": _speedscope(profile={"weights": [-20.0]}),
    "speedscope_nan_weight": _speedscope(profile={"weights": [0.5]}).replace(b"0.5", b"NaN"),
    "speedscope_frame_index_out_of_range": _speedscope(profile={"samples": [[7]]}),
    "speedscope_frame_index_as_text": _speedscope(profile={"samples": [["0"]]}),
    "speedscope_unit_a_list": _speedscope(profile={"unit": ["seconds"]}),
    "chrome_trace_5000_digit_timestamp": _trace('{"ph": "X", "ts": 1' + "0" * 5000 + ', "dur": 1, "name": "f"}'),
    "chrome_trace_5000_digit_line": _trace(
        '{"ph": "X", "ts": 0, "dur": 1, "name": "good.py(' + "9" * 5000 + '): smooth"}'
    ),
    "chrome_trace_infinite_duration": _trace('{"ph": "X", "ts": 0, "dur": 1e400, "name": "good.py(15): smooth"}'),
    "chrome_trace_negative_duration": _trace(
        '{"ph": "X", "ts": 0, "dur": 100, "name": "good.py(15): smooth"}, '
        '{"ph": "X", "ts": 0, "dur": -2000, "name": "good.py(22): calibrate"}'
    ),
    "json_nested_100k_deep": b"[" * 100_000 + b"]" * 100_000,
    "pstats_infinite_time": marshal.dumps({("good.py", 13, "smooth"): (1, 1, 0.5, float("inf"), {})}),
    "pstats_nan_time": marshal.dumps({("good.py", 13, "smooth"): (1, 1, float("nan"), 1.0, {})}),
    "pstats_negative_time": marshal.dumps({("good.py", 13, "smooth"): (1, 1, 0.5, -2.0, {})}),
}


# Refused for what is wrong in it, not mistaken for another format.
REFUSAL_REASONS = {"pstats": "a time must be"}


def _profile_case(name: str, content: bytes) -> Case:
    def case(folder: Path) -> dict[str, Any]:
        _project(folder)
        (folder / "profile.data").write_bytes(content)
        run = perflint(folder, "check", "--no-cache", "--profile", "profile.data", "good.py")
        reason = REFUSAL_REASONS.get(name.split("_")[0], "")
        held = run.one_line_error("cannot read profile profile.data: ", reason) and "of the run" not in run.out
        return outcome(held, run)

    return _named(case, f"profile_{name}", f"--profile with a {name.replace('_', ' ')}")


def fix_with_a_garbage_profile_changes_nothing(folder: Path) -> dict[str, Any]:
    """--fix --unsafe-fixes --profile garbage.prof: the usage error comes before any file is written"""
    _project(folder)
    (folder / "garbage.prof").write_bytes(b"\x00garbage")
    run = perflint(folder, "check", "--no-cache", "--fix", "--unsafe-fixes", "--profile", "garbage.prof", "good.py")
    lost = (folder / "good.py").read_text() != EXAMPLE
    return outcome(
        run.one_line_error("garbage.prof"),
        run,
        data_lost=lost,
        detail="good.py was rewritten before the error" if lost else "",
    )


# 7. A file name that is not UTF-8 ------------------------------------------------------------


def sarif_with_a_file_name_that_is_not_utf8(folder: Path) -> dict[str, Any]:
    """--output-format sarif on bad\\xff.py (a name that is not UTF-8), stdout strictly UTF-8"""
    (folder / os.fsdecode(b"bad\xff.py")).write_text(EXAMPLE)
    run = perflint(
        folder, "check", "--no-cache", "--output-format", "sarif", ".", env={**os.environ, "PYTHONIOENCODING": "utf-8"}
    )
    try:
        results = json.loads(run.out)["runs"][0]["results"]
    except (ValueError, KeyError, IndexError):
        return outcome(False, run)
    uris = [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for result in results]
    return outcome(
        run.status == 1 and uris == ["bad%FF.py", "bad%FF.py"],
        run,
        data_lost=len(uris) != 2,
        detail=f"exit {run.status}; uris {uris}",
    )


def report_to_a_full_disk_is_exit_2(folder: Path) -> dict[str, Any]:
    """the report written to /dev/full (no space left on the device)"""
    _project(folder)
    if not os.path.exists("/dev/full"):
        return {"held": False, "detail": "no /dev/full on this system: not tried"}
    with open("/dev/full", "w") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "perflint", "check", "--no-cache", "good.py"],
            cwd=folder,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
        )
    run = Run(completed.returncode, "", completed.stderr)
    return outcome(run.one_line_error("No space left on device"), run)


# 8. Lone carriage returns ----------------------------------------------------------------------


def lone_carriage_returns_place_findings_on_their_lines(folder: Path) -> dict[str, Any]:
    """a file whose lines end in a lone \\r: findings on lines 15 and 23, fixes offered"""
    (folder / "mac.py").write_bytes(EXAMPLE.replace("\n", "\r").encode())
    run = perflint(folder, "check", "--no-cache", "--output-format", "json", "mac.py")
    try:
        findings = json.loads(run.out)["findings"]
    except ValueError:
        return outcome(False, run)
    placed = [(finding["line"], finding["fix"] is not None) for finding in findings]
    return outcome(
        placed == [(15, True), (23, True)],
        run,
        data_lost=len(findings) != 2,
        detail=f"(line, fix offered) per finding: {placed}",
    )


def lone_carriage_returns_noqa_suppresses_one_line(folder: Path) -> dict[str, Any]:
    """a bare # noqa on one line of a lone-\\r file suppresses that line's finding only"""
    lines = EXAMPLE.split("\n")
    lines[14] += "  # noqa"
    (folder / "mac.py").write_bytes("\r".join(lines).encode())
    run = perflint(folder, "check", "--no-cache", "--output-format", "json", "mac.py")
    try:
        found = [finding["line"] for finding in json.loads(run.out)["findings"]]
    except ValueError:
        return outcome(False, run)
    return outcome(found == [23], run, data_lost=found == [], detail=f"findings on lines {found}")


# 9. Messages quoting multi-line code stay one line ---------------------------------------------


def multi_line_quoted_code_keeps_one_line_per_finding(folder: Path) -> dict[str, Any]:
    """every rule's INVALID examples with each call's arguments on their own commented lines, concise and flake8"""
    sys.path.insert(0, str(ROOT))
    try:
        import libcst as cst

        from perflint.rules import all_rules
        from tests.engine.test_quoting import _ArgumentsOnTheirOwnLines
    finally:
        sys.path.remove(str(ROOT))
    for rule in all_rules():
        for index, example in enumerate(rule.INVALID):
            spread = cst.parse_module(example.code).visit(_ArgumentsOnTheirOwnLines()).code
            (folder / f"{rule.code.lower()}_{index}.py").write_text(spread)
    as_json = perflint(folder, "check", "--no-cache", "--select", "ALL", "--output-format", "json", ".")
    concise = perflint(folder, "check", "--no-cache", "--select", "ALL", ".")
    try:
        count = len(json.loads(as_json.out)["findings"])
    except ValueError:
        return outcome(False, as_json)
    reported = concise.out.split("\n\n")[0].splitlines()
    broken = [line for line in reported if not FINDING_LINE.match(line)]
    flake8 = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "PFL", "."],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    flake8_broken = [line for line in flake8.stdout.splitlines() if not FINDING_LINE.match(line)]
    held = count > 0 and len(reported) == count and not broken and not flake8_broken and not flake8.stderr
    return outcome(
        held,
        concise,
        detail=f"{count} findings, {len(reported)} concise lines, {len(broken)} broken; "
        f"flake8: {len(flake8_broken)} broken lines",
    )


# 10. Standard input with --output-format full ------------------------------------------------


def standard_input_full_shows_the_buffers_lines(folder: Path) -> dict[str, Any]:
    """check --output-format full --stdin-filename good.py - while another good.py is on disk"""
    (folder / "good.py").write_text("# an older version on disk\n" * 30)
    run = perflint(
        folder, "check", "--no-cache", "--output-format", "full", "--stdin-filename", "good.py", "-", stdin=EXAMPLE
    )
    held = run.status == 1 and "15 |     for i in range(len(frame)):" in run.out and "older version" not in run.out
    return outcome(held, run, detail="" if held else f"exit {run.status}; output {run.out[:200]!r}")


# 13. Code nested past Python's limits is PFL000 in words that do not blame perflint ------------

LOOP = "import numpy as np\nx = np.array([1.0])\nfor i in range(3):\n    y = {}\n"
DEEP_FILES = {
    "parentheses_250_deep.py": LOOP.format("(" * 250 + "sum(x)" + ")" * 250),
    "brackets_5000_deep.py": LOOP.format("[" * 5000 + "sum(x)" + "]" * 5000),
    "unary_minus_20000_deep.py": LOOP.format("-" * 20000 + "sum(x)"),
    "unary_minus_over_20000_lines.py": LOOP.format("(\n" + "-\n" * 20000 + "sum(x))"),
    "additions_1500_deep.py": LOOP.format("sum(x) + " + "a + " * 1500 + "1"),
}


def deeply_nested_code_is_pfl000_not_an_internal_error(folder: Path) -> dict[str, Any]:
    """code 250 to 20,000 levels deep, a notebook cell like it and a notebook of 100k-deep JSON, beside a good file"""
    for name, source in DEEP_FILES.items():
        (folder / name).write_text(source)
    cell = {"cell_type": "code", "source": DEEP_FILES["unary_minus_20000_deep.py"], "metadata": {}, "outputs": []}
    (folder / "deep_cell.ipynb").write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4}))
    (folder / "deep_json.ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _project(folder)
    run = perflint(folder, "check", "--no-cache", "--output-format", "json", ".")
    try:
        findings = json.loads(run.out)["findings"]
    except ValueError:
        return outcome(False, run)
    unlintable = {finding["path"]: finding["message"] for finding in findings if finding["code"] == "PFL000"}
    good = [finding["line"] for finding in findings if finding["path"] == "good.py"]
    expected = len(DEEP_FILES) + 2
    worded = all("nested too deeply" in message and "internal error" not in message for message in unlintable.values())
    held = len(unlintable) == expected and worded and good == [15, 23]
    return outcome(
        held,
        run,
        data_lost=good != [15, 23],
        detail=f"{len(unlintable)}/{expected} PFL000, worded: {worded}, good.py lines {good}",
    )


CASES: list[Case] = [
    *(_timeout_case(value) for value in ("inf", "1e308", "nan", "-1")),
    _setting_case("pyproject_exclude_bad_glob", b"[tool.perflint]\nexclude = ['[z-a]']\n", "invalid glob '[z-a]'"),
    _setting_case(
        "pyproject_per_file_ignores_bad_glob",
        b"[tool.perflint.per-file-ignores]\n'[z-a]' = ['PFL1']\n",
        "invalid glob '[z-a]'",
    ),
    _setting_case(
        "config_file_bad_glob", b"[tool.perflint]\nextend-exclude = ['[z-a]']\n", "invalid glob '[z-a]'", explicit=True
    ),
    _setting_case("pyproject_per_file_timeout_inf", b"[tool.perflint]\nper-file-timeout = inf\n", "per-file-timeout"),
    _setting_case("pyproject_not_utf8", b"[tool.perflint]\nselect = ['PFL1'] # caf\xe9\n", "not UTF-8"),
    _setting_case(
        "config_file_not_utf8", b"[tool.perflint]\nselect = ['PFL1'] # caf\xe9\n", "not UTF-8", explicit=True
    ),
    *(_profile_case(name, content) for name, content in BAD_PROFILES.items()),
    fix_with_a_garbage_profile_changes_nothing,
    sarif_with_a_file_name_that_is_not_utf8,
    report_to_a_full_disk_is_exit_2,
    lone_carriage_returns_place_findings_on_their_lines,
    lone_carriage_returns_noqa_suppresses_one_line,
    multi_line_quoted_code_keeps_one_line_per_finding,
    standard_input_full_shows_the_buffers_lines,
    deeply_nested_code_is_pfl000_not_an_internal_error,
]


if __name__ == "__main__":
    import tempfile

    held = 0
    for case in CASES:
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="perflint-input-") as temporary:
            result = case(Path(temporary))
        held += bool(result["held"])
        verdict = "held" if result["held"] else "NOT HELD"
        print(
            f"{verdict:8} {case.__name__} ({time.monotonic() - started:.1f} s)"
            + ("" if result["held"] else f" -- {result['detail']}"),
            flush=True,
        )
    print(f"bad inputs tried: {len(CASES)}, held: {held}/{len(CASES)}")
    sys.exit(0 if held == len(CASES) else 1)
