"""Which rules a ``select`` / ``ignore`` / ``extend-select`` combination enables.

Kept apart from the registry and free of heavy imports: it works on anything with a ``code``
and a ``default_enabled``, so a run whose every file is cached can resolve its selection from
the cached rule index without importing the rules (and libcst).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class UnknownCodeError(ValueError):
    """A selector that matches no rule."""


class RuleLike(Protocol):
    code: str
    default_enabled: bool


R = TypeVar("R", bound=RuleLike)


def _check_selectors(selectors: Iterable[str], rules: Sequence[RuleLike]) -> list[str]:
    checked = []
    for selector in selectors:
        normalised = selector.strip().upper()
        if normalised != "ALL" and not any(rule.code.startswith(normalised) for rule in rules):
            raise UnknownCodeError(f"unknown rule code or prefix: {selector}")
        checked.append(normalised)
    return checked


def _specificity(code: str, selectors: list[str]) -> int:
    """Length of the longest selector matching ``code`` (ALL counts as 0), or -1."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def select(
    rules: Sequence[R],
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> list[R]:
    """The ``rules`` a combination enables, in the order given.

    Without ``select`` the default set applies; opt-in rules are enabled only by a selector
    (code, prefix or ``ALL``). Where a rule is both selected and ignored, the more specific
    selector wins, and ``ignore`` wins a tie, as in Ruff.
    """
    chosen = _check_selectors(select, rules) if select is not None else None
    ignored = _check_selectors(ignore, rules)
    extended = _check_selectors(extend_select, rules)
    enabled = []
    for rule in rules:
        if chosen is None:
            selected = _specificity(rule.code, extended)
            if rule.default_enabled:
                selected = max(selected, 0)
        else:
            selected = _specificity(rule.code, chosen + extended)
        if selected >= 0 and selected > _specificity(rule.code, ignored):
            enabled.append(rule)
    return enabled
