"""PFL405: a model run for inference (after ``eval()``, or with its output only detached) with
autograd still recording."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

import libcst as cst

from perflint.engine import catalog
from perflint.engine.functions import FunctionFrame, FunctionKnowledge, FunctionNode, switches_to_training
from perflint.engine.imports import dotted_name
from perflint.engine.quoting import quote
from perflint.engine.rewrite import reference
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Change, Fix, Invalid, Rule
from perflint.engine.walker import nodes_in_scope, syntax_children
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

if TYPE_CHECKING:
    from perflint.engine.linter import FileContext


class InferenceWithoutNoGrad(Rule):
    """``m.eval()`` followed by ``m(...)`` in a loop, outside ``no_grad``/``inference_mode``."""

    code = "PFL405"
    name = "inference-without-no-grad"
    family = FAMILY
    summary = "Model run for inference with autograd still recording"
    message = (
        "`{call}(...)` runs after `{model}.eval()` with autograd recording every activation; "
        "run the loop under `with torch.inference_mode():`"
    )
    caller_message = (
        "`{call}(...)` runs with autograd recording every activation, though `{caller}` passes "
        "`{model}` in eval mode and records no gradients; run the loop under `with torch.inference_mode():`"
    )
    caller_attribute_message = (
        "`{call}(...)` runs with autograd recording every activation, though `{caller}` puts "
        "`{model}` in eval mode before calling `{function}` and records no gradients; run the loop "
        "under `with torch.inference_mode():`"
    )
    class_message = (
        "`{call}(...)` runs with autograd recording every activation, though `{model}` is in eval "
        "mode since `{method}` and its output is detached; run it under `with {mode}():` "
        "(or decorate `{function}` with `@{mode}()`)"
    )
    detached_message = (
        "`{call}(...)` runs with autograd recording every activation, though `{function}` computes "
        "no gradients and only detaches its output or reads it on the host; run it under "
        "`with {mode}():`; {evidence}"
    )
    returned_message = (
        "`{call}(...)` runs with autograd recording every activation, though `{function}` computes "
        "no gradients and its only callers, {callers}, detach what it returns or read it on the "
        "host; run it under `with {mode}():`; {evidence}"
    )
    # Opt-in since round 9: on code nobody tuned it on, the last two reads where it fired each
    # showed it a new way to be wrong (see known_limitations).
    default_enabled = False
    fix_title = "Wrap the inference loop in `torch.inference_mode()` (or `torch.no_grad()`)"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = (".eval()", ".train(", ".detach()", ".numpy()", ".item()", ".tolist()")
    reported_at = "the model call"

    what_it_does = (
        "Flags a model call `m(...)` (or `m.forward(...)`, `m.predict(...)`) where autograd records "
        "though nothing needs it: no `torch.no_grad()`, `torch.inference_mode()` or "
        "`torch.set_grad_enabled(False)` block or decorator around it in the function, and no "
        "gradient wanted by the function or the methods of its class it calls (`.backward(`, "
        "`autograd.grad(`, `compute_force=True`, `requires_grad=True`). "
        "Three cases: a call in a loop or comprehension of a function that called `m.eval()` "
        "before (and not `m.train()` since), or, with the project index, whose callers pass `m` "
        "(or, for `self.m`, put it) in eval mode; a call of `self.m`, in a loop or not, where "
        "another method put it in eval mode and nothing in the class trains it or computes "
        "gradients; and a call of an object (or list item) the function or class shows to be a "
        "model (`.to(device)`, an `nn.Module` subclass), never in eval mode, "
        "in a loop or a function run per call, in a file that sets no `requires_grad`, in a "
        "top-level function no project caller runs under `no_grad`, no Lightning "
        "evaluation hook. In the last two the output must only be detached or read on the "
        "host (`.detach()`, `.numpy()`, `.item()`, `.tolist()`), in the function or by callers "
        "in its class; there `m.decode(...)` counts too."
    )
    known_limitations = (
        "Opt-in since round 9. On code no one had tuned it on, it was 17 of 25 findings worth "
        "fixing with 6 wrong, and the last two unseen reads where it fired each showed it a new way "
        "to be wrong: a module's `forward` that sets its own layers to eval mode, a method whose "
        "every caller turns autograd off, and a model whose own forward differentiates its output "
        "(forces from an energy, CHGNet). Each root is fixed, but whether a model's output needs "
        "its graph often lies outside the file, so the rule stays off by default until unseen code "
        "shows it clean.\n\n"
        "Detached output is followed through its parts, the items a loop takes, tensor methods, torch "
        "functions, other models run on it, lists it is appended to and names. "
        "A model is recognised only by a `m.eval()` call earlier in the same function, through the "
        "project index in a caller that passes it as an argument (or, for `self.m`, puts it in eval "
        "mode before every call of the method: callers outside the project, `obj.inference(...)`, "
        "are not seen), in another method of the class for `self.m`, or, when its output is visibly detached, by the evidence the function or "
        "class shows (`m.to(device)`, `self.m = net.to(device)`, a module class of the project, "
        "`self.nets.append(net)` for the items `self.nets[i]`), other than the module itself in its "
        "own methods (`self(x)` in an equivariance check) and a module the function builds and "
        "keeps in no attribute of `self` (`blur = GaussianFilter(...)`, a filter used as a "
        "function, which may have no parameter that records anything): a "
        "parameter only called (`model(x)`, `model.forward(x)`, as in fair-esm's "
        "`get_sequence_loss`) is not flagged. A loop in a function that computes gradients, itself "
        "or through a function it calls (`self._train_model(loader)` of a base class), is not "
        "flagged, where autograd may be needed. A call outside a loop of a model evaluated in the "
        "same function is not flagged, even in a function called per batch, unless the function "
        "only detaches its output or reads it on the host: callers may need the output with "
        "autograd (BoTorch's `posterior`, differentiated by acquisition optimisers). A function "
        "runs per batch for the project index when a caller's loop calls it, through `self`, a "
        "module's name or a local name bound only to objects of its class "
        "(`trainer = Trainer(args)`, then `trainer.predict(batch)`); through a parameter "
        "(`eval_model(trainer)`) it is not seen. "
        "A module's `forward` that puts its own layers in eval mode (`self.drop.eval()`) and "
        "returns their output is not flagged: its callers may train on it. Nor is a function that "
        "a project caller may run under `no_grad` (every project call of a method's name counts, "
        "whatever the receiver), or a Lightning evaluation hook. "
        "A model whose output is not visibly detached is flagged only after `eval()` in a loop: "
        "an output returned as a tensor, passed to a function that is not torch's, or collected "
        "in a list that is returned or passed on is not, nor a name bound to it again in another "
        "block (`if c: out = out.detach()`), nor a call under a `with` block or decorator the "
        "imports cannot name (it may be `torch.no_grad()` after `torch = None`). A returned "
        "output counts as detached only with the project index, when every call of the "
        "method's name in the project is `self.<method>(...)` in another method of its class that "
        "detaches it, none of which hands the method on uncalled (`run(self.score)`), in a class "
        "no library base may call. The project index sees the callers "
        "in the project only: a library function that users call under `no_grad` is flagged, and "
        "a function called under `no_grad` from anywhere in the project is not flagged even where "
        "it runs with autograd elsewhere. A file that mentions `requires_grad` is left alone "
        "(frozen parameters record nothing), but parameters frozen in another file are not seen, "
        "and an `nn.Module` trained from outside the class (`net.train()` by its trainer) is not "
        "seen being trained. A model's `encode`, `decode`, `embed`, `infer`, `inference` or "
        "`predict_proba` (part of its forward pass) counts only in the last case, where its output "
        "is visibly only detached or read on the host: a library's method of such a name may turn "
        "autograd off itself (sentence-transformers' `encode`), which the rule does not see. "
        "Hugging Face's `generate` always does, and is not taken for a forward pass. No fix is offered for the last two cases: wrapping the call makes "
        "inference tensors, and a detached output fed to code that records gradients then raises "
        "(use `torch.no_grad()` there)."
    )
    why_bad = (
        "`eval()` only switches dropout and batch-norm to inference behaviour; it does not stop "
        "autograd. Every forward pass still records its graph and keeps every intermediate "
        "activation alive until the output is freed: more memory (often the difference between "
        "a batch size that fits and one that does not) and extra time per operation."
    )
    example = """\
