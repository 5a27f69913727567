"""PFL3xx: unbatched or serial data loading and I/O."""

from perflint.engine.rule import Family

FAMILY = Family(prefix="PFL3", name="data-loading", description="Data loading and I/O")
