"""PFL109: ``.item()`` on one element of an array or tensor per loop iteration."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.arrays import Evidence
from perflint.engine.devices import on_host
from perflint.engine.quoting import quote, quote_receiver
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.sizes import element_count
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.vectorisation import FAMILY


class ItemPerElement(Rule):
    """``t[i].item()`` in a loop converts (and, on a GPU, transfers) one element at a time."""

    code = "PFL109"
    name = "item-per-element"
    family = FAMILY
    summary = "`.item()` on one element of a tensor or array per loop iteration"
    message = (
        "`{call}` converts one element of `{array}` per iteration; convert it once with "
        "`{converted}` before the loop and use its items"
    )
    message_implicit = (
        "`{element}` converts one element of `{array}` to a Python number per iteration ({use}); convert it "
        "once with `{converted}` before the loop and use its items"
    )
    fix_title = "Call `.tolist()` once before the loop (one transfer, one conversion)"
    fix_safety = FIX_UNSAFE
    # Opt-in: the cost depends on the tensor's device and length, which the linter cannot see.
    default_enabled = False
    required_text = (".item()", "torch")
    reported_at = "the `.item()` call"

    what_it_does = (
        "Flags `.item()` inside a loop or comprehension when its receiver is one element of a "
        "known NumPy array or torch tensor (also one unpacked from or read off a call the catalogue "
        "says returns a tuple of them: `scores, labels = torch.max(logits, 1)`, "
        "`logits.topk(k).indices`), or, this rule being opt-in, a parameter known from weak evidence "
        "(a NumPy- or Google-style docstring type, `x : torch.Tensor`; passing it where torch "
        "takes only a tensor, `torch.softmax(x, -1)`): the loop's target in `for x in t` or "
        "`for i, x in enumerate(t)`, or `t[i]` (`t[i, j]`) with every index a target of an "
        "enclosing loop. The loop must not rebind the target. Also flagged: such an element "
        "of a torch tensor converted without `.item()` where Python needs a number, which "
        "costs the same: a slice bound (`padded[i, :lengths[i]]`), an argument of `range`, "
        "`int` or `float`, or the size `torch.randperm(n)` takes."
    )
    known_limitations = (
        "Not flagged: `.item()` on a whole reduction (`loss.item()`), on values of unknown type, "
        "outside a loop, or in a run-once function (`__init__`, set-up: the whole loop runs once "
        "per object, as in the common `[x.item() for x in torch.linspace(0, rate, depth)]` of "
        "stochastic depth) or in test code; an implicit conversion of an element of a tensor "
        "known to be on the host (`for n in lengths.cpu()`), where no device is waited for; "
        "other places a tensor element becomes a Python number (a shape in `view(n[i], -1)`, a "
        "factory's size `torch.zeros(n[i])`, an index `t[idx[i]]`), a bound computed from an "
        "element (`lengths[i] - 1`), and elements of a tensor known only inside a called "
        "function. Opt-in: what the loop costs depends on the tensor's device and length, which "
        "the linter cannot see. Over the libraries it was reviewed on, loops over detections or "
        "a batch of an accelerator tensor (a device sync per element) were worth fixing, while "
        "the same stochastic-depth list built in a helper outside `__init__`, a dozen host "
        "elements once per model, was not; on the development set of round 2 the implicit "
        "conversions were mostly per-sample length loops worth fixing, and a few loops over a "
        "handful of parts or parameters were not."
    )
    why_bad = (
        "Each `.item()` is a full round trip: indexing builds a 0-d tensor, `.item()` boxes its "
        "value into a Python number, and on an accelerator each call copies one element to the "
        "host and waits for the device to finish everything queued before it. `t.tolist()` "
        "does one transfer and one conversion of the whole tensor into Python numbers."
    )
    example = """\
import torch

def scores_by_label(scores: torch.Tensor, labels: list) -> dict:
    return {labels[i]: scores[i].item() for i in range(len(labels))}
"""
    use_instead = """\
import torch

def scores_by_label(scores: torch.Tensor, labels: list) -> dict:
    values = scores.tolist()
    return {labels[i]: values[i] for i in range(len(labels))}
