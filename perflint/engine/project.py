"""The project index: what the other files of the project define, for the file being linted.

The libcst pass sees one file. Much of what a rule needs to know lives in another file of the
same project: ``class FocalLoss(BaseLoss)`` is an ``nn.Module`` because ``BaseLoss`` (in
``losses/base.py``) subclasses ``torch.nn.modules.loss._Loss``; ``trainer.fit_batch(b)`` is a
training step because ``fit_batch`` (in ``engine.py``) calls ``loss.backward()`` and steps an
optimizer; ``build_anchors()`` runs once because only ``__init__`` calls it, while
``iou(a, b)`` runs per batch because the training loop does.

So before the libcst pass, every file being linted is read with the standard library's
``ast`` (a small fraction of a libcst parse) into a ``FileSummary``: its classes with their
bases and the classes its ``self.<attribute>`` hold, its functions with what a call of them
does (calls ``backward``, steps an optimizer, what it returns, which parameters it mutates)
and whom they call, in a loop or not. A summary depends only on the file's bytes and its
module name, so it is cached by content hash (``perflint.engine.project_cache``). The
summaries are joined into a ``ProjectIndex``, and each file is handed a ``ProjectView``: the
facts of the project it depends on, keyed by the names the file itself writes. The view is
small and picklable (it travels to the worker that lints the file) and its ``digest`` enters
the file's cache key, so editing a base class's file changes the findings of its subclass's
file on the next run.

This module must not import libcst: the index is built in the main process, where a run whose
every file is cached never imports it.
"""

from __future__ import annotations

import ast
import bisect
import hashlib
import itertools
import json
import operator
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from perflint.conventions import is_test_path
from perflint.engine.roles import (
    CACHING_DECORATORS,
    LIBRARY_CALLED_PRIVATE_NAMES,
    OPTIMIZER_CLASSES,
    PER_CALL,
    RUN_ONCE,
    UNCALLED_EVIDENCE,
    Frequency,
    is_entry_point,
    is_optimizer_name,
    names_an_in_place_method,
    role_of,
    yields_to_callers,
)

# Bumped when a summary's content or meaning changes: cached summaries of another format are
# ignored.
SUMMARY_FORMAT = 12
# How many calls deep a function's effects are followed (``fit`` → ``fit_batch`` → ``step``),
# and how many base classes up a method or base is looked for.
_CALL_DEPTH = 3
_BASE_DEPTH = 12
# At most this many subclasses of a class are searched for overrides of a method it calls.
_SUBCLASS_LIMIT = 200
# A loop's iterable is quoted in evidence up to this many characters.
_QUOTE_LENGTH = 40
# Bases outside the project that call no method of a subclass by name.
_INERT_BASES = frozenset({"object", "abc.ABC", "typing.Generic", "typing.Protocol"})
_MODULE_SCOPE = "<module>"
_MAIN_GUARD = "<main>"


@dataclass(frozen=True)
class CallSite:
    """One call a function makes. ``target`` is ``q:<qualified name>`` (a function or class of
    any module, through the file's imports or its own module-level names), ``self:<method>``
    or ``attr:<attribute>:<method>`` (a method of what ``self.<attribute>`` holds); ``loop``
    quotes the iterable of the innermost loop around the call ("" when in none); ``grad_off``:
    the call is in a ``with`` block that may turn autograd off (``with torch.no_grad():``), or
    in a function decorated so; ``once``: the call is in a branch that initialises an attribute
    of ``self`` the first time only (``if self.lams is None: self.lams = self._pick_lam(…)``),
    so it runs once per object however often its caller runs."""

    target: str
    loop: str = ""
    grad_off: bool = False
    once: bool = False


@dataclass
class FunctionSummary:
    """What one call of a module-level function or a method does, as far as its own body shows."""

    role: str | None
    calls_backward: bool = False
    steps_optimizer: bool = False
    # The qualified name of the return annotation, or of the one function every ``return``
    # calls (``torch.zeros``): the libcst side turns it into an array kind with the catalogue.
    returns: str | None = None
    mutated_parameters: tuple[str, ...] = ()
    calls: list[CallSite] = field(default_factory=list)
    # The parameters a call binds by position, ``self`` left out; ``None`` when it takes ``*args``.
    positional: tuple[str, ...] | None = None
    # The calls that pass a model put in eval mode earlier in this function, where autograd
    # may be recording: the call's target (as ``CallSite.target``) and the argument's slot,
    # its position (``"0"``) or keyword; for a call of a method of ``self``, also each
    # ``self.<attribute>`` in eval mode then (``"self.model"``), which that method sees alike.
    eval_arguments: tuple[tuple[str, str], ...] = ()
    # The methods the function calls by name, whatever the receiver (``self.m(…)``,
    # ``self._model.m(…)``, ``x.m(…)``, ``f().m(…)``), each with whether every such call may run
    # with autograd off (``CallSite.grad_off``).
    method_calls: dict[str, bool] = field(default_factory=dict)

    def to_json(self) -> list[Any]:
        return [
            self.role,
            self.calls_backward,
            self.steps_optimizer,
            self.returns,
            list(self.mutated_parameters),
            [[call.target, call.loop, call.grad_off, call.once] for call in self.calls],
            None if self.positional is None else list(self.positional),
            [list(argument) for argument in self.eval_arguments],
            self.method_calls,
        ]

    @classmethod
    def from_json(cls, data: list[Any]) -> FunctionSummary:
        role, backward, step, returns, mutated, calls, positional, eval_arguments, method_calls = data
        return cls(
            role,
            bool(backward),
            bool(step),
            returns,
            tuple(mutated),
            [CallSite(str(target), str(loop), bool(grad_off), bool(once)) for target, loop, grad_off, once in calls],
            None if positional is None else tuple(positional),
            tuple((str(target), str(slot)) for target, slot in eval_arguments),
            {str(method): bool(grad_off) for method, grad_off in method_calls.items()},
        )


@dataclass
class ClassSummary:
    bases: tuple[str, ...]  # qualified through the file's imports, or ``<module>.<Name>``
    attribute_classes: dict[str, str]  # ``self.<attribute> = <Class>(…)``: the class, qualified
    methods: tuple[str, ...]
    # Code the summary cannot follow may call the class's methods: a base that is no dotted
    # name (``Base[T]``, ``make_base()``), a metaclass other than ``ABCMeta``, a class
    # decorator other than ``dataclass`` (a registry's).
    hidden_callers: bool = False

    def to_json(self) -> list[Any]:
        return [list(self.bases), self.attribute_classes, list(self.methods), self.hidden_callers]

    @classmethod
    def from_json(cls, data: list[Any]) -> ClassSummary:
        bases, attributes, methods, hidden_callers = data
        return cls(tuple(bases), dict(attributes), tuple(methods), bool(hidden_callers))


@dataclass
class FileSummary:
    """One file's summary: ``functions`` by ``f`` or ``Class.f``, ``names`` maps each name the
    module binds by import or definition to its qualified name.

    What ``from <this module> import *`` binds: ``bound``, every name the module's top level
    binds (assignments and loop targets too), None when it may bind names no statement shows
    (``globals()``, ``exec``, a module ``__getattr__``); ``bound_once``, those bound once, by
    an import or definition in the module's body, whose ``names`` entry is what they mean
    wherever the module is read; ``exports``, its ``__all__`` when that
    is one literal list or tuple of strings; ``star_imports``, the module's own star imports,
    each as spelled (``.trainer``) with the module it reads ("" when it climbs above the top
    package).

    What may run a private function (``_f``, one leading underscore) of the project, for
    ``ProjectIndex.uncalled``: ``named_only``, the file's functions (``_f``, ``Class._f``) that
    only code naming them can run (a decorator that may register one leaves it out); ``mentions``, the private words the file's text holds
    (code, strings, comments) other than as ``self._f`` or ``cls._f`` in one of its classes,
    whose words are in ``self_mentions`` by class; ``name_prefixes``, the starts of names the
    file builds (``getattr(self, f"_forward_{mode}")``: ``_forward_``). The name of a ``def``
    is no mention; everything else is, a recursive call in the function's own body included
    (that call runs only once something else has run the function, but it may also be
    another function's of the same name: two classes' ``_get_vector``, one calling the other's)."""

    module: str
    names: dict[str, str]
    classes: dict[str, ClassSummary]
    functions: dict[str, FunctionSummary]
    bound: tuple[str, ...] | None = ()
    bound_once: tuple[str, ...] = ()
    exports: tuple[str, ...] | None = None
    star_imports: dict[str, str] = field(default_factory=dict)
    named_only: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    self_mentions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    name_prefixes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": SUMMARY_FORMAT,
            "module": self.module,
            "names": self.names,
            "classes": {name: summary.to_json() for name, summary in self.classes.items()},
            "functions": {name: summary.to_json() for name, summary in self.functions.items()},
            "bound": None if self.bound is None else list(self.bound),
            "bound_once": list(self.bound_once),
            "exports": None if self.exports is None else list(self.exports),
            "star_imports": self.star_imports,
            "named_only": list(self.named_only),
            "mentions": list(self.mentions),
            "self_mentions": {name: list(words) for name, words in self.self_mentions.items()},
            "name_prefixes": list(self.name_prefixes),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileSummary | None:
        """The summary, or None when ``data`` is of another format or malformed."""
        try:
            if data["format"] != SUMMARY_FORMAT:
                return None
            return cls(
                str(data["module"]),
                dict(data["names"]),
                {name: ClassSummary.from_json(value) for name, value in data["classes"].items()},
                {name: FunctionSummary.from_json(value) for name, value in data["functions"].items()},
                None if data["bound"] is None else tuple(data["bound"]),
                tuple(data["bound_once"]),
                None if data["exports"] is None else tuple(data["exports"]),
                dict(data["star_imports"]),
                tuple(data["named_only"]),
                tuple(data["mentions"]),
                {name: tuple(words) for name, words in data["self_mentions"].items()},
                tuple(data["name_prefixes"]),
            )
        except (KeyError, TypeError, ValueError):
            return None


# Module names ------------------------------------------------------------------------------


