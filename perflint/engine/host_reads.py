"""Reading one tensor's value on the host, and collecting such values across a loop.

``loss.item()`` and ``float(loss)`` copy one number from wherever the tensor lives and, on an
accelerator, wait for every kernel queued before it. Two rules care: PFL203 (any read in a
training step) and PFL215 (a read added to a running total or appended to a list on every
iteration of a hot loop). The accumulation is PFL215's: ``accumulation_of`` says whether a
read is one, and PFL203 leaves those to it, so one statement is never reported twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.control_flow import decides_an_exit, only_reports, tests_a_debug_flag
from perflint.engine.devices import on_host
from perflint.engine.effects import summarise
from perflint.engine.elementwise import is_boolean_mask
from perflint.engine.imports import dotted_name
from perflint.engine.literals import keyword_argument, literal_value
from perflint.engine.loops import uses_modulo
from perflint.engine.values import value_of
from perflint.engine.walker import nodes_in_scope, root_name, syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext
    from perflint.engine.loops import LoopFrame

# Builtins that read a one-element tensor's value on the host.
READING_BUILTINS = ("float", "int", "bool")
# Methods that give the same values in another place or graph: the value a read reads is the
# tensor before them (``loss`` of ``loss.detach().cpu().item()``), and any other stays
# (``x.std()`` of ``x.std().item()``).
_VALUE_PRESERVING_METHODS = frozenset({"detach", "cpu", "cuda", "clone", "contiguous"})
# Methods that may move a tensor to another device (``devices.device_move`` reads them).
_MOVE_METHODS = frozenset({"to", "cuda", "type", "type_as"})
# Tensor methods whose result's truth is the whole tensor's: ``(t >= 0).all()``.
_TRUTH_REDUCTIONS = frozenset({"any", "all"})
# Comparisons whose result is a Python bool whatever the operands: ``t is None``, ``k in d``.
_IDENTITY_OPERATORS = (cst.Is, cst.IsNot, cst.In, cst.NotIn)
# How many of the file's own functions ``function_waits_for_device`` reads through calls, at most.
_CALLEES_FOLLOWED = 8
# Operators that scale a value added to a total (``total += loss.item() * x.size(0)``).
_SCALING_OPERATORS = (cst.Multiply, cst.Divide)


def read_tensor(receiver: cst.BaseExpression) -> cst.BaseExpression:
    """The tensor whose value a read of ``receiver`` gives, as a fix keeps it on the device:
    ``loss`` for ``loss.detach().cpu()``; a reduction stays (``x.std()`` of ``x.std().item()``)."""
    while (
        type(receiver) is cst.Call
        and type(receiver.func) is cst.Attribute
        and not receiver.args
        and receiver.func.attr.value in _VALUE_PRESERVING_METHODS
    ):
        receiver = receiver.func.value
    return receiver


def scalar_read(call: cst.Call, context: FileContext) -> cst.BaseExpression | None:
    """What ``call`` reads one number of on the host: ``t`` of ``t.item()``, ``float(t)`` or
    ``int(t)`` (builtins not shadowed), as written; None for any other call. Whether ``t`` is a
    tensor, and where it lives, is the caller's question."""
    func = call.func
    if type(func) is cst.Attribute:
        if func.attr.value == "item" and not call.args:
            return func.value
        return None
    if (
        type(func) is cst.Name
        and func.value in ("float", "int")
        and len(call.args) == 1
        and call.args[0].keyword is None
        and not call.args[0].star
        and context.imports.is_builtin(func, func.value)
    ):
        return call.args[0].value
    return None


@dataclass(frozen=True)
class Accumulation:
    """A statement collecting one value read on the host per run: ``total += loss.item()``
    (``appends`` False) or ``losses.append(loss.item())`` (``appends`` True)."""

    statement: cst.AugAssign | cst.Expr
    accumulator: cst.BaseExpression  # ``total``, ``self.losses``
    read: cst.Call
    appends: bool


