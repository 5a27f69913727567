"""PFL406 beyond its examples: each copy it knows, and the uses that keep a copy alive."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.loop_invariant_copy import LoopInvariantCopy


def flagged(body: str) -> list[str]:
    source = (
        "import numpy as np\nimport torch\n"
        "def f(a: np.ndarray, t: torch.Tensor, xs):\n    for x in xs:\n"
        + "".join(f"        {line}\n" for line in body.splitlines())
    )
    return [finding.message.split("`")[1] for finding in lint_source(source, "example.py", [LoopInvariantCopy])]


@pytest.mark.parametrize(
    "copy",
    ["a.copy()", "a.T.copy()", "a.astype(np.float32)", "np.array(a)", "np.copy(a)", "t.clone()"],
)
def test_every_copy_of_an_invariant_array_read_in_the_iteration_is_flagged(copy):
    assert flagged(f"y = {copy}\nz = y * x") == [copy]


@pytest.mark.parametrize(
    "use",
    ["results.append(y)", "yield y", "cache[x] = y", "y += x", "y.fill(0)", "consume(y)", "pair = [y, x]"],
)
def test_a_copy_the_iteration_keeps_or_changes_is_not_flagged(use):
    assert flagged(f"y = a.copy()\n{use}") == []


@pytest.mark.parametrize(
    "conversion", ["t.float()", "t.half()", "t.double()", "t.contiguous()", "np.ascontiguousarray(a)"]
)
def test_a_conversion_that_may_return_its_input_is_not_flagged(conversion):
    assert flagged(f"y = {conversion}\nz = y * x") == []


def test_a_copy_of_the_loop_target_or_of_a_changed_array_is_not_flagged():
    assert flagged("y = x.copy()\nz = a.astype(np.float32) * 2\na = a + 1") == []
