"""Control flow a rule must respect.

Tests and loops whose cost is not what a per-iteration reading suggests: a branch that skips
the rest of the work, a guard that only reports a failure, a check short-circuited by
identity, a retry, code under a debugging flag, a lazy initialisation that runs once.
"""

from __future__ import annotations

import operator
import re
from typing import TYPE_CHECKING, Any, Callable

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable, dotted_name, target_names
from perflint.engine.literals import UNKNOWN, integer_value, literal_value, string_value
from perflint.engine.walker import contains, nodes_in_scope, syntax_children

if TYPE_CHECKING:
    from perflint.engine.loops import LoopNode

_EARLY_EXITS = (cst.Break, cst.Continue, cst.Return)
# Methods of a logger that report a problem (``logger.warning``, ``log.error``).
_REPORTING_METHODS = frozenset({"warn", "warning", "error", "critical", "exception", "fatal"})
# Words that, in a flag's name, say it turns on debugging or profiling (``self.debug``,
# ``args.profile``, ``cfg.sanity_checks``, torch distributions' ``validate_args``, which guards
# argument checks). Not ``verbose``: progress output is often on in the runs that matter.
_DEBUG_FLAG_WORDS = ("debug", "profil", "sanity", "anomaly", "validate_arg")
# Names of verbosity levels: a level above the first (``verbose > 1``) asks for debugging output,
# whereas ``if verbose:`` may be on in the runs that matter (a progress report).
_VERBOSITY_WORD = "verbos"
# The comparisons ``fixed_truth`` evaluates between two literals.
_LITERAL_COMPARISONS: dict[type, Callable[[Any, Any], Any]] = {
    cst.LessThan: operator.lt,
    cst.LessThanEqual: operator.le,
    cst.GreaterThan: operator.gt,
    cst.GreaterThanEqual: operator.ge,
    cst.Equal: operator.eq,
    cst.NotEqual: operator.ne,
}


# The words of an identifier: ``LooseVersion`` → ``Loose``, ``Version``; ``np_version`` → ``np``, ``version``.
_IDENTIFIER_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def ends_early(node: cst.If) -> bool:
    """The ``if``'s body ends the loop or the call early (``if mask.all(): break``, ``if not
    sel.any(): continue``, ``if done: return x``): the test decides whether to skip the rest of
    the work, which is what reading it is for."""
    body = node.body
    statements = (
        body.body
        if type(body) is cst.SimpleStatementSuite
        else (body.body[-1].body if body.body and type(body.body[-1]) is cst.SimpleStatementLine else ())
    )
    return bool(statements) and type(statements[-1]) in _EARLY_EXITS


def leaving_statement(suite: cst.BaseSuite) -> type | None:
    """``cst.Raise``, ``cst.Return`` or ``cst.Break`` when ``suite`` ends with one, else None."""
    statements = (
        suite.body
        if type(suite) is cst.SimpleStatementSuite
        else (suite.body[-1].body if suite.body and type(suite.body[-1]) is cst.SimpleStatementLine else ())
    )
    if statements and type(statements[-1]) in (cst.Raise, cst.Return, cst.Break):
        return type(statements[-1])
    return None


