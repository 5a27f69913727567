"""Which names hold arrays and of what kind: annotations, isinstance, constructors, joins where branches rejoin, values last assigned."""

from __future__ import annotations

from typing import Any

import libcst as cst

from tests.engine.probes import probe_calls


def kinds(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.arrays.kind_of(expr))


def test_annotations_give_array_kinds():
    answers = kinds(
        "import numpy as np\nimport numpy.typing as npt\nimport torch\nimport pandas as pd\n"
        "from typing import Optional, Union\n"
        "def f(a: np.ndarray, b: npt.NDArray[np.float32], c: torch.Tensor, d: Optional[torch.Tensor],\n"
        "      e: pd.DataFrame | None, g: Union[pd.Series, None], h: int, i: Union[np.ndarray, torch.Tensor]):\n"
        "    print(a); print(b); print(c); print(d); print(e); print(g); print(h); print(i)\n"
    )
    assert answers == {
        "a": "numpy",
        "b": "numpy",
        "c": "torch",
        "d": "torch",
        "e": "pandas",
        "g": "pandas",
        "h": None,
        "i": None,
    }


def test_an_annotation_misspelling_ndarray_as_the_array_function_gives_a_numpy_array():
    answers = kinds(
        "import numpy as np\n"
        "def pad(arr: np.array, width) -> np.array:\n"
        "    return np.pad(arr, width)\n"
        "def f(arr: np.array):\n"
        "    x = pad(arr, 1)\n"
        "    print(arr); print(x)\n"
    )
    assert answers == {"arr": "numpy", "x": "numpy"}


def test_isinstance_narrows_only_inside_the_if_body():
    answers = kinds(
        "import numpy as np\n"
        "def f(x, y):\n"
        "    if isinstance(x, np.ndarray) and y:\n"
        "        print(x)\n"
        "    else:\n"
        "        print(x + 0)\n"
        "    print(-x)\n"
    )
    assert answers == {"x": "numpy", "x + 0": None, "-x": None}


def test_isinstance_of_a_builtin_type_proves_no_array_whatever_the_annotation_says():
    answers = kinds(
        "import torch\n"
        "def f(t: torch.Tensor, u: torch.Tensor, v: torch.Tensor, w: torch.Tensor):\n"
        "    if isinstance(t, int):\n"
        "        print(t)\n"
        "    if isinstance(u, (int, float)):\n"
        "        print(u + 0)\n"
        "        return\n"
        "    if not isinstance(v, list):\n"
        "        print(v + 0)\n"
        "    else:\n"
        "        print(v + 1)\n"
        "    if isinstance(w, (int, torch.Tensor)):\n"
        "        print(w + 0)\n"
        "    print(u)\n"
    )
    assert answers == {"t": None, "u + 0": None, "v + 0": "torch", "v + 1": None, "w + 0": "torch", "u": "torch"}


def test_constructors_methods_and_arithmetic_propagate_kinds():
    answers = kinds(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "a = np.zeros(3)\nr = np.random.rand(3)\nt = torch.from_numpy(a)\ndf = pd.read_csv('f')\n"
        "print(a * 2 + 1); print(a.astype(np.float32).T); print(t.cuda().float()); print(t.numpy())\n"
        "print(r); print(df.values); print(df['col']); print(a[1:]); print(a[0]); print(a.shape)\n"
        "print(np.log(a)); print(np.log(2.0)); print(np.sum(a)); print(torch.sqrt(t))\n"
    )
    assert answers == {
        "a * 2 + 1": "numpy",
        "a.astype(np.float32).T": "numpy",
        "t.cuda().float()": "torch",
        "t.numpy()": "numpy",
        "r": "numpy",
        "df.values": "numpy",
        "df['col']": "pandas",
        "a[1:]": "numpy",
        "a[0]": None,
        "a.shape": None,
        "np.log(a)": "numpy",
        "np.log(2.0)": None,
        "np.sum(a)": "numpy",
        "torch.sqrt(t)": "torch",
    }


