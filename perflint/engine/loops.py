"""Loop context: which loop a node runs in, what that loop rebinds or mutates, and whether
it is a training step.

A loop's effects are summarised lazily, the first time a rule asks about that loop, by one
walk of the loop's own body; most loops are never asked about.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Union

import libcst as cst

from perflint.engine import catalog, dataloaders
from perflint.engine.arrays import Evidence
from perflint.engine.imports import ImportTable, chains_overlap, dotted_name, parameter_names, target_names
from perflint.engine.literals import integer_value, string_value
from perflint.engine.roles import is_optimizer_name
from perflint.engine.walker import mentions, syntax_children

if TYPE_CHECKING:
    from perflint.engine.functions import FunctionKnowledge
    from perflint.engine.linter import FileContext

Comprehension = Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]
LoopNode = Union[cst.For, cst.While, Comprehension]
_LOOP_TYPES = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)
_ARRAY_OR_TENSOR = (catalog.NUMPY, catalog.TORCH)


_CODE = cst.Module([])


def comprehension_targets(loop: Comprehension) -> Iterator[str]:
    comp_for: cst.CompFor | None = loop.for_in
    while comp_for is not None:
        yield from target_names(comp_for.target)
        comp_for = comp_for.inner_for_in


def is_optimizer(receiver: cst.BaseExpression) -> bool:
    """``optimizer``, ``self.opt``, ``d_optim``: a name that says optimizer (see
    ``roles.is_optimizer_name``)."""
    chain = dotted_name(receiver)
    return chain is not None and is_optimizer_name(chain.rpartition(".")[2])


@dataclass
class Effects:
    """What running a block (one loop iteration, or one call of a function) may change and do.

    Calls made in loops nested inside the block are not the block's own training-step calls:
    they run once per inner iteration, not once per iteration of the block.
    """

    rebound: set[str] = field(default_factory=set)
    mutated: set[str] = field(default_factory=set)
    calls_backward: bool = False
    steps_optimizer: bool = False
    # What ``.backward()`` is called on (``loss``, ``outputs.loss``): tensors, the losses.
    differentiated: set[str] = field(default_factory=set)
    # Calls of plain names and of ``self.<method>``: possibly functions of the same file.
    local_calls: list[cst.Call] = field(default_factory=list)
    # Names the block declares ``global`` or ``nonlocal``, and the names of an enclosing scope
    # it (or a function of the file it calls) rebinds through such a declaration: a caller's
    # loop sees those change though it assigns none of them.
    declared_outer: set[str] = field(default_factory=set)
    outer_rebound: set[str] = field(default_factory=set)

    def changes(self, chain: str) -> bool:
        """The block may change what ``chain`` (``a`` or ``self.w.data``) refers to or contains."""
        if chain.partition(".")[0] in self.rebound:
            return True
        return any(chains_overlap(chain, changed) for changed in self.mutated)


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

    def _repeated_parts(self) -> list[cst.CSTNode]:
        """The parts of the loop that run on every iteration."""
        node = self.node
        if isinstance(node, cst.For):
            return [node.target, node.body]
        if isinstance(node, cst.While):
            return [node.test, node.body]
        parts: list[cst.CSTNode] = [node.for_in.target, *node.for_in.ifs]
        if node.for_in.inner_for_in is not None:
            parts.append(node.for_in.inner_for_in)
        if isinstance(node, cst.DictComp):
            parts += [node.key, node.value]
        else:
            parts.append(node.elt)
        return parts

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
            self._effects = summarise(self._repeated_parts(), self._imports, self._functions)
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
        stack: list[cst.CSTNode] = list(self._repeated_parts())
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
            self._exits_early = isinstance(self.node, (cst.For, cst.While)) and _has_own_exit(self.node.body)
        return self._exits_early

    @property
    def is_retry(self) -> bool:
        """The loop retries one piece of work until it succeeds: its body holds a ``try`` with
        a handler, and the loop ends when the ``try`` body gets through (a ``break`` or a
        ``return`` there, or ``while not ok:`` with ``ok = True`` there). A retry repeats only
        after a failure, not once per item."""
        if self._is_retry is None:
            self._is_retry = isinstance(self.node, (cst.For, cst.While)) and _retries(self.node)
        return self._is_retry

    def keeps(self, name: str) -> bool:
        """An iteration may keep ``name``'s value beyond itself or change it: it yields or
        returns it, puts it in a list, tuple, set or dict display, assigns it to another name,
        an attribute or an item, or mutates it (passes it to a call that may keep or change
        it, appends it, assigns into it). A value built afresh each iteration and only read
        there could be built once; a kept one could not."""
        if any(chains_overlap(name, changed) for changed in self.effects.mutated):
            return True
        stack: list[cst.CSTNode] = list(self._repeated_parts())
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
        self._loop_stacks: list[list[LoopFrame]] = [[]]
        self._guard_stacks: list[list[_Guard]] = [[]]
        # The ``try`` blocks around the current node in its function: how many loops enclosed
        # each when it was entered.
        self._try_stacks: list[list[tuple[int, cst.CSTNode]]] = [[]]
        self._comprehensions: list[Comprehension] = []
        # Per function scope: the lazy-initialisation branches around the current node, each
        # with the loop depth at which it was entered.
        self._initialisation_stacks: list[list[tuple[cst.If, int]]] = [[]]
        # The ``if`` bodies under a debugging or profiling flag around the current node, and
        # the ``with torch.cuda.graph(g):`` bodies (across function scopes: a function defined
        # there exists only under the flag, or is captured).
        self._debug_branches: list[cst.If] = []
        self._graph_captures: list[cst.With] = []
        # Per function scope: the ``if`` bodies around the current node that end by leaving the
        # loops (``raise``, ``return``) or one loop (``break``), each with the loop depth at
        # which it was entered and whether it leaves only the innermost loop.
        self._leaving_branch_stacks: list[list[tuple[cst.If, int, bool]]] = [[]]

    # Hooks ---------------------------------------------------------------------------------

    def _enter_loop(self, node: LoopNode) -> None:
        function = self._context.functions.current
        scope = function.node if function is not None else self._context.module
        frame = LoopFrame(node, self._context.imports, self._context.functions, scope, self._context)
        self._loop_stacks[-1].append(frame)
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
        else:
            return
        if arrays.kind_of(source) in _ARRAY_OR_TENSOR:
            frame.elements[name] = source
        elif type(source) is cst.Name:
            frame.unknown_elements[name] = source

    def _leave_loop(self, node: cst.CSTNode) -> None:
        self._loop_stacks[-1].pop()

    visit_For_target = _enter_loop
    leave_For_body = _leave_loop
    visit_While_test = _enter_loop
    leave_While_body = _leave_loop

    def _enter_comprehension(self, node: Comprehension) -> None:
        self._comprehensions.append(node)

    def _leave_comprehension(self, node: Comprehension) -> None:
        self._comprehensions.pop()
        self._loop_stacks[-1].pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comprehension
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def visit_CompFor_target(self, node: cst.CompFor) -> None:
        # The first iterable is evaluated once, outside; everything after it runs per item.
        if self._comprehensions[-1].for_in is node:
            self._enter_loop(self._comprehensions[-1])
        self._record_elements(self._loop_stacks[-1][-1], node.target, node.iter)

    def _push_guard(self, test: cst.BaseExpression | None, owner: cst.CSTNode) -> None:
        self._guard_stacks[-1].append(_Guard(test, len(self._loop_stacks[-1]), owner))

    def _pop_guard(self, owner: cst.CSTNode) -> None:
        guards = self._guard_stacks[-1]
        if guards and guards[-1].owner is owner:
            guards.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._push_guard(node.test, node)
        if is_lazy_initialisation(node):
            self._initialisation_stacks[-1].append((node, len(self._loop_stacks[-1])))
        if tests_a_debug_flag(node.test):
            self._debug_branches.append(node)
        leaves = _leaving_statement(node.body)
        if leaves is not None:
            self._leaving_branch_stacks[-1].append((node, len(self._loop_stacks[-1]), leaves is cst.Break))

    def leave_If_body(self, node: cst.If) -> None:
        stack = self._initialisation_stacks[-1]
        if stack and stack[-1][0] is node:
            stack.pop()
        if self._debug_branches and self._debug_branches[-1] is node:
            self._debug_branches.pop()
        leaving = self._leaving_branch_stacks[-1]
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

    def leave_If_orelse(self, node: cst.If) -> None:
        self._pop_guard(node)

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self._push_guard(node.test, node)

    def leave_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._pop_guard(node)

    def _enter_branch(self, node: cst.CSTNode) -> None:
        self._push_guard(None, node)

    visit_ExceptHandler = visit_ExceptStarHandler = visit_MatchCase = _enter_branch
    leave_ExceptHandler = leave_ExceptStarHandler = leave_MatchCase = _pop_guard

    def _enter_try(self, node: cst.CSTNode) -> None:
        self._try_stacks[-1].append((len(self._loop_stacks[-1]), node))

    def _leave_try(self, node: cst.CSTNode) -> None:
        self._try_stacks[-1].pop()

    visit_Try_body = visit_TryStar_body = _enter_try
    leave_Try_body = leave_TryStar_body = _leave_try

    def _enter_scope(self, node: cst.CSTNode) -> None:
        self._loop_stacks.append([])
        self._guard_stacks.append([])
        self._initialisation_stacks.append([])
        self._try_stacks.append([])
        self._leaving_branch_stacks.append([])

    def _leave_scope(self, node: cst.CSTNode) -> None:
        self._loop_stacks.pop()
        self._guard_stacks.pop()
        self._initialisation_stacks.pop()
        self._try_stacks.pop()
        self._leaving_branch_stacks.pop()

    visit_FunctionDef_body = visit_Lambda_body = visit_ClassDef_body = _enter_scope
    leave_FunctionDef_body = leave_Lambda_body = leave_ClassDef_body = _leave_scope

    # Queries -------------------------------------------------------------------------------

    def leaves_the_loop(self, frame: LoopFrame) -> bool:
        """The current node is in the body of an ``if`` inside ``frame``'s loop that ends by
        leaving that loop (``raise``, ``return``, or a ``break`` of that loop): it runs at most
        once per run of the loop, when the loop ends (``if not torch.isfinite(loss): raise
        RuntimeError(f"{loss.item()}")``)."""
        stack = self._loop_stacks[-1]
        depth = stack.index(frame)
        return any(
            loop_depth > depth and (not breaks or loop_depth == depth + 1)
            for _, loop_depth, breaks in self._leaving_branch_stacks[-1]
        )

    def under_debug_flag(self) -> bool:
        """The current node runs only when a debugging or profiling flag is on (``if
        self.debug:``, ``if args.profile:``, ``if __debug__:``): off in the runs that matter."""
        return bool(self._debug_branches)

    def in_graph_capture(self) -> bool:
        """The current node is in a ``with torch.cuda.graph(g):`` body: it runs once, to record
        its kernels, and the graph is replayed without it."""
        return bool(self._graph_captures)

    def in_lazy_initialisation(self) -> bool:
        """The current node is in a lazy-initialisation branch (``if self.cache is None:
        self.cache = …``) and in no loop inside that branch: it runs once per object or key,
        however often the function around it runs."""
        stack = self._initialisation_stacks[-1]
        return bool(stack) and stack[-1][1] == len(self._loop_stacks[-1])

    @property
    def innermost(self) -> LoopFrame | None:
        stack = self._loop_stacks[-1]
        return stack[-1] if stack else None

    def enclosing(self) -> list[LoopFrame]:
        """The loops around the current node in its function, innermost first."""
        return list(reversed(self._loop_stacks[-1]))

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
        stack = self._loop_stacks[-1]
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
            frame = next((frame for frame in reversed(stack) if name in frame.targets), None)
            if frame is None or name in frame.effects.rebound:
                return None
            if own_indices and position == 0:
                iterable = _iterable_binding(frame.node, name)
                extent = self._context.arrays.indexed_range_array(iterable) if iterable is not None else None
                if extent is None or dotted_name(extent) != dotted_name(expr.value):
                    return None
        return expr.value

    def training_step_loop(self) -> LoopFrame | None:
        for frame in reversed(self._loop_stacks[-1]):
            if frame.is_training_step:
                return frame
        return None

    def conditions_within(self, frame: LoopFrame) -> list[cst.BaseExpression | None]:
        """The tests of the ``if``s (and conditional expressions) around the current node
        inside ``frame``'s loop, outermost first; None for an exception handler or a match
        case, which may run on any iteration."""
        depth = self._loop_stacks[-1].index(frame)
        return [guard.test for guard in self._guard_stacks[-1] if guard.loop_depth > depth]

    def runs_periodically(self, frame: LoopFrame) -> bool:
        """A condition around the current node inside ``frame``'s loop uses ``%``
        (``if step % 100 == 0``): it runs every N iterations, as periodic logging does."""
        return any(test is not None and _uses_modulo(test) for test in self.conditions_within(frame))

    def runs_every_iteration(self, frame: LoopFrame | None = None) -> bool:
        stack = self._loop_stacks[-1]
        frame = frame or (stack[-1] if stack else None)
        if frame is None:
            return True
        depth = stack.index(frame)
        return all(
            guard.test is not None and self.is_invariant(guard.test, frame)
            for guard in self._guard_stacks[-1]
            if guard.loop_depth > depth
        )

    def is_conditional(self) -> bool:
        """The current node runs only under a condition, in an exception handler or in a
        ``case`` of its function (or module): not every time its function runs."""
        return bool(self._guard_stacks[-1])

    def in_try_body(self, frame: LoopFrame | None = None) -> bool:
        """The current node is in the body of a ``try`` inside ``frame``'s loop (the innermost
        by default): an iteration that fails there goes on to the next one, as a retry does."""
        stack = self._loop_stacks[-1]
        frame = frame or (stack[-1] if stack else None)
        if frame is None:
            return False
        depth = stack.index(frame)
        return any(loop_depth > depth for loop_depth, _ in self._try_stacks[-1])

    def is_invariant(
        self,
        expr: cst.BaseExpression,
        frame: LoopFrame | None = None,
        allow_conversions: bool = False,
        identity: bool = False,
    ) -> bool:
        frame = frame or self.innermost
        if frame is None:
            return True
        return is_invariant(expr, frame, self._context.imports, allow_conversions, identity)


def _initialised_chain(test: cst.BaseExpression) -> str | None:
    """``x`` for a test that holds while ``x`` is not set yet: ``x is None``, ``not x``,
    ``len(x) == 0``, ``key not in x``, ``not hasattr(x, "y")`` (then ``x.y``)."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        inner = test.expression
        if (
            type(inner) is cst.Call
            and type(inner.func) is cst.Name
            and inner.func.value == "hasattr"
            and len(inner.args) == 2
        ):
            owner = dotted_name(inner.args[0].value)
            attribute = string_value(inner.args[1].value)
            return f"{owner}.{attribute}" if owner and isinstance(attribute, str) else None
        return dotted_name(inner)
    if type(test) is not cst.Comparison or len(test.comparisons) != 1:
        return None
    operator, right = type(test.comparisons[0].operator), test.comparisons[0].comparator
    left = test.left
    if operator is cst.Is and type(right) is cst.Name and right.value == "None":
        return dotted_name(left)
    if operator is cst.NotIn:
        return dotted_name(right)
    if (
        operator is cst.Equal
        and integer_value(right) == 0
        and type(left) is cst.Call
        and type(left.func) is cst.Name
        and left.func.value == "len"
        and len(left.args) == 1
    ):
        return dotted_name(left.args[0].value)
    return None


