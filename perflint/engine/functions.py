"""Function and class frames: which function and class a node is in, what role that function
plays, and what same-file functions do when called.

A statement's cost matters in proportion to how often it runs: roles and frequencies come from
``perflint.engine.roles`` (function names, shared with the project index), from the loops
around the statement, and, when the file is linted with its project's index
(``perflint.engine.project``), from who calls the function in the rest of the project.
``frequency()`` answers with the evidence in words ("runs per batch: in `training_step`").

A function is *compiled* when a decorator or a call of the file that wraps it names a JIT
compiler of the catalogue (numba, JAX, TorchScript, ``torch.compile``, Cython), when its class
is compiled (``numba.experimental.jitclass``), when it is captured as a CUDA graph (wrapped by
``torch.cuda.make_graphed_callables``, or called in a ``with torch.cuda.graph(g):`` body), or
when the function around it is: its loops do not run in the interpreter, so the rules that cost
a loop stay silent there.

Functions of the same file are summarised (the same effects a loop iteration has: calls
``backward``, steps an optimizer, what it rebinds and mutates, whether it returns a fresh
array) lazily, once, and consulted where they are called.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Union, cast

import libcst as cst

from perflint.conventions import is_test_path
from perflint.engine import catalog
from perflint.engine.control_flow import fixed_truth, is_main_guard
from perflint.engine.effects import Effects, summarise
from perflint.engine.imports import ImportTable, dotted_name
from perflint.engine.invariance import NEVER_THE_SAME_TWICE, call_may_be_invariant, unchanged_by
from perflint.engine.literals import UNKNOWN, keyword_argument, literal_value
from perflint.engine.quoting import quote
from perflint.engine.roles import (
    PER_CALL,
    RUN_ONCE,
    UNCALLED_EVIDENCE,
    ExecutionEstimate,
    Frequency,
    is_entry_point,
    is_gradient_free_hook,
    is_optimizer_name,
    per_call_evidence,
    role_of,
    yields_to_callers,
)
from perflint.engine.sizes import trip_count
from perflint.engine.values import value_of
from perflint.engine.walker import names_in, nodes_in_scope, small_statements, syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext
    from perflint.engine.project import CalleeFacts, HotCaller

_BEING_SUMMARISED = Effects()
# How many calls deep ``deterministic_costly_work`` follows the file's own functions.
_DETERMINISTIC_CALL_DEPTH = 2
# Libraries whose functions work on whole arrays: what a function applied per element or per
# slice may call and still have a whole-array form.
_WHOLE_ARRAY_LIBRARIES = frozenset({"numpy", "scipy", "math"})
FunctionNode = Union[cst.FunctionDef, cst.Lambda]
# Nodes that bind the names of their ``target``.
_Binding = Union[cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For, cst.CompFor]
# The statements after which the rest of their block never runs.
_LEAVING_KEYWORDS: dict[type, str] = {
    cst.Return: "return",
    cst.Raise: "raise",
    cst.Break: "break",
    cst.Continue: "continue",
}


@dataclass
class ClassFrame:
    node: cst.ClassDef
    bases: tuple[str, ...]  # qualified through imports where the base was imported, else as written
    is_module_subclass: bool  # a torch ``nn.Module``, directly or through classes of this file
    # A torch distribution, directly or through classes of this file or the project: its objects
    # are built on every call (``roles.role_of``'s ``built_per_call``).
    built_per_call: bool = False
    # A torch optimizer, directly or through classes of this file or the project: its ``step``
    # runs once per training step (``roles.role_of``'s ``optimizer_method``).
    is_optimizer: bool = False
    # What ``eval_mode_since`` reads off the class body, worked out on first use.
    _modes: tuple[dict[str, str], frozenset[str], bool] | None = field(default=None, init=False, repr=False)

    @property
    def name(self) -> str:
        return self.node.name.value

    def eval_mode_since(self, attribute: str) -> str | None:
        """The method that puts ``self.<attribute>`` in eval mode (``self.model.eval()`` or
        ``self.model.train(False)``), when nothing in the class can put it back in training mode
        (``self.model.train()``, ``self.train()``, or ``train`` with a mode not literally false)
        and nothing in the class computes gradients (``FunctionFrame.computes_gradients``'s
        evidence, in any of its methods): a model the class keeps for inference only."""
        if self._modes is None:
            self._modes = _model_modes(self.node)
        evaluated, trained, computes_gradients = self._modes
        if computes_gradients or attribute in trained or "" in trained:
            return None
        return evaluated.get(attribute)


@dataclass(frozen=True)
class ModelCall:
    """What a call may run as a model: ``model``, the name or chain called (``model``,
    ``self.encoder``; ``self.nets[]`` for an item of a list, ``self.nets[i](x)``), and
    ``method``, the inference method called on it (``predict``, ``decode``:
    ``catalog.INFERENCE_METHODS``), None when the object itself is called."""

    model: str
    method: str | None


class FunctionFrame:
    """One enclosing function (or lambda), with its class and the function around it."""

    def __init__(
        self,
        node: FunctionNode,
        decorators: tuple[str, ...],
        class_frame: ClassFrame | None,
        parent: FunctionFrame | None,
        knowledge: FunctionKnowledge,
    ) -> None:
        self.node = node
        self.decorators = decorators
        self.class_frame = class_frame
        self.parent = parent
        self._knowledge = knowledge
        self.role: str | None = self._own_role() or (parent.role if parent is not None else None)
        self._is_compiled: bool | None = None
        # ``with`` blocks around the current node, within this function, that turn autograd off.
        self.grad_off_blocks = 0
        # ``with`` blocks around the current node, within this function, whose context manager
        # the imports cannot name (``torch.no_grad()`` after ``torch = None``, ``self.lock``).
        self.unread_blocks = 0
        self._computes_gradients: bool | None = None
        # Whether it runs as set-up, once ``FunctionKnowledge.in_set_up`` has asked.
        self.set_up: bool | None = None

    @property
    def name(self) -> str:
        return self.node.name.value if type(self.node) is cst.FunctionDef else "<lambda>"

    @property
    def is_method(self) -> bool:
        return self.class_frame is not None and self.parent is None

    def _own_role(self) -> str | None:
        if type(self.node) is not cst.FunctionDef:
            return None
        return role_of(self.name, self.decorators, self.is_method and self.built_per_call, self.is_optimizer_method)

    @property
    def runs_the_module(self) -> bool:
        """A method of a torch module that calling the module runs (``forward``, ``__call__``):
        what it returns is the module's output, which its callers may train on, whatever mode
        it puts its layers in."""
        return (
            self.is_method
            and self.class_frame is not None
            and self.class_frame.is_module_subclass
            and self.name in catalog.TORCH_MODULE_CALL_METHODS
        )

    @property
    def built_per_call(self) -> bool:
        """A method of a class whose objects are built on every call (see ``ClassFrame``)."""
        return self.class_frame is not None and self.class_frame.built_per_call

    @property
    def is_optimizer_method(self) -> bool:
        """A method of a torch optimizer class (see ``ClassFrame``)."""
        return self.is_method and self.class_frame is not None and self.class_frame.is_optimizer

    @property
    def summary(self) -> Effects:
        return self._knowledge.summary_of(self.node)

    @property
    def is_compiled(self) -> bool:
        """A JIT or ahead-of-time compiler compiles this function (see the module docstring)."""
        if self._is_compiled is None:
            self._is_compiled = (self.parent is not None and self.parent.is_compiled) or self._knowledge.is_compiled(
                self.node, self.class_frame if self.is_method else None
            )
        return self._is_compiled

    @property
    def computes_gradients(self) -> bool:
        """Somewhere in its body (loops included, nested functions not), the function computes
        gradients (``wants_gradients``: ``loss.backward()``, ``torch.autograd.grad(...)``,
        ``model(batch, compute_force=True)``, whose model differentiates its output with autograd
        inside its forward pass, ``x.requires_grad = True``); or a function of this
        file or of the project it calls does so (``self._train(loader)``, ``self(x)`` running ``forward``, ``self._train_model``
        of a base class in another file), ``_CALLEES_SEARCHED`` levels down."""
        if self._computes_gradients is None:
            self._computes_gradients = self._knowledge.body_computes_gradients(self.node, _CALLEES_SEARCHED)
        return self._computes_gradients


class FunctionKnowledge:
    """The stack of function and class frames, and summaries of the file's own functions."""

    def __init__(self, context: FileContext) -> None:
        self._context = context
        # The scopes around the current node: each knows its function frame and its class
        # (``Scope.function``, ``Scope.class_frame``).
        self._scopes = context.scopes
        # The file's own functions by the name a call uses: ``f`` for a module-level function,
        # ``self.f`` for a method (of any class of the file: the call site's class is not
        # always the defining one, but a method name rarely means two things in one file).
        self._by_call_name: dict[str, list[cst.FunctionDef]] = {}
        self._per_call_classes: set[str] = set()
        # Classes of this file that are torch optimizers (see ``ClassFrame.is_optimizer``).
        self._optimizer_classes: set[str] = set()
        self._module_classes: dict[str, bool] = {}
        self._summaries: dict[int, Effects] = {}
        self._return_kinds: dict[int, catalog.ArrayKind | None] = {}
        self._attribute_values: dict[int, dict[str, cst.BaseExpression | None]] = {}
        self._registered_buffers: dict[int, frozenset[str]] = {}
        self._models_by_scope: dict[int, frozenset[str]] = {}
        self._classes_being_read: set[int] = set()
        self._module: cst.Module | None = None
        # Names of the functions that a call in this file wraps in a compiler (found once, when
        # first asked).
        self._wrapped_by_compiler: frozenset[str] | None = None
        self._passed_to_optimizer_steps: dict[str, str] | None = None
        self._nested_calls_in_loops: dict[tuple[cst.CSTNode, str], cst.CSTNode] | None = None
        # ``DeterministicWork`` of the file's functions, by id (None: not deterministic).
        self._deterministic_work: dict[int, DeterministicWork | None] = {}
        # ``with torch.no_grad():`` blocks open around the current node outside any function.
        self._grad_off_blocks_outside_functions = 0
        # The blocks (the module, indented blocks, one-line suites) open around the current
        # node, innermost last, and the parts of them around it that never run, each with why
        # (across function scopes: a function defined there is never defined).
        self._open_blocks: list[cst.CSTNode] = []
        self._never_run: list[tuple[cst.CSTNode, str]] = []
        # The module's ``if __name__ == "__main__":`` whose body holds the current node, if any.
        self._main_guard: cst.If | None = None

    # Hooks ---------------------------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> None:
        self._module = node
        self._open_blocks.append(node)
        for statement in node.body:
            if type(statement) is cst.FunctionDef:
                self._by_call_name.setdefault(statement.name.value, []).append(statement)
            elif type(statement) is cst.ClassDef and type(statement.body) is cst.IndentedBlock:
                for member in statement.body.body:
                    if type(member) is cst.FunctionDef:
                        self._by_call_name.setdefault(f"self.{member.name.value}", []).append(member)

    def _enter_block(self, node: cst.CSTNode) -> None:
        self._open_blocks.append(node)

    def _leave_block(self, node: cst.CSTNode) -> None:
        self._open_blocks.pop()
        self._leave_never_run(node)

    visit_IndentedBlock = visit_SimpleStatementSuite = _enter_block
    leave_IndentedBlock = leave_SimpleStatementSuite = _leave_block

    def _leave_the_block(self, node: cst.Return | cst.Raise | cst.Break | cst.Continue) -> None:
        # What follows in the same block never runs.
        block = self._open_blocks[-1]
        if not self._never_run or self._never_run[-1][0] is not block:
            keyword = _LEAVING_KEYWORDS[type(node)]
            self._never_run.append((block, f"after `{keyword}`"))

    leave_Return = leave_Raise = leave_Break = leave_Continue = _leave_the_block

    def _enter_never_taken(self, node: cst.If | cst.While | cst.IfExp, taken_when: bool) -> None:
        if fixed_truth(node.test) is (not taken_when):
            test = quote(node.test)
            if type(node) is cst.IfExp:
                where = f"… if {test} else …"
            else:
                where = f"{'if' if type(node) is cst.If else 'while'} {test}:"
            self._never_run.append((node, f"under `{where}`"))

    def _leave_never_run(self, node: cst.CSTNode) -> None:
        if self._never_run and self._never_run[-1][0] is node:
            self._never_run.pop()

    def visit_If_body(self, node: cst.If) -> None:
        self._enter_never_taken(node, taken_when=True)
        if self.current is None and self._main_guard is None and is_main_guard(node.test):
            self._main_guard = node

    def leave_If_body(self, node: cst.If) -> None:
        self._leave_never_run(node)
        if node is self._main_guard:
            self._main_guard = None

    def visit_If_orelse(self, node: cst.If) -> None:
        self._enter_never_taken(node, taken_when=False)

    def visit_While_body(self, node: cst.While) -> None:
        self._enter_never_taken(node, taken_when=True)

    def visit_IfExp_body(self, node: cst.IfExp) -> None:
        self._enter_never_taken(node, taken_when=True)

    def visit_IfExp_orelse(self, node: cst.IfExp) -> None:
        self._enter_never_taken(node, taken_when=False)

    def visit_BooleanOperation_right(self, node: cst.BooleanOperation) -> None:
        # ``11 < 3 and any(x)``: a left operand that always decides leaves the right one unread.
        deciding = type(node.operator) is cst.Or
        if fixed_truth(node.left) is deciding:
            keyword = "or" if deciding else "and"
            self._never_run.append((node, f"after `{quote(node.left)} {keyword}`"))

    leave_If_orelse = leave_While_body = _leave_never_run
    leave_IfExp_body = leave_IfExp_orelse = leave_BooleanOperation_right = _leave_never_run

    def visit_ClassDef_body(self, node: cst.ClassDef) -> None:
        imports = self._context.imports
        bases = tuple(
            imports.qualified_name(arg.value) or dotted_name(arg.value) or ""
            for arg in node.bases
            if arg.keyword is None and not arg.star
        )
        is_module = any(base in catalog.TORCH_MODULE_CLASSES or self.is_module_class(base) for base in bases) or (
            (self._scopes.enclosing is None or self._scopes.enclosing.function is None)
            and self._project_says_module(node.name.value)
        )
        self._module_classes[node.name.value] = is_module
        built_per_call = any(
            base in catalog.TORCH_DISTRIBUTION_CLASSES or base in self._per_call_classes for base in bases
        )
        project = self._context.project
        if not built_per_call and project is not None:
            external = project.external_bases.get(node.name.value, ())
            built_per_call = any(base in catalog.TORCH_DISTRIBUTION_CLASSES for base in external)
        if built_per_call:
            self._per_call_classes.add(node.name.value)
        is_optimizer = any(base in catalog.TORCH_OPTIMIZER_CLASSES or base in self._optimizer_classes for base in bases)
        if not is_optimizer and project is not None:
            external = project.external_bases.get(node.name.value, ())
            is_optimizer = any(base in catalog.TORCH_OPTIMIZER_CLASSES for base in external)
        if is_optimizer:
            self._optimizer_classes.add(node.name.value)
        # A class body is not inside the enclosing function's body: its scope has no frame.
        self._scopes.current.class_frame = ClassFrame(node, bases, is_module, built_per_call, is_optimizer)

    def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
        decorators = tuple(self._decorator_names(node.decorators))
        self._push_function(node, decorators)

    def visit_Lambda_body(self, node: cst.Lambda) -> None:
        self._push_function(node, ())

    def _push_function(self, node: FunctionNode, decorators: tuple[str, ...]) -> None:
        scope, enclosing = self._scopes.current, self._scopes.enclosing
        parent = enclosing.function if enclosing is not None else None
        class_frame = (
            (enclosing.class_frame if enclosing is not None else None) if parent is None else parent.class_frame
        )
        scope.function = FunctionFrame(node, decorators, class_frame, parent, self)
        scope.class_frame = class_frame

    def visit_With_body(self, node: cst.With) -> None:
        self._count_with(node, 1)

    def leave_With_body(self, node: cst.With) -> None:
        self._count_with(node, -1)

    def _count_with(self, node: cst.With, step: int) -> None:
        frame = self.current
        if any(self.disables_grad(item.item) for item in node.items):
            if frame is not None:
                frame.grad_off_blocks += step
            else:
                self._grad_off_blocks_outside_functions += step
        if frame is not None and any(self._unread(item.item) for item in node.items):
            frame.unread_blocks += step

    def _unread(self, expr: cst.BaseExpression) -> bool:
        """The imports cannot name ``expr`` (or the callee of ``expr``), a builtin aside: as a
        context manager or decorator it may turn autograd off, or not."""
        target = expr.func if type(expr) is cst.Call else expr
        if (
            type(target) is cst.Name
            and hasattr(builtins, target.value)
            and self._context.imports.is_builtin(target, target.value)
        ):
            return False
        return self._context.imports.qualified_name(target) is None

    def _decorator_names(self, decorators: Iterable[cst.Decorator]) -> Iterator[str]:
        imports = self._context.imports
        for decorator in decorators:
            expr = decorator.decorator
            if type(expr) is cst.Call:
                expr = expr.func
            name = imports.qualified_name(expr) or dotted_name(expr)
            if name:
                yield name

    # Queries -------------------------------------------------------------------------------

    @property
    def current(self) -> FunctionFrame | None:
        """The innermost function around the current node; None at module level or directly in
        a class body."""
        return self._scopes.stack[-1].function

    @property
    def current_class(self) -> ClassFrame | None:
        return self._scopes.stack[-1].class_frame

    def is_module_class(self, name: str) -> bool:
        """``name`` is a torch module class: a class of this file, defined above this point,
        or a class of the project (by the name this file binds it to, ``Base`` or
        ``layers.Base``) that subclasses one through any number of project files."""
        if name in self._module_classes:
            return self._module_classes[name]
        return self._project_says_module(name)

    def _project_says_module(self, name: str) -> bool:
        project = self._context.project
        if project is None:
            return False
        bases = project.external_bases.get(name, ())
        return any(base in catalog.TORCH_MODULE_CLASSES for base in bases)

    def is_model(self, expr: cst.BaseExpression) -> bool:
        """``expr`` makes a model: it calls a torch module class of this file or of the project
        (torch's own layers and losses are not models), or a function or method that loads one
        (``torch.load``, ``from_pretrained``)."""
        if type(expr) is not cst.Call:
            return False
        if self.loads_model(expr):
            return True
        if catalog.lookup(self._context.imports.qualified_name(expr.func)) is not None:
            return False
        name = dotted_name(expr.func)
        return name is not None and self.is_module_class(name)

    def loads_model(self, expr: cst.BaseExpression) -> bool:
        """``expr`` loads a model with its weights: a call of a function or method that loads
        one (``torch.load``, ``torch.hub.load``, ``from_pretrained``)."""
        if type(expr) is not cst.Call:
            return False
        func = expr.func
        if type(func) is cst.Attribute and func.attr.value in catalog.MODEL_LOADING_METHODS:
            return True
        record = catalog.lookup(self._context.imports.qualified_name(func))
        return record is not None and record.has(catalog.Flag.LOADS_MODEL)

    def attribute_value(self, attribute: str) -> cst.BaseExpression | None:
        """The one expression the current class (the class of the current method) assigns to
        ``self.<attribute>``, in any of its methods (``self.conv1 = nn.Conv2d(3, 8, 3)`` in
        ``__init__``); None when the class assigns it more than once, augments it, or not at
        all, or outside a class."""
        frame = self.current_class
        if frame is None:
            return None
        values = self._attribute_values.get(id(frame.node))
        if values is None:
            values = _self_attribute_values(frame.node)
            self._attribute_values[id(frame.node)] = values
        return values.get(attribute)

    def holds_a_trained_parameter(self, attribute: str) -> bool:
        """``self.<attribute>`` is a trainable parameter of the current class: the one value the
        class assigns it is ``nn.Parameter(...)``, not given ``requires_grad=False``. The
        optimizer changes it between calls, and what is computed from it carries its gradient
        (deepchem's `Affine` flow: `torch.exp(self.scale.sum())`)."""
        value = self.attribute_value(attribute)
        if type(value) is not cst.Call:
            return False
        if self._context.imports.qualified_name(value.func) not in catalog.PARAMETER_CONSTRUCTORS:
            return False
        requires_grad = keyword_argument(value, "requires_grad")
        return requires_grad is None or literal_value(requires_grad.value) is not False

    def _trained_between_calls(self, chain: str, receiver: str | None) -> bool:
        """``chain`` (``self.scale``) reads a trainable parameter of the method's receiver."""
        root, _, rest = chain.partition(".")
        return root == receiver and bool(rest) and self.holds_a_trained_parameter(rest.partition(".")[0])

    def is_registered_buffer(self, attribute: str) -> bool:
        """``self.<attribute>`` is a buffer the current class registers in ``__init__``
        (``self.register_buffer("steps", torch.tensor(0))``) with a value that is not ``None``,
        and ``__init__`` assigns it no other way: in every method it holds a tensor (or None,
        as an ``Optional[torch.Tensor]`` parameter may), since a module lets a buffer be set to
        nothing else. A class that defines its own ``register_buffer`` has none."""
        frame = self.current_class
        if frame is None:
            return False
        buffers = self._registered_buffers.get(id(frame.node))
        if buffers is None:
            # A class that registers a buffer spells the method's name, which most files never
            # do: their classes need no walk of ``__init__``.
            registers = catalog.BUFFER_REGISTRATION_METHOD in self._context.source
            buffers = _registered_buffers(frame.node) if registers else frozenset()
            self._registered_buffers[id(frame.node)] = buffers
        return attribute in buffers

    def holds_a_model(self, callee: str) -> bool:
        """``callee`` (a name or chain: ``model``, ``self.encoder``) holds a model, as the current
        function (or, in a method, its class; at module level, the module) shows: it calls
        ``.eval()``, ``.train()``, ``.to(...)``, ``.cuda()`` or ``.parameters()`` on it, or
        assigns it something ``is_model`` says makes one or the result of such a call of a mode
        or a move (``self.net = net.to(device)``: a module's ``to`` returns the module).
        ``<chain>[]`` (``self.nets[]``) asks about the items of a list: models when all that is
        appended to it is (``self.nets.append(net)``, ``self.nets.append(net.to(device))``).
        A model made from a class of this file holds that class's own models as its attributes
        (``self.model.decoder`` after ``self.model = Autoencoder(...)``, whose methods set
        ``self.decoder = Decoder(...)``)."""
        function = self.current
        scope: cst.CSTNode | None = None
        if function is not None:
            scope = function.class_frame.node if function.class_frame is not None else function.node
        if scope is None:
            scope = self._module
        if scope is None:
            return False
        models = self._models_by_scope.get(id(scope))
        if models is None:
            models = self._models_in(scope)
            self._models_by_scope[id(scope)] = models
        return callee in models

    def model_call(self, func: cst.BaseExpression) -> ModelCall | None:
        """What calling ``func`` runs, when it may be a model (``ModelCall``): the object
        called (``model(x)``, ``self.encoder(x)``, ``self.nets[i](x)``) or the receiver of an
        inference method (``m.forward(x)``, ``clf.predict(X)``, ``vae.decode(z)``); None when
        ``func`` is no name, attribute chain or item of one (a call's result, a lambda). An
        attribute named like an inference method that holds a model is called itself
        (``self.encode(x)`` after ``self.encode = Encoder()``). Whether the object holds a model
        is ``holds_a_model``'s to say: a library function (``F.relu``) holds none."""
        method = None
        if type(func) is cst.Attribute and func.attr.value in catalog.INFERENCE_METHODS:
            chain = dotted_name(func)
            if chain is None or not self.holds_a_model(chain):
                method = func.attr.value
                func = func.value
        if type(func) is cst.Subscript:
            items = dotted_name(func.value)
            return None if items is None else ModelCall(f"{items}[]", method)
        model = dotted_name(func)
        return None if model is None else ModelCall(model, method)

    def _models_of_class(self, node: cst.ClassDef) -> frozenset[str]:
        """``_models_in`` the class ``node``, as the current point sees it: nothing while the
        class is being read already (a class that holds an instance of itself)."""
        known = self._models_by_scope.get(id(node))
        if known is not None:
            return known
        if id(node) in self._classes_being_read:
            return frozenset()
        self._classes_being_read.add(id(node))
        try:
            models = self._models_in(node)
        finally:
            self._classes_being_read.discard(id(node))
        if not self._classes_being_read:
            # Read from the outside, not while a class holding it is read: the whole answer.
            self._models_by_scope[id(node)] = models
        return models

    def _models_in(self, scope: cst.CSTNode) -> frozenset[str]:
        models: set[str] = set()
        appended: dict[str, list[cst.BaseExpression]] = {}  # list → what is appended to it
        stack = list(syntax_children(scope))
        while stack:
            node = stack.pop()
            stack.extend(syntax_children(node))
            if type(node) is cst.Call and type(node.func) is cst.Attribute:
                receiver = dotted_name(node.func.value)
                if receiver is None:
                    continue
                if node.func.attr.value in catalog.MODEL_EVIDENCE_METHODS:
                    models.add(receiver)
                elif node.func.attr.value == "append" and len(node.args) == 1:
                    appended.setdefault(receiver, []).append(node.args[0].value)
            elif type(node) is cst.Assign and (self.is_model(node.value) or _moves_or_sets_mode(node.value)):
                made = self._file_class_made(node.value)
                parts = self._models_of_class(made) if made is not None else frozenset()
                for target in node.targets:
                    name = dotted_name(target.target)
                    if name is not None:
                        models.add(name)
                        models.update(f"{name}{part[len('self') :]}" for part in parts if part.startswith("self."))
        models.update(
            f"{chain}[]"
            for chain, items in appended.items()
            if all(dotted_name(item) in models or self.is_model(item) or _moves_or_sets_mode(item) for item in items)
        )
        return frozenset(models)

    def _file_class_made(self, value: cst.BaseExpression) -> cst.ClassDef | None:
        """The module class of this file's top level whose object ``value`` makes, moved or
        put in a mode or not: ``AutoEncoder(n)``, ``AutoEncoder(n).to(device)``."""
        while _moves_or_sets_mode(value):
            value = cast(cst.Attribute, cast(cst.Call, value).func).value
        if type(value) is not cst.Call or type(value.func) is not cst.Name or self._module is None:
            return None
        if not self.is_model(value):
            return None
        name = value.func.value
        return next(
            (
                statement
                for statement in self._module.body
                if type(statement) is cst.ClassDef and statement.name.value == name
            ),
            None,
        )

    def defines(self, call_name: str) -> bool:
        """``call_name`` (``f`` or ``self.f``) calls a function or method defined in this file."""
        return call_name in self._by_call_name

    def in_test_code(self) -> bool:
        """The current node is test code: in a test file or a test suite a library ships for its
        users' tests (``estimator_checks.py``, ``conventions.TEST_SUPPORT_FILES``), in a module
        that imports a test framework at its top level (``import pytest``:
        ``catalog.TEST_FRAMEWORKS``), in a ``test*`` function or a ``Test*``
        class (pytest's and unittest's conventions), or, with the project index, in the
        ``if __name__ == "__main__":`` block of a module the project imports (a library
        module's smoke test, run by hand; a script's block is the program). A debugging aid or
        a slow setting there is the test's business, not a cost users pay."""
        if is_test_path(self._context.path):
            return True
        if self._context.imports.imports_at_module_level(catalog.TEST_FRAMEWORKS):
            return True
        project = self._context.project
        if self._main_guard is not None and project is not None and project.imported:
            return True
        frame = self.current
        classes = [self.current_class]
        while frame is not None:
            if frame.name.startswith("test"):
                return True
            classes.append(frame.class_frame)
            frame = frame.parent
        return any(found is not None and found.name.startswith("Test") for found in classes)

    def role(self) -> str | None:
        """The role of the code the current node is in: module level and class bodies run once."""
        frame = self.current
        return RUN_ONCE if frame is None else frame.role

    def frequency(self) -> ExecutionEstimate:
        """How often the current node runs, with the evidence in words.

        Code that never runs comes first: a branch under a test that literals decide against
        it (``if 11 < 3:``, ``if False:``, the ``else`` of ``if 1:``, the body of ``while 0:``, a
        branch of a conditional expression), the operand after one that decides an ``and`` or
        an ``or`` (``11 < 3 and any(x)``), and the statements after a ``return``, ``raise``,
        ``break`` or ``continue`` in their block, with everything they nest
        (``Frequency.NEVER``).
        The function around it gives the base: run-once code (by its name or, with the project
        index, because only run-once code calls it) is cold; a per-call function (``forward``,
        ``*_step``, or one the project calls in a loop or from a per-call function) runs per
        call. A loop of the function around the node (not over a small literal range) makes it
        hot, unless the function is cold and the loop is no training loop: a loop in set-up runs
        once per program. A retry loop (``while not ok: try: …; ok = True``) runs once unless the
        work fails, so the loop around it decides.
        """
        if self._never_run:
            return ExecutionEstimate(Frequency.NEVER, f"never runs: {self._never_run[0][1]}")
        frame = self.current
        base = self._function_frequency(frame)
        loop = next((found for found in self._context.loops.enclosing() if not found.is_retry), None)
        if loop is None or _small_literal_loop(loop.node, self._context):
            return base
        where = _loop_words(loop.node)
        if base.frequency is Frequency.COLD and not loop.is_training_step:
            # A loop in set-up (building layers in ``__init__``, preparing files in
            # ``process``) runs once per program; a training loop does not.
            return ExecutionEstimate(Frequency.COLD, f"{base.evidence}, {where}")
        if base.frequency in (Frequency.PER_CALL, Frequency.HOT):
            where = f"{where} ({base.evidence})"
        return ExecutionEstimate(Frequency.HOT, where)

    def call_frequency(self) -> ExecutionEstimate:
        """How often the function around the current node is called, with the evidence, its own
        loops left out: a per-column loop of a function called once at fit time repeats, but
        the function does not."""
        return self._function_frequency(self.current)

    def in_set_up(self) -> bool:
        """The function around the current node runs once per program or object, its loops
        with it: a set-up or entry-point name (``__init__``, ``build_*``, ``main``) that no
        repeating caller in the project overrules (``roles.yields_to_callers``), or a function
        the project index finds called only from set-up. False at module level, whose loops are
        the program's work."""
        frame = self.current
        if frame is None:
            return False
        if frame.set_up is None:
            frequency = self.call_frequency().frequency
            frame.set_up = frequency is Frequency.COLD or (frequency is Frequency.ONCE and frame.role == RUN_ONCE)
        return frame.set_up

    def _function_frequency(self, frame: FunctionFrame | None) -> ExecutionEstimate:
        if frame is None:
            return ExecutionEstimate(Frequency.ONCE, "runs once: at module level")
        outermost = frame
        while outermost.parent is not None:
            outermost = outermost.parent
        if self._project_key(outermost) in self._uncalled():
            # Whatever its name says (``_shared_step``), code nothing runs costs nothing.
            return ExecutionEstimate(Frequency.COLD, f"never runs: `{outermost.name}` is {UNCALLED_EVIDENCE}")
        while frame is not None:
            built_per_call = frame.is_method and frame.built_per_call
            optimizer_method = frame.is_optimizer_method
            own = (
                role_of(frame.name, frame.decorators, built_per_call, optimizer_method)
                if type(frame.node) is cst.FunctionDef
                else None
            )
            if own == RUN_ONCE:
                # A set-up name yields to callers that repeat (``roles.yields_to_callers``).
                known = self._project_frequency(frame) if yields_to_callers(frame.name, frame.decorators) else None
                if known is not None and known.frequency.repeats:
                    return ExecutionEstimate(known.frequency, f"runs per call of `{frame.name}`, {known.evidence}")
                once = Frequency.ONCE if is_entry_point(frame.name) else Frequency.COLD
                return ExecutionEstimate(once, f"runs once: in `{frame.name}`")
            if own == PER_CALL:
                return ExecutionEstimate(
                    Frequency.PER_CALL, per_call_evidence(frame.name, built_per_call, optimizer_method)
                )
            if own is None and type(frame.node) is cst.FunctionDef:
                stepper = self._functions_passed_to_optimizer_steps().get(frame.name)
                if stepper is not None:
                    return ExecutionEstimate(
                        Frequency.PER_CALL, f"runs per step: `{frame.name}` is passed to {stepper}"
                    )
            if own is None and frame.parent is not None:
                loop = self._nested_functions_called_in_loops().get((frame.parent.node, frame.name))
                if loop is not None and not _small_literal_loop(loop, self._context):
                    caller = self._function_frequency(frame.parent)
                    if caller.frequency is Frequency.COLD:
                        return caller
                    where = _loop_words(loop).removeprefix("runs ")
                    return ExecutionEstimate(
                        Frequency.HOT, f"runs per iteration: `{frame.name}` is called {where} in `{frame.parent.name}`"
                    )
            if own is None:
                known = self._project_frequency(frame)
                if known is not None and known.frequency in (Frequency.COLD, Frequency.ONCE):
                    return ExecutionEstimate(known.frequency, f"runs once: `{frame.name}` is {known.evidence}")
                if known is not None:
                    return ExecutionEstimate(known.frequency, f"runs per call of `{frame.name}`, {known.evidence}")
            frame = frame.parent
        return ExecutionEstimate(Frequency.UNKNOWN, "")

    def _project_frequency(self, frame: FunctionFrame) -> HotCaller | None:
        """How often the project index says its callers call ``frame``'s function (a module-level
        function or a method, not a nested one); None without the index or its evidence."""
        project = self._context.project
        if project is None or frame.parent is not None:
            return None
        return project.frequencies.get(self._project_key(frame))

    def _uncalled(self) -> frozenset[str]:
        """The file's functions nothing in the project runs (``ProjectView.uncalled``)."""
        project = self._context.project
        return frozenset() if project is None else project.uncalled

    @staticmethod
    def _project_key(frame: FunctionFrame) -> str:
        """How the project index names ``frame``'s function: ``f``, ``Class.f``."""
        class_frame = frame.class_frame if frame.is_method else None
        return f"{class_frame.name}.{frame.name}" if class_frame is not None else frame.name

    def is_compiled(self, node: FunctionNode, class_frame: ClassFrame | None) -> bool:
        """``node`` is decorated by a compiler, wrapped in one by a call of this file
        (``fast = numba.njit(f)``, ``self.step = torch.compile(self.step)``), or a method of a
        class a compiler decorates. The enclosing function is the frame's business."""
        if type(node) is not cst.FunctionDef:
            return False
        if any(self._names_a_compiler(decorator.decorator) for decorator in node.decorators):
            return True
        if class_frame is not None and any(
            self._names_a_compiler(decorator.decorator) for decorator in class_frame.node.decorators
        ):
            return True
        return node.name.value in self._functions_wrapped_by_compilers()

    def _names_a_compiler(self, expr: cst.BaseExpression) -> bool:
        """``numba.njit``, ``njit(cache=True)``, ``partial(jax.jit, static_argnums=0)``."""
        imports = self._context.imports
        if type(expr) is cst.Call:
            if imports.qualified_name(expr.func) == "functools.partial":
                return bool(expr.args) and self._names_a_compiler(expr.args[0].value)
            expr = expr.func
        return imports.qualified_name(expr) in catalog.JIT_COMPILERS

    def _functions_wrapped_by_compilers(self) -> frozenset[str]:
        """Names ``f`` (or ``self.f``'s ``f``) of every call ``compiler(f, …)`` or
        ``compiler(…)(f)`` in the file, through a name bound to the function first (``step =
        self._train_step; step = torch.compile(step)``: any binding of that name in the file
        counts). Walked once, and only in a file whose text can call a compiler."""
        if self._wrapped_by_compiler is None:
            names: set[str] = set()
            source = self._context.source
            if self._module is not None and catalog.JIT_COMPILER_CALL_TEXT.search(source):
                imports = self._context.imports
                aliases: dict[str, set[str]] = {}
                wrapped_names: set[str] = set()
                pending: list[cst.CSTNode] = [self._module]
                while pending:
                    node = pending.pop()
                    if type(node) is cst.Call and node.args and self._names_a_compiler(node.func):
                        wrapped = node.args[0].value
                        if type(wrapped) is cst.Name:
                            wrapped_names.add(wrapped.value)
                        elif type(wrapped) is cst.Attribute:
                            names.add(wrapped.attr.value)
                    elif type(node) is cst.Assign and len(node.targets) == 1:
                        alias, value = node.targets[0].target, node.value
                        bound = value.attr if type(value) is cst.Attribute else value
                        if type(alias) is cst.Name and type(bound) is cst.Name:
                            aliases.setdefault(alias.value, set()).add(bound.value)
                    elif type(node) is cst.With and any(
                        type(item.item) is cst.Call
                        and imports.qualified_name(item.item.func) in catalog.CUDA_GRAPH_CAPTURES
                        for item in node.items
                    ):
                        # What the captured body calls is captured with it.
                        names.update(_called_function_names(node.body))
                    pending.extend(syntax_children(node))
                names.update(wrapped_names)
                for name in wrapped_names:
                    names.update(aliases.get(name, ()))
            self._wrapped_by_compiler = frozenset(names)
        return self._wrapped_by_compiler

    def compiles_a_method(self, class_frame: ClassFrame) -> bool:
        """One of the class's methods is compiled or captured as a CUDA graph (``is_compiled``):
        the state its other methods prepare for it (an optimizer's gradients, static input
        buffers) must keep its memory where the captured code expects it."""
        return any(
            type(statement) is cst.FunctionDef and self.is_compiled(statement, class_frame)
            for statement in class_frame.node.body.body
        )

    def _functions_passed_to_optimizer_steps(self) -> dict[str, str]:
        """Names ``closure`` of the functions the file passes to an optimizer's ``step``
        (``optimizer.step(closure)``, LBFGS style), each with the quoted call's function: the
        optimizer calls them at least once per step. Walked once, and only in a file that
        mentions ``.step(``."""
        if self._passed_to_optimizer_steps is None:
            passed: dict[str, str] = {}
            if self._module is not None and ".step(" in self._context.source:
                pending: list[cst.CSTNode] = [self._module]
                while pending:
                    node = pending.pop()
                    if (
                        type(node) is cst.Call
                        and type(node.func) is cst.Attribute
                        and node.func.attr.value == "step"
                        and is_optimizer_name((dotted_name(node.func.value) or "").rpartition(".")[2])
                    ):
                        for arg in node.args:
                            if type(arg.value) is cst.Name and (arg.keyword is None or arg.keyword.value == "closure"):
                                passed[arg.value.value] = f"`{quote(node.func)}`"
                    pending.extend(syntax_children(node))
            self._passed_to_optimizer_steps = passed
        return self._passed_to_optimizer_steps

    def _nested_functions_called_in_loops(self) -> dict[tuple[cst.CSTNode, str], cst.CSTNode]:
        """For each function and name ``f`` it calls by name in one of its own loops (``for``
        and ``while``, nested functions' loops not), the innermost loop around one such call: a
        function ``f`` defined inside it runs per iteration. Walked once."""
        if self._nested_calls_in_loops is None:
            found: dict[tuple[cst.CSTNode, str], cst.CSTNode] = {}
            pending: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None]] = []
            if self._module is not None:
                pending.append((self._module, None, None))
            while pending:
                node, function, loop = pending.pop()
                kind = type(node)
                if kind is cst.FunctionDef or kind is cst.Lambda or kind is cst.ClassDef:
                    function, loop = (node if kind is cst.FunctionDef else None), None
                elif kind is cst.Call and function is not None and loop is not None:
                    func = cast(cst.Call, node).func
                    if type(func) is cst.Name:
                        found.setdefault((function, func.value), loop)
                if kind is cst.For:
                    loop_node = cast(cst.For, node)
                    pending.extend((child, function, loop) for child in (loop_node.iter, loop_node.orelse) if child)
                    pending.append((loop_node.body, function, node))
                    continue
                if kind is cst.While:
                    pending.append((cast(cst.While, node).body, function, node))
                    continue
                pending.extend((child, function, loop) for child in syntax_children(node))
            self._nested_calls_in_loops = found
        return self._nested_calls_in_loops

    def disables_grad(self, expr: cst.BaseExpression) -> bool:
        """``expr``, as a context manager or decorator, may turn autograd off:
        ``torch.no_grad()``, ``torch.inference_mode()`` (not ``inference_mode(False)``),
        ``torch.set_grad_enabled(False)``, or ``set_grad_enabled(flag)`` with an unknown flag."""
        call = expr if type(expr) is cst.Call else None
        record = catalog.lookup(self._context.imports.qualified_name(call.func if call is not None else expr))
        if record is None:
            return False
        mode: cst.BaseExpression | None = None
        if call is not None:
            bound = catalog.bind(call, record)
            if bound is None:
                return True  # arguments it cannot bind: it may turn autograd off
            mode = bound.argument("mode")
        value = UNKNOWN if mode is None else literal_value(mode)
        if record.has(catalog.Flag.DISABLES_AUTOGRAD):
            return mode is None or value is UNKNOWN or bool(value)
        if record.has(catalog.Flag.SETS_GRAD_MODE):
            return mode is not None and (value is UNKNOWN or not value)
        return False

    def grad_disabled(self) -> bool:
        """Autograd may be off at the current node: a ``with`` block in its function (or, outside
        any function, at module level), or a decorator of that function (``@torch.no_grad()``),
        turns it off. A function defined under such a block may run anywhere: not known off."""
        frame = self.current
        if frame is None:
            return self._grad_off_blocks_outside_functions > 0
        if frame.grad_off_blocks:
            return True
        if type(frame.node) is not cst.FunctionDef:
            return False
        return any(self.disables_grad(decorator.decorator) for decorator in frame.node.decorators)

    def grad_possibly_disabled(self) -> bool:
        """``grad_disabled``, or a context manager around the current node in its function, or
        a decorator of that function, that the imports cannot name: it may turn autograd off
        (``with torch.no_grad():`` where ``torch`` is bound by ``optional_package("torch")``)."""
        if self.grad_disabled():
            return True
        frame = self.current
        if frame is None:
            return False
        if frame.unread_blocks:
            return True
        return type(frame.node) is cst.FunctionDef and any(
            self._unread(decorator.decorator) for decorator in frame.node.decorators
        )

    def called_with_grad_off(self) -> bool:
        """The function around the current node (the outermost one) may be called with
        autograd off: a hook its framework runs so (``roles.is_gradient_free_hook``: Lightning's
        ``validation_step``), or, with the project index, a function a project caller runs under
        ``torch.no_grad()`` or ``torch.inference_mode()``, directly or through the functions it
        calls (``ProjectView.grad_off_functions``). Callers outside the project are not seen."""
        frame = self.current
        if frame is None:
            return False
        while frame.parent is not None:
            frame = frame.parent
        if is_gradient_free_hook(frame.name):
            return True
        project = self._context.project
        if project is None:
            return False
        key = f"{frame.class_frame.name}.{frame.name}" if frame.class_frame is not None else frame.name
        return key in project.grad_off_functions

    def has_whole_array_form(self, func: cst.BaseExpression) -> bool:
        """``func``, applied per element or per slice (``np.vectorize``,
        ``np.apply_along_axis``), does something whole-array code can do: a NumPy, SciPy or
        ``math`` function, or a lambda or function of this file that calls only those, builtins
        and methods of its own values, and reductions of what those calls give (``np.exp(arr).sum(-1)``). A function of another library that takes only 1-D input
        (a resampler), a routine that fits or solves for one sample
        (``scipy.optimize.root_scalar``), a callable object, or one that calls methods of
        ``self`` (fits a model per row) has no whole-array form."""
        qualified = self._context.imports.qualified_name(func)
        if qualified is not None:
            return catalog.library_of(qualified) in _WHOLE_ARRAY_LIBRARIES and not catalog.fits_one_sample(qualified)
        if type(func) is cst.Lambda:
            return self._calls_only_whole_array_code(func.body)
        if type(func) is cst.Name:
            definition = self.definition(func.value)
            return definition is not None and self._calls_only_whole_array_code(definition.body)
        return False

    def _calls_only_whole_array_code(self, body: cst.CSTNode) -> bool:
        imports = self._context.imports
        pending: list[cst.CSTNode] = [body]
        while pending:
            node = pending.pop()
            if type(node) is cst.Call:
                func = node.func
                qualified = imports.qualified_name(func)
                if qualified is not None:
                    if catalog.library_of(qualified) not in _WHOLE_ARRAY_LIBRARIES or catalog.fits_one_sample(
                        qualified
                    ):
                        return False
                elif type(func) is cst.Name:
                    if not imports.is_builtin(func, func.value):
                        return False
                elif type(func) is cst.Attribute and type(func.value) is cst.Call:
                    # A reduction of what a call gives (``np.exp(arr).sum(-1)``), which has an
                    # axis form; the call is checked itself.
                    if func.attr.value not in catalog.REDUCTION_FUNCTIONS:
                        return False
                elif type(func) is cst.Attribute:
                    root = dotted_name(func.value)
                    if root is None or root.partition(".")[0] in ("self", "cls"):
                        return False
                else:
                    return False
            pending.extend(syntax_children(node))
        return True

    def reads_objects_of_parameters(self, func: cst.BaseExpression) -> bool:
        """``func`` (a lambda, or a function of this file named), applied per element
        (``np.vectorize``), is given Python objects: it reads an item of a parameter
        (``lines[0]``) or an attribute that no number has (``lines[0].axes``; not ``z.real``,
        ``catalog.NUMPY_SCALAR_ATTRIBUTES``). An element of a numeric array has neither, so the
        array it maps over holds objects (lists of Matplotlib lines, records), on which no
        ufunc, ``np.where`` or broadcasting reads an attribute."""
        body: cst.CSTNode
        if type(func) is cst.Lambda:
            params, body = func.params, func.body
        elif type(func) is cst.Name:
            definition = self.definition(func.value)
            if definition is None:
                return False
            params, body = definition.params, definition.body
        else:
            return False
        parameters = _parameter_names(params)
        pending: list[cst.CSTNode] = [body]
        called: set[int] = set()
        while pending:
            node = pending.pop()
            if type(node) is cst.Call:
                called.add(id(node.func))
            elif type(node) is cst.Subscript:
                if type(node.value) is cst.Name and node.value.value in parameters:
                    return True
            elif type(node) is cst.Attribute and id(node) not in called:
                read = node.value
                if (
                    type(read) is cst.Name
                    and read.value in parameters
                    and node.attr.value not in catalog.NUMPY_SCALAR_ATTRIBUTES
                ):
                    return True
            pending.extend(syntax_children(node))
        return False

    def same_on_every_call(self, expr: cst.BaseExpression) -> bool:
        """``expr``, in the current function, gives the same value on every call of it: it
        reads no parameter (but a method's ``self``), no name the function binds, no
        attribute of ``self`` the function changes nor a trainable parameter
        (``holds_a_trained_parameter``), and calls only side-effect-free library
        functions that make no fresh object and non-mutating methods. At module level every
        expression qualifies (it runs once)."""
        frame = self.current
        if frame is None:
            return True
        parameters = _parameter_names(frame.node.params)
        receiver = _first_parameter(frame.node.params) if frame.is_method else None
        if receiver is not None:
            parameters.discard(receiver)
        summary = frame.summary

        def changes(chain: str) -> bool:
            return (
                chain.partition(".")[0] in parameters
                or summary.changes(chain)
                or self._trained_between_calls(chain, receiver)
            )

        return unchanged_by(expr, changes, self._context.imports, allow_conversions=True)

    def depends_only_on_shapes(self, expr: cst.BaseExpression, hops: int = 0) -> bool:
        """``expr``, in the current function, depends on the call's inputs at most through
        their shapes, types and devices (``x.shape[1]``, ``x.size(0)``, ``x.device``,
        ``len(x)``): it reads no other parameter value, only attributes of ``self`` the
        function does not change and that hold no trainable parameter
        (``holds_a_trained_parameter``), names bound to such expressions (followed as
        ``values.value_of`` allows; ``hops``: names followed so far) and module-level names, and calls only catalogued pure library functions
        (factories included, random draws not) and known array methods."""
        frame = self.current
        if frame is None:
            return True
        summary = frame.summary
        parameters = _parameter_names(frame.node.params)
        receiver = _first_parameter(frame.node.params) if frame.is_method else None

        def changes(chain: str) -> bool:
            root = chain.partition(".")[0]
            if root == receiver and not summary.changes(chain):
                return self._trained_between_calls(chain, receiver)
            if root in parameters:
                return True
            if root in summary.rebound:
                value = value_of(cst.Name(root), self._context, hops)
                return value is None or not self.depends_only_on_shapes(value, hops + 1)
            return False

        return unchanged_by(expr, changes, self._context.imports, through_metadata=True)

    def summary_of(self, node: FunctionNode) -> Effects:
        """What one call of ``node`` does. While a (mutually) recursive summary is being made,
        the function's effects are not known yet, and calls to it count as unknown calls."""
        summary = self._summaries.get(id(node))
        if summary is None:
            self._summaries[id(node)] = _BEING_SUMMARISED
            summary = summarise([node.body], self._context.imports, self)
            self._summaries[id(node)] = summary
        return summary

    def return_kind(self, call: cst.Call) -> catalog.ArrayKind | None:
        """The array kind ``call`` of a function of this file (or, with the project index, of
        another file of the project) returns: its return annotation's, or the one kind every
        ``return`` gives: a call that returns an array whatever its arguments (``np.zeros(n)``,
        ``torch.tanh(x)``, ``self._step(x)`` of such a function), a parameter annotated as an
        array, or a name assigned once from such a call."""
        definition = self._definition(call)
        if definition is None:
            facts = self._project_callee(call)
            if facts is None or facts.returns is None:
                return None
            return catalog.ARRAY_TYPES.get(facts.returns) or catalog.returned_kind(facts.returns)
        if id(definition) not in self._return_kinds:
            self._return_kinds[id(definition)] = None  # a recursive call learns nothing
            self._return_kinds[id(definition)] = self._return_kind_of(definition)
        return self._return_kinds[id(definition)]

    def _return_kind_of(self, definition: cst.FunctionDef) -> catalog.ArrayKind | None:
        if definition.returns is not None:
            return self._context.arrays.annotation_kind(definition.returns.annotation)
        returned: list[cst.BaseExpression | None] = []
        bound: dict[str, list[cst.BaseExpression | None]] = {}
        for node in nodes_in_scope(definition.body):
            if type(node) is cst.Return:
                returned.append(node.value)
            elif type(node) is cst.Yield:
                return None
            elif type(node) is cst.Assign:
                for target in node.targets:
                    plain = type(target.target) is cst.Name
                    for name in names_in(target.target):
                        bound.setdefault(name, []).append(node.value if plain else None)
            elif type(node) in (cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For, cst.CompFor):
                for name in names_in(cast(_Binding, node).target):
                    bound.setdefault(name, []).append(None)
            elif type(node) in (cst.AsName, cst.Global, cst.Nonlocal, cst.Del):
                for name in names_in(node):
                    bound.setdefault(name, []).append(None)
        kinds = {self._returned_kind(value, definition, bound) for value in returned}
        return kinds.pop() if len(kinds) == 1 else None

    def _returned_kind(
        self,
        value: cst.BaseExpression | None,
        definition: cst.FunctionDef,
        bound: dict[str, list[cst.BaseExpression | None]],
    ) -> catalog.ArrayKind | None:
        """The kind of what ``return value`` gives, whatever the arguments: a call the catalogue
        says returns an array (``np.zeros(n)``, ``torch.tanh(x)``) or a function of this file
        that does (``self._step(x)``); a parameter annotated as one and never reassigned; a
        name assigned once, one of those calls (``y = torch.relu(x); return y``)."""
        if type(value) is cst.Name:
            assigned = bound.get(value.value)
            parameter = next((p for p in _all_parameters(definition.params) if p.name.value == value.value), None)
            if parameter is not None:
                if assigned or parameter.annotation is None:
                    return None
                return self._context.arrays.annotation_kind(parameter.annotation.annotation)
            if assigned is None or len(assigned) != 1:
                return None
            value = assigned[0]
        if type(value) is not cst.Call:
            return None
        qualified = self._context.imports.qualified_name(value.func)
        if qualified is not None:
            return catalog.returned_kind(qualified)
        return self.return_kind(value)

    def _definition(self, call: cst.Call) -> cst.FunctionDef | None:
        definitions = self._by_call_name.get(dotted_name(call.func) or "", ())
        return definitions[0] if len(definitions) == 1 else None

    def definition(self, call_name: str) -> cst.FunctionDef | None:
        """The one function of this file that ``call_name`` calls: a module-level function
        (``f``), or a method of a class of the file (``self.f``); functions nested in the
        current one first (``make_row`` defined in the caller's body)."""
        current = self.current
        if current is not None and "." not in call_name and type(current.node) is cst.FunctionDef:
            body = current.node.body
            nested = [
                statement
                for statement in (body.body if type(body) is cst.IndentedBlock else ())
                if type(statement) is cst.FunctionDef and statement.name.value == call_name
            ]
            if nested:
                return nested[0] if len(nested) == 1 else None
        definitions = self._by_call_name.get(call_name, ())
        return definitions[0] if len(definitions) == 1 else None

    def arguments_iterated_again(self, call: cst.Call) -> list[cst.BaseExpression]:
        """The arguments of ``call``, a call of a function of this file, that the function
        iterates afresh each time it has run through them: a parameter it never rebinds, looped
        over by a ``for`` that is the whole body of a loop around it (lightweight-gan's
        ``def cycle(iterable): while True: for i in iterable: yield i``). ``itertools.cycle``
        is no such function: it iterates its argument once and replays the items it saved."""
        definition = self._definition(call)
        if definition is None:
            return []
        bound = _bound_arguments(call, definition)
        if not bound:
            return []
        rebound = self.summary_of(definition).rebound
        iterated: list[cst.BaseExpression] = []
        for node in nodes_in_scope(definition.body):
            if not isinstance(node, (cst.For, cst.While)) or type(node.body) is not cst.IndentedBlock:
                continue
            inner = node.body.body
            if len(inner) != 1 or type(inner[0]) is not cst.For or type(inner[0].iter) is not cst.Name:
                continue
            parameter = inner[0].iter.value
            if parameter in bound and parameter not in rebound:
                iterated.append(bound[parameter])
        return iterated

    def mutations_of_call(self, call: cst.Call) -> set[str] | None:
        """The chains, in the caller's names, that ``call`` of a function of this file may
        mutate: what the function mutates through its parameters (named by the arguments bound
        to them), through ``self`` for a method, and globals. None when the callee is not one
        function of this file, or the arguments do not bind plainly to its parameters."""
        definition = self._definition(call)
        if any(arg.star for arg in call.args):
            return None
        if definition is None:
            return self._project_mutations(call)
        summary = self.summary_of(definition)
        if summary is _BEING_SUMMARISED:
            return None
        bound = _bound_arguments(call, definition)
        if bound is None:
            return None
        is_method = type(call.func) is cst.Attribute
        every_parameter = _parameter_names(definition.params)
        mutated: set[str] = set()
        for chain in summary.mutated:
            root, dot, rest = chain.partition(".")
            if is_method and root == "self":
                mutated.add(chain)
            elif root in bound:
                argument = dotted_name(bound[root])
                if argument is not None:
                    mutated.add(argument + dot + rest)
            elif root not in every_parameter and root not in summary.rebound:
                mutated.add(chain)
        return mutated

    def calls_fixed_by_inputs(
        self, call: cst.Call, changes: Callable[[str], bool], wanted: Callable[[cst.Call], bool] | None = None
    ) -> list[cst.Call]:
        """The calls that every run of ``call`` (of a function of this file, ``f(...)`` or
        ``self.f(...)``) makes, in the simple statements of its body before anything that may
        return or leave early, and that give an equal value each time ``call`` runs where
        ``changes(chain)`` says which names and attribute chains of the caller may change in
        between: their arguments read only the function's parameters (through the arguments
        ``call`` binds to them), attributes of ``self`` (for ``self.f(...)``) and module names,
        none of which the function itself changes, and local names assigned once before from
        such inputs (``A = self.K + lam * I`` then ``inv(A)``), and call only side-effect-free
        functions (``inv(self.K)`` in ``def predict(self, x): return x @ np.linalg.inv(self.K)``).
        With ``wanted``, only the calls it accepts: a cheap test of the call itself, asked before
        anything is worked out about the function's inputs."""
        definition = self._definition(call)
        if definition is None or any(arg.star for arg in call.args):
            return []
        if wanted is not None and not any(wanted(inner) for inner in _calls_before_leaving(definition)):
            return []
        summary = self.summary_of(definition)
        bound = _bound_arguments(call, definition)
        if summary is _BEING_SUMMARISED or bound is None or type(definition.body) is not cst.IndentedBlock:
            return []
        parameters = _parameter_names(definition.params)
        receiver = _first_parameter(definition.params) if type(call.func) is cst.Attribute else None
        if receiver is not None and dotted_name(call.func) != f"self.{cast(cst.Attribute, call.func).attr.value}":
            return []
        imports = self._context.imports

        # Local names assigned, so far, only from inputs fixed between runs; changed in place: no.
        fixed_locals: set[str] = set()
        mutated_only = Effects(mutated=summary.mutated)

        def changes_between_runs(chain: str) -> bool:
            root, dot, rest = chain.partition(".")
            if root in fixed_locals:
                return mutated_only.changes(chain)
            if summary.changes(chain):
                return True
            if root == receiver:
                return changes("self" + dot + rest)
            if root in bound:
                return not unchanged_by(bound[root], changes, imports)
            if root in parameters:
                return True
            return changes(chain)

        found: list[cst.Call] = []
        for statement in definition.body.body:
            if type(statement) is not cst.SimpleStatementLine:
                if _may_leave(statement):
                    break
                fixed_locals -= names_in(statement)
                continue
            for inner in _unconditional_calls(statement):
                if (wanted is None or wanted(inner)) and all(
                    unchanged_by(arg.value, changes_between_runs, imports) for arg in inner.args
                ):
                    found.append(inner)
            for small in statement.body:
                assigned = _assigned_name(small)
                fixed_locals -= _bound_names(small)
                if assigned is not None and unchanged_by(cast(cst.Assign, small).value, changes_between_runs, imports):
                    fixed_locals.add(assigned)
        return found

    def deterministic_costly_work(self, call: cst.Call, changes: Callable[[str], bool]) -> cst.CSTNode | None:
        """The costly work that ``call`` of a function of this file (``f(...)``, or
        ``self.f(...)``) does, when every run of ``call`` gives an equal value where
        ``changes(chain)`` says which names and attribute chains of the caller may change in
        between: its arguments do not change, and the function (with the functions of this file
        it calls, ``_DETERMINISTIC_CALL_DEPTH`` deep) is deterministic and changes nothing but
        the fresh objects it makes itself (``DeterministicWork``), reading attributes of
        ``self`` and module names that do not change. Costly work is a call the catalogue says
        is costly to recompute (``catalog.costly_to_recompute``: ``inv``, ``np.unique``,
        ``euclidean_distances``) or the fit of a model of a class that fits deterministically
        (``LinearGAM().fit(X, y)``). A loop is not evidence enough: most loops in such functions
        run over a few columns or parameters. None otherwise."""
        name = dotted_name(call.func)
        definition = self.definition(name) if name is not None else None
        if definition is None or _bound_arguments(call, definition) is None:
            return None
        receiver = None
        if type(call.func) is cst.Attribute:
            receiver = _first_parameter(definition.params)
            if receiver is None or name != f"self.{call.func.attr.value}":
                return None
        imports = self._context.imports
        if not all(unchanged_by(arg.value, changes, imports, through_comprehensions=True) for arg in call.args):
            return None
        work = self._work_of(definition, receiver, _DETERMINISTIC_CALL_DEPTH)
        if work is None or work.costly is None or any(changes(chain) for chain in work.reads):
            return None
        return work.costly

    def _work_of(self, definition: cst.FunctionDef, receiver: str | None, depth: int) -> DeterministicWork | None:
        if id(definition) not in self._deterministic_work:
            self._deterministic_work[id(definition)] = None  # a recursive call is not followed
            self._deterministic_work[id(definition)] = self._read_work(definition, receiver, depth)
        return self._deterministic_work[id(definition)]

    def _read_work(self, definition: cst.FunctionDef, receiver: str | None, depth: int) -> DeterministicWork | None:
        """``definition``'s ``DeterministicWork``, or None when it may not be deterministic or
        may change something besides its own fresh objects."""
        summary = self.summary_of(definition)
        if summary is _BEING_SUMMARISED or summary.declared_outer:
            return None
        parameters = _parameter_names(definition.params)
        imports = self._context.imports
        fresh = _fresh_locals(definition, parameters, imports)
        if any(chain.partition(".")[0] not in fresh for chain in summary.mutated):
            return None
        costly: cst.CSTNode | None = None
        reads: set[str] = set()
        stack: list[cst.CSTNode] = [definition.body]
        while stack:
            node = stack.pop()
            if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Yield, cst.Await, cst.Global, cst.Nonlocal)):
                return None
            if isinstance(node, cst.Call):
                work = self._call_work(node, receiver, fresh, depth)
                if work is None:
                    return None
                reads |= work.reads
                costly = costly or work.costly
            if type(node) is cst.Attribute and receiver is not None:
                chain = dotted_name(node)
                if chain is not None and chain.partition(".")[0] == receiver:
                    reads.add("self" + chain[len(receiver) :])
                    continue
            stack.extend(syntax_children(node))
        reads |= {
            name
            for name in names_in(definition.body) - parameters - summary.rebound
            if not hasattr(builtins, name) and imports.qualified_name(cst.Name(name)) is None
        }
        return DeterministicWork(costly, frozenset(reads))

    def _call_work(
        self, call: cst.Call, receiver: str | None, fresh: dict[str, bool], depth: int
    ) -> DeterministicWork | None:
        """What ``call``, made in a function whose fresh locals are ``fresh`` (each with whether
        it holds a model), costs and reads, when it is deterministic and changes nothing but
        those (a method of one of them, ``out.append(x)``, may change only it); None otherwise."""
        imports = self._context.imports
        record = catalog.lookup(imports.qualified_name(call.func))
        if record is not None and record.has(catalog.Flag.FITS_DETERMINISTICALLY):
            return DeterministicWork(None, frozenset())
        if call_may_be_invariant(call, imports, allow_conversions=True, identity=False):
            costly = call if record is not None and catalog.costly_to_recompute(record) else None
            return DeterministicWork(costly, frozenset())
        if type(call.func) is cst.Attribute and _is_model(call.func.value, fresh, imports):
            return DeterministicWork(call if call.func.attr.value == "fit" else None, frozenset())
        if type(call.func) is cst.Attribute and type(call.func.value) is cst.Name and call.func.value.value in fresh:
            return DeterministicWork(None, frozenset())  # ``out.append(x)``: a change to its own object
        name = dotted_name(call.func)
        if depth == 0 or name is None:
            return None
        own_receiver = None
        if type(call.func) is cst.Attribute:
            if receiver is None or name != f"{receiver}.{call.func.attr.value}":
                return None
            name = f"self.{call.func.attr.value}"
        definition = self.definition(name)
        if definition is None or _bound_arguments(call, definition) is None:
            return None
        if type(call.func) is cst.Attribute:
            own_receiver = _first_parameter(definition.params)
            if own_receiver is None:
                return None
        return self._work_of(definition, own_receiver, depth - 1)

    def _project_callee(self, call: cst.Call) -> CalleeFacts | None:
        """What the project index says a call of another file's function does, if anything."""
        project = self._context.project
        name = dotted_name(call.func)
        if project is None or name is None or name in self._by_call_name:
            return None
        return project.callees.get(name)

    def _project_mutations(self, call: cst.Call) -> set[str] | None:
        """The chains, in the caller's names, that a call of another file's function mutates
        through its parameters, by what the index says (its own globals and ``self`` are
        unknown: None unless the function is a plain one that mutates only parameters)."""
        facts = self._project_callee(call)
        if facts is None or facts.is_method:
            return None
        mutated: set[str] = set()
        for index, arg in enumerate(call.args):
            parameter = (
                arg.keyword.value
                if arg.keyword is not None
                else (facts.positional[index] if index < len(facts.positional) else None)
            )
            if parameter is None:
                return None
            if parameter in facts.mutated_parameters:
                argument = dotted_name(arg.value)
                if argument is not None:
                    mutated.add(argument)
        return mutated

    def body_computes_gradients(self, node: FunctionNode, depth: int) -> bool:
        """``FunctionFrame.computes_gradients`` of ``node``, its callees searched ``depth`` levels
        down: a function of this file by its body, one of another file by the project index's
        ``calls_backward``."""
        calls: list[cst.Call] = []
        for current in nodes_in_scope(node.body):
            if wants_gradients(current):
                return True
            if type(current) is cst.Call:
                calls.append(current)
        if depth == 0:
            return False
        project = self._context.project
        for call in calls:
            name = dotted_name(call.func) or ""
            if name == "self":
                name = "self.forward"  # a module calling itself runs its forward
            if name not in self._by_call_name:
                facts = project.callees.get(name) if project is not None else None
                if facts is not None and facts.calls_backward:
                    return True
                continue
            if any(
                definition is not node and self.body_computes_gradients(definition, depth - 1)
                for definition in self._by_call_name[name]
            ):
                return True
        return False

    def summaries_of_calls(self, calls: Iterable[cst.Call], depth: int = 2) -> Iterator[Effects]:
        """Summaries of the file's own functions that ``calls`` may call, and of the functions
        those call, ``depth`` levels down (recursion and long chains are cut off there)."""
        seen: set[int] = set()
        pending = [(call, depth) for call in calls]
        while pending:
            call, remaining = pending.pop()
            name = dotted_name(call.func)
            project = self._context.project
            if project is not None and name not in self._by_call_name:
                facts = project.callees.get(name or "")
                if facts is not None:
                    yield Effects(calls_backward=facts.calls_backward, steps_optimizer=facts.steps_optimizer)
                continue
            for definition in self._by_call_name.get(name or "", ()):
                if id(definition) in seen:
                    continue
                seen.add(id(definition))
                summary = self.summary_of(definition)
                yield summary
                if remaining > 0:
                    pending.extend((inner, remaining - 1) for inner in summary.local_calls)


