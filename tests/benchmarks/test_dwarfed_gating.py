"""benchmarks/dwarfed_gating.py: verdicts split by whether heavy work is beside their finding."""

from __future__ import annotations

from dwarfed_gating import join, split, verdicts_of

_TRAIN = """\
import torch
def train(model, loader, optimizer, device):
    for x in loader:
        optimizer.zero_grad(set_to_none=False)
        loss = model(x.to(device)).sum()
        loss.backward()
        optimizer.step()
        print(loss.item())
    for x in loader:
        print(x.sum())
"""


def test_verdicts_are_joined_to_heavy_work_at_their_finding_or_line_and_a_missing_file_has_no_source(tmp_path):
    archive = "pkg-1.0-py3-none-any.whl"
    (tmp_path / "round1" / "dev").mkdir(parents=True)
    (tmp_path / "round1" / "dev" / archive).write_text("")
    source = tmp_path / "unpacked" / archive / "pkg" / "train.py"
    source.parent.mkdir(parents=True)
    source.write_text(_TRAIN)
    sheet = tmp_path / "verdicts.csv"
    sheet.write_text(
        "set,codebase,path,line,rule,verdict,reason,source\n"
        "round1/dev,pkg 1.0,pkg/train.py,4,PFL501,worth,frees gradients,r.md\n"
        "round1/dev,pkg 1.0,pkg/train.py,8,PFL203,not worth,beside the step,r.md\n"
        "round1/dev,pkg 1.0,pkg/train.py,6,PFL203,not worth,beside the step,r.md\n"
        "round1/dev,pkg 1.0,pkg/train.py,10,PFL203,wrong,host tensor,r.md\n"
        "round1/dev,pkg 1.0,pkg/gone.py,3,PFL203,wrong,no such file,r.md\n"
    )
    verdicts = verdicts_of(sheet)
    joined = join(verdicts, tmp_path)
    assert [joined[verdict] for verdict in verdicts] == [
        ("reported", "a backward pass"),
        ("reported", "a backward pass"),
        ("gone", "an optimizer step"),
        ("gone", ""),
        ("no source", ""),
    ]
    table = split(joined)
    assert table["PFL203"][("gone", True)] == {"not worth": 1}
    assert table["all"][("reported", True)] == {"worth": 1, "not worth": 1}
    assert table["all"][("no source", False)] == {"wrong": 1}