def is_lazy_initialisation(node: cst.If) -> bool:
    """``if <x is not set yet>:`` whose body sets ``x`` (assigns it, an item or an attribute of
    it): the body runs the first time only."""
    chain = _initialised_chain(node.test)
    if chain is None:
        return False
    body = node.body.body
    lines = (
        body
        if type(node.body) is cst.SimpleStatementSuite
        else [statement for line in body if type(line) is cst.SimpleStatementLine for statement in line.body]
    )
    for statement in lines:
        targets: list[cst.BaseExpression] = []
        if type(statement) is cst.Assign:
            targets = [target.target for target in statement.targets]
        elif type(statement) is cst.AnnAssign:
            targets = [statement.target]
        for target in targets:
            if type(target) is cst.Subscript:
                target = target.value
            assigned = dotted_name(target)
            if assigned is not None and (assigned == chain or assigned.startswith(chain + ".")):
                return True
    return False


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
        expr_type = type(expr)
        if expr_type is cst.Name:
            return expr.value
        if expr_type in (cst.Subscript, cst.Attribute):
            expr = expr.value
        elif expr_type is not cst.Call:
            return None
        elif imports.qualified_name(expr.func) in catalog.PURE_CONVERSIONS and expr.args:
            expr = expr.args[0].value
        elif type(expr.func) is cst.Attribute and expr.func.attr.value in catalog.VIEW_METHODS:
            expr = expr.func.value
        else:
            return None


