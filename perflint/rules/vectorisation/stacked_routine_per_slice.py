"""PFL123: a loop calling a linear-algebra routine on one matrix of a stack per iteration."""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.control_flow import under_a_version_test
from perflint.engine.elementwise import array_from_comprehension
from perflint.engine.imports import dotted_name
from perflint.engine.literals import UNKNOWN, literal_value
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import mentions
from perflint.measure.spec import NUMPY_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY

_ARRAY_LIBRARIES = (catalog.NUMPY, catalog.TORCH)
# What moves an axis to another place, by library: the advice moves the loop's axis first.
_AXIS_MOVES = {catalog.NUMPY: "numpy.moveaxis", catalog.TORCH: "torch.movedim"}


class _Slicing(NamedTuple):
    """How a loop takes one matrix of a stack per iteration."""

    # The array whose matrices the loop takes; None for ``range(n)``, whose body says which.
    stack: cst.BaseExpression | None
    counter: str | None  # ``i`` of ``for i in range(...)`` or ``for i, a in enumerate(A)``
    item: str | None  # ``a`` of ``for a in A`` or ``for i, a in enumerate(A)``
    # ``n`` of ``range(n)`` when it is not the stack's own length: the loop takes ``A[:n]``.
    length: cst.BaseExpression | None = None

    def part(self, array: cst.BaseExpression) -> str:
        """What the loop goes over of ``array``, the stack or an output: ``A`` or ``A[:n]``."""
        return f"{quote(array)}[:{quote(self.length)}]" if self.length is not None else quote(array)


class _Match(NamedTuple):
    call: cst.Call
    record: catalog.Function
    stack: cst.BaseExpression


