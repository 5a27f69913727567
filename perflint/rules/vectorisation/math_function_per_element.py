"""PFL103: a ``math`` function applied to one element of an array per loop iteration."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import element_count
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY


class MathFunctionPerElement(Rule):
    """``math.exp(a[i])`` in a loop: a scalar function where a ufunc would do the whole array."""

    code = "PFL103"
    name = "math-function-per-element"
    family = FAMILY
    summary = "math.* function applied to array elements one at a time in a loop"
    message = "`{call}` runs once per element of `{array}`; use `{equivalent}` on the whole array"
    fix_title = "Call the NumPy (or torch) element-wise function once on the whole array"
    fix_safety = FIX_UNSAFE
    # Opt-in: none of its findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("math",)
    paid_in_the_interpreter = True
    reported_at = "the `math` call"

    what_it_does = (
        "Flags, inside a loop or comprehension, a call of a `math` function that has an element-wise "
        "NumPy equivalent (`sqrt`, `exp`, `log`, `log2`, `log10`, `log1p`, `expm1`, `sin`, `cos`, "
        "`tan`, `asin`, `acos`, `atan`, `atan2`, `sinh`, `cosh`, `tanh`, `floor`, `ceil`, `fabs`, "
        "`trunc`, `pow`, `hypot`, `erf`, `isnan`, `isinf`, `isfinite`, `degrees`, `radians`, "
        "`copysign`) when an argument is one element of a known NumPy array or torch tensor, alone or"
        " in arithmetic (`math.exp(-x / t)`): the loop's target in `for x in a` or `for i, x in "
        "enumerate(a)`, or `a[i]` in a loop over `a`'s own indices (`for i in range(len(a))`, "
        "`range(a.shape[0])`)."
    )
    known_limitations = (
        "`math` on scalars, on items of a list or of values of unknown type, or on one element of an "
        "array read in a loop over something else (a loop over images that reads each image's height "
        "from a tensor), is not flagged. "
        "Code that numba, JAX, TorchScript, `torch.compile` or Cython compiles is left alone: its loops do not run in the interpreter."
        " Opt-in since round 11 of the precision review: neither of its findings at 2 places on code it "
        "had not been tuned on was worth fixing. ase's generator yields one copied structure per "
        "animation frame, so the loop stays and vectorising `sin` saves a fraction of a microsecond "
        "per frame; python-control's `circlegrid` places 10 starting points per phase plot, where the "
        "comprehension was no slower than the whole-array form. At 90% precision a record of 0 worth "
        "fixing in 2 reads happens 1 time in 100, below round 11's 5% criterion (`python benchmarks/track_record.py decide benchmarks/results/precision/round5/track_verdicts.csv`). Worth it "
        "over arrays of thousands of elements in a loop that does nothing else."
    )
    why_bad = (
        "`math` functions take one Python float: each iteration boxes an element into a Python "
        "scalar, calls the function through the interpreter, and boxes the result. NumPy's "
        "ufunc (`np.exp`) runs the same function over the whole array in one compiled, "
        "vectorised loop, typically a hundred times faster for arrays of thousands of elements."
    )
    example = """\
import math
import numpy as np

def gaussian(d: np.ndarray, sigma: float) -> list:
    return [math.exp(-x * x / (2 * sigma * sigma)) for x in d]
"""
    use_instead = """\
import math
import numpy as np