def root_name(expr: cst.BaseExpression) -> str | None:
    """The name an expression takes its value from through subscripts, attributes and method
    calls: ``batch`` for ``batch["image"].float()``; None for anything else."""
    while True:
        expr_type = type(expr)
        if expr_type is cst.Name:
            return expr.value
        if expr_type in (cst.Subscript, cst.Attribute):
            expr = expr.value
        elif expr_type is cst.Call and type(expr.func) is cst.Attribute:
            expr = expr.func.value
        else:
            return None


def _uses_modulo(test: cst.BaseExpression) -> bool:
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
        for element in node.elements:
            if isinstance(element, cst.DictElement):
                yield element.key
            yield element.value
    elif isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.NamedExpr)) and node.value is not None:
        yield node.value


def _has_own_exit(body: cst.CSTNode) -> bool:
    """``body`` (a loop's) holds a ``return``, or a ``break`` not inside a nested loop."""
    stack: list[tuple[cst.CSTNode, bool]] = [(body, False)]
    while stack:
        node, in_nested_loop = stack.pop()
        if isinstance(node, cst.Return) or (isinstance(node, cst.Break) and not in_nested_loop):
            return True
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        nested = in_nested_loop or isinstance(node, (cst.For, cst.While))
        stack.extend((child, nested) for child in syntax_children(node))
    return False