class StackedRoutinePerSlice(Rule):
    """``for i in range(len(A)): out[i] = np.linalg.inv(A[i])``: one call per matrix."""

    code = "PFL123"
    name = "stacked-routine-per-slice"
    family = FAMILY
    summary = "Python loop calling a linear-algebra routine on one matrix of a stack per iteration"
    message = (
        "Loop calls `{routine}` on one matrix of `{stack}` per iteration, and `{routine}` takes the "
        "whole stack: use `{vectorised}`"
    )
    comprehension_message = (
        "`{call}` calls `{routine}` on one matrix of `{stack}` at a time, and `{routine}` takes the "
        "whole stack: use `{vectorised}`"
    )
    product_message = (
        "Loop multiplies one matrix of `{left}` by one of `{right}` per iteration, and `@` takes "
        "whole stacks of matrices: use `{vectorised}`"
    )
    fix_title = "Call the routine once on the whole stack of matrices"
    fix_safety = FIX_UNSAFE
    # Opt-in: see ``known_limitations``.
    default_enabled = False
    required_text = ("linalg", "inverse", "@")
    paid_per_execution = True
    paid_in_the_interpreter = True
    reported_at = "the `for` statement; for a comprehension, the call that makes the array"

    what_it_does = (
        "Flags a loop whose body is one statement calling, on one matrix of a known array per "
        "iteration, a routine the catalogue says takes a stack of matrices (NumPy's and torch's "
        "`linalg.inv`, `pinv`, `det`, `slogdet`, `eig`, `eigh`, `eigvals`, `eigvalsh`, `svd`, "
        "`cholesky`, `qr`, `matrix_power`; `torch.inverse`), its other arguments literals or "
        "names the loop does not change: `out[i] = f(A[i])` (`p[i], q[i] = f(A[i])` for a tuple "
        "result) over the first axis of `A`, `for i, a in enumerate(A)`, or "
        "`results.append(f(a))` in `for a in A`; the same call as the item of a comprehension "
        "an array constructor joins (`np.array([np.linalg.det(a) for a in A])`). Also products "
        "of the matrices at index `i` of two arrays, `out[:, :, i] = A[:, :, i] @ B[:, :, i]` "
        "(`out` made with one axis more than the slot, the loop covering that axis) or "
        "`out[i] = A[i] @ B[i]` (both arrays known to have three axes or more). The message "
        "gives the one call on the whole stack."
    )
    known_limitations = (
        "Left alone: an argument computed from the matrix (`inv(A[i] + lam * I)`, although it "
        "often broadcasts), a routine's matrix taken along another axis than the first "
        "(`A[..., i]`), `solve` and a product whose operands may be vectors (whether the "
        "right-hand side is a vector or a matrix changes how a stack broadcasts: "
        "`Y[:, j] = B[:, :, j] @ C[:, j]`), routines with no stacked form "
        "(`np.linalg.norm` takes `axis=`; see PFL114; `lstsq`; SciPy's `linalg`, which stacks "
        "only since 1.15), a loop body doing anything else, code in a branch of a version test "
        "(compatibility code for NumPy before 1.22, whose `qr` did not stack), run-once code "
        "and compiled code. Opt-in: the saving is the interpreter's per-call cost, large for "
        "small matrices (3×3 to 16×16, and for torch on an accelerator, where each call is a "
        "launch) and small beside the routine's own O(n³) work for large ones, which the code "
        "rarely states; and over the 310 development code bases of round 13 it made only two "
        "findings, python-control's `FRD.__mul__` and `__rmul__` (a product of the frequency "
        "responses one frequency at a time; a round-11 hunt measured 48 times at 2×2 and 1000 "
        "frequencies), both worth fixing, fewer than the three a default-on rule needs. The "
        "per-matrix loops it leaves alone there: an SVD per template whose body then keeps a "
        "few singular vectors (spikeinterface), inverses of `beta[i] * precision` (hmmlearn), "
        "and POT's `qr` fallback for NumPy before 1.22."
    )
    why_bad = (
        "NumPy's and torch's linear-algebra routines take any number of leading axes and run "
        "the whole stack in one compiled loop (torch in batched kernels). Called once per "
        "matrix from Python, each call pays argument checking, dispatch, a new result array "
        "and, for torch on an accelerator, a kernel launch: for small matrices that overhead "
        "is many times the arithmetic."
    )
    example = """\
import numpy as np

def inverses(A: np.ndarray) -> np.ndarray:
    out = np.empty_like(A)
    for i in range(len(A)):
        out[i] = np.linalg.inv(A[i])
    return out
"""
    use_instead = """\
import numpy as np

def inverses(A: np.ndarray) -> np.ndarray:
    return np.linalg.inv(A)
"""
    fix_safety_note = (
        "Unsafe: the stacked call computes each matrix as the loop did, but raises for the "
        "whole stack where the loop raised at the failing matrix (a singular one, for `inv`), "
        "having written the matrices before it; and `out[:] = f(A)` needs `out` shaped as the "
        "result, which the loop assumed too. The list form's items become views of one array."
    )

    VALID = (
        # State carried between iterations: each inverse depends on the previous result.
        """
        import numpy as np
        def chain(A: np.ndarray, P: np.ndarray):
            for i in range(1, len(A)):
                P[i] = np.linalg.inv(P[i - 1] @ A[i])
            acc = np.eye(3)
            for i in range(len(A)):
                acc = acc @ np.linalg.inv(A[i])
            return acc
        """,
        # Matrices of different shapes: a list of blocks, not one array.
        """
        import numpy as np
        def block_inverses(blocks: list):
            out = []
            for block in blocks:
                out.append(np.linalg.inv(block))
            return [np.linalg.det(b) for b in blocks]
        """,
        # Python objects holding matrices, not slices of an array.
        """
        import numpy as np
        def invert(vertices):
            for i in range(len(vertices)):
                vertices[i].meta["Cinv"] = np.linalg.inv(vertices[i].meta["C"])
        """,
        # Routines with no stacked form (`norm` takes `axis=`), an argument computed from the
        # matrix, and a body that does more than the one call.
        """
        import numpy as np
        def f(A: np.ndarray, lam: float, out: np.ndarray):
            for i in range(len(A)):
                out[i] = np.linalg.norm(A[i], 2)
            for i in range(len(A)):
                out[i] = np.linalg.inv(A[i] + lam * np.eye(3))
            for i in range(len(A)):
                u, s, vt = np.linalg.svd(A[i])
                out[i] = u[:, 0] * s[0]
        """,
        # Run-once code: a constructor inverts its few matrices once per object.
        """
        import numpy as np
        class Model:
            def __init__(self, covariances: np.ndarray):
                self.precisions = np.empty_like(covariances)
                for k in range(len(covariances)):
                    self.precisions[k] = np.linalg.inv(covariances[k])
        """,
        # Compatibility code for NumPy before 1.22, whose `qr` did not take a stack.
        """
        import numpy as np
        def qr(a: np.ndarray):
            np_version = tuple(int(k) for k in np.__version__.split("."))
            if np_version < (1, 22, 0):
                qs, rs = np.zeros(a.shape), np.zeros(a.shape)
                for i in range(a.shape[0]):
                    qs[i], rs[i] = np.linalg.qr(a[i])
                return qs, rs
            return np.linalg.qr(a)
        """,
        # The loop changes the stack it reads, a range that starts elsewhere, and a
        # `torch.linalg` routine given NumPy arrays.
        """
        import numpy as np
        import torch
        def f(A: np.ndarray, out: np.ndarray):
            for i in range(len(A)):
                A[i + 1] = A[i] * 2
                out[i] = np.linalg.det(A[i])
            for i in range(1, len(A)):
                out[i] = np.linalg.det(A[i])
            for i in range(len(A)):
                out[i] = torch.linalg.det(A[i])
        """,
        # Products: a matrix by a vector (the slices are of different axes), a recurrence,
        # rows of 2-D arrays (vectors), and an output whose number of axes is not stated.
        """
        import numpy as np
        def f(B: np.ndarray, C: np.ndarray, P: np.ndarray, X: np.ndarray, W: np.ndarray, out):
            Y = np.zeros((B.shape[0], B.shape[2]))
            for j in range(B.shape[2]):
                Y[:, j] = B[:, :, j] @ C[:, j]
            for i in range(1, P.shape[2]):
                P[:, :, i] = P[:, :, i - 1] @ B[:, :, i]
            rows = np.zeros(len(X))
            for i in range(len(X)):
                rows[i] = X[i] @ W[i]
            for i in range(out.shape[2]):
                out[:, :, i] = B[:, :, i] @ P[:, :, i]
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            def inverses(A: np.ndarray) -> np.ndarray:
                out = np.empty_like(A)
                for i in range(len(A)):
                    out[i] = np.linalg.inv(A[i])
                return out
            """,
            line=4,
            column=5,
        ),
        Invalid(
            """
            import torch
            def factors(covs: torch.Tensor, chol: torch.Tensor):
                for i, cov in enumerate(covs):
                    chol[i] = torch.linalg.cholesky(cov, upper=False)
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            def spectra(A: np.ndarray, w: np.ndarray, v: np.ndarray):
                for i in range(A.shape[0]):
                    w[i], v[i] = np.linalg.eigh(A[i])
            """,
            line=3,
        ),
        Invalid(
            """
            import numpy as np
            def determinants(A: np.ndarray) -> list:
                dets = []
                for a in A:
                    dets.append(np.linalg.det(a))
                return dets
            """,
            line=4,
        ),
        Invalid(
            """
            from numpy.linalg import matrix_power
            import numpy as np
            def powers(A: np.ndarray, k: int, n: int, out: np.ndarray):
                for i in range(n):
                    out[i] = matrix_power(A[i], k)
            """,
            line=4,
        ),
        Invalid(
            """
            import numpy as np
            def determinants(A: np.ndarray) -> np.ndarray:
                return np.array([np.linalg.det(a) for a in A])
            """,
            line=3,
            column=12,
        ),
        Invalid(
            """
            import numpy as np
            class FrequencyResponse:
                def __init__(self, data, omega):
                    self.data = np.array(data, dtype=complex)
                    self.omega = omega
                def __mul__(self, other):
                    data = np.empty((self.outputs, other.inputs, len(self.omega)), dtype=complex)
                    for k in range(len(self.omega)):
                        data[:, :, k] = self.data[:, :, k] @ other.data[:, :, k]
                    return FrequencyResponse(data, self.omega)
            """,
            line=8,
        ),
        Invalid(
            """
            import torch
            def products(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
                b, n, m = x.shape
                _, _, k = y.shape
                out = torch.empty(b, n, k)
                for i in range(b):
                    out[i] = x[i] @ y[i]
                return out
            """,
            line=6,
        ),
        Invalid(
            """
            import torch
            def inverses(x: torch.Tensor) -> torch.Tensor:
                return torch.stack([torch.inverse(x[i]) for i in range(len(x))])
            """,
            line=3,
        ),
    )

    def visit_For_body(self, node: cst.For) -> None:
        # From the body on, the innermost loop is this one (its effects say what it writes).
        loop = self.context.loops.innermost
        if loop is None or loop.node is not node or node.orelse is not None or node.asynchronous is not None:
            return
        body = node.body
        if type(body) is not cst.IndentedBlock or len(body.body) != 1:
            return
        line = body.body[0]
        if type(line) is not cst.SimpleStatementLine or len(line.body) != 1:
            return
        slicing = self._slicing(node)
        if slicing is None:
            return
        statement = line.body[0]
        product = self._product_of_slices(statement, node, loop)
        if product is not None:
            if not under_a_version_test(self.context.path_to(node)):
                self.report(node, product)
            return
        stored = self._stored_call(statement, slicing, loop)
        if stored is None or under_a_version_test(self.context.path_to(node)):
            return
        match, written = stored
        stacked = quote(_stacked_call(match, slicing.part(match.stack)))
        vectorised = f"{written}.extend({stacked})" if type(statement) is cst.Expr else f"{written} = {stacked}"
        self.report(
            node,
            self.message.format(routine=quote(match.call.func), stack=quote(match.stack), vectorised=vectorised),
        )

    def visit_Call(self, node: cst.Call) -> None:
        found = array_from_comprehension(node, self.context)
        if found is None or found.kind not in _ARRAY_LIBRARIES or type(found.comprehension.elt) is not cst.Call:
            return
        element = found.comprehension.elt
        record = self._routine(element)
        if record is None or record.library != found.kind or record.items is not None:
            return
        bound = catalog.bind(element, record)
        matrix = bound.argument(record.signature.positional[0]) if bound is not None else None
        if bound is None or matrix is None:
            return
        if found.by_index:
            indexed = _indexed(matrix, found.target)
            takes_the_item = indexed is not None and dotted_name(indexed) == dotted_name(found.array)
        else:
            takes_the_item = type(matrix) is cst.Name and matrix.value == found.target
        if not takes_the_item or not _fixed_arguments(bound, record, (found.target,), None):
            return
        if under_a_version_test(self.context.path_to(node)):
            return
        stacked = _stacked_call(_Match(element, record, found.array), quote(found.array))
        self.report(
            node,
            self.comprehension_message.format(
                call=quote(node.func), routine=quote(element.func), stack=quote(found.array), vectorised=quote(stacked)
            ),
        )

    def _product_of_slices(self, statement: cst.BaseSmallStatement, node: cst.For, loop: LoopFrame) -> str | None:
        """The message for ``out[:, :, i] = A[:, :, i] @ B[:, :, i]`` (also ``out[i] = A[i] @
        B[i]``): a product of two matrices at the loop's index of the same axis of two arrays,
        stored at that index of a known array. Along a later axis than the first (after two
        ``:`` at least, so that each slice is a matrix or a stack), ``out`` must have one axis
        more than the slots: each product is then one matrix, and both slices are matrices. On
        the first axis both arrays must be known to have three axes or more (a vector's product
        would not broadcast as a stack)."""
        if type(node.target) is not cst.Name or type(statement) is not cst.Assign or len(statement.targets) != 1:
            return None
        index, value = node.target.value, statement.value
        if type(value) is not cst.BinaryOperation or type(value.operator) is not cst.MatrixMultiply:
            return None
        slot = _slice_at(statement.targets[0].target, index)
        left, right = _slice_at(value.left, index), _slice_at(value.right, index)
        if slot is None or left is None or right is None or not slot.axis == left.axis == right.axis:
            return None
        library = self.context.arrays.kind_of(slot.array)
        out = dotted_name(slot.array)
        if library not in _ARRAY_LIBRARIES or out is None:
            return None
        for operand in (left.array, right.array):
            chain = dotted_name(operand)
            if chain is None or (loop.changes(chain) and chain != out) or mentions(operand, index):
                return None
            kind = self.context.arrays.kind_of(operand, Evidence.WEAK)
            if kind not in (None, library) or (slot.axis == 0 and kind is None):
                return None
        arrays = self.context.arrays
        if slot.axis == 0:
            if not (arrays.ndim_of(left.array) or 0) >= 3 or arrays.ndim_of(right.array) != arrays.ndim_of(left.array):
                return None
            whole = f"{quote(left.array)} @ {quote(right.array)}"
        elif arrays.ndim_of(slot.array) == slot.axis + 1:
            move = self.context.imports.reference(_AXIS_MOVES[library]) or _AXIS_MOVES[library]
            axis = slot.axis
            whole = (
                f"{move}({move}({quote(left.array)}, {axis}, 0) @ {move}({quote(right.array)}, {axis}, 0), 0, {axis})"
            )
        else:
            return None
        if not self._covers_the_axis(node.iter, slot, (left.array, right.array)):
            return None
        return self.product_message.format(
            left=quote(left.array), right=quote(right.array), vectorised=f"{quote(slot.array)}[:] = {whole}"
        )

    def _covers_the_axis(
        self, iterable: cst.BaseExpression, slot: _AxisSlice, operands: tuple[cst.BaseExpression, ...]
    ) -> bool:
        """``iterable`` runs over every index of the loop's axis: ``range(len(A))`` and the other
        spellings of the length of that axis of the output or an operand
        (``arrays.axis_of_range``), or ``range(n)`` with the output made with ``n`` as that
        axis's length (``np.empty((a, b, n))``, ``torch.empty(n, d)``, compared as written)."""
        arrays = self.context.arrays
        length = arrays.axis_of_range(iterable)
        chains = {dotted_name(array) for array in (slot.array, *operands)}
        if length is not None and length.axis == slot.axis and dotted_name(length.array) in chains:
            return True
        if type(slot.array) is not cst.Name or type(iterable) is not cst.Call or len(iterable.args) != 1:
            return False
        if slot.axis == 0:
            return arrays.made_with_range_length(slot.array, iterable)
        made = arrays.bound_value(slot.array.value)
        if type(made) is not cst.Call or not made.args:
            return False
        shape = made.args[0].value
        lengths = [element.value for element in shape.elements] if type(shape) is cst.Tuple else []
        return len(lengths) > slot.axis and quote(lengths[slot.axis]) == quote(iterable.args[0].value)

    def _slicing(self, node: cst.For) -> _Slicing | None:
        """How ``node`` takes a matrix of a stack per iteration."""
        target, iterable = node.target, node.iter
        if type(target) is cst.Name and not self._is_builtin_call(iterable, "range"):
            stack = self.context.loops.element_of(target)
            return _Slicing(stack, None, target.value) if stack is not None else None
        if type(iterable) is not cst.Call or len(iterable.args) != 1:
            return None
        argument = iterable.args[0]
        if argument.keyword is not None or argument.star:
            return None
        if type(target) is cst.Name:
            stack = self.context.arrays.indexed_range_array(iterable)
            return _Slicing(stack, target.value, None, None if stack is not None else argument.value)
        if (
            type(target) is not cst.Tuple
            or len(target.elements) != 2
            or not self._is_builtin_call(iterable, "enumerate")
        ):
            return None
        index, item = (element.value for element in target.elements)
        if type(index) is not cst.Name or type(item) is not cst.Name or index.value == item.value:
            return None
        stack = self.context.loops.element_of(item)
        return _Slicing(stack, index.value, item.value) if stack is not None else None

    def _is_builtin_call(self, expr: cst.BaseExpression, name: str) -> bool:
        return type(expr) is cst.Call and self.context.imports.is_builtin(expr.func, name)

    def _stored_call(
        self, statement: cst.BaseSmallStatement, slicing: _Slicing, loop: LoopFrame
    ) -> tuple[_Match, str] | None:
        """The routine's call in ``out[i] = f(A[i])``, ``p[i], q[i] = f(A[i])`` or
        ``results.append(f(a))``, and what the advice stores the stacked call's result in."""
        if type(statement) is cst.Expr:
            return self._appended_call(statement.value, slicing, loop)
        if type(statement) is not cst.Assign or len(statement.targets) != 1 or slicing.counter is None:
            return None
        target = statement.targets[0].target
        slots = [element.value for element in target.elements] if type(target) is cst.Tuple else [target]
        written: list[cst.BaseExpression] = []
        for slot in slots:
            array = _indexed(slot, slicing.counter)
            if array is None or self.context.arrays.kind_of(array) not in _ARRAY_LIBRARIES:
                return None
            written.append(array)
        if type(statement.value) is not cst.Call:
            return None
        match = self._matrix_call(statement.value, slicing, loop, {dotted_name(array) for array in written})
        if match is None or (match.record.items is not None) != (type(target) is cst.Tuple):
            return None
        whole = [slicing.part(array) if slicing.length is not None else f"{quote(array)}[:]" for array in written]
        return match, ", ".join(whole)

    def _appended_call(
        self, value: cst.BaseExpression, slicing: _Slicing, loop: LoopFrame
    ) -> tuple[_Match, str] | None:
        """``results.append(f(a))``, ``results`` a name."""
        if (
            type(value) is not cst.Call
            or type(value.func) is not cst.Attribute
            or value.func.attr.value != "append"
            or type(value.func.value) is not cst.Name
            or len(value.args) != 1
            or value.args[0].keyword is not None
            or value.args[0].star
            or type(value.args[0].value) is not cst.Call
        ):
            return None
        results = value.func.value.value
        match = self._matrix_call(value.args[0].value, slicing, loop, {results})
        if match is None or match.record.items is not None:
            return None
        return match, results

    def _matrix_call(
        self, call: cst.Call, slicing: _Slicing, loop: LoopFrame, written: set[str | None]
    ) -> _Match | None:
        """``call`` is a stacked routine's, given this iteration's matrix of a stack of its
        library that the loop does not change (but by writing each matrix's own result back),
        and arguments that are the same on every iteration."""
        record = self._routine(call)
        bound = catalog.bind(call, record) if record is not None else None
        if record is None or bound is None:
            return None
        matrix = bound.argument(record.signature.positional[0])
        if matrix is None:
            return None
        if slicing.item is not None and type(matrix) is cst.Name and matrix.value == slicing.item:
            stack = slicing.stack
        else:
            stack = _indexed(matrix, slicing.counter) if slicing.counter is not None else None
            if stack is not None and slicing.stack is not None and dotted_name(stack) != dotted_name(slicing.stack):
                return None
        chain = dotted_name(stack) if stack is not None else None
        if stack is None or chain is None or self.context.arrays.kind_of(stack) != record.library:
            return None
        if loop.changes(chain) and chain not in written:
            return None
        loop_names = tuple(name for name in (slicing.counter, slicing.item) if name is not None)
        if not _fixed_arguments(bound, record, loop_names, loop):
            return None
        return _Match(call, record, stack)

    def _routine(self, call: cst.Call) -> catalog.Function | None:
        """The catalogue's record of ``call`` when it is a routine of NumPy or torch that takes a
        stack of matrices."""
        record = catalog.lookup(self.context.imports.qualified_name(call.func))
        if record is None or record.library not in _ARRAY_LIBRARIES or not record.has(catalog.Flag.STACKS_MATRICES):
            return None
        return record