def module_name(absolute_path: str, root: str | None = None) -> tuple[str, bool]:
    """The dotted module name of a file and whether it is a package's ``__init__``: the folders
    above it that hold an ``__init__.py`` are its packages (a ``src/`` layout's ``src`` holds
    none, so it is not part of the name), never going above ``root``."""
    folder, name = os.path.split(absolute_path)
    stem = name.rsplit(".", 1)[0]
    is_package = stem == "__init__"
    parts = [] if is_package else [stem]
    stop = os.path.dirname(root) if root else None
    while folder and folder != stop and os.path.isfile(os.path.join(folder, "__init__.py")):
        parts.append(os.path.basename(folder))
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    parts.reverse()
    return ".".join(parts) or stem, is_package


# One file's summary ------------------------------------------------------------------------


def summarise_source(source: str, module: str, is_package: bool = False) -> FileSummary | None:
    """The summary of one file's source, or None when Python cannot parse it (the libcst pass
    reports why)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    try:
        return _Summariser(module, is_package).summarise(tree, source)
    except RecursionError:
        return None


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _quote(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= _QUOTE_LENGTH else text[: _QUOTE_LENGTH - 1] + "…"


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``"""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    sides = [test.left, *test.comparators]
    return any(isinstance(side, ast.Name) and side.id == "__name__" for side in sides) and any(
        isinstance(side, ast.Constant) and side.value == "__main__" for side in sides
    )


def _initialised_attribute(node: ast.If) -> str | None:
    """``self.<a>`` for ``if self.<a> is None:`` (or ``if not hasattr(self, "<a>"):``) whose
    body assigns ``self.<a>``: the body runs the first time only, once per object unless a
    method sets the attribute back (the attribute form of ``control_flow.is_lazy_initialisation``,
    read by the project index, which sees ``ast``); None for any other ``if``."""
    test = node.test
    if (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        chain = _dotted(test.left)
    elif (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and isinstance(test.operand, ast.Call)
        and isinstance(test.operand.func, ast.Name)
        and test.operand.func.id == "hasattr"
        and len(test.operand.args) == 2
        and isinstance(test.operand.args[1], ast.Constant)
        and isinstance(test.operand.args[1].value, str)
    ):
        owner = _dotted(test.operand.args[0])
        chain = f"{owner}.{test.operand.args[1].value}" if owner else None
    else:
        return None
    if chain is None or not chain.startswith("self."):
        return None
    assigned = any(
        isinstance(statement, ast.Assign) and any(_dotted(target) == chain for target in statement.targets)
        for statement in node.body
    )
    return chain if assigned else None


def _attributes_set_back(node: ast.ClassDef) -> set[str]:
    """The ``self.<a>`` chains a method of the class other than ``__init__`` sets to ``None``
    (ase's ``compare`` sets ``self.expanded_s2 = None`` for each structure): a branch that
    initialises one runs again after each such reset, not once per object."""
    found: set[str] = set()
    for member in node.body:
        if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) and member.name != "__init__":
            for statement in ast.walk(member):
                if (
                    isinstance(statement, ast.Assign)
                    and isinstance(statement.value, ast.Constant)
                    and statement.value.value is None
                ):
                    found.update(chain for chain in map(_dotted, statement.targets) if chain is not None)
    return found


# Read in a statement's text: a call of a dotted name, a backward pass, an optimizer's (or a
# gradient scaler's) step; comments are removed first. A call is looked for in the text
# reversed: ``(`` then the dotted name backwards, up to a letter not preceded by a word
# character; the second group is ``.`` when a ``.`` precedes it, for a method of an expression
# the name does not show (``f().m(``, ``x[0].m(``), whose target is unknown. Forwards, the same
# calls (``(?<!\w)([A-Za-z_][\w.]*)\(``) would be tried at every character; backwards the
# search starts at each ``(`` only, about ten times faster.
_CALL_REVERSED = re.compile(r"\(([\w.]*[A-Za-z_])(?!\w)(?=(\.?))")
_BACKWARD = re.compile(r"\.\s*(?:manual_)?backward\s*\(")
_STEP = re.compile(r"(\w+)\s*\.\s*step\s*\(\s*(\w*)")
_COMMENT = re.compile(r"#.*")
# A name passed as an argument: ``f(x)``, ``f(a, x)``, ``f(k=x)``, ``f(*x)``.
_PASSED = re.compile(r"[(,=*]\s*([A-Za-z_]\w*)\s*[,)]")
_TRY = (ast.Try, ast.TryStar) if hasattr(ast, "TryStar") else (ast.Try,)
_COMPOUND = frozenset(
    (
        ast.For,
        ast.AsyncFor,
        ast.While,
        ast.If,
        ast.With,
        ast.AsyncWith,
        ast.Match,
        *_TRY,
        ast.FunctionDef,
        ast.AsyncFunctionDef,
        ast.ClassDef,
    )
)
# The statements ``_Summariser._record_statement`` reads (by exact type: the statement walk
# asks of every statement).
_RECORDED = frozenset((ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return))


def _line_ranges(body: Sequence[ast.stmt]) -> list[tuple[int, int]]:
    """The lines of ``body``'s statements, functions and classes left out, as ranges."""
    ranges: list[tuple[int, int]] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if ranges and ranges[-1][1] >= statement.lineno - 1:
            ranges[-1] = (ranges[-1][0], statement.end_lineno or statement.lineno)
        else:
            ranges.append((statement.lineno, statement.end_lineno or statement.lineno))
    return ranges


# The torch context managers and decorators that may turn autograd off, by their last name
# (the libcst side reads them through the catalogue, which this module may not import; here a
# ``set_grad_enabled(True)`` counts as off too, which errs towards silence).
_GRAD_MODE_SWITCHES = frozenset({"no_grad", "inference_mode", "set_grad_enabled"})


def _may_disable_grad(expr: ast.expr) -> bool:
    """``expr``, as a context manager or decorator, may turn autograd off: ``torch.no_grad()``,
    ``torch.inference_mode()``, ``torch.set_grad_enabled(…)``."""
    chain = _dotted(expr.func if isinstance(expr, ast.Call) else expr)
    return chain is not None and chain.rpartition(".")[2] in _GRAD_MODE_SWITCHES


def _mode_switch(call: ast.Call) -> bool | None:
    """True for ``m.eval()`` and ``m.train(False)``, False for ``m.train()`` and ``m.train(x)``
    of any other mode (an unknown one may be training), None for any other call."""
    func = call.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "eval" and not call.args and not call.keywords:
        return True
    if func.attr == "train":
        mode = call.args[0] if call.args else None
        return isinstance(mode, ast.Constant) and mode.value is False
    return None


# A module that binds names no statement of its top level shows: it writes its globals
# (``globals()[name] = …``, ``vars()``, ``exec``, ``sys.modules[__name__]``) or answers for
# missing ones (a module-level ``__getattr__``).
_DYNAMIC_NAMES = re.compile(
    r"\b(?:globals|vars|exec)\s*\(|sys\.modules\s*\[\s*__name__\s*\]|^def\s+__getattr__\b", re.M
)
# Words one of those spellings holds: most files hold none, and looking for a word is much
# cheaper than the search.
_DYNAMIC_WORDS = ("globals", "vars", "exec", "sys.modules", "__getattr__")
# ``global a, b`` in a function: the module binds ``a`` and ``b`` when it runs.
_GLOBAL_STATEMENT = re.compile(r"^[ \t]*global[ \t]+(\w+(?:[ \t]*,[ \t]*\w+)*)", re.M)
# Every assignment to ``__all__`` (``=``, ``: list = ``, ``+=``, ``|=``) and every change of it
# in place (``__all__.append(…)``, ``__all__[0] = …``).
_ALL_ASSIGNED = re.compile(r"__all__\s*(?::[^=\n]*)?[+|]?=(?!=)")
_ALL_CHANGED = re.compile(r"__all__\s*(?:\.\s*(?:append|extend|insert|remove|pop|clear)\b|\[)")
# ``name :=`` anywhere in the file: a walrus at module level binds a module name.
_WALRUS = re.compile(r"(\w+)\s*:=")
_PATTERN_NAMES = (ast.MatchAs, ast.MatchStar)
# The expressions an assignment or loop target binds names through.
_TARGETS = (ast.Tuple, ast.List, ast.Starred)


def _top_level_names(
    body: Sequence[ast.stmt],
    source: str,
    star_imports: dict[str, str],
    absolute: Callable[[str | None, int], str | None],
) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
    """Every name the module's top level binds, in any statement outside its functions and
    classes (whose own names count), and through ``global`` and ``:=`` anywhere; None when it may bind
    names no statement shows. Then the names bound once, by an import or a definition
    standing in the module's body (not under an ``if`` or ``try``): what they mean is sure.
    The star imports go into ``star_imports``, spelled as written, with the module
    ``absolute(module, level)`` resolves them to."""
    if any(word in source for word in _DYNAMIC_WORDS) and _DYNAMIC_NAMES.search(source):
        return None, ()
    counts: dict[str, int] = {}

    def bind(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    if "global" in source:
        for match in _GLOBAL_STATEMENT.finditer(source):
            for name in match.group(1).split(","):
                bind(name.strip())
    if ":=" in source:
        # Any walrus of the file, in a function too: a name too many only adds caution.
        for match in _WALRUS.finditer(source):
            bind(match.group(1))
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                bind(alias.asname or alias.name.partition(".")[0])
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    spelled = "." * node.level + (node.module or "")
                    star_imports[spelled] = absolute(node.module, node.level) or ""
                else:
                    bind(alias.asname or alias.name)
        elif isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bind(node.id)
        elif isinstance(node, _PATTERN_NAMES):
            if node.name:
                bind(node.name)
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.MatchMapping):
            if node.rest:
                bind(node.rest)
            stack.extend(ast.iter_child_nodes(node))
        elif isinstance(node, ast.ExceptHandler):
            if node.name:
                bind(node.name)
            stack.extend(node.body)
        elif not isinstance(node, ast.expr) or isinstance(node, _TARGETS):
            stack.extend(ast.iter_child_nodes(node))
    direct: list[str] = []
    for statement in body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            direct.append(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            direct.extend(
                alias.asname or alias.name.partition(".")[0] for alias in statement.names if alias.name != "*"
            )
    return tuple(sorted(counts)), tuple(sorted(name for name in direct if counts[name] == 1))


def _literal_all(body: Sequence[ast.stmt], source: str) -> tuple[str, ...] | None:
    """The module's ``__all__`` when one top-level statement assigns it a literal list or tuple
    of strings and nothing else assigns or changes it; else None."""
    if "__all__" not in source or len(_ALL_ASSIGNED.findall(source)) != 1 or _ALL_CHANGED.search(source):
        return None
    for statement in body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and statement.targets[0].id == "__all__"
            and isinstance(statement.value, (ast.List, ast.Tuple))
        ):
            names = [
                element.value
                for element in statement.value.elts
                if isinstance(element, ast.Constant) and isinstance(element.value, str)
            ]
            return tuple(names) if len(names) == len(statement.value.elts) else None
    return None


