"""PFL5xx: framework settings that cost speed."""

from perflint.engine.rule import Family

FAMILY = Family(prefix="PFL5", name="settings", description="Framework settings that cost speed")