def test_rebinding_to_an_unknown_value_forgets_the_kind():
    answers = kinds(
        "import numpy as np\na = np.zeros(3)\nprint(a)\na = load()\nprint(a)\nfor b in [np.ones(2)]:\n    print(b)\n"
    )
    assert answers == {"a": None, "b": None}


def test_numpy_generator_samples_are_arrays():
    answers = kinds(
        "import numpy as np\nrng = np.random.default_rng(0)\nother = make_rng()\n"
        "print(rng.normal(size=3)); print(rng.integers(0, 5, 3)); print(rng.bit_generator); print(other.normal())\n"
    )
    assert answers == {
        "rng.normal(size=3)": "numpy",
        "rng.integers(0, 5, 3)": "numpy",
        "rng.bit_generator": None,
        "other.normal()": None,
    }


def test_the_value_a_name_was_last_assigned_is_known_within_its_scope():
    answers = probe_calls(
        "from torch.utils.data import TensorDataset\n"
        "ds = TensorDataset(x)\n"
        "print(ds)\n"
        "def f(ds):\n"
        "    print(ds + 0)\n"
        "    for item in ds:\n"
        "        print(item)\n"
        "a, b = pair()\n"
        "print(a)\n"
        "ds += extra\n"
        "print(ds - 0)\n",
        lambda context, expr: context.arrays.constructor_of(
            expr.left if isinstance(expr, cst.BinaryOperation) else expr
        ),
    )
    assert answers == {
        "ds": "torch.utils.data.TensorDataset",
        "ds + 0": None,
        "item": None,
        "a": None,
        "ds - 0": None,
    }


def test_a_parameter_whose_literal_default_contradicts_its_array_annotation_is_not_an_array():
    answers = probe_calls(
        "import torch\n"
        "def f(a: torch.Tensor | None = False, b: torch.Tensor | None = None, c: torch.Tensor = 0):\n"
        "    print(a); print(b); print(c)\n",
        lambda context, expr: context.arrays.kind_of(expr),
    )
    assert answers == {"a": None, "b": "torch", "c": None}


def test_a_name_is_an_array_after_an_if_only_when_every_path_makes_it_one():
    answers = kinds(
        "import numpy as np\n"
        "a = [1.0, 2.0]\n"
        "if c:\n    a = np.zeros(2)\n"
        "print(a)\n"
        "if c:\n    b = np.zeros(2)\nelse:\n    b = np.ones(2)\n"
        "print(b)\n"
        "if c:\n    d = np.zeros(2)\nelif e:\n    d = np.ones(2)\nelse:\n    raise ValueError(c)\n"
        "print(d)\n"
        "if c:\n    f = np.zeros(2)\nelif e:\n    f = [0.0]\nelse:\n    f = np.ones(2)\n"
        "print(f)\n"
    )
    assert answers == {"a": None, "b": "numpy", "d": "numpy", "f": None}


def test_class_body_names_are_not_visible_in_methods_and_comprehension_names_do_not_leak():
    answers = kinds(
        "import numpy as np\n"
        "table = [1]\n"
        "class C:\n    table = np.zeros(3)\n    print(table + 0)\n"
        "    def f(self):\n        print(table)\n"
        "y = [1]\n"
        "squares = [y for y in np.zeros(3)]\n"
        "print(y)\n"
    )
    assert answers == {"table + 0": "numpy", "table": None, "y": None}


def test_names_unpacked_from_a_tuple_returning_call_take_the_catalogued_item_kind():
    answers = kinds(
        "import numpy as np\nimport torch\n"
        "def f(x: torch.Tensor, m: torch.Tensor, y: np.ndarray, a: np.ndarray):\n"
        "    v, i = torch.max(x, 1)\n"
        "    (idx,) = torch.nonzero(m, as_tuple=True)\n"
        "    q, r = torch.linalg.qr(x)\n"
        "    w, vecs = np.linalg.eigh(a)\n"
        "    values, counts = np.unique(y, return_counts=True)\n"
        "    top, where = x.topk(3)\n"
        "    first, *rest = torch.linalg.svd(x)\n"
        "    print(v); print(i); print(idx); print(q); print(r); print(w); print(vecs)\n"
        "    print(values); print(counts); print(top); print(where); print(first); print(rest)\n"
    )
    assert answers == {
        "v": "torch",
        "i": "torch",
        "idx": "torch",
        "q": "torch",
        "r": "torch",
        "w": "numpy",
        "vecs": "numpy",
        "values": "numpy",
        "counts": "numpy",
        "top": "torch",
        "where": "torch",
        "first": "torch",
        "rest": None,
    }