# How many levels of calls ``FunctionFrame.computes_gradients`` searches below the function.
_CALLEES_SEARCHED = 2
# A loop over a literal range or collection of at most this many items is no evidence of
# repetition that matters (``for axis in range(3)``, ``for name in ("q", "k", "v")``).
_SMALL_LOOP = 8


def _small_literal_loop(node: cst.CSTNode, context: FileContext) -> bool:
    """``node`` iterates at most ``_SMALL_LOOP`` times, as the source states (``sizes.trip_count``:
    a literal collection or range, a name bound to one, ``range(len(xs))`` of one)."""
    count = trip_count(node, context)
    return count is not None and count <= _SMALL_LOOP


def _loop_words(node: cst.CSTNode) -> str:
    """``runs in a loop over `loader```, ``runs in a `while` loop``, ``runs in a comprehension
    over `xs```."""
    if type(node) is cst.While:
        return "runs in a `while` loop"
    iterable = node.iter if isinstance(node, cst.For) else cast(cst.BaseComp, node).for_in.iter
    text = quote(iterable, limit=40)
    return f"runs in a loop over `{text}`" if type(node) is cst.For else f"runs in a comprehension over `{text}`"


def _all_parameters(params: cst.Parameters) -> Iterator[cst.Param]:
    yield from (*params.posonly_params, *params.params, *params.kwonly_params)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            yield star


