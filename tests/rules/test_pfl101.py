"""PFL101 beyond its own examples: the suggested rewrite computes what the loop computed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from perflint.engine import lint_source
from perflint.rules.vectorisation.elementwise_index_loop import ElementwiseIndexLoop

NUMPY_SETUP = (
    "import numpy as np\n"
    "np.random.seed(0)\n"
    "a = np.random.rand(50) + 0.1\n"
    "b = np.random.randn(50)\n"
    "m = np.random.randn(50, 4)\n"
    "out = np.zeros(50)\n"
    "rows = np.ones((50, 4))\n"
    "scale = 3.0\n"
)
TORCH_SETUP = (
    "import torch\n"
    "import torch.nn.functional as F\n"
    "generator = torch.Generator().manual_seed(0)\n"
    "a = torch.rand(50, generator=generator) + 0.1\n"
    "b = torch.randn(50, generator=generator)\n"
    "out = torch.zeros(50)\n"
)

EQUIVALENT_LOOPS = [
    pytest.param(NUMPY_SETUP, "for i in range(len(a)):\n    out[i] = np.sqrt(a[i]) * 2 + b[i]\n", id="numpy-assign"),
    pytest.param(NUMPY_SETUP, "for i in range(a.size):\n    out[i] += np.exp(-a[i]) / scale\n", id="numpy-augmented"),
    pytest.param(
        NUMPY_SETUP,
        "for i in range(0, a.shape[0]):\n    out[i] = np.where(b[i] > 0, a[i], -a[i])\n    a[i] = out[i] ** 2\n",
        id="numpy-two-statements-reading-a-written-element",
    ),
    pytest.param(NUMPY_SETUP, "for i in range(len(m)):\n    rows[i] = np.maximum(m[i], 0) * scale\n", id="numpy-rows"),
    pytest.param(NUMPY_SETUP, "for i in range(len(a)): a[i] = abs(b[i]) - a[i]\n", id="numpy-one-line-in-place"),
    pytest.param(
        TORCH_SETUP, "for i in range(a.size(0)):\n    out[i] = torch.sigmoid(a[i]) * F.relu(b[i])\n", id="torch"
    ),
    pytest.param(
        TORCH_SETUP, "for i in range(len(a)):\n    out[i] = (a[i] >= 0.5) | (b[i] < 0)\n", id="torch-comparisons"
    ),
]


def suggestion(source: str) -> str:
    findings = lint_source(source, "example.py", [ElementwiseIndexLoop])
    assert [finding.code for finding in findings] == ["PFL101"]
    return re.search(r"; use `(.*)`$", findings[0].message).group(1)


def arrays_after(code: str) -> dict[str, np.ndarray]:
    namespace: dict = {}
    exec(compile(code, "example.py", "exec"), namespace)
    return {
        name: np.asarray(value) for name, value in namespace.items() if type(value).__name__ in ("ndarray", "Tensor")
    }


@pytest.mark.parametrize(("setup", "loop"), EQUIVALENT_LOOPS)
def test_suggested_rewrite_leaves_every_array_as_the_loop_did(setup, loop):
    if "torch" in setup:
        pytest.importorskip("torch")
    by_loop = arrays_after(setup + loop)
    by_rewrite = arrays_after(setup + suggestion(setup + loop) + "\n")
    assert by_loop.keys() == by_rewrite.keys()
    for name, expected in by_loop.items():
        np.testing.assert_allclose(by_rewrite[name], expected, rtol=1e-6, err_msg=name)


def test_message_quotes_the_loop_and_its_whole_array_form():
    [finding] = lint_source(ElementwiseIndexLoop.example, "example.py", [ElementwiseIndexLoop])
    assert finding.message == (
        "Loop applies `out[i] = np.sqrt(a[i]) * 2 + b[i]` element by element; use `out[:] = np.sqrt(a) * 2 + b`"
    )
    assert (finding.line, finding.column) == (5, 5)
