"""PFL2xx: redundant host-device copies and synchronisations."""

from perflint.engine.rule import Family

FAMILY = Family(prefix="PFL2", name="device", description="Host-device copies and synchronisations")
