"""The incremental lint (``perflint.engine.incremental``) gives the whole lint's findings.

For each function or class of a real file, its body is emptied (its summary, what the rest of
the file learns from it, changes) and a line is added inside it (every later finding moves);
the incremental lint from the file to the edited text, and back, must equal a whole lint of the
new text, or decline (``lint_change`` returns None and the server lints the whole file)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from perflint.engine.incremental import CLASS, DEF, Chunk, lint_change, lint_whole
from perflint.engine.linter import lint_source
from perflint.engine.rule import example_code
from perflint.rules import all_rules

ROOT = Path(__file__).resolve().parents[2]
CORPORA = Path("/work/corpora")


def _body_lines(chunk: Chunk) -> tuple[int, int]:
    """The lines of the chunk's longest function body (a method, for a class)."""
    (start, _), (end, _) = max(chunk.bodies, key=lambda body: body[1][0] - body[0][0])
    return start, end


def emptied(lines: list[str], chunk: Chunk) -> str | None:
    """The text with the chunk's longest body replaced by ``pass``; None for a body on its
    header's line."""
    start, end = _body_lines(chunk)
    body_line = lines[start - 1]
    indent = body_line[: len(body_line) - len(body_line.lstrip())]
    if not indent:
        return None
    return "\n".join([*lines[: start - 1], f"{indent}pass", *lines[end:]])


def with_line_added(lines: list[str], chunk: Chunk) -> str | None:
    start, _ = _body_lines(chunk)
    body_line = lines[start - 1]
    indent = body_line[: len(body_line) - len(body_line.lstrip())]
    if not indent:
        return None
    return "\n".join([*lines[: start - 1], f"{indent}_edited = 0", *lines[start - 1 :]])


def check_every_chunk(source: str, path: str) -> tuple[int, int]:
    """Edits every function and class of ``source``, compares; returns how many edits were
    linted incrementally and how many fell back to the whole lint."""
    rules = all_rules()
    whole, state = lint_whole(source, path, rules)
    assert whole == lint_source(source, path, rules, fix_edits=False)
    if state is None:
        return 0, 1
    lines = source.split("\n")
    incremental = declined = 0
    for chunk in state.chunks:
        if chunk.kind not in (DEF, CLASS) or not chunk.bodies:
            continue
        for edit in (emptied, with_line_added):
            edited = edit(lines, chunk)
            if edited is None:
                continue
            expected = lint_source(edited, path, rules, fix_edits=False)
            forward = lint_change(state, edited, path, rules)
            if forward is None:
                declined += 1
                continue
            incremental += 1
            assert forward[0] == expected, f"{path}: lines {chunk.first}-{chunk.last}, {edit.__name__}"
            back = lint_change(forward[1], source, path, rules)
            if back is not None:
                assert back[0] == whole, f"{path}: lines {chunk.first}-{chunk.last}, {edit.__name__}, back"
    return incremental, declined


@pytest.mark.parametrize("name", ["train_regression.py", "profile_guided.py"])
def test_examples(name: str) -> None:
    incremental, _ = check_every_chunk((ROOT / "examples" / name).read_text(), name)
    assert incremental > 0


TRAINING = '''"""Training: fit_batch calls loss.backward(), optimizer.step() and zero_grad() once per batch."""
import torch


def fit_batch(model, optimizer, x, y):
    loss = torch.nn.functional.mse_loss(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss


def train(model, optimizer, loader, device):
    for x, y in loader:
        x = x.to(device)
        loss = fit_batch(model, optimizer, x, y.to(device))
        print(loss.item())
'''


