"""The standard library: builtins, ``math``, ``re``, ``json``, ``copy``, and the Python
operators that act element by element on arrays.

Builtins are qualified as ``builtins.len``; the import table answers for them with
``is_builtin`` (a name not shadowed by an import or assignment). Signatures follow
``inspect.signature`` where it answers, and the documentation where it does not (``range``,
``min``, ``getattr``, the container types).
"""

from __future__ import annotations

import libcst as cst

from perflint.engine.catalog.records import (
    BUILDS_TABLE,
    COMPILES_PATTERN,
    FACTORY,
    PURE,
    READS_FILE,
    WRAPS_ITERABLE,
    function,
    method,
)

BUILTINS = "builtins"
# Builtins that always return a Python number, never a tensor, whatever they are given.
NUMBER_BUILTINS = frozenset({"int", "float", "len"})

FUNCTIONS = (
    # Builtins that never mutate their arguments (``print`` writes to a stream, not to them).
    function("builtins.len", "obj, /", PURE),
    function("builtins.range", "start, stop, step, /", PURE, overloaded=True),
    function("builtins.enumerate", "iterable, start", FACTORY | WRAPS_ITERABLE),
    function("builtins.zip", "*iterables, strict", FACTORY),
    function("builtins.isinstance", "obj, class_or_tuple, /", PURE),
    function("builtins.issubclass", "cls, class_or_tuple, /", PURE),
    function("builtins.print", "*args, sep, end, file, flush"),
    function("builtins.min", "*args, key, default", PURE),
    function("builtins.max", "*args, key, default", PURE),
    function("builtins.abs", "x, /", PURE),
    function("builtins.sum", "iterable, /, start", PURE),
    function("builtins.float", "x, /", PURE),
    function("builtins.int", "x, /, base", PURE),
    function("builtins.str", "object, encoding, errors", PURE, overloaded=True),
    function("builtins.bool", "x, /", PURE),
    function("builtins.tuple", "iterable, /", PURE),
    function("builtins.list", "iterable, /", FACTORY | PURE),
    function("builtins.sorted", "iterable, /, *, key, reverse", PURE),
    function("builtins.reversed", "sequence, /", FACTORY),
    function("builtins.round", "number, ndigits", PURE),
    function("builtins.repr", "obj, /", PURE),
    function("builtins.type", "object, /", PURE),
    function("builtins.id", "obj, /", PURE),
    function("builtins.hash", "obj, /", PURE),
    function("builtins.getattr", "object, name, default, /", PURE),
    function("builtins.hasattr", "obj, name, /", PURE),
    function("builtins.any", "iterable, /", PURE),
    function("builtins.all", "iterable, /", PURE),
    function("builtins.divmod", "x, y, /", PURE),
    function("builtins.pow", "base, exp, mod", PURE),
    function("builtins.format", "value, format_spec, /", PURE),
    function("builtins.map", "function, iterable, /, *iterables", FACTORY),
    function("builtins.filter", "function, iterable, /", FACTORY),
    function("builtins.iter", "object, sentinel, /", FACTORY),
    function("builtins.frozenset", "iterable, /", PURE),
    function("builtins.set", "iterable, /", FACTORY | PURE),
    function("builtins.dict", "mapping, /, **kwargs", FACTORY | PURE),
    # A new file object on every call; opening for writing truncates (``"w"``) or appends (``"a"``).
    function("builtins.open", "file, mode, buffering, encoding, errors, newline, closefd, opener", FACTORY),
    # itertools: iterators over every combination of their inputs, the whole table once a list
    # or tuple holds them.
    function("itertools.product", "*iterables, repeat", BUILDS_TABLE | FACTORY),
    function("itertools.combinations", "iterable, r", BUILDS_TABLE | FACTORY),
    function("itertools.permutations", "iterable, r", BUILDS_TABLE | FACTORY),
    function("itertools.combinations_with_replacement", "iterable, r", BUILDS_TABLE | FACTORY),
    # math: scalar functions, pure.
    function("math.sqrt", "x, /", PURE),
    function("math.exp", "x, /", PURE),
    function("math.log", "x, base, /", PURE),
    function("math.log2", "x, /", PURE),
    function("math.log10", "x, /", PURE),
    function("math.sin", "x, /", PURE),
    function("math.cos", "x, /", PURE),
    function("math.tan", "x, /", PURE),
    function("math.tanh", "x, /", PURE),
    function("math.floor", "x, /", PURE),
    function("math.ceil", "x, /", PURE),
    function("math.fabs", "x, /", PURE),
    function("math.pow", "x, y, /", PURE),
    function("math.hypot", "*coordinates", PURE),
    function("math.isnan", "x, /", PURE),
    function("math.isinf", "x, /", PURE),
    function("math.isfinite", "x, /", PURE),
    function("math.log1p", "x, /", PURE),
    function("math.expm1", "x, /", PURE),
    function("math.asin", "x, /", PURE),
    function("math.acos", "x, /", PURE),
    function("math.atan", "x, /", PURE),
    function("math.atan2", "y, x, /", PURE),
    function("math.sinh", "x, /", PURE),
    function("math.cosh", "x, /", PURE),
    function("math.trunc", "x, /", PURE),
    function("math.erf", "x, /", PURE),
    function("math.degrees", "x, /", PURE),
    function("math.radians", "x, /", PURE),
    function("math.copysign", "x, y, /", PURE),
    function("math.prod", "iterable, /, *, start", PURE),
    function("math.fsum", "seq, /", PURE),
    # re: compiling and matching (the pattern cache is invisible to the caller).
    function("re.compile", "pattern, flags", COMPILES_PATTERN | PURE),
    function("re.match", "pattern, string, flags", COMPILES_PATTERN | PURE),
    function("re.search", "pattern, string, flags", COMPILES_PATTERN | PURE),
    function("re.fullmatch", "pattern, string, flags", COMPILES_PATTERN | PURE),
    function("re.findall", "pattern, string, flags", COMPILES_PATTERN | PURE),
    function("re.finditer", "pattern, string, flags", COMPILES_PATTERN | FACTORY),
    function("re.sub", "pattern, repl, string, count, flags", COMPILES_PATTERN | PURE),
    function("re.subn", "pattern, repl, string, count, flags", COMPILES_PATTERN | PURE),
    function("re.split", "pattern, string, maxsplit, flags", COMPILES_PATTERN | PURE),
    # json: text to objects and back; ``load`` reads and ``dump`` writes a file.
    function(
        "json.loads",
        "s, *, cls, object_hook, parse_float, parse_int, parse_constant, object_pairs_hook, **kw",
        FACTORY | PURE,
    ),
    function(
        "json.dumps",
        "obj, *, skipkeys, ensure_ascii, check_circular, allow_nan, cls, indent, separators, default, sort_keys, **kw",
        PURE,
    ),
    function(
        "json.load",
        "fp, *, cls, object_hook, parse_float, parse_int, parse_constant, object_pairs_hook, **kw",
        FACTORY | READS_FILE,
    ),
    function(
        "json.dump",
        "obj, fp, *, skipkeys, ensure_ascii, check_circular, allow_nan, cls, indent, separators, "
        "default, sort_keys, **kw",
        mutates=("fp",),
    ),
    # copy: a new object each call.
    function("copy.copy", "x", FACTORY | PURE),
    function("copy.deepcopy", "x, memo, _nil", FACTORY | PURE),
)

