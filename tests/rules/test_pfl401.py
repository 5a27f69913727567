"""PFL401 beyond its examples: every way a loop can change the matrix keeps the rule silent,
wherever in the loop the change happens.

That pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule.
"""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.loop_invariant_expensive_call import LoopInvariantExpensiveCall


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
    assert findings_in_loop(["B = np.linalg.inv(A)", "C = A.sum()", "c = np.sort(A)"]) == [3]