import torch

def evaluate(model, loader):
    model.eval()
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""
    use_instead = """\
import torch

def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.inference_mode():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
    return correct
"""
    fix_safety_note = (
        "The fix wraps the outermost loop around the call in its function (or the statement "
        "holding the comprehension) in `with torch.inference_mode():`, named through the "
        "file's imports (`th.inference_mode()` after `import torch as th`); comments above the "
        "loop go above the `with`. It is offered only in a file that imports torch (or in a function "
        "that takes it as a parameter named `torch`). It is "
        "unsafe: every tensor the loop creates is now an inference tensor, so using one later "
        "in code that records gradients raises (`Inference tensors cannot be saved for "
        "backward`), updating one in place outside inference mode raises, and asking it for "
        "gradients (`requires_grad_()`) raises; the loop's other work runs without autograd "
        "too. Use `torch.no_grad()` instead where outputs are later fed to code that records "
        "gradients, and neither where gradients with respect to the inputs are wanted "
        "(saliency maps, adversarial examples). No fix is offered for a loop that yields or "
        "awaits (grad mode is per thread: the caller would run in inference mode while the "
        "loop is suspended), or for a comprehension inside an `if` test or on a line with other "
        "statements. No fix is offered for a call of a model its class keeps in eval mode, or of a "
        "model never put in eval mode: its detached output may reach callers that record "
        "gradients, where an inference tensor raises, and the message advises `torch.no_grad()` "
        "for the second."
    )

    VALID = (
        # Already under no_grad, or the function is decorated.
        """
        import torch
        def evaluate(model, loader):
            model.eval()
            with torch.no_grad():
                return [model(x) for x, _ in loader]
        @torch.inference_mode()
        def predict(model, batches):
            model.eval()
            return [model(b) for b in batches]
        """,
        # Gradients are wanted: an adversarial attack in eval mode.
        """
        import torch
        def attack(model, x, steps):
            model.eval()
            for _ in range(steps):
                x.requires_grad_(True)
                loss = model(x).sum()
                grad, = torch.autograd.grad(loss, x)
                x = (x + grad.sign()).detach()
        """,
        # Gradients are wanted inside the model: an interatomic potential asked for forces
        # differentiates its energy with autograd in its forward pass, whatever the mode.
        """
        import torch
        def pseudolabel(model, batches):
            model.eval()
            for param in model.parameters():
                param.requires_grad = False
            for batch in batches:
                out = model(batch, training=False, compute_force=True, compute_stress=True)
                yield out["forces"].detach()
        """,
        # The class's own forward differentiates its energy (through a method it calls): running
        # it in eval mode still needs autograd.
        """
        import torch
        class Potential(torch.nn.Module):
            def forward(self, graphs):
                return self._compute(graphs)
            def _compute(self, graphs):
                energy = self.head(graphs.positions).sum()
                return torch.autograd.grad(energy, graphs.positions, create_graph=True)
            def predict(self, batches):
                self.eval()
                return [self.forward(b)[0].detach() for b in batches]
        """,
        # The evaluation loop asks for gradients of its inputs: the graph is wanted.
        """
        import torch
        def validate(model, loader):
            model.eval()
            for graphs, targets in loader:
                graphs.positions.requires_grad = True
                out = model(graphs)
                print(out["energy"].detach().cpu())
        """,
        # Back in training mode before the loop, and a training loop that calls backward.
        """
        import torch
        def fit(model, loader, opt):
            model.eval()
            baseline = score(model)
            model.train()
            for x, y in loader:
                loss = model(x, y)
                loss.backward()
                opt.step()
        """,
        # A different model is called in the loop; eval() in another function.
        """
        import torch
        def distill(teacher, student, loader):
            teacher.eval()
            outs = [student(x) for x in loader]
        def run(model, loader):
            return [model(x) for x in loader]
        """,
        # A prediction outside a loop; predictions in a loop under a decorator that turns
        # autograd off; a training loop that computes gradients.
        """
        import torch
        def report(model, x):
            model.eval()
            return model.predict(x)
        @torch.no_grad()
        def predict_all(model, loader):
            model.eval()
            return [model.predict(x) for x in loader]
        def distill(teacher, student, loader):
            teacher.eval()
            for batch in loader:
                target = teacher.predict(batch)
                loss = (student(batch) - target).pow(2).mean()
                loss.backward()
        """,
        # A model the class puts in eval mode, called outside a loop, where the class may
        # want gradients: it trains the model, computes a saliency map, returns the output as a
        # tensor, calls it under no_grad or a decorator, or evaluates another attribute; and
        # eval() in a different class.
        """
        import torch
        class Trainer:
            def load(self, path):
                self.model.eval()
            def fit(self, x, y):
                self.model.train()
                return self.model(x).cpu().numpy()
        class Saliency:
            def __init__(self, model):
                self.model = model
                self.model.eval()
            def explain(self, x):
                x.requires_grad_(True)
                self.model(x).sum().backward()
                return x.grad
            def predict(self, x):
                return self.model(x).detach().numpy()
        class Posterior:
            def __init__(self, model):
                self.model = model.eval()
                self.model.eval()
            def posterior(self, x):
                return self.model(x)
            def mean(self, x):
                out = self.model(x)
                return out.mean(0), out.detach()
            @torch.inference_mode()
            def predict(self, x):
                return self.model(x).numpy()
            def score(self, x):
                with torch.no_grad():
                    return self.model(x).item()
            def embed(self, x):
                return self.encoder(x).detach()
        class Other:
            def predict(self, x):
                return self.model(x).cpu().numpy()
        """,
        # A module's forward pass that puts some of its layers in eval mode and returns their
        # output: its callers may train on it (the loss, back-propagated through the layers);
        # and a Lightning evaluation hook, which Lightning runs with autograd off.
        """
        import torch
        class Head(torch.nn.Module):
            def forward(self, x):
                for layer in self.layers:
                    layer.dropout.eval()
                    x = layer.dropout(layer(x))
                return x
        class Module:
            def validation_step(self, batch, index):
                self.net.eval()
                return [self.net(b).item() for b in batch]
        """,
        # torch bound by an optional import: a `with` block the imports cannot name may be
        # `no_grad`.
        """
        try:
            import torch
        except ImportError:
            torch = None
        class Encoder:
            def __init__(self, model):
                self.model = model
                self.model.eval()
            def encode(self, x):
                with torch.no_grad():
                    out = self.model(x)
                return out.cpu().numpy()
        """,
        # torch handed on as a parameter under its own name (cornac's LETTER imports it lazily):
        # `torch.no_grad()` is torch's.
        """
        class Letter:
            def _validation_loss(self, torch, sessions):
                self.model.eval()
                total = 0.0
                with torch.no_grad():
                    for batch in sessions:
                        total += self.model(batch).item()
                return total
        """,
        # A model never put in eval mode, run often: its output returned as a tensor (a caller
        # may want its graph), gradients computed in the function, autograd turned off, an
        # object not known to be a model, run-once code, or a file that asks for gradients.
        """
        import torch
        class Scorer:
            def __init__(self, net, calibration):
                self.net = net.to("cuda")
                self.scale = [self.net(b).abs().max().item() for b in calibration]
            def embed(self, batches):
                return [self.net(b) for b in batches]
            def fit(self, batches, opt):
                for b in batches:
                    print(self.net(b).mean().item())
                    self.net(b).sum().backward()
                    opt.step()
            def score(self, batches):
                with torch.no_grad():
                    return [self.net(b).item() for b in batches]
            def rank(self, batches):
                return [self.ranker(b).item() for b in batches]
            def validation_step(self, batch, index):
                return self.net(batch).detach()
        def report(model, x):
            model.to("cuda")
            return model(x).tolist()
        """,
        """
        import torch
        def saliency(model, batches):
            model.to("cuda")
            for b in batches:
                b.requires_grad_(True)
                print(model(b).sum().item())
        """,
        # A module run by its own method (a diagnostic such as an equivariance check), and a
        # module built by the call itself (a filter used as a function: it may hold no
        # parameter that asks for gradients).
        """
        import torch
        class Blur(torch.nn.Module):
            def forward(self, x):
                return x
        class Layer(torch.nn.Module):
            def check(self, inputs):
                self.to("cpu")
                return [self(x).detach().numpy() for x in inputs]
        def points_image(points):
            blur = Blur()
            blur.to("cpu")
            return [blur(p).detach() for p in points]
        """,
        # A list that holds something other than models too; a model the function builds and
        # keeps, run once in the constructor.
        """
        import torch
        class Net(torch.nn.Module):
            def forward(self, x):
                return x
        class Mixed:
            def __init__(self, nets, device, x):
                for net in nets:
                    self.members.append(net.to(device))
                self.members.append(torch.sigmoid)
                probe = Net()
                self.probe = probe
                self.scale = probe(x).abs().max().item()
            def score(self, x):
                return [self.members[k](x).mean().item() for k in range(3)]
        """,
        # An output rebound under a condition, or read after its loop, may still hold its graph;
        # items collected as they are, an output fed to a model whose output is returned, and a
        # list of outputs returned without the project index's word on its callers.
        """
        import torch
        class Tagger:
            def __init__(self, model, device):
                self.model = model.to(device)
            def tag(self, batches, flag):
                for b in batches:
                    logits = self.model(b)
                    if flag:
                        logits = logits.detach()
                    print(logits)
            def last(self, batches):
                for b in batches:
                    logits = self.model(b)
                    logits = logits.detach()
                return logits
            def pairs(self, batches, gold):
                return [[x for _, x in zip(gold, self.model(b))] for b in batches]
            def chained(self, batches):
                return [self.head(self.model(b)) for b in batches]
            def scores(self, batches):
                scores = []
                for b in batches:
                    scores.append(self.model(b).mean(1))
                return scores
        """,
        # `.data` of a packed sequence (a recurrent layer's output) is a tensor that keeps its
        # graph: what the forward pass does with it next decides.
        """
        import torch
        class Tagger(torch.nn.Module):
            def __init__(self, lstm):
                super().__init__()
                self.lstm = lstm.to("cuda")
            def forward(self, packed):
                outputs, _ = self.lstm(packed)
                lengths = outputs.batch_sizes.tolist()
                outputs = outputs.data
                return self.head(outputs), lengths
        """,
        # A function that trains the model through a helper (a base class's, with the project
        # index) computes gradients: autograd may be needed there.
        """
        import torch
        class Encoder:
            def __init__(self, net, device):
                self.net = net.to(device)
            def _train(self, batches, opt):
                for b in batches:
                    self.net(b).sum().backward()
                    opt.step()
            def fit(self, batches, opt):
                self._train(batches, opt)
                self.codes = [self.net(b).detach() for b in batches]
        """,
        # Hugging Face's `generate` turns autograd off itself; a VAE's `encode` whose output is
        # returned as a tensor, which callers may train on.
        """
        import torch
        class Captioner:
            def __init__(self, model, device):
                self.model = model.to(device)
            def caption(self, batches):
                return [self.model.generate(b).cpu().tolist() for b in batches]
        class Embedder:
            def __init__(self, vae, device):
                self.vae = vae.to(device)
            def embed(self, batches):
                codes = [self.vae.encode(b) for b in batches]
                print(codes[0].detach().numpy())
                return codes
        """,
    )
    INVALID = (
        # `.predict(...)` runs the model's forward pass too.
        Invalid(
            """
            import torch
            def predict_all(model, loader):
                model.eval()
                return [model.predict(x) for x in loader]
            """,
            line=4,
            fixed="""
            import torch
            def predict_all(model, loader):
                model.eval()
                with torch.inference_mode():
                    return [model.predict(x) for x in loader]
            """,
        ),
        Invalid(
            """
            import torch
            def evaluate(model, loader):
                model.eval()
                correct = 0
                for x, y in loader:
                    correct += (model(x).argmax(1) == y).sum().item()
                return correct
            """,
            line=6,
            column=21,
            fixed="""
            import torch
            def evaluate(model, loader):
                model.eval()
                correct = 0
                with torch.inference_mode():
                    for x, y in loader:
                        correct += (model(x).argmax(1) == y).sum().item()
                return correct
            """,
        ),
        Invalid(
            """
            import torch
            class Runner:
                def validate(self, batches):
                    self.net.eval()
                    return [self.net(b) for b in batches]
            """,
            line=5,
            fixed="""
            import torch
            class Runner:
                def validate(self, batches):
                    self.net.eval()
                    with torch.inference_mode():
                        return [self.net(b) for b in batches]
            """,
        ),
        # In a module's forward pass, a layer in eval mode whose output is only read on the
        # host: no caller can train through it.
        Invalid(
            """
            import torch
            class Net(torch.nn.Module):
                def forward(self, x, probes):
                    self.probe.eval()
                    scores = [self.probe(p).item() for p in probes]
                    return self.body(x), scores
            """,
            line=5,
            fixed="""
            import torch
            class Net(torch.nn.Module):
                def forward(self, x, probes):
                    self.probe.eval()
                    with torch.inference_mode():
                        scores = [self.probe(p).item() for p in probes]
                    return self.body(x), scores
            """,
        ),
        Invalid(
            """
            import torch
            def embed(encoder, texts, flag):
                encoder.eval()
                with torch.set_grad_enabled(True):
                    pass
                for t in texts:
                    vector = encoder(**t)
            """,
            line=7,
            fixed="""
            import torch
            def embed(encoder, texts, flag):
                encoder.eval()
                with torch.set_grad_enabled(True):
                    pass
                with torch.inference_mode():
                    for t in texts:
                        vector = encoder(**t)
            """,
        ),
        # An alias; the outermost loop is wrapped, its comment goes above the `with`, the
        # comments and the layout inside move with it.
        Invalid(
            """
            import torch as th
            def predict(model, shards):
                model.eval()
                outputs = []

                # one shard at a time
                for shard in shards:
                    for batch in shard:  # batches of 32
                        outputs.append(model(
                            batch,
                        ))
                return outputs
            """,
            line=9,
            column=28,
            fixed="""
            import torch as th
            def predict(model, shards):
                model.eval()
                outputs = []

                # one shard at a time
                with th.inference_mode():
                    for shard in shards:
                        for batch in shard:  # batches of 32
                            outputs.append(model(
                                batch,
                            ))
                return outputs
            """,
        ),
        # Derivatives asked for with a literal false: nothing needs autograd.
        Invalid(
            """
            import torch
            def energies(model, batches):
                model.eval()
                return [model(b, compute_force=False)["energy"] for b in batches]
            """,
            line=4,
            fixed="""
            import torch
            def energies(model, batches):
                model.eval()
                with torch.inference_mode():
                    return [model(b, compute_force=False)["energy"] for b in batches]
            """,
        ),
        # A model in eval mode since another method of the class, called outside a loop; its
        # output is only moved to NumPy: no caller can want its graph. No fix is offered.
        Invalid(
            """
            import torch
            class Predictor:
                def load_weights(self, path):
                    self.model.load_state_dict(torch.load(path))
                    self.model.eval()
                def _predict(self, x):
                    return self.model(torch.from_numpy(x))[:, 0].detach().numpy()
            """,
            line=7,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch as th
            class Segmenter:
                def __init__(self, model):
                    self.net = model
                    self.net.train(False)
                def predict(self, x):
                    probs = self.net(x)
                    return probs.cpu().numpy(), probs[0, 0].item()
            """,
            line=7,
            fixed=NO_FIX,
        ),
        # A model never put in eval mode, run in a loop or in a function run per call, whose
        # output is only detached or read on the host: no caller can want its graph. No fix is
        # offered (`torch.no_grad()` is advised: a detached inference tensor may reach code that
        # records gradients).
        Invalid(
            """
            import torch
            import torch.nn.functional as F
            class Classifier:
                def __init__(self, net, device):
                    self.net = net.to(device)
                def predict_proba(self, batches):
                    return [F.softmax(self.net(b), dim=-1).cpu().numpy() for b in batches]
            """,
            line=7,
            fixed=NO_FIX,
        ),
        # The output read through `.data`, then moved to NumPy.
        Invalid(
            """
            import torch
            class Encoder:
                def __init__(self, net, device):
                    self.net = net.to(device)
                def transform(self, batches):
                    return [self.net(b).data.cpu().numpy() for b in batches]
            """,
            line=6,
            fixed=NO_FIX,
        ),
        # A model's own method that runs part of its forward pass (a VAE's `decode`), the
        # output read through `.data` and moved to NumPy.
        Invalid(
            """
            import torch
            class Recommender:
                def fit(self, ratings, device):
                    self.vae = VAE(ratings.shape[1]).to(device)
                    learn(self.vae, ratings)
                def scores(self, codes):
                    return [self.vae.decode(z).data.cpu().numpy() for z in codes]
            """,
            line=7,
            fixed=NO_FIX,
        ),
        # An item of a list of models, and a model the function builds and keeps (a random
        # projection of an ensemble), each run over the data with only the values read.
        Invalid(
            """
            import torch
            class Ensemble:
                def __init__(self, nets, device):
                    for net in nets:
                        self.members.append(net.to(device))
                def score(self, x):
                    return [self.members[k](x).mean().item() for k in range(len(self.members))]
            """,
            line=7,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            class Net(torch.nn.Module):
                def forward(self, x):
                    return x
            class RandomProjections:
                def fit(self, x, seeds):
                    for seed in seeds:
                        torch.manual_seed(seed)
                        net = Net()
                        self.nets.append(net)
                        self.codes.append(net(x).data.numpy())
            """,
            line=11,
            fixed=NO_FIX,
        ),
        # A model loaded with its weights (`torch.hub.load`) and scored file by file.
        Invalid(
            """
            import torch
            def mean_score(paths, device):
                predictor = torch.hub.load("org/repo", "scorer", trust_repo=True)
                predictor = predictor.to(device)
                total = 0.0
                for path in paths:
                    total += predictor(torch.load(path).to(device)).item()
                return total / len(paths)
            """,
            line=7,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            import torch.nn.functional as F
            def sequence_loss(model, coords, tokens):
                model.to(coords.device)
                logits, _ = model.forward(coords, tokens[:, :-1])
                loss = F.cross_entropy(logits, tokens[:, 1:], reduction="none")
                return loss[0].detach().numpy()
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # The output's items read through `.data` in a comprehension whose list takes the
        # output's name (as taggers decode), an item of an enumeration read on the host, and a
        # model's parts (its class, of this file, sets them) run one into the other, with the
        # results appended to a list only moved to the host: each flagged once.
        Invalid(
            """
            import torch
            class Tagger:
                def __init__(self, model, device):
                    self.model = model.to(device)
                def predict(self, batches):
                    tags = []
                    for batch in batches:
                        _, logits = self.model(batch)
                        logits = [x.data.cpu().numpy() for x in logits]
                        tags.append([scores.argmax(-1) for scores in logits])
                    return tags
            """,
            line=8,
            fixed=NO_FIX,
        ),
        # A comprehension's own `_` is another variable than the one bound to the output.
        Invalid(
            """
            import torch
            class Labeller:
                def __init__(self, model, device):
                    self.model = model.to(device)
                def label(self, batches, width):
                    found = []
                    for batch in batches:
                        _, scores = self.model(batch)
                        blank = [[] for _ in range(width)]
                        found.append((scores.argmax(-1).tolist(), blank))
                    return found
            """,
            line=8,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            class Heads:
                def __init__(self, model, device):
                    self.model = model.to(device)
                def best(self, batches):
                    found = []
                    for batch in batches:
                        for k, head in enumerate(self.model(batch)):
                            found.append((k, head.max().item()))
                    return found
            """,
            line=8,
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import torch
            class Part(torch.nn.Module):
                def forward(self, x):
                    return x
            class AutoEncoder(torch.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.encoder = Part()
                    self.decoder = Part()
            class Detector:
                def fit(self, x):
                    self.model = AutoEncoder()
                def score(self, batches):
                    errors = []
                    for batch in batches:
                        rebuilt = self.model.decoder(self.model.encoder(batch))
                        errors.append(torch.mean((batch - rebuilt) ** 2, dim=1))
                    return torch.cat(errors).cpu().numpy()
            """,
            line=16,
            fixed=NO_FIX,
        ),
        # A generator: the caller would run in inference mode between items.
        Invalid(
            """
            import torch
            def stream(model, batches):
                model.eval()
                for batch in batches:
                    yield model(batch)
            """,
            line=5,
            fixed=NO_FIX,
        ),
        # The file does not import torch: the model may be of another library.
        Invalid(
            """
            def evaluate(model, loader):
                model.eval()
                return [model(x) for x in loader]
            """,
            line=3,
            fixed=NO_FIX,
        ),
        # torch handed on as a parameter under its own name: the fix names it through that.
        Invalid(
            """
            class Letter:
                def scores(self, torch, sessions):
                    self.model.eval()
                    found = []
                    for batch in sessions:
                        found.append(self.model(batch).cpu())
                    return found
            """,
            line=6,
            fixed="""
            class Letter:
                def scores(self, torch, sessions):
                    self.model.eval()
                    found = []
                    with torch.inference_mode():
                        for batch in sessions:
                            found.append(self.model(batch).cpu())
                    return found
            """,
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        # Per function (by node id): the receivers put in eval mode so far, and those put in
        # training mode so far (a caller's eval mode no longer holds for them).
        self._in_eval_mode: dict[int, set[str]] = {}
        self._trained: dict[int, set[str]] = {}
        # Whether the file's text can put a model in eval mode (``.eval()``, ``.train(False)``):
        # without it no class keeps one there, and no class body need be read.
        self._evaluates: bool | None = None

    def visit_Call(self, node: cst.Call) -> None:
        function = self.context.function
        if function is None:
            return
        evaluated = self._in_eval_mode.setdefault(id(function.node), set())
        trained = self._trained.setdefault(id(function.node), set())
        func = node.func
        if isinstance(func, cst.Attribute):
            receiver = dotted_name(func.value)
            if receiver is not None and func.attr.value == "eval" and not node.args:
                evaluated.add(receiver)
            elif receiver is not None and func.attr.value == "train" and switches_to_training(node):
                evaluated.discard(receiver)
                trained.add(receiver)
        model_call = self.context.functions.model_call(func)
        if model_call is None:
            return
        model = model_call.model
        if model_call.method in catalog.MODEL_PART_METHODS:
            # A part of a model's forward pass (``vae.decode(z)``), which a library's method of
            # that name may run with autograd off itself: taken for inference only where the
            # output is visibly only detached or read on the host.
            self._check_detached_output(node, model, function)
            return
        if model_call.method not in _FORWARD_METHODS:
            return  # ``generate``, which runs with autograd off itself
        if self.context.innermost_loop is not None:
            caller = None if model in evaluated or model in trained else self._caller_evaluating(model)
            if model in evaluated or caller is not None:
                functions = self.context.functions
                if functions.grad_disabled() or function.computes_gradients or functions.called_with_grad_off():
                    return
                if function.runs_the_module and not _graph_dropped(node, function.node, self.context):
                    return  # the module's output, which its callers may train on: a layer's mode is no evidence
                message = self.message.format(call=quote(func), model=model)
                if caller is not None and model.startswith("self."):
                    message = self.caller_attribute_message.format(
                        call=quote(func), model=model, caller=caller, function=function.name
                    )
                elif caller is not None:
                    message = self.caller_message.format(call=quote(func), model=model, caller=caller)
                self.report(node, message, fix=self._inference_mode(node))
                return
        since = self._evaluated_by_class(model)
        if since is None:
            self._check_detached_output(node, model, function)
            return
        if self.context.functions.grad_possibly_disabled() or function.computes_gradients:
            return
        if not _graph_dropped(node, function.node, self.context):
            return
        message = self.class_message.format(
            call=quote(func),
            model=model,
            method=since,
            mode=self._advised("torch.inference_mode"),
            function=function.name,
        )
        self.report(node, message)

    def _check_detached_output(self, call: cst.Call, model: str, function: FunctionFrame) -> None:
        """Reports ``call`` of a model that the function, run often, only detaches or reads on
        the host, with autograd recording and no gradient wanted in the function or its file,
        and no project caller running it with autograd off."""
        if function.parent is not None or type(function.node) is not cst.FunctionDef:
            return  # a nested function: the function around it may call it under no_grad
        if not self.context.imports.has_imported("torch"):
            return
        if self.context.has_word("requires_grad") or self.context.has_word("requires_grad_"):
            return  # frozen parameters record nothing; inputs that want gradients need the graph
        functions = self.context.functions
        if model == "self" or not functions.holds_a_model(model) or _built_in(function.node, model, functions):
            # The module itself, run by one of its own methods (an equivariance check, a
            # diagnostic), or a module built by this call (a filter or pooling layer used as a
            # function): neither is a trained model whose use the function exists for.
            return
        if functions.grad_possibly_disabled() or function.computes_gradients or functions.called_with_grad_off():
            return
        estimate = self.context.frequency()
        if not estimate.repeats:
            return
        owner = function.class_frame.node if function.class_frame is not None else None
        flow = _OutputFlow(function.node, self.context, owner)
        if not flow.dropped(call) or self._runs_into_a_model(call):
            return
        if flow.returned_to:
            message = self.returned_message.format(
                call=quote(call.func),
                function=function.name,
                callers=", ".join(f"`{caller}`" for caller in flow.returned_to),
                mode=self._advised("torch.no_grad"),
                evidence=estimate.evidence,
            )
        else:
            message = self.detached_message.format(
                call=quote(call.func),
                function=function.name,
                mode=self._advised("torch.no_grad"),
                evidence=estimate.evidence,
            )
        self.report(call, message)

    def _runs_into_a_model(self, call: cst.Call) -> bool:
        """``call``'s output is an argument of another model's call (``decoder(encoder(x))``),
        which is reported for both."""
        argument = self.context.path_to(call)[-2]
        if type(argument) is not cst.Arg:
            return False
        outer = self.context.path_to(argument)[-2]
        return type(outer) is cst.Call and _runs_a_model(outer, self.context)

    def _advised(self, qualified: str) -> str:
        """``qualified`` (``torch.no_grad``) named through the file's imports, where they reach it."""
        mode = reference(self.context, qualified)
        return quote(mode[0]) if mode is not None and not mode[1] else qualified

    def _evaluated_by_class(self, model: str) -> str | None:
        """The method of the current function's class that puts ``model`` (``self.<attribute>``)
        in eval mode, the class never putting it back in training mode nor computing gradients
        (``ClassFrame.eval_mode_since``)."""
        frame = self.context.function
        if frame is None or frame.class_frame is None:
            return None
        owner, _, attribute = model.partition(".")
        if owner != "self" or not attribute or "." in attribute:
            return None
        if self._evaluates is None:
            source = self.context.source
            self._evaluates = _EVAL_MODE_TEXT.search(source) is not None
        return frame.class_frame.eval_mode_since(attribute) if self._evaluates else None

    def _caller_evaluating(self, model: str) -> str | None:
        """The caller that passes the parameter ``model`` of the current function (a method or
        module-level function) a model it put in eval mode, or that puts ``model`` (``self.net``,
        in a method) in eval mode before calling it, autograd possibly recording there and no
        caller computing gradients (the project index's ``eval_mode_parameters``)."""
        project = self.context.project
        frame = self.context.function
        if project is None or frame is None or frame.parent is not None:
            return None
        owner, _, attribute = model.partition(".")
        if attribute and (owner != "self" or frame.class_frame is None or "." in attribute):
            return None
        key = f"{frame.class_frame.name}.{frame.name}" if frame.class_frame is not None else frame.name
        return project.eval_mode_parameters.get(key, {}).get(model)

    def _inference_mode(self, call: cst.Call) -> Fix | None:
        """The outermost loop around ``call`` in its function (a ``for``/``while``, or the
        statement holding a comprehension) wrapped in ``with torch.inference_mode():``, when
        the file imports torch. None for a comprehension in a compound statement (an ``if``
        test: wrapping would cover its branches too) or on a line with other statements, and
        for a loop that yields or awaits: grad mode is per thread,
        and the caller would run under inference mode while the generator is suspended."""
        mode = reference(self.context, "torch.inference_mode")
        if mode is None or mode[1]:
            return None
        outermost = self.context.loops.enclosing()[-1].node
        path = self.context.path_to(outermost)
        index = max(
            position
            for position in range(1, len(path))
            if isinstance(path[position - 1], (cst.IndentedBlock, cst.Module))
        )
        statement = path[index]
        if not isinstance(statement, (cst.For, cst.While, cst.SimpleStatementLine)) or (
            isinstance(statement, cst.SimpleStatementLine) and len(statement.body) != 1
        ):
            return None
        if _suspends(statement):
            return None

        def wrapped(updated: cst.CSTNode) -> cst.With:
            line = cast("cst.For | cst.While | cst.SimpleStatementLine", updated)  # ``statement``, rewritten
            return cst.With(
                items=[cst.WithItem(cst.Call(mode[0]))],
                body=cst.IndentedBlock([line.with_changes(leading_lines=())]),
                leading_lines=line.leading_lines,
            )

        return Fix((Change(statement, wrapped),), title=f"Run the loop under `with {quote(mode[0])}():`")


def _runs_a_model(call: cst.Call, context: FileContext) -> bool:
    """``call`` runs a model forward, or a part of one (``vae.decode(z)``): an object the
    function or class shows to be a model (``FunctionKnowledge.holds_a_model``)."""
    model_call = context.functions.model_call(call.func)
    return (
        model_call is not None
        and model_call.method in _RUNNING_METHODS
        and context.functions.holds_a_model(model_call.model)
    )


def _suspends(statement: cst.CSTNode) -> bool:
    """``statement`` yields or awaits (in its own code, not in functions it defines)."""
    stack = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Yield, cst.Await)) or isinstance(node, cst.For) and node.asynchronous:
            return True
        if isinstance(node, cst.With) and node.asynchronous:
            return True
        if not isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            stack.extend(syntax_children(node))
    return False


# How a call runs a whole model's forward pass: calling the object itself (no method), or a
# method that runs it the way calling it does (``catalog.PREDICTION_METHODS``).
_FORWARD_METHODS = frozenset({None}) | catalog.PREDICTION_METHODS
# How a call runs a model's forward pass or a part of it (``vae.decode(z)``): all but ``generate``.
_RUNNING_METHODS = _FORWARD_METHODS | catalog.MODEL_PART_METHODS
# ``.eval()`` or ``.train(False)``, however spread over lines and commented.
_EVAL_MODE_TEXT = re.compile(r"\.(?:eval\((?:\s|#[^\n]*)*\)|train\((?:\s|#[^\n]*)*False)")


def _built_in(function: FunctionNode, model: str, functions: FunctionKnowledge) -> bool:
    """The function itself builds ``model``, to use and drop: binds it to a call that neither
    loads a model with its weights (``torch.hub.load``, ``from_pretrained``) nor moves or
    switches the mode of one (``net.to(device)``), and keeps it in no attribute of ``self``
    (``self.nets.append(net)``, ``self.net = net``: a model of the object, not a filter used as
    a function): ``blur = GaussianFilter(2, sigma)`` (nested functions and classes aside)."""
    built = False
    for node in nodes_in_scope(function.body):
        if type(node) is cst.Assign and type(node.value) is cst.Call:
            func = node.value.func
            moved = type(func) is cst.Attribute and func.attr.value in catalog.MODEL_EVIDENCE_METHODS
            if not moved and not functions.loads_model(node.value):
                built = built or any(dotted_name(target.target) == model for target in node.targets)
        if _keeps(node, model):
            return False
    return built


def _keeps(node: cst.CSTNode, model: str) -> bool:
    """``node`` stores the name ``model`` in an attribute of ``self``: ``self.net = model`` or
    ``self.nets.append(model)``."""
    if type(node) is cst.Assign and dotted_name(node.value) == model:
        return any((dotted_name(target.target) or "").startswith("self.") for target in node.targets)
    if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value == "append":
        receiver = dotted_name(node.func.value) or ""
        return receiver.startswith("self.") and len(node.args) == 1 and dotted_name(node.args[0].value) == model
    return False


def _graph_dropped(
    call: cst.Call, function: FunctionNode, context: FileContext, owner: cst.ClassDef | None = None
) -> bool:
    """The output of ``call`` is, in ``function``, only turned into something without an
    autograd graph (``call(...).detach()``, ``call(...)[:, 0].cpu().numpy()``, ``.item()``,
    ``.tolist()``): directly, through a part of it (``out.logits``, ``out[0]``, ``out.data``), a tensor method
    or torch function of it or arithmetic with it (``F.cross_entropy(out, y)``,
    ``out.argmax(1) == y``), through names bound to such values (``logits, _ = ...``) and read
    only that way until a later statement of the same block binds them again
    (``logits = [x.data.numpy() for x in logits]``), or through the items a loop or
    comprehension takes from it, alone or beside others (``for x in logits``,
    ``for k, x in enumerate(logits)``, ``for y, x in zip(gold, logits)``), a model run on it
    (``decoder(encoder(x))``), or a list it is appended to (``scores.append(out.mean(1))``).
    With ``owner``, the class of the method ``function``, a value the method returns counts
    as dropped when every call of the method in the project is ``self.<method>(...)`` in
    another method of ``owner`` that drops it (``torch.stack(scores).detach()``)."""
    return _OutputFlow(function, context, owner).dropped(call)


class _OutputFlow:
    """Where a value goes in one function: each node's parent and place in source order, and
    each name's occurrences, from one walk of the function's syntax."""

    def __init__(self, function: FunctionNode, context: FileContext, owner: cst.ClassDef | None) -> None:
        self.function = function
        self.context = context
        self.owner = owner
        # The methods of ``owner`` whose calls of ``function`` drop what it returns, once a
        # value is followed out of it.
        self.returned_to: list[str] = []
        self.parents: dict[int, cst.CSTNode] = {}
        self.order: dict[int, int] = {}
        self.occurrences: dict[str, list[cst.Name]] = {}
        # The bindings (their target names, by id) whose reads are followed: True or False once
        # known, None while being followed.
        self.followed: dict[tuple[int, ...], bool | None] = {}
        stack: list[cst.CSTNode] = [function.body]
        while stack:
            node = stack.pop()
            self.order[id(node)] = len(self.order)
            children = syntax_children(node)
            for child in children:
                self.parents[id(child)] = node
            stack.extend(reversed(children))
            if type(node) is cst.Name:
                self.occurrences.setdefault(node.value, []).append(node)

    def dropped(self, expr: cst.CSTNode) -> bool:
        """``expr``'s value reaches nothing but graph-dropping methods (see ``_graph_dropped``);
        each binding's reads are followed once."""
        node = expr
        while True:
            parent = self.parents.get(id(node))
            if type(parent) is cst.Attribute and parent.value is node:
                grand = self.parents.get(id(parent))
                if type(grand) is cst.Call and grand.func is parent:
                    if parent.attr.value in catalog.GRAPH_DROPPING_METHODS:
                        return True
                    if parent.attr.value == "append":
                        return True  # a list the value is in, given one more item: nothing leaves it
                    node = grand  # a tensor method: ``out.softmax(-1)``, ``out.cpu()``
                else:
                    # A field of the output: ``out.logits``, and ``out.data``, a tensor's values
                    # without the graph but a packed sequence's tensor with it.
                    node = parent
            elif type(parent) is cst.Subscript and parent.value is node:
                node = parent
            elif type(parent) in (cst.BinaryOperation, cst.UnaryOperation, cst.Comparison):
                node = cast(cst.BaseExpression, parent)
            elif type(parent) is cst.ComparisonTarget:
                node = self.parents[id(parent)]
            elif type(parent) is cst.Arg:
                return self._passed(cast(cst.Arg, parent))
            elif type(parent) is cst.Assign and parent.value is node:
                names = _bound_names(parent.targets[0].target) if len(parent.targets) == 1 else None
                return names is not None and self._reads_dropped(names, parent)
            elif type(parent) in (cst.CompFor, cst.For) and cast("cst.CompFor | cst.For", parent).iter is node:
                return self._items_dropped(cast("cst.CompFor | cst.For", parent), None)
            elif type(parent) is cst.Return:
                return self._returned_dropped(cast(cst.Return, parent))
            else:
                return False

    def _passed(self, argument: cst.Arg) -> bool:
        """The value passed as ``argument`` only drops its graph: a torch function of it
        (``F.cross_entropy(logits, y)``), or the items a loop takes from it through
        ``enumerate`` or ``zip``."""
        call = self.parents.get(id(argument))
        if type(call) is not cst.Call:
            return False
        qualified = self.context.imports.qualified_name(call.func)
        if qualified is not None and qualified.startswith("torch."):
            return self.dropped(call)
        if _runs_a_model(call, self.context):
            return self.dropped(call)  # a model run on it: ``decoder(encoder(x))``
        if type(call.func) is cst.Attribute and call.func.attr.value == "append" and len(call.args) == 1:
            return type(self.parents.get(id(call))) is cst.Expr and self._list_dropped(call.func.value)
        loop = self.parents.get(id(call))
        if type(loop) not in (cst.CompFor, cst.For) or cast("cst.CompFor | cst.For", loop).iter is not call:
            return False
        if argument.keyword is not None or argument.star or any(arg.keyword or arg.star for arg in call.args):
            return False
        position = next(index for index, arg in enumerate(call.args) if arg is argument)
        imports = self.context.imports
        if imports.is_builtin(call.func, "enumerate") and position == 0:
            return self._items_dropped(cast("cst.CompFor | cst.For", loop), (1, 2))
        if imports.is_builtin(call.func, "zip"):
            return self._items_dropped(cast("cst.CompFor | cst.For", loop), (position, len(call.args)))
        return False

    def _list_dropped(self, receiver: cst.BaseExpression) -> bool:
        """``receiver`` is a name the function binds once, by assigning it a list literal, and
        reads only in graph-dropping ways."""
        if type(receiver) is not cst.Name:
            return False
        bindings = [
            occurrence
            for occurrence in self.occurrences[receiver.value]
            if type(self.parents.get(id(occurrence))) is cst.AssignTarget
        ]
        if len(bindings) != 1:
            return False
        assign = self.parents.get(id(self.parents[id(bindings[0])]))
        if type(assign) is not cst.Assign or len(assign.targets) != 1 or type(assign.value) is not cst.List:
            return False
        return self._reads_dropped(bindings, assign)

    def _returned_dropped(self, statement: cst.Return) -> bool:
        """``statement`` returns from the method ``self.function`` of ``self.owner``, every
        project call of which is ``self.<method>(...)`` in another method of ``self.owner`` that
        drops what it returns (``ProjectView.called_only_by_own_class``)."""
        project = self.context.project
        function = self.function
        if self.owner is None or project is None or type(function) is not cst.FunctionDef:
            return False
        if f"{self.owner.name.value}.{function.name.value}" not in project.called_only_by_own_class:
            return False
        node = self.parents.get(id(statement))
        while node is not None:
            if type(node) in (cst.FunctionDef, cst.Lambda, cst.ClassDef):
                return False  # the return of a function nested in the method
            node = self.parents.get(id(node))
        callers: list[str] = []
        for method in cast(cst.IndentedBlock, self.owner.body).body:
            if type(method) is not cst.FunctionDef or method is function:
                continue
            flow = _OutputFlow(method, self.context, None)
            calls = _calls_of(method, function.name.value)
            if calls is None:
                return False
            for call in calls:
                if type(call.func) is not cst.Attribute or dotted_name(call.func.value) != "self":
                    return False
                if not flow.dropped(call):
                    return False
                if method.name.value not in callers:
                    callers.append(method.name.value)
        self.returned_to = callers
        return bool(callers)

    def _items_dropped(self, loop: cst.CompFor | cst.For, part: tuple[int, int] | None) -> bool:
        """The items ``loop`` takes (with ``part``, the item at that position of tuples of that
        size: ``x`` of ``for k, x in enumerate(out)``) are read only in graph-dropping ways."""
        target: cst.BaseExpression = loop.target
        if part is not None:
            position, size = part
            elements = cast("cst.Tuple | cst.List", target).elements if type(target) in (cst.Tuple, cst.List) else ()
            element = elements[position] if len(elements) == size else None
            if type(element) is not cst.Element:
                return False
            target = element.value
        names = _bound_names(target)
        if not names:
            return False
        if type(loop) is cst.For:
            return self._reads_dropped(names, loop)
        scope = self.parents[id(loop)]
        while type(scope) is cst.CompFor:
            scope = self.parents[id(scope)]
        reads = [
            read
            for name in names
            for read in self.occurrences[name.value]
            if self._within(read, scope) and not any(read is bound for bound in names)
        ]
        return bool(reads) and all(self.dropped(read) for read in reads)

    def _reads_dropped(self, names: list[cst.Name], binding: cst.Assign | cst.For) -> bool:
        """The names ``binding`` binds are read, and each read only drops its graph: every
        occurrence of them in the function, up to a later statement of the binding's block that
        binds one again alone (``out = out.detach()``), after which, in that block, it holds
        another value."""
        key = tuple(id(name) for name in names)
        if key in self.followed:
            return self.followed[key] is True  # a cycle (still None) is no evidence
        self.followed[key] = None
        reads: list[cst.Name] = []
        for name in names:
            rebinding = self._rebinding(name, binding)
            reads.extend(
                read
                for read in self.occurrences[name.value]
                if read is not name
                and read is not rebinding
                and not (rebinding is not None and self._after_in_block(read, rebinding))
                and not self._in_a_comprehension_binding(read)
            )
        self.followed[key] = bool(reads) and all(self.dropped(read) for read in reads)
        return self.followed[key] is True

    def _in_a_comprehension_binding(self, name: cst.Name) -> bool:
        """``name`` is a variable of a comprehension around it, whose ``for`` binds the same
        name (``[[] for _ in range(n)]``): another variable than the function's."""
        node: cst.CSTNode = name
        while (parent := self.parents.get(id(node))) is not None:
            if type(parent) in (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp):
                clause: cst.CompFor | None = cast("cst.ListComp", parent).for_in
                outer = cast(cst.CompFor, clause).iter
                if name is not outer and not self._within(name, outer):  # else read where the comprehension is
                    while clause is not None:
                        if any(bound.value == name.value for bound in _bound_names(clause.target) or ()):
                            return True
                        clause = clause.inner_for_in
            node = parent
        return False

    def _rebinding(self, name: cst.Name, binding: cst.Assign | cst.For) -> cst.Name | None:
        """The first later occurrence of ``name`` that binds it alone in a statement of the
        block ``binding`` is a statement of (``name = ...``)."""
        block = self._block_of(binding)
        for occurrence in self.occurrences[name.value]:
            if self.order[id(occurrence)] <= self.order[id(name)]:
                continue
            target = self.parents.get(id(occurrence))
            assign = self.parents.get(id(target))
            if type(target) is cst.AssignTarget and type(assign) is cst.Assign and len(assign.targets) == 1:
                if block is not None and self._block_of(assign) is block:
                    return occurrence
        return None

    def _block_of(self, statement: cst.CSTNode) -> cst.CSTNode | None:
        """The block holding the statement ``statement`` is (or, for a small statement, the
        line it is on)."""
        if isinstance(statement, cst.BaseSmallStatement):
            line = self.parents.get(id(statement))
            return self.parents.get(id(line)) if type(line) is cst.SimpleStatementLine else None
        return self.parents.get(id(statement))

    def _after_in_block(self, read: cst.Name, rebinding: cst.Name) -> bool:
        """``read`` comes after the statement holding ``rebinding`` (a name it binds), inside
        the block of that statement: it reads the value bound there."""
        line = self.parents[id(self.parents[id(self.parents[id(rebinding)])])]
        block = self.parents[id(line)]
        return self._within(read, block) and self.order[id(read)] > self._last(line)

    def _within(self, node: cst.CSTNode, tree: cst.CSTNode) -> bool:
        """``node`` is in ``tree``'s subtree."""
        return self.order[id(tree)] < self.order[id(node)] <= self._last(tree)

    def _last(self, tree: cst.CSTNode) -> int:
        """The place in source order of the last node of ``tree``'s subtree."""
        node = tree
        while children := syntax_children(node):
            node = children[-1]
        return self.order[id(node)]


def _calls_of(function: cst.FunctionDef, method: str) -> list[cst.Call] | None:
    """The calls in ``function`` of a method named ``method``, whatever the receiver; None when
    ``function`` names the method without calling it (``loader.map(self.score)``: what the
    callee does with its output is not seen)."""
    found: list[cst.Call] = []
    called: set[int] = set()
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        stack.extend(syntax_children(node))
        if type(node) is cst.Call and type(node.func) is cst.Attribute and node.func.attr.value == method:
            found.append(node)
            called.add(id(node.func))
        elif type(node) is cst.Attribute and node.attr.value == method and id(node) not in called:
            return None
    return found


def _bound_names(target: cst.BaseExpression) -> list[cst.Name] | None:
    """The names an assignment's target binds: ``out``, or each of ``logits, _``; None for any
    other target (an attribute, an item, a starred name)."""
    if type(target) is cst.Name:
        return [target]
    if type(target) in (cst.Tuple, cst.List):
        names: list[cst.Name] = []
        for element in cast("cst.Tuple | cst.List", target).elements:
            if type(element) is not cst.Element:
                return None
            inner = _bound_names(element.value)
            if inner is None:
                return None
            names.extend(inner)
        return names
    return None


def _setup(size: int, target: Target) -> tuple:
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(size, size),
        torch.nn.ReLU(),
        torch.nn.Linear(size, size),
        torch.nn.ReLU(),
        torch.nn.Linear(size, 10),
    ).to(target.device)
    model.eval()
    batches = [torch.randn(64, size, device=target.device) for _ in range(10)]
    return model, batches


def _pattern(model, batches):
    import torch

    return torch.cat([model(batch) for batch in batches]).detach()


def _fix(model, batches):
    import torch

    with torch.inference_mode():
        return torch.cat([model(batch) for batch in batches])


InferenceWithoutNoGrad.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32, 128, 512),
    check_size=8,
    size_unit="hidden units of a 3-layer MLP (10 batches of 64)",
    backend=TORCH_BACKEND,
    devices=("cpu", "cuda"),
    timed=(
        "10 batches of 64 through a 3-layer MLP of n hidden units in eval mode: with autograd "
        "recording against under `torch.inference_mode()`."
    ),
)
