"""Whether an expression gives the same value (or the same object) each time a block runs:
on every iteration of a loop, on every call of a function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable, dotted_name
from perflint.engine.walker import names_in, syntax_children

if TYPE_CHECKING:
    from perflint.engine.loops import LoopFrame


def is_invariant(
    expr: cst.BaseExpression,
    frame: LoopFrame,
    imports: ImportTable,
    allow_conversions: bool = False,
    identity: bool = False,
    through_comprehensions: bool = False,
) -> bool:
    """``expr`` computes the same value on every iteration of ``frame``'s loop; with
    ``identity``, the same object; with ``through_comprehensions``, a list, set or dict
    comprehension over what the loop does not change is the same value too.

    Names and attribute chains must not be changed by the loop, and every call inside must be
    one that gives equal results for equal arguments: a side-effect-free library function, a
    non-mutating method of an invariant receiver, a pure builtin. A pure factory of invariant
    arguments (``np.eye(n)``, ``torch.zeros(3)``, ``x.clone()``) gives an equal value on every
    iteration, but a new object each time: it is invariant as a value, never as an identity
    (hoisting it would share one object between iterations). A conversion that shares its
    argument's memory (``torch.from_numpy``) is a new object too: as an identity only with
    ``allow_conversions``. Random draws are never invariant.
    """
    return unchanged_by(
        expr, frame.changes, imports, allow_conversions, identity, through_comprehensions=through_comprehensions
    )


# Expressions that never give the same value twice as far as a static reading can tell: a new
# function, a suspension point, a binding, a fresh container built by a comprehension.
NEVER_THE_SAME_TWICE = (
    cst.Lambda,
    cst.Await,
    cst.Yield,
    cst.NamedExpr,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def unchanged_by(
    expr: cst.BaseExpression,
    changes: Callable[[str], bool],
    imports: ImportTable,
    allow_conversions: bool = False,
    identity: bool = False,
    through_metadata: bool = False,
    through_comprehensions: bool = False,
) -> bool:
    """``expr`` gives the same value (with ``identity``, the same object) each time a block
    runs, when ``changes(chain)`` says whether the block may change a name or attribute chain:
    the walk behind ``is_invariant`` (a loop) and ``FunctionKnowledge.same_on_every_call`` (a
    function).

    With ``through_metadata``, ``expr`` may read what changes through its shape, type and
    device (``x.shape[1]``, ``x.size(0)``, ``x.device``, ``len(x)``), imported names are
    unchanged, and calls must be catalogued pure functions (factories included, random draws
    not), pure builtins or known array methods: the walk behind
    ``FunctionKnowledge.depends_only_on_shapes``.

    With ``through_comprehensions`` (not with ``identity``), a list, set or dict comprehension
    is unchanged when everything in it is, its own targets aside: ``[range(c) for c in
    cards.values()]`` gives an equal list each time ``cards`` is unchanged."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)):
            if through_metadata and (
                (isinstance(node, cst.Attribute) and node.attr.value in catalog.METADATA_ATTRIBUTES)
                or imports.qualified_name(node) is not None
            ):
                continue
            chain = dotted_name(node)
            if chain is not None:
                if changes(chain):
                    return False
                continue
            if through_metadata:  # only an attribute gets here: a name is its own chain
                stack.append(cast(cst.Attribute, node).value)
                continue
        elif isinstance(node, cst.Call):
            operands = (
                _operands_of_shape_call(node, imports)
                if through_metadata
                else _operands_of_invariant_call(node, imports, allow_conversions, identity)
            )
            if operands is None:
                return False
            stack.extend(operands)
            continue
        elif through_comprehensions and not identity and isinstance(node, _CONTAINER_COMPREHENSIONS):
            own = _comprehension_targets(node)

            def changes_outside(chain: str, own: frozenset[str] = own) -> bool:
                return chain.partition(".")[0] not in own and changes(chain)

            if not all(
                unchanged_by(part, changes_outside, imports, allow_conversions, through_comprehensions=True)
                for part in _comprehension_parts(node)
            ):
                return False
            continue
        elif isinstance(node, NEVER_THE_SAME_TWICE):
            return False
        stack.extend(syntax_children(node))
    return True


