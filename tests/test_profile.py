"""Reading the user's own profile: cProfile, the PyTorch profiler's Chrome trace and
speedscope, each reduced to inclusive seconds per function of the linted files."""

from __future__ import annotations

import contextlib
import cProfile
import io
import json
import marshal
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from perflint.cli.main import main
from perflint.profile import ProfileError, ProfileIndex, function_spans, match_paths, read_profile

HOT_AND_COLD = """\
import numpy as np


def hot(a):
    out = np.empty_like(a)
    for i in range(len(a)):
        out[i] = a[i] * 2
    return out


@staticmethod
def cold(a):
    return a + 1


def main():
    a = np.random.default_rng(0).random(30000)
    for _ in range(3):
        hot(a)
    cold(a)


if __name__ == "__main__":
    main()
"""
HOT_LINE, COLD_LINE, MAIN_LINE = 7, 13, 18


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "project" / "train.py"
    path.parent.mkdir()
    path.write_text(HOT_AND_COLD)
    return path


def _index(profile_path: Path, program: Path, linted_as: str = "src/project/train.py") -> ProfileIndex:
    return ProfileIndex(read_profile(str(profile_path)), {linted_as: program.read_text()})


def test_a_cprofile_of_the_program_ranks_the_hot_function_above_the_cold_one(program, tmp_path):
    profiler = cProfile.Profile()
    profiler.enable()
    runpy.run_path(str(program), run_name="__main__")
    profiler.disable()
    profiler.dump_stats(str(tmp_path / "prof.out"))

    index = _index(tmp_path / "prof.out", program)
    hot, cold, main = (index.share_at("src/project/train.py", line) for line in (HOT_LINE, COLD_LINE, MAIN_LINE))
    assert (hot.function, cold.function, main.function) == ("hot", "cold", "main")
    assert hot.share > cold.share
    assert main.inclusive_seconds >= hot.inclusive_seconds  # inclusive: main contains hot's calls
    assert 0 < hot.share <= 1


@pytest.mark.slow
def test_a_torch_profiler_trace_ranks_the_hot_function_above_the_cold_one(program, tmp_path):
    pytest.importorskip("torch")
    from torch.profiler import ProfilerActivity, profile

    sys.path.insert(0, str(program.parent))
    try:
        module = runpy.run_path(str(program))
        with profile(activities=[ProfilerActivity.CPU], with_stack=True) as recorded:
            module["main"]()
    finally:
        sys.path.remove(str(program.parent))
    recorded.export_chrome_trace(str(tmp_path / "trace.json"))

    index = _index(tmp_path / "trace.json", program)
    assert read_profile(str(tmp_path / "trace.json")).format == "chrome-trace"
    hot, cold = index.share_at("src/project/train.py", HOT_LINE), index.share_at("src/project/train.py", COLD_LINE)
    assert hot.function == "hot" and hot.share > (cold.share if cold else 0.0)


def test_speedscope_samples_count_a_function_once_per_stack(program, tmp_path):
    frames = [
        {"name": "main", "file": "/ci/build/project/train.py", "line": MAIN_LINE},
        {"name": "hot", "file": "/ci/build/project/train.py", "line": 6},
        {"name": "hot", "file": "/ci/build/project/train.py", "line": HOT_LINE},
        {"name": "cold", "file": "/ci/build/project/train.py", "line": COLD_LINE},
    ]
    document = {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "shared": {"frames": frames},
        "profiles": [
            {
                "type": "sampled",
                "unit": "seconds",
                # main→hot at two lines of hot in one stack (one sample of 3 s), main→cold (1 s).
                "samples": [[0, 1, 2], [0, 3]],
                "weights": [3.0, 1.0],
            }
        ],
    }
    (tmp_path / "py-spy.json").write_text(json.dumps(document))
    index = _index(tmp_path / "py-spy.json", program)
    hot = index.share_at("src/project/train.py", HOT_LINE)
    main = index.share_at("src/project/train.py", MAIN_LINE)
    assert (hot.function, hot.inclusive_seconds, hot.share) == ("hot", 3.0, 0.75)
    assert (main.inclusive_seconds, main.share) == (4.0, 1.0)


