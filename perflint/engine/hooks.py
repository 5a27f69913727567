"""Hooks: how rules and knowledge modules ask to be called during the one traversal.

A hook is a method named after a libcst node type, as in libcst's own visitors:
``visit_<Node>(node)`` runs when the walk enters a node, ``leave_<Node>(node)`` when it has
walked all of the node's children, and ``visit_<Node>_<field>(node)`` /
``leave_<Node>_<field>(node)`` just before and just after the walk of one field of the node
(``visit_For_body`` runs once the loop's iterable and target have been walked).

A hook that can never fire is an error at registration, not a silent no-op: the node type must
be a concrete libcst class (``visit_BaseExpression`` names an abstract one, which no node has
as its exact type), and the field must be one the engine walks (whitespace and punctuation
fields are not walked).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import libcst as cst

from perflint.engine.walker import CONCRETE_NODE_TYPES, syntax_fields

VISIT = "visit"
LEAVE = "leave"

_HOOK = re.compile(r"^(visit|leave)_([A-Z][A-Za-z]*)(?:_([a-z][a-z_]*))?$")


class HookError(TypeError):
    """A hook method that names no node type or field the traversal can reach."""


@dataclass(frozen=True)
class Hook:
    event: str  # VISIT or LEAVE
    node_type: type
    field: str | None  # None: the node itself
    attribute: str  # the method's name


@cache
def hooks_of(owner: type) -> tuple[Hook, ...]:
    """Every hook method of the class ``owner``, checked."""
    hooks = []
    for attribute in dir(owner):
        match = _HOOK.match(attribute)
        if match is None:
            continue
        event, type_name, field = match.groups()
        node_type = getattr(cst, type_name, None)
        if node_type not in CONCRETE_NODE_TYPES:
            raise HookError(
                f"{owner.__name__}.{attribute} can never fire: {type_name} is not a concrete libcst node type"
            )
        if field is not None and field not in syntax_fields(node_type):
            raise HookError(
                f"{owner.__name__}.{attribute} can never fire: the engine walks "
                f"{', '.join(syntax_fields(node_type)) or 'no fields'} of {type_name}, not {field}"
            )
        hooks.append(Hook(event, node_type, field, attribute))
    return tuple(hooks)
