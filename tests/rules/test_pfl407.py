"""PFL407 beyond its examples: the message, and what keeps the rule silent."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.constant_tensor_in_forward import ConstantTensorInForward


def messages(body: str, method: str = "forward") -> list[str]:
    source = f"import torch\nclass M(torch.nn.Module):\n    def {method}(self, x, mask=None):\n" + "".join(
        f"        {line}\n" for line in body.splitlines()
    )
    return [finding.message for finding in lint_source(source, "example.py", [ConstantTensorInForward])]


def test_message_names_the_tensor_and_the_fix():
    assert messages("T = x.shape[1]\ncausal = torch.triu(torch.ones(T, T), diagonal=1).bool()") == [
        "`causal` is computed from constants and shapes only, on every call of `forward`; register it "
        "as a buffer in `__init__` (at the largest size, sliced here) or cache it by shape"
    ]


@pytest.mark.parametrize(
    "body",
    [
        "h = torch.zeros(x.size(0), self.hidden)",  # a bare factory
        "ids = torch.arange(x.size(1), device=x.device).unsqueeze(0)",  # a factory and a view
        "if mask is None:\n    mask = torch.tril(torch.ones(x.size(1), x.size(1)))",  # conditional
        "self.mask = torch.tril(torch.ones(x.size(1), x.size(1)))",  # stored on the module
        "scores = x @ torch.ones(x.size(-1), 1)",  # reads the input's values
        "for i in range(3):\n    m = torch.tril(torch.ones(i, i))",  # in a loop: depends on i
    ],
)
def test_fresh_states_input_values_conditions_and_caches_are_not_flagged(body):
    assert messages(body) == []


def test_not_flagged_outside_forward():
    assert messages("m = torch.tril(torch.ones(8, 8))", method="__init__") == []
