"""Which names hold a NumPy array, a torch tensor or a pandas object, and what each name was
last assigned.

Evidence comes from annotations, ``isinstance`` narrowing (in the body of ``if
isinstance(x, np.ndarray):``, and past ``if not isinstance(x, np.ndarray): x = np.asarray(x)``,
where every path leaves an array), assignments from known constructors, from operations on
known arrays, or from the items of a call the catalogue says returns a tuple of arrays (``v, i =
torch.max(x, 1)``), and a module's registered buffers (``self.register_buffer("steps", …)`` in
``__init__``: a tensor in every method). Unknown stays unknown: a rule that needs array evidence
stays silent without it.

Weaker evidence (``Evidence.WEAK``) types a function's parameters from what the function
itself says of them, without an annotation: a NumPy- or Google-style docstring
(``X : np.ndarray``, ``x (torch.Tensor): ...``, ``df : pd.DataFrame``; ``array_like`` is not
an array), or passing
the parameter where torch takes only a tensor (``torch.exp(x)``); it types an attribute
``self.x`` from the one value its class assigns it (``self.x = torch.zeros(n)``). A parameter
converted on some paths only keeps its weak kind when every conversion gives that kind (``if
isinstance(x, list): x = np.array(x)`` after ``x : np.ndarray``). A docstring
can be stale, a call can sit in a branch for one type of several, and code outside the class
can assign the attribute anything, so a rule asks for weak evidence explicitly
(``kind_of(expr, Evidence.WEAK)``) and gets only strong evidence by default.

SciPy sparse matrices are no array kind (no rule's NumPy advice applies to them):
``sparse_format(expr)`` answers separately which sparse format a name holds.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Optional, Union, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable, dotted_name, target_names
from perflint.engine.literals import UNKNOWN, integer_value, literal_value
from perflint.engine.values import MAX_NAME_HOPS
from perflint.engine.walker import nodes_in_scope

# NumPy string dtypes spelled as text: ``"U"``, ``"<U8"``, ``"|S10"``, ``"str"``, ``"bytes"``.
_TEXT_DTYPE = re.compile(r"[<>|=]?[US]\d*|str|bytes|unicode")

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

ArrayKind = Optional[catalog.ArrayKind]  # None: no evidence of any library's array
Comprehension = Union[cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp]

_FUNCTION_SCOPE, _CLASS_SCOPE, _BRANCH = "function", "class", "branch"
# Statements after which control does not reach the next statement.
_ABRUPT_STATEMENTS = (cst.Return, cst.Raise, cst.Continue, cst.Break)


class Evidence(enum.IntEnum):
    """How sure a kind is: strong (an annotation, a constructor, ``isinstance``) or weak (a
    docstring, use as a tensor-only argument; see the module docstring)."""

    WEAK = 1
    STRONG = 2


class AxisLength(NamedTuple):
    """The length of one axis of an array, as a range's bound spells it (``axis_of_range``)."""

    array: cst.BaseExpression
    axis: int
    libraries: tuple[str, ...]  # where the spelling means that length (torch's ``a.size(k)``)
    reads_shape: bool  # spelled ``a.shape[k]``: ``a`` has a shape, whatever its library


class Binding(NamedTuple):
    kind: ArrayKind
    value: cst.BaseExpression | None  # the expression last assigned; None when not one
    default: cst.BaseExpression | None = None  # a parameter's default value
    parameter: bool = False  # still the function's parameter: never reassigned on any path
    items_of: cst.BaseExpression | None = None  # a loop target: what it takes the items of
    # The kind the name has when the function's parameter it may still be (unchanged on some
    # paths) has that kind by weak evidence, every other path giving it strongly.
    kind_if_parameter: ArrayKind = None
    # Unpacked from an array's shape (``n, d = X.shape``): the length of that axis.
    axis_length: AxisLength | None = None
    # The array's number of dimensions, where an unpacking of its whole shape states it.
    ndim: int | None = None


_UNKNOWN = Binding(None, None)


@dataclass
class _Layer:
    role: str
    bindings: dict[str, Binding] = field(default_factory=dict)
    function: cst.FunctionDef | None = None  # the function whose scope this is


@dataclass
class _BranchGroup:
    """Alternative paths through one statement (``if``/``else``, a loop body, ``try``)."""

    falls_through: bool  # control may also skip every branch (an ``if`` without ``else``)
    branches: list[dict[str, Binding]] = field(default_factory=list)
    skipped: dict[str, Binding] = field(default_factory=dict)  # what skipping them proves


def _join(bindings: Sequence[Binding]) -> Binding:
    """What a name holds after paths that bound it differently rejoin: a kind or a value only
    when every path agrees on it."""
    first = bindings[0]
    kind = first.kind if all(binding.kind == first.kind for binding in bindings) else None
    value = first.value if all(binding.value is first.value for binding in bindings) else None
    default = first.default if all(binding.default is first.default for binding in bindings) else None
    items_of = first.items_of if all(binding.items_of is first.items_of for binding in bindings) else None
    parameter = all(binding.parameter for binding in bindings)
    axis_length = first.axis_length if all(binding.axis_length is first.axis_length for binding in bindings) else None
    ndim = first.ndim if all(binding.ndim == first.ndim for binding in bindings) else None
    return Binding(
        kind,
        value,
        default,
        parameter,
        items_of,
        _kind_if_parameter(bindings, kind, parameter),
        axis_length,
        ndim,
    )


def _kind_if_parameter(bindings: Sequence[Binding], kind: ArrayKind, parameter: bool) -> ArrayKind:
    """The one kind every path gives the name, strongly or as the parameter it still is on
    some of them (``if not isinstance(x, (np.ndarray, pd.Series)): x = np.asarray(x)``: the
    parameter, or a NumPy array); None when the paths agree strongly, or not at all."""
    if kind is not None or parameter:
        return None
    kinds: set[ArrayKind] = set()
    for binding in bindings:
        if binding.kind is not None:
            kinds.add(binding.kind)
        elif binding.kind_if_parameter is not None:
            kinds.add(binding.kind_if_parameter)
        elif not binding.parameter:
            return None
    return kinds.pop() if len(kinds) == 1 else None


def ends_abruptly(suite: cst.BaseSuite) -> bool:
    """The block always leaves by ``return``, ``raise``, ``continue`` or ``break``."""
    if type(suite) is cst.SimpleStatementSuite:
        return bool(suite.body) and type(suite.body[-1]) in _ABRUPT_STATEMENTS
    if not suite.body:
        return False
    last = suite.body[-1]
    return type(last) is cst.SimpleStatementLine and type(last.body[-1]) in _ABRUPT_STATEMENTS


