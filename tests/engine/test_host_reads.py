"""Reading one tensor's value on the host, and collecting such values across a loop."""

from __future__ import annotations

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.host_reads import (
    accumulation_of,
    collects_in_one_place,
    function_waits_for_device,
    read_tensor,
    reads_a_host_batch,
    reads_on_every_iteration,
    scalar_read,
)
from perflint.engine.rule import Rule
from tests.engine.probes import probe_calls


def _text(node: cst.CSTNode | None) -> str | None:
    return None if node is None else cst.Module([]).code_for_node(node)


def _ask_at_reads(source: str, question) -> dict[str, object]:
    """Ask ``question(context, read)`` at every ``.item()``, ``float(...)`` and ``int(...)``
    call, keyed by the call's text."""
    answers: dict[str, object] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "reads"

        def visit_Call(self, node: cst.Call) -> None:
            if scalar_read(node, self.context) is not None:
                answers[_text(node)] = question(self.context, node)

    assert lint_source(source, "probe.py", [Probe]) == []
    return answers


def test_a_scalar_read_is_item_float_or_int_of_one_value():
    answers = probe_calls(
        "def f(t, float):\n    print(t.item()); print(int(t)); print(t.item(0)); print(t.tolist()); print(float(t))\n",
        lambda context, expr: _text(scalar_read(expr, context)) if type(expr) is cst.Call else None,
    )
    # ``float`` is a parameter here, not the builtin.
    assert answers == {"t.item()": "t", "int(t)": "t", "t.item(0)": None, "t.tolist()": None, "float(t)": None}


def test_the_tensor_read_keeps_reductions_and_drops_value_preserving_methods():
    assert _text(read_tensor(cst.parse_expression("loss.detach().cpu()"))) == "loss"
    assert _text(read_tensor(cst.parse_expression("x.std().detach()"))) == "x.std()"


def test_accumulations_add_or_append_the_read_as_a_statement():
    answers = _ask_at_reads(
        "def f(loader, total, losses, n):\n"
        "    for x in loader:\n"
        "        total += x.sum().item()\n"
        "        total += x.max().item() * n\n"
        "        losses.append(float(x))\n"
        "        total -= x.min().item()\n"
        "        print(x.mean().item())\n"
        "        y = losses.append(x.std().item())\n",
        lambda context, read: _describe(accumulation_of(context.path_to(read), context)),
    )
    assert answers == {
        "x.sum().item()": ("total", False),
        "x.max().item()": ("total", False),
        "float(x)": ("losses", True),
        "x.min().item()": None,
        "x.mean().item()": None,
        "x.std().item()": None,
    }


def test_an_accumulation_collects_in_one_place_unless_an_index_of_its_accumulator_changes_with_the_loop():
    def question(context, read):
        accumulation = accumulation_of(context.path_to(read), context)
        return collects_in_one_place(accumulation, context.loops.innermost, context)

    answers = _ask_at_reads(
        "def f(self, named, history, key):\n"
        "    for name, p in named:\n"
        "        self.grads[name].append(p.sum().item())\n"
        "        history[key].append(p.max().item())\n"
        "        self.totals[name[0]] += p.min().item()\n"
        "        self.total += p.std().item()\n",
        question,
    )
    assert answers == {"p.sum().item()": False, "p.max().item()": True, "p.min().item()": False, "p.std().item()": True}


def _describe(accumulation):
    return None if accumulation is None else (_text(accumulation.accumulator), accumulation.appends)


def _loop_reads(source: str) -> dict[str, object]:
    def question(context, read):
        accumulation = accumulation_of(context.path_to(read), context)
        loop = context.loops.innermost.node
        return None if accumulation is None else reads_on_every_iteration(loop, accumulation, context)

    return _ask_at_reads(source, question)


