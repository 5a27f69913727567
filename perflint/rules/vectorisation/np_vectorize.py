"""PFL104: ``numpy.vectorize``, which NumPy documents as essentially a Python for loop."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_elementwise
from perflint.engine.imports import dotted_name
from perflint.engine.literals import is_number_literal
from perflint.engine.quoting import quote
from perflint.engine.roles import Frequency
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.walker import names_in
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext

_NUMBERS = (cst.Integer, cst.Float, cst.Imaginary)


class NpVectorize(Rule):
    """``np.vectorize(f)`` calls ``f`` once per element, in the interpreter."""

    code = "PFL104"
    name = "np-vectorize"
    family = FAMILY
    summary = "numpy.vectorize, a Python loop in disguise"
    message = "`{vectorize}` calls the function once per element in Python; {advice}"
    fix_title = "Apply the lambda's arithmetic to the whole arrays"
    fix_safety = FIX_UNSAFE
    # Opt-in: 6 of its 7 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md, ../heldout_round5.md; its known limitations say why).
    default_enabled = False
    autofix = True
    required_text = ("vectorize",)
    paid_per_execution = True
    reported_at = "the `numpy.vectorize` call, or the decorator"

    what_it_does = (
        "Flags every use of `numpy.vectorize`, however imported: a call (`np.vectorize(f)`, "
        "`np.vectorize(f, otypes=[float])`) or a decorator (`@np.vectorize`, "
        '`@np.vectorize(otypes=[float])`), except with a core `signature=` (`"(f,t)->(t)"`): the '
        "function then receives whole sub-arrays and the loop runs over the leading dimensions only, "
        "typically a few channels. When the function is a lambda whose body is only arithmetic "
        "(single comparisons included) on its parameters, numbers and outside names, the message "
        "shows that body as the whole-array expression; when the vectorized lambda is called on the "
        "spot, it shows the body with the call's arguments in place of the parameters. For a "
        "vectorized dictionary lookup (`np.vectorize(d.get)`, a label mapping) the message advises "
        "one lookup per distinct value."
    )
    known_limitations = (
        "A vectorized function applied on the spot in run-once code outside loops (module level, "
        "`__init__`) is not flagged: its loop runs once; nor is any use in test code. A vectorized "
        "dictionary lookup is flagged only with evidence that its function is called repeatedly (per "
        "sample, per batch, from a loop): at fit or report time it runs once. A lambda or function of "
        "the same file that has no whole-array form is not flagged: one that solves or fits for one "
        "value at a time (`scipy.optimize.root_scalar`, a distribution's `fit`), calls another "
        "library, or calls methods of `self`. Nor is a function mapped to or over Python objects "
        "(`otypes=[object]`, an argument made with `dtype=object`): on an array of objects every "
        "whole-array operation runs per element in the interpreter too (round 8's held-out review "
        "found GPy's block matrix product, `np.vectorize(f, otypes=[object])` of per-block `np.dot`, "
        "flagged wrongly). Nor is a function that reads an item or an attribute of its argument other "
        "than a number's own (`lines[0].axes`, not `z.real`): no element of a numeric array has one, so "
        "the array holds Python objects (round 11's held-out review found python-control's "
        "`np.vectorize(lambda lines: lines[0].axes)` over an array of lists of Matplotlib lines "
        "flagged wrongly); a structured array's records, read by field, are missed with them."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`, `benchmarks/results/precision/heldout_round5.md`), "
        "6 of its 7 "
        "findings were worth fixing and none was wrong, below the 90% bar. The one not worth: a vectorized "
        "lookup over a sample's 30-1000 atoms (10-110 µs) beside the neighbour list and tensor constructions "
        "of the same sample; worth it over data-set-sized arrays (a 2.2-million-pixel mask per item, "
        "scores of every test sample)."
    )
    why_bad = (
        "NumPy's documentation says it: `vectorize` is provided primarily for convenience, not "
        "for performance, and the implementation is essentially a for loop. Every element is "
        "boxed into a Python object, the function is called through the interpreter, and the "
        "result is unboxed, which costs a few hundred nanoseconds per element against a few "
        "nanoseconds for a ufunc on the whole array."
    )
    example = """\
import numpy as np