def test_named_tuple_fields_and_items_of_tuple_returning_calls_are_arrays():
    answers = kinds(
        "import numpy as np\nimport torch\n"
        "def f(x: torch.Tensor, y: np.ndarray):\n"
        "    out = torch.max(x, 1)\n"
        "    print(x.max(1).indices); print(x.max(dim=1)[0]); print(out.values); print(out[1])\n"
        "    print(torch.linalg.eigh(x).eigenvectors); print(x.argmax(1)); print(torch.unique(x))\n"
        "    print(np.unique(y)); print(np.unique(y, return_counts=True))\n"
        "    print(torch.nonzero(x)); print(torch.nonzero(x, as_tuple=True)[0])\n"
    )
    assert answers == {
        "x.max(1).indices": "torch",
        "x.max(dim=1)[0]": "torch",
        "out.values": "torch",
        "out[1]": "torch",
        "torch.linalg.eigh(x).eigenvectors": "torch",
        "x.argmax(1)": "torch",
        "torch.unique(x)": "torch",
        "np.unique(y)": "numpy",
        "np.unique(y, return_counts=True)": None,
        "torch.nonzero(x)": "torch",
        "torch.nonzero(x, as_tuple=True)[0]": "torch",
    }


def test_unpacking_something_not_known_to_be_a_tuple_of_arrays_types_nothing():
    answers = kinds(
        "import numpy as np\nimport torch\n"
        "def f(x: torch.Tensor, y: np.ndarray, pair):\n"
        "    a, b = pair\n"
        "    c, d = x.max(), x.min()\n"
        "    e, g = y.max(1)\n"
        "    h, k = np.unique(y, return_counts=False)\n"
        "    print(a); print(b); print(c); print(d); print(e); print(g); print(h); print(k)\n"
        "    print(x.max().indices); print(pair.indices)\n"
    )
    assert answers == {
        "a": None,
        "b": None,
        "c": None,
        "d": None,
        "e": None,
        "g": None,
        "h": None,
        "k": None,
        "x.max().indices": None,
        "pair.indices": None,
    }


def weak_kinds(source: str) -> dict[str, Any]:
    from perflint.engine.arrays import Evidence

    return probe_calls(
        source, lambda context, expr: (context.arrays.kind_of(expr), context.arrays.kind_of(expr, Evidence.WEAK))
    )


def test_numpy_and_google_style_docstrings_are_weak_evidence_only():
    answers = weak_kinds(
        "import numpy as np\nimport torch\n"
        "def f(X, x, y, z, w, v, u):\n"
        '    """Fit.\n\n'
        "    Parameters\n    ----------\n"
        "    X : np.ndarray of shape (n_samples, n_features)\n"
        "    x : torch.Tensor, optional\n"
        "    y : array_like\n"
        "    z : ndarray or float\n"
        "    w : ndarray or None\n"
        "    v (Tensor): values\n"
        '    """\n'
        "    print(X); print(x); print(y); print(z); print(w); print(v); print(u)\n"
    )
    assert answers == {
        "X": (None, "numpy"),
        "x": (None, "torch"),
        "y": (None, None),
        "z": (None, None),
        "w": (None, "numpy"),
        "v": (None, "torch"),
        "u": (None, None),
    }


def test_a_docstring_naming_a_pandas_type_is_weak_evidence_of_a_pandas_object():
    answers = weak_kinds(
        "import numpy as np\n"
        "def f(df, s, t):\n"
        '    """Tabulate.\n\n'
        "    Parameters\n    ----------\n"
        "    df : pd.DataFrame\n"
        "    s : pandas.Series\n"
        "    t : DataFrame or dict\n"
        '    """\n'
        "    print(df); print(s); print(t); print(df.values)\n"
    )
    assert answers == {
        "df": (None, "pandas"),
        "s": (None, "pandas"),
        "t": (None, None),
        "df.values": (None, "numpy"),
    }


