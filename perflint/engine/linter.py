"""Lint one file: parse it once, walk it once with every enabled rule, resolve positions
only when something was found."""

from __future__ import annotations

import ast
import re
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perflint.engine.arrays import ArrayKnowledge
from perflint.engine.findings import Finding, unlintable
from perflint.engine.imports import ImportTable
from perflint.engine.loops import Comprehension, LoopFrame, is_invariant, target_names
from perflint.engine.walker import syntax_children
from perflint.engine.noqa import noqa_lines, suppressed
from perflint.engine.rule import Rule

_HOOK = re.compile(r"^(visit|leave)_([A-Z][A-Za-z]+)$")
_ENTER, _LEAVE, _ACTION = 0, 1, 2
_COMPREHENSION_TYPES = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)

Handler = Callable[[cst.CSTNode], None]


def _rule_hooks(rule_class: type[Rule]) -> list[tuple[str, type, str]]:
    hooks = []
    for attribute in dir(rule_class):
        match = _HOOK.match(attribute)
        if match:
            node_type = getattr(cst, match.group(2), None)
            if not isinstance(node_type, type):
                raise TypeError(f"{rule_class.__name__}.{attribute}: no libcst node named {match.group(2)}")
            hooks.append((match.group(1), node_type, attribute))
    return hooks


