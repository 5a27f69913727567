"""PFL203: reading a tensor's value on the host in every step of a training loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.control_flow import decides_a_branch, decides_an_exit, in_an_assertion_message
from perflint.engine.devices import allocated_on_host, function_reads_host_tensors, may_use_an_accelerator, on_host
from perflint.engine.host_reads import (
    READING_BUILTINS,
    accumulation_of,
    keeps_waiting_on_every_iteration,
    read_tensor,
    reads_a_host_batch,
)
from perflint.engine.loops import LoopFrame
from perflint.engine.quoting import quote
from perflint.engine.roles import Frequency
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import mention_count, nodes_in_scope, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

# Checks for NaN or infinite values: a guard of these needs the value, but not on every step.
_NON_FINITE_CHECKS = frozenset({"isnan", "isinf", "isfinite", "isneginf", "isposinf"})
_NAN_GUARD_MESSAGE = (
    "`{expr}` waits for the device on every {when} to check for non-finite values; "
    "check every N steps (`if step % N == 0`), or keep a flag on the device "
    "(`bad |= ~torch.isfinite({tensor})`) and read it every N steps"
)
# A value shown (printed, or formatted into text): a sum of it is not what the user shows.
_SHOWN_MESSAGE = (
    "`{expr}` waits for the device on every {when} to show one value; show it every N "
    "{whens} (`if {counter} % N == 0:`) or once after the loop"
)
# A value read in a repeating loop that is no training step (a solver's iteration, a decoding
# step): nothing to accumulate, the value is wanted less often than the loop runs.
_HOT_LOOP_MESSAGE = (
    "`{expr}` waits for the device on every iteration; keep `{tensor}` on the device and read it "
    "once after the loop, or every N iterations"
)
# A part of a tensor the loop does not change, copied per iteration (one molecule's atoms).
_PART_MESSAGE = (
    "`{expr}` copies one part of `{whole}` to the host on every iteration (a transfer and a "
    "synchronisation each); copy `{whole}` once before the loop (`{whole}.cpu()`) and index the copy"
)
# A read value added into a running total (through a name, or a meter's `update`): the total
# can be kept on the device.
_TOTAL_MESSAGE = (
    "`{expr}` waits for the device on every optimisation step to add it into a total; accumulate "
    "on the device (`total += {tensor}.detach()`) and read the total every N steps"
)
# A copy kept under a condition (the best iterate so far): a sum of it means nothing.
_SNAPSHOT_MESSAGE = (
    "`{expr}` waits for the device on every {when} that keeps a copy; keep it on the "
    "device (`{target} = {tensor}.detach().clone()`) and copy it to the host once, after the loop"
)


class SyncInTrainingLoop(Rule):
    """``.item()``, ``.cpu()``, ``.tolist()``, ``float(loss)``, ``print(loss)`` in every step."""

    code = "PFL203"
    name = "sync-in-training-loop"
    family = FAMILY
    summary = "Host reads a tensor's value on every training step, waiting for the device"
    message = (
        "`{expr}` waits for the device on every optimisation step; keep `{tensor}` on the device "
        "and read it every N steps (`if step % N == 0:`) or once after the loop"
    )
    fix_title = "Keep the value on the device and read it every N steps, or accumulate it there"
    fix_safety = FIX_UNSAFE
    required_text = ("backward", "torch")
    paid_per_execution = True
    # Opt-in: on the held-out review set none of its 20 findings was worth fixing and 11 were
    # wrong (see what_it_does and benchmarks/results/precision/heldout.md).
    default_enabled = False
    reported_at = "the `.item()`, `.cpu()`, `.tolist()`, `float(...)`, `print` argument or f-string field"

    what_it_does = (
        "Inside a training-step loop (the innermost loop whose iteration calls `.backward()` and "
        "steps an optimizer, also through functions of the same file), flags what makes the host wait"
        " for the device's result: `.item()`, `.cpu()` and `.tolist()` (once per chain: "
        "`x.cpu().tolist()` is one finding), and `float(t)`, `int(t)`, `bool(t)`, `print(t)` or an "
        "f-string field `{t}` of a tensor the loop binds (a known tensor, or the loss `.backward()` "
        "is called on). A read added to a running total or appended to a list (`total += "
        "loss.item()`, `losses.append(float(loss))`) is PFL215's, in any hot loop, and left to it. "
        "Outside training steps, on every iteration of any loop the engine sees repeat "
        "(`Frequency.HOT`: a solver's iterations, a decoding loop) in a file that names a device, "
        "it flags one number read of a known torch tensor (or a method chain on one) that the loop "
        "computes anew (`r.norm().item()`, `float(residual)`, `print(residual)`, an f-string field), "
        "and a copy of one part of a tensor the loop does not change, picked by bounds that change "
        "(`positions[start : start + n].cpu()`: copy `positions` once before the loop)."
    )
    known_limitations = (
        "Left alone: code under an `if` whose test uses `%` (periodic logging, `if step % 100 == 0`),"
        " code after the loop, the enclosing epoch loop (once per epoch), a bare `.numpy()` (it "
        "raises on a device tensor, so its tensor is on the host already), receivers known to be "
        "NumPy arrays or pandas objects, loops that never call backward and step (evaluation, "
        "timing), a value that decides whether the loop ends (read in the test of an `if` that "
        "breaks, continues or returns, or of the `while` loop, or assigned to a name such a test "
        "reads, directly or through a counter: a convergence or early-stopping check), a read in a "
        "branch that leaves the loop (`raise`, `return`, `break`: it runs once) or under a debugging "
        "or profiling flag (`if args.debug:`, `if verbose > 1:`), a loop that waits on every "
        "iteration anyway at a read it needs (a tensor's truth tested, `if torch.isclose(u, "
        "last_u): break`; `host_reads.keeps_waiting_on_every_iteration`), and tensors made on the "
        "host (a torch factory or `torch.tensor(data)` without `device=`, a batch a known "
        "`DataLoader` yields that the loop never moves to a device: round 10's held-out cornac "
        "read the ids of a loader over `range`), a value the host "
        "decides on every step (read in the test of any `if` of the loop, directly or through "
        "names computed from it: keeping the best epoch so far), and CPU-only code: a file that "
        "names no device, or a class that keeps a device attribute but never reads it nor moves "
        "anything to an accelerator (round 9's held-out pygod `ONE`, 5 wrong findings). A NaN guard "
        "is advised to check every N steps, a printed value to be printed every N steps, a copy "
        "kept under a condition (the best iterate) to stay on the device until the loop ends, a "
        "value added into a running total (through a name, `value = loss.item()` … `total += "
        "value`, or a meter's `update`) to be accumulated on the device, and any other read (a "
        "score overwritten every epoch, a slice stored into a host buffer) to stay on the device "
        "and be read every N steps or once after the loop: round 9's held-out review found the "
        "accumulation advice wrong for those (7 findings). The loop is called "
        "an optimisation step: calling `.backward()` and stepping an optimizer shows no model. "
        "Opt-in: on code nobody tuned it on (the held-out review set of this round, "
        "`benchmarks/results/precision/heldout.md`) none of its 20 findings was worth fixing and 11 "
        "were wrong: models that never leave the CPU (nothing to wait for), values the host needs "
        "every step (labels and predictions for a metric, inputs of `np.percentile`), and no-grad "
        "loops inside a training function. Until the engine knows where a model lives, select it "
        "where training runs on an accelerator.\n\n"
        "Outside training steps it leaves alone: copies of whole tensors (`model(x).cpu()` per batch is "
        "an inference loop's product), rows a loop target picks (`t[i].cpu()`, PFL213's), a read in "
        "an `assert`'s message (evaluated once, when it fails), an outer loop whose body holds another "
        "loop (a read once per epoch or per inner pass), tensors of unknown type, chains on a host "
        "tensor (`torch.empty(1).uniform_(a, b).item()`), and loops that wait anyway at a torch "
        "function (`torch.cuda.synchronize()`, `torch.allclose`). Not reached: reads in a method "
        "that a loop of another function calls per iteration (sigpy's `_update`, a closure handed to "
        "`optimizer.step`), arrays of a module chosen at run time (`xp = device.xp`), values a "
        "helper returns, and a read assigned to a name then added to a total. It stays opt-in: on "
        "round 4's development set and round 3's held-out set 2 of its 4 findings were worth fixing "
        "and none wrong, under the 90% bar: the other 2 feed a progress line printed on every batch "
        "(`benchmarks/results/precision/round4/dev_pfl203_213.md`)."
    )
    why_bad = (
        "CUDA runs asynchronously: the host queues kernels and runs ahead, so the GPU always "
        "has the next step's work waiting. Reading a value on the host (`loss.item()`, "
        "`float(loss)`, printing it, `preds.cpu()`) blocks until every kernel queued before it "
        "has finished, then copies the result across the bus. Done on every step it empties "
        "the queue each time: the GPU idles while the host prepares the next batch, and the "
        "shorter the step, the larger the share of time lost."
    )
    example = """\
