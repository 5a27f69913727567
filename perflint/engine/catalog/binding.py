"""Binding a call's arguments to the parameters of a catalogued signature, once per call.

A rule asks for ``num_workers`` by name and gets the expression whether it was passed by
keyword or as the sixth positional argument. Where ``*args`` or ``**kwargs`` could supply a
parameter that was not passed explicitly, the binding says the parameter is unknowable
rather than absent: a rule that acts on an argument's absence must stay silent then.
"""

from __future__ import annotations

import libcst as cst

from perflint.engine.catalog.records import Function, Method, Signature


class BoundArguments:
    """The arguments of one call, by parameter name."""

    def __init__(
        self,
        arguments: dict[str, cst.BaseExpression],
        unknowable: frozenset[str],
        extra_positional: tuple[cst.BaseExpression, ...],
        extra_keywords: dict[str, cst.BaseExpression],
    ) -> None:
        self._arguments = arguments
        self._unknowable = unknowable
        # Arguments collected by the signature's own ``*args`` and ``**kwargs``.
        self.extra_positional = extra_positional
        self.extra_keywords = extra_keywords

    def argument(self, parameter: str) -> cst.BaseExpression | None:
        """The expression passed for ``parameter``; None when not passed or unknowable."""
        return self._arguments.get(parameter)

    def is_known(self, parameter: str) -> bool:
        """Whether the call shows what ``parameter`` receives (the default when not passed).

        False when the parameter was not passed explicitly and an unpacked ``*args`` or
        ``**kwargs`` in the call may supply it.
        """
        return parameter not in self._unknowable

    def passes(self, parameter: str) -> bool:
        """``parameter`` is explicitly given an argument, by position or keyword."""
        return parameter in self._arguments

    @property
    def given(self) -> dict[str, cst.BaseExpression]:
        """Every explicitly bound parameter and its expression, in signature order."""
        return dict(self._arguments)


def bind(call: cst.Call, entry: Function | Method | Signature) -> BoundArguments | None:
    """Bind ``call``'s arguments to ``entry``'s parameters as Python would.

    None when the call cannot match the signature (too many positional arguments, an
    unexpected or repeated keyword): the call then is not the catalogued function's, or it
    fails when run, and no rule should reason about it.
    """
    if isinstance(entry, Signature):
        signature, overloaded = entry, False
    elif isinstance(entry, Function):
        signature, overloaded = entry.signature, entry.overloaded
    else:
        if entry.signature is None:
            return None
        signature, overloaded = entry.signature, False
    arguments: dict[str, cst.BaseExpression] = {}
    extra_positional: list[cst.BaseExpression] = []
    extra_keywords: dict[str, cst.BaseExpression] = {}
    unpacked_positional = unpacked_keywords = False
    position = 0
    for arg in call.args:
        if arg.star == "*":
            unpacked_positional = True
        elif arg.star == "**":
            unpacked_keywords = True
        elif arg.keyword is not None:
            name = arg.keyword.value
            if name in signature.keywords:
                if name in arguments:  # also Python's "multiple values for argument"
                    return None
                arguments[name] = arg.value
            elif signature.var_keyword is not None:
                if name in extra_keywords:
                    return None
                extra_keywords[name] = arg.value
            else:
                return None
        elif unpacked_positional or overloaded:
            # After ``*xs`` a positional argument's slot is unknown; in an overloaded
            # signature so is every positional argument's.
            position += 1
        elif position < len(signature.positional):
            arguments[signature.positional[position]] = arg.value
            position += 1
        elif signature.var_positional is not None:
            extra_positional.append(arg.value)
        else:
            return None
    unknowable: set[str] = set()
    if unpacked_positional or (overloaded and position):
        unknowable.update(name for name in signature.positional if name not in arguments)
    if unpacked_keywords:
        unknowable.update(name for name in signature.keywords if name not in arguments)
    return BoundArguments(arguments, frozenset(unknowable), tuple(extra_positional), extra_keywords)
