"""Loop context: which loop a node runs in, what that loop rebinds or mutates, and whether
it is a training step.

A loop's effects are summarised lazily (``effects.summarise``), the first time a rule asks
about that loop, by one walk of the loop's own body; most loops are never asked about.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

import libcst as cst

from perflint.engine import catalog, dataloaders
from perflint.engine.arrays import Evidence
from perflint.engine.control_flow import (
    has_own_exit,
    is_lazy_initialisation,
    leaving_statement,
    retries,
    tests_a_debug_flag,
)
from perflint.engine.effects import Effects, summarise
from perflint.engine.imports import ImportTable, chains_overlap, dotted_name, target_names
from perflint.engine.invariance import is_invariant
from perflint.engine.walker import mentions, nodes_in_scope, root_name, syntax_children

if TYPE_CHECKING:
    from perflint.engine.functions import FunctionKnowledge
    from perflint.engine.linter import FileContext

Comprehension = Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]
LoopNode = Union[cst.For, cst.While, Comprehension]
_ARRAY_OR_TENSOR = (catalog.NUMPY, catalog.TORCH)


_CODE = cst.Module([])


def comprehension_targets(loop: Comprehension) -> Iterator[str]:
    comp_for: cst.CompFor | None = loop.for_in
    while comp_for is not None:
        yield from target_names(comp_for.target)
        comp_for = comp_for.inner_for_in


class LoopFrame:
    """One enclosing loop: a ``for``, a ``while`` or a comprehension."""

    def __init__(
        self,
        node: LoopNode,
        imports: ImportTable,
        functions: FunctionKnowledge,
        scope: cst.CSTNode | None = None,
        context: FileContext | None = None,
    ) -> None:
        self.node = node
        self._imports = imports
        self._functions = functions
        # The function body (or module) the loop is in: where views of its names are made.
        self._scope = scope
        self._context = context
        self._views: dict[str, set[str]] | None = None
        self._effects: Effects | None = None
        self._is_training_step: bool | None = None
        self._item_names: frozenset[str] | None = None
        # Targets that take one element of a known array or tensor per iteration, and that
        # array: ``x`` in ``for x in a`` and ``for i, x in enumerate(a)``; and the targets
        # over names of no known kind, which weak evidence may show to be arrays when a rule
        # asks (a docstring: see ``arrays.Evidence``).
        self.elements: dict[str, cst.BaseExpression] = {}
        self.unknown_elements: dict[str, cst.Name] = {}
        self._exits_early: bool | None = None
        self._is_retry: bool | None = None
        if isinstance(node, cst.For):
            self.targets = frozenset(target_names(node.target))
        elif isinstance(node, cst.While):
            self.targets = frozenset()
        else:
            self.targets = frozenset(comprehension_targets(node))

    def repeated_parts(self) -> list[cst.CSTNode]:
        """The parts of the loop that run on every iteration."""
        return repeated_parts(self.node)

    @property
    def iterable(self) -> cst.BaseExpression | None:
        """What a ``for`` loop or a comprehension's first ``for`` iterates; None for ``while``."""
        node = self.node
        if isinstance(node, cst.For):
            return node.iter
        if isinstance(node, cst.While):
            return None
        return node.for_in.iter

    @property
    def item_names(self) -> frozenset[str]:
        """The loop's targets and the names its body binds to parts of them (``x, y = batch``,
        ``images = batch["image"].float()``): the names that hold the items it iterates."""
        if self._item_names is None:
            names = set(self.targets)
            if isinstance(self.node, cst.For):
                stack: list[cst.CSTNode] = [self.node.body]
                assignments: list[cst.Assign] = []
                while stack:
                    node = stack.pop()
                    if isinstance(node, cst.Assign):
                        assignments.append(node)
                    elif not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                        stack.extend(reversed(syntax_children(node)))
                for assignment in assignments:
                    if root_name(assignment.value) in names:
                        for assign_target in assignment.targets:
                            names.update(target_names(assign_target.target))
            self._item_names = frozenset(names)
        return self._item_names

    @property
    def effects(self) -> Effects:
        if self._effects is None:
            self._effects = summarise(self.repeated_parts(), self._imports, self._functions)
        return self._effects

    def changes(self, chain: str) -> bool:
        """An iteration may change ``chain``, itself or through a view of the same memory
        (``view = A[0]`` before the loop, ``view[0] += 1`` in it). In a training step an
        optimizer updates parameters in place, and any object's attribute may hold one, so no
        attribute chain is unchanged."""
        root = chain.partition(".")[0]
        if root in self.targets or self.effects.changes(chain):
            return True
        if self.effects.mutated and self._shares_memory_with_mutated(root):
            return True
        return "." in chain and self.is_training_step

    def rebinds(self, chain: str) -> bool:
        """An iteration binds ``chain`` (``lr_model``, ``self.model``) anew: it is the loop's
        target, a name the loop assigns (``lr_model = Ridge(alpha=a)`` in the body), or an
        attribute chain the loop assigns, itself or one it is part of. What ``chain`` names is
        then a different object on each iteration (a model built and fitted per sample, as
        MAPLE's local regressions are), not one object the whole loop uses."""
        root, _, rest = chain.partition(".")
        if root in self.targets or root in self.effects.rebound:
            return True
        if not rest:
            return False
        for node in nodes_in_scope(*self.repeated_parts()):
            if type(node) is cst.Assign:
                for assign_target in node.targets:
                    assigned = dotted_name(assign_target.target)
                    if assigned is not None and (chain == assigned or chain.startswith(assigned + ".")):
                        return True
        return False

    def may_write_file(self, read: cst.Call) -> bool:
        """An iteration may write the file that ``read`` reads (its first argument, or the
        path it opens there): another call in the loop is given the same path (``open(path,
        "w")``, ``np.save(path, a)``, ``torch.save(m, path)``, ``log(path)``) or has it for
        receiver (``path.write_text(...)``), unless that call only reads or is pure. Hoisting
        such a read would keep the file's first content."""
        path = _read_path(read, self._imports)
        if path is None:
            return False
        text = _CODE.code_for_node(path)
        stack: list[cst.CSTNode] = list(self.repeated_parts())
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                continue
            stack.extend(syntax_children(node))
            if type(node) is not cst.Call or node is read or _only_reads(node, self._imports):
                continue
            given = [arg.value for arg in node.args]
            if type(node.func) is cst.Attribute:
                given.append(node.func.value)
            if any(_CODE.code_for_node(value) == text for value in given):
                return True
        return False

    def _yields_views(self, iterable: cst.BaseExpression) -> bool:
        """A loop over ``iterable`` may bind views of it (the rows of an array), not new objects
        (a data loader's batches): a known array, or a name of unknown type that is no loader."""
        if self._context is None:
            return True
        kind = self._context.arrays.kind_of(iterable)
        if kind is not None:
            return kind in _ARRAY_OR_TENSOR
        return type(iterable) in (cst.Name, cst.Attribute, cst.Subscript) and (
            dataloaders.iterated_loader(iterable, self._context) is None
        )

    def _shares_memory_with_mutated(self, name: str) -> bool:
        """Some name the loop changes in place may be a view of ``name``'s memory, or it of
        theirs: linked through assignments of views, in the loop's scope, either way."""
        if self._views is None:
            self._views = {} if self._scope is None else _view_links(self._scope, self._imports, self._yields_views)
        linked, pending = {name}, [name]
        while pending:
            for other in self._views.get(pending.pop(), ()):
                if other not in linked:
                    linked.add(other)
                    pending.append(other)
        linked.discard(name)
        return any(changed.partition(".")[0] in linked for changed in self.effects.mutated)

    def accumulates(self, name: str, grows: Callable[[cst.Assign], bool]) -> bool:
        """``name`` is a loop-carried accumulator of this ``for`` or ``while`` loop.

        Every statement of an iteration that assigns ``name`` is one ``grows`` accepts (an
        assignment that grows it from its own value, such as ``X = np.vstack((X, e))``), or
        a first value under a test of ``name`` itself (``if X is None: X = e``); and the
        iteration reads ``name`` nowhere else than in those statements and tests. The loop
        then only carries the value from one iteration to the next, and collecting the pieces
        and joining them once after the loop computes the same. ``x = torch.cat((cls, x))``
        followed by ``x = block(x)``, or a sequence fed to a model on every step, is not an
        accumulator. (Reading ``name`` on the first iteration requires it to be bound before
        the loop, so that needs no separate check.) ``grows`` may also accept statements that
        grow ``name`` in place (``df.loc[len(df)] = row``): their reads are allowed too.
        """
        node = self.node
        if isinstance(node, cst.For):
            if name in self.targets:
                return False
            parts: list[cst.CSTNode] = [node.body]
        elif isinstance(node, cst.While):
            parts = [node.test, node.body]
        else:
            return False
        grew = False
        stack: list[tuple[cst.CSTNode, bool]] = [(part, False) for part in parts]
        while stack:
            item, may_initialise = stack.pop()
            if isinstance(item, cst.Name):
                if item.value == name:
                    return False
                continue
            if isinstance(item, cst.Assign):
                if grows(item):
                    grew = True
                    continue
                bound = [target_names(assign_target.target) for assign_target in item.targets]
                if any(name in names for names in map(set, bound)):
                    if not (may_initialise and len(item.targets) == 1 and type(item.targets[0].target) is cst.Name):
                        return False
                    stack.append((item.value, False))
                    continue
            elif isinstance(item, cst.If):
                tested = none_test(item.test, name)
                if tested is not None:
                    initialising = item.body if tested else item.orelse
                    other = item.orelse if tested else item.body
                    if initialising is not None:
                        stack.append((initialising, True))
                    if other is not None:
                        stack.append((other, False))
                    continue
            elif isinstance(item, cst.Attribute):
                stack.append((item.value, may_initialise))
                continue
            elif isinstance(item, cst.Arg):
                stack.append((item.value, may_initialise))
                continue
            # Any other binding of ``name`` (``X += e``, ``for X in``, ``del X``) contains the
            # Name node itself, which ends the walk as a read would.
            stack.extend((child, may_initialise) for child in syntax_children(item))
        return grew

    @property
    def exits_early(self) -> bool:
        """The loop can end before its iterable is exhausted or its condition fails: its body
        holds a ``break`` of its own or a ``return``. Such a loop searches or retries (``while
        True: try: load(); break``) rather than repeating the same work every time."""
        if self._exits_early is None:
            self._exits_early = isinstance(self.node, (cst.For, cst.While)) and has_own_exit(self.node.body)
        return self._exits_early

    @property
    def is_retry(self) -> bool:
        """The loop retries one piece of work until it succeeds: its body holds a ``try`` with
        a handler, and the loop ends when the ``try`` body gets through (a ``break`` or a
        ``return`` there, or ``while not ok:`` with ``ok = True`` there). A retry repeats only
        after a failure, not once per item."""
        if self._is_retry is None:
            self._is_retry = isinstance(self.node, (cst.For, cst.While)) and retries(self.node)
        return self._is_retry

    def keeps(self, name: str) -> bool:
        """An iteration may keep ``name``'s value beyond itself or change it: it yields or
        returns it, puts it in a list, tuple, set or dict display, assigns it to another name,
        an attribute or an item, or mutates it (passes it to a call that may keep or change
        it, appends it, assigns into it). A value built afresh each iteration and only read
        there could be built once; a kept one could not."""
        if any(chains_overlap(name, changed) for changed in self.effects.mutated):
            return True
        stack: list[cst.CSTNode] = list(self.repeated_parts())
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
                # A closure may keep the value: ask no further.
                if mentions(node, name):
                    return True
                continue
            for kept in _kept_values(node):
                if isinstance(kept, cst.Name) and kept.value == name:
                    return True
            stack.extend(syntax_children(node))
        return False

    @property
    def is_training_step(self) -> bool:
        """One iteration calls ``.backward()`` and steps an optimizer, itself or through a
        function of the same file (``train_step(batch)``, ``self.training_iteration()``)."""
        if self._is_training_step is None:
            effects = self.effects
            backward, step = effects.calls_backward, effects.steps_optimizer
            for summary in self._functions.summaries_of_calls(effects.local_calls):
                backward = backward or summary.calls_backward
                step = step or summary.steps_optimizer
            self._is_training_step = backward and step
        return self._is_training_step