for step, (x, y) in enumerate(loader):
    x, y = x.to(device), y.to(device)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    writer.add_scalar("loss", loss.item(), step)
"""
    use_instead = """\
running_loss = torch.zeros((), device=device)
for step, (x, y) in enumerate(loader):
    x, y = x.to(device), y.to(device)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    running_loss += loss.detach()
    if step % 100 == 99:
        writer.add_scalar("loss", running_loss.item() / 100, step)
        running_loss.zero_()
"""
    fix_safety_note = (
        "Accumulating on the device gives the same total up to float rounding (a float32 "
        "device sum against Python's float64 one). Code that needs the value on every step "
        "(early stopping on a NaN loss, a scheduler fed the loss) must keep reading it, or "
        "check every N steps instead, which changes when it reacts."
    )

    VALID = (
        # An item of a host tensor, taken by the loop (avalanche's replay memory): `torch.randperm`
        # without `device=` draws on the host, so `int(idx)` waits for nothing.
        """
        import torch
        class Replay:
            def _after_training_exp(self, new_x, h):
                new_x = new_x.to(self.device)
                replaced = torch.randperm(self.memory.size(0))[:h]
                for j, idx in enumerate(replaced):
                    idx = int(idx)
                    self.memory[idx] = new_x[j]
        """,
        # Offsets computed from sizes drawn on the host (theseus's motion blur): `torch.randint`
        # without `device=`, and arithmetic of it with Python numbers, stay on the host.
        """
        import torch
        class Augment:
            def motion_blur(self, inp, kmin, kmax):
                B = inp.shape[0]
                half_sizes = torch.randint(size=(B,), low=kmin, high=kmax)
                kernel_sizes = half_sizes * 2 + 1
                kernel_size = int(kernel_sizes.max().item())
                kernel = torch.zeros((B, kernel_size, kernel_size)).to(inp.device)
                for i, ks in enumerate(kernel_sizes):
                    off = torch.div((kernel_size - ks), 2, rounding_mode="floor")
                    kernel[i, 0, int(off) :] = 1.0
                return kernel
        """,
        # Periodic logging, after the loop, and in the epoch loop around it.
        """
        def train(model, loader, optimizer, epochs):
            for epoch in range(epochs):
                for step, (x, y) in enumerate(loader):
                    loss = model(x, y)
                    loss.backward()
                    optimizer.step()
                    if step % 100 == 0:
                        print(f"{step}: {loss.item():.3f}")
                print(epoch, loss.item())
            return float(loss)
        """,
        # Not a training step: no backward, or no optimizer step.
        """
        import torch
        def evaluate(model, loader):
            total = 0.0
            for x, y in loader:
                total += model(x, y).item()
            return total
        def timing(model, x):
            for _ in range(10):
                model(x).sum().backward()
                print(x.grad.cpu())
        """,
        # NumPy arrays and plain values, and a bare `.numpy()`, whose tensor is on the host.
        """
        import numpy as np
        def train(model, loader, optimizer, weights: np.ndarray):
            for step, (x, y) in enumerate(loader):
                loss = model(x, y)
                loss.backward()
                optimizer.step()
                scale = weights.mean().item()
                lr = float(optimizer.param_groups[0]["lr"])
                print(step, lr)
                log = x.numpy()
        """,
        # A tensor made on the host: reading it waits for no device.
        """
        import torch
        def fit(model, loader, optimizer, init):
            temperature = torch.tensor(init, requires_grad=True)
            for x, y in loader:
                loss = model(x, y) / temperature
                loss.backward()
                optimizer.step()
                print(temperature.item())
        """,
        # A batch of a `DataLoader` over `range` that the step never moves (cornac's LETTER,
        # where `torch` is a parameter holding the module): host indices into a list of rows.
        """
        def fit(self, torch, rows, device):
            loader = torch.utils.data.DataLoader(range(len(rows)), batch_size=64, shuffle=True)
            for indices in loader:
                batch = [rows[index] for index in indices.tolist()]
                loss = self.model(torch.as_tensor(batch, device=device))
                loss.backward()
                self.optimizer.step()
        """,
        # A tensor the loop does not bind is not the step's result.
        """
        def train(model, loader, optimizer, steps):
            for x, y in loader:
                loss = model(x, y)
                loss.backward()
                optimizer.step()
                print(f"step {steps}")
                if int(steps) > 10:
                    break
        """,
        # A convergence check needs the value on every step: it decides whether to stop.
        """
        def fit(model, loader, optimizer, tol):
            prev = float("inf")
            for x, y in loader:
                loss = model(x, y)
                loss.backward()
                optimizer.step()
                if abs(prev - loss.item()) < tol:
                    break
                current = float(loss)
                if current > 1e6:
                    break
                prev = current
        """,
        # Under a debugging or profiling flag: off in the runs that matter.
        """
        def fit(model, loader, optimizer, args):
            for batch in loader:
                loss = model(batch)
                loss.backward()
                optimizer.step()
                if args.debug:
                    print(loss.item())
        """,
        # Read in a branch that leaves the loop: once, when training stops.
        """
        import torch
        def fit(model, loader, optimizer):
            for step, batch in enumerate(loader):
                loss = model(batch)
                if not torch.isfinite(loss):
                    raise RuntimeError(f"loss became {loss.item()} at step {step}")
                loss.backward()
                optimizer.step()
        """,
        # A numerical optimisation that waits on every iteration anyway, at a convergence test on
        # a tensor (escnn's Thomson problem): the snapshot of the best iterate saves no wait, and
        # a print under a verbosity level above the first is debugging output.
        """
        import torch
        def thomson(X, optim, verbose, device):
            last_U = torch.tensor(1.0, device=device)
            best_U = last_U
            for i in range(5000):
                optim.zero_grad()
                U = potential(X)
                if verbose > 1:
                    print(f"{i}: {U.item()}")
                if torch.isclose(U, last_U, atol=1e-16, rtol=0.0):
                    break
                last_U = U.detach()
                if last_U < best_U:
                    best_U = last_U
                    best_X = X.detach().cpu()
                U.backward()
                optim.step()
        """,
        # Early stopping on the loss itself (alibi_detect's GMM): `nll < min_loss - tol` tests a
        # tensor on every step after the first, since `min_loss is None` holds only until the
        # loop sets it, so the progress read beside it saves no wait.
        """
        def fit(model, loader, optimizer, tol, patience, verbose, device):
            min_loss = None
            for step, x in enumerate(loader):
                nll = model(x.to(device)).mean()
                optimizer.zero_grad()
                nll.backward()
                optimizer.step()
                if verbose:
                    print(nll.item())
                if min_loss is None or nll < min_loss - tol:
                    since = 0
                    min_loss = nll
                else:
                    since += 1
                if since > patience:
                    break
        """,
        # A running total or list of read values is PFL215's.
        """
        def train(model, loader, optimizer, criterion):
            running_loss = 0.0
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                running_loss += loss.item()
                history.append(float(loss))
        """,
        # A tensor made on the host (no `device=`) is read without waiting for a device.
        """
        import torch
        def fit(f, steps):
            w = torch.zeros(3, requires_grad=True)
            optimizer = torch.optim.SGD([w], lr=0.1)
            for _ in range(steps):
                loss = f(w)
                loss.backward()
                optimizer.step()
                trace.append(w.tolist())
        """,
        # A solver's loop in a file with no sign of an accelerator (`timestamps` names no device
        # type): torch keeps its tensors on the host.
        """
        import torch
        def solve(A, b, timestamps):
            x = torch.zeros_like(b)
            for _ in range(1000):
                r = b - A @ x
                x = x + 0.1 * r
                print(r.norm().item(), timestamps)
            return x
        """,
        # A solver loop (no training step) on code with no sign of an accelerator, reading a host
        # tensor, or breaking on the value it reads.
        """
        import torch
        def power_method(A, x, steps):
            for _ in range(steps):
                y = A @ x
                norm = torch.linalg.norm(y)
                x = y / norm.item()
            return x
        """,
        # Outside training steps: whole predictions collected batch by batch (the loop's
        # product), a host random draw, an outer loop over epochs around an inner one, and a
        # loop that waits at `torch.cuda.synchronize()` on every iteration anyway.
        """
        import torch
        def predict(model, loader, device):
            out = []
            for x in loader:
                out.append(model(x.to(device)).cpu())
            ratios = [torch.empty(1).uniform_(0.5, 2.0).item() for _ in range(8)]
            for _ in range(len(loader)):
                ratio = torch.empty(1).uniform_(0.5, 2.0).item()
            return out
        def fit(model, loader, epochs, device):
            for epoch in range(epochs):
                for x in loader:
                    model.update(x.to(device))
                accuracy = model.score(device)
                print(f"{epoch}: {accuracy.item():.3f}")
        def timed(model, x, steps, device):
            for _ in range(steps):
                y = model(x)
                norm = torch.linalg.norm(y)
                print(norm.item())
                torch.cuda.synchronize(device)
        """,
        """
        import torch
        def check(layer, points, device):
            for _ in range(10):
                rotated = layer(points)
                assert torch.allclose(rotated, points), (rotated - points).abs().max().item()
        """,
        """
        import torch
        def solve(A, b, steps, tol, device):
            x = torch.zeros_like(b, device=device)
            r = b - A @ x
            for _ in range(steps):
                rr = torch.dot(r, r)
                if rr.item() < tol:
                    break
                x = x + r
                r = b - A @ x
                host = r.cpu()
                print(host.tolist())
            return x
        """,
        # A class that keeps a device but never uses it (pygod's `ONE`): its model is built from
        # host tensors and trains on the host, whatever the file names.
        """
        import torch
        class Detector:
            def __init__(self, gpu):
                self.device = validate_device(gpu)
            def fit(self, x, epochs):
                self.model = Base(torch.randn(8, 4), torch.randn(4, 8))
                optimizer = torch.optim.Adam(self.model.parameters())
                for epoch in range(epochs):
                    loss, score = self.model(x)
                    self.score_ = score.detach().cpu()
                    loss.backward()
                    optimizer.step()
        """,
        # The host decides on the value every epoch (the best epoch so far is kept: pygod's
        # GADNR): reading it every N steps would change what is kept.
        """
        def fit(model, data, optimizer, epochs, device):
            min_loss = float("inf")
            for epoch in range(epochs):
                loss, per_node = model(data.to(device))
                loss.backward()
                optimizer.step()
                epoch_loss = loss.item() * data.num_nodes
                loss_value = epoch_loss / data.num_nodes
                if loss_value < min_loss:
                    min_loss = loss_value
                    best = per_node
        """,
    )
    INVALID = (
        Invalid(
            """
            def train(model, loader, optimizer, criterion, device):
                running_loss = 0.0
                for x, y in loader:
                    optimizer.zero_grad()
                    loss = criterion(model(x), y)
                    loss.backward()
                    optimizer.step()
                    writer.add_scalar("loss", loss.item(), step)
            """,
            line=8,
            column=35,
        ),
        Invalid(
            """
            def train(model, loader, optimizer, device):
                for x, y in loader:
                    out = model(x)
                    out.loss.backward()
                    optimizer.step()
                    preds.append(out.logits.argmax(-1).detach().cpu().tolist())
            """,
            line=6,
        ),
        Invalid(
            """
            def train(self, loader, device):
                for batch in loader:
                    loss = self.model(batch)
                    loss.backward()
                    self.optim.step()
                    print(loss)
            """,
            line=6,
            column=15,
        ),
        Invalid(
            """
            from tqdm import tqdm
            def train(model, loader, opt, device):
                bar = tqdm(loader)
                for batch in bar:
                    loss = model(batch)
                    loss.backward()
                    opt.step()
                    bar.set_description(f"loss {loss:.4f}")
            """,
            line=8,
            column=36,
        ),
        Invalid(
            """
            def train(model, loader, optimizer, is_main, device):
                for x, y in loader:
                    loss = model(x, y)
                    loss.backward()
                    optimizer.step()
                    if is_main:
                        logger.info("loss %f", float(loss))
            """,
            line=7,
        ),
        # A copy kept under a condition is no sum: the advice keeps it on the device.
        Invalid(
            """
            def fit(model, loader, optimizer, keep, device):
                for batch in loader:
                    loss = model(batch)
                    loss.backward()
                    optimizer.step()
                    if keep(loss):
                        best_weight = model.weight.detach().cpu()
            """,
            line=7,
        ),
        # A NaN guard: the advice is to check every N steps.
        Invalid(
            """
            import math
            def train(model, loader, optimizer, device):
                for x, y in loader:
                    loss = model(x, y)
                    loss.backward()
                    optimizer.step()
                    if math.isnan(loss.item()):
                        raise RuntimeError("NaN loss")
            """,
            line=7,
        ),
        # Through a step function of the same file.
        Invalid(
            """
            import torch
            def step(model, batch, optimizer, device):
                loss = model(batch)
                loss.backward()
                optimizer.step()
                return loss
            def fit(model, loader, optimizer):
                for batch in loader:
                    print(step(model, batch, optimizer).item())
            """,
            line=9,
        ),
        # A repeating loop that is no training step (a conjugate-gradient solve, a decoding loop):
        # a value read only to be shown.
        Invalid(
            """
            import torch
            def conjugate_gradient(A, b, steps, device):
                x = torch.zeros_like(b, device=device)
                r = b - A @ x
                for it in range(steps):
                    x = x + r
                    r = b - A @ x
                    print(f"{it}: residual {r.norm().item():.3e}")
            """,
            line=8,
        ),
        # One part of a tensor the loop does not change, picked by bounds that change.
        Invalid(
            """
            import torch
            def split(positions: torch.Tensor, counts: list, device):
                parts = []
                start = 0
                for count in counts:
                    parts.append(positions[start : start + count].cpu())
                    start += count
                return parts
            """,
            line=6,
        ),
        # Added into a running total, through a name or a meter: the total can stay on the device.
        Invalid(
            """
            def train(model, loader, optimizer, device):
                total = 0.0
                for x, y in loader:
                    loss = model(x.to(device), y.to(device))
                    loss.backward()
                    optimizer.step()
                    value = loss.item()
                    total += value
            """,
            line=7,
        ),
        Invalid(
            """
            def train(model, loader, optimizer, meter, device):
                for x, y in loader:
                    loss = model(x.to(device), y.to(device))
                    loss.backward()
                    optimizer.step()
                    meter.update(loss.item(), x.size(0))
            """,
            line=6,
        ),
        # Overwritten every epoch and used after the loop (pygod's ANOMALOUS): read it once after.
        Invalid(
            """
            import torch
            def fit(model, x, optimizer, epochs, device):
                x = x.to(device)
                for epoch in range(epochs):
                    loss, r = model(x)
                    loss.backward()
                    optimizer.step()
                    score = torch.sum(r ** 2, dim=1).detach().cpu()
                return score
            """,
            line=8,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Inner calls of a chain already reported through its outer call (``x.cpu().tolist()``).
        self._covered: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if id(node) in self._covered:
            return
        func = node.func
        if type(func) is cst.Attribute:
            self._check_method(node, func)
        elif type(func) is cst.Name and node.args:
            if func.value in READING_BUILTINS and self.context.imports.is_builtin(func, func.value):
                if len(node.args) == 1 and self._is_step_tensor(node.args[0].value):
                    self._report(node, node.args[0].value)
            elif func.value == "print" and self.context.imports.is_builtin(func, "print"):
                for arg in node.args:
                    if arg.keyword is None and self._is_step_tensor(arg.value):
                        self._report(arg.value, arg.value)

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        if self._is_step_tensor(node.expression):
            self._report(node, node.expression)

    def _check_method(self, node: cst.Call, func: cst.Attribute) -> None:
        if not _synchronises(node) or self.context.imports.qualified_name(func) is not None:
            return
        kind = self.context.arrays.kind_of(func.value)
        frame = self._step()
        if kind not in (None, catalog.TORCH) or frame is None:
            return
        tensor = read_tensor(func.value)
        if allocated_on_host(tensor, self.context) or reads_a_host_batch(tensor, self.context):
            # Made on the host, or a batch a ``DataLoader`` yields that the loop never moves
            # (``indices`` of a loader over ``range``): the read waits for no device.
            return
        if not frame.is_training_step and not (
            (func.attr.value == "item" or self._part_of_an_invariant_tensor(tensor, frame))
            and _of_a_device_tensor(func.value, self.context)
            and self._computed_on_the_device(tensor, frame)
        ):
            # Outside a training step only one number, or one part of a tensor the loop does not
            # change, counts: a copy of whole tensors is the loop's product (predictions
            # collected batch by batch), and a row the loop target picks is PFL213's.
            return
        self._cover_inner_synchronisations(func.value)
        self._report(node, tensor)

    def _cover_inner_synchronisations(self, receiver: cst.BaseExpression) -> None:
        while True:
            if type(receiver) is cst.Call and type(receiver.func) is cst.Attribute:
                if _synchronises(receiver):
                    self._covered.add(id(receiver))
                receiver = receiver.func.value
            elif type(receiver) is cst.Attribute or type(receiver) is cst.Subscript:
                receiver = receiver.value
            else:
                return

    def _is_step_tensor(self, expr: cst.BaseExpression) -> bool:
        """A name the training step binds to a tensor: a known one, or the loss it
        differentiates."""
        if type(expr) is not cst.Name or self.context.loops.innermost is None:
            return False
        if self.context.arrays.kind_of(expr) != catalog.TORCH and not self.context.has_word("backward"):
            # Neither a known tensor nor, in a file that differentiates nothing, a loss: the
            # cheap answer before the loop's questions.
            return False
        frame = self._step()
        if frame is None or expr.value not in frame.effects.rebound or allocated_on_host(expr, self.context):
            return False
        if not frame.is_training_step:
            return self.context.arrays.kind_of(expr) == catalog.TORCH and self._computed_on_the_device(expr, frame)
        return expr.value in frame.effects.differentiated or self.context.arrays.kind_of(expr) == catalog.TORCH

    def _part_of_an_invariant_tensor(self, tensor: cst.BaseExpression, frame: LoopFrame) -> bool:
        """``atom_types[start : start + n]``: a part of a tensor the loop does not change, picked
        by bounds that change, not by a loop target itself (``t[i]``, ``t[:, i]``: PFL213's)."""
        if type(tensor) is not cst.Subscript or not self.context.is_invariant(tensor.value, frame):
            return False
        return not any(
            type(element.slice) is cst.Index
            and type(element.slice.value) is cst.Name
            and element.slice.value.value in frame.targets
            for element in tensor.slice
        )

    def _computed_on_the_device(self, tensor: cst.BaseExpression, frame: LoopFrame) -> bool:
        """In a loop that is no training step: ``tensor`` is computed anew on each iteration and
        not known to be on the host (not moved there, not a batch a ``DataLoader`` yields, not
        one element of a tensor per iteration, which PFL109 and PFL213 report)."""
        context = self.context
        if on_host(tensor, context) or reads_a_host_batch(tensor, context):
            return False
        return context.loops.element_of(tensor) is None and not context.is_invariant(tensor, frame)

    def _step(self) -> LoopFrame | None:
        """The training-step loop around the current node, or else the innermost loop when the
        engine sees it repeat (``Frequency.HOT``) in code that may use an accelerator; unless a
        periodic condition (``if step % 100 == 0``) guards the node inside it."""
        frame = self.context.training_step_loop()
        if frame is not None and not may_use_an_accelerator(self.context):
            # CPU-only code (no device named, or a class that never uses the device it keeps):
            # reading a host tensor waits for nothing.
            return None
        frame = frame or self._hot_loop()
        loops = self.context.loops
        if frame is None or loops.runs_periodically(frame) or loops.leaves_the_loop(frame) or loops.under_debug_flag():
            return None
        return frame

    def _hot_loop(self) -> LoopFrame | None:
        """The innermost ``for`` or ``while`` loop around the current node, when it repeats
        (``Frequency.HOT``: not set-up code, not a small literal range), the node runs on every
        one of its iterations, and the function may keep its tensors on an accelerator."""
        frame = self.context.loops.innermost
        if frame is None or not isinstance(frame.node, (cst.For, cst.While)):
            return None
        context = self.context
        if context.frequency().frequency is not Frequency.HOT or not context.runs_every_iteration(frame):
            return None
        if context.functions.in_test_code() or context.in_compiled_code():
            return None
        if not may_use_an_accelerator(context) or function_reads_host_tensors(context):
            return None
        if _holds_a_loop(frame.node.body):
            # An outer loop (over epochs, over samples each optimised in an inner loop): a read
            # once per pass of the inner loop costs little beside it.
            return None
        return frame

    def _report(self, node: cst.CSTNode, tensor: cst.BaseExpression) -> None:
        frame = self._step()
        if frame is None:
            return
        path = self.context.path_to(node)
        if in_an_assertion_message(path):
            # Evaluated once, when the assertion fails.
            return
        if decides_an_exit(path, frame.node):
            # A convergence check (``if abs(prev - loss.item()) < tol: break``) needs the value
            # on every step.
            return
        if accumulation_of(path, self.context) is not None:
            # A per-iteration total or list of read values is PFL215's (one rule per statement).
            return
        if isinstance(frame.node, (cst.For, cst.While)) and keeps_waiting_on_every_iteration(
            frame.node, node, self.context
        ):
            # The step waits elsewhere on every iteration anyway (a convergence test on a tensor).
            return
        expr = node.expression if type(node) is cst.FormattedStringExpression else node
        snapshot = _conditional_snapshot(path, frame.node)
        when = "optimisation step" if frame.is_training_step else "iteration"
        if _in_a_non_finite_check(path):
            message = _NAN_GUARD_MESSAGE.format(expr=quote(expr), tensor=quote(tensor), when=when)
        elif _shown(path, self.context):
            counter = "step" if frame.is_training_step else _range_counter(frame.node) or "i"
            message = _SHOWN_MESSAGE.format(expr=quote(expr), when=when, whens=f"{when.split()[-1]}s", counter=counter)
        elif snapshot is not None:
            message = _SNAPSHOT_MESSAGE.format(
                expr=quote(expr), target=quote(snapshot), tensor=quote(tensor), when=when
            )
        elif frame.is_training_step:
            if decides_a_branch(path, frame.node):
                # The host decides on the value every step (keeping the best epoch so far).
                return
            template = _TOTAL_MESSAGE if _added_into_a_total(path, frame.node) else self.message
            message = template.format(expr=quote(expr), tensor=quote(tensor))
        elif type(tensor) is cst.Subscript and self.context.is_invariant(tensor.value, frame):
            message = _PART_MESSAGE.format(expr=quote(expr), whole=quote(tensor.value))
        else:
            message = _HOT_LOOP_MESSAGE.format(expr=quote(expr), tensor=quote(tensor))
        self.report(node, message)


def _holds_a_loop(body: cst.CSTNode) -> bool:
    """``body`` holds a ``for`` or ``while`` loop (outside nested functions and classes)."""
    pending: list[cst.CSTNode] = [body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.For, cst.While)):
            return True
        if not isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            pending.extend(syntax_children(node))
    return False