def accumulation_of(path: list[cst.CSTNode], context: FileContext) -> Accumulation | None:
    """The accumulation whose value is the read at ``path[-1]`` (``path`` runs from the module
    down to it; the read is a ``scalar_read``): the read is the value of ``acc += …``
    (possibly scaled, ``loss.item() * n``) or the one argument of ``acc.append(…)`` standing
    as a statement. None otherwise."""
    read = path[-1]
    if type(read) is not cst.Call or len(path) < 3 or scalar_read(read, context) is None:
        return None
    depth = len(path) - 2
    value: cst.CSTNode = read
    parent = path[depth]
    if type(parent) is cst.BinaryOperation and isinstance(parent.operator, _SCALING_OPERATORS):
        value, depth = parent, depth - 1
        parent = path[depth]
    if type(parent) is cst.AugAssign and parent.value is value and type(parent.operator) is cst.AddAssign:
        return Accumulation(parent, parent.target, read, appends=False)
    if value is not read or type(parent) is not cst.Arg or depth < 2:
        return None
    call, statement = path[depth - 1], path[depth - 2]
    if (
        type(call) is cst.Call
        and type(call.func) is cst.Attribute
        and call.func.attr.value == "append"
        and len(call.args) == 1
        and type(statement) is cst.Expr
        and statement.value is call
    ):
        return Accumulation(statement, call.func.value, read, appends=True)
    return None


def collects_in_one_place(accumulation: Accumulation, frame: LoopFrame, context: FileContext) -> bool:
    """``accumulation`` adds to (or appends to) the same total or list on every iteration of
    ``frame``: no index in its accumulator changes with the loop. ``self.grad_dict[name]`` in
    a loop over ``name`` collects into a different list each time, so no single read after the
    loop gathers what it collected."""
    target: cst.BaseExpression = accumulation.accumulator
    while type(target) is cst.Attribute or type(target) is cst.Subscript:
        if type(target) is cst.Subscript:
            for element in target.slice:
                index = element.slice
                if type(index) is not cst.Index or not context.is_invariant(index.value, frame):
                    return False
        target = target.value
    return True


def reads_on_every_iteration(
    loop: cst.For | cst.While, accumulation: Accumulation, context: FileContext, around: bool = False
) -> bool:
    """Besides its accumulations, ``loop`` needs a value on the host on every iteration, so
    keeping ``accumulation`` on the device would save no wait: its body reads a tensor's values
    through a method that synchronises (``.cpu()``, ``.tolist()``, an ``.item()`` that is no
    accumulation), tests a tensor's truth (``if torch.isclose(u, last): break``) or indexes with a
    boolean mask (``x[y == i]``, whose size the host waits for), or reads the accumulator itself
    (a progress bar showing the running total).
    With ``around`` (``loop`` is a loop around the accumulation's own), only its own syncs count:
    not the accumulator, nor what its other nested loops do once per their iterations. Code
    under an ``if`` whose test uses ``%`` (periodic logging) or a debugging flag, and nested
    functions, do not count."""
    target = None if around else dotted_name(accumulation.accumulator)
    return _waits_on_every_iteration(
        loop, accumulation.statement, context, accumulator=target, around=around, needed_only=False
    )


def keeps_waiting_on_every_iteration(loop: cst.For | cst.While, besides: cst.CSTNode, context: FileContext) -> bool:
    """``loop`` waits for the device on every iteration at a read it needs there, besides the
    read at ``besides`` (the one a rule reports), so moving that one off the iteration saves no
    wait: a tensor's truth tested by an ``if``, ``while`` or ``assert`` (a convergence check,
    ``if torch.isclose(u, last_u): break``; ``if loss < best:``), a read deciding whether the loop
    ends (``if loss.item() < tol: break``), a torch function that waits (``torch.cuda.synchronize()``,
    ``torch.allclose``) or a boolean-mask index. Other reads (``print(loss.item())``)
    do not count: a rule moves them off the iteration too. Code under an ``if`` whose test uses
    ``%`` or a debugging flag, and nested functions, do not count."""
    return _waits_on_every_iteration(loop, besides, context, accumulator=None, around=False, needed_only=True)