def summarise(parts: list[cst.CSTNode], imports: ImportTable, functions: FunctionKnowledge | None = None) -> Effects:
    """The effects of running ``parts`` once (nested functions and classes are not run).

    A call of a function of the same file mutates what that function's summary says it does
    (``functions`` answers); any other call that is not a known pure one may mutate every
    argument and its receiver.
    """
    effects = Effects()
    stack: list[tuple[cst.CSTNode, bool]] = [(part, False) for part in reversed(parts)]
    while stack:
        node, in_nested_loop = stack.pop()
        _record(node, in_nested_loop, effects, imports, functions)
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            continue
        nested = in_nested_loop or isinstance(node, _LOOP_TYPES)
        stack.extend((child, nested) for child in syntax_children(node))
    effects.outer_rebound |= effects.rebound & effects.declared_outer
    return effects


def _bind(target: cst.BaseExpression, effects: Effects) -> None:
    if isinstance(target, cst.Name):
        effects.rebound.add(target.value)
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            _bind(element.value, effects)
    elif isinstance(target, cst.StarredElement):
        _bind(target.value, effects)
    elif isinstance(target, cst.Attribute):
        chain = dotted_name(target)
        if chain:
            effects.mutated.add(chain)
    elif isinstance(target, cst.Subscript):
        chain = dotted_name(target.value)
        if chain:
            effects.mutated.add(chain)


