"""The project index: module names, one file's summary, classes and functions across files,
how often the project calls a function, the views files are linted with, the cache of
summaries, and the CLI that builds the index and keys the findings cache on it."""

from __future__ import annotations

import json
import os
import pickle
import textwrap

import libcst as cst

from perflint.cli.main import main
from perflint.engine import lint_source
from perflint.engine.linter import FileContext
from perflint.engine.project import HotCaller, ProjectIndex, ProjectView, module_name, summarise_source
from perflint.engine.project_cache import IndexedFile, project_views
from perflint.engine.roles import Frequency
from perflint.engine.rule import Rule
from perflint.rules import rule_by_code


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def index_of(files: dict[str, str]) -> ProjectIndex:
    """The index of sources keyed by module name."""
    summaries = []
    for module, source in files.items():
        package = module.endswith(".__init__")
        summaries.append(summarise_source(textwrap.dedent(source), module.removesuffix(".__init__"), package))
    return ProjectIndex(summaries)


# Module names -------------------------------------------------------------------------------


def test_module_names_follow_the_packages_above_a_file_and_skip_a_src_folder(tmp_path):
    write(tmp_path / "src" / "pkg" / "__init__.py", "")
    write(tmp_path / "src" / "pkg" / "nn" / "__init__.py", "")
    layer = write(tmp_path / "src" / "pkg" / "nn" / "layers.py", "")
    script = write(tmp_path / "scripts" / "train.py", "")
    assert module_name(str(layer), str(tmp_path)) == ("pkg.nn.layers", False)
    assert module_name(str(tmp_path / "src" / "pkg" / "nn" / "__init__.py"), str(tmp_path)) == ("pkg.nn", True)
    assert module_name(str(script), str(tmp_path)) == ("train", False)


# One file's summary -------------------------------------------------------------------------


def test_a_summary_resolves_relative_imports_against_the_files_package():
    summary = summarise_source(
        "from . import layers\nfrom ..utils import iou as overlap\nfrom .base import Base\n", "pkg.models.net"
    )
    assert summary.names == {"layers": "pkg.models.layers", "overlap": "pkg.utils.iou", "Base": "pkg.models.base.Base"}
    package = summarise_source("from .base import Base\n", "pkg.models", is_package=True)
    assert package.names == {"Base": "pkg.models.base.Base"}


def test_a_function_summary_says_what_a_call_does():
    summary = summarise_source(
        textwrap.dedent("""
        import torch
        def fit_batch(model, optimizer, batch, stats):
            loss = model(batch).sum()
            loss.backward()
            optimizer.step()
            stats["seen"] += 1
            return loss
        def make(n) -> torch.Tensor:
            return torch.zeros(n)
        def ones(n):
            return torch.ones(n)
        def evaluate(model, batch):
            return model(batch)
    """),
        "engine",
    )
    fit = summary.functions["fit_batch"]
    # ``batch`` is passed on to ``model(batch)``, which may change it.
    assert (fit.calls_backward, fit.steps_optimizer, fit.mutated_parameters) == (True, True, ("batch", "stats"))
    assert summary.functions["make"].returns == "torch.Tensor"
    assert summary.functions["ones"].returns == "torch.ones"
    evaluate = summary.functions["evaluate"]
    assert (evaluate.calls_backward, evaluate.steps_optimizer, evaluate.mutated_parameters) == (
        False,
        False,
        ("batch",),
    )


def test_a_summary_reads_the_calls_of_dotted_names_in_order_and_on_their_lines():
    summary = summarise_source(
        textwrap.dedent("""
        import torch
        from helpers import step
        def train(model, xs, buffer, ys):
            for x in xs:
                torch.cuda.synchronize()  # torch.no_grad() in a comment is no call
                y = model(x).cpu()  # a method of a call's result is no call of a dotted name
            step(x); buffer.add_(1); ys.append(torch.zeros(2)[0].clone())
            "a statement that is a string: torch.ones("
            text = "1torch.ones(x) starts with a digit, torch.full(1) is read"
            return torch.empty(1), step(torch.eye(2))
    """),
        "engine",
    )
    train = summary.functions["train"]
    assert [(call.target, call.loop) for call in train.calls] == [
        ("q:torch.cuda.synchronize", "xs"),
        ("q:helpers.step", ""),
        ("q:torch.zeros", ""),
        ("q:torch.full", ""),
        ("q:torch.empty", ""),
        ("q:helpers.step", ""),
        ("q:torch.eye", ""),
    ]
    assert train.mutated_parameters == ("buffer", "ys")


def test_a_summary_survives_its_json_form_and_refuses_another_format():
    summary = summarise_source("import torch\nclass A(torch.nn.Module):\n    def f(self):\n        self.g()\n", "m")
    data = json.loads(json.dumps(summary.to_json()))
    assert type(summary).from_json(data) == summary
    assert type(summary).from_json({**data, "format": -1}) is None


def test_a_file_python_cannot_parse_has_no_summary():
    assert summarise_source("def broken(:\n", "m") is None


# Classes across files -----------------------------------------------------------------------


def test_a_class_is_a_module_through_any_number_of_project_files():
    index = index_of(
        {
            "pkg.base": "from torch import nn\nclass Base(nn.Module):\n    pass\n",
            "pkg.middle": "from .base import Base\nclass Middle(Base):\n    pass\n",
            "pkg.layer": "from . import middle\nclass Layer(middle.Middle):\n    pass\n",
            "pkg.loss": "from torch.nn.modules.loss import _Loss\nclass FocalLoss(_Loss):\n    pass\n",
            "pkg.plain": "class Config:\n    pass\n",
        }
    )
    assert index.external_bases("pkg.layer.Layer") == {"torch.nn.Module"}
    assert index.external_bases("pkg.loss.FocalLoss") == {"torch.nn.modules.loss._Loss"}
    assert index.external_bases("pkg.plain.Config") == frozenset()
    assert index.view("pkg.layer").external_bases["middle.Middle"] == {"torch.nn.Module"}


def test_a_re_exported_base_is_followed_to_its_definition():
    index = index_of(
        {
            "pkg.__init__": "",
            "pkg.nn.__init__": "from .base import Base\n",
            "pkg.nn.base": "import torch\nclass Base(torch.nn.Module):\n    pass\n",
            "pkg.model": "from .nn import Base\nclass Net(Base):\n    pass\n",
        }
    )
    assert index.external_bases("pkg.model.Net") == {"torch.nn.Module"}


def is_module_class_at_forward(source: str, view) -> bool:
    answers = []

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_FunctionDef_body(self, node: cst.FunctionDef) -> None:
            frame = self.context.function
            answers.append(frame.class_frame.is_module_subclass)

    assert lint_source(textwrap.dedent(source), "probe.py", [Probe], project=view) == []
    return answers[0]


def test_the_libcst_pass_knows_a_subclass_of_a_project_module_class_only_with_the_index():
    index = index_of(
        {
            "pkg.base": "from torch import nn\nclass Base(nn.Module):\n    pass\n",
            "pkg.model": "from .base import Base\nclass Net(Base):\n    def forward(self, x):\n        return x\n",
        }
    )
    source = "from .base import Base\nclass Net(Base):\n    def forward(self, x):\n        return x\n"
    assert is_module_class_at_forward(source, index.view("pkg.model")) is True
    assert is_module_class_at_forward(source, None) is False


def test_torchs_own_layers_and_private_bases_are_module_classes_without_the_index():
    for base, import_line in (
        ("_Loss", "from torch.nn.modules.loss import _Loss"),
        ("nn.Sequential", "from torch import nn"),
        ("_BatchNorm", "from torch.nn.modules.batchnorm import _BatchNorm"),
    ):
        source = f"{import_line}\nclass Net({base}):\n    def forward(self, x):\n        return x\n"
        assert is_module_class_at_forward(source, None) is True, base


# Functions across files ---------------------------------------------------------------------