def test_a_loop_that_reads_the_total_or_syncs_otherwise_needs_the_host_every_iteration():
    assert _loop_reads(
        "def f(loader, bar):\n"
        "    total = 0.0\n"
        "    for x in loader:\n"
        "        total += x.sum().item()\n"
        "        bar.set_postfix(loss=total)\n"
    ) == {"x.sum().item()": True}
    assert _loop_reads(
        "def f(loader, preds):\n"
        "    total = 0.0\n"
        "    for x in loader:\n"
        "        total += x.sum().item()\n"
        "        preds.extend(x.argmax(-1).cpu().tolist())\n"
    ) == {"x.sum().item()": True}
    # torch_geometric's `DiffGroupNorm.group_distance_ratio`: a boolean-mask index per class.
    assert _loop_reads(
        "def f(x, y, n):\n"
        "    total = 0.0\n"
        "    for i in range(n):\n"
        "        mask = y == i\n"
        "        dist = torch.cdist(x[mask], x[~mask])\n"
        "        total += float(dist.sum())\n"
    ) == {"float(dist.sum())": True}
    assert _loop_reads(
        "def f(x, ids, n):\n"
        "    total = 0.0\n"
        "    for i in range(n):\n"
        "        part = x[ids]\n"
        "        total += part.sum().item()\n"
    ) == {"part.sum().item()": False}


def test_a_chained_comparison_of_a_tensor_the_loop_reads_waits_every_iteration():
    # torchcp's online evaluation: `lo <= y <= hi` takes the truth of `lo <= y`.
    assert _loop_reads(
        "def f(predictor, xs, ys):\n"
        "    total, covered = 0.0, 0\n"
        "    for x, y in zip(xs, ys):\n"
        "        interval = predictor(x)\n"
        "        covered += int(interval[0] <= y <= interval[1])\n"
        "        total += (interval[1] - interval[0]).item()\n"
    ) == {"int(interval[0] <= y <= interval[1])": False, "(interval[1] - interval[0]).item()": True}
    assert _loop_reads(
        "def f(predictor, xs, lo, hi):\n"
        "    total, inside = 0.0, 0\n"
        "    for x in xs:\n"
        "        width = predictor(x)\n"
        "        inside += int(lo <= len(x) <= hi)\n"
        "        total += width.sum().item()\n"
    ) == {"int(lo <= len(x) <= hi)": False, "width.sum().item()": False}


def test_periodic_reads_and_other_accumulations_do_not_count():
    assert _loop_reads(
        "def f(loader):\n"
        "    total, count = 0.0, 0\n"
        "    for step, x in enumerate(loader):\n"
        "        total += x.sum().item()\n"
        "        count += x.numel().item()\n"
        "        if step % 100 == 0:\n"
        "            print(total / count)\n"
    ) == {"x.sum().item()": False, "x.numel().item()": False}


def test_a_batch_a_dataloader_yields_unmoved_is_on_the_host():
    answers = probe_calls(
        "import torch\n"
        "from torch.utils.data import DataLoader\n"
        "def f(net, dataset, device):\n"
        "    for img, label in DataLoader(dataset):\n"
        "        y = net(img.to(device))\n"
        "        print((y == label).sum()); print(label.to(device) == y); print(y.sum())\n"
        "    for img, label in DataLoader(dataset):\n"
        "        label = label.to(device)\n"
        "        print(label.sum())\n",
        reads_a_host_batch_question,
    )
    assert answers == {
        "(y == label).sum()": True,
        "label.to(device) == y": False,
        "y.sum()": False,
        "label.sum()": False,
    }


def test_counting_decisions_a_branch_on_a_tensor_or_a_mask_index_waits_but_a_guard_that_raises_does_not():
    def waits(context, expr):
        read = function_waits_for_device(context, counting_decisions=True)
        plain = function_waits_for_device(context)
        return (
            None if read is None else cst.Module([]).code_for_node(read).strip().splitlines()[0],
            plain is None,
        )

    answers = probe_calls(
        "import torch\n"
        "def solve(b: torch.Tensor, alpha: torch.Tensor):\n"
        "    print(1)\n"
        "    if torch.all(alpha > 0):\n"
        "        b = b / alpha\n"
        "    return b\n"
        "def clip(x: torch.Tensor):\n"
        "    print(2)\n"
        "    x[x < 0] = 0\n"
        "    return x\n"
        "def check(x: torch.Tensor):\n"
        "    print(3)\n"
        "    if torch.any(x < 0):\n"
        "        raise ValueError('negative')\n"
        "    return x\n",
        waits,
    )
    assert answers == {
        "1": ("if torch.all(alpha > 0):", True),
        "2": ("x[x < 0]", True),
        "3": (None, True),
    }


