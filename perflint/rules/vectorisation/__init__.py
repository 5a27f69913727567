"""PFL1xx: Python-level loops over arrays and tensors that one vectorised operation replaces."""

from perflint.engine.rule import Family

FAMILY = Family(prefix="PFL1", name="vectorisation", description="Python loops over arrays and tensors")
