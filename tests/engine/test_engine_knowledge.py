"""The shared knowledge every rule relies on: imports, array kinds, loops, literals."""

from __future__ import annotations

from typing import Any, Optional

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.literals import UNKNOWN, literal_value
from perflint.engine.rule import Rule
from probes import probe_calls


def qualified(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.imports.qualified_name(expr))


@pytest.mark.parametrize(
    "source",
    [
        "import numpy as np\nprint(np.linalg.inv)\n",
        "import numpy\nprint(numpy.linalg.inv)\n",
        "from numpy.linalg import inv\nprint(inv)\n",
        "from numpy import linalg as la\nprint(la.inv)\n",
        "import numpy.linalg\nprint(numpy.linalg.inv)\n",
        "import numpy.linalg as nla\nprint(nla.inv)\n",
    ],
)
def test_every_import_form_resolves_to_the_same_name(source):
    assert list(qualified(source).values()) == ["numpy.linalg.inv"]


def test_names_without_an_import_or_shadowed_by_assignment_do_not_resolve():
    answers = qualified(
        "import numpy as np\n"
        "print(inv)\n"
        "def f(np):\n"
        "    print(np.zeros)\n"
        "from . import torch\n"
        "print(torch.zeros)\n"
    )
    assert answers == {"inv": None, "np.zeros": None, "torch.zeros": None}


def test_imports_inside_a_function_stay_in_it():
    answers = qualified(
        "def f():\n"
        "    import torch as T\n"
        "    print(T.zeros)\n"
        "print(T.ones)\n"
    )
    assert answers == {"T.zeros": "torch.zeros", "T.ones": None}


def test_private_module_paths_are_canonicalised():
    answers = qualified("from torch.utils.data.dataloader import DataLoader\nprint(DataLoader)\n")
    assert answers == {"DataLoader": "torch.utils.data.DataLoader"}


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


def invariance(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.is_invariant(expr))


def test_loop_invariance_of_names():
    answers = invariance(
        "import numpy as np\n"
        "for i in range(3):\n"
        "    a = i\n"
        "    c += 1\n"
        "    d[0] = 1\n"
        "    e.x = 1\n"
        "    mutate(f)\n"
        "    np.sum(g)\n"
        "    np.add(h, 1, out=k)\n"
        "    del m\n"
        "    print(a); print(c); print(d); print(e); print(f); print(g); print(k); print(m)\n"
        "    print(i); print(untouched); print(untouched + 1)\n"
    )
    assert answers == {
        "a": False, "c": False, "d": False, "e": False, "f": False, "g": True, "k": False,
        "m": False, "i": False, "untouched": True, "untouched + 1": True,
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    self.w.data = x\n", {"self.w": False, "self.w.data": False, "self.b": True, "other.w": True}),
        ("    self.reset()\n", {"self.w": False, "self.w.data": False, "self.b": False, "other.w": True}),
        ("    self.w.sum()\n", {"self.w": True, "self.w.data": True, "self.b": True, "other.w": True}),
        ("    self.w.add_(x)\n", {"self.w": False, "self.w.data": False, "self.b": True, "other.w": True}),
    ],
)
def test_attribute_chains_vary_with_assignment_to_them_or_a_mutating_call_on_a_prefix(body, expected):
    source = "for x in xs:\n" + body + "    print(self.w); print(self.w.data); print(self.b); print(other.w)\n"
    assert invariance(source) == expected


def test_pure_factories_of_invariant_arguments_are_invariant_values_but_never_the_same_object():
    source = (
        "import numpy as np\nimport torch\n"
        "for i in range(3):\n"
        "    print(torch.zeros(3)); print(np.eye(n)); print(torch.from_numpy(a)); print(np.sqrt(a))\n"
        "    print(list(a)); print(len(a)); print(model(b)); print(b); print(np.eye(i))\n"
        "    print(torch.rand(3)); print(a.clone()); print(iter(a)); print(np.zeros(3, out=c))\n"
    )
    assert invariance(source) == {
        "torch.zeros(3)": True, "np.eye(n)": True, "torch.from_numpy(a)": True,
        "np.sqrt(a)": True, "list(a)": True, "len(a)": True, "model(b)": False, "b": False,
        "np.eye(i)": False, "torch.rand(3)": False, "a.clone()": True, "iter(a)": False,
        "np.zeros(3, out=c)": False,
    }
    identities = probe_calls(source, lambda context, expr: context.is_invariant(expr, identity=True))
    assert identities == {
        "torch.zeros(3)": False, "np.eye(n)": False, "torch.from_numpy(a)": False,
        "np.sqrt(a)": True, "list(a)": False, "len(a)": True, "model(b)": False, "b": False,
        "np.eye(i)": False, "torch.rand(3)": False, "a.clone()": False, "iter(a)": False,
        "np.zeros(3, out=c)": False,
    }
    conversions = probe_calls(
        source, lambda context, expr: context.is_invariant(expr, allow_conversions=True, identity=True)
    )
    assert conversions["torch.from_numpy(a)"] is True
    assert conversions["torch.zeros(3)"] is False


def test_comprehension_targets_are_loop_variables_and_the_first_iterable_is_outside():
    answers = invariance("ys = [print(x) + print(w) for x in print(xs)]\n")
    assert answers == {"x": False, "w": True, "xs": True}


