"""What the engine knows about NumPy, PyTorch, pandas, SciPy, the standard library and a few
other libraries (model loaders, scikit-learn's pairwise tables and deterministic fits).

One record per library function the rules reason about (``records.Function``: its
signature and flags), one module per library; ``lookup`` finds a record by the qualified
name the import table resolves a call to, and ``bind`` maps a call's arguments to the
record's parameter names. Rules keep no private tables of library facts: they ask here.

The module-level tables below (``CONSTRUCTORS``, ``FACTORIES``, ``ELEMENTWISE_FUNCTIONS``…)
are derived from the records, for the engine modules that read tables; the records are the
one source of truth.
"""

from __future__ import annotations

import libcst as cst

from perflint.engine.catalog import compilers as _compilers
from perflint.engine.catalog import learning as _learning
from perflint.engine.catalog import methods as _methods
from perflint.engine.catalog import models as _models
from perflint.engine.catalog import numpy as _numpy
from perflint.engine.catalog import pandas as _pandas
from perflint.engine.catalog import scipy as _scipy
from perflint.engine.catalog import stdlib as _stdlib
from perflint.engine.catalog import torch as _torch
from perflint.engine.catalog import tqdm as _tqdm
from perflint.engine.catalog.binding import BoundArguments, bind
from perflint.engine.catalog.records import (
    CONCATENATES,
    CONVERTS_SEQUENCES,
    ELEMENTWISE,
    EXPENSIVE,
    FACTORY,
    HOST_ALLOCATION,
    LOADS_MODEL,
    PURE,
    REDUCES_AXES,
    REDUCTION,
    SAME_LIBRARY,
    SOLVES,
    SORTS,
    ArrayKind,
    Flag,
    Function,
    Method,
    Signature,
)
from perflint.engine.roles import names_an_in_place_method

NUMPY = _numpy.NUMPY
TORCH = _torch.TORCH
PANDAS = _pandas.PANDAS
# The parameter through which NumPy and torch functions write their result into an array given.
OUTPUT_PARAMETER = "out"

_FUNCTIONS: tuple[Function, ...] = (
    *_numpy.FUNCTIONS,
    *_torch.FUNCTIONS,
    *_pandas.FUNCTIONS,
    *_scipy.FUNCTIONS,
    *_stdlib.FUNCTIONS,
    *_tqdm.FUNCTIONS,
    *_models.FUNCTIONS,
    *_learning.FUNCTIONS,
)
_BY_NAME: dict[str, Function] = {}
for _entry in _FUNCTIONS:
    for _name in (_entry.name, *_entry.aliases):
        if _name in _BY_NAME:
            raise ValueError(f"{_name} is catalogued twice")
        _BY_NAME[_name] = _entry
_METHODS: dict[str, Method] = {entry.name: entry for entry in _methods.METHODS}


def lookup(qualified_name: str | None) -> Function | None:
    """The record of ``numpy.zeros``, ``torch.utils.data.DataLoader``, ``builtins.len``…

    None for a name the catalogue does not list (or None itself, so that
    ``lookup(imports.qualified_name(call.func))`` needs no check in between).
    """
    return _BY_NAME.get(qualified_name) if qualified_name is not None else None


def output_buffer(call: cst.Call, qualified_name: str | None) -> cst.BaseExpression | None:
    """The argument ``call`` writes its result into: the one bound to ``out``, by keyword or,
    for a catalogued function, by position (``np.dot(a, b, buffer)``); None when none is passed."""
    record = lookup(qualified_name)
    if record is not None:
        arguments = bind(call, record)
        if arguments is not None:
            return arguments.argument(OUTPUT_PARAMETER)
    return next(
        (arg.value for arg in call.args if arg.keyword is not None and arg.keyword.value == OUTPUT_PARAMETER),
        None,
    )


def method(name: str) -> Method | None:
    """The record of a method of arrays, tensors, frames or containers named ``name``."""
    return _METHODS.get(name)


def listed(qualified_name: str) -> Function:
    """The record of a function the catalogue must list: for the records a module reads once,
    on import, by their names (a misspelt name fails the import, not a lint)."""
    return _BY_NAME[qualified_name]


