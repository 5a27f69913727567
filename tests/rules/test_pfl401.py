"""PFL401 beyond its examples: every way a loop can change the matrix keeps the rule silent,
wherever in the loop the change happens.

That pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.loop_invariant_copy import LoopInvariantCopy
from perflint.rules.recomputation.loop_invariant_expensive_call import LoopInvariantExpensiveCall
from tests.rules.execution import assert_left_alone, assert_no_fix, call, dedented_and_fixed, run


def findings_in_loop(body: list[str]) -> list[int]:
    """Lines PFL401 flags in a loop whose body is ``body`` (one statement a line)."""
    source = "import numpy as np\nfor x in xs:\n" + "".join(f"    {line}\n" for line in body)
    return [finding.line for finding in lint_source(source, "example.py", [LoopInvariantExpensiveCall])]


CHANGES_OF_A = [
    "A = A + np.outer(x, x)",
    "A += np.outer(x, x)",
    "A[0, 0] = x",
    "A[:, 0] += x",
    "A.data = x",
    "A.fill_(0.0)",
    "A.sort()",
    "np.copyto(A, x)",
    "np.fill_diagonal(A, x)",
    "A, b = step(A, b)",
    "update(A)",
]


@pytest.mark.parametrize("change", CHANGES_OF_A)
@pytest.mark.parametrize("after", [False, True], ids=["before the call", "after the call"])
def test_a_loop_that_changes_the_matrix_anywhere_is_not_flagged(change, after):
    call = "B = np.linalg.inv(A)"
    assert findings_in_loop([call, change] if after else [change, call]) == []


@pytest.mark.parametrize("change", CHANGES_OF_A)
def test_a_change_in_a_nested_block_or_loop_counts_too(change):
    body = ["B = np.linalg.inv(A)", "if x > 0:", "    for y in ys:", f"        {change}"]
    assert findings_in_loop(body) == []


def test_an_unchanged_matrix_is_flagged():
    # A reduction and an element-wise function cost one pass; an inverse and a sort, more.
    assert findings_in_loop(["B = np.linalg.inv(A)", "C = A.sum()", "c = np.abs(A)", "d = np.sort(A)"]) == [3, 6]


# PFL401 loop-invariant-expensive-call --------------------------------------------------------

PFL401_LOOP = """
    import numpy as np
    from scipy import linalg
    def solve_all(A, xs, log):
        out = []
        for x in xs:
            log.append(len(out))
            out.append(np.linalg.inv(A) @ x)
        return out
    def comprehension(A, xs):
        return [linalg.expm(A / 10) @ x for x in xs]
    def evolve(H, x, dt):
        t = 0.0
        while t < 1.0:
            t += dt
            x = linalg.expm(H * dt) @ x
        return x
