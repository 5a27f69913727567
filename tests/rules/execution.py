"""Running a rule's fix for the fix-semantics tests in ``test_pfl*.py``: the fixed source, the
names a source defines, and the checks those tests share."""

from __future__ import annotations

import textwrap

from perflint.engine import lint_source
from perflint.engine.fixes import fix_source


def fixed(source: str, rule, changes: int | None = 1) -> str:
    """``source`` as ``--fix --unsafe-fixes`` leaves it, which must differ: after exactly
    ``changes`` fixes (default one), or at least one when ``changes`` is None."""
    outcome = fix_source(source, "example.py", [rule], unsafe=True)
    assert outcome.source != source, "the rule offered no fix"
    assert outcome.fixed == changes if changes is not None else outcome.fixed >= 1
    return outcome.source


def run(source: str, **names) -> dict:
    """The names ``source`` defines, run with ``names`` already bound."""
    namespace = dict(names)
    exec(compile(source, "example.py", "exec"), namespace)
    return namespace


def both(source: str, rule, changes: int | None = 1) -> tuple[dict, dict]:
    """The names the original and the fixed source define."""
    return run(source), run(fixed(source, rule, changes))


def dedented_and_fixed(source: str, rule) -> tuple[str, str]:
    """The dedented source and what the rule's fixes make of it (which must differ)."""
    original = textwrap.dedent(source)
    return original, fixed(original, rule, changes=None)


def call(source: str, function: str, *args):
    """``function`` of the names ``source`` defines, called with ``args``."""
    return run(source)[function](*args)


def assert_no_fix(source: str, rule) -> None:
    """The rule flags the dedented source once and offers no fix."""
    findings = lint_source(textwrap.dedent(source), "m.py", [rule])
    assert [finding.code for finding in findings] == [rule.code]
    assert findings[0].fix is None


def assert_left_alone(source: str, rule) -> None:
    """``--fix --unsafe-fixes`` changes nothing in ``source``."""
    outcome = fix_source(source, "example.py", [rule], unsafe=True)
    assert outcome.fixed == 0 and outcome.source == source


def assert_same_tensor(before, after) -> None:
    """The same dtype, shape, device and values (for tests that have torch)."""
    import torch

    assert before.dtype == after.dtype and before.shape == after.shape and before.device == after.device
    assert torch.equal(before, after)
