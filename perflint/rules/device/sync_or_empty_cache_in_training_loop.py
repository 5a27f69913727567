"""PFL205: ``torch.cuda.synchronize()`` or ``torch.cuda.empty_cache()`` on every training step."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.host_reads import times_with_device_events
from perflint.engine.rule import FIX_SAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class SyncOrEmptyCacheInTrainingLoop(Rule):
    """A device-wide barrier in the innermost loop that calls backward and steps an optimizer."""

    code = "PFL205"
    name = "sync-or-empty-cache-in-training-loop"
    family = FAMILY
    summary = "`torch.cuda.synchronize()` or `torch.cuda.empty_cache()` on every training step"
    message = "`{call}` waits for the device to finish all its work on every training step; {fix}"
    fix_title = "Remove it from the training loop (time with CUDA events; let the caching allocator keep its memory)"
    fix_safety = FIX_SAFE
    # Opt-in: none of its 2 findings worth fixing on code it was not tuned on
    # (benchmarks/results/precision/round5/track_record.md; its known limitations say why).
    default_enabled = False
    required_text = ("synchronize", "empty_cache")
    reported_at = "the call"

    what_it_does = (
        "Flags `torch.cuda.synchronize()`, `torch.cuda.empty_cache()` and their `torch.xpu`, "
        "`torch.mps` and `torch.accelerator` equivalents inside a training-step loop: the innermost "
        "loop whose iteration calls `.backward()` and steps an optimizer (also through functions of "
        "the same file)."
    )
    known_limitations = (
        "Left alone: the epoch loop around it (once per epoch), code before or after the loop, "
        "code under a debugging or profiling flag (`if profiling_enabled:`), and loops without "
        "backward and step, such as a benchmark's timing loop, where synchronising is what makes "
        "the timing right; likewise a `synchronize()` in a step timed with CUDA events "
        "(`start.elapsed_time(end)` of `torch.cuda.Event(enable_timing=True)` pairs), which "
        "torch refuses to read before the end event has completed."
        " Opt-in since round 11 of the precision review: neither of its 2 findings on code it had "
        "not been tuned on was worth fixing. torchrl's expert iteration empties the cache after each "
        "micro-batch of a billion-parameter model's fine-tuning, small beside its forward and "
        "backward and done on purpose to share the device; a `synchronize()` under a profiling flag "
        "was wrong, and is left alone since. "
        "At 90% precision a record of 0 worth fixing in 2 reads happens 1 time in 100, below round 11's 5% criterion (`python benchmarks/track_record.py decide benchmarks/results/precision/round5/track_verdicts.csv`). Worth it in the fast step loop of a small model."
    )
    why_bad = (
        "`synchronize()` blocks the host until every kernel queued on the device has finished, "
        "so the host stops running ahead and the GPU idles while the next batch is prepared. "
        "`empty_cache()` hands the caching allocator's free blocks back to the driver; "
        "freeing device memory waits for the device, and the next step has to allocate them "
        "again with `cudaMalloc`, which is slow and synchronising too. Neither frees memory the "
        "step still uses: an out-of-memory error is not cured by it, only delayed."
    )
    example = """\
import torch

for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    torch.cuda.empty_cache()
"""
    use_instead = """\
import torch

