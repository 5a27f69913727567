"""The recomputation rules' fixes, run: the original and the fixed code (as `--fix
--unsafe-fixes` writes it) on the same inputs give the same results; each unsafe fix's
warning is shown to be real; where the fix would change results, none is offered."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.heavy_load_in_loop import HeavyLoadInLoop
from perflint.rules.recomputation.inference_without_no_grad import InferenceWithoutNoGrad
from perflint.rules.recomputation.invariant_file_read_in_loop import InvariantFileReadInLoop
from perflint.rules.recomputation.inverse_then_multiply import InverseThenMultiply
from perflint.rules.recomputation.loop_invariant_copy import LoopInvariantCopy
from perflint.rules.recomputation.loop_invariant_expensive_call import LoopInvariantExpensiveCall
from perflint.rules.recomputation.regex_in_loop import RegexInLoop
from tests.fixes.execution import fixed as fixed_source_of
from tests.fixes.execution import run as names_defined


def fixed(source: str, rule) -> tuple[str, str]:
    """The dedented source and what the rule's fixes make of it (which must differ)."""
    original = textwrap.dedent(source)
    return original, fixed_source_of(original, rule, changes=None)


def run(source: str, function: str, *args):
    return names_defined(source)[function](*args)


def assert_no_fix(source: str, rule) -> None:
    findings = lint_source(textwrap.dedent(source), "m.py", [rule])
    assert [finding.code for finding in findings] == [rule.code]
    assert findings[0].fix is None


@pytest.fixture
def scipy():
    """The sources of PFL401_LOOP and PFL402_PRODUCTS import SciPy."""
    return pytest.importorskip("scipy")


@pytest.fixture
def matrix():
    rng = np.random.default_rng(0)
    return rng.standard_normal((6, 6)) + 6 * np.eye(6), rng.standard_normal((5, 6))


# PFL401 loop-invariant-expensive-call --------------------------------------------------------

PFL401_LOOP = """
    import numpy as np
    from scipy import linalg
    def solve_all(A, xs, log):
        out = []
        for x in xs:
            log.append(len(out))
            out.append(np.linalg.inv(A) @ x)
        return out
    def comprehension(A, xs):
        return [linalg.expm(A / 10) @ x for x in xs]
    def evolve(H, x, dt):
        t = 0.0
        while t < 1.0:
            t += dt
            x = linalg.expm(H * dt) @ x
        return x
"""


def test_pfl401_hoisted_inverse_gives_the_same_results(matrix, scipy):
    A, xs = matrix
    original, fixed_source = fixed(PFL401_LOOP, LoopInvariantExpensiveCall)
    assert fixed_source.count("inv_A = np.linalg.inv(A)") == 1 and "expm_H_dt = linalg.expm(H * dt)" in fixed_source
    for function, args in [("solve_all", (A, xs, [])), ("comprehension", (A, xs)), ("evolve", (A / 10, xs[0], 0.25))]:
        np.testing.assert_allclose(
            np.array(run(original, function, *args)), np.array(run(fixed_source, function, *args)), rtol=1e-12
        )


def test_pfl401_unsafe_the_hoisted_call_runs_before_the_loop_and_even_when_it_runs_no_iteration(scipy):
    original, fixed_source = fixed(PFL401_LOOP, LoopInvariantExpensiveCall)
    singular = np.zeros((3, 3))
    # No iteration: the original never inverts the singular matrix, the fix does.
    assert run(original, "solve_all", singular, [], []) == []
    with pytest.raises(np.linalg.LinAlgError):
        run(fixed_source, "solve_all", singular, [], [])
    # With iterations: the error now comes before the loop's first statement ran.
    original_log, fixed_log = [], []
    with pytest.raises(np.linalg.LinAlgError):
        run(original, "solve_all", singular, [np.ones(3)], original_log)
    with pytest.raises(np.linalg.LinAlgError):
        run(fixed_source, "solve_all", singular, [np.ones(3)], fixed_log)
    assert original_log == [0] and fixed_log == []