def _fixed_arguments(
    bound: catalog.BoundArguments, record: catalog.Function, loop_names: tuple[str, ...], loop: LoopFrame | None
) -> bool:
    """Every argument but the matrix is the same on every iteration: a literal, or a name or
    attribute chain that reads no loop target and that the loop does not change; no ``out=``,
    and nothing unpacked."""
    if bound.extra_positional or bound.extra_keywords or "out" in bound.given:
        return False
    for parameter, argument in bound.given.items():
        if parameter == record.signature.positional[0] or literal_value(argument) is not UNKNOWN:
            continue
        chain = dotted_name(argument)
        if chain is None or mentions(argument, loop_names) or (loop is not None and loop.changes(chain)):
            return False
    return True


class _AxisSlice(NamedTuple):
    array: cst.BaseExpression
    axis: int  # how many whole axes (``:``) come before the index


def _slice_at(expr: cst.BaseExpression, index: str) -> _AxisSlice | None:
    """``X[i]`` (axis 0), or ``X[:, :, i]`` with two whole axes or more before ``i``, the name
    ``index``, and nothing after it."""
    if type(expr) is not cst.Subscript:
        return None
    elements = [element.slice for element in expr.slice]
    last = elements[-1]
    if type(last) is not cst.Index or type(last.value) is not cst.Name or last.value.value != index:
        return None
    whole_axes = elements[:-1]
    if len(whole_axes) == 1 or not all(
        type(axis) is cst.Slice and axis.lower is None and axis.upper is None and axis.step is None
        for axis in whole_axes
    ):
        return None
    return _AxisSlice(expr.value, len(whole_axes))