def _parameter_names(params: cst.Parameters) -> set[str]:
    return {param.name.value for param in _all_parameters(params)}


def _first_parameter(params: cst.Parameters) -> str | None:
    positional = (*params.posonly_params, *params.params)
    return positional[0].name.value if positional else None


def _called_function_names(body: cst.CSTNode) -> set[str]:
    """``f`` and ``step`` of the calls ``f(...)`` and ``self.step(...)`` in ``body``."""
    names: set[str] = set()
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        if type(node) is cst.Call:
            func = node.func
            if type(func) is cst.Name:
                names.add(func.value)
            elif type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self":
                names.add(func.attr.value)
        pending.extend(syntax_children(node))
    return names


def _self_attribute_values(class_node: cst.ClassDef) -> dict[str, cst.BaseExpression | None]:
    """``self.<attribute>`` assignments in the methods of ``class_node`` (nested classes not):
    the value of each attribute assigned once, None for one assigned more often or augmented."""
    values: dict[str, cst.BaseExpression | None] = {}
    for node in small_statements(class_node.body, skip=cst.ClassDef):
        if type(node) is cst.Assign:
            # Unpacked (``self.a, self.b = …``): each attribute gets a part of the value.
            assigned: list[tuple[cst.BaseExpression, cst.BaseExpression | None]] = []
            for assign_target in node.targets:
                if isinstance(assign_target.target, (cst.Tuple, cst.List)):
                    assigned.extend((element.value, None) for element in assign_target.target.elements)
                else:
                    assigned.append((assign_target.target, node.value))
        elif type(node) is cst.AnnAssign or type(node) is cst.AugAssign:
            assigned = [(node.target, node.value if isinstance(node, cst.AnnAssign) else None)]
        else:
            continue
        for target, value in assigned:
            if type(target) is cst.Attribute and type(target.value) is cst.Name and target.value.value == "self":
                name = target.attr.value
                values[name] = None if name in values or value is None else value
    return values


