"""Engine knowledge the recomputation rules ask for: whether a loop can end early (a retry or
a search), whether a node is in a ``try`` inside the loop or under a condition of its
function, and whether an expression is the same on every call of its function."""

from __future__ import annotations

from perflint.engine import catalog
from probes import probe_calls


def test_a_loop_with_its_own_break_or_a_return_exits_early():
    source = (
        "for a in xs:\n    print(a)\n    if a:\n        break\n"
        "for b in xs:\n    print(b)\n    for c in ys:\n        break\n"
        "def f():\n    while True:\n        print(d)\n        if d:\n            return d\n"
        "for e in xs:\n    print(e)\n    def g():\n        return 1\n"
        "ys = [print(h) for h in xs]\n"
    )
    answers = probe_calls(source, lambda context, expr: context.innermost_loop.exits_early)
    assert answers == {"a": True, "b": False, "d": True, "e": False, "h": False}


def test_a_try_body_inside_the_loop_is_a_retry_point_but_one_around_the_loop_is_not():
    source = (
        "for a in xs:\n    try:\n        print(a)\n    except OSError:\n        print(b)\n"
        "try:\n    for c in xs:\n        print(c)\nexcept OSError:\n    pass\n"
    )
    answers = probe_calls(source, lambda context, expr: context.loops.in_try_body())
    assert answers == {"a": True, "b": False, "c": False}


def test_conditional_code_of_a_function_is_known_as_conditional():
    source = (
        "def f(self):\n    print(a)\n    if self.x is None:\n        print(b)\n    else:\n        print(c)\n"
        "    try:\n        print(d)\n    except OSError:\n        print(e)\n"
        "    y = print(g) if flag else 0\n"
        "def h():\n    if flag:\n        def inner():\n            print(i)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.loops.is_conditional())
    assert answers == {"a": False, "b": True, "c": True, "d": False, "e": True, "g": True, "i": False}


def test_an_expression_is_the_same_on_every_call_when_it_reads_no_parameter_or_local():
    source = (
        "import numpy as np\n"
        "class D:\n"
        "    def __getitem__(self, index, *rest, scale=1, **options):\n"
        "        local = self.files[index]\n"
        "        self.count = self.count + 1\n"
        "        print(self.path)\n"
        "        print(PATH)\n"
        "        print(np.sqrt(self.size) + 1)\n"
        "        print('model.pt')\n"
        "        print(index)\n"
        "        print(rest)\n"
        "        print(scale)\n"
        "        print(options)\n"
        "        print(local)\n"
        "        print(self.count)\n"
        "        print(self.files[index])\n"
        "        print(load_next())\n"
        "        print(np.zeros(3))\n"
        "        print(np.random.rand(3))\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.same_on_every_call(expr))
    assert answers == {
        "self.path": True, "PATH": True, "np.sqrt(self.size) + 1": True, "'model.pt'": True,
        "index": False, "rest": False, "scale": False, "options": False, "local": False,
        "self.count": False, "self.files[index]": False, "load_next()": False,
        # An equal value on every call (a new object each time), and a random draw.
        "np.zeros(3)": True, "np.random.rand(3)": False,
    }


def test_model_loaders_write_none_of_their_arguments():
    assert catalog.is_side_effect_free("joblib.load")
    assert catalog.is_side_effect_free("transformers.AutoModel.from_pretrained")
    assert not catalog.is_side_effect_free("joblib.dump")


def test_a_loop_keeps_a_value_it_stores_returns_passes_on_or_changes():
    source = (
        "import numpy as np\n"
        "for i in xs:\n"
        "    print(read)\n"
        "    total = read.sum() + read[0]\n"
        "    print(appended)\n"
        "    out.append(appended)\n"
        "    print(yielded)\n"
        "    yield yielded\n"
        "    print(in_tuple)\n"
        "    pair = (in_tuple, 1)\n"
        "    print(aliased)\n"
        "    other = aliased\n"
        "    print(stored)\n"
        "    self.best = stored\n"
        "    print(changed)\n"
        "    changed[i] += 1\n"
        "    print(passed)\n"
        "    fit(passed)\n"
        "    print(closed_over)\n"
        "    callbacks.append(lambda: closed_over)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.innermost_loop.keeps(expr.value))
    assert answers == {
        "read": False, "appended": True, "yielded": True, "in_tuple": True, "aliased": True,
        "stored": True, "changed": True, "passed": True, "closed_over": True,
    }


def test_autograd_is_known_off_under_no_grad_blocks_and_decorators():
    source = (
        "import torch\n"
        "from torch import inference_mode\n"
        "def f(flag):\n"
        "    print(a)\n"
        "    with torch.no_grad():\n        print(b)\n"
        "    with inference_mode():\n        print(c)\n"
        "    with torch.inference_mode(False):\n        print(d)\n"
        "    with torch.set_grad_enabled(False):\n        print(e)\n"
        "    with torch.set_grad_enabled(True):\n        print(g)\n"
        "    with torch.set_grad_enabled(flag):\n        print(h)\n"
        "    with open(path) as handle:\n        print(i)\n"
        "    with torch.no_grad():\n        def inner():\n            print(j)\n"
        "@torch.no_grad()\ndef k():\n    print(k)\n"
        "@torch.inference_mode\ndef m():\n    print(m)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.grad_disabled())
    assert answers == {
        "a": False, "b": True, "c": True, "d": False, "e": True, "g": False, "h": True, "i": False,
        "j": False, "k": True, "m": True,
    }


def test_a_function_calls_a_method_anywhere_in_its_own_body():
    source = (
        "def f():\n    for x in xs:\n        if x:\n            loss.backward()\n    print(1)\n"
        "def g():\n    def inner():\n        loss.backward()\n    print(2)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.function.calls_method("backward"))
    assert answers == {"1": True, "2": False}


def test_an_expression_depends_only_on_shapes_when_it_reads_inputs_through_their_metadata():
    source = (
        "import math\n"
        "import torch\n"
        "class M:\n"
        "    def forward(self, x, lengths):\n"
        "        T = x.size(1)\n"
        "        h = self.norm(x)\n"
        "        print(torch.ones(T, T, device=x.device))\n"
        "        print(torch.arange(x.shape[1]) * math.pi / self.dim)\n"
        "        print(len(x))\n"
        "        print(MAX_LEN)\n"
        "        print(x)\n"
        "        print(lengths[:, None])\n"
        "        print(h.size(0) + x[0, 0])\n"
        "        print(helper(T))\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.depends_only_on_shapes(expr))
    assert answers == {
        "torch.ones(T, T, device=x.device)": True, "torch.arange(x.shape[1]) * math.pi / self.dim": True,
        "len(x)": True, "MAX_LEN": True, "x": False, "lengths[:, None]": False,
        "h.size(0) + x[0, 0]": False, "helper(T)": False,
    }


def test_a_random_draw_does_not_depend_only_on_shapes():
    source = (
        "import torch\n"
        "class M:\n"
        "    def forward(self, x):\n"
        "        print(torch.randn(x.size(0), 4) * self.sigma)\n"
        "        print(torch.multinomial(torch.tensor(self.p), 1))\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.depends_only_on_shapes(expr))
    assert answers == {"torch.randn(x.size(0), 4) * self.sigma": False, "torch.multinomial(torch.tensor(self.p), 1)": False}