def fixed_truth(test: cst.BaseExpression) -> bool | None:
    """The truth ``test`` has whenever it runs, when literals alone decide it: a literal
    (``if False:``, ``if 0:``, ``if 1:``), a comparison of literals (``if 11 < 3:``, code
    switched off by hand), ``not`` of such a test, an ``and`` with an operand always false or an
    ``or`` with one always true (``if 11 < 3 and verbose:``). None when anything else decides it."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        inner = fixed_truth(test.expression)
        return None if inner is None else not inner
    if type(test) is cst.BooleanOperation:
        left, right = fixed_truth(test.left), fixed_truth(test.right)
        deciding = type(test.operator) is cst.Or
        if deciding in (left, right):
            return deciding
        return None if left is None or right is None else not deciding
    if type(test) is cst.Comparison:
        return _compared_literals(test)
    value = literal_value(test)
    return None if value is UNKNOWN else bool(value)


def is_main_guard(test: cst.BaseExpression) -> bool:
    """``__name__ == "__main__"`` (either way round): the test of a module's block that runs only
    when the file is run as a program."""
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if type(target.operator) is not cst.Equal:
        return False
    sides = (test.left, target.comparator)
    return any(type(side) is cst.Name and side.value == "__name__" for side in sides) and any(
        string_value(side) == "__main__" for side in sides
    )


def tests_a_version(test: cst.BaseExpression) -> bool:
    """``test`` reads a library's or Python's version: a name or attribute spelled with
    ``version`` (``np.__version__``, ``np_version < (1, 22, 0)``, ``sys.version_info``,
    ``parse(torch.__version__) >= Version("2.0")``, ``TORCH_VERSION_AT_LEAST_2``). The branches
    it chooses between are compatibility code: one of them runs where a feature is missing."""
    return any(
        (type(node) is cst.Name and _spells_version(node.value))
        or (type(node) is cst.Attribute and _spells_version(node.attr.value))
        for node in nodes_in_scope(test)
    )


def _spells_version(identifier: str) -> bool:
    """``version`` is one of the words of ``identifier`` (``np_version``, ``LooseVersion``,
    ``__version__``; not ``conversion``)."""
    return any(word.lower() == "version" for word in _IDENTIFIER_WORDS.findall(identifier))


def under_a_version_test(path: list[cst.CSTNode]) -> bool:
    """The node at ``path[-1]`` (``path`` runs from the module down to it) is in a branch of an
    ``if`` or conditional expression whose test reads a version (``tests_a_version``): code
    for the versions that lack what the other branch uses (POT's per-matrix ``qr`` loop for
    NumPy before 1.22, which had no stacked ``qr``)."""
    for parent, child in zip(path, path[1:]):
        if isinstance(parent, (cst.If, cst.IfExp)) and child is not parent.test and tests_a_version(parent.test):
            return True
    return False


def _compared_literals(test: cst.Comparison) -> bool | None:
    """``11 < 3``, ``0 <= 1 < 2``: a chain of comparisons of literals, evaluated."""
    left = literal_value(test.left)
    if left is UNKNOWN:
        return None
    for target in test.comparisons:
        compare = _LITERAL_COMPARISONS.get(type(target.operator))
        if compare is None:
            return None
        right = literal_value(target.comparator)
        if right is UNKNOWN:
            return None
        try:
            holds = bool(compare(left, right))
        except TypeError:  # ``1 < "a"``: the program raises there, and nothing follows
            return None
        if not holds:
            return False
        left = right
    return True


def only_reports(suite: cst.BaseSuite, imports: ImportTable) -> bool:
    """Every statement of ``suite`` raises, warns (``warnings.warn``) or logs a problem
    (``logger.warning``, ``logging.error``), or prints what went wrong before one of those: a
    guard that only reports a failure, and changes nothing when the check passes. (A branch
    that only prints is progress output, not a failure.)"""
    lines = [suite] if type(suite) is cst.SimpleStatementSuite else list(suite.body)
    statements: list[cst.BaseSmallStatement] = []
    for line in lines:
        if type(line) is not cst.SimpleStatementLine and type(line) is not cst.SimpleStatementSuite:
            return False
        statements.extend(line.body)
    reporting = [_reports(statement, imports) for statement in statements]
    return any(reporting) and all(
        reports or _prints(statement, imports) for statement, reports in zip(statements, reporting)
    )


def _prints(statement: cst.BaseSmallStatement, imports: ImportTable) -> bool:
    return (
        type(statement) is cst.Expr
        and type(statement.value) is cst.Call
        and imports.is_builtin(statement.value.func, "print")
    )


def _reports(statement: cst.BaseSmallStatement, imports: ImportTable) -> bool:
    if type(statement) is cst.Raise:
        return True
    if type(statement) is not cst.Expr or type(statement.value) is not cst.Call:
        return False
    func = statement.value.func
    qualified = imports.qualified_name(func)
    if qualified is not None:
        return qualified == "warnings.warn" or (
            qualified.startswith("logging.") and qualified.rpartition(".")[2] in _REPORTING_METHODS
        )
    if type(func) is not cst.Attribute or func.attr.value not in _REPORTING_METHODS:
        return False
    receiver = dotted_name(func.value)
    return receiver is not None and "log" in receiver.rpartition(".")[2].lower()


def short_circuited_by_identity(test: cst.BaseExpression, part: cst.CSTNode) -> bool:
    """``part`` of ``test`` runs only when an identity check before it fails: ``a is b or
    torch.equal(a, b)``, where callers that pass the same object never run the comparison."""
    if type(test) is not cst.BooleanOperation:
        return False
    if type(test.operator) is cst.And or not contains(test.right, part):
        # ``(a is b or torch.equal(a, b)) and (…)``: the ``or`` holding ``part`` decides.
        inner = test.right if contains(test.right, part) else test.left
        return short_circuited_by_identity(inner, part)
    for operand in _or_operands(test.left):
        if (
            type(operand) is cst.Comparison
            and len(operand.comparisons) == 1
            and type(operand.comparisons[0].operator) is cst.Is
        ):
            left, right = dotted_name(operand.left), dotted_name(operand.comparisons[0].comparator)
            if (
                left
                and right
                and left != "None"
                and right != "None"
                and _mentions_chain(part, left)
                and _mentions_chain(part, right)
            ):
                return True
    return False


def checked_on_the_host_first(test: cst.BaseExpression, part: cst.CSTNode) -> bool:
    """``part`` of ``test`` runs only after an ``and`` operand before it found a tensor it reads
    on the host: ``x.device.type == "cpu" and x.any()``, ``x.is_cpu and …``. There it reads host
    memory and waits for no device."""
    if type(test) is not cst.BooleanOperation:
        return False
    if type(test.operator) is cst.Or or not contains(test.right, part):
        inner = test.right if contains(test.right, part) else test.left
        return checked_on_the_host_first(inner, part)
    return any(
        tensor is not None and _mentions_chain(part, tensor) for tensor in map(_host_checked, _and_operands(test.left))
    )


def _and_operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if type(expr) is cst.BooleanOperation and type(expr.operator) is cst.And:
        return _and_operands(expr.left) + _and_operands(expr.right)
    return [expr]


def _host_checked(check: cst.BaseExpression) -> str | None:
    """``x`` of a check that holds only for a tensor on the host: ``x.device.type == "cpu"``,
    ``str(x.device) == "cpu"``, ``x.is_cpu``."""
    if type(check) is cst.Attribute and check.attr.value == catalog.HOST_FLAG:
        return dotted_name(check.value)
    if type(check) is not cst.Comparison or len(check.comparisons) != 1:
        return None
    comparison = check.comparisons[0]
    if type(comparison.operator) is not cst.Equal or string_value(comparison.comparator) != catalog.HOST_DEVICE_TYPE:
        return None
    device = check.left
    if type(device) is cst.Call and len(device.args) == 1 and dotted_name(device.func) == "str":
        device = device.args[0].value
    elif type(device) is cst.Attribute and device.attr.value == "type":
        device = device.value
    if type(device) is cst.Attribute and device.attr.value == "device":
        return dotted_name(device.value)
    return None


def _or_operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if type(expr) is cst.BooleanOperation and type(expr.operator) is cst.Or:
        return _or_operands(expr.left) + _or_operands(expr.right)
    return [expr]


def _mentions_chain(tree: cst.CSTNode, chain: str) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if (type(node) is cst.Name or type(node) is cst.Attribute) and dotted_name(node) == chain:
            return True
        stack.extend(syntax_children(node))
    return False


def tests_a_debug_flag(test: cst.BaseExpression) -> bool:
    """``test`` holds only when a debugging or profiling flag is on: ``__debug__``,
    ``self.debug``, ``args.profile``, ``cfg.debug and step > 0`` (a flag among ``and``-ed
    conditions), or a verbosity level above the first (``verbose > 1``, ``self.verbosity >= 2``;
    not ``if verbose:``). ``not self.debug`` is the flag off."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return tests_a_debug_flag(test.left) or tests_a_debug_flag(test.right)
    if type(test) is cst.Comparison:
        return _tests_a_high_verbosity(test)
    chain = dotted_name(test)
    if chain is None:
        return False
    if chain == "__debug__":
        return True
    name = chain.rpartition(".")[2].lower()
    return any(word in name for word in _DEBUG_FLAG_WORDS)


