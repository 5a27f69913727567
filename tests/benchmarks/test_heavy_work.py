"""Heavy work beside a node: a model's forward pass, a backward pass, an optimizer step, a fit, a
solve or file I/O in the same loop iteration or function call."""

from __future__ import annotations

from heavy_work import heavy_work_beside

from tests.engine.probes import probe_calls


def _heavy(source: str) -> dict[str, str | None]:
    def question(context, expr):
        heavy = heavy_work_beside(expr, context)
        return heavy.what if heavy is not None else None

    return probe_calls(source, question)


def test_a_training_step_or_a_model_call_in_the_same_iteration_is_heavy_work():
    answers = _heavy(
        "import torch\n"
        "def train(model, loader, optimizer, device):\n"
        "    model.to(device)\n"
        "    for x, y in loader:\n"
        "        print(torch.zeros(3).to(device))\n"
        "        loss = model(x).sum()\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "    for x in loader:\n"
        "        print(x.to(device))\n"
        "        total = x.sum()\n"
    )
    assert answers["torch.zeros(3).to(device)"] == "a model's forward pass"
    assert answers["x.to(device)"] is None


def test_heavy_work_under_a_periodic_or_debug_test_or_in_a_handler_does_not_count():
    answers = _heavy(
        "import numpy as np\n"
        "def run(xs, path, debug):\n"
        "    for step, x in enumerate(xs):\n"
        "        print(x.sum())\n"
        "        if step % 100 == 0:\n"
        "            np.save(path, x)\n"
        "        if debug:\n"
        "            np.linalg.svd(x)\n"
        "        try:\n"
        "            y = x * 2\n"
        "        except ValueError:\n"
        "            np.linalg.inv(x)\n"
        "    for x in xs:\n"
        "        print(x.mean())\n"
        "        np.save(path, x)\n"
    )
    assert answers["x.sum()"] is None
    assert answers["x.mean()"] == "a file write"


def test_outside_loops_the_function_call_is_the_unit_and_module_level_code_has_none():
    answers = _heavy(
        "import torch\n"
        "from torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 8, 3)\n"
        "        self.scale = nn.Linear(8, 8)\n"
        "    def forward(self, x):\n"
        "        print(torch.tensor([1.0]).to(x.device))\n"
        "        return self.conv(x)\n"
        "    def head(self, x):\n"
        "        print(torch.tensor([2.0]).to(x.device))\n"
        "        return self.scale(x)\n"
        "print(torch.ones(2))\n"
    )
    assert answers["torch.tensor([1.0]).to(x.device)"] == "a model's forward pass"
    assert answers["torch.tensor([2.0]).to(x.device)"] is None
    assert answers["torch.ones(2)"] is None


def test_the_node_itself_is_not_heavy_work_beside_it_but_a_call_around_it_is():
    answers = _heavy(
        "from scipy.optimize import minimize\n"
        "def fit_all(problems, x0, est):\n"
        "    for p in problems:\n"
        "        print(minimize(p, x0))\n"
        "    for X in problems:\n"
        "        print(X.mean())\n"
        "        est.fit(X)\n"
    )
    assert answers["minimize(p, x0)"] is None
    assert answers["X.mean()"] == "a fit"


def test_heavy_work_in_a_function_of_the_file_the_iteration_calls_counts():
    answers = _heavy(
        "import torch\n"
        "class Trainer:\n"
        "    def step(self, batch):\n"
        "        loss = self.loss(batch)\n"
        "        loss.backward()\n"
        "    def fit(self, loader):\n"
        "        for batch in loader:\n"
        "            print(batch.sum())\n"
        "            self.step(batch)\n"
    )
    assert answers["batch.sum()"] == "a backward pass, in `self.step`"


def test_a_rule_may_ask_after_the_walk_has_left_the_loop_and_a_first_iterable_runs_once():
    import libcst as cst

    from perflint.engine import lint_source
    from perflint.engine.rule import Rule

    answers: dict[str, str | None] = {}

    class AskAtTheEnd(Rule):
        code = "PFL999"
        name = "ask-at-the-end"
        asked: list[cst.BaseExpression]

        def visit_Module(self, node: cst.Module) -> None:
            self.asked = []

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                self.asked.append(node.args[0].value)

        def leave_Module(self, original_node: cst.Module) -> None:
            for expr in self.asked:
                heavy = heavy_work_beside(expr, self.context)
                answers[cst.Module([]).code_for_node(expr)] = heavy.what if heavy is not None else None

    source = (
        "import numpy as np\n"
        "def fit_each(blocks, est):\n"
        "    for X in blocks:\n"
        "        print(X.sum())\n"
        "        est.fit(X)\n"
        "factors = [np.linalg.svd(print(b.T)) for b in print(blocks.copy())]\n"
    )
    assert lint_source(source, "probe.py", [AskAtTheEnd]) == []
    assert answers == {
        "X.sum()": "a fit",
        "blocks.copy()": None,
        "b.T": "a decomposition, an inverse or a pairwise table",
    }