TRAINING_PROJECT = {
    "pkg.engine": """
        def fit_batch(model, optimizer, batch):
            loss = model(batch)
            loss.backward()
            optimizer.step()
            return loss
    """,
    "pkg.wrapper": """
        class OptimWrapper:
            def step(self, loss):
                loss.backward()
                self.optimizer.step()
    """,
    "pkg.train": """
        from .engine import fit_batch
        from .wrapper import OptimWrapper
        class Trainer:
            def __init__(self, model):
                self.optim = OptimWrapper(model)
            def train(self, model, loader, device):
                for batch in loader:
                    loss = model(batch.to(device))
                    self.optim.step(loss)
                    print(loss.item())
        def train(model, optimizer, loader, device):
            for batch in loader:
                loss = fit_batch(model, optimizer, batch.to(device))
                print(loss.item())
    """,
}


def test_a_call_of_another_files_function_has_that_functions_summary():
    view = index_of(TRAINING_PROJECT).view("pkg.train")
    assert view.callees["fit_batch"].calls_backward and view.callees["fit_batch"].steps_optimizer
    assert view.callees["self.optim.step"].calls_backward


def test_a_loop_calling_another_files_training_step_is_a_training_loop():
    sync = rule_by_code("PFL203")
    source = textwrap.dedent(TRAINING_PROJECT["pkg.train"])
    with_index = lint_source(source, "pkg/train.py", [sync], project=index_of(TRAINING_PROJECT).view("pkg.train"))
    assert [(finding.code, finding.line) for finding in with_index] == [("PFL203", 11), ("PFL203", 15)]
    assert lint_source(source, "pkg/train.py", [sync]) == []


# How often the project calls a function ----------------------------------------------------


CALL_GRAPH_PROJECT = {
    "pkg.geometry": """
        def iou(a, b):
            return a
        def anchors(n):
            return n
        def grid(n):
            return anchors(n)
        def overlap(a, b):
            return iou(a, b)
    """,
    "pkg.model": """
        from torch import nn
        from .geometry import grid, overlap
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.cells = grid(8)
            def forward(self, a, b):
                return overlap(a, b)
    """,
    "pkg.data": """
        from .geometry import iou
        def score(loader, box):
            return [iou(batch, box) for batch in loader]
    """,
    "pkg.cli": """
        from .data import score
        def report(path):
            return path
        if __name__ == "__main__":
            report("x")
    """,
}


def test_the_call_graph_makes_functions_hot_or_cold_with_the_evidence():
    frequencies = index_of(CALL_GRAPH_PROJECT).frequencies()
    assert frequencies["pkg.geometry.overlap"].frequency is Frequency.PER_CALL
    assert frequencies["pkg.geometry.overlap"].evidence == "called from `forward`"
    assert frequencies["pkg.geometry.iou"].frequency is Frequency.HOT
    assert frequencies["pkg.geometry.grid"].frequency is Frequency.COLD
    assert frequencies["pkg.geometry.grid"].evidence == "called only from `__init__`"
    assert frequencies["pkg.geometry.anchors"].frequency is Frequency.COLD
    assert frequencies["pkg.cli.report"].frequency is Frequency.ONCE
    assert "pkg.data.score" not in frequencies  # nobody calls it: no evidence either way


def frequency_at_prints(source: str, view) -> dict[str, tuple[Frequency, str]]:
    answers: dict[str, tuple[Frequency, str]] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if type(node.func) is cst.Name and node.func.value == "print":
                answers[cst.Module([]).code_for_node(node.args[0].value)] = tuple(self.context.frequency())

    assert lint_source(textwrap.dedent(source), "probe.py", [Probe], project=view) == []
    return answers


def test_a_statement_of_a_function_the_project_calls_cold_is_cold_only_with_the_index():
    source = textwrap.dedent(CALL_GRAPH_PROJECT["pkg.geometry"]).replace(
        "def anchors(n):\n", "def anchors(n):\n    print(n)\n"
    )
    index = index_of({**CALL_GRAPH_PROJECT, "pkg.geometry": source})
    assert frequency_at_prints(source, index.view("pkg.geometry"))["n"] == (
        Frequency.COLD,
        "runs once: `anchors` is called only from `grid`",
    )
    assert frequency_at_prints(source, None)["n"] == (Frequency.UNKNOWN, "")


def test_a_subclass_override_of_a_method_the_base_calls_in_a_loop_runs_per_iteration():
    # sigpy's `App.run` calls `self._update()` in its loop; the subclasses define `_update`.
    frequencies = index_of(
        {
            "pkg.app": """
                class App:
                    def _update(self):
                        pass
                    def run(self, max_iter):
                        for it in range(max_iter):
                            self._update()
                    def __init__(self):
                        self._setup()
                    def _setup(self):
                        pass
            """,
            "pkg.solvers": """
                from .app import App
                class Solver(App):
                    def _update(self):
                        self._gradient()
                    def _gradient(self):
                        pass
                    def _setup(self):
                        pass
                class Other:
                    def _update(self):
                        pass
            """,
        }
    ).frequencies()
    evidence = "called in a loop over `range(max_iter)` in `run`"
    assert frequencies["pkg.app.App._update"] == HotCaller(evidence, Frequency.HOT)
    assert frequencies["pkg.solvers.Solver._update"] == HotCaller(evidence, Frequency.HOT)
    assert frequencies["pkg.solvers.Solver._gradient"] == HotCaller(f"called from `_update`, {evidence}", Frequency.HOT)
    # The base's set-up calling an override is no evidence that the override only runs in set-up.
    assert "pkg.solvers.Solver._setup" not in frequencies
    assert "pkg.solvers.Other._update" not in frequencies  # not a subclass


def test_a_call_that_initialises_an_attribute_the_first_time_runs_once_per_object():
    # alibi_detect's context-aware detector: `_cmmd` runs per permutation, but it picks its
    # regularisation only `if self.lams is None`, the first time.
    frequencies = index_of(
        {
            "pkg.detector": """
                class Detector:
                    def score(self, K, iters):
                        return [self._cmmd(K, b) for b in iters]
                    def _cmmd(self, K, b):
                        if self.lams is None:
                            self.lams = self._pick_lam(K)
                        if self.folds is None:
                            folds = self._split(K)
                        return self._statistic(K, b)
                    def _pick_lam(self, K):
                        return self._fold(K)
                    def _fold(self, K):
                        pass
                    def _split(self, K):
                        pass
                    def _statistic(self, K, b):
                        pass
            """,
        }
    ).frequencies()
    loop = "called in a loop over `iters` in `score`"
    assert frequencies["pkg.detector.Detector._cmmd"] == HotCaller(loop, Frequency.HOT)
    assert frequencies["pkg.detector.Detector._statistic"] == HotCaller(f"called from `_cmmd`, {loop}", Frequency.HOT)
    assert frequencies["pkg.detector.Detector._pick_lam"] == HotCaller(
        "called only once per object from `_cmmd`", Frequency.COLD
    )
    assert frequencies["pkg.detector.Detector._fold"].frequency is Frequency.COLD
    # A branch that sets no attribute of `self` runs whenever its test holds.
    assert frequencies["pkg.detector.Detector._split"].frequency is Frequency.HOT
    # An attribute a method sets back to None (ase's `compare`, per structure compared) is
    # initialised again after each reset.
    reset = index_of(
        {
            "pkg.comparator": """
                class Comparator:
                    def compare(self, s1, structures):
                        for s2 in structures:
                            self.expanded = None
                            self._switch(s2)
                    def _switch(self, s2):
                        if self.expanded is None:
                            self.expanded = self._expand(s2)
                    def _expand(self, s2):
                        pass
            """,
        }
    ).frequencies()
    assert reset["pkg.comparator.Comparator._expand"].frequency is Frequency.HOT