def test_paths_match_on_the_longest_common_suffix_and_ties_stay_unmatched():
    matched = match_paths(
        ["src/pkg/model.py", "src/other/model.py", "src/pkg/train.py", "src/pkg/data.py"],
        ["/home/me/repo/src/pkg/model.py", "/home/me/repo/src/other/model.py", "train.py", "/a/data.py", "/b/data.py"],
    )
    assert matched == {
        "src/pkg/model.py": "/home/me/repo/src/pkg/model.py",
        "src/other/model.py": "/home/me/repo/src/other/model.py",
        "src/pkg/train.py": "train.py",
    }


def test_function_spans_include_decorators_and_nest():
    spans = function_spans(HOT_AND_COLD + "\nclass C:\n    def method(self):\n        def inner():\n            pass\n")
    assert [(span.name, span.first) for span in spans][:3] == [("hot", 4), ("cold", 11), ("main", 16)]
    assert [span.name for span in spans][-2:] == ["method", "inner"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not a profile at all", "not a profile"),
        (b'{"some": "json"}', "neither a Chrome trace nor speedscope"),
        (b"{broken", "not valid JSON"),
    ],
)
def test_a_file_that_is_no_profile_is_a_clear_error(tmp_path, content, reason):
    (tmp_path / "bad").write_bytes(content)
    with pytest.raises(ProfileError, match=reason):
        read_profile(str(tmp_path / "bad"))


def test_a_missing_profile_is_a_clear_error(tmp_path):
    with pytest.raises(ProfileError, match="cannot read profile"):
        read_profile(str(tmp_path / "absent.out"))


# perflint check --profile ---------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "profile_guided.py"


def _profile_example(tmp_path: Path) -> Path:
    profiler = cProfile.Profile()
    with contextlib.redirect_stdout(io.StringIO()):
        profiler.enable()
        runpy.run_path(str(EXAMPLE), run_name="__main__")
        profiler.disable()
    profiler.dump_stats(str(tmp_path / "profile.out"))
    return tmp_path / "profile.out"


def _check_json(capsys, *arguments: str) -> tuple[int, dict, str]:
    status = main(["check", "--no-cache", "--output-format", "json", *arguments])
    captured = capsys.readouterr()
    return status, json.loads(captured.out), captured.err


def test_check_ranks_the_finding_in_the_hot_function_first(tmp_path, capsys):
    profile = _profile_example(tmp_path)
    status, report, _ = _check_json(capsys, "--profile", str(profile), str(EXAMPLE))
    assert status == 1
    functions = [finding["profile"]["function"] for finding in report["findings"]]
    assert functions == ["smooth", "calibrate"]
    hot, cold = report["findings"]
    assert hot["profile"]["share"] > cold["profile"]["share"] and hot["profile"]["inclusive_seconds"] > 0
    assert "estimated_saving_share" not in hot  # no estimate without --measure


def test_concise_output_shows_the_share_beside_each_finding(tmp_path, capsys):
    profile = _profile_example(tmp_path)
    main(["check", "--no-cache", "--profile", str(profile), str(EXAMPLE)])
    lines = capsys.readouterr().out.splitlines()
    assert "of the run in `smooth`]" in lines[0] and "of the run in `calibrate`]" in lines[1]


@pytest.mark.slow
def test_with_measure_each_finding_gets_an_estimate_no_larger_than_its_share(tmp_path, capsys):
    profile = _profile_example(tmp_path)
    _, report, _ = _check_json(
        capsys,
        "--profile",
        str(profile),
        "--measure",
        "--measure-budget",
        "20",
        "--cache-dir",
        str(tmp_path / "cache"),
        str(EXAMPLE),
    )
    hot = report["findings"][0]
    assert 0 < hot["estimated_saving_share"] <= hot["profile"]["share"]
    assert "the speedup measured at" in hot["estimate"]


def test_a_profile_of_another_program_is_a_warning_not_an_error(tmp_path, capsys):
    other = tmp_path / "other.py"
    other.write_text("def f():\n    return sum(range(1000))\nf()\n")
    profiler = cProfile.Profile()
    profiler.enable()
    runpy.run_path(str(other))
    profiler.disable()
    profiler.dump_stats(str(tmp_path / "other.out"))
    status, report, error = _check_json(capsys, "--profile", str(tmp_path / "other.out"), str(EXAMPLE))
    assert status == 1 and len(report["findings"]) == 2
    assert "profile of another program" in error
    assert all("profile" not in finding for finding in report["findings"])


