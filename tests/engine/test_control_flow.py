"""Control flow a rule must respect: early exits, guards that only report, identity short circuits, retries, debug flags, the values that decide a loop's exit."""

from __future__ import annotations

from typing import Any

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.rule import Rule
from tests.engine.probes import probe_calls


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
    from perflint.engine.control_flow import ends_early

    assert ends_early(_first("for m in ms:\n    if m.all(): break\n", cst.If))
    assert ends_early(_first("for s in ss:\n    if not s.any():\n        n += 1\n        continue\n", cst.If))
    assert ends_early(_first("def f(x):\n    if x.isnan().any():\n        return x\n", cst.If))
    assert not ends_early(_first("for m in ms:\n    if m.all():\n        m = m * 2\n", cst.If))
    assert not ends_early(_first("for m in ms:\n    if m.all():\n        raise ValueError\n", cst.If))


def test_a_test_literals_decide_has_a_fixed_truth():
    from perflint.engine.control_flow import fixed_truth

    def truth(test: str) -> bool | None:
        return fixed_truth(cst.parse_expression(test))

    assert truth("11 < 3") is False
    assert truth("False") is False
    assert truth("0") is False
    assert truth("None") is False
    assert truth("11 < 3 and self.opts['vv']") is False
    assert truth("verbose and 0") is False
    assert truth("not 1 < 3") is False
    assert truth("1 < 3") is True
    assert truth("1") is True
    assert truth("0 <= 1 < 2") is True
    assert truth("x or 1 < 3") is True
    assert truth("1 < 3 and 2 > 1") is True
    assert truth("verbose") is None
    assert truth("x < 3") is None
    assert truth("1 < 3 and verbose") is None
    assert truth("1 < 'a'") is None
    assert truth("1 in (1, 2)") is None


def test_a_main_guard_compares_the_modules_name_with_main_either_way_round():
    from perflint.engine.control_flow import is_main_guard

    assert is_main_guard(cst.parse_expression('__name__ == "__main__"'))
    assert is_main_guard(cst.parse_expression("'__main__' == __name__"))
    assert not is_main_guard(cst.parse_expression('__name__ != "__main__"'))
    assert not is_main_guard(cst.parse_expression('name == "__main__"'))


def test_a_guard_that_only_raises_warns_or_logs_only_reports():
    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_If(self, node: cst.If) -> None:
            from perflint.engine.control_flow import only_reports

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
    from perflint.engine.control_flow import short_circuited_by_identity

    def check(test_source: str, part_index: int = -1) -> bool:
        test = cst.parse_expression(test_source)
        return short_circuited_by_identity(test, _calls_in(test)[part_index])

    assert check("a is b or torch.equal(a, b)")
    assert check("self.w is w or torch.equal(self.w, w)")
    assert check("(q is k or torch.equal(q, k)) and (k is v or torch.equal(k, v))")
    assert check("(q is k or torch.equal(q, k)) and (k is v or torch.equal(k, v))", 0)
    assert not check("(q is k or torch.equal(q, k)) and torch.equal(k, v)")
    assert not check("a is c or torch.equal(a, b)")
    assert not check("a is None or torch.equal(a, b)")
    assert not check("torch.equal(a, b) or a is b", 0)
    assert not check("a is b and torch.equal(a, b)")


def test_a_read_after_a_check_that_the_tensor_is_on_the_host_reads_host_memory():
    from perflint.engine.control_flow import checked_on_the_host_first

    def check(test_source: str) -> bool:
        test = cst.parse_expression(test_source)
        read = [
            node for node in _calls_in(test) if isinstance(node.func, cst.Attribute) and node.func.attr.value == "any"
        ]
        return checked_on_the_host_first(test, read[0])

    assert check('x.device.type == "cpu" and x.any()')
    assert check('str(x.device) == "cpu" and x.any()')
    assert check("flag and x.is_cpu and x.any()")
    assert check("(x.is_cpu and x.any()) or y")
    assert not check('x.any() and x.device.type == "cpu"')
    assert not check('y.device.type == "cpu" and x.any()')
    assert not check('x.device.type == "cuda" and x.any()')
    assert not check('x.device.type == "cpu" or x.any()')