def _tests_a_high_verbosity(test: cst.Comparison) -> bool:
    """``verbose > 1`` or ``args.verbosity >= 2``: a verbosity level compared with a number that
    leaves out the first level."""
    if len(test.comparisons) != 1:
        return False
    comparison = test.comparisons[0]
    chain = dotted_name(test.left)
    if chain is None or _VERBOSITY_WORD not in chain.rpartition(".")[2].lower():
        return False
    if type(comparison.comparator) is not cst.Integer:
        return False
    level = comparison.comparator.evaluated_value
    operator = type(comparison.operator)
    return (operator is cst.GreaterThan and level >= 1) or (operator is cst.GreaterThanEqual and level >= 2)


def decides_an_exit(path: list[cst.CSTNode], loop: LoopNode) -> bool:
    """The value computed at ``path[-1]`` (``path`` runs from the module down to it, through
    ``loop``) decides whether ``loop`` ends: it is read in the test of an ``if`` in the loop
    that ends early (``if abs(prev - loss.item()) < tol: break``) or of the ``while`` loop
    itself, or assigned to a name such a test reads (``cur = loss.item()`` then ``if cur <
    best: break``). A convergence check needs the value on every iteration."""
    return _decides(path, loop, exits_only=True)


def decides_a_branch(path: list[cst.CSTNode], loop: LoopNode) -> bool:
    """The value computed at ``path[-1]`` (as for ``decides_an_exit``) decides which way any
    ``if`` in ``loop`` goes, or whether the loop ends: it is read in the test (``if
    loss.item() < best:``) or assigned to a name such a test reads, directly or through names
    computed from it (``epoch_loss = loss.item() * n`` … ``if epoch_loss / n < min_loss:
    min_loss = …``, keeping the best epoch). The host needs the value on every iteration."""
    return _decides(path, loop, exits_only=False)


