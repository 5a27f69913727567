"""PFL503: a convolution's bias that the batch norm right after it cancels."""

from __future__ import annotations

from typing import cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.imports import dotted_name
from perflint.engine.literals import literal_value
from perflint.engine.quoting import quote
from perflint.engine.rewrite import with_keyword
from perflint.engine.rule import FIX_UNSAFE, Fix, Invalid, Rule
from perflint.engine.values import value_of
from perflint.engine.walker import contains, mentions, syntax_children
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
        "`3d`); and, in a method of a class, a norm called on a convolution's output "
        "(`self.bn1(self.conv1(x))`, or `h = self.conv1(x)` then `self.bn1(h)` with `h` read "
        "nowhere else) when the class assigns `self.conv1` a convolution with its bias on and "
        "`self.bn1` the matching batch norm, once each, and reads `self.conv1` only there."
    )
    known_limitations = (
        "Left alone: a non-literal `bias`, an activation or anything else between the two, a "
        "norm under a condition in `forward` (`if self.use_bn: h = self.bn(h)`), layers chosen "
        "at run time (`norm_layer(c)`, `BatchNorm2d(c) if bn else Identity()`), layers built in "
        "a helper or a base class, a convolution whose output or bias is also used elsewhere (a "
        "residual, `nn.init.zeros_(self.conv1.bias)`), and a pair wired through a loop or a "
        "`ModuleList`. The rule is opt-in (`--extend-select PFL503`): see below. On round 2's "
        "development set, of the pairs wired in `forward`, one was in a model trained from scratch "
        "(neuralforecast's Informer) and seven were in ports whose published checkpoints hold the "
        "bias (kornia's SOLD2, speechbrain's PIQ)."
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
        # Not in a Sequential, and no forward to show how they are wired.
        """
        import torch.nn as nn
        layers = [nn.Conv2d(3, 16, 3), nn.BatchNorm2d(16)]
        """,
        # Wired in forward, but the convolution's output is also used without the norm (a
        # residual), the convolution is called twice or its bias is read, a norm of another
        # dimensionality, a norm chosen at run time, and an activation in between.
        """
        import torch.nn as nn
        class Block(nn.Module):
            def __init__(self, c, use_norm):
                super().__init__()
                self.conv1 = nn.Conv2d(c, c, 3, padding=1)
                self.bn1 = nn.BatchNorm2d(c)
                self.conv2 = nn.Conv2d(c, c, 3, padding=1)
                self.bn2 = nn.BatchNorm2d(c)
                self.conv3 = nn.Conv2d(c, c, 1)
                self.bn3 = nn.BatchNorm2d(c)
                nn.init.zeros_(self.conv3.bias)
                self.conv4 = nn.Conv1d(c, c, 1)
                self.bn4 = nn.BatchNorm2d(c)
                self.conv5 = nn.Conv2d(c, c, 1)
                self.bn5 = nn.BatchNorm2d(c) if use_norm else nn.Identity()
                self.conv6 = nn.Conv2d(c, c, 1)
                self.bn6 = nn.BatchNorm2d(c)
                self.conv7 = nn.Conv2d(c, c, 1)
                self.bn7 = nn.BatchNorm2d(c)
                self.use_norm = use_norm
            def forward(self, x):
                h = self.conv1(x)
                y = self.bn1(h) + h
                z = self.conv7(x)
                if self.use_norm:
                    z = self.bn7(z)
                y = self.bn2(self.conv2(self.conv2(y)))
                y = self.bn3(self.conv3(y)) + self.bn4(self.conv4(y))
                y = self.bn5(self.conv5(y))
                return self.bn6(self.conv6(y).relu()) + z
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
        # Wired in forward: the norm's input is the convolution's output, directly or through a name.
        Invalid(
            """
            import torch.nn as nn
            class Block(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.conv1 = nn.Conv2d(c, c, 3, padding=1)
                    self.bn1 = nn.BatchNorm2d(c)
                def forward(self, x):
                    return self.bn1(self.conv1(x)).relu() + x
            """,
            line=5,
            column=22,
            fixed="""
            import torch.nn as nn
            class Block(nn.Module):
                def __init__(self, c):
                    super().__init__()
                    self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
                    self.bn1 = nn.BatchNorm2d(c)
                def forward(self, x):
                    return self.bn1(self.conv1(x)).relu() + x
            """,
        ),
        Invalid(
            """
            from torch import nn
            class Stem(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv1d(1, 32, 7, bias=True)
                    self.norm = nn.BatchNorm1d(32)
                def forward(self, x):
                    h = self.conv(x)
                    h = self.norm(h)
                    return h.relu()
            """,
            line=5,
            fixed="""
            from torch import nn
            class Stem(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.conv = nn.Conv1d(1, 32, 7, bias=False)
                    self.norm = nn.BatchNorm1d(32)
                def forward(self, x):
                    h = self.conv(x)
                    h = self.norm(h)
                    return h.relu()
            """,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        # Convolutions already reported through a ``forward`` that feeds them to their norm.
        self._reported: set[int] = set()

    def visit_Call(self, node: cst.Call) -> None:
        if self.context.imports.qualified_name(node.func) not in catalog.SEQUENTIAL_CONTAINERS:
            self._check_wired_pair(node)
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
            fix = self._bias_fix(cast(cst.Call, layer.value), conv)  # a layer with a record is a call
            if fix is None:
                continue
            if used_alone is None:
                used_alone = self._layers_used_alone(node)
            if used_alone:
                # A convolution also used without its norm (``self.head = self.body[0]``)
                # needs its bias there: nothing to report.
                continue
            self.report(layer.value, self.message.format(conv=quote(layer.value), norm=quote(following.value)), fix=fix)

    def _check_wired_pair(self, call: cst.Call) -> None:
        """``self.bn1(self.conv1(x))`` (or ``h = self.conv1(x)`` then ``self.bn1(h)``) in a
        method, with both layers built once in the class and the convolution used nowhere else."""
        norm_attribute = _self_attribute(call.func)
        if norm_attribute is None or len(call.args) != 1 or call.args[0].keyword or call.args[0].star:
            return
        functions = self.context.functions
        norm = functions.attribute_value(norm_attribute)
        norm_record = self._layer_record(norm) if norm is not None else None
        if norm_record is None or norm_record.name not in catalog.BIAS_CANCELLING_NORMS.values():
            return
        source = call.args[0].value
        conv_call: cst.BaseExpression | None = source
        if type(source) is cst.Name:
            conv_call = value_of(source, self.context)
            if conv_call is None or not self._only_feeds(source.value, conv_call, call):
                return
        if type(conv_call) is not cst.Call:
            return
        conv_attribute = _self_attribute(conv_call.func)
        if conv_attribute is None:
            return
        conv = functions.attribute_value(conv_attribute)
        conv_record = self._layer_record(conv) if conv is not None else None
        if (
            conv is None
            or conv_record is None
            or catalog.BIAS_CANCELLING_NORMS.get(conv_record.name) != norm_record.name
        ):
            return
        owner = functions.current_class
        if owner is None or id(conv) in self._reported or _attribute_reads(owner.node, conv_attribute) != 1:
            # The convolution is also used without its norm (``self.conv1`` read twice).
            return
        fix = self._bias_fix(cast(cst.Call, conv), conv_record)  # a layer with a record is a call
        if fix is None:
            return
        self._reported.add(id(conv))
        self.report(conv, self.message.format(conv=quote(conv), norm=quote(call)), fix=fix)

    def _only_feeds(self, name: str, conv_call: cst.BaseExpression, norm_call: cst.Call) -> bool:
        """``name = conv_call`` is a statement of the current function's body, and the next
        read of ``name`` is the argument of ``norm_call``, its only read of that binding."""
        function = self.context.function
        if function is None or type(function.node.body) is not cst.IndentedBlock:
            return False
        body = list(function.node.body.body)
        holding = [statement for statement in body if contains(statement, norm_call)]
        binding = [
            index
            for index, statement in enumerate(body)
            if type(statement) is cst.SimpleStatementLine
            and len(statement.body) == 1
            and type(statement.body[0]) is cst.Assign
            and statement.body[0].value is conv_call
        ]
        if len(holding) != 1 or len(binding) != 1 or type(holding[0]) is not cst.SimpleStatementLine:
            # A norm under a condition (``if self.use_bn: h = self.bn(h)``) may not run.
            return False
        start, end = binding[0], body.index(holding[0])
        if end <= start or any(mentions(statement, name) for statement in body[start + 1 : end]):
            return False
        if _name_reads(holding[0], name) != 1:
            return False
        rebinds = any(
            type(target.target) is cst.Name and target.target.value == name
            for small in holding[0].body
            if type(small) is cst.Assign
            for target in small.targets
        )
        return rebinds or not any(mentions(statement, name) for statement in body[end + 1 :])

    def _bias_fix(self, conv: cst.Call, record: catalog.Function) -> Fix | None:
        """``bias=False`` for a convolution whose bias is on (not passed, or a literal ``True``)."""
        arguments = catalog.bind(conv, record)
        if arguments is None or not arguments.is_known("bias"):
            return None
        bias = arguments.argument("bias")
        no_bias = cst.Name("False")
        if bias is None:
            return Fix.replace(conv, with_keyword(conv, "bias", no_bias))
        if literal_value(bias) is True:
            return Fix.replace(bias, no_bias)
        return None

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
            if (type(node) is cst.For or type(node) is cst.CompFor) and dotted_name(node.iter) == chain:
                return True
            stack.extend(syntax_children(node))
        return False

    def _layer_record(self, expr: cst.BaseExpression) -> catalog.Function | None:
        if type(expr) is not cst.Call:
            return None
        return catalog.lookup(self.context.imports.qualified_name(expr.func))


def _self_attribute(expr: cst.CSTNode) -> str | None:
    """``conv1`` for ``self.conv1``."""
    if type(expr) is cst.Attribute and type(expr.value) is cst.Name and expr.value.value == "self":
        return expr.attr.value
    return None


def _attribute_reads(class_node: cst.ClassDef, attribute: str) -> int:
    """How many times the class's methods read ``self.<attribute>`` (assignments to it not counted)."""
    reads = 0
    pending: list[cst.CSTNode] = [class_node.body]
    while pending:
        node = pending.pop()
        if type(node) is cst.Assign:
            pending.append(node.value)
            pending.extend(target.target for target in node.targets if _self_attribute(target.target) is None)
            continue
        if _self_attribute(node) == attribute:
            reads += 1
        pending.extend(syntax_children(node))
    return reads


def _name_reads(statement: cst.CSTNode, name: str) -> int:
    """How many times ``statement`` reads the variable ``name`` (assigned targets not counted)."""
    reads = 0
    pending: list[cst.CSTNode] = [statement]
    while pending:
        node = pending.pop()
        if type(node) is cst.Assign:
            pending.append(node.value)
            pending.extend(target.target for target in node.targets if type(target.target) is not cst.Name)
            continue
        if type(node) is cst.Name and node.value == name:
            reads += 1
        elif type(node) is cst.Attribute:
            pending.append(node.value)
            continue
        pending.extend(syntax_children(node))
    return reads


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
