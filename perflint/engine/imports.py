"""What names resolve to: an alias table built from import statements during the traversal.

libcst's QualifiedNameProvider answers the same question, but on timm it made the lint about
seven times slower than the parse; imports are the only bindings the rules need resolved.
A name assigned, defined or used as a parameter or loop target no longer refers to its import
in that scope, except in the fallback of an optional import (``try: from numba import njit`` /
``except ImportError: def njit(f): return f``): the fallback runs only where the library is
missing, and the code is judged as it runs with the library installed. A parameter named after
a package the catalogue describes (``def _validation_loss(self, torch, val_sessions)``), with no
annotation or default saying it holds anything else, holds that package: code that imports a
library lazily hands the module on under its own name (cornac's models).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.walker import syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

_SHADOWED = ""

# The exceptions a failed import raises: a handler of one of them is an optional import's fallback.
_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})

# Public names that a library re-exports from a private module.
_CANONICAL = {
    "torch.utils.data.dataloader.DataLoader": "torch.utils.data.DataLoader",
    "torch.functional.norm": "torch.norm",
    "numpy.core.multiarray.array": "numpy.array",
}


def dotted_name(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    # Exact types: isinstance against libcst's classes goes through ABCMeta, and this runs
    # for nearly every name and attribute the rules look at.
    if type(expr) is cst.Name:
        return expr.value
    parts = []
    while type(expr) is cst.Attribute:
        parts.append(expr.attr.value)
        expr = expr.value
    if type(expr) is not cst.Name:
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


def target_names(target: cst.BaseExpression) -> Iterator[str]:
    """Plain names bound by an assignment or loop target (``a``, ``a, (b, *c)``)."""
    if type(target) is cst.Name:
        yield target.value
    elif type(target) is cst.Tuple or type(target) is cst.List:
        for element in target.elements:
            yield from target_names(element.value)
    elif type(target) is cst.StarredElement:
        yield from target_names(target.value)


def parameter_names(params: cst.Parameters) -> Iterator[str]:
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        yield param.name.value
    for star in (params.star_arg, params.star_kwarg):
        if type(star) is cst.Param:
            yield star.name.value


def chains_overlap(first: str, second: str) -> bool:
    """One dotted chain is the other or a prefix of it: changing one may change the other."""
    return first == second or first.startswith(second + ".") or second.startswith(first + ".")


class ImportTable:
    """Import aliases per scope (``Scope.aliases``): module, then one table for each enclosing
    function or class."""

    def __init__(self, context: FileContext) -> None:
        self._context = context
        self._scopes = context.scopes.stack
        # Every name an import has bound, in any scope: a chain rooted in any other name
        # resolves to no import, which most chains the rules ask about are (``self.x``, ``y``).
        self._import_names: set[str] = set()
        # Top-level packages imported so far anywhere in the file, in any scope.
        self._imported_packages: set[str] = set()
        # ``from numpy import *`` anywhere at module level: any global name, builtins
        # included (numpy's ``sum``, ``max``, ``abs``), may be the module's, wherever it is read.
        # A star import of a project module binds only the names the project index says it
        # may (``ProjectView.star_names``): those are shadowed in the whole module until the
        # import, which binds them to what they surely mean; the rest keep their meaning.
        self._star_imported = False
        self._star_names: dict[str, dict[str, str]] = {}
        # How many ``except ImportError:`` handlers enclose the current node.
        self._import_fallbacks = 0
        # Top-level packages the module's own top-level statements import (``import pytest``).
        self._module_level_packages: frozenset[str] = frozenset()

    # Hooks ---------------------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._module_level_packages = frozenset(_packages_imported_by(node.body))
        project = self._context.project
        self._star_names = project.star_names if project is not None else {}
        for star in _star_imports(node.body):
            names = self._star_names.get(_spelled(star))
            if names is None:
                self._star_imported = True
            else:
                self.shadow_all(names)

    def visit_Import(self, node: cst.Import) -> None:
        self.add_import(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.add_import(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.shadow(node.name.value)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.shadow(node.name.value)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._bind_parameters(node.params)

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._bind_parameters(node.params)

    def _bind_parameters(self, params: cst.Parameters) -> None:
        """Each parameter shadows its name, except one that holds a package passed on under
        its own name, which binds the name to the package as ``import torch`` would."""
        packages = {param.name.value for param in _package_parameters(params)}
        self.shadow_all(name for name in parameter_names(params) if name not in packages)
        for package in packages:
            self._scopes[-1].aliases[package] = package
            self._import_names.add(package)
            self._imported_packages.add(package)

    def leave_Assign(self, node: cst.Assign) -> None:
        for assign_target in node.targets:
            self.shadow_all(target_names(assign_target.target))

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.shadow_all(target_names(node.target))

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        self.shadow_all(target_names(node.target))

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        self.shadow_all(target_names(node.target))

    def visit_For_target(self, node: cst.For) -> None:
        self.shadow_all(target_names(node.target))

    def visit_CompFor_target(self, node: cst.CompFor) -> None:
        self.shadow_all(target_names(node.target))

    def leave_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self.shadow_all(target_names(node.asname.name))

    def visit_ExceptHandler_body(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self.shadow_all(target_names(node.name.name))
        if _handles_import_errors(node):
            self._import_fallbacks += 1

    def leave_ExceptHandler_body(self, node: cst.ExceptHandler) -> None:
        if _handles_import_errors(node):
            self._import_fallbacks -= 1

    # Queries -------------------------------------------------------------------------------

    def add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        scope = self._scopes[-1].aliases
        if isinstance(node, cst.Import):
            for alias in node.names:
                module = dotted_name(alias.name)
                if module is None:
                    continue
                self._imported_packages.add(module.split(".", 1)[0])
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    bound = alias.asname.name.value
                    scope[bound] = module
                else:
                    bound = module.split(".", 1)[0]
                    scope[bound] = bound
                self._import_names.add(bound)
            return
        if isinstance(node.names, cst.ImportStar):
            # Where it stands, it rebinds its names over the file's earlier imports.
            for name, meaning in self._star_names.get(_spelled(node), {}).items():
                scope[name] = meaning
                if meaning:
                    self._import_names.add(name)
                    self._imported_packages.add(meaning.split(".", 1)[0])
            return
        if node.relative or node.module is None:
            for alias in node.names:
                self.shadow(alias.evaluated_alias or alias.evaluated_name)
            return
        module = dotted_name(node.module)
        if module is None:
            return
        self._imported_packages.add(module.split(".", 1)[0])
        for alias in node.names:
            bound = alias.evaluated_alias or alias.evaluated_name
            scope[bound] = f"{module}.{alias.evaluated_name}"
            self._import_names.add(bound)

    def shadow(self, name: str) -> None:
        """A local assignment rebinds ``name``: it no longer refers to an import, unless it is
        an optional import's fallback for that name."""
        aliases = self._scopes[-1].aliases
        if self._import_fallbacks and aliases.get(name):
            return
        aliases[name] = _SHADOWED

    def shadow_all(self, names: Iterable[str]) -> None:
        for name in names:
            self.shadow(name)

    def has_imported(self, package: str) -> bool:
        """The file has imported ``package`` (or one of its modules) before this point, in any
        scope: the evidence that a library-specific method name (``iterrows``) is that library's."""
        self._context.note_imports_read()
        return package in self._imported_packages

    def imports_at_module_level(self, packages: Iterable[str]) -> bool:
        """One of the module's top-level statements imports one of ``packages`` (or one of
        their modules), wherever it stands in the file: ``import pytest``, ``from hypothesis
        import given``; not an import inside a function or a class."""
        self._context.note_imports_read()
        return not self._module_level_packages.isdisjoint(packages)

    def _lookup(self, name: str) -> str | None:
        for scope in reversed(self._scopes):
            aliases = scope.aliases
            if name in aliases:
                return aliases[name]
        return None

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """The fully qualified name ``expr`` refers to, when it is rooted in an import."""
        root = expr
        while type(root) is cst.Attribute:
            root = root.value
        if type(root) is not cst.Name or root.value not in self._import_names:
            return None
        dotted = dotted_name(expr)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        target = self._lookup(head)
        if not target:
            return None
        full = f"{target}.{rest}" if rest else target
        return _CANONICAL.get(full, full)

    def reference(self, qualified: str) -> str | None:
        """The shortest text naming ``qualified`` (``torch.from_numpy``) through the imports in
        force here: ``th.from_numpy`` after ``import torch as th``, ``from_numpy`` after
        ``from torch import from_numpy``; None when no import reaches it."""
        self._context.note_imports_read()
        best: str | None = None
        for scope in self._scopes:
            for name, target in scope.aliases.items():
                if (
                    target
                    and (qualified == target or qualified.startswith(target + "."))
                    and self._lookup(name) == target
                ):
                    text = name + qualified[len(target) :]
                    if best is None or len(text) < len(best):
                        best = text
        return best

    def is_free(self, name: str) -> bool:
        """No import or assignment seen so far binds ``name``, and no star import may."""
        self._context.note_imports_read()
        return self._lookup(name) is None and not self._star_imported

    def is_builtin(self, expr: cst.BaseExpression, name: str) -> bool:
        """``expr`` is the bare builtin ``name``, not shadowed by an import or assignment, in a
        file without a star import (``from torch import *`` brings torch's ``max``). Imported
        from ``builtins`` (``from builtins import range``, as Python 2 compatible code does), it
        is the builtin still."""
        if not isinstance(expr, cst.Name) or expr.value != name or self._star_imported:
            return False
        bound = self._lookup(name)
        return bound is None or bound == f"builtins.{name}"


