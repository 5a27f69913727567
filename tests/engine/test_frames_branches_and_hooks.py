"""The engine's knowledge modules: the hook contract, values joined where branches rejoin,
function frames and roles, training steps, and device expressions."""

from __future__ import annotations

from typing import Any

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.devices import ACCELERATOR, HOST, NAMED_LIKE_A_DEVICE, OTHER_DEVICE, device_kind
from perflint.engine.functions import PER_CALL, RUN_ONCE
from perflint.engine.hooks import HookError, hooks_of
from perflint.engine.rule import Rule
from probes import probe_calls


def _text(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


# Hooks ---------------------------------------------------------------------------------------


def test_a_hook_on_an_abstract_node_type_is_rejected_at_registration():
    class Abstract(Rule):
        code = "PFL998"
        name = "abstract"

        def visit_BaseExpression(self, node):
            pass

    with pytest.raises(HookError, match="BaseExpression is not a concrete libcst node type"):
        hooks_of(Abstract)


def test_a_hook_on_a_field_the_engine_does_not_walk_is_rejected_at_registration():
    class Whitespace(Rule):
        code = "PFL998"
        name = "whitespace"

        def visit_For_whitespace_after_for(self, node):
            pass

    with pytest.raises(HookError, match="not whitespace_after_for"):
        hooks_of(Whitespace)


def test_hook_timing_for_loops_and_assignments():
    seen: list[tuple[str, Any]] = []

    class Timing(Rule):
        code = "PFL998"
        name = "timing"

        def _loop(self) -> Any:
            frame = self.context.innermost_loop
            return None if frame is None else _text(frame.node.target)

        def visit_For(self, node):
            seen.append(("visit_For", self._loop()))

        def visit_For_body(self, node):
            seen.append(("visit_For_body", self._loop()))

        def leave_For(self, node):
            seen.append(("leave_For", self._loop()))

        def leave_Assign(self, node):
            seen.append(("leave_Assign", self.context.arrays.kind_of(cst.Name("a"))))

        def visit_Expr(self, node):
            seen.append(("after the assignment", self.context.arrays.kind_of(cst.Name("a"))))

    source = "import numpy as np\nfor x in xs:\n    for y in ys:\n        a = np.zeros(3)\n        a\n"
    assert lint_source(source, "timing.py", [Timing]) == []
    assert seen == [
        ("visit_For", None), ("visit_For_body", "x"),
        ("visit_For", "x"), ("visit_For_body", "y"),
        ("leave_Assign", None), ("after the assignment", "numpy"),
        ("leave_For", "x"), ("leave_For", None),
    ]


# Values where branches rejoin ------------------------------------------------------------------


def kinds(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.arrays.kind_of(expr))


def test_a_name_is_an_array_after_an_if_only_when_every_path_makes_it_one():
    answers = kinds(
        "import numpy as np\n"
        "a = [1.0, 2.0]\n"
        "if c:\n    a = np.zeros(2)\n"
        "print(a)\n"
        "if c:\n    b = np.zeros(2)\nelse:\n    b = np.ones(2)\n"
        "print(b)\n"
        "if c:\n    d = np.zeros(2)\nelif e:\n    d = np.ones(2)\nelse:\n    raise ValueError(c)\n"
        "print(d)\n"
        "if c:\n    f = np.zeros(2)\nelif e:\n    f = [0.0]\nelse:\n    f = np.ones(2)\n"
        "print(f)\n"
    )
    assert answers == {"a": None, "b": "numpy", "d": "numpy", "f": None}


def test_a_loop_or_a_try_may_not_run_its_body_to_the_end():
    answers = kinds(
        "import numpy as np\n"
        "a = [0.0]\n"
        "for x in xs:\n    a = np.zeros(2)\n"
        "print(a)\n"
        "b = np.zeros(2)\n"
        "while b.any():\n    b = b.tolist()\n"
        "print(b)\n"
        "try:\n    c = np.load(path)\nexcept OSError:\n    c = None\n"
        "print(c)\n"
        "try:\n    d = np.load(path)\nexcept OSError:\n    raise\n"
        "print(d)\n"
    )
    assert answers == {"a": None, "b": None, "c": None, "d": None}


def test_class_body_names_are_not_visible_in_methods_and_comprehension_names_do_not_leak():
    answers = kinds(
        "import numpy as np\n"
        "table = [1]\n"
        "class C:\n    table = np.zeros(3)\n    print(table + 0)\n"
        "    def f(self):\n        print(table)\n"
        "y = [1]\n"
        "squares = [y for y in np.zeros(3)]\n"
        "print(y)\n"
    )
    assert answers == {"table + 0": "numpy", "table": None, "y": None}


# Function frames and roles ---------------------------------------------------------------------


def roles(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: (context.function and context.function.name, context.functions.role()))


def test_function_roles_follow_names_decorators_and_nesting():
    answers = roles(
        "import functools\n"
        "from functools import lru_cache\n"
        "print(module_level)\n"
        "class Net:\n"
        "    print(class_body)\n"
        "    def __init__(self):\n        print(init)\n"
        "        def inner():\n            print(inner_of_init)\n"
        "    def _init_weights(self, m):\n        print(init_weights)\n"
        "    def build_head(self):\n        print(build_head)\n"
        "    def forward(self, x):\n        print(forward)\n        f = lambda: print(lambda_in_forward)\n"
        "    def my_collate_fn(self, batch):\n        print(collate)\n"
        "    def training_step(self, batch, i):\n        print(training_step)\n"
        "    @functools.cached_property\n    def table(self):\n        print(cached)\n"
        "@lru_cache(maxsize=None)\ndef grid(n):\n    print(lru)\n"
        "def helper():\n    print(helper)\n"
    )
    assert answers == {
        "module_level": (None, RUN_ONCE), "class_body": (None, RUN_ONCE), "init": ("__init__", RUN_ONCE),
        "inner_of_init": ("inner", RUN_ONCE), "init_weights": ("_init_weights", RUN_ONCE),
        "build_head": ("build_head", RUN_ONCE), "forward": ("forward", PER_CALL),
        "lambda_in_forward": ("<lambda>", PER_CALL), "collate": ("my_collate_fn", PER_CALL),
        "training_step": ("training_step", PER_CALL), "cached": ("table", RUN_ONCE),
        "lru": ("grid", RUN_ONCE), "helper": ("helper", None),
    }


def test_code_runs_once_in_run_once_functions_outside_their_loops():
    answers = probe_calls(
        "def __init__(self):\n    print(once)\n    for layer in layers:\n        print(per_layer)\n"
        "def forward(self, x):\n    print(per_call)\n"
        "print(module)\n",
        lambda context, expr: context.runs_once(),
    )
    assert answers == {"once": True, "per_layer": False, "per_call": False, "module": True}


def test_functions_compiled_by_a_decorator_a_wrapping_call_or_their_class_are_compiled_code():
    answers = probe_calls(
        "import numba\nimport jax\nimport torch\nimport cython\n"
        "from numba import njit\nfrom numba.experimental import jitclass\nfrom functools import partial\n"
        "@numba.njit(cache=True)\ndef a():\n    print(decorated_with_a_call)\n"
        "    def inner():\n        print(nested_in_compiled)\n"
        "@njit\ndef b():\n    print(decorated_by_imported_name)\n"
        "@partial(jax.jit, static_argnums=0)\ndef c(n):\n    print(jit_through_partial)\n"
        "@torch.jit.script\ndef d(x):\n    print(torchscript)\n"
        "@cython.boundscheck(False)\ndef e(x):\n    print(cython_directive)\n"
        "def f(x):\n    print(wrapped_later)\n"
        "fast_f = numba.njit(cache=True)(f)\n"
        "def g(x):\n    print(wrapped_by_jax)\n"
        "step = jax.jit(g, static_argnums=1)\n"
        "@jitclass\nclass Counter:\n    def incr(self):\n        print(jitclass_method)\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n        self._body = torch.compile(self._body)\n"
        "    def _body(self, x):\n        print(compiled_method)\n"
        "    def forward(self, x):\n        print(plain_method)\n"
        "@functools.lru_cache\ndef h():\n    print(plain_function)\n"
        "print(module_level)\n",
        lambda context, expr: context.in_compiled_code(),
    )
    assert answers == {
        "decorated_with_a_call": True, "nested_in_compiled": True, "decorated_by_imported_name": True,
        "jit_through_partial": True, "torchscript": True, "cython_directive": True,
        "wrapped_later": True, "wrapped_by_jax": True, "jitclass_method": True,
        "compiled_method": True, "plain_method": False, "plain_function": False, "module_level": False,
    }


def test_a_compiler_name_that_is_not_imported_compiles_nothing():
    answers = probe_calls(
        "def jit(f):\n    return f\n@jit\ndef a():\n    print(local_decorator)\n",
        lambda context, expr: context.in_compiled_code(),
    )
    assert answers == {"local_decorator": False}


def test_module_subclasses_are_known_through_imports_and_same_file_bases():
    answers = probe_calls(
        "import torch.nn as nn\nfrom torch import nn as tnn\n"
        "class A(nn.Module):\n    def forward(self):\n        print(a)\n"
        "class B(A):\n    def forward(self):\n        print(b)\n"
        "class C(tnn.Module):\n    print(c)\n"
        "class D(object):\n    def forward(self):\n        print(d)\n",
        lambda context, expr: context.functions.current_class.is_module_subclass,
    )
    assert answers == {"a": True, "b": True, "c": True, "d": False}


# Training steps ------------------------------------------------------------------------------


def training(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.training_step_loop() is not None)


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
        "plain": True, "amp": True, "accumulated": True, "rollout": False, "scheduler_only": False,
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


def test_in_a_training_step_no_attribute_chain_is_invariant():
    answers = probe_calls(
        "import torch\n"
        "for batch in loader:\n    print(model.cov)\n    print(cov)\n    loss.backward()\n    opt.step()\n"
        "for x in xs:\n    print(model.weight)\n",
        lambda context, expr: context.is_invariant(expr),
    )
    assert answers == {"model.cov": False, "cov": True, "model.weight": True}


# Devices -------------------------------------------------------------------------------------


def test_device_expressions_are_host_accelerator_or_unknown():
    answers = probe_calls(
        "import torch\n"
        "print('cpu'); print('cuda:1'); print('mps'); print('meta'); print(torch.device('cpu'))\n"
        "print(torch.device(args.device))\n"
        "device = 'cpu'\nprint(device)\n"
        "def f(x, device='cpu', dev=None):\n    print(x.device); print(dev); print(device + '')\n"
        "def g(target_device):\n    print(target_device)\n"
        "choice = 'cuda' if ok else 'cpu'\nprint(choice)\n"
        "if ok:\n    gpu = 'cuda'\nelse:\n    gpu = 'cuda:1'\nprint(gpu)\n",
        lambda context, expr: device_kind(expr, context),
    )
    assert answers == {
        "'cpu'": HOST, "'cuda:1'": ACCELERATOR, "'mps'": ACCELERATOR, "'meta'": OTHER_DEVICE,
        "torch.device('cpu')": HOST, "torch.device(args.device)": NAMED_LIKE_A_DEVICE, "device": HOST,
        "x.device": NAMED_LIKE_A_DEVICE, "dev": None, "device + ''": None,
        "target_device": NAMED_LIKE_A_DEVICE, "choice": None, "gpu": None,
    }


def test_a_call_of_a_same_file_function_mutates_only_what_that_function_mutates():
    answers = probe_calls(
        "import numpy as np\n"
        "def scale(a, b, factor=2.0):\n    a *= factor\n    return b.sum()\n"
        "def norm(x):\n    return np.linalg.norm(x)\n"
        "def fill(out):\n    mutate(out)\n"
        "def rec(v):\n    return rec(v)\n"
        "class Model:\n"
        "    def reset(self):\n        self.state = None\n"
        "    def fit(self, xs):\n"
        "        for x in xs:\n"
        "            scale(first, second)\n            norm(third)\n            fill(out=fourth)\n"
        "            rec(fifth)\n            self.reset()\n            unknown(sixth)\n"
        "            print(first); print(second); print(third); print(fourth); print(fifth)\n"
        "            print(self.state); print(self.weights); print(sixth)\n",
        lambda context, expr: context.is_invariant(expr),
    )
    assert answers == {
        "first": False, "second": True, "third": True, "fourth": False, "fifth": False,
        "self.state": False, "self.weights": True, "sixth": False,
    }


def test_a_same_file_function_returns_an_array_by_annotation_or_by_its_returns():
    answers = kinds(
        "import numpy as np\nimport torch\n"
        "def annotated(n) -> torch.Tensor:\n    return build(n)\n"
        "def made(n):\n    if n:\n        return np.zeros(n)\n    return np.ones(1)\n"
        "def mixed(n):\n    if n:\n        return np.zeros(n)\n    return [0.0]\n"
        "class Net:\n    def embed(self, x) -> np.ndarray:\n        return x\n"
        "    def run(self):\n        print(self.embed(1))\n"
        "print(annotated(3)); print(made(3)); print(mixed(3))\n"
    )
    assert answers == {"self.embed(1)": "numpy", "annotated(3)": "torch", "made(3)": "numpy", "mixed(3)": None}


def test_a_lazy_initialisation_branch_runs_once_even_in_per_call_code():
    answers = probe_calls(
        "def forward(self, x):\n"
        "    if self.mask is None:\n        self.mask = print(cached_mask)\n"
        "    if len(state) == 0:\n        state['step'] = print(optimizer_state)\n"
        "    if not hasattr(self, 'table'):\n        self.table = print(has_attr_cache)\n"
        "    if key not in self.cache:\n        self.cache[key] = print(keyed_cache)\n"
        "    if self.mask is None:\n        other = print(sets_something_else)\n"
        "    if x is None:\n        for i in range(3):\n            self.x = print(loop_inside)\n"
        "    print(per_call)\n",
        lambda context, expr: context.runs_once(),
    )
    assert answers == {
        "cached_mask": True, "optimizer_state": True, "has_attr_cache": True, "keyed_cache": True,
        "sets_something_else": False, "loop_inside": False, "per_call": False,
    }


def test_a_called_name_finds_its_one_definition_nested_in_the_caller_or_at_module_level():
    answers = probe_calls(
        "def top(x):\n    return x\n"
        "def twice(x):\n    return x\n"
        "def twice(x):\n    return 2 * x\n"
        "def caller():\n"
        "    def inner(v):\n        return v\n"
        "    print(inner); print(top); print(twice); print(missing)\n",
        lambda context, expr: (
            definition.name.value
            if (definition := context.functions.definition(expr.value)) is not None
            else None
        ),
    )
    assert answers == {"inner": "inner", "top": "top", "twice": None, "missing": None}