# DB-API 2.0 (PEP 249) cursor and connection methods, named as the PEP names their parameters
# (drivers differ: sqlite3's are positional-only, psycopg's are ``query, vars``).
DBAPI_EXECUTE = method("execute", mutates_receiver=True, signature="operation, parameters, /")
DBAPI_EXECUTEMANY = method("executemany", mutates_receiver=True, signature="operation, seq_of_parameters, /")
DBAPI_COMMIT = method("commit", mutates_receiver=True, signature="")
# SQL statements that write rows (the first word of the statement): one row per statement is
# what ``executemany`` batches.
SQL_ROW_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

# ``math`` functions of scalars and the element-wise function that computes the same on a
# whole NumPy array and on a whole torch tensor. (NumPy has no ``erf``: SciPy's ufunc is it.)
MATH_ARRAY_EQUIVALENTS = {
    "math.sqrt": ("numpy.sqrt", "torch.sqrt"),
    "math.exp": ("numpy.exp", "torch.exp"),
    "math.log": ("numpy.log", "torch.log"),
    "math.log2": ("numpy.log2", "torch.log2"),
    "math.log10": ("numpy.log10", "torch.log10"),
    "math.log1p": ("numpy.log1p", "torch.log1p"),
    "math.expm1": ("numpy.expm1", "torch.expm1"),
    "math.sin": ("numpy.sin", "torch.sin"),
    "math.cos": ("numpy.cos", "torch.cos"),
    "math.tan": ("numpy.tan", "torch.tan"),
    "math.asin": ("numpy.arcsin", "torch.asin"),
    "math.acos": ("numpy.arccos", "torch.acos"),
    "math.atan": ("numpy.arctan", "torch.atan"),
    "math.atan2": ("numpy.arctan2", "torch.atan2"),
    "math.sinh": ("numpy.sinh", "torch.sinh"),
    "math.cosh": ("numpy.cosh", "torch.cosh"),
    "math.tanh": ("numpy.tanh", "torch.tanh"),
    "math.floor": ("numpy.floor", "torch.floor"),
    "math.ceil": ("numpy.ceil", "torch.ceil"),
    "math.fabs": ("numpy.fabs", "torch.abs"),
    "math.trunc": ("numpy.trunc", "torch.trunc"),
    "math.pow": ("numpy.power", "torch.pow"),
    "math.hypot": ("numpy.hypot", "torch.hypot"),
    "math.erf": ("scipy.special.erf", "torch.erf"),
    "math.isnan": ("numpy.isnan", "torch.isnan"),
    "math.isinf": ("numpy.isinf", "torch.isinf"),
    "math.isfinite": ("numpy.isfinite", "torch.isfinite"),
    "math.degrees": ("numpy.degrees", "torch.rad2deg"),
    "math.radians": ("numpy.radians", "torch.deg2rad"),
    "math.copysign": ("numpy.copysign", "torch.copysign"),
}

