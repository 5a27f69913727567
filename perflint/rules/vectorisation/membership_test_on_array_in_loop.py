"""PFL119: ``i in t`` against the same array or tensor on every iteration of a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.devices import may_use_an_accelerator, on_host
from perflint.engine.quoting import quote
from perflint.engine.rewrite import unused_name
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import ARRAY_BACKEND, ARRAY_DEVICES, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

_ARRAYS = (catalog.NUMPY, catalog.TORCH)


class MembershipTestOnArrayInLoop(Rule):
    """``for i in range(n): if i in idx: …`` with ``idx`` an array: a full scan per test."""

    code = "PFL119"
    name = "membership-test-on-array-in-loop"
    family = FAMILY
    summary = "`x in array` tested against the same array or tensor on every loop iteration: a full scan each time"
    message = (
        "`{test}` scans all of `{array}` on every iteration{sync}; make a set once before the loop, "
        "`{members} = set({array}.flatten().tolist())`, and test `{item} {operator} {members}`"
    )
    fix_title = (
        "Test membership in a Python set made once before the loop; where the loop only flags the "
        "members, write the flags once by indexing with the array"
    )
    fix_safety = FIX_UNSAFE
    # Opt-in: 1 of its 4 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = (" in ",)
    reported_at = "the `in` comparison"

    what_it_does = (
        "Flags `x in a` and `x not in a`, inside a loop or comprehension, where `a` is a known NumPy "
        "array or torch tensor (also a parameter documented as one: `:type a: torch.Tensor`, `a : "
        "np.ndarray`; or passed where torch takes only a tensor) that the loop does not change, and `x` is a Python number: the target "
        "of an enclosing `for` loop (or comprehension) over `range(...)` that the loop does not "
        "rebind."
    )
    known_limitations = (
        "Not flagged: an array of unknown type (a list or a set is what `in` is for), an array the "
        "loop changes, a left operand that may itself be an array or tensor (`row in t` compares "
        "element-wise and broadcasts), a test that is the same on every iteration (`7 in t`: a "
        "loop-invariant expression to compute once), and code a JIT compiler compiles (numba, JAX, TorchScript, "
        "`torch.compile`, Cython), test code, and run-once code (`__init__`, set-up functions, "
        "module level). The message names the device wait only for a tensor that may be on an "
        "accelerator (not one made on the host in the function). When the loop visits every position and only sets a "
        "flag per member (`if i in idx: m[i] = 1 else: m[i] = 0`), a mask written once "
        "(`m[:] = 0; m[idx] = 1`, `np.isin`, `torch.isin`) replaces the whole loop; the message "
        "gives the set, which fits any body."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 1 of its 4 findings was worth fixing "
        "and none was wrong. Most membership tests it found were over a small host container (a dozen "
        "indices, a few hundred steps) beside heavier work in the same loop; it pays over a "
        "data-set-sized array."
    )
    why_bad = (
        "`x in a` on an array is `(a == x).any()`: it compares `x` with every element and builds a "
        "boolean array to do it, so a loop of n tests against an m-element array costs O(n·m) "
        "instead of O(n). On a torch tensor each test is also a kernel launch and a read of the "
        "result on the host, which on an accelerator waits for the device. A Python set made once "
        "answers each test in constant time; making it copies the array to the host once."
    )
    example = """\
import torch

def flag_top(samples: torch.Tensor, column: int, top: int) -> torch.Tensor:
    top_idx = torch.argsort(samples[:, column])[-top:]
    for i in range(samples.shape[0]):
        if i in top_idx:
            samples[i, column] = 1
        else:
            samples[i, column] = 0
    return samples
"""
    use_instead = """\
import torch

def flag_top(samples: torch.Tensor, column: int, top: int) -> torch.Tensor:
    top_idx = torch.argsort(samples[:, column])[-top:]
    samples[:, column] = 0
    samples[top_idx, column] = 1
    return samples
