"""PFL210: a NumPy array that is float64 by construction, made a tensor and moved to a device."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import device_move
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import resolved
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class Float64ToDevice(Rule):
    """``torch.from_numpy(np.random.rand(n)).cuda()``: float64 data sent to the device as is."""

    code = "PFL210"
    name = "float64-to-device"
    family = FAMILY
    summary = "A float64 NumPy array is moved to the device without converting to float32"
    message = (
        "`{array}` is float64, so `{call}` copies twice the bytes and makes a float64 tensor; "
        "convert first (`{array}.astype(np.float32)`, or `dtype=np.float32` where it is made)"
    )
    fix_title = "Make the array float32 before the copy (`a.astype(np.float32)` or `dtype=np.float32`)"
    fix_safety = FIX_UNSAFE
    required_text = ("from_numpy", "as_tensor", "tensor(")
    reported_at = "the `.to(...)` or `.cuda(...)` call (its first line)"

    what_it_does = (
        "Flags `.to(<device>)` and `.cuda()` of `torch.from_numpy(a)`, `torch.as_tensor(a)` or "
        "`torch.tensor(a)` (directly or through a name), with no dtype given on the way, where `a` is"
        " float64 by construction: `np.random.rand`, `randn`, `random`, `random_sample`, "
        "`standard_normal`, `uniform`, `normal`; `np.zeros`, `ones`, `empty`, `linspace`, `logspace`,"
        " `geomspace`, `eye`, `identity` without `dtype`; `np.arange` or `np.full` with a float "
        "literal among their values and no `dtype`; or `x.astype(np.float64)` (also `float`, "
        '`"float64"`).'
    )
    known_limitations = (
        "Left alone: a conversion on the way (`.float()`, `.to(device, torch.float32)`, `dtype=` "
        "given to the tensor), arrays of unknown dtype, and moves to the CPU."
    )
    why_bad = (
        "NumPy computes in float64 by default, and `torch.from_numpy` keeps the dtype, so the "
        "tensor that crosses the bus is twice the size it needs to be, and on the device it "
        "makes every operation it takes part in float64: consumer and most data-centre GPUs "
        "run float64 arithmetic at 1/32 to 1/2 of their float32 rate, and float64 tensors "
        "mixed with a float32 model raise dtype errors or promote whole computations."
    )
    example = """\
import numpy as np
import torch

def noise_batch(shape, device):
    return torch.from_numpy(np.random.randn(*shape)).to(device)
"""
    use_instead = """\
import numpy as np
import torch

def noise_batch(shape, device):
    return torch.from_numpy(np.random.randn(*shape).astype(np.float32)).to(device)