def _waits_on_every_iteration(
    loop: cst.For | cst.While,
    besides: cst.CSTNode,
    context: FileContext,
    accumulator: str | None,
    around: bool,
    needed_only: bool,
) -> bool:
    """The walk behind ``reads_on_every_iteration`` (every read but ``besides`` and the
    accumulations into ``accumulator`` counts) and ``keeps_waiting_on_every_iteration``
    (``needed_only``: only the reads the loop cannot drop count)."""
    # The names or chains the loop treats as tensors: read on the host (``nll.item()``) or
    # differentiated (``nll.backward()``); a comparison of one is a tensor's truth.
    tensors = _tensors_of_the_loop(loop, context)
    read_roots: set[str] | None = None  # names the loop reads tensors of, found on first need
    if type(loop) is cst.While and _tests_a_tensor(loop.test, context, loop, tensors):
        return True
    pending: list[tuple[cst.CSTNode, tuple[cst.CSTNode, ...]]] = [(loop.body, (loop,))]
    while pending:
        node, above = pending.pop()
        node_type = type(node)
        if node_type in (cst.FunctionDef, cst.ClassDef, cst.Lambda) or node is besides:
            continue
        if around and node_type in (cst.For, cst.While):
            continue
        if isinstance(node, cst.If) and (uses_modulo(node.test) or tests_a_debug_flag(node.test)):
            if node.orelse is not None:
                pending.append((node.orelse, (*above, node)))
            continue
        if isinstance(node, (cst.If, cst.While, cst.Assert)) and _tests_a_tensor(node.test, context, loop, tensors):
            return True
        if isinstance(node, (cst.Name, cst.Attribute)) and accumulator is not None and dotted_name(node) == accumulator:
            if not _collects_into(above, node):
                return True
            continue
        if needed_only and isinstance(node, cst.Call) and _synchronising_function(node, context):
            # A torch function that waits (``torch.cuda.synchronize()``, ``torch.allclose``):
            # no rule moves it off the iteration.
            return True
        if isinstance(node, cst.Call) and _synchronises(node, context):
            path = [*above, node]
            needed = decides_an_exit(path, loop) if needed_only else accumulation_of(path, context) is None
            if needed:
                return True
        if isinstance(node, cst.Subscript) and _indexes_by_a_mask(node, context):
            return True
        if isinstance(node, cst.Comparison) and len(node.comparisons) > 1:
            if read_roots is None:
                read_roots = _roots_read_on_the_host(loop.body, context)
            if _chain_tests_a_tensor(node, read_roots, context):
                return True
        pending.extend((child, (*above, node)) for child in syntax_children(node))
    return False


def _roots_read_on_the_host(body: cst.CSTNode, context: FileContext) -> set[str]:
    """The names whose tensors ``body`` reads through a method that synchronises
    (``prediction_intervals`` of ``(prediction_intervals[1] - prediction_intervals[0]).item()``):
    the code treats them as tensors."""
    roots: set[str] = set()
    for node in nodes_in_scope(body):
        if type(node) is cst.Call and type(node.func) is cst.Attribute and _synchronises(node, context):
            roots.update(_roots(node.func.value))
    return roots


def _tensors_of_the_loop(loop: cst.For | cst.While, context: FileContext) -> set[str]:
    """The names and attribute chains ``loop``'s body calls ``.backward()`` on (``loss``,
    ``outputs.loss``) or reads on the host through a method that synchronises (``nll`` of
    ``nll.item()``, ``self.alpha`` of ``self.alpha.item()``), as written: tensors there."""
    found = set(summarise([loop.body], context.imports).differentiated)
    for node in nodes_in_scope(loop.body):
        if type(node) is cst.Call and type(node.func) is cst.Attribute and _synchronises(node, context):
            chain = dotted_name(read_tensor(node.func.value))
            if chain is not None:
                found.add(chain)
    return found


def _compares_one_of(comparison: cst.Comparison, tensors: set[str] | frozenset[str]) -> bool:
    """The first comparison of ``comparison`` (the one whose truth is always read) is not by
    identity, and an operand of it is one of ``tensors``, directly or through arithmetic
    (``nll < min_loss - tol``)."""
    first = comparison.comparisons[0]
    if isinstance(first.operator, _IDENTITY_OPERATORS):
        return False
    return bool(_arithmetic_operands(comparison.left) & tensors or _arithmetic_operands(first.comparator) & tensors)


