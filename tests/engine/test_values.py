"""Following a name to its value: one function, one limit."""

from __future__ import annotations

import libcst as cst

from perflint.engine.devices import NAMED_LIKE_A_DEVICE, device_kind
from perflint.engine.values import MAX_NAME_HOPS, resolved, value_of
from tests.engine.probes import probe_calls

_CODE = cst.Module([]).code_for_node


def test_a_name_is_followed_to_the_value_it_was_bound_to_and_anything_else_has_none():
    answers = probe_calls(
        "def f(p):\n    a = p + 1\n    print(a); print(p); print(a + 1)\n",
        lambda context, expr: (lambda value: _CODE(value) if value is not None else None)(value_of(expr, context)),
    )
    assert answers == {"a": "p + 1", "p": None, "a + 1": None}


def test_a_chain_of_names_is_followed_as_far_as_the_limit_and_no_further():
    names = [f"n{index}" for index in range(MAX_NAME_HOPS + 1)]
    bindings = "".join(f"{name} = {previous}\n" for previous, name in zip(["'cuda'", *names], names))
    within, beyond = names[MAX_NAME_HOPS - 1], names[MAX_NAME_HOPS]
    answers = probe_calls(
        bindings + f"print({within}); print({beyond})\n",
        lambda context, expr: (lambda value: _CODE(value) if value is not None else None)(resolved(expr, context)),
    )
    assert answers == {within: "'cuda'", beyond: None}


def test_a_name_bound_to_an_expression_of_itself_ends_the_question():
    answers = probe_calls(
        "import torch\ndef f(device):\n    device = torch.device(device)\n    print(device)\n",
        lambda context, expr: device_kind(expr, context),
    )
    assert answers == {"device": NAMED_LIKE_A_DEVICE}


def test_a_result_bound_to_a_name_nothing_reads_is_discarded():
    from perflint.engine import lint_source
    from perflint.engine.rule import Rule
    from perflint.engine.values import discarded

    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if type(node.func) is cst.Attribute and node.func.attr.value == "to":
                answers[_CODE(node)] = discarded(node, self.context)

    lint_source(
        "def score(model, loader, device):\n"
        "    for data, ids in loader:\n"
        "        dead = data.to(device).float()\n"
        "        used = ids.to(device)\n"
        "        kept = model.to(device)\n"
        "        print(model(data), used)\n"
        "    return kept, labels.to(device)\n",
        "probe.py",
        [Probe],
    )
    assert answers == {
        "data.to(device)": True,
        "ids.to(device)": False,
        "model.to(device)": False,
        "labels.to(device)": False,
    }
