"""Enumerations of perflint's closed sets of names (fix safety, backend, array kind) are their
text wherever text leaves the program: output, caches, digests."""

from __future__ import annotations

import json

from perflint.engine import catalog, lint_source
from perflint.engine.safety import FixSafety
from perflint.measure.spec import Backend
from perflint.rules import select_rules


def test_a_member_equals_hashes_prints_and_serialises_as_its_text():
    for member, text in ((FixSafety.SAFE, "safe"), (Backend.PANDAS, "pandas"), (catalog.TORCH, "torch")):
        assert member == text and {text: 1}[member] == 1
        assert (str(member), f"{member}", repr(member), json.dumps(member)) == (
            text,
            text,
            repr(text),
            json.dumps(text),
        )


def test_a_findings_fix_applicability_reads_back_from_json_as_the_member():
    source = "import torch\nfor batch in loader:\n    opt.zero_grad(set_to_none=False)\n"
    [finding] = lint_source(source, "example.py", select_rules())
    written = json.loads(json.dumps({"applicability": finding.fix.applicability}))
    assert written == {"applicability": "unsafe"} and FixSafety(written["applicability"]) is FixSafety.UNSAFE