def test_pandas_indexers_give_pandas_objects_whose_values_are_arrays():
    answers = kinds(
        "import pandas as pd\n"
        "def f(df: pd.DataFrame, d: dict):\n"
        '    print(df.loc[:, "y"]); print(df.iloc[3:10]); print(df.loc[:, "y"].values)\n'
        '    print(df.loc); print(d.loc[:, "y"])\n'
    )
    assert answers == {
        'df.loc[:, "y"]': "pandas",
        "df.iloc[3:10]": "pandas",
        'df.loc[:, "y"].values': "numpy",
        "df.loc": None,
        'd.loc[:, "y"]': None,
    }


def test_sphinx_style_docstring_types_are_weak_evidence_only():
    answers = weak_kinds(
        "import torch\n"
        "def f(spike_time, n, m, k):\n"
        '    """Interpolate.\n\n'
        "    :param spike_time: spike times\n"
        "    :type spike_time: torch.Tensor\n"
        "    :type n: int, optional\n"
        "    :type m: torch.Tensor or list\n"
        '    """\n'
        "    print(spike_time); print(n); print(m); print(k)\n"
    )
    assert answers == {"spike_time": (None, "torch"), "n": (None, None), "m": (None, None), "k": (None, None)}


def test_a_parameter_passed_where_torch_takes_only_a_tensor_is_weakly_a_tensor():
    answers = weak_kinds(
        "import torch\n"
        "def f(x, n, y):\n"
        "    print(x); print(n); print(y)\n"
        "    z = torch.sigmoid(x) * torch.zeros(n)\n"
        "    y = torch.exp(y).tolist()\n"
        "    print(y[:])\n"
    )
    # ``n`` is a size: ``torch.zeros`` takes numbers. A reassigned parameter is what it was
    # reassigned, whatever the parameter was.
    assert answers == {"x": (None, "torch"), "n": (None, None), "y": (None, "torch"), "y[:]": (None, None)}


def test_an_attribute_its_class_assigns_one_array_is_weakly_that_array():
    answers = weak_kinds(
        "import numpy as np\nimport torch\n"
        "class Table:\n"
        "    def fit(self, probs, n):\n"
        "        self.log_probs = torch.log(probs)\n"
        "        self.counts = np.zeros(n)\n"
        "        self.lookup = {}\n"
        "        self.twice = torch.zeros(n)\n"
        "        self.unique = np.unique(probs, return_counts=True)\n"
        "    def reset(self, n):\n"
        "        self.twice = torch.ones(n)\n"
        "    def use(self, other):\n"
        "        print(self.log_probs); print(self.counts); print(self.lookup); print(self.twice)\n"
        "        print(self.unique); print(other.counts)\n"
    )
    # Assigned twice, a dict, a tuple of arrays, another object's attribute: not known.
    assert answers == {
        "self.log_probs": (None, "torch"),
        "self.counts": (None, "numpy"),
        "self.lookup": (None, None),
        "self.twice": (None, None),
        "self.unique": (None, None),
        "other.counts": (None, None),
    }


def test_a_conversion_guarded_by_a_type_test_leaves_an_array_on_every_path():
    answers = kinds(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "def f(x, y, z, w, v, u, s, r, q):\n"
        "    if not isinstance(x, np.ndarray):\n"
        "        x = np.asarray(x)\n"
        "    if isinstance(y, list):\n"
        "        y = np.array(y)\n"
        "    if not isinstance(z, torch.Tensor):\n"
        "        raise TypeError(z)\n"
        "    if not isinstance(w, (np.ndarray, pd.Series)):\n"
        "        w = np.asarray(w)\n"
        "    v = v if isinstance(v, torch.Tensor) else torch.as_tensor(v)\n"
        "    if not isinstance(u, np.ndarray) or u.ndim != 1:\n"
        "        u = np.asarray(u).ravel()\n"
        "    if isinstance(s, torch.Tensor):\n"
        "        pass\n"
        "    else:\n"
        "        s = torch.tensor(s)\n"
        "    if not isinstance(r, np.ndarray):\n"
        "        r = torch.as_tensor(r)\n"
        "    if not torch.is_tensor(q):\n"
        "        q = torch.tensor(q)\n"
        "    print(x); print(y); print(z); print(w); print(v); print(u); print(s); print(r); print(q)\n"
    )
    # ``y`` may be anything but a list, ``w`` a Series, ``r`` an array or a tensor: not known.
    assert answers == {
        "x": "numpy",
        "y": None,
        "z": "torch",
        "w": None,
        "v": "torch",
        "u": "numpy",
        "s": "torch",
        "r": None,
        "q": "torch",
    }


