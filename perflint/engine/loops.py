"""Loop context: which loop a node runs in, what that loop rebinds or mutates, and whether
it is a training step.

A loop's effects are summarised lazily, the first time a rule asks about that loop, by one
walk of the loop's own body; most loops are never asked about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Optional, Union

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable, chains_overlap, dotted_name
from perflint.engine.walker import syntax_children

Comprehension = Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]
LoopNode = Union[cst.For, cst.While, Comprehension]

_TRAINING_STEP_METHODS = frozenset({"backward", "step"})


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """Plain names bound by an assignment or loop target."""
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from target_names(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from target_names(target.value)


def _comprehension_targets(loop: Comprehension) -> Iterator[str]:
    comp_for: Optional[cst.CompFor] = loop.for_in
    while comp_for is not None:
        yield from target_names(comp_for.target)
        comp_for = comp_for.inner_for_in


@dataclass
class LoopEffects:
    """What one iteration of a loop may change."""

    rebound: set[str] = field(default_factory=set)
    mutated: set[str] = field(default_factory=set)
    calls_training_step: bool = False

    def changes(self, chain: str) -> bool:
        """The loop may change what ``chain`` (``a`` or ``self.w.data``) refers to or contains."""
        if chain.partition(".")[0] in self.rebound:
            return True
        return any(chains_overlap(chain, changed) for changed in self.mutated)


class LoopFrame:
    """One enclosing loop: a ``for``, a ``while`` or a comprehension."""

    def __init__(self, node: LoopNode, imports: ImportTable) -> None:
        self.node = node
        self._imports = imports
        self._effects: Optional[LoopEffects] = None
        if isinstance(node, cst.For):
            self.targets = frozenset(target_names(node.target))
        elif isinstance(node, cst.While):
            self.targets = frozenset()
        else:
            self.targets = frozenset(_comprehension_targets(node))

    @property
    def is_comprehension(self) -> bool:
        return not isinstance(self.node, (cst.For, cst.While))

    def _repeated_parts(self) -> list[cst.CSTNode]:
        """The parts of the loop that run on every iteration."""
        node = self.node
        if isinstance(node, cst.For):
            return [node.target, node.body]
        if isinstance(node, cst.While):
            return [node.test, node.body]
        parts: list[cst.CSTNode] = [node.for_in.target, *node.for_in.ifs]
        if node.for_in.inner_for_in is not None:
            parts.append(node.for_in.inner_for_in)
        if isinstance(node, cst.DictComp):
            parts += [node.key, node.value]
        else:
            parts.append(node.elt)
        return parts

    @property
    def effects(self) -> LoopEffects:
        if self._effects is None:
            self._effects = _summarise(self._repeated_parts(), self._imports)
        return self._effects

    def changes(self, chain: str) -> bool:
        return chain.partition(".")[0] in self.targets or self.effects.changes(chain)

    @property
    def is_training_step(self) -> bool:
        """The innermost loop that calls ``.backward(...)`` or ``<optimizer>.step()`` itself."""
        return self.effects.calls_training_step


def _summarise(parts: list[cst.CSTNode], imports: ImportTable) -> LoopEffects:
    effects = LoopEffects()
    stack: list[tuple[cst.CSTNode, bool]] = [(part, False) for part in reversed(parts)]
    while stack:
        node, in_nested_loop = stack.pop()
        _record(node, in_nested_loop, effects, imports)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        nested = in_nested_loop or isinstance(
            node, (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
        )
        stack.extend((child, nested) for child in syntax_children(node))
    return effects


def _bind(target: cst.BaseExpression, effects: LoopEffects) -> None:
    if isinstance(target, cst.Name):
        effects.rebound.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind(element.value, effects)
    elif isinstance(target, cst.StarredElement):
        _bind(target.value, effects)
    elif isinstance(target, cst.Attribute):
        chain = dotted_name(target)
        if chain:
            effects.mutated.add(chain)
    elif isinstance(target, cst.Subscript):
        chain = dotted_name(target.value)
        if chain:
            effects.mutated.add(chain)


def _record(node: cst.CSTNode, in_nested_loop: bool, effects: LoopEffects, imports: ImportTable) -> None:
    if isinstance(node, cst.Assign):
        for assign_target in node.targets:
            _bind(assign_target.target, effects)
    elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
        _bind(node.target, effects)
    elif isinstance(node, (cst.For, cst.CompFor)):
        _bind(node.target, effects)
    elif isinstance(node, cst.NamedExpr):
        _bind(node.target, effects)
    elif isinstance(node, cst.AsName):
        _bind(node.name, effects)
    elif isinstance(node, cst.Del):
        _bind(node.target, effects)
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        effects.rebound.add(node.name.value)
    elif isinstance(node, cst.ImportAlias):
        effects.rebound.add((node.evaluated_alias or node.evaluated_name).partition(".")[0])
    elif isinstance(node, cst.Call):
        _record_call(node, in_nested_loop, effects, imports)


def _record_call(call: cst.Call, in_nested_loop: bool, effects: LoopEffects, imports: ImportTable) -> None:
    func = call.func
    arguments_are_safe = False
    qualified = imports.qualified_name(func)
    if qualified is not None:
        arguments_are_safe = catalog.is_side_effect_free(qualified)
    elif isinstance(func, cst.Name):
        arguments_are_safe = imports.is_builtin(func, func.value) and func.value in catalog.PURE_BUILTINS
    elif isinstance(func, cst.Attribute):
        method = func.attr.value
        if method in _TRAINING_STEP_METHODS and not in_nested_loop:
            effects.calls_training_step = True
        arguments_are_safe = method in catalog.NON_MUTATING_METHODS
        if not arguments_are_safe:
            receiver = dotted_name(func.value)
            if receiver:
                effects.mutated.add(receiver)
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if arguments_are_safe and keyword != "out":
            continue
        chain = dotted_name(arg.value)
        if chain:
            effects.mutated.add(chain)


def is_invariant(
    expr: cst.BaseExpression,
    frame: LoopFrame,
    imports: ImportTable,
    allow_conversions: bool = False,
) -> bool:
    """``expr`` computes the same value on every iteration of ``frame``'s loop.

    Names and attribute chains must not be changed by the loop; every call inside must be a
    side-effect-free library function that does not make a fresh object (a factory such as
    ``torch.zeros`` is never invariant; a conversion such as ``torch.from_numpy`` only with
    ``allow_conversions``), or a non-mutating method of an invariant receiver.
    """
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)):
            chain = dotted_name(node)
            if chain is not None:
                if frame.changes(chain):
                    return False
                continue
        elif isinstance(node, cst.Call):
            if not _call_may_be_invariant(node, imports, allow_conversions):
                return False
            if isinstance(node.func, cst.Attribute) and imports.qualified_name(node.func) is None:
                stack.append(node.func.value)
            stack.extend(arg.value for arg in node.args)
            continue
        elif isinstance(
            node,
            (cst.Lambda, cst.Await, cst.Yield, cst.NamedExpr, cst.ListComp, cst.SetComp,
             cst.DictComp, cst.GeneratorExp),
        ):
            return False
        stack.extend(syntax_children(node))
    return True


def _call_may_be_invariant(call: cst.Call, imports: ImportTable, allow_conversions: bool) -> bool:
    qualified = imports.qualified_name(call.func)
    if qualified is not None:
        if qualified in catalog.FACTORIES or not catalog.is_side_effect_free(qualified):
            return False
        if qualified in catalog.PURE_CONVERSIONS:
            return allow_conversions
        return not any(arg.keyword is not None and arg.keyword.value == "out" for arg in call.args)
    if isinstance(call.func, cst.Name):
        name = call.func.value
        return (
            imports.is_builtin(call.func, name)
            and name in catalog.PURE_BUILTINS
            and name not in catalog.FRESH_OBJECT_BUILTINS
        )
    if isinstance(call.func, cst.Attribute):
        return call.func.attr.value in catalog.NON_MUTATING_METHODS - {"copy", "clone"}
    return False