def _arithmetic_operands(expr: cst.BaseExpression) -> set[str]:
    """The names and attribute chains ``expr`` computes with through arithmetic: ``{"min_loss",
    "tol"}`` for ``min_loss - tol``; not through a call or an index."""
    if type(expr) is cst.BinaryOperation:
        return _arithmetic_operands(expr.left) | _arithmetic_operands(expr.right)
    if type(expr) is cst.UnaryOperation:
        return _arithmetic_operands(expr.expression)
    chain = dotted_name(expr) if type(expr) in (cst.Name, cst.Attribute) else None
    return {chain} if chain is not None else set()


def _roots(expr: cst.BaseExpression) -> set[str]:
    """The names ``expr`` takes its values from (``root_name``), through arithmetic: ``{"p"}``
    for ``p[1] - p[0]``."""
    if type(expr) is cst.BinaryOperation:
        return _roots(expr.left) | _roots(expr.right)
    if type(expr) is cst.UnaryOperation:
        return _roots(expr.expression)
    root = root_name(expr)
    return {root} if root is not None else set()


def _chain_tests_a_tensor(chain: cst.Comparison, read_roots: set[str], context: FileContext) -> bool:
    """A chained comparison ``a <= y <= b`` takes the truth of its first comparison to decide
    whether to go on: a tensor's truth, which the host waits for, when an operand of that first
    comparison is a device tensor or rooted in a name the loop reads as a tensor."""
    first = chain.comparisons[0]
    if isinstance(first.operator, _IDENTITY_OPERATORS):
        return False
    return any(
        is_device_tensor(operand, context) or bool(_roots(operand) & read_roots)
        for operand in (chain.left, first.comparator)
    )


def _tests_a_tensor(
    test: cst.BaseExpression,
    context: FileContext,
    loop: cst.For | cst.While | None = None,
    tensors: set[str] | frozenset[str] = frozenset(),
) -> bool:
    """The truth of ``test`` is a torch tensor's, which the host reads by waiting for the device
    on every run of the test: ``torch.isclose(u, last_u)``, ``loss < best``, ``(t >= 0).all()``,
    through ``not``, ``and`` and ``or``; not an operand after an identity test, which runs only
    for some callers' options: ``if self.ignore_index is None and torch.max(y) > k:`` waits only
    in the calls that pass no ``ignore_index``. An identity test of what ``loop`` itself assigns
    is no option but the loop's state, set on its first iteration: ``if best is None or loss <
    best: best = loss`` tests the tensor on every iteration after the first (alibi_detect's
    GMM early stopping). ``tensors``: the names or chains the loop treats as tensors
    (``_tensors_of_the_loop``), whose comparisons are a tensor's truth too (``nll < min_loss -
    tol``; an operand of arithmetic counts, not one read through a call or an index)."""
    if type(test) is cst.BooleanOperation:
        if _tests_identity(test.left) and not (loop is not None and _tests_state_of(test.left, loop, context)):
            return _tests_a_tensor(test.left, context, loop, tensors)
        return _tests_a_tensor(test.left, context, loop, tensors) or _tests_a_tensor(test.right, context, loop, tensors)
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return _tests_a_tensor(test.expression, context, loop, tensors)
    if type(test) is cst.Comparison and tensors and _compares_one_of(test, tensors):
        return True
    return is_device_tensor(test, context)


def _tests_identity(test: cst.BaseExpression) -> bool:
    """``test`` compares objects by identity only (``option is None``, ``a is not b``)."""
    return type(test) is cst.Comparison and all(
        type(target.operator) in (cst.Is, cst.IsNot) for target in test.comparisons
    )