def _registered_buffers(class_node: cst.ClassDef) -> frozenset[str]:
    """The buffers ``class_node``'s ``__init__`` registers (see
    ``FunctionKnowledge.is_registered_buffer``), nested functions and classes left out."""
    methods = {
        statement.name.value: statement for statement in class_node.body.body if type(statement) is cst.FunctionDef
    }
    init = methods.get("__init__")
    if init is None or catalog.BUFFER_REGISTRATION_METHOD in methods:
        return frozenset()
    registered: set[str] = set()
    excluded: set[str] = set()
    stack: list[cst.CSTNode] = [init.body]
    while stack:
        node = stack.pop()
        node_type = type(node)
        if node_type is cst.FunctionDef or node_type is cst.ClassDef or node_type is cst.Lambda:
            continue
        stack.extend(syntax_children(node))
        if node_type is cst.Call:
            call = cast(cst.Call, node)
            func = call.func
            if (
                type(func) is not cst.Attribute
                or func.attr.value != catalog.BUFFER_REGISTRATION_METHOD
                or type(func.value) is not cst.Name
                or func.value.value != "self"
            ):
                continue
            arguments = _registration_arguments(call)
            if arguments is None:
                continue
            name, tensor = arguments
            if literal_value(tensor) is None:
                excluded.add(name)
            else:
                registered.add(name)
        elif node_type is cst.Assign or node_type is cst.AnnAssign:
            targets = (
                [target.target for target in cast(cst.Assign, node).targets]
                if node_type is cst.Assign
                else [cast(cst.AnnAssign, node).target]
            )
            for target in targets:
                for element in target.elements if isinstance(target, (cst.Tuple, cst.List)) else [target]:
                    assigned = element.value if isinstance(element, cst.BaseElement) else element
                    if (
                        type(assigned) is cst.Attribute
                        and type(assigned.value) is cst.Name
                        and assigned.value.value == "self"
                    ):
                        excluded.add(assigned.attr.value)
    return frozenset(registered - excluded)