def test_a_callers_findings_follow_the_edited_function() -> None:
    """``train``'s ``.item()`` is flagged (PFL203) because its loop is a training step, which
    only ``fit_batch``'s body shows: emptying that body must lint ``train`` again."""
    rules = all_rules()
    findings, state = lint_whole(TRAINING, "train.py", rules)
    assert [finding.code for finding in findings] == ["PFL203"] and state is not None
    fit_batch = state.chunks[2]
    untrained = emptied(TRAINING.split("\n"), fit_batch)
    assert untrained is not None
    changed = lint_change(state, untrained, "train.py", rules)
    assert changed is not None and changed[0] == lint_source(untrained, "train.py", rules, fix_edits=False) == []
    assert check_every_chunk(TRAINING, "train.py")[0] >= 3


def test_the_examples_repeated_as_the_latency_benchmark_lints_them() -> None:
    """Duplicate definitions (every call of ``main`` has two candidates) and imports between
    functions."""
    text = "\n".join((ROOT / "examples" / name).read_text() for name in ("train_regression.py", "profile_guided.py"))
    incremental, _ = check_every_chunk(text * 3, "big_module.py")
    assert incremental > 0


@pytest.mark.slow
def test_every_rules_invalid_examples() -> None:
    incremental = 0
    for rule in all_rules():
        for example in rule.INVALID:
            incremental += check_every_chunk(example_code(example.source), "example.py")[0]
    assert incremental > 100


# Files of the development corpora (HELPERS.md) dense with functions that call one another and
# with findings, read from the archives where this machine has them.
CORPUS_FILES = [
    ("round1/dev/kornia-0.9.0-py3-none-any.whl", "kornia/feature/sold2/backbones.py"),
    ("round2/dev/pytorch_tabnet-4.1.0-py3-none-any.whl", "pytorch_tabnet/abstract_model.py"),
    ("round3/dev/bayesian_torch-0.5.0-py3-none-any.whl", "bayesian_torch/utils/avuc_loss.py"),
    ("round3/dev/demucs-4.1.0-py3-none-any.whl", "demucs/wiener.py"),
    ("round3/dev/deepinv-0.5.0-py3-none-any.whl", "deepinv/physics/noise.py"),
    ("round3/dev/lightly-1.6.0-py3-none-any.whl", "lightly/models/modules/heads.py"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("archive", "member"), CORPUS_FILES, ids=[member for _, member in CORPUS_FILES])
def test_development_corpus_files(archive: str, member: str) -> None:
    if not (CORPORA / archive).is_file():
        pytest.skip(f"{archive} is not on this machine")
    with zipfile.ZipFile(CORPORA / archive) as wheel:
        source = wheel.read(member).decode("utf-8")
    incremental, _ = check_every_chunk(source, member)
    assert incremental > 0


def test_an_edit_the_rest_of_the_file_may_read_is_linted_whole() -> None:
    rules = all_rules()
    source = "import torch\n\n\ndef f(x):\n    return x.cuda()\n\n\ndef g(x):\n    return f(x)\n"
    _, state = lint_whole(source, "m.py", rules)
    assert state is not None
    for edited in (
        source.replace("import torch", "import torch as th"),
        source.replace("def f(x):", "@staticmethod\ndef f(x):"),
        source.replace("def g(x):", "def h(x):"),
        source + "y = 1\n",
        source.replace("return x.cuda()", "return x.cuda(\n"),
    ):
        assert lint_change(state, edited, "m.py", rules) is None, edited
    assert lint_change(state, source.replace("return x.cuda()", "y = x\n    return y.cuda()"), "m.py", rules)
    compiled = "import numba\n\n\ndef f(x):\n    return x\n\n\nfast = numba.njit(f)\n"
    assert lint_whole(compiled, "m.py", rules)[1] is None


def test_the_same_text_under_other_rules_is_linted_whole() -> None:
    rules = all_rules()
    source = "import torch\n\n\ndef make(device):\n    return torch.zeros(3).to(device)\n"
    findings, state = lint_whole(source, "m.py", rules)
    assert state is not None and findings
    fewer = [rule for rule in rules if rule.code not in {finding.code for finding in findings}]
    assert lint_change(state, source, "m.py", fewer) is None