_CONTAINER_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp)


def _comprehension_targets(node: cst.ListComp | cst.SetComp | cst.DictComp) -> frozenset[str]:
    """The names ``node``'s ``for`` clauses bind."""
    names: set[str] = set()
    for_in: cst.CompFor | None = node.for_in
    while for_in is not None:
        names |= names_in(for_in.target)
        for_in = for_in.inner_for_in
    return frozenset(names)


def _comprehension_parts(node: cst.ListComp | cst.SetComp | cst.DictComp) -> list[cst.BaseExpression]:
    """What ``node`` evaluates: its element (key and value), iterables and conditions."""
    parts: list[cst.BaseExpression] = [node.key, node.value] if isinstance(node, cst.DictComp) else [node.elt]
    for_in: cst.CompFor | None = node.for_in
    while for_in is not None:
        parts.append(for_in.iter)
        parts.extend(condition.test for condition in for_in.ifs)
        for_in = for_in.inner_for_in
    return parts


def _operands_of_invariant_call(
    call: cst.Call, imports: ImportTable, allow_conversions: bool, identity: bool
) -> list[cst.BaseExpression] | None:
    """What ``call``'s value depends on besides the function (its receiver, if a method, and
    its arguments) when it may be invariant (see ``call_may_be_invariant``); else None."""
    if not call_may_be_invariant(call, imports, allow_conversions, identity):
        return None
    operands = [arg.value for arg in call.args]
    if isinstance(call.func, cst.Attribute) and imports.qualified_name(call.func) is None:
        operands.insert(0, call.func.value)
    return operands


def _operands_of_shape_call(call: cst.Call, imports: ImportTable) -> list[cst.BaseExpression] | None:
    """What ``call``'s value depends on when it reads its inputs at most through their
    metadata (see ``unchanged_by``'s ``through_metadata``): nothing for ``len(x)``, only the
    arguments of ``x.size(0)``; None when it may depend on more."""
    func = call.func
    arguments = [arg.value for arg in call.args]
    if isinstance(func, cst.Attribute) and func.attr.value in catalog.METADATA_METHODS:
        return arguments
    qualified = imports.qualified_name(func)
    if qualified is not None:
        # A catalogued pure function only: random draws (``torch.randn``,
        # ``torch.multinomial``) differ on every call whatever the shapes.
        record = catalog.lookup(qualified)
        return arguments if record is not None and record.has(catalog.Flag.PURE) else None
    if isinstance(func, cst.Name):
        if not imports.is_builtin(func, func.value) or func.value not in catalog.PURE_BUILTINS:
            return None
        return [] if func.value == "len" else arguments
    if not isinstance(func, cst.Attribute) or catalog.method(func.attr.value) is None:
        return None
    return [func.value, *arguments]


_FRESH_COPY_METHODS = frozenset({"copy", "clone"})


def call_may_be_invariant(call: cst.Call, imports: ImportTable, allow_conversions: bool, identity: bool) -> bool:
    """Called twice with equal arguments, ``call`` gives equal values (with ``identity``, the
    same object): see ``is_invariant``."""
    qualified = imports.qualified_name(call.func)
    if qualified is not None:
        if not catalog.is_side_effect_free(qualified):
            return False
        if qualified in catalog.FACTORIES:
            record = catalog.lookup(qualified)
            if identity or record is None or not record.has(catalog.Flag.PURE):
                return False
        elif qualified in catalog.PURE_CONVERSIONS and identity and not allow_conversions:
            return False
        return catalog.output_buffer(call, qualified) is None
    if isinstance(call.func, cst.Name):
        name = call.func.value
        if not imports.is_builtin(call.func, name) or name not in catalog.PURE_BUILTINS:
            return False
        if name not in catalog.FRESH_OBJECT_BUILTINS:
            return True
        record = catalog.lookup(f"builtins.{name}")
        return not identity and record is not None and record.has(catalog.Flag.PURE)
    if isinstance(call.func, cst.Attribute):
        method = call.func.attr.value
        if method not in catalog.NON_MUTATING_METHODS:
            return False
        return not (identity and method in _FRESH_COPY_METHODS)
    return False