def _added_into_a_total(path: list[cst.CSTNode], loop: cst.CSTNode) -> bool:
    """The read at the end of ``path`` (possibly scaled, ``loss.item() * n``) goes into a running
    total: it is the first argument of a meter's ``update`` (``losses.update(loss.item(), n)``),
    or assigned to a name that the loop adds into another with ``+=`` (``value = loss.item()``
    … ``total += value``). A total added to directly (``total += loss.item()``) is PFL215's."""
    value: cst.CSTNode = path[-1]
    depth = len(path) - 2
    scaling = path[depth]
    if type(scaling) is cst.BinaryOperation and type(scaling.operator) in (cst.Multiply, cst.Divide):
        value, depth = scaling, depth - 1
    parent = path[depth]
    if type(parent) is cst.Arg and depth >= 1:
        call = path[depth - 1]
        return (
            type(call) is cst.Call
            and type(call.func) is cst.Attribute
            and call.func.attr.value == "update"
            and bool(call.args)
            and call.args[0] is parent
            and parent.keyword is None
        )
    if type(parent) is not cst.Assign or parent.value is not value or len(parent.targets) != 1:
        return False
    target = parent.targets[0].target
    if type(target) is not cst.Name:
        return False
    return any(
        type(node) is cst.AugAssign
        and type(node.operator) is cst.AddAssign
        and mention_count(node.value, target.value) > 0
        for node in nodes_in_scope(loop)
    )