# Builtin types no NumPy array, tensor or pandas object is an instance of: ``isinstance(x, int)``
# proves ``x`` is no array where it holds (a NumPy scalar may be a ``float``, but is no array).
NON_ARRAY_TYPES = frozenset(
    {"bool", "bytes", "complex", "dict", "float", "frozenset", "int", "list", "set", "str", "tuple"}
)

# Decorators whose function runs once per distinct argument: defined with the roles, which the
# project index reads without importing the catalogue (and libcst).
from perflint.engine.roles import CACHING_DECORATORS  # noqa: E402,F401

# Python operators that act element by element on whole arrays exactly as on their
# elements, as libcst node types. ``@``, ``not``, ``and``/``or``, ``in``/``is`` and chained
# comparisons do not.
ELEMENTWISE_BINARY_OPERATORS = frozenset(
    {
        cst.Add,
        cst.Subtract,
        cst.Multiply,
        cst.Divide,
        cst.FloorDivide,
        cst.Modulo,
        cst.Power,
        cst.BitAnd,
        cst.BitOr,
        cst.BitXor,
        cst.LeftShift,
        cst.RightShift,
    }
)
ELEMENTWISE_AUGMENTED_OPERATORS = frozenset(
    {
        cst.AddAssign,
        cst.SubtractAssign,
        cst.MultiplyAssign,
        cst.DivideAssign,
        cst.FloorDivideAssign,
        cst.ModuloAssign,
        cst.PowerAssign,
        cst.BitAndAssign,
        cst.BitOrAssign,
        cst.BitXorAssign,
        cst.LeftShiftAssign,
        cst.RightShiftAssign,
    }
)
ELEMENTWISE_UNARY_OPERATORS = frozenset({cst.Minus, cst.Plus, cst.BitInvert})
# Single comparisons; a chain ``a < b < c`` calls ``bool()`` on an array and fails.
ELEMENTWISE_COMPARISON_OPERATORS = frozenset(
    {cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual, cst.Equal, cst.NotEqual}
)