def _decides(path: list[cst.CSTNode], loop: LoopNode, exits_only: bool) -> bool:
    if not any(node is loop for node in path):
        return False
    for depth in range(len(path) - 2, -1, -1):
        node, child = path[depth], path[depth + 1]
        if type(node) is cst.If and child is node.test and (ends_early(node) or not exits_only):
            return True
        if type(node) is cst.While and child is node.test and node is loop:
            return True
        if type(node) is cst.Assign or type(node) is cst.AugAssign or type(node) is cst.AnnAssign:
            targets = [target.target for target in node.targets] if isinstance(node, cst.Assign) else [node.target]
            names = {name for target in targets for name in target_names(target)}
            return bool(names) and bool(names & _names_deciding(loop, exits_only))
        if node is loop:
            return False
    return False


def in_an_assertion_message(path: list[cst.CSTNode]) -> bool:
    """The node at ``path[-1]`` (``path`` runs from the module down to it) is in the message of
    an ``assert`` (``assert ok, err.max().item()``): Python evaluates it only when the assertion
    fails, once, as it raises."""
    for depth in range(len(path) - 2, -1, -1):
        node = path[depth]
        if type(node) is cst.Assert:
            return path[depth + 1] is node.msg
        if isinstance(node, cst.BaseStatement):
            return False
    return False


def _names_deciding(loop: LoopNode, exits_only: bool) -> set[str]:
    """The names an exit test of ``loop`` reads (the ``while`` test, the test of an ``if`` in
    it that ends early; without ``exits_only``, the test of any ``if`` in it), and, to a fixed
    point, the names read to compute those: in the value of an assignment to one, or in the
    test of an ``if`` that assigns one (``if val < best: since_best = 0`` … ``if since_best >
    patience: break``)."""
    if not isinstance(loop, (cst.For, cst.While)):
        return set()
    tests: list[cst.BaseExpression] = [loop.test] if isinstance(loop, cst.While) else []
    assignments: list[tuple[set[str], cst.CSTNode]] = []  # names bound, what they are computed from
    for node in nodes_in_scope(loop.body):
        if type(node) is cst.If:
            if ends_early(node) or not exits_only:
                tests.append(node.test)
            assigned = _assigned_names([node.body, *([node.orelse] if node.orelse is not None else [])])
            if assigned:
                assignments.append((assigned, node.test))
        elif (
            type(node) is cst.Assign or type(node) is cst.AugAssign or type(node) is cst.AnnAssign
        ) and node.value is not None:
            targets = [target.target for target in node.targets] if isinstance(node, cst.Assign) else [node.target]
            assignments.append(({name for target in targets for name in target_names(target)}, node.value))
    deciding = {name for test in tests for name in _names_read(test)}
    grew = True
    while grew:
        grew = False
        for bound, source in assignments:
            if bound & deciding:
                read = _names_read(source) - deciding
                if read:
                    deciding |= read
                    grew = True
    return deciding