class ArrayKnowledge:
    """Array kinds and assigned values of names, scoped like Python and joined where branches
    rejoin: after ``if``/``else``, a loop (which may run no iteration) or a ``try``, a name has a
    kind (or a value) only when every path that reaches there gives it the same one.

    Names in a class body are not visible from the methods, as in Python; names bound in a
    comprehension do not leak out of it.
    """

    def __init__(self, context: FileContext) -> None:
        self._context = context
        self._imports: ImportTable = context.imports
        # The scopes around the current node; each keeps its own bindings, then one layer per
        # branch open in it (``Scope.layers``).
        self._scopes = context.scopes.stack
        self._scopes[0].layers.append(_Layer(_FUNCTION_SCOPE))
        self._groups: list[_BranchGroup] = []
        # While a query accepts weak evidence (``kind_of(expr, Evidence.WEAK)``).
        self._accepting_weak = False
        # Per function (by id): its parameters' kinds from weak evidence, found on first ask.
        self._weak_parameter_kinds: dict[int, dict[str, catalog.ArrayKind]] = {}

    # Scopes --------------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.bind(node.name.value, None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.bind(node.name.value, None)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        self._scopes[-1].layers.append(_Layer(_FUNCTION_SCOPE, function=node))
        self.bind_parameters(node.params)

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._scopes[-1].layers.append(_Layer(_FUNCTION_SCOPE))
        self.bind_parameters(node.params)

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        self._scopes[-1].layers.append(_Layer(_CLASS_SCOPE))

    # Branches ------------------------------------------------------------------------------

    def _begin_branches(self, falls_through: bool, skipped: dict[str, Binding] | None = None) -> None:
        self._groups.append(_BranchGroup(falls_through, skipped=skipped or {}))

    def _begin_branch(self, bindings: dict[str, Binding] | None = None) -> None:
        self._scopes[-1].layers.append(_Layer(_BRANCH, bindings or {}))

    def _end_branch(self, reaches_the_end: bool = True) -> None:
        layer = self._scopes[-1].layers.pop()
        if reaches_the_end:
            self._groups[-1].branches.append(layer.bindings)

    def _end_branches(self) -> None:
        group = self._groups.pop()
        paths = list(group.branches)
        if group.falls_through:
            paths.append(group.skipped)
        if not paths:
            return
        for name in {name for path in paths for name in path}:
            before = self._binding(name) or _UNKNOWN
            self._scopes[-1].layers[-1].bindings[name] = _join([path.get(name, before) for path in paths])

    def _narrowed(self, narrowing: dict[str, ArrayKind]) -> dict[str, Binding]:
        """The bindings of names a test proved arrays, or no arrays (the kind None): each keeps
        what it was bound to. A parameter proved no array is typed by no weak evidence either."""
        return {name: self._narrowed_binding(name, kind) for name, kind in narrowing.items()}

    def _narrowed_binding(self, name: str, kind: ArrayKind) -> Binding:
        binding = (self._binding(name) or _UNKNOWN)._replace(kind=kind, kind_if_parameter=None)
        return binding if kind is not None else binding._replace(parameter=False)

    def visit_If_body(self, node: cst.If) -> None:
        # Skipping the body (no ``else``) or taking the ``else`` means the test was false:
        # ``if not isinstance(x, np.ndarray): x = np.asarray(x)`` leaves an array either way.
        self._begin_branches(
            falls_through=node.orelse is None,
            skipped=self._narrowed(self.negated_narrowing(node.test)) if node.orelse is None else None,
        )
        self._begin_branch(self._narrowed(self.isinstance_narrowing(node.test)))

    def leave_If_body(self, node: cst.If) -> None:
        self._end_branch(not ends_abruptly(node.body))

    def visit_If_orelse(self, node: cst.If) -> None:
        if node.orelse is not None:
            self._begin_branch(self._narrowed(self.negated_narrowing(node.test)))

    def leave_If_orelse(self, node: cst.If) -> None:
        if node.orelse is not None:
            body = node.orelse.body if type(node.orelse) is cst.Else else None
            self._end_branch(body is None or not ends_abruptly(body))
        self._end_branches()

    def visit_For_target(self, node: cst.For) -> None:
        self._begin_branches(falls_through=True)
        self._begin_branch()
        self._bind_iterated(node.target, node.iter)

    def leave_For_body(self, node: cst.For) -> None:
        self._end_branch()
        self._end_branches()

    def visit_While_body(self, node: cst.While) -> None:
        self._begin_branches(falls_through=True)
        self._begin_branch()

    def leave_While_body(self, node: cst.While) -> None:
        self._end_branch()
        self._end_branches()

    def _enter_comprehension(self, node: Comprehension) -> None:
        self._begin_branch()

    def _leave_comprehension(self, node: Comprehension) -> None:
        self._scopes[-1].layers.pop()

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _enter_comprehension
    leave_ListComp = leave_SetComp = leave_GeneratorExp = leave_DictComp = _leave_comprehension

    def visit_CompFor_target(self, node: cst.CompFor) -> None:
        self._bind_iterated(node.target, node.iter)

    def _enter_try(self, node: cst.Try | cst.TryStar) -> None:
        # The body may stop at any statement, so the state before it is one of the paths.
        self._begin_branches(falls_through=True)
        self._begin_branch()

    def _leave_try_else(self, node: cst.Try | cst.TryStar) -> None:
        self._end_branch()

    def _enter_finally(self, node: cst.Try | cst.TryStar) -> None:
        self._end_branches()

    visit_Try_body = visit_TryStar_body = _enter_try
    leave_Try_orelse = leave_TryStar_orelse = _leave_try_else
    visit_Try_finalbody = visit_TryStar_finalbody = _enter_finally

    def _enter_handler(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        self._begin_branch()
        if node.name is not None:
            self._bind_target(node.name.name, None)

    def _leave_handler(self, node: cst.ExceptHandler | cst.ExceptStarHandler) -> None:
        self._end_branch(not ends_abruptly(node.body))

    visit_ExceptHandler_body = visit_ExceptStarHandler_body = _enter_handler
    leave_ExceptHandler_body = leave_ExceptStarHandler_body = _leave_handler

    def visit_Match_cases(self, node: cst.Match) -> None:
        self._begin_branches(falls_through=True)

    def visit_MatchCase_body(self, node: cst.MatchCase) -> None:
        self._begin_branch()

    def leave_MatchCase_body(self, node: cst.MatchCase) -> None:
        self._end_branch(not ends_abruptly(node.body))

    def leave_Match_cases(self, node: cst.Match) -> None:
        self._end_branches()

    # Assignments ---------------------------------------------------------------------------

    def leave_Assign(self, node: cst.Assign) -> None:
        kind = self.kind_of(node.value)
        for assign_target in node.targets:
            target = assign_target.target
            if type(target) is cst.Tuple or type(target) is cst.List:
                self._unpack(target, node.value)
            else:
                self._bind_target(target, kind, node.value)

    def _unpack(self, target: cst.Tuple | cst.List, value: cst.BaseExpression) -> None:
        """``v, i = torch.max(x, 1)``, ``(idx,) = torch.nonzero(m, as_tuple=True)``: each name
        takes an item of the tuple; a starred name takes a list of them. ``b, c, t = X.shape``:
        each name is the length of its axis of ``X``, which has as many dimensions as names."""
        if self._unpack_shape(target, value):
            return
        items = self.items_kind(value)
        for element in target.elements:
            if type(element) is cst.Element:
                self._bind_target(element.value, items)
            else:
                self._bind_target(element.value, None)

    def _unpack_shape(self, target: cst.Tuple | cst.List, value: cst.BaseExpression) -> bool:
        """Binds the names of ``b, c, t = X.shape`` (no starred name) to the lengths of ``X``'s
        axes, and records that ``X`` (a name) has that many dimensions."""
        if (
            type(value) is not cst.Attribute
            or value.attr.value != "shape"
            or any(type(element) is not cst.Element for element in target.elements)
        ):
            return False
        array = value.value
        if type(array) is cst.Name:
            known = self._binding(array.value) or _UNKNOWN
            self._scopes[-1].layers[-1].bindings[array.value] = known._replace(ndim=len(target.elements))
        for axis, element in enumerate(target.elements):
            length = AxisLength(array, axis, _ARRAY_OR_TENSOR, reads_shape=True)
            if type(element.value) is cst.Name:
                self._scopes[-1].layers[-1].bindings[element.value.value] = Binding(None, None, axis_length=length)
            else:
                self._bind_target(element.value, None)
        return True

    def leave_AnnAssign(self, node: cst.AnnAssign) -> None:
        kind = self.annotation_kind(node.annotation.annotation)
        if kind is None and node.value is not None:
            kind = self.kind_of(node.value)
        self._bind_target(node.target, kind, node.value)

    def leave_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, self.kind_of(node.value), node.value)

    def leave_AugAssign(self, node: cst.AugAssign) -> None:
        if type(node.target) is cst.Name:
            kind = self.lookup(node.target.value) or self.kind_of(node.value)
            self._bind_target(node.target, kind)

    def leave_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, None)

    def _bind_target(
        self, target: cst.BaseExpression, kind: ArrayKind, value: cst.BaseExpression | None = None
    ) -> None:
        if type(target) is cst.Name:
            self.bind(target.value, kind, value)
        else:
            for name in target_names(target):
                self.bind(name, None)

    def _bind_iterated(self, target: cst.BaseExpression, iterable: cst.BaseExpression) -> None:
        """A loop's ``target`` takes the items of ``iterable``: a tensor's items are tensors
        (``for row in X``), and so are those of each tensor ``zip`` pairs (``for a, b in zip(X,
        Y)``) or ``enumerate`` numbers (``for i, row in enumerate(X)``). A NumPy array's items
        may be NumPy scalars, and a DataFrame's are its column labels: neither is bound."""
        if type(target) is cst.Name:
            kind = (
                catalog.TORCH
                if self.kind_of(iterable) == catalog.TORCH or self._lists_group_tensors(iterable)
                else None
            )
            self._scopes[-1].layers[-1].bindings[target.value] = Binding(kind, None, items_of=iterable)
            return
        paired = self._paired_iterables(target, iterable)
        if paired is None:
            self._bind_target(target, None)
            return
        for element, items in paired:
            if items is None:
                self._bind_target(element, None)
            else:
                self._bind_iterated(element, items)

    def _lists_group_tensors(self, iterable: cst.BaseExpression) -> bool:
        """``iterable`` is the ``"params"`` list of an optimizer's parameter group, whose items
        are tensors: ``group["params"]`` of a loop target ``group`` over ``<x>.param_groups``,
        or ``<x>.param_groups[0]["params"]``."""
        if (
            type(iterable) is not cst.Subscript
            or len(iterable.slice) != 1
            or type(iterable.slice[0].slice) is not cst.Index
            or literal_value(iterable.slice[0].slice.value) != catalog.TORCH_OPTIMIZER_GROUP_TENSORS_KEY
        ):
            return False
        group = iterable.value
        groups = self.items_source(group.value) if type(group) is cst.Name else None
        if type(group) is cst.Subscript and len(group.slice) == 1 and type(group.slice[0].slice) is cst.Index:
            groups = group.value
        return type(groups) is cst.Attribute and groups.attr.value == catalog.TORCH_OPTIMIZER_GROUPS_ATTRIBUTE

    def _paired_iterables(
        self, target: cst.BaseExpression, iterable: cst.BaseExpression
    ) -> list[tuple[cst.BaseExpression, cst.BaseExpression | None]] | None:
        """For a tuple ``target`` iterating ``zip(…)`` or ``enumerate(…)``: each of its names with
        the iterable whose items it takes (None for ``enumerate``'s counter)."""
        if type(target) not in (cst.Tuple, cst.List) or type(iterable) is not cst.Call:
            return None
        elements = cast(cst.Tuple | cst.List, target).elements
        if any(type(element) is not cst.Element for element in elements):
            return None
        if any(arg.star for arg in iterable.args):
            return None
        positional = [arg.value for arg in iterable.args if arg.keyword is None]
        if self._imports.is_builtin(iterable.func, "zip") and len(elements) == len(positional):
            return [(element.value, items) for element, items in zip(elements, positional)]
        if self._imports.is_builtin(iterable.func, "enumerate") and len(elements) == 2 and len(positional) == 1:
            return [(elements[0].value, None), (elements[1].value, positional[0])]
        return None

    def bind(self, name: str, kind: ArrayKind, value: cst.BaseExpression | None = None) -> None:
        """``name`` was (re)assigned ``value`` (None: not a single expression) of ``kind``."""
        self._scopes[-1].layers[-1].bindings[name] = Binding(kind, value)

    def bind_parameters(self, params: cst.Parameters) -> None:
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            kind = self.annotation_kind(param.annotation.annotation) if param.annotation else None
            if kind is not None and param.default is not None and _is_non_none_literal(param.default):
                # ``output_attentions: torch.Tensor | None = False``: the default contradicts
                # the annotation, and the code is written for what the default says.
                kind = None
            self._scopes[-1].layers[-1].bindings[param.name.value] = Binding(kind, None, param.default, parameter=True)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.bind(star.name.value, None)

    # Queries -------------------------------------------------------------------------------

    def _binding(self, name: str) -> Binding | None:
        # Names in a class body are not visible from the scopes nested in it.
        in_enclosing_scope = False
        for scope in reversed(self._scopes):
            for layer in reversed(scope.layers):
                if layer.role == _CLASS_SCOPE and in_enclosing_scope:
                    continue
                binding = layer.bindings.get(name)
                if binding is not None:
                    return binding
            in_enclosing_scope = True
        return None

    def lookup(self, name: str) -> ArrayKind:
        binding = self._binding(name)
        if binding is None:
            return None
        if binding.kind is None and self._accepting_weak:
            if binding.parameter:
                return self._weak_parameter_kind(name)
            if binding.kind_if_parameter is not None and self._weak_parameter_kind(name) == binding.kind_if_parameter:
                return binding.kind_if_parameter
        return binding.kind

    def _function_with_parameter(self, name: str) -> cst.FunctionDef | None:
        """The innermost function around the current node that has a parameter ``name``."""
        return next(
            (
                layer.function
                for scope in reversed(self._scopes)
                for layer in reversed(scope.layers)
                if layer.function is not None and _is_parameter_of(layer.function, name)
            ),
            None,
        )

    def _parameter_annotation(self, name: str) -> str | None:
        """The type the parameter ``name`` of the innermost function that has one is annotated
        with, qualified (``pandas.Series``; ``Optional[...]`` and ``... | None`` unwrapped)."""
        function = self._function_with_parameter(name)
        if function is None:
            return None
        param = next(param for param in _parameters(function.params) if param.name.value == name)
        return self._annotated_type(param.annotation.annotation) if param.annotation is not None else None

    def _weak_parameter_kind(self, name: str) -> ArrayKind:
        function = self._function_with_parameter(name)
        if function is None:
            return None
        kinds = self._weak_parameter_kinds.get(id(function))
        if kinds is None:
            kinds = self._weak_parameter_kinds[id(function)] = self._parameter_evidence(function)
        return kinds.get(name)

    def _parameter_evidence(self, function: cst.FunctionDef) -> dict[str, catalog.ArrayKind]:
        """Kinds of ``function``'s parameters from its docstring, then from passing them as
        the first argument of a torch function that takes only a tensor."""
        parameters = {param.name.value for param in _parameters(function.params)}
        kinds = {name: kind for name, kind in docstring_kinds(function).items() if name in parameters}
        for node in nodes_in_scope(function.body):
            if type(node) is cst.Call and node.args:
                first = node.args[0]
                if (
                    first.keyword is None
                    and not first.star
                    and type(first.value) is cst.Name
                    and first.value.value in parameters
                    and catalog.takes_only_a_tensor_first(self._imports.qualified_name(node.func))
                ):
                    kinds.setdefault(first.value.value, catalog.TORCH)
        return kinds

    def bound_value(self, name: str) -> cst.BaseExpression | None:
        """The expression ``name`` was last assigned in a visible scope, when every path to here
        assigned that same one. A parameter, a loop target or a name unpacked from a tuple has
        none."""
        binding = self._binding(name)
        return binding.value if binding is not None else None

    def items_source(self, name: str) -> cst.BaseExpression | None:
        """What the loop target ``name`` takes the items of (``X`` for ``for row in X``, and for
        ``for i, row in enumerate(X)`` or ``for row, y in zip(X, Y)``), when every path to here
        bound it so."""
        binding = self._binding(name)
        return binding.items_of if binding is not None else None

    def parameter_default(self, name: str) -> cst.BaseExpression | None:
        """The default value of the parameter ``name``, when that is what the name still is."""
        binding = self._binding(name)
        return binding.default if binding is not None else None

    def constructor_of(self, expr: cst.BaseExpression) -> str | None:
        """The qualified name of the call that made ``expr`` (a call, or a name assigned one)."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            if bound is None:
                return None
            expr = bound
        if type(expr) is not cst.Call:
            return None
        return self._imports.qualified_name(expr.func)

    def annotation_kind(self, annotation: cst.BaseExpression) -> ArrayKind:
        """``np.ndarray``, ``npt.NDArray[...]``, ``Optional[torch.Tensor]``, ``pd.DataFrame | None``."""
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            return self._single_non_none(annotation.left, annotation.right)
        if isinstance(annotation, cst.Subscript):
            base = self._imports.qualified_name(annotation.value)
            elements = [element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)]
            if base == "typing.Optional" and len(elements) == 1:
                return self.annotation_kind(elements[0])
            if base == "typing.Union":
                return self._single_non_none(*elements)
            return catalog.ARRAY_TYPES.get(base) if base else None
        qualified = self._imports.qualified_name(annotation)
        return catalog.ARRAY_TYPES.get(qualified) if qualified else None

    def _single_non_none(self, *members: cst.BaseExpression) -> ArrayKind:
        kinds = {
            self.annotation_kind(member)
            for member in members
            if not (isinstance(member, cst.Name) and member.value == "None")
        }
        return kinds.pop() if len(kinds) == 1 else None

    def isinstance_narrowing(self, test: cst.BaseExpression) -> dict[str, ArrayKind]:
        """Names that ``test`` proves to be arrays when it is true: ``isinstance(x, np.ndarray)``
        (a tuple of types of one library too), ``torch.is_tensor(x)``, ``not`` of a test that
        proves them when false, and each side of an ``and``; and, with the kind None, names it
        proves to be no array: ``isinstance(x, int)``, ``isinstance(x, (int, float))`` (builtin
        types no array is an instance of, ``catalog.NON_ARRAY_TYPES``)."""
        if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
            return {**self.isinstance_narrowing(test.left), **self.isinstance_narrowing(test.right)}
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            return self.negated_narrowing(test.expression)
        if (
            type(test) is cst.Call
            and len(test.args) == 1
            and type(test.args[0].value) is cst.Name
            and test.args[0].keyword is None
            and not test.args[0].star
        ):
            # ``torch.is_tensor(x)``.
            tested = catalog.TYPE_TESTS.get(self._imports.qualified_name(test.func) or "")
            return {test.args[0].value.value: tested} if tested is not None else {}
        if not (
            type(test) is cst.Call
            and self._imports.is_builtin(test.func, "isinstance")
            and len(test.args) == 2
            and type(test.args[0].value) is cst.Name
        ):
            return {}
        type_expr = test.args[1].value
        members = [element.value for element in type_expr.elements] if type(type_expr) is cst.Tuple else [type_expr]
        name = test.args[0].value.value
        if all(self._is_non_array_type(member) for member in members):
            # ``isinstance(new_time, int)``: whatever the annotation said, not an array here.
            return {name: None}
        kinds = {self.annotation_kind(member) for member in members}
        kind = kinds.pop() if len(kinds) == 1 else None
        if kind is None:
            return {}
        return {name: kind}

    def _is_non_array_type(self, member: cst.BaseExpression) -> bool:
        """``int``, ``float``, ``list``…: a builtin type no array is an instance of."""
        return (
            type(member) is cst.Name
            and member.value in catalog.NON_ARRAY_TYPES
            and self._imports.is_builtin(member, member.value)
        )

    def negated_narrowing(self, test: cst.BaseExpression) -> dict[str, ArrayKind]:
        """Names that ``test`` proves to be arrays (or, with the kind None, no arrays) when it is
        false: ``not isinstance(x, np.ndarray)``, each side of an ``or`` of such tests (``not
        isinstance(x, np.ndarray) or x.ndim != 1``). The code after ``if not isinstance(x,
        np.ndarray): x = np.asarray(x)`` sees an array on both paths."""
        if type(test) is cst.BooleanOperation and type(test.operator) is cst.Or:
            return {**self.negated_narrowing(test.left), **self.negated_narrowing(test.right)}
        if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
            return self.isinstance_narrowing(test.expression)
        return {}

    def kind_of(self, expr: cst.BaseExpression, evidence: Evidence = Evidence.STRONG) -> ArrayKind:
        """The library whose array ``expr`` evaluates to, or None when there is no evidence of
        at least the strength asked for (see the module docstring)."""
        if evidence is Evidence.WEAK and not self._accepting_weak:
            self._accepting_weak = True
            try:
                return self._kind_of(expr)
            finally:
                self._accepting_weak = False
        return self._kind_of(expr)

    def _kind_of(self, expr: cst.BaseExpression) -> ArrayKind:
        if type(expr) is cst.Name:
            return self.lookup(expr.value)
        if type(expr) is cst.Call:
            return self._call_kind(expr)
        if type(expr) is cst.Attribute:
            if expr.attr.value in catalog.TUPLE_ITEM_NAMES and expr.attr.value in self._item_names(expr.value):
                return self.items_kind(expr.value)
            receiver = self.kind_of(expr.value)
            if receiver is None:
                if (
                    type(expr.value) is cst.Name
                    and expr.value.value == "self"
                    and self._context.functions.is_registered_buffer(expr.attr.value)
                ):
                    return catalog.TORCH
                return self._assigned_attribute_kind(expr) if self._accepting_weak else None
            if expr.attr.value in catalog.ARRAY_ATTRIBUTES:
                return receiver
            if receiver == catalog.PANDAS:
                return catalog.ARRAY_CONVERSION_ATTRIBUTES.get(expr.attr.value)
            return None
        if type(expr) is cst.BinaryOperation:
            return self.kind_of(expr.left) or self.kind_of(expr.right)
        if type(expr) is cst.UnaryOperation:
            return self.kind_of(expr.expression)
        if type(expr) is cst.Comparison:
            # ``a > 0`` is an array of booleans; a chain ``0 < a < 1`` calls ``bool()`` on one.
            if len(expr.comparisons) != 1:
                return None
            comparison = expr.comparisons[0]
            if type(comparison.operator) not in catalog.ELEMENTWISE_COMPARISON_OPERATORS:
                return None
            return self.kind_of(expr.left) or self.kind_of(comparison.comparator)
        if type(expr) is cst.Subscript:
            if len(expr.slice) == 1 and type(expr.slice[0].slice) is cst.Index:
                items = self.items_kind(expr.value)
                if items is not None:
                    return items
            indexer = expr.value
            if (
                type(indexer) is cst.Attribute
                and indexer.attr.value in catalog.PANDAS_INDEXERS
                and self.kind_of(indexer.value) == catalog.PANDAS
            ):
                # ``df.loc[:, "y"]``, ``s.iloc[10:20]``: a pandas object again (or one value).
                return catalog.PANDAS
            receiver = self.kind_of(expr.value)
            if receiver == catalog.PANDAS:
                return receiver
            if receiver and any(isinstance(element.slice, cst.Slice) for element in expr.slice):
                return receiver
            return None
        if type(expr) is cst.IfExp:
            # ``x if isinstance(x, np.ndarray) else np.asarray(x)``: each side as its test says.
            body = self._narrowed_kind(expr.body, self.isinstance_narrowing(expr.test))
            if body is None:
                return None
            return body if body == self._narrowed_kind(expr.orelse, self.negated_narrowing(expr.test)) else None
        return None

    def _narrowed_kind(self, expr: cst.BaseExpression, narrowing: dict[str, ArrayKind]) -> ArrayKind:
        if type(expr) is cst.Name and expr.value in narrowing:
            return narrowing[expr.value]
        return self.kind_of(expr)

    def is_series(self, expr: cst.BaseExpression, hops: int = 0) -> bool:
        """``expr`` is a pandas Series: a column of a known pandas object read by its label
        (``df["ds"]``, ``df[df.y > 0]["ds"]``; a label of a Series is one element, which has no
        Series methods), a ``pd.Series(...)`` call, a parameter annotated ``pd.Series`` (or
        ``Optional``), or a name every path binds to one of these. ``hops``: names followed so
        far (see ``values.value_of``)."""
        if type(expr) is cst.Name:
            binding = self._binding(expr.value)
            if binding is None:
                return False
            if binding.parameter:
                return self._parameter_annotation(expr.value) == catalog.SERIES_TYPE
            if binding.value is None or hops >= MAX_NAME_HOPS:
                return False
            return self.is_series(binding.value, hops + 1)
        if type(expr) is cst.Call:
            return self._imports.qualified_name(expr.func) == catalog.SERIES_TYPE
        if type(expr) is cst.Subscript:
            return (
                len(expr.slice) == 1
                and type(expr.slice[0].slice) is cst.Index
                and type(expr.slice[0].slice.value) in _STRING_LITERALS
                and self.kind_of(expr.value) == catalog.PANDAS
            )
        return False

    def sparse_format(self, expr: cst.BaseExpression, hops: int = 0) -> str | None:
        """The format (``catalog.SPARSE_CSR``, ``"csc"``) of the SciPy sparse matrix ``expr``
        holds: a constructor call (``sp.csr_matrix(...)``, ``csr_array``, ``csc_*``), a
        conversion ``m.tocsr()`` / ``m.tocsc()`` (methods of sparse matrices only), a parameter
        annotated with one of those types (or ``Optional``), or a name every path binds to one
        of these. None otherwise: an ``issparse`` guard names no format. ``hops``: names
        followed so far (see ``values.value_of``)."""
        if type(expr) is cst.Name:
            binding = self._binding(expr.value)
            if binding is None:
                return None
            if binding.parameter:
                return catalog.SPARSE_TYPES.get(self._parameter_annotation(expr.value) or "")
            if binding.value is None or hops >= MAX_NAME_HOPS:
                return None
            return self.sparse_format(binding.value, hops + 1)
        if type(expr) is not cst.Call:
            return None
        func = expr.func
        if type(func) is cst.Attribute and not expr.args and func.attr.value in catalog.SPARSE_CONVERSION_METHODS:
            return catalog.SPARSE_CONVERSION_METHODS[func.attr.value]
        return catalog.SPARSE_TYPES.get(self._imports.qualified_name(func) or "")

    def _annotated_type(self, annotation: cst.BaseExpression) -> str | None:
        """The qualified name of the one type ``annotation`` allows besides None (``pd.Series``,
        ``Optional[pd.Series]``, ``pd.Series | None``)."""
        members = [annotation]
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            members = [annotation.left, annotation.right]
        elif isinstance(annotation, cst.Subscript) and self._imports.qualified_name(annotation.value) in (
            "typing.Optional",
            "typing.Union",
        ):
            members = [element.slice.value for element in annotation.slice if isinstance(element.slice, cst.Index)]
        named = [member for member in members if not (isinstance(member, cst.Name) and member.value == "None")]
        return self._imports.qualified_name(named[0]) if len(named) == 1 else None

    def _assigned_attribute_kind(self, attribute: cst.Attribute) -> ArrayKind:
        """Weak evidence for ``self.<name>`` in a method: the library of the one value its class
        assigns it, when that is a call the catalogue says makes an array (``torch.zeros(…)``,
        ``np.empty(…)``) or a torch element-wise function, which returns a tensor
        (``torch.log(self.probs)``). Code outside the class may still assign it anything."""
        if type(attribute.value) is not cst.Name or attribute.value.value != "self":
            return None
        value = self._context.functions.attribute_value(attribute.attr.value)
        if type(value) is not cst.Call:
            return None
        qualified = self._imports.qualified_name(value.func)
        record = catalog.lookup(qualified)
        if record is not None and _asks_for_tuple(record, value):
            return None
        return catalog.returned_kind(qualified)

    def items_kind(self, expr: cst.BaseExpression) -> ArrayKind:
        """The library of every item of the tuple ``expr`` evaluates to (a call, or a name
        assigned one), from the catalogue's return types: ``torch.max(x, 1)``,
        ``torch.linalg.qr(a)``, ``np.unique(y, return_counts=True)``, ``x.topk(k)`` of a known
        tensor. None when ``expr`` is not known to be such a tuple."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            if bound is None:
                return None
            expr = bound
        if type(expr) is not cst.Call:
            return None
        record = catalog.lookup(self._imports.qualified_name(expr.func))
        if record is not None:
            if record.items is None or (record.tuple_keywords and not _asks_for_tuple(record, expr)):
                return None
            return record.items
        func = expr.func
        if type(func) is not cst.Attribute:
            return None
        method = catalog.method(func.attr.value)
        if method is None or not method.tensor_items or self.kind_of(func.value) != catalog.TORCH:
            return None
        if method.name in _TUPLE_WITH_A_DIMENSION and not self._names_a_dimension(expr):
            return None
        return catalog.TORCH

    def _item_names(self, expr: cst.BaseExpression) -> tuple[str, ...]:
        """The fields of the named tuple ``expr`` evaluates to, when ``items_kind`` knows it."""
        if self.items_kind(expr) is None:
            return ()
        # A call (or a name assigned one), as items_kind knew it; a method's receiver attribute.
        call = cast(cst.Call, self.bound_value(expr.value) if type(expr) is cst.Name else expr)
        record = catalog.lookup(self._imports.qualified_name(call.func))
        if record is not None:
            return record.item_names
        method = catalog.method(cast(cst.Attribute, call.func).attr.value)
        return method.tensor_items if method is not None else ()

    def _names_a_dimension(self, call: cst.Call) -> bool:
        """``x.max(1)``, ``x.max(dim=-1)``, ``x.max(axis)``: not ``x.max()`` (one value) nor
        ``x.max(y)`` of a known array (the element-wise maximum)."""
        if not call.args:
            return False
        first = call.args[0]
        if first.keyword is not None:
            return first.keyword.value == "dim"
        return self.kind_of(first.value) is None

    def may_be_numpy_scalar(self, expr: cst.BaseExpression, depth: int = 3) -> bool:
        """``expr`` may be a NumPy scalar (``np.float64``) rather than an array, though its
        kind is NumPy: a reduction (``a.mean()``, ``np.sum(a, axis=0)`` of a 1-D ``a``) or a
        matrix product (``np.dot(v, v)``, ``v @ v``) returns a scalar when its result is 0-d,
        and conversions that need an array (``torch.from_numpy``) raise for one."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            return depth > 0 and bound is not None and self.may_be_numpy_scalar(bound, depth - 1)
        if type(expr) is cst.BinaryOperation:
            # ``a.mean() * 2`` is a scalar; ``a - a.mean()`` is an array.
            return type(expr.operator) is cst.MatrixMultiply or all(
                self.may_be_numpy_scalar(side, depth) or self.kind_of(side) is None for side in (expr.left, expr.right)
            )
        if type(expr) is cst.UnaryOperation:
            return self.may_be_numpy_scalar(expr.expression, depth)
        if type(expr) is not cst.Call:
            return False
        record = catalog.lookup(self._imports.qualified_name(expr.func))
        if record is not None:
            return record.has(catalog.Flag.REDUCTION) or record.has(catalog.Flag.MATRIX_PRODUCT)
        return type(expr.func) is cst.Attribute and expr.func.attr.value in catalog.REDUCING_METHODS

    def is_zero_dimensional(self, expr: cst.BaseExpression, depth: int = 3) -> bool:
        """``expr`` is known to be 0-d: a reduction over every element (``x.sum()``,
        ``(t[:n]).mean()``, ``torch.max(x)``: no axis given, at most ``dtype=``), arithmetic of
        such values with each other or with Python numbers (``2 * x.sum()``), directly or through
        the name every path binds to one."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            return depth > 0 and bound is not None and self.is_zero_dimensional(bound, depth - 1)
        if type(expr) is cst.UnaryOperation:
            return self.is_zero_dimensional(expr.expression, depth)
        if type(expr) is cst.BinaryOperation:
            sides = (expr.left, expr.right)
            return all(
                self.is_zero_dimensional(side, depth) or isinstance(literal_value(side), (int, float)) for side in sides
            ) and any(self.is_zero_dimensional(side, depth) for side in sides)
        if type(expr) is not cst.Call or any(
            arg.star or (arg.keyword is not None and arg.keyword.value != "dtype") for arg in expr.args
        ):
            return False
        positional = [arg for arg in expr.args if arg.keyword is None]
        record = catalog.lookup(self._imports.qualified_name(expr.func))
        if record is not None:
            return record.has(catalog.Flag.REDUCTION) and len(positional) == 1
        func = expr.func
        return type(func) is cst.Attribute and func.attr.value in catalog.REDUCING_METHODS and not positional

    def may_have_negative_strides(self, expr: cst.BaseExpression, depth: int = 3) -> bool:
        """``expr`` may be a NumPy view with a negative stride: a slice with a step that is not
        known to be positive (``a[::-1]``, ``a[:, ::step]``), or ``np.flip`` and its kin, directly
        or through the name every path binds to one. ``torch.from_numpy`` raises for such a
        view, so a copy of it is needed."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            return depth > 0 and bound is not None and self.may_have_negative_strides(bound, depth - 1)
        if type(expr) is cst.Subscript:
            for element in expr.slice:
                index = element.slice
                if type(index) is cst.Slice and index.step is not None:
                    step = literal_value(index.step)
                    if not (isinstance(step, int) and step > 0):
                        return True
            return self.may_have_negative_strides(expr.value, depth)
        if type(expr) is cst.Call:
            if self._imports.qualified_name(expr.func) in catalog.NUMPY_NEGATIVE_STRIDE_VIEWS:
                return True
            func = expr.func
            if type(func) is cst.Attribute and func.attr.value in catalog.VIEW_METHODS:
                return self.may_have_negative_strides(func.value, depth)
        return False

    def indexed_range_array(self, iterable: cst.BaseExpression) -> cst.BaseExpression | None:
        """The array ``a`` when ``iterable`` runs over the indices of its first axis.

        ``range(len(a))``, ``range(a.shape[0])``, ``range(a.size)`` (NumPy's element count: the
        first axis only of a 1-D array, and ``a[i]`` fails past it otherwise), ``range(a.size(0))``
        (torch), each also with an explicit ``range(0, …)`` start, or ``range(n)`` with ``n``
        assigned one of those (``n = len(a)``) on every path to the loop or unpacked from the
        first slot of the shape (``n, d = a.shape``), where ``a`` is a known
        NumPy array or torch tensor. pandas is left out: ``s[i]`` on a Series looks up a label,
        not a position.
        """
        found = self.axis_of_range(iterable)
        if found is None or found.axis != 0 or self.kind_of(found.array) not in found.libraries:
            return None
        return found.array

    def axis_of_range(self, iterable: cst.BaseExpression) -> AxisLength | None:
        """The array and axis whose indices ``iterable`` runs over: ``range(len(a))`` (axis 0),
        ``range(a.shape[k])``, torch's ``range(a.size(k))``, NumPy's ``range(a.size)`` (axis 0),
        each also with an explicit ``range(0, …)`` start, or ``range(n)`` with ``n`` assigned
        one of those on every path to the loop, or unpacked from the shape (``n, d = a.shape``:
        ``range(d)`` runs over axis 1). ``a`` may be of any kind, or of none known:
        the caller checks ``kind_of(a)`` against the answer's ``libraries``, or may take a
        bound that reads ``a.shape`` (``reads_shape``) as evidence that ``a`` is an array."""
        if type(iterable) is not cst.Call or not self._imports.is_builtin(iterable.func, "range"):
            return None
        bound = _range_bound(iterable)
        if bound is None:
            return None
        return self._length_spelled(bound)

    def _length_spelled(self, length: cst.BaseExpression) -> AxisLength | None:
        """The array and axis whose length ``length`` spells (see ``_axis_length_of``), also
        through a name: ``n = len(a)`` (``a.shape[0]``…) then ``range(n)``, one hop, when every
        path assigned ``n`` that, or ``n`` unpacked from the shape (``n, d = a.shape``)."""
        if type(length) is cst.Name:
            binding = self._binding(length.value)
            if binding is not None and binding.axis_length is not None:
                return binding.axis_length
            length = self.bound_value(length.value) or length
        return _axis_length_of(length, self._imports)

    def length_array(self, length: cst.BaseExpression) -> cst.BaseExpression | None:
        """The known array or tensor whose first-axis length ``length`` spells, as
        ``indexed_range_array`` reads a range's bound: ``len(a)``, ``a.shape[0]``, NumPy's
        ``a.size``, torch's ``a.size(0)``, or a name every path assigned one of those or unpacked
        from the first slot of the shape (``n, d = a.shape``)."""
        found = self._length_spelled(length)
        if found is None or found.axis != 0 or self.kind_of(found.array) not in found.libraries:
            return None
        return found.array

    def spells_length_of(self, length: cst.BaseExpression, array: cst.BaseExpression) -> bool:
        """``length`` is the first-axis length of the known array ``array``: spelled from it
        (``len(a)``, ``a.shape[0]``, or a name bound to one, as ``length_array`` reads it), or
        the very length ``array`` was made with (``a = np.zeros(n)`` then ``n``), compared as
        written."""
        spelled = self.length_array(length)
        if spelled is not None and spelled.deep_equals(array):
            return True
        made = self.bound_value(array.value) if type(array) is cst.Name else None
        shape = self._factory_shape(made) if type(made) is cst.Call else None
        return shape is not None and len(shape) >= 1 and shape[0].deep_equals(length)

    def made_with_range_length(self, array: cst.BaseExpression, iterable: cst.BaseExpression) -> bool:
        """``array`` is a name last assigned a fresh array whose first axis is as long as
        ``iterable``, ``range(n)`` (or ``range(0, n)``), runs: ``a = np.zeros(n)``,
        ``np.empty((n, d))``, ``torch.zeros(n, d)``, with ``n`` the same name or chain, or the
        same length of one (``torch.zeros(len(X))`` then ``range(len(X))``; also ``X.shape[0]``,
        ``X.size(0)``), not changed in between (the name's binding is what reaches the loop,
        and ``n`` must be what ``array`` was made with: compared as written)."""
        if type(array) is not cst.Name or type(iterable) is not cst.Call:
            return False
        if not self._imports.is_builtin(iterable.func, "range"):
            return False
        bound = _range_bound(iterable)
        made = self.bound_value(array.value)
        if bound is None or not _names_a_length(bound, self._imports) or type(made) is not cst.Call:
            return False
        shape = self._factory_shape(made)
        return shape is not None and shape[0].deep_equals(bound)

    def made_with_range_lengths(self, array: cst.BaseExpression, iterables: Sequence[cst.BaseExpression]) -> bool:
        """``array`` is a name last assigned a fresh array with one axis per range of
        ``iterables``, each as long as its range, ``range(n)`` (or ``range(0, n)``), runs, and no
        other axis: ``np.zeros((n, m))`` or ``torch.empty(n, m)`` for ``range(n)`` and
        ``range(m)``, the lengths compared as written (``len(X)``, ``X.shape[1]``)."""
        made = self.bound_value(array.value) if type(array) is cst.Name else None
        bounds = [
            _range_bound(iterable)
            if type(iterable) is cst.Call and self._imports.is_builtin(iterable.func, "range")
            else None
            for iterable in iterables
        ]
        shape = self._factory_shape(made) if type(made) is cst.Call else None
        if shape is None or any(bound is None for bound in bounds):
            return False
        return len(shape) == len(bounds) and all(
            length.deep_equals(bound) for length, bound in zip(shape, bounds) if bound is not None
        )

    def _factory_shape(self, made: cst.Call) -> list[cst.BaseExpression] | None:
        """The lengths of the axes of the fresh array ``made`` makes, as written: ``[n, m]`` of
        ``np.zeros((n, m))`` or ``torch.empty(n, m)``; ``[s]`` of ``np.zeros(s)``, where ``s``
        may be a length or a whole shape."""
        record = catalog.lookup(self._imports.qualified_name(made.func))
        if record is None or not record.has(catalog.Flag.FACTORY) or not record.has(catalog.Flag.FRESH_ARRAY):
            return None
        signature = record.signature
        positional = [arg for arg in made.args if arg.keyword is None]
        if any(arg.star for arg in made.args) or not positional:
            return None
        if signature.positional[:1] in (("shape",), ("size",)):
            shape: list[cst.BaseExpression] = [positional[0].value]
        elif signature.var_positional in ("size", "args") and not signature.positional:
            shape = [arg.value for arg in positional]  # ``torch.zeros(n, d)``, ``np.random.rand(n, d)``
        else:
            return None
        if len(shape) == 1 and isinstance(shape[0], (cst.Tuple, cst.List)):
            if any(type(element) is not cst.Element for element in shape[0].elements):
                return None
            shape = [element.value for element in shape[0].elements]
        return shape

    def names_object_dtype(self, dtype: cst.BaseExpression) -> bool:
        """``dtype`` names NumPy's object dtype: ``object``, ``"O"``, ``"object"``,
        ``np.object_``, ``np.dtype(object)``. An array of it holds Python objects, and every
        operation on it, ufuncs included, handles them one at a time in the interpreter."""
        if type(dtype) is cst.Call and self._imports.qualified_name(dtype.func) == "numpy.dtype":
            return bool(dtype.args) and dtype.args[0].keyword is None and self.names_object_dtype(dtype.args[0].value)
        if self._imports.is_builtin(dtype, "object") or self._imports.qualified_name(dtype) == "numpy.object_":
            return True
        return literal_value(dtype) in ("O", "object")

    def holds_objects(self, expr: cst.BaseExpression, depth: int = 3) -> bool:
        """``expr`` is a NumPy array of Python objects: made with an object dtype
        (``np.array(blocks, dtype=object)``, ``np.empty((n, m), dtype="O")``), directly, through
        the name every path binds to one, or a slice or a view of one (``blocks[1:]``)."""
        made = self._numpy_construction(expr, depth)
        return made is not None and made[1] is not None and self.names_object_dtype(made[1])

    def holds_text(self, expr: cst.BaseExpression, depth: int = 3) -> bool:
        """``expr`` is a NumPy array of strings: made with a string dtype (``dtype=str``,
        ``"U"``, ``"<U8"``, ``np.bytes_``; also ``a.astype(str)``), or, without a dtype, from
        strings written out (``np.array(["a", "b"])``, ``np.array([f"col_{i}" for i in
        range(n)])``), directly, through the name every path binds to one, or a slice or a view
        of one. NumPy's ufuncs and reductions have no loop for strings: ``names.min()`` raises
        where the builtin ``min(names)`` compares them."""
        if type(expr) is cst.Call and type(expr.func) is cst.Attribute and expr.func.attr.value == "astype":
            return bool(expr.args) and expr.args[0].keyword is None and self._names_text_dtype(expr.args[0].value)
        made = self._numpy_construction(expr, depth)
        if made is None:
            return False
        call, dtype = made
        if dtype is not None:
            return self._names_text_dtype(dtype)
        record = catalog.lookup(self._imports.qualified_name(call.func))
        data = call.args[0] if call.args else None
        return (
            record is not None
            and record.has(catalog.Flag.CONVERTS_SEQUENCES)
            and data is not None
            and data.keyword is None
            and not data.star
            and self._is_text_data(data.value, depth)
        )

    def _numpy_construction(
        self, expr: cst.BaseExpression, depth: int
    ) -> tuple[cst.Call, cst.BaseExpression | None] | None:
        """The NumPy call that made the fresh array ``expr`` holds (a factory, or a conversion of
        data), and the ``dtype`` it was given (None when none), directly, through the name every
        path binds to one, or a slice or a view of one."""
        if type(expr) is cst.Name:
            bound = self.bound_value(expr.value)
            return self._numpy_construction(bound, depth - 1) if depth > 0 and bound is not None else None
        if type(expr) is cst.Subscript:
            sliced = all(type(element.slice) is cst.Slice for element in expr.slice)
            return self._numpy_construction(expr.value, depth) if sliced else None
        if type(expr) is not cst.Call:
            return None
        func = expr.func
        if type(func) is cst.Attribute and func.attr.value in catalog.VIEW_METHODS:
            return self._numpy_construction(func.value, depth)
        record = catalog.lookup(self._imports.qualified_name(func))
        if (
            record is None
            or record.library != catalog.NUMPY
            or not record.has(catalog.Flag.FRESH_ARRAY)
            and not record.has(catalog.Flag.CONVERTS_SEQUENCES)
        ):
            return None
        arguments = catalog.bind(expr, record)
        dtype = arguments.argument("dtype") if arguments is not None and record.accepts("dtype") else None
        return expr, dtype

    def _names_text_dtype(self, dtype: cst.BaseExpression) -> bool:
        """``dtype`` names a NumPy string dtype: ``str``, ``bytes``, ``np.str_``, ``np.bytes_``,
        ``"U"``, ``"S"``, ``"<U8"``, ``"str"``, ``np.dtype(str)``."""
        if type(dtype) is cst.Call and self._imports.qualified_name(dtype.func) == "numpy.dtype":
            return bool(dtype.args) and dtype.args[0].keyword is None and self._names_text_dtype(dtype.args[0].value)
        if type(dtype) is cst.Name and dtype.value in ("str", "bytes"):
            return self._imports.is_builtin(dtype, dtype.value)
        if self._imports.qualified_name(dtype) in catalog.NUMPY_TEXT_TYPES:
            return True
        spelled = literal_value(dtype)
        return isinstance(spelled, str) and _TEXT_DTYPE.fullmatch(spelled) is not None

    def _is_text_data(self, data: cst.BaseExpression, depth: int) -> bool:
        """``data`` is strings written out: a list or tuple of them (nested lists too), or a
        list comprehension that yields one (``[f"col_{i}" for i in range(n)]``), directly or
        through the name every path binds to one. A string is a literal, an f-string, a
        ``str(...)`` or a literal's ``.format(...)``."""
        if type(data) is cst.Name:
            bound = self.bound_value(data.value)
            return depth > 0 and bound is not None and self._is_text_data(bound, depth - 1)
        if isinstance(data, (cst.List, cst.Tuple)):
            return bool(data.elements) and all(
                type(element) is cst.Element and self._is_text_data(element.value, depth) for element in data.elements
            )
        if type(data) is cst.ListComp:
            return self._is_text_data(data.elt, depth)
        if isinstance(data, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            return True
        if type(data) is cst.Call:
            func = data.func
            if type(func) is cst.Name:
                return func.value == "str" and self._imports.is_builtin(func, "str")
            return type(func) is cst.Attribute and func.attr.value == "format" and type(func.value) is cst.SimpleString
        return False

    def ndim_of(self, expr: cst.BaseExpression) -> int | None:
        """The number of dimensions of the array the name ``expr`` holds, where the code states
        it: its whole shape unpacked (``b, c, t = X.shape``: 3), or a fresh array made with each
        axis's length written (``torch.zeros((b, c, t))``, ``torch.empty(n, d)``, ``np.zeros(n)``
        with ``n`` a length: ``len(a)``, a literal, a name unpacked from a shape), then moved,
        cast or copied (``.to(device)``, ``.float()``); None when it is unknown."""
        binding = self._binding(expr.value) if type(expr) is cst.Name else None
        if binding is None:
            return None
        if binding.ndim is not None:
            return binding.ndim
        made = binding.value
        while (
            type(made) is cst.Call
            and type(made.func) is cst.Attribute
            and made.func.attr.value in catalog.SHAPE_KEEPING_METHODS
        ):
            made = made.func.value
        shape = self._factory_shape(made) if type(made) is cst.Call else None
        if shape is None:
            return None
        if len(shape) == 1 and integer_value(shape[0]) is None and self._length_spelled(shape[0]) is None:
            return None  # ``np.zeros(s)``: ``s`` may be a whole shape
        return len(shape)

    def _call_kind(self, call: cst.Call) -> ArrayKind:
        func = call.func
        qualified = self._imports.qualified_name(func)
        if qualified is not None:
            constructed = catalog.returned_kind(qualified)
            if constructed:
                record = catalog.lookup(qualified)
                return None if record is not None and _asks_for_tuple(record, call) else constructed
            if qualified.startswith("numpy.random.") and qualified.rpartition(".")[2] not in (
                "seed",
                "default_rng",
                "RandomState",
                "Generator",
                "get_state",
                "set_state",
            ):
                return catalog.NUMPY
            function = qualified.rpartition(".")[2]
            if catalog.library_of(qualified) in (catalog.NUMPY, catalog.TORCH) and (
                function in catalog.ELEMENTWISE_FUNCTIONS or function in catalog.REDUCTION_FUNCTIONS
            ):
                for arg in call.args:
                    kind = self.kind_of(arg.value)
                    if kind:
                        return kind
            return None
        returned = self._context.functions.return_kind(call)
        if returned is not None:
            return returned
        if isinstance(func, cst.Attribute):
            receiver = self.kind_of(func.value)
            if receiver is None:
                if (
                    self.constructor_of(func.value) in catalog.NUMPY_RANDOM_GENERATORS
                    and func.attr.value in catalog.NUMPY_GENERATOR_SAMPLERS
                ):
                    return catalog.NUMPY
                return None
            method = func.attr.value
            if method in catalog.ARRAY_CONVERSION_METHODS:
                return catalog.ARRAY_CONVERSION_METHODS[method]
            if method in catalog.ARRAY_METHODS:
                return receiver
        return None


_ARRAY_OR_TENSOR = (catalog.NUMPY, catalog.TORCH)
# Literals that are always a ``str``: a column's label.
_STRING_LITERALS = (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)
# Methods that return a named tuple of tensors only when given a dimension (``x.max(1)``).
_TUPLE_WITH_A_DIMENSION = frozenset({"max", "min", "median", "mode"})


def _asks_for_tuple(record: catalog.Function, call: cst.Call) -> bool:
    """``call`` passes one of ``record.tuple_keywords`` a value other than a false literal."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value in record.tuple_keywords:
            value = literal_value(arg.value)
            if value is UNKNOWN or value:
                return True
    return False


def _parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from (*params.posonly_params, *params.params, *params.kwonly_params)


def _is_parameter_of(function: cst.FunctionDef, name: str) -> bool:
    return any(param.name.value == name for param in _parameters(function.params))


# ``X : np.ndarray of shape (n, d)`` (NumPy style), ``x (torch.Tensor, optional): ...``
# (Google style) and ``:type x: torch.Tensor`` (Sphinx style), one parameter per line.
_NUMPY_STYLE_PARAMETER = re.compile(r"^\s*\*{0,2}(\w+)\s+:\s*(\S.*)$")
_GOOGLE_STYLE_PARAMETER = re.compile(r"^\s*\*{0,2}(\w+)\s*\(([^)]*)\)\s*:")
_SPHINX_STYLE_PARAMETER = re.compile(r"^\s*:type\s+\*{0,2}(\w+)\s*:\s*(\S.*)$")
# What may follow the type itself: ``, optional``, ``of shape (n,)``, ``with dtype int``.
_TYPE_END = re.compile(r",| of | with | \(|\[")


def docstring_kinds(function: cst.FunctionDef) -> dict[str, catalog.ArrayKind]:
    """Parameters whose type ``function``'s docstring names as an array or tensor type of the
    catalogue: ``X : np.ndarray``, ``x : torch.Tensor, optional``, ``x (Tensor): ...``, ``m :
    ndarray or None``, ``:type x: torch.Tensor``, ``df : pd.DataFrame``. ``array_like``, and a choice of types
    (``ndarray or float``), name none."""
    docstring = function.get_docstring(clean=False)
    if not docstring:
        return {}
    kinds: dict[str, catalog.ArrayKind] = {}
    for line in docstring.splitlines():
        match = (
            _SPHINX_STYLE_PARAMETER.match(line)
            or _NUMPY_STYLE_PARAMETER.match(line)
            or _GOOGLE_STYLE_PARAMETER.match(line)
        )
        if match is None:
            continue
        spelled = _TYPE_END.split(match.group(2), 1)[0]
        members = {member.strip().strip("`") for member in spelled.split(" or ")} - {"None", ""}
        if len(members) != 1:
            continue
        kind = catalog.DOCSTRING_ARRAY_TYPES.get(members.pop())
        if kind is not None:
            kinds.setdefault(match.group(1), kind)
    return kinds


def _is_non_none_literal(expr: cst.BaseExpression) -> bool:
    value = literal_value(expr)
    return value is not UNKNOWN and value is not None


def _range_bound(iterable: cst.Call) -> cst.BaseExpression | None:
    """``n`` of ``range(n)`` or ``range(0, n)``; None for a range with another start or step."""
    args = iterable.args
    if any(arg.keyword is not None or arg.star for arg in args):
        return None
    if len(args) == 2 and _is_zero(args[0].value):
        return args[1].value
    if len(args) == 1:
        return args[0].value
    return None


def _first_axis_length_of(
    bound: cst.BaseExpression, imports: ImportTable
) -> tuple[cst.BaseExpression | None, tuple[str, ...]]:
    """The array whose first-axis length ``bound`` spells, and the libraries where it does."""
    length = _axis_length_of(bound, imports)
    if length is None or length.axis != 0:
        return None, ()
    return length.array, length.libraries


def _axis_length_of(bound: cst.BaseExpression, imports: ImportTable) -> AxisLength | None:
    """The array and axis whose length ``bound`` spells, and the libraries where it does."""
    if type(bound) is cst.Call:
        args = bound.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            return None
        if imports.is_builtin(bound.func, "len"):
            return AxisLength(args[0].value, 0, _ARRAY_OR_TENSOR, reads_shape=False)
        axis = integer_value(args[0].value)
        if type(bound.func) is cst.Attribute and bound.func.attr.value == "size" and axis is not None and axis >= 0:
            return AxisLength(bound.func.value, axis, (catalog.TORCH,), reads_shape=False)
        return None
    if type(bound) is cst.Attribute and bound.attr.value == "size":
        return AxisLength(bound.value, 0, (catalog.NUMPY,), reads_shape=False)
    if (
        type(bound) is cst.Subscript
        and type(bound.value) is cst.Attribute
        and bound.value.attr.value == "shape"
        and len(bound.slice) == 1
        and type(bound.slice[0].slice) is cst.Index
    ):
        axis = integer_value(bound.slice[0].slice.value)
        if axis is not None and axis >= 0:
            return AxisLength(bound.value.value, axis, _ARRAY_OR_TENSOR, reads_shape=True)
    return None


def _names_a_length(expr: cst.BaseExpression, imports: ImportTable) -> bool:
    """``expr`` reads a length without computing anything: a name or attribute chain (``n``,
    ``self.n``), or the first-axis length of one (``len(X)``, ``X.shape[0]``, ``X.size(0)``)."""
    if dotted_name(expr) is not None:
        return True
    array, _ = _first_axis_length_of(expr, imports)
    return array is not None and dotted_name(array) is not None


def _is_zero(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Integer and integer_value(expr) == 0
