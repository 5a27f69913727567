"""The linter's contract: a crashing rule or a syntax error becomes one PFL000 finding."""

from __future__ import annotations

import libcst as cst

from perflint.engine import lint_source
from perflint.engine.linter import enabled_for_source
from perflint.engine.rule import Rule
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
