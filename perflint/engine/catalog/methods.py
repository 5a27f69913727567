"""Methods of arrays, tensors, frames and builtin containers, known by name.

A receiver's type is often unknown (a parameter, an attribute), so a method fact is keyed by
the method's name and holds for every listed library's method of that name.
"""

from __future__ import annotations

from perflint.engine.catalog.numpy import NUMPY, TOFILE
from perflint.engine.catalog.pandas import FRAME_WRITERS
from perflint.engine.catalog.records import (
    COPIES,
    LOADS_MODEL,
    MATRIX_PRODUCT,
    SAME_LIBRARY,
    SORTS,
    SYNCHRONISES,
    method,
)
from perflint.engine.catalog.stdlib import DBAPI_COMMIT, DBAPI_EXECUTE, DBAPI_EXECUTEMANY
from perflint.engine.catalog.torch import TENSOR_CUDA, TENSOR_TO, VALUES_AND_INDICES, ZERO_GRAD

# Methods that return an array or tensor of the receiver's library and leave the receiver as
# it was.
# Tensor and array methods that compare element by element (``x.eq(y)``, ``a.lt(0)``).
_COMPARISON_METHODS = ("eq", "ne", "lt", "gt", "le", "ge")
_SAME_LIBRARY_METHODS = (
    "reshape",
    "view",
    "view_as",
    "transpose",
    "permute",
    "flatten",
    "ravel",
    "squeeze",
    "unsqueeze",
    "detach",
    "bfloat16",
    "int",
    "long",
    "bool",
    "expand",
    "expand_as",
    "repeat",
    "abs",
    "sqrt",
    "exp",
    "log",
    "clip",
    "clamp",
    "round",
    "mean",
    "sum",
    "cumsum",
    "softmax",
    "sigmoid",
    "relu",
    "tanh",
    "swapaxes",
    "flip",
    "type",
    "argmax",
    "argmin",
    "pow",
    "masked_fill",
    "fillna",
    "dropna",
    "head",
    "tail",
    "reset_index",
    "pin_memory",
)
# Methods that never change their receiver and return something other than an array.
_READING_METHODS = (
    "size",
    "dim",
    "ndim",
    "numel",
    "std",
    "var",
    "prod",
    "any",
    "all",
    "norm",
    "get",
    "keys",
    "values",
    "items",
    "count",
    "index",
    "format",
    "startswith",
    "endswith",
    "join",
    "split",
    "strip",
    "lower",
    "upper",
    "replace",
    "is_cuda",
    "element_size",
    "nelement",
    "isnan",
    "isinf",
    *_COMPARISON_METHODS,
    "equal",
    "allclose",
    # SciPy sparse matrices: one row as a new matrix, the count of stored entries.
    "getrow",
    "getnnz",
)

METHODS = (
    *(method(name, SAME_LIBRARY) for name in _SAME_LIBRARY_METHODS),
    # Copies of the receiver, converted or not, on every call.
    *(method(name, SAME_LIBRARY, flags=COPIES) for name in ("copy", "clone", "astype")),
    # Conversions that return the receiver itself when it already has that type or layout:
    # whether they copy depends on what the linter cannot see.
    *(method(name, SAME_LIBRARY) for name in ("contiguous", "float", "double", "half")),
    # The matrix product of the receiver and the argument.
    *(method(name, SAME_LIBRARY, flags=MATRIX_PRODUCT) for name in ("dot", "matmul", "mm")),
    TENSOR_TO,
    TENSOR_CUDA,
    ZERO_GRAD,
    TOFILE,
    *FRAME_WRITERS,
    DBAPI_EXECUTE,
    DBAPI_EXECUTEMANY,
    DBAPI_COMMIT,
    method("cpu", SAME_LIBRARY, flags=SYNCHRONISES),
    # Conversions to another library's array: a torch tensor's ``.numpy()``, pandas'
    # ``.to_numpy()``. Neither waits for a device: ``.numpy()`` raises on a tensor that is not
    # on the host, so the tensor it converts is there already (``.cpu()`` waited, if anything).
    method("numpy", NUMPY),
    method("to_numpy", NUMPY),
    method("item", flags=SYNCHRONISES),
    method("tolist", flags=SYNCHRONISES),
    *(method(name) for name in _READING_METHODS),
    # Sorting, grouping and distinct values: a pass over the whole receiver. NumPy's
    # ``ndarray.sort()`` and ``list.sort()`` sort in place and return None (torch's
    # ``Tensor.sort()`` returns a sorted copy, but a fact known by name must hold for every
    # library).
    method("sort", mutates_receiver=True, flags=SORTS, tensor_items=VALUES_AND_INDICES),
    method("topk", flags=SORTS, tensor_items=VALUES_AND_INDICES),
    # ``x.max()`` reads one value; ``x.max(1)`` of a tensor is a named tuple of two tensors.
    *(method(name, tensor_items=VALUES_AND_INDICES) for name in ("max", "min", "median", "mode", "kthvalue")),
    *(method(name, SAME_LIBRARY, flags=SORTS) for name in ("argsort", "sort_values", "drop_duplicates")),
    *(method(name, flags=SORTS) for name in ("unique", "nunique", "groupby", "value_counts")),
    # ``AutoModel.from_pretrained(name)`` and every Hugging Face class's: reads (or downloads)
    # and builds a model, tokenizer or processor.
    method("from_pretrained", flags=LOADS_MODEL),
)

