"""The rule catalogue: one module per rule, one sub-package per family.

A family package defines ``FAMILY``; each of its modules defines exactly one ``Rule``
subclass. Registering a rule means adding its module; there is no second list to update.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from functools import cache

from perflint import selection
from perflint.engine.rule import FIX_SAFETIES, Family, Rule, message_fields
from perflint.selection import UnknownCodeError

__all__ = ["UnknownCodeError", "all_rules", "families", "rule_by_code", "select_rules"]

_FAMILY_PACKAGES = ("vectorisation", "device", "data_loading", "recomputation", "settings")


@cache
def families() -> tuple[Family, ...]:
    return tuple(importlib.import_module(f"{__name__}.{package}").FAMILY for package in _FAMILY_PACKAGES)


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule, sorted by code."""
    rules: list[type[Rule]] = []
    for package_name in _FAMILY_PACKAGES:
        package = importlib.import_module(f"{__name__}.{package_name}")
        for module_info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{module_info.name}")
            defined = [
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module.__name__
            ]
            if len(defined) != 1:
                raise TypeError(f"{module.__name__} must define exactly one rule, found {len(defined)}")
            rule = defined[0]
            _check_metadata(rule, package.FAMILY)
            rules.append(rule)
    rules.sort(key=lambda rule: rule.code)
    codes = [rule.code for rule in rules]
    duplicates = {code for code in codes if codes.count(code) > 1}
    if duplicates:
        raise TypeError(f"duplicate rule codes: {', '.join(sorted(duplicates))}")
    return tuple(rules)


def _check_metadata(rule: type[Rule], family: Family) -> None:
    if getattr(rule, "family", None) is not family:
        raise TypeError(f"{rule.__name__} must declare family = FAMILY of its package")
    if not rule.code.startswith(family.prefix) or not rule.code[3:].isdigit() or len(rule.code) != 6:
        raise TypeError(f"{rule.__name__}: code {rule.code!r} must be {family.prefix}NN")
    if rule.fix_safety not in FIX_SAFETIES:
        raise TypeError(f"{rule.__name__}: fix_safety must be one of {FIX_SAFETIES}")
    message_fields(rule.message)


def rule_by_code(code: str) -> type[Rule] | None:
    for rule in all_rules():
        if rule.code == code.upper():
            return rule
    return None


def select_rules(
    select: Iterable[str] | None = None,
    ignore: Iterable[str] = (),
    extend_select: Iterable[str] = (),
) -> list[type[Rule]]:
    """The registered rules a ``select`` / ``ignore`` / ``extend-select`` combination enables
    (see ``perflint.selection``)."""
    return selection.select(all_rules(), select, ignore, extend_select)