def test_a_method_of_an_attribute_named_like_a_project_class_runs_in_the_callers_loop():
    # sigpy's `App.run` loops `self.alg.update()`, `self.alg` being the constructor's argument.
    frequencies = index_of(
        {
            "pkg.alg": """
                class Alg:
                    def update(self):
                        self._update()
                class PowerMethod(Alg):
                    def _update(self):
                        pass
                class Model:
                    def fit(self):
                        pass
                class Other:
                    def update(self):
                        pass
            """,
            "pkg.app": """
                class App:
                    def __init__(self, alg, model):
                        self.alg = alg
                        self.model = model
                    def run(self):
                        while not self.alg.done():
                            self.alg.update()
                            self.model.fit()
            """,
            "pkg.models": "class Model:\n    def fit(self):\n        pass\n",
        }
    ).frequencies()
    loop = "called in a loop over `while not self.alg.done()` in `run`"
    assert frequencies["pkg.alg.Alg.update"] == HotCaller(loop, Frequency.HOT)
    assert frequencies["pkg.alg.PowerMethod._update"] == HotCaller(f"called from `update`, {loop}", Frequency.HOT)
    assert "pkg.alg.Other.update" not in frequencies
    assert "pkg.alg.Model.fit" not in frequencies  # two project classes are named `Model`


# Views and the cache of summaries ------------------------------------------------------------


def test_a_view_travels_to_a_worker_and_its_digest_follows_its_facts():
    index = index_of(TRAINING_PROJECT)
    view = index.view("pkg.train")
    assert pickle.loads(pickle.dumps(view)) == view
    changed = dict(TRAINING_PROJECT, **{"pkg.engine": TRAINING_PROJECT["pkg.engine"].replace("loss.backward()", "")})
    assert index_of(changed).view("pkg.train").digest != view.digest
    assert index_of(TRAINING_PROJECT).view("pkg.train").digest == view.digest


def test_a_file_linted_alone_joins_the_cached_summaries_of_the_rest_of_its_project(tmp_path):
    base = write(tmp_path / "pkg" / "base.py", "from torch import nn\nclass Base(nn.Module):\n    pass\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    model = write(tmp_path / "pkg" / "model.py", "from .base import Base\nclass Net(Base):\n    pass\n")
    cache = tmp_path / ".perflint_cache"
    alone = project_views([IndexedFile(str(model))], str(tmp_path), str(cache), whole_project=False)
    assert alone.views[str(model)].external_bases["Net"] == {"pkg.base.Base"}
    assert "no cached index" in alone.description
    everything = [IndexedFile(str(path)) for path in (base, model, tmp_path / "pkg" / "__init__.py")]
    project_views(everything, str(tmp_path), str(cache), whole_project=True)
    later = project_views([IndexedFile(str(model))], str(tmp_path), str(cache), whole_project=False)
    assert later.views[str(model)].external_bases["Net"] == {"torch.nn.Module"}
    assert "from the cached index" in later.description
    write(base, "class Base:\n    pass\n")
    os.utime(base, ns=(1, 1))  # another size and time: the stored summary is stale
    refreshed = project_views([IndexedFile(str(model))], str(tmp_path), str(cache), whole_project=False)
    assert refreshed.views[str(model)].external_bases["Net"] == frozenset()


def test_editing_the_base_class_file_changes_the_finding_in_the_subclass_file_through_the_cache(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.perflint]\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    base = write(tmp_path / "pkg" / "base.py", "import torch\nclass Base(torch.nn.Module):\n    pass\n")
    write(
        tmp_path / "pkg" / "model.py",
        """\
        import torch
        from .base import Base
        class Net(Base):
            def __init__(self, length):
                super().__init__()
                self.positions = torch.arange(length)
            def forward(self, x):
                return x + self.positions.to(x.device)
    """,
    )

    def findings() -> list[tuple[str, str]]:
        main(["check", "--select", "PFL214", "--output-format", "json", "--verbose", "."])
        captured = capsys.readouterr()
        assert "project index of" in captured.err
        return [(entry["code"], entry["path"]) for entry in json.loads(captured.out)["findings"]]

    assert findings() == [("PFL214", "pkg/model.py")]
    assert findings() == [("PFL214", "pkg/model.py")]  # from the cache
    write(base, "class Base:\n    pass\n")
    assert findings() == []
    write(base, "import torch\nclass Base(torch.nn.Module):\n    pass\n")
    assert findings() == [("PFL214", "pkg/model.py")]


def test_verbose_says_when_a_file_is_linted_without_its_projects_index(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.perflint]\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "model.py", "x = 1\n")
    main(["check", "--verbose", "pkg/model.py"])
    assert "no cached index of the rest of the project" in capsys.readouterr().err
    main(["check", "--verbose", "."])
    main(["check", "--verbose", "pkg/model.py"])
    assert "from the cached index" in capsys.readouterr().err


def test_a_view_reaches_the_context_of_the_file_it_was_made_for():
    view = ProjectView("m", {}, {}, {})
    assert FileContext("x = 1\n", "m.py", view).project is view


def test_the_flake8_plugin_uses_the_cached_index_of_the_files_project(tmp_path, monkeypatch, capsys):
    import ast

    from perflint.flake8_plugin import Flake8Checker

    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.perflint]\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    write(tmp_path / "pkg" / "base.py", "import torch\nclass Base(torch.nn.Module):\n    pass\n")
    source = textwrap.dedent("""\
        import torch
        from .base import Base
        class Net(Base):
            def __init__(self, length):
                super().__init__()
                self.positions = torch.arange(length)
            def forward(self, x):
                return x + self.positions.to(x.device)
    """)
    model = write(tmp_path / "pkg" / "model.py", source)

    def plugin_codes() -> list[str]:
        checker = Flake8Checker(ast.parse(source), source.splitlines(keepends=True), str(model))
        return [text.split()[0] for _, _, text, _ in checker.run()]

    assert "PFL214" not in plugin_codes()  # no cached index yet: this file's own knowledge
    main(["check", "--exit-zero", "."])
    capsys.readouterr()
    assert "PFL214" in plugin_codes()


def test_a_parameter_passed_on_to_another_call_counts_as_mutated():
    summary = summarise_source(
        textwrap.dedent("""
        def normalise(x, stats, scale):
            update(stats, x.mean())
            return x / scale
    """),
        "m",
    )
    assert summary.functions["normalise"].mutated_parameters == ("stats",)


def test_another_files_function_gives_its_return_kind_and_mutations_to_the_caller():
    index = index_of(
        {
            "pkg.ops": """
            import torch
            def make(n) -> torch.Tensor:
                return torch.zeros(n)
            def fill(buffer, value):
                buffer[:] = value
        """,
            "pkg.use": "from .ops import make, fill\n",
        }
    )
    view = index.view("pkg.use")
    source = "from .ops import make, fill\nt = make(3)\nprint(t)\nprint(fill(a, b))\n"
    answers = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if type(node.func) is cst.Name and node.func.value == "print":
                argument = node.args[0].value
                if type(argument) is cst.Name:
                    answers["kind"] = self.context.arrays.kind_of(argument)
                else:
                    answers["mutated"] = self.context.functions.mutations_of_call(argument)

    lint_source(source, "pkg/use.py", [Probe], project=view)
    assert answers == {"kind": "torch", "mutated": {"a"}}


def test_another_files_function_returning_a_torch_element_wise_call_returns_a_tensor():
    index = index_of(
        {
            "pkg.ops": """
            import torch
            def squash(x):
                return torch.tanh(x)
            def same(a, b):
                return torch.equal(a, b)
        """,
            "pkg.use": "from .ops import squash, same\n",
        }
    )
    view = index.view("pkg.use")
    source = "from .ops import squash, same\nt = squash(x)\nprint(t)\ne = same(x, y)\nprint(e)\n"
    answers = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if type(node.func) is cst.Name and node.func.value == "print":
                argument = node.args[0].value
                answers[cst.Module([]).code_for_node(argument)] = self.context.arrays.kind_of(argument)

    lint_source(source, "pkg/use.py", [Probe], project=view)
    assert answers == {"t": "torch", "e": None}


def test_fix_lints_with_the_index_so_code_only_set_up_calls_is_left_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.perflint]\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    helper = "import torch\ndef make_mask(n, device):\n    return torch.ones(n).to(device)\n"
    helpers = write(tmp_path / "pkg" / "helpers.py", helper)
    model = write(
        tmp_path / "pkg" / "model.py",
        """\
        import torch
        from .helpers import make_mask
        class Net(torch.nn.Module):
            def __init__(self, n, device):
                super().__init__()
                self.register_buffer("mask", make_mask(n, device))
    """,
    )
    main(["check", "--fix", "--select", "PFL201", "--exit-zero", "."])
    capsys.readouterr()
    assert helpers.read_text() == helper  # called only from __init__: cold
    model.write_text(
        model.read_text()
        .replace("def __init__(self, n, device):", "def forward(self, n, device):")
        .replace("        super().__init__()\n", "")
    )
    main(["check", "--fix", "--select", "PFL201", "--exit-zero", "."])
    capsys.readouterr()
    assert "torch.ones(n, device=device)" in helpers.read_text()