def _registration_arguments(call: cst.Call) -> tuple[str, cst.BaseExpression] | None:
    """The literal name and the tensor a ``register_buffer`` call is given, when it gives both
    plainly."""
    if any(arg.star for arg in call.args):
        return None
    parameters = catalog.BUFFER_REGISTRATION_PARAMETERS
    given: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.keyword is None:
            if index >= len(parameters):
                continue
            given[parameters[index]] = arg.value
        else:
            given[arg.keyword.value] = arg.value
    name_parameter, tensor_parameter = parameters
    name = literal_value(given[name_parameter]) if name_parameter in given else None
    if not isinstance(name, str) or tensor_parameter not in given:
        return None
    return name, given[tensor_parameter]


def _bound_arguments(call: cst.Call, definition: cst.FunctionDef) -> dict[str, cst.BaseExpression] | None:
    """The arguments of ``call`` by the parameter of ``definition`` they bind to (the receiver of
    a method call, ``self.f(x)``, is not among them); None when they do not bind plainly."""
    params = definition.params
    if isinstance(params.star_arg, cst.Param) or any(arg.star for arg in call.args):
        return None
    positional = [param.name.value for param in (*params.posonly_params, *params.params)]
    if type(call.func) is cst.Attribute:
        positional = positional[1:]
    keywords = {param.name.value for param in (*params.params, *params.kwonly_params)}
    bound: dict[str, cst.BaseExpression] = {}
    for index, arg in enumerate(call.args):
        if arg.keyword is None:
            if index >= len(positional):
                return None
            bound[positional[index]] = arg.value
        elif arg.keyword.value in keywords:
            bound[arg.keyword.value] = arg.value
        else:
            return None
    return bound


