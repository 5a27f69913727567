"""What the engine knows about NumPy, PyTorch, pandas and the standard library.

Every rule reads these tables through the engine (arrays, loops); none keeps a copy.
"""

from __future__ import annotations

NUMPY = "numpy"
TORCH = "torch"
PANDAS = "pandas"

ARRAY_TYPES = {
    "numpy.ndarray": NUMPY,
    "numpy.typing.NDArray": NUMPY,
    "numpy.typing.ArrayLike": None,
    "torch.Tensor": TORCH,
    "torch.nn.Parameter": TORCH,
    "torch.nn.parameter.Parameter": TORCH,
    "torch.FloatTensor": TORCH,
    "torch.LongTensor": TORCH,
    "pandas.DataFrame": PANDAS,
    "pandas.Series": PANDAS,
}

_NUMPY_FACTORIES = {
    "array", "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like",
    "full_like", "arange", "linspace", "logspace", "geomspace", "eye", "identity",
    "copy", "tile", "repeat", "tri", "indices",
}
_NUMPY_CONVERSIONS = {
    "asarray", "ascontiguousarray", "asfortranarray", "asanyarray", "frombuffer", "fromiter",
    "stack", "concatenate", "vstack", "hstack", "dstack", "column_stack", "diag", "load",
    "loadtxt", "genfromtxt", "fromfile", "outer", "kron", "matmul", "dot", "einsum",
    "transpose", "reshape", "squeeze", "expand_dims", "flip", "roll", "sort", "argsort",
    "cumsum", "cumprod", "diff", "pad", "broadcast_to", "tensordot", "cross",
}
_TORCH_FACTORIES = {
    "tensor", "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "logspace",
    "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "empty_like",
    "full_like", "rand_like", "randn_like", "randint_like", "empty_strided", "normal",
}
_TORCH_CONVERSIONS = {
    "as_tensor", "from_numpy", "stack", "cat", "concat", "hstack", "vstack", "matmul",
    "mm", "bmm", "einsum", "outer", "transpose", "reshape", "flatten", "squeeze", "unsqueeze",
    "flip", "roll", "sort", "argsort", "cumsum", "cumprod", "clone", "where", "softmax",
    "log_softmax", "cdist", "tril", "triu", "diag", "gather", "index_select", "masked_fill",
}

# Functions applied element by element: NumPy ufuncs and their torch counterparts.
ELEMENTWISE_FUNCTIONS = frozenset(
    {
        "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
        "arcsin", "arccos", "arctan", "arctan2", "asin", "acos", "atan", "atan2", "sinh", "cosh",
        "tanh", "abs", "absolute", "fabs", "sign", "square", "power", "pow", "add", "subtract",
        "sub", "multiply", "mul", "divide", "div", "true_divide", "floor_divide", "mod",
        "remainder", "fmod", "maximum", "minimum", "fmax", "fmin", "floor", "ceil", "round",
        "rint", "trunc", "clip", "clamp", "where", "isnan", "isinf", "isfinite", "logical_and",
        "logical_or", "logical_not", "logical_xor", "hypot", "negative", "neg", "reciprocal",
        "cbrt", "deg2rad", "rad2deg", "sigmoid", "relu", "erf", "heaviside", "copysign",
        "greater", "less", "equal", "not_equal", "greater_equal", "less_equal",
    }
)
REDUCTION_FUNCTIONS = frozenset(
    {
        "sum", "mean", "max", "min", "amax", "amin", "std", "var", "prod", "median", "argmax",
        "argmin", "any", "all", "nansum", "nanmean", "nanmax", "nanmin", "norm", "average",
        "count_nonzero", "trace",
    }
)

# Methods of an array or tensor that return an array or tensor of the same library.
ARRAY_METHODS = frozenset(
    {
        "astype", "reshape", "view", "view_as", "transpose", "permute", "flatten", "ravel",
        "squeeze", "unsqueeze", "copy", "clone", "detach", "to", "cuda", "cpu", "float",
        "double", "half", "bfloat16", "int", "long", "bool", "contiguous", "expand",
        "expand_as", "repeat", "abs", "sqrt", "exp", "log", "clip", "clamp", "round", "mean",
        "sum", "cumsum", "matmul", "dot", "mm", "softmax", "sigmoid", "relu", "tanh",
        "swapaxes", "flip", "sort", "argsort", "type", "pow", "masked_fill", "fillna",
        "dropna", "head", "tail", "reset_index", "sort_values", "pin_memory",
    }
)
# Methods that return an array of another library.
ARRAY_CONVERSION_METHODS = {"numpy": NUMPY, "to_numpy": NUMPY}
ARRAY_ATTRIBUTES = frozenset({"T", "mT", "H", "mH", "real", "imag", "data"})
ARRAY_CONVERSION_ATTRIBUTES = {"values": NUMPY}

# Methods of arrays, tensors and containers that never change their receiver.
NON_MUTATING_METHODS = ARRAY_METHODS | frozenset(
    {
        "item", "tolist", "numpy", "to_numpy", "size", "dim", "ndim", "numel", "max", "min",
        "std", "var", "prod", "argmax", "argmin", "any", "all", "norm", "get", "keys",
        "values", "items", "count", "index", "format", "startswith", "endswith", "join",
        "split", "strip", "lower", "upper", "replace", "is_cuda", "element_size", "nelement",
        "isnan", "isinf", "eq", "ne", "lt", "gt", "le", "ge", "equal", "allclose",
    }
)

