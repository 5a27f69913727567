"""Hostile cases for the cache, the files perflint reads, signals, resources and wording (issue 22,
items 1-4, 7 (cache), 11-13). The interface is described in ``run.py``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FLAGGED = "import numpy as np\n\ndef solve_all(A, rhs):\n    return [np.linalg.inv(A) @ b for b in rhs]\n"
DETECT_ANOMALY = "import torch\ntorch.autograd.set_detect_anomaly(True)\n"  # PFL504, except in test code
EXIT_STATUSES = (0, 1, 2, 130, 143)


class Run:
    """One perflint run: its exit status, output, and whether it had to be killed."""

    def __init__(self, status: int | None, out: str, err: str, seconds: float) -> None:
        self.status, self.out, self.err, self.seconds = status, out, err, seconds

    @property
    def hung(self) -> bool:
        return self.status is None

    @property
    def internal_error(self) -> bool:
        return (
            self.status not in EXIT_STATUSES
            or "Traceback" in self.err
            or "internal error" in self.out
            or "internal error" in self.err
        )

    def findings(self) -> list[dict[str, Any]]:
        return json.loads(self.out)["findings"]

    def one_line_error(self) -> bool:
        return self.status == 2 and self.err.count("\n") == 1 and self.err.startswith("perflint: error: ")


def perflint(folder: Path, *arguments: str, timeout: float = 120, shell: bool = False, stdout: Any = None) -> Run:
    """``perflint ARGUMENTS`` in ``folder``; a run still going after ``timeout`` seconds is killed."""
    command: Any = [sys.executable, "-m", "perflint", *arguments]
    if shell:
        command = ["bash", "-c", " ".join([sys.executable, "-m", "perflint", *arguments])]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            command,
            cwd=folder,
            capture_output=stdout is None,
            stdout=stdout,
            stderr=subprocess.PIPE if stdout is not None else None,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Run(None, "", "", time.monotonic() - started)
    return Run(completed.returncode, completed.stdout or "", completed.stderr or "", time.monotonic() - started)


def outcome(held: bool, run: Run | None = None, data_lost: bool = False, detail: str = "") -> dict[str, Any]:
    if run is not None and run.hung:
        return {"held": False, "detail": "hung: killed after its time limit"}
    internal = run is not None and run.internal_error
    if run is not None and not detail:
        detail = f"exit {run.status}; stderr {run.err.strip()[-200:]!r}"
    return {
        "held": held and not internal and not data_lost,
        "internal_error": internal,
        "data_lost": data_lost,
        "detail": detail,
    }


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


# 1. The cache writes and deletes only in folders perflint created and marked -------------------


def cache_dir_dot_keeps_the_users_folders(folder: Path) -> dict[str, Any]:
    """--cache-dir . in a project with a 16-character folder (data_preparation/)"""
    _write(folder / "data_preparation" / "steps.py", "x = 1\n")
    _write(folder / "main.py", FLAGGED)
    before = _tree(folder)
    run = perflint(folder, "check", "--cache-dir", ".", "main.py")
    lost = _tree(folder) != before
    return outcome(run.one_line_error() and not lost, run, lost)


def configured_cache_dir_outside_the_project(folder: Path) -> dict[str, Any]:
    """cache-dir = ".." in a repository's pyproject.toml"""
    _write(folder / "repo" / "pyproject.toml", '[tool.perflint]\ncache-dir = ".."\n')
    _write(folder / "repo" / "a.py", FLAGGED)
    _write(folder / "0123456789abcdef" / "keep.txt", "a user's folder named like a build folder")
    before = _tree(folder)
    run = perflint(folder / "repo", "check", ".")
    lost = _tree(folder) != before
    return outcome(run.one_line_error() and not lost, run, lost)


def cache_dir_is_another_tools_cache(folder: Path) -> dict[str, Any]:
    """--cache-dir .pytest_cache (tagged with CACHEDIR.TAG, but pytest's)"""
    _write(folder / ".pytest_cache" / "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# pytest\n")
    _write(folder / ".pytest_cache" / "v" / "cache" / "lastfailed", "{}")
    _write(folder / "a.py", FLAGGED)
    before = _tree(folder)
    run = perflint(folder, "check", "--cache-dir", ".pytest_cache", "a.py")
    lost = _tree(folder) != before
    return outcome(run.one_line_error() and not lost, run, lost)


def cache_dir_is_a_file(folder: Path) -> dict[str, Any]:
    """--cache-dir naming a file"""
    _write(folder / "notes.txt", "mine")
    _write(folder / "a.py", FLAGGED)
    run = perflint(folder, "check", "--cache-dir", "notes.txt", "a.py")
    lost = (folder / "notes.txt").read_text() != "mine"
    return outcome(run.one_line_error() and not lost, run, lost)


