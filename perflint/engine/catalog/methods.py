"""Methods of arrays, tensors, frames and builtin containers, known by name.

A receiver's type is often unknown (a parameter, an attribute), so a method fact is keyed by
the method's name and holds for every listed library's method of that name.
"""

from __future__ import annotations

from perflint.engine.catalog.numpy import NUMPY, TOFILE
from perflint.engine.catalog.pandas import FRAME_WRITERS
from perflint.engine.catalog.records import SAME_LIBRARY, SORTS, SYNCHRONISES, method
from perflint.engine.catalog.stdlib import DBAPI_COMMIT, DBAPI_EXECUTE, DBAPI_EXECUTEMANY
from perflint.engine.catalog.torch import TENSOR_CUDA, TENSOR_TO, ZERO_GRAD

# Methods that return an array or tensor of the receiver's library and leave the receiver as
# it was.
_SAME_LIBRARY_METHODS = (
    "astype", "reshape", "view", "view_as", "transpose", "permute", "flatten", "ravel",
    "squeeze", "unsqueeze", "copy", "clone", "detach", "float", "double", "half",
    "bfloat16", "int", "long", "bool", "contiguous", "expand", "expand_as", "repeat", "abs",
    "sqrt", "exp", "log", "clip", "clamp", "round", "mean", "sum", "cumsum", "matmul", "dot",
    "mm", "softmax", "sigmoid", "relu", "tanh", "swapaxes", "flip", "type",
    "pow", "masked_fill", "fillna", "dropna", "head", "tail", "reset_index", "pin_memory",
)
# Methods that never change their receiver and return something other than an array.
_READING_METHODS = (
    "size", "dim", "ndim", "numel", "max", "min", "std", "var", "prod", "argmax", "argmin",
    "any", "all", "norm", "get", "keys", "values", "items", "count", "index", "format",
    "startswith", "endswith", "join", "split", "strip", "lower", "upper", "replace", "is_cuda",
    "element_size", "nelement", "isnan", "isinf", "eq", "ne", "lt", "gt", "le", "ge", "equal",
    "allclose",
)

METHODS = (
    *(method(name, SAME_LIBRARY) for name in _SAME_LIBRARY_METHODS),
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
    # Sorting, grouping and distinct values: a pass over the whole receiver.
    *(method(name, SAME_LIBRARY, flags=SORTS) for name in ("sort", "argsort", "sort_values", "drop_duplicates")),
    *(method(name, flags=SORTS) for name in ("unique", "nunique", "groupby", "value_counts")),
)

# Attributes of an array or tensor that are arrays of the same library (``a.T``).
ARRAY_ATTRIBUTES = frozenset({"T", "mT", "H", "mH", "real", "imag", "data"})
# Attributes of a pandas object that are another library's array (``frame.values``).
ARRAY_CONVERSION_ATTRIBUTES = {"values": NUMPY}