# What an array's or tensor's shape, type and place are, not its values: attributes and
# methods whose result depends only on those (``x.shape``, ``x.size(1)``, ``x.device``).
METADATA_ATTRIBUTES = frozenset({"shape", "ndim", "dtype", "device", "is_cuda", "layout"})
# Methods that return an array of the receiver's shape: a move, a cast, a copy or a detached
# view (``x.to(device)``, ``x.float()``, ``x.astype(int)``).
SHAPE_KEEPING_METHODS = frozenset(
    {"to", "cuda", "cpu", "float", "double", "half", "type", "astype", "clone", "copy", "detach", "contiguous"}
)
# Methods whose result is a view of the receiver's memory: writing into the result writes
# into the receiver. (Conversions that return the receiver itself only when nothing needs
# converting, ``.to(device)``, ``.float()``, are not counted: that is the run's to decide.)
VIEW_METHODS = frozenset(
    {
        "view",
        "view_as",
        "reshape",
        "transpose",
        "permute",
        "ravel",
        "squeeze",
        "unsqueeze",
        "expand",
        "expand_as",
        "swapaxes",
        "swapdims",
        "moveaxis",
        "narrow",
        "select",
        "diagonal",
        "detach",
        "numpy",
        "as_strided",
        "unfold",
        "split",
        "chunk",
        "unbind",
        "to_numpy",
    }
)
# Methods that reduce an array along an axis or all of them (or multiply it as a matrix): on
# a 1-D array, or without ``axis=``, NumPy returns a scalar (``np.float64``), not a 0-d array.
REDUCING_METHODS = frozenset(
    {
        "sum",
        "mean",
        "max",
        "min",
        "std",
        "var",
        "prod",
        "argmax",
        "argmin",
        "any",
        "all",
        "ptp",
        "trace",
        "dot",
        "nansum",
        "nanmean",
        "median",
        "norm",
    }
)
# Methods of NumPy arrays, SciPy sparse matrices and pandas objects that torch tensors lack: a
# value they are called on, or that they return, lives in host memory (``m.astype(np.float32)``,
# ``m.tocoo()``).
HOST_ONLY_METHODS = frozenset({"astype", "toarray", "todense", "tocoo", "tocsr", "tocsc", "tolil", "to_numpy"})
# Tensor methods that combine the receiver with another tensor element by element
# (``x.eq(y)``, ``x.add(y)``): like the operators, they compute where both tensors live.
ELEMENTWISE_BINARY_METHODS = frozenset(
    {
        *_COMPARISON_METHODS,
        "add",
        "sub",
        "mul",
        "div",
        "maximum",
        "minimum",
        "logical_and",
        "logical_or",
        "logical_xor",
    }
)
METADATA_METHODS = frozenset({"size", "dim", "ndimension", "numel", "nelement", "element_size", "get_device"})

# Attributes of an array or tensor that are arrays of the same library (``a.T``; a tensor's
# ``grad``, where it is not None).
ARRAY_ATTRIBUTES = frozenset({"T", "mT", "H", "mH", "real", "imag", "data", "grad"})
# Attributes of a pandas object that are another library's array (``frame.values``).
ARRAY_CONVERSION_ATTRIBUTES = {"values": NUMPY}
