"""Loop knowledge: invariance, loop variables, training-step loops, early exits and retries, conditional code, the ranges over an array's axis, what a loop keeps."""

from __future__ import annotations

from typing import Any

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.loops import none_test
from perflint.engine.rule import Rule
from tests.engine.probes import probe_calls


def invariance(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.is_invariant(expr))


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


def training(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.training_step_loop() is not None)


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
        "a": False,
        "c": False,
        "d": False,
        "e": False,
        "f": False,
        "g": True,
        "k": False,
        "m": False,
        "i": False,
        "untouched": True,
        "untouched + 1": True,
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
        "torch.zeros(3)": True,
        "np.eye(n)": True,
        "torch.from_numpy(a)": True,
        "np.sqrt(a)": True,
        "list(a)": True,
        "len(a)": True,
        "model(b)": False,
        "b": False,
        "np.eye(i)": False,
        "torch.rand(3)": False,
        "a.clone()": True,
        "iter(a)": False,
        "np.zeros(3, out=c)": False,
    }
    identities = probe_calls(source, lambda context, expr: context.is_invariant(expr, identity=True))
    assert identities == {
        "torch.zeros(3)": False,
        "np.eye(n)": False,
        "torch.from_numpy(a)": False,
        "np.sqrt(a)": True,
        "list(a)": False,
        "len(a)": True,
        "model(b)": False,
        "b": False,
        "np.eye(i)": False,
        "torch.rand(3)": False,
        "a.clone()": False,
        "iter(a)": False,
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
        lambda context, expr: (
            None
            if context.training_step_loop() is None
            else cst.Module([]).code_for_node(context.training_step_loop().node.target)
        ),
    )
    assert answers == {"epoch": None, "batch": "batch", "later": None, "x": None}


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


def test_a_training_step_is_backward_and_an_optimizer_step_in_one_iteration():
    answers = training(
        "for batch in loader:\n    loss.backward()\n    optimizer.step()\n    print(plain)\n"
        "for batch in loader:\n    scaler.scale(loss).backward()\n    scaler.step(opt)\n    print(amp)\n"
        "for batch in loader:\n    loss.backward()\n    if (i + 1) % 4 == 0:\n        self.optim.step()\n    print(accumulated)\n"
        "for t in range(100):\n    obs, reward, done, info = env.step(action)\n    print(rollout)\n"
        "for epoch in range(3):\n    scheduler.step()\n    print(scheduler_only)\n"
        "for x in xs:\n    loss.backward()\n    print(backward_only)\n"
    )
    assert answers == {
        "plain": True,
        "amp": True,
        "accumulated": True,
        "rollout": False,
        "scheduler_only": False,
        "backward_only": False,
    }


def test_a_training_step_through_a_function_of_the_same_file_is_recognised():
    answers = training(
        "def train_step(model, batch):\n    loss = model(batch)\n    loss.backward()\n    optimizer.step()\n"
        "class Trainer:\n"
        "    def _update(self, loss):\n        self.optimizer.step()\n"
        "    def iteration(self, batch):\n        self.loss(batch).backward()\n        self._update(batch)\n"
        "    def fit(self):\n"
        "        for batch in self.loader:\n            self.iteration(batch)\n            print(method)\n"
        "for batch in loader:\n    train_step(model, batch)\n    print(function)\n"
        "for batch in loader:\n    evaluate(model, batch)\n    print(unknown_function)\n"
    )
    assert answers == {"method": True, "function": True, "unknown_function": False}


def test_in_a_training_step_no_attribute_chain_is_invariant():
    answers = probe_calls(
        "import torch\n"
        "for batch in loader:\n    print(model.cov)\n    print(cov)\n    loss.backward()\n    opt.step()\n"
        "for x in xs:\n    print(model.weight)\n",
        lambda context, expr: context.is_invariant(expr),
    )
    assert answers == {"model.cov": False, "cov": True, "model.weight": True}


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


# Control flow a rule must respect ----------------------------------------------------------


def _first(source: str, node_type: type) -> Any:
    found = []

    def visit(node: cst.CSTNode) -> None:
        if isinstance(node, node_type):
            found.append(node)
        for child in node.children:
            visit(child)

    visit(cst.parse_module(source))
    return found[0]


def test_an_if_whose_body_breaks_continues_or_returns_ends_early():
    from perflint.engine.loops import ends_early

    assert ends_early(_first("for m in ms:\n    if m.all(): break\n", cst.If))
    assert ends_early(_first("for s in ss:\n    if not s.any():\n        n += 1\n        continue\n", cst.If))
    assert ends_early(_first("def f(x):\n    if x.isnan().any():\n        return x\n", cst.If))
    assert not ends_early(_first("for m in ms:\n    if m.all():\n        m = m * 2\n", cst.If))
    assert not ends_early(_first("for m in ms:\n    if m.all():\n        raise ValueError\n", cst.If))