def test_a_negated_type_test_narrows_the_else_branch_only():
    answers = kinds(
        "import numpy as np\n"
        "def f(x, y):\n"
        "    if not isinstance(x, np.ndarray):\n"
        "        print(x + 0)\n"
        "    elif y:\n"
        "        print(x)\n"
        "    if not (isinstance(y, np.ndarray) and x):\n"
        "        pass\n"
        "    else:\n"
        "        print(y)\n"
        "    print(-x)\n"
    )
    assert answers == {"x + 0": None, "x": "numpy", "y": "numpy", "-x": None}


def test_a_parameter_converted_on_some_paths_keeps_its_weak_kind_when_they_agree():
    answers = weak_kinds(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "def f(x, y, z, w):\n"
        '    """\n'
        "    :type x: numpy.ndarray\n"
        "    :type y: numpy.ndarray\n"
        "    :type z: numpy.ndarray\n"
        '    """\n'
        "    if not isinstance(x, (np.ndarray, pd.Series)):\n"
        "        x = np.asarray(x)\n"
        "    if isinstance(y, list):\n"
        "        y = torch.tensor(y)\n"
        "    if isinstance(z, list):\n"
        "        z = np.array(z)\n"
        "    elif z is None:\n"
        "        z = load()\n"
        "    if isinstance(w, list):\n"
        "        w = np.array(w)\n"
        "    def windows(m):\n"
        "        print(x); print(y); print(z); print(w)\n"
    )
    # ``y`` is converted to another library, ``z`` to something unknown on one path, and
    # nothing says what ``w`` is when it is no list.
    assert answers == {"x": (None, "numpy"), "y": (None, None), "z": (None, None), "w": (None, None)}


def test_a_buffer_registered_in_init_is_a_tensor_in_every_method():
    answers = kinds(
        "import torch\nfrom torch import nn\n"
        "class Trainer(nn.Module):\n"
        "    def __init__(self, n):\n"
        "        super().__init__()\n"
        "        self.register_buffer('steps', torch.tensor([0]))\n"
        "        self.register_buffer(name='mask', tensor=make(n), persistent=False)\n"
        "        self.register_buffer('bias', None)\n"
        "        self.register_buffer('twice', torch.zeros(1))\n"
        "        self.twice = 3\n"
        "        def later():\n"
        "            self.register_buffer('nested', torch.zeros(1))\n"
        "    def reset(self):\n"
        "        self.register_buffer('late', torch.zeros(1))\n"
        "    def train(self):\n"
        "        print(self.steps); print(self.mask); print(self.bias); print(self.twice)\n"
        "        print(self.nested); print(self.late); print(self.other)\n"
        "class Other(nn.Module):\n"
        "    def forward(self):\n"
        "        print(self.steps + 0)\n"
        "class Own(nn.Module):\n"
        "    def __init__(self):\n"
        "        self.register_buffer('steps', torch.zeros(1))\n"
        "    def register_buffer(self, name, value):\n"
        "        setattr(self, name, value.tolist())\n"
        "    def forward(self):\n"
        "        print(self.steps * 1)\n"
    )
    # None registered, a name ``__init__`` also assigns, a buffer registered in a nested
    # function or another method, another class's buffer, a class's own ``register_buffer``.
    assert answers == {
        "self.steps": "torch",
        "self.mask": "torch",
        "self.bias": None,
        "self.twice": None,
        "self.nested": None,
        "self.late": None,
        "self.other": None,
        "self.steps + 0": None,
        "self.steps * 1": None,
    }