def _record(
    node: cst.CSTNode,
    in_nested_loop: bool,
    effects: Effects,
    imports: ImportTable,
    functions: FunctionKnowledge | None,
) -> None:
    if isinstance(node, cst.Assign):
        for assign_target in node.targets:
            _bind(assign_target.target, effects)
    elif isinstance(node, cst.AnnAssign):
        _bind(node.target, effects)
    elif isinstance(node, cst.AugAssign):
        # ``a *= 2`` rebinds ``a``, and on an array or a list it changes the object itself.
        _bind(node.target, effects)
        chain = dotted_name(node.target)
        if chain:
            effects.mutated.add(chain)
    elif isinstance(node, (cst.For, cst.CompFor)):
        _bind(node.target, effects)
    elif isinstance(node, cst.NamedExpr):
        _bind(node.target, effects)
    elif isinstance(node, cst.AsName):
        _bind(node.name, effects)
    elif isinstance(node, cst.Del):
        _bind(node.target, effects)
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        effects.rebound.add(node.name.value)
    elif isinstance(node, cst.ImportAlias):
        effects.rebound.add((node.evaluated_alias or node.evaluated_name).partition(".")[0])
    elif isinstance(node, (cst.Global, cst.Nonlocal)):
        effects.declared_outer.update(item.name.value for item in node.names)
    elif isinstance(node, cst.Call):
        _record_call(node, in_nested_loop, effects, imports, functions)
        if functions is not None and _may_call_own_function(node, imports):
            _record_outer_effects(node, effects, functions)


def _record_call(
    call: cst.Call,
    in_nested_loop: bool,
    effects: Effects,
    imports: ImportTable,
    functions: FunctionKnowledge | None,
) -> None:
    func = call.func
    qualified = imports.qualified_name(func)
    arguments_are_safe = False
    if qualified is not None:
        arguments_are_safe = catalog.is_side_effect_free(qualified)
    elif isinstance(func, cst.Name):
        arguments_are_safe = imports.is_builtin(func, func.value) and func.value in catalog.PURE_BUILTINS
    if not in_nested_loop and not arguments_are_safe:
        _record_training_step(call, qualified, effects)
    if not arguments_are_safe and qualified is None and functions is not None:
        known = functions.mutations_of_call(call)
        if known is not None:
            effects.mutated.update(known)
            return
    if isinstance(func, cst.Attribute) and qualified is None:
        arguments_are_safe = func.attr.value in catalog.NON_MUTATING_METHODS
        if not arguments_are_safe:
            receiver = dotted_name(func.value)
            if receiver:
                effects.mutated.add(receiver)
    for arg in call.args:
        keyword = arg.keyword.value if arg.keyword is not None else None
        if arguments_are_safe and keyword != "out":
            continue
        chain = dotted_name(arg.value)
        if chain:
            effects.mutated.add(chain)


def _may_call_own_function(call: cst.Call, imports: ImportTable) -> bool:
    """``call`` may call a function of this file: ``f(...)`` or ``self.f(...)``, not an import."""
    func = call.func
    if imports.qualified_name(func) is not None:
        return False
    return type(func) is cst.Name or (
        type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self"
    )


def _record_outer_effects(call: cst.Call, effects: Effects, functions: FunctionKnowledge) -> None:
    """What a function of this file that ``call`` calls does to the caller's names beyond its
    arguments: rebinds a ``global`` or ``nonlocal`` one, or (a function nested in the caller,
    a closure) changes in place a name it does not bind itself."""
    name = dotted_name(call.func)
    definition = functions.definition(name) if name else None
    if definition is None:
        return
    summary = functions.summary_of(definition)
    effects.rebound |= summary.outer_rebound
    effects.outer_rebound |= summary.outer_rebound
    if type(call.func) is cst.Name and functions.mutations_of_call(call) is None:
        own = set(parameter_names(definition.params)) | (summary.rebound - summary.declared_outer)
        effects.mutated.update(chain for chain in summary.mutated if chain.partition(".")[0] not in own)


def _record_training_step(call: cst.Call, qualified: str | None, effects: Effects) -> None:
    func = call.func
    if qualified == "torch.autograd.backward":
        effects.calls_backward = True
    elif qualified is not None:
        # Possibly a function of another file of the project (``from pkg.engine import fit``).
        effects.local_calls.append(call)
    elif type(func) is cst.Name:
        effects.local_calls.append(call)
    elif type(func) is cst.Attribute:
        method = func.attr.value
        if method in ("backward", "manual_backward"):
            effects.calls_backward = True
            differentiated = dotted_name(func.value) if method == "backward" else None
            if differentiated is not None:
                effects.differentiated.add(differentiated)
            return
        if method == "step" and (is_optimizer(func.value) or _is_scaler_step(call)):
            effects.steps_optimizer = True
        receiver = func.value
        if type(receiver) is cst.Attribute:
            receiver = receiver.value  # ``self.optim.step(loss)``: a project class may call ``backward`` itself
        if type(receiver) is cst.Name and receiver.value == "self":
            effects.local_calls.append(call)