def test_pfl401_one_fix_reads_the_name_wherever_the_loop_makes_the_same_call(matrix):
    original, fixed_source = fixed(
        """
        import numpy as np
        def f(A, xs):
            out = []
            for x in xs:
                out.append(np.linalg.det(A) * x + np.linalg.det(A))
            return out
    """,
        LoopInvariantExpensiveCall,
    )
    assert fixed_source.count("np.linalg.det(A)") == 1 and "det_A * x + det_A" in fixed_source
    A, xs = matrix
    np.testing.assert_allclose(run(original, "f", A, xs), run(fixed_source, "f", A, xs))


def test_pfl401_offers_no_fix_when_the_loop_changes_the_result_in_place(matrix):
    source = """
        import numpy as np
        def f(A, xs):
            out = []
            for x in xs:
                B = np.linalg.inv(A)
                B *= 2
                out.append(B @ x)
            return out
    """
    assert_no_fix(source, LoopInvariantExpensiveCall)
    # Why: with one shared inverse the in-place update would compound across iterations.
    A, xs = matrix
    hoisted_by_hand = textwrap.dedent(source).replace(
        "    for x in xs:\n        B = np.linalg.inv(A)",
        "    shared = np.linalg.inv(A)\n    for x in xs:\n        B = shared",
    )
    assert "shared" in hoisted_by_hand
    assert not np.allclose(run(textwrap.dedent(source), "f", A, xs), run(hoisted_by_hand, "f", A, xs))


def test_pfl401_torch_inverse_hoisted_gives_the_same_results():
    torch = pytest.importorskip("torch")
    original, fixed_source = fixed(
        """
        import torch as th
        def f(W, xs):
            return [th.linalg.inv(W) @ x for x in xs]
    """,
        LoopInvariantExpensiveCall,
    )
    generator = torch.Generator().manual_seed(0)
    W = torch.randn(4, 4, generator=generator, dtype=torch.float64) + 4 * torch.eye(4, dtype=torch.float64)
    xs = list(torch.randn(3, 4, generator=generator, dtype=torch.float64))
    assert torch.allclose(torch.stack(run(original, "f", W, xs)), torch.stack(run(fixed_source, "f", W, xs)))


# PFL406 loop-invariant-copy ------------------------------------------------------------------

PFL406_LOOP = """
    import numpy as np
    def scores(weights: np.ndarray, batches):
        return [batch @ weights.astype(np.float32) for batch in batches]
    def totals(x0: np.ndarray, xs):
        out = []
        for x in xs:
            base = x0.copy()
            out.append(float((base * x).sum() + base.T[0].sum()))
        return out
"""


def test_pfl406_hoisted_copy_gives_the_same_results(matrix):
    A, xs = matrix
    original, fixed_source = fixed(PFL406_LOOP, LoopInvariantCopy)
    assert "weights_astype_float32 = weights.astype(np.float32)" in fixed_source
    assert "x0_copy = x0.copy()" in fixed_source
    batches = [x.astype(np.float32).reshape(1, -1) for x in xs]
    np.testing.assert_array_equal(
        np.array(run(original, "scores", A, batches)), np.array(run(fixed_source, "scores", A, batches))
    )
    assert run(original, "totals", A, list(xs)) == run(fixed_source, "totals", A, list(xs))


def test_pfl406_unsafe_the_copy_is_made_even_when_the_loop_runs_no_iteration():
    original, fixed_source = fixed(PFL406_LOOP, LoopInvariantCopy)
    unconvertible = np.array(["a", "b"])
    assert run(original, "scores", unconvertible, []) == []
    with pytest.raises(ValueError):
        run(fixed_source, "scores", unconvertible, [])


def test_pfl406_offers_no_fix_when_the_iteration_writes_its_copy_through_a_view(matrix):
    source = """
        import numpy as np
        def shifted_totals(x0: np.ndarray, steps):
            totals = []
            for eps in steps:
                x = x0.copy()
                head = x[:1]
                head += eps
                totals.append(float(x.sum()))
            return totals
    """
    assert_no_fix(source, LoopInvariantCopy)
    # Why: one copy shared by the iterations would accumulate every iteration's write.
    hoisted_by_hand = textwrap.dedent(source).replace(
        "    for eps in steps:\n        x = x0.copy()",
        "    shared = x0.copy()\n    for eps in steps:\n        x = shared",
    )
    assert "shared" in hoisted_by_hand
    A, _ = matrix
    assert run(textwrap.dedent(source), "shifted_totals", A, [1.0, 1.0]) != run(
        hoisted_by_hand, "shifted_totals", A, [1.0, 1.0]
    )


