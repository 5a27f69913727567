"""Effects of a block: what one iteration rebinds and mutates, and whether it is a training step (backward and an optimizer step), itself or through a function of the same file."""

from __future__ import annotations

from typing import Any

import libcst as cst

from tests.engine.probes import probe_calls


def training(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.training_step_loop() is not None)


def test_training_step_loop_is_the_innermost_loop_calling_backward_or_step():
    answers = probe_calls(
        "for epoch in range(3):\n"
        "    print(epoch)\n"
        "    for batch in loader:\n"
        "        print(batch)\n"
        "        loss.backward()\n"
        "        optimizer.step()\n"
        "        def later():\n"
        "            print(later)\n"
        "for x in xs:\n"
        "    def inner():\n"
        "        loss.backward()\n"
        "    print(x)\n",
        lambda context, expr: (
            None
            if context.training_step_loop() is None
            else cst.Module([]).code_for_node(context.training_step_loop().node.target)
        ),
    )
    assert answers == {"epoch": None, "batch": "batch", "later": None, "x": None}


def test_a_training_step_is_backward_and_an_optimizer_step_in_one_iteration():
    answers = training(
        "for batch in loader:\n    loss.backward()\n    optimizer.step()\n    print(plain)\n"
        "for batch in loader:\n    scaler.scale(loss).backward()\n    scaler.step(opt)\n    print(amp)\n"
        "for batch in loader:\n    loss.backward()\n    if (i + 1) % 4 == 0:\n        self.optim.step()\n    print(accumulated)\n"
        "for t in range(100):\n    obs, reward, done, info = env.step(action)\n    print(rollout)\n"
        "for epoch in range(3):\n    scheduler.step()\n    print(scheduler_only)\n"
        "for x in xs:\n    loss.backward()\n    print(backward_only)\n"
    )
    assert answers == {
        "plain": True,
        "amp": True,
        "accumulated": True,
        "rollout": False,
        "scheduler_only": False,
        "backward_only": False,
    }


def test_a_training_step_through_a_function_of_the_same_file_is_recognised():
    answers = training(
        "def train_step(model, batch):\n    loss = model(batch)\n    loss.backward()\n    optimizer.step()\n"
        "class Trainer:\n"
        "    def _update(self, loss):\n        self.optimizer.step()\n"
        "    def iteration(self, batch):\n        self.loss(batch).backward()\n        self._update(batch)\n"
        "    def fit(self):\n"
        "        for batch in self.loader:\n            self.iteration(batch)\n            print(method)\n"
        "for batch in loader:\n    train_step(model, batch)\n    print(function)\n"
        "for batch in loader:\n    evaluate(model, batch)\n    print(unknown_function)\n"
    )
    assert answers == {"method": True, "function": True, "unknown_function": False}


def test_a_change_made_through_a_loop_target_changes_the_collection_it_iterates():
    answers = probe_calls(
        "for step in range(3):\n"
        "    for p in self._params:\n        p.add_(d)\n"
        "    for p in model.parameters():\n        p.grad = None\n"
        "    for p, q in zip(a, b):\n        q.copy_(p)\n"
        "    for x in xs:\n        y = x + 1\n"
        "    for img in loader:\n        img = img.to(device)\n        img.squeeze_(1)\n"
        "    print(step)\n",
        lambda context, expr: {
            chain
            for chain in ("self._params", "model", "a", "b", "xs", "loader")
            if chain in context.loops.innermost.effects.mutated
        },
    )
    assert answers == {"step": {"self._params", "model", "a", "b"}}