def test_an_optimizers_step_makes_its_helpers_per_call_an_environments_step_does_not():
    # torch_optimizer's `AdamP.step` calls `self._projection` for every parameter.
    frequencies = index_of(
        {
            "pkg.optim": """
                from torch.optim.optimizer import Optimizer
                class Base(Optimizer):
                    pass
                class AdamP(Base):
                    def _projection(self, p):
                        return p
                    def step(self, closure=None):
                        return self._projection(closure)
                class Environment:
                    def _observe(self, action):
                        return action
                    def step(self, action):
                        return self._observe(action)
            """,
        }
    ).frequencies()
    assert frequencies["pkg.optim.AdamP._projection"] == HotCaller("called from `step`", Frequency.PER_CALL)
    assert "pkg.optim.Environment._observe" not in frequencies


# A set-up name against the project's callers -------------------------------------------------

# speechbrain's `SpeechLLMASR.build_multimodal_embds` (inference/ASR.py) is named as set-up but
# built on every inference: `forward` calls `transcribe_batch`, which calls it.
SET_UP_NAMES_PROJECT = {
    "pkg.asr": """
        import functools
        import torch
        from .tokens import tokenize
        class SpeechLLM(torch.nn.Module):
            def __init__(self, layers):
                super().__init__()
                self.grid = self.build_grid(8)
                self.blocks = self._make_layers(layers)
            def build_grid(self, n):
                print("grid")
                return n
            def _make_layers(self, layers):
                return [self.build_block(layer) for layer in layers]
            def build_block(self, layer):
                print("block")
                return layer
            def build_multimodal_embds(self, audio_feats):
                print("embds")
                return tokenize(audio_feats)
            @functools.lru_cache
            def build_table(self, n):
                print("table")
                return n
            def transcribe_batch(self, wavs):
                self.build_table(4)
                return self.build_multimodal_embds(wavs)
            def forward(self, wavs):
                return self.transcribe_batch(wavs)
    """,
    "pkg.tokens": """
        def tokenize(x):
            print("tokens")
            return x
    """,
}


def test_a_set_up_name_yields_to_callers_that_repeat():
    frequencies = index_of(SET_UP_NAMES_PROJECT).frequencies()
    evidence = "called from `transcribe_batch`, called from `forward`"
    assert frequencies["pkg.asr.SpeechLLM.build_multimodal_embds"] == HotCaller(evidence, Frequency.PER_CALL)
    # What it calls was judged cold while its name said set-up; its callers decide now.
    assert frequencies["pkg.tokens.tokenize"] == HotCaller(
        f"called from `build_multimodal_embds`, {evidence}", Frequency.PER_CALL
    )
    # Called only from `__init__`, or in a loop of a function nothing shows to repeat: the name stands.
    assert "pkg.asr.SpeechLLM.build_grid" not in frequencies
    assert "pkg.asr.SpeechLLM.build_block" not in frequencies


def test_a_statement_of_a_set_up_function_the_project_calls_per_call_runs_per_call():
    source = SET_UP_NAMES_PROJECT["pkg.asr"]
    frequencies = frequency_at_prints(source, index_of(SET_UP_NAMES_PROJECT).view("pkg.asr"))
    assert frequencies['"embds"'] == (
        Frequency.PER_CALL,
        "runs per call of `build_multimodal_embds`, called from `transcribe_batch`, called from `forward`",
    )
    assert frequencies['"grid"'] == (Frequency.COLD, "runs once: in `build_grid`")
    assert frequencies['"block"'] == (Frequency.COLD, "runs once: in `build_block`")
    # A cached function runs once per key however often it is called.
    assert frequencies['"table"'] == (Frequency.COLD, "runs once: in `build_table`")
    # Without the index, the name decides.
    assert frequency_at_prints(source, None)['"embds"'] == (Frequency.COLD, "runs once: in `build_multimodal_embds`")


def set_up_at_prints(source: str, view) -> dict[str, bool]:
    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if type(node.func) is cst.Name and node.func.value == "print":
                answers[cst.Module([]).code_for_node(node.args[0].value)] = self.context.functions.in_set_up()

    assert lint_source(textwrap.dedent(source), "probe.py", [Probe], project=view) == []
    return answers


def test_set_up_is_what_the_frequency_finds_run_once_not_a_name_a_repeating_caller_overrules():
    source = SET_UP_NAMES_PROJECT["pkg.asr"]
    assert set_up_at_prints(source, index_of(SET_UP_NAMES_PROJECT).view("pkg.asr")) == {
        '"grid"': True,
        '"block"': True,
        '"embds"': False,
        '"table"': True,
    }
    assert set_up_at_prints(source, None)['"embds"'] is True
    entry = """
        def main(paths):
            print("main")
            for path in paths:
                helper(path)
        def helper(path):
            print("helper")
        print("module")
    """
    # An entry point runs once; a function it calls in a loop does not; module level is the
    # program's own work.
    assert set_up_at_prints(entry, index_of({"pkg.entry": entry}).view("pkg.entry")) == {
        '"main"': True,
        '"helper"': False,
        '"module"': False,
    }


def test_a_set_up_name_called_in_a_loop_of_a_per_call_function_or_of_main_is_hot():
    source = """
        import torch
        class Decoder(torch.nn.Module):
            def build_mask(self, step):
                print("mask")
                return step
            def forward(self, steps):
                return [self.build_mask(step) for step in range(steps)]
        def setup_batch(batch):
            print("batch")
            return batch
        def main(loader):
            for batch in loader:
                setup_batch(batch)
    """
    index = index_of({"pkg.loop": source})
    frequencies = frequency_at_prints(source, index.view("pkg.loop"))
    assert frequencies['"mask"'] == (
        Frequency.HOT,
        "runs per call of `build_mask`, called in a loop over `range(steps)` in `forward`",
    )
    assert frequencies['"batch"'] == (
        Frequency.HOT,
        "runs per call of `setup_batch`, called in a loop over `loader` in `main`",
    )


def test_a_per_call_name_called_only_from_set_up_stays_per_call():
    # `forward` run once in `__init__` to size a layer is also called by `nn.Module.__call__`
    # from outside the project, which the index cannot see: evidence makes code hot, never cold.
    source = """
        import torch
        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.size = self.forward(torch.zeros(1)).shape
            def forward(self, x):
                print(x)
                return x
    """
    index = index_of({"pkg.net": source})
    assert "pkg.net.Net.forward" not in index.frequencies()
    assert frequency_at_prints(source, index.view("pkg.net"))["x"] == (
        Frequency.PER_CALL,
        "runs per call: in `forward`",
    )


# A model put in eval mode by the caller ------------------------------------------------------


EVAL_MODE_PROJECT = {
    "pkg.predict": """
        import torch
        class Runner:
            def predict(self, loader):
                model = self.model
                model.eval()
                return self._generate(model, loader)
            def _generate(self, model, loader):
                return [model.predict(batch) for batch in loader]
            def report(self, loader):
                self.model.eval()
                with torch.no_grad():
                    return self._score(self.model, loader)
            def _score(self, model, loader):
                return [model(batch) for batch in loader]
        def embed(net, loader):
            return [net(batch) for batch in loader]
        def tune(net, loader):
            return [net(batch) for batch in loader]
        def encode(net, loader):
            return [net(batch) for batch in loader]
        def compare(net, loader):
            return [net(batch) for batch in loader]
    """,
    "pkg.use": """
        import torch
        from .predict import embed, tune, encode, compare
        def run(net, loader):
            net.eval()
            vectors = embed(loader=loader, net=net)
            net.train()
            return tune(net, loader), vectors
        def distil(net, loader):
            net.eval()
            targets = encode(net, loader)
            torch.stack(targets).sum().backward()
        def features(net, loader):
            net.eval()
            return encode(net, loader)
        def check(net, loader):
            net.eval()
            return compare(net, loader)
        def plain(net, loader):
            return compare(net, loader)
    """,
}


