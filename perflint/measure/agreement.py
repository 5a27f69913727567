"""Do a benchmark's pattern and fix compute the same thing?

A speedup is only worth reporting when the fix is a real replacement for the pattern, so the
harness compares both results before timing anything. Arrays compare with a tolerance suited
to their precision (a vectorised sum may round differently from a loop); everything else
compares exactly. CuPy arrays and torch tensors (copied to the host), pandas objects, sequences and mappings are unpacked
recursively, and a list of numbers may stand against an array (the usual vectorised fix).
"""

from __future__ import annotations

from typing import Any

# (rtol, atol) by the byte width of the least precise floating-point operand. float64 gets
# NumPy's own defaults; narrower types legitimately lose more to a different summation order.
# Anything narrower than four bytes (float16, bfloat16) gets the loosest pair.
_TOLERANCES = {8: (1e-5, 1e-8), 4: (1e-4, 1e-6), 2: (1e-2, 1e-4)}
_NUMERIC_KINDS = "iufc"


def describe_difference(left: Any, right: Any, where: str = "result") -> str | None:
    """None when ``left`` and ``right`` agree; otherwise where and how they first differ."""
    import numpy as np

    left, right = _unwrap(left), _unwrap(right)
    if isinstance(left, dict) and isinstance(right, dict):
        if list(left) != list(right):
            return f"{where}: keys {list(left)} and {list(right)}"
        for key in left:
            difference = describe_difference(left[key], right[key], f"{where}[{key!r}]")
            if difference is not None:
                return difference
        return None
    if _is_array_like(left) or _is_array_like(right):
        return _array_difference(np, left, right, where)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if len(left) != len(right):
            return f"{where}: lengths {len(left)} and {len(right)}"
        for index, (left_item, right_item) in enumerate(zip(left, right)):
            difference = describe_difference(left_item, right_item, f"{where}[{index}]")
            if difference is not None:
                return difference
        return None
    try:
        equal = left == right
        agree = equal if isinstance(equal, bool) else bool(np.all(equal))
    except Exception as error:  # an uncomparable pair simply does not agree
        return f"{where}: cannot compare {type(left).__name__} with {type(right).__name__} ({error})"
    return None if agree else f"{where}: {_short(left)} != {_short(right)}"


def _unwrap(value: Any) -> Any:
    """CuPy arrays and torch tensors become NumPy arrays; pandas objects become plain labelled data."""
    module = type(value).__module__.split(".")[0]
    if module == "cupy" and hasattr(value, "get"):
        return value.get()  # device to host
    if module == "torch" and hasattr(value, "detach"):
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.element_size() < 4:
            tensor = tensor.float()  # bfloat16 has no NumPy counterpart
        return tensor.numpy()
    if module == "pandas":
        if hasattr(value, "columns") and hasattr(value, "iloc"):
            return {
                "columns": list(value.columns),
                "index": value.index.to_numpy(),
                "values": [value.iloc[:, position].to_numpy() for position in range(value.shape[1])],
            }
        if hasattr(value, "index") and hasattr(value, "to_numpy"):
            return {"name": value.name, "index": value.index.to_numpy(), "values": value.to_numpy()}
        if hasattr(value, "to_numpy"):
            return value.to_numpy()
    return value


def _is_array_like(value: Any) -> bool:
    import numpy as np

    return isinstance(value, (np.ndarray, np.generic, int, float, complex)) and not isinstance(value, bool)


def _array_difference(np: Any, left: Any, right: Any, where: str) -> str | None:
    try:
        left_array, right_array = np.asarray(left), np.asarray(right)
    except ValueError as error:
        return f"{where}: cannot compare as arrays ({error})"
    if left_array.shape != right_array.shape:
        return f"{where}: shapes {left_array.shape} and {right_array.shape}"
    if left_array.dtype.kind in _NUMERIC_KINDS and right_array.dtype.kind in _NUMERIC_KINDS:
        rtol, atol = _tolerance(left_array.dtype, right_array.dtype)
        if np.allclose(left_array, right_array, rtol=rtol, atol=atol, equal_nan=True):
            return None
        gap = np.abs(left_array.astype(complex) - right_array.astype(complex))
        return f"{where}: values differ by up to {np.nanmax(gap):.3g} (rtol={rtol:g}, atol={atol:g})"
    if np.array_equal(left_array, right_array):
        return None
    return f"{where}: {left_array.dtype} values differ"


def _tolerance(*dtypes: Any) -> tuple[float, float]:
    widths = [dtype.itemsize // (2 if dtype.kind == "c" else 1) for dtype in dtypes if dtype.kind in "fc"]
    narrowest = min(min(widths, default=8), 8)
    return _TOLERANCES.get(narrowest, _TOLERANCES[2])


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
