"""PFL201: a tensor built on the CPU only to be copied to an accelerator at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.devices import (
    DeviceMove,
    device_move,
    function_reads_host_tensors,
    host_factory,
    host_factory_returned,
    may_use_an_accelerator,
    on_host,
    pinned_to_host,
)
from perflint.engine.host_reads import function_waits_for_device
from perflint.engine.literals import (
    keyword_argument,
    literal_value,
    positional_arguments,
)
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_SAFE, FIX_UNSAFE, NO_FIX, Fix, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import mention_count
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

# Keywords of ``.to`` and ``.cuda`` that the fix carries over to the factory (``non_blocking``
# simply disappears with the copy). ``copy=`` and ``memory_format=`` have no factory
# equivalent for every factory, so a move that passes them is left alone.
_KEYWORDS = {
    "to": catalog.move_keywords_with_factory_equivalent(catalog.listed_method("to")),
    "cuda": catalog.move_keywords_with_factory_equivalent(catalog.listed_method("cuda")),
    "type_as": frozenset(),
}
_MOVES = frozenset(_KEYWORDS)
# Keywords of the factory that make no fix: ``requires_grad=`` (the moved copy is not a leaf,
# the fixed tensor is), ``out=`` (a host tensor to write into) and ``pin_memory=`` (host
# memory only). (A factory given ``generator=`` is not flagged at all: it draws on the host.)
_FACTORY_KEYWORDS_WITHOUT_FIX = frozenset({"requires_grad", "out", "pin_memory"})

# What advising ``device=`` to a random factory changes.
_DRAWS_OTHER_NUMBERS = " (unsafe: the device's generator draws other numbers than the CPU's, so a seeded run changes)"


class CreateThenMove(Rule):
    """A torch factory whose result goes straight to ``.cuda()`` or ``.to(device)``."""

    code = "PFL201"
    name = "create-then-move"
    family = FAMILY
    summary = "Tensor created on the CPU and immediately copied to an accelerator"
    message = "`{factory}` allocates the tensor on the CPU, then `.{method}()` copies it to the device; {fix}"
    helper_message = (
        "`{call}` returns `{factory}`, made on the CPU, then `.{method}()` copies it to the device; give "
        "`{function}` a `device` parameter and pass `device=` to `{name}`"
    )
    index_message = (
        "`{factory}` is made on the CPU{made}, so indexing `{tensor}` with it copies it to that tensor's device "
        "each time; pass {device} to `{name}`"
    )
    fix_title = "Pass `device=` (and the move's `dtype=`) to the factory, and drop the move"
    fix_safety = FIX_UNSAFE
    # Opt-in: 6 of 7 findings worth fixing on round 4's development set plus round 3's held-out set, below the
    # 90% a default-on rule needs (its known limitations say why); no size criterion reaches it either
    # (round 7: benchmarks/results/precision/round7/pfl201_size.md).
    default_enabled = False
    fix_safeties = (FIX_SAFE, FIX_UNSAFE)
    autofix = True
    required_text = ("torch",)
    paid_per_execution = True
    reported_at = "the `.to(...)` or `.cuda(...)` call (its first line)"

    what_it_does = (
        "Flags a torch tensor factory (`torch.zeros`, `ones`, `empty`, `full`, `eye`, `arange`, "
        "`linspace`, `logspace`, `rand`, `randn`, `randint`, `randperm`; sizes may be unpacked) whose "
        "result goes directly to `.cuda()`, `.type_as(other)` or `.to(...)` (also through a name assigned "
        "the factory just before the move and used for nothing else: `m = torch.ones(n, n)` then "
        "`m = m.to(device)`, without a fix) with an accelerator: a string starting with `cuda`, `mps` or "
        "`xpu`, a `torch.device(...)` of one, a name bound only to one, a known tensor (`.to(other)`), or, "
        "when nothing better is known, a name or attribute spelled like a device (`device`, "
        "`self.device`, `x.device`). Also flags, in code that repeats (a loop, a per-call function, a "
        "torch distribution's constructor, run on every forward), such a factory's result used to index "
        "a tensor not known to be on the host (`traceback[i, torch.arange(n), last]`, `sim[mask]` with "
        "`mask = torch.ones(n, m, dtype=torch.bool)`), which copies it to that tensor's device, and a "
        "call of a function of this file whose one `return` is such a host tensor (`return "
        "(torch.rand(*shape) > 0.5).float() * 2 - 1`), moved at once."
    )
    known_limitations = (
        'Left alone: a device known to be the host (`"cpu"`, `torch.device("cpu")`, a name bound only to '
        "those, a parameter whose default is the host), code that runs once (module level, a class body, "
        "`__init__`, `reset_parameters`, set-up and cached functions, outside any loop: the copy is paid "
        "once there, while a loop, even in `__init__`, still repeats it; a lazy initialisation such as "
        "`if self.z is None: self.z = …` runs once per object, but `if z is None: z = …` of a parameter "
        "`z` runs on every call that passes none), a function whose callers move what it returns "
        "to a device (`x_aug = x_aug.to(self.device)` after `x_aug, … = self._augment(data)`: it "
        "works on the host batch; round 9's held-out pygod CONAD), a factory that already passes `device=` or "
        "`pin_memory=True`, a random factory given a `generator=` (it draws on the host, where its "
        "generator is, and torch refuses a generator of another device), a `.to(dtype)` conversion, a "
        "call that unpacks `*args`/`**kwargs`, the `_like` forms (`torch.zeros_like(x)`), which allocate "
        "on `x`'s device, so the move is a copy only when `x` is on the CPU, which the linter cannot "
        "see; and `torch.tensor(data)`, which builds its tensor on the CPU from the Python data and "
        "copies it to the device even when given `device=`, so moving it afterwards costs nothing "
        "more.\n\n"
        "Not flagged: a factory bound to a name that the function reads anywhere else, or moved later "
        "than in the next statement (the host tensor may be wanted on the host); a factory given "
        "`**kwargs`, which may hold `device=`; a random factory given `generator=`, which draws on the "
        "host where its generator is (advising `device=` there would be wrong). An index is left alone "
        "where the indexed tensor is on the host too, in a file with no sign of a device (no `device`, "
        "`cuda`, `mps`, Lightning or Accelerate, outside a distribution), in code of unknown or run-once "
        "frequency, where the function reads tensors on the host anyway, and where its tensors are host "
        "tensors (it calls `.numpy()` on one in place, or converts PIL images: a data-pipeline transform). "
        "The named form gets the "
        "advice but no automatic fix. Opt-in: on the held-out set of the precision review's round 2 (13 "
        "research code bases nobody tuned on) 8 of its 29 findings were worth fixing and none was wrong. "
        "Most were correct but not worth it: a small tensor made once per call beside much heavier work "
        "(a large model's forward, KeOps kernels) or beside a host transfer that waits anyway, which the "
        "linter cannot weigh. On the development set 93 of 96 were worth fixing. Left alone since: a "
        "function that reads a tensor on the host anyway (`.item()`, `.tolist()`, `torch.allclose`; "
        "`host_reads.function_waits_for_device`), where the copy's wait is not the one that matters. On "
        "round 3's development set (12 code bases nobody had tuned on, "
        "`benchmarks/results/precision/dev_set_round3.md`) 7 of its 53 findings were worth fixing and "
        "none was wrong: 28 sat in a one-off quantisation helper, the rest mostly beside far heavier "
        "work, so it stays opt-in. Widened in round 4 to host-made indices, distributions' constructors "
        "and helpers that return a host tensor: on round 4's development set plus round 3's held-out set "
        "(`benchmarks/results/precision/round4/dev_pfl201_211.md`) 6 of its 7 findings were worth fixing "
        "and none was wrong, 86% where a default-on rule needs 90%: the other was pomegranate's "
        "`GMM.sample`, a user-level draw whose one copy of `n` indices sits beside every component's "
        "sampling. On round 3's development set the widening added 5 findings, all worth fixing, and "
        "removed none. Round 7 tried keeping only tensors whose size grows with two or more sizes read "
        "from the data (`torch.eye(x.shape[0])`, `torch.zeros(x.shape)`) over every verdict recorded "
        "since round 1 (`benchmarks/results/precision/round7/pfl201_size.md`): 41 of its 60 read "
        "findings were worth fixing (68%; 6 of 20 on the held-out reads), against 86 of 218 today. The "
        "not-worth ones are as large as the worth ones: what decides them is heavier work in the same "
        "step, a path that rarely runs, or a wait elsewhere in the step, none of which the call shows."
    )
    why_bad = (
        "The factory first allocates and fills the tensor in host memory, then the move allocates "
        "it again on the device and copies it across the bus. The copy is from pageable memory "
        "and blocking, so PyTorch synchronises the stream after it: the host waits until the GPU "
        "has finished all the work queued before it, and stops running ahead of the GPU. Such a "
        "copy is also an error inside CUDA-graph capture. Created with `device=`, the tensor is "
        "allocated and filled by the device itself, asynchronously, with no host allocation and "
        "no transfer. In a forward pass, a loss or a sampling step the cost is paid on every call."
    )
    example = """\
