"""PFL408 beyond its examples: the message, and the reads that stay silent."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules.recomputation.invariant_file_read_in_loop import InvariantFileReadInLoop


def messages(source: str) -> list[str]:
    return [finding.message for finding in lint_source(source, "example.py", [InvariantFileReadInLoop])]


def test_message_names_the_read():
    source = "import numpy as np\nfor q in queries:\n    bank = np.loadtxt('bank.txt', delimiter=',')\n"
    assert messages(source) == [
        "`np.loadtxt('bank.txt', delimiter=',')` reads the same file on every iteration; read it once before the loop"
    ]


@pytest.mark.parametrize(
    "read",
    [
        "pd.read_csv(path)",  # the loop target
        "pd.read_csv(files[i])",
        "np.load(BANK, mmap_mode=mode)",  # possibly a memory map
        "json.load(f)",  # a file object, read on from where it is
        "pd.read_csv(open_next())",  # an unknown call
    ],
)
def test_reads_that_may_differ_each_iteration_are_not_flagged(read):
    source = f"import json\nimport numpy as np\nimport pandas as pd\nfor i, path in enumerate(paths):\n    x = {read}\n"
    assert messages(source) == []
