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
        "a": "numpy", "b": "numpy", "c": "torch", "d": "torch",
        "e": "pandas", "g": "pandas", "h": None, "i": None,
    }


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


def test_constructors_methods_and_arithmetic_propagate_kinds():
    answers = kinds(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "a = np.zeros(3)\nr = np.random.rand(3)\nt = torch.from_numpy(a)\ndf = pd.read_csv('f')\n"
        "print(a * 2 + 1); print(a.astype(np.float32).T); print(t.cuda().float()); print(t.numpy())\n"
        "print(r); print(df.values); print(df['col']); print(a[1:]); print(a[0]); print(a.shape)\n"
        "print(np.log(a)); print(np.log(2.0)); print(np.sum(a)); print(torch.sqrt(t))\n"
    )
    assert answers == {
        "a * 2 + 1": "numpy", "a.astype(np.float32).T": "numpy", "t.cuda().float()": "torch",
        "t.numpy()": "numpy", "r": "numpy", "df.values": "numpy", "df['col']": "pandas",
        "a[1:]": "numpy", "a[0]": None, "a.shape": None, "np.log(a)": "numpy",
        "np.log(2.0)": None, "np.sum(a)": "numpy", "torch.sqrt(t)": "torch",
    }


def test_rebinding_to_an_unknown_value_forgets_the_kind():
    answers = kinds(
        "import numpy as np\na = np.zeros(3)\nprint(a)\na = load()\nprint(a)\n"
        "for b in [np.ones(2)]:\n    print(b)\n"
    )
    assert answers == {"a": None, "b": None}


def test_numpy_generator_samples_are_arrays():
    answers = kinds(
        "import numpy as np\nrng = np.random.default_rng(0)\nother = make_rng()\n"
        "print(rng.normal(size=3)); print(rng.integers(0, 5, 3)); print(rng.bit_generator); print(other.normal())\n"
    )
    assert answers == {
        "rng.normal(size=3)": "numpy", "rng.integers(0, 5, 3)": "numpy",
        "rng.bit_generator": None, "other.normal()": None,
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
        "ds": "torch.utils.data.TensorDataset", "ds + 0": None, "item": None, "a": None, "ds - 0": None,
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