def _tests_state_of(test: cst.BaseExpression, loop: cst.For | cst.While, context: FileContext) -> bool:
    """An operand of the identity test ``test`` is a name or attribute chain that ``loop``'s
    body assigns (``min_loss`` of ``min_loss is None`` with ``min_loss = nll`` in the loop)."""
    if type(test) is not cst.Comparison:
        return False
    compared = {dotted_name(test.left), *(dotted_name(target.comparator) for target in test.comparisons)}
    compared.discard(None)
    if not compared:
        return False
    rebound = summarise([loop.body], context.imports).rebound
    if compared & rebound:
        return True
    for node in nodes_in_scope(loop.body):
        if type(node) is cst.Assign and any(dotted_name(target.target) in compared for target in node.targets):
            return True
    return False


def is_device_tensor(expr: cst.BaseExpression, context: FileContext) -> bool:
    """``expr`` evaluates to a torch tensor that may live on a device, so that reading its truth
    waits for the device: known to the engine and not on the host (``torch.rand(1)`` is read
    without a copy, see ``devices.on_host``), a truth reduction of one (``t.any()``), or an
    element-wise comparison with one (``t >= 0``; not ``t is None``)."""
    if type(expr) is cst.Comparison:
        # Before asking the engine, which knows a comparison of tensors is a tensor: where it
        # lives is where its operands do.
        if any(isinstance(target.operator, _IDENTITY_OPERATORS) for target in expr.comparisons):
            return False
        return is_device_tensor(expr.left, context) or any(
            is_device_tensor(target.comparator, context) for target in expr.comparisons
        )
    if context.arrays.kind_of(expr) == catalog.TORCH:
        return not on_host(expr, context)
    if type(expr) is cst.Call and type(expr.func) is cst.Attribute:
        return expr.func.attr.value in _TRUTH_REDUCTIONS and is_device_tensor(expr.func.value, context)
    return False


def _indexes_by_a_mask(subscript: cst.Subscript, context: FileContext) -> bool:
    """``x[mask]`` with ``mask`` a boolean mask (``mask = y == i``, ``~mask``; see
    ``elementwise.is_boolean_mask``): the result's size is the number of selected elements, which
    the host must wait for the device to count."""
    if len(subscript.slice) != 1 or type(subscript.slice[0].slice) is not cst.Index:
        return False
    return is_boolean_mask(subscript.slice[0].slice.value, context)


def function_waits_for_device(
    context: FileContext,
    besides: cst.CSTNode | None = None,
    counting_decisions: bool = False,
    counting_guards: bool = False,
) -> cst.CSTNode | None:
    """A node in the function around the current node (the outermost one, with what it nests)
    that reads a tensor's values on the host, so that every call of the function waits for the
    device there anyway: a method that synchronises (``.item()``, ``.tolist()``, ``.cpu()``) or a
    torch function that does (``torch.nonzero``, ``torch.unique``, ``torch.allclose``). One more
    wait in such a function costs little beside it. With ``counting_decisions``, also a
    boolean-mask index (``x[x > 0]``, whose size the host waits for) and a tensor's truth tested
    by an ``if`` or ``while`` that decides what runs (``if torch.all(alpha > 0): v = v / alpha``;
    not a guard that only raises or warns, which a rule may report beside this one). With
    ``counting_guards`` as well, such a guard and an ``assert`` testing a tensor's truth count
    too, for a rule that reports no guard (``assert (t >= 0).all()`` waits all the same). Reads
    inside ``besides`` (what a rule reports: a whole branch, or only its test, when the reads of
    its body count but the branch itself does not), under an ``if`` whose test uses ``%`` (periodic logging) or a debugging flag, and in nested classes do not count. The
    functions of this file that it calls count too (``self.f(x)``, ``super().validation_step(b)``
    of a base class the file defines, see ``_own_callee``), with the functions they call, up to
    ``_CALLEES_FOLLOWED`` of them: a read there is reported at the call. In a callee only the
    reads it makes on every call count (not in the body of an ``if``, a loop or a handler),
    except in a parent's method that an override extends, whose body counts as the override's
    own. None outside functions, or when the function has no such read."""
    frame = context.function
    while frame is not None and frame.parent is not None:
        frame = frame.parent
    if frame is None:
        return None
    class_node = frame.class_frame.node if frame.class_frame is not None else None
    # Nodes to read, each with the call of the file's own function that leads to it (None for the
    # function itself: a wait in a callee is reported at the call), and whether only what runs on
    # every call counts there (in a callee other than the parent's own method).
    pending: list[tuple[cst.CSTNode, cst.Call | None, bool]] = [(frame.node.body, None, False)]
    followed: set[int] = {id(frame.node)}
    while pending:
        node, via, always = pending.pop()
        if node is besides or type(node) is cst.ClassDef:
            continue
        if isinstance(node, cst.If) and (uses_modulo(node.test) or tests_a_debug_flag(node.test)):
            if node.orelse is not None:
                pending.append((node.orelse, via, always))
            continue
        if type(node) is cst.Call and (_synchronises(node, context) or _synchronising_function(node, context)):
            return via or node
        if type(node) is cst.Call and len(followed) <= _CALLEES_FOLLOWED:
            callee, extends = _own_callee(node, class_node, context)
            if callee is not None and id(callee) not in followed:
                followed.add(id(callee))
                pending.append((callee.body, via or node, always or not extends))
        reported = isinstance(node, (cst.If, cst.While)) and node.test is besides
        if counting_decisions and not reported and _decides_on_device(node, context, counting_guards):
            return via or node
        children = _run_on_every_call(node) if always else syntax_children(node)
        pending.extend((child, via, always) for child in children)
    return None


