"""PFL117 beyond its own examples: the suggested calls compute what the loop computed, and no
loop is both PFL117's scatter and PFL101's element-wise (gather) loop."""

from __future__ import annotations

import re

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.engine.rule import example_code
from perflint.rules.vectorisation.elementwise_index_loop import ElementwiseIndexLoop
from perflint.rules.vectorisation.scatter_index_loop import ScatterIndexLoop

NUMPY_SETUP = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "idx = rng.integers(0, 7, 60)\n"
    "other = rng.integers(0, 5, 60)\n"
    "w = rng.random(60)\n"
    "table = rng.random(7)\n"
    "totals = np.zeros(7)\n"
    "conf = np.zeros((7, 5), dtype=np.int64)\n"
    "out = np.zeros(60)\n"
    "scale = 3.0\n"
)
TORCH_SETUP = (
    "import torch\n"
    "generator = torch.Generator().manual_seed(0)\n"
    "idx = torch.randint(0, 7, (60,), generator=generator)\n"
    "other = torch.randint(0, 5, (60,), generator=generator)\n"
    "w = torch.rand(60, generator=generator)\n"
    "rows = torch.rand(60, 3, generator=generator)\n"
    "totals = torch.zeros(7)\n"
    "table = torch.zeros(7, 3)\n"
    "conf = torch.zeros(7, 5, dtype=torch.long)\n"
)

LOOPS = [
    (NUMPY_SETUP, "for i in range(len(idx)):\n    totals[idx[i]] += w[i] * scale\n", "totals"),
    (NUMPY_SETUP, "for i in range(len(idx)):\n    totals[idx[i]] -= 1\n", "totals"),
    (NUMPY_SETUP, "for i in range(len(idx)):\n    conf[idx[i], other[i]] += 1\n", "conf"),
    (NUMPY_SETUP, "for a, b in zip(idx, other):\n    conf[a, b] += 1\n", "conf"),
    (
        NUMPY_SETUP,
        "for i in range(len(idx)):\n    out[i] = table[idx[i]] * w[i]\n    totals[idx[i]] += w[i]\n",
        "out",
    ),
    (TORCH_SETUP, "for i in range(len(idx)):\n    totals[idx[i]] += w[i] * 2\n", "totals"),
    (TORCH_SETUP, "for i in range(len(idx)):\n    totals[idx[i]] -= w[i]\n", "totals"),
    (TORCH_SETUP, "for i in range(rows.shape[0]):\n    table[idx[i]] += rows[i]\n", "table"),
    (TORCH_SETUP, "for a, b in zip(idx, other):\n    conf[a, b] += 1\n", "conf"),
    (TORCH_SETUP, "for i in range(len(idx)):\n    conf[idx[i], other[i]] -= 2\n", "conf"),
]
# Running the torch loops belongs to the full run: importing torch alone takes seconds.
RUNS = [pytest.param(*loop, marks=pytest.mark.slow) if loop[0] is TORCH_SETUP else loop for loop in LOOPS]


def _run(source: str, result: str):
    namespace: dict = {}
    exec(compile(source, "<test>", "exec"), namespace)
    value = namespace[result]
    return value.numpy() if hasattr(value, "numpy") else value


@pytest.mark.parametrize(("setup", "loop", "result"), RUNS)
def test_the_suggested_calls_compute_what_the_loop_computed(setup, loop, result):
    if "torch" in setup:
        pytest.importorskip("torch")
    source = setup + loop
    findings = lint_source(source, "example.py", [ScatterIndexLoop])
    assert len(findings) == 1, findings
    suggested = re.search(r"; use `(.*)`$", findings[0].message).group(1)
    rewritten = setup + "\n".join(part for part in suggested.split("; ")) + "\n"
    np.testing.assert_allclose(_run(rewritten, result), _run(source, result))


def test_no_loop_is_both_a_scatter_and_an_elementwise_loop():
    """PFL101 owns a loop that writes only at the loop index (a gather included); PFL117 one
    that adds at gathered indices. Over both rules' examples, no loop is reported by both."""
    sources = [
        example_code(code) if isinstance(code, str) else code.code
        for rule in (ElementwiseIndexLoop, ScatterIndexLoop)
        for code in (*rule.VALID, *rule.INVALID)
    ]
    sources += [setup + loop for setup, loop, _ in LOOPS]
    for source in sources:
        scatter = {finding.line for finding in lint_source(source, "example.py", [ScatterIndexLoop])}
        elementwise = {finding.line for finding in lint_source(source, "example.py", [ElementwiseIndexLoop])}
        assert not scatter & elementwise, source
