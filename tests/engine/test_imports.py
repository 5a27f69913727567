"""What a name resolves to through the file's imports: every import form, shadowing, scopes, canonical paths."""

from __future__ import annotations

from typing import Any

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.project import ProjectView
from perflint.engine.rule import Rule
from tests.engine.probes import probe_calls


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
        "import numpy as np\nprint(inv)\ndef f(np):\n    print(np.zeros)\nfrom . import torch\nprint(torch.zeros)\n"
    )
    assert answers == {"inv": None, "np.zeros": None, "torch.zeros": None}


def test_a_builtin_imported_from_builtins_is_the_builtin_still():
    answers = probe_calls(
        "from builtins import range, len as size\nfrom numba import prange as max\nprint(range); print(size); print(max)\n",
        lambda context, expr: context.imports.is_builtin(expr, expr.value),
    )
    # ``size`` is ``len`` under another name, not the builtin ``size`` (there is none).
    assert answers == {"range": True, "size": False, "max": False}


def test_imports_inside_a_function_stay_in_it():
    answers = qualified("def f():\n    import torch as T\n    print(T.zeros)\nprint(T.ones)\n")
    assert answers == {"T.zeros": "torch.zeros", "T.ones": None}


def test_a_parameter_named_after_a_catalogued_package_holds_that_package_in_its_function():
    answers = qualified(
        "def f(self, torch, batches):\n    print(torch.no_grad)\n"
        "def g(torch=False, numpy: bool = True):\n    print(torch.zeros); print(numpy.zeros)\n"
        "print(torch.ones)\n"
    )
    # ``torch=False`` and ``numpy: bool`` are switches, not modules; outside ``f`` no import binds it.
    assert answers == {"torch.no_grad": "torch.no_grad", "torch.zeros": None, "numpy.zeros": None, "torch.ones": None}


def test_private_module_paths_are_canonicalised():
    answers = qualified("from torch.utils.data.dataloader import DataLoader\nprint(DataLoader)\n")
    assert answers == {"DataLoader": "torch.utils.data.DataLoader"}


def star_probe(source: str, star_names: dict[str, dict[str, str]]) -> dict[str, Any]:
    """At each ``print(x)``: whether ``x`` is the bare builtin of its name, and what it resolves to."""
    view = ProjectView("pkg", {}, {}, {}, star_names=star_names)
    answers: dict[str, Any] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "print"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                expr = node.args[0].value
                label = cst.Module([]).code_for_node(expr)
                name = expr.value if isinstance(expr, cst.Name) else ""
                answers[label] = (
                    self.context.imports.is_builtin(expr, name),
                    self.context.imports.qualified_name(expr),
                )

    assert lint_source(source, "pkg/__init__.py", [Probe], project=view) == []
    return answers


def test_a_star_import_of_a_project_module_binds_only_its_names_and_the_rest_keep_their_meaning():
    source = "import jax.numpy as np\nprint(np.sum)\nfrom .ops import *\nprint(range)\nprint(scale)\nprint(np.sum)\n"
    ops = {"np": "numpy", "scale": "", "max": ""}
    answers = star_probe(source + "print(max)\n", {".ops": ops})
    assert answers == {
        "np.sum": (False, "numpy.sum"),
        "range": (True, None),
        "scale": (False, None),
        "max": (False, None),
    }
    assert star_probe(source, {}) == {
        "np.sum": (False, "jax.numpy.sum"),
        "range": (False, None),
        "scale": (False, None),
    }


def test_an_optional_imports_fallback_does_not_rebind_the_imported_name():
    answers = qualified(
        "try:\n    from numba import njit\n    import torch\nexcept ImportError:\n"
        "    def njit(f):\n        return f\n    torch = None\n"
        "print(njit); print(torch.zeros)\n"
    )
    assert answers == {"njit": "numba.njit", "torch.zeros": "torch.zeros"}


def test_a_handler_of_other_errors_rebinds_the_imported_name():
    answers = qualified(
        "try:\n    from numba import njit\nexcept Exception:\n    def njit(f):\n        return f\nprint(njit)\n"
    )
    assert answers == {"njit": None}


def test_a_module_level_import_counts_wherever_it_stands_and_one_in_a_function_does_not():
    def imports_pytest(source: str) -> set[bool]:
        return set(
            probe_calls(
                source, lambda context, expr: context.imports.imports_at_module_level({"pytest", "hypothesis"})
            ).values()
        )

    assert imports_pytest("print(x)\nimport pytest\n") == {True}
    assert imports_pytest("from hypothesis.strategies import floats\nprint(x)\n") == {True}
    assert imports_pytest("def f():\n    import pytest\nprint(x)\n") == {False}
    assert imports_pytest("from . import pytest\nprint(x)\n") == {False}
    assert imports_pytest("import pytest_benchmark\nprint(x)\n") == {False}
