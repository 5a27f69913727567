"""Invariance: whether an expression gives the same value, or the same object, on every iteration of a loop."""

from __future__ import annotations

from typing import Any

import pytest

from tests.engine.probes import probe_calls


def invariance(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.is_invariant(expr))


def test_loop_invariance_of_names():
    answers = invariance(
        "import numpy as np\n"
        "for i in range(3):\n"
        "    a = i\n"
        "    c += 1\n"
        "    d[0] = 1\n"
        "    e.x = 1\n"
        "    mutate(f)\n"
        "    np.sum(g)\n"
        "    np.add(h, 1, out=k)\n"
        "    del m\n"
        "    print(a); print(c); print(d); print(e); print(f); print(g); print(k); print(m)\n"
        "    print(i); print(untouched); print(untouched + 1)\n"
    )
    assert answers == {
        "a": False,
        "c": False,
        "d": False,
        "e": False,
        "f": False,
        "g": True,
        "k": False,
        "m": False,
        "i": False,
        "untouched": True,
        "untouched + 1": True,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    self.w.data = x\n", {"self.w": False, "self.w.data": False, "self.b": True, "other.w": True}),
        ("    self.reset()\n", {"self.w": False, "self.w.data": False, "self.b": False, "other.w": True}),
        ("    self.w.sum()\n", {"self.w": True, "self.w.data": True, "self.b": True, "other.w": True}),
        ("    self.w.add_(x)\n", {"self.w": False, "self.w.data": False, "self.b": True, "other.w": True}),
    ],
)
def test_attribute_chains_vary_with_assignment_to_them_or_a_mutating_call_on_a_prefix(body, expected):
    source = "for x in xs:\n" + body + "    print(self.w); print(self.w.data); print(self.b); print(other.w)\n"
    assert invariance(source) == expected


def test_pure_factories_of_invariant_arguments_are_invariant_values_but_never_the_same_object():
    source = (
        "import numpy as np\nimport torch\n"
        "for i in range(3):\n"
        "    print(torch.zeros(3)); print(np.eye(n)); print(torch.from_numpy(a)); print(np.sqrt(a))\n"
        "    print(list(a)); print(len(a)); print(model(b)); print(b); print(np.eye(i))\n"
        "    print(torch.rand(3)); print(a.clone()); print(iter(a)); print(np.zeros(3, out=c))\n"
    )
    assert invariance(source) == {
        "torch.zeros(3)": True,
        "np.eye(n)": True,
        "torch.from_numpy(a)": True,
        "np.sqrt(a)": True,
        "list(a)": True,
        "len(a)": True,
        "model(b)": False,
        "b": False,
        "np.eye(i)": False,
        "torch.rand(3)": False,
        "a.clone()": True,
        "iter(a)": False,
        "np.zeros(3, out=c)": False,
    }
    identities = probe_calls(source, lambda context, expr: context.is_invariant(expr, identity=True))
    assert identities == {
        "torch.zeros(3)": False,
        "np.eye(n)": False,
        "torch.from_numpy(a)": False,
        "np.sqrt(a)": True,
        "list(a)": False,
        "len(a)": True,
        "model(b)": False,
        "b": False,
        "np.eye(i)": False,
        "torch.rand(3)": False,
        "a.clone()": False,
        "iter(a)": False,
        "np.zeros(3, out=c)": False,
    }
    conversions = probe_calls(
        source, lambda context, expr: context.is_invariant(expr, allow_conversions=True, identity=True)
    )
    assert conversions["torch.from_numpy(a)"] is True
    assert conversions["torch.zeros(3)"] is False


def test_comprehension_targets_are_loop_variables_and_the_first_iterable_is_outside():
    answers = invariance("ys = [print(x) + print(w) for x in print(xs)]\n")
    assert answers == {"x": False, "w": True, "xs": True}


def test_in_a_training_step_no_attribute_chain_is_invariant():
    answers = probe_calls(
        "import torch\n"
        "for batch in loader:\n    print(model.cov)\n    print(cov)\n    loss.backward()\n    opt.step()\n"
        "for x in xs:\n    print(model.weight)\n",
        lambda context, expr: context.is_invariant(expr),
    )
    assert answers == {"model.cov": False, "cov": True, "model.weight": True}


def test_a_comprehension_over_what_the_loop_does_not_change_is_invariant_only_when_asked():
    source = (
        "for x in xs:\n"
        "    cards.append(x)\n"
        "    print([range(c) for c in sizes.values()])\n"
        "    print({k: v * 2 for k, v in table.items() if k})\n"
        "    print([range(n) for n in cards])\n"
        "    print([c + x for c in sizes])\n"
    )
    asked = probe_calls(source, lambda context, expr: context.is_invariant(expr, through_comprehensions=True))
    assert asked == {
        "[range(c) for c in sizes.values()]": True,
        "{k: v * 2 for k, v in table.items() if k}": True,
        "[range(n) for n in cards]": False,
        "[c + x for c in sizes]": False,
    }
    assert not any(invariance(source).values())
    as_objects = probe_calls(
        source, lambda context, expr: context.is_invariant(expr, identity=True, through_comprehensions=True)
    )
    assert not any(as_objects.values())