def listed_method(name: str) -> Method:
    """The record of a method the catalogue must list, as ``listed`` is of a function."""
    return _METHODS[name]


def solver_for(inverse: Function) -> Function | None:
    """The function of ``inverse``'s library that solves ``a @ x = b`` without an inverse
    (``numpy.linalg.solve`` for ``numpy.linalg.inv``, ``torch.linalg.solve`` for
    ``torch.inverse``), or None where the catalogue lists none."""
    return next(
        (entry for entry in _FUNCTIONS if SOLVES in entry.flags and entry.library == inverse.library),
        None,
    )


def axes_reduction(library: str, method_name: str) -> str | None:
    """The method of ``library``'s arrays that reduces over a tuple of axes what the method
    ``method_name`` reduces over a whole array (``mean`` for ``mean``; torch's ``amax`` for its
    ``max``), when the catalogue lists one (``Flag.REDUCES_AXES``); None otherwise."""
    if library == TORCH:
        method_name = _torch.AXES_REDUCTION_METHODS.get(method_name, method_name)
    record = lookup(f"{library}.{method_name}")
    return method_name if record is not None and REDUCES_AXES in record.flags else None


def functions() -> tuple[Function, ...]:
    """Every catalogued function, library by library."""
    return _FUNCTIONS


def library_of(qualified_name: str) -> str:
    return qualified_name.split(".", 1)[0]


def _names(flag: Flag, libraries: tuple[str, ...]) -> frozenset[str]:
    return frozenset(entry.name for entry in _FUNCTIONS if flag in entry.flags and entry.library in libraries)


# Annotation types that say a value is an array, tensor or frame of a library.
ARRAY_TYPES: dict[str, ArrayKind | None] = {**_numpy.ARRAY_TYPES, **_torch.ARRAY_TYPES, **_pandas.ARRAY_TYPES}
# ``torch.is_tensor(x)``: a test of one argument's type, as ``isinstance`` with one of them.
TYPE_TESTS: dict[str, ArrayKind] = {**_torch.TYPE_TESTS}
# Type names in NumPy- and Google-style docstrings that say a parameter is an array or tensor.
DOCSTRING_ARRAY_TYPES: dict[str, ArrayKind] = {
    **_numpy.DOCSTRING_TYPES,
    **_torch.DOCSTRING_TYPES,
    **_pandas.DOCSTRING_TYPES,
}
# Field names of the named tuples catalogued functions and methods return (``indices``).
TUPLE_ITEM_NAMES = frozenset(
    {name for entry in _FUNCTIONS for name in entry.item_names}
    | {name for entry in _methods.METHODS for name in entry.tensor_items}
)

# The library of every call that returns a new array, tensor or frame.
CONSTRUCTORS: dict[str, ArrayKind] = {entry.name: entry.returns for entry in _FUNCTIONS if entry.returns}
# Calls that make a fresh object on every call: hoisting one out of a loop would share it.
FACTORIES = _names(FACTORY, (NUMPY, TORCH, PANDAS))
# torch factories that allocate on the CPU unless given ``device=``, and on the device itself
# when given one (see ``Flag.HOST_ALLOCATION``).
TORCH_HOST_FACTORIES = _names(HOST_ALLOCATION, (TORCH,))
# Conversions that share the memory of their argument.
PURE_CONVERSIONS = frozenset(entry.name for entry in _FUNCTIONS if entry.shares_data_with and entry.returns)
EXPENSIVE_CALLS = _names(EXPENSIVE, (NUMPY, TORCH, "scipy"))

# Function names applied element by element, and reductions, in NumPy or torch (any of
# their namespaces): the engine matches the last part of a qualified name against them.
ELEMENTWISE_FUNCTIONS = frozenset(entry.function_name for entry in _FUNCTIONS if ELEMENTWISE in entry.flags)
REDUCTION_FUNCTIONS = frozenset(entry.function_name for entry in _FUNCTIONS if REDUCTION in entry.flags)