def _is_scaler_step(call: cst.Call) -> bool:
    """``scaler.step(optimizer)``: mixed precision steps the optimizer through its scaler."""
    return any(is_optimizer(arg.value) for arg in call.args)


def is_invariant(
    expr: cst.BaseExpression,
    frame: LoopFrame,
    imports: ImportTable,
    allow_conversions: bool = False,
    identity: bool = False,
) -> bool:
    """``expr`` computes the same value on every iteration of ``frame``'s loop; with
    ``identity``, the same object.

    Names and attribute chains must not be changed by the loop, and every call inside must be
    one that gives equal results for equal arguments: a side-effect-free library function, a
    non-mutating method of an invariant receiver, a pure builtin. A pure factory of invariant
    arguments (``np.eye(n)``, ``torch.zeros(3)``, ``x.clone()``) gives an equal value on every
    iteration, but a new object each time: it is invariant as a value, never as an identity
    (hoisting it would share one object between iterations). A conversion that shares its
    argument's memory (``torch.from_numpy``) is a new object too: as an identity only with
    ``allow_conversions``. Random draws are never invariant.
    """
    return unchanged_by(expr, frame.changes, imports, allow_conversions, identity)


# Expressions that never give the same value twice as far as a static reading can tell: a new
# function, a suspension point, a binding, a fresh container built by a comprehension.
NEVER_THE_SAME_TWICE = (
    cst.Lambda,
    cst.Await,
    cst.Yield,
    cst.NamedExpr,
    cst.ListComp,
    cst.SetComp,
    cst.DictComp,
    cst.GeneratorExp,
)


def unchanged_by(
    expr: cst.BaseExpression,
    changes: Callable[[str], bool],
    imports: ImportTable,
    allow_conversions: bool = False,
    identity: bool = False,
) -> bool:
    """``expr`` gives the same value (with ``identity``, the same object) each time a block
    runs, when ``changes(chain)`` says whether the block may change a name or attribute chain:
    the walk behind ``is_invariant`` (a loop) and ``FunctionKnowledge.same_on_every_call`` (a
    function)."""
    stack: list[cst.CSTNode] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Name, cst.Attribute)):
            chain = dotted_name(node)
            if chain is not None:
                if changes(chain):
                    return False
                continue
        elif isinstance(node, cst.Call):
            if not call_may_be_invariant(node, imports, allow_conversions, identity):
                return False
            if isinstance(node.func, cst.Attribute) and imports.qualified_name(node.func) is None:
                stack.append(node.func.value)
            stack.extend(arg.value for arg in node.args)
            continue
        elif isinstance(node, NEVER_THE_SAME_TWICE):
            return False
        stack.extend(syntax_children(node))
    return True


_FRESH_COPY_METHODS = frozenset({"copy", "clone"})


def call_may_be_invariant(call: cst.Call, imports: ImportTable, allow_conversions: bool, identity: bool) -> bool:
    """Called twice with equal arguments, ``call`` gives equal values (with ``identity``, the
    same object): see ``is_invariant``."""
    qualified = imports.qualified_name(call.func)
    if qualified is not None:
        if not catalog.is_side_effect_free(qualified):
            return False
        if qualified in catalog.FACTORIES:
            record = catalog.lookup(qualified)
            if identity or record is None or not record.has(catalog.Flag.PURE):
                return False
        elif qualified in catalog.PURE_CONVERSIONS and identity and not allow_conversions:
            return False
        return not any(arg.keyword is not None and arg.keyword.value == "out" for arg in call.args)
    if isinstance(call.func, cst.Name):
        name = call.func.value
        if not imports.is_builtin(call.func, name) or name not in catalog.PURE_BUILTINS:
            return False
        if name not in catalog.FRESH_OBJECT_BUILTINS:
            return True
        record = catalog.lookup(f"builtins.{name}")
        return not identity and record is not None and record.has(catalog.Flag.PURE)
    if isinstance(call.func, cst.Attribute):
        method = call.func.attr.value
        if method not in catalog.NON_MUTATING_METHODS:
            return False
        return not (identity and method in _FRESH_COPY_METHODS)
    return False


# Control flow a rule must respect ------------------------------------------------------------
# Tests and loops whose cost is not what a per-iteration reading suggests: a branch that skips
# the rest of the work, a guard that only reports a failure, a check short-circuited by
# identity, a retry, code under a debugging flag.

_EARLY_EXITS = (cst.Break, cst.Continue, cst.Return)
# Methods of a logger that report a problem (``logger.warning``, ``log.error``).
_REPORTING_METHODS = frozenset({"warn", "warning", "error", "critical", "exception", "fatal"})
# Words that, in a flag's name, say it turns on debugging or profiling (``self.debug``,
# ``args.profile``, ``cfg.sanity_checks``). Not ``verbose``: progress output is often on in the
# runs that matter.
_DEBUG_FLAG_WORDS = ("debug", "profil", "sanity", "anomaly")


