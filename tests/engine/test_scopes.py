"""The one scope stack: the module, then each function, lambda and class body around a node."""

from __future__ import annotations

from tests.engine.probes import probe_calls


def scope_kinds(source: str) -> dict[str, list[str]]:
    return probe_calls(source, lambda context, expr: [type(scope.node).__name__ for scope in context.scopes.stack])


def test_function_lambda_and_class_bodies_are_scopes_and_their_headers_are_not():
    answers = scope_kinds(
        "print(a)\n"
        "def f(x=print(default)):\n    print(b)\n    g = lambda y: print(c)\n"
        "@print(decorator)\n"
        "class C(print(base)):\n    print(d)\n    def m(self):\n        print(e)\n"
        "print(h)\n"
        "ys = [print(i) for i in xs]\n"
    )
    assert answers == {
        "a": ["Module"],
        "default": ["Module"],
        "b": ["Module", "FunctionDef"],
        "c": ["Module", "FunctionDef", "Lambda"],
        "decorator": ["Module"],
        "base": ["Module"],
        "d": ["Module", "ClassDef"],
        "e": ["Module", "ClassDef", "FunctionDef"],
        "h": ["Module"],
        "i": ["Module"],
    }


def test_every_knowledge_module_reads_the_same_scope():
    source = (
        "import numpy as np\n"
        "class C:\n    w = np.zeros(3)\n    print(w)\n"
        "    def m(self, np):\n        for v in w:\n            print(v)\n            print(np.eye)\n"
        "    print(np.ones)\n"
        "print((w))\n"
    )
    answers = probe_calls(
        source,
        lambda context, expr: (
            context.scopes.current.function is context.functions.current,
            len(context.scopes.current.loops),
            context.arrays.kind_of(expr),
            context.imports.qualified_name(expr),
        ),
    )
    # In the class body ``w`` is its array; in the method the class's ``w`` is not visible,
    # and the parameter ``np`` shadows the import, as after the class the class's ``w`` is out
    # of scope.
    assert answers == {
        "w": (True, 0, "numpy", None),
        "v": (True, 1, None, None),
        "np.eye": (True, 1, None, None),
        "np.ones": (True, 0, None, "numpy.ones"),
        "(w)": (True, 0, None, None),
    }
