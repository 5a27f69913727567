"""PFL212: a branch in ``forward`` that needs a tensor's value on the host."""

from __future__ import annotations

import builtins
from typing import Union

import libcst as cst

from perflint.engine import catalog
from perflint.engine.control_flow import (
    checked_on_the_host_first,
    ends_early,
    only_reports,
    short_circuited_by_identity,
)
from perflint.engine.devices import allocated_on_host, function_reads_host_tensors
from perflint.engine.host_reads import function_waits_for_device, is_device_tensor
from perflint.engine.imports import ImportTable, dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rule import FIX_UNSAFE, Invalid, Rule
from perflint.engine.walker import mentions, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.device import FAMILY

Branch = Union[cst.If, cst.While, cst.Assert]
_FIXES = {
    cst.If: "compute both results and select with `torch.where`, or apply the operation "
    "unconditionally (a `clamp` of finite values changes nothing)",
    cst.While: "bound the loop by a Python value (a number of steps), and test the condition only every few iterations",
    cst.Assert: "use {check}, or validate the input once, where it is made, not on every call of `{function}`",
}
# A branch that only raises, warns or logs: the check itself is the point, so no `torch.where`.
_REPORTING_FIX = (
    "the branch only reports a failure: check it with {check}, which does not wait, or only under a debug flag"
)
# A random draw made on the device and read back: drawing it where it is read needs no copy.
_RANDOM_FIX = (
    "`{draw}` draws on the device only to be read on the host: draw it on the host (without "
    "`device=`, or with Python's `random`)"
)
_KEYWORDS = {cst.If: "if", cst.While: "while", cst.Assert: "assert"}
# Top-level packages whose functions are tensor operations (``from torch.nn.functional import
# pad``), catalogued or not.
_TENSOR_LIBRARIES = frozenset({catalog.TORCH.value, catalog.NUMPY.value})


