"""PFL408 beyond its examples: the message, and the reads that stay silent."""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.heavy_load_in_loop import HeavyLoadInLoop
from perflint.rules.recomputation.invariant_file_read_in_loop import InvariantFileReadInLoop
from tests.rules.execution import assert_left_alone, assert_no_fix, call, dedented_and_fixed, run


def messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [InvariantFileReadInLoop])]


def test_message_names_the_read():
    source = "import numpy as np\nfor q in queries:\n    bank = np.loadtxt('bank.txt', delimiter=',')\n"
    assert messages(source) == [
        "`np.loadtxt('bank.txt', delimiter=',')` reads the same file on every iteration; read it once before the loop"
    ]


@pytest.mark.parametrize(
    "read",
    [
        "pd.read_csv(path)",  # the loop target
        "pd.read_csv(files[i])",
        "np.load(BANK, mmap_mode=mode)",  # possibly a memory map
        "json.load(f)",  # a file object, read on from where it is
        "pd.read_csv(open_next())",  # an unknown call
    ],
)
def test_reads_that_may_differ_each_iteration_are_not_flagged(read):
    source = f"import json\nimport numpy as np\nimport pandas as pd\nfor i, path in enumerate(paths):\n    x = {read}\n"
    assert messages(source) == []


# PFL408 invariant-file-read-in-loop ----------------------------------------------------------

PFL408_LOOP = """
    import numpy as np
    import pandas as pd
    def label_counts(ids, path, between):
        counts = []
        for i in ids:
            labels = pd.read_csv(path)
            counts.append(int((labels["id"] == i).sum()))
            between()
        return counts
    def scores(queries, bank_path):
        return [float((np.load(bank_path) @ x).sum()) for x in queries]
"""


@pytest.fixture
def data_files(tmp_path, pandas):
    csv = tmp_path / "labels.csv"
    pandas.DataFrame({"id": [1, 2, 2, 3, 3, 3]}).to_csv(csv, index=False)
    bank = tmp_path / "bank.npy"
    np.save(bank, np.arange(12.0).reshape(3, 4))
    return csv, bank


def test_pfl408_hoisted_read_gives_the_same_results(data_files):
    csv, bank = data_files
    original, fixed_source = dedented_and_fixed(PFL408_LOOP, InvariantFileReadInLoop)
    assert "read_csv_path = pd.read_csv(path)" in fixed_source and "load_bank_path = np.load(bank_path)" in fixed_source
    nothing = lambda: None  # noqa: E731
    assert call(original, "label_counts", [1, 2, 3, 4], csv, nothing) == [1, 2, 3, 0]
    assert call(fixed_source, "label_counts", [1, 2, 3, 4], csv, nothing) == [1, 2, 3, 0]
    queries = list(np.eye(4))
    assert call(original, "scores", queries, bank) == call(fixed_source, "scores", queries, bank)


def test_pfl408_unsafe_a_file_that_changes_during_the_loop_is_read_once(data_files):
    csv, _ = data_files
    original, fixed_source = dedented_and_fixed(PFL408_LOOP, InvariantFileReadInLoop)

    def append_a_row():
        with open(csv, "a") as handle:
            handle.write("3\n")

    csv_text = csv.read_text()
    assert call(original, "label_counts", [3, 3], csv, append_a_row) == [3, 4]
    csv.write_text(csv_text)
    assert call(fixed_source, "label_counts", [3, 3], csv, append_a_row) == [3, 3]


def test_pfl408_unsafe_the_file_is_read_even_when_the_loop_runs_no_iteration(tmp_path, pandas):
    original, fixed_source = dedented_and_fixed(PFL408_LOOP, InvariantFileReadInLoop)
    missing = tmp_path / "missing.csv"
    assert call(original, "label_counts", [], missing, None) == []
    with pytest.raises(FileNotFoundError):
        call(fixed_source, "label_counts", [], missing, None)


def test_pfl408_offers_no_fix_when_the_loop_changes_the_data_it_read():
    assert_no_fix(
        """
        import pandas as pd
        for threshold in thresholds:
            table = pd.read_csv("scores.csv")
            table["score"] -= threshold
            report((table["score"] > 0).mean())
    """,
        InvariantFileReadInLoop,
    )


# PFL404 / PFL408: a read of a path the loop writes sees each write -----------------------

REREAD_AFTER_WRITE = """
import json
import torch

def rounds(folder, steps):
    seen = []
    for step in range(steps):
        with open(folder + "/state.json", "w") as stream:
            json.dump({"step": step}, stream)
        seen.append(json.load(open(folder + "/state.json"))["step"])
        torch.save(torch.tensor([step]), folder + "/last.pt")
        seen.append(int(torch.load(folder + "/last.pt")))
    return seen
"""


def test_a_file_the_loop_rewrites_is_read_again_each_iteration_and_not_hoisted(
    tmp_path, torch
):  # the program saves with torch
    assert run(REREAD_AFTER_WRITE)["rounds"](str(tmp_path), 3) == [0, 0, 1, 1, 2, 2]
    for rule in (InvariantFileReadInLoop, HeavyLoadInLoop):
        assert lint_source(REREAD_AFTER_WRITE, "example.py", [rule]) == []
        assert_left_alone(REREAD_AFTER_WRITE, rule)
    unwritten = REREAD_AFTER_WRITE.replace('"/state.json", "w"', '"/other.json", "w"').replace(
        'torch.save(torch.tensor([step]), folder + "/last.pt")', "pass"
    )
    assert [
        f.code
        for rule in (InvariantFileReadInLoop, HeavyLoadInLoop)
        for f in lint_source(unwritten, "example.py", [rule])
    ] == ["PFL408", "PFL404"]