def test_the_index_knows_the_parameters_a_caller_binds_to_a_model_in_eval_mode():
    index = index_of(EVAL_MODE_PROJECT)
    summary = index.functions["pkg.use.run"][2]
    assert summary.eval_arguments == (("q:pkg.predict.embed", "net"),)
    # By position through a method (``self`` left out), by keyword; not under ``no_grad``, not
    # after ``train()``, not where a caller of the function computes gradients (``distil``),
    # not where another caller passes a model in any mode (``plain``).
    assert index.eval_mode_parameters() == {
        "pkg.predict.Runner._generate": {"model": "predict"},
        "pkg.predict.embed": {"net": "run"},
    }
    view = index.view("pkg.predict")
    assert view.eval_mode_parameters == {"Runner._generate": {"model": "predict"}, "embed": {"net": "run"}}
    assert "model.eval()" in view.callee_text
    assert index.view("pkg.use").eval_mode_parameters == {}


def test_the_eval_mode_arguments_survive_the_summarys_json_form():
    summary = summarise_source(textwrap.dedent(EVAL_MODE_PROJECT["pkg.use"]), "pkg.use")
    again = type(summary).from_json(json.loads(json.dumps(summary.to_json())))
    assert again.functions["run"].eval_arguments == (("q:pkg.predict.embed", "net"),)


def test_a_loop_running_a_model_its_caller_put_in_eval_mode_is_inference_only_with_the_index():
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(EVAL_MODE_PROJECT["pkg.predict"])
    view = index_of(EVAL_MODE_PROJECT).view("pkg.predict")
    findings = lint_source(source, "pkg/predict.py", [inference], project=view)
    assert [(finding.line, finding.message.split(" runs")[0]) for finding in findings] == [
        (9, "`model.predict(...)`"),
        (17, "`net(...)`"),
    ]
    assert "`predict` passes `model` in eval mode" in findings[0].message
    assert lint_source(source, "pkg/predict.py", [inference]) == []


EVAL_MODE_ATTRIBUTE_PROJECT = {
    "pkg.__init__": "",
    "pkg.detector": """\
        import torch
        class Detector:
            def fit(self, loader, opt):
                self.net.train()
                for x in loader:
                    self.net(x).sum().backward()
                    opt.step()
                return self.decision_function(loader)
            def decision_function(self, loader):
                self.net.eval()
                return self.inference(loader)
            def inference(self, loader):
                return [self.net(x).softmax(-1) for x in loader]
            def fit_epoch(self, loader):
                self.net.eval()
                with torch.no_grad():
                    return self.validate(loader)
            def validate(self, loader):
                return [self.net(x) for x in loader]
            def distil(self, loader):
                self.net.eval()
                torch.stack(self.targets(loader)).sum().backward()
            def targets(self, loader):
                return [self.net(x) for x in loader]
            def transform(self, loader):
                self.net.eval()
                return self.embed(loader)
            def train_embed(self, loader):
                self.net.train()
                return self.embed(loader)
            def embed(self, loader):
                return [self.net(x) for x in loader]
            def refresh(self, loader):
                self.net.eval()
                first = self.rescore(loader)
                self.net.train()
                return first, self.rescore(loader)
            def rescore(self, loader):
                return [self.net(x) for x in loader]
            def adapt(self, loader):
                self.net.eval()
                return self.meta_gradients(loader)
            def meta_gradients(self, loader):
                grads = []
                for x in loader:
                    loss = self.net(x).sum()
                    grads.append(torch.autograd.grad(loss, self.net.parameters(), create_graph=True))
                return grads
            def relearn(self, loader):
                self.net.eval()
                return self.retrain(loader)
            def retrain(self, loader):
                self.net.train()
                return [self.net(x) for x in loader]
    """,
}


def test_the_index_knows_the_attributes_of_self_a_caller_puts_in_eval_mode_before_calling_a_method():
    index = index_of(EVAL_MODE_ATTRIBUTE_PROJECT)
    summary = index.functions["pkg.detector.Detector.decision_function"][2]
    assert summary.eval_arguments == (("self:inference", "self.net"),)
    # Not under ``no_grad`` (``validate``), not where the caller computes gradients
    # (``targets``), where another caller calls it in training mode (``embed``), or where the
    # same caller calls it again after ``train()`` (``rescore``).
    assert index.eval_mode_parameters() == {
        "pkg.detector.Detector.inference": {"self.net": "decision_function"},
        "pkg.detector.Detector.meta_gradients": {"self.net": "adapt"},
        "pkg.detector.Detector.retrain": {"self.net": "relearn"},
    }


def test_a_loop_running_a_model_a_calling_method_put_in_eval_mode_is_inference_only_with_the_index():
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(EVAL_MODE_ATTRIBUTE_PROJECT["pkg.detector"])
    view = index_of(EVAL_MODE_ATTRIBUTE_PROJECT).view("pkg.detector")
    findings = lint_source(source, "pkg/detector.py", [inference], project=view)
    # Gradients computed in the method (``meta_gradients``), or training mode set again there
    # (``retrain``), keep the rule silent too.
    assert [finding.line for finding in findings] == [13]
    assert "`decision_function` puts `self.net` in eval mode before calling `inference`" in findings[0].message
    assert lint_source(source, "pkg/detector.py", [inference]) == []


GRAD_OFF_PROJECT = {
    "pkg.__init__": "",
    "pkg.score": """\
        import torch
        def score(model, batches):
            model.to("cuda")
            return [model(b).item() for b in batches]
        def _one(model, b):
            return model(b).item()
        def score_each(model, batches):
            model.to("cuda")
            return [_one(model, b) for b in batches]
        def train_scores(model, batches):
            model.to("cuda")
            return [model(b).item() for b in batches]
    """,
    "pkg.use": """\
        import torch
        from pkg.score import score, score_each, train_scores
        def report(model, batches):
            with torch.no_grad():
                return score(model, batches)
        @torch.inference_mode()
        def report_each(model, batches):
            return score_each(model, batches)
        def fit(model, batches):
            return train_scores(model, batches)
    """,
}


def test_the_index_knows_the_functions_a_caller_may_run_with_autograd_off():
    index = index_of(GRAD_OFF_PROJECT)
    calls = index.functions["pkg.use.report"][2].calls
    assert [(site.target, site.grad_off) for site in calls] == [("q:torch.no_grad", False), ("q:pkg.score.score", True)]
    # Under a ``with`` block, from a decorated function, and what those call in turn.
    assert index.grad_off_functions() == {"pkg.score.score", "pkg.score.score_each", "pkg.score._one"}
    assert index.view("pkg.score").grad_off_functions == {"score", "score_each", "_one"}
    summary = summarise_source(textwrap.dedent(GRAD_OFF_PROJECT["pkg.use"]), "pkg.use")
    again = type(summary).from_json(json.loads(json.dumps(summary.to_json())))
    assert [site.grad_off for site in again.functions["report_each"].calls] == [True]


def test_a_model_whose_every_project_caller_may_turn_autograd_off_is_not_reported_with_the_index():
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(GRAD_OFF_PROJECT["pkg.score"])
    view = index_of(GRAD_OFF_PROJECT).view("pkg.score")
    alone = lint_source(source, "pkg/score.py", [inference])
    assert [finding.line for finding in alone] == [4, 12]
    findings = lint_source(source, "pkg/score.py", [inference], project=view)
    assert [finding.line for finding in findings] == [12]


METHOD_GRAD_OFF_PROJECT = {
    "pkg.__init__": "",
    "pkg.classifier": """\
        import torch
        class Classifier(torch.nn.Module):
            def label(self, batches):
                self.eval()
                return [self(b).argmax(1).tolist() for b in batches]
            def score(self, batches):
                self.eval()
                return [self(b).max().item() for b in batches]
            def forward(self, x):
                return x
    """,
    "pkg.processor": """\
        import torch
        class Processor:
            def __init__(self, trainer):
                self._model = trainer.model
            def process(self, batches):
                with torch.no_grad():
                    labels = self._model.label(batches)
                    self._model.forward(batches[0])
                return labels, self._model.score(batches)
            @torch.no_grad()
            def best(self, models, batches):
                return max(m.score(batches) for m in models)
    """,
}


