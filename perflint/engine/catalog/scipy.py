"""SciPy: the linear-algebra and pairwise-distance functions the rules reason about, and the
sparse formats.

Signatures as ``inspect.signature`` gives them for SciPy 1.x. The ``overwrite_a=True``
forms write into their argument; no entry says so, since that depends on a literal.
"""

from __future__ import annotations

from perflint.engine.catalog.records import BUILDS_TABLE, EXPENSIVE, INVERSE, PURE, REDUCTION, SOLVES, function

# ``scipy.signal.windows`` functions: the window's parameters between its length and ``sym``.
WINDOWS = (
    ("hann", ""),
    ("hamming", ""),
    ("blackman", ""),
    ("kaiser", "beta, "),
    ("tukey", "alpha, "),
    ("gaussian", "std, "),
)

FUNCTIONS = (
    function("scipy.signal.get_window", "window, Nx, fftbins, *, xp, device", BUILDS_TABLE | PURE),
    *(
        function(f"scipy.signal.windows.{window}", f"M, {parameters}sym, *, xp, device", BUILDS_TABLE | PURE)
        for window, parameters in WINDOWS
    ),
    function("scipy.linalg.norm", "a, ord, axis, keepdims, check_finite", REDUCTION | PURE),
    function("scipy.linalg.inv", "a, overwrite_a, check_finite, *, assume_a, lower", EXPENSIVE | INVERSE | PURE),
    function(
        "scipy.linalg.solve",
        "a, b, lower, overwrite_a, overwrite_b, check_finite, assume_a, transposed",
        SOLVES | PURE,
    ),
    function("scipy.linalg.pinv", "a, *, atol, rtol, return_rank, check_finite", EXPENSIVE | PURE),
    function(
        "scipy.linalg.svd",
        "a, full_matrices, compute_uv, overwrite_a, check_finite, lapack_driver",
        EXPENSIVE | PURE,
    ),
    function(
        "scipy.linalg.eig",
        "a, b, left, right, overwrite_a, overwrite_b, check_finite, homogeneous_eigvals",
        EXPENSIVE | PURE,
    ),
    function(
        "scipy.linalg.eigh",
        "a, b, *, lower, eigvals_only, overwrite_a, overwrite_b, type, check_finite, "
        "subset_by_index, subset_by_value, driver",
        EXPENSIVE | PURE,
    ),
    function(
        "scipy.linalg.eigvals",
        "a, b, overwrite_a, check_finite, homogeneous_eigvals",
        EXPENSIVE | PURE,
    ),
    function(
        "scipy.linalg.eigvalsh",
        "a, b, *, lower, overwrite_a, overwrite_b, type, check_finite, subset_by_index, subset_by_value, driver",
        EXPENSIVE | PURE,
    ),
    function("scipy.linalg.cholesky", "a, lower, overwrite_a, check_finite", EXPENSIVE | PURE),
    function("scipy.linalg.qr", "a, overwrite_a, lwork, mode, pivoting, check_finite", EXPENSIVE | PURE),
    function("scipy.linalg.det", "a, overwrite_a, check_finite", EXPENSIVE | PURE),
    function(
        "scipy.linalg.lstsq",
        "a, b, cond, overwrite_a, overwrite_b, check_finite, lapack_driver",
        EXPENSIVE | PURE,
    ),
    function("scipy.linalg.lu_factor", "a, overwrite_a, check_finite", EXPENSIVE | PURE),
    function("scipy.linalg.expm", "A", EXPENSIVE | PURE),
    function("scipy.linalg.sqrtm", "A, disp, blocksize", EXPENSIVE | PURE),
    function("scipy.linalg.logm", "A, disp", EXPENSIVE | PURE),
    function("scipy.spatial.distance.cdist", "XA, XB, metric, *, out, **kwargs", EXPENSIVE | PURE),
    function("scipy.spatial.distance.pdist", "X, metric, *, out, **kwargs", EXPENSIVE | PURE),
)