def ends_early(node: cst.If) -> bool:
    """The ``if``'s body ends the loop or the call early (``if mask.all(): break``, ``if not
    sel.any(): continue``, ``if done: return x``): the test decides whether to skip the rest of
    the work, which is what reading it is for."""
    body = node.body
    statements = (
        body.body
        if type(body) is cst.SimpleStatementSuite
        else (body.body[-1].body if body.body and type(body.body[-1]) is cst.SimpleStatementLine else ())
    )
    return bool(statements) and type(statements[-1]) in _EARLY_EXITS


def _leaving_statement(suite: cst.BaseSuite) -> type | None:
    """``cst.Raise``, ``cst.Return`` or ``cst.Break`` when ``suite`` ends with one, else None."""
    statements = (
        suite.body
        if type(suite) is cst.SimpleStatementSuite
        else (suite.body[-1].body if suite.body and type(suite.body[-1]) is cst.SimpleStatementLine else ())
    )
    if statements and type(statements[-1]) in (cst.Raise, cst.Return, cst.Break):
        return type(statements[-1])
    return None


def only_reports(suite: cst.BaseSuite, imports: ImportTable) -> bool:
    """Every statement of ``suite`` raises, warns (``warnings.warn``) or logs a problem
    (``logger.warning``, ``logging.error``), or prints what went wrong before one of those: a
    guard that only reports a failure, and changes nothing when the check passes. (A branch
    that only prints is progress output, not a failure.)"""
    lines = [suite] if type(suite) is cst.SimpleStatementSuite else list(suite.body)
    statements: list[cst.BaseSmallStatement] = []
    for line in lines:
        if type(line) not in (cst.SimpleStatementLine, cst.SimpleStatementSuite):
            return False
        statements.extend(line.body)
    reporting = [_reports(statement, imports) for statement in statements]
    return any(reporting) and all(
        reports or _prints(statement, imports) for statement, reports in zip(statements, reporting)
    )


def _prints(statement: cst.BaseSmallStatement, imports: ImportTable) -> bool:
    return (
        type(statement) is cst.Expr
        and type(statement.value) is cst.Call
        and imports.is_builtin(statement.value.func, "print")
    )


def _reports(statement: cst.BaseSmallStatement, imports: ImportTable) -> bool:
    if type(statement) is cst.Raise:
        return True
    if type(statement) is not cst.Expr or type(statement.value) is not cst.Call:
        return False
    func = statement.value.func
    qualified = imports.qualified_name(func)
    if qualified is not None:
        return qualified == "warnings.warn" or (
            qualified.startswith("logging.") and qualified.rpartition(".")[2] in _REPORTING_METHODS
        )
    if type(func) is not cst.Attribute or func.attr.value not in _REPORTING_METHODS:
        return False
    receiver = dotted_name(func.value)
    return receiver is not None and "log" in receiver.rpartition(".")[2].lower()


def short_circuited_by_identity(test: cst.BaseExpression, part: cst.CSTNode) -> bool:
    """``part`` of ``test`` runs only when an identity check before it fails: ``a is b or
    torch.equal(a, b)``, where callers that pass the same object never run the comparison."""
    if type(test) is not cst.BooleanOperation:
        return False
    if type(test.operator) is cst.And or not _contains(test.right, part):
        # ``(a is b or torch.equal(a, b)) and (…)``: the ``or`` holding ``part`` decides.
        inner = test.right if _contains(test.right, part) else test.left
        return short_circuited_by_identity(inner, part)
    for operand in _or_operands(test.left):
        if (
            type(operand) is cst.Comparison
            and len(operand.comparisons) == 1
            and type(operand.comparisons[0].operator) is cst.Is
        ):
            left, right = dotted_name(operand.left), dotted_name(operand.comparisons[0].comparator)
            if (
                left
                and right
                and left != "None"
                and right != "None"
                and _mentions_chain(part, left)
                and _mentions_chain(part, right)
            ):
                return True
    return False


def _or_operands(expr: cst.BaseExpression) -> list[cst.BaseExpression]:
    if type(expr) is cst.BooleanOperation and type(expr.operator) is cst.Or:
        return _or_operands(expr.left) + _or_operands(expr.right)
    return [expr]


def _contains(tree: cst.CSTNode, part: cst.CSTNode) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is part:
            return True
        stack.extend(syntax_children(node))
    return False


def _mentions_chain(tree: cst.CSTNode, chain: str) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if type(node) in (cst.Name, cst.Attribute) and dotted_name(node) == chain:
            return True
        stack.extend(syntax_children(node))
    return False