def test_a_method_whose_every_call_by_its_name_may_run_with_autograd_off_is_among_the_grad_off_functions():
    index = index_of(METHOD_GRAD_OFF_PROJECT)
    # ``self._model`` holds what the code does not show: no call site resolves to ``label``.
    process = index.functions["pkg.processor.Processor.process"][2]
    assert process.method_calls == {"no_grad": False, "label": True, "forward": True, "score": False}
    assert index.functions["pkg.processor.Processor.best"][2].method_calls == {"score": True}
    # ``score`` is also called with autograd on; ``forward`` runs whenever the module is called.
    assert index.grad_off_functions() == {"pkg.classifier.Classifier.label"}
    summary = summarise_source(textwrap.dedent(METHOD_GRAD_OFF_PROJECT["pkg.processor"]), "pkg.processor")
    again = type(summary).from_json(json.loads(json.dumps(summary.to_json())))
    assert again.functions["Processor.process"].method_calls == process.method_calls
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(METHOD_GRAD_OFF_PROJECT["pkg.classifier"])
    assert [finding.line for finding in lint_source(source, "pkg/classifier.py", [inference])] == [5, 8]
    view = index.view("pkg.classifier")
    findings = lint_source(source, "pkg/classifier.py", [inference], project=view)
    assert [finding.line for finding in findings] == [8]


# Star imports of project modules --------------------------------------------------------------


def test_a_star_import_of_a_module_with_a_literal_all_binds_exactly_its_names():
    index = index_of(
        {
            "pkg.__init__": "",
            "pkg.ops": """\
                import numpy as np
                __all__ = ["scale", "np"]
                def scale(x):
                    return x
                def _helper():
                    pass
                range = None
            """,
        }
    )
    assert index.star_names("pkg.ops") == {"scale": "pkg.ops.scale", "np": "numpy"}


def test_a_star_import_of_a_module_without_all_binds_its_public_top_level_names_and_submodules():
    index = index_of(
        {
            "pkg.__init__": "import torch\nif torch.cuda.is_available():\n    device = 'cuda'\nfor i in range(3):\n    pass\n",
            "pkg.ops": "def _private():\n    pass\ndef run():\n    global counter\n",
        }
    )
    assert index.star_names("pkg") == {"torch": "torch", "device": "", "i": "", "ops": ""}
    assert index.star_names("pkg.ops") == {"run": "pkg.ops.run", "counter": ""}


def test_a_name_bound_twice_or_under_a_condition_is_bound_without_a_meaning():
    index = index_of(
        {
            "m": """\
                import numpy as np
                try:
                    import cupy as xp
                except ImportError:
                    import numpy as xp
                np = np.ma
            """
        }
    )
    assert index.star_names("m") == {"np": "", "xp": ""}


def test_nested_star_imports_inside_the_project_are_followed():
    index = index_of(
        {
            "pkg.__init__": "from .layers import *\n",
            "pkg.layers": "import torch\nfrom pkg.base import *\nclass Conv:\n    pass\n",
            "pkg.base": "import numpy as np\nclass Base:\n    pass\n",
        }
    )
    assert index.star_names("pkg") == {
        "torch": "torch",
        "Conv": "pkg.layers.Conv",
        "np": "numpy",
        "Base": "pkg.base.Base",
        "layers": "",
        "base": "",
    }
    assert index.view("pkg").star_names == {".layers": index.star_names("pkg.layers")}


def test_star_imports_in_a_cycle_bind_the_names_of_every_module_of_the_cycle():
    index = index_of({"a": "from b import *\ndef f():\n    pass\n", "b": "from a import *\ndef g():\n    pass\n"})
    assert index.star_names("a") == {"f": "a.f", "g": "b.g"}
    assert index.star_names("b") == {"g": "b.g", "f": "a.f"}


def test_a_star_import_from_outside_the_project_or_of_a_module_binding_unseen_names_may_bind_anything():
    index = index_of(
        {
            "outside": "from numpy import *\n",
            "dynamic": "for name in ['a', 'b']:\n    globals()[name] = name\n",
            "lazy": "def __getattr__(name):\n    return name\n",
            "exported": "from numpy import *\n__all__ = ['pi']\n",
            "user": "from outside import *\nfrom numpy import *\nfrom exported import *\n",
        }
    )
    assert index.star_names("outside") is None
    assert index.star_names("dynamic") is None
    assert index.star_names("lazy") is None
    assert index.star_names("numpy") is None
    assert index.star_names("exported") == {"pi": ""}
    assert index.view("user").star_names == {"exported": {"pi": ""}}


def test_what_a_star_import_binds_survives_the_summarys_json_form_and_enters_the_digest():
    files = {"m": "from .ops import *\n", "ops": "import numpy as np\n__all__ = ['np']\n"}
    summary = summarise_source("import numpy as np\nfrom . import *\n__all__ = ('np',)\nx = 1\n", "pkg", True)
    assert summary.star_imports == {".": "pkg"}
    assert summary.exports == ("np",) and summary.bound == ("__all__", "np", "x")
    assert type(summary).from_json(json.loads(json.dumps(summary.to_json()))) == summary
    before = index_of(files).view("m")
    after = index_of(dict(files, ops="import numpy as np\n__all__ = ['np', 'range']\n")).view("m")
    assert before.digest != after.digest


LPIPS_PROJECT = {
    "lpips.__init__": """\
        import numpy as np
        from lpips.trainer import *

        def voc_ap(rec, prec):
            mpre = np.concatenate(([0.0], prec, [0.0]))
            for i in range(mpre.size - 1, 0, -1):
                mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
            return mpre
    """,
    "lpips.trainer": """\
        import numpy as np
        import torch

        class Trainer:
            def name(self):
                return self.model_name
    """,
}


def test_a_running_maximum_in_a_file_star_importing_a_project_module_is_reported_with_the_index():
    running = rule_by_code("PFL101")
    source = textwrap.dedent(LPIPS_PROJECT["lpips.__init__"])
    view = index_of(LPIPS_PROJECT).view("lpips")
    findings = lint_source(source, "lpips/__init__.py", [running], project=view)
    assert [finding.line for finding in findings] == [6]
    assert "np.maximum.accumulate" in findings[0].message
    assert lint_source(source, "lpips/__init__.py", [running]) == []
    rebinding = dict(LPIPS_PROJECT, **{"lpips.trainer": "def range(*bounds):\n    return []\n"})
    assert lint_source(source, "lpips/__init__.py", [running], project=index_of(rebinding).view("lpips")) == []


# Functions nothing runs ------------------------------------------------------------------------

# deepod's tabular `DeepIsolationForest._deep_transfer`: a static method nothing of the project
# calls, while two unrelated classes of other files call their own `self._deep_transfer`.
UNCALLED_PROJECT = {
    "pkg.base": """
        from abc import ABCMeta
        class BaseDeepAD(metaclass=ABCMeta):
            def fit(self, X):
                return self.training_prepare(X)
    """,
    "pkg.tabular": """
        from torch.utils.data import DataLoader
        from pkg.base import BaseDeepAD
        class DeepIsolationForest(BaseDeepAD):
            def decision_function(self, X):
                return X
            @staticmethod
            def _deep_transfer(X, net, batch_size):
                out = []
                for batch in DataLoader(X, batch_size=batch_size):
                    out.append(net(batch))
                return out
            def _helper(self):
                return 1
    """,
    "pkg.time_series": """
        from pkg.base import BaseDeepAD
        class TimeSeriesDIF(BaseDeepAD):
            def fit(self, X):
                for net in self.nets:
                    self._deep_transfer(X, net, 64)
            @staticmethod
            def _deep_transfer(X, net, batch_size):
                return net(X)
    """,
}


