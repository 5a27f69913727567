"""Loop knowledge the vectorisation rules share: which expression is one element of a known
array per iteration, and which name a loop only carries from one iteration to the next."""

from __future__ import annotations

from typing import Any

import libcst as cst
from probes import probe_calls

from perflint.engine import lint_source
from perflint.engine.loops import none_test, reads_name
from perflint.engine.rule import Rule


def kinds(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.arrays.kind_of(expr))


def element_sources(source: str) -> dict[str, Any]:
    def source_of(context, expr):
        array = context.loops.element_of(expr)
        return None if array is None else cst.Module([]).code_for_node(array)

    return probe_calls(source, source_of)


def test_loop_targets_over_known_arrays_and_indexed_elements_are_elements():
    answers = element_sources(
        "import numpy as np\nimport torch\n"
        "def f(a: np.ndarray, t: torch.Tensor, items):\n"
        "    for x in a:\n"
        "        print(x)\n"
        "    for i, v in enumerate(t):\n"
        "        print(v); print(i); print(t[i])\n"
        "    for k in range(3):\n"
        "        for j in range(3):\n"
        "            print(a[k, j]); print(a[k, 0]); print(items[k])\n"
        "    ys = [print(y) for y in t]\n"
        "    for z in items:\n"
        "        print(z)\n"
        "    print(a[0])\n"
    )
    assert answers == {
        "x": "a", "v": "t", "i": None, "t[i]": "t", "a[k, j]": "a", "a[k, 0]": None,
        "items[k]": None, "y": "t", "z": None, "a[0]": None,
    }


def test_a_target_rebound_in_the_loop_is_no_longer_an_element():
    answers = element_sources(
        "import numpy as np\n"
        "def f(a: np.ndarray):\n"
        "    for x in a:\n"
        "        x = x * 2\n"
        "        print(x)\n"
        "    for i in range(4):\n"
        "        i += 1\n"
        "        print(a[i])\n"
    )
    assert answers == {"x": None, "a[i]": None}


def accumulators(source: str, name: str) -> list[bool]:
    """For each ``for``/``while`` loop: is ``name`` an accumulator grown by ``name = grow(name, …)``?"""
    answers: list[bool] = []

    def grows(statement: cst.Assign) -> bool:
        value = statement.value
        if type(value) is cst.IfExp:
            value = value.orelse
        return (
            len(statement.targets) == 1
            and type(statement.targets[0].target) is cst.Name
            and statement.targets[0].target.value == name
            and type(value) is cst.Call
            and type(value.func) is cst.Name
            and value.func.value == "grow"
        )

    class Probe(Rule):
        code = "PFL999"
        name = "accumulators"

        # Rules leave a loop's body before the engine does: the loop is still the innermost.
        def leave_For_body(self, node: cst.For) -> None:
            answers.append(self.context.innermost_loop.accumulates(name, grows))

        def leave_While_body(self, node: cst.While) -> None:
            answers.append(self.context.innermost_loop.accumulates(name, grows))
    assert lint_source(source, "probe.py", [Probe]) == []
    return answers


def test_a_name_only_grown_or_first_set_under_its_own_none_test_is_an_accumulator():
    source = (
        "X = None\n"
        "for e in es:\n"
        "    X = grow(X, e)\n"
        "for e in es:\n"
        "    if X is None:\n"
        "        X = e\n"
        "    else:\n"
        "        X = grow(X, e)\n"
        "for e in es:\n"
        "    X = e if X is None else grow(X, e)\n"
        "while running():\n"
        "    X = grow(X, step())\n"
    )
    assert accumulators(source, "X") == [True, True, True, True]


def test_a_name_read_elsewhere_or_rebound_otherwise_is_not_an_accumulator():
    source = (
        "for block in blocks:\n"
        "    x = grow(x, cls)\n"
        "    x = block(x)\n"
        "for step in steps:\n"
        "    logits = model(ids)\n"
        "    ids = grow(ids, logits)\n"
        "for e in es:\n"
        "    ids = e\n"
        "    ids = grow(ids, e)\n"
        "for ids in es:\n"
        "    ids = grow(ids, e)\n"
        "while len(ids) < 10:\n"
        "    ids = grow(ids, e)\n"
        "for e in es:\n"
        "    if e is None:\n"
        "        ids = e\n"
        "    ids = grow(ids, e)\n"
        "for e in es:\n"
        "    print(e)\n"
    )
    names = ["x", "ids", "ids", "ids", "ids", "ids", "ids"]
    results = [accumulators(source, name)[index] for index, name in enumerate(names)]
    assert results == [False, False, False, False, False, False, False]


def test_attribute_names_and_keywords_spelled_like_the_name_are_not_reads():
    assert not reads_name(cst.parse_expression("f(self.X, X=1)"), "X")
    assert reads_name(cst.parse_expression("f(self.y[X])"), "X")
    assert none_test(cst.parse_expression("X is None"), "X") is True
    assert none_test(cst.parse_expression("X is not None"), "X") is False
    assert none_test(cst.parse_expression("X == None"), "X") is None


def test_comparisons_of_arrays_are_arrays_and_imported_packages_are_known():
    answers = kinds("import numpy as np\na = np.zeros(3)\nprint(a > 0); print(0 < a < 1); print(a is None)\n")
    assert answers == {"a > 0": "numpy", "0 < a < 1": None, "a is None": None}
    seen = probe_calls(
        "import os\ndef f():\n    from pandas import read_csv\nprint(1)\n",
        lambda context, expr: (context.imports.has_imported("pandas"), context.imports.has_imported("numpy")),
    )
    assert seen == {"1": (True, False)}


def test_with_own_indices_an_element_counts_only_in_a_loop_over_its_arrays_indices():
    source = (
        "import numpy as np\n"
        "def f(a: np.ndarray, images: np.ndarray):\n"
        "    for i in range(len(a)):\n"
        "        print(a[i])\n"
        "    for b in range(images.shape[0]):\n"
        "        print(a[b])\n"
        "    ys = [print(a[k]) for k in range(a.shape[0])]\n"
    )
    own = probe_calls(source, lambda context, expr: context.loops.element_of(expr, own_indices=True) is not None)
    anywhere = probe_calls(source, lambda context, expr: context.loops.element_of(expr) is not None)
    assert own == {"a[i]": True, "a[b]": False, "a[k]": True}
    assert anywhere == {"a[i]": True, "a[b]": True, "a[k]": True}