"""
    fix_safety_note = (
        "No automatic fix. The set holds Python numbers, so membership is decided by `==` between "
        "Python numbers as the array's test was, NaN included (never a member either way); "
        "it is made from the array as it is before the loop, which is the same array on every "
        "iteration only because the loop does not change it. For a multi-dimensional array "
        "`flatten()` makes the set of all its elements, which is what `in` tested."
    )

    VALID = (
        # Membership in a list or a set: what `in` is for.
        """
        def pick(n: int, chosen: list):
            members = set(chosen)
            return [i for i in range(n) if i in chosen], [i for i in range(n) if i in members]
        """,
        # The array changes in the loop: a set made once would go stale.
        """
        import numpy as np
        def grow(n: int):
            seen = np.array([0])
            for i in range(n):
                if i not in seen:
                    seen = np.append(seen, i * 2)
            return seen
        """,
        # The left operand is a row of a tensor: `in` broadcasts, no set holds rows.
        """
        import torch
        def rows(x: torch.Tensor, bank: torch.Tensor):
            return [r for r in x if r in bank]
        """,
        # Set-up code: `__init__` runs once per object (a handful of channels, here on the host).
        """
        import torch
        class Flow:
            def __init__(self, n: int, circular: list):
                ind_circ = torch.tensor(circular)
                self.tails = ["circular" if i in ind_circ else "linear" for i in range(n)]
        """,
        # Outside a loop: one test; and a test that is the same on every iteration (a constant
        # against an unchanged array), which is a loop-invariant expression, not a scan per item.
        """
        import torch
        def has_zero(t: torch.Tensor, batches) -> bool:
            hits = 0
            for batch in batches:
                hits += 7 in t
            return 0 in t
        """,
        # The left operand is not known to be a Python number (an item of an unknown iterable).
        """
        import numpy as np
        def pick(values, idx: np.ndarray):
            return [v for v in values if v in idx]
        """,
        # Compiled by numba: the loop is machine code.
        """
        import numba
        import numpy as np
        @numba.njit
        def count(n: int, idx: np.ndarray) -> int:
            total = 0
            for i in range(n):
                if i in idx:
                    total += 1
            return total
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def flag_top(samples: torch.Tensor, column: int, top: int) -> torch.Tensor:
                top_idx = torch.argsort(samples[:, column])[-top:]
                for i in range(samples.shape[0]):
                    if i in top_idx:
                        samples[i, column] = 1
                    else:
                        samples[i, column] = 0
                return samples
            """,
            line=5,
            column=12,
        ),
        Invalid(
            """
            import numpy as np
            def missing(n: int, labels: np.ndarray):
                return [k for k in range(n) if k not in labels]
            """,
            line=3,
            column=36,
        ),
        # A test per time step against a tensor of spike times (documented as one).
        Invalid(
            """
            import torch
            def targets(spike_time, num_steps: int, on: float, off: float) -> list:
                \"\"\"Targets.

                :type spike_time: torch.Tensor
                \"\"\"
                out = []
                for step in range(num_steps):
                    if step in spike_time:
                        out.append(on)
                    else:
                        out.append(off)
                return out
            """,
            line=9,
        ),
        # On an accelerator each test is also a kernel and a wait for its result.
        Invalid(
            """
            import torch
            def keep(scores: torch.Tensor, chosen: torch.Tensor, device: torch.device) -> list:
                scores = scores.to(device)
                return [i for i in range(scores.shape[0]) if i not in chosen]
            """,
            line=4,
        ),
    )

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if len(node.comparisons) != 1 or type(node.comparisons[0].operator) not in (cst.In, cst.NotIn):
            return
        loop = self.context.innermost_loop
        if loop is None:
            return
        array = node.comparisons[0].comparator
        # A parameter documented as an array or tensor (weak evidence) is what `in` scans: no one
        # documents a list as `np.ndarray`.
        kind = self.context.arrays.kind_of(array, Evidence.WEAK)
        if kind not in _ARRAYS or not self._python_number(node.left):
            return
        if not self.context.is_invariant(array):
            return
        if self.context.in_compiled_code() or self.context.functions.in_test_code() or self._in_run_once_function():
            return
        members = unused_name(self.context, "members")
        on_a_device = (
            kind == catalog.TORCH and not on_host(array, self.context) and may_use_an_accelerator(self.context)
        )
        sync = ", and on an accelerator waits for the device each time" if on_a_device else ""
        self.report(
            node,
            self.message.format(
                test=quote(node),
                array=quote(array),
                sync=sync,
                members=members,
                item=quote(node.left),
                operator="in" if type(node.comparisons[0].operator) is cst.In else "not in",
            ),
        )

    def _in_run_once_function(self) -> bool:
        """Set-up code (``__init__``, module level): the whole loop runs once per object or
        program."""
        return self.context.function is None or self.context.functions.in_set_up()

    def _python_number(self, expr: cst.BaseExpression) -> bool:
        """``expr`` is the target of an enclosing loop over ``range(...)`` that the loop does not
        rebind: a different Python integer on each iteration."""
        if type(expr) is not cst.Name:
            return False
        for frame in self.context.loops.enclosing():
            if expr.value not in frame.targets:
                continue
            iterable = frame.iterable
            if type(frame.node) is cst.For and type(frame.node.target) is not cst.Name:
                return False
            return (
                type(iterable) is cst.Call
                and self.context.imports.is_builtin(iterable.func, "range")
                and expr.value not in frame.effects.rebound
            )
        return False


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return size, target.asarray(rng.choice(size, size // 8, replace=False))


def _pattern(n, idx):
    return [i for i in range(n) if i in idx]


def _fix(n, idx):
    members = set(idx.flatten().tolist())
    return [i for i in range(n) if i in members]


MembershipTestOnArrayInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(200, 2_000, 20_000),
    check_size=64,
    size_unit="loop iterations (the array holds an eighth as many indices)",
    backend=ARRAY_BACKEND,
    devices=ARRAY_DEVICES,
    timed=(
        "Selecting the positions of `range(n)` that an array of n/8 distinct indices holds: "
        "`[i for i in range(n) if i in idx]` against a set made once with "
        "`set(idx.flatten().tolist())` and the same comprehension over it."
    ),
)
