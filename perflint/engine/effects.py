"""What running a block (one loop iteration, one call of a function) may change and do:
the names it rebinds, what it mutates, and whether it is a training step (calls
``.backward()``, steps an optimizer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable, chains_overlap, dotted_name, parameter_names, target_names
from perflint.engine.roles import is_optimizer_name
from perflint.engine.walker import nodes_in_scope, syntax_children

if TYPE_CHECKING:
    from perflint.engine.functions import FunctionKnowledge

# Exact types, compared with ``type(node)``: ``isinstance`` against libcst's classes goes
# through ABCMeta, and a summary tests every node of the block it reads.
_LOOP_TYPES = frozenset({cst.For, cst.While, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp})
_NESTED_SCOPES = frozenset({cst.FunctionDef, cst.ClassDef, cst.Lambda})
# Nodes whose ``target`` the node binds.
_BINDING_TARGETS = frozenset({cst.AnnAssign, cst.For, cst.CompFor, cst.NamedExpr, cst.Del})


def is_optimizer(receiver: cst.BaseExpression) -> bool:
    """``optimizer``, ``self.opt``, ``d_optim``: a name that says optimizer (see
    ``roles.is_optimizer_name``)."""
    chain = dotted_name(receiver)
    return chain is not None and is_optimizer_name(chain.rpartition(".")[2])


@dataclass
class Effects:
    """What running a block (one loop iteration, or one call of a function) may change and do.

    Calls made in loops nested inside the block are not the block's own training-step calls:
    they run once per inner iteration, not once per iteration of the block.
    """

    rebound: set[str] = field(default_factory=set)
    mutated: set[str] = field(default_factory=set)
    calls_backward: bool = False
    steps_optimizer: bool = False
    # What ``.backward()`` is called on (``loss``, ``outputs.loss``): tensors, the losses.
    differentiated: set[str] = field(default_factory=set)
    # Calls of plain names and of ``self.<method>``: possibly functions of the same file.
    local_calls: list[cst.Call] = field(default_factory=list)
    # Names the block declares ``global`` or ``nonlocal``, and the names of an enclosing scope
    # it (or a function of the file it calls) rebinds through such a declaration: a caller's
    # loop sees those change though it assigns none of them.
    declared_outer: set[str] = field(default_factory=set)
    outer_rebound: set[str] = field(default_factory=set)

    def changes(self, chain: str) -> bool:
        """The block may change what ``chain`` (``a`` or ``self.w.data``) refers to or contains."""
        if chain.partition(".")[0] in self.rebound:
            return True
        return any(chains_overlap(chain, changed) for changed in self.mutated)


def summarise(parts: list[cst.CSTNode], imports: ImportTable, functions: FunctionKnowledge | None = None) -> Effects:
    """The effects of running ``parts`` once (nested functions and classes are not run).

    A call of a function of the same file mutates what that function's summary says it does
    (``functions`` answers); any other call that is not a known pure one may mutate every
    argument and its receiver.
    """
    effects = Effects()
    # Each ``for`` loop's target names, the collections its items come from and its body, and
    # the names the block changes in place by writing into them or calling an in-place method.
    items_of: list[tuple[set[str], list[str], cst.BaseSuite]] = []
    changed_in_place: set[str] = set()
    stack: list[tuple[cst.CSTNode, bool]] = [(part, False) for part in reversed(parts)]
    while stack:
        node, in_nested_loop = stack.pop()
        _record(node, in_nested_loop, effects, imports, functions)
        node_type = type(node)
        if node_type in _NESTED_SCOPES:
            continue
        if node_type is cst.For:
            loop = cast(cst.For, node)
            items_of.append((set(target_names(loop.target)), _collections_iterated(loop.iter), loop.body))
        root = _root_changed_in_place(node)
        if root is not None:
            changed_in_place.add(root)
        nested = in_nested_loop or node_type in _LOOP_TYPES
        stack.extend((child, nested) for child in syntax_children(node))
    # ``for p in self._params: p.add_(d)`` changes ``self._params``' items: what the loop
    # changes in place through its target, it changes in the collection.
    # An item rebound first (``img = img.to(device); img.squeeze_(1)``) is a new object.
    for targets, collections, body in items_of:
        changed = targets & changed_in_place
        if changed and not changed <= _names_bound_in(body):
            effects.mutated.update(collections)
    effects.outer_rebound |= effects.rebound & effects.declared_outer
    return effects


def _names_bound_in(body: cst.CSTNode) -> set[str]:
    """The plain names an assignment in ``body`` binds (nested scopes left out)."""
    bound: set[str] = set()
    for node in nodes_in_scope(body):
        if type(node) is cst.Assign:
            for target in cast(cst.Assign, node).targets:
                bound.update(target_names(target.target))
        elif type(node) in _BINDING_TARGETS and type(node) is not cst.Del:
            bound.update(target_names(cast("cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr", node).target))
    return bound


def _root_changed_in_place(node: cst.CSTNode) -> str | None:
    """``p`` of ``p.add_(d)``, ``p.grad = None``, ``p[i] += 1``, ``buf.append(x)``: the name
    whose object the statement changes in place. Passing ``p`` to a function is not counted:
    most functions read their arguments."""
    node_type = type(node)
    if node_type is cst.Call:
        func = cast(cst.Call, node).func
        if type(func) is cst.Attribute and catalog.changes_its_receiver(func.attr.value):
            return _root_name(func.value)
        return None
    targets: list[cst.BaseExpression] = []
    if node_type is cst.Assign:
        targets = [target.target for target in cast(cst.Assign, node).targets]
    elif node_type is cst.AugAssign or node_type is cst.AnnAssign:
        targets = [cast("cst.AugAssign | cst.AnnAssign", node).target]
    for target in targets:
        if type(target) is cst.Attribute or type(target) is cst.Subscript:
            return _root_name(target)
    return None


def _root_name(expr: cst.BaseExpression) -> str | None:
    while type(expr) is cst.Attribute or type(expr) is cst.Subscript:
        expr = cast("cst.Attribute | cst.Subscript", expr).value
    return cast(cst.Name, expr).value if type(expr) is cst.Name else None


def _collections_iterated(iterable: cst.BaseExpression) -> list[str]:
    """The chains whose items a loop over ``iterable`` gets: ``xs``, ``self._params``, the
    receiver of ``model.parameters()`` or ``d.values()``, each argument of ``zip(a, b)`` or
    ``enumerate(xs)``."""
    if type(iterable) is cst.Call:
        func = iterable.func
        if type(func) is cst.Attribute:
            chain = dotted_name(func.value)
            return [chain] if chain else []
        return [chain for chain in (dotted_name(arg.value) for arg in iterable.args) if chain]
    chain = dotted_name(iterable)
    return [chain] if chain else []


def _bind(target: cst.BaseExpression, effects: Effects) -> None:
    target_type = type(target)
    if target_type is cst.Name:
        effects.rebound.add(cast(cst.Name, target).value)
    elif target_type is cst.Tuple or target_type is cst.List:
        for element in cast("cst.Tuple | cst.List", target).elements:
            _bind(element.value, effects)
    elif target_type is cst.StarredElement:
        _bind(cast(cst.StarredElement, target).value, effects)
    elif target_type is cst.Attribute:
        chain = dotted_name(target)
        if chain:
            effects.mutated.add(chain)
    elif target_type is cst.Subscript:
        chain = dotted_name(cast(cst.Subscript, target).value)
        if chain:
            effects.mutated.add(chain)


def _record(
    node: cst.CSTNode,
    in_nested_loop: bool,
    effects: Effects,
    imports: ImportTable,
    functions: FunctionKnowledge | None,
) -> None:
    node_type = type(node)
    if node_type is cst.Call:
        call = cast(cst.Call, node)
        _record_call(call, in_nested_loop, effects, imports, functions)
        if functions is not None and _may_call_own_function(call, imports):
            _record_outer_effects(call, effects, functions)
    elif node_type is cst.Assign:
        for assign_target in cast(cst.Assign, node).targets:
            _bind(assign_target.target, effects)
    elif node_type is cst.AugAssign:
        # ``a *= 2`` rebinds ``a``, and on an array or a list it changes the object itself.
        target = cast(cst.AugAssign, node).target
        _bind(target, effects)
        chain = dotted_name(target)
        if chain:
            effects.mutated.add(chain)
    elif node_type in _BINDING_TARGETS:
        _bind(cast("cst.AnnAssign | cst.For | cst.CompFor | cst.NamedExpr | cst.Del", node).target, effects)
    elif node_type is cst.AsName:
        _bind(cast(cst.AsName, node).name, effects)
    elif node_type is cst.FunctionDef or node_type is cst.ClassDef:
        effects.rebound.add(cast("cst.FunctionDef | cst.ClassDef", node).name.value)
    elif node_type is cst.ImportAlias:
        alias = cast(cst.ImportAlias, node)
        effects.rebound.add((alias.evaluated_alias or alias.evaluated_name).partition(".")[0])
    elif node_type is cst.Global or node_type is cst.Nonlocal:
        effects.declared_outer.update(item.name.value for item in cast("cst.Global | cst.Nonlocal", node).names)


def _record_call(
    call: cst.Call,
    in_nested_loop: bool,
    effects: Effects,
    imports: ImportTable,
    functions: FunctionKnowledge | None,
) -> None:
    func = call.func
    qualified = imports.qualified_name(func)
    arguments_are_safe = False
    if qualified is not None:
        arguments_are_safe = catalog.is_side_effect_free(qualified)
    elif type(func) is cst.Name:
        arguments_are_safe = imports.is_builtin(func, func.value) and func.value in catalog.PURE_BUILTINS
    if not in_nested_loop and not arguments_are_safe:
        _record_training_step(call, qualified, effects)
    if not arguments_are_safe and qualified is None and functions is not None:
        known = functions.mutations_of_call(call)
        if known is not None:
            effects.mutated.update(known)
            return
    if type(func) is cst.Attribute and qualified is None:
        arguments_are_safe = func.attr.value in catalog.NON_MUTATING_METHODS
        if not arguments_are_safe:
            receiver = dotted_name(func.value)
            if receiver:
                effects.mutated.add(receiver)
    buffer = catalog.output_buffer(call, qualified) if arguments_are_safe else None
    for arg in call.args:
        if arguments_are_safe and arg.value is not buffer:
            continue
        chain = dotted_name(arg.value)
        if chain:
            effects.mutated.add(chain)


def _may_call_own_function(call: cst.Call, imports: ImportTable) -> bool:
    """``call`` may call a function of this file: ``f(...)`` or ``self.f(...)``, not an import."""
    func = call.func
    if imports.qualified_name(func) is not None:
        return False
    return type(func) is cst.Name or (
        type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self"
    )


def _record_outer_effects(call: cst.Call, effects: Effects, functions: FunctionKnowledge) -> None:
    """What a function of this file that ``call`` calls does to the caller's names beyond its
    arguments: rebinds a ``global`` or ``nonlocal`` one, or (a function nested in the caller,
    a closure) changes in place a name it does not bind itself."""
    name = dotted_name(call.func)
    definition = functions.definition(name) if name else None
    if definition is None:
        return
    summary = functions.summary_of(definition)
    effects.rebound |= summary.outer_rebound
    effects.outer_rebound |= summary.outer_rebound
    if type(call.func) is cst.Name and functions.mutations_of_call(call) is None:
        own = set(parameter_names(definition.params)) | (summary.rebound - summary.declared_outer)
        effects.mutated.update(chain for chain in summary.mutated if chain.partition(".")[0] not in own)


def _record_training_step(call: cst.Call, qualified: str | None, effects: Effects) -> None:
    func = call.func
    if qualified == "torch.autograd.backward":
        effects.calls_backward = True
    elif qualified is not None:
        # Possibly a function of another file of the project (``from pkg.engine import fit``).
        effects.local_calls.append(call)
    elif type(func) is cst.Name:
        effects.local_calls.append(call)
    elif type(func) is cst.Attribute:
        method = func.attr.value
        if method in ("backward", "manual_backward"):
            effects.calls_backward = True
            differentiated = dotted_name(func.value) if method == "backward" else None
            if differentiated is not None:
                effects.differentiated.add(differentiated)
            return
        if method == "step" and (is_optimizer(func.value) or _is_scaler_step(call)):
            effects.steps_optimizer = True
        receiver = func.value
        if type(receiver) is cst.Attribute:
            receiver = receiver.value  # ``self.optim.step(loss)``: a project class may call ``backward`` itself
        if type(receiver) is cst.Name and receiver.value == "self":
            effects.local_calls.append(call)


def _is_scaler_step(call: cst.Call) -> bool:
    """``scaler.step(optimizer)``: mixed precision steps the optimizer through its scaler."""
    return any(is_optimizer(arg.value) for arg in call.args)