def _assigned_names(blocks: list[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    for node in nodes_in_scope(*blocks):
        if type(node) is cst.Assign:
            for target in node.targets:
                names.update(target_names(target.target))
        elif type(node) is cst.AugAssign or type(node) is cst.AnnAssign:
            names.update(target_names(node.target))
    return names


def _names_read(expr: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Name:
            names.add(node.value)
        elif type(node) is cst.Attribute:
            stack.append(node.value)
        elif type(node) is cst.Arg:
            stack.append(node.value)
        else:
            stack.extend(syntax_children(node))
    return names


def retries(loop: cst.For | cst.While) -> bool:
    """``loop`` retries one piece of work until it succeeds: its body holds a ``try`` with a
    handler, and the loop ends when the ``try`` body gets through (a ``break`` or a ``return``
    there, or ``while not ok:``, or ``while not ok and attempts < limit:``, with ``ok = True``
    there). See ``LoopFrame.is_retry``."""
    body = loop.body.body if type(loop.body) is cst.IndentedBlock else ()
    flag = _loop_until_flag(loop.test) if isinstance(loop, cst.While) else None
    for statement in body:
        if type(statement) is not cst.Try or not statement.handlers:
            continue
        succeeded = [statement.body, *([statement.orelse] if statement.orelse is not None else [])]
        if any(has_own_exit(part) for part in succeeded):
            return True
        if flag is not None and any(_sets_true(part, flag) for part in succeeded):
            return True
    return False


def _loop_until_flag(test: cst.BaseExpression) -> str | None:
    """``ok`` of ``while not ok:``, also of ``while not ok and attempts < limit:`` (a loop that
    stops as soon as one of its ``and``-ed conditions fails stops when ``ok`` is set)."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return dotted_name(test.expression)
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return _loop_until_flag(test.left) or _loop_until_flag(test.right)
    return None


def _sets_true(block: cst.CSTNode, chain: str) -> bool:
    stack = [block]
    while stack:
        node = stack.pop()
        if (
            type(node) is cst.Assign
            and type(node.value) is cst.Name
            and node.value.value == "True"
            and any(dotted_name(target.target) == chain for target in node.targets)
        ):
            return True
        stack.extend(syntax_children(node))
    return False


def has_own_exit(body: cst.CSTNode) -> bool:
    """``body`` (a loop's) holds a ``return``, or a ``break`` not inside a nested loop."""
    stack: list[tuple[cst.CSTNode, bool]] = [(body, False)]
    while stack:
        node, in_nested_loop = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not in_nested_loop):
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        nested = in_nested_loop or isinstance(node, (cst.For, cst.While))
        stack.extend((child, nested) for child in syntax_children(node))
    return False


def _initialised_chain(test: cst.BaseExpression) -> str | None:
    """``x`` for a test that holds while ``x`` is not set yet: ``x is None``, ``not x``,
    ``len(x) == 0``, ``key not in x`` (or ``not key in x``), ``not hasattr(x, "y")`` (then ``x.y``)."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        inner = test.expression
        if (
            type(inner) is cst.Call
            and type(inner.func) is cst.Name
            and inner.func.value == "hasattr"
            and len(inner.args) == 2
        ):
            owner = dotted_name(inner.args[0].value)
            attribute = string_value(inner.args[1].value)
            return f"{owner}.{attribute}" if owner and isinstance(attribute, str) else None
        if (
            type(inner) is cst.Comparison
            and len(inner.comparisons) == 1
            and type(inner.comparisons[0].operator) is cst.In
        ):
            # ``not key in x``, as ``key not in x``.
            return dotted_name(inner.comparisons[0].comparator)
        return dotted_name(inner)
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    operator, right = type(test.comparisons[0].operator), test.comparisons[0].comparator
    left = test.left
    if operator is cst.Is and type(right) is cst.Name and right.value == "None":
        return dotted_name(left)
    if operator is cst.NotIn:
        return dotted_name(right)
    if (
        operator is cst.Equal
        and integer_value(right) == 0
        and type(left) is cst.Call
        and type(left.func) is cst.Name
        and left.func.value == "len"
        and len(left.args) == 1
    ):
        return dotted_name(left.args[0].value)
    return None


def is_lazy_initialisation(node: cst.If) -> bool:
    """``if <x is not set yet>:`` whose body sets ``x`` (assigns it, an item or an attribute of
    it): the body runs the first time only."""
    chain = _initialised_chain(node.test)
    if chain is None:
        return False
    body = node.body.body
    lines = (
        body
        if type(node.body) is cst.SimpleStatementSuite
        else [statement for line in body if type(line) is cst.SimpleStatementLine for statement in line.body]
    )
    for statement in lines:
        targets: list[cst.BaseExpression] = []
        if type(statement) is cst.Assign:
            targets = [target.target for target in statement.targets]
        elif type(statement) is cst.AnnAssign:
            targets = [statement.target]
        for target in targets:
            if type(target) is cst.Subscript:
                target = target.value
            assigned = dotted_name(target)
            if assigned is not None and (assigned == chain or assigned.startswith(chain + ".")):
                return True
    return False
