"""PFL112: ``numpy.apply_along_axis``, a Python loop over the rows of an array."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import has_unpacked_arguments
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

_APPLY_ALONG_AXIS = "numpy.apply_along_axis"


class ApplyAlongAxis(Rule):
    """``np.apply_along_axis(f, axis, a)`` calls ``f`` once per 1-D slice of ``a`` in Python."""

    code = "PFL112"
    name = "apply-along-axis"
    family = FAMILY
    summary = "`numpy.apply_along_axis` calls a Python function once per row"
    message = "`{call}` calls `{func}` once per 1-D slice in a Python loop; {fix}"
    fix_title = "Call the NumPy function with `axis=`, or write the operation on the whole array"
    fix_safety = FIX_UNSAFE
    # Opt-in: neither finding of the development set of round 2 was worth fixing (its known
    # limitations say why).
    default_enabled = False
    required_text = ("apply_along_axis",)
    reported_at = "the call"

    what_it_does = (
        "Flags a call of `numpy.apply_along_axis` whose function is a NumPy or SciPy function, or a "
        "lambda or function of the same file that calls only NumPy, SciPy, `math`, builtins and "
        "methods of its own values."
    )
    known_limitations = (
        "A function of another library (often one that accepts only 1-D input, such as a resampler), "
        "a callable object, or a function that calls methods of `self` (fitting a model per row), or "
        "a SciPy routine that fits one sample (a distribution's `.fit`, `boxcox_normmax`, "
        "`curve_fit`: a catalogue fact) is left alone: there is no whole-array form to move to. When "
        "the applied function is a NumPy reduction that takes `axis=` (`np.mean`, `np.sum`, `np.std`,"
        " `np.max`, `np.linalg.norm`…) and no extra arguments are passed through, the message names "
        "the one call that replaces it (`np.std(X, axis=1)`); otherwise it suggests writing the "
        "operation on the whole array with broadcasting. `numpy.apply_over_axes` is not flagged: it "
        "calls its function once per listed axis on the whole array, which is already vectorised. "
        "Calls in functions compiled by numba, JAX, TorchScript, `torch.compile` or Cython are left "
        "alone. Opt-in: on the development set of the precision review's round 2 (35 research code "
        "bases) neither of its 2 findings was worth fixing: both were utilities over a few rows whose"
        " cost the linter cannot see."
    )
    why_bad = (
        "`apply_along_axis` is a Python `for` loop over every 1-D slice: each iteration builds a "
        "view object, calls the Python function, and copies its result into the output. For an "
        "array of many short rows the interpreter overhead dominates; a row-wise clip of a "
        "100,000×K array measured 878 ms against 5.9 ms for the same operation on the whole "
        "array. NumPy's own functions take `axis=` and run the loop in compiled code."
    )
    example = """\
import numpy as np

def row_spread(X: np.ndarray) -> np.ndarray:
    return np.apply_along_axis(np.std, 1, X)
"""
    use_instead = """\
import numpy as np

def row_spread(X: np.ndarray) -> np.ndarray:
    return np.std(X, axis=1)