"""
    fix_safety_note = (
        "Unsafe. `tolist()` converts every element, so when the loop reads only a few elements "
        "of a large tensor it can do more work than it saves; it also reads the whole tensor at "
        "once, where the loop read each element when it reached it (different only if the loop "
        "writes into the tensor). The values are the same Python numbers `.item()` gives. On a "
        "1-D tensor `t[i]` becomes `values[i]`; for more dimensions index the nested lists."
    )

    VALID = (
        # A scalar loss per step: one .item() per iteration is the point, not an element.
        """
        import torch
        def train(model, loader, optimizer):
            for batch in loader:
                loss = model(batch).mean()
                print(loss.item())
        """,
        # A constructor: the loop runs once per model.
        """
        import torch
        class Encoder:
            def __init__(self, depth: int, rate: float):
                self.rates = [x.item() for x in torch.linspace(0, rate, depth)]
        """,
        # Elements of a list, not of a known tensor.
        """
        import torch
        def show(values):
            for v in values:
                print(v.item())
            for i in range(3):
                print(values[i].item())
        """,
        # Converted once: the recommended form.
        """
        import torch
        def show(t: torch.Tensor):
            for value in t.tolist():
                print(value)
            first = t[0].item()
        """,
        # Unpacked from something not known to return tensors, or a Python value of a reduction.
        """
        import torch
        def show(pair, t: torch.Tensor):
            scores, labels = pair
            for s in scores:
                print(s.item())
            best, worst = t.max(), t.min()
            for b in best:
                print(b.item())
        """,
        # A parameter documented as array-like, or as one of several types, is not known.
        """
        import torch
        def show(values, scores):
            \"\"\"Show.

            Parameters
            ----------
            values : array_like
            scores : torch.Tensor or list
            \"\"\"
            for v in values:
                print(v.item())
            for i in range(3):
                print(scores[i].item())
        """,
        # The target is rebound in the loop: no longer the tensor's element.
        """
        import torch
        def show(t: torch.Tensor):
            for x in t:
                x = x * 2
                print(x.item())
        """,
        # Python numbers as bounds (the loop's own index, items of a list made once), a NumPy
        # element (converted in the interpreter), a tensor bound on its own, `int` of two
        # arguments (a string and its base), and elements of a tensor moved to the host.
        """
        import numpy as np
        import torch
        def split(x: torch.Tensor, lengths: torch.Tensor, starts: np.ndarray, texts):
            sizes = lengths.tolist()
            out = [x[i, : sizes[i]] for i in range(len(sizes))]
            out += [x[: starts[i]] for i in range(len(starts))]
            out += [x[:i] for i in range(3)]
            out.append(x[: lengths[0]])
            out += [x[:n] for n in lengths.cpu()]
            return out, [int(t, 16) for t in texts]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def to_python(t: torch.Tensor):
                return [x.item() for x in t]
            """,
            line=3,
            column=13,
        ),
        Invalid(
            """
            import numpy as np
            counts = np.bincount(labels)
            hist = np.zeros(10)
            for i in range(len(hist)):
                print(i, hist[i].item())
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            def log_metrics(metrics: torch.Tensor, names):
                for i, value in enumerate(metrics):
                    print(names[i], value.item())
            """,
            line=4,
        ),
        # Weak evidence, which this opt-in rule accepts: a docstring, a tensor-only argument.
        Invalid(
            """
            import torch
            def log_scores(scores, names):
                \"\"\"Log.

                Args:
                    scores (torch.Tensor): one score per name.
                \"\"\"
                for i, name in enumerate(names):
                    print(name, scores[i].item())
            """,
            line=9,
        ),
        Invalid(
            """
            import torch
            def probabilities(logits):
                probs = torch.softmax(logits, -1)
                return [p.item() for p in logits]
            """,
            line=4,
        ),
        # Tensors typed through a call that returns a tuple of them.
        Invalid(
            """
            import torch
            def best_labels(logits: torch.Tensor, names):
                scores, labels = torch.max(logits, 1)
                return [names[label.item()] for label in labels]
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def top(logits: torch.Tensor, k: int):
                found = logits.topk(k)
                return [found.indices[i].item() for i in range(k)]
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            def table(m: torch.Tensor):
                rows = []
                for i in range(m.shape[0]):
                    for j in range(m.shape[1]):
                        rows.append(m[i, j].item())
                return rows
            """,
            line=6,
        ),
        # A tensor element where Python needs a number: a slice bound, `range`, `torch.randperm`.
        Invalid(
            """
            import torch
            def unpad(padded: torch.Tensor, lengths: torch.Tensor):
                return [padded[i, : lengths[i]] for i in range(padded.shape[0])]
            """,
            line=3,
            column=25,
        ),
        Invalid(
            """
            import torch
            def shuffle_groups(x: torch.Tensor, counts: torch.Tensor):
                out = []
                for n in counts:
                    out.append(x[torch.randperm(n)])
                return out
            """,
            line=5,
        ),
        # A compound receiver: the advice parenthesises it (`(… + 1).reshape(-1).tolist()`).
        Invalid(
            """
            import torch
            def grid_shape(X: torch.Tensor):
                return [val.item() for val in torch.max(X, dim=0)[0] + 1]
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value != "item" or node.args:
            self._check_python_number_arguments(node)
            return
        # Weak evidence accepted: the rule is opt-in, and a parameter documented as a tensor
        # (``scores : torch.Tensor``) is what its loop reads element by element.
        array = self.context.loops.element_of(func.value, evidence=Evidence.WEAK)
        if array is None or self._in_run_once_or_test_code():
            return
        self.report(
            node,
            self.message.format(call=quote(node), array=quote(array), converted=_converted(func.value, array)),
            size=element_count(array, self.context),
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        for element in node.slice:
            if type(element.slice) is cst.Slice:
                for bound in (element.slice.lower, element.slice.upper, element.slice.step):
                    if bound is not None:
                        self._check_implicit_conversion(bound, "a slice bound")

    def _check_python_number_arguments(self, call: cst.Call) -> None:
        """``range(lengths[i])``, ``int(t[i])``, ``torch.randperm(n[i])``: a tensor element
        where a Python number is needed."""
        imports = self.context.imports
        func = call.func
        if type(func) is cst.Name and func.value in _PYTHON_NUMBER_BUILTINS and imports.is_builtin(func, func.value):
            if func.value == "range" or len(call.args) == 1:
                for arg in call.args:
                    if arg.keyword is None and not arg.star:
                        self._check_implicit_conversion(arg.value, f"an argument of `{func.value}`")
            return
        qualified = imports.qualified_name(func)
        if qualified in catalog.TAKES_PYTHON_SIZE and call.args and call.args[0].keyword is None:
            self._check_implicit_conversion(call.args[0].value, f"the size `{quote(func)}` takes")

    def _check_implicit_conversion(self, expr: cst.BaseExpression, use: str) -> None:
        array = self.context.loops.element_of(expr, evidence=Evidence.WEAK)
        if array is None or self.context.arrays.kind_of(array, Evidence.WEAK) != catalog.TORCH:
            # A NumPy integer converts in the interpreter, with no device to wait for.
            return
        if on_host(array, self.context):
            # Nor does an element of a tensor on the host (``for x in t.cpu()``).
            return
        if self._in_run_once_or_test_code():
            return
        self.report(
            expr,
            self.message_implicit.format(
                element=quote(expr), array=quote(array), use=use, converted=_converted(expr, array)
            ),
        )

    def _in_run_once_or_test_code(self) -> bool:
        """Set-up code (``__init__``): the whole loop runs once per object; tests pay for their
        own loops."""
        return self.context.functions.in_set_up() or self.context.functions.in_test_code()


# Builtins that turn their argument into a Python number (``range`` each of its arguments).
_PYTHON_NUMBER_BUILTINS = frozenset({"range", "int", "float"})


def _setup(size: int, target: Target) -> tuple:
    import torch

    generator = torch.Generator().manual_seed(0)
    return (torch.rand(size, generator=generator).to(target.device),)


def _pattern(scores):
    return [scores[i].item() for i in range(len(scores))]


def _fix(scores):
    return scores.tolist()


ItemPerElement.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 1_000, 10_000),
    check_size=64,
    size_unit="elements",
    size_in_code="the elements of the tensor the loop reads (`torch.randn(N)`)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "Reading an n-element float32 tensor into a Python list: `scores[i].item()` per element "
        "against one `scores.tolist()`."
    ),
)


def _converted(element: cst.BaseExpression, array: cst.BaseExpression) -> str:
    """The one conversion to advise before the loop: ``t.tolist()``, or ``t.reshape(-1).tolist()``
    where the loop takes one element per index of the first axis (``t[i]``, ``for x in t``), which
    holds one number only if every other axis has length one: a ``(B, 1)`` tensor's ``tolist()``
    is a list of one-item lists, its ``reshape(-1).tolist()`` the numbers."""
    if type(element) is cst.Subscript and len(element.slice) > 1:
        return f"{quote_receiver(array)}.tolist()"
    return f"{quote_receiver(array)}.reshape(-1).tolist()"