def _calls_in(node: cst.CSTNode) -> list[cst.Call]:
    calls = [node] if isinstance(node, cst.Call) else []
    for child in node.children:
        calls.extend(_calls_in(child))
    return calls


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
        "while not done:\n    try:\n        f = load('other-flag')\n        ok = True\n    except OSError:\n        pass\n"
        "while not ok and tries < 5:\n    try:\n        f = load('bounded-flag')\n        ok = True\n    except OSError:\n"
        "        tries += 1\n"
        "while not ok or tries < 5:\n    try:\n        f = load('or-flag')\n        ok = True\n    except OSError:\n"
        "        tries += 1\n",
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
        "bounded-flag": True,
        "or-flag": False,
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
        "    if verbose > 1:\n        print(x + 8)\n"
        "    if args.verbosity >= 2:\n        print(x + 9)\n"
        "    if verbose > 0:\n        print(x + 10)\n"
        "    if validate_args:\n        print(x + 11)\n"
        "    if self.validation:\n        print(x + 12)\n"
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
        "x + 8": True,
        "x + 9": True,
        # torch distributions' argument checks; a validation pass is real work.
        "x + 11": True,
        "x + 12": False,
        "x + 10": False,
    }


def exit_deciders(source: str) -> dict[str, bool]:
    """``decides_an_exit`` at every ``read('label')`` call, keyed by its label."""
    from perflint.engine.control_flow import decides_an_exit

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


def test_a_value_that_any_if_of_the_loop_tests_decides_a_branch():
    from perflint.engine.control_flow import decides_a_branch

    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "read":
                label = node.args[0].value.evaluated_value
                answers[label] = decides_a_branch(self.context.path_to(node), self.context.innermost_loop.node)

    lint_source(
        "for x in xs:\n"
        "    epoch_loss = read('through-names') * n\n"
        "    loss_value = epoch_loss / n\n"
        "    if loss_value < min_loss:\n        min_loss = loss_value\n"
        "    if read('test') > 0:\n        x = x * 2\n"
        "    score = read('kept')\n"
        "    log(read('logged'))\n",
        "probe.py",
        [Probe],
    )
    assert answers == {"through-names": True, "test": True, "kept": False, "logged": False}


def test_in_an_assertion_message_only_for_the_message_of_an_assert():
    import libcst as cst

    from perflint.engine.control_flow import in_an_assertion_message

    module = cst.parse_module("assert ok(x), err(x)\n")
    statement = module.body[0]
    assertion = statement.body[0]
    assert in_an_assertion_message([module, statement, assertion, assertion.msg])
    assert not in_an_assertion_message([module, statement, assertion, assertion.test])


def test_a_test_that_reads_a_version_is_known():
    from perflint.engine.control_flow import tests_a_version

    for text in (
        "np_version < (1, 22, 0)",
        "np.__version__ >= '1.22'",
        "sys.version_info < (3, 9)",
        "parse(torch.__version__) >= Version('2.0')",
        "TORCH_VERSION_AT_LEAST_2 and x",
    ):
        assert tests_a_version(cst.parse_expression(text)), text
    for text in ("n < 3", "self.debug", "conversion is None", "versions_seen > 2"):
        assert not tests_a_version(cst.parse_expression(text)), text


def test_code_in_a_branch_of_a_version_test_is_under_it_and_the_test_itself_is_not():
    from perflint.engine.control_flow import under_a_version_test

    answers = probe_calls(
        """
import numpy as np
if np.__version__ < "1.22":
    print(old)
else:
    print(new)
if len(a) > 2:
    print(other)
value = print(x) if sys.version_info < (3, 9) else 0
""",
        lambda context, expr: under_a_version_test(context.path_to(expr)),
    )
    assert answers == {"old": True, "new": True, "other": False, "x": True}
