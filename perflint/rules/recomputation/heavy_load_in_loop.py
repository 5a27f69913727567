"""PFL404: a model, tokenizer or checkpoint loaded again and again with the same arguments."""

from __future__ import annotations

import libcst as cst

from perflint.engine import catalog
from perflint.engine.quoting import quote
from perflint.engine.rewrite import NewNames, hoist, name_for
from perflint.engine.rule import FIX_UNSAFE, NO_FIX, Invalid, Rule
from perflint.measure.spec import TORCH_BACKEND, Benchmark, Target
from perflint.rules.recomputation import FAMILY

# Methods of a dataset that run once per item (``__getitem__``) or per pass (``__iter__``).
_PER_ITEM_METHODS = frozenset({"__getitem__", "__iter__"})


class HeavyLoadInLoop(Rule):
    """A load whose arguments do not change, repeated by a loop or by every item of a dataset."""

    code = "PFL404"
    name = "heavy-load-in-loop"
    family = FAMILY
    summary = "Model, tokenizer or checkpoint loaded repeatedly with the same arguments"
    message = "`{call}` loads the same {what} on every {unit}; load it once {where}"
    fix_title = "Load once, before the loop or in `__init__`, and reuse the object"
    fix_safety = FIX_UNSAFE
    autofix = True
    required_text = ("load", "from_pretrained", "InferenceSession", "SentenceTransformer", "pipeline")
    reported_at = "the load call"

    what_it_does = (
        "Flags a call that loads or builds a model, tokenizer or checkpoint — "
        "`*.from_pretrained(...)`, `torch.load`, `torch.jit.load`, `joblib.load`, "
        "`onnxruntime.InferenceSession`, `spacy.load`, `sentence_transformers.SentenceTransformer`, "
        "`transformers.pipeline`, `tf.keras.models.load_model` — when it repeats with the same "
        "arguments: inside a loop, on every iteration, with loop-invariant arguments (and receiver); "
        "or in a dataset's `__getitem__` or `__iter__`, unconditionally, with arguments that do not "
        "depend on the method's parameters or locals."
    )
    known_limitations = (
        "Left alone: a load in `__init__`, a loop over different paths (evaluating several "
        "checkpoints), a retry loop (one that breaks or returns, or a load inside a `try` within the "
        "loop), a load under a condition (`if model is None:` lazy loading, `if epoch == best:`), a "
        "load of a path the same loop writes (`torch.save(model, path)` then `torch.load(path)`: "
        "hoisting it would keep the first file), and arguments the linter cannot prove unchanged."
    )
    why_bad = (
        "Loading a model reads and deserialises every weight — hundreds of megabytes to "
        "gigabytes, seconds per call — and a tokenizer parses its vocabulary. Repeated per "
        "iteration or per item, it dwarfs the work the loop or the data loader does; in "
        "`__getitem__` it runs once per sample in every worker."
    )
    example = """\
import torch

def predict_all(batches):
    outputs = []
    for batch in batches:
        model = torch.jit.load("model.pt")
        outputs.append(model(batch))
    return outputs
"""
    use_instead = """\
import torch

def predict_all(batches):
    model = torch.jit.load("model.pt")
    return [model(batch) for batch in batches]
"""
    fix_safety_note = (
        "In a loop, the fix loads once, as a new name made of the call's words "
        '(`load_model_pt = torch.jit.load("model.pt")`) right above the loop, or above the '
        "statement holding the comprehension, and uses that name where the load was. It is "
        "unsafe: every iteration now calls one object where each had a freshly loaded one, so "
        "state the object keeps between calls carries from one iteration to the next (a model "
        "in training mode updates its BatchNorm running statistics on every call, so later "
        "iterations get other outputs); the file is assumed not to change during the loop; "
        "and the load runs also when the loop runs no iteration. The fix is offered only where "
        "the loop does nothing but call the loaded object (`model(batch)`, `tokenizer(text)`) "
        "or read it: an object passed to a function (which may train it), whose methods are "
        "called (`model.fit(...)`), stored or changed gets no fix, and neither does a load in "
        "`__getitem__` (moving it to `__init__` is left to you)."
    )

    VALID = (
        # The loop writes the checkpoint it loads: each load reads the latest one.
        """
        import torch
        for epoch in range(10):
            torch.save(model.state_dict(), "last.pt")
            state = torch.load("last.pt")
        """,
        # Loaded once, in __init__; a different path on every iteration.
        """
        import torch
        class Scorer(torch.utils.data.Dataset):
            def __init__(self, path):
                self.model = torch.jit.load(path)
        for path in checkpoints:
            model = torch.load(path)
            evaluate(model)
        """,
        # Retry loops: the loop ends once the load succeeds, or a failed load is retried.
        """
        from transformers import AutoTokenizer
        while True:
            try:
                tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")
                break
            except OSError:
                time.sleep(5)
        for attempt in range(3):
            try:
                model = AutoModel.from_pretrained(MODEL_NAME)
            except OSError:
                continue
        """,
        # Lazy loading in __getitem__ (once per worker), and a load that depends on the item.
        """
        import torch
        class Features(torch.utils.data.Dataset):
            def __getitem__(self, index):
                if self.encoder is None:
                    self.encoder = torch.jit.load(self.encoder_path)
                return torch.load(self.files[index])
        """,
        # A load on one iteration only, and one in a loop whose receiver changes.
        """
        import torch
        for epoch in range(epochs):
            if epoch == resume_epoch:
                state = torch.load("last.pt")
            train(state)
        for model_class in (BertModel, GPT2Model):
            model = model_class.from_pretrained(pretrained_dir)
        """,
    )
    INVALID = (
        Invalid(
            """
            import torch
            for batch in loader:
                model = torch.jit.load("model.pt")
                predict(model, batch)
            """,
            line=3,
            column=13,
            # `predict` may change the model (train it): no fix.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            from transformers import AutoTokenizer
            def encode_all(texts, name):
                return [AutoTokenizer.from_pretrained(name)(text) for text in texts]
            """,
            line=3,
            fixed="""
            from transformers import AutoTokenizer
            def encode_all(texts, name):
                from_pretrained_name = AutoTokenizer.from_pretrained(name)
                return [from_pretrained_name(text) for text in texts]
            """,
        ),
        Invalid(
            """
            import joblib
            import torch
            class Embedded(torch.utils.data.Dataset):
                def __getitem__(self, index):
                    pca = joblib.load(self.pca_path)
                    return pca.transform(self.rows[index])
            """,
            line=5,
            # Per item, not in a loop: moving the load to `__init__` is not offered.
            fixed=NO_FIX,
        ),
        Invalid(
            """
            import onnxruntime as ort
            for image in images:
                session = ort.InferenceSession(MODEL_PATH, providers=PROVIDERS)
                session.run(None, {"input": image})
            """,
            line=3,
            # A method of the session is called: whether it changes the session is not known.
            fixed=NO_FIX,
        ),
        # Only called: loaded once above the loop (`import torch as th`), comment kept.
        Invalid(
            """
            import torch as th
            def predict_all(batches):
                outputs = []
                # score every batch
                for batch in batches:
                    model = th.jit.load(
                        "model.pt",
                        map_location="cpu",
                    )
                    outputs.append(model(batch))
                return outputs
            """,
            line=6,
            fixed="""
            import torch as th
            def predict_all(batches):
                outputs = []
                # score every batch
                load_model_pt_cpu = th.jit.load(
                    "model.pt",
                    map_location="cpu",
                )
                for batch in batches:
                    model = load_model_pt_cpu
                    outputs.append(model(batch))
                return outputs
            """,
        ),
    )

    def visit_Module(self, node: cst.Module) -> None:
        self._new_names = NewNames()

    def visit_Call(self, node: cst.Call) -> None:
        what = self._loaded(node)
        if what is None or any(arg.star for arg in node.args):
            return
        parts = [arg.value for arg in node.args]
        if isinstance(node.func, cst.Attribute) and self.context.imports.qualified_name(node.func) is None:
            parts.append(node.func.value)
        frame = self.context.innermost_loop
        if frame is not None:
            if not self.context.runs_every_iteration() or frame.exits_early or self.context.loops.in_try_body(frame):
                return
            if all(self.context.is_invariant(part) for part in parts) and not frame.may_write_file(node):
                fix = hoist(
                    self.context, node, frame.node, self._new_names, name_for(self.context, node), calls_read=True
                )
                self.report(node, self._message(node, what, "iteration", "before the loop"), fix=fix)
            return
        function = self.context.function
        if (
            function is None
            or not function.is_method
            or function.name not in _PER_ITEM_METHODS
            or self.context.loops.is_conditional()
        ):
            return
        if all(self.context.functions.same_on_every_call(part) for part in parts):
            unit = "item" if function.name == "__getitem__" else "pass over the dataset"
            self.report(node, self._message(node, what, f"call of `{function.name}` (every {unit})", "in `__init__`"))

    def _loaded(self, call: cst.Call) -> str | None:
        """What ``call`` loads (``model``, ``model or tokenizer``), if it is a catalogued load."""
        record = catalog.lookup(self.context.imports.qualified_name(call.func))
        if record is not None:
            return "model" if record.has(catalog.Flag.LOADS_MODEL) else None
        if isinstance(call.func, cst.Attribute):
            method = catalog.method(call.func.attr.value)
            if method is not None and method.flags & catalog.Flag.LOADS_MODEL:
                return "model or tokenizer"
        return None

    def _message(self, call: cst.Call, what: str, unit: str, where: str) -> str:
        return self.message.format(call=quote(call.func) + "(…)", what=what, unit=unit, where=where)


def _setup(size: int, target: Target) -> tuple:
    import io

    import torch

    model = torch.nn.Sequential(torch.nn.Linear(size, size), torch.nn.ReLU(), torch.nn.Linear(size, 10))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    batches = [torch.randn(16, size, generator=torch.Generator().manual_seed(index)) for index in range(20)]
    return buffer.getvalue(), batches, model


def _pattern(checkpoint: bytes, batches, model):
    import io

    import torch

    outputs = []
    for batch in batches:
        model.load_state_dict(torch.load(io.BytesIO(checkpoint), weights_only=True))
        with torch.inference_mode():
            outputs.append(model(batch))
    return torch.cat(outputs)


def _fix(checkpoint: bytes, batches, model):
    import io

    import torch

    model.load_state_dict(torch.load(io.BytesIO(checkpoint), weights_only=True))
    with torch.inference_mode():
        return torch.cat([model(batch) for batch in batches])


HeavyLoadInLoop.benchmark = Benchmark(
    setup=_setup,
    pattern=_pattern,
    fix=_fix,
    sizes=(32, 128, 512),
    check_size=8,
    size_unit="hidden units (a 2-layer MLP checkpoint loaded from memory; 20 batches of 16)",
    backend=TORCH_BACKEND,
    timed=(
        "20 batches of 16 through a 2-layer MLP of n hidden units: `torch.load` of the checkpoint "
        "(from memory) and `load_state_dict` inside the loop against once before it."
    ),
)
