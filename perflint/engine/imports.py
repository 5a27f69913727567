"""What names resolve to: an alias table built from import statements during the traversal.

libcst's QualifiedNameProvider answers the same question, but on timm it made the lint about
seven times slower than the parse; imports are the only bindings the rules need resolved.
"""

from __future__ import annotations

from typing import Iterable, Optional, Union

import libcst as cst

_SHADOWED = ""

# Public names that a library re-exports from a private module.
_CANONICAL = {
    "torch.utils.data.dataloader.DataLoader": "torch.utils.data.DataLoader",
    "torch.functional.norm": "torch.norm",
    "numpy.core.multiarray.array": "numpy.array",
}


def dotted_name(expr: cst.BaseExpression) -> Optional[str]:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


def chains_overlap(first: str, second: str) -> bool:
    """One dotted chain is the other or a prefix of it: changing one may change the other."""
    return first == second or first.startswith(second + ".") or second.startswith(first + ".")


class ImportTable:
    """Import aliases per scope: module, then one table for each enclosing function or class."""

    def __init__(self) -> None:
        self._scopes: list[dict[str, str]] = [{}]

    def push_scope(self) -> None:
        self._scopes.append({})

    def pop_scope(self) -> None:
        self._scopes.pop()

    def add_import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        scope = self._scopes[-1]
        if isinstance(node, cst.Import):
            for alias in node.names:
                module = dotted_name(alias.name)
                if module is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    scope[alias.asname.name.value] = module
                else:
                    top = module.split(".", 1)[0]
                    scope[top] = top
            return
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    self.shadow(alias.evaluated_alias or alias.evaluated_name)
            return
        module = dotted_name(node.module)
        if module is None:
            return
        for alias in node.names:
            bound = alias.evaluated_alias or alias.evaluated_name
            scope[bound] = f"{module}.{alias.evaluated_name}"

    def shadow(self, name: str) -> None:
        """A local assignment rebinds ``name``: it no longer refers to an import."""
        self._scopes[-1][name] = _SHADOWED

    def shadow_all(self, names: Iterable[str]) -> None:
        for name in names:
            self.shadow(name)

    def _lookup(self, name: str) -> Optional[str]:
        for scope in reversed(self._scopes):
            if name in scope:
                return scope[name]
        return None

    def qualified_name(self, expr: cst.BaseExpression) -> Optional[str]:
        """The fully qualified name ``expr`` refers to, when it is rooted in an import."""
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        target = self._lookup(head)
        if not target:
            return None
        full = f"{target}.{rest}" if rest else target
        return _CANONICAL.get(full, full)

    def is_builtin(self, expr: cst.BaseExpression, name: str) -> bool:
        """``expr`` is the bare builtin ``name``, not shadowed by an import or assignment."""
        return isinstance(expr, cst.Name) and expr.value == name and self._lookup(name) is None

    def mentions(self, top_level_module: str) -> bool:
        """Some import anywhere in scope comes from ``top_level_module``."""
        prefix = top_level_module + "."
        return any(
            target == top_level_module or target.startswith(prefix)
            for scope in self._scopes
            for target in scope.values()
        )
