"""PFL4xx: work repeated on every iteration that could be done once."""

from perflint.engine.rule import Family

FAMILY = Family(prefix="PFL4", name="recomputation", description="Recomputation that could be cached")