class FileContext:
    """What the rules of one file share: the source, the shared knowledge, and the findings."""

    def __init__(self, source: str, path: str) -> None:
        self.source = source
        self.path = path
        self.imports = ImportTable()
        self.arrays = ArrayKnowledge(self.imports)
        self._loop_stacks: list[list[LoopFrame]] = [[]]
        # Per function scope: the conditions around the current node inside its loops, each with
        # the loop depth at which it was entered; None stands for an exception handler.
        self._guard_stacks: list[list[tuple[Optional[cst.BaseExpression], int]]] = [[]]
        self._reports: list[tuple[Rule, cst.CSTNode, str]] = []
        # Dispatch on the exact node type: isinstance on libcst's ABCs is slow on a hot path.
        self._orderings: dict[type, Callable[[Any], Optional[list[tuple[int, object]]]]] = {
            cst.Import: self._import_children,
            cst.ImportFrom: self._import_children,
            cst.For: self._for_children,
            cst.While: self._while_children,
            cst.If: self._if_children,
            cst.IfExp: self._conditional_expression_children,
            cst.ExceptHandler: self._except_handler_children,
            cst.FunctionDef: self._function_children,
            cst.Lambda: self._function_children,
            cst.ClassDef: self._class_children,
            **{loop_type: self._comprehension_children for loop_type in _COMPREHENSION_TYPES},
        }
        self._afters: dict[type, Callable[[Any], None]] = {
            cst.Assign: self._after_assign,
            cst.AnnAssign: self._after_annotated_assign,
            cst.NamedExpr: self._after_walrus,
            cst.AugAssign: self._after_augmented_assign,
            cst.WithItem: self._after_alias,
            cst.ExceptHandler: self._after_alias,
        }

    # Loops -------------------------------------------------------------------------------

    @property
    def loops(self) -> Sequence[LoopFrame]:
        """Loops enclosing the current node within its function, outermost first."""
        return self._loop_stacks[-1]

    @property
    def innermost_loop(self) -> Optional[LoopFrame]:
        stack = self._loop_stacks[-1]
        return stack[-1] if stack else None

    def training_step_loop(self) -> Optional[LoopFrame]:
        """The enclosing loop that performs a training step, if any."""
        for frame in reversed(self._loop_stacks[-1]):
            if frame.is_training_step:
                return frame
        return None

    def runs_every_iteration(self, frame: Optional[LoopFrame] = None) -> bool:
        """The current node runs on every iteration of ``frame`` (default: innermost), as far as
        the conditions around it inside that loop show: none of them depends on the loop, and it
        is not in an exception handler. (``if t == 0:`` in a loop over ``t`` runs once.)"""
        stack = self._loop_stacks[-1]
        frame = frame or (stack[-1] if stack else None)
        if frame is None:
            return True
        depth = stack.index(frame)
        return all(
            guard is not None and self.is_invariant(guard, frame)
            for guard, entered_at in self._guard_stacks[-1]
            if entered_at > depth
        )

    def is_invariant(
        self, expr: cst.BaseExpression, frame: Optional[LoopFrame] = None, allow_conversions: bool = False
    ) -> bool:
        """``expr`` gives the same value on every iteration of ``frame`` (default: innermost)."""
        frame = frame or self.innermost_loop
        if frame is None:
            return True
        return is_invariant(expr, frame, self.imports, allow_conversions)

    # Findings ----------------------------------------------------------------------------

    def report(self, rule: Rule, node: cst.CSTNode, message: str) -> None:
        self._reports.append((rule, node, message))

    # Traversal ---------------------------------------------------------------------------

    def run(self, module: cst.Module, rules: Sequence[Rule]) -> list[str]:
        """Walk ``module`` once, calling every rule's hooks. Returns one line per rule that failed."""
        visit: dict[type, list[tuple[Rule, Handler]]] = {}
        leave: dict[type, list[tuple[Rule, Handler]]] = {}
        for rule in rules:
            for kind, node_type, attribute in _rule_hooks(type(rule)):
                table = visit if kind == "visit" else leave
                table.setdefault(node_type, []).append((rule, getattr(rule, attribute)))
        failures: list[str] = []
        failed: set[int] = set()

        def call(handlers: list[tuple[Rule, Handler]], node: cst.CSTNode) -> None:
            for rule, handler in handlers:
                if id(rule) in failed:
                    continue
                try:
                    handler(node)
                except Exception as error:  # one rule's bug must not end the run
                    failed.add(id(rule))
                    failures.append(
                        f"internal error in rule {rule.code} ({rule.name}): {type(error).__name__}: {error}"
                    )

        # Types whose nodes need a leave event: a rule leaves them, or a binding takes effect.
        needs_leave = set(leave) | set(self._afters)
        orderings = self._orderings
        stack: list[tuple[int, object]] = [(_ENTER, module)]
        while stack:
            phase, item = stack.pop()
            if phase == _ACTION:
                item()
                continue
            node_type = type(item)
            if phase == _LEAVE:
                handlers = leave.get(node_type)
                if handlers:
                    call(handlers, item)
                after = self._afters.get(node_type)
                if after is not None:
                    after(item)
                continue
            handlers = visit.get(node_type)
            if handlers:
                call(handlers, item)
            if node_type in needs_leave:
                stack.append((_LEAVE, item))
            ordering = orderings.get(node_type)
            ordered = ordering(item) if ordering is not None else None
            if ordered is not None:
                ordered.reverse()
                stack.extend(ordered)
            else:
                children = [(_ENTER, child) for child in syntax_children(item)]
                children.reverse()
                stack.extend(children)
        return failures

    def _import_children(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        self.imports.add_import(node)

    def _for_children(self, node: cst.For) -> list[tuple[int, object]]:
        return [
            (_ENTER, node.iter),
            (_ACTION, lambda: self._enter_loop(node)),
            (_ENTER, node.target),
            (_ENTER, node.body),
            (_ACTION, self._leave_loop),
            *_optional(node.orelse),
        ]

    def _while_children(self, node: cst.While) -> list[tuple[int, object]]:
        return [
            (_ACTION, lambda: self._enter_loop(node)),
            (_ENTER, node.test),
            (_ENTER, node.body),
            (_ACTION, self._leave_loop),
            *_optional(node.orelse),
        ]

    def _comprehension_children(self, node: Comprehension) -> list[tuple[int, object]]:
        inner = [(_ENTER, node.for_in.target), *((_ENTER, test) for test in node.for_in.ifs)]
        inner += _optional(node.for_in.inner_for_in)
        results = [node.key, node.value] if type(node) is cst.DictComp else [node.elt]
        return [
            (_ENTER, node.for_in.iter),
            (_ACTION, lambda: self._enter_loop(node)),
            *inner,
            *((_ENTER, result) for result in results),
            (_ACTION, self._leave_loop),
        ]

    def _if_children(self, node: cst.If) -> Optional[list[tuple[int, object]]]:
        narrowed = self.arrays.isinstance_narrowing(node.test)
        in_loop = bool(self._loop_stacks[-1])
        if not narrowed and not in_loop:
            return None
        events: list[tuple[int, object]] = [(_ENTER, node.test)]
        if in_loop:
            events.append((_ACTION, lambda: self._push_guard(node.test)))
        if narrowed:
            events.append((_ACTION, lambda: self.arrays.push_narrowing(narrowed)))
        events.append((_ENTER, node.body))
        if narrowed:
            events.append((_ACTION, self.arrays.pop_narrowing))
        events += _optional(node.orelse)
        if in_loop:
            events.append((_ACTION, self._pop_guard))
        return events

    def _conditional_expression_children(self, node: cst.IfExp) -> Optional[list[tuple[int, object]]]:
        if not self._loop_stacks[-1]:
            return None
        return [
            (_ENTER, node.test),
            (_ACTION, lambda: self._push_guard(node.test)),
            (_ENTER, node.body),
            (_ENTER, node.orelse),
            (_ACTION, self._pop_guard),
        ]

    def _except_handler_children(self, node: cst.ExceptHandler) -> Optional[list[tuple[int, object]]]:
        if not self._loop_stacks[-1]:
            return None
        return [
            (_ACTION, lambda: self._push_guard(None)),
            *((_ENTER, child) for child in syntax_children(node)),
            (_ACTION, self._pop_guard),
        ]

    def _push_guard(self, test: Optional[cst.BaseExpression]) -> None:
        self._guard_stacks[-1].append((test, len(self._loop_stacks[-1])))

    def _pop_guard(self) -> None:
        self._guard_stacks[-1].pop()

    def _function_children(self, node: Union[cst.FunctionDef, cst.Lambda]) -> list[tuple[int, object]]:
        decorators: Sequence[cst.Decorator] = ()
        if type(node) is cst.FunctionDef:
            decorators = node.decorators
            self._rebind(node.name.value, None)
        return [
            *((_ENTER, decorator) for decorator in decorators),
            (_ENTER, node.params),
            (_ACTION, lambda: self._enter_scope(node.params)),
            (_ENTER, node.body),
            (_ACTION, self._leave_scope),
        ]

    def _class_children(self, node: cst.ClassDef) -> list[tuple[int, object]]:
        self._rebind(node.name.value, None)
        return [
            *((_ENTER, decorator) for decorator in node.decorators),
            *((_ENTER, arg) for arg in node.bases),
            *((_ENTER, arg) for arg in node.keywords),
            (_ACTION, lambda: self._enter_scope(None)),
            (_ENTER, node.body),
            (_ACTION, self._leave_scope),
        ]

    def _after_assign(self, node: cst.Assign) -> None:
        kind = self.arrays.kind_of(node.value)
        for assign_target in node.targets:
            self._bind_target(assign_target.target, kind, node.value)

    def _after_annotated_assign(self, node: cst.AnnAssign) -> None:
        kind = self.arrays.annotation_kind(node.annotation.annotation)
        if kind is None and node.value is not None:
            kind = self.arrays.kind_of(node.value)
        self._bind_target(node.target, kind, node.value)

    def _after_walrus(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, self.arrays.kind_of(node.value), node.value)

    def _after_augmented_assign(self, node: cst.AugAssign) -> None:
        if type(node.target) is cst.Name:
            kind = self.arrays.lookup(node.target.value) or self.arrays.kind_of(node.value)
            self._bind_target(node.target, kind)

    def _after_alias(self, node: Union[cst.WithItem, cst.ExceptHandler]) -> None:
        alias = node.asname if type(node) is cst.WithItem else node.name
        if alias is not None:
            self._bind_target(alias.name, None)

    def _bind_target(
        self, target: cst.BaseExpression, kind: Optional[str], value: Optional[cst.BaseExpression] = None
    ) -> None:
        if type(target) is cst.Name:
            self._rebind(target.value, kind, value)
        else:
            for name in target_names(target):
                self._rebind(name, None)

    def _rebind(self, name: str, kind: Optional[str], value: Optional[cst.BaseExpression] = None) -> None:
        self.imports.shadow(name)
        self.arrays.bind(name, kind, value)

    def _enter_loop(self, node: cst.CSTNode) -> None:
        frame = LoopFrame(node, self.imports)
        for name in frame.targets:
            self._rebind(name, None)
        self._loop_stacks[-1].append(frame)

    def _leave_loop(self) -> None:
        self._loop_stacks[-1].pop()

    def _enter_scope(self, params: Optional[cst.Parameters]) -> None:
        self.imports.push_scope()
        self.arrays.push_scope()
        if params is not None:
            self.arrays.bind_parameters(params)
            every = (*params.posonly_params, *params.params, *params.kwonly_params)
            self.imports.shadow_all(param.name.value for param in every)
        self._loop_stacks.append([])
        self._guard_stacks.append([])

    def _leave_scope(self) -> None:
        self.imports.pop_scope()
        self.arrays.pop_scope()
        self._loop_stacks.pop()
        self._guard_stacks.pop()

    # Results -----------------------------------------------------------------------------

    def findings(self, module: cst.Module) -> list[Finding]:
        if not self._reports:
            return []
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        findings = []
        for rule, node, message in self._reports:
            span = positions[node]
            findings.append(
                Finding(
                    code=rule.code,
                    name=rule.name,
                    message=message,
                    path=self.path,
                    line=span.start.line,
                    column=span.start.column + 1,
                    end_line=span.end.line,
                    end_column=span.end.column + 1,
                )
            )
        return findings


def _optional(node: Optional[cst.CSTNode]) -> list[tuple[int, object]]:
    return [(_ENTER, node)] if node is not None else []


def enabled_for_source(source: str, rule_classes: Iterable[type[Rule]]) -> list[type[Rule]]:
    """Rules whose `required_text` the file contains (a cheap text check before any work)."""
    return [
        rule_class
        for rule_class in rule_classes
        if not rule_class.required_text
        or any(text in source for text in rule_class.required_text)
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
        return unlintable(
            path, f"cannot parse: {python_error.msg}", python_error.lineno or 1, python_error.offset or 1
        )
    except (ValueError, RecursionError, MemoryError):
        pass
    detail = error.message.splitlines()[0] if error.message else "syntax error"
    position = _LIBCST_ERROR_POSITION.search(detail)
    line, column = (int(position.group(1)), int(position.group(2)) + 1) if position else (error.raw_line, 1)
    return unlintable(path, f"cannot parse: {detail}", line, column)


def parse(source: str, path: str) -> tuple[Optional[cst.Module], Optional[Finding]]:
    """The module, or the PFL000 finding that says why it could not be parsed."""
    try:
        return cst.parse_module(source), None
    except cst.ParserSyntaxError as error:
        return None, _syntax_error(source, path, error)
    except (RecursionError, MemoryError, ValueError) as error:
        return None, unlintable(path, f"cannot parse: {type(error).__name__}: {error}")


def lint_source(
    source: str,
    path: str,
    rule_classes: Sequence[type[Rule]],
    apply_noqa: bool = True,
) -> list[Finding]:
    """Every finding of ``rule_classes`` in ``source``, sorted by position.

    A file that does not parse, or a rule that fails on it, yields a PFL000 finding instead
    of an exception.
    """
    module, error = parse(source, path)
    if module is None:
        return [error]
    active = enabled_for_source(source, rule_classes)
    if not active:
        return []
    context = FileContext(source, path)
    failures = context.run(module, [rule_class(context) for rule_class in active])
    findings = context.findings(module) + [unlintable(path, failure) for failure in failures]
    if apply_noqa and findings:
        lines = noqa_lines(source)
        findings = [finding for finding in findings if not suppressed(finding, lines)]
    return sorted(findings, key=lambda finding: finding.sort_key)
