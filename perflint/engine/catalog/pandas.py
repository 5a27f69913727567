"""pandas: constructors and readers of frames and series, and pandas' array types.

Signatures as ``inspect.signature`` gives them for pandas 2.x and 3.x.
"""

from __future__ import annotations

from perflint.engine.catalog.records import (
    CONCATENATES,
    FACTORY,
    FRESH_ARRAY,
    PURE,
    READS_FILE,
    WRITES_TABLE_FILE,
    ArrayKind,
    function,
    method,
)

PANDAS = ArrayKind.PANDAS

# Writers of ``DataFrame`` and ``Series`` (pandas 3 forms: everything after the path is
# keyword-only, as pandas 2.x deprecated passing it positionally).
FRAME_WRITERS = (
    method(
        "to_csv",
        flags=WRITES_TABLE_FILE,
        signature="path_or_buf, *, sep, na_rep, float_format, columns, header, index, index_label, mode, "
        "encoding, compression, quoting, quotechar, lineterminator, chunksize, date_format, doublequote, "
        "escapechar, decimal, errors, storage_options",
    ),
    method(
        "to_json",
        flags=WRITES_TABLE_FILE,
        signature="path_or_buf, *, orient, date_format, double_precision, force_ascii, date_unit, "
        "default_handler, lines, compression, index, indent, storage_options, mode",
    ),
    method(
        "to_parquet",
        flags=WRITES_TABLE_FILE,
        signature="path, *, engine, compression, index, partition_cols, storage_options, filesystem, **kwargs",
    ),
    method(
        "to_hdf",
        flags=WRITES_TABLE_FILE,
        signature="path_or_buf, *, key, mode, complevel, complib, append, format, index, min_itemsize, "
        "nan_rep, dropna, data_columns, errors, encoding",
    ),
    method("to_feather", flags=WRITES_TABLE_FILE, signature="path, **kwargs"),
)
# The argument that makes a writer add rows to what the file holds, and its value:
# ``to_csv(mode="a")``; ``to_hdf``'s ``mode="a"`` only opens the file without truncating it,
# while ``append=True`` adds rows to the table under ``key``.
ROW_APPENDING_ARGUMENTS = {"to_csv": ("mode", "a"), "to_json": ("mode", "a"), "to_hdf": ("append", True)}

ARRAY_TYPES = {
    "pandas.DataFrame": PANDAS,
    "pandas.Series": PANDAS,
}
# ``df : pd.DataFrame`` in a NumPy-style docstring (weak evidence, see ``engine.arrays``).
DOCSTRING_TYPES = {
    name: PANDAS for name in ("pd.DataFrame", "pandas.DataFrame", "DataFrame", "pd.Series", "pandas.Series", "Series")
}
# Attributes of a pandas object that index it by label or by position: ``df.loc[:, "y"]`` and
# ``s.iloc[10:20]`` are pandas objects again (or, for a single label, one value).
INDEXERS = frozenset({"loc", "iloc"})

# Attributes of a pandas Series. On a row, ``row.name`` is the row's label and ``row.index``
# the column labels, whatever the columns are called; any other attribute is a column.
SERIES_ATTRIBUTES = frozenset(
    {
        "T",
        "array",
        "at",
        "attrs",
        "axes",
        "cat",
        "dt",
        "dtype",
        "dtypes",
        "empty",
        "flags",
        "hasnans",
        "iat",
        "iloc",
        "index",
        "is_monotonic_decreasing",
        "is_monotonic_increasing",
        "is_unique",
        "loc",
        "name",
        "nbytes",
        "ndim",
        "shape",
        "size",
        "sparse",
        "str",
        "values",
    }
)

# The type of one column: its ``apply`` and ``map`` call a function once per element.
SERIES_TYPE = "pandas.Series"
# Methods of a Series that call a function once per element, and the name of the function's
# parameter (``s.apply(func=f)``, ``s.map(arg=f)``).
SERIES_ELEMENT_METHODS = {"apply": "func", "map": "arg"}