def _indexed(expr: cst.BaseExpression, index: str) -> cst.BaseExpression | None:
    """``X`` when ``expr`` is ``X[i]`` with ``i`` the name ``index``."""
    if type(expr) is not cst.Subscript or len(expr.slice) != 1:
        return None
    element = expr.slice[0].slice
    if type(element) is not cst.Index or type(element.value) is not cst.Name or element.value.value != index:
        return None
    return expr.value


def _stacked_call(match: _Match, whole: str) -> cst.Call:
    """The routine's call given the whole stack ``whole`` in place of the one matrix."""
    bound = catalog.bind(match.call, match.record)
    matrix = bound.argument(match.record.signature.positional[0]) if bound is not None else None
    replacement = cst.parse_expression(whole)
    return match.call.with_changes(
        args=[arg.with_changes(value=replacement) if arg.value is matrix else arg for arg in match.call.args]
    )


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    return (rng.standard_normal((size, 3, 3)) + 3 * np.eye(3),)


def _pattern(A):
    import numpy as np

    out = np.empty_like(A)
    for i in range(len(A)):
        out[i] = np.linalg.inv(A[i])
    return out


def _fix(A):
    import numpy as np

    return np.linalg.inv(A)


StackedRoutinePerSlice.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(1_000, 10_000, 100_000),
    check_size=16,
    size_unit="3×3 float64 matrices",
    backend=NUMPY_BACKEND,
    timed=(
        "Inverses of n 3×3 float64 matrices: `out[i] = np.linalg.inv(A[i])` per matrix in a loop "
        "against `np.linalg.inv(A)`."
    ),
)
