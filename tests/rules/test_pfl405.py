"""PFL405 beyond its examples: the message, and what keeps the rule silent."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
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


def test_a_prediction_method_counts_as_running_the_model():
    assert messages("model.eval()\nfor x in loader:\n    y = model.predict(x)") == [
        "`model.predict(...)` runs after `model.eval()` with autograd recording every activation; "
        "run the loop under `with torch.inference_mode():`"
    ]
    assert messages("model.eval()\nfor x in loader:\n    y = other.predict(x)") == []