# Statements after one of these may not run: it can end the function early.
_LEAVING = (cst.Return, cst.Raise, cst.Yield, cst.Break, cst.Continue)
# Parts of an expression that may run or not: branches, short circuits, nested scopes.
_MAY_NOT_RUN = (cst.IfExp, cst.BooleanOperation, cst.Lambda, *NEVER_THE_SAME_TWICE)


def _may_leave(statement: cst.CSTNode) -> bool:
    """``statement`` may return, raise or yield (nested functions and classes aside)."""
    return any(isinstance(node, _LEAVING) for node in nodes_in_scope(statement))


def _calls_before_leaving(definition: FunctionNode) -> Iterator[cst.Call]:
    """The calls the simple statements of ``definition``'s body make whenever they run, up to
    the first statement that may return or leave early."""
    if type(definition.body) is not cst.IndentedBlock:
        return
    for statement in definition.body.body:
        if type(statement) is not cst.SimpleStatementLine:
            if _may_leave(statement):
                return
            continue
        yield from _unconditional_calls(statement)


def _unconditional_calls(statement: cst.SimpleStatementLine) -> Iterator[cst.Call]:
    """The calls ``statement`` makes whenever it runs (not in a branch, a short circuit or a
    nested scope)."""
    pending: list[cst.CSTNode] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, _MAY_NOT_RUN):
            continue
        if type(node) is cst.Call:
            yield node
        pending.extend(syntax_children(node))


