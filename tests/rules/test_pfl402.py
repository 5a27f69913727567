"""PFL402 beyond its examples: the fix each spelling of the product is told to use.

That pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule.
"""

from __future__ import annotations

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.inverse_then_multiply import InverseThenMultiply
from tests.rules.execution import assert_no_fix, call, dedented_and_fixed


@pytest.mark.parametrize(
    ("imports", "product", "fix"),
    [
        ("import numpy as np", "np.linalg.inv(A) @ b", "`np.linalg.solve(A, b)`"),
        ("import numpy as np", "np.dot(np.linalg.inv(A), b)", "`np.linalg.solve(A, b)`"),
        ("import numpy as np", "np.linalg.inv(A).dot(b)", "`np.linalg.solve(A, b)`"),
        (
            "import numpy as np",
            "b @ np.linalg.inv(A + B)",
            "`np.linalg.solve((A + B).T, b.T).T` for matrices, "
            "`np.linalg.solve((A + B).swapaxes(-1, -2), b.swapaxes(-1, -2)).swapaxes(-1, -2)` for stacks of them",
        ),
        ("from numpy.linalg import inv", "inv(S) @ H.T", "`np.linalg.solve(S, H.T)` (after `import numpy as np`)"),
        (
            "import numpy as np\nfrom numpy.linalg import inv",
            "np.dot(y.T, inv(S))",
            "`np.linalg.solve(S.T, y).T` for matrices, "
            "`np.linalg.solve(S.swapaxes(-1, -2), y.T.swapaxes(-1, -2)).swapaxes(-1, -2)` for stacks of them",
        ),
        ("import scipy.linalg as sla", "sla.inv(A) @ b", "`sla.solve(A, b)`"),
        ("import torch", "torch.inverse(A) @ b", "`torch.linalg.solve(A, b)`"),
        ("import torch", "torch.matmul(b, torch.linalg.inv(A))", "`torch.linalg.solve(A, b, left=False)`"),
    ],
)
def test_message_names_the_solve_in_the_users_spelling(imports, product, fix):
    findings = lint_source(f"{imports}\ny = {product}\n", "example.py", [InverseThenMultiply])
    assert [finding.message for finding in findings] == [
        f"`{product}` inverts the matrix only to multiply by it; use {fix}"
    ]


def test_a_product_of_two_inverses_is_reported_once():
    source = "import numpy as np\ny = np.linalg.inv(A) @ np.linalg.inv(B)\n"
    assert len(lint_source(source, "example.py", [InverseThenMultiply])) == 1


def test_an_inverse_of_a_matrix_the_loop_changes_is_flagged():
    source = "import numpy as np\nfor x in xs:\n    A = A + x\n    y = np.linalg.inv(A) @ x\n"
    assert [finding.line for finding in lint_source(source, "example.py", [InverseThenMultiply])] == [4]


# PFL402 inverse-then-multiply ----------------------------------------------------------------

PFL402_PRODUCTS = """
    import numpy as np
    import scipy.linalg as sla
    from numpy.linalg import inv
    def products(A, b, B):
        return (
            np.linalg.inv(A) @ b,
            np.dot(np.linalg.inv(A), B),
            np.matmul(sla.inv(A), B),
            inv(A).dot(b),
        )
"""


def test_pfl402_solve_gives_the_products_results_up_to_rounding(matrix, scipy):
    A, xs = matrix
    original, fixed_source = dedented_and_fixed(PFL402_PRODUCTS, InverseThenMultiply)
    assert "inv(" not in fixed_source.split("def products")[1]
    expected = call(original, "products", A, xs[0], xs.T)
    got = call(fixed_source, "products", A, xs[0], xs.T)
    for product, solved in zip(expected, got, strict=True):
        assert product.shape == solved.shape
        np.testing.assert_allclose(product, solved, rtol=1e-10, atol=1e-12)


def test_pfl402_unsafe_not_bit_for_bit_and_far_apart_for_an_ill_conditioned_matrix(scipy):
    from scipy.linalg import hilbert as hilbert_matrix

    original, fixed_source = dedented_and_fixed(PFL402_PRODUCTS, InverseThenMultiply)
    hilbert = hilbert_matrix(13)
    b = np.ones(13)
    product = call(original, "products", hilbert, b, b[:, None])[0]
    solved = call(fixed_source, "products", hilbert, b, b[:, None])[0]
    assert not np.array_equal(product, solved)
    assert np.abs(product - solved).max() > 1.0
    # The solve is the accurate one: its residual is orders of magnitude smaller.
    assert np.abs(hilbert @ solved - b).max() * 1e4 < np.abs(hilbert @ product - b).max()


def test_pfl402_an_exactly_singular_matrix_raises_in_both(scipy):
    original, fixed_source = dedented_and_fixed(PFL402_PRODUCTS, InverseThenMultiply)
    singular = np.ones((3, 3))
    for source in (original, fixed_source):
        with pytest.raises(np.linalg.LinAlgError):
            call(source, "products", singular, np.ones(3), np.ones((3, 2)))


def test_pfl402_torch_solve_gives_the_products_results_and_reads_batched_operands_differently(torch):
    original, fixed_source = dedented_and_fixed(
        """
        import torch as th
        def product(A, b):
            return th.linalg.inv(A) @ b
    """,
        InverseThenMultiply,
    )
    assert "th.linalg.solve(A, b)" in fixed_source
    generator = torch.Generator().manual_seed(0)
    A = torch.randn(3, 3, generator=generator, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    for b in (
        torch.randn(3, generator=generator, dtype=torch.float64),
        torch.randn(3, 2, generator=generator, dtype=torch.float64),
    ):
        assert torch.allclose(call(original, "product", A, b), call(fixed_source, "product", A, b))
    # Unsafe: with a batch of matrices, a `b` with one dimension fewer is a batch of vectors to
    # `solve` and a matrix to `@`.
    batch = A.expand(3, 3, 3)
    b = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    assert call(original, "product", batch, b).shape == (3, 3, 3)
    assert call(fixed_source, "product", batch, b).shape == (3, 3)


def test_pfl402_offers_no_fix_for_the_inverse_on_the_right():
    assert_no_fix(
        """
        import numpy as np
        K = P @ np.linalg.inv(S)
    """,
        InverseThenMultiply,
    )


def test_pfl402_offers_no_fix_when_the_product_has_arguments_a_solve_would_drop():
    assert_no_fix(
        """
        import numpy as np
        y = np.dot(np.linalg.inv(A), b, out)
    """,
        InverseThenMultiply,
    )
