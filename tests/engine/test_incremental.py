"""The incremental lint (``perflint.engine.incremental``) gives the whole lint's findings.

For each function or class of a real file, its body is emptied (its summary, what the rest of
the file learns from it, changes) and a line is added inside it (every later finding moves);
around each top-level statement, a comment is added above it, it is removed, a module-level
statement is added after it, and a function's or class's name or another statement's text is
changed. The incremental lint from the file to the edited text, and back, must equal a whole
lint of the new text, or decline (``lint_change`` returns None and the server lints the whole
file)."""

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


def top_level_edits(lines: list[str], chunk: Chunk) -> list[tuple[str, str]]:
    """Edits at top level around ``chunk``: a comment and a blank line added above it, the
    chunk removed, a module-level statement added after it, and for a function or class its
    name changed; for another statement, the statement changed (its last line repeated)."""
    above, below = lines[: chunk.first - 1], lines[chunk.last :]
    own = lines[chunk.first - 1 : chunk.last]
    edits = [
        ("comment above", "\n".join([*above, "# a comment", "", *own, *below])),
        ("removed", "\n".join([*above, *below])),
        ("statement added", "\n".join([*above, *own, "_edited = 0", *below])),
    ]
    if chunk.kind in (DEF, CLASS):
        renamed = [own[0].replace(" ", " renamed_", 1) if own[0].startswith(("def ", "class ")) else own[0], *own[1:]]
        edits.append(("renamed", "\n".join([*above, *renamed, *below])))
    elif chunk.first == chunk.last:
        edits.append(("changed", "\n".join([*above, *own, *own, *below])))
    return edits


def check_top_level(source: str, path: str) -> tuple[int, int]:
    """Makes ``top_level_edits`` around every chunk of ``source``, compares as
    ``check_every_chunk``."""
    rules = all_rules()
    whole, state = lint_whole(source, path, rules)
    if state is None:
        return 0, 1
    lines = source.split("\n")
    incremental = declined = 0
    for chunk in state.chunks:
        for name, edited in top_level_edits(lines, chunk):
            forward = lint_change(state, edited, path, rules)
            if forward is None:
                declined += 1
                continue
            incremental += 1
            expected = lint_source(edited, path, rules, fix_edits=False)
            assert forward[0] == expected, f"{path}: lines {chunk.first}-{chunk.last} ({chunk.kind}), {name}"
            back = lint_change(forward[1], source, path, rules)
            if back is not None:
                assert back[0] == whole, f"{path}: lines {chunk.first}-{chunk.last} ({chunk.kind}), {name}, back"
    return incremental, declined


def check_every_chunk(source: str, path: str) -> tuple[int, int]:
    """Edits every function and class of ``source``, compares; returns how many edits were
    linted incrementally and how many fell back to the whole lint; then the same for the
    top-level edits (``check_top_level``)."""
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
            forward = lint_change(state, edited, path, rules)
            if forward is None:
                declined += 1
                continue
            incremental += 1
            expected = lint_source(edited, path, rules, fix_edits=False)
            assert forward[0] == expected, f"{path}: lines {chunk.first}-{chunk.last}, {edit.__name__}"
            back = lint_change(forward[1], source, path, rules)
            if back is not None:
                assert back[0] == whole, f"{path}: lines {chunk.first}-{chunk.last}, {edit.__name__}, back"
    top_incremental, top_declined = check_top_level(source, path)
    return incremental + top_incremental, declined + top_declined


# train_regression.py is the inner loop's slowest test (about 1.3 s): it runs in the full suite,
# where test_the_examples_repeated_as_the_latency_benchmark_lints_them covers its text as well.
@pytest.mark.parametrize("name", [pytest.param("train_regression.py", marks=pytest.mark.slow), "profile_guided.py"])
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


@pytest.mark.slow
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
        source.replace("return x.cuda()", "return x.cuda(\n"),
        source.replace("import torch", "from torch import *"),
        source + "\n\n__all__ = ['f']\n",
        source.replace("return f(x)", "global y\n    return f(x)"),
    ):
        assert lint_change(state, edited, "m.py", rules) is None, edited
    assert lint_change(state, source.replace("return x.cuda()", "y = x\n    return y.cuda()"), "m.py", rules)
    compiled = "import numba\n\n\ndef f(x):\n    return x\n\n\nfast = numba.njit(f)\n"
    assert lint_whole(compiled, "m.py", rules)[1] is None
    # ``nj(f)`` compiles ``f`` once ``nj`` is numba's: the import's edit changes ``f``'s body.
    aliased = "import torch\n\n\ndef f(x):\n    return x.cuda()\n\n\nfast = nj(f)\n"
    _, state = lint_whole(aliased, "m.py", rules)
    assert state is not None
    assert lint_change(state, "from numba import njit as nj\n" + aliased, "m.py", rules) is None


MODULE_LEVEL = """import torch

SIZE = 3


def make(device):
    return torch.zeros(SIZE).to(device)


def run(device):
    return make(device) + 1
"""


def test_a_module_level_edit_lints_the_functions_that_read_its_names() -> None:
    """``make``'s finding (PFL1xx, create then move) holds only while ``torch`` is torch: the
    import line's edit must lint ``make`` again, though its text did not change."""
    rules = all_rules()
    findings, state = lint_whole(MODULE_LEVEL, "m.py", rules)
    assert findings and state is not None
    for edited in (
        MODULE_LEVEL.replace("import torch", "import numpy as torch"),
        MODULE_LEVEL.replace("import torch", "import torch\n\n# a comment"),
        MODULE_LEVEL.replace("SIZE = 3", "SIZE = 3\nOTHER = 4"),
        MODULE_LEVEL.replace("def make(device):", "def build(device):"),
        MODULE_LEVEL.replace("\n\ndef run", "\n\ndef added(device):\n    return torch.ones(2).to(device)\n\n\ndef run"),
    ):
        changed = lint_change(state, edited, "m.py", rules)
        assert changed is not None, edited
        assert changed[0] == lint_source(edited, "m.py", rules, fix_edits=False), edited
    unimported = lint_change(state, MODULE_LEVEL.replace("import torch", "import numpy as torch"), "m.py", rules)
    assert unimported is not None and unimported[0] != findings


def test_the_same_text_under_other_rules_is_linted_whole() -> None:
    rules = all_rules()
    source = "import torch\n\n\ndef make(device):\n    return torch.zeros(3).to(device)\n"
    findings, state = lint_whole(source, "m.py", rules)
    assert state is not None and findings
    fewer = [rule for rule in rules if rule.code not in {finding.code for finding in findings}]
    assert lint_change(state, source, "m.py", fewer) is None


WORDS = """import numpy as np


def missing(n: int, labels: np.ndarray):
    return [k for k in range(n) if k not in labels]


def other():
    return 1
"""


def test_a_word_a_message_avoids_lints_its_function_again() -> None:
    """PFL119's message names a new set ``members``, or ``members_2`` in a file where the word
    ``members`` is taken: a comment between the other functions that adds the word must lint
    ``missing`` again, though the edit is nowhere near it."""
    rules = all_rules()
    findings, state = lint_whole(WORDS, "m.py", rules)
    assert [finding.code for finding in findings] == ["PFL119"] and state is not None
    edited = WORDS.replace("def other():", "# the members of the set\ndef other():")
    changed = lint_change(state, edited, "m.py", rules)
    assert changed is not None and changed[0] == lint_source(edited, "m.py", rules, fix_edits=False)
    assert "members_2" in changed[0][0].message and "members_2" not in findings[0].message