@dataclass
class _Guard:
    test: cst.BaseExpression | None  # None: a handler or a case, which may run on any iteration
    loop_depth: int  # how many loops enclosed it when it was entered
    owner: cst.CSTNode


class LoopKnowledge:
    """The loops around the current node within its function, the conditions around it inside
    them, and whether an expression or a statement repeats unchanged."""

    def __init__(self, context: FileContext) -> None:
        self._context = context
        # The scopes around the current node: each keeps the loops, conditions, ``try`` bodies,
        # lazy-initialisation branches and leaving branches around the node within it.
        self._scopes = context.scopes.stack
        self._comprehensions: list[Comprehension] = []
        # The ``if`` bodies under a debugging or profiling flag around the current node, and
        # the ``with torch.cuda.graph(g):`` bodies (across function scopes: a function defined
        # there exists only under the flag, or is captured).
        self._debug_branches: list[cst.If] = []
        # ``if torch.jit.is_scripting():`` branches around the current node: compiled code only.
        self._compiled_branches: list[cst.If] = []
        # The branches that run only for tensors a test found not floating point: the ``else``
        # of ``if torch.is_floating_point(t):``, the body of ``if not t.is_floating_point():``.
        self._non_floating_branches: list[cst.If] = []
        self._graph_captures: list[cst.With] = []

    # Hooks ---------------------------------------------------------------------------------

    def _enter_loop(self, node: LoopNode) -> None:
        function = self._context.functions.current
        scope = function.node if function is not None else self._context.module
        frame = LoopFrame(node, self._context.imports, self._context.functions, scope, self._context)
        self._scopes[-1].loops.append(frame)
        if isinstance(node, cst.For):
            self._record_elements(frame, node.target, node.iter)

    def _record_elements(self, frame: LoopFrame, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        """Note which target takes one element of a known array per iteration."""
        arrays = self._context.arrays
        if type(target) is cst.Name:
            name, source = target.value, iterable
        elif (
            type(target) is cst.Tuple
            and len(target.elements) == 2
            and type(target.elements[1].value) is cst.Name
            and type(iterable) is cst.Call
            and self._context.imports.is_builtin(iterable.func, "enumerate")
            and len(iterable.args) >= 1
            and iterable.args[0].keyword is None
            and not iterable.args[0].star
        ):
            name, source = target.elements[1].value.value, iterable.args[0].value
        elif (
            type(target) is cst.Tuple
            and type(iterable) is cst.Call
            and self._context.imports.is_builtin(iterable.func, "zip")
            and len(iterable.args) == len(target.elements)
        ):
            # ``for a, b in zip(x, y)``: each target takes one element of its own iterable.
            for element, arg in zip(target.elements, iterable.args):
                if type(element.value) is cst.Name and arg.keyword is None and not arg.star:
                    self._record_elements(frame, element.value, arg.value)
            return
        else:
            return
        if arrays.kind_of(source) in _ARRAY_OR_TENSOR:
            frame.elements[name] = source
        elif type(source) is cst.Name:
            frame.unknown_elements[name] = source

    def _leave_loop(self, node: cst.CSTNode) -> None:
        self._scopes[-1].loops.pop()

    visit_For_target = _enter_loop
    leave_For_body = _leave_loop
    visit_While_test = _enter_loop
    leave_While_body = _leave_loop

    def _enter_comprehension(self, node: Comprehension) -> None:
        self._comprehensions.append(node)

    def _leave_comprehension(self, node: Comprehension) -> None:
        self._comprehensions.pop()
        self._scopes[-1].loops.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comprehension
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def visit_CompFor_target(self, node: cst.CompFor) -> None:
        # The first iterable is evaluated once, outside; everything after it runs per item.
        if self._comprehensions[-1].for_in is node:
            self._enter_loop(self._comprehensions[-1])
        self._record_elements(self._scopes[-1].loops[-1], node.target, node.iter)

    def _push_guard(self, test: cst.BaseExpression | None, owner: cst.CSTNode) -> None:
        self._scopes[-1].guards.append(_Guard(test, len(self._scopes[-1].loops), owner))

    def _pop_guard(self, owner: cst.CSTNode) -> None:
        guards = self._scopes[-1].guards
        if guards and guards[-1].owner is owner:
            guards.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._push_guard(node.test, node)
        if is_lazy_initialisation(node) and not self._initialises_a_parameter(node.test):
            self._scopes[-1].initialisations.append((node, len(self._scopes[-1].loops)))
        if tests_a_debug_flag(node.test):
            self._debug_branches.append(node)
        if self._tests_compilation(node.test):
            self._compiled_branches.append(node)
        if type(node.test) is cst.UnaryOperation and type(node.test.operator) is cst.Not:
            if self._tests_floating_point(node.test.expression):
                self._non_floating_branches.append(node)
        leaves = leaving_statement(node.body)
        if leaves is not None:
            self._scopes[-1].leaving_branches.append((node, len(self._scopes[-1].loops), leaves is cst.Break))

    def _initialises_a_parameter(self, test: cst.BaseExpression) -> bool:
        """``test`` asks whether a parameter of the current function is set (``if z is None:``
        of ``def f(x, z=None)``): a default made on every call that passes none, not once."""
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            tested = test.expression
        elif type(test) is cst.Comparison and type(test.comparisons[0].operator) is cst.Is:
            tested = test.left
        else:
            return False
        function = self._context.functions.current
        if type(tested) is not cst.Name or function is None or type(function.node) is not cst.FunctionDef:
            return False
        params = function.node.params
        return any(
            param.name.value == tested.value
            for param in (*params.posonly_params, *params.params, *params.kwonly_params)
        )

    def leave_If_body(self, node: cst.If) -> None:
        stack = self._scopes[-1].initialisations
        if stack and stack[-1][0] is node:
            stack.pop()
        if self._debug_branches and self._debug_branches[-1] is node:
            self._debug_branches.pop()
        if self._compiled_branches and self._compiled_branches[-1] is node:
            self._compiled_branches.pop()
        if self._non_floating_branches and self._non_floating_branches[-1] is node:
            self._non_floating_branches.pop()
        leaving = self._scopes[-1].leaving_branches
        if leaving and leaving[-1][0] is node:
            leaving.pop()

    def visit_With_body(self, node: cst.With) -> None:
        imports = self._context.imports
        if any(
            type(item.item) is cst.Call and imports.qualified_name(item.item.func) in catalog.CUDA_GRAPH_CAPTURES
            for item in node.items
        ):
            self._graph_captures.append(node)

    def leave_With_body(self, node: cst.With) -> None:
        if self._graph_captures and self._graph_captures[-1] is node:
            self._graph_captures.pop()

    def visit_If_orelse(self, node: cst.If) -> None:
        if self._tests_floating_point(node.test):
            self._non_floating_branches.append(node)

    def leave_If_orelse(self, node: cst.If) -> None:
        self._pop_guard(node)
        if self._non_floating_branches and self._non_floating_branches[-1] is node:
            self._non_floating_branches.pop()

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self._push_guard(node.test, node)

    def leave_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._pop_guard(node)

    def _enter_branch(self, node: cst.CSTNode) -> None:
        self._push_guard(None, node)

    visit_ExceptHandler = visit_ExceptStarHandler = visit_MatchCase = _enter_branch
    leave_ExceptHandler = leave_ExceptStarHandler = leave_MatchCase = _pop_guard

    def _enter_try(self, node: cst.CSTNode) -> None:
        self._scopes[-1].tries.append((len(self._scopes[-1].loops), node))

    def _leave_try(self, node: cst.CSTNode) -> None:
        self._scopes[-1].tries.pop()

    visit_Try_body = visit_TryStar_body = _enter_try
    leave_Try_body = leave_TryStar_body = _leave_try

    # Queries -------------------------------------------------------------------------------

    def leaves_the_loop(self, frame: LoopFrame) -> bool:
        """The current node is in the body of an ``if`` inside ``frame``'s loop that ends by
        leaving that loop (``raise``, ``return``, or a ``break`` of that loop): it runs at most
        once per run of the loop, when the loop ends (``if not torch.isfinite(loss): raise
        RuntimeError(f"{loss.item()}")``)."""
        stack = self._scopes[-1].loops
        depth = stack.index(frame)
        return any(
            loop_depth > depth and (not breaks or loop_depth == depth + 1)
            for _, loop_depth, breaks in self._scopes[-1].leaving_branches
        )

    def under_debug_flag(self) -> bool:
        """The current node runs only when a debugging or profiling flag is on (``if
        self.debug:``, ``if args.profile:``, ``if __debug__:``): off in the runs that matter."""
        return bool(self._debug_branches)

    def _tests_compilation(self, test: cst.BaseExpression) -> bool:
        """``test`` holds only while torch compiles or traces the code (``torch.jit.is_scripting()``,
        ``torch.compiler.is_compiling()``, also ``and``-ed with other conditions)."""
        if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
            return self._tests_compilation(test.left) or self._tests_compilation(test.right)
        return (
            type(test) is cst.Call
            and self._context.imports.qualified_name(test.func) in catalog.TORCH_COMPILATION_CHECKS
        )

    def _tests_floating_point(self, test: cst.BaseExpression) -> bool:
        """``test`` holds only for floating-point or complex tensors: ``torch.is_floating_point(t)``,
        ``t.is_complex()``, ``t.dtype.is_floating_point``, or ``or``-ed tests each of them."""
        if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or:
            return self._tests_floating_point(test.left) and self._tests_floating_point(test.right)
        if type(test) is cst.Call:
            if self._context.imports.qualified_name(test.func) in catalog.TORCH_FLOATING_POINT_TESTS:
                return True
            return (
                type(test.func) is cst.Attribute
                and not test.args
                and test.func.attr.value in catalog.TORCH_FLOATING_POINT_TEST_ATTRIBUTES
            )
        return (
            type(test) is cst.Attribute
            and test.attr.value in catalog.TORCH_FLOATING_POINT_TEST_ATTRIBUTES
            and type(test.value) is cst.Attribute
            and test.value.attr.value == "dtype"
        )

    def in_non_floating_branch(self) -> bool:
        """The current node runs only for tensors a test found not floating point: in the
        ``else`` of ``if torch.is_floating_point(t) or torch.is_complex(t):`` or the body of
        ``if not t.dtype.is_floating_point:``, the fallback for integer and boolean tensors."""
        return bool(self._non_floating_branches)

    def in_compiled_branch(self) -> bool:
        """The current node is in the body of ``if torch.jit.is_scripting():`` (or another test
        that holds only while torch compiles or traces): eager runs never execute it."""
        return bool(self._compiled_branches)

    def in_graph_capture(self) -> bool:
        """The current node is in a ``with torch.cuda.graph(g):`` body: it runs once, to record
        its kernels, and the graph is replayed without it."""
        return bool(self._graph_captures)

    def in_lazy_initialisation(self) -> bool:
        """The current node is in a lazy-initialisation branch (``if self.cache is None:
        self.cache = …``) and in no loop inside that branch: it runs once per object or key,
        however often the function around it runs."""
        stack = self._scopes[-1].initialisations
        return bool(stack) and stack[-1][1] == len(self._scopes[-1].loops)

    @property
    def innermost(self) -> LoopFrame | None:
        stack = self._scopes[-1].loops
        return stack[-1] if stack else None

    def enclosing(self) -> list[LoopFrame]:
        """The loops around the current node in its function, innermost first."""
        return list(reversed(self._scopes[-1].loops))

    def iterated_loader(self, frame: LoopFrame) -> cst.Call | None:
        """The data-loader construction (``DataLoader(...)``) ``frame``'s loop iterates (see
        ``dataloaders.iterated_loader``); None for a ``while`` loop or anything else."""
        iterable = frame.iterable
        return dataloaders.iterated_loader(iterable, self._context) if iterable is not None else None

    def loader_of_batch(self, expr: cst.BaseExpression) -> cst.Call | None:
        """The data-loader construction whose batch ``expr`` is, or is part of
        (``batch["image"].float()``, ``x`` of ``for x, y in loader``, ``v`` of
        ``{k: v for k, v in batch.items()}``), in the loops around the current node."""
        name = root_name(expr)
        for frame in self.enclosing():
            if name is None:
                return None
            if name not in frame.item_names:
                continue
            loader = self.iterated_loader(frame)
            if loader is not None:
                return loader
            # The items of something a loop further out yields: ``for k, v in batch.items()``.
            iterable = frame.iterable
            name = root_name(iterable) if iterable is not None else None
        return None

    def element_of(
        self, expr: cst.BaseExpression, own_indices: bool = False, evidence: Evidence = Evidence.STRONG
    ) -> cst.BaseExpression | None:
        """The known NumPy array or torch tensor of which ``expr`` is one element, a different
        one on each iteration of an enclosing loop of this function; None when unknown.

        ``x`` in ``for x in a`` or ``for i, x in enumerate(a)`` (and comprehensions) with ``a``
        a known array, while the loop does not rebind ``x``; ``a[i]`` or ``a[i, j]`` with ``a``
        a known array and every index a target of an enclosing loop that does not rebind it.
        With ``own_indices``, ``a[i, …]`` counts only when ``i`` runs over ``a``'s own first
        axis (``range(len(a))``, ``range(a.shape[0])``…): a loop over some other collection
        that reads one element of ``a`` on the way is not a loop over ``a``. With ``evidence``
        weak, ``a`` may be known from weak evidence (a parameter's docstring, see
        ``arrays.Evidence``).
        """
        stack = self._scopes[-1].loops
        if type(expr) is cst.Name:
            for frame in reversed(stack):
                if expr.value in frame.targets:
                    source = frame.elements.get(expr.value)
                    if source is None and evidence is Evidence.WEAK:
                        unknown = frame.unknown_elements.get(expr.value)
                        if unknown is not None and self._context.arrays.kind_of(unknown, evidence) in _ARRAY_OR_TENSOR:
                            source = unknown
                    return None if source is None or expr.value in frame.effects.rebound else source
            return None
        if (
            type(expr) is not cst.Subscript
            or self._context.arrays.kind_of(expr.value, evidence) not in _ARRAY_OR_TENSOR
        ):
            return None
        for position, element in enumerate(expr.slice):
            index = element.slice
            if type(index) is not cst.Index or index.star is not None or type(index.value) is not cst.Name:
                return None
            name = index.value.value
            index_frame = next((frame for frame in reversed(stack) if name in frame.targets), None)
            if index_frame is None or name in index_frame.effects.rebound:
                return None
            if own_indices and position == 0:
                iterable = _iterable_binding(index_frame.node, name)
                extent = self._context.arrays.indexed_range_array(iterable) if iterable is not None else None
                if extent is None or dotted_name(extent) != dotted_name(expr.value):
                    return None
        return expr.value

    def training_step_loop(self) -> LoopFrame | None:
        for frame in reversed(self._scopes[-1].loops):
            if frame.is_training_step:
                return frame
        return None

    def conditions_within(self, frame: LoopFrame) -> list[cst.BaseExpression | None]:
        """The tests of the ``if``s (and conditional expressions) around the current node
        inside ``frame``'s loop, outermost first; None for an exception handler or a match
        case, which may run on any iteration."""
        depth = self._scopes[-1].loops.index(frame)
        return [guard.test for guard in self._scopes[-1].guards if guard.loop_depth > depth]

    def runs_periodically(self, frame: LoopFrame) -> bool:
        """A condition around the current node inside ``frame``'s loop uses ``%``
        (``if step % 100 == 0``): it runs every N iterations, as periodic logging does."""
        return any(test is not None and uses_modulo(test) for test in self.conditions_within(frame))

    def runs_every_iteration(self, frame: LoopFrame | None = None) -> bool:
        stack = self._scopes[-1].loops
        frame = frame or (stack[-1] if stack else None)
        if frame is None:
            return True
        depth = stack.index(frame)
        return all(
            guard.test is not None and self.is_invariant(guard.test, frame)
            for guard in self._scopes[-1].guards
            if guard.loop_depth > depth
        )

    def is_conditional(self) -> bool:
        """The current node runs only under a condition, in an exception handler or in a
        ``case`` of its function (or module): not every time its function runs."""
        return bool(self._scopes[-1].guards)

    def in_try_body(self, frame: LoopFrame | None = None) -> bool:
        """The current node is in the body of a ``try`` inside ``frame``'s loop (the innermost
        by default): an iteration that fails there goes on to the next one, as a retry does."""
        stack = self._scopes[-1].loops
        frame = frame or (stack[-1] if stack else None)
        if frame is None:
            return False
        depth = stack.index(frame)
        return any(loop_depth > depth for loop_depth, _ in self._scopes[-1].tries)

    def is_invariant(
        self,
        expr: cst.BaseExpression,
        frame: LoopFrame | None = None,
        allow_conversions: bool = False,
        identity: bool = False,
        through_comprehensions: bool = False,
    ) -> bool:
        frame = frame or self.innermost
        if frame is None:
            return True
        return is_invariant(expr, frame, self._context.imports, allow_conversions, identity, through_comprehensions)


def _read_path(read: cst.Call, imports: ImportTable) -> cst.BaseExpression | None:
    positional = [arg.value for arg in read.args if arg.keyword is None and not arg.star]
    if not positional:
        return None
    first = positional[0]
    if type(first) is cst.Call and imports.is_builtin(first.func, "open") and first.args:
        return first.args[0].value
    return first


def _only_reads(call: cst.Call, imports: ImportTable) -> bool:
    """``call`` reads a file or computes without side effects: a catalogued reader or pure
    function, a pure builtin, ``open`` in a reading mode."""
    func = call.func
    if imports.is_builtin(func, "open"):
        mode = (
            call.args[1].value
            if len(call.args) > 1 and call.args[1].keyword is None
            else next((arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == "mode"), None)
        )
        if mode is None:
            return True
        return type(mode) is cst.SimpleString and not set("wax+") & set(str(mode.evaluated_value))
    if type(func) is cst.Name and imports.is_builtin(func, func.value):
        return func.value in catalog.PURE_BUILTINS
    qualified = imports.qualified_name(func)
    record = catalog.lookup(qualified)
    if record is not None and (record.has(catalog.Flag.READS_FILE) or record.has(catalog.Flag.READS_ARRAY_FILE)):
        return True
    return qualified is not None and catalog.is_side_effect_free(qualified)


def _view_links(
    scope: cst.CSTNode, imports: ImportTable, yields_views: Callable[[cst.BaseExpression], bool]
) -> dict[str, set[str]]:
    """Names that may share memory, both ways: ``v = a[0]``, ``v = a.T``, ``v = a.view(-1)``,
    ``t = torch.from_numpy(a)``, ``b = a``, and ``row`` of ``for row in a`` (where
    ``yields_views(a)``), anywhere in ``scope`` outside nested functions and classes."""
    links: dict[str, set[str]] = {}

    def link(targets: Iterable[str], value: cst.BaseExpression) -> None:
        source = _viewed_name(value, imports)
        if source is None:
            return
        for target in targets:
            if target != source:
                links.setdefault(target, set()).add(source)
                links.setdefault(source, set()).add(target)

    stack: list[cst.CSTNode] = [scope.body if isinstance(scope, (cst.FunctionDef, cst.Lambda)) else scope]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        if isinstance(node, cst.Assign):
            link([name for target in node.targets for name in target_names(target.target)], node.value)
        elif isinstance(node, (cst.AnnAssign, cst.NamedExpr)) and node.value is not None:
            link(target_names(node.target), node.value)
        elif isinstance(node, (cst.For, cst.CompFor)) and yields_views(node.iter):
            link(target_names(node.target), node.iter)
        stack.extend(syntax_children(node))
    return links


def _viewed_name(expr: cst.BaseExpression, imports: ImportTable) -> str | None:
    """The name whose memory ``expr`` may be a view of (through subscripts, attributes,
    view-making methods and conversions that share memory); None for anything else."""
    while True:
        if type(expr) is cst.Name:
            return expr.value
        if type(expr) is cst.Subscript or type(expr) is cst.Attribute:
            expr = expr.value
        elif type(expr) is not cst.Call:
            return None
        elif imports.qualified_name(expr.func) in catalog.PURE_CONVERSIONS and expr.args:
            expr = expr.args[0].value
        elif type(expr.func) is cst.Attribute and expr.func.attr.value in catalog.VIEW_METHODS:
            expr = expr.func.value
        else:
            return None


def repeated_parts(loop: LoopNode) -> list[cst.CSTNode]:
    """The parts of ``loop`` (a ``for`` or ``while`` loop, or a comprehension) that run on every
    iteration: a ``for``'s target and body, a ``while``'s test and body, a comprehension's
    targets, conditions, inner ``for``s and element."""
    if isinstance(loop, cst.For):
        return [loop.target, loop.body]
    if isinstance(loop, cst.While):
        return [loop.test, loop.body]
    parts: list[cst.CSTNode] = [loop.for_in.target, *loop.for_in.ifs]
    if loop.for_in.inner_for_in is not None:
        parts.append(loop.for_in.inner_for_in)
    if isinstance(loop, cst.DictComp):
        parts += [loop.key, loop.value]
    else:
        parts.append(loop.elt)
    return parts


def uses_modulo(test: cst.BaseExpression) -> bool:
    """``test`` takes a remainder (``step % 100 == 0``): a condition that holds every N
    iterations, as periodic logging's does."""
    stack: list[cst.CSTNode] = [test]
    while stack:
        node = stack.pop()
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.Modulo:
            return True
        stack.extend(syntax_children(node))
    return False


def _iterable_binding(loop: LoopNode, name: str) -> cst.BaseExpression | None:
    """The iterable whose items the loop binds to ``name`` (a ``for`` or one of a
    comprehension's ``for`` clauses)."""
    if isinstance(loop, cst.For):
        return loop.iter
    if isinstance(loop, cst.While):
        return None
    comp_for: cst.CompFor | None = loop.for_in
    while comp_for is not None:
        if name in target_names(comp_for.target):
            return comp_for.iter
        comp_for = comp_for.inner_for_in
    return None


def none_test(test: cst.BaseExpression, name: str) -> bool | None:
    """True for ``name is None``, False for ``name is not None``, None for any other test."""
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    comparison = test.comparisons[0]
    if not (
        type(test.left) is cst.Name
        and test.left.value == name
        and type(comparison.comparator) is cst.Name
        and comparison.comparator.value == "None"
    ):
        return None
    if type(comparison.operator) is cst.Is:
        return True
    if type(comparison.operator) is cst.IsNot:
        return False
    return None


def _kept_values(node: cst.CSTNode) -> Iterator[cst.BaseExpression]:
    """The expressions whose value ``node`` stores or hands out (not those it only reads)."""
    if isinstance(node, (cst.Yield, cst.Return)) and isinstance(node.value, cst.BaseExpression):
        yield node.value
    elif isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        for element in node.elements:
            yield element.value
    elif isinstance(node, cst.Dict):
        for dict_element in node.elements:
            if isinstance(dict_element, cst.DictElement):
                yield dict_element.key
            yield dict_element.value
    elif isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)) and node.value is not None:
        yield node.value