def returned_kind(qualified_name: str | None) -> ArrayKind | None:
    """The library whose array, tensor or frame every call of ``qualified_name`` returns,
    whatever its arguments: a catalogued function's return type (``np.zeros``), or torch for
    torch's element-wise functions and reductions, which take a tensor and return one
    (``torch.tanh``, ``F.relu``, ``torch.sum``). Not those that return a tuple
    (``torch.max(x, 1)``), nor ``torch.equal`` (a bool); NumPy's return a scalar for a scalar
    (``np.log(2.0)``)."""
    if qualified_name is None:
        return None
    constructed = CONSTRUCTORS.get(qualified_name)
    if constructed is not None or library_of(qualified_name) != TORCH:
        return constructed
    record = lookup(qualified_name)
    if record is not None:
        returns_one_tensor = record.items is None and (ELEMENTWISE in record.flags or REDUCTION in record.flags)
        return TORCH if returns_one_tensor else None
    name = qualified_name.rpartition(".")[2]
    return TORCH if name in ELEMENTWISE_FUNCTIONS or name in REDUCTION_FUNCTIONS else None


NUMPY_RANDOM_GENERATORS = frozenset(_numpy.RANDOM_GENERATORS)
NUMPY_GENERATOR_SAMPLERS = frozenset(_numpy.GENERATOR_SAMPLERS)
NUMPY_RANDOM_NON_SAMPLERS = frozenset(_numpy.RANDOM_NON_SAMPLERS)
NUMPY_NEGATIVE_STRIDE_VIEWS = frozenset(_numpy.NEGATIVE_STRIDE_VIEWS)
# NumPy's string scalar types: a dtype of text, on which ufuncs and reductions have no loop.
NUMPY_TEXT_TYPES = frozenset(_numpy.TEXT_TYPES)
# Attributes an element of a numeric array has (``z.real``): any other names a Python object's.
NUMPY_SCALAR_ATTRIBUTES = frozenset(_numpy.SCALAR_ATTRIBUTES)
# ``np.maximum`` (or ``max``, ``+``) of an element and its neighbour -> ``np.maximum.accumulate``.
NUMPY_RUNNING_FORMS = _numpy.RUNNING_FORMS

# Methods of an array or tensor that return an array or tensor of the same library.
ARRAY_METHODS = frozenset(entry.name for entry in _methods.METHODS if entry.returns == SAME_LIBRARY)
# Methods that return an array of another library.
ARRAY_CONVERSION_METHODS: dict[str, ArrayKind] = {
    entry.name: entry.returns for entry in _methods.METHODS if isinstance(entry.returns, ArrayKind)
}
ARRAY_ATTRIBUTES = _methods.ARRAY_ATTRIBUTES
ARRAY_CONVERSION_ATTRIBUTES = _methods.ARRAY_CONVERSION_ATTRIBUTES
METADATA_ATTRIBUTES = _methods.METADATA_ATTRIBUTES
METADATA_METHODS = _methods.METADATA_METHODS
ELEMENTWISE_BINARY_METHODS = _methods.ELEMENTWISE_BINARY_METHODS
REDUCING_METHODS = _methods.REDUCING_METHODS
HOST_ONLY_METHODS = _methods.HOST_ONLY_METHODS
# Libraries that compute only in host memory: their values were never on a device.
HOST_LIBRARIES = frozenset({"numpy", "scipy", "pandas", "math"})
# Test frameworks: no library depends on one at run time, so a module that imports one at its
# top level runs only under tests.
TEST_FRAMEWORKS = frozenset({"pytest", "_pytest", "hypothesis"})
VIEW_METHODS = _methods.VIEW_METHODS
SHAPE_KEEPING_METHODS = _methods.SHAPE_KEEPING_METHODS
# Methods of arrays, tensors and containers that never change their receiver.
NON_MUTATING_METHODS = frozenset(entry.name for entry in _methods.METHODS if not entry.mutates_receiver)
# Catalogued methods that change their receiver in place (``sort``).
_CATALOGUED_MUTATORS = frozenset(entry.name for entry in _methods.METHODS if entry.mutates_receiver)


def changes_its_receiver(method: str) -> bool:
    """``x.<method>(…)`` changes ``x`` in place: a catalogued method that does, or a name that
    says so (``roles.names_an_in_place_method``: ``append``, ``add_``)."""
    return method in _CATALOGUED_MUTATORS or names_an_in_place_method(method)


