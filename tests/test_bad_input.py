"""No input can break a run: each bad file gets a one-line PFL000 where one applies, the exit
status stays in 0/1/2, no traceback is printed, and the other files' findings still arrive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from perflint import runner
from perflint.engine import lint_source
from perflint.files import SourceFile
from perflint.rules import all_rules

# PFL404, on by default: one finding, on line 4.
FLAGGED = (
    "from transformers import AutoTokenizer\n\ndef encode_all(texts, name):\n"
    "    return [AutoTokenizer.from_pretrained(name)(text) for text in texts]\n"
)

BAD_FILES = {
    "syntax_error.py": (b"def f(:\n    pass\n", "cannot parse"),
    "undecodable.py": (b"x = '\xff\xfe'\n", "cannot decode"),
    "binary.py": (bytes(range(256)) * 4, "cannot"),
    "empty.py": (b"", None),
    "bom.py": (b"\xef\xbb\xbf" + FLAGGED.encode(), "PFL404"),
    "crlf.py": (FLAGGED.replace("\n", "\r\n").encode(), "PFL404"),
    "cr.py": (FLAGGED.replace("\n", "\r").encode(), "PFL404"),
    "tabs_and_form_feeds.py": (
        b"from transformers import AutoTokenizer\n\x0c\ndef f(xs, name):\n\treturn [AutoTokenizer.from_pretrained(name)(x) for x in xs]\n",
        "PFL404",
    ),
    "deeply_nested.py": (b"x = " + b"(" * 190 + b"1" + b")" * 190 + b"\n", None),
    # Python refuses it (over 200 nested brackets); libcst's parser would overflow its stack.
    "deep_brackets.py": (b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n", "cannot parse: the code is nested too deeply"),
    "stub.pyi": (b"import numpy as np\ndef f(a: np.ndarray) -> np.ndarray: ...\n", None),
    "exported_notebook.py": (
        b"# %%\nfrom transformers import AutoTokenizer\n\n# %% [markdown]\n# text\n\n# %%\n"
        + FLAGGED.split("\n", 1)[1].encode(),
        "PFL404",
    ),
}


def run_cli(arguments, cwd):
    completed = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--output-format", "json", *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    assert completed.returncode in (0, 1, 2)
    return completed


@pytest.mark.slow
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_every_kind_of_bad_file_is_reported_and_the_run_goes_on(tmp_path, jobs):
    for name, (content, _) in BAD_FILES.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "good.py").write_text(FLAGGED)
    completed = run_cli(["--jobs", jobs, "--per-file-timeout", "60", "."], tmp_path)
    findings = json.loads(completed.stdout)["findings"]
    by_path: dict[str, list[dict]] = {}
    for finding in findings:
        by_path.setdefault(finding["path"], []).append(finding)
        assert "\n" not in finding["message"]
    assert [f["code"] for f in by_path["good.py"]] == ["PFL404"]
    for name, (_, expected) in BAD_FILES.items():
        reported = by_path.get(name, [])
        if expected is None:
            assert reported == [], name
        elif expected.startswith("PFL"):
            assert [f["code"] for f in reported] == [expected], name
        else:
            assert [f["code"] for f in reported] == ["PFL000"] and reported[0]["message"].startswith(expected), name


@pytest.mark.slow
def test_a_fifty_thousand_line_file_is_linted(tmp_path):
    body = "".join(f"value_{index} = {index}\n" for index in range(50_000 - 4))
    (tmp_path / "big.py").write_text(body + FLAGGED)
    findings = json.loads(run_cli(["big.py"], tmp_path).stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("PFL404", 50_000)]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_a_symbolic_link_loop_a_folder_without_python_and_an_unreadable_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(FLAGGED)
    os.symlink(tmp_path / "pkg", tmp_path / "pkg" / "loop")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "notes.txt").write_text("no python here")
    assert json.loads(run_cli(["docs"], tmp_path).stdout)["findings"] == []
    locked = tmp_path / "pkg" / "locked.py"
    locked.write_text(FLAGGED)
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as a user who can read any file")
        findings = json.loads(run_cli(["."], tmp_path).stdout)["findings"]
    finally:
        locked.chmod(0o644)
    assert sorted((f["code"], f["path"]) for f in findings) == [("PFL000", "pkg/locked.py"), ("PFL404", "pkg/a.py")]
    assert findings[[f["path"] for f in findings].index("pkg/locked.py")]["message"].startswith("cannot read:")


def test_a_path_that_cannot_be_read_as_a_file_is_pfl000(tmp_path):
    """What a permission error does, in a form that also fails for a user who can read anything."""
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "folder.py").mkdir()
    tasks = [runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",)) for name in ("a.py", "folder.py")]
    findings = runner.lint_files(tasks, jobs=1)
    assert [(f.code, f.path) for f in findings] == [("PFL404", "a.py"), ("PFL000", "folder.py")]
    assert findings[1].message == "cannot read: Is a directory"


def test_a_file_deleted_during_the_run_is_pfl000(tmp_path):
    (tmp_path / "a.py").write_text(FLAGGED)
    (tmp_path / "gone.py").write_text(FLAGGED)
    tasks = [runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",)) for name in ("a.py", "gone.py")]
    (tmp_path / "gone.py").unlink()
    findings = runner.lint_files(tasks, jobs=1)
    assert [(f.code, f.path) for f in findings] == [("PFL404", "a.py"), ("PFL000", "gone.py")]
    assert findings[1].message.startswith("cannot read:")


def _slow_lint(source, path, rule_classes, apply_noqa=True, project=None, fix_edits=True):
    if "slow" in path:
        while True:  # Python code spending CPU time: the interval timer interrupts it
            pass
    return lint_source(source, path, rule_classes, apply_noqa, project=project, fix_edits=fix_edits)


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="worker processes inherit the patch only when forked")
def test_a_file_over_its_time_limit_is_pfl000_and_the_others_are_linted(tmp_path, monkeypatch, worker_processes):
    monkeypatch.setattr(runner, "lint_source", _slow_lint)
    tasks = []
    for name in ("a.py", "slow.py"):
        (tmp_path / name).write_text(FLAGGED)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",), time_limit=2.0))
    started = time.monotonic()
    findings = runner.lint_files(tasks, jobs=1)
    assert time.monotonic() - started < 30
    assert [(f.code, f.path) for f in findings] == [("PFL404", "a.py"), ("PFL000", "slow.py")]
    assert findings[1].message == runner.time_limit_message(2.0)


@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no per-thread CPU clock here")
def test_the_time_limit_holds_on_a_thread_other_than_the_main_one(tmp_path, monkeypatch):
    # The language server lints on a thread of its own, which no signal reaches.
    monkeypatch.setattr(runner, "lint_source", _slow_lint)
    tasks = []
    for name in ("slow.py", "a.py"):
        (tmp_path / name).write_text(FLAGGED)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",), time_limit=0.2))
    with ThreadPoolExecutor(max_workers=1) as thread:
        slow, after = (thread.submit(runner.lint_file, task, None).result(timeout=120) for task in tasks)
    assert [(f.code, f.message) for f in slow.findings] == [("PFL000", runner.time_limit_message(0.2))]
    assert [f.code for f in after.findings] == ["PFL404"]  # the same thread lints on, unlimited by the last


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(time, "pthread_getcpuclockid"), reason="no per-thread CPU clock here")
def test_a_time_limit_that_fired_on_a_thread_leaves_no_exception_pending_for_later_code():
    # Clearing the exception with PyThreadState_SetAsyncExc(thread, NULL) left the interpreter
    # looking for one at every instruction: a later profiled program in the same test session
    # never finished (seen only in a pytest session, so one is run here).
    tests = Path(__file__).resolve().parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{tests / 'test_bad_input.py'}::test_the_time_limit_holds_on_a_thread_other_than_the_main_one",
            f"{tests / 'test_profile.py'}::test_a_cprofile_of_the_program_ranks_the_hot_function_above_the_cold_one",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="worker processes inherit the patch only when forked")
def test_a_worker_stuck_where_no_signal_reaches_is_killed_at_its_time_limit(tmp_path, monkeypatch, worker_processes):
    def stuck(source, path, rule_classes, apply_noqa=True, project=None, fix_edits=True):
        if "slow" in path:
            import signal

            signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGPROF])  # as native code would ignore it
            while True:
                time.sleep(0.01)
        return lint_source(source, path, rule_classes, apply_noqa, project=project, fix_edits=fix_edits)

    monkeypatch.setattr(runner, "lint_source", stuck)
    monkeypatch.setattr(runner, "BACKSTOP_FACTOR", 1)
    monkeypatch.setattr(runner, "BACKSTOP_GRACE", 3.0)
    tasks = []
    for name in ("a.py", "slow.py", "b.py", "c.py"):
        (tmp_path / name).write_text(FLAGGED)
        tasks.append(runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",), time_limit=2.0))
    findings = runner.lint_files(tasks, jobs=2)
    assert [(f.code, f.path) for f in findings] == [
        ("PFL404", "a.py"),
        ("PFL404", "b.py"),
        ("PFL404", "c.py"),
        ("PFL000", "slow.py"),
    ]
    assert findings[-1].message == runner.time_limit_message(2.0)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_on_the_command_line_is_pfl000_without_hanging(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")  # nobody ever writes to it: opening it to read would block
    (tmp_path / "good.py").write_text(FLAGGED)
    completed = run_cli(["pipe.py", "good.py"], tmp_path)
    findings = json.loads(completed.stdout)["findings"]
    assert [(f["code"], f["path"], f["message"]) for f in findings] == [
        ("PFL404", "good.py", findings[0]["message"]),
        ("PFL000", "pipe.py", "not a regular file: a FIFO (named pipe)"),
    ]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_pfl000_and_never_read(tmp_path):
    (tmp_path / "good.py").write_text(FLAGGED)
    completed = run_cli(["/dev/zero", "good.py"], tmp_path)
    findings = json.loads(completed.stdout)["findings"]
    assert [(f["code"], f["path"], f["message"]) for f in findings] == [
        ("PFL000", "/dev/zero", "not a regular file: a character device"),
        ("PFL404", "good.py", findings[1]["message"]),
    ]


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="no /dev/fd here")
@pytest.mark.parametrize("cached", [False, True])
def test_process_substitution_is_read_once_and_its_findings_kept(tmp_path, cached):
    """``perflint check <(cat f.py)`` names a pipe: its bytes can be read once only."""
    (tmp_path / "f.py").write_text(FLAGGED)
    cache = [] if cached else ["--no-cache"]
    command = f"{sys.executable} -m perflint check {' '.join(cache)} --output-format json <(cat f.py)"
    for _ in range(2):  # the second run must not be served a cached nothing
        completed = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert "Traceback" not in completed.stderr, completed.stderr
        assert [f["code"] for f in json.loads(completed.stdout)["findings"]] == ["PFL404"]
        assert completed.returncode == 1


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/fd"), reason="no /dev/fd here")
def test_fixing_a_process_substitution_keeps_its_findings(tmp_path):
    (tmp_path / "f.py").write_text(FLAGGED)
    command = f"{sys.executable} -m perflint check --fix --unsafe-fixes --output-format json <(cat f.py)"
    completed = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in completed.stderr, completed.stderr
    findings = json.loads(completed.stdout)["findings"]
    assert [(f["code"], f["message"]) for f in findings] == [
        ("PFL000", "fixes not applied: a pipe can be read only once"),
        ("PFL404", findings[1]["message"]),
    ]
    assert (tmp_path / "f.py").read_text() == FLAGGED


def test_a_file_over_the_size_cap_is_pfl000_and_the_others_are_linted(tmp_path, monkeypatch):
    from perflint import files

    monkeypatch.setattr(files, "MAX_SOURCE_BYTES", 1000)
    (tmp_path / "big.py").write_text("x = 1\n" * 500)
    (tmp_path / "a.py").write_text(FLAGGED)
    tasks = [runner.LintTask(SourceFile(name, str(tmp_path / name)), ("PFL404",)) for name in ("a.py", "big.py")]
    findings = runner.lint_files(tasks, jobs=1)
    assert [(f.code, f.path) for f in findings] == [("PFL404", "a.py"), ("PFL000", "big.py")]
    assert findings[1].message.startswith("file too large: over ")


_BOUNDED_RUN = """
import json, sys
from perflint import runner
from perflint.files import SourceFile
runner.WORKER_MEMORY_ALLOWANCE = 150 * 1024 ** 2
tasks = [runner.LintTask(SourceFile(name, name), ("PFL404",), time_limit=60.0) for name in ("a.py", "big.py")]
findings = runner.lint_files(tasks, jobs=1)
print(json.dumps([(f.code, f.path, f.message) for f in findings if f.path == "a.py" or f.code == "PFL000"]))
"""


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the address-space bound is measured on Linux")
def test_a_file_needing_more_memory_than_a_worker_may_take_is_pfl000_and_the_others_are_linted(tmp_path):
    # A fresh interpreter: a forked worker inherits its parent's heap, and the free memory in a
    # long test session's heap would let the file fit without growing the address space.
    (tmp_path / "big.py").write_text(FLAGGED * 2500)  # about 1 GB to lint without a bound
    (tmp_path / "a.py").write_text(FLAGGED)
    completed = subprocess.run(
        [sys.executable, "-c", _BOUNDED_RUN], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    findings = json.loads(completed.stdout)
    assert [(code, path) for code, path, _ in findings] == [("PFL404", "a.py"), ("PFL000", "big.py")], findings
    assert findings[1][2].startswith("out of memory: linting this file needed more than 0.146 GiB")


def test_a_scaled_time_limit_is_capped():
    assert runner.scaled_limit(10.0, 100) == 10.0
    assert runner.scaled_limit(10.0, 800_000) == 20.0
    assert runner.scaled_limit(10.0, 10 * 1024 * 1024) == 10.0 * runner.MAX_LIMIT_SCALE
    assert runner.scaled_limit(float("inf"), 100) == runner.MAX_TIME_LIMIT
    assert runner.scaled_limit(float("nan"), 100) == runner.MAX_TIME_LIMIT


# Signals ------------------------------------------------------------------------------------


def _start_a_long_run(tmp_path):
    """A run with two busy workers: forty files of a few thousand lines each."""
    import psutil

    for index in range(40):
        (tmp_path / f"m{index}.py").write_text(FLAGGED * 600)
    process = subprocess.Popen(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--jobs", "2", "."],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 60
    workers: list = []
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
        workers = parent.children(recursive=True)
    assert len(workers) == 2, "the workers never started"
    time.sleep(1.0)  # they are linting now
    return process, workers


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="no SIGTERM to send")
def test_sigterm_ends_the_run_cleanly_and_leaves_no_worker(tmp_path):
    import signal

    import psutil

    process, workers = _start_a_long_run(tmp_path)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 143
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "perflint: terminated"
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_workers_die_with_a_parent_killed_outright(tmp_path):
    import signal

    import psutil

    process, workers = _start_a_long_run(tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []


# Generated programs ------------------------------------------------------------------------

EVERY_RULE = all_rules()


def _no_internal_error(source: str) -> None:
    for finding in lint_source(source, "generated.py", EVERY_RULE):
        assert not finding.message.startswith("internal error"), finding.message


def _check_generated_programs(strategy: str, max_examples: int) -> None:
    """No rule fails on programs from hypothesmith's ``strategy``. Hypothesis and hypothesmith are
    imported here, by the slow tests: hypothesmith builds its grammar on import, seconds that every
    collection of the inner loop would pay."""
    import hypothesmith
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(getattr(hypothesmith, strategy)())
    def no_internal_error(source):
        _no_internal_error(source)

    no_internal_error()


@pytest.mark.slow
def test_no_rule_fails_on_programs_generated_from_the_grammar():
    _check_generated_programs("from_grammar", max_examples=25)


# from_node builds large programs: fewer examples keep the suite fast.
@pytest.mark.slow
def test_no_rule_fails_on_programs_generated_from_libcst_nodes():
    _check_generated_programs("from_node", max_examples=8)


@pytest.mark.parametrize("report", ["missing/report.html", "."])
def test_bench_report_to_an_unwritable_path_is_refused_before_benchmarking(tmp_path, monkeypatch, capsys, report):
    from perflint.cli.main import main
    from perflint.measure import harness

    def never(*args, **kwargs):
        raise AssertionError("benchmarks ran before the report path was checked")

    monkeypatch.setattr(harness, "measure_rules", never)
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "PFL401", "--report", report]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"perflint: error: cannot write --report {report}: ") and err.count("\n") == 1