def test_pfl406_torch_clone_hoisted_gives_the_same_results():
    torch = pytest.importorskip("torch")
    original, fixed_source = fixed(
        """
        import torch
        def f(mask: torch.Tensor, xs):
            return [x.masked_fill(mask.clone() > 0.5, 0.0) for x in xs]
    """,
        LoopInvariantCopy,
    )
    generator = torch.Generator().manual_seed(0)
    mask = torch.rand(8, generator=generator)
    xs = list(torch.randn(4, 8, generator=generator))
    assert torch.equal(torch.stack(run(original, "f", mask, xs)), torch.stack(run(fixed_source, "f", mask, xs)))


# PFL408 invariant-file-read-in-loop ----------------------------------------------------------

PFL408_LOOP = """
    import numpy as np
    import pandas as pd
    def label_counts(ids, path, between):
        counts = []
        for i in ids:
            labels = pd.read_csv(path)
            counts.append(int((labels["id"] == i).sum()))
            between()
        return counts
    def scores(queries, bank_path):
        return [float((np.load(bank_path) @ x).sum()) for x in queries]
"""


@pytest.fixture
def data_files(tmp_path):
    pd = pytest.importorskip("pandas")
    csv = tmp_path / "labels.csv"
    pd.DataFrame({"id": [1, 2, 2, 3, 3, 3]}).to_csv(csv, index=False)
    bank = tmp_path / "bank.npy"
    np.save(bank, np.arange(12.0).reshape(3, 4))
    return csv, bank


def test_pfl408_hoisted_read_gives_the_same_results(data_files):
    csv, bank = data_files
    original, fixed_source = fixed(PFL408_LOOP, InvariantFileReadInLoop)
    assert "read_csv_path = pd.read_csv(path)" in fixed_source and "load_bank_path = np.load(bank_path)" in fixed_source
    nothing = lambda: None  # noqa: E731
    assert run(original, "label_counts", [1, 2, 3, 4], csv, nothing) == [1, 2, 3, 0]
    assert run(fixed_source, "label_counts", [1, 2, 3, 4], csv, nothing) == [1, 2, 3, 0]
    queries = list(np.eye(4))
    assert run(original, "scores", queries, bank) == run(fixed_source, "scores", queries, bank)


def test_pfl408_unsafe_a_file_that_changes_during_the_loop_is_read_once(data_files):
    csv, _ = data_files
    original, fixed_source = fixed(PFL408_LOOP, InvariantFileReadInLoop)

    def append_a_row():
        with open(csv, "a") as handle:
            handle.write("3\n")

    csv_text = csv.read_text()
    assert run(original, "label_counts", [3, 3], csv, append_a_row) == [3, 4]
    csv.write_text(csv_text)
    assert run(fixed_source, "label_counts", [3, 3], csv, append_a_row) == [3, 3]


def test_pfl408_unsafe_the_file_is_read_even_when_the_loop_runs_no_iteration(tmp_path):
    pytest.importorskip("pandas")
    original, fixed_source = fixed(PFL408_LOOP, InvariantFileReadInLoop)
    missing = tmp_path / "missing.csv"
    assert run(original, "label_counts", [], missing, None) == []
    with pytest.raises(FileNotFoundError):
        run(fixed_source, "label_counts", [], missing, None)


def test_pfl408_offers_no_fix_when_the_loop_changes_the_data_it_read():
    assert_no_fix(
        """
        import pandas as pd
        for threshold in thresholds:
            table = pd.read_csv("scores.csv")
            table["score"] -= threshold
            report((table["score"] > 0).mean())
    """,
        InvariantFileReadInLoop,
    )


# PFL404 heavy-load-in-loop -------------------------------------------------------------------