# Attributes of a pandas ``Timestamp`` (one element of a datetime column) that the column's
# ``.dt`` accessor gives for every element at once, by their ``.dt`` name. pandas 3 deprecates
# ``dayofweek``, ``dayofyear`` and ``daysinmonth`` for the spellings given here, which pandas
# has had since 1.1.
DATETIME_FIELDS = {
    **{
        name: name
        for name in (
            "year",
            "month",
            "day",
            "hour",
            "minute",
            "second",
            "microsecond",
            "nanosecond",
            "quarter",
            "day_of_week",
            "day_of_year",
            "days_in_month",
            "is_month_start",
            "is_month_end",
            "is_quarter_start",
            "is_quarter_end",
            "is_year_start",
            "is_year_end",
            "is_leap_year",
        )
    },
    "dayofweek": "day_of_week",
    "dayofyear": "day_of_year",
    "daysinmonth": "days_in_month",
}
# Methods of a ``Timestamp``, called without arguments, whose ``.dt`` counterpart is an
# attribute (``ts.weekday()`` is ``s.dt.day_of_week``).
DATETIME_METHOD_FIELDS = {"weekday": "day_of_week"}
# Methods of a ``Timestamp``, called without arguments, that the ``.dt`` accessor has under the
# same name (``s.dt.normalize()``).
DATETIME_METHODS = frozenset({"normalize", "day_name", "month_name"})

FUNCTIONS = (
    function(
        "pandas.DataFrame",
        "data, index, columns, dtype, copy",
        FACTORY | FRESH_ARRAY | PURE,
        returns=PANDAS,
    ),
    function("pandas.Series", "data, index, dtype, name, copy", FACTORY | FRESH_ARRAY | PURE, returns=PANDAS),
    function(
        "pandas.read_csv",
        "filepath_or_buffer, *, sep, delimiter, header, names, index_col, usecols, dtype, "
        "engine, converters, true_values, false_values, skipinitialspace, skiprows, "
        "skipfooter, nrows, na_values, keep_default_na, na_filter, skip_blank_lines, "
        "parse_dates, date_format, dayfirst, cache_dates, iterator, chunksize, compression, "
        "thousands, decimal, lineterminator, quotechar, quoting, doublequote, escapechar, "
        "comment, encoding, encoding_errors, dialect, on_bad_lines, low_memory, memory_map, "
        "float_precision, storage_options, dtype_backend",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_parquet",
        "path, engine, columns, storage_options, dtype_backend, filesystem, filters, to_pandas_kwargs, **kwargs",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_json",
        "path_or_buf, *, orient, typ, dtype, convert_axes, convert_dates, keep_default_dates, "
        "precise_float, date_unit, encoding, encoding_errors, lines, chunksize, compression, "
        "nrows, storage_options, dtype_backend, engine",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_excel",
        "io, sheet_name, *, header, names, index_col, usecols, dtype, engine, converters, "
        "true_values, false_values, skiprows, nrows, na_values, keep_default_na, na_filter, "
        "verbose, parse_dates, date_format, thousands, decimal, comment, skipfooter, "
        "storage_options, dtype_backend, engine_kwargs",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_feather",
        "path, columns, use_threads, storage_options, dtype_backend",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_table",
        "filepath_or_buffer, *, sep, delimiter, header, names, index_col, usecols, dtype, "
        "engine, converters, true_values, false_values, skipinitialspace, skiprows, "
        "skipfooter, nrows, na_values, keep_default_na, na_filter, skip_blank_lines, "
        "parse_dates, date_format, dayfirst, cache_dates, iterator, chunksize, compression, "
        "thousands, decimal, lineterminator, quotechar, quoting, doublequote, escapechar, "
        "comment, encoding, encoding_errors, dialect, on_bad_lines, low_memory, memory_map, "
        "float_precision, storage_options, dtype_backend",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_pickle",
        "filepath_or_buffer, compression, storage_options",
        FRESH_ARRAY | READS_FILE,
        returns=PANDAS,
    ),
    function(
        "pandas.read_sql",
        "sql, con, index_col, coerce_float, params, parse_dates, columns, chunksize, dtype_backend, dtype",
        FRESH_ARRAY,
        returns=PANDAS,
    ),
    function(
        "pandas.concat",
        "objs, *, axis, join, ignore_index, keys, levels, names, verify_integrity, sort, copy, union_categories",
        FRESH_ARRAY | PURE | CONCATENATES,
        returns=PANDAS,
    ),
    function(
        "pandas.merge",
        "left, right, how, on, left_on, right_on, left_index, right_index, sort, suffixes, copy, indicator, validate",
        FRESH_ARRAY | PURE,
        returns=PANDAS,
    ),
)
