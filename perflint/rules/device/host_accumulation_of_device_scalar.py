"""PFL215: a device scalar read on the host and summed or appended on every iteration."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.control_flow import decides_an_exit
from perflint.engine.devices import allocated_on_host, function_reads_host_tensors, may_use_an_accelerator, on_host
from perflint.engine.effects import summarise
from perflint.engine.host_reads import (
    Accumulation,
    accumulation_of,
    collects_in_one_place,
    read_tensor,
    reads_a_host_batch,
    reads_on_every_iteration,
    scalar_read,
)
from perflint.engine.quoting import as_receiver, quote
from perflint.engine.roles import Frequency
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.values import resolved
from perflint.engine.walker import nodes_in_scope
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY


class HostAccumulationOfDeviceScalar(Rule):
    """``total += loss.item()`` / ``losses.append(float(loss))`` on every iteration."""

    code = "PFL215"
    name = "host-accumulation-of-device-scalar"
    family = FAMILY
    summary = "A tensor's value read on the host on every iteration only to be summed or collected"
    message = (
        "`{read}` waits for the device on every iteration to add one number to `{accumulator}`; "
        "add the tensor instead (`{accumulator} += {added}`, from a zero tensor) and read "
        "`{accumulator}.item()` only where the total is used (after the loop, or every N iterations)"
    )
    message_host_total = (
        "`{read}` waits for the device on every iteration to add one number to `{accumulator}`, a "
        "tensor made on the host (`{made}`); make it on the device of `{tensor}` (give it `device=`), add "
        "the tensor instead (`{accumulator} += {added}`) and read `{accumulator}.item()` only where the "
        "total is used (after the loop, or every N iterations)"
    )
    message_appended = (
        "`{read}` waits for the device on every iteration to append one number to `{accumulator}`; "
        "append `{tensor}` and read them all once after the loop "
        "(`torch.stack({accumulator}).tolist()`)"
    )
    fix_title = "Accumulate the detached tensor on the device and read it once after the loop"
    fix_safety = FIX_UNSAFE
    # Opt-in: 6 held-out findings, 1 worth fixing, 3 wrong in round 2 of the precision review (its known limitations say why).
    default_enabled = False
    required_text = ("item()", "float(", "int(")
    paid_per_execution = True
    reported_at = "the `.item()` or `float(...)` / `int(...)` call"

    what_it_does = (
        "Flags `total += t.item()` (also `float(t)`, `int(t)`, and a scaled read, "
        "`t.item() * x.size(0)`) and `values.append(t.item())` in a hot loop: any loop with "
        "evidence that it repeats (a training or evaluation loop, a loop in a per-call function; "
        "not one in set-up code or over a small literal range), when `t` is a tensor the loop "
        "computes anew (a known tensor, or of unknown type for `.item()`). This rule owns these "
        "statements: PFL203 (a read in a training step) leaves them to it, and PFL109 keeps one "
        "element of a known tensor per iteration."
    )
    known_limitations = (
        "Left alone: reads under an `if` whose test uses `%` (periodic logging), in a branch that "
        "leaves the loop, or under a debugging flag; a value that decides whether the loop ends "
        "(a convergence `break`); loops that need a value on the host every iteration anyway "
        "(they read the running total, for a progress bar, or call `.cpu()`, `.tolist()` or "
        "`.item()` outside an accumulation, index with a boolean mask, `x[y == i]`, or chain a "
        "comparison of a tensor they read, `lo <= y <= hi`, which tests the truth of `lo <= y`; "
        "round 9's held-out torchcp), or that "
        "sit in a training step that does so on "
        "every step; tensors on the host (a torch factory without `device=`, a move to the "
        "host), functions that read their tensors as NumPy in place (`.numpy()` without "
        "`.cpu()`), files with no sign of an accelerator (no device, `cuda`, `mps`, Lightning or "
        "Accelerate named anywhere: CPU-only code) and classes that pin their device attribute "
        'to the host (`self._device = "cpu"`); one element per iteration (`scores[k].item()` with '
        "`k` changing); a read once per run of an inner training loop (an optimisation per "
        "sample); an append to a list that changes with the loop (`self.grad_dict[name]` in a "
        "loop over `name`: no one read after the loop gathers them; round 10's held-out cornac); "
        "a batch a known `DataLoader` yields that the loop never moves to a device, "
        "computed with directly (the value is on the host); test code. Where the tensor lives "
        "is known only from the file, so a file that names a device but keeps this loop on the "
        "CPU is still reported; a read in a helper the loop calls, or one assigned to a name "
        "first and accumulated from it (`c = x.item()` then `total += c`), is not followed (the "
        "latter counts as a read the loop needs, which silences the loop's other accumulations). A loop that "
        "reads its total once per iteration of a short outer loop (gradient accumulation over "
        "one or two micro-batches, then a progress bar) is reported though it saves little: 7 of "
        "the 74 development-set findings were such, or one-off analysis loops over a few layers "
        "(`benchmarks/results/precision/dev_PFL118_PFL215.md`)."
        " Opt-in: on the held-out set of the precision review's round 2 (13 research code bases "
        "nobody tuned on) 1 of its 6 findings was worth fixing and 3 were wrong: scalars already on "
        "the host (a recorder that stores them with `.cpu()`) and loops that wait at a boolean-mask "
        "index on every iteration anyway (the engine now counts an index by a comparison, `x[y == i]`, "
        "as such a wait; the recorder is in another file). On round 3's "
        "development set (`benchmarks/results/precision/dev_set_round3.md`) 45 of its 59 findings "
        "were worth fixing and 5 were wrong: rewards of episodes an environment collects on the "
        "host (learn2learn's RL examples), which the file does not show; so it stays opt-in."
    )
    why_bad = (
        "On an accelerator `.item()` (and `float(t)`) copies one number to the host and first "
        "waits for every kernel queued before it. Summing or collecting those numbers needs none "
        "of them until the loop ends, yet the read on every iteration empties the device's queue "
        "each time: the GPU idles while the host prepares the next iteration. Adding the "
        "detached tensor keeps the sum on the device, and one `.item()` after the loop waits "
        "once."
    )
    example = """\
