"""Function frames: roles, execution frequency with its evidence, models, run-once code, compiled code, module classes, summaries of same-file functions, autograd off, expressions the same on every call, shape-only dependence."""

from __future__ import annotations

import textwrap
from typing import Any

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.functions import PER_CALL, RUN_ONCE, ModelCall
from perflint.engine.roles import Frequency
from perflint.engine.rule import Rule
from perflint.rules import rule_by_code
from tests.engine.probes import probe_calls


def roles(source: str) -> dict[str, Any]:
    return probe_calls(
        source, lambda context, expr: (context.function and context.function.name, context.functions.role())
    )


def kinds(source: str) -> dict[str, Any]:
    return probe_calls(source, lambda context, expr: context.arrays.kind_of(expr))


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
        "from gpytorch.utils.memoize import cached\n"
        "@cached(name='covar_cache')\ndef covar_cache(self):\n    print(memoised)\n"
        "def helper():\n    print(helper)\n"
    )
    assert answers == {
        "module_level": (None, RUN_ONCE),
        "class_body": (None, RUN_ONCE),
        "init": ("__init__", RUN_ONCE),
        "inner_of_init": ("inner", RUN_ONCE),
        "init_weights": ("_init_weights", RUN_ONCE),
        "build_head": ("build_head", RUN_ONCE),
        "forward": ("forward", PER_CALL),
        "lambda_in_forward": ("<lambda>", PER_CALL),
        "collate": ("my_collate_fn", PER_CALL),
        "training_step": ("training_step", PER_CALL),
        "cached": ("table", RUN_ONCE),
        "lru": ("grid", RUN_ONCE),
        "memoised": ("covar_cache", RUN_ONCE),
        "helper": ("helper", None),
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
        "decorated_with_a_call": True,
        "nested_in_compiled": True,
        "decorated_by_imported_name": True,
        "jit_through_partial": True,
        "torchscript": True,
        "cython_directive": True,
        "wrapped_later": True,
        "wrapped_by_jax": True,
        "jitclass_method": True,
        "compiled_method": True,
        "plain_method": False,
        "plain_function": False,
        "module_level": False,
    }


def test_a_function_wrapped_by_a_renamed_compiler_is_compiled_and_a_mere_mention_of_jit_wraps_nothing():
    answers = probe_calls(
        "import torch\nfrom numba import njit as fast\n"
        "def f(x):\n    print(wrapped_by_a_renamed_compiler)\n"
        "kernel = fast(f)\n"
        "def g(x):\n    if not torch.jit.is_scripting():\n        print(beside_a_scripting_check)\n",
        lambda context, expr: context.in_compiled_code(),
    )
    assert answers == {"wrapped_by_a_renamed_compiler": True, "beside_a_scripting_check": False}


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
        "first": False,
        "second": True,
        "third": True,
        "fourth": False,
        "fifth": False,
        "self.state": False,
        "self.weights": True,
        "sixth": False,
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


def test_a_method_returns_a_tensor_through_torch_calls_names_assigned_once_and_tensor_parameters():
    answers = kinds(
        "import torch\nimport torch.nn.functional as F\n"
        "class Codec:\n"
        "    def _step(self, x):\n        y = F.relu(x)\n        return torch.tanh(y)\n"
        "    def _named(self, x):\n        y = torch.sum(x, 1)\n        return y\n"
        "    def _chained(self, x):\n        frame = self._step(x)\n        return frame\n"
        "    def _same(self, x: torch.Tensor):\n        return x\n"
        "    def _reassigned(self, x: torch.Tensor):\n        x = x.tolist()\n        return x\n"
        "    def _twice(self, x):\n        y = torch.exp(x)\n        y = y.tolist()\n        return y\n"
        "    def _pair(self, x):\n        return torch.max(x, 1)\n"
        "    def _compare(self, x, y):\n        return torch.equal(x, y)\n"
        "    def _module(self, x):\n        return self.lin(x)\n"
        "    def _generator(self, x):\n        yield x\n        return torch.exp(x)\n"
        "    def _recursive(self, x):\n        return self._recursive(x)\n"
        "    def encode(self, x):\n"
        "        print(self._step(x)); print(self._named(x)); print(self._chained(x)); print(self._same(x))\n"
        "        print(self._reassigned(x)); print(self._twice(x)); print(self._pair(x)); print(self._compare(x, x))\n"
        "        print(self._module(x)); print(self._generator(x)); print(self._recursive(x))\n"
    )
    assert answers == {
        "self._step(x)": "torch",
        "self._named(x)": "torch",
        "self._chained(x)": "torch",
        "self._same(x)": "torch",
        "self._reassigned(x)": None,
        "self._twice(x)": None,
        "self._pair(x)": None,
        "self._compare(x, x)": None,
        "self._module(x)": None,
        "self._generator(x)": None,
        "self._recursive(x)": None,
    }