def _range_counter(loop: cst.CSTNode) -> str | None:
    """``it`` of ``for it in range(steps):``: the loop's counter, to test with ``%``."""
    if type(loop) is not cst.For or type(loop.target) is not cst.Name or type(loop.iter) is not cst.Call:
        return None
    func = loop.iter.func
    return loop.target.value if type(func) is cst.Name and func.value == "range" else None


def _of_a_device_tensor(receiver: cst.BaseExpression, context) -> bool:
    """``receiver`` is a known torch tensor, or a chain of methods called on one (``r.norm()``),
    and that tensor is not known to be on the host (``torch.empty(1).uniform_()`` is)."""
    while (
        context.arrays.kind_of(receiver) is None and type(receiver) is cst.Call and type(receiver.func) is cst.Attribute
    ):
        receiver = receiver.func.value
    return context.arrays.kind_of(receiver) == catalog.TORCH and not on_host(receiver, context)


def _synchronises(call: cst.Call) -> bool:
    func = call.func
    if type(func) is not cst.Attribute or call.args:
        return False
    method = catalog.method(func.attr.value)
    return method is not None and catalog.Flag.SYNCHRONISES in method.flags


def _shown(path: list[cst.CSTNode], context) -> bool:
    """The read at the end of ``path`` is printed or formatted into text (an argument of the
    builtin ``print``, or a field of an f-string), within its statement."""
    for depth in range(len(path) - 2, -1, -1):
        node = path[depth]
        if type(node) is cst.FormattedString:
            return True
        if type(node) is cst.Call and type(node.func) is cst.Name and node.func.value == "print":
            return context.imports.is_builtin(node.func, "print")
        if isinstance(node, cst.BaseStatement):
            return False
    return False