class TensorConditionInForward(Rule):
    """``if torch.isinf(x).any():`` in a module's ``forward``: a host synchronisation per call."""

    code = "PFL212"
    name = "tensor-condition-in-forward"
    family = FAMILY
    summary = "`if`/`while`/`assert` on a tensor's value inside `forward` or other repeated code"
    message = (
        "`{keyword} {test}` reads `{sync}` on the host: a device synchronisation on every call "
        "and a graph break under `torch.compile`; {fix}"
    )
    fix_title = (
        "Write the branch without reading the tensor (`torch.where`, an unconditional op, `torch._assert_async`)"
    )
    fix_safety = FIX_UNSAFE
    # Opt-in: 7 of 14 findings worth fixing, 2 wrong, on round 4's development set and round 3's
    # held-out set (its known limitations say why).
    default_enabled = False
    required_text = ("torch",)
    paid_per_execution = True
    reported_at = "the condition"

    what_it_does = (
        "Flags an `if`, `while` or `assert` whose condition needs a tensor's value, in code the engine "
        "knows repeats: a torch `nn.Module`'s `forward` (or another per-call method: `__call__`, "
        "`_forward`, `generate`, `sample`…, and functions nested in them), the `step` of a "
        "`torch.optim.Optimizer` subclass (once per training step, per parameter), a function that runs per "
        "call or per step or that the project calls from a loop or from such code (a loss, a sampler, a "
        "quantiser, an update, a `*_step` hook: the finding says which), or a training loop or a loop "
        "over a data loader. The condition needs a tensor's value when it takes the truth value of a "
        "known tensor, of `t.any()`/`t.all()`, `torch.any`/`torch.all`, `torch.isfinite(t).all()` or a "
        "comparison of a tensor, or calls something that returns a Python value computed on the device "
        "(`t.item()`, `t.tolist()`, `torch.equal`, `torch.allclose`). A tensor is known by annotation, by "
        "a torch call that always returns one (`torch.isinf(x)`), or by assignment. A guard that only "
        "raises, warns or logs is advised `torch._assert_async` (of the tensor itself for `t.item() != "
        "n`) or a debug flag rather than `torch.where`, and a random draw made on the device only to be "
        "read is advised to be drawn on the host."
    )
    known_limitations = (
        "Left alone: set-up code (`__init__`, `setup`, `build_*`, plotting, entry points) and a loop in a "
        "function nothing shows to repeat (a self-check such as `check_equivariance`, a file parser); "
        "conditions on Python values only (`self.training`, `x.dtype`, `x.shape`, `x is None`, "
        "`x.numel()`), NumPy arrays, tensors on the host (made by a host factory, `torch.rand(1) < "
        "self.p`, `torch.as_tensor(0.5)`, moved there, `x.cpu()`, or compared element by element "
        "with a host tensor of a dimension or more, `upos.eq(torch.tensor([[i]]))`, which torch "
        "refuses for a device tensor); code under a `torch.jit.is_scripting()`, "
        "`torch.jit.is_tracing()` or `torch.compiler.is_compiling()` test or a debugging flag (`if "
        "self.debug:`); a comparison an identity check short-circuits (`a is b or torch.equal(a, b)`), or "
        'that runs only once a check before it found the tensor on the host (`x.device.type == "cpu" and '
        "x.any()`); a "
        "comparison of an element the loop around it indexes (`if pred[i] > 0:`), whose fix is "
        "vectorising the loop; an `if` that ends the loop or the call early (`if mask.all(): break`, `if "
        "not sel.any(): continue`), whose branches run more than tensor operations (the model's "
        "submodules or methods, functions of the project or other libraries) or keep state on the "
        "module (`self.cached = x`), or whose body keeps a reduction undefined on an empty selection (a "
        "`mean`, a `max`) off one: skipping that work can be worth one synchronisation. Also left alone: "
        "a function that waits for the device anyway (`host_reads.function_waits_for_device`): it reads "
        "a tensor on the host elsewhere (`.item()`, `.tolist()`, `torch.unique`), indexes with a boolean "
        "mask on the device, or decides what runs at another tensor test, or reads its tensors with "
        "`.numpy()` in place, which only host tensors allow. Not seen: a wait in a function it calls (a "
        "neighbour list whose cell-list helpers wait anyway), tensors made on the host in another "
        "function, a `float(t)` read elsewhere in the function, and autoray's `anp.*` on torch input.\n\n"
        "Opt-in. In round 2 of the precision review, 2 of its 6 held-out findings were worth fixing and "
        "1 was wrong; in round 3 none of the 8 development findings was (input validation that raises, "
        "judged better kept). Since round 4 it reaches beyond a module's methods to any function the "
        "engine knows repeats (`benchmarks/results/precision/round4/dev_pfl212.md`): on round 4's "
        "development set and round 3's held-out set (now development) 7 of its 14 findings are worth "
        "fixing and 2 are wrong (an optimisation on host tensors in set-up code that the engine sees "
        "called from a loop), far from the 90% with none wrong that turning it on needs; the rest wait "
        "for the device anyway in a function they call, or check a collective's result."
    )
    why_bad = (
        "A GPU runs the work queued by the host asynchronously. To decide the branch, the host "
        "must copy the tensor's value back, so it first waits for every kernel queued so far "
        "to finish: the queue drains and the GPU idles while the host launches the next "
        "kernels. In a layer's `forward` this happens per layer per call. Under "
        "`torch.compile` the data-dependent branch also splits the graph in two (a graph "
        "break). The survey behind this rule found 75 such conditions in 7 packages, 37 of "
        'them "clamp if not finite" guards in transformer layers.'
    )
    example = """\
import torch
from torch import nn

class Block(nn.Module):
    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = self.mlp(hidden)
        if torch.isinf(hidden).any():
            limit = torch.finfo(hidden.dtype).max - 1000
            hidden = torch.clamp(hidden, min=-limit, max=limit)
        return hidden
"""
    use_instead = """\
import torch
from torch import nn

class Block(nn.Module):
    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        hidden = self.mlp(hidden)
        limit = torch.finfo(hidden.dtype).max - 1000
        return torch.clamp(hidden, min=-limit, max=limit)
"""
    fix_safety_note = (
        "Unsafe: the branch-free form computes the same values (clamping finite values within "
        "range changes nothing, and `torch.where` selects what the branch would have), but "
        "it always does the work the branch sometimes skipped, and `torch._assert_async` "
        "reports a failure later, at the next synchronisation, rather than at the `assert`."
    )

    VALID = (
        # A check of the first input only: the lazy-initialisation branch runs once per module.
        """
        import torch
        from torch import nn
        class Net(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if not "checked" in self.log:
                    x_min = x.min()
                    if torch.logical_or(x_min < -1025, x_min > 1025):
                        print("not normalised")
                    self.log["checked"] = True
                return x
        """,
        # Read only once the tensor is known to be on the host, where reading it waits for nothing.
        """
        import torch
        from torch import nn
        class Scorer(nn.Module):
            def forward(self, scores: torch.Tensor, empty: torch.Tensor) -> torch.Tensor:
                if empty.device.type == "cpu" and empty.any():
                    print("documents without tokens")
                if scores.is_cpu and torch.isnan(scores).any():
                    print("NaN scores")
                return scores.masked_fill(empty, 0.0)
        """,
        # An optimizer's step decides on host values: a missing gradient, a sparse layout, a
        # group's hyper-parameter, the count of a state dict.
        """
        import torch
        from torch.optim.optimizer import Optimizer
        class Clipped(Optimizer):
            def step(self, closure=None):
                for group in self.param_groups:
                    for p in group["params"]:
                        if p.grad is None or group["lr"] == 0:
                            continue
                        if p.grad.is_sparse:
                            raise RuntimeError("sparse gradients are not supported")
                        state = self.state[p]
                        if len(state) == 0:
                            state["step"] = 0
                        p.add_(p.grad, alpha=-group["lr"])
        """,
        # The function reads its tensor on the host right after (torch_geometric's `WLConv`):
        # removing this read would save no wait.
        """
        import torch
        from torch import nn
        class Relabel(nn.Module):
            def forward(self, x: torch.Tensor) -> list:
                if (x < 0).any():
                    x = x.clamp_min(0)
                return [self.colours[key] for key in x.tolist()]
        """,
        # Host tensors: compared element by element with a host tensor of a dimension or more
        # (stanza's `upos.eq(torch.tensor([[i]]))`, which torch refuses for a device `upos`), or
        # made by `torch.as_tensor` of a Python number.
        """
        import torch
        from torch import nn
        class Tagger(nn.Module):
            def forward(self, upos: torch.Tensor, i):
                if not torch.all(upos.eq(torch.tensor([[i]]))):
                    upos = upos * 2
                return upos.to(self.device)
        class Scaler(nn.Module):
            def forward(self, x: torch.Tensor):
                if torch.as_tensor(0.5) < 1:
                    x = x * 3
                return x
        """,
        # Python values only: the mode, dtype, shape, identity, element count.
        """
        import torch
        from torch import nn
        class Block(nn.Module):
            def forward(self, x: torch.Tensor, mask=None) -> torch.Tensor:
                if self.training and x.dtype == torch.float16 and mask is None:
                    x = x.float()
                while x.shape[-1] > 8:
                    x = x[..., ::2]
                assert x.numel() > 0
                return x
        """,
        # Under a scripting/compiling guard the check stays in eager code.
        """
        import torch
        from torch import nn
        class Block(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if not torch.jit.is_scripting():
                    if torch.isnan(x).any():
                        raise ValueError("NaN input")
                if not torch.compiler.is_compiling() and torch.isinf(x).any():
                    x = x.clamp(-1e4, 1e4)
                return x
        """,
        # A function that runs once; a plain class's `forward` whose check ends the call early.
        """
        import torch
        from torch import nn
        class Block(nn.Module):
            def __init__(self, weight: torch.Tensor):
                super().__init__()
                assert torch.isfinite(weight).all()
        class Checker:
            def forward(self, x: torch.Tensor):
                if torch.isinf(x).any():
                    return None
        """,
        # Tensors drawn on the host: reading them waits for no device. A parameter whose
        # default contradicts its tensor annotation is what its default says.
        """
        import torch
        from torch import nn
        class RandomFlip(nn.Module):
            def forward(self, img: torch.Tensor, output_attentions: torch.Tensor | None = False):
                if torch.rand(1) < self.p:
                    img = img.flip(-1)
                draw = torch.rand([])
                if draw.item() < self.p and not output_attentions:
                    img = img.flip(-2)
                return img
        """,
        # The branch skips a whole submodule when the input does not need it.
        """
        import torch
        from torch import nn
        class MultiModal(nn.Module):
            def forward(self, input_ids: torch.Tensor, pixels=None):
                embeds = None
                if pixels is not None and (input_ids == self.image_token_id).any():
                    embeds = self.image_embed(input_ids, pixels)
                return embeds
        """,
        # The test ends the loop or the call early: the read decides to skip the rest of the
        # work (an adaptive-depth exit, an empty selection).
        """
        import torch
        from torch import nn
        class Adaptive(nn.Module):
            def forward(self, x: torch.Tensor, halt: torch.Tensor) -> torch.Tensor:
                for layer in self.layers:
                    x = layer(x)
                    if (halt > 0.99).all():
                        break
                for head in self.heads:
                    sel = halt < 0.5
                    if not sel.any():
                        continue
                    x = head(x, sel)
                if torch.isnan(x).any():
                    return x
                return x * 2
        """,
        # Callers pass the same object: the identity check short-circuits the comparison. And
        # checks that run only under a debugging flag.
        """
        import torch
        from torch import nn
        class Cache(nn.Module):
            def forward(self, key: torch.Tensor, cached: torch.Tensor) -> torch.Tensor:
                if key is cached or torch.equal(key, cached):
                    return self.value
                if self.debug:
                    assert torch.isfinite(key).all()
                return key
        """,
        # NumPy arrays, and tensors the linter cannot see.
        """
        import numpy as np
        import torch
        from torch import nn
        class Block(nn.Module):
            def forward(self, x, table: np.ndarray):
                if np.isnan(table).any():
                    table = np.nan_to_num(table)
                if x.isnan().any():
                    x = x.nan_to_num()
                return x
        """,
        # The test picks which code runs (a structured operator for a symmetric kernel), or
        # refreshes state the module caches: `torch.where` cannot select between those.
        """
        import torch
        from torch import nn
        from linear_operator import RootLinearOperator, to_dense
        class LinearKernel(nn.Module):
            def forward(self, x1: torch.Tensor, x2: torch.Tensor):
                if torch.equal(x1, x2):
                    return RootLinearOperator(x1)
                return to_dense(x1 @ x2.mT)
        """,
        """
        import torch
        from torch import nn
        class Scattered(nn.Module):
            def forward(self, x: torch.Tensor) -> torch.Tensor:
                if not torch.equal(x, self.cached):
                    self.parts = [x.to(d) for d in self.devices]
                    self.cached = x
                return self.parts[0]
        """,
        # A transform that ends in `feat.numpy()` (which fails on a device) works on host
        # tensors: its test reads host memory.
        """
        import numpy as np
        import torch
        from torch import nn
        class LogMel(nn.Module):
            def forward(self, spec: torch.Tensor) -> np.ndarray:
                peak = torch.max(torch.abs(spec))
                if peak > 0:
                    spec = torch.log1p(spec / peak)
                return spec.numpy()
        """,
        # No evidence of repetition: a helper nothing shows to be called often, and a loop in
        # set-up code, which runs once per program.
        """
        import torch
        def flip_sign(x: torch.Tensor) -> torch.Tensor:
            if x.sum() > 0:
                return -x
            return x
        def setup(weights: list) -> None:
            for w in weights:
                if torch.isnan(torch.as_tensor(w)).any():
                    w.zero_()
        """,
        # A loop in a function nothing shows to repeat is no evidence; a step that skips work
        # the body would change; a reduction kept off an empty selection; a comparison per
        # element of the loop (vectorising the loop is the fix, not `torch.where`).
        """
        import torch
        def update(params, grads):
            for p, g in zip(params, grads):
                if torch.isfinite(g).all():
                    p.sub_(g)
        def predict_step(counts: torch.Tensor, assignment: torch.Tensor) -> torch.Tensor:
            scores = counts.new_zeros((counts.shape[0], 10))
            for label in range(10):
                selected = assignment == label
                if selected.any():
                    scores[:, label] = counts[:, selected].mean(1)
            return scores
        def sample(pred: torch.Tensor) -> torch.Tensor:
            for i in range(pred.shape[0]):
                if pred[i] > 0:
                    pred[i] = 0
            return pred
        """,
        # The function waits for the device anyway: at another branch that decides what runs
        # (each of an iterative solver's choices), or a boolean-mask index.
        """
        import torch
        def lsqr_step(b: torch.Tensor, alpha: torch.Tensor, eta: torch.Tensor) -> torch.Tensor:
            if torch.any(eta < 0):
                raise ValueError("eta must be non-negative")
            if torch.all(alpha > 0):
                b = b / alpha
            if torch.any(eta > 0):
                b = b + eta
            return b
        def masked_loss(x: torch.Tensor, found: torch.Tensor) -> torch.Tensor:
            x[x < 0] = 0
            if not torch.all(found):
                raise RuntimeError("estimation failed")
            return x.sum()
        """,
        # Set-up code, a self-check's loop, and a tensor moved to the host before the test.
        """
        import torch
        class Basis:
            def __init__(self, radii: torch.Tensor):
                if torch.isnan(radii).any():
                    raise ValueError("NaN radii")
            def check_equivariance(self, points: torch.Tensor):
                for _ in range(10):
                    assert torch.allclose(self.sample(points), self.sample(-points))
        def histogram_loss(x: torch.Tensor) -> torch.Tensor:
            counts = x.cpu()
            if (counts < 0).any():
                raise ValueError("negative counts")
            return x.sum()
        """,
    )
    INVALID = (
        # torch_optimizer's `Lars`: a norm compared on the host for every parameter, every step.
        Invalid(
            """
            import torch
            from torch.optim.optimizer import Optimizer
            class Lars(Optimizer):
                def step(self, closure=None):
                    for group in self.param_groups:
                        for p in group["params"]:
                            p_norm = torch.norm(p)
                            g_norm = torch.norm(p.grad)
                            if p_norm != 0 and g_norm != 0:
                                p.grad.mul_(p_norm / g_norm)
            """,
            line=9,
            column=20,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Block(nn.Module):
                def forward(self, hidden: torch.Tensor) -> torch.Tensor:
                    if hidden.dtype == torch.float16 and torch.isinf(hidden).any():
                        hidden = torch.clamp(hidden, -6e4, 6e4)
                    return hidden
            """,
            line=5,
            column=12,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn
            class Router(nn.Module):
                def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
                    assert torch.all(mask.sum(-1) > 0), "every row needs a token"
                    return x * mask
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Decoder(nn.Module):
                def generate(self, tokens: torch.Tensor, eos: int) -> torch.Tensor:
                    while not (tokens[:, -1] == eos).all():
                        tokens = self.step(tokens)
                    return tokens
            """,
            line=5,
        ),
        # An `assert` in another per-call method: the advice names that method, not `forward`.
        Invalid(
            """
            import torch
            from torch import nn
            class Prior(nn.Module):
                def sample(self, scale: torch.Tensor) -> torch.Tensor:
                    assert (scale > 0).all()
                    return torch.randn_like(scale) * scale
            """,
            line=5,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Norm(nn.Module):
                def forward(self, x: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
                    if torch.allclose(x, ref):
                        ref = ref + self.eps
                    return x - ref
            """,
            line=5,
        ),
        # A guard that only raises: the advice is `torch._assert_async` or a debug flag.
        Invalid(
            """
            import torch
            from torch import nn
            class Block(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    if not torch.isfinite(x).all():
                        raise ValueError("non-finite activations")
                    return x * 2
            """,
            line=5,
        ),
        # A guard mixing a Python flag with a tensor test: the flag stays a plain `if`, the
        # tensor part goes to `torch._assert_async` without Python's `and`/`not`.
        Invalid(
            """
            import torch
            from torch import nn
            class Embed(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    in_range = torch.all(torch.logical_or(x >= 0, x == 0))
                    if self.assert_range and not in_range:
                        raise ValueError("input out of range")
                    return x * 2
            """,
            line=6,
        ),
        # `torch.equal` answers with a Python bool: the tensor `_assert_async` takes is `torch.eq(...).all()`.
        Invalid(
            """
            import torch
            from torch import nn
            class Inducing(nn.Module):
                def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
                    if not torch.equal(x1, x2):
                        raise RuntimeError("x1 should equal x2 in training mode")
                    return x1 @ x2.mT
            """,
            line=5,
        ),
        # A random draw made on the device and read back: the advice is to draw on the host.
        Invalid(
            """
            import torch
            from torch import nn
            class RandomFlip(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    flip = torch.randint(0, 2, (1,), device=x.device)
                    if flip.item():
                        x = x.flip(-1)
                    return x
            """,
            line=6,
        ),
        # A random count drawn on the device, then used as a shape: even where the branch ends
        # the call early, drawing it on the host is the fix.
        Invalid(
            """
            import torch
            from torch import nn
            class DropChunks(nn.Module):
                def forward(self, spec: torch.Tensor) -> torch.Tensor:
                    n_masks = torch.randint(0, 3, size=(1,), device=spec.device)
                    if n_masks == 0:
                        return spec
                    return spec * torch.rand(n_masks, 1, device=spec.device)
            """,
            line=6,
        ),
        Invalid(
            """
            import torch
            from torch import nn
            class Gate(nn.Module):
                def forward(self, x: torch.Tensor) -> torch.Tensor:
                    score = x.mean()
                    if score.item() > 0.5:
                        x = x * 2
                    return x
            """,
            line=6,
        ),
        # Outside modules: a loss, a sampler, a loop over a data loader.
        Invalid(
            """
            import torch
            def regression_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
                if torch.isnan(pred).any():
                    pred = torch.nan_to_num(pred)
                return (pred - target).pow(2).mean()
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            def sample(logits: torch.Tensor) -> torch.Tensor:
                probs = torch.softmax(logits, -1)
                if (probs < 0).any():
                    probs = probs.clamp_min(0)
                return torch.multinomial(probs, 1)
            """,
            line=4,
        ),
        # Outside modules, any test in a function that repeats: a loss's guard that only
        # raises, a sampler's choice with an `else`.
        Invalid(
            """
            import torch
            def interval_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
                if not (a < b).all():
                    raise ValueError("every a must be below b")
                return (b - a).mean()
            """,
            line=3,
        ),
        Invalid(
            """
            import torch
            def sample(pred: torch.Tensor, feasible: torch.Tensor) -> torch.Tensor:
                if feasible.any():
                    pred[~feasible] = float("-inf")
                else:
                    pred = -pred
                return pred
            """,
            line=3,
        ),
        # A retry loop whose body reads only when it runs: the test itself waits every call.
        Invalid(
            """
            import torch
            def orthogonalise_step(w: torch.Tensor) -> torch.Tensor:
                norm = torch.norm(w, dim=-1)
                while (norm < 1e-6).any():
                    print(f"rerolling {(norm < 1e-6).sum().item()} vectors")
                    w = w + torch.randn_like(w) * (norm < 1e-6).unsqueeze(-1)
                    norm = torch.norm(w, dim=-1)
                return w
            """,
            line=4,
        ),
        # A value read with `.item()` to be checked: `_assert_async` takes the tensor itself.
        Invalid(
            """
            import torch
            def count_loss(counts: torch.Tensor, expected: int) -> torch.Tensor:
                total = counts.sum()
                if total.item() != expected:
                    raise RuntimeError("counts do not add up")
                return counts.float().mean()
            """,
            line=4,
        ),
        Invalid(
            """
            import torch
            from torch.utils.data import DataLoader
            def train(dataset, model):
                for x in DataLoader(dataset, batch_size=32):
                    if torch.isinf(x).any():
                        x = x.clamp(-1e4, 1e4)
                    model(x)
            """,
            line=5,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._guards: list[cst.If] = []

    def visit_If(self, node: cst.If) -> None:
        if self._is_compilation_check(node.test):
            self._guards.append(node)
            return
        self._check(node)

    def leave_If(self, node: cst.If) -> None:
        if self._guards and self._guards[-1] is node:
            self._guards.pop()

    def visit_While(self, node: cst.While) -> None:
        self._check(node)

    def visit_Assert(self, node: cst.Assert) -> None:
        self._check(node)

    def _check(self, node: Branch) -> None:
        if self._guards or self.context.loops.under_debug_flag():
            return
        # Most tests read no tensor: that cheap question before how often the test runs.
        sync = self._host_read(node.test)
        if sync is None:
            return
        if not self._repeats() or self._per_element(node.test):
            return
        if (
            short_circuited_by_identity(node.test, sync)
            or checked_on_the_host_first(node.test, sync)
            or function_reads_host_tensors(self.context)
        ):
            return
        # Reads in the branch's body count when it runs in the common case (an `if` doing work);
        # not when it runs on a failure (an `assert`'s message, a guard that raises) or on a retry.
        common = type(node) is cst.If and not only_reports(node.body, self.context.imports)
        if function_waits_for_device(self.context, node.test if common else node, counting_decisions=True) is not None:
            # The function reads a tensor on the host elsewhere: removing this read saves no wait.
            return
        test = quote(node.test)
        # A random draw made on the device to be read is worth moving whatever the branch does.
        draw = self._device_random_draw(sync)
        if draw is not None:
            fix = _RANDOM_FIX.format(draw=quote(draw))
        elif type(node) is cst.If and ends_early(node):
            # Skipping the rest of the loop or the call is what the read buys.
            return
        elif type(node) is cst.If and self._reduces(node.body):
            # The branch keeps a reduction off an empty selection, which would give NaN or raise.
            return
        elif type(node) is cst.If and only_reports(node.body, self.context.imports):
            fix = _REPORTING_FIX.format(check=self._async_check(node.test, failure=True))
        elif type(node) is cst.If and self._chooses_other_code(node):
            # Which code runs, not which values: `torch.where` cannot select between them, and
            # skipping the other code may well be worth one synchronisation.
            return
        elif type(node) is cst.Assert:
            function = self.context.function
            assert function is not None  # an assert is reported only in a function that repeats
            fix = _FIXES[cst.Assert].format(check=self._async_check(node.test, failure=False), function=function.name)
        else:
            fix = _FIXES[type(node)].format(condition=test)
        self.report(
            node.test,
            self.message.format(keyword=_KEYWORDS[type(node)], test=test, sync=quote(sync), fix=fix),
        )

    def _async_check(self, test: cst.BaseExpression, failure: bool) -> str:
        """``torch._assert_async`` of what must hold, for a ``test`` that reports a failure when
        true (``failure``) or is asserted: the tensor operands of its ``and`` chain in tensor
        code, its Python ones (``self.strict``) left to a plain ``if``/``assert``, which reads
        no tensor."""
        conjuncts = _conjuncts(test)
        tensors = [operand for operand in conjuncts if self._host_read(operand) is not None]
        python = [operand for operand in conjuncts if self._host_read(operand) is None]
        imports = self.context.imports
        condition = _fails(tensors, imports) if failure else _holds(tensors, imports)
        check = f"`torch._assert_async({condition})`"
        if not python:
            return check
        guard = " and ".join(" ".join(quote(operand).split()) for operand in python)
        if failure:
            return f"{check} under `if {guard}:`"
        return f"{check} and a separate `assert {guard}`"

    def _chooses_other_code(self, node: cst.If) -> bool:
        """A branch of ``node`` does more than tensor operations: it calls the model's own
        submodules or methods (``self.image_encoder(...)``), functions of this file or the
        project, or other libraries' (``to_dense(res)``, ``RootLinearOperator(x)``), or keeps
        state on the module (``self.cached = x``). Builtins, torch's and NumPy's functions, and
        methods of anything but ``self``, are tensor work."""
        imports = self.context.imports
        pending: list[cst.CSTNode] = [node.body] + ([node.orelse] if node.orelse is not None else [])
        while pending:
            current = pending.pop()
            if type(current) is cst.AssignTarget and (dotted_name(current.target) or "").startswith("self."):
                return True  # state kept on the module (a cache), not a value to select
            if type(current) is cst.Call:
                func = current.func
                name = dotted_name(func) or ""
                if name.startswith("self."):
                    return True
                if type(func) is cst.Name and not (
                    imports.is_builtin(func, func.value) and hasattr(builtins, func.value)
                ):
                    qualified = imports.qualified_name(func) or ""
                    if qualified.partition(".")[0] not in _TENSOR_LIBRARIES:
                        return True
            pending.extend(syntax_children(current))
        return False

    def _device_random_draw(self, sync: cst.BaseExpression) -> cst.Call | None:
        """The torch random draw (``torch.randint(…, device=d)``, or the name assigned one) whose
        value ``sync`` reads, when it is made on the device."""
        pending: list[cst.CSTNode] = [sync]
        while pending:
            node = pending.pop()
            call = self.context.arrays.bound_value(node.value) if type(node) is cst.Name else node
            if type(call) is cst.Call:
                record = catalog.lookup(self.context.imports.qualified_name(call.func))
                if record is not None and record.has(catalog.Flag.DRAWS_RANDOM):
                    return None if allocated_on_host(call, self.context) else call
            pending.extend(syntax_children(node))
        return None

    def _repeats(self) -> bool:
        """The code around the current node runs many times, as the engine knows it: a function
        that runs per call or per step or is called from a loop (``call_frequency``: ``forward``,
        losses, samplers, ``*_step``, the project's callers), or a training
        loop or a loop over a data loader. Set-up code (``__init__``, ``setup``, plotting) is cold,
        and a loop in a function nothing shows to repeat (a self-check, a file parser) is not
        evidence enough. Nor does code that runs once wherever it is (``runs_once``: a lazy
        initialisation, ``if "checked" not in log: …``)."""
        if self.context.runs_once():
            return False
        if self.context.functions.call_frequency().repeats:
            return True
        loops = self.context.loops
        return any(loop.is_training_step or loops.iterated_loader(loop) is not None for loop in loops.enclosing())

    def _per_element(self, test: cst.BaseExpression) -> bool:
        """``test`` reads an element the loop around it indexes (``if pred[i] > 0:`` in ``for i in
        …``): a decision per element, which vectorising the loop removes, not ``torch.where``."""
        targets = {name for loop in self.context.loops.enclosing() for name in loop.targets}
        if not targets:
            return False
        pending: list[cst.CSTNode] = [test]
        while pending:
            node = pending.pop()
            if type(node) is cst.Subscript and any(mentions(element, targets) for element in node.slice):
                return True
            pending.extend(syntax_children(node))
        return False

    def _reduces(self, body: cst.BaseSuite) -> bool:
        """``body`` calls a reduction with no value on an empty selection (``counts[:, sel].mean(1)``,
        ``torch.max(x[m])``): run when nothing is selected, it would give NaN or raise."""
        pending: list[cst.CSTNode] = [body]
        while pending:
            node = pending.pop()
            if type(node) is cst.Call:
                func = node.func
                qualified = self.context.imports.qualified_name(func)
                name = qualified.rpartition(".")[2] if qualified is not None else None
                if name is None and type(func) is cst.Attribute:
                    name = func.attr.value
                if name in catalog.TORCH_EMPTY_UNDEFINED_REDUCTIONS:
                    return True
            pending.extend(syntax_children(node))
        return False

    def _is_compilation_check(self, test: cst.BaseExpression) -> bool:
        imports = self.context.imports
        pending: list[cst.CSTNode] = [test]
        while pending:
            node = pending.pop()
            if type(node) is cst.Call and imports.qualified_name(node.func) in catalog.TORCH_COMPILATION_CHECKS:
                return True
            pending.extend(syntax_children(node))
        return False

    def _host_read(self, test: cst.BaseExpression) -> cst.BaseExpression | None:
        """The part of ``test`` whose value the host must fetch from the tensor, if any: an
        operand whose truth value is a tensor's, or a call returning a device-computed value."""
        for operand in _truth_operands(test):
            if self._is_tensor(operand):
                return operand
        pending: list[cst.CSTNode] = [test]
        while pending:
            node = pending.pop()
            if type(node) is cst.Call and self._returns_device_value(node):
                return node
            if type(node) not in (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp):
                pending.extend(syntax_children(node))
        return None

    def _returns_device_value(self, call: cst.Call) -> bool:
        """``t.item()``/``t.tolist()`` on a known tensor, or a torch function that returns a
        Python value computed on the device (``torch.equal``, ``torch.allclose``)."""
        func = call.func
        record = catalog.lookup(self.context.imports.qualified_name(func))
        if record is not None:
            return record.library == catalog.TORCH and record.has(catalog.Flag.SYNCHRONISES) and record.returns is None
        if type(func) is not cst.Attribute:
            return False
        method = catalog.method(func.attr.value)
        return (
            method is not None
            and method.returns is None
            and catalog.Flag.SYNCHRONISES in method.flags
            and self._is_tensor(func.value)
        )

    def _is_tensor(self, expr: cst.BaseExpression) -> bool:
        return is_device_tensor(expr, self.context)


def _conjuncts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The operands of ``test``'s top-level ``and`` chain (``test`` itself when it is none)."""
    if type(test) is cst.BooleanOperation and type(test.operator) is cst.And:
        return _conjuncts(test.left) + _conjuncts(test.right)
    return [test]


def _tensor_expression(test: cst.BaseExpression, imports: ImportTable) -> str:
    """``test`` written with tensor operators, which do not read the tensor on the host as
    Python's ``and``, ``or`` and ``not`` do: ``a and not b`` is ``a & torch.logical_not(b)``,
    and ``torch.equal(a, b)`` is ``torch.eq(a, b).all()``."""
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return f"torch.logical_not({_tensor_expression(test.expression, imports)})"
    if type(test) is cst.BooleanOperation:
        operator = "&" if type(test.operator) is cst.And else "|"
        return f"{_operand(test.left, imports)} {operator} {_operand(test.right, imports)}"
    if type(test) is cst.Call:
        form = catalog.TENSOR_FORMS_OF_HOST_ANSWERS.get(imports.qualified_name(test.func) or "")
        if form is not None:
            arguments = ", ".join(" ".join(quote(arg).rstrip(",").split()) for arg in test.args)
            return form.format(arguments=arguments)
    if type(test) is cst.Comparison and len(test.comparisons) == 1:
        # ``t.item() != n`` compares on the device as ``t != n``.
        comparison = test.comparisons[0]
        operator = cst.Module([]).code_for_node(comparison.operator).strip()
        return f"{_read_tensor_text(test.left)} {operator} {_read_tensor_text(comparison.comparator)}"
    return " ".join(quote(test).split())


def _read_tensor_text(value: cst.BaseExpression) -> str:
    """``value`` as tensor code: ``t`` for ``t.item()``, which reads ``t`` on the host."""
    if (
        type(value) is cst.Call
        and not value.args
        and type(value.func) is cst.Attribute
        and value.func.attr.value == "item"
    ):
        value = value.func.value
    return " ".join(quote(value).split())


def _operand(test: cst.BaseExpression, imports: ImportTable) -> str:
    """An operand of ``&``/``|``: bracketed unless it binds tighter than they do."""
    text = _tensor_expression(test, imports)
    simple = (cst.Name, cst.Attribute, cst.Call, cst.Subscript)
    if type(test) in simple or (type(test) is cst.UnaryOperation and type(test.operator) is cst.Not):
        return text
    return f"({text})"


def _holds(tests: list[cst.BaseExpression], imports: ImportTable) -> str:
    """Tensor code that is true when every one of ``tests`` is."""
    if len(tests) == 1:
        return _tensor_expression(tests[0], imports)
    return " & ".join(_operand(test, imports) for test in tests)


def _fails(tests: list[cst.BaseExpression], imports: ImportTable) -> str:
    """Tensor code that is true when not every one of ``tests`` is: ``c`` for ``not c``."""
    if len(tests) == 1 and type(tests[0]) is cst.UnaryOperation and type(tests[0].operator) is cst.Not:
        return _tensor_expression(tests[0].expression, imports)
    return f"torch.logical_not({_holds(tests, imports)})"


def _truth_operands(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    """The expressions whose truth value ``test`` takes: through ``and``, ``or`` and ``not``."""
    if type(test) is cst.BooleanOperation:
        return _truth_operands(test.left) + _truth_operands(test.right)
    if type(test) is cst.UnaryOperation and type(test.operator) is cst.Not:
        return _truth_operands(test.expression)
    return [test]


def _setup(size: int, target: Target) -> tuple:
    import torch

    device = target.device
    generator = torch.Generator().manual_seed(0)
    return (torch.randn(size, 1024, generator=generator).to(device),)


def _pattern(hidden):
    import torch

    if torch.isinf(hidden).any():
        hidden = torch.clamp(hidden, min=-6e4, max=6e4)
    return hidden * 2


def _fix(hidden):
    import torch

    return torch.clamp(hidden, min=-6e4, max=6e4) * 2


TensorConditionInForward.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(8, 64, 256),
    check_size=2,
    size_unit="rows of 1024 float32 activations",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "One forward step on n x 1024 float32 activations: `if torch.isinf(hidden).any():` before a "
        "clamp (a host read of a tensor condition) against clamping unconditionally."
    ),
)
