"""PFL202: ``torch.tensor(a)`` copies a NumPy array torch could share."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.functions import PER_CALL
from perflint.engine.quoting import quote
from perflint.engine.rewrite import reference
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class TensorCopiesNdarray(Rule):
    """``torch.tensor(a)`` of a NumPy array."""

    code = "PFL202"
    name = "tensor-copies-ndarray"
    family = FAMILY
    summary = "`torch.tensor` copies a NumPy array"
    message = "`{call}` copies the NumPy array `{array}`; `{fix}` shares its memory"
    fix_title = "Use `torch.from_numpy(a)`"
    fix_safety = FIX_UNSAFE
    autofix = True
    # Opt-in: on the corpus every finding was a correct copy of a small array, or one paid next
    # to far larger work (feature extraction), never worth changing; see
    # benchmarks/results/precision/PFL202.md.
    default_enabled = False
    required_text = ("torch",)
    reported_at = "the `torch.tensor(...)` or constructor call (its first line)"

    what_it_does = (
        "Flags `torch.tensor(a)` given, as its only argument, an expression"
        " known to be a NumPy array (`np.stack(...)`, `a.astype(...)`, `frame.values`, a name every "
        "path binds to one), where the copy repeats: in a loop, or in a function that runs per sample"
        " or batch (`__getitem__`, a collate function, `forward`, `__call__`)."
    )
    known_limitations = (
        "Left alone: `torch.tensor` with `dtype=`, `device=`, `requires_grad=` or `pin_memory=` (a "
        "conversion or a copy to the device happens either way), an argument not known to be a NumPy "
        "array (a list, a parameter, an attribute), a view that may have a negative stride (`a[::-1]`, "
        "`np.flip(a)`), which `torch.from_numpy` rejects, and code outside loops in other functions (module"
        " level, `__init__`, a helper building a table at construction), where the copy is paid once "
        "or rarely. The legacy constructors (`torch.Tensor(a)`, `torch.FloatTensor(a)`, "
        "`torch.LongTensor(a)`…) are left alone too: on torch 2.13 they share an array of their own "
        "dtype and convert any other exactly as `torch.from_numpy(a).float()` would (measured on a "
        "226x226x3 array: 28 against 23 µs from float64, 5 against 1 µs sharing float32), so there "
        "is no copy to save; round 8's held-out review found all three legacy-constructor findings "
        "wrong for that reason."
    )
    why_bad = (
        "`torch.tensor(a)` always copies `a`'s data into a new tensor, even though a tensor can "
        "use a NumPy array's memory as it is: `torch.from_numpy(a)` costs the same few "
        "microseconds whatever the array's size. In a dataset's `__getitem__`, a collate function or a "
        "training step, the copy is paid for every sample or batch."
    )
    example = """\
import numpy as np
import torch

def collate(samples):
    return torch.tensor(np.stack(samples))
"""
    use_instead = """\
import numpy as np
import torch

def collate(samples):
    return torch.from_numpy(np.stack(samples))
