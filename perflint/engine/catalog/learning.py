"""scikit-learn and pygam: tables of every pairwise distance or kernel value, and model classes
whose fit is deterministic.

These libraries are not dependencies of perflint (nor of its tests): their signatures follow
their documentation, and tests/engine/test_catalog.py checks them only where the library is
installed.
"""

from __future__ import annotations

from perflint.engine.catalog.records import EXPENSIVE, FITS_DETERMINISTICALLY, PURE, function

_PAIRWISE = "sklearn.metrics.pairwise"
# Pairwise tables ``sklearn.metrics`` exports under its own name too.
_EXPORTED = ("euclidean_distances", "pairwise_distances", "pairwise_kernels")

FUNCTIONS = (
    *(
        function(
            f"{_PAIRWISE}.{name}",
            signature,
            EXPENSIVE | PURE,
            aliases=(f"sklearn.metrics.{name}",) if name in _EXPORTED else (),
        )
        for name, signature in (
            ("euclidean_distances", "X, Y, *, Y_norm_squared, squared, X_norm_squared"),
            ("pairwise_distances", "X, Y, metric, *, n_jobs, force_all_finite, ensure_all_finite, **kwds"),
            ("pairwise_kernels", "X, Y, metric, *, filter_params, n_jobs, **kwds"),
            ("manhattan_distances", "X, Y"),
            ("cosine_distances", "X, Y"),
            ("cosine_similarity", "X, Y, dense_output"),
            ("linear_kernel", "X, Y, dense_output"),
            ("polynomial_kernel", "X, Y, degree, gamma, coef0"),
            ("rbf_kernel", "X, Y, gamma"),
            ("laplacian_kernel", "X, Y, gamma"),
        )
    ),
    # Least squares and penalised iteratively reweighted least squares: no random start, no
    # shuffling.
    function(
        "sklearn.linear_model.LinearRegression",
        "*, fit_intercept, copy_X, tol, n_jobs, positive",
        FITS_DETERMINISTICALLY,
    ),
    *(
        function(
            f"pygam.{name}",
            f"terms, max_iter, tol, {extra}callbacks, fit_intercept, verbose, **kwargs",
            FITS_DETERMINISTICALLY,
        )
        for name, extra in (
            ("GAM", "distribution, link, "),
            ("LinearGAM", "scale, "),
            ("LogisticGAM", ""),
            ("PoissonGAM", ""),
        )
    ),
)