def test_a_guard_that_only_raises_warns_or_logs_only_reports():
    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_If(self, node: cst.If) -> None:
            from perflint.engine.loops import only_reports

            answers[cst.Module([]).code_for_node(node.test)] = only_reports(node.body, self.context.imports)

    lint_source(
        "import warnings\nfrom warnings import warn as w\nimport logging\n"
        "if a.any():\n    warnings.warn('a')\n"
        "if b.any():\n    w('b')\n"
        "if c.any():\n    logging.error('c')\n"
        "if d.any():\n    notwarnings.warn('d')\n"
        "if not x.isfinite().all():\n    raise ValueError('NaN')\n"
        "if e.any():\n    logger.warning('e')\n    raise RuntimeError\n"
        "if g.any():\n    x = x.clamp(0, 1)\n    raise RuntimeError\n"
        "if h.any():\n    print('h')\n"
        "if k.any():\n    print('k', k.sum())\n    raise RuntimeError('k')\n",
        "probe.py",
        [Probe],
    )
    assert answers == {
        "a.any()": True,
        "b.any()": True,
        "c.any()": True,
        "d.any()": False,
        "not x.isfinite().all()": True,
        "e.any()": True,
        "g.any()": False,
        "h.any()": False,
        "k.any()": True,
    }


def test_a_comparison_after_an_identity_check_of_the_same_operands_is_short_circuited():
    from perflint.engine.loops import short_circuited_by_identity

    def check(test_source: str, part_index: int = -1) -> bool:
        test = cst.parse_expression(test_source)
        calls = []

        def visit(node: cst.CSTNode) -> None:
            if isinstance(node, cst.Call):
                calls.append(node)
            for child in node.children:
                visit(child)

        visit(test)
        return short_circuited_by_identity(test, calls[part_index])

    assert check("a is b or torch.equal(a, b)")
    assert check("self.w is w or torch.equal(self.w, w)")
    assert check("(q is k or torch.equal(q, k)) and (k is v or torch.equal(k, v))")
    assert check("(q is k or torch.equal(q, k)) and (k is v or torch.equal(k, v))", 0)
    assert not check("(q is k or torch.equal(q, k)) and torch.equal(k, v)")
    assert not check("a is c or torch.equal(a, b)")
    assert not check("a is None or torch.equal(a, b)")
    assert not check("torch.equal(a, b) or a is b", 0)
    assert not check("a is b and torch.equal(a, b)")


def test_a_loop_that_ends_when_its_try_body_succeeds_is_a_retry():
    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "load":
                answers[node.args[0].value.evaluated_value] = self.context.innermost_loop.is_retry

    lint_source(
        "while not ok:\n    try:\n        f = load('flag')\n        ok = True\n    except IOError:\n        sleep(1)\n"
        "for attempt in range(3):\n    try:\n        f = load('break')\n        break\n    except OSError:\n        pass\n"
        "while True:\n    try:\n        f = load('else')\n    except OSError:\n        continue\n    else:\n        break\n"
        "for path in paths:\n    try:\n        f = load('each')\n    except OSError:\n        continue\n"
        "while not ok:\n    f = load('no-try')\n    ok = True\n"
        "while not done:\n    try:\n        f = load('other-flag')\n        ok = True\n    except OSError:\n        pass\n",
        "probe.py",
        [Probe],
    )
    assert answers == {
        "flag": True,
        "break": True,
        "else": True,
        "each": False,
        "no-try": False,
        "other-flag": False,
    }


def test_code_under_a_debug_or_profiling_flag_is_known():
    answers = probe_calls(
        "def f(self, args, x):\n"
        "    if self.debug:\n        print(x)\n"
        "    if args.profile and x:\n        print(x + 1)\n"
        "    if __debug__:\n        print(x + 2)\n"
        "    if not self.debug:\n        print(x + 3)\n"
        "    if self.debug:\n        pass\n    else:\n        print(x + 4)\n"
        "    if self.training:\n        print(x + 5)\n"
        "    if self.verbose:\n        print(x + 7)\n"
        "    print(x + 6)\n",
        lambda context, expr: context.loops.under_debug_flag(),
    )
    assert answers == {
        "x": True,
        "x + 1": True,
        "x + 2": True,
        "x + 3": False,
        "x + 4": False,
        "x + 5": False,
        "x + 6": False,
        "x + 7": False,
    }


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


def exit_deciders(source: str) -> dict[str, bool]:
    """``decides_an_exit`` at every ``read('label')`` call, keyed by its label."""
    from perflint.engine.loops import decides_an_exit

    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "read":
                label = node.args[0].value.evaluated_value
                answers[label] = decides_an_exit(self.context.path_to(node), self.context.innermost_loop.node)

    lint_source(source, "probe.py", [Probe])
    return answers


def test_a_value_read_in_an_exit_test_or_bound_to_a_name_one_reads_decides_an_exit():
    answers = exit_deciders(
        "for x in xs:\n"
        "    if abs(prev - read('if-break')) < tol:\n        break\n"
        "    current = read('bound')\n"
        "    if current > limit:\n        continue\n"
        "    logged = read('logged')\n"
        "    log(logged)\n"
        "    if read('if-body') > 0:\n        x = x * 2\n"
        "while read('while-test') > tol:\n    x = step(x)\n",
    )
    assert answers == {"if-break": True, "bound": True, "logged": False, "if-body": False, "while-test": True}


def test_a_value_that_feeds_an_early_stopping_counter_decides_an_exit():
    answers = exit_deciders(
        "for x in xs:\n"
        "    val = read('validation')\n"
        "    if val < best:\n        best = val\n        since_best = 0\n"
        "    else:\n        since_best += 1\n"
        "    shown = read('shown')\n"
        "    bar.set_postfix(loss=shown)\n"
        "    if since_best >= patience:\n        break\n",
    )
    assert answers == {"validation": True, "shown": False}


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
