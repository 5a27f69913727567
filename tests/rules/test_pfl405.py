"""PFL405 beyond its examples: the message, and what keeps the rule silent."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.inference_without_no_grad import InferenceWithoutNoGrad


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
