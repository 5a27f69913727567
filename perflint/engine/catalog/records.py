"""The shape of a catalogue entry: a library function's signature and what calling it does.

A signature is written as Python writes a parameter list, names only, no defaults:
``"shape, dtype, order, *, device, like"``; ``/`` ends the positional-only parameters, a
bare ``*`` starts the keyword-only ones, ``*name`` and ``**name`` are the variadic ones.
It is parsed the first time a rule asks for it: start-up time is part of pre-commit latency,
and most runs ask about a few dozen of the catalogue's entries.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import cached_property

from perflint.text_enum import TextEnum


class ArrayKind(TextEnum):
    """The library whose array a value is: what a function returns, what a name holds."""

    NUMPY = "numpy"
    TORCH = "torch"
    PANDAS = "pandas"


class Flag(enum.Flag):
    """What a call does, beyond returning a value. An absent flag means "not known to"."""

    NONE = 0
    # No side effects and no hidden state: the same arguments give an equal result, and
    # nothing else changes (random draws, file reads and writes are hidden state).
    PURE = enum.auto()
    # Every call makes a new object the caller may mutate: two calls give two objects, so
    # hoisting one out of a loop would share it between iterations.
    FACTORY = enum.auto()
    # Allocates its result in host memory; for torch, only when not given ``device=``, and
    # given one it allocates on that device itself (``torch.tensor(data)`` does not qualify:
    # it builds on the host and copies, ``device=`` or not).
    HOST_ALLOCATION = enum.auto()
    # Blocks the host until the accelerator has finished the work queued before it.
    SYNCHRONISES = enum.auto()
    # Costs far more than reading its arguments: O(n³) in the side of its matrix argument (a
    # decomposition, an inverse, a determinant), or O(n²) in its rows (a table of every pairwise
    # distance or kernel value).
    EXPENSIVE = enum.auto()
    # Builds a whole table from a few parameters: a window of cosines or Bessel functions, a
    # grid of coordinates, a Kronecker product. The same parameters give the same table, to
    # compute once and reuse.
    BUILDS_TABLE = enum.auto()
    # Returns a newly allocated array, never a view of an argument.
    FRESH_ARRAY = enum.auto()
    # Applied element by element: on whole arrays it gives, at each index, what it gives on
    # the elements at that index.
    ELEMENTWISE = enum.auto()
    # Reduces an array along one or all axes (``sum``, ``argmax``, ``norm``).
    REDUCTION = enum.auto()
    # A dataset whose items are slices of data already in memory.
    IN_MEMORY_DATASET = enum.auto()
    # Builds an optimizer: its ``step()`` updates the parameters it was given in place.
    OPTIMIZER = enum.auto()
    # Turns on a debugging aid that slows down every operation while it is on (anomaly
    # detection records a stack trace per autograd node and checks every gradient for NaN).
    DEBUG_MODE = enum.auto()
    # Writes an array to the file (path or file object) named by its first parameter.
    WRITES_ARRAY_FILE = enum.auto()
    # Reads an array from the file (path or file object) named by its first parameter.
    READS_ARRAY_FILE = enum.auto()
    # Joins a sequence of arrays (its first parameter) into one new array.
    JOINS_ARRAYS = enum.auto()
    # Loads a model (or a checkpoint of one) from a file: what it returns is called to infer.
    LOADS_MODEL = enum.auto()
    # A context manager or decorator under which calls run without recording autograd graphs:
    # what is called there is evaluated, typically a model.
    DISABLES_AUTOGRAD = enum.auto()
    # Writes a frame or series to the file (path or buffer) named by its first parameter.
    WRITES_TABLE_FILE = enum.auto()
    # Sorts, groups or finds the distinct values of its whole input: O(n log n) over all of
    # it, whatever part of the result the caller then uses.
    SORTS = enum.auto()
    # Makes its tensor by reading its data argument: always a copy (``torch.tensor``), or, for
    # the legacy constructors (``torch.FloatTensor(a)``), a copy converted to their dtype when a
    # NumPy array's dtype is not theirs (an array of their own dtype they share).
    COPIES_DATA = enum.auto()
    # Waits for all the work queued on the device, on every stream: an explicit device
    # synchronisation, or handing cached memory back to the driver, whose free waits too.
    DRAINS_DEVICE = enum.auto()
    # Loads batches from a dataset, in worker processes or not (torch's ``DataLoader``).
    LOADS_BATCHES = enum.auto()
    # Iterating the result iterates its first argument's items, with something added (an
    # index, a progress bar): ``enumerate(loader)``, ``tqdm(loader)``.
    WRAPS_ITERABLE = enum.auto()
    # Returns a float64 array unless given ``dtype=`` (``np.zeros``, ``np.random.rand``).
    FLOAT64_BY_DEFAULT = enum.auto()
    # Without ``dtype=``, returns an array of the dtype its values have: float64 for Python
    # floats (``np.arange(0.0, 1.0, 0.1)``, ``np.full(n, 0.5)``), int64 for ints.
    DTYPE_OF_VALUES = enum.auto()
    # Lays the arrays it is given end to end in a new one (``concatenate``, ``vstack``,
    # ``append``, ``torch.cat``, ``pandas.concat``): ``X = f(X, piece)`` grows ``X`` by a full
    # copy. Unlike JOINS_ARRAYS it covers ``numpy.append`` (an array and values) and pandas,
    # and not ``numpy.array``, which nests its items rather than extending the first.
    CONCATENATES = enum.auto()
    # Builds an array from a (nested) Python sequence item by item. Given a list whose items
    # are arrays, it reads them element by element through Python scalars, except NumPy's
    # constructors given NumPy's own arrays, which they copy as blocks. (torch warns that a
    # tensor from a list of ndarrays is "extremely slow".)
    CONVERTS_SEQUENCES = enum.auto()
    # Returns the inverse of its square-matrix argument.
    INVERSE = enum.auto()
    # Solves the linear system ``a @ x = b`` for ``x``, without forming an inverse.
    SOLVES = enum.auto()
    # The matrix product of its first two arguments (of its receiver and argument, for a
    # method), as ``@`` computes it.
    MATRIX_PRODUCT = enum.auto()
    # Reads a data file other than an array file (a table, a JSON document), named by its
    # first argument or opened there, into memory (array files: ``READS_ARRAY_FILE``).
    READS_FILE = enum.auto()
    # Returns a copy of its array argument (of its receiver, for a method), possibly
    # converted to another type or layout: new memory, the same values.
    COPIES = enum.auto()
    # As a context manager, turns autograd on or off as its ``mode`` argument says.
    SETS_GRAD_MODE = enum.auto()
    # Compiles its ``pattern`` argument, a regular expression, on every call (``re``'s module
    # functions: from a small cache when the pattern was seen recently).
    COMPILES_PATTERN = enum.auto()
    # Every element of its result is 0 or 1 (``zeros``, ``ones``, ``eye``) or left
    # uninitialised (``empty``): no arithmetic, so the values are the same on every device and
    # in every dtype it is made in (``arange``, ``linspace``: computed, and a device's kernels
    # round differently from the CPU's).
    FILLS_ZEROS_OR_ONES = enum.auto()
    # Returns an array of the shape of its first argument, an array, unless given ``shape=``
    # (``zeros_like``, ``empty_like``).
    SHAPE_OF_FIRST_ARGUMENT = enum.auto()
    # Draws random numbers from a generator (the default one unless given ``generator=``).
    DRAWS_RANDOM = enum.auto()
    # A reduction that takes a tuple of axes (``axis=(2, 3)``, torch's ``dim=(2, 3)``) and
    # reduces over all of them at once, as over those axes flattened: ``x[b, c].mean()`` for
    # every ``(b, c)`` is ``x.mean(axis=(2, 3))``. Not ``argmax`` (an index into one axis),
    # ``np.linalg.norm`` (two axes at most, a matrix norm), torch's ``prod``/``median`` (one).
    REDUCES_AXES = enum.auto()
    # A reduction that reads its input more than once: the mean, then the deviations from it
    # (``std``, ``var``), a partition (``median``), or a converted copy first (NumPy's ``nan*``
    # functions with NaNs replaced, ``count_nonzero`` over axes as booleans). Over an array too
    # large for the cache it is faster slice by slice, each slice read again while cached.
    READS_TWICE = enum.auto()
    # A model class whose ``fit`` draws no random numbers: the same data give the same fitted
    # model, and its methods change nothing but the model itself.
    FITS_DETERMINISTICALLY = enum.auto()
    # Takes a stack of matrices, any leading axes before the last two of its first argument,
    # and computes each matrix on its own in one call: given ``a`` of shape ``(k, m, n)``,
    # ``f(a)[i]`` equals ``f(a[i])`` (a tuple result item by item: ``f(a)[j][i]``), its other
    # arguments the same for every matrix. NumPy's ``linalg`` (``qr`` since 1.22) and torch's.
    STACKS_MATRICES = enum.auto()


PURE = Flag.PURE
FACTORY = Flag.FACTORY
HOST_ALLOCATION = Flag.HOST_ALLOCATION
SYNCHRONISES = Flag.SYNCHRONISES
EXPENSIVE = Flag.EXPENSIVE
BUILDS_TABLE = Flag.BUILDS_TABLE
FRESH_ARRAY = Flag.FRESH_ARRAY
ELEMENTWISE = Flag.ELEMENTWISE
REDUCTION = Flag.REDUCTION
IN_MEMORY_DATASET = Flag.IN_MEMORY_DATASET
OPTIMIZER = Flag.OPTIMIZER
DEBUG_MODE = Flag.DEBUG_MODE
WRITES_ARRAY_FILE = Flag.WRITES_ARRAY_FILE
READS_ARRAY_FILE = Flag.READS_ARRAY_FILE
JOINS_ARRAYS = Flag.JOINS_ARRAYS
WRITES_TABLE_FILE = Flag.WRITES_TABLE_FILE
LOADS_MODEL = Flag.LOADS_MODEL
DISABLES_AUTOGRAD = Flag.DISABLES_AUTOGRAD
SORTS = Flag.SORTS
COPIES_DATA = Flag.COPIES_DATA
DRAINS_DEVICE = Flag.DRAINS_DEVICE
LOADS_BATCHES = Flag.LOADS_BATCHES
WRAPS_ITERABLE = Flag.WRAPS_ITERABLE
FLOAT64_BY_DEFAULT = Flag.FLOAT64_BY_DEFAULT
DTYPE_OF_VALUES = Flag.DTYPE_OF_VALUES
CONCATENATES = Flag.CONCATENATES
CONVERTS_SEQUENCES = Flag.CONVERTS_SEQUENCES
INVERSE = Flag.INVERSE
SOLVES = Flag.SOLVES
MATRIX_PRODUCT = Flag.MATRIX_PRODUCT
READS_FILE = Flag.READS_FILE
COPIES = Flag.COPIES
SETS_GRAD_MODE = Flag.SETS_GRAD_MODE
COMPILES_PATTERN = Flag.COMPILES_PATTERN
SHAPE_OF_FIRST_ARGUMENT = Flag.SHAPE_OF_FIRST_ARGUMENT
FILLS_ZEROS_OR_ONES = Flag.FILLS_ZEROS_OR_ONES
DRAWS_RANDOM = Flag.DRAWS_RANDOM
REDUCES_AXES = Flag.REDUCES_AXES
READS_TWICE = Flag.READS_TWICE
FITS_DETERMINISTICALLY = Flag.FITS_DETERMINISTICALLY
STACKS_MATRICES = Flag.STACKS_MATRICES


@dataclass(frozen=True)
class Signature:
    """Parameter names as a call binds them."""

    # Parameters an argument can fill by position, in order; the first ``positional_only``
    # of them cannot be given by keyword.
    positional: tuple[str, ...]
    positional_only: int
    keyword_only: tuple[str, ...]
    var_positional: str | None  # the name of ``*args``, or None
    var_keyword: str | None  # the name of ``**kwargs``, or None

    @classmethod
    def parse(cls, text: str) -> Signature:
        """``"a, /, b, *args, c, **kwargs"`` (names only, as the module docstring says)."""
        positional: list[str] = []
        keyword_only: list[str] = []
        positional_only = 0
        var_positional = var_keyword = None
        for part in (piece.strip() for piece in text.split(",")):
            if not part:
                continue
            if part == "/":
                positional_only = len(positional)
            elif part.startswith("**"):
                var_keyword = part[2:]
            elif part.startswith("*"):
                if part != "*":
                    var_positional = part[1:]
                # Everything after ``*`` or ``*args`` is keyword-only.
                keyword_only.append("")
            elif keyword_only:
                keyword_only.append(part)
            else:
                positional.append(part)
        return cls(
            positional=tuple(positional),
            positional_only=positional_only,
            keyword_only=tuple(name for name in keyword_only if name),
            var_positional=var_positional,
            var_keyword=var_keyword,
        )

    @property
    def keywords(self) -> tuple[str, ...]:
        """Parameters an argument can fill by keyword."""
        return self.positional[self.positional_only :] + self.keyword_only

    def text(self) -> str:
        """The signature as ``parse`` reads it (for messages and the consistency test)."""
        parts = list(self.positional)
        if self.positional_only:
            parts.insert(self.positional_only, "/")
        if self.var_positional is not None:
            parts.append("*" + self.var_positional)
        elif self.keyword_only:
            parts.append("*")
        parts.extend(self.keyword_only)
        if self.var_keyword is not None:
            parts.append("**" + self.var_keyword)
        return ", ".join(parts)


@dataclass(frozen=True)
class Function:
    """One library function (or class, called to construct) and what a call to it does."""

    name: str  # the qualified name the import table resolves a call to: ``numpy.zeros``
    signature_text: str  # as the module docstring describes; ``signature`` is its parsed form
    flags: Flag = Flag.NONE
    # The library whose array, tensor or frame every call returns (``numpy``, ``torch``,
    # ``pandas``), or None when the result is something else or depends on the arguments.
    returns: ArrayKind | None = None
    # Parameters whose argument the call mutates in place (``numpy.copyto`` mutates ``dst``;
    # ``numpy.save`` writes to ``file``).
    mutates: tuple[str, ...] = ()
    # The parameter whose data the result shares rather than copies (``torch.from_numpy``
    # shares ``ndarray``'s memory, a ``Subset`` is made of ``dataset``'s items).
    shares_data_with: str | None = None
    # Overloaded by the number of positional arguments (``torch.arange(end)`` and
    # ``torch.arange(start, end)``): the signature is the fullest form, and positional
    # arguments cannot be assigned to its names.
    overloaded: bool = False
    # Other qualified names of the same object (private module paths).
    aliases: tuple[str, ...] = ()
    # The library of every item when the call returns a tuple (or a named tuple) of arrays:
    # ``torch.linalg.qr`` returns ``(Q, R)``, ``torch.max(x, 1)`` returns ``(values, indices)``.
    items: ArrayKind | None = None
    # The fields of that named tuple, read as attributes (``torch.max(x, 1).indices``).
    item_names: tuple[str, ...] = ()
    # Keywords that, given a true value, make the call return a tuple of ``items`` instead of
    # one array of ``returns`` (``np.unique(y, return_counts=True)``,
    # ``torch.nonzero(m, as_tuple=True)``). Empty when every call that has ``items`` returns a
    # tuple, or when the tuple form is chosen by position (``torch.max(x, 1)``).
    tuple_keywords: tuple[str, ...] = ()

    @cached_property
    def signature(self) -> Signature:
        return Signature.parse(self.signature_text)

    @property
    def library(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def function_name(self) -> str:
        """The name after the last dot: ``zeros`` for ``torch.zeros``."""
        return self.name.rpartition(".")[2]

    def has(self, flag: Flag) -> bool:
        return flag in self.flags

    def accepts(self, keyword: str) -> bool:
        """A call can pass ``keyword=`` (``device``, ``out``) by that name."""
        return keyword in self.signature.keywords

    @property
    def accepts_device(self) -> bool:
        return self.accepts("device")

    @property
    def mutates_arguments(self) -> bool:
        return bool(self.mutates)


def function(
    name: str,
    signature: str,
    flags: Flag = Flag.NONE,
    *,
    returns: ArrayKind | None = None,
    mutates: tuple[str, ...] = (),
    shares_data_with: str | None = None,
    overloaded: bool = False,
    aliases: tuple[str, ...] = (),
    items: ArrayKind | None = None,
    item_names: tuple[str, ...] = (),
    tuple_keywords: tuple[str, ...] = (),
) -> Function:
    """A catalogue entry, its signature written as the module docstring says."""
    entry = Function(
        name,
        signature,
        flags,
        returns,
        mutates,
        shares_data_with,
        overloaded,
        aliases,
        items,
        item_names,
        tuple_keywords,
    )
    for parameter in (*mutates, *((shares_data_with,) if shares_data_with else ()), *tuple_keywords):
        if parameter not in entry.signature.positional + entry.signature.keyword_only:
            raise ValueError(f"{name}: {parameter!r} is not a parameter of ({signature})")
    return entry


@dataclass(frozen=True)
class Method:
    """A method name of arrays, tensors, frames or builtin containers.

    Known by name alone, since the receiver's type is often unknown: a fact holds for every
    library's method of that name that the catalogue lists.
    """

    name: str
    # ``"same"``: returns an array of its receiver's library; a library name: returns an
    # array of that library (``.numpy()``); None: returns something else.
    returns: str | None = None
    mutates_receiver: bool = False
    flags: Flag = Flag.NONE
    signature: Signature | None = field(default=None, compare=False)
    # On a torch tensor, called with a dimension (``x.max(1)``) or always (``x.topk(k)``), the
    # method returns a named tuple of tensors with these fields (``values``, ``indices``).
    tensor_items: tuple[str, ...] = ()


SAME_LIBRARY = "same"


def method(
    name: str,
    returns: str | None = None,
    *,
    mutates_receiver: bool = False,
    flags: Flag = Flag.NONE,
    signature: str | None = None,
    tensor_items: tuple[str, ...] = (),
) -> Method:
    return Method(
        name,
        returns,
        mutates_receiver,
        flags,
        Signature.parse(signature) if signature is not None else None,
        tensor_items,
    )