NUMERIC_LIBRARIES = frozenset({"numpy", "torch", "pandas", "scipy", "math", "cmath"})
# The third-party packages whose functions the catalogue describes, by their import names: a
# parameter named after one (``def run(self, torch, batches)``) holds the module (``imports``).
LIBRARY_PACKAGES = frozenset({NUMPY, TORCH, PANDAS, "scipy"})
# Library namespaces whose functions draw random numbers or change state, catalogued or not.
_STATEFUL_NAMESPACES = (
    "numpy.random",
    "torch.random",
    "torch.nn.init",
    "torch.cuda",
    "torch.distributed",
    "torch.manual_seed",
    "torch.backends",
    "torch.utils",
    "torch.optim",
    "torch.nn.Module",
)
_MUTATING_FUNCTIONS = frozenset(entry.name for entry in _FUNCTIONS if entry.mutates)

# Builtins that never mutate their arguments, and those among them whose every call makes a
# fresh mutable object or a one-shot iterator.
_BUILTINS = tuple(entry for entry in _FUNCTIONS if entry.library == _stdlib.BUILTINS)
PURE_BUILTINS = frozenset(entry.function_name for entry in _BUILTINS if not entry.mutates)
FRESH_OBJECT_BUILTINS = frozenset(entry.function_name for entry in _BUILTINS if FACTORY in entry.flags)
NUMBER_BUILTINS = _stdlib.NUMBER_BUILTINS

# Python operators (libcst node types) that act element by element on whole arrays.
ELEMENTWISE_BINARY_OPERATORS = _stdlib.ELEMENTWISE_BINARY_OPERATORS
ELEMENTWISE_AUGMENTED_OPERATORS = _stdlib.ELEMENTWISE_AUGMENTED_OPERATORS
ELEMENTWISE_UNARY_OPERATORS = _stdlib.ELEMENTWISE_UNARY_OPERATORS
ELEMENTWISE_COMPARISON_OPERATORS = _stdlib.ELEMENTWISE_COMPARISON_OPERATORS
# Keywords that make an element-wise function write elsewhere (``out=``) or leave elements
# unwritten (NumPy's ``where=``).
ELEMENTWISE_REDIRECTING_KEYWORDS = frozenset({"out", "where"})