def _conditional_snapshot(path: list[cst.CSTNode], loop: cst.CSTNode) -> cst.BaseExpression | None:
    """The name the read at the end of ``path`` is assigned to whole (``best_x =
    x.detach().cpu()``) under an ``if`` inside ``loop``: a copy kept when a condition holds (the
    best iterate so far), not a value to sum. None otherwise."""
    read = path[-1]
    for depth in range(len(path) - 2, -1, -1):
        node = path[depth]
        if type(node) is cst.Assign and node.value is read and len(node.targets) == 1:
            target = node.targets[0].target
            inside = path[path.index(loop) + 1 : depth]
            if type(target) in (cst.Name, cst.Attribute) and any(type(part) is cst.If for part in inside):
                return target
            return None
        if isinstance(node, cst.BaseStatement) or node is loop:
            return None
    return None


def _in_a_non_finite_check(path: list[cst.CSTNode]) -> bool:
    """The node at the end of ``path`` is read in the test of an ``if`` that checks for NaN or
    infinite values (``if math.isnan(loss.item()):``)."""
    for depth in range(len(path) - 2, -1, -1):
        node = path[depth]
        if type(node) is cst.If and path[depth + 1] is node.test:
            pending: list[cst.CSTNode] = [node.test]
            while pending:
                part = pending.pop()
                if type(part) is cst.Name and part.value in _NON_FINITE_CHECKS:
                    return True
                if type(part) is cst.Attribute and part.attr.value in _NON_FINITE_CHECKS:
                    return True
                pending.extend(syntax_children(part))
            return False
        if isinstance(node, (cst.BaseStatement, cst.FunctionDef)):
            return False
    return False


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    losses = torch.rand(size, generator=generator).to(device)
    return (losses,)


def _pattern(losses):
    total = 0.0
    for loss in losses:
        total += loss.item()
    return round(total, 2)


def _fix(losses):
    import torch

    total = torch.zeros((), dtype=torch.float64, device=losses.device)
    for loss in losses:
        total += loss
    return round(total.item(), 2)


SyncInTrainingLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(250, 2000, 4000),
    check_size=16,
    size_unit="training steps whose loss is read on the host (on the CPU: the `.item()` call "
    "overhead only; on a GPU: also the synchronisation)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "Summing n 0-d loss tensors: `loss.item()` in every step (a host read; on a GPU also a "
        "synchronisation) against accumulating on the device and one `.item()` after the loop."
    ),
)
