"""Test code, as the engine recognises it: rules whose cost only matters outside tests ask it."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine import lint_source
from perflint.engine.rule import Rule


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
    ["tests/test_model.py", "pkg/tests/helpers.py", "model_test.py", "conftest.py", "pkg\\test\\util.py",
     "src/pkg/testing/fixtures.py"],
)
def test_everything_in_a_test_file_or_directory_is_test_code(path):
    assert set(in_test_code(SOURCE, path).values()) == {True}


@pytest.mark.parametrize("path", ["train.py", "contest.py", "attest/model.py", "latest_tests.py", "testing_utils.py"])
def test_files_merely_containing_the_word_are_not_test_code(path):
    assert in_test_code("print(here)\n", path) == {"here": False}
