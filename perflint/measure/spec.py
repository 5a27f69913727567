"""How a rule declares its micro-benchmark. Importing this module imports nothing heavy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from perflint.text_enum import TextEnum


class Backend(TextEnum):
    """What a benchmark's code is written against."""

    # Numerical code written against an array namespace (``xp``): runs with NumPy on the CPU,
    # with CuPy on a CUDA GPU and with torch on CUDA or MPS, whichever are installed and present.
    ARRAY = "array"
    # Code tied to one library keeps it: torch-specific patterns, or host-only NumPy work.
    TORCH = "torch"
    NUMPY = "numpy"
    PANDAS = "pandas"


ARRAY_BACKEND = Backend.ARRAY
TORCH_BACKEND = Backend.TORCH
NUMPY_BACKEND = Backend.NUMPY
PANDAS_BACKEND = Backend.PANDAS

# Where an array-namespace benchmark can run: the CPU always, accelerators when present.
ARRAY_DEVICES = ("cpu", "cuda", "mps")


@dataclass(frozen=True)
class Target:
    """One library on one device, as handed to a benchmark's ``setup``.

    ``xp`` is the array namespace (NumPy, CuPy or torch through ``array_api_compat``) for
    array-backend benchmarks and the library module otherwise. ``asarray`` moves a host NumPy
    array to the target, so inputs can be generated once on the host with NumPy's seeded
    generator and be identical on every device.
    """

    library: str
    device: str
    xp: Any = None

    @property
    def label(self) -> str:
        return f"{self.library}/{self.device}"

    def asarray(self, host_array: Any) -> Any:
        if self.library == "numpy":
            return host_array
        if self.library == "torch":
            import torch

            return torch.as_tensor(host_array, device=self.device)
        return self.xp.asarray(host_array)


@dataclass(frozen=True)
class Benchmark:
    """A flagged pattern and its fix, timed on the same generated inputs at several sizes.

    ``setup(size, target)`` builds the inputs for one size on one ``Target`` and returns them
    as a tuple; ``pattern(*inputs)`` and ``fix(*inputs)`` must return the same result, which
    the harness checks at every size before it times anything. An array-backend benchmark
    puts ``target.xp`` among its inputs and calls only that namespace, so the same code runs
    on every device. ``sizes`` (at least three, ascending, spanning a factor of ten or more)
    are in ``size_unit``, the unit a user thinks in; ``check_size`` is the small size the test
    suite checks agreement at. ``mutates_inputs`` declares that a side writes into its inputs:
    each timed call then gets a fresh copy, made outside the timed region. Bump ``version``
    when the benchmark's meaning changes in a way its functions' source does not show (for
    example, a helper class it uses), so cached measurements of the old one are not reused.

    ``timed`` says in words exactly what one call of each side does (shapes, dtypes, the calls
    on each side), for the rule page's "Measured" section: a reader compares it with the code
    the rule flags, since no test can. ``not_timed`` holds the reason a benchmark can never be
    timed in one process (it needs several GPUs, say): the harness then skips it with that
    reason on every machine, while the test suite still checks that its sides agree on the CPU.
    ``size_in_code`` says what size, in ``size_unit``, the rule's findings carry where the code
    states it (``Finding.size``, read through ``engine.sizes``); empty for a rule whose size the
    code does not show.
    """

    setup: Callable[[int, Target], tuple]
    pattern: Callable[..., Any]
    fix: Callable[..., Any]
    sizes: tuple[int, ...]
    check_size: int
    size_unit: str
    backend: Backend = NUMPY_BACKEND
    devices: tuple[str, ...] = ("cpu",)
    mutates_inputs: bool = False
    version: int = 1
    timed: str = ""
    not_timed: str = ""
    size_in_code: str = ""

    def __post_init__(self) -> None:
        if len(self.sizes) < 3 or list(self.sizes) != sorted(set(self.sizes)) or self.sizes[0] < 1:
            raise ValueError(f"sizes must be at least three distinct ascending positive sizes, not {self.sizes}")
        if self.sizes[-1] < 10 * self.sizes[0]:
            raise ValueError(f"sizes must span a factor of ten or more, not {self.sizes}")
        if not 0 < self.check_size <= self.sizes[0]:
            raise ValueError(f"check_size must be positive and at most the smallest size, not {self.check_size}")

    @property
    def middle_size(self) -> int:
        """The size ``perflint bench --quick`` measures and ``--measure`` ranks by: the middle
        one, typical of real code, where the smallest often shows only fixed overheads."""
        return self.sizes[len(self.sizes) // 2]
