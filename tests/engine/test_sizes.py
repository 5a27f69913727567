"""Sizes the code states: the order of square matrices, array shapes, counts and trip counts
written with literals."""

from __future__ import annotations

import libcst as cst

from perflint.engine.sizes import (
    array_shape,
    count_of,
    is_small_matrix,
    is_written_out_table,
    items_in,
    matrix_order,
    reads_a_batch_size,
    right_hand_side_count,
    runs_few_times,
    trip_count,
)
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


def test_right_hand_sides_are_the_columns_after_an_inverse_and_the_rows_before_one():
    source = "import numpy as np\nB = np.zeros((50, 1000))\nprint(B); print(B.T); print(np.zeros(7)); print(x)\n"
    after = probe_calls(source, lambda context, expr: right_hand_side_count(expr, context, inverse_on_left=True))
    before = probe_calls(source, lambda context, expr: right_hand_side_count(expr, context, inverse_on_left=False))
    assert after == {"B": 1000, "B.T": 50, "np.zeros(7)": 1, "x": None}
    assert before == {"B": 50, "B.T": 1000, "np.zeros(7)": 1, "x": None}


def test_an_array_shape_is_read_from_factories_given_literal_shapes_and_from_literal_data():
    answers = probe_calls(
        "import numpy as np\n"
        "import torch\n"
        "N = 1000\n"
        "def f(n, data):\n"
        "    print(np.zeros(1000)); print(torch.randn(64, 128)); print(np.ones((4, N))); print(np.arange(10))\n"
        "    print(torch.arange(2, 10, 2)); print(np.array([[1, 2, 3], [4, 5, 6]])); print(np.random.rand(3, 4))\n"
        "    print(torch.zeros(n)); print(np.array([[1, 2], [3]])); print(np.array(data)); print(np.zeros(-1))\n"
        "    print(np.full(5, 7)); print(np.linspace(0, 1, 100)); print(np.zeros(1000, np.float32))\n",
        lambda context, expr: array_shape(expr, context),
    )
    assert answers == {
        "np.zeros(1000)": (1000,),
        "torch.randn(64, 128)": (64, 128),
        "np.ones((4, N))": (4, 1000),
        "np.arange(10)": (10,),
        "torch.arange(2, 10, 2)": (4,),
        "np.array([[1, 2, 3], [4, 5, 6]])": (2, 3),
        "np.random.rand(3, 4)": (3, 4),
        "torch.zeros(n)": None,
        "np.array([[1, 2], [3]])": None,
        "np.array(data)": None,
        "np.zeros(-1)": None,
        "np.full(5, 7)": (5,),
        # Not a factory whose arguments are its shape.
        "np.linspace(0, 1, 100)": None,
        "np.zeros(1000, np.float32)": (1000,),
    }


def test_a_count_is_a_literal_a_constant_or_a_known_length():
    answers = probe_calls(
        "import numpy as np\n"
        "N = 1000\n"
        "a = np.zeros((N, 8))\n"
        "seen = []\n"
        "def f(n, b):\n"
        "    print(N); print(len(a)); print(a.shape[1]); print(a.shape[-1]); print(len([1, 2, 3]))\n"
        "    print(n); print(len(b)); print(a.shape[2]); print(N + 1); print(len(seen))\n",
        lambda context, expr: count_of(expr, context),
    )
    assert answers == {
        "N": 1000,
        "len(a)": 1000,
        "a.shape[1]": 8,
        "a.shape[-1]": 8,
        "len([1, 2, 3])": 3,
        "n": None,
        "len(b)": None,
        "a.shape[2]": None,
        "N + 1": 1001,
        "len(seen)": None,
    }


def test_a_loops_trip_count_is_the_number_of_items_of_what_it_iterates():
    answers = probe_calls(
        "import numpy as np\n"
        "import torch\n"
        "from tqdm import tqdm\n"
        "N = 500\n"
        "x = torch.randn(64, 128)\n"
        "names = ('a', 'b')\n"
        "grown = []\n"
        "grown.append(1)\n"
        "def f(n, items):\n"
        "    print(range(N)); print(range(10, 100)); print(range(0, 100, 10)); print(range(len(x)))\n"
        "    print(range(x.shape[1])); print(names); print((1, 2, 3)); print(enumerate(range(N)))\n"
        "    print(tqdm(names)); print(x); print(range(n)); print(items); print([*items, 1]); print(range(5, 0))\n"
        "    print(range(10, 0, -3)); print(range(1_000_000_000_000_000_000_000))\n"
        "    print(grown); print(['a', 'b'])\n",
        lambda context, expr: items_in(expr, context),
    )
    assert answers == {
        "range(N)": 500,
        "range(10, 100)": 90,
        "range(0, 100, 10)": 10,
        "range(len(x))": 64,
        "range(x.shape[1])": 128,
        "names": 2,
        "(1, 2, 3)": 3,
        "enumerate(range(N))": 500,
        "tqdm(names)": 2,
        "x": 64,
        "range(n)": None,
        "items": None,
        "[*items, 1]": None,
        "range(5, 0)": 0,
        "range(10, 0, -3)": 4,
        "range(1_000_000_000_000_000_000_000)": 10**21,
        # A list may grow after its assignment: only a literal written where it is iterated counts.
        "grown": None,
        "['a', 'b']": 2,
    }


