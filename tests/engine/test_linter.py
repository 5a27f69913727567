"""The linter's contract: a crashing rule or a syntax error becomes one PFL000 finding."""

from __future__ import annotations

import gc
from dataclasses import replace

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from perflint.engine import lint_source
from perflint.engine.linter import WORD_READ, ParentMap, enabled_for_source, parse, walk_module
from perflint.engine.rule import Rule
from perflint.engine.walker import syntax_children
from perflint.rules.device.create_then_move import CreateThenMove
from perflint.rules.vectorisation.elementwise_index_loop import ElementwiseIndexLoop


class Crashes(Rule):
    code = "PFL998"
    name = "crashes"

    def visit_Call(self, node: cst.Call) -> None:
        raise RuntimeError("boom")


def test_a_rule_that_crashes_becomes_one_pfl000_finding_naming_it():
    findings = lint_source("f()\ng()\n", "crash.py", [Crashes])
    assert [(finding.code, finding.message) for finding in findings] == [
        ("PFL000", "internal error in rule PFL998 (crashes): RuntimeError: boom")
    ]


def test_a_syntax_error_becomes_a_pfl000_finding_at_its_position():
    (finding,) = lint_source("x = 1\ndef f(:\n    pass\n", "broken.py", [Crashes])
    assert (finding.code, finding.path, finding.line, finding.column) == ("PFL000", "broken.py", 2, 7)
    assert finding.message == "cannot parse: invalid syntax"


class FlagsEveryModule(Rule):
    code = "PFL998"
    name = "flags-every-module"
    message = "module"
    required_text = ("torch", "numpy")

    def visit_Module(self, node: cst.Module) -> None:
        self.report(node)


def test_a_file_without_any_required_text_never_reaches_the_rule():
    assert enabled_for_source("import pandas as pd\n", [FlagsEveryModule]) == []
    assert lint_source("import pandas as pd\n", "example.py", [FlagsEveryModule]) == []


def test_without_the_prefilter_the_detector_sees_a_file_lacking_the_required_text():
    findings = lint_source("import pandas as pd\n", "example.py", [FlagsEveryModule], prefilter=False)
    assert [finding.code for finding in findings] == ["PFL998"]


def test_any_one_required_text_is_enough():
    for source in ("import numpy\n", "from torch import nn\n", "# mentions numpy in a comment\n"):
        assert [finding.code for finding in lint_source(source, "example.py", [FlagsEveryModule])] == ["PFL998"]


def test_a_rule_without_required_text_sees_every_file():
    class Unfiltered(FlagsEveryModule):
        required_text = ()

    assert enabled_for_source("x = 1\n", [Unfiltered]) == [Unfiltered]


def test_pandas_only_and_numpy_only_files_skip_the_torch_and_array_rules():
    """What the pre-filter decides for the real rules: PFL101 needs NumPy or torch, PFL201 torch."""
    pandas_only = "import pandas as pd\ns = pd.Series([1.0])\nfor i in range(len(s)):\n    s[i] = s[i] * 2\n"
    numpy_only = "import numpy as np\nx = np.zeros(3).to(device)\n"
    assert enabled_for_source(pandas_only, [ElementwiseIndexLoop, CreateThenMove]) == []
    assert enabled_for_source(numpy_only, [ElementwiseIndexLoop, CreateThenMove]) == [ElementwiseIndexLoop]


# Code nested too deeply: Python's own limits, in words that do not call it a perflint bug ------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

import pytest  # noqa: E402

from perflint.rules import all_rules  # noqa: E402

LOOP = "import numpy as np\nx = np.array([1.0])\nfor i in range(3):\n    y = {}\n"
DEEP = {
    "250 nested parentheses": LOOP.format("(" * 250 + "sum(x)" + ")" * 250),
    "5000 nested brackets": LOOP.format("[" * 5000 + "sum(x)" + "]" * 5000),
    "20000 unary minus signs": LOOP.format("-" * 20000 + "sum(x)"),
    "20000 unary minus signs on their own lines": LOOP.format("(\n" + "-\n" * 20000 + "sum(x))"),
    "50000 additions": LOOP.format("sum(x) + " + "a + " * 50000 + "1"),
}


@pytest.mark.parametrize("shape", sorted(DEEP))
def test_code_nested_past_pythons_limits_is_pfl000_naming_the_parser(shape):
    [finding] = lint_source(DEEP[shape], "deep.py", all_rules())
    assert finding.code == "PFL000" and finding.path == "deep.py"
    assert "nested too deeply for Python's parser" in finding.message and "internal error" not in finding.message


@pytest.mark.slow
def test_code_python_accepts_but_nested_past_the_recursion_limit_is_pfl000_naming_the_linter():
    [finding] = lint_source(LOOP.format("sum(x) + " + "a + " * 1500 + "1"), "chain.py", all_rules())
    assert finding.code == "PFL000"
    assert finding.message == "cannot lint: the code is nested too deeply for the linter (Python's recursion limit)"


def test_ordinary_code_is_not_sent_to_pythons_parser_first():
    from perflint.engine.linter import _may_be_too_deeply_nested

    assert not _may_be_too_deeply_nested(LOOP.format("(" * 199 + "sum(x)" + ")" * 199))
    assert _may_be_too_deeply_nested(LOOP.format("(" * 200 + "sum(x)" + ")" * 200))


