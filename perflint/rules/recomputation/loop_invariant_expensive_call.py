"""PFL401: an expensive linear-algebra call recomputed on every iteration with the same inputs."""

from __future__ import annotations

from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, hoist, name_for
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Invalid, Rule
from perflint.engine.sizes import runs_few_times
from perflint.measure.spec import ARRAY_BACKEND, ARRAY_DEVICES, Benchmark, Target
from perflint.rules.recomputation import FAMILY


class LoopInvariantExpensiveCall(Rule):
    """A matrix decomposition or inverse whose inputs do not change inside the loop."""

    code = "PFL401"
    name = "loop-invariant-expensive-call"
    family = FAMILY
    summary = "Expensive linear-algebra call with loop-invariant arguments inside a loop"
    message = (
        "`{callee}` is recomputed on every iteration with the same arguments: compute it once above the loop "
        "and reuse the result"
    )
    message_table = (
        "`{call}` builds the same table of combinations on every iteration from arguments the loop does not "
        "change: build it once above the loop and reuse it"
    )
    message_gram = (
        "`{product}` recomputes the same Gram matrix of `{matrix}` on every iteration: compute it once above the loop"
    )
    message_helper = (
        "`{call}` computes `{inner}` on every iteration from inputs the loop does not change: compute it "
        "once above the loop and pass it in"
    )
    message_deterministic = (
        "`{call}` is recomputed on every iteration with the same inputs, and each call runs {work} "
        "(`{function}` has no side effects and draws no random numbers): compute it once above {loop} "
        "and reuse the result"
    )
    fix_title = "Compute it once above the loop and reuse the result"
    fix_safety = FIX_UNSAFE
    # Opt-in: 4 of its 7 findings worth fixing, none wrong, on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    autofix = True
    required_text = ("numpy", "scipy", "torch", "itertools", "sklearn", "pygam")
    reported_at = "the call"

    what_it_does = (
        "Flags a call recomputed inside a loop or comprehension with arguments the loop does not change "
        "(no loop target, nothing the loop rebinds, assigns into, calls a mutating method on or passes to "
        "a function that might mutate it; any call in them a pure one, a random draw never) when it is "
        "costly: linear algebra (`np.linalg.inv`, `svd`, `eigh`, `cholesky`, `det`, `lstsq`…, their "
        "`scipy.linalg` and `torch.linalg` forms, `expm`, `sqrtm`), a table of every pairwise distance "
        "(`euclidean_distances`, `cdist`), a sort of its whole input (`np.unique`, `argsort`), a table "
        "built from a few parameters (`np.hanning`, `meshgrid`, `kron`, `list(itertools.product(...))`), "
        "or a Gram matrix `X.T @ X`. Also a call of a function of the same file (`f(...)`, "
        "`self.f(...)`) that is deterministic and changes nothing but the objects it makes, whose "
        "attributes of `self` the loop does not change either, and that does such costly work or fits a "
        "model of a class that fits deterministically (`LinearGAM().fit(X, y)`), as "
        "LiNGAM's CAM-UV refitting the residual of `i` for every `j`; and one whose body, on every call, "
        "makes a costly call from inputs the loop does not change (`[self.predict(x) for x in xs]` with "
        "`predict` computing `np.linalg.inv(self.K)`)."
    )
    known_limitations = (
        "A function of the file counts as deterministic when everything it calls is a side-effect-free "
        "library function that draws no random numbers, a pure builtin, a method that changes nothing, "
        "a method of a model it makes of a class the catalogue says fits deterministically (scikit-learn's "
        "`LinearRegression`, pygam's GAMs: not a random forest, whose fit draws at random), a method of an "
        "object it made itself (`out.append(x)`), or such a function of the file (two calls deep); it "
        "assigns no attribute of `self`, changes no parameter, declares no `global` and defines no "
        "function. A loop in such a function is not costly work enough: most loops there run over a few "
        "columns or parameters (on the development sets, the loops it found were a table's few columns "
        "and an optimizer's parameters). A function of another file is not followed, nor a property.\n\n"
        "A helper's inputs the loop does not change are its parameters, through the loop-invariant "
        "arguments bound to them; attributes of `self` and module names that neither the loop nor the "
        "function changes, and local names assigned from those before the call.\n\n"
        "A call under a condition that depends on the loop (`if t == 0:`) or in an exception handler is "
        "left alone: it may run on one iteration only; so is a loop in a function compiled by numba, "
        "JAX, TorchScript, `torch.compile` or Cython; so is a table assigned to a name the loop then "
        "writes into (`w = np.hanning(n)` then `w *= x`: a scratch buffer, fresh on each iteration) or "
        "passed as the array a call writes its result into (`out=`, or `np.dot`'s third argument), or in "
        "a loop the source says runs at most 8 times (`for v in [xmin, xmax]`). A small table (a grid of "
        "two channels) costs little and is still flagged: on the development sets of issue 17 (round 4), "
        "the tables it finds were 3 worth fixing (a phantom's coordinate grid per ellipse, pgmpy's "
        "latent combinations per data row) and 1 not (8 channel triples). Not followed: a helper in another file, a helper's "
        "expensive call after an early `return`, in a loop or under a condition in the helper, a local "
        "name the helper changes in place, and a Gram matrix spelled through `np.dot`, `einsum` or "
        "`transpose(...)`. A Gram matrix of a small matrix (a 3 x 3 rotation) costs little and is still "
        "flagged."
        " Opt-in since round 5 of the precision review: over every review of code it had not been tuned on "
        "(`benchmarks/results/precision/round5/track_record.md`), 4 of its 7 findings were worth fixing "
        "and none was wrong. The value it hoists is often tiny (an 8-row index table, a few latent "
        "combinations) beside heavy work in each iteration; it pays where the repeated call is a large "
        "matrix operation or a full-size grid."
    )
    why_bad = (
        "These calls cost O(n³) on an n×n matrix. With the same inputs they return the same "
        "result on every iteration, so all but the first call are wasted work; for a loop of k "
        "iterations the cost is k times what it needs to be."
    )
    example = """\
import numpy as np

def solve_all(A, rhs):
    return [np.linalg.inv(A) @ b for b in rhs]
"""
    use_instead = """\
import numpy as np

def solve_all(A, rhs):
    A_inv = np.linalg.inv(A)
    return [A_inv @ b for b in rhs]
"""
    fix_safety_note = (
        "The fix assigns the call to a new name (made of its words: `inv_A` for "
        "`np.linalg.inv(A)`) right above the loop, or above the statement holding the "
        "comprehension, and reads that name where the call was (and wherever the loop makes the "
        "same call, written alike, on every iteration). It is unsafe: the call is side-effect "
        "free and its arguments do not change in the loop, so the value is the same, but it now "
        "runs once, before the loop, also when the loop runs no iteration: a loop over an empty "
        "list now pays for the call, and an error (a singular matrix, a wrong shape, an "
        "undefined name) is raised where the loop would not have run at all, or before the "
        "iterations that ran earlier. No fix is offered where the call runs only on some "
        "iterations (under an `if`, behind `and`/`or`, in a `try` or `with` block) or where no "
        "statement of the same scope can hold it (a comprehension in a `while` test, an `elif`, "
        "a lambda, a class body)."
    )

    VALID = (
        # A training step: the optimizer updates the model's parameters in place, so an
        # attribute of the model is not the same matrix on the next iteration.
        """
        import torch
        def fit(model, loader, opt):
            for batch in loader:
                W = torch.linalg.inv(model.cov)
                loss = (batch @ W).pow(2).mean()
                loss.backward()
                opt.step()
        """,
        # The argument is the loop target.
        """
        import numpy as np
        for A in matrices:
            B = np.linalg.inv(A)
        """,
        # The loop writes into the argument before using it.
        """
        import numpy as np
        for i in range(3):
            A[0, 0] = i
            B = np.linalg.inv(A)
        """,
        # An unknown function may mutate the argument.
        """
        import numpy as np
        for step in range(3):
            update(A)
            w = np.linalg.solve(A, b) + np.linalg.det(A)
        """,
        # A method call on a prefix makes every attribute of it variant.
        """
        import torch
        for x in xs:
            self.reset()
            y = torch.linalg.inv(self.W) @ x
        """,
        # Already hoisted; and a call in a function defined in the loop does not run per iteration.
        """
        import numpy as np
        A_inv = np.linalg.inv(A)
        for x in xs:
            def f():
                return np.linalg.inv(A)
            y = A_inv @ x
        """,
        # A local function that happens to be called inv.
        """
        def inv(m):
            return m
        import numpy
        for x in xs:
            y = inv(A) @ x
        """,
        # A factory argument builds a fresh matrix on every iteration.
        """
        import numpy as np
        for x in xs:
            y = np.linalg.inv(np.eye(3) + x)
        """,
        # A random draw is a new matrix on every iteration.
        """
        import numpy as np
        import torch
        for x in xs:
            y = np.linalg.inv(np.random.rand(3, 3)) @ x
            z = torch.linalg.inv(torch.randn(3, 3)) @ x
        """,
        # Compiled by numba: the loop is machine code, and numba does not hoist for the linter.
        """
        from numba import njit
        import numpy as np
        def solve_all(A, rhs, out):
            for k in range(rhs.shape[0]):
                out[k] = np.linalg.inv(A) @ rhs[k]
        fast_solve_all = njit(solve_all)
        """,
        # The loop's iterable is evaluated once.
        """
        import numpy as np
        for row in np.linalg.inv(A):
            print(row)
        """,
        # Runs on the first iteration only, or only when something went wrong.
        """
        from scipy import linalg
        for t in range(T):
            if t == 0:
                L = linalg.cholesky(S0)
            else:
                L = prev[t - 1]
            try:
                step(L)
            except ValueError:
                L = linalg.cholesky(S0)
            w = linalg.inv(P) if t == 0 else w
        """,
        # A helper whose expensive call reads what the loop changes: its argument, an attribute
        # the loop (or the helper itself) assigns; a helper that may return before the call.
        """
        import numpy as np
        class GP:
            def solve(self, b):
                return np.linalg.solve(self.K, b)
            def refit(self, x):
                self.K = self.K + x
                return np.linalg.inv(self.K)
            def whiten(self, x):
                if x is None:
                    return None
                return np.linalg.cholesky(self.K) @ x
            def run(self, xs):
                for x in xs:
                    self.solve(x)
                    self.refit(x)
                for x in xs:
                    self.K = x
                    y = self.solve(np.ones(3))
                return [self.whiten(x) for x in xs]
        """,
        # A table from what the loop changes; a window the loop then writes into.
        """
        import numpy as np
        import torch
        def spectra(frames, n):
            out = []
            for size, frame in zip(sizes, frames):
                gy, gx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
                w = np.hanning(n)
                w *= frame
                out.append(np.fft.rfft(w))
            return out
        """,
        # An inverse passed as the array `np.dot` writes into (its third argument, `out`): a
        # fresh buffer per iteration (causal-learn's VARMA-LiNGAM).
        """
        import numpy as np
        def omegas(psis, order):
            result = []
            for i in range(order):
                result.append(np.dot(psis[i], np.eye(3), np.linalg.inv(np.eye(3) - psis[0])))
                result.append(np.matmul(psis[i], psis[i], out=np.linalg.pinv(psis[0])))
            return result
        """,
        # A table rebuilt on two iterations only.
        """
        import itertools
        import numpy as np
        def faces(y, z, xmin, xmax):
            pts = []
            for v in [xmin, xmax]:
                u = list(itertools.product(y[1:-1], z[1:-1]))
                pts.append(np.hstack((np.full((len(u), 1), v), u)))
            return pts
        """,
        # Combinations iterated lazily (no table is built), or of what the loop changes.
        """
        import itertools
        from itertools import product
        def pairs(xs, n, cards):
            for x in xs:
                for combo in itertools.combinations(range(n), 2):
                    print(combo, x)
                cards.append(x)
                table = list(product(*[range(c) for c in cards]))
        """,
        # A Gram matrix of what the loop changes, and a product of two different matrices.
        """
        import numpy as np
        for x in xs:
            X = np.vstack([X, x])
            G = X.T @ X
            C = X.T @ Y
        """,
        # Functions of the file called with what the loop does not change, that may give another
        # value each time: a random draw, a model whose class may fit at random; or that change
        # something: an attribute of `self`, their argument; or that do no costly work.
        """
        import numpy as np
        from sklearn.ensemble import RandomForestRegressor
        class Search:
            def noisy(self, X):
                return np.linalg.inv(X + np.random.rand(*X.shape))
            def forest(self, X, y):
                return RandomForestRegressor().fit(X, y).predict(X)
            def cached(self, X):
                self.last = np.linalg.inv(X)
                return self.last
            def centred(self, X):
                X -= X.mean(axis=0)
                return np.linalg.svd(X)
            def scale(self, X):
                return X / X.std()
            def run(self, X, y, pairs):
                for i, j in pairs:
                    a = self.noisy(X)
                    b = self.forest(X, y)
                    c = self.cached(X)
                    d = self.centred(X)
                    e = self.scale(X)
        """,
        # The function reads what the loop changes: its argument, or an attribute of `self`.
        """
        import numpy as np
        class Walk:
            def residual(self, X, i):
                return X[:, i] - X @ np.linalg.lstsq(X, X[:, i], rcond=None)[0]
            def spread(self):
                return np.unique(self.samples)
            def run(self, X, d):
                for i in range(d):
                    for j in range(d):
                        r = self.residual(X, j)
                        self.samples = X[:, j]
                        s = self.spread()
        """,
    )
    INVALID = (
        Invalid(
            """
            import numpy as np
            for x in xs:
                y = np.linalg.inv(A) @ x
            """,
            line=3,
            column=9,
            fixed="""
            import numpy as np
            inv_A = np.linalg.inv(A)
            for x in xs:
                y = inv_A @ x
            """,
        ),
        Invalid(
            """
            from numpy.linalg import inv
            ys = [inv(A) @ x for x in xs]
            """,
            line=2,
            fixed="""
            from numpy.linalg import inv
            inv_A = inv(A)
            ys = [inv_A @ x for x in xs]
            """,
        ),
        Invalid(
            """
            from scipy import linalg as sla
            while t < 1.0:
                t += dt
                E = sla.expm(H * dt)
            """,
            line=4,
            fixed="""
            from scipy import linalg as sla
            expm_H_dt = sla.expm(H * dt)
            while t < 1.0:
                t += dt
                E = expm_H_dt
            """,
        ),
        Invalid(
            """
            import torch
            for x in xs:
                y = torch.linalg.inv(self.W) @ x
            """,
            line=3,
            fixed="""
            import torch
            inv_self_W = torch.linalg.inv(self.W)
            for x in xs:
                y = inv_self_W @ x
            """,
        ),
        Invalid(
            """
            import numpy.linalg
            for i in range(10):
                u, s, vt = numpy.linalg.svd(X.T @ X)
            """,
            line=3,
            fixed="""
            import numpy.linalg
            svd_X_T_X = numpy.linalg.svd(X.T @ X)
            for i in range(10):
                u, s, vt = svd_X_T_X
            """,
        ),
        # A pure factory of invariant arguments gives the same matrix on every iteration.
        Invalid(
            """
            import numpy as np
            def ridge_path(X, Y, alpha, n_iter):
                XXT = X @ X.T
                n = X.shape[0]
                for it in range(n_iter):
                    W = Y @ np.linalg.inv(XXT + alpha * np.eye(n))
                    Y = W @ X
            """,
            line=6,
            column=17,
            fixed="""
            import numpy as np
            def ridge_path(X, Y, alpha, n_iter):
                XXT = X @ X.T
                n = X.shape[0]
                inv_XXT_alpha_eye_n = np.linalg.inv(XXT + alpha * np.eye(n))
                for it in range(n_iter):
                    W = Y @ inv_XXT_alpha_eye_n
                    Y = W @ X
            """,
        ),
        # A condition that does not depend on the loop holds on every iteration.
        Invalid(
            """
            import numpy as np
            for x in xs:
                if use_whitening:
                    x = np.linalg.inv(C) @ x
            """,
            line=4,
            # Hoisted out of the `if`, the call would run when `use_whitening` is false too.
            fixed=NO_FIX,
        ),
        # A call over several lines, through an alias: its layout and comments go with it.
        Invalid(
            """
            import torch as th
            def project(P, batches):
                out = []
                # one projection per batch
                for b in batches:
                    Q, R = th.linalg.qr(
                        P,  # the basis
                        mode="reduced",
                    )
                    out.append(b @ Q @ Q.T)
                return out
            """,
            line=6,
            column=16,
            fixed="""
            import torch as th
            def project(P, batches):
                out = []
                # one projection per batch
                qr_P_reduced = th.linalg.qr(
                    P,  # the basis
                    mode="reduced",
                )
                for b in batches:
                    Q, R = qr_P_reduced
                    out.append(b @ Q @ Q.T)
                return out
            """,
        ),
        # A comprehension in a `while` test runs once per iteration of the `while`, which may
        # change `A`: there is no statement to put the call before.
        Invalid(
            """
            import numpy as np
            while any(np.linalg.det(A) > x for x in xs):
                A = A / 2
            """,
            line=2,
            fixed=NO_FIX,
        ),
        # Hoisted out of the `with` block, the call would record autograd history.
        Invalid(
            """
            import torch
            for x in xs:
                with torch.no_grad():
                    y = torch.linalg.inv(W) @ x
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # A helper of the file computes the inverse of the same matrix on every call.
        Invalid(
            """
            import numpy as np
            class GP:
                def predict(self, x):
                    return x @ np.linalg.inv(self.K)
                def predict_all(self, xs):
                    return [self.predict(x) for x in xs]
            """,
            line=6,
            column=17,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def precision(cov, jitter):
                return torch.linalg.inv(cov + jitter * torch.eye(cov.shape[0]))
            def mahalanobis(cov, points):
                out = []
                for p in points:
                    out.append(p @ precision(cov, 1e-6) @ p)
                return out
            """,
            line=7,
            fixed="""
            import torch
            def precision(cov, jitter):
                return torch.linalg.inv(cov + jitter * torch.eye(cov.shape[0]))
            def mahalanobis(cov, points):
                out = []
                precision_cov = precision(cov, 1e-6)
                for p in points:
                    out.append(p @ precision_cov @ p)
                return out
            """,
        ),
        # A window and a grid of coordinates rebuilt from what the loop does not change.
        Invalid(
            """
            import numpy as np
            def spectra(frames, n):
                return [np.fft.rfft(frame * np.hanning(n)) for frame in frames]
            """,
            line=3,
            column=33,
            fixed="""
            import numpy as np
            def spectra(frames, n):
                hanning_n = np.hanning(n)
                return [np.fft.rfft(frame * hanning_n) for frame in frames]
            """,
        ),
        Invalid(
            """
            import torch
            class Sampler:
                def forward(self, batches):
                    out = []
                    for x in batches:
                        rows, cols = torch.meshgrid(self.out_indices, self.in_indices, indexing="ij")
                        out.append(x[:, rows.reshape(-1), cols.reshape(-1)])
                    return out
            """,
            line=6,
            column=26,
            # The grid is read through `reshape` into an index: the engine does not vouch for a
            # shared one.
            fixed=NO_FIX,
        ),
        # A table of every combination of fixed cardinalities, materialised for every data row.
        Invalid(
            """
            import numpy as np
            from itertools import product
            def weights(rows, latent_card):
                out = []
                for row in rows:
                    combos = np.array(list(product(*[range(card) for card in latent_card.values()])))
                    out.append(score(row, combos))
                return out
            """,
            line=6,
            column=27,
            # The table is passed to `np.array`, which the engine does not vouch keeps it unchanged.
            fixed=NO_FIX,
        ),
        # A deterministic function of the file that fits a model on what the loop does not
        # change (LiNGAM's CAM-UV refits the residual of `i` for every `j`).
        Invalid(
            """
            import numpy as np
            from pygam import LinearGAM
            class CAMUV:
                def residual(self, X, i, parents):
                    parents = list(parents)
                    if not parents:
                        return X[:, i]
                    gam = LinearGAM().fit(X[:, parents], X[:, i])
                    return X[:, i] - gam.predict(X[:, parents])
                def pairs(self, X, P, d):
                    found = []
                    for i in range(d):
                        for j in range(i + 1, d):
                            r_i = self.residual(X, i, P[i])
                            r_j = self.residual(X, j, P[j])
                            found.append(np.corrcoef(r_i, r_j)[0, 1])
                    return found
            """,
            line=14,
            column=23,
            # The residual is passed on to `np.corrcoef`: the engine does not vouch that a shared
            # one stays unchanged.
            fixed=NO_FIX,
        ),
        # A function of the file that sorts its whole input, called with the same data each time.
        Invalid(
            """
            import numpy as np
            def class_centres(X, y):
                classes = np.unique(y)
                return np.array([X[y == c].mean(axis=0) for c in classes])
            def nearest(X, y, queries):
                return [np.argmin(((class_centres(X, y) - q) ** 2).sum(axis=1)) for q in queries]
            """,
            line=6,
            column=25,
            fixed="""
            import numpy as np
            def class_centres(X, y):
                classes = np.unique(y)
                return np.array([X[y == c].mean(axis=0) for c in classes])
            def nearest(X, y, queries):
                class_centres_X_y = class_centres(X, y)
                return [np.argmin(((class_centres_X_y - q) ** 2).sum(axis=1)) for q in queries]
            """,
        ),
        # A table of every pairwise distance, and a sort of the whole input, of what the loop
        # does not change.
        Invalid(
            """
            import numpy as np
            from sklearn.metrics import euclidean_distances
            def rbf(X):
                result = np.ones((X.shape[0], X.shape[0]))
                for i in range(X.shape[1]):
                    D = euclidean_distances(X, squared=True)
                    result *= np.exp(-D / np.median(D))
                return result
            """,
            line=6,
            column=13,
            # `D` is passed on to `np.median`: the engine does not vouch that a shared one stays
            # unchanged.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import numpy as np
            def superpixels(image, segments):
                for c in range(image.shape[-1]):
                    labels = np.unique(segments)
                    for label in labels:
                        image[..., c][segments == label] = image[..., c][segments == label].mean()
            """,
            line=4,
            column=18,
            # The labels are iterated by a nested loop, which the fix does not follow.
            fixed=NO_FIX,
        ),
        # A Gram matrix of a matrix the loop does not change.
        Invalid(
            """
            import numpy as np
            def ridge(X, y, alphas):
                weights = []
                for alpha in alphas:
                    G = X.T @ X
                    weights.append(np.linalg.solve(G + alpha * np.eye(X.shape[1]), X.T @ y))
                return weights
            """,
            line=5,
            column=13,
            fixed="""
            import numpy as np
            def ridge(X, y, alphas):
                weights = []
                X_T_X = X.T @ X
                for alpha in alphas:
                    G = X_T_X
                    weights.append(np.linalg.solve(G + alpha * np.eye(X.shape[1]), X.T @ y))
                return weights
            """,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._new_names = NewNames()
        self._reported_calls: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.innermost_loop is None:
            return
        callee = self.context.imports.qualified_name(node.func)
        record = catalog.lookup(callee)
        if record is None and callee is None:
            if not self._check_deterministic_helper(node):
                self._check_helper(node)
            return
        if record is None or not (catalog.costly_to_recompute(record) or record.has(catalog.Flag.BUILDS_TABLE)):
            return
        reported: cst.Call | None = node
        if not record.has(catalog.Flag.PURE):
            # An iterator over a table (``itertools.product``): the table is built only when a
            # list or tuple holds all of it.
            reported = self._materialising_call(node)
        if reported is None or not node.args:
            return
        if reported is node and any(arg.star for arg in node.args):
            return
        if self._is_output_buffer(reported):
            # ``np.dot(a, b, out=inv(m))``: a fresh buffer per iteration, written into; one
            # made before the loop would make every iteration's result the same array.
            return
        if not self.context.runs_every_iteration():
            return
        if record.has(catalog.Flag.BUILDS_TABLE) and (
            self._is_scratch(reported) or runs_few_times(self.context.innermost_loop.node, self.context)
        ):
            # A table costs far less than a decomposition: rebuilt a few times, or as a scratch
            # buffer, it is no waste worth a finding.
            return
        if (
            all(self.context.is_invariant(arg.value, through_comprehensions=True) for arg in node.args)
            and not self.context.in_compiled_code()
        ):
            loop = self.context.innermost_loop.node
            fix = hoist(self.context, reported, loop, self._new_names, name_for(self.context, reported))
            self._reported_calls.add(id(reported))
            message = (
                self.message.format(callee=quote(node.func))
                if reported is node
                else self.message_table.format(call=quote(reported))
            )
            self.report(reported, message, fix=fix)

    def _materialising_call(self, iterator: cst.Call) -> cst.Call | None:
        """``list(iterator)`` or ``tuple(iterator)``, when ``iterator`` is that call's argument."""
        argument = self.context.parents.get(id(iterator))
        call = self.context.parents.get(id(argument)) if type(argument) is cst.Arg else None
        if type(call) is not cst.Call or len(call.args) != 1 or type(call.func) is not cst.Name:
            return None
        name = call.func.value
        if name not in ("list", "tuple") or not self.context.imports.is_builtin(call.func, name):
            return None
        return call

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        loop = self.context.innermost_loop
        if loop is None or type(node.operator) is not cst.MatrixMultiply:
            return
        matrix = _gram_matrix_of(node.left, node.right)
        if matrix is None or not self.context.runs_every_iteration() or self.context.in_compiled_code():
            return
        if self.context.is_invariant(node):
            if any(id(outer) in self._reported_calls for outer in self.context.path_to(node)):
                # Inside an expensive call already reported as recomputed: hoisting that hoists this.
                return
            fix = hoist(self.context, node, loop.node, self._new_names, name_for(self.context, node))
            self.report(node, self.message_gram.format(product=quote(node), matrix=quote(matrix)), fix=fix)

    def _is_scratch(self, call: cst.Call) -> bool:
        """``w = np.hanning(n)`` where the loop then writes into ``w``: a fresh table per
        iteration, which one table made before the loop would not be."""
        loop = self.context.innermost_loop
        statement = self.context.parents.get(id(call))
        if loop is None or type(statement) is not cst.Assign:
            return False
        names = [dotted_name(target.target) for target in statement.targets]
        return any(name is not None and name in loop.effects.mutated for name in names)

    def _is_output_buffer(self, call: cst.Call) -> bool:
        """``call`` is the array another call writes its result into (``catalog.output_buffer``)."""
        argument = self.context.parents.get(id(call))
        outer = self.context.parents.get(id(argument)) if type(argument) is cst.Arg else None
        if type(outer) is not cst.Call:
            return False
        return catalog.output_buffer(outer, self.context.imports.qualified_name(outer.func)) is call

    def _check_deterministic_helper(self, call: cst.Call) -> bool:
        """A call of a deterministic function of this file that does costly work, from inputs
        the loop does not change: reported, with the fix that hoists it, and True."""
        loop = self.context.innermost_loop
        if loop is None:
            return False
        # Most calls are of no function of this file doing costly work: that question first.
        work = self.context.functions.deterministic_costly_work(call, loop.changes)
        if work is None or not self.context.runs_every_iteration() or self.context.in_compiled_code():
            return False
        message = self.message_deterministic.format(
            call=quote(call), work=_work_words(work), function=quote(call.func), loop=_loop_header(loop.node)
        )
        fix = hoist(self.context, call, loop.node, self._new_names, name_for(self.context, call))
        self.report(call, message, fix=fix)
        return True

    def _check_helper(self, call: cst.Call) -> None:
        """A call of a function of this file that makes an expensive call from inputs the loop
        does not change."""
        loop = self.context.innermost_loop
        if loop is None:
            return
        # Most calls in a loop are of no function of this file, or of one making no expensive
        # call: the cheap questions first.
        for inner in self.context.functions.calls_fixed_by_inputs(call, loop.changes, self._is_expensive):
            if self.context.runs_every_iteration() and not self.context.in_compiled_code():
                self.report(call, self.message_helper.format(call=quote(call), inner=quote(inner)), fix=None)
            return

    def _is_expensive(self, call: cst.Call) -> bool:
        record = catalog.lookup(self.context.imports.qualified_name(call.func))
        return record is not None and catalog.costly_to_recompute(record) and bool(call.args)


def _work_words(work: cst.CSTNode) -> str:
    """```np.linalg.inv(A)```: the costly call quoted."""
    return f"`{quote(work, limit=60)}`"


def _loop_header(loop: cst.CSTNode) -> str:
    """How a message names the loop to hoist above: ``for j in range(d)``, ``while not done``,
    ``the comprehension over `xs```."""
    if type(loop) is cst.For:
        return f"`for {quote(loop.target, limit=30)} in {quote(loop.iter, limit=50)}`"
    if type(loop) is cst.While:
        return f"`while {quote(loop.test, limit=50)}`"
    return f"the comprehension over `{quote(cast(cst.BaseComp, loop).for_in.iter, limit=50)}`"


def _gram_matrix_of(left: cst.BaseExpression, right: cst.BaseExpression) -> cst.BaseExpression | None:
    """``X`` when ``left @ right`` is ``X.T @ X`` or ``X @ X.T`` (also ``.mT``, ``.t()``): a
    product that costs a pass over all of ``X`` for a result of one side's size squared."""
    for transposed, plain in ((left, right), (right, left)):
        inner = _transposed(transposed)
        if inner is not None and dotted_name(inner) is not None and dotted_name(inner) == dotted_name(plain):
            return plain
    return None


def _transposed(expr: cst.BaseExpression) -> cst.BaseExpression | None:
    """``X`` of ``X.T``, ``X.mT`` or ``X.t()``."""
    if type(expr) is cst.Attribute and expr.attr.value in ("T", "mT"):
        return expr.value
    if type(expr) is cst.Call and not expr.args and type(expr.func) is cst.Attribute and expr.func.attr.value == "t":
        return expr.func.value
    return None


def _setup(size: int, target: Target) -> tuple:
    import numpy as np

    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((size, size)) + size * np.eye(size)
    vectors = rng.standard_normal((32, size))
    return target.xp, target.asarray(matrix), target.asarray(vectors)


def _pattern(xp, matrix, vectors):
    return xp.stack([xp.linalg.inv(matrix) @ vectors[k] for k in range(vectors.shape[0])])


def _fix(xp, matrix, vectors):
    inverse = xp.linalg.inv(matrix)
    return xp.stack([inverse @ vectors[k] for k in range(vectors.shape[0])])


LoopInvariantExpensiveCall.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 32, 128),
    check_size=8,
    size_unit="rows and columns (32 right-hand sides)",
    backend=ARRAY_BACKEND,
    devices=ARRAY_DEVICES,
    timed=(
        "Solving 32 right-hand sides against an n x n matrix: `xp.linalg.inv(matrix)` recomputed "
        "inside the loop against computed once before it."
    ),
)
