"""perflint/output/github.py: the ``github`` format's workflow commands."""

from __future__ import annotations

from perflint.engine.findings import unlintable
from perflint.output.github import escape_data, escape_property
from tests.output.reports import INVARIANT_MESSAGE, render


def test_github_annotations_with_error_for_unlintable_files(findings):
    assert render(findings, "github").splitlines() == [
        "::error file=src/broken.py,line=3,col=5,endLine=3,endColumn=5,title=PFL000::syntax error: unexpected indent",
        f"::warning file=src/train.py,line=4,col=5,endLine=4,endColumn=21,title=PFL401::{INVARIANT_MESSAGE}",
        f"::warning file=src/train.py,line=12,col=9,endLine=12,endColumn=25,title=PFL401::{INVARIANT_MESSAGE}",
    ]


def test_github_escapes_workflow_command_characters():
    assert escape_data("100% done\r\nnext: a,b") == "100%25 done%0D%0Anext: a,b"
    assert escape_property("dir,1/a:b%.py") == "dir%2C1/a%3Ab%25.py"
    finding = unlintable("odd,dir/x:y.py", "cannot parse: 50% of\nthe file")
    assert render([finding], "github") == (
        "::error file=odd%2Cdir/x%3Ay.py,line=1,col=1,endLine=1,endColumn=1,title=PFL000::"
        "cannot parse: 50%25 of%0Athe file\n"
    )