def measure_honours_cache_dir(folder: Path) -> dict[str, Any]:
    """--measure --cache-dir elsewhere: measurements go there, not to .perflint_cache"""
    _write(folder / "a.py", FLAGGED)
    run = perflint(
        folder, "check", "--measure", "--measure-budget", "1", "--cache-dir", "elsewhere", "a.py", timeout=600
    )
    placed = (folder / "elsewhere" / "measurements").is_dir() and not (folder / ".perflint_cache").exists()
    return outcome(run.status == 1 and placed, run, detail="" if placed else "measurements not in --cache-dir")


# 2. The cache key holds every input of the lint ---------------------------------------------------


def _cached_equals_uncached(folder: Path, names: list[str], *options: str) -> dict[str, Any]:
    """Lint each file alone, twice with the cache then without: every answer must agree."""
    for name in names + names:
        cached = perflint(folder, "check", "--output-format", "json", *options, name)
        fresh = perflint(folder, "check", "--output-format", "json", "--no-cache", *options, name)
        if cached.internal_error or fresh.internal_error or cached.hung:
            return outcome(False, cached)
        if cached.findings() != fresh.findings():
            return outcome(False, cached, data_lost=True, detail=f"the cache served {name} another file's findings")
    return outcome(True)


def same_bytes_in_test_code_and_in_other_code(folder: Path) -> dict[str, Any]:
    """train.py and test_train.py with the same bytes"""
    _write(folder / "train.py", DETECT_ANOMALY)
    _write(folder / "test_train.py", DETECT_ANOMALY)
    return _cached_equals_uncached(folder, ["train.py", "test_train.py"], "--select", "PFL504")


def notebook_and_python_file_with_the_same_bytes(folder: Path) -> dict[str, Any]:
    """nb.ipynb and nb.py with the same bytes"""
    notebook = json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "outputs": [],
                    "execution_count": None,
                    "source": FLAGGED.splitlines(keepends=True),
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    _write(folder / "nb.ipynb", notebook)
    _write(folder / "nb.py", notebook)
    return _cached_equals_uncached(folder, ["nb.ipynb", "nb.py"])


# 7. Cache records are checked -----------------------------------------------------------------------


def _corrupt_entries(folder: Path, change) -> dict[str, Any]:
    _write(folder / "a.py", FLAGGED)
    first = perflint(folder, "check", "--output-format", "json", "a.py")
    # The findings entries only: not the rule index, nor the project index's summaries.
    entries = [
        path
        for path in (folder / ".perflint_cache").rglob("*.json")
        if path.name != "rules.json" and "project-index" not in path.parts
    ]
    for entry in entries:
        record = json.loads(entry.read_text())
        entry.write_text(json.dumps(change(record)))
    second = perflint(folder, "check", "--output-format", "json", "a.py")
    if second.internal_error or first.internal_error:
        return outcome(False, second)
    same = second.findings() == first.findings()
    return outcome(same, second, data_lost=not same, detail="" if same else "the corrupt entry was served")


def _findings_of(record: dict[str, Any]) -> list[dict[str, Any]]:
    return record["payload"]["findings"] if "payload" in record else record["findings"]


def _with_first_finding(record: dict[str, Any], **fields: Any) -> dict[str, Any]:
    _findings_of(record)[0].update(fields)
    return record


def cache_entry_line_is_a_string(folder: Path) -> dict[str, Any]:
    """a cache entry whose finding has "line": "six\""""
    return _corrupt_entries(folder, lambda record: _with_first_finding(record, line="six"))


def cache_entry_code_is_a_number(folder: Path) -> dict[str, Any]:
    """a cache entry whose finding has "code": 5"""
    return _corrupt_entries(folder, lambda record: _with_first_finding(record, code=5))


def cache_entry_without_findings(folder: Path) -> dict[str, Any]:
    """a cache entry replaced by {"findings": []}"""
    return _corrupt_entries(folder, lambda record: {"findings": []})


def corrupt_rule_index(folder: Path) -> dict[str, Any]:
    """the cache's rule index replaced by {"rules": []}, twice in a row"""
    _write(folder / "a.py", FLAGGED)
    first = perflint(folder, "check", "--output-format", "json", "a.py")
    for index in (folder / ".perflint_cache").rglob("rules.json"):
        index.write_text('{"rules": []}')
    runs = [perflint(folder, "check", "--output-format", "json", "a.py") for _ in range(2)]
    for run in runs:
        if run.internal_error or run.hung or run.findings() != first.findings():
            return outcome(False, run, data_lost=not run.hung, detail="a later run reported something else")
    return outcome(True)


# 3. Files that are not regular files --------------------------------------------------------------


