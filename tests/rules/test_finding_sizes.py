"""A finding's size, in its benchmark's unit, where the code states it, and none where it does
not: what ``--measure`` ranks a rule by (``engine.sizes``)."""

from __future__ import annotations

import pytest

from perflint.engine import lint_source
from perflint.rules import all_rules, rule_by_code

SOURCE = """\
import math
import re

import numpy as np
import torch

N = 4096


def stated(b):
    a = np.zeros(N)
    out = np.zeros(N)
    for i in range(N):
        out[i] = a[i] * 2
    total = sum(a)
    x = np.random.rand(256)
    for v in x:
        print(math.exp(v))
    t = torch.randn(1000)
    for e in t:
        print(e.item())
    batches = np.empty((0, 64))
    for _ in range(50):
        batches = np.concatenate([batches, np.random.rand(32, 64)])
    lines = ("ok", "error: disk", "error: net")
    errors = [re.search(r"error: (\\w+)", line) for line in lines]
    A = np.random.rand(64, 64)
    return np.linalg.inv(A) @ b, total, errors


def unknown(a: np.ndarray, out: np.ndarray, t: torch.Tensor, A: np.ndarray, b, lines, more):
    for i in range(len(a)):
        out[i] = a[i] * 2
    for v in a:
        print(math.exp(v))
    for e in t:
        print(e.item())
    batches = np.empty((0, 64))
    while more():
        batches = np.concatenate([batches, more()])
    errors = [re.search(r"error: (\\w+)", line) for line in lines]
    return np.linalg.inv(A) @ b, sum(a), errors
"""
UNKNOWN_FROM_LINE = SOURCE[: SOURCE.index("def unknown")].count("\n") + 1


STATED_SIZES = [
    ("PFL101", 4096),  # the loop's trip count: range(N), N = 4096
    ("PFL102", 4096),  # the elements summed by the builtin
    ("PFL103", 256),  # every element of np.random.rand(256)
    ("PFL109", 1000),  # every element of torch.randn(1000)
    ("PFL105", 50),  # the growing loop's trip count: batches
    ("PFL403", 3),  # the loop's trip count: lines searched
    ("PFL402", 64),  # the inverted matrix's order
]


@pytest.mark.parametrize(("code", "stated"), STATED_SIZES)
def test_a_finding_carries_the_size_the_code_states_and_none_where_it_does_not(code, stated):
    findings = lint_source(SOURCE, "train.py", [rule_by_code(code)])
    in_stated = [finding.size for finding in findings if finding.line < UNKNOWN_FROM_LINE]
    in_unknown = [finding.size for finding in findings if finding.line >= UNKNOWN_FROM_LINE]
    assert in_stated == [stated]
    assert in_unknown == [None]


def test_the_rules_whose_pages_name_a_findings_size_are_those_that_report_one():
    documented = {rule.code for rule in all_rules() if rule.benchmark is not None and rule.benchmark.size_in_code}
    assert documented == {code for code, _ in STATED_SIZES}