# torch device strings that name an accelerator (by prefix: ``"cuda:0"``), and the host's.
ACCELERATOR_DEVICE_TYPES = _torch.ACCELERATOR_DEVICE_TYPES
HOST_DEVICE_TYPE = _torch.HOST_DEVICE_TYPE
HOST_FLAG = _torch.HOST_FLAG
# Words a file holds when its tensors may live on an accelerator (a device, Lightning…).
ACCELERATOR_EVIDENCE_TEXT = _torch.ACCELERATOR_EVIDENCE_TEXT
MOVE_SIGNATURES = _torch.MOVE_SIGNATURES
PYTHON_TYPES_AS_DTYPES = _torch.PYTHON_TYPES_AS_DTYPES
# Model calls: inference methods, methods only a model has, and class methods that load one.
INFERENCE_METHODS = _torch.INFERENCE_METHODS
PREDICTION_METHODS = _torch.PREDICTION_METHODS
MODEL_PART_METHODS = _torch.MODEL_PART_METHODS
GRADIENT_METHODS = _torch.GRADIENT_METHODS
GRAPH_DROPPING_METHODS = _torch.GRAPH_DROPPING_METHODS
FILE_DATASET_NAMESPACES = _torch.FILE_DATASET_NAMESPACES
PER_ITEM_TRANSFORM_KEYWORDS = _torch.PER_ITEM_TRANSFORM_KEYWORDS
ITEM_CONVERSIONS = _torch.ITEM_CONVERSIONS
ITEM_CONVERSION_METHODS = _torch.ITEM_CONVERSION_METHODS
HOST_TENSOR_KEYWORDS = _torch.HOST_TENSOR_KEYWORDS
DERIVATIVE_KEYWORDS = _torch.DERIVATIVE_KEYWORDS
TAKES_PYTHON_SIZE = _torch.TAKES_PYTHON_SIZE
MODEL_EVIDENCE_METHODS = _torch.MODEL_EVIDENCE_METHODS
MODULE_STATE_WRAPPERS = _torch.MODULE_STATE_WRAPPERS
PARAMETER_CONSTRUCTORS = _torch.PARAMETER_CONSTRUCTORS
MODULE_STATE_METHODS = _torch.MODULE_STATE_METHODS
BUFFER_REGISTRATION_METHOD = _torch.BUFFER_REGISTRATION_METHOD
BUFFER_REGISTRATION_PARAMETERS = _torch.BUFFER_REGISTRATION_PARAMETERS
MODEL_LOADING_METHODS = frozenset(entry.name for entry in _methods.METHODS if LOADS_MODEL in entry.flags)
# Convolutions and the batch norm that cancels their bias when it follows them directly.
BIAS_CANCELLING_NORMS = _torch.BIAS_CANCELLING_NORMS
SEQUENTIAL_CONTAINERS = _torch.SEQUENTIAL_CONTAINERS
# Debugging switches (``Flag.DEBUG_MODE``) and the parameter that turns each off when False.
DEBUG_MODE_SWITCHES = _torch.DEBUG_MODE_SWITCHES
# Functions that tell eager torch code from code being scripted, traced or compiled.
TORCH_COMPILATION_CHECKS = _torch.COMPILATION_CHECKS
TORCH_TIMING_EVENT_CLASSES = _torch.TIMING_EVENT_CLASSES
TORCH_TIMING_EVENT_KEYWORD = _torch.TIMING_EVENT_KEYWORD
TORCH_ELAPSED_TIME_METHOD = _torch.ELAPSED_TIME_METHOD
TORCH_EMPTY_UNDEFINED_REDUCTIONS = _torch.EMPTY_UNDEFINED_REDUCTIONS
# Tests that tell floating-point (and complex) tensors from integer and boolean ones.
TORCH_FLOATING_POINT_TESTS = _torch.FLOATING_POINT_TESTS
TORCH_FLOATING_POINT_TEST_ATTRIBUTES = _torch.FLOATING_POINT_TEST_ATTRIBUTES
# The outer product of two vectors, in NumPy and torch (``torch.ger`` is its old name).
OUTER_PRODUCTS = frozenset({"numpy.outer", "torch.outer", "torch.ger"})
# torch functions that take no Python number (``torch.maximum``), and the method that does.
TORCH_NUMBER_TAKING_METHODS = _torch.NUMBER_TAKING_METHODS
TENSOR_FORMS_OF_HOST_ANSWERS = _torch.TENSOR_FORMS_OF_HOST_ANSWERS
# Factories of an n×m identity matrix, whose shape arguments are its two orders (``eye(n, m)``),
# where every other factory's are the array's whole shape.
IDENTITY_FACTORIES = frozenset({"torch.eye", "numpy.eye", "numpy.identity"})
# Factories whose positional arguments are ``range``'s (start, stop, step): ``arange(n)`` has n elements.
RANGE_FACTORIES = frozenset({"numpy.arange", "torch.arange"})
# Methods of a torch module that run on every call of the model.
TORCH_MODULE_CALL_METHODS = _torch.MODULE_CALL_METHODS
# ``model.parameters()``, ``model.named_buffers()``: a module's tensors one at a time.
TORCH_MODULE_TENSOR_ITERATORS = _torch.MODULE_TENSOR_ITERATORS
TORCH_MODULE_NAMED_TENSOR_ITERATORS = _torch.MODULE_NAMED_TENSOR_ITERATORS
# ``for group in optimizer.param_groups: for p in group["params"]:``: each ``p`` is a tensor.
TORCH_OPTIMIZER_GROUPS_ATTRIBUTE = _torch.OPTIMIZER_GROUPS_ATTRIBUTE
TORCH_OPTIMIZER_GROUP_TENSORS_KEY = _torch.OPTIMIZER_GROUP_TENSORS_KEY
# ``lerp_`` -> ``torch._foreach_lerp_``: an in-place method's multi-tensor form.
TORCH_FOREACH_IN_PLACE = _torch.FOREACH_IN_PLACE
TORCH_FOREACH_OF_OPERATOR = _torch.FOREACH_OF_OPERATOR
# How a NumPy dtype argument names float64 (``np.float64``, ``float``, ``"float64"``).
FLOAT64_TYPES = frozenset(_numpy.FLOAT64_TYPES)
FLOAT64_STRINGS = frozenset(_numpy.FLOAT64_STRINGS)
# The legacy tensor constructors (``torch.FloatTensor``) and the method converting to their dtype.
LEGACY_CONSTRUCTOR_CONVERSIONS = {f"torch.{name}": method for name, method in _torch.LEGACY_CONSTRUCTORS.items()}
# The dtypes (and legacy constructors' conversions) a constructor fills by reading values as floats.
FLOAT_READ_DTYPES = _torch.FLOAT_READ_DTYPES
FLOAT_READ_LEGACY_CONVERSIONS = _torch.FLOAT_READ_LEGACY_CONVERSIONS
# Classes whose subclasses are torch modules.
TORCH_MODULE_CLASSES = _torch.MODULE_CLASSES
# Classes whose subclasses' objects are built on every call of the code using them (torch
# distributions, made from a network's outputs in each forward): their constructors run per call.
TORCH_DISTRIBUTION_CLASSES = _torch.DISTRIBUTION_CLASSES
# torch's optimizer classes: their subclasses' ``step`` runs once per training step.
TORCH_OPTIMIZER_CLASSES = _torch.OPTIMIZER_CLASSES
# torchvision's conversions between PIL images and tensors: their callers' tensors are on the host.
PIL_IMAGE_CONVERSIONS = _torch.PIL_IMAGE_CONVERSIONS
# pandas writers' arguments that append rows (``to_csv(mode="a")``), and the appending value.
ROW_APPENDING_ARGUMENTS = _pandas.ROW_APPENDING_ARGUMENTS
# The first words of SQL statements that write rows.
SQL_ROW_WRITES = _stdlib.SQL_ROW_WRITES
# Builtin types no array is an instance of (``isinstance(x, int)``).
NON_ARRAY_TYPES = _stdlib.NON_ARRAY_TYPES
# Decorators whose function runs once per distinct argument.
CACHING_DECORATORS = _stdlib.CACHING_DECORATORS
# Decorators and wrapping calls that compile a Python function (numba, JAX, TorchScript,
# torch.compile, Cython), and the text a file must contain to call one of them.
JIT_COMPILERS = _compilers.JIT_COMPILERS
JIT_COMPILER_CALL_TEXT = _compilers.COMPILER_CALL_TEXT
# ``with torch.cuda.graph(g):``: what runs in the body is captured and replayed as a CUDA graph.
CUDA_GRAPH_CAPTURES = _compilers.CUDA_GRAPH_CAPTURES
# Attributes of a pandas Series (``row.name``), as opposed to columns read as attributes.
SERIES_ATTRIBUTES = _pandas.SERIES_ATTRIBUTES
SERIES_TYPE = _pandas.SERIES_TYPE
SERIES_ELEMENT_METHODS = _pandas.SERIES_ELEMENT_METHODS
# A datetime column's element attributes and methods, and their ``.dt`` spellings.
DATETIME_FIELDS = _pandas.DATETIME_FIELDS
DATETIME_METHOD_FIELDS = _pandas.DATETIME_METHOD_FIELDS
DATETIME_METHODS = _pandas.DATETIME_METHODS
PANDAS_INDEXERS = _pandas.INDEXERS
# SciPy sparse formats (see ``scipy.SPARSE_TYPES``) and what a CSR row's reads are in
# ``indptr`` form.
# Solvers slower than an inverse and a product on matrices up to an order (SciPy's checks).
SOLVE_OVERHEAD_ORDERS = _scipy.SOLVE_OVERHEAD_ORDERS
SPARSE_CSR = _scipy.SPARSE_FORMAT_CSR
SPARSE_CSC = _scipy.SPARSE_FORMAT_CSC
SPARSE_TYPES = _scipy.SPARSE_TYPES
SPARSE_CONVERSION_METHODS = _scipy.SPARSE_CONVERSION_METHODS
SPARSE_ROW_METHOD = _scipy.SPARSE_ROW_METHOD
SPARSE_ROW_ATTRIBUTES = _scipy.SPARSE_ROW_ATTRIBUTES
SPARSE_CSR_ROW_ATTRIBUTE = _scipy.SPARSE_CSR_ROW_ATTRIBUTE
SPARSE_ROW_METHODS = _scipy.SPARSE_ROW_METHODS
# ``math.sqrt`` -> (``numpy.sqrt``, ``torch.sqrt``): the whole-array function of a scalar one.
MATH_ARRAY_EQUIVALENTS = _stdlib.MATH_ARRAY_EQUIVALENTS


