"""PFL402 beyond its examples: the fix each spelling of the product is told to use.

That pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule.
"""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.inverse_then_multiply import InverseThenMultiply


@pytest.mark.parametrize(
    ("imports", "product", "fix"),
    [
        ("import numpy as np", "np.linalg.inv(A) @ b", "np.linalg.solve(A, b)"),
        ("import numpy as np", "np.dot(np.linalg.inv(A), b)", "np.linalg.solve(A, b)"),
        ("import numpy as np", "np.linalg.inv(A).dot(b)", "np.linalg.solve(A, b)"),
        ("import numpy as np", "b @ np.linalg.inv(A + B)", "np.linalg.solve((A + B).T, b.T).T"),
        ("from numpy.linalg import inv", "inv(S) @ H.T", "numpy.linalg.solve(S, H.T)"),
        ("import numpy as np\nfrom numpy.linalg import inv", "np.dot(y.T, inv(S))", "numpy.linalg.solve(S.T, y).T"),
        ("import scipy.linalg as sla", "sla.inv(A) @ b", "sla.solve(A, b)"),
        ("import torch", "torch.inverse(A) @ b", "torch.linalg.solve(A, b)"),
        ("import torch", "torch.matmul(b, torch.linalg.inv(A))", "torch.linalg.solve(A, b, left=False)"),
    ],
)
def test_message_names_the_solve_in_the_users_spelling(imports, product, fix):
    findings = lint_source(f"{imports}\ny = {product}\n", "example.py", [InverseThenMultiply])
    assert [finding.message for finding in findings] == [
        f"`{product}` inverts the matrix only to multiply by it; use `{fix}`"
    ]


def test_a_product_of_two_inverses_is_reported_once():
    source = "import numpy as np\ny = np.linalg.inv(A) @ np.linalg.inv(B)\n"
    assert len(lint_source(source, "example.py", [InverseThenMultiply])) == 1


def test_an_inverse_of_a_matrix_the_loop_changes_is_flagged():
    source = "import numpy as np\nfor x in xs:\n    A = A + x\n    y = np.linalg.inv(A) @ x\n"
    assert [finding.line for finding in lint_source(source, "example.py", [InverseThenMultiply])] == [4]
