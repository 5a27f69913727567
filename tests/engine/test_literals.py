"""Literal values, read through one helper."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.literals import UNKNOWN, integer_value, literal_value, string_value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-2", -2),
        ("1.5", 1.5),
        ("'cuda'", "cuda"),
        ("True", True),
        ("None", None),
        ("n", UNKNOWN),
        ("f(0)", UNKNOWN),
        ("-n", UNKNOWN),
    ],
)
def test_literal_values(text, value):
    assert literal_value(cst.parse_expression(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("0x4", 4), ("0b1", 1), ("0o7", 7), ("1_000", 1000), ("-0x10", -16), ("True", None), ("1.0", None), ("n", None)],
)
def test_integers_are_read_in_every_base_and_nothing_else_is_an_integer(text, value):
    assert integer_value(cst.parse_expression(text)) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("'a'", "a"), ("'a' 'b'", "ab"), ("b'a' b'b'", b"ab"), ("'a' f'{x}'", None), ("1", None)],
)
def test_strings_are_read_with_their_implicit_concatenations(text, value):
    assert string_value(cst.parse_expression(text)) == value


def test_no_module_reads_a_number_literal_with_int_of_its_spelling():
    """``int(node.value)`` fails on ``0x4``, ``0b1`` and ``1_000``: every integer literal goes
    through ``integer_value`` (a rule's internal error on ``frame.shape[0x2]`` came from one)."""
    import pathlib
    import re

    import perflint

    spelled = re.compile(r"\bint\(\s*[\w.\[\]]*\.value\s*\)")
    offenders = [
        f"{path.name}:{number}"
        for path in pathlib.Path(perflint.__file__).parent.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if spelled.search(line) and not line.lstrip().startswith(("#", "``"))
    ]
    assert offenders == []
