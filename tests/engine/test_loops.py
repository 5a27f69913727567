"""Loop knowledge: loop variables and elements, early exits and retry points, conditional code, the ranges over an array's axis, what a loop keeps, accumulators, code captured or leaving the loop."""

from __future__ import annotations

from typing import Any

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.loops import none_test
from perflint.engine.rule import Rule
from tests.engine.probes import probe_calls


def extents(source: str) -> dict[str, str | None]:
    """What the engine says each ``for`` loop's iterable ranges over, keyed by its text."""
    answers: dict[str, str | None] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_For(self, node: cst.For) -> None:
            array = self.context.arrays.indexed_range_array(node.iter)
            code = cst.Module([]).code_for_node
            answers[code(node.iter)] = None if array is None else code(array)

    lint_source(source, "probe.py", [Probe])
    return answers


def kinds(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.arrays.kind_of(expr))


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
        "always": True,
        "first_only": False,
        "else_branch": False,
        "invariant_condition": True,
        "inner_loop_body": True,
        "conditional_value": False,
        "on_error": False,
        "outside_any_loop": True,
    }


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


def test_a_loop_or_a_try_may_not_run_its_body_to_the_end():
    answers = kinds(
        "import numpy as np\n"
        "a = [0.0]\n"
        "for x in xs:\n    a = np.zeros(2)\n"
        "print(a)\n"
        "b = np.zeros(2)\n"
        "while b.any():\n    b = b.tolist()\n"
        "print(b)\n"
        "try:\n    c = np.load(path)\nexcept OSError:\n    c = None\n"
        "print(c)\n"
        "try:\n    d = np.load(path)\nexcept OSError:\n    raise\n"
        "print(d)\n"
    )
    assert answers == {"a": None, "b": None, "c": None, "d": None}


def test_a_loop_with_its_own_break_or_a_return_exits_early():
    source = (
        "for a in xs:\n    print(a)\n    if a:\n        break\n"
        "for b in xs:\n    print(b)\n    for c in ys:\n        break\n"
        "def f():\n    while True:\n        print(d)\n        if d:\n            return d\n"
        "for e in xs:\n    print(e)\n    def g():\n        return 1\n"
        "ys = [print(h) for h in xs]\n"
    )
    answers = probe_calls(source, lambda context, expr: context.innermost_loop.exits_early)
    assert answers == {"a": True, "b": False, "d": True, "e": False, "h": False}


def test_a_try_body_inside_the_loop_is_a_retry_point_but_one_around_the_loop_is_not():
    source = (
        "for a in xs:\n    try:\n        print(a)\n    except OSError:\n        print(b)\n"
        "try:\n    for c in xs:\n        print(c)\nexcept OSError:\n    pass\n"
    )
    answers = probe_calls(source, lambda context, expr: context.loops.in_try_body())
    assert answers == {"a": True, "b": False, "c": False}


def test_a_loop_rebinds_its_targets_the_names_it_assigns_and_the_attribute_chains_it_assigns():
    source = (
        "for x in xs:\n"
        "    lr_model = Ridge(alpha=1.0)\n"
        "    lr_model.fit(X, y)\n"
        "    self.head = Head()\n"
        "    model.predict(x)\n"
        "    print(x); print(lr_model); print(self.head.linear); print(model); print(self.model)\n"
    )
    answers = probe_calls(
        source, lambda context, expr: context.innermost_loop.rebinds(cst.Module([]).code_for_node(expr))
    )
    # ``model`` is called, which may change it, but it stays one object through the loop.
    assert answers == {"x": True, "lr_model": True, "self.head.linear": True, "model": False, "self.model": False}


def test_a_loop_keeps_a_value_it_stores_returns_passes_on_or_changes():
    source = (
        "import numpy as np\n"
        "for i in xs:\n"
        "    print(read)\n"
        "    total = read.sum() + read[0]\n"
        "    print(appended)\n"
        "    out.append(appended)\n"
        "    print(yielded)\n"
        "    yield yielded\n"
        "    print(in_tuple)\n"
        "    pair = (in_tuple, 1)\n"
        "    print(aliased)\n"
        "    other = aliased\n"
        "    print(stored)\n"
        "    self.best = stored\n"
        "    print(changed)\n"
        "    changed[i] += 1\n"
        "    print(passed)\n"
        "    fit(passed)\n"
        "    print(closed_over)\n"
        "    callbacks.append(lambda: closed_over)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.innermost_loop.keeps(expr.value))
    assert answers == {
        "read": False,
        "appended": True,
        "yielded": True,
        "in_tuple": True,
        "aliased": True,
        "stored": True,
        "changed": True,
        "passed": True,
        "closed_over": True,
    }


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
        "x": "a",
        "v": "t",
        "i": None,
        "t[i]": "t",
        "a[k, j]": "a",
        "a[k, 0]": None,
        "items[k]": None,
        "y": "t",
        "z": None,
        "a[0]": None,
    }


