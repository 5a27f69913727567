"""PFL405 beyond its examples: the message, and what keeps the rule silent."""

from __future__ import annotations

import textwrap

import pytest

from perflint.engine import lint_source
from perflint.engine.project import ProjectIndex, summarise_source
from perflint.rules.recomputation.inference_without_no_grad import InferenceWithoutNoGrad
from tests.rules.execution import assert_no_fix, call, dedented_and_fixed


def messages(body: str) -> list[str]:
    source = "import torch\ndef f(model, loader, flag):\n" + "".join(f"    {line}\n" for line in body.splitlines())
    return [finding.message for finding in lint_source(source, "example.py", [InferenceWithoutNoGrad])]


def test_message_names_the_model_and_the_fix():
    assert messages("model.eval()\nfor x in loader:\n    y = model(x)") == [
        "`model(...)` runs after `model.eval()` with autograd recording every activation; "
        "run the loop under `with torch.inference_mode():`"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "for x in loader:\n    y = model(x)",  # never put in eval mode
        "model.eval()\ny = model(first)",  # not in a loop
        "model.eval()\nmodel.train()\nfor x in loader:\n    y = model(x)",
        "model.eval()\nmodel.train(flag)\nfor x in loader:\n    y = model(x)",
        "model.eval()\nwith torch.no_grad():\n    for x in loader:\n        y = model(x)",
        "model.eval()\nfor x in loader:\n    with torch.inference_mode():\n        y = model(x)",
        "model.eval()\nwith torch.set_grad_enabled(flag):\n    for x in loader:\n        y = model(x)",
        "model.eval()\nfor x in loader:\n    model(x).sum().backward()",
    ],
)
def test_calls_that_may_not_record_or_need_gradients_are_not_flagged(body):
    assert messages(body) == []


def test_model_train_false_keeps_eval_mode():
    assert len(messages("model.eval()\nmodel.train(False)\nfor x in loader:\n    y = model(x)")) == 1


# PFL405 inference-without-no-grad ------------------------------------------------------------

PFL405_LOOP = """
    import torch as th
    def predict(model, batches):
        model.eval()
        outputs = []
        for batch in batches:
            outputs.append(model(batch))
        return outputs
"""


def _model_and_batches():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))
    batches = list(torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1)))
    return torch, model, batches


@pytest.mark.usefixtures("torch")  # the program runs torch
def test_pfl405_inference_mode_gives_the_same_outputs_without_recording_a_graph():
    torch, model, batches = _model_and_batches()
    original, fixed_source = dedented_and_fixed(PFL405_LOOP, InferenceWithoutNoGrad)
    assert "    with th.inference_mode():\n        for batch in batches:" in fixed_source
    recorded = call(original, "predict", model, batches)
    inferred = call(fixed_source, "predict", model, batches)
    assert torch.allclose(torch.cat(recorded), torch.cat(inferred))
    assert all(output.requires_grad and output.grad_fn is not None for output in recorded)
    assert all(not output.requires_grad and output.is_inference() for output in inferred)


@pytest.mark.usefixtures("torch")  # the program runs torch
def test_pfl405_unsafe_the_outputs_cannot_join_autograd_or_be_updated_in_place_later():
    torch, model, batches = _model_and_batches()
    original, fixed_source = dedented_and_fixed(PFL405_LOOP, InferenceWithoutNoGrad)
    weight = torch.ones(2, requires_grad=True)
    # Fed to code that records gradients: fine before, an error after the fix.
    (call(original, "predict", model, batches)[0] * weight).sum().backward()
    assert weight.grad is not None
    with pytest.raises(RuntimeError, match="[Ii]nference tensors cannot be saved for backward"):
        (call(fixed_source, "predict", model, batches)[0] * weight).sum().backward()
    # Updated in place outside inference mode.
    call(original, "predict", model, batches)[0].detach().add_(1)
    with pytest.raises(RuntimeError, match="[Ii]nplace update to inference tensor"):
        call(fixed_source, "predict", model, batches)[0].add_(1)


def test_pfl405_offers_no_fix_for_a_generator():
    assert_no_fix(
        """
        import torch
        def stream(model, batches):
            model.eval()
            for batch in batches:
                yield model(batch)
    """,
        InferenceWithoutNoGrad,
    )


# A call outside a loop, in a function the project calls repeatedly ----------------------------


def project_findings(source: str, with_index: bool = True) -> list[tuple[int, str]]:
    """PFL405's findings in ``source`` (module ``pkg.sampler``), linted with the project index
    of that one file unless ``with_index`` is false."""
    source = textwrap.dedent(source)
    project = ProjectIndex([summarise_source(source, "pkg.sampler", False)]).view("pkg.sampler") if with_index else None
    found = lint_source(source, "pkg/sampler.py", [InferenceWithoutNoGrad], project=project)
    return [(finding.line, finding.message) for finding in found]


HELPER_OF_A_COLLATE_FUNCTION = """
    import torch
    class Sampler:
        def _hardest(self, batch):
            self.model.eval()
            return self.model.predict(batch).argmax(1)
        def collate_fn(self, batch):
            return self._hardest(batch)
"""


def test_a_prediction_in_a_function_called_per_batch_is_flagged_without_a_fix():
    found = lint_source(
        textwrap.dedent(HELPER_OF_A_COLLATE_FUNCTION),
        "pkg/sampler.py",
        [InferenceWithoutNoGrad],
        project=ProjectIndex(
            [summarise_source(textwrap.dedent(HELPER_OF_A_COLLATE_FUNCTION), "pkg.sampler", False)]
        ).view("pkg.sampler"),
    )
    assert [(finding.line, finding.message) for finding in found] == [
        (
            6,
            "`self.model.predict(...)` runs after `self.model.eval()` with autograd recording every activation; "
            "run the call (it runs per call of `_hardest`, called from `collate_fn`) under "
            "`with torch.inference_mode():`",
        )
    ]
    assert found[0].fix is None


def test_without_the_project_index_the_call_is_not_known_to_repeat():
    assert project_findings(HELPER_OF_A_COLLATE_FUNCTION, with_index=False) == []


def test_a_helper_decorated_with_no_grad_is_silent():
    source = HELPER_OF_A_COLLATE_FUNCTION.replace("def _hardest", "@torch.no_grad()\n        def _hardest")
    assert project_findings(source) == []


def test_a_helper_that_computes_gradients_is_silent():
    source = HELPER_OF_A_COLLATE_FUNCTION.replace(
        "return self.model.predict(batch).argmax(1)",
        "scores = self.model.predict(batch)\n            scores.sum().backward()\n            return scores",
    )
    assert project_findings(source) == []


def test_a_hook_that_repeats_by_its_name_is_silent():
    """``forward`` or ``validation_step`` may be run with autograd off by its framework or caller."""
    for hook in ("forward", "validation_step"):
        source = HELPER_OF_A_COLLATE_FUNCTION.replace("_hardest", hook)
        assert project_findings(source) == [], hook


def test_a_function_called_once_is_silent():
    source = HELPER_OF_A_COLLATE_FUNCTION.replace("def collate_fn", "def __init__")
    assert project_findings(source) == []