def test_a_range_over_a_name_bound_to_an_arrays_length_runs_over_its_first_axis():
    answers = probe_calls(
        "import numpy as np\nimport torch\n"
        "def f(a: np.ndarray, t: torch.Tensor, m: int, c):\n"
        "    n = len(a)\n    k = t.size(0)\n    h = len(a) // 2\n"
        "    j = len(a)\n    if c:\n        j = 3\n"
        "    print(range(n)); print(range(0, k)); print(range(h)); print(range(j)); print(range(m))\n",
        lambda context, expr: (lambda array: None if array is None else cst.Module([]).code_for_node(array))(
            context.arrays.indexed_range_array(expr)
        ),
    )
    assert answers == {"range(n)": "a", "range(0, k)": "t", "range(h)": None, "range(j)": None, "range(m)": None}


def test_names_unpacked_from_a_shape_are_its_axes_lengths_and_state_its_dimensions():
    code = (
        "import numpy as np\nimport torch\n"
        "def f(X: torch.Tensor, a: np.ndarray, s, n: int):\n"
        "    b, c, t = X.shape\n    first, *rest = a.shape\n"
        "    out = torch.zeros((b, c, t)).to(X.device)\n    row = np.zeros(len(a))\n    shaped = np.zeros(s)\n"
        "    print(range(b)); print(range(c)); print(range(first))\n"
        "    print(X); print(a); print(out); print(row); print(shaped)\n"
    )
    ranges = probe_calls(
        code,
        lambda context, expr: (lambda array: None if array is None else cst.Module([]).code_for_node(array))(
            context.arrays.indexed_range_array(expr)
        ),
    )
    # `c` runs over the second axis; a starred unpacking says nothing.
    assert {key: value for key, value in ranges.items() if key.startswith("range")} == {
        "range(b)": "X",
        "range(c)": None,
        "range(first)": None,
    }
    ndims = probe_calls(
        code,
        lambda context, expr: context.arrays.ndim_of(expr) if type(expr) is cst.Name else None,
    )
    # `np.zeros(s)`: `s` may be a whole shape; `a`'s starred unpacking states no dimensions.
    assert {key: ndims[key] for key in ("X", "a", "out", "row", "shaped")} == {
        "X": 3,
        "a": None,
        "out": 3,
        "row": 1,
        "shaped": None,
    }


def test_an_array_made_with_the_ranges_length_is_known_to_be_that_long():
    answers: dict[str, bool] = {}

    from perflint.engine import lint_source
    from perflint.engine.rule import Rule

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_For(self, node: cst.For) -> None:
            for name in ("a", "b", "c", "d", "e"):
                answers[f"{name} {cst.Module([]).code_for_node(node.iter)}"] = (
                    self.context.arrays.made_with_range_length(cst.Name(name), node.iter)
                )

    lint_source(
        "import numpy as np\nimport torch\n"
        "def f(n, m, self):\n"
        "    a = np.zeros(n)\n    b = np.empty((n, 3))\n    c = torch.zeros(n, 4)\n    d = np.zeros(n + 1)\n"
        "    e = np.full(self.n, 0.5)\n"
        "    for i in range(n): pass\n"
        "    for i in range(m): pass\n"
        "    for i in range(self.n): pass\n"
        "def g(X, Y, rng):\n"
        "    a = np.zeros(len(X))\n    b = torch.zeros(X.shape[0], 2)\n    c = np.zeros(rng.integers(9))\n"
        "    for i in range(len(X)): pass\n"
        "    for i in range(X.shape[0]): pass\n"
        "    for i in range(len(Y)): pass\n"
        "    for i in range(rng.integers(9)): pass\n",
        "probe.py",
        [Probe],
    )
    # A length of a name compares as written; a call that computes one (``rng.integers(9)``)
    # may give another length each time.
    assert {key for key, made in answers.items() if made} == {
        "a range(n)",
        "b range(n)",
        "c range(n)",
        "e range(self.n)",
        "a range(len(X))",
        "b range(X.shape[0])",
    }