"""
    fix_safety_note = (
        "float32 keeps about 7 significant digits against float64's 16: code that needs "
        "double precision on the device (ill-conditioned linear algebra, long accumulations, "
        "some scientific simulations) must keep float64, which is why the fix is unsafe. When "
        "the tensor is converted later anyway (`x.float()` after the move), converting before "
        "the copy gives the same values."
    )

    VALID = (
        # A conversion on the way, or a dtype given.
        """
        import numpy as np
        import torch
        def step(n, device):
            a = np.random.rand(n)
            x = torch.from_numpy(a).float().to(device)
            y = torch.from_numpy(a).to(device, torch.float32)
            z = torch.tensor(a, dtype=torch.float32).cuda()
            w = torch.as_tensor(a).to(device=device, dtype=torch.float16)
        """,
        # Arrays made float32, or integer, or of unknown dtype.
        """
        import numpy as np
        import torch
        def step(n, frames, device):
            a = np.zeros(n, dtype=np.float32)
            b = np.arange(n)
            c = np.full(n, 3)
            x = torch.from_numpy(a).cuda()
            y = torch.from_numpy(b).cuda()
            z = torch.from_numpy(c).cuda()
            w = torch.from_numpy(np.stack(frames)).to(device)
        """,
        # Not moved to a device.
        """
        import numpy as np
        import torch
        def step(n):
            x = torch.from_numpy(np.random.rand(n)).to("cpu")
            y = torch.from_numpy(np.random.rand(n)) * 2
        """,
        # Rebound to float32 on every path before the move.
        """
        import numpy as np
        import torch
        def step(n, device):
            a = np.linspace(0, 1, n)
            a = a.astype(np.float32)
            return torch.from_numpy(a).to(device)
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            import torch
            def noise(shape, device):
                return torch.from_numpy(np.random.randn(*shape)).to(device)
            """,
            line=4,
            column=12,
        ),
        Invalid(
            """
            import numpy as np
            import torch
            def grid(n):
                xs = np.linspace(-1, 1, n)
                t = torch.tensor(xs)
                return t.cuda()
            """,
            line=6,
        ),
        Invalid(
            """
            import numpy as np
            import torch
            def steps(device):
                times = np.arange(0, 1, 0.01)
                return torch.as_tensor(times).to(device, non_blocking=True)
            """,
            line=5,
        ),
        Invalid(
            """
            import numpy
            import torch
            def weights(counts, device):
                w = counts.astype(numpy.float64)
                return torch.from_numpy(w).to(device)
            """,
            line=5,
            column=12,
        ),
        Invalid(
            """
            from numpy.random import uniform
            import torch
            def sample(n, device):
                return torch.from_numpy(uniform(0.0, 1.0, size=n)).to(device=device)
            """,
            line=4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in ("to", "cuda"):
            return
        move = device_move(node, self.context)
        if move is None or not move.towards_an_accelerator or move.dtype is not None:
            return
        tensor = resolved(func.value, self.context)
        if type(tensor) is not cst.Call:
            return
        record = catalog.lookup(self.context.imports.qualified_name(tensor.func))
        if record is None or record.returns != catalog.TORCH:
            return
        if not (record.shares_data_with or record.has(catalog.Flag.COPIES_DATA)):
            return
        arguments = catalog.bind(tensor, record)
        if arguments is None or record.signature.var_positional is not None:
            return
        if record.accepts("dtype") and (arguments.passes("dtype") or not arguments.is_known("dtype")):
            return
        data = arguments.argument(record.signature.positional[0])
        if data is not None and self._is_float64(data):
            self.report(node, self.message.format(array=quote(data), call=quote(node)))

    def _is_float64(self, expr: cst.BaseExpression) -> bool:
        """A NumPy array whose construction makes it float64."""
        call = resolved(expr, self.context)
        if type(call) is not cst.Call:
            return False
        func = call.func
        if (
            type(func) is cst.Attribute
            and func.attr.value == "astype"
            and self.context.imports.qualified_name(func) is None
        ):
            return len(call.args) >= 1 and call.args[0].keyword is None and self._names_float64(call.args[0].value)
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is None or record.library != catalog.NUMPY:
            return False
        if not record.has(catalog.Flag.FLOAT64_BY_DEFAULT) and not record.has(catalog.Flag.DTYPE_OF_VALUES):
            return False
        if record.accepts("dtype"):
            arguments = catalog.bind(call, record)
            if arguments is None or not arguments.is_known("dtype"):
                return False
            dtype = arguments.argument("dtype")
            if dtype is not None:
                return self._names_float64(dtype)
        if record.has(catalog.Flag.FLOAT64_BY_DEFAULT):
            return True
        return any(isinstance(literal_value(arg.value), float) for arg in call.args if arg.keyword is None)

    def _names_float64(self, dtype: cst.BaseExpression) -> bool:
        value = literal_value(dtype)
        if isinstance(value, str):
            return value in catalog.FLOAT64_STRINGS
        qualified = self.context.imports.qualified_name(dtype)
        if qualified is None and type(dtype) is cst.Name and self.context.imports.is_builtin(dtype, dtype.value):
            qualified = f"builtins.{dtype.value}"
        return qualified in catalog.FLOAT64_TYPES


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    device = target.device
    rng = np.random.default_rng(0)
    return rng.standard_normal((size, 256)), device


def _pattern(features, device):
    import torch

    x = torch.from_numpy(features).to(device)
    return (x @ x.T).float().sum(1).round(decimals=1).cpu().tolist()


def _fix(features, device):
    import numpy as np
    import torch

    x = torch.from_numpy(features.astype(np.float32)).to(device)
    return (x @ x.T).sum(1).round(decimals=1).cpu().tolist()


Float64ToDevice.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(512, 4096, 16_384),
    check_size=4,
    size_unit="rows of 256 features, copied to the device and multiplied by their transpose",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "Copying an n x 256 float64 NumPy array to the device and computing `x @ x.T` in float64 "
        "against converting it to float32 first; CUDA only."
    ),
)