def test_a_lazy_initialisation_branch_runs_once_even_in_per_call_code():
    answers = probe_calls(
        "def forward(self, x):\n"
        "    if self.mask is None:\n        self.mask = print(cached_mask)\n"
        "    if len(state) == 0:\n        state['step'] = print(optimizer_state)\n"
        "    if not hasattr(self, 'table'):\n        self.table = print(has_attr_cache)\n"
        "    if key not in self.cache:\n        self.cache[key] = print(keyed_cache)\n"
        "    if not 'checked' in log:\n        print(checked_once)\n        log['checked'] = True\n"
        "    if self.mask is None:\n        other = print(sets_something_else)\n"
        "    if x is None:\n        for i in range(3):\n            self.x = print(loop_inside)\n"
        "    print(per_call)\n",
        lambda context, expr: context.runs_once(),
    )
    assert answers == {
        "cached_mask": True,
        "optimizer_state": True,
        "has_attr_cache": True,
        "keyed_cache": True,
        "checked_once": True,
        "sets_something_else": False,
        "loop_inside": False,
        "per_call": False,
    }


def test_a_default_made_for_a_parameter_is_made_on_every_call_that_passes_none():
    answers = probe_calls(
        "def sample(x, z=None, *, cache=None):\n"
        "    if z is None:\n        z = print(default_per_call)\n"
        "    if not cache:\n        cache = print(keyword_default_per_call)\n"
        "    if key not in cache:\n        cache[key] = print(caller_owned_cache)\n"
        "    if self.z is None:\n        self.z = print(attribute_once)\n",
        lambda context, expr: context.runs_once(),
    )
    assert answers == {
        "default_per_call": False,
        "keyword_default_per_call": False,
        "caller_owned_cache": True,
        "attribute_once": True,
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
            definition.name.value if (definition := context.functions.definition(expr.value)) is not None else None
        ),
    )
    assert answers == {"inner": "inner", "top": "top", "twice": None, "missing": None}


def test_an_argument_is_iterated_again_by_a_function_that_loops_over_its_parameter_inside_a_loop():
    answers = probe_calls(
        "def cycle(iterable):\n    while True:\n        for i in iterable:\n            yield i\n"
        "def replay(iterable):\n    iterable = list(iterable)\n    while True:\n        for i in iterable:\n"
        "            yield i\n"
        "def once(iterable):\n    for i in iterable:\n        yield i\n"
        "def busy(iterable):\n    while True:\n        log()\n        for i in iterable:\n            yield i\n"
        "print(cycle(a)); print(replay(b)); print(once(c)); print(busy(d)); print(missing(e))\n",
        lambda context, expr: [
            cst.Module([]).code_for_node(arg) for arg in context.functions.arguments_iterated_again(expr)
        ],
    )
    assert answers == {"cycle(a)": ["a"], "replay(b)": [], "once(c)": [], "busy(d)": [], "missing(e)": []}


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
        "self.path": True,
        "PATH": True,
        "np.sqrt(self.size) + 1": True,
        "'model.pt'": True,
        "index": False,
        "rest": False,
        "scale": False,
        "options": False,
        "local": False,
        "self.count": False,
        "self.files[index]": False,
        "load_next()": False,
        # An equal value on every call (a new object each time), and a random draw.
        "np.zeros(3)": True,
        "np.random.rand(3)": False,
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
        "with torch.no_grad():\n    print(n)\nprint(o)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.grad_disabled())
    assert answers == {
        "a": False,
        "b": True,
        "c": True,
        "d": False,
        "e": True,
        "g": False,
        "h": True,
        "i": False,
        "j": False,
        "k": True,
        "m": True,
        "n": True,
        "o": False,
    }


