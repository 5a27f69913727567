"""Heavy work beside a finding: what one loop iteration, or one call of a function, does that
costs far more than a small saving there.

A sync, a small host-to-device copy or a few scalar operations cost microseconds. Made in a
training step, beside a model's forward pass and an optimizer step, or in a loop that fits a
model or reads a file on every iteration, they are a rounding error of the iteration: correct
to point out, not worth changing. Reviewers of every round gave that reason more than any other
for "correct but not worth fixing". This module says whether the code around a node does such
work on every run, and names it.

Heavy work is a model's forward pass (a call of something ``FunctionKnowledge.holds_a_model``
says is a model, or of a compute-bound torch layer the class holds), a backward pass, an
optimizer step, a fit, a linear solve or a decomposition (``Flag.EXPENSIVE``), file I/O, and
the compute-bound torch functions (convolutions, attention). A matrix product is not: its cost
depends on sizes the code rarely states.

It is the instrument of ``dwarfed_gating.py``, round 11's measurement of whether the answer
separates findings worth fixing from those not worth it; it did not (``round11/dwarfed_gating.md``),
so no rule asks it and it lives here, beside its one user, with the library facts it reads. A rule
that comes to use it moves it into the engine and those facts into the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from perflint.engine import catalog
from perflint.engine.catalog import Flag
from perflint.engine.control_flow import tests_a_debug_flag
from perflint.engine.effects import is_optimizer
from perflint.engine.imports import dotted_name
from perflint.engine.loops import repeated_parts, uses_modulo
from perflint.engine.walker import contains, syntax_children

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

# Layers whose forward pass is compute-bound work on every call (convolutions, recurrent and
# attention layers, transformers): a sync, a small copy or a few scalar operations beside one
# cost little in comparison. A ``Linear`` or a norm is left out: its cost depends on sizes the
# code rarely states.
COMPUTE_BOUND_LAYERS = frozenset(
    {
        *(f"torch.nn.{kind}{dims}d" for kind in ("Conv", "ConvTranspose") for dims in (1, 2, 3)),
        "torch.nn.LSTM",
        "torch.nn.GRU",
        "torch.nn.RNN",
        "torch.nn.MultiheadAttention",
        "torch.nn.Transformer",
        "torch.nn.TransformerEncoder",
        "torch.nn.TransformerDecoder",
        "torch.nn.TransformerEncoderLayer",
        "torch.nn.TransformerDecoderLayer",
    }
)
# The functional forms of those layers' work.
COMPUTE_BOUND_FUNCTIONS = frozenset(
    {
        *(f"torch.nn.functional.{kind}{dims}d" for kind in ("conv", "conv_transpose") for dims in (1, 2, 3)),
        "torch.nn.functional.scaled_dot_product_attention",
        "torch.nn.functional.multi_head_attention_forward",
    }
)
# Methods that fit an estimator to data (scikit-learn's and its imitators'): an optimisation or
# a factorisation over the whole data set on every call.
FITTING_METHODS = frozenset({"fit", "fit_transform", "fit_predict", "partial_fit"})

# Catalogue flags of calls that are heavy work, with what each does in words.
_HEAVY_FLAGS = (
    (Flag.EXPENSIVE, "a decomposition, an inverse or a pairwise table"),
    (Flag.SOLVES, "a linear solve"),
    (Flag.READS_ARRAY_FILE | Flag.READS_FILE | Flag.LOADS_MODEL, "a file read"),
    (Flag.WRITES_ARRAY_FILE | Flag.WRITES_TABLE_FILE, "a file write"),
)
_FILE_IO_FUNCTIONS = frozenset({"builtins.open", "torch.save"})
_NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


@dataclass(frozen=True)
class HeavyWork:
    """What does heavy work (a call, or a loop whose iteration is a training step through the
    file's own functions), and what it does in words (``a model's forward pass``)."""

    node: cst.CSTNode
    what: str


def heavy_work_beside(node: cst.CSTNode, context: FileContext) -> HeavyWork | None:
    """Heavy work that runs every time ``node`` does, besides ``node`` itself and what it holds:
    in the same iteration of the innermost loop around it in its function, or, outside loops,
    in the same call of its function. A model's forward pass (``self.model(x)``, a
    ``self.conv1`` made with ``nn.Conv2d``), a backward pass, an optimizer step, a fit
    (``est.fit(X)``, ``scipy.optimize.minimize``), a linear solve or a decomposition, file I/O,
    a convolution (``F.conv2d``); or one of those, a backward pass or an optimizer step in a
    function of this file that the iteration or call makes (its own body, or the functions it
    calls in turn). What runs only every N iterations (``if step % 100 == 0:``), under a
    debugging flag or in an exception handler does not count. None at module level outside
    loops and in class bodies, whose code runs once. The loop and the function are found from
    ``node`` itself, so a rule may ask after the walk has left them."""
    parts = _parts_run_with(context.path_to(node))
    if parts is None:
        return None
    own_calls: list[cst.Call] = []
    for call in _calls_every_time(parts):
        if contains(node, call):
            continue
        what = _heavy_call(call, context)
        if what is not None:
            return HeavyWork(call, what)
        if _may_call_own_function(call):
            own_calls.append(call)
    for call in own_calls:
        name = dotted_name(call.func)
        definition = context.functions.definition(name) if name is not None else None
        if definition is None:
            continue
        for inner in _calls_every_time([definition.body]):
            what = _heavy_call(inner, context)
            if what is not None:
                return HeavyWork(call, f"{what}, in `{name}`")
    for call in own_calls:
        for summary in context.functions.summaries_of_calls([call]):
            if summary.calls_backward or summary.steps_optimizer:
                return HeavyWork(call, f"a training step, through `{dotted_name(call.func)}`")
    return None


def _parts_run_with(path: list[cst.CSTNode]) -> list[cst.CSTNode] | None:
    """What runs each time the last node of ``path`` (from the module down to it) does: the
    innermost loop's iteration around it, else the body of its function; None in run-once
    code."""
    for depth in range(len(path) - 2, -1, -1):
        ancestor, child = path[depth], path[depth + 1]
        if isinstance(ancestor, cst.For):
            if child is ancestor.body:
                return repeated_parts(ancestor)
        elif isinstance(ancestor, cst.While):
            if child is ancestor.test or child is ancestor.body:
                return repeated_parts(ancestor)
        elif isinstance(ancestor, _COMPREHENSIONS):
            # A comprehension's first iterable is evaluated once, before the first item.
            first = ancestor.for_in
            if not (child is first and depth + 2 < len(path) and path[depth + 2] is first.iter):
                return repeated_parts(ancestor)
        elif isinstance(ancestor, (cst.FunctionDef, cst.Lambda)):
            return [ancestor.body]
        elif type(ancestor) is cst.ClassDef:
            return None
    return None


def runs_a_model(call: cst.Call, context: FileContext) -> bool:
    """``call`` runs a model's forward pass: it calls a model (``model(x)``, ``self.encoder(h)``,
    ``self.nets[i](x)``, or ``model.forward(x)`` / ``model.predict(x)``, as
    ``FunctionKnowledge.holds_a_model`` knows models), or a compute-bound torch layer the class
    holds (``self.conv1(x)`` after ``self.conv1 = nn.Conv2d(...)``, ``self.lstm(x)``)."""
    func = call.func
    if type(func) is cst.Attribute and func.attr.value in catalog.PREDICTION_METHODS:
        func = func.value
    if type(func) is cst.Subscript:
        items = dotted_name(func.value)
        return items is not None and context.functions.holds_a_model(f"{items}[]")
    callee = dotted_name(func)
    if callee is None:
        return False
    if context.functions.holds_a_model(callee):
        return True
    owner, _, attribute = callee.rpartition(".")
    if owner != "self":
        return False
    value = context.functions.attribute_value(attribute)
    return value is not None and context.arrays.constructor_of(value) in COMPUTE_BOUND_LAYERS


def _heavy_call(call: cst.Call, context: FileContext) -> str | None:
    """What ``call`` does, when it is heavy work; None otherwise."""
    func = call.func
    if type(func) is cst.Attribute:
        method = func.attr.value
        if method in catalog.GRADIENT_METHODS and method != "grad":
            return "a backward pass"
        if method == "step" and is_optimizer(func.value):
            return "an optimizer step"
        if method in FITTING_METHODS:
            return "a fit"
    qualified = context.imports.qualified_name(func)
    if qualified is not None:
        if qualified in COMPUTE_BOUND_FUNCTIONS:
            return "a convolution or attention"
        if qualified in _FILE_IO_FUNCTIONS:
            return "file I/O"
        if qualified == "torch.autograd.grad":
            return "a backward pass"
        if catalog.fits_one_sample(qualified):
            return "a fit"
        record = catalog.lookup(qualified)
        if record is not None:
            for flag, what in _HEAVY_FLAGS:
                if record.flags & flag:
                    return what
        return None
    if runs_a_model(call, context):
        return "a model's forward pass"
    return None


def _may_call_own_function(call: cst.Call) -> bool:
    """``f(...)`` or ``self.f(...)``: possibly a function of the same file."""
    func = call.func
    if type(func) is cst.Name:
        return True
    return type(func) is cst.Attribute and type(func.value) is cst.Name and func.value.value == "self"


def _calls_every_time(parts: list[cst.CSTNode]) -> Iterator[cst.Call]:
    """The calls in ``parts`` that run whenever the parts run, as far as periodic work is
    concerned: not in nested functions, not in an ``if`` whose test uses ``%`` or a debugging
    flag (periodic logging, profiling), not in an exception handler."""
    stack: list[cst.CSTNode] = list(reversed(parts))
    while stack:
        node = stack.pop()
        if isinstance(node, _NESTED_SCOPES) or type(node) is cst.ExceptHandler:
            continue
        if type(node) is cst.If and (uses_modulo(node.test) or tests_a_debug_flag(node.test)):
            if node.orelse is not None:
                stack.append(node.orelse)
            continue
        if type(node) is cst.Call:
            yield node
        stack.extend(reversed(syntax_children(node)))
