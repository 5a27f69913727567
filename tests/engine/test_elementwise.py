"""One element-wise checker: the structure is the engine's, the leaves each rule's."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine import catalog
from perflint.engine.elementwise import is_boolean_mask, is_elementwise
from tests.engine.probes import probe_calls


def _names_are_leaves(node: cst.BaseExpression):
    return True if type(node) is cst.Name else None


def _answers(expressions: list[str], libraries=catalog.NUMPY + "," + catalog.TORCH) -> dict:
    source = "import numpy as np\nimport torch\n" + "".join(f"print({text})\n" for text in expressions)
    allowed = tuple(libraries.split(",")) if libraries else ()
    return probe_calls(source, lambda context, expr: is_elementwise(expr, _names_are_leaves, context, allowed))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x * 2 + 1j", True),
        ("-x ** 0.5", True),
        ("x > y", True),  # a single comparison
        ("0 < x < 1", False),  # a chain calls bool() on an array
        ("x and y", False),
        ("x @ y", False),  # a matrix product mixes elements
        ("np.sqrt(x) + torch.exp(y)", True),
        ("abs(x)", True),
        ("np.where(x > 0, x, 0)", True),
        ("np.where(x > 0)", False),  # indices, not a choice
        ("np.add(x, 1, out=y)", False),  # writes elsewhere
        ("np.sqrt(*xs)", False),
        ("np.sum(x)", False),  # a reduction
        ("len(x)", False),
        ("x.attr", False),  # leaves the rule does not accept
    ],
)
def test_the_structure_of_an_elementwise_expression(text, expected):
    assert _answers([text]) == {text: expected}


def test_calls_are_taken_only_from_the_libraries_given():
    assert _answers(["np.sqrt(x)", "torch.exp(x)", "abs(x)"], libraries=catalog.NUMPY) == {
        "np.sqrt(x)": True,
        "torch.exp(x)": False,
        "abs(x)": True,
    }
    assert _answers(["np.sqrt(x)", "x + 1"], libraries="") == {"np.sqrt(x)": False, "x + 1": True}


def test_the_rule_is_asked_first_about_every_node():
    asked = []

    def leaf(node):
        asked.append(type(node).__name__)
        return False if type(node) is cst.Comparison else (True if type(node) is cst.Name else None)

    answers = probe_calls("print(x + (y > 1))\n", lambda context, expr: is_elementwise(expr, leaf, context))
    assert answers == {"x + (y > 1)": False}
    assert asked == ["BinaryOperation", "Name", "Comparison"]


def test_a_boolean_mask_is_a_comparison_an_elementwise_test_or_a_combination_of_them():
    answers = probe_calls(
        "import numpy as np\n"
        "import torch\n"
        "def f(x, y):\n"
        "    valid = ~np.isnan(x)\n"
        "    print(valid); print(y == 1); print(torch.isfinite(y) & (y > 0)); print(np.logical_and(x, y))\n"
        "    print(~x); print(x + 1); print(y is None); print(np.sum(x))\n",
        lambda context, expr: is_boolean_mask(expr, context),
    )
    assert answers == {
        "valid": True,
        "y == 1": True,
        "torch.isfinite(y) & (y > 0)": True,
        "np.logical_and(x, y)": True,
        "~x": False,
        "x + 1": False,
        "y is None": False,
        "np.sum(x)": False,
    }
