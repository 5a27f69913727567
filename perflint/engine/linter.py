"""Lint one file: parse it once, walk it once with every enabled rule, resolve positions
only when something was found.

Knowledge modules and rules are both sets of hooks (see ``perflint.engine.hooks``) called
during the one walk. The contract a rule can rely on:

- On entering a node (``visit_*``), the knowledge modules run first, in the order of
  ``KNOWLEDGE`` (scopes, imports, arrays and values, loops, functions); on leaving it (``leave_*``)
  the rules run first and the knowledge modules after, in reverse order. So a rule's
  ``visit_For_body`` sees the loop as the innermost one, and a rule's ``leave_Assign`` still
  sees the names as they were before the assignment (the new binding is applied after it).
- In ``visit_For``, the innermost loop is the one around the ``for`` (its iterable is
  evaluated there); from ``visit_For_target`` on, through the body, it is this loop; in
  ``leave_For`` it is the one around it again. Comprehensions alike, from their first
  ``for`` clause's target. ``while`` loops from ``visit_While_test``.
- In ``visit_FunctionDef`` the frame is still the enclosing function's; from
  ``visit_FunctionDef_body`` on it is the function's own.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

import libcst as cst

from perflint.engine.arrays import ArrayKnowledge
from perflint.engine.collector import collector_paused
from perflint.engine.findings import Finding, unlintable
from perflint.engine.fixes import FileTree, suggested_fix
from perflint.engine.functions import FunctionFrame, FunctionKnowledge
from perflint.engine.hooks import VISIT, hooks_of
from perflint.engine.imports import ImportTable
from perflint.engine.loops import LoopFrame, LoopKnowledge
from perflint.engine.noqa import noqa_lines, suppressed
from perflint.engine.positions import Position, line_starts, node_positions, statement_positions
from perflint.engine.roles import ExecutionEstimate
from perflint.engine.rule import Fix, Rule
from perflint.engine.scopes import ScopeStack
from perflint.engine.walker import field_children, syntax_children, syntax_fields

if TYPE_CHECKING:
    from perflint.engine.project import ProjectView

_IDENTIFIER = re.compile(r"[^\W\d]\w*")

Handler = Callable[[cst.CSTNode], None]
# Nodes' start and end positions by ``id``, as ``positions.node_positions`` gives them.
Positions = dict[int, tuple[Position, Position]]

# What ``FileContext.note_module_read`` notes.
MODULE_READ, IMPORTS_READ, WORD_READ = "module", "imports", "word:"

# The knowledge modules, in the order their ``visit_*`` hooks run (``leave_*`` in reverse).
KNOWLEDGE = (
    ("scopes", ScopeStack),
    ("imports", ImportTable),
    ("arrays", ArrayKnowledge),
    ("loops", LoopKnowledge),
    ("functions", FunctionKnowledge),
)


class _Report:
    __slots__ = ("rule", "node", "message", "fix", "evidence", "size", "statement")

    def __init__(
        self,
        rule: Rule,
        node: cst.CSTNode,
        message: str,
        fix: Fix | None,
        evidence: str | None,
        size: int | None,
        statement: int,
    ) -> None:
        self.rule, self.node, self.message, self.fix, self.evidence = rule, node, message, fix, evidence
        self.size, self.statement = size, statement


class _NodeHandlers:
    """What happens at one node type: handlers on entering and leaving it and its fields."""

    __slots__ = ("enter", "leave", "fields", "field_enter", "field_leave", "has_field_hooks")

    def __init__(self, node_type: type) -> None:
        self.enter: list[tuple[Rule | None, Handler]] = []
        self.leave: list[tuple[Rule | None, Handler]] = []
        self.fields = syntax_fields(node_type)
        self.field_enter: dict[str, list[tuple[Rule | None, Handler]]] = {}
        self.field_leave: dict[str, list[tuple[Rule | None, Handler]]] = {}
        self.has_field_hooks = False


def _handlers_by_node_type(knowledge: Sequence[object], rules: Sequence[Rule]) -> dict[type, _NodeHandlers]:
    """Handlers per node type: knowledge before rules on entering, rules before knowledge (in
    reverse order) on leaving."""
    plans: dict[type, _NodeHandlers] = {}

    def add(owner: object, rule: Rule | None, leave_order: bool) -> None:
        owner_type: type = type(owner)
        for hook in hooks_of(owner_type):
            if (hook.event == VISIT) == leave_order:
                continue
            plan = plans.get(hook.node_type)
            if plan is None:
                plan = plans[hook.node_type] = _NodeHandlers(hook.node_type)
            entry = (rule, getattr(owner, hook.attribute))
            if hook.field is None:
                target = plan.enter if hook.event == VISIT else plan.leave
            else:
                table = plan.field_enter if hook.event == VISIT else plan.field_leave
                target = table.setdefault(hook.field, [])
                plan.has_field_hooks = True
            target.append(entry)

    for module in knowledge:
        add(module, None, leave_order=False)
    for rule in rules:
        add(rule, rule, leave_order=False)
    for rule in rules:
        add(rule, rule, leave_order=True)
    for module in reversed(knowledge):
        add(module, None, leave_order=True)
    return plans


def _parents_below(top: cst.CSTNode) -> dict[int, cst.CSTNode]:
    """The parent of each syntax node under ``top``, by ``id``."""
    found: dict[int, cst.CSTNode] = {}
    stack: list[cst.CSTNode] = [top]
    while stack:
        node = stack.pop()
        for child in syntax_children(node):
            found[id(child)] = node
            stack.append(child)
    return found


class ParentMap:
    """Each syntax node's parent, by ``id``, as ``dict.get`` gives it (None for the module and
    for a node not in it), worked out one top-level statement at a time, on first need: the
    statement named as ``near`` first, then the others in order until the node is found. Most
    files ask about the parents of nodes in few statements, or none.

    ``known``: the parents within each top-level statement, by the statement's ``id``, with
    the statement (``FileContext``'s ``statement_parents``); what is worked out is added to it."""

    def __init__(self, module: cst.Module, known: dict[int, tuple[cst.CSTNode, dict[int, cst.CSTNode]]]) -> None:
        self._module = module
        self._known = known
        self._statements = list(syntax_children(module))
        self._index = {id(statement): number for number, statement in enumerate(self._statements)}
        self._built: dict[int, dict[int, cst.CSTNode]] = {}
        self._last: dict[int, cst.CSTNode] = {}

    def _statement_parents(self, number: int) -> dict[int, cst.CSTNode]:
        found = self._built.get(number)
        if found is None:
            statement = self._statements[number]
            entry = self._known.get(id(statement))
            if entry is None or entry[0] is not statement:
                entry = self._known[id(statement)] = (statement, _parents_below(statement))
            found = self._built[number] = entry[1]
        return found

    def get(self, node_id: int, default: None = None, near: cst.CSTNode | None = None) -> cst.CSTNode | None:
        if node_id in self._index:
            return self._module
        if node_id == id(self._module):
            return default
        parent = self._last.get(node_id)
        if parent is not None:
            return parent
        numbers = list(self._built)
        if near is not None and id(near) in self._index:
            numbers.append(self._index[id(near)])
        numbers.extend(range(len(self._statements)))
        for number in numbers:
            found = self._statement_parents(number)
            parent = found.get(node_id)
            if parent is not None:
                self._last = found
                return parent
        return default


class FileContext:
    """What the rules of one file share: the source, the knowledge modules, and the findings.

    Rules ask ``context.imports`` (what a name resolves to), ``context.arrays`` (array kinds
    and assigned values), ``context.loops`` and the shortcuts below (loops, invariance,
    training steps), and ``context.functions`` (function and class frames, roles, summaries).
    ``project`` is what the rest of the project says about this file's names (see
    ``perflint.engine.project``); None when the file is linted alone. ``statement_parents``:
    the parents within each top-level statement found by an earlier lint of a tree that shares
    statements with this one (an incremental lint's), by the statement's ``id``, with the
    statement; ``parents`` reads it and adds what it lacks.
    """

    def __init__(
        self,
        source: str,
        path: str,
        project: ProjectView | None = None,
        statement_parents: dict[int, tuple[cst.CSTNode, dict[int, cst.CSTNode]]] | None = None,
    ) -> None:
        self.source = source
        self.path = path
        self.project = project
        self._statement_parents = statement_parents
        self._reports: list[_Report] = []
        # The top-level statement the walk is in, where ``run`` is asked to note it; else -1.
        self._statement = -1
        # What the rules read of the whole file, by that statement (``note_module_read``).
        self.module_reads: dict[int, set[str]] = {}
        for attribute, knowledge_class in KNOWLEDGE:
            setattr(self, attribute, knowledge_class(self))
        self.scopes: ScopeStack
        self.imports: ImportTable
        self.arrays: ArrayKnowledge
        self.loops: LoopKnowledge
        self.functions: FunctionKnowledge

    # Shortcuts to the knowledge rules ask for most -------------------------------------------

    @property
    def innermost_loop(self) -> LoopFrame | None:
        """The innermost loop around the current node within its function."""
        return self.loops.innermost

    def training_step_loop(self) -> LoopFrame | None:
        """The innermost enclosing loop whose iteration is a training step, if any."""
        return self.loops.training_step_loop()

    def runs_every_iteration(self, frame: LoopFrame | None = None) -> bool:
        """The current node runs on every iteration of ``frame`` (default: innermost), as far as
        the conditions around it inside that loop show: none of them depends on the loop, and it
        is not in an exception handler or a ``case``. (``if t == 0:`` in a loop over ``t`` runs
        once.)"""
        return self.loops.runs_every_iteration(frame)

    def is_invariant(
        self,
        expr: cst.BaseExpression,
        frame: LoopFrame | None = None,
        allow_conversions: bool = False,
        identity: bool = False,
        through_comprehensions: bool = False,
    ) -> bool:
        """``expr`` gives an equal value on every iteration of ``frame`` (default: innermost);
        with ``identity=True``, the same object (a pure factory such as ``np.eye(n)`` gives an
        equal value but a new object each time; see ``invariance.is_invariant``); with
        ``through_comprehensions``, a list, set or dict comprehension may be invariant too."""
        return self.loops.is_invariant(expr, frame, allow_conversions, identity, through_comprehensions)

    @property
    def function(self) -> FunctionFrame | None:
        """The innermost function around the current node (None at module level or in a class body)."""
        return self.functions.current

    def in_compiled_code(self) -> bool:
        """The current node is in a function that a JIT compiler compiles (numba, JAX,
        TorchScript, ``torch.compile``, Cython) or that is captured as a CUDA graph
        (``torch.cuda.make_graphed_callables``, called under ``with torch.cuda.graph(g):``),
        inside one, or in such a ``with`` body itself: its loops do not run in the interpreter,
        so rules that cost a loop's iterations stay silent. So is the body of ``if
        torch.jit.is_scripting():``, which only compiled code runs."""
        if self.loops.in_graph_capture() or self.loops.in_compiled_branch():
            return True
        frame = self.functions.current
        return frame is not None and frame.is_compiled

    def frequency(self) -> ExecutionEstimate:
        """How often the current node runs, with the evidence in words (see
        ``FunctionKnowledge.frequency``)."""
        return self.functions.frequency()

    def runs_once(self) -> bool:
        """The current node runs once per program, object or key: in run-once code (module
        level, a class body, or a function ``FunctionKnowledge.in_set_up`` finds run once) and in
        no loop of its function, or
        in a lazy-initialisation branch (``if self.mask is None: self.mask = …``) and in no loop
        inside it."""
        if self.loops.in_lazy_initialisation():
            return True
        return self.loops.innermost is None and (self.functions.current is None or self.functions.in_set_up())

    @cached_property
    def parents(self) -> ParentMap:
        """Each syntax node's parent, by ``id``: worked out on first use, a top-level statement
        at a time (fixes need it; most files never ask)."""
        return ParentMap(self._module, {} if self._statement_parents is None else self._statement_parents)

    def path_to(self, node: cst.CSTNode) -> list[cst.CSTNode]:
        """The nodes from the module down to ``node``, both included."""
        # The outermost function or class around the walk's node: most often the top-level
        # statement that holds ``node``, whose parents are then the only ones worked out.
        scopes = self.scopes.stack
        near = scopes[1].node if len(scopes) > 1 else None
        parents = self.parents
        path = [node]
        parent = parents.get(id(node), near=near)
        while parent is not None:
            path.append(parent)
            parent = parents.get(id(parent))
        path.reverse()
        return path

    @cached_property
    def _words_found(self) -> dict[str, bool]:
        return {}

    def has_word(self, word: str) -> bool:
        """``word`` is an identifier-like word of the file's text (a name, an attribute, a word
        in a string or comment): a new name that is not clashes with nothing in the file."""
        self.note_module_read(f"{WORD_READ}{word}")
        found = self._words_found.get(word)
        if found is None:
            # One search per word asked, not a split of the whole file into words: ``word`` is a
            # word of the text where no word character comes after it and, before it, only
            # digits do (``_IDENTIFIER`` starts a word after them: ``1e`` holds ``e``).
            found = bool(
                _IDENTIFIER.fullmatch(word)
                and word in self.source
                and re.search(rf"(?<!\w)\d*{re.escape(word)}(?!\w)", self.source)
            )
            self._words_found[word] = found
        return found

    @property
    def module(self) -> cst.Module:
        """The file's syntax tree, for a rule that looks beyond the function it is in."""
        self.note_module_read(MODULE_READ)
        return self._module

    @property
    def module_for_fix(self) -> cst.Module:
        """``module``, read only to build a fix: not noted, since an incremental lint (the
        language server's diagnostics) turns no fix into edits and keeps none."""
        return self._module

    def note_module_read(self, what: str) -> None:
        """Notes that the current top-level statement's rules read something of the whole file,
        not only the names it mentions: ``MODULE_READ`` (its syntax tree), ``IMPORTS_READ``
        (whether the file imports a package, or binds a name anywhere) or ``WORD_READ`` and the
        word. An incremental lint (``perflint.engine.incremental``) lints that statement again
        after an edit that may change what it read."""
        self.module_reads.setdefault(self._statement, set()).add(what)

    def note_imports_read(self) -> None:
        self.note_module_read(IMPORTS_READ)

    # Findings ----------------------------------------------------------------------------

    def report(
        self,
        rule: Rule,
        node: cst.CSTNode,
        message: str,
        fix: Fix | None = None,
        evidence: str | None = None,
        size: int | None = None,
    ) -> None:
        """``evidence``: why the node runs often enough to matter, in a few words; it ends the
        message and is kept on the finding. ``size``: the finding's size in its benchmark's unit,
        where the code states it (``engine.sizes``)."""
        if evidence:
            message = f"{message}; {evidence}"
        self._reports.append(_Report(rule, node, message, fix, evidence or None, size, self._statement))

    # Traversal ---------------------------------------------------------------------------

    def run(self, module: cst.Module, rules: Sequence[Rule], quiet: frozenset[int] | None = None) -> list[str]:
        """Walk ``module`` once, calling every hook. Returns one line per rule that failed.

        ``quiet`` (an incremental lint's unchanged function bodies, see
        ``perflint.engine.incremental``): the ids of nodes under which only the knowledge
        modules' hooks run, not the rules', so the knowledge is built as in a whole walk; each
        report then notes the index of the top-level statement it was made in
        (``reported``)."""
        self._module = module
        knowledge = [getattr(self, attribute) for attribute, _ in KNOWLEDGE]
        loud_plans = plans = _handlers_by_node_type(knowledge, rules)
        quiet_ids = quiet if quiet is not None else frozenset()
        quiet_plans = _handlers_by_node_type(knowledge, []) if quiet_ids else plans
        statements = {id(statement): index for index, statement in enumerate(module.body)} if quiet is not None else {}

        def loud_again(_node: cst.CSTNode) -> None:
            nonlocal plans
            plans = loud_plans

        failures: list[str] = []
        failed: set[int] = set()

        def call(handlers: list[tuple[Rule | None, Handler]], node: cst.CSTNode) -> None:
            for rule, handler in handlers:
                if rule is None:
                    handler(node)
                    continue
                if failed and id(rule) in failed:
                    continue
                try:
                    handler(node)
                except RecursionError:  # deep code, not a bug of the rule
                    failed.add(id(rule))
                    failures.append(
                        f"rule {rule.code} ({rule.name}) skipped the file: "
                        + TOO_DEEPLY_NESTED.format(parser="the rule", reason="Python's recursion limit")
                    )
                except Exception as error:  # one rule's bug must not end the run
                    failed.add(id(rule))
                    failures.append(
                        f"internal error in rule {rule.code} ({rule.name}): {type(error).__name__}: {error}"
                    )

        # The stack holds nodes to enter, and (handlers, node) pairs to call once the nodes
        # pushed after them are done: a node's leave hooks, or its hooks after a field.
        stack: list[Any] = [module]
        while stack:
            item = stack.pop()
            if type(item) is tuple:
                call(item[0], item[1])
                continue
            if statements:
                if id(item) in statements:
                    self._statement = statements[id(item)]
                if plans is loud_plans and id(item) in quiet_ids:
                    plans = quiet_plans
                    stack.append(([(None, loud_again)], item))
            plan = plans.get(type(item))
            if plan is None:
                children = syntax_children(item)
                if children:
                    children.reverse()
                    stack.extend(children)
                continue
            if plan.enter:
                call(plan.enter, item)
            if plan.leave:
                stack.append((plan.leave, item))
            if not plan.has_field_hooks:
                children = syntax_children(item)
                children.reverse()
                stack.extend(children)
                continue
            for name in reversed(plan.fields):
                after = plan.field_leave.get(name)
                if after:
                    stack.append((after, item))
                children = field_children(getattr(item, name))
                children.reverse()
                stack.extend(children)
                before = plan.field_enter.get(name)
                if before:
                    stack.append((before, item))
        return failures

    def _release(self) -> None:
        """Drop everything the context holds, once the file's findings are made. The knowledge
        modules, the frames and the rules refer back to the context, so without this the
        file's syntax tree would stay in memory until Python's cycle collector finds it, and
        every collection until then would walk it."""
        vars(self).clear()

    # Results -----------------------------------------------------------------------------

    @property
    def reported(self) -> list[tuple[int, cst.CSTNode]]:
        """Each report's node, with the index of the top-level statement it was made in (see ``run``)."""
        return [(report.statement, report.node) for report in self._reports]

    def findings(
        self,
        module: cst.Module,
        fix_edits: bool = True,
        positions: Positions | None = None,
    ) -> tuple[list[Finding], list[str]]:
        """The findings, and one line per rule whose fix could not be turned into edits; with
        ``fix_edits=False`` no fix is turned into edits and every finding's ``fix`` is None.
        ``positions``: the reported nodes' positions by ``id`` (1-based line, 0-based column,
        start and end), when the caller worked them out; else from ``module``'s code."""
        if not self._reports:
            return [], []
        if positions is None:
            positions = node_positions(module, [report.node for report in self._reports])
        findings = []
        failures = []
        tree = None
        for report in self._reports:
            (line, column), (end_line, end_column) = positions[id(report.node)]
            suggestion = None
            if report.fix is not None and fix_edits:
                tree = tree or FileTree(module, self.source, self.parents)
                # A file libcst cannot give back exactly is offered no fix.
                if tree.exact:
                    try:
                        suggestion = suggested_fix(tree, report.fix, report.rule)
                    except Exception as error:  # one rule's bug must not end the run
                        failures.append(
                            f"internal error in the fix of rule {report.rule.code} "
                            f"({report.rule.name}): {type(error).__name__}: {error}"
                        )
            findings.append(
                Finding(
                    code=report.rule.code,
                    name=report.rule.name,
                    message=report.message,
                    path=self.path,
                    line=line,
                    column=column + 1,
                    end_line=end_line,
                    end_column=end_column + 1,
                    fix=suggestion,
                    evidence=report.evidence,
                    size=report.size,
                )
            )
        return findings, failures


def enabled_for_source(
    source: str, rule_classes: Iterable[type[Rule]], project: ProjectView | None = None
) -> list[type[Rule]]:
    """Rules whose `required_text` the file contains (a cheap text check before any work), or
    the functions of the project it calls (``fit_batch`` calls ``backward`` elsewhere)."""
    if project is not None and project.callee_text:
        source = f"{source}\n{project.callee_text}"
    # Whether the source holds each text, looked for once however many rules require it.
    present: dict[str, bool] = {}

    def holds(text: str) -> bool:
        found = present.get(text)
        if found is None:
            found = present[text] = text in source
        return found

    return [
        rule_class
        for rule_class in rule_classes
        if not rule_class.required_text or any(holds(text) for text in rule_class.required_text)
    ]


_LIBCST_ERROR_POSITION = re.compile(r"error at (\d+):(\d+)")


def _syntax_error(source: str, path: str, error: cst.ParserSyntaxError) -> Finding:
    """PFL000 at the error, in Python's own words when Python also rejects the file.

    libcst's native parser reports every error at 1:1 and states the real position only
    inside its message, so the compiler is asked for the position and a clearer reason.
    """
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as python_error:
        return unlintable(path, f"cannot parse: {python_error.msg}", python_error.lineno or 1, python_error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    detail = error.message.splitlines()[0] if error.message else "syntax error"
    position = _LIBCST_ERROR_POSITION.search(detail)
    line, column = (int(position.group(1)), int(position.group(2)) + 1) if position else (error.raw_line, 1)
    return unlintable(path, f"cannot parse: {detail}", line, column)


# Python's own limits on nesting, in its parser's words: code past them does not run, and
# libcst's native parser, which has no such limit, exhausts its stack and kills the process on
# code nested some thousands deep. So code that may be that deep is shown to Python first.
_NESTING_LIMIT_MESSAGES = ("too many nested parentheses", "too many levels of indentation")
_PYTHON_MAX_PARENTHESES = 200  # the tokenizer's MAXLEVEL
# Nesting thousands deep without brackets takes a long line (``- - - … 1``) or many
# continued lines; real code has neither, so these rarely cost the extra parse.
_LONG_LINE = 2000
_MANY_CONTINUED_LINES = 2000
TOO_DEEPLY_NESTED = "the code is nested too deeply for {parser} ({reason})"
# What the bracket scan keeps of a file's bytes: brackets, as "(" and ")", and line ends.
_BRACKET_TABLE = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKET_OR_NEWLINE = bytes(byte for byte in range(256) if byte not in b"()[]{}\n\r")


def _may_be_too_deeply_nested(source: str) -> bool:
    """A cheap upper bound, at C speed but for a loop over lines with brackets: could
    ``source`` be nested deeper than Python's parser allows? Brackets in strings and comments
    count too, so it errs towards asking Python."""
    if source.count("\\\n") + source.count("\\\r") > _MANY_CONTINUED_LINES:
        return True
    if max(map(len, source.splitlines()), default=0) > _LONG_LINE:
        return True
    brackets = source.encode("utf-8", "surrogatepass").translate(_BRACKET_TABLE, _NOT_BRACKET_OR_NEWLINE)
    depth = continued = 0
    for line in brackets.splitlines():
        if line:
            opened = line.count(b"(")
            if depth + opened > _PYTHON_MAX_PARENTHESES:
                return True
            depth = max(0, depth + opened - line.count(b")"))
        continued = continued + 1 if depth else 0
        if continued > _MANY_CONTINUED_LINES:
            return True
    return False


def _python_nesting_limit(source: str, path: str) -> Finding | None:
    """PFL000 when Python's own parser refuses ``source`` for its nesting; None otherwise (any
    other syntax error is libcst's to report)."""
    if not _may_be_too_deeply_nested(source):
        return None
    try:
        compile(source, path, "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        if error.msg in _NESTING_LIMIT_MESSAGES:
            reason = TOO_DEEPLY_NESTED.format(parser="Python's parser", reason=error.msg)
            return unlintable(path, f"cannot parse: {reason}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):  # "too complex": Python's parser ran out of stack
        return unlintable(
            path, "cannot parse: " + TOO_DEEPLY_NESTED.format(parser="Python's parser", reason="it runs out of stack")
        )
    except ValueError:
        pass
    return None


def parse(source: str, path: str) -> cst.Module | Finding:
    """The module, or the PFL000 finding that says why it could not be parsed."""
    refused = _python_nesting_limit(source, path)
    if refused is not None:
        return refused
    try:
        return cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        return _syntax_error(source, path, error)
    except RecursionError:
        return unlintable(
            path,
            "cannot parse: " + TOO_DEEPLY_NESTED.format(parser="libcst's parser", reason="Python's recursion limit"),
        )
    except (MemoryError, ValueError) as error:
        return unlintable(path, f"cannot parse: {type(error).__name__}: {error}")


def lint_source(
    source: str,
    path: str,
    rule_classes: Sequence[type[Rule]],
    apply_noqa: bool = True,
    prefilter: bool = True,
    project: ProjectView | None = None,
    fix_edits: bool = True,
) -> list[Finding]:
    """Every finding of ``rule_classes`` in ``source``, sorted by position.

    A file that does not parse, or a rule that fails on it, yields a PFL000 finding instead
    of an exception. ``prefilter=False`` runs every rule's detector even on a source without
    its ``required_text`` (the documentation tests check the "use instead" code that way).
    ``project``: the project index's view of this file, if any. ``fix_edits=False`` skips
    turning fixes into text edits (findings carry no ``fix``): the language server's diagnostics
    need none until a code action asks.
    """
    # The parse allocates a node for every token and makes no cycle: the collections its
    # allocations would set off walk every object the process holds and free nothing. The
    # collector stays paused until the syntax tree is dropped, so that reference counting frees
    # it before any collection walks it (once back on, the collector counts only what is left).
    with collector_paused():
        module = parse(source, path)
        if isinstance(module, Finding):
            return [module]
        findings = lint_module(module, source, path, rule_classes, apply_noqa, prefilter, project, fix_edits)
        del module
    return findings


def lint_module(
    module: cst.Module,
    source: str,
    path: str,
    rule_classes: Sequence[type[Rule]],
    apply_noqa: bool = True,
    prefilter: bool = True,
    project: ProjectView | None = None,
    fix_edits: bool = True,
) -> list[Finding]:
    """``lint_source`` of the module parsed from ``source``."""
    active = enabled_for_source(source, rule_classes, project) if prefilter else list(rule_classes)
    if not active:
        return []
    findings = walk_module(
        module,
        source,
        path,
        active,
        project,
        fix_edits,
        positions=lambda context: _found_positions(context, module, source),
    )
    if apply_noqa and findings:
        lines = noqa_lines(source)
        findings = [finding for finding in findings if not suppressed(finding, lines)]
    return sorted(findings, key=lambda finding: finding.sort_key)


def _found_positions(context: FileContext, module: cst.Module, source: str) -> Positions | None:
    """The reported nodes' positions, from the code of the top-level statements that hold them
    alone (``positions.statement_positions``): each such statement's code is found in
    ``source``, which is the whole module's code (libcst gives back the text it parsed). None,
    for the whole module's code generation instead, when a statement's code is not found in
    ``source`` exactly once or a reported node is not below a top-level statement (the module
    itself)."""
    wanted = {id(node) for _, node in context.reported}
    if id(module) in wanted:
        return None
    statement_of: dict[int, int] = {}
    for number, statement in enumerate(module.body):
        if id(statement) in wanted:
            statement_of[id(statement)] = number
        stack: list[cst.CSTNode] = [statement]
        while stack:
            for child in syntax_children(stack.pop()):
                if id(child) in wanted:
                    statement_of[id(child)] = number
                stack.append(child)
        if len(statement_of) == len(wanted):
            break
    else:
        return None
    starts: list[int] = []

    def first_line(_number: int, code: str) -> int | None:
        offset = source.find(code)
        if offset < 0 or source.find(code, offset + 1) >= 0:
            return None
        if not starts:
            starts.extend(line_starts(source))
        return bisect_right(starts, offset)

    return statement_positions(module, [(statement_of[id(node)], node) for _, node in context.reported], first_line)


def walk_module(
    module: cst.Module,
    source: str,
    path: str,
    active: Sequence[type[Rule]],
    project: ProjectView | None = None,
    fix_edits: bool = True,
    quiet: frozenset[int] | None = None,
    positions: Callable[[FileContext], Positions | None] | None = None,
    statement_parents: dict[int, tuple[cst.CSTNode, dict[int, cst.CSTNode]]] | None = None,
    module_reads: dict[int, set[str]] | None = None,
) -> list[Finding]:
    """The findings of the ``active`` rules in ``module``, in report order, ``# noqa`` not
    applied; ``quiet``, ``positions`` and ``statement_parents`` as ``FileContext.run``,
    ``FileContext.findings`` and ``FileContext`` take them (``positions`` is asked once the
    walk is done; where it gives None, the positions come from the whole module's code);
    ``module_reads``, when given, receives ``FileContext.module_reads``."""
    context = FileContext(source, path, project, statement_parents)
    try:
        # The walk and the positions' code generation allocate much and leave little to
        # collect: the context is released after them, and any cycle a rule leaves is
        # collected once the collector is back on.
        with collector_paused():
            failures = context.run(module, [rule_class(context) for rule_class in active], quiet)
            known = positions(context) if positions is not None and context.reported else None
            findings, fix_failures = context.findings(module, fix_edits, known)
        if module_reads is not None:
            module_reads.update(context.module_reads)
    except RecursionError:  # code Python accepts, nested deeper than libcst's code generation follows
        return [
            unlintable(
                path, "cannot lint: " + TOO_DEEPLY_NESTED.format(parser="the linter", reason="Python's recursion limit")
            )
        ]
    finally:
        context._release()
    return findings + [unlintable(path, failure) for failure in failures + fix_failures]