def reads_a_host_batch_question(context, expr):
    return reads_a_host_batch(expr, context)


def test_a_function_that_reads_a_tensor_on_the_host_waits_for_the_device_anyway():
    def waits(context, expr):
        read = function_waits_for_device(context)
        return None if read is None else cst.Module([]).code_for_node(read)

    answers = probe_calls(
        "import torch\n"
        "def nearest(x, means):\n"
        "    print(1)\n"
        "    return [int((means @ row).argmin().item()) for row in x]\n"
        "def check(p):\n"
        "    print(2)\n"
        "    return torch.allclose(p.sum(), torch.ones(()))\n"
        "def logged(x, step, debug):\n"
        "    print(3)\n"
        "    if step % 100 == 0:\n"
        "        print(x.sum().item())\n"
        "    if debug:\n"
        "        print(x.tolist())\n"
        "    return x * 2\n"
        "print(4)\n",
        waits,
    )
    assert answers == {
        "1": "(means @ row).argmin().item()",
        "2": "torch.allclose(p.sum(), torch.ones(()))",
        "3": None,
        "x.sum().item()": None,
        "x.tolist()": None,
        "4": None,
    }


def test_a_torch_function_that_waits_keeps_the_loop_waiting_on_every_iteration():
    from perflint.engine.host_reads import keeps_waiting_on_every_iteration

    def ask(source: str) -> dict[str, object]:
        return _ask_at_reads(
            source,
            lambda context, read: keeps_waiting_on_every_iteration(context.innermost_loop.node, read, context),
        )

    waiting = (
        "import torch\n"
        "def f(model, steps, device):\n"
        "    for _ in range(steps):\n"
        "        ok = model(device)\n"
        "        print(ok.item())\n"
        "        torch.cuda.synchronize(device)\n"
    )
    assert ask(waiting) == {"ok.item()": True}
    assert ask(waiting.replace("        torch.cuda.synchronize(device)\n", "")) == {"ok.item()": False}


def test_a_loss_tested_after_the_identity_test_of_state_the_loop_sets_keeps_the_loop_waiting():
    from perflint.engine.host_reads import keeps_waiting_on_every_iteration

    def ask(source: str) -> dict[str, object]:
        return _ask_at_reads(
            source,
            lambda context, read: keeps_waiting_on_every_iteration(context.innermost_loop.node, read, context),
        )

    early_stopping = (
        "def fit(model, loader, optimizer, tol, option):\n"
        "    best = None\n"
        "    for x in loader:\n"
        "        nll = model(x)\n"
        "        nll.backward()\n"
        "        optimizer.step()\n"
        "        print(nll.item())\n"
        "        if best is None or nll < best - tol:\n"
        "            best = nll\n"
    )
    assert ask(early_stopping) == {"nll.item()": True}
    # An option the loop never sets: the tensor test runs only for the callers that pass none.
    option = early_stopping.replace("best is None or", "option is None and")
    assert ask(option) == {"nll.item()": False}
    # A setting read beside a tensor of `self` is no tensor (skrl's `if self.cfg.clip > 0:`).
    setting = (
        "def fit(self, loader, optimizer):\n"
        "    for x in loader:\n"
        "        loss = self.model(x)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        if self.cfg.clip > 0:\n"
        "            self.clip()\n"
        "        print(self.alpha.item(), loss.item())\n"
    )
    assert ask(setting) == {"self.alpha.item()": False, "loss.item()": False}