PFL404_LOOP = """
    import torch as th
    def predict_all(batches, path):
        outputs = []
        for batch in batches:
            model = th.jit.load(path)
            outputs.append(model(batch))
        return outputs, model
"""


def _saved_model(tmp_path, train: bool):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    model.train(train)
    path = tmp_path / "model.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    batches = list(torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1)))
    return torch, str(path), batches


def test_pfl404_hoisted_load_gives_the_same_outputs(tmp_path):
    torch, path, batches = _saved_model(tmp_path, train=False)
    original, fixed_source = fixed(PFL404_LOOP, HeavyLoadInLoop)
    assert re.search(r"\n    load_path = th\.jit\.load\(path\)\n    for batch in batches:", fixed_source)
    with torch.no_grad():
        expected, _ = run(original, "predict_all", batches, path)
        got, _ = run(fixed_source, "predict_all", batches, path)
    assert all(torch.allclose(a, b) for a, b in zip(expected, got, strict=True))


def test_pfl404_unsafe_state_the_model_keeps_between_calls_now_carries_across_iterations(tmp_path):
    # A model in training mode updates its BatchNorm running statistics on every call: loaded
    # afresh, each iteration's model saw one batch; loaded once, the model saw them all.
    torch, path, batches = _saved_model(tmp_path, train=True)
    original, fixed_source = fixed(PFL404_LOOP, HeavyLoadInLoop)
    with torch.no_grad():
        _, original_model = run(original, "predict_all", batches, path)
        _, fixed_model = run(fixed_source, "predict_all", batches, path)
    original_state, fixed_state = dict(original_model.named_buffers()), dict(fixed_model.named_buffers())
    assert int(original_state["1.num_batches_tracked"]) == 1
    assert int(fixed_state["1.num_batches_tracked"]) == len(batches)
    assert not torch.allclose(original_state["1.running_mean"], fixed_state["1.running_mean"])


def test_pfl404_unsafe_the_model_is_loaded_even_when_the_loop_runs_no_iteration(tmp_path):
    pytest.importorskip("torch")
    original, fixed_source = fixed(PFL404_LOOP.replace("return outputs, model", "return outputs"), HeavyLoadInLoop)
    missing = str(tmp_path / "missing.pt")
    assert run(original, "predict_all", [], missing) == []
    with pytest.raises(ValueError):
        run(fixed_source, "predict_all", [], missing)


def test_pfl404_offers_no_fix_when_the_model_goes_to_a_function_that_may_train_it():
    assert_no_fix(
        """
        import torch
        for fold in folds:
            model = torch.jit.load("model.pt")
            train(model, fold)
    """,
        HeavyLoadInLoop,
    )


# PFL402 inverse-then-multiply ----------------------------------------------------------------

PFL402_PRODUCTS = """
    import numpy as np
    import scipy.linalg as sla
    from numpy.linalg import inv
    def products(A, b, B):
        return (
            np.linalg.inv(A) @ b,
            np.dot(np.linalg.inv(A), B),
            np.matmul(sla.inv(A), B),
            inv(A).dot(b),
        )
"""


def test_pfl402_solve_gives_the_products_results_up_to_rounding(matrix, scipy):
    A, xs = matrix
    original, fixed_source = fixed(PFL402_PRODUCTS, InverseThenMultiply)
    assert "inv(" not in fixed_source.split("def products")[1]
    expected = run(original, "products", A, xs[0], xs.T)
    got = run(fixed_source, "products", A, xs[0], xs.T)
    for product, solved in zip(expected, got, strict=True):
        assert product.shape == solved.shape
        np.testing.assert_allclose(product, solved, rtol=1e-10, atol=1e-12)


def test_pfl402_unsafe_not_bit_for_bit_and_far_apart_for_an_ill_conditioned_matrix():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    original, fixed_source = fixed(PFL402_PRODUCTS, InverseThenMultiply)
    hilbert = scipy_linalg.hilbert(13)
    b = np.ones(13)
    product = run(original, "products", hilbert, b, b[:, None])[0]
    solved = run(fixed_source, "products", hilbert, b, b[:, None])[0]
    assert not np.array_equal(product, solved)
    assert np.abs(product - solved).max() > 1.0
    # The solve is the accurate one: its residual is orders of magnitude smaller.
    assert np.abs(hilbert @ solved - b).max() * 1e4 < np.abs(hilbert @ product - b).max()