def test_a_function_computes_gradients_by_a_gradient_method_or_a_derivative_keyword_in_its_own_body():
    source = (
        "def f():\n    for x in xs:\n        if x:\n            loss.backward()\n    print(1)\n"
        "def g():\n    def inner():\n        loss.backward()\n    print(2)\n"
        "def h():\n    out = model(batch, compute_force=True)\n    print(3)\n"
        "def k():\n    out = model(batch, compute_force=False, compute_stress=None)\n    print(4)\n"
        "def m():\n    out = model(batch, compute_stress=flag)\n    print(5)\n"
        "def n():\n    out = model(batch, force=True)\n    print(6)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.function.computes_gradients)
    assert answers == {"1": True, "2": False, "3": True, "4": False, "5": True, "6": False}


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
        "torch.ones(T, T, device=x.device)": True,
        "torch.arange(x.shape[1]) * math.pi / self.dim": True,
        "len(x)": True,
        "MAX_LEN": True,
        "x": False,
        "lengths[:, None]": False,
        "h.size(0) + x[0, 0]": False,
        "helper(T)": False,
    }


def test_a_value_computed_from_a_trainable_parameter_changes_between_calls():
    source = (
        "import torch\n"
        "from torch import nn\n"
        "class Affine(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        self.scale = nn.Parameter(torch.zeros(dim))\n"
        "        self.frozen = nn.Parameter(torch.zeros(dim), requires_grad=False)\n"
        "    def forward(self, x):\n"
        "        print(torch.ones(x.shape[0]) * torch.log(torch.exp(self.scale.sum())))\n"
        "        print(torch.ones(x.shape[0]) * self.frozen.sum())\n"
    )
    answers = probe_calls(
        source,
        lambda context, expr: (
            context.functions.depends_only_on_shapes(expr),
            context.functions.same_on_every_call(expr),
        ),
    )
    assert answers == {
        "torch.ones(x.shape[0]) * torch.log(torch.exp(self.scale.sum()))": (False, False),
        "torch.ones(x.shape[0]) * self.frozen.sum()": (True, False),
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
    assert answers == {
        "torch.randn(x.size(0), 4) * self.sigma": False,
        "torch.multinomial(torch.tensor(self.p), 1)": False,
    }


def in_test_code(source: str, path: str) -> dict[str, bool]:
    """``in_test_code()`` at every ``print(name)`` call, keyed by the name printed."""
    answers: dict[str, bool] = {}

    class Probe(Rule):
        code = "PFL999"
        name = "probe"

        def visit_Call(self, node: cst.Call) -> None:
            if isinstance(node.func, cst.Name) and node.func.value == "print":
                answers[node.args[0].value.value] = self.context.functions.in_test_code()

    assert lint_source(source, path, [Probe]) == []
    return answers


SOURCE = """\
print(module_level)
def train():
    print(in_train)
def test_training():
    print(in_test_function)
    def helper():
        print(in_helper_of_test)
class TestModel:
    print(in_test_class_body)
    def check(self):
        print(in_test_class_method)
class Model:
    def testable(self):
        print(in_testable)
"""


def test_functions_and_classes_named_as_tests_are_test_code_in_an_ordinary_file():
    assert in_test_code(SOURCE, "src/project/train.py") == {
        "module_level": False,
        "in_train": False,
        "in_test_function": True,
        "in_helper_of_test": True,
        "in_test_class_body": True,
        "in_test_class_method": True,
        # pytest collects ``test*`` functions: ``testable`` is one, as pytest would see it.
        "in_testable": True,
    }


@pytest.mark.parametrize(
    "path",
    [
        "tests/test_model.py",
        "pkg/tests/helpers.py",
        "model_test.py",
        "conftest.py",
        "pkg\\test\\util.py",
        "src/pkg/testing/fixtures.py",
        "imblearn/utils/estimator_checks.py",
        "pytorch_forecasting/utils/_estimator_checks.py",
    ],
)
def test_everything_in_a_test_file_or_directory_is_test_code(path):
    assert set(in_test_code(SOURCE, path).values()) == {True}


def test_a_module_importing_a_test_framework_at_its_top_level_is_test_code():
    assert set(in_test_code("import pytest\n" + SOURCE, "nilearn/_utils/checks.py").values()) == {True}
    assert set(in_test_code("from hypothesis import given\n" + SOURCE, "pkg/cases.py").values()) == {True}
    # Imported inside a function (a library's helper that runs its own tests), or a module of
    # the same name in the project: library code.
    lazy = "def run_tests():\n    import pytest\n    print(in_runner)\nprint(module_level)\n"
    assert in_test_code(lazy, "pkg/runner.py") == {"in_runner": False, "module_level": False}
    assert in_test_code("from .pytest import plugin\nprint(here)\n", "pkg/plugin.py") == {"here": False}


@pytest.mark.parametrize(
    "path", ["train.py", "contest.py", "attest/model.py", "latest_tests.py", "testing_utils.py", "checks.py"]
)
def test_files_merely_containing_the_word_are_not_test_code(path):
    assert in_test_code("print(here)\n", path) == {"here": False}


def frequency_at_prints(source: str) -> dict[str, tuple[Frequency, str]]:
    return probe_calls(textwrap.dedent(source), lambda context, expr: tuple(context.frequency()))


# Roles, frequency and models ------------------------------------------------------------------


def test_data_preparation_plotting_and_step_functions_have_roles_by_name():
    answers = roles(
        "def process(self):\n    print(process)\n"
        "def prepare_data(self):\n    print(prepare)\n"
        "def plot_losses(history):\n    print(plot)\n"
        "def main():\n    print(entry)\n"
        "def train_step(model, batch):\n    print(train_step)\n"
        "def stepper(model):\n    print(stepper)\n"
        "def focal_loss(pred, y):\n    print(focal_loss)\n"
        "def loss_fn(pred, y):\n    print(loss_fn)\n"
        "def losses_table(history):\n    print(losses_table)\n"
    )
    assert answers == {
        "process": ("process", RUN_ONCE),
        "prepare": ("prepare_data", RUN_ONCE),
        "plot": ("plot_losses", RUN_ONCE),
        "entry": ("main", RUN_ONCE),
        "train_step": ("train_step", PER_CALL),
        "stepper": ("stepper", None),
        "focal_loss": ("focal_loss", PER_CALL),
        "loss_fn": ("loss_fn", PER_CALL),
        "losses_table": ("losses_table", None),
    }


def test_a_model_is_made_by_a_module_class_of_the_file_or_a_loader_not_by_torchs_own_layers():
    answers = probe_calls(
        "import torch\nfrom torch import nn\n"
        "class Net(nn.Module):\n    pass\n"
        "print(Net())\nprint(torch.load(path))\nprint(AutoModel.from_pretrained(name))\n"
        "print(nn.Linear(3, 4))\nprint(make(3))\n",
        lambda context, expr: context.functions.is_model(expr),
    )
    assert answers == {
        "Net()": True,
        "torch.load(path)": True,
        "AutoModel.from_pretrained(name)": True,
        "nn.Linear(3, 4)": False,
        "make(3)": False,
    }


def test_frequency_follows_roles_and_loops_with_the_evidence_in_words():
    answers = frequency_at_prints("""
        def training_step(self, batch):
            print(step)
            for name in ("q", "k", "v"):
                print(small_loop)
        def forward(self, x):
            for layer in self.layers:
                print(layer_loop)
        def process(self):
            for path in self.files:
                print(setup_loop)
        def main(loader, model, optimizer):
            print(entry)
            for batch in loader:
                print(batch_loop)
        def helper(xs):
            print(unknown)
            while xs:
                print(while_loop)
        print(module)
    """)
    assert answers == {
        "step": (Frequency.PER_CALL, "runs per batch: in `training_step`"),
        "small_loop": (Frequency.PER_CALL, "runs per batch: in `training_step`"),
        "layer_loop": (Frequency.HOT, "runs in a loop over `self.layers` (runs per call: in `forward`)"),
        "setup_loop": (Frequency.COLD, "runs once: in `process`, runs in a loop over `self.files`"),
        "entry": (Frequency.ONCE, "runs once: in `main`"),
        "batch_loop": (Frequency.HOT, "runs in a loop over `loader`"),
        "unknown": (Frequency.UNKNOWN, ""),
        "while_loop": (Frequency.HOT, "runs in a `while` loop"),
        "module": (Frequency.ONCE, "runs once: at module level"),
    }


def test_a_function_passed_to_an_optimizers_step_runs_per_step():
    # LBFGS evaluates the closure one or more times in every `step`.
    answers = frequency_at_prints("""
        def fit(model, optimizer, x, y):
            def closure():
                print(closure_body)
            optimizer.step(closure)
            def callback():
                print(callback_body)
            env.step(callback)
            lbfgs_opt.step(closure=evaluate)
        def evaluate():
            print(evaluate_body)
    """)
    assert answers == {
        "closure_body": (Frequency.PER_CALL, "runs per step: `closure` is passed to `optimizer.step`"),
        "callback_body": (Frequency.UNKNOWN, ""),
        "evaluate_body": (Frequency.PER_CALL, "runs per step: `evaluate` is passed to `lbfgs_opt.step`"),
    }


def test_a_nested_function_its_function_calls_in_a_loop_runs_per_iteration():
    answers = frequency_at_prints("""
        def train(loader, model):
            def update(batch):
                print(update_body)
            def report(history):
                print(report_body)
            def per_head(h):
                print(small_loop_body)
            for batch in loader:
                update(batch)
            else:
                report(loader)
            for h in (0, 1):
                per_head(h)
        def __init__(self, layers):
            def add(layer):
                print(setup_body)
            for layer in layers:
                add(layer)
    """)
    assert answers == {
        "update_body": (Frequency.HOT, "runs per iteration: `update` is called in a loop over `loader` in `train`"),
        "report_body": (Frequency.UNKNOWN, ""),
        "small_loop_body": (Frequency.UNKNOWN, ""),
        "setup_body": (Frequency.COLD, "runs once: in `__init__`"),
    }


def test_a_distributions_constructor_runs_per_call_other_classes_constructors_once():
    # gluonts builds a `Distribution` subclass from a network's outputs in every forward.
    answers = frequency_at_prints("""
        import torch
        from torch.distributions import Distribution
        class Binned(Distribution):
            def __init__(self, logits):
                print(binned)
        class Child(Binned):
            def __init__(self, logits):
                print(child)
            def helper(self):
                print(method)
        class Layer(torch.nn.Module):
            def __init__(self):
                print(layer)
    """)
    evidence = "runs per call: in `__init__` of a distribution, which code builds anew on each call"
    assert answers == {
        "binned": (Frequency.PER_CALL, evidence),
        "child": (Frequency.PER_CALL, evidence),
        "method": (Frequency.UNKNOWN, ""),
        "layer": (Frequency.COLD, "runs once: in `__init__`"),
    }


def test_an_optimizers_step_runs_per_training_step_other_steps_are_unknown():
    # torch_optimizer's `Lamb(Optimizer)`: `step` runs after every backward, for every parameter.
    answers = frequency_at_prints("""
        import torch
        from torch.optim.optimizer import Optimizer
        class Base(Optimizer):
            def step(self, closure=None):
                print(base_step)
        class Child(Base):
            def step(self, closure=None):
                def update(p):
                    print(nested)
                print(child_step)
            def zero_grad(self):
                print(other_method)
        class Wrapped(torch.optim.Adam):
            def step(self, closure=None):
                print(adam_step)
        class Environment:
            def step(self, action):
                print(env_step)
    """)
    evidence = "runs per training step: in `step` of an optimizer"
    assert answers == {
        "base_step": (Frequency.PER_CALL, evidence),
        "nested": (Frequency.PER_CALL, evidence),
        "child_step": (Frequency.PER_CALL, evidence),
        "other_method": (Frequency.UNKNOWN, ""),
        "adam_step": (Frequency.PER_CALL, evidence),
        "env_step": (Frequency.UNKNOWN, ""),
    }


def test_a_loop_over_a_collection_the_source_writes_out_is_small_through_names_and_len():
    # deepinv's demos: `for i in range(1, len(lesion_diameters) + 1)` over a literal list of five.
    answers = frequency_at_prints("""
        DIAMETERS = [5, 8, 11, 14, 17]
        SETTINGS = [(0.1, 2), (0.5, 4)]
        def report(results, images, steps):
            for i in range(1, len(DIAMETERS) + 1):
                print(by_index)
            for y, setting in zip(images, SETTINGS):
                print(zipped)
            for k, d in enumerate(DIAMETERS):
                print(enumerated)
            for i in range(len(images)):
                print(unknown_length)
            for d in DIAMETERS * steps:
                print(repeated)
            found = []
            for image in images:
                found.append(image)
            for image in found:
                print(grown)
    """)
    assert answers == {
        "by_index": (Frequency.UNKNOWN, ""),
        "zipped": (Frequency.HOT, "runs in a loop over `zip(images, SETTINGS)`"),
        "enumerated": (Frequency.UNKNOWN, ""),
        "unknown_length": (Frequency.HOT, "runs in a loop over `range(len(images))`"),
        "repeated": (Frequency.HOT, "runs in a loop over `DIAMETERS * steps`"),
        "grown": (Frequency.HOT, "runs in a loop over `found`"),
    }


def test_a_training_loop_in_set_up_code_is_still_hot():
    answers = frequency_at_prints("""
        def setup(model, loader, optimizer):
            for batch in loader:
                loss = model(batch)
                loss.backward()
                optimizer.step()
                print(loss)
    """)
    assert answers["loss"] == (Frequency.HOT, "runs in a loop over `loader`")


def test_a_retry_loop_is_no_evidence_of_repetition_but_the_loop_around_it_is():
    answers = frequency_at_prints("""
        def log(self, *args):
            successful = False
            while not successful and attempts < 5:
                try:
                    print(retried)
                    successful = True
                except IOError:
                    attempts += 1
        def save_all(items):
            for item in items:
                done = False
                while not done:
                    try:
                        print(retried_per_item)
                        done = True
                    except OSError:
                        pass
    """)
    assert answers == {
        "retried": (Frequency.UNKNOWN, ""),
        "retried_per_item": (Frequency.HOT, "runs in a loop over `items`"),
    }


def test_code_that_never_runs_is_known_with_the_reason():
    answers = frequency_at_prints("""
        def step(self, x, verbose):
            for batch in x:
                print(live)
                if 11 < 3 and verbose:
                    print(switched_off)
                if 11 < 3 and print(short_circuited) or x:
                    pass
                y = print(never_chosen) if 0 else print(chosen)
                if 1 < 3:
                    print(always)
                elif verbose:
                    print(other_branch)
                while 0:
                    print(loop_never_entered)
                if verbose:
                    raise ValueError(x)
                    print(after_raise)
                    def helper():
                        print(in_a_function_never_defined)
                print(after_the_branch)
                continue
                print(after_continue)
            return x
            print(after_return)
    """)
    assert answers == {
        "live": (Frequency.HOT, "runs in a loop over `x`"),
        "switched_off": (Frequency.NEVER, "never runs: under `if 11 < 3 and verbose:`"),
        "short_circuited": (Frequency.NEVER, "never runs: after `11 < 3 and`"),
        "never_chosen": (Frequency.NEVER, "never runs: under `… if 0 else …`"),
        "chosen": (Frequency.HOT, "runs in a loop over `x`"),
        "always": (Frequency.HOT, "runs in a loop over `x`"),
        "other_branch": (Frequency.NEVER, "never runs: under `if 1 < 3:`"),
        "loop_never_entered": (Frequency.NEVER, "never runs: under `while 0:`"),
        "after_raise": (Frequency.NEVER, "never runs: after `raise`"),
        "in_a_function_never_defined": (Frequency.NEVER, "never runs: after `raise`"),
        "after_the_branch": (Frequency.HOT, "runs in a loop over `x`"),
        "after_continue": (Frequency.NEVER, "never runs: after `continue`"),
        "after_return": (Frequency.NEVER, "never runs: after `return`"),
    }


def test_no_rule_reports_code_that_never_runs():
    source = (
        "import numpy as np\n"
        "def f(x):\n"
        "    a = np.arange(10)\n"
        "    if 11 < 3:\n"
        "        print(sum(a))\n"
        "    if x:\n"
        "        raise ValueError(x)\n"
        "        print(sum(a))\n"
        "    return sum(a)\n"
    )
    findings = lint_source(source, "f.py", [rule_by_code("PFL102")])
    assert [finding.line for finding in findings] == [9]


def test_a_finding_of_a_rule_paid_per_execution_carries_its_evidence():
    findings = lint_source(
        "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x: torch.Tensor):\n"
        "        if x.sum() > 0:\n            x = x * 2\n        return x\n",
        "net.py",
        [rule_by_code("PFL212")],
    )
    assert [finding.evidence for finding in findings] == ["runs per call: in `forward`"]
    assert findings[0].message.endswith("; runs per call: in `forward`")
    assert findings[0].to_dict()["evidence"] == "runs per call: in `forward`"


def test_an_attribute_assigned_once_in_its_class_has_that_value():
    source = (
        "class Net:\n"
        "    def __init__(self, c):\n"
        "        self.conv = Conv(c)\n        self.twice = A()\n        self.grown = []\n"
        "        self.a, self.b = pair\n"
        "    def reset(self):\n        self.twice = B()\n        self.grown += [1]\n"
        "    def forward(self, x):\n"
        "        print(conv); print(twice); print(grown); print(a); print(missing)\n"
        "print(conv_outside_a_class)\n"
    )
    answers = probe_calls(
        source,
        lambda context, expr: (
            None
            if (value := context.functions.attribute_value(expr.value.removesuffix("_outside_a_class"))) is None
            else cst.Module([]).code_for_node(value)
        ),
    )
    assert answers == {
        "conv": "Conv(c)",
        "twice": None,
        "grown": None,
        "a": None,
        "missing": None,
        "conv_outside_a_class": None,
    }


def test_a_helper_call_makes_the_calls_its_inputs_fix_when_the_loop_changes_none_of_them():
    source = (
        "import numpy as np\n"
        "def solve(A, b):\n    L = np.linalg.cholesky(A)\n    return np.linalg.solve(L, b)\n"
        "def guarded(A):\n    if A is None:\n        return None\n    return np.linalg.inv(A)\n"
        "def ridge(X, lam, y):\n    G = X.T @ X + lam\n    w = np.linalg.inv(G) @ y\n    G = y\n"
        "    return np.linalg.inv(G)\n"
        "def shifted(X, y):\n    G = X.T @ X\n    G += y\n    return np.linalg.inv(G)\n"
        "class GP:\n"
        "    def predict(self, x):\n        return x @ np.linalg.inv(self.K)\n"
        "    def run(self, xs, A):\n"
        "        for x in xs:\n"
        "            print(solve(A, x)); print(guarded(A)); print(self.predict(x))\n"
        "            print(ridge(A, 0.1, x)); print(shifted(A, A))\n"
        "        for x in xs:\n"
        "            self.K = x\n"
        "            print(self.predict(A))\n"
    )
    answers = probe_calls(
        source,
        lambda context, expr: [
            cst.Module([]).code_for_node(inner)
            for inner in context.functions.calls_fixed_by_inputs(expr, context.innermost_loop.changes)
        ],
    )
    assert answers == {
        "solve(A, x)": ["np.linalg.cholesky(A)"],
        "guarded(A)": [],
        "self.predict(x)": ["np.linalg.inv(self.K)"],
        # Through a local name assigned from the inputs; not once it is assigned from `y` or changed.
        "ridge(A, 0.1, x)": ["np.linalg.inv(G)"],
        "shifted(A, A)": [],
        "self.predict(A)": [],
    }


def test_a_helper_call_makes_only_the_wanted_calls_its_inputs_fix():
    source = (
        "import numpy as np\n"
        "def both(A):\n    L = np.linalg.cholesky(A)\n    return np.linalg.inv(A)\n"
        "def plain(A):\n    return A + 1\n"
        "def guarded(A):\n    if A is None:\n        return None\n    return np.linalg.inv(A)\n"
        "for x in xs:\n"
        "    print(both(A)); print(plain(A)); print(guarded(A))\n"
    )
    answers = probe_calls(
        source,
        lambda context, expr: [
            cst.Module([]).code_for_node(inner)
            for inner in context.functions.calls_fixed_by_inputs(
                expr,
                context.innermost_loop.changes,
                lambda call: context.imports.qualified_name(call.func) == "numpy.linalg.inv",
            )
        ],
    )
    # `both`'s cholesky is fixed too but not wanted; `guarded` may return before its call.
    assert answers == {"both(A)": ["np.linalg.inv(A)"], "plain(A)": [], "guarded(A)": []}


def test_a_name_holds_a_model_when_its_function_or_class_treats_it_as_one():
    source = (
        "import torch\n"
        "class Net(torch.nn.Module):\n    pass\n"
        "class Runner:\n"
        "    def __init__(self):\n        self.backbone = Net()\n        self.head.eval()\n"
        "    def run(self, x):\n        print(self.backbone); print(self.head); print(self.tokenizer)\n"
        "def plain(model, f):\n    model.to('cuda')\n    print(model); print(f)\n"
    )
    answers = probe_calls(
        source, lambda context, expr: context.functions.holds_a_model(cst.Module([]).code_for_node(expr))
    )
    assert answers == {"self.backbone": True, "self.head": True, "self.tokenizer": False, "model": True, "f": False}


def test_a_model_call_names_the_object_called_or_the_receiver_of_an_inference_method():
    source = (
        "import torch\n"
        "import torch.nn.functional as F\n"
        "class Net(torch.nn.Module):\n    pass\n"
        "class Runner:\n"
        "    def __init__(self):\n"
        "        self.encode = Net()\n        self.nets = []\n        self.nets.append(Net())\n"
        "    def run(self, model, vae, x):\n"
        "        print(model); print(self.backbone); print(model.forward); print(vae.decode)\n"
        "        print(self.nets[0]); print(self.nets[0].predict); print(self.encode)\n"
        "        print(F.relu); print(model(x))\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.model_call(expr))
    assert answers == {
        "model": ModelCall("model", None),
        "self.backbone": ModelCall("self.backbone", None),
        "model.forward": ModelCall("model", "forward"),
        "vae.decode": ModelCall("vae", "decode"),
        "self.nets[0]": ModelCall("self.nets[]", None),
        "self.nets[0].predict": ModelCall("self.nets[]", "predict"),
        # An attribute holding a model, named like an inference method, is called itself.
        "self.encode": ModelCall("self.encode", None),
        # Named, but holding no model (``holds_a_model``'s answer); a call's result names nothing.
        "F.relu": ModelCall("F.relu", None),
        "model(x)": None,
    }


def test_a_functions_call_frequency_leaves_its_own_loops_out():
    answers = probe_calls(
        "def prepare_target(y):\n    for column in range(y.shape[1]):\n        print(per_column)\n"
        "def forward(self, x):\n    for layer in self.layers:\n        print(per_layer)\n",
        lambda context, expr: (context.frequency().frequency, context.functions.call_frequency().frequency),
    )
    assert answers == {
        "per_column": (Frequency.HOT, Frequency.UNKNOWN),
        "per_layer": (Frequency.HOT, Frequency.PER_CALL),
    }


def test_a_class_keeps_an_attribute_in_eval_mode_when_no_code_of_it_trains_it_or_computes_gradients():
    source = (
        "class Predictor:\n"
        "    def load(self):\n        self.model.eval()\n        self.head.train(False)\n"
        "    def fit(self):\n        self.encoder.eval()\n        self.encoder.train(mode)\n"
        "    def predict(self):\n        print(1)\n"
        "class Trainer:\n"
        "    def load(self):\n        self.model.eval()\n"
        "    def step(self):\n        self.train()\n        print(2)\n"
        "class Saliency:\n"
        "    def load(self):\n        self.model.eval()\n"
        "    def explain(self, x):\n        self.model(x).sum().backward()\n        print(3)\n"
    )

    def modes(context, expr):
        frame = context.function.class_frame
        return tuple(frame.eval_mode_since(name) for name in ("model", "head", "encoder", "other"))

    answers = probe_calls(source, modes)
    assert answers == {
        "1": ("load", "load", None, None),
        "2": (None, None, None, None),
        "3": (None, None, None, None),
    }


def test_autograd_may_be_off_under_a_context_manager_or_decorator_the_imports_cannot_name():
    source = (
        "import torch\n"
        "def f():\n    with open(path):\n        print(1)\n"
        "def g():\n    with torch.no_grad():\n        print(2)\n"
        "def h():\n    with self.lock:\n        print(3)\n"
        "@cached\ndef k():\n    print(4)\n"
        "def m():\n    print(5)\n"
    )
    answers = probe_calls(source, lambda context, expr: context.functions.grad_possibly_disabled())
    assert answers == {"1": False, "2": True, "3": True, "4": True, "5": False}
