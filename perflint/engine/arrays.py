"""Which names hold a NumPy array, a torch tensor or a pandas object, and what each name was
last assigned.

Evidence comes from annotations, ``isinstance`` narrowing, and assignments from known
constructors or from operations on known arrays. Unknown stays unknown: a rule that needs
array evidence stays silent without it.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import ImportTable

ArrayKind = Optional[str]


class Binding(NamedTuple):
    kind: ArrayKind
    value: Optional[cst.BaseExpression]  # the expression last assigned; None when not one


class ArrayKnowledge:
    """Array kinds of names, scoped like the import table, with ``isinstance`` overlays."""

    def __init__(self, imports: ImportTable) -> None:
        self._imports = imports
        # Each layer is (bindings, is_narrowing); narrowing layers are pushed for an ``if`` body.
        self._layers: list[tuple[dict[str, Binding], bool]] = [({}, False)]

    def push_scope(self) -> None:
        self._layers.append(({}, False))

    def pop_scope(self) -> None:
        self._layers.pop()

    def push_narrowing(self, narrowed: dict[str, str]) -> None:
        layer = {name: Binding(kind, self.bound_value(name)) for name, kind in narrowed.items()}
        self._layers.append((layer, True))

    def pop_narrowing(self) -> None:
        self._layers.pop()

    def bind(self, name: str, kind: ArrayKind, value: Optional[cst.BaseExpression] = None) -> None:
        """``name`` was (re)assigned ``value`` (None: not a single expression) of ``kind``."""
        for bindings, is_narrowing in reversed(self._layers):
            if is_narrowing:
                bindings.pop(name, None)
                continue
            bindings[name] = Binding(kind, value)
            return

    def bind_parameters(self, params: cst.Parameters) -> None:
        every = (*params.posonly_params, *params.params, *params.kwonly_params)
        for param in every:
            kind = self.annotation_kind(param.annotation.annotation) if param.annotation else None
            self.bind(param.name.value, kind)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self.bind(star.name.value, None)

    def _binding(self, name: str) -> Optional[Binding]:
        for bindings, _ in reversed(self._layers):
            binding = bindings.get(name)
            if binding is not None:
                return binding
        return None

    def lookup(self, name: str) -> ArrayKind:
        binding = self._binding(name)
        return binding.kind if binding is not None else None

    def bound_value(self, name: str) -> Optional[cst.BaseExpression]:
        """The expression ``name`` was last assigned in a visible scope, if it was assigned one.

        A parameter, a loop target or a name unpacked from a tuple has none.
        """
        binding = self._binding(name)
        return binding.value if binding is not None else None

    def constructor_of(self, expr: cst.BaseExpression) -> Optional[str]:
        """The qualified name of the call that made ``expr`` (a call, or a name assigned one)."""
        if type(expr) is cst.Name:
            expr = self.bound_value(expr.value)
        if type(expr) is not cst.Call:
            return None
        return self._imports.qualified_name(expr.func)

    def annotation_kind(self, annotation: cst.BaseExpression) -> ArrayKind:
        """``np.ndarray``, ``npt.NDArray[...]``, ``Optional[torch.Tensor]``, ``pd.DataFrame | None``."""
        if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
            return self._single_non_none(annotation.left, annotation.right)
        if isinstance(annotation, cst.Subscript):
            base = self._imports.qualified_name(annotation.value)
            elements = [
                element.slice.value
                for element in annotation.slice
                if isinstance(element.slice, cst.Index)
            ]
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

    def isinstance_narrowing(self, test: cst.BaseExpression) -> dict[str, str]:
        """Names that ``test`` proves to be arrays when it is true."""
        if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
            return {**self.isinstance_narrowing(test.left), **self.isinstance_narrowing(test.right)}
        if not (
            isinstance(test, cst.Call)
            and self._imports.is_builtin(test.func, "isinstance")
            and len(test.args) == 2
            and isinstance(test.args[0].value, cst.Name)
        ):
            return {}
        type_expr = test.args[1].value
        members = (
            [element.value for element in type_expr.elements]
            if isinstance(type_expr, cst.Tuple)
            else [type_expr]
        )
        kinds = {self.annotation_kind(member) for member in members}
        if len(kinds) != 1 or None in kinds:
            return {}
        return {test.args[0].value.value: kinds.pop()}

    def kind_of(self, expr: cst.BaseExpression) -> ArrayKind:
        """The library whose array ``expr`` evaluates to, or None when there is no evidence."""
        if isinstance(expr, cst.Name):
            return self.lookup(expr.value)
        if isinstance(expr, cst.Call):
            return self._call_kind(expr)
        if isinstance(expr, cst.Attribute):
            receiver = self.kind_of(expr.value)
            if receiver is None:
                return None
            if expr.attr.value in catalog.ARRAY_ATTRIBUTES:
                return receiver
            if receiver == catalog.PANDAS:
                return catalog.ARRAY_CONVERSION_ATTRIBUTES.get(expr.attr.value)
            return None
        if isinstance(expr, cst.BinaryOperation):
            return self.kind_of(expr.left) or self.kind_of(expr.right)
        if isinstance(expr, cst.UnaryOperation):
            return self.kind_of(expr.expression)
        if isinstance(expr, cst.Subscript):
            receiver = self.kind_of(expr.value)
            if receiver == catalog.PANDAS:
                return receiver
            if receiver and any(isinstance(element.slice, cst.Slice) for element in expr.slice):
                return receiver
            return None
        if isinstance(expr, cst.IfExp):
            body = self.kind_of(expr.body)
            return body if body == self.kind_of(expr.orelse) else None
        return None

    def indexed_range_array(self, iterable: cst.BaseExpression) -> Optional[cst.BaseExpression]:
        """The array ``a`` when ``iterable`` runs over the indices of its first axis.

        ``range(len(a))``, ``range(a.shape[0])``, ``range(a.size)`` (NumPy's element count: the
        first axis only of a 1-D array, and ``a[i]`` fails past it otherwise), ``range(a.size(0))``
        (torch), each also with an explicit ``range(0, …)`` start, where ``a`` is a known NumPy
        array or torch tensor. pandas is left out: ``s[i]`` on a Series looks up a label, not a
        position.
        """
        if type(iterable) is not cst.Call or not self._imports.is_builtin(iterable.func, "range"):
            return None
        args = iterable.args
        if any(arg.keyword is not None or arg.star for arg in args):
            return None
        if len(args) == 2 and type(args[0].value) is cst.Integer and args[0].value.evaluated_value == 0:
            bound = args[1].value
        elif len(args) == 1:
            bound = args[0].value
        else:
            return None
        array, kinds = _first_axis_length_of(bound, self._imports)
        if array is None or self.kind_of(array) not in kinds:
            return None
        return array

    def _call_kind(self, call: cst.Call) -> ArrayKind:
        func = call.func
        qualified = self._imports.qualified_name(func)
        if qualified is not None:
            constructed = catalog.CONSTRUCTORS.get(qualified)
            if constructed:
                return constructed
            if qualified.startswith("numpy.random.") and qualified.rpartition(".")[2] not in (
                "seed", "default_rng", "RandomState", "Generator", "get_state", "set_state",
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


def _first_axis_length_of(
    bound: cst.BaseExpression, imports: ImportTable
) -> tuple[Optional[cst.BaseExpression], tuple[str, ...]]:
    """The array whose first-axis length ``bound`` spells, and the libraries where it does."""
    if type(bound) is cst.Call:
        args = bound.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            return None, ()
        if imports.is_builtin(bound.func, "len"):
            return args[0].value, _ARRAY_OR_TENSOR
        if type(bound.func) is cst.Attribute and bound.func.attr.value == "size" and _is_zero(args[0].value):
            return bound.func.value, (catalog.TORCH,)
        return None, ()
    if type(bound) is cst.Attribute and bound.attr.value == "size":
        return bound.value, (catalog.NUMPY,)
    if (
        type(bound) is cst.Subscript
        and type(bound.value) is cst.Attribute
        and bound.value.attr.value == "shape"
        and len(bound.slice) == 1
        and type(bound.slice[0].slice) is cst.Index
        and _is_zero(bound.slice[0].slice.value)
    ):
        return bound.value.value, _ARRAY_OR_TENSOR
    return None, ()


def _is_zero(expr: cst.BaseExpression) -> bool:
    return type(expr) is cst.Integer and expr.evaluated_value == 0
