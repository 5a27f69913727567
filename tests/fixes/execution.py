"""Running a rule's fix for the semantics tests: the fixed source, and the names a source defines."""

from __future__ import annotations

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