def test_an_unreadable_profile_is_exit_2_naming_the_file_and_the_formats(tmp_path, capsys):
    (tmp_path / "bad.out").write_text("hello")
    assert main(["check", "--no-cache", "--profile", str(tmp_path / "bad.out"), str(EXAMPLE)]) == 2
    error = capsys.readouterr().err
    assert "bad.out" in error and "cProfile/pstats" in error and "speedscope" in error


# Malformed profiles: one line naming the file, never a traceback or a nonsense share ---------

SCHEMA = "https://www.speedscope.app/file-format-schema.json"


def _speedscope(frames=None, profile=None, **document) -> dict:
    sampled = {"type": "sampled", "unit": "seconds", "samples": [[0]], "weights": [1.0]}
    base = {
        "$schema": SCHEMA,
        "shared": {"frames": [{"name": "f", "file": "a.py", "line": 1}] if frames is None else frames},
        "profiles": [dict(sampled, **(profile or {}))],
    }
    base.update(document)
    return base


MALFORMED_SPEEDSCOPE = {
    "no shared frames": _speedscope(shared=None),
    "frames not a list": _speedscope(frames={"0": {"file": "a.py", "line": 1}}),
    "profiles not a list": _speedscope(profiles="sampled"),
    "a profile not an object": _speedscope(profiles=[3]),
    "samples not a list": _speedscope(profile={"samples": 5}),
    "fewer weights than samples": _speedscope(profile={"samples": [[0], [0]], "weights": [1.0]}),
    "a weight that is text": _speedscope(profile={"weights": ["1"]}),
    "a negative weight": _speedscope(profile={"weights": [-20.0]}),
    "a frame index out of range": _speedscope(profile={"samples": [[7]]}),
    "a frame index that is text": _speedscope(profile={"samples": [["0"]]}),
    "a unit that is a list": _speedscope(profile={"unit": ["seconds"]}),
    "a frame line that is text": _speedscope(frames=[{"name": "f", "file": "a.py", "line": "1"}]),
}


@pytest.mark.parametrize("shape", sorted(MALFORMED_SPEEDSCOPE))
def test_a_malformed_speedscope_file_is_refused_in_one_line(tmp_path, shape):
    (tmp_path / "bad.json").write_text(json.dumps(MALFORMED_SPEEDSCOPE[shape]))
    with pytest.raises(ProfileError, match=r"^cannot read profile .*bad\.json: [^\n]+$"):
        read_profile(str(tmp_path / "bad.json"))