def soft_threshold(x: np.ndarray, t: float) -> np.ndarray:
    shrink = np.vectorize(lambda v: v - t if v > t else (v + t if v < -t else 0.0))
    return shrink(x)
"""
    use_instead = """\
import numpy as np

def soft_threshold(x: np.ndarray, t: float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)
"""
    fix_safety_note = (
        "Unsafe. A function of Python scalars does not always mean the same on whole arrays: "
        "`if`/`and`/`or` raise on arrays and must become `np.where` or boolean masks, integer "
        "division and overflow follow NumPy's rules, and `vectorize` picks its output type "
        "from the first result (or `otypes`) where the array expression follows NumPy's type "
        "promotion. An arithmetic-only lambda computes the same values on whole arrays, up to "
        "that output type. The fix covers that case alone: a vectorized arithmetic lambda "
        "called on the spot, `np.vectorize(lambda x: x * 2 + 1)(a)`, becomes its body on the "
        "arrays, `(a * 2 + 1)`, when every parameter is used and every argument is a name (or "
        "attribute) known to hold a NumPy array, or a number, and `vectorize` gets no other "
        "argument (`otypes`, `excluded`...); anything else gets no fix. Still unsafe: a 0-d "
        "array argument gives a NumPy scalar where `vectorize` returned a 0-d array, an empty "
        "one gives an empty array where `vectorize` raised, and an outside name holding an "
        "array broadcasts against the arguments where `vectorize` put an array in each element "
        "(and failed)."
    )

    VALID = (
        # Applied for its side effects, its results discarded (avalanche's plotting example):
        # a loop over objects, with no whole-array form.
        """
        import numpy as np
        def show(samples, axes, experiences):
            for k in experiences:
                for j in range(10):
                    axes[k, j].imshow(samples[j])
                np.vectorize(lambda ax: ax.axis("off"))(axes)
        """,
        # Applied in a loop of set-up code: the loop runs once per program.
        """
        import numpy as np
        class Codec:
            def __init__(self, tables):
                self.tables = [np.vectorize(lambda v: v * 2)(t) for t in tables]
        """,
        # A dictionary lookup with no evidence that it repeats: a label mapping at fit time.
        """
        import numpy as np
        class Classifier:
            def prepare_target(self, y: np.ndarray) -> np.ndarray:
                return np.vectorize(self.target_mapper.get)(y)
        """,
        # A ufunc, and a vectorize-like helper of another library.
        """
        import numpy as np
        y = np.sqrt(x) * 2
        vectorize = make_vectorizer()
        z = vectorize(f)
        """,
        # ``np.frompyfunc`` and a method named ``vectorize`` are not numpy.vectorize.
        """
        import numpy as np
        text_vectorizer.vectorize(documents)
        f = np.frompyfunc(g, 1, 1)
        """,
        # A generalised-ufunc signature: the function takes whole sub-arrays, and the loop
        # runs over the leading (channel) dimensions only.
        """
        import numpy as np
        def pitch(S, freqs):
            helper = np.vectorize(_track, signature="(f,t),(k,t)->(d,t)")
            return helper(S, freqs)
        """,
        # Applied once at module level, and test code.
        """
        import numpy as np
        NAMES = np.vectorize({0: "a", 1: "b"}.get)(np.arange(2))
        def test_mapping(labels):
            square = np.vectorize(lambda x: x * x)
            assert (square(labels) == labels ** 2).all()
        """,
        # A root found per element (lifelines' ``percentile``): the function solves for one
        # value at a time and calls the model's own methods, with no whole-array form.
        """
        import numpy as np
        from scipy.optimize import root_scalar
        class Fitter:
            def percentile(self, p):
                def _find_root(_p):
                    f = lambda t: _p - float(self.survival_function_at_times(t).values[0])
                    return root_scalar(f, bracket=(1e-10, 10.0)).root
                return np.vectorize(_find_root, otypes=[float])(p)
        """,
        # Python objects in or out: the blocks of a block matrix (GPy's `block_dot`), labels
        # of an object array. Whole-array operations on objects run per element too.
        """
        import numpy as np
        def block_dot(A, B):
            def f(C, D):
                return np.dot(C, D)
            dot = np.vectorize(f, otypes=[object])
            return dot(A, B)
        def tags(n, names):
            labels = np.empty(n, dtype=object)
            labels[:] = names
            for _ in range(3):
                yield np.vectorize(lambda v: v + "!")(labels[1:])
                yield np.vectorize(lambda v: v * 2, otypes="O")(labels)
        """,
        # The function reads items and attributes of what it is given (python-control's
        # `get_plot_axes`: the axes of the first line of each list of Matplotlib lines): the
        # array holds Python objects, and no whole-array operation reads an attribute.
        """
        import numpy as np
        def get_plot_axes(line_array):
            _get_axes = np.vectorize(lambda lines: lines[0].axes)
            return _get_axes(line_array)
        def labels(records):
            def name_of(record):
                return record.name.upper()
            for _ in range(3):
                yield np.vectorize(name_of)(records)
        """,
        # A name shadowing the import.
        """
        import numpy as np
        from numpy import vectorize
        def vectorize(f):
            return f
        @vectorize
        def g(x):
            return x + 1
        """,
    )
    INVALID = (
        # A dictionary lookup per element: the advice maps each distinct value once.
        Invalid(
            """
            import numpy as np
            class Masks:
                def __getitem__(self, index: int) -> np.ndarray:
                    return np.vectorize(self.label_to_id.get)(self.masks[index])
            """,
            line=4,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            square_plus_one = np.vectorize(lambda x: x * x + 1)
            """,
            line=2,
            column=19,
            fixed=NO_FIX,
        ),
        # A single comparison is element-wise too.
        Invalid(
            """
            import numpy as np
            def above(a: np.ndarray):
                return np.vectorize(lambda x: x > 0.5)(a)
            """,
            line=3,
            fixed="""
            import numpy as np
            def above(a: np.ndarray):
                return (a > 0.5)
            """,
        ),
        Invalid(
            """
            import numpy as np

            @np.vectorize
            def clipped(v):
                return min(max(v, 0.0), 1.0)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            from numpy import vectorize

            @vectorize(otypes=[float])
            def step(v):
                return 1.0 if v > 0 else 0.0
            """,
            line=3,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy
            def scaled(a, b, c):
                return numpy.vectorize(lambda x, y: 2 * x - y / c)(a, b)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # The same with arrays known: the body applied to them.
        Invalid(
            """
            import numpy
            def scaled(a: numpy.ndarray, b: numpy.ndarray, c):
                return numpy.vectorize(lambda x, y: 2 * x - y / c)(a, b)
            """,
            line=3,
            fixed="""
            import numpy
            def scaled(a: numpy.ndarray, b: numpy.ndarray, c):
                return (2 * a - b / c)
            """,
        ),
        Invalid(
            """
            from numpy import vectorize
            import numpy as np
            def affine(a: np.ndarray, gain):
                shifted = vectorize(
                    lambda x, shift: (x - shift) * gain  # per element
                )(a, -1.5)
                return shifted
            """,
            line=4,
            fixed="""
            from numpy import vectorize
            import numpy as np
            def affine(a: np.ndarray, gain):
                shifted = ((a - (-1.5)) * gain)
                return shifted
            """,
        ),
        # Near-misses of a function given Python objects: a number's own attribute (`.real`),
        # and an item of an outside table indexed by the element (a lookup, `weights[idx]`).
        Invalid(
            """
            import numpy as np
            def gains(z: np.ndarray):
                return np.vectorize(lambda v: v.real * 2)(z)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            def gains(z: np.ndarray, weights, idx):
                return np.vectorize(lambda i: weights[i] * 2)(idx)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # A parameter unused (its argument still shapes the broadcast): no fix.
        Invalid(
            """
            import numpy as np
            def f(a: np.ndarray, b: np.ndarray):
                return np.vectorize(lambda x, y: x + 1)(a, b)
            """,
            line=3,
            fixed=NO_FIX,
        ),
    )

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        # ``np.vectorize(f)(a)``: the outer call is visited first and reports the inner one.
        self._reported: set[int] = set()

    def visit_Decorator(self, node: cst.Decorator) -> None:
        if self._is_vectorize(node.decorator) and not self.context.functions.in_test_code():
            self.report(node, self.message.format(vectorize=quote(node.decorator), advice=_GENERIC_ADVICE))

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.functions.in_test_code():
            # Tests pay for their own loops (and may test vectorize itself).
            return
        if type(node.func) is cst.Call and self._is_vectorize(node.func.func):
            self._reported.add(id(node.func))
            # Applied on the spot in run-once code (module level, a test) or in set-up: its loop
            # runs once. (Made in ``__init__`` and applied per call elsewhere, it is reported.)
            if self._for_its_side_effects(node):
                # ``np.vectorize(lambda ax: ax.axis("off"))(axes)``: a loop over objects whose
                # results are thrown away, with no whole-array form to offer.
                return
            if not self.context.runs_once() and self.context.frequency().frequency is not Frequency.COLD:
                self._report_call(node.func, node)
        elif self._is_vectorize(node.func) and id(node) not in self._reported:
            self._report_call(node, None)

    def _for_its_side_effects(self, applied: cst.Call) -> bool:
        """``applied`` (the vectorized function called on the spot) stands as a statement: the
        array of its results is discarded, so the function runs for what it does to each item."""
        parent = self.context.path_to(applied)[-2]
        return type(parent) is cst.Expr and parent.value is applied

    def _is_vectorize(self, expr: cst.BaseExpression) -> bool:
        return self.context.imports.qualified_name(expr) == "numpy.vectorize"

    def _report_call(self, call: cst.Call, applied: cst.Call | None) -> None:
        """Report ``call`` (``np.vectorize(...)``); ``applied`` calls its result on the spot."""
        advice = _GENERIC_ADVICE
        bound = catalog.bind(call, catalog.listed("numpy.vectorize"))
        if bound is None or not bound.is_known("signature") or bound.passes("signature"):
            # With a core signature the function gets whole sub-arrays: the loop runs over the
            # broadcast (batch, channel) dimensions only, not over elements.
            return
        pyfunc = bound.argument("pyfunc")
        if self._maps_objects(bound.argument("otypes"), applied) or (
            not bound.passes("excluded")
            and pyfunc is not None
            and self.context.functions.reads_objects_of_parameters(pyfunc)
        ):
            # Python objects in or out (the blocks of a block matrix, lists of plotted lines
            # whose `.axes` the function reads): every whole-array operation on an array of
            # objects runs per element in the interpreter too, and none reads an attribute.
            return
        if isinstance(pyfunc, (cst.Lambda, cst.Name)) and not self.context.functions.has_whole_array_form(pyfunc):
            # A function of this file that solves or fits per element (``root_scalar``), calls
            # another library or methods of ``self``: no whole-array form to advise.
            return
        fix = None
        if type(pyfunc) is cst.Attribute and pyfunc.attr.value == "get":
            if not self.context.functions.call_frequency().repeats:
                # A label mapping runs where labels are read: at set-up, at fit or report time,
                # once (over a few columns at most); only evidence that its function runs per
                # sample or per batch makes it worth it.
                return
            advice = _lookup_advice(pyfunc.value, applied)
        elif type(pyfunc) is cst.Lambda and _is_arithmetic(pyfunc.body, _parameters(pyfunc), self.context):
            inlined = _inlined(pyfunc, applied) if applied is not None else None
            if inlined is not None and applied is not None:
                advice = f"use `{quote(inlined)}`, which computes the same on whole arrays"
                if set(bound.given) == {"pyfunc"} and self._inlines_exactly(pyfunc, applied):
                    whole_arrays = inlined.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
                    fix = Fix.replace(
                        applied, whole_arrays, title=f"Replace the vectorized lambda with `{quote(whole_arrays)}`"
                    )
            else:
                advice = f"apply `{quote(pyfunc.body)}` to whole arrays, which computes the same"
        self.report(call, self.message.format(vectorize=quote(call.func), advice=advice), fix=fix)

    def _maps_objects(self, otypes: cst.BaseExpression | None, applied: cst.Call | None) -> bool:
        """The vectorized function returns Python objects (``otypes=[object]``) or is applied to
        an array of them (``np.array(blocks, dtype=object)``)."""
        arrays = self.context.arrays
        if isinstance(otypes, (cst.List, cst.Tuple)):
            if any(arrays.names_object_dtype(element.value) for element in otypes.elements):
                return True
        elif otypes is not None and arrays.names_object_dtype(otypes):
            return True
        return applied is not None and any(arrays.holds_objects(argument.value) for argument in applied.args)

    def _inlines_exactly(self, function: cst.Lambda, applied: cst.Call) -> bool:
        """The lambda's body on ``applied``'s arguments computes what the vectorized call does,
        up to the output's type: the body is an operation (a bare parameter would return the
        argument itself, not a new array), and each argument is a number, or a name or
        attribute known to hold a NumPy array (read twice where the body uses it twice, with
        the same value)."""
        if type(function.body) is cst.Name:
            return False
        arrays = 0
        for argument in applied.args:
            value = argument.value
            number = (
                value.expression if type(value) is cst.UnaryOperation and type(value.operator) is cst.Minus else value
            )
            if is_number_literal(number):
                continue
            if dotted_name(value) is None or self.context.arrays.kind_of(value) != catalog.NUMPY:
                return False
            arrays += 1
        return arrays > 0


_GENERIC_ADVICE = "write the function with whole-array operations (ufuncs, `np.where`, broadcasting)"


def _lookup_advice(table: cst.BaseExpression, applied: cst.Call | None) -> str:
    """What to write for ``np.vectorize(d.get)(a)``: a dictionary lookup per element becomes
    one lookup per distinct value, and an index into the looked-up values."""
    values = quote(applied.args[0].value, 40) if applied is not None and applied.args else "a"
    mapping = quote(table, 40)
    return (
        f"look up each distinct value once and index: `keys, inverse = np.unique({values}, "
        f"return_inverse=True)`, then `np.array([{mapping}.get(k) for k in keys])[inverse]` "
        "(or index a lookup array built once, for small integer keys)"
    )


def _parameters(function: cst.Lambda) -> list[str] | None:
    """The lambda's plain positional parameters, or None when it has any other kind."""
    params = function.params
    if params.posonly_params or params.kwonly_params or isinstance(params.star_arg, cst.Param):
        return None
    if params.star_kwarg is not None:
        return None
    if any(param.default is not None for param in params.params):
        return None
    return [param.name.value for param in params.params]


def _is_arithmetic(expr: cst.BaseExpression, parameters: list[str] | None, context: FileContext) -> bool:
    """``expr`` is made only of element-wise operators, numbers and names. No calls: the
    fix puts the arguments in place of the parameters by name, which a keyword so named
    would break."""
    if parameters is None:
        return False
    return is_elementwise(expr, lambda node: True if type(node) is cst.Name else None, context, libraries=())


class _Substitute(cst.CSTTransformer):
    def __init__(self, replacements: dict[str, cst.BaseExpression]) -> None:
        super().__init__()
        self._replacements = replacements

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        replacement = self._replacements.get(original_node.value)
        if replacement is None:
            return updated_node
        if type(replacement) in (cst.Name, cst.Attribute, cst.Subscript, cst.Call, *_NUMBERS):
            return replacement
        return replacement.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _inlined(function: cst.Lambda, applied: cst.Call) -> cst.BaseExpression | None:
    """The lambda's body with ``applied``'s positional arguments for its parameters; None
    unless the body uses every parameter (an unused one still shapes ``vectorize``'s
    broadcast, which the body alone would not)."""
    parameters = _parameters(function)
    if parameters is None or len(applied.args) != len(parameters) or not set(parameters) <= names_in(function.body):
        return None
    if any(arg.keyword is not None or arg.star for arg in applied.args):
        return None
    replacements = {name: arg.value for name, arg in zip(parameters, applied.args)}
    return cast(cst.BaseExpression, function.body.visit(_Substitute(replacements)))


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    return (np.random.default_rng(0).standard_normal(size),)


def _pattern(x):
    import numpy as np

    return np.vectorize(lambda v: 0.5 * v * v + 1.0)(x)


def _fix(x):
    return 0.5 * x * x + 1.0


NpVectorize.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=64,
    size_unit="elements",
    timed=(
        "`np.vectorize(lambda v: 0.5 * v * v + 1.0)(x)` over an n-element float64 array against `0.5 * x * x + 1.0`."
    ),
)