def tests_a_debug_flag(test: cst.BaseExpression) -> bool:
    """``test`` holds only when a debugging or profiling flag is on: ``__debug__``,
    ``self.debug``, ``args.profile``, ``cfg.debug and step > 0`` (a flag among ``and``-ed
    conditions). ``not self.debug`` is the flag off."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return tests_a_debug_flag(test.left) or tests_a_debug_flag(test.right)
    chain = dotted_name(test)
    if chain is None:
        return False
    if chain == "__debug__":
        return True
    name = chain.rpartition(".")[2].lower()
    return any(word in name for word in _DEBUG_FLAG_WORDS)


def decides_an_exit(path: list[cst.CSTNode], loop: LoopNode) -> bool:
    """The value computed at ``path[-1]`` (``path`` runs from the module down to it, through
    ``loop``) decides whether ``loop`` ends: it is read in the test of an ``if`` in the loop
    that ends early (``if abs(prev - loss.item()) < tol: break``) or of the ``while`` loop
    itself, or assigned to a name such a test reads (``cur = loss.item()`` then ``if cur <
    best: break``). A convergence check needs the value on every iteration."""
    if not any(node is loop for node in path):
        return False
    for depth in range(len(path) - 2, -1, -1):
        node, child = path[depth], path[depth + 1]
        if type(node) is cst.If and child is node.test and ends_early(node):
            return True
        if type(node) is cst.While and child is node.test and node is loop:
            return True
        if type(node) in (cst.Assign, cst.AugAssign, cst.AnnAssign):
            targets = [target.target for target in node.targets] if type(node) is cst.Assign else [node.target]
            names = {name for target in targets for name in target_names(target)}
            return bool(names) and _an_exit_test_reads(loop, names)
        if node is loop:
            return False
    return False


def _an_exit_test_reads(loop: LoopNode, names: set[str]) -> bool:
    return bool(names & _names_deciding_exit(loop))


def _names_deciding_exit(loop: LoopNode) -> set[str]:
    """The names an exit test of ``loop`` reads (the ``while`` test, the test of an ``if`` in
    it that ends early), and, to a fixed point, the names read to compute those: in the value
    of an assignment to one, or in the test of an ``if`` that assigns one (``if val < best:
    since_best = 0`` … ``if since_best > patience: break``)."""
    if not isinstance(loop, (cst.For, cst.While)):
        return set()
    tests: list[cst.BaseExpression] = [loop.test] if isinstance(loop, cst.While) else []
    assignments: list[tuple[set[str], cst.CSTNode]] = []  # names bound, what they are computed from
    stack: list[cst.CSTNode] = [loop.body]
    while stack:
        node = stack.pop()
        if type(node) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        if type(node) is cst.If:
            if ends_early(node):
                tests.append(node.test)
            assigned = _assigned_names([node.body, *([node.orelse] if node.orelse is not None else [])])
            if assigned:
                assignments.append((assigned, node.test))
        elif type(node) in (cst.Assign, cst.AugAssign, cst.AnnAssign) and node.value is not None:
            targets = [target.target for target in node.targets] if type(node) is cst.Assign else [node.target]
            assignments.append(({name for target in targets for name in target_names(target)}, node.value))
        stack.extend(syntax_children(node))
    deciding = {name for test in tests for name in _names_read(test)}
    grew = True
    while grew:
        grew = False
        for bound, source in assignments:
            if bound & deciding:
                read = _names_read(source) - deciding
                if read:
                    deciding |= read
                    grew = True
    return deciding


def _assigned_names(blocks: list[cst.CSTNode]) -> set[str]:
    names: set[str] = set()
    stack = list(blocks)
    while stack:
        node = stack.pop()
        if type(node) in (cst.FunctionDef, cst.ClassDef, cst.Lambda):
            continue
        if type(node) is cst.Assign:
            for target in node.targets:
                names.update(target_names(target.target))
        elif type(node) in (cst.AugAssign, cst.AnnAssign):
            names.update(target_names(node.target))
        stack.extend(syntax_children(node))
    return names


def _names_read(expr: cst.CSTNode) -> set[str]:
    names: set[str] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if type(node) is cst.Name:
            names.add(node.value)
        elif type(node) is cst.Attribute:
            stack.append(node.value)
        elif type(node) is cst.Arg:
            stack.append(node.value)
        else:
            stack.extend(syntax_children(node))
    return names


def _retries(loop: cst.For | cst.While) -> bool:
    """See ``LoopFrame.is_retry``."""
    body = loop.body.body if type(loop.body) is cst.IndentedBlock else ()
    flag = _loop_until_flag(loop.test) if isinstance(loop, cst.While) else None
    for statement in body:
        if type(statement) is not cst.Try or not statement.handlers:
            continue
        succeeded = [statement.body, *([statement.orelse] if statement.orelse is not None else [])]
        if any(_has_own_exit(part) for part in succeeded):
            return True
        if flag is not None and any(_sets_true(part, flag) for part in succeeded):
            return True
    return False


def _loop_until_flag(test: cst.BaseExpression) -> str | None:
    """``ok`` of ``while not ok:``."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return dotted_name(test.expression)
    return None


def _sets_true(block: cst.CSTNode, chain: str) -> bool:
    stack = [block]
    while stack:
        node = stack.pop()
        if (
            type(node) is cst.Assign
            and type(node.value) is cst.Name
            and node.value.value == "True"
            and any(dotted_name(target.target) == chain for target in node.targets)
        ):
            return True
        stack.extend(syntax_children(node))
    return False