def test_counting_guards_an_assert_or_a_raise_on_a_tensor_truth_waits_too():
    def waits(context, expr):
        guarded = function_waits_for_device(context, counting_decisions=True, counting_guards=True)
        decisions = function_waits_for_device(context, counting_decisions=True)
        text = None if guarded is None else cst.Module([]).code_for_node(guarded).strip().splitlines()[0]
        return (text, decisions is None)

    answers = probe_calls(
        "import torch\n"
        "def t_softmax(x: torch.Tensor, t: torch.Tensor = None):\n"
        "    print(1)\n"
        "    assert (t >= 0.0).all()\n"
        "    return torch.softmax(x - t, -1)\n"
        "def check(x: torch.Tensor):\n"
        "    print(2)\n"
        "    if torch.isnan(x).any():\n"
        "        raise ValueError('nan')\n"
        "    return x\n"
        "def same(x: torch.Tensor, t):\n"
        "    print(3)\n"
        "    assert t is not None\n"
        "    assert (torch.rand(3) >= 0).all()\n"
        "    return x\n",
        waits,
    )
    assert answers == {
        "1": ("assert (t >= 0.0).all()", True),
        "2": ("if torch.isnan(x).any():", True),
        "3": (None, True),
    }


def test_a_wait_a_called_function_of_the_file_makes_on_every_call_or_in_the_extended_parent_counts_at_the_call():
    def waits(context, expr):
        read = function_waits_for_device(context)
        return None if read is None else cst.Module([]).code_for_node(read)

    answers = probe_calls(
        "import torch\n"
        "def to_host(x):\n"
        "    return x.cpu().numpy()\n"
        "def score(x):\n"
        "    print(1)\n"
        "    return to_host(x * 2)\n"
        "def focal(x, alpha):\n"
        "    if alpha is not None:\n"
        "        alpha = alpha.item()\n"
        "    return x\n"
        "def loss(x, alpha):\n"
        "    print(4)\n"
        "    return focal(x, alpha)\n"
        "class Base:\n"
        "    def validation_step(self, batch):\n"
        "        if self.evaluate_pesq:\n"
        "            return batch.cpu()\n"
        "        return batch\n"
        "    def helper(self, x):\n"
        "        return x + 1\n"
        "class Child(Base):\n"
        "    def validation_step(self, batch):\n"
        "        print(2)\n"
        "        return super().validation_step(batch)\n"
        "    def training_step(self, batch):\n"
        "        print(3)\n"
        "        return self.helper(batch) + super().training_step(batch)\n",
        waits,
    )
    assert answers == {
        "1": "to_host(x * 2)",
        "2": "super().validation_step(batch)",
        "3": None,
        "4": None,
    }


def test_a_tensor_test_after_an_identity_test_does_not_wait_on_every_call():
    def waits(context, expr):
        return function_waits_for_device(context, counting_decisions=True, counting_guards=True) is not None

    answers = probe_calls(
        "import torch\n"
        "def forward(y: torch.Tensor, ignore_index, k):\n"
        "    print(1)\n"
        "    if ignore_index is None and torch.max(y) > k:\n"
        "        raise ValueError('class index')\n"
        "    return y\n"
        "def guard(y: torch.Tensor, k):\n"
        "    print(2)\n"
        "    if torch.max(y) > k and k > 0:\n"
        "        raise ValueError('class index')\n"
        "    return y\n"
        "def search(kl, objective: torch.Tensor, best, target):\n"
        "    print(3)\n"
        "    if (kl < target) and (objective > best):\n"
        "        return objective\n"
        "    return best\n",
        waits,
    )
    assert answers == {"1": False, "2": True, "3": True}


def test_a_read_of_a_tensor_made_on_the_host_waits_for_no_device():
    def waits(context, expr):
        return function_waits_for_device(context) is not None

    answers = probe_calls(
        "import torch\n"
        "def numel(shape, x):\n"
        "    print(1)\n"
        "    return torch.prod(torch.tensor(shape)).item()\n"
        "def total(x: torch.Tensor):\n"
        "    print(2)\n"
        "    return x.sum().item()\n",
        waits,
    )
    assert answers == {"1": False, "2": True}