def test_pfl402_an_exactly_singular_matrix_raises_in_both(scipy):
    original, fixed_source = fixed(PFL402_PRODUCTS, InverseThenMultiply)
    singular = np.ones((3, 3))
    for source in (original, fixed_source):
        with pytest.raises(np.linalg.LinAlgError):
            run(source, "products", singular, np.ones(3), np.ones((3, 2)))


def test_pfl402_torch_solve_gives_the_products_results_and_reads_batched_operands_differently():
    torch = pytest.importorskip("torch")
    original, fixed_source = fixed(
        """
        import torch as th
        def product(A, b):
            return th.linalg.inv(A) @ b
    """,
        InverseThenMultiply,
    )
    assert "th.linalg.solve(A, b)" in fixed_source
    generator = torch.Generator().manual_seed(0)
    A = torch.randn(3, 3, generator=generator, dtype=torch.float64) + 3 * torch.eye(3, dtype=torch.float64)
    for b in (
        torch.randn(3, generator=generator, dtype=torch.float64),
        torch.randn(3, 2, generator=generator, dtype=torch.float64),
    ):
        assert torch.allclose(run(original, "product", A, b), run(fixed_source, "product", A, b))
    # Unsafe: with a batch of matrices, a `b` with one dimension fewer is a batch of vectors to
    # `solve` and a matrix to `@`.
    batch = A.expand(3, 3, 3)
    b = torch.randn(3, 3, generator=generator, dtype=torch.float64)
    assert run(original, "product", batch, b).shape == (3, 3, 3)
    assert run(fixed_source, "product", batch, b).shape == (3, 3)


def test_pfl402_offers_no_fix_for_the_inverse_on_the_right():
    assert_no_fix(
        """
        import numpy as np
        K = P @ np.linalg.inv(S)
    """,
        InverseThenMultiply,
    )


# PFL403 regex-in-loop ------------------------------------------------------------------------

PFL403_CALLS = """
    import re as regex


    def every_form(lines):
        out = []
        for line in lines:
            out.append((
                regex.findall(r"\\w+", line),
                regex.sub(r"\\s+", "-", line, 2, regex.IGNORECASE),
                regex.subn(pattern=r"[aeiou]", repl="*", string=line, flags=regex.I | regex.M),
                regex.split(r",\\s*", line, 1),
                [m.span() for m in regex.finditer(r"o", line)],
                bool(regex.fullmatch(pattern=r"[a-z ,]+", string=line)),
                (regex.match(r"HELLO", line, regex.I) or regex.match(r"x", "x")).group(0),
                regex.search(rb"\\d+", line.encode()) is None,
                regex.compile(r"l+").sub("L", line),
            ))
        return out
"""


def test_pfl403_compiled_patterns_give_exactly_the_module_functions_results():
    original, fixed_source = fixed(PFL403_CALLS, RegexInLoop)
    assert "regex.findall(" not in fixed_source and "regex.sub(" not in fixed_source
    assert fixed_source.count("= regex.compile(") == 10
    assert 'regex.compile(r"\\s+", regex.IGNORECASE)' in fixed_source
    lines = ["Hello world, hello  again", "no match here", "a, b, c", "", "HELLO 42 oo"]
    assert run(original, "every_form", lines) == run(fixed_source, "every_form", lines)


# PFL405 inference-without-no-grad ------------------------------------------------------------

PFL405_LOOP = """
    import torch as th
    def predict(model, batches):
        model.eval()
        outputs = []
        for batch in batches:
            outputs.append(model(batch))
        return outputs
"""


def _model_and_batches():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Dropout(0.5), torch.nn.Linear(8, 2))
    batches = list(torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(1)))
    return torch, model, batches


