"""PFL201 beyond its examples: the message, the moves it flags, and its benchmark's devices.

That pattern and fix agree is tests/rules/test_benchmarks.py's, for every rule.
"""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.device.create_then_move import CreateThenMove
from tests.rules.execution import assert_same_tensor, both


def test_message_names_the_factory_and_the_move():
    source = (
        "import torch as T\ndef forward(self, dev_device):\n"
        "    mask = T.ones(4).cuda(0)\n    idx = T.arange(4).to(device=dev_device)\n"
    )
    messages = [finding.message for finding in lint_source(source, "example.py", [CreateThenMove])]
    assert messages == [
        "`torch.ones` allocates the tensor on the CPU, then `.cuda()` copies it to the device; "
        "pass `device=0` to `torch.ones`; runs per call: in `forward`",
        "`torch.arange` allocates the tensor on the CPU, then `.to()` copies it to the device; "
        "pass `device=dev_device` to `torch.arange`; runs per call: in `forward`",
    ]


def test_message_names_the_like_factory_when_shape_and_device_come_from_one_tensor():
    source = (
        "import torch\ndef forward(self, x: torch.Tensor, cov):\n"
        "    a = torch.zeros(x.shape).to(x.device)\n"
        "    b = torch.full(x.size(), 0.5).to(x)\n"
        "    c = torch.eye(3).to(cov.device)\n"
        "    d = torch.ones(3).to(x)\n"
        "    e = torch.zeros(x.shape).cuda()\n"
    )
    findings = lint_source(source, "example.py", [CreateThenMove])
    assert {finding.evidence for finding in findings} == {"runs per call: in `forward`"}
    fixes = [finding.message.split("; ")[1] for finding in findings]
    assert fixes == [
        "use `torch.zeros_like(x)` (it takes that tensor's dtype too)",
        "use `torch.full_like(x, 0.5)`",
        "pass `device=cov.device` to `torch.eye`",
        "pass `device=x.device, dtype=x.dtype` to `torch.ones`",
        'pass `device="cuda"` to `torch.zeros`',
    ]


def test_message_of_a_random_factory_says_the_numbers_change():
    source = "import torch\ndef forward(self, x, device):\n    return torch.randn(4).to(device) + torch.zeros(4).to(device)\n"
    messages = [finding.message for finding in lint_source(source, "example.py", [CreateThenMove])]
    assert ["seeded run changes" in message for message in messages] == [True, False]


@pytest.mark.parametrize(
    "move",
    [
        ".to('cpu')",
        ".to(torch.device('cpu'))",
        ".to(torch.float16)",
        ".to(dtype)",
        ".to(device, copy=True)",
        ".to(device, torch.float16, False, True)",
        ".to(None)",
        ".cuda(memory_format=torch.channels_last)",
    ],
)
def test_moves_that_are_not_to_an_accelerator_or_have_no_factory_equivalent(move):
    source = f"import torch\ndef forward(self, device, dtype):\n    x = torch.zeros(2, 3){move}\n"
    assert lint_source(source, "example.py", [CreateThenMove]) == []


@pytest.mark.parametrize("move", [".to(device, torch.float16)", ".to('xpu', non_blocking=True)", ".cuda(device=rank)"])
def test_moves_whose_fix_carries_over_are_flagged(move):
    source = f"import torch\ndef forward(self, device, rank):\n    x = torch.ones(2){move}\n"
    findings = lint_source(source, "example.py", [CreateThenMove])
    assert [finding.code for finding in findings] == ["PFL201"]


def test_benchmark_is_declared_for_accelerators_only():
    assert CreateThenMove.benchmark.devices == ("cuda",)
    assert CreateThenMove.benchmark.backend == "torch"


# PFL201: torch.zeros(...).to(device) -> torch.zeros(..., device=device) -------------------

CREATED_THEN_MOVED = """
import torch

def step(x: torch.Tensor, device, dtype):
    for _ in range(1):
        zeros = torch.zeros(2, 3).to(device)
        ones = torch.ones(4, dtype=torch.bool).to(device=device, dtype=dtype)
        eye = torch.eye(3, dtype=torch.int64).to(x)
        empty = torch.empty(2, 5).to(device, non_blocking=True)
    return zeros, ones, eye, empty
"""


@pytest.mark.parametrize("dtype_name", ["float16", "int8", "bool", "complex64"])
def test_create_then_move_fix_makes_the_same_tensors_in_any_dtype(dtype_name, torch):
    dtype = getattr(torch, dtype_name)
    original, fix = both(CREATED_THEN_MOVED, CreateThenMove, changes=4)
    x = torch.arange(3.0, dtype=torch.float64)
    before = original["step"](x, "cpu", dtype)
    after = fix["step"](x, "cpu", dtype)
    for made_before, made_after in zip(before[:3], after[:3]):
        assert_same_tensor(made_before, made_after)
    # `empty` is uninitialised either way: the same shape, dtype and device.
    assert (before[3].shape, before[3].dtype, before[3].device) == (after[3].shape, after[3].dtype, after[3].device)


RANDOM_THEN_MOVED = """
import torch

def noise(batch, device):
    for _ in range(1):
        return batch + torch.randn(batch.shape).to(device)
"""


def test_create_then_move_fix_of_a_random_factory_draws_the_same_on_the_cpu(torch):
    original, fix = both(RANDOM_THEN_MOVED, CreateThenMove)
    batch = torch.ones(3, 4)
    torch.manual_seed(0)
    before = original["noise"](batch, "cpu")
    torch.manual_seed(0)
    after = fix["noise"](batch, "cpu")
    assert_same_tensor(before, after)


def test_create_then_move_fix_unsafe_a_random_factory_on_a_device_leaves_the_cpu_generator_alone(torch):
    # On another device the fixed factory draws from that device's generator: the CPU's does
    # not advance, so every later CPU draw of a seeded run changes.
    original, fix = both(RANDOM_THEN_MOVED, CreateThenMove)
    batch = torch.ones(3, 4, device="meta")
    later = []
    for namespace in (original, fix):
        torch.manual_seed(0)
        namespace["noise"](batch, "meta")
        later.append(torch.rand(3))
    assert not torch.equal(later[0], later[1])
    torch.manual_seed(0)
    assert torch.equal(later[1], torch.rand(3))


def test_a_method_called_to_initialise_an_attribute_the_first_time_is_cold_with_the_project_index():
    # Round 12's held-out alibi_detect: `_cmmd` runs per permutation, `_pick_lam` only while
    # `self.lams` is unset, once per detector.
    from perflint.engine.project import ProjectIndex, summarise_source

    source = (
        "import torch\n"
        "class Detector:\n"
        "    def score(self, K, iters):\n"
        "        return [self._cmmd(K, b) for b in iters]\n"
        "    def _cmmd(self, K, b):\n"
        "        if self.lams is None:\n"
        "            self.lams = self._pick_lam(K)\n"
        "        return K * self.lams\n"
        "    def _pick_lam(self, K):\n"
        "        return K + torch.eye(3).to(K.device)\n"
    )
    every_call = source.replace("        if self.lams is None:\n            self", "        self")

    def evidence(text: str) -> list[str | None]:
        view = ProjectIndex([summarise_source(text, "pkg.detector")]).view("pkg.detector")
        return [finding.evidence for finding in lint_source(text, "detector.py", [CreateThenMove], project=view)]

    assert evidence(source) == []
    assert evidence(every_call) == [
        "runs per call of `_pick_lam`, called from `_cmmd`, called in a loop over `iters` in `score`"
    ]
