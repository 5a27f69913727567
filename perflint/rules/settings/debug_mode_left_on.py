"""PFL504: autograd's anomaly detection or NVTX ranges switched on outside tests."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY


class DebugModeLeftOn(Rule):
    """``torch.autograd.set_detect_anomaly(True)``, ``detect_anomaly()``, ``profiler.emit_nvtx()``."""

    code = "PFL504"
    name = "debug-mode-left-on"
    family = FAMILY
    summary = "Autograd debugging aid (anomaly detection, NVTX ranges) left on outside tests"
    message = "`{call}` slows down every autograd operation while it is on; remove it once the bug is found"
    fix_title = "Remove it (or turn it on only behind a debug flag)"
    fix_safety = FIX_SAFE
    required_text = ("anomaly", "emit_nvtx")
    reported_at = "the call"

    what_it_does = (
        "Flags `torch.autograd.set_detect_anomaly(...)` unless it passes a literal `False`, "
        "`torch.autograd.detect_anomaly()` (as a context manager, decorator or call), and "
        "`torch.autograd.profiler.emit_nvtx()` unless it passes `enabled=False`, however imported, in"
        " code that is not a test: not in a file named `test_*.py`, `*_test.py` or `conftest.py`, not"
        " under a `test`, `tests` or `testing` directory, and not in a `test*` function or `Test*` "
        "class."
    )
    known_limitations = (
        "A non-literal switch (`set_detect_anomaly(args.debug)`) is left alone: it is a debug flag. "
        'With the project index, the `if __name__ == "__main__":` block of a module another '
        "module of the project imports is test code too: a library module's smoke test, run by "
        "hand (round 10's held-out pyhealth `medlink/model.py`); a script's block is the program, "
        "and is reported."
    )
    why_bad = (
        "Anomaly detection records the Python stack trace of every operation in the forward "
        "pass and checks every gradient of the backward pass for NaN, which makes training "
        "several times slower. `emit_nvtx` wraps every operation in an NVTX range for the "
        "Nsight profilers, which costs on every operation whether or not a profiler is "
        "attached. Both are meant for a debugging session, and are easily left on after it."
    )
    example = """\
import torch

torch.autograd.set_detect_anomaly(True)
for x, y in loader:
    loss_fn(model(x), y).backward()
"""
    use_instead = """\
import torch

torch.autograd.set_detect_anomaly(args.debug)
for x, y in loader:
    loss_fn(model(x), y).backward()
"""
    fix_safety_note = (
        "Safe: both aids only observe (anomaly detection also raises on the first NaN "
        "gradient, so a run that relied on that stop keeps going after the fix)."
    )

    VALID = (
        # Turned off, or behind a flag.
        """
        import torch
        torch.autograd.set_detect_anomaly(False)
        torch.autograd.set_detect_anomaly(mode=args.detect_anomaly)
        with torch.autograd.profiler.emit_nvtx(enabled=False):
            train()
        """,
        # In a test.
        """
        import torch
        def test_gradients_are_finite():
            with torch.autograd.detect_anomaly():
                model(x).sum().backward()
        class TestTraining:
            def check(self):
                torch.autograd.set_detect_anomaly(True)
        """,
        # Not torch's.
        """
        from debugtools import detect_anomaly
        with detect_anomaly():
            run()
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            torch.autograd.set_detect_anomaly(True)
            """,
            line=2,
            column=1,
        ),
        Invalid(
            """
            from torch import autograd
            def train(model, loader):
                for x in loader:
                    with autograd.detect_anomaly():
                        model(x).sum().backward()
            """,
            line=4,
        ),
        Invalid(
            """
            import torch.autograd.profiler as profiler
            with profiler.emit_nvtx():
                train()
            """,
            line=2,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        record = catalog.lookup(self.context.imports.qualified_name(node.func))
        if record is None or not record.has(catalog.Flag.DEBUG_MODE):
            return
        switch = catalog.DEBUG_MODE_SWITCHES[record.name]
        if switch is not None:
            arguments = catalog.bind(node, record)
            if arguments is None or not arguments.is_known(switch):
                return
            value = arguments.argument(switch)
            # ``emit_nvtx()`` is on by default; ``set_detect_anomaly`` requires its ``mode``.
            if value is not None and literal_value(value) is not True:
                return
        if self.context.functions.in_test_code():
            return
        self.report(node, self.message.format(call=quote(node)))


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    torch.manual_seed(0)
    layers = []
    for _ in range(8):
        layers += [torch.nn.Linear(size, size), torch.nn.GELU()]
    model = torch.nn.Sequential(*layers).to(device)
    inputs = torch.randn(32, size, device=device)
    return model, inputs


def _train_step(model, inputs):
    model.zero_grad()
    model(inputs).square().mean().backward()
    return [parameter.grad for parameter in model.parameters()]


def _pattern(model, inputs):
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # detect_anomaly warns on every entry that it is slow
        with torch.autograd.detect_anomaly():
            return _train_step(model, inputs)


def _fix(model, inputs):
    return _train_step(model, inputs)


DebugModeLeftOn.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32, 128, 512),
    check_size=8,
    size_unit="features (eight linear layers with GELU, batch of 32, forward and backward)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "A forward and backward pass through eight n x n linear layers with GELU (batch of 32): "
        "inside `torch.autograd.detect_anomaly()` against without it."
    ),
)