def test_pfl405_inference_mode_gives_the_same_outputs_without_recording_a_graph():
    torch, model, batches = _model_and_batches()
    original, fixed_source = fixed(PFL405_LOOP, InferenceWithoutNoGrad)
    assert "    with th.inference_mode():\n        for batch in batches:" in fixed_source
    recorded = run(original, "predict", model, batches)
    inferred = run(fixed_source, "predict", model, batches)
    assert torch.allclose(torch.cat(recorded), torch.cat(inferred))
    assert all(output.requires_grad and output.grad_fn is not None for output in recorded)
    assert all(not output.requires_grad and output.is_inference() for output in inferred)


def test_pfl405_unsafe_the_outputs_cannot_join_autograd_or_be_updated_in_place_later():
    torch, model, batches = _model_and_batches()
    original, fixed_source = fixed(PFL405_LOOP, InferenceWithoutNoGrad)
    weight = torch.ones(2, requires_grad=True)
    # Fed to code that records gradients: fine before, an error after the fix.
    (run(original, "predict", model, batches)[0] * weight).sum().backward()
    assert weight.grad is not None
    with pytest.raises(RuntimeError, match="[Ii]nference tensors cannot be saved for backward"):
        (run(fixed_source, "predict", model, batches)[0] * weight).sum().backward()
    # Updated in place outside inference mode.
    run(original, "predict", model, batches)[0].detach().add_(1)
    with pytest.raises(RuntimeError, match="[Ii]nplace update to inference tensor"):
        run(fixed_source, "predict", model, batches)[0].add_(1)


def test_pfl405_offers_no_fix_for_a_generator():
    assert_no_fix(
        """
        import torch
        def stream(model, batches):
            model.eval()
            for batch in batches:
                yield model(batch)
    """,
        InferenceWithoutNoGrad,
    )


def test_pfl403_one_constant_per_pattern_and_different_patterns_get_different_names():
    original, fixed_source = fixed(
        """
        import re
        def digits(names):
            return [re.sub("[^0-9]", "", name) for name in names]
        def letters(names):
            return [re.sub("[^a-z]", "", name) for name in names]
        def digits_again(names):
            return [re.sub("[^0-9]", "", name) for name in names]
        def digit_runs(names):
            return [re.sub("[^0-9]+", "", name) for name in names]
    """,
        RegexInLoop,
    )
    # One private constant per pattern, after the imports, named from what it matches.
    constants = re.findall(r"^(\w+) = re\.compile", fixed_source, re.M)
    assert sorted(constants) == ["_NON_DIGITS_PATTERN", "_NON_DIGITS_PATTERN_2", "_NON_LOWERCASE_PATTERN"]
    assert fixed_source.startswith("\nimport re\n\n_")
    names = ["a1b2", "c3", ""]
    for function in ("digits", "letters", "digits_again", "digit_runs"):
        assert run(original, function, names) == run(fixed_source, function, names)


def test_pfl402_offers_no_fix_when_the_product_has_arguments_a_solve_would_drop():
    assert_no_fix(
        """
        import numpy as np
        y = np.dot(np.linalg.inv(A), b, out)
    """,
        InverseThenMultiply,
    )


def test_pfl403_keeps_each_comment_on_its_own_arguments_line():
    original, fixed_source = fixed(
        """
        import re
        def clean(lines):
            return [
                re.sub(
                    r",\\s*",
                    ";",  # the separator
                    line,  # each line
                    0,  # every match
                    re.M,
                )
                for line in lines
            ] + [
                re.sub(
                    r"\\s+",
                    " ",
                    line,  # no limit
                    flags=re.M
                )
                for line in lines
            ]
    """,
        RegexInLoop,
    )
    assert '    ";",  # the separator\n' in fixed_source
    assert "    line,  # each line\n" in fixed_source
    assert "    0,  # every match\n" in fixed_source
    assert "    line  # no limit\n" in fixed_source  # the call had no trailing comma
    assert fixed_source.count("#") == 4
    lines = ["a, b,c", "d  e"]
    assert run(original, "clean", lines) == run(fixed_source, "clean", lines)


def test_pfl403_offers_no_fix_when_a_removed_arguments_line_has_a_comment():
    assert_no_fix(
        """
        import re
        def clean(lines):
            return [re.sub(
                r"\\s+",  # runs of blanks
                " ",
                line,
            ) for line in lines]
    """,
        RegexInLoop,
    )