# Private words (``_f``, ``_deep_transfer``: one leading underscore and a letter or digit),
# found from the underscore (a literal start the search skips ahead to) and kept only where no
# word character comes before it.
_PRIVATE_WORD = re.compile(r"_(?<!\w_)[^\W_]\w*")
# The start of a name the code builds: a string that begins with a private word and goes on
# with a replacement field (``f"_forward_{mode}"``, ``"_{}".format(k)``, ``"_%s" % k``) or is
# added to (``"_fit_" + kind``); after a dot too (``f"self._{name}"``).
_BUILT_NAME_START = re.compile(r"""(?<=["'.])(_\w*)(?:\{|%[sdr(]|["']\s*\+)""")
_STRING_PREFIX_LETTERS = "bBrRuUfF"
_NEWLINE = re.compile("\n")
# A class nested in a block: its ``self`` is not its top-level class's.
_INDENTED_CLASS = re.compile(r"^[ \t]+class\b", re.M)
_SELF_PREFIXES = ("self.", "cls.")
# Just before a name: its definition, no mention.
_DEFINED = "def "
# The decorators that register a function nowhere: the function still runs only where code names it.
_UNREGISTERING_DECORATORS = frozenset(
    {"staticmethod", "classmethod", "property", "abstractmethod", "abc.abstractmethod", *CACHING_DECORATORS}
)
_PROPERTY_PARTS = ("setter", "getter", "deleter")
_INERT_METACLASSES = frozenset({"abc.ABCMeta"})
_INERT_CLASS_DECORATOR = "dataclass"


def is_private_name(name: str) -> bool:
    """``_f``: one leading underscore, and not a ``_sunder_`` name Python's own machinery
    calls (``Enum._missing_``) nor one a library calls (``roles.LIBRARY_CALLED_PRIVATE_NAMES``)."""
    return (
        name.startswith("_")
        and not name.startswith("__")
        and not name.endswith("_")
        and name not in LIBRARY_CALLED_PRIVATE_NAMES
    )


def _statement_blocks(statement: ast.AST) -> Iterator[list[ast.stmt]]:
    """The blocks of statements a compound statement holds (an ``except`` clause's and a
    ``case``'s included)."""
    for block in ("body", "orelse", "finalbody"):
        inner = getattr(statement, block, None)
        if isinstance(inner, list):
            yield inner
    for clause in (*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())):
        yield clause.body


def _nested_classes(node: ast.ClassDef) -> Iterator[ast.ClassDef]:
    """The classes defined anywhere inside ``node``'s body, statements only walked."""
    pending: list[ast.stmt] = list(node.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, ast.ClassDef):
            yield statement
            continue
        for block in _statement_blocks(statement):
            pending.extend(block)


def _after_self(source: str, where: int) -> bool:
    """``source`` reads ``self.`` or ``cls.`` (not ``myself.``, not ``x.self.``) just before ``where``."""
    for prefix in _SELF_PREFIXES:
        start = where - len(prefix)
        if start >= 0 and source.startswith(prefix, start):
            return start == 0 or not (source[start - 1].isalnum() or source[start - 1] in "_.")
    return False


def _first_line(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> int:
    return min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)])


