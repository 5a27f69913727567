"""PFL406 beyond its examples: each copy it knows, and the uses that keep a copy alive."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.loop_invariant_copy import LoopInvariantCopy
from tests.rules.execution import assert_no_fix, call, dedented_and_fixed


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


# PFL406 loop-invariant-copy ------------------------------------------------------------------

PFL406_LOOP = """
    import numpy as np
    def scores(weights: np.ndarray, batches):
        return [batch @ weights.astype(np.float32) for batch in batches]
    def totals(x0: np.ndarray, xs):
        out = []
        for x in xs:
            base = x0.copy()
            out.append(float((base * x).sum() + base.T[0].sum()))
        return out
"""


def test_pfl406_hoisted_copy_gives_the_same_results(matrix):
    A, xs = matrix
    original, fixed_source = dedented_and_fixed(PFL406_LOOP, LoopInvariantCopy)
    assert "weights_astype_float32 = weights.astype(np.float32)" in fixed_source
    assert "x0_copy = x0.copy()" in fixed_source
    batches = [x.astype(np.float32).reshape(1, -1) for x in xs]
    np.testing.assert_array_equal(
        np.array(call(original, "scores", A, batches)), np.array(call(fixed_source, "scores", A, batches))
    )
    assert call(original, "totals", A, list(xs)) == call(fixed_source, "totals", A, list(xs))


def test_pfl406_unsafe_the_copy_is_made_even_when_the_loop_runs_no_iteration():
    original, fixed_source = dedented_and_fixed(PFL406_LOOP, LoopInvariantCopy)
    unconvertible = np.array(["a", "b"])
    assert call(original, "scores", unconvertible, []) == []
    with pytest.raises(ValueError):
        call(fixed_source, "scores", unconvertible, [])


def test_pfl406_offers_no_fix_when_the_iteration_writes_its_copy_through_a_view(matrix):
    source = """
        import numpy as np
        def shifted_totals(x0: np.ndarray, steps):
            totals = []
            for eps in steps:
                x = x0.copy()
                head = x[:1]
                head += eps
                totals.append(float(x.sum()))
            return totals
    """
    assert_no_fix(source, LoopInvariantCopy)
    # Why: one copy shared by the iterations would accumulate every iteration's write.
    hoisted_by_hand = textwrap.dedent(source).replace(
        "    for eps in steps:\n        x = x0.copy()",
        "    shared = x0.copy()\n    for eps in steps:\n        x = shared",
    )
    assert "shared" in hoisted_by_hand
    A, _ = matrix
    assert call(textwrap.dedent(source), "shifted_totals", A, [1.0, 1.0]) != call(
        hoisted_by_hand, "shifted_totals", A, [1.0, 1.0]
    )


def test_pfl406_torch_clone_hoisted_gives_the_same_results(torch):
    original, fixed_source = dedented_and_fixed(
        """
        import torch
        def f(mask: torch.Tensor, xs):
            return [x.masked_fill(mask.clone() > 0.5, 0.0) for x in xs]
    """,
        LoopInvariantCopy,
    )
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(8, generator=generator)
    xs = list(torch.randn(4, 8, generator=generator))
    assert torch.equal(torch.stack(call(original, "f", mask, xs)), torch.stack(call(fixed_source, "f", mask, xs)))
