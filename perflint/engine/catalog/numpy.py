"""NumPy: the functions the rules reason about, and NumPy's array types.

Signatures as ``inspect.signature`` gives them for NumPy 2.x (ufuncs: ``x, /, out, *,
where, …``); tests/engine/test_catalog.py checks them against the installed NumPy.
"""

from __future__ import annotations

from perflint.engine.catalog.records import (
    BUILDS_TABLE,
    CONCATENATES,
    CONVERTS_SEQUENCES,
    COPIES,
    DTYPE_OF_VALUES,
    ELEMENTWISE,
    EXPENSIVE,
    FACTORY,
    FLOAT64_BY_DEFAULT,
    FRESH_ARRAY,
    HOST_ALLOCATION,
    INVERSE,
    JOINS_ARRAYS,
    MATRIX_PRODUCT,
    PURE,
    READS_ARRAY_FILE,
    READS_TWICE,
    REDUCES_AXES,
    REDUCTION,
    SHAPE_OF_FIRST_ARGUMENT,
    SOLVES,
    SORTS,
    STACKS_MATRICES,
    WRITES_ARRAY_FILE,
    ArrayKind,
    function,
    method,
)

NUMPY = ArrayKind.NUMPY

# Window functions of one parameter, the window's length.
WINDOWS = ("hanning", "hamming", "blackman", "bartlett")

# ``a.tofile(fid)`` writes the array's bytes to a file.
TOFILE = method("tofile", flags=WRITES_ARRAY_FILE, signature="fid, sep, format")

ARRAY_TYPES = {
    "numpy.ndarray": NUMPY,
    "numpy.typing.NDArray": NUMPY,
    # ``arr: np.array``, a common misspelling of ``np.ndarray`` in annotations: ``np.array`` is a
    # function, which no value is an instance of, so only an array can be meant (quantus).
    "numpy.array": NUMPY,
    # Anything convertible to an array: a list is an ArrayLike, so no library is known.
    "numpy.typing.ArrayLike": None,
}
# How docstrings spell an array's type (``X : np.ndarray of shape (n, d)``). ``array_like``
# is not among them: it says a list will do.
DOCSTRING_TYPES = {name: NUMPY for name in ("np.ndarray", "numpy.ndarray", "ndarray", "numpy.typing.NDArray")}

# ``rng = np.random.default_rng()``: ``rng.normal(...)`` and the other samplers give arrays.
RANDOM_GENERATORS = ("numpy.random.default_rng", "numpy.random.Generator", "numpy.random.RandomState")
GENERATOR_SAMPLERS = (
    "random",
    "standard_normal",
    "normal",
    "uniform",
    "integers",
    "randint",
    "rand",
    "randn",
    "choice",
    "permutation",
    "exponential",
    "poisson",
    "binomial",
    "beta",
    "gamma",
    "lognormal",
    "multivariate_normal",
    "random_sample",
    "laplace",
    "dirichlet",
)
# Functions of ``numpy.random`` that do not draw an array: seeding, state, generator makers.
# Functions that return a view with a negative stride (``np.flip(a)`` walks ``a`` backwards):
# ``torch.from_numpy`` raises for such a view, so a copy of it is needed.
NEGATIVE_STRIDE_VIEWS = ("numpy.flip", "numpy.flipud", "numpy.fliplr", "numpy.rot90")
# A pairwise operation of an array element with its neighbour, and the NumPy call that runs it
# along the array at once: ``a[i] = max(a[i], a[i - 1])`` over the array is
# ``np.maximum.accumulate(a)``, ``a[i] += a[i - 1]`` is ``np.cumsum(a)``. Keyed by the function's
# qualified name, or by the operator's symbol.
RUNNING_FORMS = {
    "numpy.maximum": "numpy.maximum.accumulate",
    "builtins.max": "numpy.maximum.accumulate",
    "numpy.fmax": "numpy.fmax.accumulate",
    "numpy.minimum": "numpy.minimum.accumulate",
    "builtins.min": "numpy.minimum.accumulate",
    "numpy.fmin": "numpy.fmin.accumulate",
    "+": "numpy.cumsum",
    "*": "numpy.cumprod",
}
# Attributes that an element of a numeric array has, read without a call: a Python number's
# (``z.real``, ``q.denominator``) and a NumPy scalar's (``x.dtype``, ``x.shape``). A function
# applied per element that reads any other attribute of its argument (``line.axes``) is given
# Python objects.
SCALAR_ATTRIBUTES = (
    "real",
    "imag",
    "numerator",
    "denominator",
    "dtype",
    "shape",
    "ndim",
    "size",
    "itemsize",
    "nbytes",
    "T",
    "flat",
    "base",
    "data",
    "strides",
    "flags",
)
# NumPy's string scalar types, which name a string dtype (``np.array(names, dtype=np.str_)``).
TEXT_TYPES = ("numpy.str_", "numpy.bytes_", "numpy.unicode_", "numpy.string_")
RANDOM_NON_SAMPLERS = ("seed", "default_rng", "RandomState", "Generator", "get_state", "set_state")