# Methods that change their receiver in place, beyond the ``*_`` in-place methods of torch.
class _Summariser:
    def __init__(self, module: str, is_package: bool) -> None:
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.names: dict[str, str] = {}
        self.lines: list[str] = []
        # The lines joined, and the offset of each line's start in that text (one past the end
        # last): the regular expressions read a block of lines as a range of this one text.
        self.text = ""
        self.reversed = ""
        self.starts: list[int] = [0]
        # What a call's dotted name means (``_chain_effects``), worked out once per name (keyed
        # by the name backwards, as ``_CALL_REVERSED`` reads it).
        self.chains: dict[str, tuple[str | None, str | None]] = {}
        # The file's classes that are torch optimizers, directly or through classes above them
        # in the file, by qualified name: their ``step`` runs per training step (``roles.role_of``).
        self.optimizer_classes: set[str] = set()
        # The attributes of ``self`` the class being summarised sets back to None outside
        # ``__init__`` (``_attributes_set_back``).
        self.set_back: set[str] = set()

    def summarise(self, tree: ast.Module, source: str) -> FileSummary:
        # Comments removed (a ``#`` inside a string cuts the line short: a call missed, never
        # one invented).
        self.lines = [_COMMENT.sub("", line) if "#" in line else line for line in source.splitlines()]
        self.text = "\n".join(self.lines)
        self.reversed = self.text[::-1]
        # Line i starts after the i lines before it and their line ends.
        self.starts = [0, *map(operator.add, itertools.accumulate(map(len, self.lines)), itertools.count(1))]
        for statement in tree.body:
            self._bind_module_name(statement)
        classes: dict[str, ClassSummary] = {}
        functions: dict[str, FunctionSummary] = {}
        module_level: list[ast.stmt] = []
        main_guard: list[ast.stmt] = []
        for statement in tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions[statement.name] = self._function(statement, None)
            elif isinstance(statement, ast.ClassDef):
                classes[statement.name] = self._class(statement, functions)
            elif _is_main_guard(statement):
                main_guard.extend(cast(ast.If, statement).body)
            else:
                module_level.append(statement)
        functions[_MODULE_SCOPE] = self._body_calls(module_level, RUN_ONCE)
        functions[_MAIN_GUARD] = self._body_calls(main_guard, RUN_ONCE)
        star_imports: dict[str, str] = {}
        bound, bound_once = _top_level_names(tree.body, source, star_imports, self._absolute)
        exports = _literal_all(tree.body, source)
        summary = FileSummary(self.module, self.names, classes, functions, bound, bound_once, exports, star_imports)
        self._read_mentions(tree, source, summary)
        return summary

    # Mentions of private names ------------------------------------------------------------

    def _read_mentions(self, tree: ast.Module, source: str, summary: FileSummary) -> None:
        """``named_only``, ``mentions``, ``self_mentions`` and ``name_prefixes`` of ``summary``,
        read from the text (comments and strings count: a name in them errs towards "may run")."""
        starts = [0, *(match.end() for match in _NEWLINE.finditer(source))]

        def offset(line: int) -> int:
            return starts[min(line, len(starts)) - 1]

        def end_offset(node: ast.stmt) -> int:
            line = node.end_lineno or node.lineno
            return starts[line] if line < len(starts) else len(source)

        named_only: list[str] = []
        class_spans: list[tuple[int, int, str]] = []
        nested_spans: list[tuple[int, int]] = []
        for statement in tree.body:
            if isinstance(statement, ast.ClassDef):
                start, end = offset(_first_line(statement)), end_offset(statement)
                class_spans.append((start, end, statement.name))
                if _INDENTED_CLASS.search(source, start, end):
                    nested_spans.extend(
                        (offset(_first_line(nested)), end_offset(nested)) for nested in _nested_classes(statement)
                    )
                members = [(f"{statement.name}.", member) for member in statement.body]
            else:
                members = [("", statement)]
            for prefix, member in members:
                if not isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)) or not is_private_name(member.name):
                    continue
                if all(self._registers_nowhere(decorator, member.name) for decorator in member.decorator_list):
                    named_only.append(prefix + member.name)
        mentions: set[str] = set()
        self_mentions: dict[str, set[str]] = {}
        class_starts = [start for start, _, _ in class_spans]
        for match in _PRIVATE_WORD.finditer(source):
            word, where = match.group(), match.start()
            if source.endswith(_DEFINED, 0, where):
                continue
            if _after_self(source, where):
                position = bisect.bisect_right(class_starts, where) - 1
                if (
                    position >= 0
                    and where < class_spans[position][1]
                    and not any(start <= where < end for start, end in nested_spans)
                ):
                    self_mentions.setdefault(class_spans[position][2], set()).add(word)
                    continue
            mentions.add(word)
        summary.named_only = tuple(named_only)
        summary.mentions = tuple(sorted(mentions))
        summary.self_mentions = {name: tuple(sorted(words)) for name, words in self_mentions.items()}
        summary.name_prefixes = tuple(sorted(set(self._built_name_starts(source))))

    def _registers_nowhere(self, decorator: ast.expr, name: str) -> bool:
        """``decorator`` leaves the function it decorates where only code naming it can run it:
        ``staticmethod``, ``property`` and its ``@_f.setter``, a cache (not a registry's
        ``@register("name")``)."""
        chain = self._qualified(decorator) or _dotted(decorator)
        if chain is None:
            return False
        owner, _, part = chain.rpartition(".")
        return chain in _UNREGISTERING_DECORATORS or (owner == name and part in _PROPERTY_PARTS)

    @staticmethod
    def _built_name_starts(source: str) -> Iterator[str]:
        """The private starts of the names ``source`` builds (``_BUILT_NAME_START``), where the
        string is not itself added to something before it (``prefix + "_" + suffix``)."""
        for match in _BUILT_NAME_START.finditer(source):
            before = match.start() - 1
            if source[before] != ".":
                before -= 1
                while before >= 0 and (source[before] in _STRING_PREFIX_LETTERS or source[before].isspace()):
                    before -= 1
                if before >= 0 and source[before] == "+":
                    continue
            yield match.group(1)

    # Names -----------------------------------------------------------------------------

    def _bind_module_name(self, statement: ast.stmt) -> None:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    top = alias.name.partition(".")[0]
                    self.names[top] = top
        elif isinstance(statement, ast.ImportFrom):
            base = self._absolute(statement.module, statement.level)
            if base is None:
                return
            for alias in statement.names:
                if alias.name != "*":
                    self.names[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.names[statement.name] = f"{self.module}.{statement.name}"
        elif isinstance(statement, (ast.If, ast.Try)):
            # ``try: from a import B / except ImportError: …`` and version checks: the first
            # binding of a name counts.
            for inner in (*statement.body, *getattr(statement, "handlers", ()), *statement.orelse):
                if isinstance(inner, ast.ExceptHandler):
                    continue
                before = dict(self.names)
                self._bind_module_name(inner)
                for name, value in before.items():
                    self.names[name] = value

    def _absolute(self, module: str | None, level: int) -> str | None:
        """The module a ``from`` import reads, relative imports resolved against this file's
        package; None when a relative import climbs above the top package."""
        if level == 0:
            return module or ""
        parts = self.package.split(".") if self.package else []
        if level - 1 > len(parts):
            return None
        base = parts[: len(parts) - (level - 1)]
        if module:
            base.append(module)
        return ".".join(base)

    def _qualified(self, node: ast.AST) -> str | None:
        chain = _dotted(node)
        if chain is None:
            return None
        head, dot, rest = chain.partition(".")
        target = self.names.get(head)
        if target is None:
            return None
        return target + dot + rest

    # Classes and functions ---------------------------------------------------------------

    def _class(self, node: ast.ClassDef, functions: dict[str, FunctionSummary]) -> ClassSummary:
        bases = tuple(
            qualified for qualified in (self._qualified(base) or _dotted(base) for base in node.bases) if qualified
        )
        is_optimizer = any(base in OPTIMIZER_CLASSES or base in self.optimizer_classes for base in bases)
        if is_optimizer:
            self.optimizer_classes.add(f"{self.module}.{node.name}")
        attributes: dict[str, str] = {}
        methods = []
        outer, self.set_back = self.set_back, _attributes_set_back(node)
        for member in node.body:
            if isinstance(member, (ast.FunctionDef, ast.AsyncFunctionDef)):
                methods.append(member.name)
                functions[f"{node.name}.{member.name}"] = self._function(member, attributes, is_optimizer)
        self.set_back = outer
        return ClassSummary(bases, attributes, tuple(methods), self._has_hidden_callers(node))

    def _has_hidden_callers(self, node: ast.ClassDef) -> bool:
        """See ``ClassSummary.hidden_callers``."""
        if any(_dotted(base) is None for base in node.bases):
            return True
        if any(
            keyword.arg != "metaclass" or self._qualified(keyword.value) not in _INERT_METACLASSES
            for keyword in node.keywords
        ):
            return True
        return any(
            (_dotted(decorator.func if isinstance(decorator, ast.Call) else decorator) or "").rpartition(".")[2]
            != _INERT_CLASS_DECORATOR
            for decorator in node.decorator_list
        )

    def _function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        attributes: dict[str, str] | None,
        optimizer_method: bool = False,
    ) -> FunctionSummary:
        decorators = [
            self._qualified(d.func if isinstance(d, ast.Call) else d)
            or _dotted(d.func if isinstance(d, ast.Call) else d)
            or ""
            for d in node.decorator_list
        ]
        parameters = {arg.arg for arg in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
        summary = self._body_calls(
            node.body,
            role_of(node.name, decorators, optimizer_method=optimizer_method),
            attributes,
            any(_may_disable_grad(decorator) for decorator in node.decorator_list),
            self._instances(node, parameters),
        )
        if attributes is not None and (node.args.posonlyargs or node.args.args):
            parameters.discard((node.args.posonlyargs or node.args.args)[0].arg)
        # A parameter passed on to another call may be mutated there: counted as mutated (the
        # index does not follow mutations through calls, so it errs towards "changed").
        passed = set(_PASSED.findall(self.text, *self._span(node.body[0].lineno, node.end_lineno or node.lineno)))
        summary.mutated_parameters = tuple(sorted((set(summary.mutated_parameters) | passed) & parameters))
        positional = [arg.arg for arg in (*node.args.posonlyargs, *node.args.args)]
        if attributes is not None and positional:
            positional = positional[1:]
        summary.positional = None if node.args.vararg is not None else tuple(positional)
        if (
            not summary.calls_backward
            and self.text.find(".eval()", *self._span(node.lineno, node.end_lineno or node.lineno)) >= 0
            and not any(_may_disable_grad(decorator) for decorator in node.decorator_list)
        ):
            summary.eval_arguments = self._eval_arguments(node.body)
        if node.returns is not None:
            summary.returns = self._qualified(node.returns) or _dotted(node.returns)
        return summary

    def _instances(self, node: ast.FunctionDef | ast.AsyncFunctionDef, parameters: set[str]) -> dict[str, str]:
        """The local names of the function ``node`` that hold an object of one class wherever
        they are read: every binding of the name in the function assigns it alone a call of
        that class (``trainer = Trainer(args)``, once or more), which a module-level name
        spells, capitalised as classes are, in the file's own top-level package; no parameter,
        and no other binding of any kind (a loop's target, ``global``, an import, a nested ``def``). Each with the class as a
        call's target (``q:pkg.trainer.Trainer``), so that a call of one of its methods
        (``trainer.predict(batch)``) targets that method."""
        made: dict[str, set[str | None]] = {}
        assignments: dict[str, int] = {}
        for statement in self._statements(node.body):
            if not (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                continue
            name = statement.targets[0].id
            assignments[name] = assignments.get(name, 0) + 1
            value = statement.value
            spelled = _dotted(value.func) if isinstance(value, ast.Call) else None
            target = (
                self._call_target(spelled) if spelled is not None and spelled.rpartition(".")[2][:1].isupper() else None
            )
            own = target is not None and target.startswith(f"q:{self.module.partition('.')[0]}.")
            made.setdefault(name, set()).add(target if own else None)
        candidates = {
            name: next(iter(targets))
            for name, targets in made.items()
            if len(targets) == 1 and None not in targets and name not in parameters
        }
        if not candidates:
            return {}
        bindings: dict[str, int] = {}
        for found in ast.walk(node):
            if isinstance(found, ast.Name) and isinstance(found.ctx, (ast.Store, ast.Del)):
                bindings[found.id] = bindings.get(found.id, 0) + 1
            elif isinstance(found, (ast.Global, ast.Nonlocal)):
                bindings.update((name, -1) for name in found.names)
            elif isinstance(found, (ast.Import, ast.ImportFrom)):
                bindings.update((alias.asname or alias.name.partition(".")[0], -1) for alias in found.names)
            elif isinstance(found, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and found is not node:
                bindings[found.name] = -1
            elif isinstance(found, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and found.name:
                bindings[found.name] = -1
        return {
            name: cast(str, target) for name, target in candidates.items() if bindings.get(name) == assignments[name]
        }

    def _eval_arguments(self, body: Sequence[ast.stmt]) -> tuple[tuple[str, str], ...]:
        """The calls of ``body`` that pass a receiver of an earlier ``m.eval()`` (with no
        ``m.train()`` since), outside ``with`` blocks that may turn autograd off: their targets
        and the argument's slot; and the calls of ``self``'s methods made there while
        ``self.<attribute>`` is in eval mode, with that attribute (``"self.model"``). Read only in the rare functions whose text holds ``.eval()``."""
        switches: list[tuple[tuple[int, int], str, bool]] = []  # where, the receiver, in eval mode after
        calls: list[ast.Call] = []
        pending: list[ast.AST] = list(body)
        while pending:
            node = pending.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue
            if isinstance(node, (ast.With, ast.AsyncWith)) and any(
                _may_disable_grad(item.context_expr) for item in node.items
            ):
                continue
            if isinstance(node, ast.Call):
                mode = _mode_switch(node)
                receiver = (
                    _dotted(node.func.value) if mode is not None and isinstance(node.func, ast.Attribute) else None
                )
                if receiver is not None:
                    switches.append(((node.lineno, node.col_offset), receiver, bool(mode)))
                else:
                    calls.append(node)
            pending.extend(ast.iter_child_nodes(node))
        if not any(evaluated for _, _, evaluated in switches):
            return ()
        switches.sort()
        found: list[tuple[str, str]] = []
        for call in calls:
            chain = _dotted(call.func)
            target = None if chain is None else self._call_target(chain)
            if target is None:
                continue
            position = (call.lineno, call.col_offset)
            modes: dict[str, bool] = {}
            for where, receiver, evaluated in switches:
                if where < position:
                    modes[receiver] = evaluated
            in_eval_mode = {receiver for receiver, evaluated in modes.items() if evaluated}
            for index, argument in enumerate(call.args):
                if isinstance(argument, ast.Starred):
                    break
                if _dotted(argument) in in_eval_mode:
                    found.append((target, str(index)))
            found.extend(
                (target, keyword.arg)
                for keyword in call.keywords
                if keyword.arg is not None and _dotted(keyword.value) in in_eval_mode
            )
            if target.startswith("self:"):
                # A method of the same object sees the model as the same ``self.<attribute>``.
                found.extend(
                    (target, receiver)
                    for receiver in sorted(in_eval_mode)
                    if receiver.startswith("self.") and receiver.count(".") == 1
                )
        return tuple(found)

    def _statements(self, body: Sequence[ast.stmt]) -> Iterator[ast.stmt]:
        """Every statement of ``body``, outer before inner (nested functions and classes not
        entered)."""
        stack: list[ast.stmt] = list(reversed(body))
        while stack:
            statement = stack.pop()
            if type(statement) not in _COMPOUND:
                yield statement
                continue
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            yield statement
            if isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
                nested = [statement.body, statement.orelse]
            elif isinstance(statement, ast.If):
                nested = [statement.body, statement.orelse]
            elif isinstance(statement, (ast.With, ast.AsyncWith)):
                nested = [statement.body]
            elif isinstance(statement, _TRY):
                nested = [
                    statement.body,
                    *(handler.body for handler in statement.handlers),
                    statement.orelse,
                    statement.finalbody,
                ]
            elif isinstance(statement, ast.Match):
                nested = [case.body for case in statement.cases]
            else:
                continue
            for block in reversed(nested):
                stack.extend(reversed(block))

    def _body_calls(
        self,
        body: Sequence[ast.stmt],
        role: str | None,
        attributes: dict[str, str] | None = None,
        grad_off: bool = False,
        instances: dict[str, str] | None = None,
    ) -> FunctionSummary:
        """The calls, training-step effects, mutated names and returned constructors of
        ``body``. Statements are walked to learn which lines each loop repeats and which a
        ``with`` block that may turn autograd off holds (every line, with ``grad_off``: a
        function decorated so); the expressions are read as text, a whole block at once (a
        walk of every expression node costs several times the parse). ``instances``: the
        local names that hold an object of a known class (``_instances``)."""
        summary = FunctionSummary(role)
        mutated: set[str] = set()
        returns: set[str | None] = set()
        loops: dict[int, str] = {}  # line → the quoted iterable of the innermost loop there
        grad_off_lines: set[int] = set()  # lines in a ``with`` block that may turn autograd off
        once_lines: set[int] = set()  # lines in a branch that initialises an attribute of ``self``
        skipped: set[int] = set()  # docstring lines
        for statement in self._statements(body):
            kind = type(statement)
            if kind in _RECORDED:
                self._record_statement(statement, attributes, mutated, returns)
            elif kind not in _COMPOUND:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    skipped.update(range(statement.lineno, (statement.end_lineno or statement.lineno) + 1))
                    continue
            elif isinstance(statement, (ast.For, ast.AsyncFor, ast.While)):
                label = (
                    _quote(statement.iter)
                    if not isinstance(statement, ast.While)
                    else f"while {_quote(statement.test)}"
                )
                for line in range(statement.body[0].lineno, (statement.end_lineno or statement.lineno) + 1):
                    loops[line] = label
                continue
            elif isinstance(statement, (ast.With, ast.AsyncWith)) and any(
                _may_disable_grad(item.context_expr) for item in statement.items
            ):
                grad_off_lines.update(range(statement.body[0].lineno, (statement.end_lineno or statement.lineno) + 1))
            elif isinstance(statement, ast.If) and _initialised_attribute(statement) not in (None, *self.set_back):
                once_lines.update(range(statement.body[0].lineno, (statement.body[-1].end_lineno or 0) + 1))
            if kind not in _COMPOUND and " for " in self.lines[statement.lineno - 1]:
                for node in ast.walk(statement):
                    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                        label = _quote(node.generators[0].iter)
                        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1):
                            loops[line] = label
        text = self.text
        for first, last in _line_ranges(body):
            start, end = self._span(first, last)
            if text.find("(", start, end) < 0:
                continue
            if text.find("backward", start, end) >= 0 and _BACKWARD.search(text, start, end):
                summary.calls_backward = True
            if text.find("step", start, end) >= 0:
                for match in _STEP.finditer(text, start, end):
                    if is_optimizer_name(match.group(1)) or is_optimizer_name(match.group(2) or ""):
                        summary.steps_optimizer = True
            length = len(text)
            for match in reversed(list(_CALL_REVERSED.finditer(self.reversed, length - end, length - start))):
                spelled, of_an_expression = match.groups()  # the dotted name, backwards; "." after it
                target: str | None = None
                mutated_root: str | None = None
                if not of_an_expression:
                    effects = self.chains.get(spelled)
                    if effects is None:
                        effects = self.chains[spelled] = self._chain_effects(spelled[::-1])
                    target, mutated_root = effects
                    if target is None and instances and spelled.count(".") == 1:
                        called, _, receiver = spelled.partition(".")
                        held = instances.get(receiver[::-1])
                        target = None if held is None else f"{held}.{called[::-1]}"
                method = spelled.partition(".")[0][::-1] if of_an_expression or "." in spelled else None
                if target is None and mutated_root is None and method is None:
                    continue
                line = bisect.bisect_right(self.starts, length - match.end())
                if line in skipped:
                    continue
                off = grad_off or line in grad_off_lines
                if method is not None:
                    summary.method_calls[method] = summary.method_calls.get(method, True) and off
                if mutated_root is not None:
                    mutated.add(mutated_root)
                if target is not None:
                    if target == "q:torch.autograd.backward":
                        summary.calls_backward = True
                    summary.calls.append(CallSite(target, loops.get(line, ""), off, line in once_lines))
        summary.mutated_parameters = tuple(sorted(mutated))
        summary.returns = returns.pop() if len(returns) == 1 else None
        return summary

    def _record_statement(
        self, statement: ast.stmt, attributes: dict[str, str] | None, mutated: set[str], returns: set[str | None]
    ) -> None:
        """What a statement shows without reading its expressions: the names whose objects an
        assignment changes (``x[i] = …``, ``x.a = …``, ``x += …``), the class ``self.<a> = C(…)``
        puts in an attribute, the function a ``return`` calls."""
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
            if attributes is not None and isinstance(statement.value, ast.Call):
                made = self._qualified(statement.value.func)
                for target in targets:
                    if (
                        made
                        and isinstance(target, ast.Attribute)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == "self"
                    ):
                        attributes.setdefault(target.attr, made)
        elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        elif isinstance(statement, ast.Return):
            value = statement.value
            returns.add(self._qualified(value.func) if isinstance(value, ast.Call) else None)
        for target in targets:
            if isinstance(target, (ast.Subscript, ast.Attribute)):
                chain = _dotted(target.value)
                if chain:
                    mutated.add(chain.partition(".")[0])
            elif isinstance(statement, ast.AugAssign) and isinstance(target, ast.Name):
                mutated.add(target.id)

    def _span(self, first: int, last: int) -> tuple[int, int]:
        """Where lines ``first`` to ``last`` (1-based, inclusive) lie in ``self.text``, as the
        text ``"\\n".join(self.lines[first - 1 : last])`` would."""
        count = len(self.lines)
        return self.starts[min(first - 1, count)], self.starts[min(max(last, first - 1), count)] - 1

    def _chain_effects(self, chain: str) -> tuple[str | None, str | None]:
        """What a call of the dotted name ``chain`` means: its target (``_call_target``), and
        the name whose object it changes in place (``x.add_(…)``, ``x.append(…)``), or None."""
        root, _, method = chain.partition(".")
        last_name = chain.rpartition(".")[2]
        changes_root = bool(method) and names_an_in_place_method(last_name)
        return self._call_target(chain), root if changes_root else None

    def _call_target(self, chain: str) -> str | None:
        """``self.f`` → ``self:f``; ``self.a.f`` → ``attr:a:f``; a chain rooted in a module
        name → ``q:<qualified>``; else None."""
        parts = chain.split(".")
        if parts[0] == "self":
            if len(parts) == 2:
                return f"self:{parts[1]}"
            if len(parts) == 3:
                return f"attr:{parts[1]}:{parts[2]}"
            return None
        target = self.names.get(parts[0])
        if target is None:
            return None
        return "q:" + ".".join([target, *parts[1:]])


# The project ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalleeFacts:
    """What calling one function of the project does, through the functions it calls."""

    calls_backward: bool
    steps_optimizer: bool
    returns: str | None
    mutated_parameters: tuple[str, ...]
    is_method: bool
    positional: tuple[str, ...] = ()


@dataclass(frozen=True)
class HotCaller:
    """Why a function is hot: who calls it, and the loop or role that repeats the call."""

    evidence: str
    frequency: Frequency


@dataclass(frozen=True)
class ProjectView:
    """The project's facts one file depends on, keyed by the names the file writes.

    ``external_bases``: for each class name the file binds at module level (its own classes and
    the classes it imports from the project), the bases outside the project it inherits from
    through any number of project classes (``torch.nn.Module``); ``callees``: for each call
    spelling the file may use (``fit_batch``, ``utils.iou``, ``self.fit_batch`` of an
    inherited method, ``self.optim.step`` where ``self.optim`` holds a project class), what the
    call does; ``frequencies``: for the file's own functions (``f``, ``Class.f``), how often the
    rest of the project calls them and why; ``eval_mode_parameters``: for the file's own
    functions, the parameters a caller binds to a model it put in eval mode, where autograd may
    be recording, and that caller (``{"Runner._predict": {"model": "predict"}}``), when no
    caller of the function computes gradients, and the attributes of ``self`` a method's
    callers put in eval mode before calling it (``{"Detector.inference": {"self.net":
    "decision_function"}}``); ``grad_off_functions``: the file's own functions
    (``f``, ``Class.f``) that may run with autograd off, called by a project caller under
    ``torch.no_grad()`` or ``torch.inference_mode()`` (``ProjectIndex.grad_off_functions``);
    ``star_names``: for each star import of a
    project module the file makes, spelled as written (``.trainer``), every name it may bind
    and what that name surely means ("" when unsure; a star import missing here may bind any
    name); ``uncalled``: the file's own functions nothing in the project runs
    (``ProjectIndex.uncalled``), cold in ``frequencies`` too; ``called_only_by_own_class``: the
    file's own methods (``Class.f``) that only other methods of their class call
    (``ProjectIndex.methods_called_only_by_own_class``); ``imported``: another module of the
    project imports the file (``ProjectIndex.imported_modules``): a library module, not only a
    script.
    """

    module: str
    external_bases: dict[str, frozenset[str]]
    callees: dict[str, CalleeFacts]
    frequencies: dict[str, HotCaller]
    eval_mode_parameters: dict[str, dict[str, str]] = field(default_factory=dict)
    star_names: dict[str, dict[str, str]] = field(default_factory=dict)
    grad_off_functions: frozenset[str] = frozenset()
    uncalled: frozenset[str] = frozenset()
    called_only_by_own_class: frozenset[str] = frozenset()
    imported: bool = False

    @property
    def callee_text(self) -> str:
        """What the file's project callees do, as the words a rule's ``required_text`` looks
        for in the file: a loop that calls ``fit_batch`` calls ``backward`` and ``optimizer.step``."""
        words = []
        if any(facts.calls_backward for facts in self.callees.values()):
            words.append(".backward()")
        if any(facts.steps_optimizer for facts in self.callees.values()):
            words.append("optimizer.step()")
        if self.eval_mode_parameters:
            words.append("model.eval()")
        return " ".join(words)

    @property
    def digest(self) -> str:
        """A hash of every fact of the view: part of the file's cache key."""
        content = {
            "module": self.module,
            "bases": {name: sorted(bases) for name, bases in sorted(self.external_bases.items())},
            "callees": {
                name: [
                    facts.calls_backward,
                    facts.steps_optimizer,
                    facts.returns,
                    list(facts.mutated_parameters),
                    facts.is_method,
                    list(facts.positional),
                ]
                for name, facts in sorted(self.callees.items())
            },
            "frequencies": {
                name: [hot.evidence, hot.frequency.value] for name, hot in sorted(self.frequencies.items())
            },
            "eval_mode_parameters": self.eval_mode_parameters,
            "star_names": self.star_names,
            "grad_off_functions": sorted(self.grad_off_functions),
            "uncalled": sorted(self.uncalled),
            "called_only_by_own_class": sorted(self.called_only_by_own_class),
            "imported": self.imported,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


class ProjectIndex:
    """Every summarised file of the project, joined: classes and functions by qualified name.
    ``complete``: the summaries are those of every file of the project (a run over the whole
    project, or a cached index one made): what no file mentions, nothing of the project runs."""

    def __init__(self, summaries: Iterable[FileSummary], complete: bool = False) -> None:
        self.complete = complete
        self.files: dict[str, FileSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.functions: dict[str, tuple[FileSummary, str, FunctionSummary]] = {}
        self._by_module: dict[str, list[str]] = {}
        for summary in summaries:
            self.files[summary.module] = summary
            for name, class_summary in summary.classes.items():
                self.classes[f"{summary.module}.{name}"] = class_summary
            for name, function in summary.functions.items():
                self.functions[f"{summary.module}.{name}"] = (summary, name, function)
                self._by_module.setdefault(summary.module, []).append(f"{summary.module}.{name}")
        self._facts: dict[str, CalleeFacts | None] = {}
        self._frequencies: dict[str, HotCaller] | None = None
        self._subclasses: dict[str, list[str]] | None = None
        self._classes_by_lowered_name: dict[str, str | None] | None = None
        self._eval_mode_parameters: dict[str, dict[str, str]] | None = None
        self._grad_off_functions: frozenset[str] | None = None
        self._uncalled: frozenset[str] | None = None
        self._called_only_by_own_class: frozenset[str] | None = None
        self._star_names: dict[str, dict[str, str] | None] = {}
        self._submodules: dict[str, list[str]] | None = None
        self._imported_modules: frozenset[str] | None = None

    def __len__(self) -> int:
        return len(self.files)

    # Classes ---------------------------------------------------------------------------

    def _resolve(self, qualified: str) -> str:
        """A name re-exported by a package (``pkg.Base`` bound in ``pkg/__init__.py`` by ``from
        .base import Base``) followed to its definition."""
        for _ in range(_BASE_DEPTH):
            if qualified in self.classes or qualified in self.functions:
                return qualified
            module, _, name = qualified.rpartition(".")
            summary = self.files.get(module)
            if summary is None or name not in summary.names or summary.names[name] == qualified:
                return qualified
            qualified = summary.names[name]
        return qualified

    def external_bases(self, qualified: str) -> frozenset[str]:
        """The bases outside the project that the class ``qualified`` inherits from."""
        found: set[str] = set()
        pending = [(self._resolve(qualified), 0)]
        seen: set[str] = set()
        while pending:
            name, depth = pending.pop()
            if name in seen or depth > _BASE_DEPTH:
                continue
            seen.add(name)
            summary = self.classes.get(name)
            if summary is None:
                if depth > 0:
                    found.add(name)
                continue
            pending.extend((self._resolve(base), depth + 1) for base in summary.bases)
        return frozenset(found)

    def _lineage(self, class_name: str) -> Iterator[tuple[str, ClassSummary]]:
        """``class_name`` and its project bases, nearest first, each once, at most
        ``_BASE_DEPTH`` of them."""
        pending = [self._resolve(class_name)]
        seen: set[str] = set()
        while pending and len(seen) < _BASE_DEPTH:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.add(name)
            summary = self.classes.get(name)
            if summary is None:
                continue
            yield name, summary
            pending.extend(self._resolve(base) for base in summary.bases)

    def _method(self, class_name: str, method: str) -> str | None:
        """The qualified name of ``method`` as ``class_name`` has it, looked up its project bases."""
        return next(
            (f"{name}.{method}" for name, summary in self._lineage(class_name) if method in summary.methods), None
        )

    def _overrides(self, class_name: str, method: str) -> Iterator[str]:
        """The qualified names of the methods ``method`` of the project subclasses of
        ``class_name`` (at any depth) that define their own: a call ``self.<method>()`` of
        ``class_name`` runs them on a subclass's objects."""
        pending = list(self._subclasses_of(self._resolve(class_name)))
        seen: set[str] = set()
        while pending and len(seen) < _SUBCLASS_LIMIT:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            if method in self.classes[name].methods:
                yield f"{name}.{method}"
            pending.extend(self._subclasses_of(name))

    def _subclasses_of(self, class_name: str) -> list[str]:
        """The project classes that name ``class_name`` (qualified, resolved) among their bases."""
        if self._subclasses is None:
            self._subclasses = {}
            for name, summary in self.classes.items():
                for base in summary.bases:
                    self._subclasses.setdefault(self._resolve(base), []).append(name)
        return self._subclasses.get(class_name, [])

    def _attribute_class(self, class_name: str, attribute: str) -> str | None:
        """The class ``self.<attribute>`` holds in ``class_name`` or the nearest project base that sets it."""
        return next(
            (
                summary.attribute_classes[attribute]
                for _, summary in self._lineage(class_name)
                if attribute in summary.attribute_classes
            ),
            None,
        )

    # Functions -------------------------------------------------------------------------

    def callee(self, site: CallSite, class_name: str | None) -> str | None:
        """The qualified name of the project function a call site calls, if one is known;
        ``class_name`` is the caller's class (qualified) for ``self`` calls. Calling a class
        calls its ``__init__``."""
        kind, _, rest = site.target.partition(":")
        if kind == "self":
            return self._method(class_name, rest) if class_name else None
        if kind == "attr":
            if class_name is None:
                return None
            attribute, _, method = rest.partition(":")
            held = self._attribute_class(class_name, attribute)
            return self._method(held, method) if held else None
        qualified = self._resolve(rest)
        if qualified in self.functions:
            return qualified
        if qualified in self.classes:
            return self._method(qualified, "__init__")
        return None

    def reached(self, site: CallSite, class_name: str | None) -> list[str]:
        """Every project function the call may run: the one ``callee`` resolves, and those
        ``dispatched`` finds."""
        direct = self.callee(site, class_name)
        return ([direct] if direct is not None else []) + self.dispatched(site, class_name)

    def dispatched(self, site: CallSite, class_name: str | None) -> list[str]:
        """The project functions a call site may run besides its ``callee``: the subclasses'
        overrides of the method (``App.run``'s ``self._update()`` runs
        ``LinearLeastSquares._update``), and for ``self.alg.update()``, where the code does not
        show what ``self.alg`` holds, the method of the one project class named like it
        (``Alg.update``). Evidence that they repeat when the call does, not that they run only
        when it does: a public ``fit`` a base class also calls in set-up is not set-up code."""
        if class_name is None:
            return []
        kind, _, rest = site.target.partition(":")
        found: list[str] = []
        held: str | None = class_name
        method = rest
        if kind == "attr":
            attribute, _, method = rest.partition(":")
            held = self._attribute_class(class_name, attribute)
            if held is None:
                held = self._class_named_like(attribute)
                callee = None if held is None else self._method(held, method)
                found = [] if callee is None else [callee]
        elif kind != "self":
            return []
        if held is None:
            return []
        found.extend(override for override in self._overrides(held, method) if override in self.functions)
        return found

    def _class_named_like(self, attribute: str) -> str | None:
        """The one project class named like ``attribute`` (``self.alg`` and ``Alg``), when the
        code does not show what the attribute holds (a constructor's argument)."""
        if self._classes_by_lowered_name is None:
            self._classes_by_lowered_name = {}
            for qualified in self.classes:
                lowered = qualified.rpartition(".")[2].lower()
                seen = lowered in self._classes_by_lowered_name
                self._classes_by_lowered_name[lowered] = None if seen else qualified
        return self._classes_by_lowered_name.get(attribute.strip("_").lower())

    def _class_of(self, function: str) -> str | None:
        summary, name, _ = self.functions[function]
        if "." not in name:
            return None
        return f"{summary.module}.{name.partition('.')[0]}"

    def facts(self, function: str) -> CalleeFacts | None:
        """What calling the project function ``function`` (qualified) does, following its calls
        ``_CALL_DEPTH`` deep."""
        if function in self._facts:
            return self._facts[function]
        entry = self.functions.get(function)
        if entry is None:
            return None
        _, name, summary = entry
        backward, step = summary.calls_backward, summary.steps_optimizer
        pending = [(function, 0)]
        seen = {function}
        while pending and not (backward and step):
            current, depth = pending.pop()
            if depth >= _CALL_DEPTH:
                continue
            for site in self.functions[current][2].calls:
                if site.loop:
                    continue  # a call in the function's own loop is not one step per call
                callee = self.callee(site, self._class_of(current))
                if callee is None or callee in seen:
                    continue
                seen.add(callee)
                inner = self.functions[callee][2]
                backward = backward or inner.calls_backward
                step = step or inner.steps_optimizer
                pending.append((callee, depth + 1))
        # A function taking ``*args`` binds no argument knowably: it counts as a method (its
        # mutations unknown).
        facts = CalleeFacts(
            backward,
            step,
            summary.returns,
            summary.mutated_parameters,
            "." in name or summary.positional is None,
            summary.positional or (),
        )
        self._facts[function] = facts
        return facts

    def _callers(self) -> dict[str, list[tuple[str, CallSite]]]:
        callers: dict[str, list[tuple[str, CallSite]]] = {}
        for function, (_, name, own) in self.functions.items():
            class_name = self._class_of(function) if name not in (_MODULE_SCOPE, _MAIN_GUARD) else None
            for site in own.calls:
                callee = self.callee(site, class_name)
                if callee is not None and callee != function:
                    callers.setdefault(callee, []).append((function, site))
        return callers

    def _dispatched_callers(self) -> dict[str, list[tuple[str, CallSite]]]:
        """Like ``_callers``, for the functions a call site may run through ``dispatched``."""
        callers: dict[str, list[tuple[str, CallSite]]] = {}
        for function, (_, name, own) in self.functions.items():
            class_name = self._class_of(function) if name not in (_MODULE_SCOPE, _MAIN_GUARD) else None
            for site in own.calls:
                for callee in self.dispatched(site, class_name):
                    if callee != function:
                        callers.setdefault(callee, []).append((function, site))
        return callers

    def frequencies(self) -> dict[str, HotCaller]:
        """How often the project calls each of its functions, and why, where the call graph
        shows it. Cold: every caller is set-up code (``__init__``, data preparation, plotting)
        or itself cold, or calls it only to initialise an attribute the first time (``if
        self.lams is None: self.lams = self._pick_lam(…)``, ``CallSite.once``: once per object,
        which makes no callee hot); once: every caller runs once and one of them is an entry point (module
        level, the ``__main__`` block, ``main``) or only called from one. Hot: called in a loop or from a
        per-call function (``forward``, ``training_step``) or from another hot function, by a
        caller that is not cold, the callers ``dispatched`` finds included (they make a function
        hot, never cold). Functions with no evidence either way are absent.

        A set-up name (``build_*``: ``roles.yields_to_callers``) yields to callers that repeat:
        a per-call or hot caller, or a loop of an entry point, makes it hot, and what it calls
        is then judged as if it had no role. A loop of a caller of unknown frequency does not:
        it is as likely a set-up loop (building one block per layer) as a hot one."""
        if self._frequencies is not None:
            return self._frequencies
        callers = self._callers()
        dispatched = self._dispatched_callers()
        overruled: frozenset[str] = frozenset()
        while True:
            found = self._frequencies_overruling(overruled, dict(callers), dict(dispatched))
            hot_set_up = frozenset(
                function
                for function, hot in found.items()
                if hot.frequency.repeats
                and self.functions[function][2].role == RUN_ONCE
                and yields_to_callers(function.rpartition(".")[2])
            )
            if hot_set_up <= overruled:
                break
            overruled |= hot_set_up
        self._frequencies = found
        return found

    def uncalled(self) -> frozenset[str]:
        """The project functions (qualified) nothing runs: private (``is_private_name``), named
        only where they are defined (``FileSummary.mentions``), and for a method, of a class
        whose every relative is known (``_closed_family``), so that no library base calls it by
        protocol (``nn.Module`` calls an override's ``_conv_forward``) and no ``self._f`` of a
        related class (a base, a subclass, a mixin beside it) names it, nor of any class when
        it may be a mixin (``_may_be_mixed_in``). Empty unless the index is ``complete``: a file
        outside the run may call the function."""
        if self._uncalled is not None:
            return self._uncalled
        found: set[str] = set()
        if self.complete:
            mentioned: set[str] = set()
            prefixes: set[str] = set()
            self_mentioning: dict[str, list[str]] = {}  # a word → the classes whose ``self.<word>`` names it
            for summary in self.files.values():
                mentioned.update(summary.mentions)
                prefixes.update(summary.name_prefixes)
                # A word that ends with an underscore starts names (stumpy's
                # ``prefix = "_dask_"``, then ``getattr(module, prefix + name)``).
                prefixes.update(word for word in summary.mentions if word.endswith("_"))
                for class_name, words in summary.self_mentions.items():
                    for word in words:
                        self_mentioning.setdefault(word, []).append(f"{summary.module}.{class_name}")
            for summary in self.files.values():
                for key in summary.named_only:
                    name = key.rpartition(".")[2]
                    if name in mentioned or name.startswith(tuple(prefixes)):
                        continue
                    function = f"{summary.module}.{key}"
                    naming = self_mentioning.get(name, [])
                    owner = self._class_of(function) if "." in key else None
                    if owner is None:
                        if naming:
                            continue
                    else:
                        family = self._closed_family(owner)
                        if (
                            family is None
                            or naming
                            and self._may_be_mixed_in(owner)
                            or any(
                                caller in family or caller not in self.classes or self.classes[caller].hidden_callers
                                for caller in naming
                            )
                        ):
                            continue
                    found.add(function)
        self._uncalled = frozenset(found)
        return self._uncalled

    def methods_called_only_by_own_class(self) -> frozenset[str]:
        """The project methods (qualified) whose name only other methods of their own class
        call anywhere in the project, whatever the receiver (``FunctionSummary.method_calls``),
        at least one call being seen, in a class whose every relative is known
        (``_closed_family``): no library base calls them by protocol, and no other class (a
        base or subclass included) by name. Empty unless the index is ``complete``: a file
        outside the run may call the method."""
        if self._called_only_by_own_class is not None:
            return self._called_only_by_own_class
        found: set[str] = set()
        if self.complete:
            callers: dict[str, set[str]] = {}  # a method name → the functions calling it by that name
            for function, (_, _, own) in self.functions.items():
                for method in own.method_calls:
                    callers.setdefault(method, set()).add(function)
            for function, (_, name, _) in self.functions.items():
                owner = self._class_of(function)
                calling = callers.get(name.rpartition(".")[2])
                if owner is None or not calling or any(self._class_of(caller) != owner for caller in calling):
                    continue
                if self._closed_family(owner) is not None:
                    found.add(function)
        self._called_only_by_own_class = frozenset(found)
        return self._called_only_by_own_class

    def _may_be_mixed_in(self, class_name: str) -> bool:
        """``class_name`` may be a mixin, which code outside the project combines with another
        class (skorch's ``AccelerateMixin`` overrides ``NeuralNet._step_optimizer`` in the
        user's ``class Net(AccelerateMixin, NeuralNet)``): it has no base but inert ones, or
        it is named ``*Mixin``."""
        summary = self.classes[class_name]
        return class_name.endswith("Mixin") or not set(summary.bases) - _INERT_BASES

    def _closed_family(self, class_name: str) -> frozenset[str] | None:
        """Every project class an object of ``class_name``, or of a project subclass of it, is an
        instance of: a ``self.<method>`` call in any of them may run a method of
        ``class_name``. None when one of them has a base outside the project other than an
        inert one (``object``, ``abc.ABC``), or callers the summary cannot follow
        (``ClassSummary.hidden_callers``), or too many subclasses to search."""
        members: set[str] = set()
        pending = [self._resolve(class_name)]
        seen: set[str] = set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            if len(seen) > _SUBCLASS_LIMIT or self.external_bases(current) - _INERT_BASES:
                return None
            for name, summary in self._lineage(current):
                if summary.hidden_callers:
                    return None
                members.add(name)
            pending.extend(self._subclasses_of(current))
        return frozenset(members)

    def _frequencies_overruling(
        self,
        overruled: frozenset[str],
        callers: dict[str, list[tuple[str, CallSite]]],
        dispatched: dict[str, list[tuple[str, CallSite]]],
    ) -> dict[str, HotCaller]:
        """``frequencies``, with the functions of ``overruled`` judged as if they had no role;
        ``callers`` and ``dispatched`` (``_callers``, ``_dispatched_callers``) are consumed."""
        found = {function: HotCaller(UNCALLED_EVIDENCE, Frequency.COLD) for function in self.uncalled()}

        def short(function: str) -> str:
            return function.rpartition(".")[2].strip("<>")

        def role(function: str) -> str | None:
            return None if function in overruled else self.functions[function][2].role

        def yields(function: str) -> bool:
            return role(function) == RUN_ONCE and yields_to_callers(short(function))

        def is_cold(function: str) -> bool:
            return role(function) == RUN_ONCE or function in found and not found[function].frequency.repeats

        def repeats(function: str) -> bool:
            return role(function) == PER_CALL or function in found and found[function].frequency.repeats

        def is_entry(function: str) -> bool:
            """Module level, the ``__main__`` block, ``main``, and what only they call."""
            name = self.functions[function][1]
            return (
                name in (_MODULE_SCOPE, _MAIN_GUARD)
                or is_entry_point(name.rpartition(".")[2])
                or function in found
                and found[function].frequency is Frequency.ONCE
            )

        changed = True
        while changed:
            changed = False
            for function, sites in callers.items():
                if function in found or role(function) is not None:
                    continue
                # A call in a loop of ``main`` repeats: not a cold call. One that initialises an
                # attribute runs once per object (``CallSite.once``): a cold call wherever it is.
                if all(site.once or is_cold(caller) and not (site.loop and is_entry(caller)) for caller, site in sites):
                    names = sorted({short(caller) for caller, _ in sites})
                    frequency = Frequency.ONCE if any(is_entry(caller) for caller, _ in sites) else Frequency.COLD
                    how = "once per object " if all(site.once for _, site in sites) else ""
                    found[function] = HotCaller(f"called only {how}from `{'`, `'.join(names[:3])}`", frequency)
                    changed = True
        pending: list[str] = []
        for function, sites in callers.items():
            callers[function] = sites + dispatched.pop(function, [])
        callers.update(dispatched)
        for function, sites in callers.items():
            if function in found:
                continue
            for caller, site in sites:
                if site.once or is_cold(caller) and not is_entry(caller):
                    continue
                if site.loop and (not yields(function) or repeats(caller) or is_entry(caller)):
                    evidence = f"called in a loop over `{site.loop}` in `{short(caller)}`"
                    found[function] = HotCaller(evidence, Frequency.HOT)
                elif role(caller) == PER_CALL:
                    found[function] = HotCaller(f"called from `{short(caller)}`", Frequency.PER_CALL)
                else:
                    continue
                pending.append(function)
                break
        while pending:
            caller = pending.pop()
            class_name = self._class_of(caller)
            for site in self.functions[caller][2].calls:
                if site.once:
                    continue
                for callee in self.reached(site, class_name):
                    if callee in found or role(callee) == RUN_ONCE and not yields(callee):
                        continue
                    evidence = f"called from `{short(caller)}`, {found[caller].evidence}"
                    found[callee] = HotCaller(
                        evidence if len(evidence) <= 120 else evidence[:119] + "…", found[caller].frequency
                    )
                    pending.append(callee)
        return found

    def eval_mode_parameters(self) -> dict[str, dict[str, str]]:
        """For each project function (qualified), the parameters that every call of it in the
        project binds to a model its caller put in eval mode with autograd possibly recording
        (``FunctionSummary.eval_arguments``), and for a method the ``self.<attribute>`` every
        call of it from the object's own methods finds in eval mode (``"self.model"``), each with
        one such caller's short name. A call that passes anything else there or runs under
        ``no_grad``, a caller that computes gradients (it may train through the result), and a
        call that may run an override (``dispatched``) leave the parameter out."""
        if self._eval_mode_parameters is not None:
            return self._eval_mode_parameters
        passed: dict[str, dict[str, dict[str, int]]] = {}  # callee → caller → parameter → calls
        for function, (_, name, own) in self.functions.items():
            if not own.eval_arguments:
                continue
            class_name = self._class_of(function) if name not in (_MODULE_SCOPE, _MAIN_GUARD) else None
            for target, slot in own.eval_arguments:
                callee = self.callee(CallSite(target), class_name)
                if callee is None or callee == function or callee.endswith(".__init__"):
                    continue
                positional = self.functions[callee][2].positional or ()
                parameter = positional[int(slot)] if slot.isdigit() and int(slot) < len(positional) else slot
                if parameter in positional or parameter.startswith("self."):
                    calls = passed.setdefault(callee, {}).setdefault(function, {})
                    calls[parameter] = calls.get(parameter, 0) + 1
        found: dict[str, dict[str, str]] = {}
        if passed:
            dispatched = self._dispatched_callers()
            for callee, sites in self._callers().items():
                by_caller = passed.get(callee)
                if by_caller is None:
                    continue
                every_site = sites + dispatched.get(callee, [])
                callers = {caller for caller, _ in every_site}
                site_counts = {caller: sum(1 for other, _ in every_site if other == caller) for caller in callers}
                common = set.intersection(
                    *(
                        {
                            parameter
                            for parameter, count in by_caller.get(caller, {}).items()
                            if count >= site_counts[caller]
                        }
                        for caller in callers
                    )
                )
                first = min(callers)
                short = self.functions[first][1].rpartition(".")[2].strip("<>")
                if common:
                    found[callee] = {parameter: short for parameter in sorted(common)}
        self._eval_mode_parameters = found
        return found

    def grad_off_functions(self) -> frozenset[str]:
        """The project functions (qualified) that may run with autograd off: called inside a
        ``with`` block that may turn it off (``with torch.no_grad():``) or from a function
        decorated so (``CallSite.grad_off``), the overrides such a call may run
        (``dispatched``) included, the methods every project call of their name runs so
        (``_methods_called_only_with_grad_off``), and every function those call, at any depth.
        A function that also runs with autograd on elsewhere is among them: it may not."""
        if self._grad_off_functions is not None:
            return self._grad_off_functions
        found: set[str] = set()
        pending: list[str] = []
        only_off = self._methods_called_only_with_grad_off()
        for function, (_, name, _) in self.functions.items():
            if "." in name and name.rpartition(".")[2] in only_off:
                found.add(function)
                pending.append(function)
        for function, (_, name, own) in self.functions.items():
            class_name = self._class_of(function) if name not in (_MODULE_SCOPE, _MAIN_GUARD) else None
            for site in own.calls:
                if not site.grad_off:
                    continue
                for reached in self.reached(site, class_name):
                    if reached not in found:
                        found.add(reached)
                        pending.append(reached)
        while pending:
            caller = pending.pop()
            class_name = self._class_of(caller)
            for site in self.functions[caller][2].calls:
                for reached in self.reached(site, class_name):
                    if reached not in found:
                        found.add(reached)
                        pending.append(reached)
        self._grad_off_functions = frozenset(found)
        return self._grad_off_functions

    def _methods_called_only_with_grad_off(self) -> frozenset[str]:
        """The method names that every call of that name in the project, whatever its receiver,
        may run with autograd off (``FunctionSummary.method_calls``), at least one call being
        seen: ``label_sentences`` when its one call is ``self._model.label_sentences(…)`` under
        ``with torch.no_grad():``, though the index does not know what ``self._model`` holds.
        Names a library calls by protocol are left out: a dunder (``__call__``) and a per-call
        name (``forward``, which calling the module runs, ``training_step``)."""
        every: dict[str, bool] = {}
        for _, _, own in self.functions.values():
            for method, grad_off in own.method_calls.items():
                every[method] = every.get(method, True) and grad_off
        return frozenset(
            method
            for method, grad_off in every.items()
            if grad_off and not method.startswith("__") and role_of(method) != PER_CALL
        )

    # Star imports ----------------------------------------------------------------------

    def star_names(self, module: str) -> dict[str, str] | None:
        """Every name ``from <module> import *`` may bind, with what it surely means (the
        qualified name of an import or definition, "" when unsure): the module's literal
        ``__all__``, else the public names its top level binds, its own star imports bind and
        its submodules; None when the module is outside the project or may bind names no
        statement shows."""
        return self._exported(module, [])[0]

    def _exported(self, module: str, importing: list[str]) -> tuple[dict[str, str] | None, bool]:
        """``star_names`` of ``module`` while the star imports of ``importing`` are followed,
        and whether the answer is final (no module of ``importing`` was met again: in a cycle
        of star imports, the module met again gives only its own names, the rest being
        gathered by the module the cycle began with)."""
        if module in self._star_names:
            return self._star_names[module], True
        summary = self.files.get(module)
        if summary is None or summary.bound is None:
            return None, True
        namespace = dict.fromkeys(summary.bound, "")
        for name in summary.bound_once:
            namespace[name] = summary.names.get(name, "")
        final = module not in importing
        known = True
        if final:
            importing.append(module)
            for child in self._children().get(module, ()):
                namespace[child] = ""
            for target in summary.star_imports.values():
                names, complete = self._exported(target, importing)
                if names is None:
                    known = False
                    break
                for name, meaning in names.items():
                    # Bound twice, in an order not followed here: sure only when both agree.
                    namespace[name] = meaning if namespace.get(name, meaning) == meaning else ""
                final = final and complete
            importing.pop()
        exported: dict[str, str] | None
        if summary.exports is not None:
            exported = {name: namespace.get(name, "") if known else "" for name in summary.exports}
        elif not known:
            exported = None
        elif "__all__" in summary.bound:
            exported = namespace
        else:
            exported = {name: meaning for name, meaning in namespace.items() if not name.startswith("_")}
        if final or not known:
            self._star_names[module] = exported
        return exported, final

    def _children(self) -> dict[str, list[str]]:
        """The last names of each package's submodules: a star import of the package binds those
        imported by then."""
        if self._submodules is None:
            self._submodules = {}
            for module in self.files:
                package, _, last = module.rpartition(".")
                if package:
                    self._submodules.setdefault(package, []).append(last)
        return self._submodules

    # Views -----------------------------------------------------------------------------

    def imported_modules(self) -> frozenset[str]:
        """The modules of the project that another of its modules, not a test, imports or
        imports a name from (``from .model import MedLink`` in a package's ``__init__``):
        library modules, whose ``if __name__ == "__main__":`` block is a smoke test run by hand,
        not the program. A test importing a script's ``main`` makes no library of it."""
        if self._imported_modules is None:
            found: set[str] = set()
            for summary in self.files.values():
                if is_test_path(summary.module.replace(".", "/") + ".py"):
                    continue
                for qualified in summary.names.values():
                    module = qualified if qualified in self.files else qualified.rpartition(".")[0]
                    if module in self.files and module != summary.module:
                        found.add(module)
            self._imported_modules = frozenset(found)
        return self._imported_modules

    def view(self, module: str) -> ProjectView | None:
        """The facts the file of ``module`` depends on; None when it is not in the index."""
        summary = self.files.get(module)
        if summary is None:
            return None
        external: dict[str, frozenset[str]] = {}
        callees: dict[str, CalleeFacts] = {}
        for local, qualified in summary.names.items():
            resolved = self._resolve(qualified)
            if resolved in self.classes:
                external[local] = self.external_bases(resolved)
            elif resolved in self.files and resolved != module:
                # ``layers.Base`` after ``from . import layers``.
                for class_name in self.files[resolved].classes:
                    external[f"{local}.{class_name}"] = self.external_bases(f"{resolved}.{class_name}")
            elif resolved in self.functions and not resolved.startswith(module + "."):
                facts = self.facts(resolved)
                if facts is not None:
                    callees[local] = facts
        spelled = {bound: local for local, bound in summary.names.items()}
        own_functions = self._by_module.get(module, ())
        for function in own_functions:
            function_class = self._class_of(function)
            for site in self.functions[function][2].calls:
                kind = site.target.partition(":")[0]
                if kind == "q":
                    qualified = site.target[2:]
                    if qualified.startswith(module + "."):
                        continue
                    parts = qualified.split(".")
                    spelling = next(
                        (
                            spelled[".".join(parts[:end])] + "".join(f".{part}" for part in parts[end:])
                            for end in range(len(parts), 0, -1)
                            if ".".join(parts[:end]) in spelled
                        ),
                        None,
                    )
                    if spelling is None:
                        continue
                else:
                    spelling = "self." + site.target.partition(":")[2].replace(":", ".")
                callee = self.callee(site, function_class)
                if callee is None or callee.startswith(module + ".") and kind == "self":
                    continue
                facts = self.facts(callee)
                if facts is not None:
                    callees.setdefault(spelling, facts)
        prefix = module + "."
        every = self.frequencies()
        frequencies = {function[len(prefix) :]: every[function] for function in own_functions if function in every}
        evaluated = self.eval_mode_parameters()
        eval_mode_parameters = {
            function[len(prefix) :]: evaluated[function] for function in own_functions if function in evaluated
        }
        star_names = {
            spelled: names
            for spelled, names in (
                (spelled, self.star_names(target)) for spelled, target in summary.star_imports.items()
            )
            if names is not None
        }
        grad_off = self.grad_off_functions()
        grad_off_functions = frozenset(function[len(prefix) :] for function in own_functions if function in grad_off)
        uncalled = self.uncalled()
        own_class_only = self.methods_called_only_by_own_class()
        return ProjectView(
            module,
            external,
            callees,
            frequencies,
            eval_mode_parameters,
            star_names,
            grad_off_functions,
            frozenset(function[len(prefix) :] for function in own_functions if function in uncalled),
            frozenset(function[len(prefix) :] for function in own_functions if function in own_class_only),
            module in self.imported_modules(),
        )