"""
    fix_safety_note = (
        "Unsafe: the replacement computes the same values for NumPy's reductions, up to the "
        "order of floating-point summation (pairwise over the whole axis rather than per row). "
        "For any other function the rewrite is by hand: `apply_along_axis` also accepts a "
        "function that returns arrays of another shape, and broadcasting code must reproduce "
        "that shape."
    )

    VALID = (
        # apply_over_axes calls its function once per axis on the whole array.
        """
        import numpy as np
        # np.apply_over_axes, unlike np.apply_along_axis, is not a loop over rows
        a = np.arange(24).reshape(2, 3, 4)
        s = np.apply_over_axes(np.sum, a, [0, 2])
        """,
        # A function of this file that happens to be called apply_along_axis.
        """
        def apply_along_axis(f, axis, arr):
            return [f(row) for row in arr]
        totals = apply_along_axis(sum, 0, rows)
        """,
        # A method of another object, not NumPy's function.
        """
        import numpy as np
        result = frame.apply_along_axis(np.mean, 1)
        """,
        # A resampler of another library that accepts only 1-D signals; a model fitted per row.
        """
        import numpy as np
        import soxr
        def resample(y, sr, target):
            return np.apply_along_axis(soxr.resample, -1, y, in_rate=sr, out_rate=target)
        class Bicluster:
            def best(self, vectors):
                def make_piecewise(v):
                    centroid, labels = self._k_means(v.reshape(-1, 1), 3)
                    return centroid[labels].ravel()
                return np.apply_along_axis(make_piecewise, axis=1, arr=vectors)
        """,
        # SciPy's per-sample fitting routines have no whole-array form.
        """
        import numpy as np
        from scipy import stats
        from scipy.stats import boxcox_normmax
        lambdas = np.apply_along_axis(boxcox_normmax, 0, X)
        params = np.apply_along_axis(stats.norm.fit, 1, X)
        slopes = np.apply_along_axis(lambda col: stats.linregress(t, col).slope, 0, Y)
        """,
        # A method of what a model of the object gives: one fit or forward pass per row.
        """
        import numpy as np
        class Scorer:
            def scores(self, X):
                def score(row):
                    return self.model(row).sum()
                return np.apply_along_axis(score, 1, X)
        """,
        # A conversion of what a NumPy call gives, the arrays' shapes set by each element: a
        # fit per element, of another length each time.
        """
        import numpy as np
        def slopes(kmax_range, signal):
            def slope(kmax):
                k_values = np.unique(np.linspace(1, kmax + 1, 10).astype(int))
                return np.polyfit(np.log(k_values), np.log(signal[k_values]), 1)[0]
            return np.apply_along_axis(slope, 0, kmax_range)
        """,
        # A callable object.
        """
        import numpy as np
        class Kernel:
            def diag(self, X):
                return np.apply_along_axis(self, 1, X).ravel()
        """,
        # Inside a numba-compiled function the loop is compiled.
        """
        import numba
        import numpy as np
        @numba.jit(forceobj=True)
        def spread(X):
            return np.apply_along_axis(np.std, 1, X)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def row_spread(X):
                return np.apply_along_axis(np.std, 1, X)
            """,
            line=3,
            column=12,
        ),
        Invalid(
            """
            from numpy import apply_along_axis
            from numpy.linalg import norm
            dists = apply_along_axis(norm, axis=1, arr=vectors - centres)
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            def clip_rows(X, low, high):
                return np.apply_along_axis(lambda row: np.clip(row, low, high), 1, X)
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            counts = np.apply_along_axis(lambda r: len(np.unique(r)), 0, data)
            """,
            line=2,
        ),
        # A function of this file built from NumPy calls.
        Invalid(
            """
            import numpy as np
            def _count_unique(x):
                return len(np.unique(x))
            def count_unique(data, axis=-1):
                return np.apply_along_axis(_count_unique, axis, data)
            """,
            line=5,
        ),
        # A function nested in the caller, calling a method of what a NumPy call gives.
        Invalid(
            """
            import numpy as np
            import scipy.special
            def get_logodds(logits):
                def calc_logodds(arr):
                    probs = np.exp(arr) / np.exp(arr).sum(-1)
                    return scipy.special.logit(probs)
                return np.apply_along_axis(calc_logodds, -1, logits)
            """,
            line=7,
        ),
        # Extra arguments passed through: the fix is by hand.
        Invalid(
            """
            import numpy as np
            q = np.apply_along_axis(np.percentile, 1, X, 90)
            """,
            line=2,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.imports.qualified_name(node.func) != _APPLY_ALONG_AXIS:
            return
        bound = catalog.bind(node, catalog.listed(_APPLY_ALONG_AXIS))
        func = bound.argument("func1d") if bound is not None else None
        if (
            bound is None
            or func is None
            or not self.context.functions.has_whole_array_form(func)
            or self.context.in_compiled_code()
        ):
            return
        replacement = self._reduction_call(node, bound)
        fix = f"use `{replacement}`" if replacement else "write the operation on the whole array with broadcasting"
        self.report(
            node,
            self.message.format(call=quote(node), func=quote(func), fix=fix),
        )

    def _reduction_call(self, node: cst.Call, bound: catalog.BoundArguments) -> str | None:
        """``np.std(X, axis=1)`` when the applied function is a NumPy reduction taking ``axis=``
        and nothing else is passed through to it."""
        if has_unpacked_arguments(node) or bound.extra_positional or bound.extra_keywords:
            return None
        func, axis, arr = bound.argument("func1d"), bound.argument("axis"), bound.argument("arr")
        if func is None or axis is None or arr is None:
            return None
        reduction = catalog.lookup(self.context.imports.qualified_name(func))
        if reduction is None or not reduction.has(catalog.Flag.REDUCTION) or not reduction.accepts("axis"):
            return None
        return f"{quote(func)}({quote(arr)}, axis={quote(axis)})"


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    return (np.random.default_rng(0).standard_normal((size, 16)),)


def _pattern(X):
    import numpy as np

    return np.apply_along_axis(np.std, 1, X)


def _fix(X):
    import numpy as np

    return np.std(X, axis=1)


ApplyAlongAxis.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1000, 5000, 20_000),
    check_size=32,
    size_unit="rows of 16 float64 values",
    timed=(
        "Row standard deviations of an n x 16 float64 array: `np.apply_along_axis(np.std, 1, X)` "
        "against `np.std(X, axis=1)`."
    ),
)