import torch

def add_noise(batch, device):
    return batch + torch.randn(batch.shape).to(device)
"""
    use_instead = """\
import torch

def add_noise(batch, device):
    return batch + torch.randn(batch.shape, device=device)
"""
    fix_safety_note = (
        "The fix drops the move and passes its destination to the factory: `torch.zeros(3)"
        ".to(device)` becomes `torch.zeros(3, device=device)`, `.cuda()` becomes "
        '`device="cuda"` (`.cuda(1)`: `device="cuda:1"`), a `dtype` given to `.to` '
        "replaces the factory's, `.to(other)` becomes `device=other.device, "
        "dtype=other.dtype` (so does `.type_as(other)`), and `non_blocking=` goes with the copy. Safe for the factories "
        "whose elements are all 0 or 1 (`zeros`, `ones`, `eye`) or uninitialised (`empty`): "
        "they hold the same values on every device and in every dtype. Unsafe for the random "
        "factories (`rand`, `randn`, `randint`, `randperm`): the numbers are then drawn from the "
        "device's generator, not the CPU's, so a seeded run draws other values, and the CPU "
        "generator no longer advances, which changes every later CPU draw. No fix is offered "
        "for the factories that compute their values (`arange`, `linspace`, `logspace`, "
        "`full`, `hann_window`): a device's kernels round differently from the CPU's "
        "(`torch.linspace` differs in the last bits on CUDA), and converting to another dtype "
        "after computing is not computing in it; nor for a move with a dtype after a random "
        "factory, nor when the factory has `requires_grad=` (the moved copy is not a leaf "
        "and never gets a `.grad`; the fixed tensor is one and does), `out=` or "
        "`pin_memory=`, nor for `.cuda(device)` with a device that is not a literal, nor "
        "`.to(other)` with `other` an expression that is not a plain name or attribute (it "
        "would be evaluated twice), nor when a comment sits in the move."
    )

    VALID = (
        # The function's results are moved by its caller (pygod's CONAD augmentation): it works
        # on the loader's host batch, so its index is on the host with the indexed tensor.
        """
        import torch
        from copy import deepcopy
        class Conad:
            def forward_model(self, data):
                x_aug, labels = self._augment(data)
                x_aug = x_aug.to(self.device)
                return x_aug, labels
            def _augment(self, data):
                adj_aug = deepcopy(data.s)
                prob = torch.rand(data.s.shape[0])
                adj_aug[prob < 0.1, :] = 1.0
                return adj_aug, prob
            def fit(self, loader):
                for data in loader:
                    self.forward_model(data)
        """,
        # Indexing a batch the function itself moves to the device only afterwards: it is still
        # on the host, and so is the index (deepod's RDP).
        """
        import torch
        class RDP:
            def training_forward(self, batch_x, net, criterion):
                batch_x1 = batch_x[torch.randperm(batch_x.shape[0])]
                batch_x = batch_x.float().to(self.device)
                batch_x1 = batch_x1.float().to(self.device)
                return criterion(net(batch_x), net(batch_x1))
            def fit(self, loader, net, criterion):
                for batch in loader:
                    self.training_forward(batch, net, criterion)
        """,
        # A function that reads tensors on the host anyway (avalanche's nearest-prototype
        # classifier, one `.item()` per sample): the copy's wait is not the one that matters.
        """
        import torch
        from torch import nn
        class NearestPrototype(nn.Module):
            def forward(self, x: torch.Tensor) -> list:
                means = torch.ones(4, x.shape[1]).to(x.device)
                return [int((means @ row).argmin().item()) for row in x]
        """,
        # A loop in a constructor runs once per program: set-up, not a cost paid per batch.
        """
        import torch
        class Net(torch.nn.Module):
            def __init__(self, sizes, device):
                super().__init__()
                for size in sizes:
                    self.register_buffer(f"mask{size}", torch.ones(size, size).to(device))
        """,
        # Already created on the device.
        """
        import torch
        def forward(self, x):
            return x + torch.zeros(3, device=x.device).to(x.device)
        """,
        # A dtype conversion, and a move to the CPU, where the factory already allocated.
        """
        import torch
        def step(batch):
            x = torch.zeros(3).to(torch.float16)
            y = torch.ones(3).to('cpu')
            z = torch.arange(4).to(dtype=torch.long)
        """,
        # Devices known to be the host: a name bound only to "cpu", a parameter whose default
        # is the host.
        """
        import torch
        def step(batch):
            device = "cpu"
            noise = torch.randn(batch.shape).to(device)
        def pad(batch, device="cpu"):
            return torch.zeros(4).to(device)
        """,
        # Code that runs once: module level, and a constructor outside any loop.
        """
        import torch
        GRID = torch.arange(16).cuda()
        class Net(torch.nn.Module):
            def __init__(self, device):
                super().__init__()
                self.mask = torch.ones(8, 8).to(device)
        """,
        # Not torch's factories, in a file that uses torch: NumPy has no devices, and a
        # user-defined `zeros`.
        """
        import numpy as np
        import torch
        def zeros(n):
            return Thing(n)
        def step(device):
            x = np.zeros(3).to(device)
            y = zeros(3).cuda()
        """,
        # Unknown arguments: `**kwargs` may hold `device=`, and `dev` is not evidence of a device.
        """
        import torch
        def step(factory_kwargs, move_kwargs, dev):
            x = torch.zeros(3, **factory_kwargs).cuda()
            y = torch.ones(3).to(**move_kwargs)
            z = torch.eye(3).to(dev)
        """,
        # Not directly on the factory's result.
        """
        import torch
        def step(a):
            x = torch.zeros(3).float().cuda()
            y = torch.from_numpy(a).cuda()
        """,
        # `copy=` and `memory_format=` have no equivalent on every factory.
        """
        import torch
        def step(device):
            return torch.empty(2, 3, 4, 5).to(device, memory_format=torch.channels_last)
        """,
        # Pinned host memory is wanted on the host.
        """
        import torch
        def step():
            return torch.empty(1024, pin_memory=True).cuda(non_blocking=True)
        """,
        # A random factory drawing from a generator draws on the generator's device, the host.
        """
        import torch
        def sample(shape, device, seed):
            g = torch.Generator().manual_seed(seed)
            return torch.randn(shape, generator=g).to(device)
        """,
        # `_like` factories allocate on their input's device; `torch.tensor(data)` always builds
        # on the CPU and copies, so `device=` would save nothing.
        """
        import torch
        def f(cache: torch.Tensor):
            pad = torch.zeros_like(cache).to(cache.device)
            labels = torch.tensor([0, 1, 1]).to('cuda:0')
        """,
        # A tensor named and moved on the next line, but also used on the host; one moved later
        # on; and one made lazily into an attribute, once per object.
        """
        import torch
        def step(n, device):
            mask = torch.ones(n, n)
            moved = mask.to(device)
            return moved, mask.sum()
        def later(n, device):
            mask = torch.ones(n, n)
            print(n)
            return mask.to(device)
        class Noise(torch.nn.Module):
            def forward(self, x):
                if self.noise is None:
                    self.noise = torch.randn(x.shape).to(x.device)
                return x + self.noise
        """,
        # Host-made indices that cost no copy: the indexed tensor is on the host too, the index is
        # drawn from a CPU generator (advising `device=` would be wrong), or already made on the
        # device; set-up code (a module's constructor) runs once; a file with no sign of a device
        # keeps its tensors on the host.
        """
        import torch
        class Decoder(torch.nn.Module):
            def __init__(self, n, device):
                super().__init__()
                self.order = torch.randn(n, device=device)[torch.arange(n)]
            def forward(self, scores, g, n):
                table = torch.zeros(n, n)
                for step in range(n):
                    table[step, torch.arange(n)] = 1.0
                    picked = scores[torch.randperm(n, generator=g)]
                    kept = scores[torch.arange(n, device=scores.device)]
                return table
        """,
        # Helpers of this file moved at once: one draws from a CPU generator (pinned to the host),
        # one returns several tensors, and a `.to(dtype)` is no move.
        """
        import torch
        from torch import nn
        def seeded(shape, g):
            return torch.rand(*shape, generator=g)
        def either(shape, flag):
            if flag:
                return torch.rand(*shape)
            return torch.ones(shape)
        class Flow(nn.Module):
            def forward(self, x, g):
                v = seeded(x.shape, g).to(x.device)
                w = either(x.shape, True).to(x.device)
                return v, w, seeded(x.shape, g).to(torch.float16)
        """,
        """
        import torch
        def viterbi(traceback, paths, n):
            for i in range(1, len(paths)):
                paths.append(traceback[i, torch.arange(n), paths[-1]])
        """,
        # An image transform of a data pipeline (torchvision's photometric distortion): it
        # converts PIL images, so its tensors are on the host.
        """
        import torch
        import torchvision.transforms.functional as F
        class Distort(torch.nn.Module):
            def forward(self, image, device):
                permutation = torch.randperm(F.get_image_num_channels(image))
                if F._is_pil_image(image):
                    image = F.pil_to_tensor(image)
                return image[..., permutation, :, :]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            def forward(self, x):
                return x + torch.zeros(3, 4).cuda()
            """,
            line=3,
            column=16,
            fixed="""
            import torch
            def forward(self, x):
                return x + torch.zeros(3, 4, device="cuda")
            """,
        ),
        Invalid(
            """
            from torch import ones
            for step in range(100):
                mask = ones(3, 3).to('cuda:0')
            """,
            line=3,
            fixed="""
            from torch import ones
            for step in range(100):
                mask = ones(3, 3, device='cuda:0')
            """,
        ),
        # `non_blocking=` concerns only the copy, which the fix removes.
        Invalid(
            """
            import torch as T
            def f(self):
                mask = T.ones(8, 8).to(self.device, non_blocking=True)
            """,
            line=3,
            fixed="""
            import torch as T
            def f(self):
                mask = T.ones(8, 8, device=self.device)
            """,
        ),
        # A factory that computes its values: a device's kernels round differently.
        Invalid(
            """
            import torch
            def sample(n):
                return torch.arange(n).to(torch.device('cuda'))
            """,
            line=3,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def f(x: torch.Tensor):
                return torch.full((2,), 0.5).to(x)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            def schedule(target_device):
                return torch.linspace(0, 1, 5).to(dtype=torch.half, device=target_device)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # `requires_grad=True`: the moved copy is not a leaf, a tensor created on the device is.
        Invalid(
            """
            import torch
            def noise():
                for step in range(10):
                    w = (
                        torch.randn(4, 4, requires_grad=True)
                        .to('mps')
                    )
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # The move's dtype replaces the factory's: zeros and ones are the same in any dtype.
        Invalid(
            """
            import torch
            def encode(prompt_embeds, device, dtype):
                text_ids = torch.zeros(prompt_embeds.shape[1], 3, dtype=torch.long).to(device=device, dtype=dtype)
                return text_ids
            """,
            line=3,
            fixed="""
            import torch
            def encode(prompt_embeds, device, dtype):
                text_ids = torch.zeros(prompt_embeds.shape[1], 3, dtype=dtype, device=device)
                return text_ids
            """,
        ),
        # `.to(other)` takes `other`'s device and dtype.
        Invalid(
            """
            import torch
            def identity(weight: torch.Tensor):
                return torch.eye(weight.shape[0]).to(weight)
            """,
            line=3,
            fixed="""
            import torch
            def identity(weight: torch.Tensor):
                return torch.eye(weight.shape[0], device=weight.device, dtype=weight.dtype)
            """,
        ),
        # `.type_as(other)` takes `other`'s device and dtype, as `.to(other)` does.
        Invalid(
            """
            import torch
            def whiten(x: torch.Tensor, k):
                return x @ torch.eye(k).type_as(x)
            """,
            line=3,
            fixed="""
            import torch
            def whiten(x: torch.Tensor, k):
                return x @ torch.eye(k, device=x.device, dtype=x.dtype)
            """,
        ),
        # A random factory: the fix is unsafe (the device's generator draws other numbers).
        Invalid(
            """
            import torch
            def add_noise(batch, device):
                return batch + torch.randn(batch.shape).to(device)
            """,
            line=3,
            fixed="""
            import torch
            def add_noise(batch, device):
                return batch + torch.randn(batch.shape, device=device)
            """,
        ),
        # A call over several lines keeps its layout; `.cuda(1)` is the device "cuda:1".
        Invalid(
            """
            import torch
            def buffers(batch_size, width):
                for _ in range(4):
                    yield torch.empty(
                        batch_size,
                        width,
                    ).cuda(1)
            """,
            line=4,
            fixed="""
            import torch
            def buffers(batch_size, width):
                for _ in range(4):
                    yield torch.empty(
                        batch_size,
                        width,
                        device="cuda:1",
                    )
            """,
        ),
        # A random factory's dtype is left to the move: drawing in another dtype draws otherwise.
        Invalid(
            """
            import torch
            def step(device):
                return torch.randn(3).to(device, torch.half)
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # A comment in the move would be lost.
        Invalid(
            """
            import torch
            def step(device):
                return torch.zeros(3).to(  # the mask lives with the batch
                    device
                )
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # Unpacked sizes cannot hold `device=`.
        Invalid(
            """
            import torch
            def step(shape, device):
                return torch.zeros(*shape).to(device)
            """,
            line=3,
            fixed="""
            import torch
            def step(shape, device):
                return torch.zeros(*shape, device=device)
            """,
        ),
        # The factory's result bound to a name and moved on the next line (no fix offered).
        Invalid(
            """
            import torch
            def step(n, device):
                mask = torch.ones(n, n)
                mask = mask.to(device)
                return mask
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # A host-made index copied to the device of the tensor it indexes, on every step of a
        # loop (pomegranate's Viterbi traceback).
        Invalid(
            """
            import torch
            def viterbi(traceback, paths, n, device):
                for i in range(1, len(paths)):
                    paths.append(traceback[i, torch.arange(n), paths[-1]])
                return paths
            """,
            line=4,
            column=35,
            fixed=NO_FIX,
        ),
        # One finding per index, however often it indexes (pycox's competing-risks loss).
        Invalid(
            """
            import torch
            def nll_pmf_loss(sm, events, durations, device):
                index = torch.arange(sm.shape[0])
                part1 = sm[index, events, durations].log()
                part2 = (1 - sm.cumsum(2)[index, :, durations].sum(1)).log()
                return -(part1 + part2).mean()
            """,
            line=4,
            fixed=NO_FIX,
        ),
        # A random index: drawn on the device, a seeded run draws other numbers.
        Invalid(
            """
            import torch
            def adapt(data, labels, learner, steps, batch_size, device):
                for step in range(steps):
                    idx = torch.randint(data.size(0), size=(batch_size,))
                    learner.adapt(data[idx], labels[idx])
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # A helper of this file that draws on the host, moved at once (gluonts' Rademacher probes).
        Invalid(
            """
            import torch
            from torch import nn
            def sample_rademacher(*shape):
                return (torch.rand(*shape) > 0.5).float() * 2 - 1
            class Flow(nn.Module):
                def forward(self, x):
                    return x * sample_rademacher(x.shape[0], 4).to(x.device)
            """,
            line=7,
            fixed=NO_FIX,
        ),
        # A torch distribution is built from a network's outputs on every forward, so its
        # constructor runs per call (gluonts' `DiscreteDistribution`, `BinnedUniforms`).
        Invalid(
            """
            import torch
            class Discrete(torch.distributions.Distribution):
                def __init__(self, values, probs):
                    ordered, order = torch.sort(values, dim=1)
                    self.probs = probs[torch.arange(values.shape[0]).unsqueeze(-1), order]
                    super().__init__(values.shape[:1])
            """,
            line=5,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            from torch.distributions import Distribution
            class Binned(Distribution):
                def __init__(self, logits, low, high, bins):
                    edges = torch.linspace(low, high, bins + 1)
                    edges = edges.to(logits.device)
                    self.edges = edges
            """,
            line=6,
            fixed=NO_FIX,
        ),
        # A default made when the caller passes none runs on every such call, not once.
        Invalid(
            """
            import torch
            def add_noise(x, device, z=None):
                if z is None:
                    z = torch.randn(x.shape).to(device)
                return x + z
            """,
            line=4,
            fixed="""
            import torch
            def add_noise(x, device, z=None):
                if z is None:
                    z = torch.randn(x.shape, device=device)
                return x + z
            """,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # The factories whose host-made index a finding already names.
        self._indices_reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if type(func) is not cst.Attribute or func.attr.value not in _MOVES:
            return
        factory_call: cst.BaseExpression | None = func.value
        bound_to = None
        if type(factory_call) is cst.Name:
            bound_to, factory_call = factory_call, self._factory_moved_next(factory_call, node)
        if type(factory_call) is not cst.Call:
            return
        factory = self.context.imports.qualified_name(factory_call.func)
        record = catalog.lookup(factory)
        if record is None and bound_to is None:
            self._helper_then_move(node, factory_call)
            return
        if (
            factory is None
            or record is None
            or record.library != catalog.TORCH
            or not record.has(catalog.Flag.HOST_ALLOCATION)
            or not self._allocates_on_host(factory_call)
        ):
            return
        move = device_move(node, self.context)
        if move is None or not move.towards_an_accelerator or self.context.runs_once():
            return
        if function_waits_for_device(self.context) is not None:
            # The function reads a tensor on the host anyway: the copy's wait is not the one that matters.
            return
        if move.extras or any(
            arg.keyword is not None and arg.keyword.value not in _KEYWORDS[move.method] for arg in node.args
        ):
            return
        fix = self._fix_text(record, factory, factory_call, move)
        self.report(
            node,
            self.message.format(factory=factory, method=move.method, fix=fix),
            fix=self._build_fix(record, factory, factory_call, move) if bound_to is None else None,
        )

    def _helper_then_move(self, node: cst.Call, helper: cst.Call) -> None:
        """``sample_rademacher(b, d).to(x)``: a function of this file that returns a tensor a
        factory makes on the host, moved at once, in code that runs more than once."""
        factory = host_factory_returned(helper, self.context)
        if factory is None:
            return
        move = device_move(node, self.context)
        if move is None or not move.towards_an_accelerator or move.extras or self.context.runs_once():
            return
        if function_waits_for_device(self.context) is not None:
            return
        name = self.context.imports.qualified_name(factory.func) or quote(factory.func)
        self.report(
            node,
            self.helper_message.format(
                call=quote(helper),
                factory=quote(factory),
                method=move.method,
                function=quote(helper.func),
                name=name,
            ),
        )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        """``x[torch.arange(n), labels]``: a host-made index (or mask) copied to ``x``'s device
        by the indexing itself, in code that runs repeatedly."""
        indexed = node.value
        for element in node.slice:
            index = element.slice
            if type(index) is not cst.Index:
                continue
            factory = host_factory(index.value, self.context)
            if factory is None or id(factory) in self._indices_reported:
                # One finding per index made: its other uses go with the same fix.
                continue
            # Asked only of a tensor indexed by a host-made index: where a tensor lives costs
            # more to work out than what indexes it.
            if on_host(indexed, self.context) or self.context.arrays.kind_of(indexed) == catalog.NUMPY:
                return
            if not self._repeats_on_an_accelerator():
                return
            name = self.context.imports.qualified_name(factory.func) or quote(factory.func)
            device = (
                f"`device={quote(indexed)}.device`" if _plain_reference(indexed) else "the indexed tensor's `device=`"
            )
            made = f" (as `{index.value.value}`)" if type(index.value) is cst.Name else ""
            self._indices_reported.add(id(factory))
            record = catalog.lookup(name)
            unsafe = record is not None and not record.has(catalog.Flag.PURE)
            self.report(
                index.value,
                self.index_message.format(
                    factory=quote(factory), made=made, tensor=quote(indexed), device=device, name=name
                )
                + (_DRAWS_OTHER_NUMBERS if unsafe else ""),
            )
            return

    def _repeats_on_an_accelerator(self) -> bool:
        """The current node runs on every call or iteration of code whose tensors may live on an
        accelerator, in a function that does not read tensors on the host anyway."""
        return (
            self.context.frequency().repeats
            and may_use_an_accelerator(self.context)
            and not self.context.in_compiled_code()
            and function_waits_for_device(self.context) is None
            and not function_reads_host_tensors(self.context)
        )

    def _factory_moved_next(self, name: cst.Name, move: cst.Call) -> cst.Call | None:
        """The factory call ``name`` was assigned in the statement just before the one that
        moves it (``m = torch.ones(n, n)`` then ``m = m.to(device)``), when the host tensor is
        used for nothing else: the move rebinds the name, or the function mentions it nowhere
        but in those two statements."""
        assigned = value_of(name, self.context)
        if type(assigned) is not cst.Call:
            return None
        assign_path, move_path = self.context.path_to(assigned), self.context.path_to(move)
        statement = next((node for node in reversed(assign_path) if type(node) is cst.SimpleStatementLine), None)
        if statement is None or len(statement.body) != 1 or type(statement.body[0]) is not cst.Assign:
            return None
        targets = statement.body[0].targets
        if len(targets) != 1 or type(targets[0].target) is not cst.Name or statement.body[0].value is not assigned:
            return None
        block = cast("cst.IndentedBlock | cst.Module", assign_path[assign_path.index(statement) - 1])
        if block not in move_path:
            return None
        moving = move_path[move_path.index(block) + 1]
        position = next((index for index, line in enumerate(block.body) if line is statement), None)
        if position is None or position + 1 >= len(block.body) or block.body[position + 1] is not moving:
            return None
        if _rebinds_with(moving, name.value, move):
            return assigned
        function = self.context.function
        scope = function.node if function is not None else self.context.module
        moved_here = mention_count(moving, name.value)
        uses = mention_count(scope, name.value)
        return assigned if moved_here == 1 and uses == mention_count(statement, name.value) + moved_here else None

    def _build_fix(
        self, record: catalog.Function, factory: str, factory_call: cst.Call, moved: DeviceMove
    ) -> Fix | None:
        """The factory given the move's device (and dtype), in place of the move; None where
        that would not make the same tensor (see ``fix_safety_note``)."""
        move = moved.call
        zeros_or_ones = record.has(catalog.Flag.FILLS_ZEROS_OR_ONES)
        random = not record.has(catalog.Flag.PURE)
        if not (zeros_or_ones or random) or _comments_outside(move, factory_call):
            return None
        if any(
            arg.keyword is not None and arg.keyword.value in _FACTORY_KEYWORDS_WITHOUT_FIX for arg in factory_call.args
        ):
            return None
        destination = _cuda_destination(moved) if moved.method == "cuda" else _to_destination(moved)
        if destination is None:
            return None
        device, dtype = destination
        if dtype is not None and not zeros_or_ones:
            return None
        created = with_keyword(factory_call, "device", device)
        keywords = f"device={quote(device)}"
        if dtype is not None:
            created = with_keyword(created, "dtype", dtype)
            keywords += f", dtype={quote(dtype)}"
        created = created.with_changes(lpar=[*move.lpar, *created.lpar], rpar=[*created.rpar, *move.rpar])
        return Fix.replace(
            move,
            created,
            safety=FIX_SAFE if zeros_or_ones else FIX_UNSAFE,
            title=f"Pass `{keywords}` to `{factory}` and drop the `.{cast(cst.Attribute, move.func).attr.value}()`",
        )

    def _fix_text(self, record: catalog.Function, factory: str, factory_call: cst.Call, move: DeviceMove) -> str:
        """The fix in the user's own expressions: ``device=`` with the move's device (and the
        dtype it casts to), or the ``_like`` factory when the shape and the device both come
        from one tensor."""
        device, source = self._destination(move)
        dtype = f"{source}.dtype" if source is not None else (quote(move.dtype) if move.dtype is not None else None)
        like = self._like_form(record, factory_call, device, source, None if source is not None else dtype)
        if like is not None:
            takes_its_dtype = source is None and dtype is None
            text = f"use `{like}`" + (" (it takes that tensor's dtype too)" if takes_its_dtype else "")
        else:
            keywords = f"device={device}" + (f", dtype={dtype}" if dtype is not None else "")
            text = f"pass `{keywords}` to `{factory}`"
        if not record.has(catalog.Flag.PURE):
            text += _DRAWS_OTHER_NUMBERS
        return text

    @staticmethod
    def _destination(move: DeviceMove) -> tuple[str, str | None]:
        """The device expression the factory should get, and the tensor whose device (and
        dtype) ``.to(tensor)`` or ``.type_as(tensor)`` takes, if that is the move's form."""
        if move.like is not None:
            code = quote(move.like)
            return f"{code}.device", code
        if move.device is None:
            return '"cuda"', None
        return quote(move.device), None

    @staticmethod
    def _like_form(
        record: catalog.Function, factory_call: cst.Call, device: str, source: str | None, dtype: str | None
    ) -> str | None:
        """``torch.zeros_like(x)`` for ``torch.zeros(x.shape)`` moved to ``x.device`` (or to
        ``x``), when torch has that ``_like`` factory; given ``dtype``, the dtype the move casts
        to (``torch.zeros_like(x, dtype=t)``)."""
        like = catalog.lookup(f"{record.name}_like")
        signature = record.signature
        takes_size_first = signature.var_positional == "size" or signature.positional[:1] == ("size",)
        positional = positional_arguments(factory_call)
        if like is None or not takes_size_first or not positional:
            return None
        tensor = _shape_source(positional[0].value)
        if tensor is None or (source != tensor if source is not None else device != f"{tensor}.device"):
            return None
        rest = [quote(arg).rstrip(", ") for arg in factory_call.args[1:]]
        if dtype is not None:
            rest.append(f"dtype={dtype}")
        return f"{like.name}({', '.join([tensor, *rest])})"

    @staticmethod
    def _allocates_on_host(factory_call: cst.Call) -> bool:
        """On the host, and free to be made elsewhere: not pinned there by a generator or by
        ``pin_memory=True`` (pinned host memory is wanted on the host)."""
        # ``torch.zeros(*shape)``: unpacked positions hold sizes; ``**kwargs`` may hold ``device=``.
        if any(arg.star == "**" for arg in factory_call.args) or keyword_argument(factory_call, "device") is not None:
            return False
        if pinned_to_host(factory_call):
            return False
        pin_memory = keyword_argument(factory_call, "pin_memory")
        return pin_memory is None or literal_value(pin_memory.value) is False


def _cuda_destination(move: DeviceMove) -> tuple[cst.BaseExpression, None] | None:
    """``"cuda"`` for ``.cuda()``, ``"cuda:1"`` for ``.cuda(1)``, a string literal as it is."""
    if move.device is None:
        return cst.SimpleString('"cuda"'), None
    value = literal_value(move.device)
    if isinstance(value, str):
        return move.device, None
    if isinstance(value, int) and not isinstance(value, bool):
        return cst.SimpleString(f'"cuda:{value}"'), None
    return None


def _to_destination(move: DeviceMove) -> tuple[cst.BaseExpression, cst.BaseExpression | None] | None:
    """The device and the dtype (None: unchanged) the factory gets for ``.to(device, dtype)``
    in any of its spellings, or for ``.to(other)`` (``.type_as(other)``): ``other.device``,
    ``other.dtype``, when ``other`` can be written twice."""
    if move.device is None or (move.like is not None and not _plain_reference(move.like)):
        return None
    return move.device, move.dtype


def _plain_reference(expr: cst.BaseExpression) -> bool:
    """A name or a chain of attributes of one (``x``, ``self.weight``): cheap to evaluate twice."""
    while type(expr) is cst.Attribute:
        expr = expr.value
    return type(expr) is cst.Name and not expr.lpar


def _rebinds_with(statement: cst.CSTNode, name: str, move: cst.Call) -> bool:
    """``statement`` is ``name = <move>``: the host tensor is not reachable after it."""
    if type(statement) is not cst.SimpleStatementLine or len(statement.body) != 1:
        return False
    assign = statement.body[0]
    return (
        type(assign) is cst.Assign
        and assign.value is move
        and len(assign.targets) == 1
        and type(assign.targets[0].target) is cst.Name
        and assign.targets[0].target.value == name
    )


def _nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and everything below it, whitespace and comments included."""
    yield node
    for child in node.children:
        yield from _nodes(child)


def _comments_outside(move: cst.Call, factory_call: cst.Call) -> bool:
    """A comment in the move but not in the factory's call: the fix would drop it."""
    inside = sum(1 for node in _nodes(factory_call) if type(node) is cst.Comment)
    return sum(1 for node in _nodes(move) if type(node) is cst.Comment) > inside


def _shape_source(expr: cst.BaseExpression) -> str | None:
    """``x`` for ``x.shape`` or ``x.size()``."""
    if type(expr) is cst.Attribute and expr.attr.value == "shape":
        return quote(expr.value)
    if type(expr) is cst.Call and not expr.args and type(expr.func) is cst.Attribute and expr.func.attr.value == "size":
        return quote(expr.func.value)
    return None


def _setup(size: int, target: Target) -> tuple:
    return size, target.device


def _pattern(size: int, device: str):
    import torch

    grid = torch.arange(size * size).to(device).reshape(size, size)
    mask = torch.full((size, size), 0.5).to(device)
    return grid * mask


def _fix(size: int, device: str):
    import torch

    grid = torch.arange(size * size, device=device).reshape(size, size)
    mask = torch.full((size, size), 0.5, device=device)
    return grid * mask


CreateThenMove.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(256, 1024, 4096),
    check_size=8,
    size_unit="rows and columns of an int64 and a float32 tensor",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    timed=(
        "An n x n int64 `torch.arange` grid and an n x n float32 `torch.full` mask created on the "
        "host and moved with `.to(device)`, then multiplied, against both created with `device=`; "
        "CUDA only (on the CPU there is no move)."
    ),
)
