"""Literal values, read through one helper."""

from __future__ import annotations

import libcst as cst
import pytest

from perflint.engine.literals import UNKNOWN, literal_value


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("-2", -2), ("1.5", 1.5), ("'cuda'", "cuda"), ("True", True), ("None", None),
     ("n", UNKNOWN), ("f(0)", UNKNOWN), ("-n", UNKNOWN)],
)
def test_literal_values(text, value):
    assert literal_value(cst.parse_expression(text)) == value
