"""Positions of reported nodes are exactly libcst's PositionProvider's, for any node."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from perflint.engine.positions import line_starts, node_positions
from perflint.engine.walker import syntax_children

SOURCE = '''\
# leading comment
import numpy as np  # trailing


@decorator(arg)
class Model(Base, metaclass=Meta):
    """Docstring."""

    def forward(self, x, *args, **kwargs):
        for i in range(len(x)):  # loop
            x[i] = (
                np.sqrt(x[i])
                + 1
            )
        else:
            pass
        if x: y = [v for v in x if v]; z = {k: v for k, v in y}
        return lambda a: a + \\
            1
'''


def test_every_node_is_where_position_provider_puts_it():
    module = cst.parse_module(SOURCE)
    nodes, pending = [], [module]
    while pending:
        node = pending.pop()
        nodes.append(node)
        pending.extend(syntax_children(node))
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = node_positions(module, nodes)
    for node in nodes:
        span = expected[node]
        assert positions[id(node)] == ((span.start.line, span.start.column), (span.end.line, span.end.column)), node


def test_a_single_deep_node_is_placed_without_positions_for_the_others():
    module = cst.parse_module(SOURCE)
    loop = module.body[1].body.body[1].body.body[0]
    assert isinstance(loop, cst.For)
    # From `for` on line 10 to the end of `pass` on line 16 (the `else` is part of the loop).
    assert node_positions(module, [loop]) == {id(loop): ((10, 8), (16, 16))}


# Line endings: a lone "\r" ends a line for Python, flake8 and editors ---------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "profile_guided.py"


def _lint(source: str) -> list:
    from perflint.engine import lint_source
    from perflint.rules import all_rules

    return lint_source(source, "example.py", all_rules())


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_findings_in_a_file_with_other_line_endings_are_on_their_real_lines(newline):
    unix = EXAMPLE.read_text()
    expected = [
        (finding.code, finding.line, finding.column, finding.end_line, finding.end_column) for finding in _lint(unix)
    ]
    found = _lint(unix.replace("\n", newline))
    assert (
        expected
        and [(finding.code, finding.line, finding.column, finding.end_line, finding.end_column) for finding in found]
        == expected
    )


def test_a_file_with_lone_carriage_returns_is_offered_its_fixes_and_keeps_its_line_endings():
    from perflint.engine.fixes import fix_source
    from perflint.rules import all_rules

    unix = EXAMPLE.read_text()
    assert all(finding.fix is not None for finding in _lint(unix.replace("\n", "\r")))
    fixed_unix = fix_source(unix, "example.py", all_rules(), unsafe=True)
    fixed_mac = fix_source(unix.replace("\n", "\r"), "example.py", all_rules(), unsafe=True)
    assert fixed_mac.fixed == fixed_unix.fixed > 0
    assert fixed_mac.source == fixed_unix.source.replace("\n", "\r")


def test_line_starts_count_each_kind_of_line_end_once():
    assert line_starts("a\rb\r\nc\nd") == [0, 2, 5, 7]


@pytest.mark.slow
def test_the_command_line_and_flake8_agree_on_a_file_with_lone_carriage_returns(tmp_path):
    (tmp_path / "mac.py").write_bytes(EXAMPLE.read_bytes().replace(b"\n", b"\r"))
    ours = subprocess.run(
        [sys.executable, "-m", "perflint", "check", "--no-cache", "mac.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    theirs = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "PFL", "mac.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    positions = sorted(re.findall(r"^mac\.py:(\d+):(\d+): (PFL\d+)", ours, re.MULTILINE))
    assert positions and positions == sorted(re.findall(r"^mac\.py:(\d+):(\d+): (PFL\d+)", theirs, re.MULTILINE))