def _run_on_every_call(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The children of ``node`` that run whenever it does: the test of an ``if`` or ``while`` and
    the iterable of a ``for`` (not their bodies), the first operand of ``and``/``or``, the test of
    a conditional expression; no nested function."""
    if type(node) in (cst.If, cst.While, cst.IfExp):
        return [cast(cst.If, node).test]
    if type(node) is cst.For:
        return [node.iter]
    if type(node) is cst.BooleanOperation:
        return [node.left]
    if type(node) in (cst.Try, cst.TryStar):
        return [cast(cst.Try, node).body]
    if type(node) in (cst.FunctionDef, cst.Lambda, cst.Match):
        return []
    return syntax_children(node)


def _own_callee(
    call: cst.Call, class_node: cst.ClassDef | None, context: FileContext
) -> tuple[cst.FunctionDef | None, bool]:
    """The function of this file that ``call`` runs: a module-level function or a method the
    file defines once (``f(x)``, ``self.f(x)``, see ``FunctionKnowledge.definition``), or the
    method in a base class of ``class_node`` that the file defines (``super().validation_step(
    batch)``), which the caller extends: its body counts as the caller's own. None for anything
    else."""
    func = call.func
    if type(func) is cst.Attribute and type(func.value) is cst.Call and not func.value.args:
        if class_node is None or not context.imports.is_builtin(func.value.func, "super"):
            return None, False
        return _inherited_method(class_node, func.attr.value, context), True
    name = dotted_name(func)
    return (context.functions.definition(name) if name is not None else None), False


def _inherited_method(class_node: cst.ClassDef, method: str, context: FileContext) -> cst.FunctionDef | None:
    """``method`` as the first base of ``class_node`` defined at this file's module level that
    defines it (directly, or through its own bases in the file) has it."""
    classes = {statement.name.value: statement for statement in context.module.body if type(statement) is cst.ClassDef}
    pending = [dotted_name(base.value) for base in reversed(class_node.bases)]
    seen: set[str] = set()
    while pending:
        base = classes.get(pending.pop() or "")
        if base is None or base.name.value in seen:
            continue
        seen.add(base.name.value)
        body = base.body.body if type(base.body) is cst.IndentedBlock else ()
        for statement in body:
            if type(statement) is cst.FunctionDef and statement.name.value == method:
                return statement
        pending.extend(dotted_name(inner.value) for inner in reversed(base.bases))
    return None


def _decides_on_device(node: cst.CSTNode, context: FileContext, counting_guards: bool = False) -> bool:
    """``node`` waits for the device to decide what runs: a boolean-mask index, or an ``if``
    (doing more than report a failure, unless ``counting_guards``) or ``while`` testing a
    tensor's truth; with ``counting_guards``, also an ``assert`` testing one."""
    if type(node) is cst.Subscript:
        # A mask made on the host (``~torch.eye(n, dtype=torch.bool)``) is counted there.
        index = node.slice[0].slice if _indexes_by_a_mask(node, context) else None
        return type(index) is cst.Index and not on_host(index.value, context)
    if type(node) is cst.While or (
        type(node) is cst.If and (counting_guards or not only_reports(node.body, context.imports))
    ):
        return _tests_a_tensor(node.test, context)
    if type(node) is cst.Assert and counting_guards:
        return _tests_a_tensor(node.test, context)
    return False


def _synchronising_function(call: cst.Call, context: FileContext) -> bool:
    record = catalog.lookup(context.imports.qualified_name(call.func))
    return record is not None and record.has(catalog.Flag.SYNCHRONISES)


def reads_a_host_batch(expr: cst.BaseExpression, context: FileContext) -> bool:
    """``expr`` computes with a batch of a known ``DataLoader`` (``label`` of ``for img, label
    in loader``) that its loop neither rebinds nor moves to a device where ``expr`` uses it: a
    loader yields host tensors, and a device tensor would not mix with one, so the value read
    is on the host and waits for no device."""
    pending: list[tuple[cst.CSTNode, cst.CSTNode | None]] = [(expr, None)]
    while pending:
        node, parent = pending.pop()
        if type(node) is cst.Name and context.loops.loader_of_batch(node) is not None:
            moved = type(parent) is cst.Attribute and parent.attr.value in _MOVE_METHODS
            frame = next((frame for frame in context.loops.enclosing() if node.value in frame.targets), None)
            if not moved and frame is not None and node.value not in frame.effects.rebound:
                return True
        pending.extend((child, node) for child in syntax_children(node))
    return False


def _collects_into(above: tuple[cst.CSTNode, ...], accumulator: cst.CSTNode) -> bool:
    """``accumulator`` is where another accumulation of the loop adds (``total += …``) or
    appends (``total.append(…)``): writing, not reading, the running value."""
    parent = above[-1]
    if type(parent) is cst.AugAssign and parent.target is accumulator:
        return True
    return type(parent) is cst.Attribute and parent.value is accumulator and parent.attr.value == "append"


def _synchronises(call: cst.Call, context: FileContext) -> bool:
    """``call`` is a method that reads a tensor's values on the host (``.item()``, ``.cpu()``),
    of a tensor not known to live there: ``torch.prod(torch.tensor(shape)).item()`` waits for no
    device."""
    func = call.func
    if type(func) is not cst.Attribute or call.args or context.imports.qualified_name(func) is not None:
        return False
    method = catalog.method(func.attr.value)
    return method is not None and catalog.Flag.SYNCHRONISES in method.flags and not on_host(func.value, context)


def times_with_device_events(loop: cst.CSTNode, context: FileContext) -> bool:
    """``loop``'s body reads the time between two device events made for timing
    (``start.elapsed_time(end)`` of events made by ``torch.cuda.Event(enable_timing=True)``):
    torch refuses the reading until the end event has completed, so each iteration must wait
    for the device there, and a device synchronisation in the loop is what makes it legal."""
    for node in nodes_in_scope(loop):
        if (
            type(node) is cst.Call
            and type(node.func) is cst.Attribute
            and node.func.attr.value == catalog.TORCH_ELAPSED_TIME_METHOD
            and len(node.args) == 1
            and _timing_event(node.func.value, context)
            and _timing_event(node.args[0].value, context)
        ):
            return True
    return False


def _timing_event(event: cst.BaseExpression, context: FileContext) -> bool:
    """``event`` is made by a device event class with ``enable_timing=True``, directly or through
    the name it was assigned to."""
    if type(event) is cst.Name:
        event = value_of(event, context) or event
    if (
        type(event) is not cst.Call
        or context.imports.qualified_name(event.func) not in catalog.TORCH_TIMING_EVENT_CLASSES
    ):
        return False
    timing = keyword_argument(event, catalog.TORCH_TIMING_EVENT_KEYWORD)
    return timing is not None and literal_value(timing.value) is True