def test_a_private_function_nothing_names_is_uncalled_and_cold_with_what_only_it_calls():
    index = ProjectIndex(
        [
            summarise_source(textwrap.dedent(source), module)
            for module, source in {
                **UNCALLED_PROJECT,
                "pkg.tabular": UNCALLED_PROJECT["pkg.tabular"].replace(
                    "return 1", "return self._more()\n            def _more(self):\n                return 2"
                ),
            }.items()
        ],
        complete=True,
    )
    assert index.uncalled() == {
        "pkg.tabular.DeepIsolationForest._deep_transfer",
        "pkg.tabular.DeepIsolationForest._helper",
    }
    frequencies = index.frequencies()
    assert frequencies["pkg.tabular.DeepIsolationForest._deep_transfer"].frequency is Frequency.COLD
    assert frequencies["pkg.tabular.DeepIsolationForest._more"].evidence == "called only from `_helper`"
    assert index.view("pkg.tabular").uncalled == {"DeepIsolationForest._deep_transfer", "DeepIsolationForest._helper"}
    assert index_of(UNCALLED_PROJECT).uncalled() == frozenset()  # an index of part of the project


def uncalled_with(module: str, source: str) -> frozenset[str]:
    files = {**UNCALLED_PROJECT, module: source}
    summaries = [summarise_source(textwrap.dedent(text), name) for name, text in files.items()]
    return ProjectIndex(summaries, complete=True).uncalled()


def test_a_private_function_named_anywhere_else_may_run():
    transfer = "pkg.tabular.DeepIsolationForest._deep_transfer"
    callers = [
        "def run(model, xs):\n    return list(map(model._deep_transfer, xs))\n",  # a callback
        "def run(pool, model):\n    return pool.submit(model._deep_transfer)\n",
        "def run(model):\n    return getattr(model, '_deep_transfer')\n",  # looked up by name
        "REGISTRY = {'transfer': '_deep_transfer'}\n",
        "from pkg.tabular import DeepIsolationForest\nrun = DeepIsolationForest._deep_transfer\n",
        "def run(model, kind):\n    return getattr(model, f'_deep_{kind}')\n",  # a name built from its start
        "def run(model, kind):\n    return getattr(model, '_deep_' + kind)\n",
        "PREFIX = '_deep_'\ndef run(model, kind):\n    return getattr(model, PREFIX + kind)\n",
    ]
    for caller in callers:
        assert transfer not in uncalled_with("pkg.user", caller), caller
    assert transfer in uncalled_with("pkg.user", "def run(model, kind):\n    return kind + '_' + model.name\n")


def test_a_recursive_call_or_one_from_another_function_of_the_same_name_is_a_mention():
    # flair: `WordEmbeddingsStore._get_vector` calls `self.backend._get_vector(word)`.
    store = """
        class Store:
            def embed(self, word):
                return self._get_vector(word)
            def _get_vector(self, word):
                return self.backend._get_vector(word)
        class Backend:
            def _get_vector(self, word):
                return word
        def _walk(node):
            return [_walk(child) for child in node]
    """
    assert uncalled_with("pkg.store", store) == UNCALLED_DEEPOD


def test_a_self_call_in_a_related_class_may_run_a_private_method():
    transfer = "pkg.tabular.DeepIsolationForest._deep_transfer"
    subclass = """
        from pkg.tabular import DeepIsolationForest
        class Faster(DeepIsolationForest):
            def fit(self, X):
                return self._deep_transfer(X, self.net, 64)
    """
    assert transfer not in uncalled_with("pkg.faster", subclass)
    mixin = """
        from pkg.tabular import DeepIsolationForest
        class Transferring:
            def fit(self, X):
                return self._deep_transfer(X, self.net, 64)
        class Mixed(Transferring, DeepIsolationForest):
            pass
    """
    assert transfer not in uncalled_with("pkg.mixed", mixin)
    unrelated = mixin.replace("class Mixed(Transferring, DeepIsolationForest):", "class Mixed(Transferring):")
    assert transfer in uncalled_with("pkg.mixed", unrelated)
    # skorch: users write `class Net(AccelerateMixin, NeuralNet)`, outside the project.
    user_mixed = """
        class NeuralNet:
            def train_step(self, step):
                self._step_optimizer(step)
            def _step_optimizer(self, step):
                return step()
        class AccelerateMixin:
            def _step_optimizer(self, step):
                return step()
    """
    assert "pkg.net.AccelerateMixin._step_optimizer" not in uncalled_with("pkg.net", user_mixed)


def test_a_private_method_a_library_base_or_a_registry_may_call_is_not_uncalled():
    layer = """
        import torch
        class Conv(torch.nn.Conv2d):
            def _conv_forward(self, x, weight, bias):
                return x
    """
    assert uncalled_with("pkg.layer", layer) == UNCALLED_DEEPOD
    plain_with_a_module_subclass = """
        import torch
        class Plain:
            def _load_from_state_dict(self, *args):
                return args
        class Child(Plain, torch.nn.Module):
            pass
    """
    assert uncalled_with("pkg.layer", plain_with_a_module_subclass) == UNCALLED_DEEPOD
    registered = """
        @register("model")
        class Model:
            def _fit(self):
                return 1
        class Hooks:
            @hook("before")
            def _before(self):
                return 2
            @staticmethod
            def _cached():
                return 3
        class Callback:
            def _get_param_names(self):
                return []
            def get_params(self, deep=True):
                return BaseEstimator.get_params(self, deep=deep)
    """
    assert uncalled_with("pkg.hooks", registered) == UNCALLED_DEEPOD | {"pkg.hooks.Hooks._cached"}


UNCALLED_DEEPOD = frozenset(
    {"pkg.tabular.DeepIsolationForest._deep_transfer", "pkg.tabular.DeepIsolationForest._helper"}
)


def test_a_public_or_special_function_nothing_names_is_not_uncalled():
    api = """
        def transfer(x):
            return x
        def __getattr__(name):
            return name
        class Colour:
            def _missing_(self, value):
                return value
    """
    assert uncalled_with("pkg.api", api) == UNCALLED_DEEPOD


def test_code_in_an_uncalled_function_is_cold_whatever_its_name_says():
    source = """
        class Model:
            def _shared_step(self, batch):
                print(batch)
                def inner(x):
                    print(x)
                return inner
            def training_step(self, batch):
                print(self)
    """
    view = ProjectIndex([summarise_source(textwrap.dedent(source), "probe")], complete=True).view("probe")
    assert view.uncalled == {"Model._shared_step"}
    frequencies = frequency_at_prints(source, view)
    never = (Frequency.COLD, "never runs: `_shared_step` is named by no other code of the project")
    assert frequencies["batch"] == never
    assert frequencies["x"] == never
    assert frequencies["self"][0] is Frequency.PER_CALL


def test_a_cached_index_says_whether_it_holds_the_whole_project(tmp_path):
    write(tmp_path / "pkg" / "__init__.py", "")
    model = write(tmp_path / "pkg" / "model.py", "def _unused(x):\n    return x\n")
    user = write(tmp_path / "pkg" / "user.py", "def run():\n    return 1\n")
    cache = str(tmp_path / ".perflint_cache")
    alone = project_views([IndexedFile(str(model))], str(tmp_path), cache, whole_project=False)
    assert alone.views[str(model)].uncalled == frozenset()
    assert (
        project_views([IndexedFile(str(model))], str(tmp_path), cache, whole_project=False).views[str(model)].uncalled
        == frozenset()
    )  # a store made of a part of the project is no whole project
    everything = [IndexedFile(str(path)) for path in (model, user, tmp_path / "pkg" / "__init__.py")]
    assert project_views(everything, str(tmp_path), cache, whole_project=True).views[str(model)].uncalled == {"_unused"}
    later = project_views([IndexedFile(str(model))], str(tmp_path), cache, whole_project=False)
    assert later.views[str(model)].uncalled == {"_unused"}


