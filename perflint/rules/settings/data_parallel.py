"""PFL505: ``nn.DataParallel``, which PyTorch itself advises against."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY

DATA_PARALLEL = catalog.listed("torch.nn.DataParallel")


class DataParallel(Rule):
    """``torch.nn.DataParallel(model)``."""

    code = "PFL505"
    name = "data-parallel"
    family = FAMILY
    summary = "`nn.DataParallel` replicates the model from one process on every step"
    message = (
        "`{callee}({module})` runs every GPU from one Python process and copies the weights to "
        "each GPU on every forward pass; use `torch.nn.parallel.DistributedDataParallel` with "
        "one process per GPU"
    )
    fix_title = "Use `DistributedDataParallel`, one process per GPU (launched with `torchrun`)"
    fix_safety = FIX_UNSAFE
    default_enabled = False
    required_text = ("DataParallel",)
    reported_at = "the `DataParallel(...)` call"

    what_it_does = (
        "Flags a call of `torch.nn.DataParallel` (however imported); a mention that does not "
        "construct one (`isinstance(model, nn.DataParallel)`, to unwrap a model) is left "
        "alone. The rule is opt-in (`--extend-select PFL505`): see below."
    )
    why_bad = (
        "`DataParallel` drives all GPUs from one Python process: on every forward pass it "
        "copies the model's parameters and buffers from the first GPU to each of the others, "
        "scatters the batch, runs one thread per GPU (contending for the GIL), and gathers "
        "every output back on the first GPU, which therefore does more work and holds more "
        "memory than the rest. PyTorch's documentation recommends "
        "`DistributedDataParallel` instead even on a single machine: one process per GPU, "
        "weights broadcast once, and gradients averaged by all-reduce overlapped with the "
        "backward pass. Where the rule belongs is a training script: libraries that offer "
        'DataParallel as an option (Lightning\'s `strategy="dp"`, the Hugging Face `Trainer` '
        "started as one process on several GPUs) rightly keep it, and on the real code this "
        "rule was tried on those were its only findings. So it is off by default: enable it "
        "for your own training code."
    )
    example = """\
import torch

model = torch.nn.DataParallel(model).cuda()
"""
    use_instead = """\
import os
import torch
import torch.distributed as dist

# launched with: torchrun --nproc-per-node=NUM_GPUS train.py
dist.init_process_group("nccl")
rank = int(os.environ["LOCAL_RANK"])
torch.cuda.set_device(rank)
model = torch.nn.parallel.DistributedDataParallel(model.cuda(rank), device_ids=[rank])
"""
    fix_safety_note = (
        "Unsafe, and not mechanical: the script must be launched with one process per GPU "
        "(`torchrun`), initialise a process group, give each process its share of the data "
        "(`DistributedSampler`), and save checkpoints or log from one rank only. The state "
        "dict keys keep their `module.` prefix."
    )

    VALID = (
        # The recommended wrapper.
        """
        import torch
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank])
        """,
        # A class of the same name that is not torch's.
        """
        class DataParallel:
            pass
        model = DataParallel(model)
        """,
        # Only a mention: an isinstance check, to unwrap a model someone else wrapped.
        """
        import torch
        if isinstance(model, torch.nn.DataParallel):
            model = model.module
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            model = torch.nn.DataParallel(model).cuda()
            """,
            line=2,
            column=9,
        ),
        Invalid(
            """
            from torch.nn import DataParallel
            if torch.cuda.device_count() > 1:
                net = DataParallel(net, device_ids=[0, 1])
            """,
            line=3,
        ),
        Invalid(
            """
            import torch.nn as nn
            def wrap(model):
                return nn.parallel.DataParallel(model)
            """,
            line=3,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if catalog.lookup(self.context.imports.qualified_name(node.func)) is not DATA_PARALLEL:
            return
        arguments = catalog.bind(node, DATA_PARALLEL)
        module = arguments.argument("module") if arguments is not None else None
        self.report(
            node, self.message.format(callee=quote(node.func), module=quote(module) if module is not None else "…")
        )


# DataParallel's cost (copying the weights to each GPU and gathering the outputs on every
# step, threads contending for the GIL) exists only with two or more GPUs, and its fix runs one
# process per GPU: a single-process micro-benchmark cannot time the two honestly, so on a
# device this benchmark is always skipped with that reason. On the CPU, where DataParallel
# calls the module directly, the agreement check only proves that wrapping changes no output.
def _setup(size: int, target: Target) -> tuple:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(size, size), torch.nn.ReLU(), torch.nn.Linear(size, size))
    inputs = torch.randn(64, size)
    return model, inputs


def _pattern(model, inputs):
    import torch

    return torch.nn.DataParallel(model)(inputs).detach()


def _fix(model, inputs):
    return model(inputs).detach()


DataParallel.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(128, 1024, 4096),
    check_size=16,
    size_unit="features (two linear layers, batch of 64, forward pass)",
    backend=TORCH_BACKEND,
    devices=("cuda",),
    version=2,
    timed=(
        "Nothing is timed. The benchmark only checks, on the CPU, that a two-layer MLP's forward pass "
        "through `nn.DataParallel` gives the plain model's result."
    ),
    not_timed=(
        "DataParallel's cost (scattering inputs, replicating the model and gathering outputs across "
        "GPUs from one Python thread) appears only with two or more GPUs, and its fix, "
        "DistributedDataParallel, runs one process per GPU; a one-process micro-benchmark measures "
        "neither"
    ),
)