def test_each_target_of_a_zip_is_an_element_of_its_own_iterable():
    answers = element_sources(
        "import torch\n"
        "def f(boxes: torch.Tensor, scores: torch.Tensor, names):\n"
        "    for b, s, n in zip(boxes, scores, names):\n"
        "        print(b); print(s); print(n)\n"
        "    pairs = [print(q) for q, m in zip(scores, names)]\n"
        "    for u, w in zip(boxes):\n"
        "        print(u)\n"
    )
    assert answers == {"b": "boxes", "s": "scores", "n": None, "q": "scores", "u": None}


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


def test_none_tests_are_recognised_by_their_operator():
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


def test_code_captured_as_a_cuda_graph_is_compiled_code():
    answers = probe_calls(
        "import torch\n"
        "def step(x):\n    print(x)\n"
        "def graphed(x):\n    print(x + 1)\n"
        "def plain(x):\n    print(x + 2)\n"
        "fast = torch.cuda.make_graphed_callables(graphed, (sample,))\n"
        "g = torch.cuda.CUDAGraph()\n"
        "with torch.cuda.graph(g):\n    out = step(static)\n    print(out)\n"
        "print(out + 3)\n",
        lambda context, expr: context.in_compiled_code(),
    )
    assert answers == {"x": True, "x + 1": True, "x + 2": False, "out": True, "out + 3": False}


def test_a_branch_only_torchscript_runs_is_compiled_code():
    answers = probe_calls(
        "import torch\n"
        "def forward(x):\n"
        "    if torch.jit.is_scripting():\n        print(scripted)\n    else:\n        print(eager)\n"
        "    if not torch.jit.is_scripting():\n        print(not_scripted)\n"
        "    if x.dim() == 2 and torch.compiler.is_compiling():\n        print(compiling)\n"
        "    print(after)\n",
        lambda context, expr: context.in_compiled_code(),
    )
    assert answers == {"scripted": True, "eager": False, "not_scripted": False, "compiling": True, "after": False}


def test_code_in_a_branch_that_raises_returns_or_breaks_leaves_the_loop():
    answers = probe_calls(
        "def f(xs, ys):\n"
        "    for x in xs:\n"
        "        if bad(x):\n            print(x)\n            raise ValueError\n"
        "        if done(x):\n            print(x + 1)\n            break\n"
        "        for y in ys:\n"
        "            if y:\n                print(x + 2)\n                break\n"
        "        if odd(x):\n            print(x + 3)\n",
        lambda context, expr: context.loops.leaves_the_loop(context.loops.enclosing()[-1]),
    )
    assert answers == {"x": True, "x + 1": True, "x + 2": False, "x + 3": False}


def test_the_other_branch_of_a_floating_point_test_sees_integer_tensors():
    answers = probe_calls(
        "import torch\n"
        "def update(ema, model, decay):\n"
        "    if torch.is_floating_point(ema[0]) or torch.is_complex(ema[0]):\n"
        "        print(ema)\n"
        "    else:\n"
        "        print(model)\n"
        "    if not ema[0].is_floating_point():\n"
        "        print(ema + 1)\n"
        "    if ema[0].dtype.is_floating_point:\n"
        "        print(ema + 2)\n"
        "    else:\n"
        "        print(ema + 3)\n"
        "    if torch.is_floating_point(ema[0]) or decay > 0:\n"
        "        print(ema + 4)\n"
        "    else:\n"
        "        print(ema + 5)\n"
        "    print(decay)\n",
        lambda context, expr: context.loops.in_non_floating_branch(),
    )
    assert answers == {
        "ema": False,
        "model": True,
        "ema + 1": True,
        "ema + 2": False,
        "ema + 3": True,
        "ema + 4": False,
        "ema + 5": False,
        "decay": False,
    }