def _package_parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    """The parameters named after a package the catalogue describes (``torch``, ``numpy``),
    with no annotation and no default: a module handed on under its own name. ``torch=False``
    (a switch) or ``numpy: bool`` is not one."""
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value in catalog.LIBRARY_PACKAGES and param.annotation is None and param.default is None:
            yield param


def _spelled(node: cst.ImportFrom) -> str:
    """The module a ``from`` import reads, as written: ``.trainer``, ``lpips.trainer``, ``.``."""
    module = dotted_name(node.module) if node.module is not None else ""
    return "." * len(node.relative) + (module or "")


def _star_imports(body: Sequence[cst.CSTNode]) -> Iterator[cst.ImportFrom]:
    """The ``from … import *`` among module-level statements, inside ``if``/``try``/``with``
    blocks too (where a star import may stand), not in functions or classes."""
    stack: list[cst.CSTNode] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.SimpleStatementLine, cst.SimpleStatementSuite)):
            for small in node.body:
                if isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar):
                    yield small
        elif isinstance(node, (cst.If, cst.Try, cst.TryStar, cst.With, cst.For, cst.While)):
            stack.extend(syntax_children(node))
        elif isinstance(node, (cst.IndentedBlock, cst.Else, cst.ExceptHandler, cst.ExceptStarHandler, cst.Finally)):
            stack.extend(syntax_children(node))


def _handles_import_errors(handler: cst.ExceptHandler) -> bool:
    """``except ImportError:``, ``except (ModuleNotFoundError, OSError):``: an optional import's
    fallback. A bare ``except:`` or ``except Exception:`` is not: it also catches the errors of
    the code beside the import."""
    caught = handler.type
    names = [element.value for element in caught.elements] if type(caught) is cst.Tuple else [caught]
    return any(type(name) is cst.Name and name.value in _IMPORT_ERRORS for name in names)


def _packages_imported_by(statements: Sequence[cst.BaseStatement]) -> Iterator[str]:
    """The top-level packages that ``statements`` import, absolute imports only."""
    for statement in statements:
        if type(statement) is not cst.SimpleStatementLine:
            continue
        for small in statement.body:
            if type(small) is cst.Import:
                modules = [dotted_name(alias.name) for alias in small.names]
            elif type(small) is cst.ImportFrom and small.module is not None and not small.relative:
                modules = [dotted_name(small.module)]
            else:
                continue
            yield from (module.partition(".")[0] for module in modules if module is not None)
