"""How a rule declares its micro-benchmark. Importing this module imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

NUMPY_BACKEND = "numpy"
TORCH_BACKEND = "torch"


@dataclass(frozen=True)
class Benchmark:
    """A flagged pattern and its fix, timed on the same generated inputs.

    ``setup(size, device)`` builds the inputs (importing NumPy or torch itself) and returns
    them as a tuple; ``pattern(*inputs)`` and ``fix(*inputs)`` must return the same result,
    which the harness checks before it times anything. ``device`` is ``"cpu"`` or a torch
    device string such as ``"cuda"``; ``devices`` lists the ones the comparison means
    something on (create-then-move only makes sense with an accelerator).
    """

    setup: Callable[[int, str], tuple]
    pattern: Callable[..., Any]
    fix: Callable[..., Any]
    default_size: int
    check_size: int
    size_unit: str
    backend: str = NUMPY_BACKEND
    devices: tuple[str, ...] = ("cpu",)