def _assigned_name(statement: cst.BaseSmallStatement) -> str | None:
    """``name`` of ``name = value``, one plain name assigned one value."""
    if type(statement) is cst.Assign and len(statement.targets) == 1 and type(statement.targets[0].target) is cst.Name:
        return statement.targets[0].target.value
    return None


def _bound_names(statement: cst.BaseSmallStatement) -> set[str]:
    """The names a small statement (re)binds: its assignment targets, ``del``, ``global``…"""
    if type(statement) is cst.Assign:
        return set().union(*(names_in(target.target) for target in statement.targets))
    if type(statement) is cst.AugAssign or type(statement) is cst.AnnAssign:
        return names_in(statement.target)
    if type(statement) in (cst.Del, cst.Global, cst.Nonlocal):
        return names_in(statement)
    return set()


def wants_gradients(node: cst.CSTNode) -> bool:
    """``node`` computes gradients (``computes_gradients``) or asks autograd to record for them:
    ``x.requires_grad_()`` or ``x.requires_grad = v``, with a flag not literally false."""
    if type(node) is cst.Call:
        func = node.func
        if type(func) is cst.Attribute and func.attr.value == "requires_grad_":
            return not node.args or literal_value(node.args[0].value) is not False
        return computes_gradients(node)
    if type(node) is cst.Assign:
        return literal_value(node.value) is not False and any(
            type(target.target) is cst.Attribute and target.target.attr.value == "requires_grad"
            for target in node.targets
        )
    return False