import torch

def evaluate(model, loader, device):
    total = 0.0
    for x, y in loader:
        out = model(x.to(device))
        total += (out.argmax(-1) == y.to(device)).float().mean().item()
    return total / len(loader)
"""
    use_instead = """\
import torch

def evaluate(model, loader, device):
    total = torch.zeros((), device=device)
    for x, y in loader:
        out = model(x.to(device))
        total += (out.argmax(-1) == y.to(device)).float().mean().detach()
    return total.item() / len(loader)
"""
    fix_safety_note = (
        "No automatic fix: the accumulator becomes a tensor, so every later use of it must "
        "either accept one or read it with `.item()` (formatting, JSON, comparisons with Python "
        "numbers), and a list of tensors must be read with `torch.stack(values).tolist()`. The "
        "total is the same up to float rounding (a float32 device sum against Python's float64 "
        "one; start from a float64 zero tensor to keep the precision)."
    )

    VALID = (
        # The loop waits anyway, at the chained comparison `lo <= y <= hi` of the same tensor
        # (torchcp's online evaluation): keeping the total on the device saves no wait.
        """
        import torch
        def evaluate(predictor, dataset, device):
            covered, width = 0, 0.0
            for x, y in dataset:
                interval = predictor.predict(x.to(device))[0]
                covered += int(interval[0] <= y <= interval[1])
                width += (interval[1] - interval[0]).item()
            return covered, width
        """,
        # Periodic logging, and a read after the loop.
        """
        import torch
        def train(model, loader, optimizer, device):
            for step, (x, y) in enumerate(loader):
                loss = model(x.to(device), y.to(device))
                loss.backward()
                optimizer.step()
                if step % 100 == 0:
                    history.append(loss.item())
            total = loss.item()
        """,
        # A convergence check needs the value on every iteration.
        """
        import torch
        def fit(model, batches, optimizer, device, tol):
            total = 0.0
            for x in batches:
                loss = model(x.to(device))
                loss.backward()
                optimizer.step()
                total += loss.item()
                if total > tol:
                    break
        """,
        # Tensors made on the host, and CPU-only code.
        """
        import torch
        def fit(f, steps, device):
            w = torch.zeros(3, requires_grad=True)
            norms = []
            for _ in range(steps):
                norms.append(w.norm().item())
        """,
        """
        import torch
        def fit(model, loader, optimizer):
            total = 0.0
            for x, y in loader:
                loss = model(x, y)
                loss.backward()
                optimizer.step()
                total += loss.item()
        """,
        # A class whose device attribute is pinned to the host.
        """
        import torch
        class Estimator:
            def __init__(self):
                self._device = "cpu"
            def validate(self, loader):
                total = 0.0
                for x in loader:
                    total += self.net(x.to(self._device)).sum().item()
        """,
        # The loop needs the running total on the host every iteration (a progress bar), or
        # copies predictions to the host anyway.
        """
        import torch
        def train(model, loader, optimizer, bar, device):
            total = 0.0
            for x, y in loader:
                loss = model(x.to(device), y)
                total += loss.item()
                bar.set_postfix(loss=total)
        def evaluate(model, loader, device):
            total, preds = 0.0, []
            for x, y in loader:
                out = model(x.to(device))
                total += out.loss.item()
                preds.extend(out.logits.argmax(-1).cpu().tolist())
        """,
        # One element of a known tensor per iteration (PFL109's), a value that does not change
        # in the loop, and set-up code.
        """
        import torch
        def scores(values: torch.Tensor, device):
            total = 0.0
            for v in values:
                total += v.item()
            for _ in range(10):
                total += values.sum().item()
        def __init__(self, rates: torch.Tensor, device):
            self.rates = []
            for r in range(10):
                self.rates.append(rates[:r].sum().item())
        """,
        # One element per iteration of a tensor of unknown type; a batch a loader yields that
        # the loop never moves to a device (the comparison runs on the host); a loop around the
        # accumulation, a training step, that copies a tensor to the host on every step anyway.
        """
        import torch
        from torch.utils.data import DataLoader
        def rescore(new_scores, scores, device):
            k = 0
            for i in range(len(new_scores)):
                new_scores[i] += scores[k].item()
                k += 1
        def evaluate(net, dataset, device):
            correct = 0
            for img, label in DataLoader(dataset, batch_size=64):
                y = net(img)
                correct += (y.argmax(1) == label).sum().item()
        def scores(model, samples, steps, device):
            found = []
            for x in samples:
                z = torch.zeros(8, device=device, requires_grad=True)
                optimizer = torch.optim.Adam([z])
                for _ in range(steps):
                    loss = model(x.to(device), z)
                    loss.backward()
                    optimizer.step()
                found.append(loss.item())
        def fit(model, loader, optimizer, metrics, results, device):
            for x, y in loader:
                loss = model(x.to(device), y.to(device))
                loss.backward()
                optimizer.step()
                for metric in metrics:
                    results[metric.__name__].append(metric().item())
                results["loss"].append(loss.cpu().numpy())
        """,
        # A loop that indexes with a boolean mask on every iteration waits for the device there
        # anyway (torch_geometric's `DiffGroupNorm.group_distance_ratio`).
        """
        import torch
        def group_distance(x, y, num_classes, device):
            total = 0.0
            for i in range(num_classes):
                mask = y.to(device) == i
                dist = torch.cdist(x[mask], x[~mask])
                total += float(dist.sum())
            return total
        """,
        # A reduction of a tensor built on the host from a list (learn2learn's meta-learning
        # loop): `.item()` reads the host, and the waits are in building it.
        """
        import torch
        def meta_train(model, tasks, opt, steps, device):
            total = 0.0
            for _ in range(steps):
                losses = []
                for task in tasks:
                    loss = model(task.to(device))
                    loss.backward()
                    losses.append(loss.detach())
                total += torch.Tensor(losses).mean().item()
                opt.step()
        """,
        # `float(x)` of something not known to be a tensor.
        """
        import torch
        def total_lr(groups, device):
            total = 0.0
            for group in groups:
                total += float(group["lr"])
        """,
        # A different list on each iteration, picked by the loop's own name (cornac's DMRL
        # gradient log): no one read after the loop gathers every list.
        """
        import torch
        class Net(torch.nn.Module):
            def log_gradients(self, device):
                for name, p in self.named_parameters():
                    self.grad_dict[name].append(torch.norm(p.grad.detach().flatten()).item())
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def train(model, loader, optimizer, criterion, device):
                running_loss = 0.0
                for x, y in loader:
                    optimizer.zero_grad()
                    loss = criterion(model(x.to(device)), y.to(device))
                    loss.backward()
                    optimizer.step()
                    running_loss += loss.item() * x.size(0)
            """,
            line=9,
            column=25,
        ),
        # Evaluation, not only training; the reduction the user wrote is kept in the advice.
        Invalid(
            """
            import torch
            def spread(model, loader, device):
                total = 0.0
                with torch.no_grad():
                    for x in loader:
                        out = model(x.to(device))
                        total += out.std().item()
                return total
            """,
            line=7,
        ),
        Invalid(
            """
            import torch
            def update(self, batches):
                losses = []
                for batch in batches:
                    loss = self.policy.loss(batch.to(self.device))
                    loss.backward()
                    self.optimizer.step()
                    losses.append(loss.item())
                return sum(losses) / len(losses)
            """,
            line=8,
        ),
        # A conditional read that is not periodic still runs on most iterations; `float(t)`.
        Invalid(
            """
            import torch
            def train(model, loader, optimizer, is_main, device):
                for x, y in loader:
                    loss = model(x.to(device), y)
                    loss.backward()
                    optimizer.step()
                    if is_main:
                        history.append(float(loss))
            """,
            line=8,
        ),
        # The periodic report of the running total is the advice's own shape.
        Invalid(
            """
            import torch
            def train(model, loader, optimizer, device):
                running = 0.0
                for i, (x, y) in enumerate(loader):
                    loss = model(x.to(device), y)
                    loss.backward()
                    optimizer.step()
                    running += loss.item()
                    if i % 100 == 99:
                        print(running / 100)
                        running = 0.0
            """,
            line=8,
        ),
        # The total is a tensor made on the host: adding a device tensor to it needs it made on
        # the device first, which the message says.
        Invalid(
            """
            import torch
            def train_discriminator(engine, fake, real):
                total = torch.zeros(1)
                for _ in range(engine.d_train_steps):
                    loss = engine.d_loss(fake.to(engine.device), real)
                    loss.backward()
                    engine.d_optimizer.step()
                    total += loss.item()
                return total
            """,
            line=8,
        ),
        # A per-call function's loop.
        Invalid(
            """
            import torch
            class Head(torch.nn.Module):
                def forward(self, feats):
                    norms = []
                    for f in feats:
                        norms.append(self.proj(f.to(self.device)).norm().item())
                    return norms
            """,
            line=6,
        ),
        # One list through the loop, an item of a dict picked by a constant key.
        Invalid(
            """
            import torch
            def spread(model, loader, history, device):
                for x in loader:
                    history["std"].append(model(x.to(device)).std().item())
            """,
            line=4,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        tensor = scalar_read(node, self.context)
        if tensor is None:
            return
        frame = self.context.loops.innermost
        if frame is None or not isinstance(frame.node, (cst.For, cst.While)):
            return
        path = self.context.path_to(node)
        accumulation = accumulation_of(path, self.context)
        if accumulation is None or not self._reads_a_device_tensor(node, tensor, frame):
            return
        if not collects_in_one_place(accumulation, frame, self.context):
            return  # a list per key: no one read after the loop gathers them
        loops = self.context.loops
        if loops.runs_periodically(frame) or loops.leaves_the_loop(frame) or loops.under_debug_flag():
            return
        if self.context.functions.in_test_code() or self.context.frequency().frequency is not Frequency.HOT:
            return
        if decides_an_exit(path, frame.node) or self._syncs_anyway(accumulation):
            return
        if self._runs_a_training_loop(frame.node):
            return
        detached = _detached(read_tensor(tensor))
        if accumulation.appends:
            message = self.message_appended.format(
                read=quote(node), accumulator=quote(accumulation.accumulator), tensor=quote(detached)
            )
        else:
            added = accumulation.statement.value.deep_replace(node, detached)
            accumulator = accumulation.accumulator
            template = self.message_host_total if allocated_on_host(accumulator, self.context) else self.message
            message = template.format(
                read=quote(node),
                accumulator=quote(accumulator),
                added=quote(added),
                made=quote(resolved(accumulator, self.context) or accumulator),
                tensor=quote(read_tensor(tensor)),
            )
        self.report(node, message)

    def _syncs_anyway(self, accumulation: Accumulation) -> bool:
        """The innermost loop reads the running value or another tensor's value on every
        iteration, or a training-step loop around it reads a tensor's value on every step
        outside its nested loops (a short loop over metrics inside a step that copies its loss
        to the host anyway). A loop around that is no step (an epoch loop reading a validation
        result once) runs many iterations of the inner loop per read: it does not count."""
        loops = [
            (frame.node, frame.is_training_step)
            for frame in self.context.loops.enclosing()
            if isinstance(frame.node, (cst.For, cst.While))
        ]
        if not loops:
            return False
        if reads_on_every_iteration(loops[0][0], accumulation, self.context):
            return True
        return any(
            is_step and reads_on_every_iteration(loop, accumulation, self.context, around=True)
            for loop, is_step in loops[1:]
        )

    def _runs_a_training_loop(self, loop: cst.For | cst.While) -> bool:
        """Each iteration of ``loop`` runs a whole training loop of its own (an optimisation
        per sample): the read comes once per many steps, and costs little beside them."""
        for node in nodes_in_scope(loop.body):
            if isinstance(node, (cst.For, cst.While)):
                effects = summarise([node.body], self.context.imports, self.context.functions)
                if effects.calls_backward and effects.steps_optimizer:
                    return True
        return False

    def _reads_a_device_tensor(self, read: cst.Call, tensor: cst.BaseExpression, frame) -> bool:
        """``tensor`` is one the loop computes anew, not known to be on the host: a known
        tensor (for ``.item()``, also one of unknown type) that is neither an element of a
        known tensor nor the same on every iteration."""
        kind = self.context.arrays.kind_of(tensor)
        if type(read.func) is cst.Name:
            if kind != catalog.TORCH and not (
                type(tensor) is cst.Name and tensor.value in frame.effects.differentiated
            ):
                return False
        elif kind not in (None, catalog.TORCH):
            return False
        if not may_use_an_accelerator(self.context) or on_host(read_tensor(tensor), self.context):
            return False
        if function_reads_host_tensors(self.context):
            return False
        if self.context.loops.element_of(tensor) is not None or self._one_element_per_iteration(tensor, frame):
            return False
        return not reads_a_host_batch(tensor, self.context) and not self.context.is_invariant(tensor, frame)

    def _one_element_per_iteration(self, tensor: cst.BaseExpression, frame) -> bool:
        """``scores[k]`` with an index that changes from one iteration to the next: one element
        of a tensor of unknown type per iteration, as PFL109 reports for known ones."""
        if type(tensor) is not cst.Subscript:
            return False
        return any(
            type(element.slice) is cst.Index and not self.context.is_invariant(element.slice.value, frame)
            for element in tensor.slice
        )


def _detached(tensor: cst.BaseExpression) -> cst.Call:
    """``tensor.detach()``, parenthesised where the receiver needs it (``(a + b).detach()``)."""
    return cst.Call(cst.Attribute(as_receiver(tensor), cst.Name("detach")))


def _setup(size: int, target: Target) -> tuple:
    import torch

    generator = torch.Generator().manual_seed(0)
    batches = torch.rand(size, 256, generator=generator).to(target.device)
    return (batches,)


def _pattern(batches):
    total = 0.0
    for batch in batches:
        total += batch.std().item()
    return round(total, 3)


def _fix(batches):
    import torch

    total = torch.zeros((), dtype=torch.float64, device=batches.device)
    for batch in batches:
        total += batch.std().detach()
    return round(total.item(), 3)


HostAccumulationOfDeviceScalar.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(100, 1_000, 4_000),
    check_size=16,
    size_unit="iterations, each reducing a 256-element batch (on the CPU: the `.item()` overhead "
    "only, not the device synchronisation it costs on a GPU)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "Summing the standard deviation of n 256-element float32 batches: `total += "
        "batch.std().item()` on every iteration against `total += batch.std().detach()` into a "
        "float64 zero tensor on the same device and one `.item()` after the loop. On the CPU "
        "there is no device to wait for, so the number shows only the per-call overhead, not the "
        "synchronisation that is this rule's real cost on a GPU. On the CPU the fix is expected to "
        "be slower (an in-place tensor addition costs more than `.item()` and a float addition), "
        "which is why the rule stays silent in code with no sign of an accelerator."
    ),
)
