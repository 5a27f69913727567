"""pandas: constructors and readers of frames and series, and pandas' array types.

Signatures as ``inspect.signature`` gives them for pandas 2.x and 3.x.
"""

from __future__ import annotations

from perflint.engine.catalog.records import FACTORY, FRESH_ARRAY, PURE, function

PANDAS = "pandas"

ARRAY_TYPES = {
    "pandas.DataFrame": PANDAS,
    "pandas.Series": PANDAS,
}

FUNCTIONS = (
    function(
        "pandas.DataFrame", "data, index, columns, dtype, copy",
        FACTORY | FRESH_ARRAY | PURE, returns=PANDAS,
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
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.read_parquet",
        "path, engine, columns, storage_options, dtype_backend, filesystem, filters, "
        "to_pandas_kwargs, **kwargs",
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.read_json",
        "path_or_buf, *, orient, typ, dtype, convert_axes, convert_dates, keep_default_dates, "
        "precise_float, date_unit, encoding, encoding_errors, lines, chunksize, compression, "
        "nrows, storage_options, dtype_backend, engine",
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.read_excel",
        "io, sheet_name, *, header, names, index_col, usecols, dtype, engine, converters, "
        "true_values, false_values, skiprows, nrows, na_values, keep_default_na, na_filter, "
        "verbose, parse_dates, date_format, thousands, decimal, comment, skipfooter, "
        "storage_options, dtype_backend, engine_kwargs",
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.read_feather", "path, columns, use_threads, storage_options, dtype_backend",
        FRESH_ARRAY, returns=PANDAS,
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
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.read_sql",
        "sql, con, index_col, coerce_float, params, parse_dates, columns, chunksize, "
        "dtype_backend, dtype",
        FRESH_ARRAY, returns=PANDAS,
    ),
    function(
        "pandas.concat",
        "objs, *, axis, join, ignore_index, keys, levels, names, verify_integrity, sort, copy, "
        "union_categories",
        FRESH_ARRAY | PURE, returns=PANDAS,
    ),
    function(
        "pandas.merge",
        "left, right, how, on, left_on, right_on, left_index, right_index, sort, suffixes, "
        "copy, indicator, validate",
        FRESH_ARRAY | PURE, returns=PANDAS,
    ),
)