def _bad_file_and_a_good_one(
    folder: Path, bad: str, expected: str, timeout: float = 60, shell: bool = False, *options: str
) -> dict[str, Any]:
    _write(folder / "good.py", FLAGGED)
    run = perflint(folder, "check", "--output-format", "json", *options, bad, "good.py", timeout=timeout, shell=shell)
    if run.hung or run.internal_error:
        return outcome(False, run)
    found = {(finding["path"], finding["code"]): finding["message"] for finding in run.findings()}
    good_kept = ("good.py", "PFL401") in found
    message = found.get((bad, "PFL000"), "")
    return outcome(
        good_kept and message.startswith(expected),
        run,
        data_lost=not good_kept,
        detail=f"{bad} reported as {message!r}",
    )


def fifo_named_on_the_command_line(folder: Path) -> dict[str, Any]:
    """a FIFO with no writer named on the command line"""
    os.mkfifo(folder / "pipe.py")
    return _bad_file_and_a_good_one(folder, "pipe.py", "not a regular file", timeout=30)


def dev_zero_named_on_the_command_line(folder: Path) -> dict[str, Any]:
    """/dev/zero named on the command line"""
    return _bad_file_and_a_good_one(folder, "/dev/zero", "not a regular file", timeout=30)


def dev_null_named_on_the_command_line(folder: Path) -> dict[str, Any]:
    """/dev/null (a character device) named on the command line"""
    return _bad_file_and_a_good_one(folder, "/dev/null", "not a regular file", timeout=30)