def computes_gradients(call: cst.Call) -> bool:
    """``call`` computes gradients: a gradient method (``loss.backward()``,
    ``torch.autograd.grad(...)``, the catalogue's ``GRADIENT_METHODS``), or a call asking for
    derivatives of its output by a keyword not literally false (``compute_force=True``)."""
    return (type(call.func) is cst.Attribute and call.func.attr.value in catalog.GRADIENT_METHODS) or any(
        _requests_derivatives(argument) for argument in call.args
    )


def _moves_or_sets_mode(expr: cst.BaseExpression) -> bool:
    """``net.to(device)``, ``net.cuda()``, ``net.eval()``: a call of a method that a module has
    and returns the module from (``catalog.MODEL_EVIDENCE_METHODS`` but ``parameters``)."""
    return (
        type(expr) is cst.Call
        and type(expr.func) is cst.Attribute
        and expr.func.attr.value in catalog.MODEL_EVIDENCE_METHODS
        and expr.func.attr.value != "parameters"
    )


def switches_to_training(call: cst.Call) -> bool:
    """``m.train()`` or ``m.train(True)``; ``m.train(False)`` is ``m.eval()``, and an unknown
    mode may be either (so it counts as training)."""
    mode: cst.BaseExpression | None = call.args[0].value if call.args else None
    return mode is None or literal_value(mode) is not False


def _model_modes(node: cst.ClassDef) -> tuple[dict[str, str], frozenset[str], bool]:
    """For ``ClassFrame.eval_mode_since``: the attributes ``a`` whose ``self.a`` some method of
    the class puts in eval mode (with the first such method's name), those it may put in
    training mode (``""`` for ``self.train()``: every submodule), and whether any code of the
    class computes gradients. Classes nested in it are theirs, not its."""
    evaluated: dict[str, str] = {}
    trained: set[str] = set()
    found = False
    for member in node.body.body if type(node.body) is cst.IndentedBlock else ():
        if type(member) is not cst.FunctionDef:
            continue
        stack: list[cst.CSTNode] = [member.body]
        while stack:
            current = stack.pop()
            if type(current) is cst.ClassDef:
                continue
            stack.extend(syntax_children(current))
            found = found or wants_gradients(current)
            if type(current) is not cst.Call:
                continue
            func = current.func
            if type(func) is not cst.Attribute or func.attr.value not in ("eval", "train"):
                continue
            receiver = dotted_name(func.value)
            if receiver == "self":
                attribute = ""
            elif receiver is not None and receiver.startswith("self.") and receiver.count(".") == 1:
                attribute = receiver[len("self.") :]
            else:
                continue
            if func.attr.value == "train" and switches_to_training(current):
                trained.add(attribute)
            elif attribute and (func.attr.value == "train" or not current.args):
                evaluated.setdefault(attribute, member.name.value)
    return evaluated, frozenset(trained), found


def _requests_derivatives(argument: cst.Arg) -> bool:
    """``argument`` asks for derivatives: a keyword the catalogue names (``compute_force``)
    whose value is not literally false."""
    keyword = argument.keyword
    if keyword is None or keyword.value not in catalog.DERIVATIVE_KEYWORDS:
        return False
    value = literal_value(argument.value)
    return value is UNKNOWN or bool(value)


@dataclass(frozen=True)
class DeterministicWork:
    """What a call of a deterministic function of this file does, one that changes nothing but
    the fresh objects it makes (``FunctionKnowledge.deterministic_costly_work``): its first
    costly work, if any, and the attribute chains of ``self`` (spelled ``self.…``) and module
    names it reads, which its callers must not change between calls."""

    costly: cst.CSTNode | None
    reads: frozenset[str]


def _fresh_locals(definition: cst.FunctionDef, parameters: set[str], imports: ImportTable) -> dict[str, bool]:
    """The local names of ``definition`` that every binding gives a new object of the
    function's own (a literal container, a comprehension, arithmetic, a fresh array, a copy, a
    model), each with whether every binding gives a model of a class that fits
    deterministically: what the function may change without changing anything its callers see.
    ``x += y`` keeps ``x`` its own (a new object, or the same one changed)."""
    bindings: dict[str, list[bool | None]] = {}  # per name: a model, another fresh object, or None
    for node in nodes_in_scope(definition.body):
        if type(node) is cst.Assign and len(node.targets) == 1 and type(node.targets[0].target) is cst.Name:
            name = cast(cst.Name, node.targets[0].target).value
            kind: bool | None = None
            if _is_model(node.value, _models_so_far(bindings), imports):
                kind = True
            elif _is_fresh(node.value, imports):
                kind = False
            bindings.setdefault(name, []).append(kind)
        elif type(node) is cst.AugAssign and type(node.target) is cst.Name:
            continue
        elif isinstance(node, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.NamedExpr, cst.For, cst.CompFor)):
            targets = (
                [target.target for target in node.targets]
                if type(node) is cst.Assign
                else [cast(_Binding, node).target]
            )
            for target in targets:
                for name in names_in(target):
                    bindings.setdefault(name, []).append(None)
        elif isinstance(node, (cst.AsName, cst.Del)):
            for name in names_in(node):
                bindings.setdefault(name, []).append(None)
    return {
        name: all(kinds)
        for name, kinds in bindings.items()
        if name not in parameters and all(kind is not None for kind in kinds)
    }


def _models_so_far(bindings: dict[str, list[bool | None]]) -> dict[str, bool]:
    return {name: True for name, kinds in bindings.items() if kinds and all(kinds)}


def _is_fresh(value: cst.BaseExpression, imports: ImportTable) -> bool:
    """``value`` is a new object each time it is computed, or an immutable one."""
    if isinstance(value, (cst.List, cst.Dict, cst.Set, cst.ListComp, cst.SetComp, cst.DictComp)):
        return True
    if isinstance(value, (cst.BinaryOperation, cst.UnaryOperation, cst.BaseNumber, cst.BaseString)):
        return True
    if type(value) is not cst.Call:
        return False
    func = value.func
    if type(func) is cst.Attribute and func.attr.value in ("copy", "clone") and not value.args:
        return True
    if type(func) is cst.Name and imports.is_builtin(func, func.value):
        return func.value in catalog.FRESH_OBJECT_BUILTINS
    record = catalog.lookup(imports.qualified_name(func))
    return record is not None and bool(record.flags & (catalog.Flag.FACTORY | catalog.Flag.FRESH_ARRAY))


def _is_model(value: cst.BaseExpression, fresh: dict[str, bool], imports: ImportTable) -> bool:
    """``value`` is a model of a class that fits deterministically, made in the function: a
    construction (``LinearGAM()``), a fresh local holding one, or a call of ``fit`` on one
    (which returns the model)."""
    while type(value) is cst.Call and type(value.func) is cst.Attribute and value.func.attr.value == "fit":
        value = value.func.value
    if type(value) is cst.Name:
        return fresh.get(value.value, False)
    if type(value) is not cst.Call:
        return False
    record = catalog.lookup(imports.qualified_name(value.func))
    return record is not None and record.has(catalog.Flag.FITS_DETERMINISTICALLY)