"""


def test_pfl401_hoisted_inverse_gives_the_same_results(matrix, scipy):
    A, xs = matrix
    original, fixed_source = dedented_and_fixed(PFL401_LOOP, LoopInvariantExpensiveCall)
    assert fixed_source.count("inv_A = np.linalg.inv(A)") == 1 and "expm_H_dt = linalg.expm(H * dt)" in fixed_source
    for function, args in [("solve_all", (A, xs, [])), ("comprehension", (A, xs)), ("evolve", (A / 10, xs[0], 0.25))]:
        np.testing.assert_allclose(
            np.array(call(original, function, *args)), np.array(call(fixed_source, function, *args)), rtol=1e-12
        )


def test_pfl401_unsafe_the_hoisted_call_runs_before_the_loop_and_even_when_it_runs_no_iteration(scipy):
    original, fixed_source = dedented_and_fixed(PFL401_LOOP, LoopInvariantExpensiveCall)
    singular = np.zeros((3, 3))
    # No iteration: the original never inverts the singular matrix, the fix does.
    assert call(original, "solve_all", singular, [], []) == []
    with pytest.raises(np.linalg.LinAlgError):
        call(fixed_source, "solve_all", singular, [], [])
    # With iterations: the error now comes before the loop's first statement ran.
    original_log, fixed_log = [], []
    with pytest.raises(np.linalg.LinAlgError):
        call(original, "solve_all", singular, [np.ones(3)], original_log)
    with pytest.raises(np.linalg.LinAlgError):
        call(fixed_source, "solve_all", singular, [np.ones(3)], fixed_log)
    assert original_log == [0] and fixed_log == []


def test_pfl401_one_fix_reads_the_name_wherever_the_loop_makes_the_same_call(matrix):
    original, fixed_source = dedented_and_fixed(
        """
        import numpy as np
        def f(A, xs):
            out = []
            for x in xs:
                out.append(np.linalg.det(A) * x + np.linalg.det(A))
            return out
    """,
        LoopInvariantExpensiveCall,
    )
    assert fixed_source.count("np.linalg.det(A)") == 1 and "det_A * x + det_A" in fixed_source
    A, xs = matrix
    np.testing.assert_allclose(call(original, "f", A, xs), call(fixed_source, "f", A, xs))


def test_pfl401_offers_no_fix_when_the_loop_changes_the_result_in_place(matrix):
    source = """
        import numpy as np
        def f(A, xs):
            out = []
            for x in xs:
                B = np.linalg.inv(A)
                B *= 2
                out.append(B @ x)
            return out
    """
    assert_no_fix(source, LoopInvariantExpensiveCall)
    # Why: with one shared inverse the in-place update would compound across iterations.
    A, xs = matrix
    hoisted_by_hand = textwrap.dedent(source).replace(
        "    for x in xs:\n        B = np.linalg.inv(A)",
        "    shared = np.linalg.inv(A)\n    for x in xs:\n        B = shared",
    )
    assert "shared" in hoisted_by_hand
    assert not np.allclose(call(textwrap.dedent(source), "f", A, xs), call(hoisted_by_hand, "f", A, xs))


def test_pfl401_torch_inverse_hoisted_gives_the_same_results(torch):
    original, fixed_source = dedented_and_fixed(
        """
        import torch as th
        def f(W, xs):
            return [th.linalg.inv(W) @ x for x in xs]
    """,
        LoopInvariantExpensiveCall,
    )
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(4, 4, generator=generator, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)
    xs = list(torch.randn(3, 4, generator=generator, dtype=torch.float64))
    assert torch.allclose(torch.stack(call(original, "f", W, xs)), torch.stack(call(fixed_source, "f", W, xs)))


# PFL401 / PFL406: a hoist goes stale when the loop changes its argument out of sight -----

THROUGH_A_VIEW = """
import numpy as np

def solve(A, xs):
    view = A[0]
    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        view[0] += 1.0
    return out
"""

THROUGH_A_GLOBAL = """
import numpy as np

A = np.eye(2) * 2.0

def grow():
    global A
    A = A * 2.0

def solve(xs):
    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        grow()
    return out
"""

THROUGH_A_CLOSURE = """
import numpy as np

def solve(A, xs):
    def grow():
        nonlocal A
        A = A * 2.0

    def bump():
        A[0, 0] += 1.0

    out = []
    for x in xs:
        out.append(np.linalg.inv(A) @ x)
        out.append(A.astype(np.float32).sum())
        grow()
        bump()
    return out
"""


@pytest.mark.parametrize(
    "source, call",
    [
        (THROUGH_A_VIEW, lambda namespace, xs: namespace["solve"](np.eye(2) * 2.0, xs)),
        (THROUGH_A_GLOBAL, lambda namespace, xs: namespace["solve"](xs)),
        (THROUGH_A_CLOSURE, lambda namespace, xs: namespace["solve"](np.eye(2) * 2.0, xs)),
    ],
    ids=["view", "global", "nonlocal"],
)
def test_a_loop_that_changes_the_matrix_out_of_sight_is_not_hoisted(source, call):
    xs = [np.ones(2), np.ones(2)]
    first, _, second, _ = call(run(source), xs)
    assert not np.allclose(first, second)  # the matrix changed between iterations
    for rule in (LoopInvariantExpensiveCall, LoopInvariantCopy):
        assert lint_source(source, "example.py", [rule]) == []
        assert_left_alone(source, rule)


def test_a_view_of_another_array_changed_in_the_loop_does_not_block_the_hoist():
    source = THROUGH_A_VIEW.replace("view = A[0]", "view = np.zeros(2)")
    assert [finding.code for finding in lint_source(source, "example.py", [LoopInvariantExpensiveCall])] == ["PFL401"]