FUNCTIONS = (
    # Factories: a fresh array on every call.
    function(
        "numpy.array",
        "object, dtype, *, copy, order, subok, ndmin, ndmax, like",
        COPIES | FACTORY | FRESH_ARRAY | HOST_ALLOCATION | JOINS_ARRAYS | PURE | CONVERTS_SEQUENCES,
        returns=NUMPY,
    ),
    function(
        "numpy.zeros",
        "shape, dtype, order, *, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.ones",
        "shape, dtype, order, *, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.empty",
        "shape, dtype, order, *, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.full",
        "shape, fill_value, dtype, order, *, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | DTYPE_OF_VALUES,
        returns=NUMPY,
    ),
    function(
        "numpy.zeros_like",
        "a, dtype, order, subok, shape, *, device",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=NUMPY,
    ),
    function(
        "numpy.ones_like",
        "a, dtype, order, subok, shape, *, device",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=NUMPY,
    ),
    function(
        "numpy.empty_like",
        "prototype, /, dtype, order, subok, shape, *, device",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=NUMPY,
    ),
    function(
        "numpy.full_like",
        "a, fill_value, dtype, order, subok, shape, *, device",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | SHAPE_OF_FIRST_ARGUMENT,
        returns=NUMPY,
    ),
    function(
        "numpy.arange",
        "start_or_stop, /, stop, step, *, dtype, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | DTYPE_OF_VALUES,
        returns=NUMPY,
    ),
    function(
        "numpy.linspace",
        "start, stop, num, endpoint, retstep, dtype, axis, *, device",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.logspace",
        "start, stop, num, endpoint, base, dtype, axis",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.geomspace",
        "start, stop, num, endpoint, dtype, axis",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.eye",
        "N, M, k, dtype, order, *, device, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.identity",
        "n, dtype, *, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE | FLOAT64_BY_DEFAULT,
        returns=NUMPY,
    ),
    function(
        "numpy.copy",
        "a, order, subok",
        COPIES | FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=NUMPY,
    ),
    function("numpy.tile", "A, reps", FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE, returns=NUMPY),
    function(
        "numpy.repeat",
        "a, repeats, axis",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=NUMPY,
    ),
    function(
        "numpy.tri",
        "N, M, k, dtype, *, like",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=NUMPY,
    ),
    function(
        "numpy.indices",
        "dimensions, dtype, sparse",
        FACTORY | FRESH_ARRAY | HOST_ALLOCATION | PURE,
        returns=NUMPY,
    ),
    # Conversions and operations that return an array of their arguments' data.
    function(
        "numpy.asarray",
        "a, dtype, order, *, device, copy, like",
        PURE | CONVERTS_SEQUENCES,
        returns=NUMPY,
        shares_data_with="a",
    ),
    function("numpy.ascontiguousarray", "a, dtype, *, like", PURE, returns=NUMPY),
    function("numpy.asfortranarray", "a, dtype, *, like", PURE, returns=NUMPY),
    function("numpy.asanyarray", "a, dtype, order, *, device, copy, like", PURE, returns=NUMPY),
    function("numpy.frombuffer", "buffer, dtype, count, offset, *, like", PURE, returns=NUMPY),
    function("numpy.fromiter", "iter, dtype, count, *, like", FRESH_ARRAY | PURE, returns=NUMPY),
    function(
        "numpy.stack",
        "arrays, axis, out, *, dtype, casting",
        FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES,
        returns=NUMPY,
    ),
    function(
        "numpy.concatenate",
        "arrays, /, axis, out, *, dtype, casting",
        FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES,
        returns=NUMPY,
    ),
    function("numpy.vstack", "tup, *, dtype, casting", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=NUMPY),
    function("numpy.hstack", "tup, *, dtype, casting", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=NUMPY),
    function("numpy.dstack", "tup", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=NUMPY),
    function("numpy.column_stack", "tup", FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES, returns=NUMPY),
    function(
        "numpy.row_stack",
        "tup, *, dtype, casting",
        FRESH_ARRAY | JOINS_ARRAYS | PURE | CONCATENATES,
        returns=NUMPY,
    ),
    # ``append(arr, values)``: the array grown by the values (flattened without ``axis``).
    function("numpy.append", "arr, values, axis", FRESH_ARRAY | PURE | CONCATENATES, returns=NUMPY),
    # Not a function of arrays: a class whose instances call a Python function per element.
    function("numpy.vectorize", "pyfunc, otypes, doc, excluded, cache, signature", PURE),
    function("numpy.diag", "v, k", PURE, returns=NUMPY),
    function(
        "numpy.load",
        "file, mmap_mode, allow_pickle, fix_imports, encoding, *, max_header_size",
        FRESH_ARRAY | READS_ARRAY_FILE,
        returns=NUMPY,
    ),
    function(
        "numpy.loadtxt",
        "fname, dtype, comments, delimiter, converters, skiprows, usecols, unpack, ndmin, "
        "encoding, max_rows, *, quotechar, like",
        FRESH_ARRAY | READS_ARRAY_FILE,
        returns=NUMPY,
    ),
    function(
        "numpy.genfromtxt",
        "fname, dtype, comments, delimiter, skip_header, skip_footer, converters, "
        "missing_values, filling_values, usecols, names, excludelist, deletechars, "
        "replace_space, autostrip, case_sensitive, defaultfmt, unpack, usemask, loose, "
        "invalid_raise, max_rows, encoding, *, ndmin, like",
        FRESH_ARRAY | READS_ARRAY_FILE,
        returns=NUMPY,
    ),
    function(
        "numpy.fromfile", "file, dtype, count, sep, offset, *, like", FRESH_ARRAY | READS_ARRAY_FILE, returns=NUMPY
    ),
    function("numpy.outer", "a, b, out", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.kron", "a, b", BUILDS_TABLE | FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.meshgrid", "*xi, copy, sparse, indexing", BUILDS_TABLE | FRESH_ARRAY | PURE),
    *(function(f"numpy.{window}", "M", BUILDS_TABLE | FRESH_ARRAY | PURE, returns=NUMPY) for window in WINDOWS),
    function("numpy.kaiser", "M, beta", BUILDS_TABLE | FRESH_ARRAY | PURE, returns=NUMPY),
    function(
        "numpy.matmul",
        "x1, x2, /, out, *, axes, axis, keepdims, casting, order, dtype, subok, signature",
        FRESH_ARRAY | MATRIX_PRODUCT | PURE,
        returns=NUMPY,
    ),
    function("numpy.dot", "a, b, out", FRESH_ARRAY | MATRIX_PRODUCT | PURE, returns=NUMPY),
    function("numpy.einsum", "*operands, out, optimize, **kwargs", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.transpose", "a, axes", PURE, returns=NUMPY),
    function("numpy.reshape", "a, /, shape, order, *, copy", PURE, returns=NUMPY),
    function("numpy.squeeze", "a, axis", PURE, returns=NUMPY),
    function("numpy.expand_dims", "a, axis", PURE, returns=NUMPY),
    function("numpy.flip", "m, axis", PURE, returns=NUMPY),
    function("numpy.roll", "a, shift, axis", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.sort", "a, axis, kind, order, *, stable", FRESH_ARRAY | PURE | SORTS, returns=NUMPY),
    function("numpy.argsort", "a, axis, kind, order, *, stable", FRESH_ARRAY | PURE | SORTS, returns=NUMPY),
    function(
        "numpy.unique",
        "ar, return_index, return_inverse, return_counts, axis, *, equal_nan, sorted",
        PURE | SORTS,
        returns=NUMPY,
        items=NUMPY,
        tuple_keywords=("return_index", "return_inverse", "return_counts"),
    ),
    function("numpy.cumsum", "a, axis, dtype, out", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.cumprod", "a, axis, dtype, out", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.diff", "a, n, axis, prepend, append", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.pad", "array, pad_width, mode, **kwargs", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.broadcast_to", "array, shape, subok", PURE, returns=NUMPY),
    function("numpy.tensordot", "a, b, axes", FRESH_ARRAY | PURE, returns=NUMPY),
    function("numpy.cross", "a, b, axisa, axisb, axisc, axis", FRESH_ARRAY | PURE, returns=NUMPY),
    # Universal functions and other element-wise functions.
    function(
        "numpy.sqrt",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.exp", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function(
        "numpy.exp2",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.expm1",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.log", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function(
        "numpy.log2",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.log10",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.log1p",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.sin", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function("numpy.cos", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function("numpy.tan", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function(
        "numpy.arcsin",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.arccos",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.arctan",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.arctan2",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.asin",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.acos",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.atan",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.atan2",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.sinh",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.cosh",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.tanh",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.abs", "x, /, out, *, where, casting, order, dtype, subok, signature", ELEMENTWISE | PURE),
    function(
        "numpy.absolute",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.fabs",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.sign",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.square",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.power",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.pow",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.add",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.subtract",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.multiply",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.divide",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.true_divide",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.floor_divide",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.mod",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.remainder",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.fmod",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.maximum",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.minimum",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.fmax",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.fmin",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.floor",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.ceil",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.round", "a, decimals, out", ELEMENTWISE | PURE),
    function(
        "numpy.rint",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.trunc",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function("numpy.clip", "a, a_min, a_max, out, *, min, max, **kwargs", ELEMENTWISE | PURE),
    function("numpy.where", "condition, x, y, /", ELEMENTWISE | PURE),
    function(
        "numpy.isnan",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.isinf",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.isfinite",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.logical_and",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.logical_or",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.logical_not",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.logical_xor",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.hypot",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.negative",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.reciprocal",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.cbrt",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.deg2rad",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.rad2deg",
        "x, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.heaviside",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.copysign",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.greater",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.less",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.equal",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.not_equal",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.greater_equal",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    function(
        "numpy.less_equal",
        "x1, x2, /, out, *, where, casting, order, dtype, subok, signature",
        ELEMENTWISE | PURE,
    ),
    # Reductions.
    function("numpy.sum", "a, axis, dtype, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.mean", "a, axis, dtype, out, keepdims, *, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.max", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.min", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.amax", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.amin", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function(
        "numpy.std",
        "a, axis, dtype, out, ddof, keepdims, *, where, mean, correction",
        REDUCTION | REDUCES_AXES | READS_TWICE | PURE,
    ),
    function(
        "numpy.var",
        "a, axis, dtype, out, ddof, keepdims, *, where, mean, correction",
        REDUCTION | REDUCES_AXES | READS_TWICE | PURE,
    ),
    function("numpy.prod", "a, axis, dtype, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.median", "a, axis, out, overwrite_input, keepdims", REDUCTION | REDUCES_AXES | READS_TWICE | PURE),
    function("numpy.argmax", "a, axis, out, *, keepdims", REDUCTION | PURE),
    function("numpy.argmin", "a, axis, out, *, keepdims", REDUCTION | PURE),
    function("numpy.any", "a, axis, out, keepdims, *, where", REDUCTION | REDUCES_AXES | PURE),
    function("numpy.all", "a, axis, out, keepdims, *, where", REDUCTION | REDUCES_AXES | PURE),
    function(
        "numpy.nansum", "a, axis, dtype, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | READS_TWICE | PURE
    ),
    function("numpy.nanmean", "a, axis, dtype, out, keepdims, *, where", REDUCTION | REDUCES_AXES | READS_TWICE | PURE),
    function("numpy.nanmax", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | READS_TWICE | PURE),
    function("numpy.nanmin", "a, axis, out, keepdims, initial, where", REDUCTION | REDUCES_AXES | READS_TWICE | PURE),
    function("numpy.average", "a, axis, weights, returned, *, keepdims", REDUCTION | PURE),
    function("numpy.count_nonzero", "a, axis, *, keepdims", REDUCTION | REDUCES_AXES | READS_TWICE | PURE),
    function("numpy.trace", "a, offset, axis1, axis2, dtype, out", REDUCTION | PURE),
    function("numpy.linalg.norm", "x, ord, axis, keepdims", REDUCTION | PURE),
    # O(n³) linear algebra.
    function("numpy.linalg.inv", "a", EXPENSIVE | INVERSE | PURE | STACKS_MATRICES, returns=NUMPY),
    function("numpy.linalg.solve", "a, b", SOLVES | PURE),
    function("numpy.linalg.pinv", "a, rcond, hermitian, *, rtol", EXPENSIVE | PURE | STACKS_MATRICES),
    function(
        "numpy.linalg.svd",
        "a, full_matrices, compute_uv, hermitian",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=NUMPY,
        item_names=("U", "S", "Vh"),
    ),
    function(
        "numpy.linalg.eig",
        "a",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=NUMPY,
        item_names=("eigenvalues", "eigenvectors"),
    ),
    function(
        "numpy.linalg.eigh",
        "a, UPLO",
        EXPENSIVE | PURE | STACKS_MATRICES,
        items=NUMPY,
        item_names=("eigenvalues", "eigenvectors"),
    ),
    function("numpy.linalg.eigvals", "a", EXPENSIVE | PURE | STACKS_MATRICES, returns=NUMPY),
    function("numpy.linalg.eigvalsh", "a, UPLO", EXPENSIVE | PURE | STACKS_MATRICES, returns=NUMPY),
    function("numpy.linalg.cholesky", "a, /, *, upper", EXPENSIVE | PURE | STACKS_MATRICES, returns=NUMPY),
    function("numpy.linalg.qr", "a, mode", EXPENSIVE | PURE | STACKS_MATRICES, items=NUMPY, item_names=("Q", "R")),
    function("numpy.linalg.det", "a", EXPENSIVE | PURE | STACKS_MATRICES),
    function(
        "numpy.linalg.slogdet", "a", EXPENSIVE | PURE | STACKS_MATRICES, items=NUMPY, item_names=("sign", "logabsdet")
    ),
    function("numpy.linalg.matrix_power", "a, n", EXPENSIVE | PURE | STACKS_MATRICES),
    function("numpy.linalg.lstsq", "a, b, rcond", EXPENSIVE | PURE, items=NUMPY),
    # Functions that write into an argument (an array, or a file).
    function("numpy.copyto", "dst, src, casting, where", mutates=("dst",)),
    function("numpy.put", "a, ind, v, mode", mutates=("a",)),
    function("numpy.place", "arr, mask, vals", mutates=("arr",)),
    function("numpy.putmask", "a, /, mask, values", mutates=("a",)),
    function("numpy.fill_diagonal", "a, val, wrap", mutates=("a",)),
    function("numpy.save", "file, arr, allow_pickle", WRITES_ARRAY_FILE, mutates=("file",)),
    function("numpy.savez", "file, *args, allow_pickle, **kwds", WRITES_ARRAY_FILE, mutates=("file",)),
    function("numpy.savez_compressed", "file, *args, allow_pickle, **kwds", WRITES_ARRAY_FILE, mutates=("file",)),
    function(
        "numpy.savetxt",
        "fname, X, fmt, delimiter, newline, header, footer, comments, encoding",
        WRITES_ARRAY_FILE,
        mutates=("fname",),
    ),
    # Calls a Python function once per 1-D slice, in an interpreted loop.
    function("numpy.apply_along_axis", "func1d, axis, arr, *args, **kwargs", returns=NUMPY),
    # Random-number generators: their samplers draw arrays and advance hidden state.
    function("numpy.random.default_rng", "seed"),
    function("numpy.random.Generator", "bit_generator"),
    function("numpy.random.RandomState", "seed"),
    # The legacy global samplers of floats: float64 arrays, fresh on every call.
    function("numpy.random.rand", "*args", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.randn", "*args", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.random", "size", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.random_sample", "size", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.standard_normal", "size", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.uniform", "low, high, size", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
    function("numpy.random.normal", "loc, scale, size", FACTORY | FRESH_ARRAY | FLOAT64_BY_DEFAULT, returns=NUMPY),
)

# How a dtype argument names float64: NumPy's scalar types, Python's ``float``, and strings.
FLOAT64_TYPES = ("numpy.float64", "numpy.double", "builtins.float")
FLOAT64_STRINGS = ("float64", "double", "f8", "<f8", "float", "d")
