"""Sizes the code states: the order of square matrices written with literals."""

from __future__ import annotations

from perflint.engine.sizes import is_small_matrix, matrix_order
from tests.engine.probes import probe_calls


def test_a_matrix_order_is_read_from_literal_shapes_data_and_slices():
    answers = probe_calls(
        "import numpy as np\n"
        "import torch\n"
        "def f(T, cov, n, x):\n"
        "    rot = torch.eye(3)\n"
        "    print(rot); print(np.zeros((4, 4))); print(torch.zeros(2, 5, 5)); print(np.identity(3))\n"
        "    print(np.array([[1.0, 0.0], [0.0, 1.0]])); print(T[..., :3, :3]); print(T[:3, 1:4])\n"
        "    print(cov + 0.1 * torch.eye(2)); print(rot.T.double()); print(torch.eye(3, 4))\n"
        "    print(torch.eye(n)); print(cov); print(np.zeros((3, 4))); print(T[:3, :n]); print(x @ cov)\n",
        lambda context, expr: matrix_order(expr, context),
    )
    assert answers == {
        "rot": 3,
        "np.zeros((4, 4))": 4,
        "torch.zeros(2, 5, 5)": 5,
        "np.identity(3)": 3,
        "np.array([[1.0, 0.0], [0.0, 1.0]])": 2,
        "T[..., :3, :3]": 3,
        "T[:3, 1:4]": 3,
        "cov + 0.1 * torch.eye(2)": 2,
        "rot.T.double()": 3,
        "torch.eye(3, 4)": None,
        "torch.eye(n)": None,
        "cov": None,
        "np.zeros((3, 4))": None,
        "T[:3, :n]": None,
        "x @ cov": None,
    }


def test_small_matrices_are_those_up_to_a_homogeneous_transform():
    answers = probe_calls(
        "import torch\nprint(torch.eye(4)); print(torch.eye(5)); print(x)\n",
        lambda context, expr: is_small_matrix(expr, context),
    )
    assert answers == {"torch.eye(4)": True, "torch.eye(5)": False, "x": False}