@pytest.mark.slow
def test_deeply_nested_files_and_notebooks_never_kill_the_run_and_the_good_file_is_reported(tmp_path):
    for name, source in DEEP.items():
        (tmp_path / (name.replace(" ", "_") + ".py")).write_text(source)
    deep_cell = {"cell_type": "code", "source": DEEP["20000 unary minus signs"], "metadata": {}, "outputs": []}
    (tmp_path / "deep_cell.ipynb").write_text(json.dumps({"cells": [deep_cell], "metadata": {}, "nbformat": 4}))
    (tmp_path / "deep_json.ipynb").write_text('{"cells": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "good.py").write_text(LOOP.format("sum(x)"))
    completed = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "--select", "ALL", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 1 and "Traceback" not in completed.stderr
    assert "good.py:4:9: PFL102" in completed.stdout
    unlintable = [line for line in completed.stdout.splitlines() if "PFL000" in line]
    assert len(unlintable) == len(DEEP) + 2
    assert not any("internal error" in line for line in unlintable)
    assert all("nested too deeply" in line for line in unlintable)


def test_without_fix_edits_the_findings_are_the_same_but_carry_no_fix():
    source = "import torch\n\n\ndef make(device):\n    return torch.zeros(3, 4).to(device)\n"
    with_edits = lint_source(source, "model.py", [CreateThenMove])
    without = lint_source(source, "model.py", [CreateThenMove], fix_edits=False)
    assert [finding.code for finding in with_edits] == ["PFL201"] and with_edits[0].fix is not None
    assert without == [replace(finding, fix=None) for finding in with_edits]


def test_the_parse_and_the_walk_run_with_the_cycle_collector_paused_and_restore_it(monkeypatch):
    seen = []
    parse_module = cst.parse_module

    def parse_and_note(source):
        seen.append(gc.isenabled())
        return parse_module(source)

    monkeypatch.setattr(cst, "parse_module", parse_and_note)
    assert gc.isenabled()
    lint_source("import torch\nx = torch.zeros(3).cuda()\n", "example.py", [CreateThenMove])
    assert seen == [False] and gc.isenabled()


class FlagsCallsOfG(Rule):
    code = "PFL997"
    name = "flags-calls-of-g"
    message = "g"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "g":
            self.report(node)


@pytest.mark.parametrize(
    ("source", "count"),
    [
        (
            '"""A docstring\nof two lines."""\n\n# a comment\n@d(g(0))\ndef f():\n    return (\n        g(1))\n'
            "if True: y = g(2); z = g(3)\nx = 1; \\\n  w = g(4)\r\nv = g(5)\rlast = g(6)\n",
            7,
        ),
        # Statements whose code the file holds twice: placed from the whole module's code.
        ("x = g(1)\nx = g(1)\n\ndef f():\n    g(2)\n\ndef f():\n    g(2)\n", 4),
        # The last statement's code lacks the line end it has alone: placed from the whole module's code.
        ("x = g(1)\nlast = g(2)", 2),
    ],
)
def test_findings_are_where_position_provider_puts_their_nodes(source, count):
    module = cst.parse_module(source)
    spans = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    expected = sorted(
        (span.start.line, span.start.column + 1, span.end.line, span.end.column + 1)
        for node, span in spans.items()
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "g"
    )
    findings = lint_source(source, "example.py", [FlagsCallsOfG])
    assert len(expected) == count
    assert [(finding.line, finding.column, finding.end_line, finding.end_column) for finding in findings] == expected


def test_reads_of_the_whole_file_are_noted_by_top_level_statement() -> None:
    """``FileContext.note_module_read``, for the incremental lint: a word asked of the file's
    text (PFL119's new set ``members`` must clash with nothing) under the statement it was asked
    in."""
    source = "import numpy as np\n\n\ndef missing(n: int, labels: np.ndarray):\n    return [k for k in range(n) if k not in labels]\n"
    module = parse(source, "m.py")
    assert isinstance(module, cst.Module)
    reads: dict[int, set[str]] = {}
    walk_module(module, source, "m.py", all_rules(), fix_edits=False, quiet=frozenset(), module_reads=reads)
    assert f"{WORD_READ}members" in reads[1] and 0 not in reads


def test_parent_map_gives_each_node_its_parent_a_statement_at_a_time():
    """``ParentMap.get`` answers as a dict of every node's parent would, whichever statement it
    is told to look in first, and works out only the statements it has to."""
    module = cst.parse_module(
        "import torch\n\n\nclass A:\n    def f(self, x):\n        return g(x)\n\n\ny = [h(i) for i in z]\n"
    )
    expected: dict[int, cst.CSTNode] = {}
    nodes: list[cst.CSTNode] = [module]
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        for child in syntax_children(node):
            expected[id(child)] = node
            nodes.append(child)
            pending.append(child)
    class_statement = module.body[1]
    for near in (None, class_statement, module.body[2]):
        known: dict[int, tuple[cst.CSTNode, dict[int, cst.CSTNode]]] = {}
        parents = ParentMap(module, known)
        call = next(
            node for node in nodes if isinstance(node, cst.Call) and cst.ensure_type(node.func, cst.Name).value == "g"
        )
        assert parents.get(id(call), near=near) is expected[id(call)]
        if near is class_statement:
            assert list(known) == [id(class_statement)]
        assert all(parents.get(id(node), near=near) is expected.get(id(node)) for node in nodes)
        assert parents.get(id(module)) is None and parents.get(id(cst.Name("y"))) is None