def file_over_the_size_cap(folder: Path) -> dict[str, Any]:
    """an 11 MB file"""
    _write(folder / "huge.py", "x = 1\n" * (11 * 1024 * 1024 // 6 + 1))
    return _bad_file_and_a_good_one(folder, "huge.py", "file too large", timeout=60)


def process_substitution_twice_with_the_cache(folder: Path) -> dict[str, Any]:
    """perflint check <(cat f.py), twice, with the cache"""
    _write(folder / "f.py", FLAGGED)
    for _ in range(2):
        run = perflint(folder, "check", "--output-format", "json", "<(cat f.py)", shell=True)
        if run.hung or run.internal_error:
            return outcome(False, run)
        if [finding["code"] for finding in run.findings()] != ["PFL401"]:
            return outcome(False, run, data_lost=True, detail="the pipe's findings were lost")
    return outcome(True)


def symbolic_link_loop_named_on_the_command_line(folder: Path) -> dict[str, Any]:
    """a symbolic link loop (a -> b -> a) named on the command line"""
    os.symlink("b", folder / "a")
    os.symlink("a", folder / "b")
    return _bad_file_and_a_good_one(folder, "a", "cannot read: symbolic link loop a -> b -> a")


# 4. Signals --------------------------------------------------------------------------------------


def _signalled_run(folder: Path, signal_number: int, expected_status: int | None) -> dict[str, Any]:
    import psutil

    for index in range(40):
        _write(folder / f"m{index}.py", FLAGGED * 600)
    process = subprocess.Popen(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--jobs", "2", "."],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(process.pid)
    workers: list = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = parent.children(recursive=True)
    time.sleep(1.0)
    process.send_signal(signal_number)
    try:
        _, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:  # orphaned workers keep its output pipes open
        process.kill()
        _, alive = psutil.wait_procs(workers, timeout=0)
        for orphan in alive:
            orphan.kill()
        return {
            "held": False,
            "detail": f"its output still open a minute after the signal; {len(alive)} workers "
            "left running (killed now)",
        }
    _, alive = psutil.wait_procs(workers, timeout=10)
    for orphan in alive:
        orphan.kill()
    # Killed outright, perflint has no exit status of its own: only its workers are judged.
    run = Run(process.returncode if expected_status is not None else 0, "", err, 0)
    status_ok = expected_status is None or process.returncode == expected_status
    return outcome(
        bool(workers) and status_ok and not alive,
        run,
        detail=f"exit {process.returncode}, {len(alive)} of {len(workers)} workers left running",
    )


def sigterm_during_a_run(folder: Path) -> dict[str, Any]:
    """SIGTERM while two workers lint"""
    return _signalled_run(folder, signal.SIGTERM, 143)


def sigkill_of_the_parent_during_a_run(folder: Path) -> dict[str, Any]:
    """SIGKILL of perflint while two workers lint"""
    return _signalled_run(folder, signal.SIGKILL, None)


# 7 and 12. Exit statuses and resources ------------------------------------------------------------


def output_to_a_full_disk(folder: Path) -> dict[str, Any]:
    """the report written to /dev/full"""
    _write(folder / "a.py", FLAGGED)
    with open("/dev/full", "w") as full:
        run = perflint(folder, "check", "--no-cache", "a.py", stdout=full)
    return outcome(run.one_line_error(), run)


def _usage_error(*arguments: str):
    def case(folder: Path) -> dict[str, Any]:
        _write(folder / "a.py", FLAGGED)
        run = perflint(folder, *arguments, "a.py")
        return outcome(run.one_line_error(), run)

    case.__name__ = "usage_" + "_".join(
        argument.strip("-").replace("-", "_").replace(".", "_") for argument in arguments
    )
    case.__doc__ = " ".join(arguments)
    return case


def jobs_far_above_the_cores(folder: Path) -> dict[str, Any]:
    """--jobs 500 on 40 files"""
    import psutil

    for index in range(40):
        _write(folder / f"m{index}.py", FLAGGED * 50)
    process = subprocess.Popen(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--jobs", "500", "."],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(process.pid)
    most = 0
    while process.poll() is None:
        try:
            most = max(most, len(parent.children(recursive=True)))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    _, err = process.communicate()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    run = Run(process.returncode, "", err, 0)
    return outcome(process.returncode == 1 and most <= cores, run, detail=f"{most} workers on {cores} cores")


def single_line_file_of_nine_megabytes(folder: Path) -> dict[str, Any]:
    """a 9 MB single-line file (under the size cap)"""
    _write(folder / "line.py", "x = [" + "1, " * (3 * 1024 * 1024) + "]\n")
    _write(folder / "good.py", FLAGGED)
    run = perflint(folder, "check", "--no-cache", "--output-format", "json", "line.py", "good.py", timeout=900)
    if run.hung or run.internal_error:
        return outcome(False, run)
    codes = {(finding["path"], finding["code"]) for finding in run.findings()}
    return outcome(("good.py", "PFL401") in codes, run, detail=f"{run.seconds:.0f} s: {sorted(codes)}")


def bench_report_to_an_unwritable_path(folder: Path) -> dict[str, Any]:
    """bench --report into a folder that does not exist"""
    started = time.monotonic()
    run = perflint(folder, "bench", "PFL401", "--report", str(folder / "missing" / "report.html"), timeout=600)
    quick = time.monotonic() - started < 30
    return outcome(run.one_line_error() and quick, run)


# 13. Wording -------------------------------------------------------------------------------------


def diff_with_json_output(folder: Path) -> dict[str, Any]:
    """--diff --output-format json"""
    _write(folder / "a.py", FLAGGED)
    run = perflint(folder, "check", "--diff", "--unsafe-fixes", "--output-format", "json", "a.py")
    try:
        report = json.loads(run.out)
    except ValueError:
        return outcome(False, run, detail="not JSON")
    changed = (folder / "a.py").read_text() != FLAGGED
    return outcome(run.status == 1 and bool(report.get("diffs")) and not changed, run, data_lost=changed)


def summary_with_an_unreadable_path(folder: Path) -> dict[str, Any]:
    """the summary line of a run with a path that cannot be read"""
    _write(folder / "a.py", FLAGGED)
    os.symlink("loop", folder / "loop")
    run = perflint(folder, "check", "--no-cache", "a.py", "loop")
    summary = [line for line in run.out.splitlines() if line.startswith("Found ")]
    return outcome(summary == ["Found 2 findings in 2 files (2 checked)."], run, detail=f"summary {summary}")


CASES = [
    cache_dir_dot_keeps_the_users_folders,
    configured_cache_dir_outside_the_project,
    cache_dir_is_another_tools_cache,
    cache_dir_is_a_file,
    measure_honours_cache_dir,
    same_bytes_in_test_code_and_in_other_code,
    notebook_and_python_file_with_the_same_bytes,
    cache_entry_line_is_a_string,
    cache_entry_code_is_a_number,
    cache_entry_without_findings,
    corrupt_rule_index,
    fifo_named_on_the_command_line,
    dev_zero_named_on_the_command_line,
    dev_null_named_on_the_command_line,
    file_over_the_size_cap,
    process_substitution_twice_with_the_cache,
    symbolic_link_loop_named_on_the_command_line,
    sigterm_during_a_run,
    sigkill_of_the_parent_during_a_run,
    output_to_a_full_disk,
    _usage_error("check", "--per-file-timeout", "inf"),
    _usage_error("check", "--per-file-timeout", "1e308"),
    _usage_error("check", "--measure-budget", "nan"),
    _usage_error("check", "--measure-budget", "inf"),
    _usage_error("check", "--measure-budget", "-1"),
    jobs_far_above_the_cores,
    single_line_file_of_nine_megabytes,
    bench_report_to_an_unwritable_path,
    diff_with_json_output,
    summary_with_an_unreadable_path,
]