def gaussian(d: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(-d * d / (2 * sigma * sigma))
"""
    fix_safety_note = (
        "Unsafe. The ufunc computes the same values, but returns an array where the loop built "
        "a list or wrote element by element, and handles domain errors differently: `math.log(0)` "
        "and `math.sqrt(-1)` raise `ValueError`, where `np.log(0)` gives `-inf` and "
        "`np.sqrt(-1)` gives `nan` with a warning. `math.floor`, `ceil` and `trunc` return Python "
        "ints, their array equivalents floats. On float32 data the ufunc computes in float32, "
        "the `math` function in float64, so the last bits can differ."
    )

    VALID = (
        # Scalars: a math function is the right tool.
        """
        import math
        import numpy as np
        def schedule(step: int, total: int) -> float:
            return 0.5 * (1 + math.cos(math.pi * step / total))
        """,
        # Items of a list, or of values of unknown type.
        """
        import math
        def norms(values, pairs):
            out = [math.sqrt(v) for v in values]
            for a, b in pairs:
                out.append(math.hypot(a, b))
            return out
        """,
        # A loop over something else that reads one element of an array on the way.
        """
        import math
        import torch
        def patches(images: torch.Tensor, heights: torch.Tensor, patch: int):
            for b in range(images.shape[0]):
                rows = math.ceil(heights[b] / patch)
                crop(images[b], rows)
        """,
        # An element reduced to a scalar first, and a loop target rebound in the loop.
        """
        import math
        import numpy as np
        def f(a: np.ndarray):
            for row in a:
                print(math.sqrt(row.sum()))
            for x in a:
                x = float(x) + 1
                print(math.log(x))
        """,
        # A function numba compiles: per-element math is how numba code is written.
        """
        import math
        import numba
        import numpy as np
        @numba.njit(cache=True)
        def log_all(a: np.ndarray) -> None:
            for i in range(len(a)):
                a[i] = math.log(a[i])
        """,
    )
    INVALID = (
        Invalid(
            """
            import math
            import numpy as np
            def log_all(a: np.ndarray) -> None:
                for i in range(len(a)):
                    a[i] = math.log(a[i])
            """,
            line=5,
            column=16,
        ),
        Invalid(
            """
            from math import sqrt
            import numpy as np
            distances = np.random.rand(100)
            roots = [sqrt(d) for d in distances]
            """,
            line=4,
        ),
        Invalid(
            """
            import math
            import torch
            def angles(y: torch.Tensor, x: torch.Tensor) -> list:
                return [math.atan2(y[i], x[i]) for i in range(len(y))]
            """,
            line=4,
        ),
        Invalid(
            """
            import math
            import numpy as np
            def finite(values: np.ndarray) -> int:
                count = 0
                for index, value in enumerate(values):
                    if math.isfinite(value):
                        count += 1
                return count
            """,
            line=6,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.imports.qualified_name(node.func)
        equivalents = catalog.MATH_ARRAY_EQUIVALENTS.get(qualified) if qualified else None
        if equivalents is None or any(arg.star or arg.keyword is not None for arg in node.args):
            return
        elements: dict[int, cst.BaseExpression] = {}
        for arg in node.args:
            self._collect_elements(arg.value, elements)
        if not elements:
            return
        array = next(iter(elements.values()))
        kind = self.context.arrays.kind_of(array)
        equivalent = cst.parse_expression(_short(equivalents[1] if kind == catalog.TORCH else equivalents[0]))
        whole = cst.ensure_type(node.with_changes(func=equivalent).visit(_WholeArrays(elements)), cst.Call)
        self.report(
            node,
            self.message.format(call=quote(node), array=quote(array), equivalent=quote(whole)),
            size=element_count(array, self.context),
        )

    def _collect_elements(self, expr: cst.BaseExpression, elements: dict[int, cst.BaseExpression]) -> None:
        """The array elements ``expr`` is, or feeds through arithmetic, by node id."""
        stack = [expr]
        while stack:
            node = stack.pop()
            array = self.context.loops.element_of(node, own_indices=True)
            if array is not None:
                elements[id(node)] = array
            elif type(node) is cst.BinaryOperation:
                stack += [node.left, node.right]
            elif type(node) is cst.UnaryOperation:
                stack.append(node.expression)


class _WholeArrays(cst.CSTTransformer):
    """Replaces each element the rule found with its whole array."""

    def __init__(self, elements: dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self._elements = elements

    # libcst types ``on_leave`` as returning the node's own type; an element becomes its whole
    # array here, a node of another type.
    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        array = self._elements.get(id(original_node))
        if array is None:
            return updated_node
        if type(array) in (cst.Name, cst.Attribute, cst.Subscript, cst.Call):
            return array
        return array.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])


def _short(qualified: str) -> str:
    """``np.sqrt`` for ``numpy.sqrt``: the spelling users write."""
    return "np." + qualified[len("numpy.") :] if qualified.startswith("numpy.") else qualified


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    return (np.random.default_rng(0).standard_normal(size),)


def _pattern(d):
    import math

    return [math.exp(-x * x / 2.0) for x in d]


def _fix(d):
    import numpy as np

    return np.exp(-d * d / 2.0)


MathFunctionPerElement.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=64,
    size_unit="elements",
    size_in_code="the elements of the array the loop reads (`np.random.rand(N)`)",
    timed=(
        "A list comprehension of `math.exp(-x * x / 2.0)` over an n-element float64 array against "
        "`np.exp(-d * d / 2.0)`."
    ),
)