def test_a_shadowed_range_or_len_is_not_read():
    answers = probe_calls(
        "def range(n):\n    return [n]\nlen = max\nprint(range(10)); print(len([1, 2, 3]))\n",
        lambda context, expr: (
            items_in(expr, context)
            if type(expr.func) is cst.Name and expr.func.value == "range"
            else count_of(expr, context)
        ),
    )
    assert answers == {"range(10)": None, "len([1, 2, 3])": None}


def test_a_trip_count_is_read_from_for_loops_and_single_clause_comprehensions_only():
    module = cst.parse_module(
        "for i in range(8):\n    pass\n"
        "while True:\n    pass\n"
        "squares = [i * i for i in range(5)]\n"
        "pairs = [(i, j) for i in range(3) for j in range(4)]\n"
    )
    loops = [
        statement.body[0] if type(statement) is cst.SimpleStatementLine else statement for statement in module.body
    ]
    comprehensions = [loop.value for loop in loops[2:]]
    answers = probe_calls(
        "print(0)\n", lambda context, expr: [trip_count(loop, context) for loop in loops[:2] + comprehensions]
    )
    assert answers == {"0": [8, None, 5, None]}


def test_a_loop_runs_few_times_when_its_stated_trip_count_is_a_handful():
    module = cst.parse_module(
        "for i in range(3):\n    pass\n"
        "for i in range(8):\n    pass\n"
        "for i in range(9):\n    pass\n"
        "for i in range(n):\n    pass\n"
    )
    answers = probe_calls("print(0)\n", lambda context, expr: [runs_few_times(loop, context) for loop in module.body])
    assert answers == {"0": [True, True, False, False]}


def test_a_list_the_file_never_grows_has_its_literal_length():
    # deepinv's PET demo: `for i in range(1, len(lesion_diameters) + 1)` over five sizes.
    answers = probe_calls(
        "DIAMETERS = [5, 8, 11, 14, 17]\n"
        "grown = [1, 2]\n"
        "grown.append(3)\n"
        "shown = [1, 2]\n"
        "plot(shown)\n"
        "def f():\n"
        "    print(range(1, len(DIAMETERS) + 1)); print(DIAMETERS); print(grown); print(shown)\n",
        lambda context, expr: items_in(expr, context),
    )
    assert answers == {"range(1, len(DIAMETERS) + 1)": 5, "DIAMETERS": 5, "grown": None, "shown": 2}


def test_a_batch_size_is_the_leading_dimension_of_an_argument():
    answers = probe_calls(
        "import torch\n"
        "def forward(self, x, y):\n"
        "    n = x.shape[0]\n"
        "    print(torch.eye(n)); print(torch.ones(y.size(0))); print(torch.zeros(len(x)))\n"
        "    print(torch.ones(x.size(1))); print(torch.eye(self.n)); print(torch.eye(4))\n",
        lambda context, expr: reads_a_batch_size(expr, context),
    )
    assert answers == {
        "torch.eye(n)": True,
        "torch.ones(y.size(0))": True,
        "torch.zeros(len(x))": True,
        "torch.ones(x.size(1))": False,
        "torch.eye(self.n)": False,
        "torch.eye(4)": False,
    }


def test_a_table_built_from_written_out_data_is_a_handful_of_rows():
    answers = probe_calls(
        "import pandas as pd\n"
        "small = pd.DataFrame({'a': [1, 2], 'b': [3, 4]})\n"
        "print(pd.Series([1, 2, 3])); print(small); print(small['a']); print(pd.Series(data=(1.0, 2.0)))\n"
        "print(pd.Series(values)); print(pd.DataFrame({'a': values})); print(pd.read_csv('x.csv')['a'])\n",
        lambda context, expr: is_written_out_table(expr, context),
    )
    assert answers == {
        "pd.Series([1, 2, 3])": True,
        "small": True,
        "small['a']": True,
        "pd.Series(data=(1.0, 2.0))": True,
        "pd.Series(values)": False,
        "pd.DataFrame({'a': values})": False,
        "pd.read_csv('x.csv')['a']": False,
    }