def costly_to_recompute(record: Function) -> bool:
    """A call of ``record`` costs far more than reading its arguments, and gives an equal value
    for equal arguments: O(n³) linear algebra or a pairwise table (``EXPENSIVE``), or a sort of
    its whole input (``SORTS``: ``np.unique``, ``torch.argsort``). Recomputed with the same
    arguments, each call after the first wastes all of that."""
    return PURE in record.flags and bool(record.flags & (EXPENSIVE | SORTS))


def is_side_effect_free(qualified_name: str) -> bool:
    """A numeric-library function that neither mutates its arguments nor has hidden state.

    A catalogued function answers from its record (``mutates``; ``PURE`` vouches for it even
    in a namespace of state, as ``torch.utils.data.DataLoader`` is, or in another library, as
    ``sklearn.metrics.euclidean_distances`` is); any other function of a
    numeric library is presumed free of side effects unless it is in-place by name (``add_``)
    or lives in a namespace of random draws and state (``numpy.random``, ``torch.cuda``…).
    A model loader of any library (``joblib.load``, ``spacy.load``) reads its arguments, a
    path or a model name, and writes none of them; so does a class's loader method
    (``transformers.AutoModel.from_pretrained``).
    """
    entry = _BY_NAME.get(qualified_name)
    if entry is not None and LOADS_MODEL in entry.flags:
        return not entry.mutates
    if entry is not None and PURE in entry.flags:
        return True
    loader = _METHODS.get(qualified_name.rpartition(".")[2])
    if loader is not None and LOADS_MODEL in loader.flags:
        return True
    if library_of(qualified_name) not in NUMERIC_LIBRARIES:
        return False
    if qualified_name in _MUTATING_FUNCTIONS or qualified_name.endswith("_"):
        return False
    return not any(
        qualified_name == namespace or qualified_name.startswith(namespace + ".") for namespace in _STATEFUL_NAMESPACES
    )