def test_loop_targets_over_tensors_zip_and_enumerate_of_tensors_are_tensors():
    answers = kinds(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "X = torch.zeros(3, 4)\nY = torch.ones(3, 4)\nA = np.zeros((3, 4))\ndf = pd.DataFrame()\n"
        "for row in X:\n    print(row)\n"
        "for x, y in zip(X, Y, strict=True):\n    print(x); print(y)\n"
        "for i, (p, q) in enumerate(zip(X, A), start=1):\n    print(i); print(p); print(q)\n"
        "for r in A:\n    print(r)\n"
        "for c in df:\n    print(c)\n"
        "for u, v in zip(X):\n    print(u)\n"
        "for w in zip(X, Y):\n    print(w)\n"
        "[print(t) for t in X]\n"
    )
    assert answers == {
        "row": "torch",
        "x": "torch",
        "y": "torch",
        "i": None,
        "p": "torch",
        "q": None,
        "r": None,
        "c": None,
        "u": None,
        "w": None,
        "t": "torch",
    }


def test_the_params_of_an_optimizers_parameter_groups_and_their_gradients_are_tensors():
    answers = kinds(
        "import torch\n"
        "def step(self, optimizer, groups):\n"
        "    for group in self.param_groups:\n"
        "        for p in group['params']:\n"
        "            print(p); print(p.grad)\n"
        "        for b in group['betas']:\n"
        "            print(b)\n"
        "    for q in optimizer.param_groups[0]['params']:\n"
        "        print(q)\n"
        "    for group in groups:\n"
        "        for r in group['params']:\n"
        "            print(r); print(r.grad)\n"
    )
    assert answers == {"p": "torch", "p.grad": "torch", "b": None, "q": "torch", "r": None, "r.grad": None}


def test_reversed_slices_and_flips_may_have_negative_strides():
    answers = probe_calls(
        "import numpy as np\n"
        "def f(a, step):\n"
        "    r = np.array(a)[::-1]\n"
        "    print(r); print(a[:, ::step]); print(np.flip(a).reshape(-1)); print(a[::2]); print(a[1:]); print(a)\n",
        lambda context, expr: context.arrays.may_have_negative_strides(expr),
    )
    assert answers == {
        "r": True,
        "a[:, ::step]": True,
        "np.flip(a).reshape(-1)": True,
        "a[::2]": False,
        "a[1:]": False,
        "a": False,
    }


def test_full_reductions_are_zero_dimensional():
    answers = probe_calls(
        "import torch\n"
        "def f(x, tp, n):\n"
        "    total = x.sum()\n"
        "    print(total); print((tp[:n]).sum()); print(2 * torch.max(x)); print(x.mean(dtype=torch.float64))\n"
        "    print(x.sum(1)); print(x.mean(dim=0)); print(torch.sum(x, 0)); print(x); print(x.dot(tp))\n",
        lambda context, expr: context.arrays.is_zero_dimensional(expr),
    )
    assert answers == {
        "total": True,
        "(tp[:n]).sum()": True,
        "2 * torch.max(x)": True,
        "x.mean(dtype=torch.float64)": True,
        "x.sum(1)": False,
        "x.mean(dim=0)": False,
        "torch.sum(x, 0)": False,
        "x": False,
        "x.dot(tp)": False,
    }


def test_a_series_is_a_frames_column_by_label_a_series_call_or_a_parameter_annotated_series():
    answers = probe_calls(
        "import pandas as pd\n"
        "from typing import Optional\n"
        "def f(df: pd.DataFrame, s: pd.Series, m: Optional[pd.Series], u, frame: pd.DataFrame = None):\n"
        "    col = df['ds']\n"
        "    made = pd.Series(values)\n"
        "    print(df['ds']); print(df[df.y > 0][f'{name}_x']); print(col); print(made); print(s); print(m)\n"
        "    print(df); print(df[['a', 'b']]); print(df[key]); print(u['ds']); print(u)\n"
        "    print(df.groupby('k')['v']); print(df.index); print(frame)\n",
        lambda context, expr: context.arrays.is_series(expr),
    )
    assert answers == {
        "df['ds']": True,
        "df[df.y > 0][f'{name}_x']": True,
        "col": True,
        "made": True,
        "s": True,
        "m": True,
        "df": False,
        "df[['a', 'b']]": False,
        "df[key]": False,
        "u['ds']": False,
        "u": False,
        "df.groupby('k')['v']": False,
        "df.index": False,
        "frame": False,
    }


