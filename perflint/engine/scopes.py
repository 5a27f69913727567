"""The scopes around the current node: the module, then each function, lambda and class body
it is in, innermost last.

One stack for the whole engine. It is pushed when the walk enters a function's, a lambda's or
a class's body and popped when it leaves it, here and nowhere else; it is the first knowledge
module, so the other modules find the new scope on entering a body and the old one until they
are done leaving it. Each keeps what it knows per scope on the ``Scope`` (import aliases,
array bindings, loops and the conditions around the node, the function frame) and asks this
stack for the current one instead of keeping a stack of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

import libcst as cst

if TYPE_CHECKING:
    from perflint.engine.arrays import _Layer
    from perflint.engine.functions import ClassFrame, FunctionFrame
    from perflint.engine.linter import FileContext
    from perflint.engine.loops import LoopFrame, _Guard

ScopeNode = Union[cst.Module, cst.FunctionDef, cst.Lambda, cst.ClassDef]


class Scope:
    """One scope, and what each knowledge module knows in it."""

    __slots__ = (
        "node",
        "aliases",
        "layers",
        "loops",
        "guards",
        "tries",
        "initialisations",
        "leaving_branches",
        "function",
        "class_frame",
    )

    def __init__(self, node: ScopeNode | None) -> None:
        # None for the module before the walk reaches it.
        self.node = node
        # ``ImportTable``: what the names bound here import (or that they are shadowed).
        self.aliases: dict[str, str] = {}
        # ``ArrayKnowledge``: the scope's own bindings, then one layer per branch open in it.
        self.layers: list[_Layer] = []
        # ``LoopKnowledge``: the loops around the current node in this scope; the conditions,
        # the ``try`` bodies, the lazy-initialisation branches and the branches that leave the
        # loops around it, each with the loop depth at which it was entered.
        self.loops: list[LoopFrame] = []
        self.guards: list[_Guard] = []
        self.tries: list[tuple[int, cst.CSTNode]] = []
        self.initialisations: list[tuple[cst.If, int]] = []
        self.leaving_branches: list[tuple[cst.If, int, bool]] = []
        # ``FunctionKnowledge``: the frame of a function or lambda body (None in a class body
        # and at module level), and the class whose body or method this is.
        self.function: FunctionFrame | None = None
        self.class_frame: ClassFrame | None = None


class ScopeStack:
    """The scopes around the current node, module first."""

    def __init__(self, context: FileContext) -> None:
        self.stack: list[Scope] = [Scope(None)]

    # Hooks ---------------------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self.stack[0].node = node

    def _enter(self, node: cst.FunctionDef | cst.Lambda | cst.ClassDef) -> None:
        self.stack.append(Scope(node))

    def _leave(self, node: cst.FunctionDef | cst.Lambda | cst.ClassDef) -> None:
        self.stack.pop()

    visit_FunctionDef_body = visit_Lambda_body = visit_ClassDef_body = _enter
    leave_FunctionDef_body = leave_Lambda_body = leave_ClassDef_body = _leave

    # Queries -------------------------------------------------------------------------------

    @property
    def current(self) -> Scope:
        """The innermost scope around the current node."""
        return self.stack[-1]

    @property
    def enclosing(self) -> Scope | None:
        """The scope around the current one; None at module level."""
        return self.stack[-2] if len(self.stack) > 1 else None
