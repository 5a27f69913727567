"""PFL503: a convolution's bias that the batch norm right after it cancels."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_UNSAFE, Fix, Invalid, Rule
from perflint.engine.walker import syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.settings import FAMILY


class ConvBiasBeforeBatchNorm(Rule):
    """``nn.Sequential(nn.Conv2d(...), nn.BatchNorm2d(...))`` with the convolution's bias on."""

    code = "PFL503"
    name = "conv-bias-before-batchnorm"
    family = FAMILY
    summary = "Convolution with a bias directly followed by a batch norm, which cancels the bias"
    message = "`{norm}` subtracts each channel's mean, so the bias of `{conv}` is cancelled: pass `bias=False` to it"
    fix_title = "Pass `bias=False` to the convolution"
    fix_safety = FIX_UNSAFE
    autofix = True
    default_enabled = False
    required_text = ("BatchNorm",)
    reported_at = "the convolution's constructor call"

    what_it_does = (
        "Flags, among the arguments of `torch.nn.Sequential(...)`, a `Conv1d`, `Conv2d` or "
        "`Conv3d` that does not pass `bias=False` (no `bias`, or a literal `True`) when the "
        "next argument is the batch norm of the same dimensionality (`BatchNorm1d`, `2d`, "
        "`3d`). A non-literal `bias`, an activation or anything else between the two, and "
        "layers wired together in `forward` are left alone. The rule is opt-in "
        "(`--extend-select PFL503`): see below."
    )
    why_bad = (
        "Batch normalisation subtracts the per-channel mean of its input, and a convolution's "
        "bias adds one constant per channel, so the bias disappears in the subtraction: in "
        "training mode the output is exactly the same without it. Keeping it costs a "
        "broadcast addition over the whole activation map in every forward pass, its gradient "
        "(a reduction over the map) in every backward pass, an optimizer update per step, and "
        "a parameter that learns nothing. The saving is small: convolution libraries fuse the "
        "bias into the convolution kernel, and on a CPU a 3x3 convolution with batch norm "
        "timed the same with and without the bias, within the noise. On real code (timm, "
        "transformers, diffusers, torchvision, Lightning) every finding was in a port of a "
        "published model, whose checkpoints hold the bias: dropping it there means "
        "converting every checkpoint. So the rule is off by default: enable it for models you "
        "train from scratch, where `bias=False` is free and is the convention."
    )
    example = """\
import torch.nn as nn

block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU())
"""
    use_instead = """\
import torch.nn as nn

block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
"""
    fix_safety_note = (
        "The fix passes `bias=False` to the convolution (or turns its `True` into `False`). "
        "Unsafe: the model's state dict loses the `…bias` keys of those convolutions, so "
        "checkpoints saved before the change no longer load with `strict=True` (load them "
        "with `strict=False`, or drop the keys). In training mode the output is unchanged. In "
        "evaluation mode the norm subtracts its running mean, which learnt the bias: a model "
        "trained without the bias computes the same function, but a checkpoint trained with "
        "it keeps its outputs only if each norm's `running_mean` is reduced by the dropped "
        "bias when converting. A container whose layers are also reached one by one in the same "
        "class or file (`self.head = self.body[0]`, `for layer in self.body`) is not flagged: a "
        "convolution used without its norm needs its bias."
    )

    VALID = (
        # The first convolution is also used alone, without the norm that cancels its bias.
        """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8))
                self.head = self.body[0]
        """,
        # Already without bias.
        """
        import torch.nn as nn
        block = nn.Sequential(nn.Conv2d(3, 16, 3, bias=False), nn.BatchNorm2d(16))
        """,
        # An activation between the two: the bias shifts what the activation sees.
        """
        from torch import nn
        block = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU(), nn.BatchNorm2d(16))
        """,
        # Mismatched dimensionality, a norm that does not subtract the channel mean, a
        # value decided elsewhere, and a convolution last.
        """
        import torch.nn as nn
        a = nn.Sequential(nn.Conv1d(3, 16, 3), nn.BatchNorm2d(16))
        b = nn.Sequential(nn.Conv2d(3, 16, 3), nn.GroupNorm(4, 16))
        c = nn.Sequential(nn.Conv2d(3, 16, 3, bias=use_bias), nn.BatchNorm2d(16))
        d = nn.Sequential(nn.BatchNorm2d(3), nn.Conv2d(3, 16, 3))
        """,
        # Not in a Sequential: what forward does with them is not visible here.
        """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16)]
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch.nn as nn
            block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU())
            """,
            line=2,
            column=23,
            fixed="""
            import torch.nn as nn
            block = nn.Sequential(nn.Conv2d(64, 128, 3, padding=1, bias=False), nn.BatchNorm2d(128), nn.ReLU())
            """,
        ),
        Invalid(
            """
            import torch
            stem = torch.nn.Sequential(
                torch.nn.Conv1d(1, 32, kernel_size=7, bias=True),
                torch.nn.BatchNorm1d(32),
            )
            """,
            line=3,
            fixed="""
            import torch
            stem = torch.nn.Sequential(
                torch.nn.Conv1d(1, 32, kernel_size=7, bias=False),
                torch.nn.BatchNorm1d(32),
            )
            """,
        ),
        Invalid(
            """
            from torch.nn import BatchNorm3d, Conv3d, Sequential
            def block(channels):
                return Sequential(Conv3d(channels, channels, 3), BatchNorm3d(channels))
            """,
            line=3,
            fixed="""
            from torch.nn import BatchNorm3d, Conv3d, Sequential
            def block(channels):
                return Sequential(Conv3d(channels, channels, 3, bias=False), BatchNorm3d(channels))
            """,
        ),
        # The bias passed by position (the eighth parameter); a call laid out one argument per line.
        Invalid(
            """
            import torch.nn as nn
            head = nn.Sequential(
                nn.Conv2d(16, 16, 3, 1, 1, 1, 1, True),
                nn.BatchNorm2d(16),
            )
            down = nn.Sequential(
                nn.Conv2d(
                    16,
                    32,
                    kernel_size=3,  # no padding
                ),
                nn.ReLU(),
            )
            """,
            line=3,
            fixed="""
            import torch.nn as nn
            head = nn.Sequential(
                nn.Conv2d(16, 16, 3, 1, 1, 1, 1, False),
                nn.BatchNorm2d(16),
            )
            down = nn.Sequential(
                nn.Conv2d(
                    16,
                    32,
                    kernel_size=3,  # no padding
                ),
                nn.ReLU(),
            )
            """,
        ),
        Invalid(
            """
            import torch.nn as nn
            stem = nn.Sequential(
                nn.Conv2d(
                    3,
                    32,
                    kernel_size=3,  # no padding
                ),
                nn.BatchNorm2d(32),
            )
            """,
            line=3,
            fixed="""
            import torch.nn as nn
            stem = nn.Sequential(
                nn.Conv2d(
                    3,
                    32,
                    kernel_size=3,  # no padding
                    bias=False,
                ),
                nn.BatchNorm2d(32),
            )
            """,
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.imports.qualified_name(node.func) not in catalog.SEQUENTIAL_CONTAINERS:
            return
        layers = node.args
        used_alone = None
        for layer, following in zip(layers, layers[1:]):
            if layer.star or following.star or layer.keyword is not None or following.keyword is not None:
                continue
            conv = self._layer_record(layer.value)
            norm = self._layer_record(following.value)
            if conv is None or norm is None or catalog.BIAS_CANCELLING_NORMS.get(conv.name) != norm.name:
                continue
            arguments = catalog.bind(layer.value, conv)
            if arguments is None or not arguments.is_known("bias"):
                continue
            bias = arguments.argument("bias")
            if bias is None or literal_value(bias) is True:
                no_bias = cst.Name("False")
                fix = (
                    Fix.replace(layer.value, with_keyword(layer.value, "bias", no_bias))
                    if bias is None
                    else Fix.replace(bias, no_bias)
                )
                if used_alone is None:
                    used_alone = self._layers_used_alone(node)
                if used_alone:
                    # A convolution also used without its norm (``self.head = self.body[0]``)
                    # needs its bias there: nothing to report.
                    continue
                self.report(
                    layer.value, self.message.format(conv=quote(layer.value), norm=quote(following.value)), fix=fix
                )

    def _layers_used_alone(self, container: cst.Call) -> bool:
        """The container's layers are reached one by one elsewhere in its class (or, outside
        a class, its file): it is assigned to a name or attribute that is also indexed,
        sliced or iterated (``self.body[0]``, ``for layer in self.body``). A container built
        and returned or nested is followed no further (the fix is unsafe anyway)."""
        parent = self.context.parents.get(id(container))
        if type(parent) is not cst.Assign or len(parent.targets) != 1:
            return False
        chain = dotted_name(parent.targets[0].target)
        if chain is None:
            return False
        owner = self.context.functions.current_class
        stack: list[cst.CSTNode] = [owner.node if owner is not None else self.context.module]
        while stack:
            node = stack.pop()
            if type(node) is cst.Subscript and dotted_name(node.value) == chain:
                return True
            if type(node) in (cst.For, cst.CompFor) and dotted_name(node.iter) == chain:
                return True
            stack.extend(syntax_children(node))
        return False

    def _layer_record(self, expr: cst.BaseExpression) -> catalog.Function | None:
        if type(expr) is not cst.Call:
            return None
        return catalog.lookup(self.context.imports.qualified_name(expr.func))


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    torch.manual_seed(0)
    with_bias = torch.nn.Sequential(torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.BatchNorm2d(32)).to(device)
    without_bias = torch.nn.Sequential(torch.nn.Conv2d(32, 32, 3, padding=1, bias=False), torch.nn.BatchNorm2d(32)).to(
        device
    )
    with torch.no_grad():
        without_bias[0].weight.copy_(with_bias[0].weight)
    images = torch.randn(8, 32, size, size, device=device)
    return with_bias, without_bias, images


def _train_step(block, images):
    block.zero_grad()
    output = block(images)
    output.square().mean().backward()
    return output.detach(), block[0].weight.grad


def _pattern(with_bias, without_bias, images):
    return _train_step(with_bias, images)


def _fix(with_bias, without_bias, images):
    return _train_step(without_bias, images)


ConvBiasBeforeBatchNorm.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(16, 48, 160),
    check_size=8,
    size_unit="pixels per side (8 images, 32 channels, 3x3 convolution, forward and backward)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "A forward and backward pass of a 3x3 convolution (32 channels, 8 images of n x n pixels) "
        "followed by BatchNorm: the convolution with a bias against without one."
    ),
)