_PANDAS_CONSTRUCTORS = {
    "DataFrame", "Series", "read_csv", "read_parquet", "read_json", "read_excel",
    "read_feather", "read_table", "read_sql", "concat", "merge",
}

# (library, qualified name) for every call that returns a new array, tensor or frame.
CONSTRUCTORS: dict[str, str] = {
    **{f"numpy.{name}": NUMPY for name in _NUMPY_FACTORIES | _NUMPY_CONVERSIONS},
    **{f"torch.{name}": TORCH for name in _TORCH_FACTORIES | _TORCH_CONVERSIONS},
    **{f"pandas.{name}": PANDAS for name in _PANDAS_CONSTRUCTORS},
}
# Calls that make a fresh object from nothing: hoisting one out of a loop would share it.
FACTORIES = frozenset(
    {f"numpy.{name}" for name in _NUMPY_FACTORIES}
    | {f"torch.{name}" for name in _TORCH_FACTORIES}
    | {"pandas.DataFrame", "pandas.Series"}
)
# torch factories that allocate on the CPU (the default device) unless given ``device=``, and
# allocate on the device itself when given one. Not among them: the ``_like`` forms, which
# allocate on their input's device, and ``torch.tensor(data)``, which always builds its tensor
# on the CPU from the Python data and copies it, ``device=`` or not (PyTorch's tensor_new.h).
TORCH_HOST_FACTORIES = frozenset(
    f"torch.{name}"
    for name in (
        "zeros", "ones", "empty", "full", "eye", "arange", "linspace", "logspace", "rand", "randn",
        "randint", "randperm",
    )
)
# ``rng = np.random.default_rng()``: ``rng.normal(...)`` and the other samplers give arrays.
NUMPY_RANDOM_GENERATORS = frozenset(
    {"numpy.random.default_rng", "numpy.random.Generator", "numpy.random.RandomState"}
)
NUMPY_GENERATOR_SAMPLERS = frozenset(
    {
        "random", "standard_normal", "normal", "uniform", "integers", "randint", "rand", "randn",
        "choice", "permutation", "exponential", "poisson", "binomial", "beta", "gamma",
        "lognormal", "multivariate_normal", "random_sample", "laplace", "dirichlet",
    }
)
# Conversions that share the memory of their (invariant) argument.
PURE_CONVERSIONS = frozenset({"torch.from_numpy", "torch.as_tensor", "numpy.asarray"})

NUMERIC_LIBRARIES = frozenset({"numpy", "torch", "pandas", "scipy", "math", "cmath"})
# Library namespaces whose functions draw random numbers or change state.
_STATEFUL_NAMESPACES = (
    "numpy.random", "torch.random", "torch.nn.init", "torch.cuda", "torch.distributed",
    "torch.manual_seed", "torch.backends", "torch.utils", "torch.optim", "torch.nn.Module",
)
_MUTATING_FUNCTIONS = frozenset(
    {
        "numpy.copyto", "numpy.put", "numpy.place", "numpy.putmask", "numpy.fill_diagonal",
        "numpy.save", "numpy.savez", "numpy.savetxt", "torch.save", "pandas.to_csv",
    }
)

# Builtins that never mutate their arguments.
PURE_BUILTINS = frozenset(
    {
        "len", "range", "enumerate", "zip", "isinstance", "issubclass", "print", "min", "max",
        "abs", "sum", "float", "int", "str", "bool", "tuple", "list", "sorted", "reversed",
        "round", "repr", "type", "id", "hash", "getattr", "hasattr", "any", "all", "divmod",
        "pow", "format", "map", "filter", "iter", "frozenset", "set", "dict",
    }
)


# Builtins whose every call makes a fresh mutable object or a one-shot iterator.
FRESH_OBJECT_BUILTINS = frozenset(
    {"list", "dict", "set", "iter", "map", "filter", "zip", "enumerate", "reversed"}
)


def library_of(qualified_name: str) -> str:
    return qualified_name.split(".", 1)[0]


def is_side_effect_free(qualified_name: str) -> bool:
    """A library function that neither mutates its arguments nor has hidden state."""
    if library_of(qualified_name) not in NUMERIC_LIBRARIES:
        return False
    if qualified_name in _MUTATING_FUNCTIONS or qualified_name.endswith("_"):
        return False
    return not any(
        qualified_name == namespace or qualified_name.startswith(namespace + ".")
        for namespace in _STATEFUL_NAMESPACES
    )


def elementwise_library(qualified_name: str) -> bool:
    """``numpy.sqrt``, ``torch.exp``, ``torch.nn.functional.relu``…: applied element by element."""
    library = library_of(qualified_name)
    if library not in (NUMPY, TORCH):
        return False
    module, _, function = qualified_name.rpartition(".")
    return function in ELEMENTWISE_FUNCTIONS and module in ("numpy", "torch", "torch.nn.functional", "torch.special")


# Decorators whose function runs once per distinct argument: its body is set-up, not a hot path.
CACHING_DECORATORS = frozenset(
    {"functools.cache", "functools.lru_cache", "functools.cached_property", "cache", "lru_cache", "cached_property"}
)
# Classes whose subclasses are torch modules (``forward`` runs on every call of the model).
TORCH_MODULE_CLASSES = frozenset(
    {
        "torch.nn.Module", "torch.nn.modules.module.Module", "lightning.LightningModule",
        "lightning.pytorch.LightningModule", "pytorch_lightning.LightningModule",
    }
)
# torch device strings that name an accelerator, and the one that names the host.
ACCELERATOR_DEVICE_PREFIXES = ("cuda", "mps", "xpu")
HOST_DEVICE = "cpu"