def takes_only_a_tensor_first(qualified_name: str | None) -> bool:
    """A torch function whose first parameter accepts only a tensor: torch's documentation
    names that parameter ``input`` (``torch.exp(2.0)`` is a TypeError), so an argument passed
    there is a tensor. (Asked per call, so that signatures stay unparsed at start-up.)"""
    entry = _BY_NAME.get(qualified_name) if qualified_name is not None else None
    return entry is not None and entry.library == TORCH and entry.signature.positional[:1] == ("input",)


def fits_one_sample(qualified_name: str) -> bool:
    """A SciPy routine that fits parameters to one 1-D sample (``scipy.stats.norm.fit``,
    ``scipy.stats.boxcox_normmax``, ``scipy.optimize.curve_fit``): per slice, it has no
    whole-array form."""
    if qualified_name in _scipy.ONE_SAMPLE_FITS:
        return True
    return qualified_name.startswith("scipy.") and qualified_name.rpartition(".")[2] in _scipy.ONE_SAMPLE_FIT_METHODS


def move_keywords_with_factory_equivalent(move: Method) -> frozenset[str]:
    """Keywords of a move (``.to``, ``.cuda``) that a torch host factory can take instead.

    Those every host factory also accepts (``device``, ``dtype``), and those that concern
    only the copy, which disappears with it (``non_blocking``). ``copy=`` and
    ``memory_format=`` are not among them: some factories have no equivalent.
    """
    if move.signature is None:
        return frozenset()
    factory_keywords = frozenset.intersection(
        *(frozenset(_BY_NAME[name].signature.keywords) for name in TORCH_HOST_FACTORIES)
    )
    return frozenset(
        keyword
        for keyword in move.signature.keywords
        if keyword in factory_keywords or keyword in _torch.COPY_ONLY_KEYWORDS
    )