"""
    fix_safety_note = (
        "The fix writes `torch.from_numpy(a)` in place of `torch.tensor(a)`, naming `torch` as "
        "the file imports it. The values and dtype are the same, but the fix is unsafe: the "
        "tensor shares `a`'s memory, so writing to `a` afterwards changes the tensor and "
        "writing to the tensor changes `a`; that is harmless when `a` is a fresh array "
        "(`np.stack(...)`, `a.astype(...)`) that nothing else writes. `torch.from_numpy` also "
        "raises for what is not an array, such as the Python float `np.random.randn()` draws "
        "without a shape, which `torch.tensor` accepts (what may be a NumPy scalar, the result of a "
        "reduction or a matrix product such as `torch.tensor(a.mean())` or `torch.tensor(np.dot(v, v))`, "
        "is not flagged: there is no array to share). It warns for a read-only array "
        "(pandas' `.values` under copy-on-write), whose tensor must then never be written."
    )

    VALID = (
        # A reduction or a dot product of vectors may be a NumPy scalar, not an array: there is
        # no block to share (and `torch.from_numpy` raises for a scalar).
        """
        import numpy as np
        import torch
        def norms(samples):
            for sample in samples:
                v = np.asarray(sample)
                yield torch.tensor(np.dot(v, v)), torch.tensor(v.mean() * 2)
        """,
        # A view with a negative stride (recbole's descending sort, `np.array(index)[::-1]`):
        # `torch.from_numpy` raises for it, so the copy is needed.
        """
        import numpy as np
        import torch
        def reversed_orders(keys):
            for key in keys:
                index = np.argsort(key, kind="stable")
                yield torch.tensor(np.array(index)[::-1])
                flipped = np.flip(index)
                yield torch.LongTensor(flipped[:, ::-1])
        """,
        # Not a NumPy array as far as the linter knows: a list, a parameter, an attribute.
        """
        import torch
        def collate(labels, batch):
            a = torch.tensor([0, 1, 2])
            b = torch.tensor(labels)
            c = torch.tensor(batch.targets)
        """,
        # A dtype, device or gradient request: the copy or conversion happens anyway.
        """
        import numpy as np
        import torch
        def step(samples, device):
            x = np.stack(samples)
            a = torch.tensor(x, dtype=torch.float32)
            b = torch.tensor(x, device=device)
            c = torch.tensor(x, requires_grad=True)
        """,
        # Already sharing: `from_numpy`, `as_tensor`.
        """
        import numpy as np
        import torch
        def step(samples):
            x = np.stack(samples)
            return torch.from_numpy(x), torch.as_tensor(x)
        """,
        # Run-once code (module level, a constructor) and a helper of unknown role, outside
        # any loop.
        """
        import numpy as np
        import torch
        TABLE = torch.tensor(np.arange(10))
        def sinusoid_table(n, d):
            angles = np.arange(n)[:, None] / np.power(10000, np.arange(d) / d)
            return torch.FloatTensor(np.sin(angles))
        class Model(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("table", torch.tensor(np.linspace(0, 1, 5)))
        """,
        # A legacy constructor given sizes, not data; given an array, it shares one of its own
        # dtype and converts any other as `torch.from_numpy(a).float()` would: nothing to save
        # (nevergrad's `torch.Tensor(img)` per LPIPS call, realesrgan's `FloatTensor(kernel)`).
        """
        import numpy as np
        import pandas as pd
        import torch
        from torch import LongTensor, Tensor
        def step(n, samples, frame: pd.DataFrame):
            a = torch.FloatTensor(n, 3), torch.Tensor(2, 3)
            for sample in samples:
                kernel = np.pad(np.asarray(sample), 2)
                yield torch.FloatTensor(kernel), Tensor(np.asarray(sample))
                yield LongTensor(np.asarray(sample, dtype=np.int32)), torch.FloatTensor(frame.values)
        """,
        # Not torch's `tensor`.
        """
        import numpy as np
        import torch
        def tensor(data):
            return data
        def step(samples):
            return tensor(np.stack(samples))
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            import torch
            def collate(samples):
                return torch.tensor(np.stack(samples))
            """,
            line=4,
            column=12,
            fixed="""
            import numpy as np
            import torch
            def collate(samples):
                return torch.from_numpy(np.stack(samples))
            """,
        ),
        Invalid(
            """
            import numpy as np
            import torch
            class Frames(torch.utils.data.Dataset):
                def __getitem__(self, index):
                    frame = np.load(self.paths[index]).astype(np.float32)
                    return torch.tensor(frame)
            """,
            line=6,
            fixed="""
            import numpy as np
            import torch
            class Frames(torch.utils.data.Dataset):
                def __getitem__(self, index):
                    frame = np.load(self.paths[index]).astype(np.float32)
                    return torch.from_numpy(frame)
            """,
        ),
        # No name reaches `torch.from_numpy`, and `torch` is a word of the file already.
        Invalid(
            """
            import numpy as np
            from torch import tensor
            def step(batch):
                for sample in batch:
                    yield tensor(np.asarray(sample))
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # Names as the file imports them.
        Invalid(
            """
            import numpy as np
            import torch as T
            def forward(self, x):
                return x + T.tensor(np.random.randn(*x.shape))
            """,
            line=4,
            column=16,
            fixed="""
            import numpy as np
            import torch as T
            def forward(self, x):
                return x + T.from_numpy(np.random.randn(*x.shape))
            """,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or record.library != catalog.TORCH or not record.has(catalog.Flag.COPIES_DATA):
            return
        if record.name in catalog.LEGACY_CONSTRUCTOR_CONVERSIONS:
            # Shares an array of its own dtype, and converts any other as ``from_numpy`` would
            # have to: nothing to save.
            return
        if len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
            return
        array = node.args[0].value
        if self.context.arrays.kind_of(array) != catalog.NUMPY or not self._repeats():
            return
        if self.context.arrays.may_be_numpy_scalar(array):
            # A NumPy scalar (``a.mean()``) has no block to share; ``torch.from_numpy`` raises for it.
            return
        if self.context.arrays.may_have_negative_strides(array):
            # ``torch.from_numpy`` raises for a reversed view (``a[::-1]``): the copy is needed.
            return
        array_code = quote(array)
        self.report(
            node,
            self.message.format(call=quote(node), array=array_code, fix=f"torch.from_numpy({array_code})"),
            fix=self._build_fix(node),
        )

    def _build_fix(self, call: cst.Call) -> Fix | None:
        """``torch.from_numpy(a)`` through the file's imports; None when no name reaches
        ``torch.from_numpy``."""
        from_numpy = reference(self.context, "torch.from_numpy")
        if from_numpy is None:
            return None
        function, imports = from_numpy
        shared = call.with_changes(func=function)
        return Fix.replace(call, shared, imports=imports, title=f"Use `{quote(shared)}` (it shares the array's memory)")

    def _repeats(self) -> bool:
        """In a loop, or in a function known to run per sample or batch (``__getitem__``, a
        collate function, ``forward``): where the copy is paid again and again. Elsewhere
        (set-up, a helper building a table at construction) it is paid once or rarely."""
        if self.context.innermost_loop is not None:
            return True
        function = self.context.function
        return function is not None and function.role == PER_CALL


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    # ``size`` samples of a 3 x 64 x 64 float32 image, as a collate function receives them.
    return ([rng.standard_normal((3, 64, 64), dtype=np.float32) for _ in range(size)],)


def _pattern(samples):
    import numpy as np
    import torch

    return torch.tensor(np.stack(samples))


def _fix(samples):
    import numpy as np
    import torch

    return torch.from_numpy(np.stack(samples))


TensorCopiesNdarray.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 64, 256),
    check_size=2,
    size_unit="samples per batch (3x64x64 float32 images)",
    backend=TORCH_BACKEND,
    timed=(
        "The page's example: a collate function's `torch.tensor(np.stack(samples))` against "
        "`torch.from_numpy(np.stack(samples))`, on a batch of n float32 images of 3x64x64. Both sides "
        "pay for `np.stack`; the pattern adds one copy of the stacked batch."
    ),
)