for x, y in loader:
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
"""
    fix_safety_note = (
        "Removing either call changes no result. Code that times steps with `time.time()` "
        "needs a synchronisation around what it times: use `torch.cuda.Event(enable_timing="
        "True)` pairs, or synchronise only on the steps that are timed (every N steps)."
    )

    VALID = (
        # After the loop, in the epoch loop, and on a periodic step.
        """
        import torch
        def train(model, loader, optimizer, epochs):
            for epoch in range(epochs):
                for step, batch in enumerate(loader):
                    model(batch).backward()
                    optimizer.step()
                    if step % 1000 == 0:
                        torch.cuda.empty_cache()
                torch.cuda.empty_cache()
            torch.cuda.synchronize()
        """,
        # A timing loop: no backward, no optimizer step.
        """
        import time
        import torch
        def benchmark(model, x):
            for _ in range(100):
                start = time.perf_counter()
                model(x)
                torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
        """,
        # Timed with CUDA events (theseus's tactile pose trainer): `elapsed_time` needs the end
        # event completed, which the synchronisation waits for.
        """
        import torch
        def train(model, loader, optimizer):
            for batch in loader:
                start_event = torch.cuda.Event(enable_timing=True)
                end_event = torch.cuda.Event(enable_timing=True)
                start_event.record()
                loss = model(batch)
                end_event.record()
                torch.cuda.synchronize()
                forward_time = start_event.elapsed_time(end_event)
                loss.backward()
                optimizer.step()
        """,
        # Under a profiling flag: the synchronisation is what makes the profile's timings right.
        """
        import torch
        def train(model, loader, optimizer, profiling_enabled):
            for batch in loader:
                model(batch).backward()
                optimizer.step()
                if profiling_enabled:
                    torch.cuda.synchronize()
        """,
        # Not torch's functions.
        """
        import torch
        def train(model, loader, optimizer, stream):
            for batch in loader:
                model(batch).backward()
                optimizer.step()
                stream.synchronize()
                cache.empty_cache()
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def train(model, loader, optimizer, criterion):
                for x, y in loader:
                    loss = criterion(model(x), y)
                    loss.backward()
                    optimizer.step()
                    torch.cuda.empty_cache()
            """,
            line=7,
            column=9,
        ),
        Invalid(
            """
            import time
            import torch
            def train(model, loader, optimizer):
                for batch in loader:
                    start = time.time()
                    model(batch).backward()
                    optimizer.step()
                    torch.cuda.synchronize()
                    print(time.time() - start)
            """,
            line=8,
        ),
        Invalid(
            """
            from torch.cuda import empty_cache
            class Trainer:
                def train(self, loader):
                    for batch in loader:
                        self.training_step(batch)
                        empty_cache()
                def training_step(self, batch):
                    self.model(batch).backward()
                    self.optimizer.step()
            """,
            line=6,
        ),
        Invalid(
            """
            import torch
            def fit(model, loader, opt, device):
                for batch in loader:
                    opt.zero_grad()
                    model(batch).backward()
                    opt.step()
                    if device.type == "mps":
                        torch.mps.empty_cache()
            """,
            line=8,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.context.imports.qualified_name(node.func)
        record = catalog.lookup(qualified)
        if record is None or not record.has(catalog.Flag.DRAINS_DEVICE):
            return
        frame = self.context.training_step_loop()
        loops = self.context.loops
        if frame is None or loops.runs_periodically(frame) or loops.under_debug_flag():
            return
        if record.function_name == "synchronize" and times_with_device_events(frame.node, self.context):
            # The step's CUDA-event timing needs the device finished before `elapsed_time`.
            return
        fix = (
            "time with `torch.cuda.Event(enable_timing=True)` pairs or every N steps instead"
            if record.function_name == "synchronize"
            else "remove it: the caching allocator reuses the memory on the next step"
        )
        self.report(node, self.message.format(call=f"{record.name}()", fix=fix))


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    weights = torch.rand(size, size, generator=generator).to(device)
    batches = torch.rand(16, 64, size, generator=generator).to(device)
    return weights, batches


def _step(weights, batch):
    return (batch @ weights).relu().sum()


def _pattern(weights, batches):
    import torch

    total = torch.zeros((), device=weights.device)
    for batch in batches:
        total += _step(weights, batch)
        if weights.is_cuda:
            torch.cuda.synchronize()
            torch.cuda.empty_cache()
    return round(total.item(), 0)


def _fix(weights, batches):
    import torch

    total = torch.zeros((), device=weights.device)
    for batch in batches:
        total += _step(weights, batch)
    return round(total.item(), 0)


SyncOrEmptyCacheInTrainingLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(128, 1024, 4096),
    check_size=8,
    size_unit="features of 16 steps of a (64, n) @ (n, n) matmul",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "16 steps of a (64, n) @ (n, n) float32 matmul: `torch.cuda.synchronize()` and "
        "`torch.cuda.empty_cache()` after every step against neither; CUDA only."
    ),
)