def test_a_nan_weight_in_speedscope_is_refused(tmp_path):
    text = json.dumps(_speedscope(profile={"weights": [0.5]})).replace("0.5", "NaN")
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(ProfileError, match="is nan; a time must be a finite number"):
        read_profile(str(tmp_path / "bad.json"))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"traceEvents": [{"ph": "X", "ts": 1' + "0" * 5000 + ', "dur": 1, "name": "a.py(1): f"}]}', "not valid JSON"),
        ('{"traceEvents": [{"ph": "X", "ts": 0, "dur": 1, "name": "a.py(' + "9" * 5000 + '): f"}]}', "has 5000 digits"),
        ('{"traceEvents": [{"ph": "X", "ts": 0, "dur": 1e400, "name": "a.py(1): f"}]}', "is inf"),
        ('{"traceEvents": [{"ph": "X", "ts": 0, "dur": -2000, "name": "a.py(1): f"}]}', "is -2e+03"),
        ('{"traceEvents": [{"ph": "X", "ts": "soon", "dur": 1, "name": "a.py(1): f"}]}', "is not a number"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_a_chrome_trace_with_impossible_numbers_or_nesting_is_refused(tmp_path, text, reason):
    (tmp_path / "trace.json").write_text(text)
    with pytest.raises(ProfileError, match=r"^cannot read profile .*trace\.json: ") as raised:
        read_profile(str(tmp_path / "trace.json"))
    assert reason in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("value", [float("inf"), float("nan"), -2.0])
def test_a_pstats_file_with_an_impossible_time_is_refused(tmp_path, value):
    stats = {("train.py", 3, "step"): (1, 1, 0.5, value, {}), ("train.py", 9, "main"): (1, 1, 0.1, 1.0, {})}
    (tmp_path / "prof.out").write_bytes(marshal.dumps(stats))
    with pytest.raises(ProfileError, match="cannot read profile .*prof.out: the cumulative time of 'step' is"):
        read_profile(str(tmp_path / "prof.out"))


def test_a_negative_duration_is_never_shown_as_a_share_of_the_run(tmp_path, capsys):
    trace = {
        "traceEvents": [
            {"ph": "X", "ts": 0, "dur": 100, "name": f"{EXAMPLE}(14): smooth"},
            {"ph": "X", "ts": 0, "dur": -2000, "name": f"{EXAMPLE}(21): calibrate"},
        ]
    }
    (tmp_path / "trace.json").write_text(json.dumps(trace))
    assert main(["check", "--no-cache", "--profile", str(tmp_path / "trace.json"), str(EXAMPLE)]) == 2
    captured = capsys.readouterr()
    assert "of the run" not in captured.out
    assert captured.err.startswith("perflint: error: cannot read profile") and captured.err.count("\n") == 1


@pytest.mark.slow
def test_fix_with_a_garbage_profile_exits_2_before_changing_any_file(tmp_path):
    program = tmp_path / "train.py"
    program.write_bytes(EXAMPLE.read_bytes())
    (tmp_path / "garbage.prof").write_bytes(b"\x00garbage")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "perflint",
            "check",
            "--no-cache",
            "--fix",
            "--unsafe-fixes",
            "--profile",
            "garbage.prof",
            "train.py",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 2
    assert "cannot read profile garbage.prof" in completed.stderr and "Traceback" not in completed.stderr
    assert program.read_bytes() == EXAMPLE.read_bytes()


def test_a_pstats_file_whose_bytes_begin_with_a_brace_is_read_as_pstats(tmp_path):
    data = marshal.dumps({("train.py", 3, "step"): (1, 1, 0.5, -2.0, {})})
    assert data[:1] == b"{"  # marshal's dict type code, not JSON
    (tmp_path / "prof.out").write_bytes(data)
    with pytest.raises(ProfileError, match="the cumulative time of 'step' is -2; a time must be"):
        read_profile(str(tmp_path / "prof.out"))


def test_the_estimate_uses_the_speedup_at_the_findings_own_size_where_the_code_states_it(tmp_path):
    from dataclasses import replace

    from perflint.engine.findings import Finding
    from perflint.measure.results import MEASURED, Measurement, MeasurementReport, Point
    from perflint.profile import Profile, Sample, attach_profile

    source = tmp_path / "scale.py"
    source.write_text("def scale(a, out):\n    for i in range(len(a)):\n        out[i] = a[i] * 2\n")
    profile = Profile(format="pstats", samples=(Sample(str(source), 1, 1.0),), total_seconds=2.0)
    loop = Finding("PFL101", "elementwise-index-loop", "m", str(source), 2, 5, 3, 26)
    points = tuple(
        Point(size=size, pattern_seconds=speedup, fix_seconds=1.0, speedup=speedup, samples=15, workers=3)
        for size, speedup in ((1_000, 2.0), (10_000, 4.0), (100_000, 10.0))
    )
    measurement = MeasurementReport(
        machine={},
        measurements=[
            Measurement(
                code="PFL101",
                name="elementwise-index-loop",
                backend="array",
                library="numpy",
                device="cpu",
                status=MEASURED,
                size_unit="elements",
                points=points,
            )
        ],
    )
    unsized, sized = attach_profile([loop, replace(loop, size=80_000)], profile, measurement).findings
    assert unsized.profile.share == sized.profile.share == 0.5
    assert unsized.profile.estimated_saving_share == pytest.approx(0.5 * (1 - 1 / 4))
    assert unsized.profile.estimate.endswith("the speedup measured at 10,000 elements")
    assert sized.profile.estimated_saving_share == pytest.approx(0.5 * (1 - 1 / 10))
    assert sized.profile.estimate.endswith("the speedup measured at 100,000 elements")
