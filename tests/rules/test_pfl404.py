"""PFL404 beyond its examples: the message says where the load repeats and where it belongs;
retry loops and loads of changing models stay silent."""

from __future__ import annotations

import re

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.heavy_load_in_loop import HeavyLoadInLoop
from tests.rules.execution import assert_no_fix, call, dedented_and_fixed


def messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [HeavyLoadInLoop])]


def test_message_in_a_loop_and_in_getitem():
    source = (
        "import torch\nimport spacy\n"
        "for text in texts:\n    nlp = spacy.load('en_core_web_sm')\n"
        "class D(torch.utils.data.Dataset):\n    def __getitem__(self, i):\n"
        "        return torch.load(self.path)[i]\n"
    )
    assert messages(source) == [
        "`spacy.load(…)` loads the same model on every iteration; load it once before the loop",
        "`torch.load(…)` loads the same model on every call of `__getitem__` (every item); load it once in `__init__`",
    ]


@pytest.mark.parametrize(
    "loop",
    [
        # Retries: a return once loaded, a break in a nested block.
        "for attempt in range(3):\n    model = AutoModel.from_pretrained(NAME)\n    if model:\n        return model\n",
        "while True:\n    model = torch.load(PATH)\n    if ok(model):\n        break\n",
        # The name changes each iteration, or the receiver does.
        "for name in names:\n    model = AutoModel.from_pretrained(name)\n",
        "for cls in classes:\n    model = cls.from_pretrained(NAME)\n",
        # In a function defined in the loop (not run per iteration).
        "for x in xs:\n    def f():\n        return torch.load(PATH)\n",
    ],
)
def test_retry_loops_and_changing_loads_are_not_flagged(loop):
    source = "import torch\nfrom transformers import AutoModel\ndef g():\n" + "".join(
        f"    {line}\n" for line in loop.splitlines()
    )
    assert messages(source) == []


# PFL404 heavy-load-in-loop -------------------------------------------------------------------

PFL404_LOOP = """
    import torch as th
    def predict_all(batches, path):
        outputs = []
        for batch in batches:
            model = th.jit.load(path)
            outputs.append(model(batch))
        return outputs, model
"""


def _saved_model(tmp_path, train: bool):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    model.train(train)
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    batches = list(torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1)))
    return torch, str(path), batches


@pytest.mark.usefixtures("torch")  # the program runs torch
def test_pfl404_hoisted_load_gives_the_same_outputs(tmp_path):
    torch, path, batches = _saved_model(tmp_path, train=False)
    original, fixed_source = dedented_and_fixed(PFL404_LOOP, HeavyLoadInLoop)
    assert re.search(r"\n    load_path = th\.jit\.load\(path\)\n    for batch in batches:", fixed_source)
    with torch.no_grad():
        expected, _ = call(original, "predict_all", batches, path)
        got, _ = call(fixed_source, "predict_all", batches, path)
    assert all(torch.allclose(a, b) for a, b in zip(expected, got, strict=True))


@pytest.mark.usefixtures("torch")  # the program runs torch
def test_pfl404_unsafe_state_the_model_keeps_between_calls_now_carries_across_iterations(tmp_path):
    # A model in training mode updates its BatchNorm running statistics on every call: loaded
    # afresh, each iteration's model saw one batch; loaded once, the model saw them all.
    torch, path, batches = _saved_model(tmp_path, train=True)
    original, fixed_source = dedented_and_fixed(PFL404_LOOP, HeavyLoadInLoop)
    with torch.no_grad():
        _, original_model = call(original, "predict_all", batches, path)
        _, fixed_model = call(fixed_source, "predict_all", batches, path)
    original_state, fixed_state = dict(original_model.named_buffers()), dict(fixed_model.named_buffers())
    assert int(original_state["1.num_batches_tracked"]) == 1
    assert int(fixed_state["1.num_batches_tracked"]) == len(batches)
    assert not torch.allclose(original_state["1.running_mean"], fixed_state["1.running_mean"])


@pytest.mark.usefixtures("torch")  # the program runs torch
def test_pfl404_unsafe_the_model_is_loaded_even_when_the_loop_runs_no_iteration(tmp_path):
    original, fixed_source = dedented_and_fixed(
        PFL404_LOOP.replace("return outputs, model", "return outputs"), HeavyLoadInLoop
    )
    missing = str(tmp_path / "missing.pt")
    assert call(original, "predict_all", [], missing) == []
    with pytest.raises(ValueError):
        call(fixed_source, "predict_all", [], missing)


def test_pfl404_offers_no_fix_when_the_model_goes_to_a_function_that_may_train_it():
    assert_no_fix(
        """
        import torch
        for fold in folds:
            model = torch.jit.load("model.pt")
            train(model, fold)
    """,
        HeavyLoadInLoop,
    )