# Routines that fit parameters to one 1-D sample (a Box-Cox lambda, a regression line, a
# curve): applied per slice, there is no whole-array form that fits every slice at once.
ONE_SAMPLE_FITS = frozenset(
    {
        "scipy.stats.boxcox",
        "scipy.stats.boxcox_normmax",
        "scipy.stats.boxcox_llf",
        "scipy.stats.yeojohnson",
        "scipy.stats.yeojohnson_normmax",
        "scipy.stats.linregress",
        "scipy.stats.theilslopes",
        "scipy.stats.siegelslopes",
        "scipy.stats.gaussian_kde",
        "scipy.optimize.curve_fit",
        "scipy.optimize.minimize",
        "scipy.optimize.minimize_scalar",
        "scipy.optimize.least_squares",
        "scipy.optimize.root",
        "scipy.optimize.root_scalar",
        "scipy.optimize.brentq",
        "scipy.interpolate.UnivariateSpline",
        "scipy.interpolate.splrep",
    }
)
# ``scipy.stats.norm.fit``, ``scipy.stats.gamma.fit``: every distribution's ``fit`` fits one
# sample, so the method name says it for distributions the catalogue does not list.
ONE_SAMPLE_FIT_METHODS = frozenset({"fit", "fit_loc_scale"})

# SciPy sparse matrices and arrays, by the format they store: the constructors (also the
# annotation types) and the methods of any sparse matrix that convert it to one format.
# Solvers slower than their library's inverse and a matrix product up to this order of the
# matrix, whatever the right-hand side: ``scipy.linalg.solve`` checks its inputs and estimates
# the condition number (one thread: 3.3x slower at 1×1, 2.1x at 16×16, 1.5x at 32×32 with one
# right-hand side, 0.77x at 64×64; benchmarks/results/precision/round10/pfl402_solve_crossover.md).
SOLVE_OVERHEAD_ORDERS = {"scipy.linalg.solve": 32}

SPARSE_FORMAT_CSR = "csr"
SPARSE_FORMAT_CSC = "csc"
SPARSE_TYPES = {
    "scipy.sparse.csr_matrix": SPARSE_FORMAT_CSR,
    "scipy.sparse.csr_array": SPARSE_FORMAT_CSR,
    "scipy.sparse.csc_matrix": SPARSE_FORMAT_CSC,
    "scipy.sparse.csc_array": SPARSE_FORMAT_CSC,
}
SPARSE_CONVERSION_METHODS = {"tocsr": SPARSE_FORMAT_CSR, "tocsc": SPARSE_FORMAT_CSC}
# Row slicing (``X[i]``, ``X[i, :]``, ``X.getrow(i)``) of a CSR matrix builds a new sparse
# object (a 1×n ``csr_matrix``, a 1-D ``coo_array`` for ``csr_array``): tens of µs per row,
# while row ``i``'s column indices and values already lie in ``X.indices[s:e]`` and
# ``X.data[s:e]`` with ``s, e = X.indptr[i], X.indptr[i + 1]``. (A CSC matrix's row slice
# is far slower still, and has no ``indptr`` form per row.)
SPARSE_ROW_METHOD = "getrow"
# What is read off one row of a CSR matrix ``X`` (``row.indices``, ``row.nonzero()``), and
# its form from the CSR arrays, with ``{matrix}`` the matrix and ``s``, ``e`` the row's
# bounds in ``X.indptr``. ``nonzero()`` also drops explicitly stored zeros.
SPARSE_ROW_ATTRIBUTES = {
    "indices": "{matrix}.indices[start:end]",
    "data": "{matrix}.data[start:end]",
    "nnz": "end - start",
}
# The attribute that only compressed sparse matrices have (NumPy arrays have none, torch's
# sparse tensors a method ``indices()``): code that reads it off a row as the row's column
# positions relies on the matrix being CSR, whatever the code says of its type.
SPARSE_CSR_ROW_ATTRIBUTE = "indices"
SPARSE_ROW_METHODS = {
    "nonzero": "{matrix}.indices[start:end]",
    "getnnz": "end - start",
    "sum": "{matrix}.data[start:end].sum()",
}