def test_training_step_loop_is_the_innermost_loop_calling_backward_or_step():
    answers = probe_calls(
        "for epoch in range(3):\n"
        "    print(epoch)\n"
        "    for batch in loader:\n"
        "        print(batch)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        def later():\n"
        "            print(later)\n"
        "for x in xs:\n"
        "    def inner():\n"
        "        loss.backward()\n"
        "    print(x)\n",
        lambda context, expr: None if context.training_step_loop() is None
        else cst.Module([]).code_for_node(context.training_step_loop().node.target),
    )
    assert answers == {"epoch": None, "batch": "batch", "later": None, "x": None}


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("-2", -2), ("1.5", 1.5), ("'cuda'", "cuda"), ("True", True), ("None", None),
     ("n", UNKNOWN), ("f(0)", UNKNOWN), ("-n", UNKNOWN)],
)
def test_literal_values(text, value):
    assert literal_value(cst.parse_expression(text)) == value


class Crashes(Rule):
    code = "PFL998"
    name = "crashes"

    def visit_Call(self, node: cst.Call) -> None:
        raise RuntimeError("boom")


def test_a_rule_that_crashes_becomes_one_pfl000_finding_naming_it():
    findings = lint_source("f()\ng()\n", "crash.py", [Crashes])
    assert [(finding.code, finding.message) for finding in findings] == [
        ("PFL000", "internal error in rule PFL998 (crashes): RuntimeError: boom")
    ]


def test_a_syntax_error_becomes_a_pfl000_finding_at_its_position():
    (finding,) = lint_source("x = 1\ndef f(:\n    pass\n", "broken.py", [Crashes])
    assert (finding.code, finding.path, finding.line, finding.column) == ("PFL000", "broken.py", 2, 7)
    assert finding.message == "cannot parse: invalid syntax"


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


def test_a_node_under_a_loop_dependent_condition_does_not_run_every_iteration():
    answers = probe_calls(
        "for t in range(9):\n"
        "    print(always)\n"
        "    if t == 0:\n"
        "        print(first_only)\n"
        "    elif verbose:\n"
        "        print(else_branch)\n"
        "    if verbose:\n"
        "        print(invariant_condition)\n"
        "        for x in xs:\n"
        "            print(inner_loop_body)\n"
        "    y = print(conditional_value) if t else 0\n"
        "    try:\n"
        "        pass\n"
        "    except ValueError:\n"
        "        print(on_error)\n"
        "def f():\n"
        "    print(outside_any_loop)\n",
        lambda context, expr: context.runs_every_iteration(),
    )
    assert answers == {
        "always": True, "first_only": False, "else_branch": False, "invariant_condition": True,
        "inner_loop_body": True, "conditional_value": False, "on_error": False, "outside_any_loop": True,
    }


def extents(source: str) -> dict[str, Optional[str]]:
    """What the engine says each ``for`` loop's iterable ranges over, keyed by its text."""
    answers: dict[str, Optional[str]] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_For(self, node: cst.For) -> None:
            array = self.context.arrays.indexed_range_array(node.iter)
            code = cst.Module([]).code_for_node
            answers[code(node.iter)] = None if array is None else code(array)

    lint_source(source, "probe.py", [Probe])
    return answers


def test_engine_knows_which_ranges_run_over_an_arrays_first_axis():
    answers = extents(
        "import numpy as np\nimport torch\nimport pandas as pd\n"
        "def f(a: np.ndarray, t: torch.Tensor, s: pd.Series, items: list):\n"
        "    for i in range(len(a)): pass\n"
        "    for i in range(0, t.shape[0]): pass\n"
        "    for i in range(a.size): pass\n"
        "    for i in range(t.size(0)): pass\n"
        "    for i in range(t.size): pass\n"
        "    for i in range(a.size(0)): pass\n"
        "    for i in range(1, len(a)): pass\n"
        "    for i in range(len(a), 0, -1): pass\n"
        "    for i in range(a.shape[1]): pass\n"
        "    for i in range(len(s)): pass\n"
        "    for i in range(len(items)): pass\n"
        "    for i in range(len(a.T)): pass\n"
        "def g(a: np.ndarray, range):\n"
        "    for i in range(a.shape[0]): pass\n"
    )
    assert answers == {
        "range(len(a))": "a",
        "range(0, t.shape[0])": "t",
        "range(a.size)": "a",
        "range(t.size(0))": "t",
        "range(t.size)": None,
        "range(a.size(0))": None,
        "range(1, len(a))": None,
        "range(len(a), 0, -1)": None,
        "range(a.shape[1])": None,
        "range(len(s))": None,
        "range(len(items))": None,
        "range(len(a.T))": "a.T",
        "range(a.shape[0])": None,  # ``range`` is a parameter of ``g``, not the builtin
    }


def test_tensors_made_by_a_host_factory_are_known_to_be_on_the_host():
    from perflint.engine.devices import allocated_on_host

    answers = probe_calls(
        "import torch\n"
        "def f(x: torch.Tensor, device):\n"
        "    drawn = torch.rand([])\n"
        "    print(torch.rand(1)); print(drawn); print(torch.zeros(3, device='cpu'))\n"
        "    print(torch.zeros(3, device=device)); print(x); print(torch.tensor([1.0]))\n",
        lambda context, expr: allocated_on_host(expr, context),
    )
    assert answers == {
        "torch.rand(1)": True, "drawn": True, "torch.zeros(3, device='cpu')": True,
        "torch.zeros(3, device=device)": False, "x": False, "torch.tensor([1.0])": False,
    }


def test_a_parameter_whose_literal_default_contradicts_its_array_annotation_is_not_an_array():
    answers = probe_calls(
        "import torch\n"
        "def f(a: torch.Tensor | None = False, b: torch.Tensor | None = None, c: torch.Tensor = 0):\n"
        "    print(a); print(b); print(c)\n",
        lambda context, expr: context.arrays.kind_of(expr),
    )
    assert answers == {"a": None, "b": "torch", "c": None}