def test_a_whole_project_run_leaves_an_uncalled_private_method_alone(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pyproject.toml", "[tool.perflint]\n")
    write(tmp_path / "pkg" / "__init__.py", "")
    solver = """\
        import numpy as np
        class Filter:
            @staticmethod
            def {name}(covariances, residuals):
                for S, r in zip(covariances, residuals):
                    z = np.linalg.inv(S) @ r
    """
    write(tmp_path / "pkg" / "dead.py", solver.format(name="_solve_all"))
    write(tmp_path / "pkg" / "api.py", solver.format(name="solve_all"))

    def flagged() -> list[str]:
        main(["check", "--select", "PFL402", "--output-format", "json", "."])
        return sorted(entry["path"] for entry in json.loads(capsys.readouterr().out)["findings"])

    assert flagged() == ["pkg/api.py"]  # a public method nothing calls is a library's API
    write(tmp_path / "pkg" / "user.py", "def run(kalman, pairs):\n    return [kalman._solve_all(*p) for p in pairs]\n")
    assert flagged() == ["pkg/api.py", "pkg/dead.py"]


# Outputs detached by the callers of the method returning them ----------------------------------

RETURNED_OUTPUTS_PROJECT = {
    "pkg.__init__": "",
    "pkg.scorer": """\
        import torch
        class Part(torch.nn.Module):
            def forward(self, x):
                return x
        class AutoEncoder(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder = Part()
                self.decoder = Part()
        class Scorer:
            def fit(self, x, loader):
                self.model = AutoEncoder().to("cuda")
                self.scores_ = self.decision_function(loader)
            def decision_function(self, loader):
                errors = self.testing(loader)
                return torch.stack(errors[:-1]).flatten().detach().cpu().numpy(), errors[-1].detach()
            def testing(self, loader):
                errors = []
                for batch in loader:
                    rebuilt = self.model.decoder(self.model.encoder(batch))
                    errors.append(torch.mean((batch - rebuilt) ** 2, dim=1))
                return errors
    """,
}


def test_the_index_knows_the_methods_only_their_own_class_calls():
    summaries = [summarise_source(textwrap.dedent(text), name) for name, text in RETURNED_OUTPUTS_PROJECT.items()]
    index = ProjectIndex(summaries, complete=True)
    assert index.methods_called_only_by_own_class() == {
        "pkg.scorer.Scorer.decision_function",
        "pkg.scorer.Scorer.testing",
    }
    assert index.view("pkg.scorer").called_only_by_own_class == {"Scorer.decision_function", "Scorer.testing"}
    # Called by name from another class, or of a class a library base may call: not only its own.
    calling = {**RETURNED_OUTPUTS_PROJECT, "pkg.use": "def run(s, loader):\n    return s.testing(loader)\n"}
    summaries = [summarise_source(textwrap.dedent(text), name) for name, text in calling.items()]
    assert ProjectIndex(summaries, complete=True).methods_called_only_by_own_class() == {
        "pkg.scorer.Scorer.decision_function"
    }
    module_class = RETURNED_OUTPUTS_PROJECT["pkg.scorer"].replace("class Scorer:", "class Scorer(torch.nn.Module):")
    summaries = [summarise_source(textwrap.dedent(module_class), "pkg.scorer")]
    assert ProjectIndex(summaries, complete=True).methods_called_only_by_own_class() == frozenset()
    assert index_of(RETURNED_OUTPUTS_PROJECT).methods_called_only_by_own_class() == frozenset()  # part of a project


def test_outputs_a_method_returns_to_callers_that_detach_them_are_inference_only_with_the_index():
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(RETURNED_OUTPUTS_PROJECT["pkg.scorer"])
    summaries = [summarise_source(textwrap.dedent(text), name) for name, text in RETURNED_OUTPUTS_PROJECT.items()]
    view = ProjectIndex(summaries, complete=True).view("pkg.scorer")
    assert lint_source(source, "pkg/scorer.py", [inference]) == []
    findings = lint_source(source, "pkg/scorer.py", [inference], project=view)
    assert [(finding.line, finding.column) for finding in findings] == [(20, 23)]
    assert "its only callers, `decision_function`, detach what it returns" in findings[0].message
    # A caller that keeps one of the returned outputs with its graph, or a method that hands
    # the method to other code without calling it.
    keeping = source.replace("errors[-1].detach()", "errors[-1]")
    handing = source.replace(
        "    def testing(self, loader):",
        "    def score(self, run):\n        return run(self.testing)\n    def testing(self, loader):",
    )
    for changed in (keeping, handing):
        summaries = [summarise_source(changed, "pkg.scorer")]
        view = ProjectIndex(summaries, complete=True).view("pkg.scorer")
        assert lint_source(changed, "pkg/scorer.py", [inference], project=view) == []


def test_a_method_of_a_local_name_holding_a_project_classs_object_is_that_methods_call():
    index = index_of(
        {
            "pkg.__init__": "",
            "pkg.trainer": """\
                class Trainer:
                    def predict(self, batch):
                        return batch
            """,
            "pkg.train": """\
                import numpy as np
                from pkg.trainer import Trainer
                def train(args, batches):
                    trainer = Trainer(args)
                    for b in batches:
                        if args:
                            trainer = Trainer(args)
                        trainer.predict(b)
                def looped(args, batches):
                    trainer = Trainer(args)
                    for trainer in batches:
                        trainer.predict(1)
                def given(trainer, batches):
                    if trainer is None:
                        trainer = Trainer(None)
                    for b in batches:
                        trainer.predict(b)
                def arrays(n):
                    table = np.Table(n)
                    return table.predict(n)
            """,
        }
    )
    assert [site.target for site in index.functions["pkg.train.train"][2].calls] == [
        "q:pkg.trainer.Trainer",
        "q:pkg.trainer.Trainer",
        "q:pkg.trainer.Trainer.predict",
    ]
    assert index.frequencies()["pkg.trainer.Trainer.predict"].evidence == "called in a loop over `batches` in `train`"
    # Bound another way too, a parameter, or an object of another package's class: not known.
    for function in ("looped", "given", "arrays"):
        targets = [site.target for site in index.functions[f"pkg.train.{function}"][2].calls]
        assert not any(target.endswith(".predict") for target in targets), function


def test_a_function_training_through_a_base_class_method_of_another_file_computes_gradients():
    files = {
        "pkg.__init__": "",
        "pkg.base": """\
            class Base:
                def _train_model(self, loader):
                    for batch in loader:
                        self.model(batch).sum().backward()
        """,
        "pkg.encoder": """\
            import torch
            from pkg.base import Base
            class Encoder(Base):
                def __init__(self, net):
                    self.model = net.to("cuda")
                def predict(self, x):
                    self.model.eval()
                    return self.model(x).detach()
                def fit(self, loader):
                    self._train_model(loader)
                    self.codes = [self.model(b).detach() for b in loader]
        """,
    }
    inference = rule_by_code("PFL405")
    source = textwrap.dedent(files["pkg.encoder"])
    assert [finding.line for finding in lint_source(source, "pkg/encoder.py", [inference])] == [8, 11]
    view = index_of(files).view("pkg.encoder")
    assert [finding.line for finding in lint_source(source, "pkg/encoder.py", [inference], project=view)] == [8]


def test_the_main_block_of_a_module_the_project_imports_is_test_code_and_a_scripts_is_not():
    # pyhealth's `medlink/model.py` ends with a smoke test under anomaly detection; `train.py`
    # is the program itself.
    body = """
        import torch
        class MedLink(torch.nn.Module):
            pass
        if __name__ == "__main__":
            with torch.autograd.detect_anomaly():
                MedLink()
    """
    index = index_of(
        {
            "pkg.__init__": "from .model import MedLink\n",
            "pkg.model": body,
            "pkg.train": body,
            "tests.test_train": "from pkg.train import MedLink\n",
        }
    )
    assert index.imported_modules() == frozenset({"pkg.model"})
    rule = rule_by_code("PFL504")
    library = lint_source(textwrap.dedent(body), "pkg/model.py", [rule], project=index.view("pkg.model"))
    script = lint_source(textwrap.dedent(body), "pkg/train.py", [rule], project=index.view("pkg.train"))
    alone = lint_source(textwrap.dedent(body), "pkg/model.py", [rule])
    assert (len(library), len(script), len(alone)) == (0, 1, 1)