def test_sparse_format_follows_constructors_conversions_and_annotations():
    answers = probe_calls(
        "import numpy as np\n"
        "import scipy.sparse as sp\n"
        "from scipy.sparse import csr_array\n"
        "from typing import Optional\n"
        "def f(a: sp.csr_matrix, b: Optional[sp.csc_array], c: np.ndarray, d, g):\n"
        "    m = sp.csr_matrix(d)\n"
        "    n = csr_array(d)\n"
        "    r = g.tocsr()\n"
        "    k = r.tocsc()\n"
        "    if sp.issparse(d):\n"
        "        print(d)\n"
        "    print(a); print(b); print(c); print(m); print(n); print(r); print(k); print(g.tocsr(1)); print(d)\n",
        lambda context, expr: context.arrays.sparse_format(expr),
    )
    assert answers == {
        "a": "csr",
        "b": "csc",
        "c": None,
        "m": "csr",
        "n": "csr",
        "r": "csr",
        "k": "csc",
        "g.tocsr(1)": None,
        "d": None,
    }


def test_an_array_made_with_an_object_dtype_holds_python_objects():
    answers = probe_calls(
        "import numpy as np\n"
        "def f(n, blocks, x):\n"
        "    labels = np.empty(n, dtype=object)\n"
        "    print(labels); print(labels[1:]); print(labels.reshape(-1)); print(labels[0])\n"
        "    print(np.array(blocks, dtype='O')); print(np.array(blocks, np.dtype(object)))\n"
        "    print(np.array(blocks, dtype=float)); print(np.empty(n)); print(x)\n",
        lambda context, expr: context.arrays.holds_objects(expr),
    )
    assert answers == {
        "labels": True,
        "labels[1:]": True,
        "labels.reshape(-1)": True,
        # One element of an array of objects is whatever object it holds.
        "labels[0]": False,
        "np.array(blocks, dtype='O')": True,
        "np.array(blocks, np.dtype(object))": True,
        "np.array(blocks, dtype=float)": False,
        "np.empty(n)": False,
        "x": False,
    }


def test_an_array_made_of_strings_or_with_a_string_dtype_holds_text():
    answers = probe_calls(
        "import numpy as np\n"
        "def f(n, blocks, x):\n"
        "    names = np.array([f'col_{i}' for i in range(n)])\n"
        "    print(names); print(names[3:]); print(np.asarray(['a', 'b']))\n"
        "    print(np.array(blocks, dtype=str)); print(np.array(blocks, dtype='<U8')); print(np.array(blocks, np.str_))\n"
        "    print(x.astype(str)); print(np.array([str(b) for b in blocks]))\n"
        "    print(np.array([len(b) for b in blocks])); print(np.array(blocks)); print(names.astype(float))\n"
        "    print(np.array(['a', 'b'], dtype=float)); print(np.array([]))\n",
        lambda context, expr: context.arrays.holds_text(expr),
    )
    assert answers == {
        "names": True,
        "names[3:]": True,
        "np.asarray(['a', 'b'])": True,
        "np.array(blocks, dtype=str)": True,
        "np.array(blocks, dtype='<U8')": True,
        "np.array(blocks, np.str_)": True,
        "x.astype(str)": True,
        "np.array([str(b) for b in blocks])": True,
        "np.array([len(b) for b in blocks])": False,
        "np.array(blocks)": False,
        "names.astype(float)": False,
        # A dtype given decides: NumPy converts the strings to it.
        "np.array(['a', 'b'], dtype=float)": False,
        "np.array([])": False,
    }
